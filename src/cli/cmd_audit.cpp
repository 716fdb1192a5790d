// hrun audit [BUNDLE|CONFIG] [--format table|json] [--fail-on SEVERITY] [--explain]: a static
// security review of a config.json (see src/audit/audit.hpp for the rules and the score).
//
// Exit status: 0 when the audit ran (whatever it found), 1 when --fail-on is given and a finding
// at or above that severity exists, 2 when the config cannot be read or parsed, or fails hrun's
// validation. An invalid config is still audited and reported, since the review is useful while
// fixing it, but it never passes: hrun would refuse to run it.
#include <filesystem>
#include <iostream>

#include "audit/audit.hpp"
#include "cli/commands.hpp"
#include "spec/spec_io.hpp"

namespace hrun::cli {

namespace {

constexpr int kExitFindings = 1;
constexpr int kExitBadConfig = 2;

// A bundle directory means its config.json; anything else is taken as the config file itself.
std::string config_path(const std::string& target) {
    std::error_code ec;
    if (std::filesystem::is_directory(target, ec)) return target + "/config.json";
    return target;
}

}  // namespace

void add_audit_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct AuditArgs {
        std::string target = ".";
        std::string format = "table";
        std::string fail_on;
        bool explain = false;
    };
    auto args = std::make_shared<AuditArgs>();
    CLI::App* cmd = app.add_subcommand("audit", "review a config.json for risky settings (CIS-style, static)");
    cmd->add_option("target", args->target, "bundle directory or config file")->capture_default_str();
    cmd->add_option("-f,--format", args->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}))
        ->capture_default_str();
    cmd->add_option("--fail-on", args->fail_on,
                    "exit 1 when a finding at or above this severity exists (critical, high, medium, low, info)")
        ->check(CLI::IsMember({"critical", "high", "medium", "low", "info"}));
    cmd->add_flag("--explain", args->explain, "say why each finding matters (table format)");
    cmd->callback([args, &global, &outcome] {
        if (global.parse_only) return;
        const std::string path = config_path(args->target);
        auto spec = spec::load_spec(path);
        if (!spec) {
            // Parse errors name the JSON field but not the file; open errors name the file.
            std::string text = spec.error().what();
            if (!text.starts_with(path)) text = path + ": " + text;
            report(Error{0, "", "audit: " + text});
            outcome.exit_code = kExitBadConfig;
            return;
        }

        audit::Report result = audit::make_report(path, audit::audit_spec(*spec));
        if (auto st = spec::validate_spec(*spec); !st) result.validation_error = st.error();

        std::cout << (args->format == "json" ? audit::format_json(result) : audit::format_table(result, args->explain));
        std::cout.flush();

        if (result.validation_error) {
            report(Error{0, "", "audit: " + path + ": invalid config (hrun would refuse to run it): " +
                                    result.validation_error->what()});
            outcome.exit_code = kExitBadConfig;
            return;
        }
        outcome.exit_code = 0;
        if (args->fail_on.empty()) return;
        const audit::Severity threshold = *audit::severity_from_name(args->fail_on);
        if (result.has_at_least(threshold)) {
            report(Error{0, "", "audit: findings at or above " + args->fail_on + " (score " +
                                    std::to_string(result.score) + "/100)"});
            outcome.exit_code = kExitFindings;
        }
    });
}

}  // namespace hrun::cli
