// `hrun stats`: cgroup usage per container, with CPU % from two readings.
#include "inspect/stats.hpp"

#include <cstdio>
#include <thread>

#include "inspect/inspect.hpp"
#include "linux/procfs.hpp"

namespace hrun::inspect {
namespace {

using json = nlohmann::ordered_json;

template <class T>
void put(json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}

std::string percent_text(const std::optional<double>& p) {
    if (!p) return "--";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", *p);
    return buf;
}

std::optional<double> memory_percent(const cgroups::Stats& s) {
    if (!s.memory_usage || !s.memory_limit || *s.memory_limit == 0) return std::nullopt;
    return 100.0 * static_cast<double>(*s.memory_usage) / static_cast<double>(*s.memory_limit);
}

// Columns padded to the widest cell plus three spaces, the last one not padded.
std::string table(const std::vector<std::vector<std::string>>& cells) {
    std::vector<std::size_t> width;
    for (const auto& row : cells)
        for (std::size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], row[i].size());
        }
    std::string out;
    for (const auto& row : cells) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line += std::string(width[i] + 3 - row[i].size(), ' ');
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace

Result<ContainerCgroup> open_container_cgroup(const std::string& root_path, const std::string& id) {
    auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist);
    if (!root) return fail("", "container \"" + id + "\" does not exist", ENOENT);
    state::ContainerDir dir = HRUN_TRY(root->open(id, state::Lock::None));
    ContainerCgroup c;
    c.state = HRUN_TRY(dir.load());
    dir.release();
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    if (!c.state.cgroup.directories.empty()) {
        cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(procfd.get()));
        if (auto cg = cgroups::Cgroup::open(layout, c.state.cgroup.directories)) c.cgroup.emplace(std::move(*cg));
    }
    state::PausedCheck paused = [&c](const state::ContainerState&) -> Result<bool> {
        return c.cgroup ? c.cgroup->frozen() : Result<bool>(false);
    };
    c.status = HRUN_TRY(state::container_status(c.state, paused, procfd.get()));
    return c;
}

json stats_json(const cgroups::Stats& s) {
    json cpu, usage, throttling, memory, mem_usage, swap, pids, blkio;
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
    json io = json::array();
    for (const auto& d : s.io)
        io.push_back({{"major", d.major}, {"minor", d.minor}, {"readBytes", d.read_bytes},
                      {"writeBytes", d.write_bytes}, {"readOps", d.read_ops}, {"writeOps", d.write_ops}});
    blkio["ioServiceBytesRecursive"] = io;
    return {{"cpu", cpu}, {"memory", memory}, {"pids", pids}, {"blkio", blkio}};
}

double cpu_percent(uint64_t before, uint64_t after, std::chrono::nanoseconds wall) {
    if (wall.count() <= 0 || after < before) return 0.0;
    return 100.0 * static_cast<double>(after - before) / static_cast<double>(wall.count());
}

Result<std::vector<StatsRow>> sample_stats(const std::string& root_path, const std::vector<std::string>& ids,
                                           std::chrono::milliseconds interval) {
    std::vector<std::string> wanted = ids;
    if (wanted.empty()) {
        if (auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist))
            for (const auto& c : HRUN_TRY(root->list())) wanted.push_back(c.state.id);
    }
    std::vector<StatsRow> rows;
    std::vector<ContainerCgroup> opened;
    for (const std::string& id : wanted) {
        auto c = open_container_cgroup(root_path, id);
        if (!c) {
            // A container deleted between listing and opening is simply gone.
            if (ids.empty() && c.error().err == ENOENT) continue;
            return std::unexpected(c.error());
        }
        if (ids.empty() && c->status == state::ContainerStatus::Stopped) continue;
        rows.push_back({id, std::string(state::status_name(c->status)), std::nullopt, std::nullopt,
                        !c->state.cgroup.directories.empty()});
        opened.push_back(std::move(*c));
    }
    auto read_all = [&](std::vector<std::optional<cgroups::Stats>>& out) {
        out.clear();
        for (const ContainerCgroup& c : opened) {
            std::optional<cgroups::Stats> s;
            if (c.cgroup && c.status != state::ContainerStatus::Stopped)
                if (auto r = c.cgroup->stats()) s = *r;
            out.push_back(std::move(s));
        }
    };
    std::vector<std::optional<cgroups::Stats>> first, second;
    const auto t0 = std::chrono::steady_clock::now();
    read_all(first);
    if (!opened.empty()) std::this_thread::sleep_for(interval);
    const auto t1 = std::chrono::steady_clock::now();
    read_all(second);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].stats = second[i];
        if (first[i] && second[i] && first[i]->cpu_usage_ns && second[i]->cpu_usage_ns)
            rows[i].cpu_percent = cpu_percent(*first[i]->cpu_usage_ns, *second[i]->cpu_usage_ns, t1 - t0);
    }
    return rows;
}

std::string format_stats_table(const std::vector<StatsRow>& rows) {
    std::vector<std::vector<std::string>> cells{
        {"CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS / LIMIT", "BLOCK I/O (READ / WRITE)"}};
    for (const StatsRow& r : rows) {
        if (!r.stats) {
            const std::string why = r.own_cgroup ? r.status : r.status + ", no cgroup of its own";
            cells.push_back({r.id, "--", "-- (" + why + ")", "--", "--", "--"});
            continue;
        }
        const cgroups::Stats& s = *r.stats;
        uint64_t rd = 0, wr = 0;
        for (const auto& d : s.io) rd += d.read_bytes, wr += d.write_bytes;
        cells.push_back({r.id, percent_text(r.cpu_percent),
                         (s.memory_usage ? human_bytes(*s.memory_usage) : "?") + " / " +
                             (s.memory_limit ? human_bytes(*s.memory_limit) : "max"),
                         percent_text(memory_percent(s)),
                         (s.pids_current ? std::to_string(*s.pids_current) : "?") + " / " +
                             (s.pids_limit ? std::to_string(*s.pids_limit) : "max"),
                         human_bytes(rd) + " / " + human_bytes(wr)});
    }
    return table(cells);
}

json stats_rows_json(const std::vector<StatsRow>& rows) {
    json out = json::array();
    for (const StatsRow& r : rows) {
        json j{{"id", r.id}, {"status", r.status}, {"ownCgroup", r.own_cgroup}};
        j["cpuPercent"] = r.cpu_percent ? json(*r.cpu_percent) : json(nullptr);
        const auto mem = r.stats ? memory_percent(*r.stats) : std::nullopt;
        j["memoryPercent"] = mem ? json(*mem) : json(nullptr);
        j["data"] = r.stats ? stats_json(*r.stats) : json(nullptr);
        out.push_back(std::move(j));
    }
    return out;
}

}  // namespace hrun::inspect
