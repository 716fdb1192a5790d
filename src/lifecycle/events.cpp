// `hrun events`: the container's resource usage as JSON lines, and its OOM kills as they happen.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cgroups/cgroups.hpp"
#include "inspect/stats.hpp"
#include "lifecycle/lifecycle.hpp"
#include "state/state.hpp"

namespace hrun::lifecycle {

namespace {

std::string event(const char* type, const std::string& id, const nlohmann::ordered_json& data) {
    nlohmann::ordered_json j{{"type", type}, {"id", id}};
    if (!data.is_null()) j["data"] = data;
    return j.dump();
}

}  // namespace

Status events(const std::string& root_path, const std::string& id, bool stats_once,
              std::chrono::nanoseconds interval, const std::function<void(const std::string&)>& emit) {
    // The same opening and the same stats JSON as `hrun stats --format json`.
    inspect::ContainerCgroup c = HRUN_TRY(inspect::open_container_cgroup(root_path, id));
    if (!c.cgroup) return fail("", "container \"" + id + "\" has no cgroup", ENOTSUP);
    if (c.status == state::ContainerStatus::Stopped)
        return fail("", "container \"" + id + "\" is not running", ESRCH);
    const cgroups::Cgroup& cg = *c.cgroup;
    const state::ContainerState& st = c.state;

    if (stats_once) {
        emit(event("stats", id, inspect::stats_json(HRUN_TRY(cg.stats()))));
        return ok();
    }
    // Until the init process exits: stats every interval, an "oom" event per new OOM kill.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    if (!pidfd) return fail_errno("cannot watch the container process");
    uint64_t ooms = cg.oom_kills().value_or(0);
    auto report_ooms = [&] {
        if (auto now = cg.oom_kills(); now && *now > ooms)
            for (; ooms < *now; ++ooms) emit(event("oom", id, nullptr));
    };
    // Whether the init process exits before `interval` has passed. poll takes milliseconds in an
    // int: a sub-millisecond interval waits one, a longer one than poll can take waits in steps.
    auto exits_within = [&](std::chrono::nanoseconds interval) {
        using namespace std::chrono;
        const auto deadline = steady_clock::now() + interval;
        for (;;) {
            const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
            const int wait = static_cast<int>(std::clamp<int64_t>(left.count(), 1, 3'600'000));
            pollfd pfd{pidfd.get(), POLLIN, 0};
            if (::poll(&pfd, 1, wait) > 0) return true;
            if (steady_clock::now() >= deadline) return false;
        }
    };
    for (;;) {
        report_ooms();
        if (auto s = cg.stats()) emit(event("stats", id, inspect::stats_json(*s)));
        if (exits_within(interval)) {
            report_ooms();  // the kill that ended it
            return ok();
        }
    }
}

}  // namespace hrun::lifecycle
