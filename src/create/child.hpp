// Stages 5 and 6, "child setup" and "exec": the container process from clone to execve.
#pragma once

#include "create/prepare.hpp"

namespace hrun::create {

// Runs in the freshly cloned process. Never returns: it execs the container process, or sends
// the error to the parent over `sync_fd` and exits.
[[noreturn]] void child_main(const ContainerPlan& plan, int sync_fd) noexcept;

}  // namespace hrun::create
