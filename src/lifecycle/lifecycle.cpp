#include "lifecycle/lifecycle.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/cgroups.hpp"
#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "spec/spec_io.hpp"
#include "state/state.hpp"

namespace hrun::lifecycle {

namespace {

// A container as the commands see it: its state, its cgroup (if it has one) and its status.
struct Opened {
    state::ContainerDir dir;
    state::ContainerState state;
    UniqueFd procfd;
    std::optional<cgroups::Cgroup> cgroup;
    state::ContainerStatus status = state::ContainerStatus::Stopped;
};

// The container's lock, waited for at most `wait_ms` when that is >= 0 (else for as long as it
// takes): `pause` and `resume` must answer in bounded time even behind a stuck command.
Result<state::ContainerDir> lock_container(const state::StateRoot& root, const std::string& id, state::Lock lock,
                                           int wait_ms) {
    if (wait_ms < 0) return root.open(id, lock);
    for (int waited = 0;; waited += 10) {
        auto dir = root.open(id, lock, state::Wait::Try);
        if (dir || dir.error().err != EWOULDBLOCK || waited >= wait_ms) return dir;
        ::usleep(10'000);
    }
}

Result<Opened> open_container(const std::string& root_path, const std::string& id, state::Lock lock,
                              int wait_ms = -1) {
    auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist);
    if (!root) return fail("", "container \"" + id + "\" does not exist", ENOENT);
    state::ContainerDir dir = HRUN_TRY(lock_container(*root, id, lock, wait_ms));
    state::ContainerState st = HRUN_TRY(dir.load());
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    std::optional<cgroups::Cgroup> cgroup;
    if (!st.cgroup.directories.empty()) {
        cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(procfd.get()));
        if (auto cg = cgroups::Cgroup::open(layout, st.cgroup.directories)) cgroup.emplace(std::move(*cg));
    }
    state::PausedCheck paused = [&cgroup](const state::ContainerState&) -> Result<bool> {
        return cgroup ? cgroup->frozen() : Result<bool>(false);
    };
    auto status = HRUN_TRY(state::container_status(st, paused, procfd.get()));
    return Opened{std::move(dir), std::move(st), std::move(procfd), std::move(cgroup), status};
}

// How long pause/resume wait for another command's lock before they give up.
constexpr int kPauseLockWaitMs = 10'000;

std::string status_text(state::ContainerStatus s) { return std::string(state::status_name(s)); }

}  // namespace

Result<std::string> state_json(const std::string& root, const std::string& id) {
    // No lock: hooks run while `create` holds it and commonly ask for the state.
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::None));
    return state::format_state(c.state, c.status);
}

Result<int> parse_signal(const std::string& text) {
    if (text.empty()) return fail("signal", "empty signal");
    if (text.find_first_not_of("0123456789") == std::string::npos) {
        // 0 sends nothing and checks the process can be signalled, as kill(1) and runc take it.
        int n = text.size() > 3 ? NSIG : std::atoi(text.c_str());
        if (n < 0 || n >= NSIG) return fail("signal", "invalid signal \"" + text + "\"");
        return n;
    }
    std::string name = text;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    for (int sig = 1; sig < NSIG; ++sig) {
        const char* abbrev = ::sigabbrev_np(sig);
        if (abbrev && name == abbrev) return sig;
    }
    if (name.rfind("RTMIN+", 0) == 0) return SIGRTMIN + std::atoi(name.c_str() + 6);
    if (name.rfind("RTMAX-", 0) == 0) return SIGRTMAX - std::atoi(name.c_str() + 6);
    return fail("signal", "unknown signal \"" + text + "\"");
}

