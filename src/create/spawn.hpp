// Stage 4, "clone": starts the container process and drives the sync protocol (sync.hpp)
// from the parent's side until the process has exec'd.
#pragma once

#include <sys/types.h>

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

// Signals must be blocked by the caller (block_all_signals) so that the child starts with
// none delivered before it resets their dispositions.
Result<ContainerProcess> spawn_container(const ContainerPlan& plan);

}  // namespace hrun::create
