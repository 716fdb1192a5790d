// The command line: global options as runc has them, and every command (cmd_*.cpp).
#include <fcntl.h>
#include <seccomp.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "cli/commands.hpp"
#include "hrun/spec.hpp"
#include "linux/log.hpp"

namespace hrun::cli {

int report(const Error& error) {
    std::string text = error.what();
    if (log::to_file()) log::error(text);
    std::string line = "hrun: " + text + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    return 1;
}

Status check_preserved_fds(int n, const GlobalOptions& global) {
    if (n <= global.inherited_fds) return ok();
    const int missing = 3 + global.inherited_fds;
    return fail("--preserve-fds", std::to_string(n) + " needs fds 3.." + std::to_string(2 + n) +
                                      " open in the caller, and fd " + std::to_string(missing) +
                                      " is not open", EBADF);
}

int count_inherited_fds() {
    int n = 0;
    while (::fcntl(3 + n, F_GETFD) >= 0) ++n;
    return n;
}

namespace {

std::string version_text() {
    const scmp_version* v = seccomp_version();
    std::string out = "hrun version " HRUN_VERSION "\ncommit: " HRUN_GIT_COMMIT "\nspec: ";
    out += spec::kSpecVersion;
    out += "\nlibseccomp: " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro);
    return out;
}

std::string default_root() {
    if (::geteuid() != 0) {
        if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg)
            return std::string(xdg) + "/hrun";
    }
    return "/run/hrun";
}

}  // namespace

void build_app(CLI::App& app, GlobalOptions& global, Outcome& outcome) {
    app.require_subcommand(1);
    app.set_version_flag("-v,--version", version_text());

    global.root = default_root();
    app.add_option("--root", global.root, "root directory for container state")
        ->capture_default_str();
    app.add_option("--log", global.log_path, "log file (default: stderr)");
    app.add_option("--log-format", global.log_format, "log format")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_flag("--debug", global.debug, "log debug messages");
    app.add_flag("--systemd-cgroup", global.systemd_cgroup,
                 "cgroupsPath is slice:prefix:name (systemd manages the cgroup)");
    app.add_option("--rootless", global.rootless, "rootless mode")
        ->check(CLI::IsMember({"auto", "true", "false"}))
        ->capture_default_str();
    app.add_option("--policy", global.policy,
                   "security defaults for what a config leaves unset: oci (none), hardened "
                   "(default seccomp and AppArmor profiles, no_new_privs), strict (hardened, and "
                   "configs the audit rates critical are refused); also read from HRUN_POLICY, "
                   "for engines that cannot pass options (containerd's runc shim). Default: "
                   "hardened, or oci for a config from Kubernetes' CRI (its pod security context "
                   "decides)")
        ->envname("HRUN_POLICY")
        ->check(CLI::IsMember({"oci", "hardened", "strict"}));
    app.add_option("--userns-remap", global.userns_remap,
                   "USER[:GROUP]: a config without a user namespace gets one mapping container "
                   "root to USER's first range in /etc/subuid (GROUP's, default USER's, in "
                   "/etc/subgid), with the rootfs idmapped; also read from HRUN_USERNS_REMAP")
        ->envname("HRUN_USERNS_REMAP");

    add_run_command(app, global, outcome);
    add_spec_command(app, global, outcome);
    add_create_command(app, global, outcome);
    add_start_command(app, global, outcome);
    add_delete_command(app, global, outcome);
    add_state_commands(app, global, outcome);
    add_signal_commands(app, global, outcome);
    add_update_command(app, global, outcome);
    add_exec_command(app, global, outcome);
    add_events_command(app, global, outcome);
    add_features_command(app, global, outcome);
    add_audit_command(app, global, outcome);
    add_inspect_command(app, global, outcome);
    add_stats_command(app, global, outcome);

    app.parse_complete_callback([&global] {
        if (global.parse_only) return;
        if (auto st = hrun::log::configure(global.log_path, global.log_format == "json",
                                           global.debug);
            !st)
            std::exit(report(st.error()));
    });
}

}  // namespace hrun::cli
