// hrun create [--bundle DIR] [--pid-file F] [--console-socket S] ID, and hrun start ID.
#include "cli/commands.hpp"
#include "create/container.hpp"
#include "create/teardown.hpp"

namespace hrun::cli {

void add_create_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct Args {
        std::string id;
        bool no_new_keyring = false;
    };
    auto args = std::make_shared<Args>();
    auto request = std::make_shared<create::ContainerRequest>();
    request->bundle = ".";
    CLI::App* cmd = app.add_subcommand("create", "create a container, stopped before its process runs");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->add_option("-b,--bundle", request->bundle, "bundle directory (default: current directory)");
    cmd->add_option("--pid-file", request->pid_file, "write the container's host pid to this file");
    cmd->add_option("--console-socket", request->console_socket,
                    "unix socket to receive the pty master when process.terminal is set");
    cmd->add_flag("--no-pivot", request->no_pivot, "use MS_MOVE + chroot instead of pivot_root");
    cmd->add_flag("--no-new-keyring", args->no_new_keyring,
                  "accepted for runc compatibility: hrun never creates a session keyring");
    cmd->add_option("--preserve-fds", request->preserve_fds,
                    "pass N extra file descriptors (3..3+N-1) to the container")
        ->check(CLI::Range(0, 1 << 20));
    cmd->callback([args, request, &global, &outcome] {
        if (auto st = check_preserved_fds(request->preserve_fds, global); !st) {
            outcome.exit_code = report(st.error());
            return;
        }
        request->id = args->id;
        request->root = global.root;
        request->systemd_cgroup = global.systemd_cgroup;
        request->policy = policy::policy_from_name(global.policy);  // checked by CLI11; none if not given
        request->userns_remap = global.userns_remap;
        if (global.parse_only) return;
        auto st = create::create_container(*request);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

void add_start_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto id = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("start", "run the process of a created container");
    cmd->add_option("id", *id, "container id")->required();
    cmd->callback([id, &global, &outcome] {
        if (global.parse_only) return;
        auto st = create::start_container(global.root, *id);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

void add_delete_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct Args {
        std::string id;
        bool force = false;
    };
    auto args = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("delete", "delete a container and everything it holds");
    cmd->add_option("id", args->id, "container id")->required();
    cmd->add_flag("-f,--force", args->force, "kill the container first if it is still running");
    cmd->callback([args, &global, &outcome] {
        if (global.parse_only) return;
        auto st = create::delete_container(global.root, args->id, args->force);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

}  // namespace hrun::cli
