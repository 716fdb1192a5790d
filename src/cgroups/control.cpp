// Operations on a running container's cgroup: freeze/thaw, kill everything, list processes,
// count OOM kills.
#include <signal.h>

#include <algorithm>
#include <cerrno>

#include "cgroups/cgroups.hpp"
#include "cgroups/freezer.hpp"
#include "cgroups/fs.hpp"
#include "cgroups/stat_files.hpp"

namespace hrun::cgroups {
namespace {

constexpr const char* kField = "linux.cgroupsPath";
// Freezing and killing wait this long for the kernel: 500 steps of 10 ms.
constexpr int kWaitSteps = 500;
constexpr int kStepMs = 10;
constexpr std::chrono::milliseconds kKillFreezeDeadline{200};

struct Freezer {
    int fd = -1;
    int version = 0;  // 0: none
};

// v1 freezer hierarchy when mounted, else the v2 leaf (every non-root v2 cgroup has cgroup.freeze).
Freezer freezer_of(const Layout& layout, const std::vector<UniqueFd>& leaves) {
    for (std::size_t i = 0; i < layout.hierarchies.size(); ++i)
        if (layout.hierarchies[i].version == 1 && layout.hierarchies[i].has("freezer") && leaves[i])
            return {leaves[i].get(), 1};
    if (auto u = layout.unified(); u && leaves[*u]) return {leaves[*u].get(), 2};
    return {};
}

// The hierarchy whose cgroup.procs lists the container's processes: the v2 one on v2-only
// hosts, else a v1 hierarchy every runtime joins.
int procs_fd(const Layout& layout, const std::vector<UniqueFd>& leaves) {
    if (layout.mode == Mode::Unified) {
        const auto u = layout.unified();
        return u && leaves[*u] ? leaves[*u].get() : -1;
    }
    for (std::string_view c : {"pids", "freezer", "memory", "cpu", "devices", "cpuacct", "blkio"}) {
        const auto i = layout.find(c);
        if (i && leaves[*i]) return leaves[*i].get();
    }
    for (const UniqueFd& fd : leaves)
        if (fd) return fd.get();
    return -1;
}

// Waits until `done` returns true; false on timeout.
template <class Done>
bool wait_for(Done done) {
    for (int step = 0; step < kWaitSteps; ++step) {
        if (done()) return true;
        fs::sleep_ms(step < 10 ? 1 : kStepMs);
    }
    return done();
}

bool v2_frozen_is(int fd, bool frozen) {
    std::string events;
    if (fs::read_at(fd, "cgroup.events", events) != 0) return false;
    const auto values = parse_flat_keyed(events);
    const auto it = values.find("frozen");
    return it != values.end() && it->second == (frozen ? 1u : 0u);
}

bool v1_state_is(int fd, std::string_view state) {
    std::string text;
    return fs::read_at(fd, "freezer.state", text) == 0 && fs::trim(text) == state;
}

FreezerFiles freezer_files(const Freezer& fr) {
    FreezerFiles files;
    files.version = fr.version;
    const int fd = fr.fd;
    if (fr.version == 2) {
        files.request = [fd](std::string_view value) { return fs::write_at(fd, "cgroup.freeze", value); };
        files.reached = [fd](bool frozen) -> std::optional<bool> {
            std::string events;
            if (fs::read_at(fd, "cgroup.events", events) != 0) return std::nullopt;
            const auto values = parse_flat_keyed(events);
            const auto it = values.find("frozen");
            if (it == values.end()) return std::nullopt;
            return it->second == (frozen ? 1u : 0u);
        };
    } else {
        files.request = [fd](std::string_view value) { return fs::write_at(fd, "freezer.state", value); };
        files.reached = [fd](bool frozen) -> std::optional<bool> {
            std::string text;
            if (fs::read_at(fd, "freezer.state", text) != 0) return std::nullopt;
            return fs::trim(text) == (frozen ? "FROZEN" : "THAWED");
        };
    }
    return files;
}

Status set_frozen(const Layout& layout, const std::vector<UniqueFd>& leaves, bool frozen,
                  std::chrono::milliseconds deadline = kFreezeDeadline) {
    const Freezer fr = freezer_of(layout, leaves);
    if (fr.version == 0)
        return fail(kField, std::string("cannot ") + (frozen ? "freeze" : "thaw") + ": no freezer on this host", ENOTSUP);
    return drive_freezer(freezer_files(fr), frozen, deadline);
}

}  // namespace

Status Cgroup::freeze() const { return set_frozen(layout_, leaves_, true); }

Result<bool> Cgroup::frozen() const {
    const Freezer fr = freezer_of(layout_, leaves_);
    if (fr.version == 0) return false;
    if (fr.version == 2) return v2_frozen_is(fr.fd, true);
    return v1_state_is(fr.fd, "FROZEN");
}
Status Cgroup::thaw() const { return set_frozen(layout_, leaves_, false); }

Result<std::vector<pid_t>> Cgroup::pids() const {
    const int fd = procs_fd(layout_, leaves_);
    if (fd < 0) return fail(kField, "the container's cgroup no longer exists", ENOENT);
    std::vector<pid_t> pids;
    if (int err = fs::read_procs(fd, pids, true); err != 0)
        return fail(kField, "cannot read the container's cgroup.procs", err);
    std::sort(pids.begin(), pids.end());
    pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
    return pids;
}

Status Cgroup::kill_all() const {
    const int fd = procs_fd(layout_, leaves_);
    if (fd < 0) return ok();  // nothing left to kill
    auto empty = [&] {
        std::vector<pid_t> pids;
        return fs::read_procs(fd, pids, true) == 0 && pids.empty();
    };
    // The common case on `delete` and after a foreground run: the container has exited and
    // was reaped. No freezer round trips for an empty cgroup.
    if (empty()) return ok();
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included.
    if (auto u = layout_.unified(); u && leaves_[*u]) {
        const int err = fs::write_at(leaves_[*u].get(), "cgroup.kill", "1");
        // A process missing from the v2 cgroup (hybrid host) is left to the loop below.
        if (err == 0 && wait_for(empty)) return ok();
        if (err != 0 && err != ENOENT) return fail(kField, "cannot write cgroup.kill", err);
    }
    // Otherwise: freeze so that nothing forks between reading the list and the kills, kill,
    // thaw so that the killed tasks can die, and repeat until the cgroup is empty.
    const bool can_freeze = freezer_of(layout_, leaves_).version != 0;
    for (int round = 0; round < kWaitSteps; ++round) {
        // A freeze that cannot complete (a task in uninterruptible sleep) must not cost the
        // full deadline every round: kill without it instead.
        const bool frozen = can_freeze && set_frozen(layout_, leaves_, true, kKillFreezeDeadline).has_value();
        std::vector<pid_t> pids;
        const int err = fs::read_procs(fd, pids, true);
        for (pid_t pid : pids) ::kill(pid, SIGKILL);
        if (frozen) HRUN_TRY(set_frozen(layout_, leaves_, false));
        if (err != 0) return fail(kField, "cannot read the container's cgroup.procs", err);
        if (pids.empty()) return ok();
        fs::sleep_ms(round < 10 ? 1 : kStepMs);
    }
    return fail(kField, "processes remain in the container's cgroup after repeated SIGKILL", EBUSY);
}

Result<uint64_t> Cgroup::oom_kills() const {
    const auto m = layout_.find("memory");
    if (!m || !leaves_[*m]) return fail("linux.resources.memory", "this host has no memory controller", ENOTSUP);
    const bool v2 = layout_.hierarchies[*m].version == 2;
    const char* file = v2 ? "memory.events" : "memory.oom_control";
    std::string text;
    if (int err = fs::read_at(leaves_[*m].get(), file, text); err != 0)
        return fail("linux.resources.memory", std::string("cannot read ") + file, err);
    const auto values = parse_flat_keyed(text);
    const auto it = values.find("oom_kill");
    if (it == values.end()) return fail("linux.resources.memory", std::string(file) + " has no oom_kill count (kernel too old)", ENOTSUP);
    return it->second;
}

}  // namespace hrun::cgroups
