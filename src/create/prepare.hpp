// Stage 3, "prepare": everything the container side needs, computed on the host before clone,
// so that the child only makes syscalls.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "cgroups/cgroups.hpp"
#include "console/console.hpp"
#include "hooks/hooks.hpp"
#include "create/namespaces.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "process/process.hpp"
#include "rootfs/rootfs.hpp"
#include "security/seccomp.hpp"

namespace hrun::create {

struct CreateOptions {
    std::string id;
    std::string bundle;     // absolute
    bool no_pivot = false;
    int preserve_fds = 0;
    // exec: the running container's root (process::ProcessOptions::root_fd); -1 otherwise.
    int root_fd = -1;
    bool systemd_cgroup = false;  // cgroupsPath is "slice:prefix:name"
    // Where compiled seccomp programs are cached (security::SeccompCache); empty: compile
    // every time.
    std::string seccomp_cache_dir;
    // Called with the cgroup directories before they are made, so that a create killed from
    // here on leaves a state that `delete --force` can clean.
    std::function<Status(const cgroups::Placement&, cgroups::Mode)> on_cgroup_placed;
};

struct ContainerPlan {
    std::string id;
    std::string bundle;
    spec::Spec spec;
    os::HostContext host;
    NamespacePlan ns;
    rootfs::RootfsPlan rootfs;
    process::ProcessPlan process;
    std::optional<security::SeccompProgram> seccomp;
    // Created here, before clone; removed again if the create fails. On cgroup v2 the child is
    // born in it (CLONE_INTO_CGROUP); otherwise the parent attaches it while it waits.
    std::optional<cgroups::Cgroup> cgroup;
    bool wait_for_cgroup = false;
    // `create`: O_PATH fd of <state>/exec.fifo. After START the child blocks opening it for
    // writing until `hrun start` opens it for reading, then execs. Empty for `run`.
    UniqueFd exec_fifo;
    // The locked state directory's fd: the child closes its copy at once, or the flock it
    // shares would keep `start` and `delete` waiting until exec.
    int state_dir_fd = -1;
    console::TerminalPlan terminal;
    // `exec`: every namespace is joined, the rootfs is the container's already; the child skips
    // hostname, sysctl and rootfs setup.
    bool join_existing = false;
    bool runtime_hooks = false;            // prestart/createRuntime exist (run by the parent)
    hooks::PreparedHooks container_hooks;  // createContainer: run by the child before pivot_root
    hooks::PreparedHooks start_hooks;      // startContainer: run by the child before exec
    pid_t parent_pid = 0;  // the child dies with hrun before exec (PR_SET_PDEATHSIG)
};

Result<ContainerPlan> prepare_container(spec::Spec spec, const CreateOptions& options);

// For `exec`: the plan of a process that joins a running container. `spec` holds the exec'd
// process and the container's namespaces as paths (/proc/<init>/ns/*); the cgroup is the
// container's own.
Result<ContainerPlan> prepare_joining(spec::Spec spec, const CreateOptions& options,
                                      std::optional<cgroups::Cgroup> cgroup);

}  // namespace hrun::create
