// `hrun exec`: a new process in a running container. It joins every namespace of the
// container's init (through /proc/<pid>/ns), its cgroup, and gets the container's
// confinement (capabilities, no_new_privs, AppArmor label, seccomp) unless told otherwise;
// nothing of hrun's (fds, cwd, mounts) reaches it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hrun/error.hpp"

namespace hrun::create {

struct ExecRequest {
    std::string root;
    std::string id;
    std::string process_file;       // --process: a runtime-spec process object
    std::vector<std::string> args;  // instead of --process
    std::optional<bool> tty;
    std::string cwd;
    std::vector<std::string> env;   // KEY=VALUE, replacing or adding
    std::string user;               // UID[:GID] or NAME[:GROUP] (process::apply_user_flag)
    std::vector<std::string> additional_gids;  // ids, checked by exec_in_container
    std::vector<std::string> caps;  // added to bounding, effective and permitted
    bool no_new_privs = false;
    std::string apparmor;
    std::string process_label;
    std::string pid_file;
    std::string console_socket;
    bool detach = false;
    int preserve_fds = 0;
};

// Returns the exit code of the process (0 when detached).
Result<int> exec_in_container(const ExecRequest& request);

}  // namespace hrun::create
