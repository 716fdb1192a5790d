// Parsers of /proc texts; pure, so the odd cases (escaped spaces in mount points, optional
// fields, missing lines on older kernels) are tested on samples instead of on this host.
#include "inspect/proc_text.hpp"

#include <sys/capability.h>

#include <charconv>
#include <cctype>

namespace hrun::inspect {
namespace {

std::vector<std::string_view> split_blanks(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
        std::size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
        if (j > i) out.push_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        if (!line.empty()) out.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

template <class T>
bool parse_number(std::string_view text, T& out, int base = 10) {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        if (comma != 0) out.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

// The kernel escapes space, tab, newline and backslash in mountinfo paths as \ooo.
std::string unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size()) {
            const std::string_view digits = text.substr(i + 1, 3);
            unsigned value = 0;
            if (parse_number(digits, value, 8) && value < 256) {
                out.push_back(static_cast<char>(value));
                i += 3;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

template <class T>
Result<std::vector<T>> numbers(std::string_view key, std::string_view value) {
    std::vector<T> out;
    for (std::string_view word : split_blanks(value)) {
        T n{};
        if (!parse_number(word, n)) return fail("", "status line \"" + std::string(key) + "\" has a bad number");
        out.push_back(n);
    }
    return out;
}

}  // namespace

Result<ProcStatus> parse_status(std::string_view text) {
    ProcStatus s;
    int caps_seen = 0;
    for (std::string_view line : lines(text)) {
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);

        uint64_t* cap = key == "CapInh"   ? &s.cap_inheritable
                        : key == "CapPrm" ? &s.cap_permitted
                        : key == "CapEff" ? &s.cap_effective
                        : key == "CapBnd" ? &s.cap_bounding
                        : key == "CapAmb" ? &s.cap_ambient
                                          : nullptr;
        if (cap) {
            if (!parse_number(value, *cap, 16))
                return fail("", "status line \"" + std::string(key) + "\" is not a hexadecimal mask");
            ++caps_seen;
        } else if (key == "Name") {
            s.name = std::string(value);
        } else if (key == "Uid") {
            s.uids = HRUN_TRY(numbers<uint32_t>(key, value));
        } else if (key == "Gid") {
            s.gids = HRUN_TRY(numbers<uint32_t>(key, value));
        } else if (key == "NSpid") {
            s.ns_pids = HRUN_TRY(numbers<pid_t>(key, value));
        } else if (key == "NoNewPrivs" || key == "Seccomp" || key == "Seccomp_filters") {
            int n = 0;
            if (!parse_number(value, n)) return fail("", "status line \"" + std::string(key) + "\" has a bad number");
            if (key == "NoNewPrivs") s.no_new_privs = n != 0;
            else if (key == "Seccomp") s.seccomp = n;
            else s.seccomp_filters = n;
        }
    }
    if (caps_seen != 5) return fail("", "status has no CapInh, CapPrm, CapEff, CapBnd and CapAmb lines");
    return s;
}

std::vector<std::string> capability_names(uint64_t mask) {
    std::vector<std::string> out;
    for (int bit = 0; bit < 64; ++bit) {
        if (!(mask & (uint64_t{1} << bit))) continue;
        std::string name;
        if (char* text = cap_to_name(static_cast<cap_value_t>(bit))) {
            name = text;
            cap_free(text);
        }
        // libcap answers a bare number for capabilities it has no name for.
        if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
            out.push_back("CAP_" + std::to_string(bit));
            continue;
        }
        for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.push_back(std::move(name));
    }
    return out;
}

uint64_t full_capability_mask(int last_cap) {
    if (last_cap < 0) return 0;
    if (last_cap >= 63) return ~uint64_t{0};
    return (uint64_t{1} << (last_cap + 1)) - 1;
}

std::string seccomp_mode_name(int mode) {
    switch (mode) {
        case 0: return "disabled";
        case 1: return "strict";
        case 2: return "filter";
    }
    return "mode " + std::to_string(mode);
}

Result<std::vector<IdRange>> parse_id_map(std::string_view text) {
    std::vector<IdRange> out;
    for (std::string_view line : lines(text)) {
        const auto words = split_blanks(line);
        if (words.empty()) continue;
        IdRange r;
        if (words.size() != 3 || !parse_number(words[0], r.inside) || !parse_number(words[1], r.outside) ||
            !parse_number(words[2], r.count))
            return fail("", "id map line \"" + std::string(line) + "\" is not \"INSIDE OUTSIDE COUNT\"");
        out.push_back(r);
    }
    return out;
}

std::optional<uint32_t> map_to_outside(const std::vector<IdRange>& map, uint32_t inside) {
    for (const IdRange& r : map)
        if (inside >= r.inside && uint64_t{inside} - r.inside < r.count) return r.outside + (inside - r.inside);
    return std::nullopt;
}

std::optional<uint32_t> map_to_inside(const std::vector<IdRange>& map, uint32_t outside) {
    for (const IdRange& r : map)
        if (outside >= r.outside && uint64_t{outside} - r.outside < r.count) return r.inside + (outside - r.outside);
    return std::nullopt;
}

bool is_identity_map(const std::vector<IdRange>& map) {
    return map.size() == 1 && map[0] == IdRange{0, 0, 4294967295U};
}

bool MountEntry::has_option(std::string_view option) const {
    for (const std::string& o : options)
        if (o == option) return true;
    return false;
}

bool MountEntry::read_only() const { return has_option("ro"); }

Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> out;
    for (std::string_view line : lines(text)) {
        const auto words = split_blanks(line);
        auto bad = [&](const char* why) {
            return fail("", "mountinfo line \"" + std::string(line) + "\": " + why);
        };
        // At least: id parent dev root mount-point options "-" fstype source super-options.
        if (words.size() < 10) return bad("too few fields");
        MountEntry m;
        if (!parse_number(words[0], m.id) || !parse_number(words[1], m.parent)) return bad("bad mount ids");
        const auto colon = words[2].find(':');
        if (colon == std::string_view::npos || !parse_number(words[2].substr(0, colon), m.major) ||
            !parse_number(words[2].substr(colon + 1), m.minor))
            return bad("bad major:minor");
        m.root = unescape(words[3]);
        m.mount_point = unescape(words[4]);
        m.options = split_commas(words[5]);
        std::size_t i = 6;
        for (; i < words.size() && words[i] != "-"; ++i) m.optional_fields.emplace_back(words[i]);
        if (i + 2 >= words.size()) return bad("no filesystem fields after \"-\"");
        m.fstype = std::string(words[i + 1]);
        m.source = unescape(words[i + 2]);
        if (i + 3 < words.size()) m.super_options = split_commas(words[i + 3]);
        out.push_back(std::move(m));
    }
    return out;
}

std::optional<uint64_t> parse_namespace_link(std::string_view target) {
    const auto open = target.find(":[");
    if (open == std::string_view::npos || target.empty() || target.back() != ']') return std::nullopt;
    uint64_t inode = 0;
    if (!parse_number(target.substr(open + 2, target.size() - open - 3), inode)) return std::nullopt;
    return inode;
}

}  // namespace hrun::inspect
