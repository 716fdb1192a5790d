// Driving a cgroup freezer to a state within a deadline, separate from the files so that the
// polling can be tested against a fake freezer.
//
// v1: freezer.state takes "FROZEN"/"THAWED" and reads "FREEZING" while tasks remain to be
// stopped; a task in an uninterruptible sleep (a vfork parent, a task blocked on NFS or FUSE)
// can hold it there forever. v2: cgroup.freeze takes "1"/"0" and cgroup.events says "frozen 1"
// once every task is stopped. Either way the state is polled until the deadline; a freeze that
// has not completed by then is undone (thawed), so that `pause` fails with a clear error instead
// of hanging or leaving a half-frozen container, as runc does after its retries.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hrun/error.hpp"

namespace hrun::cgroups {

struct FreezerFiles {
    int version = 1;  // 1: freezer.state, 2: cgroup.freeze + cgroup.events
    // Writes the request ("FROZEN"/"THAWED" on v1, "1"/"0" on v2); 0 or an errno.
    std::function<int(std::string_view)> request;
    // Whether the kernel reports the wanted state; nullopt when the file cannot be read.
    std::function<std::optional<bool>(bool frozen)> reached;
};

// How long a freeze or thaw may take before it is given up.
inline constexpr std::chrono::milliseconds kFreezeDeadline{5000};

// Requests `frozen` (or thawed) and polls until the kernel reports it or `deadline` passes.
// A freeze that times out is thawed back before the error returns (ETIMEDOUT, naming what was
// left: "FREEZING" on v1). Errors name linux.cgroupsPath.
Status drive_freezer(const FreezerFiles& files, bool frozen, std::chrono::milliseconds deadline = kFreezeDeadline);

}  // namespace hrun::cgroups
