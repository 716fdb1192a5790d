// Parsing labs and matching output; see lab_text.hpp for the convention.
#include "lab_text.hpp"

#include <regex>

namespace hrun::labs {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return std::string(s);
}

// "[137]" -> 137; -1 when the line is not a status line.
int status_line(const std::string& line) {
    if (line.size() < 3 || line.front() != '[' || line.back() != ']') return -1;
    const std::string digits = line.substr(1, line.size() - 2);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoi(digits);
}

// A literal line in which each "..." matches any text.
bool glob_matches(std::string_view pattern, std::string_view text) {
    const auto dots = pattern.find("...");
    if (dots == std::string_view::npos) return pattern == text;
    const std::string_view head = pattern.substr(0, dots);
    if (!text.starts_with(head)) return false;
    const std::string_view rest = pattern.substr(dots + 3);
    for (std::size_t i = head.size(); i <= text.size(); ++i)
        if (glob_matches(rest, text.substr(i))) return true;
    return false;
}

bool match_from(const std::vector<std::string>& expected, std::size_t e, const std::vector<std::string>& actual,
                std::size_t a) {
    if (e == expected.size()) return a == actual.size();
    if (expected[e] == "...") {
        for (std::size_t skip = a; skip <= actual.size(); ++skip)
            if (match_from(expected, e + 1, actual, skip)) return true;
        return false;
    }
    return a < actual.size() && line_matches(expected[e], actual[a]) && match_from(expected, e + 1, actual, a + 1);
}

}  // namespace

Lab parse_lab(std::string_view markdown) {
    Lab lab;
    bool in_console = false, in_other_fence = false;
    Step* current = nullptr;
    bool continuing = false;
    int line_no = 0;
    for (std::string_view raw : split_lines(markdown)) {
        ++line_no;
        const std::string line(raw.ends_with('\r') ? raw.substr(0, raw.size() - 1) : raw);
        const std::string stripped = trim(line);
        if (!in_console && !in_other_fence) {
            if (lab.title.empty() && line.starts_with("# ")) lab.title = trim(line.substr(2));
            if (const auto at = line.find("<!-- lab-requires: hrun "); at != std::string::npos) {
                const auto end = line.find("-->", at);
                lab.requires_.push_back(trim(line.substr(at + 24, end == std::string::npos ? std::string::npos
                                                                                            : end - at - 24)));
            }
            if (stripped == "```console") in_console = true;
            else if (stripped.starts_with("```")) in_other_fence = true;
            continue;
        }
        if (stripped.starts_with("```")) {
            in_console = in_other_fence = false;
            current = nullptr;
            continue;
        }
        if (in_other_fence) continue;
        if (line.starts_with("$ ")) {
            lab.steps.push_back({line_no, line.substr(2), {}, 0});
            current = &lab.steps.back();
            continuing = true;
        } else if (current && continuing && (line.starts_with("> ") || line == ">")) {
            current->command += "\n" + (line.size() > 2 ? line.substr(2) : std::string());
        } else if (current) {
            continuing = false;
            current->expected.push_back(normalize_line(line));
        }
    }
    for (Step& step : lab.steps) {
        while (!step.expected.empty() && step.expected.back().empty()) step.expected.pop_back();
        if (!step.expected.empty()) {
            if (const int status = status_line(step.expected.back()); status >= 0) {
                step.status = status;
                step.expected.pop_back();
            }
        }
    }
    return lab;
}

std::string normalize_line(std::string_view line) {
    std::string out;
    for (char c : line) {
        if (c == '\t') out.append(8 - out.size() % 8, ' ');
        else out.push_back(c);
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\r')) out.pop_back();
    return out;
}

std::vector<std::string> output_lines(std::string_view text) {
    std::vector<std::string> out;
    for (std::string_view line : split_lines(text)) out.push_back(normalize_line(line));
    while (!out.empty() && out.back().empty()) out.pop_back();  // as trailing blank expected lines
    return out;
}

bool line_matches(const std::string& expected, const std::string& actual) {
    constexpr std::string_view kRe = " (re)";
    if (expected.ends_with(kRe)) {
        try {
            return std::regex_match(actual, std::regex(expected.substr(0, expected.size() - kRe.size())));
        } catch (const std::regex_error&) {
            return false;
        }
    }
    return glob_matches(expected, actual);
}

bool matches(const std::vector<std::string>& expected, const std::vector<std::string>& actual) {
    return match_from(expected, 0, actual, 0);
}

}  // namespace hrun::labs
