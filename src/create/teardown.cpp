#include "create/teardown.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroups/cgroups.hpp"
#include "hooks/hooks.hpp"
#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "spec/spec_io.hpp"
#include "state/state.hpp"

namespace hrun::create {

namespace {

Result<std::optional<cgroups::Cgroup>> open_cgroup(const state::ContainerState& st, int procfd) {
    if (st.cgroup.directories.empty()) return std::optional<cgroups::Cgroup>{};
    cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(procfd));
    auto cg = cgroups::Cgroup::open(layout, st.cgroup.directories);
    if (!cg) {
        if (cg.error().err == ENOENT) return std::optional<cgroups::Cgroup>{};  // already gone
        return std::unexpected(cg.error());
    }
    return std::optional<cgroups::Cgroup>(std::move(*cg));
}

// SIGKILL to the init process through a pidfd (immune to pid reuse: checked alive just
// before), then wait until it is really gone.
Status kill_init(const state::ContainerState& st) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    // ESRCH: gone. EINVAL: the pid now names a thread of another process, so ours is gone too.
    if (!pidfd) return errno == ESRCH || errno == EINVAL ? ok() : fail_errno("cannot open the container process");
    if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH)
        return fail_errno("cannot kill the container process");
    pollfd pfd{pidfd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 10000) <= 0) return fail("", "the container process did not die", ETIMEDOUT);
    return ok();
}

}  // namespace

Status delete_container(const std::string& root_path, const std::string& id, bool force) {
    // As runc, `delete --force` of a container that does not exist succeeds: an engine cleaning
    // up after a failed create cannot tell whether the id was ever reserved. An invalid id still fails.
    auto gone = [&](Error e) -> Status {
        if (force && e.err == ENOENT) return ok();
        return std::unexpected(std::move(e));
    };
    HRUN_TRY(state::check_id(id));
    auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist);
    if (!root) return gone(Error{ENOENT, "", "container \"" + id + "\" does not exist"});
    root->sweep_abandoned();
    auto opened = root->open(id, state::Lock::Exclusive);
    if (!opened) return gone(std::move(opened.error()));
    state::ContainerDir dir = std::move(*opened);
    auto loaded = dir.load();
    if (!loaded) {
        // No state.json: its creator died before writing one (we hold the lock, so it is not
        // still at work). Nothing else can exist yet.
        if (loaded.error().err == ENOENT) return dir.remove();
        return std::unexpected(loaded.error());
    }
    const state::ContainerState& st = *loaded;
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    std::optional<cgroups::Cgroup> cgroup = HRUN_TRY(open_cgroup(st, procfd.get()));

    state::PausedCheck paused = [&](const state::ContainerState&) -> Result<bool> {
        return cgroup ? cgroup->frozen() : Result<bool>(false);
    };
    state::ContainerStatus status = HRUN_TRY(state::container_status(st, paused, procfd.get()));
    log::debug("delete container " + id + " (" + std::string(state::status_name(status)) + ")");
    if (status != state::ContainerStatus::Stopped) {
        if (!force)
            return fail("", "cannot delete container \"" + id + "\" that is " +
                                std::string(state::status_name(status)) +
                                ": stop it first or use --force");
        // The init is in its cgroup: once kill_all has emptied it, the init is dead and may be
        // reaped already, and its pid free for another process (or a thread) to take. Signalling
        // that pid then would hit a stranger: kill the init by pid only without a cgroup.
        if (cgroup) HRUN_TRY(cgroup->kill_all());
        else HRUN_TRY(kill_init(st));
    }
    if (cgroup) HRUN_TRY(cgroup->destroy());

    auto spec = spec::load_spec(st.config_path);
    if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
        // As runc: poststop failures are reported but do not keep the container alive.
        std::string text = hooks::hook_state_json(st.id, "stopped", 0, st.bundle, st.annotations);
        if (auto hooked = hooks::run_hooks_best_effort(spec->hooks->poststop, "poststop", text); !hooked)
            log::warn(hooked.error().what());
    }
    return dir.remove();
}

Status finish_run(const state::StateRoot& root, const state::ContainerState& st, const spec::Spec& spec,
                  cgroups::Cgroup* cgroup) {
    state::ContainerDir dir = HRUN_TRY(root.open(st.id, state::Lock::Exclusive));
    // The init process was reaped by the caller: the container is stopped. Whatever it left
    // in its cgroup is killed there.
    if (cgroup) {
        HRUN_TRY(cgroup->destroy());
    } else if (!st.cgroup.directories.empty()) {
        // Recorded but not held (not expected: `run` keeps the cgroup it made): reopen it.
        UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
        std::optional<cgroups::Cgroup> recorded = HRUN_TRY(open_cgroup(st, procfd.get()));
        if (recorded) HRUN_TRY(recorded->destroy());
    }
    if (spec.hooks && !spec.hooks->poststop.empty()) {
        std::string text = hooks::hook_state_json(st.id, "stopped", 0, st.bundle, st.annotations);
        if (auto hooked = hooks::run_hooks_best_effort(spec.hooks->poststop, "poststop", text); !hooked)
            log::warn(hooked.error().what());
    }
    return dir.remove();
}

}  // namespace hrun::create
