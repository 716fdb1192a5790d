// Stage 4, "clone": starts the container process and drives the sync protocol (sync.hpp)
// from the parent's side until the process has exec'd.
#pragma once

#include <sys/types.h>

#include <functional>

#include "create/prepare.hpp"
#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::create {

// The container's init process, owned: if it is dropped before release(), it is killed and
// reaped, so a failed create leaves no process behind.
class ContainerProcess {
public:
    ContainerProcess() = default;
    ContainerProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
    ContainerProcess(ContainerProcess&& other) noexcept
        : pid_(std::exchange(other.pid_, 0)), pidfd_(std::move(other.pidfd_)) {}
    ContainerProcess& operator=(ContainerProcess&& other) noexcept;
    ~ContainerProcess() { kill_and_reap(); }

    pid_t pid() const { return pid_; }
    int pidfd() const { return pidfd_.get(); }
    // Forget the process (it has been reaped, or is handed to someone else).
    void release() { pid_ = 0; pidfd_.reset(); }
    void kill_and_reap() noexcept;

private:
    pid_t pid_ = 0;
    UniqueFd pidfd_;
};

// What the caller does at the protocol's steps (sync.hpp); an error aborts the create.
struct SpawnSteps {
    // HOOKS: the namespaces exist; run prestart, createRuntime and createContainer.
    std::function<Status(pid_t container_pid)> run_hooks;
    // TERMINAL: the pty master made inside the container.
    std::function<Status(UniqueFd master)> terminal;
    // READY: set up and waiting to exec; record state before it may run.
    std::function<Status(pid_t container_pid)> ready;
};

// Signals must be blocked by the caller (block_all_signals) so that the child starts with
// none delivered before it resets their dispositions. Returns once the process has exec'd
// (`run`), or, with an exec fifo (`create`), once it waits on the fifo.
Result<ContainerProcess> spawn_container(const ContainerPlan& plan, const SpawnSteps& steps);

}  // namespace hrun::create
