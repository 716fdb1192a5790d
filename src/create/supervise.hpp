// Stage 7, "supervise": the foreground `run` waits for the container, forwarding signals.
#pragma once

#include <signal.h>

#include "create/spawn.hpp"
#include "hrun/error.hpp"

namespace hrun::create {

// Blocks every signal in hrun (before clone, so the child also starts with them blocked and
// nothing is lost while the container is set up). Returns the previous mask.
sigset_t block_all_signals();

// Waits for the container to exit, forwarding every catchable signal hrun receives to it
// (SIGCHLD excepted). Returns the exit code as a shell reports it: the status, or 128+N when
// the process was killed by signal N. The process is reaped and released.
Result<int> supervise(ContainerProcess& container);

}  // namespace hrun::create
