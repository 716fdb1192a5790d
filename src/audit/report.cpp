// Scoring, ordering and the two output formats of `hrun audit`.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/audit.hpp"

namespace hrun::audit {

int score(const std::vector<Finding>& findings) {
    int total = 100;
    bool critical = false, high = false;
    for (const auto& f : findings) {
        total -= kSeverityWeight[static_cast<std::size_t>(f.severity)];
        critical |= f.severity == Severity::critical;
        high |= f.severity == Severity::high;
    }
    if (critical) total = std::min(total, kCriticalScoreCap);
    if (high) total = std::min(total, kHighScoreCap);
    return std::max(total, 0);
}

std::optional<Severity> Report::worst() const {
    if (findings.empty()) return std::nullopt;
    return findings.front().severity;  // sorted most severe first
}

bool Report::has_at_least(Severity threshold) const {
    auto w = worst();
    return w && *w >= threshold;
}

Report make_report(std::string config, std::vector<Finding> findings) {
    std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
        if (a.severity != b.severity) return a.severity > b.severity;
        if (a.id != b.id) return a.id < b.id;
        return a.path < b.path;
    });
    Report r;
    r.config = std::move(config);
    r.score = score(findings);
    for (const auto& f : findings) ++r.counts[static_cast<std::size_t>(f.severity)];
    r.findings = std::move(findings);
    return r;
}

namespace {

std::string rating(const Report& r) {
    auto w = r.worst();
    return w ? std::string(severity_name(*w)) : std::string("none");
}

std::string counts_text(const Report& r) {
    std::string out;
    for (std::size_t i = kSeverityCount; i-- > 0;) {
        if (!out.empty()) out += ", ";
        out += std::to_string(r.counts[i]) + " " + std::string(severity_name(static_cast<Severity>(i)));
    }
    return out;
}

// Appends `s` left-aligned in a column of `width` characters.
void column(std::string& out, std::string_view s, std::size_t width) {
    out.append(s);
    if (s.size() < width) out.append(width - s.size(), ' ');
}

}  // namespace

std::string format_table(const Report& report, bool explain) {
    std::string out = "hrun audit: " + report.config + "\n";
    if (report.validation_error)
        out += "invalid config (hrun would refuse to run it): " + report.validation_error->what() + "\n";
    out += "score " + std::to_string(report.score) + "/100, rating " + rating(report) + " (" + counts_text(report) +
           ")\n";
    if (report.findings.empty()) return out + "\nno findings\n";

    std::size_t sev_w = std::string_view("SEVERITY").size(), id_w = 2, path_w = 4;
    for (const auto& f : report.findings) {
        id_w = std::max(id_w, f.id.size());
        path_w = std::max(path_w, f.path.size());
    }
    const std::string indent(sev_w + 2, ' ');
    out += '\n';
    column(out, "SEVERITY", sev_w + 2);
    column(out, "ID", id_w + 2);
    column(out, "PATH", path_w + 2);
    out += "MESSAGE\n";
    std::optional<Severity> group;
    for (const auto& f : report.findings) {
        if (group && *group != f.severity) out += '\n';  // a blank line between severity groups
        group = f.severity;
        column(out, severity_name(f.severity), sev_w + 2);
        column(out, f.id, id_w + 2);
        column(out, f.path, path_w + 2);
        out.append(f.message).append("\n");
        if (explain && !f.why.empty()) out.append(indent).append("why: ").append(f.why).append("\n");
        if (!f.fix.empty()) out.append(indent).append("fix: ").append(f.fix).append("\n");
    }
    return out;
}

std::string format_json(const Report& report) {
    using json = nlohmann::ordered_json;
    json doc;
    doc["config"] = report.config;
    doc["valid"] = !report.validation_error;
    if (report.validation_error)
        doc["validationError"] = {{"field", report.validation_error->field},
                                  {"message", report.validation_error->message}};
    doc["score"] = report.score;
    doc["rating"] = rating(report);
    json counts = json::object();
    for (std::size_t i = kSeverityCount; i-- > 0;)
        counts[std::string(severity_name(static_cast<Severity>(i)))] = report.counts[i];
    doc["counts"] = counts;
    json findings = json::array();
    for (const auto& f : report.findings)
        findings.push_back({{"id", f.id},
                            {"severity", std::string(severity_name(f.severity))},
                            {"path", f.path},
                            {"message", f.message},
                            {"why", f.why},
                            {"fix", f.fix}});
    doc["findings"] = std::move(findings);
    // Config strings are not guaranteed UTF-8; replace bad bytes rather than fail the report.
    return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace hrun::audit
