// `hrun events`: the container's resource usage as JSON lines, and its OOM kills as they happen.
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cgroups/cgroups.hpp"
#include "lifecycle/lifecycle.hpp"
#include "linux/procfs.hpp"
#include "state/state.hpp"

namespace hrun::lifecycle {

namespace {

template <class T>
void put(nlohmann::ordered_json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}

// runc's event shape: {"type":"stats","id":..., "data":{cpu, memory, pids, blkio}}.
nlohmann::ordered_json stats_data(const cgroups::Stats& s) {
    nlohmann::ordered_json cpu, usage, throttling, memory, mem_usage, swap, pids, blkio;
    put(usage, "total", s.cpu_usage_ns);
    put(usage, "kernel", s.cpu_system_ns);
    put(usage, "user", s.cpu_user_ns);
    put(throttling, "periods", s.cpu_periods);
    put(throttling, "throttledPeriods", s.cpu_throttled_periods);
    put(throttling, "throttledTime", s.cpu_throttled_ns);
    cpu["usage"] = usage;
    cpu["throttling"] = throttling;
    put(mem_usage, "usage", s.memory_usage);
    put(mem_usage, "limit", s.memory_limit);
    put(mem_usage, "max", s.memory_max_usage);
    put(swap, "usage", s.swap_usage);
    put(swap, "limit", s.swap_limit);
    memory["usage"] = mem_usage;
    memory["swap"] = swap;
    put(pids, "current", s.pids_current);
    put(pids, "limit", s.pids_limit);
    nlohmann::ordered_json io = nlohmann::ordered_json::array();
    for (const auto& d : s.io)
        io.push_back({{"major", d.major}, {"minor", d.minor}, {"readBytes", d.read_bytes},
                      {"writeBytes", d.write_bytes}, {"readOps", d.read_ops}, {"writeOps", d.write_ops}});
    blkio["ioServiceBytesRecursive"] = io;
    return {{"cpu", cpu}, {"memory", memory}, {"pids", pids}, {"blkio", blkio}};
}

std::string event(const char* type, const std::string& id, const nlohmann::ordered_json& data) {
    nlohmann::ordered_json j{{"type", type}, {"id", id}};
    if (!data.is_null()) j["data"] = data;
    return j.dump();
}

}  // namespace

Status events(const std::string& root_path, const std::string& id, bool stats_once,
              std::chrono::milliseconds interval, const std::function<void(const std::string&)>& emit) {
    auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist);
    if (!root) return fail("", "container \"" + id + "\" does not exist", ENOENT);
    state::ContainerDir dir = HRUN_TRY(root->open(id, state::Lock::None));
    state::ContainerState st = HRUN_TRY(dir.load());
    dir.release();
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    if (st.cgroup.directories.empty()) return fail("", "container \"" + id + "\" has no cgroup", ENOTSUP);
    cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(procfd.get()));
    cgroups::Cgroup cg = HRUN_TRY(cgroups::Cgroup::open(layout, st.cgroup.directories));
    if (HRUN_TRY(state::container_status(st, {}, procfd.get())) == state::ContainerStatus::Stopped)
        return fail("", "container \"" + id + "\" is not running", ESRCH);

    if (stats_once) {
        emit(event("stats", id, stats_data(HRUN_TRY(cg.stats()))));
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
    for (;;) {
        report_ooms();
        if (auto s = cg.stats()) emit(event("stats", id, stats_data(*s)));
        pollfd pfd{pidfd.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(interval.count())) > 0) {
            report_ooms();  // the kill that ended it
            return ok();
        }
    }
}

}  // namespace hrun::lifecycle
