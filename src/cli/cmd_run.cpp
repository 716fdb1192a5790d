// hrun run [--bundle DIR | DIR] [ID]: create, start and wait in the foreground.
#include <sys/stat.h>

#include "cli/commands.hpp"
#include "create/container.hpp"

namespace hrun::cli {

namespace {

struct RunArgs {
    std::string bundle;
    std::vector<std::string> positional;
    std::string pid_file;
    std::string console_socket;
    bool no_pivot = false;
    bool no_new_keyring = false;
    bool detach = false;
    bool keep = false;
    int preserve_fds = 0;
};

bool is_bundle_dir(const std::string& path) {
    struct stat st;
    return ::stat((path + "/config.json").c_str(), &st) == 0;
}

// runc takes `run [--bundle DIR] ID`; hrun also takes `run DIR [ID]` so that a person can type
// `hrun run bundle/`. With one positional argument, a directory holding config.json is a bundle.
Result<create::ContainerRequest> to_request(const RunArgs& args, const GlobalOptions& global) {
    HRUN_TRY(check_preserved_fds(args.preserve_fds, global));
    create::ContainerRequest request;
    request.root = global.root;
    request.no_pivot = args.no_pivot;
    request.preserve_fds = args.preserve_fds;
    request.pid_file = args.pid_file;
    request.console_socket = args.console_socket;
    request.systemd_cgroup = global.systemd_cgroup;
    request.policy = policy::policy_from_name(global.policy);  // checked by CLI11; none if not given
    request.userns_remap = global.userns_remap;
    const auto& pos = args.positional;
    if (!args.bundle.empty()) {
        if (pos.size() > 1) return fail("", "run takes one container id after --bundle");
        request.bundle = args.bundle;
        if (!pos.empty()) request.id = pos[0];
    } else if (pos.size() == 2) {
        request.bundle = pos[0];
        request.id = pos[1];
    } else if (pos.size() == 1 && is_bundle_dir(pos[0])) {
        request.bundle = pos[0];
    } else {
        request.bundle = ".";
        if (!pos.empty()) request.id = pos[0];
    }
    return request;
}

}  // namespace

void add_run_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* cmd = app.add_subcommand("run", "create and run a container in the foreground");
    cmd->add_option("-b,--bundle", args->bundle, "bundle directory (default: current directory)");
    cmd->add_option("args", args->positional, "[BUNDLE] [ID]")->expected(0, 2);
    cmd->add_flag("--no-pivot", args->no_pivot, "use MS_MOVE + chroot instead of pivot_root");
    cmd->add_flag("--no-new-keyring", args->no_new_keyring,
                  "accepted for runc compatibility: hrun never creates a session keyring");
    cmd->add_option("--pid-file", args->pid_file, "write the container's host pid to this file");
    cmd->add_option("--console-socket", args->console_socket,
                    "unix socket to receive the pty master when process.terminal is set");
    cmd->add_flag("-d,--detach", args->detach, "return once the container has started");
    cmd->add_flag("--keep", args->keep, "keep the container's state after it exits");
    cmd->add_option("--preserve-fds", args->preserve_fds,
                    "pass N extra file descriptors (3..3+N-1) to the container")
        ->check(CLI::Range(0, 1 << 20));
    cmd->callback([args, &global, &outcome] {
        auto request = to_request(*args, global);
        if (!request) {
            outcome.exit_code = report(request.error());
            return;
        }
        if (global.parse_only) return;
        auto code = create::run_container(*request, {args->detach, args->keep});
        outcome.exit_code = code ? *code : report(code.error());
    });
}

}  // namespace hrun::cli