Status kill(const std::string& root, const std::string& id, int signal, bool all) {
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::Shared));
    // --all signals what is in the container's cgroup, which may outlive init (no pid namespace
    // of its own): as runc, a stopped container is no error for it, and an empty or removed
    // cgroup means nothing to signal. Without --all only a live init is signalled.
    log::debug("signal " + std::to_string(signal) + " to " + (all ? "every process of" : "the init of") +
               " container " + id + " (" + std::string(state::status_name(c.status)) + ")");
    if (all && c.status == state::ContainerStatus::Stopped && !c.cgroup) return ok();
    if (!all && c.status == state::ContainerStatus::Stopped)
        return fail("", "container \"" + id + "\" is not running", ESRCH);
    if (all && c.cgroup) {
        if (signal == SIGKILL) return c.cgroup->kill_all();
        for (pid_t pid : HRUN_TRY(c.cgroup->pids()))
            if (::kill(pid, signal) != 0 && errno != ESRCH)
                return fail_errno("cannot signal process " + std::to_string(pid));
        // Frozen processes only see the signal once thawed, as with runc.
        return ok();
    }
    // The pidfd pins the process that container_status just checked (pid and start time).
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, c.state.pid, 0)));
    if (!pidfd) return fail_errno("cannot open the container process");
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0)
        return fail_errno("cannot signal the container process");
    return ok();
}

Result<std::string> list(const std::string& root_path, ListFormat format) {
    std::vector<state::ListRow> rows;
    if (auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist)) {
        UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
        auto layout = cgroups::detect_layout(procfd.get());
        state::PausedCheck paused = [&](const state::ContainerState& st) -> Result<bool> {
            if (!layout || st.cgroup.directories.empty()) return false;
            auto cg = cgroups::Cgroup::open(*layout, st.cgroup.directories);
            return cg ? cg->frozen() : Result<bool>(false);
        };
        rows = HRUN_TRY(state::list_rows(*root, paused));
    }
    switch (format) {
        case ListFormat::Json: return state::format_list_json(rows);
        case ListFormat::Quiet: return state::format_list_quiet(rows);
        case ListFormat::Table: break;
    }
    return state::format_list_table(rows);
}

Result<std::vector<pid_t>> processes(const std::string& root, const std::string& id) {
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::Shared));
    if (c.cgroup) return c.cgroup->pids();
    if (c.status == state::ContainerStatus::Stopped) return std::vector<pid_t>{};
    return std::vector<pid_t>{c.state.pid};
}

Status pause(const std::string& root, const std::string& id) {
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::Exclusive, kPauseLockWaitMs));
    if (c.status != state::ContainerStatus::Running && c.status != state::ContainerStatus::Created)
        return fail("", "cannot pause container \"" + id + "\" that is " + status_text(c.status));
    // Rootless containers run without a cgroup when none was delegated to their user.
    if (!c.cgroup)
        return fail("", "container \"" + id + "\" has no cgroup: pause needs the freezer cgroup (" +
                            (c.state.rootless ? "none was delegated to its user" : "it was removed") + ")",
                    ENOTSUP);
    return c.cgroup->freeze();
}

Status update(const std::string& root, const std::string& id, const spec::Resources& resources) {
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::Exclusive));
    if (c.status == state::ContainerStatus::Stopped)
        return fail("", "cannot update container \"" + id + "\" that is stopped");
    if (!c.cgroup)
        return fail("", "container \"" + id + "\" has no cgroup to apply linux.resources to" +
                            (c.state.rootless ? " (none was delegated to its user)" : ""),
                    ENOTSUP);
    return c.cgroup->update(resources);
}

Result<spec::Resources> parse_resources(std::string_view json_text) {
    // Parsed as the resources of a minimal config, so that type errors name the same fields.
    std::string doc = "{\"ociVersion\":\"1.2.0\",\"linux\":{\"resources\":";
    doc += json_text;
    doc += "}}";
    spec::Spec s = HRUN_TRY(spec::parse_spec(doc));
    return s.linux && s.linux->resources ? *s.linux->resources : spec::Resources{};
}

Status resume(const std::string& root, const std::string& id) {
    Opened c = HRUN_TRY(open_container(root, id, state::Lock::Exclusive, kPauseLockWaitMs));
    if (c.status != state::ContainerStatus::Paused)
        return fail("", "cannot resume container \"" + id + "\" that is " + status_text(c.status));
    return c.cgroup->thaw();
}

}  // namespace hrun::lifecycle
