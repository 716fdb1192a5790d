// hrun exec [options] ID [COMMAND [ARG...]]: a new process in a running container.
#include "cli/commands.hpp"
#include "create/exec.hpp"
#include "linux/sealed_exe.hpp"

namespace hrun::cli {

void add_exec_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct Args {
        create::ExecRequest request;
        std::vector<std::string> positional;
        bool tty = false;
    };
    auto a = std::make_shared<Args>();
    auto& r = a->request;
    CLI::App* cmd = app.add_subcommand("exec", "run a new process in a running container");
    cmd->add_option("-p,--process", r.process_file, "runtime-spec process JSON file");
    cmd->add_flag("-t,--tty", a->tty, "allocate a pseudo-terminal");
    cmd->add_option("--cwd", r.cwd, "working directory in the container");
    // The repeatable options take one value per occurrence, as runc's: a list option would
    // swallow the container id and the command that follow it (`exec --cap CAP_X ID sh`).
    cmd->add_option("-e,--env", r.env, "set an environment variable (KEY=VALUE), repeatable")
        ->allow_extra_args(false)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("-u,--user", r.user, "UID[:GID] or NAME[:GROUP] (names from the container's /etc/passwd and /etc/group)");
    cmd->add_option("-g,--additional-gids", r.additional_gids, "an additional group id, repeatable")
        ->allow_extra_args(false)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("-c,--cap", r.caps, "add a capability (CAP_...), repeatable")
        ->allow_extra_args(false)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--no-new-privs", r.no_new_privs, "set no_new_privs");
    cmd->add_option("-a,--apparmor", r.apparmor, "AppArmor profile");
    cmd->add_option("--process-label", r.process_label, "SELinux label");
    cmd->add_option("--pid-file", r.pid_file, "write the process's host pid to this file");
    cmd->add_option("--console-socket", r.console_socket, "unix socket to receive the pty master");
    cmd->add_flag("-d,--detach", r.detach, "do not wait for the process");
    cmd->add_option("--preserve-fds", r.preserve_fds, "pass N extra file descriptors")
        ->check(CLI::Range(0, 1 << 20));
    // Everything from the id on is ID [COMMAND [ARG...]]: the command's own options
    // ("sh -c ...") are not ours.
    cmd->prefix_command();
    cmd->footer("usage: hrun exec [OPTIONS] ID [COMMAND [ARG...]]");
    cmd->callback([a, cmd, &global, &outcome] {
        if (auto st = check_preserved_fds(a->request.preserve_fds, global); !st) {
            outcome.exit_code = report(st.error());
            return;
        }
        a->positional = cmd->remaining();
        if (a->positional.empty()) {
            outcome.exit_code = report(Error{0, "", "exec needs a container id"});
            return;
        }
        auto& req = a->request;
        req.root = global.root;
        req.id = a->positional.front();
        req.args.assign(a->positional.begin() + 1, a->positional.end());
        if (a->tty) req.tty = true;
        if (global.parse_only) return;
        // The process exec forks joins the container's pid namespace, where the container's
        // processes can reach our /proc/<pid>/exe: it must be a sealed copy (linux/sealed_exe.hpp).
        // Before anything is opened, so the re-exec repeats nothing but the parsing.
        if (auto sealed = os::ensure_sealed_exe("exec"); !sealed) {
            outcome.exit_code = report(sealed.error());
            return;
        }
        auto code = create::exec_in_container(req);
        outcome.exit_code = code ? *code : report(code.error());
    });
}

}  // namespace hrun::cli
