// The container process itself: identity, limits, privileges, confinement and exec.
//
// plan_process (parent) turns process.* into ready-made values: argv/envp arrays, capability
// masks, rlimits, resolved LSM labels. The child then runs two steps:
//   prepare_process  before the start barrier: rlimits, scheduler, ioprio, personality, umask
//   exec_process     after it: LSM label, fd closing, no_new_privs, groups/uid/gid,
//                    capabilities, seccomp, cwd and program lookup, execve. Returns only on
//                    failure.
#pragma once

#include <string>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "process/process_plan.hpp"
#include "security/seccomp.hpp"

namespace hrun::process {

struct ProcessOptions {
    int preserve_fds = 0;  // fds 3..3+N-1 stay open across exec
    std::string bundle;    // a relative root.path is below it (HOME lookup in /etc/passwd)
    // The root the container's /etc/passwd is read from, when the container runs already (exec:
    // its init's /proc/<pid>/root); -1: root.path, before the container exists. Not owned.
    int root_fd = -1;
};

Result<ProcessPlan> plan_process(const spec::Spec& spec, const ProcessOptions& options,
                                 const os::HostContext& host);

ChildStatus prepare_process(const ProcessPlan& plan, int procfd) noexcept;

// Looks the program up as exec_process will (still as root, from "/"), so that `create` reports
// a missing program instead of a container that dies at `start`.
ChildStatus check_program(const ProcessPlan& plan) noexcept;

// `seccomp` may be null (no linux.seccomp). Closes every fd above stderr but the preserved ones
// and `sync_fd` (close-on-exec, it reports a failure up to execve). Only returns on failure.
ChildStatus exec_process(const ProcessPlan& plan, const security::SeccompProgram* seccomp,
                         int procfd, int sync_fd) noexcept;

}  // namespace hrun::process
