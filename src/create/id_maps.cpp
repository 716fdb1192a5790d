#include "create/id_maps.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hrun/fd.hpp"

extern char** environ;

namespace hrun::create {

namespace {

std::string kernel_map_text(const std::vector<spec::IdMapping>& maps) {
    std::string out;
    for (const auto& m : maps)
        out += std::to_string(m.containerID) + ' ' + std::to_string(m.hostID) + ' ' + std::to_string(m.size) + '\n';
    return out;
}

MapHelper helper_for(const std::string& program, const std::vector<spec::IdMapping>& maps) {
    MapHelper h{program, {}};
    for (const auto& m : maps) {
        h.args.push_back(std::to_string(m.containerID));
        h.args.push_back(std::to_string(m.hostID));
        h.args.push_back(std::to_string(m.size));
    }
    return h;
}

std::string id_range_text(uint32_t start, uint32_t count) {
    if (count == 1) return "host id " + std::to_string(start) + " is";
    return "host ids " + std::to_string(start) + "-" + std::to_string(uint64_t(start) + count - 1) + " are";
}

// One kind of map (uid or gid) for an unprivileged caller.
struct Kind {
    const char* field;    // "linux.uidMappings"
    const char* file;     // "/etc/subuid"
    const char* helper;   // "newuidmap"
    const char* id_word;  // "uid"
};
constexpr Kind kUid{"linux.uidMappings", os::kSubuidFile, "newuidmap", "uid"};
constexpr Kind kGid{"linux.gidMappings", os::kSubgidFile, "newgidmap", "gid"};

Result<std::optional<MapHelper>> plan_helper(const Kind& kind, const std::vector<spec::IdMapping>& maps,
                                             uint32_t own_id, const CallerIds& caller,
                                             const std::vector<os::SubidRange>& ranges,
                                             const std::optional<std::string>& program) {
    if (!needs_map_helper(maps, own_id, caller.euid)) return std::optional<MapHelper>{};
    if (caller.user.empty())
        return fail(kind.field, "uid " + std::to_string(caller.euid) + " has no entry in the user database, which " +
                                    kind.helper + " needs to look up its subordinate ids",
                    ENOENT);
    HRUN_TRY(check_delegated_ids(maps, ranges, own_id, caller.user, kind.field, kind.file));
    if (!program)
        return fail(kind.field, std::string("mapping more than your own ") + kind.id_word + " needs " + kind.helper +
                                    " (Debian package uidmap)",
                    ENOENT);
    return std::optional<MapHelper>(helper_for(*program, maps));
}

bool any_in_ranges(const std::vector<spec::IdMapping>& maps, const std::vector<os::SubidRange>& ranges) {
    for (const auto& m : maps) {
        const uint64_t end = uint64_t(m.hostID) + m.size;
        for (const os::SubidRange& r : ranges)
            if (m.size > 0 && m.hostID >= r.start && end <= uint64_t(r.start) + r.count) return true;
    }
    return false;
}

int64_t monotonic_ms() {
    struct timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

bool needs_map_helper(const std::vector<spec::IdMapping>& maps, uint32_t own_id, uid_t euid) {
    if (euid == 0 || maps.empty()) return false;
    return !(maps.size() == 1 && maps[0].hostID == own_id && maps[0].size == 1);
}

Status check_delegated_ids(const std::vector<spec::IdMapping>& maps, const std::vector<os::SubidRange>& ranges,
                           uint32_t own_id, std::string_view user, std::string_view field, std::string_view file) {
    for (std::size_t i = 0; i < maps.size(); ++i) {
        const auto& m = maps[i];
        if (os::subid_allows(ranges, own_id, m.hostID, m.size)) continue;
        return fail(std::string(field) + "[" + std::to_string(i) + "]",
                    id_range_text(m.hostID, m.size) + " not delegated to user \"" + std::string(user) + "\" in " +
                        std::string(file),
                    EPERM);
    }
    return ok();
}

Result<IdMapPlan> plan_id_maps(const spec::Linux& linux, const CallerIds& caller) {
    IdMapPlan plan;
    auto uid_helper = HRUN_TRY(plan_helper(kUid, linux.uidMappings, caller.euid, caller, caller.subuids,
                                           caller.newuidmap));
    auto gid_helper = HRUN_TRY(plan_helper(kGid, linux.gidMappings, caller.egid, caller, caller.subgids,
                                           caller.newgidmap));
    if (uid_helper) plan.uid_helper = std::move(*uid_helper);
    else plan.uid_map = kernel_map_text(linux.uidMappings);
    if (gid_helper) {
        plan.gid_helper = std::move(*gid_helper);
        // newgidmap's rule: setgroups stays allowed once a range comes from /etc/subgid.
        plan.deny_setgroups = !any_in_ranges(linux.gidMappings, caller.subgids);
    } else {
        plan.gid_map = kernel_map_text(linux.gidMappings);
        // Without CAP_SETGID in the parent namespace the kernel only accepts a gid map once
        // setgroups(2) is denied in the child's namespace.
        plan.deny_setgroups = caller.euid != 0;
    }
    return plan;
}

Result<CallerIds> load_caller_ids(const spec::Linux& linux, uid_t euid, gid_t egid) {
    CallerIds caller;
    caller.euid = euid;
    caller.egid = egid;
    const bool uids = needs_map_helper(linux.uidMappings, euid, euid);
    const bool gids = needs_map_helper(linux.gidMappings, egid, euid);
    if (!uids && !gids) return caller;
    if (auto user = os::lookup_user(std::to_string(euid))) caller.user = user->name;
    const char* path_env = std::getenv("PATH");
    if (uids) {
        caller.subuids = HRUN_TRY(os::read_subid_ranges(os::kSubuidFile, caller.user, euid));
        caller.newuidmap = find_program("newuidmap", path_env);
    }
    if (gids) {
        caller.subgids = HRUN_TRY(os::read_subid_ranges(os::kSubgidFile, caller.user, euid));
        caller.newgidmap = find_program("newgidmap", path_env);
    }
    return caller;
}

std::optional<std::string> find_program(std::string_view name, const char* path_env) {
    std::string dirs = path_env && *path_env ? std::string(path_env) + ":" : std::string();
    dirs += "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
    std::size_t pos = 0;
    while (pos <= dirs.size()) {
        std::size_t end = dirs.find(':', pos);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(pos, end - pos);
        pos = end + 1;
        if (dir.empty() || dir[0] != '/') continue;  // a relative PATH entry would depend on the cwd
        std::string candidate = dir + "/" + std::string(name);
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

Status run_map_helper(const MapHelper& helper, pid_t pid, std::string_view field, std::chrono::milliseconds timeout) {
    const std::string name = helper.program.substr(helper.program.rfind('/') + 1);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail_errno("cannot run " + name, std::string(field));
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);

    std::vector<std::string> words{helper.program, std::to_string(pid)};
    words.insert(words.end(), helper.args.begin(), helper.args.end());
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
    // hrun blocks signals while it creates a container; the helper must start with none blocked.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t child = -1;
    int rc = ::posix_spawn(&child, helper.program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return fail(std::string(field), "cannot run " + helper.program, rc);
    write_end.reset();

    // Its stderr until EOF (it exited) or the deadline.
    std::string err_text;
    const int64_t deadline = monotonic_ms() + timeout.count();
    bool timed_out = false;
    for (;;) {
        const int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{read_end.get(), POLLIN, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        char buf[512];
        ssize_t got = ::read(read_end.get(), buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (err_text.size() < 4096) err_text.append(buf, static_cast<std::size_t>(got));
    }
    int status = 0;
    if (timed_out) {
        ::kill(child, SIGKILL);
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return fail(std::string(field), name + " did not finish within " + std::to_string(timeout.count()) + " ms",
                    ETIMEDOUT);
    }
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return fail_errno("cannot wait for " + name, std::string(field));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ok();
    std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    err_text = trimmed(err_text);
    return fail(std::string(field), name + " failed (" + why + ")" + (err_text.empty() ? "" : ": " + err_text), EPERM);
}

}  // namespace hrun::create
