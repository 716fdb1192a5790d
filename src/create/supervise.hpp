// Stage 7, "supervise": the foreground `run` (and `exec`) waits for its process, forwarding
// signals and, with a terminal, copying between the caller's terminal and the pty.
#pragma once

#include <signal.h>

#include "console/console.hpp"
#include "create/spawn.hpp"
#include "hrun/error.hpp"

namespace hrun::create {

// Blocks every signal in hrun (before clone, so the child also starts with them blocked and
// nothing is lost while the container is set up). Returns the previous mask.
sigset_t block_all_signals();

// Waits for the process to exit, forwarding every catchable signal hrun receives to it
// (SIGCHLD excepted; SIGWINCH goes to the terminal instead when there is one). Returns the exit
// code as a shell reports it: the status, or 128+N when killed by signal N. The process is
// reaped and released.
Result<int> supervise(ContainerProcess& process, console::TerminalProxy* terminal = nullptr);

}  // namespace hrun::create
