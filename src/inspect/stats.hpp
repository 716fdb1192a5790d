// Resource usage of containers, for `hrun stats` (a table like `docker stats`) and
// `hrun events` (runc's JSON events): both open a container's cgroup the same way and describe
// cgroups::Stats with the same JSON.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/cgroups.hpp"
#include "hrun/error.hpp"
#include "state/state.hpp"

namespace hrun::inspect {

// A container's state, status and cgroup (opened from the directories saved at creation).
struct ContainerCgroup {
    state::ContainerState state;
    state::ContainerStatus status = state::ContainerStatus::Stopped;
    std::optional<cgroups::Cgroup> cgroup;  // nullopt when it has none, or it is gone
};

Result<ContainerCgroup> open_container_cgroup(const std::string& root, const std::string& id);

// runc's stats event data: {cpu: {usage, throttling}, memory: {usage, swap}, pids, blkio}.
nlohmann::ordered_json stats_json(const cgroups::Stats& stats);

// One line of `hrun stats`.
struct StatsRow {
    std::string id;
    std::string status;
    std::optional<cgroups::Stats> stats;  // nullopt when stopped or without a cgroup
    std::optional<double> cpu_percent;    // of one CPU: 200% is two CPUs busy
    // False for a container created without a cgroup (rootless, nothing delegated): its usage
    // is its creator's and is not shown as its own.
    bool own_cgroup = true;
};

// CPU time used between two readings over the wall time between them, in percent of one CPU.
double cpu_percent(uint64_t cpu_before_ns, uint64_t cpu_after_ns, std::chrono::nanoseconds wall);

// Reads every container's stats twice, `interval` apart (CPU % needs two readings). An empty
// `ids` means every container of the root that is not stopped; a named one that does not
// exist is an error.
Result<std::vector<StatsRow>> sample_stats(const std::string& root, const std::vector<std::string>& ids,
                                           std::chrono::milliseconds interval);

// CONTAINER, CPU %, MEM USAGE / LIMIT, MEM %, PIDS / LIMIT, BLOCK I/O (read / written).
std::string format_stats_table(const std::vector<StatsRow>& rows);
// [{"id", "status", "ownCgroup", "cpuPercent", "memoryPercent", "data": stats_json}, ...]
nlohmann::ordered_json stats_rows_json(const std::vector<StatsRow>& rows);

}  // namespace hrun::inspect
