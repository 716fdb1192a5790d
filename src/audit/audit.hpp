// hrun audit: a static review of a config.json, in the spirit of the container-runtime section of
// the CIS Docker Benchmark, mapped onto OCI fields. Nothing here touches the host: the audit reads
// the parsed model only, so a config can be reviewed on any machine (in CI, before deployment).
//
// Every finding has a stable id (HRUN-CAP-002), a severity, the JSON path it concerns, a message
// specific to the config, why it matters and how to fix it. The rule catalogue (rules()) is the
// single source of ids, rationale and fixes; the checks choose each finding's severity, which
// context moves away from the rule's typical one (a read-only bind rates lower than a writable
// one, CAP_NET_ADMIN with the host network namespace higher).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::audit {

enum class Severity { info = 0, low = 1, medium = 2, high = 3, critical = 4 };
inline constexpr std::size_t kSeverityCount = 5;

std::string_view severity_name(Severity severity);  // "critical"
std::optional<Severity> severity_from_name(std::string_view name);

// One entry of the rule catalogue.
struct Rule {
    std::string_view id;
    Severity severity;       // the typical rating; context may rate a finding higher or lower
    std::string_view title;  // what the rule looks for
    std::string_view why;    // why it matters
    std::string_view fix;    // what to change in config.json
};

const std::vector<Rule>& rules();
const Rule* find_rule(std::string_view id);

struct Finding {
    std::string id;
    Severity severity = Severity::info;
    std::string path;     // JSON path in config.json: "mounts[2].source", "linux.namespaces"
    std::string message;  // what this config does
    std::string why;
    std::string fix;
};

// Runs every rule. The order is the rules' order; make_report sorts.
std::vector<Finding> audit_spec(const spec::Spec& spec);

// Score: 100 minus a weight per finding (critical 40, high 15, medium 5, low 1, info 0), floored
// at 0. So that many small findings cannot hide a severe one, any critical finding caps the score
// at 30 and any high finding at 70.
inline constexpr std::array<int, kSeverityCount> kSeverityWeight = {0, 1, 5, 15, 40};
inline constexpr int kCriticalScoreCap = 30;
inline constexpr int kHighScoreCap = 70;
int score(const std::vector<Finding>& findings);

struct Report {
    std::string config;  // the file that was audited, as shown to the user
    std::optional<Error> validation_error;  // set when hrun would refuse to run the config
    std::vector<Finding> findings;          // most severe first, then by id and path
    std::array<int, kSeverityCount> counts{};  // indexed by Severity
    int score = 100;
    // The most severe finding's severity; nullopt when there are none.
    std::optional<Severity> worst() const;
    // Whether a finding at or above `threshold` exists (`--fail-on`).
    bool has_at_least(Severity threshold) const;
};

Report make_report(std::string config, std::vector<Finding> findings);

// A table (severity, id, path, message) grouped by severity, a "fix:" line under each row, and
// the score and counts; `explain` adds a "why:" line too.
std::string format_table(const Report& report, bool explain);
// {"config", "valid", "validationError", "score", "rating", "counts", "findings": [...]}.
std::string format_json(const Report& report);

}  // namespace hrun::audit
