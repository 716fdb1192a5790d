// exec_process: from the start barrier to execve, in the container process.
//
// The order follows runc: the LSM label first (the last step that needs the host /proc), then
// hrun's own fds closed, no_new_privs, the bounding set, groups and gid, seccomp while still
// privileged when no_new_privs is off (installing a filter then needs CAP_SYS_ADMIN, which the
// uid change takes away), then uid and capabilities, the working directory and the program
// lookup, both inside the container's root; with no_new_privs, seccomp comes last so that only
// execve runs under it.
//
// Without no_new_privs the container's filter judges every later syscall of hrun's, and the
// profile was written for the container, often before some syscalls existed (openat2,
// close_range, clone3, faccessat2 are missing from older Docker and containerd profiles and
// from runtime-tools' generator; they answer EPERM, or ENOSYS through the compiled prologue).
// So under the filter hrun needs only what runc itself makes there and any profile that runs
// a runc container must allow: prctl, setresuid, capset, chdir, getcwd, openat, close, execve
// and the report on the sync socket. Everything newer is tried first and falls back to those
// when the filter refuses it; fds are closed and signals unblocked before the filter.
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "process/child_text.hpp"
#include "process/process_internal.hpp"

namespace hrun::process {

namespace {

constexpr int kFirstInheritableFd = 3;  // after stdin, stdout, stderr

// The answer of a seccomp filter that does not allow a syscall (EPERM, the usual default, or
// ENOSYS for syscalls newer than the profile), or of a kernel that lacks it. No lookup made
// here gets EPERM for any other reason.
bool refused(int err) noexcept { return err == EPERM || err == ENOSYS; }

// --- lookups inside the container's root ---

// openat2 from `rootfd` ("/", the container's root: we are past pivot_root) that cannot leave
// it: ".." and absolute symlinks stay in it, and /proc/self/fd/N style magic links, which can
// point anywhere, are refused.
int open_in_root(int rootfd, const char* path, unsigned long long flags) noexcept {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
        int fd = static_cast<int>(::syscall(SYS_openat2, rootfd, path, &how, sizeof how));
        // EAGAIN: a concurrent rename made the kernel give up on a safe ".." walk; try again.
        if (fd >= 0 || errno != EAGAIN || attempt == 8) return fd;
    }
}

int open_root() noexcept { return ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC); }

// --- working directory ---

ChildStatus cwd_open_failed(const char* cwd, int err) noexcept {
    switch (err) {
        case ENOENT: return detail::fail_quoted("process.cwd", cwd, " does not exist", err);
        case ENOTDIR: return detail::fail_quoted("process.cwd", cwd, " is not a directory", err);
        case ELOOP:
        case EXDEV:
            return detail::fail_quoted("process.cwd", cwd, " is not inside the container", err);
        case EACCES: return detail::fail_quoted("process.cwd", cwd, " is not accessible", err);
        default: return detail::fail_quoted("process.cwd", cwd, " cannot be opened", err);
    }
}

// 0 when the working directory lies below the process root, else an errno. The raw syscall:
// glibc's getcwd hides the "(unreachable)" answer behind ENOENT.
int cwd_reachable() noexcept {
    char actual[PATH_MAX];
    if (::syscall(SYS_getcwd, actual, sizeof actual) < 0) return errno;
    return actual[0] == '/' ? 0 : EXDEV;
}

// When the filter refuses openat2 (or fchdir): a plain chdir as the container user, as runc
// does, and then getcwd must show the result inside the root. A walk by path can follow a
// magic link out; with hrun's fds closed only the caller's stdio and preserved fds, and other
// processes' /proc entries, are left to follow, and getcwd tells. Without openat2 there is no
// other proof, so a filter that refuses getcwd as well refuses the working directory.
ChildStatus enter_cwd_by_path(const char* cwd) noexcept {
    if (::chdir(cwd) != 0) {
        const int err = errno;
        if (err == EACCES || err == ENOENT || err == ENOTDIR) return cwd_open_failed(cwd, err);
        return detail::fail_quoted("process.cwd", cwd, " cannot be entered", err);
    }
    const int err = cwd_reachable();
    if (err == EXDEV)
        return detail::fail_quoted("process.cwd", cwd, " is not inside the container", err);
    if (refused(err))
        return detail::fail_quoted(
            "process.cwd", cwd,
            " cannot be checked: linux.seccomp allows neither openat2 nor getcwd", err);
    if (err != 0) return detail::fail_quoted("process.cwd", cwd, " cannot be read back", err);
    return child_ok();
}

// CVE-2024-21626: a working directory reached through a leaked fd lies outside the container,
// and the process would start with the host's filesystem in reach. The path is resolved inside
// the root, then the kernel's view of the result is checked: getcwd(2) marks a directory that is
// not below the process root "(unreachable)".
ChildStatus enter_cwd(const ProcessPlan& plan, int rootfd) noexcept {
    const char* cwd = plan.cwd.c_str();
    // The root itself (the usual case): nothing to resolve, and it cannot lie outside.
    if (cwd[0] == '/' && cwd[1] == '\0') {
        if (::chdir("/") != 0)
            return detail::fail_quoted("process.cwd", cwd, " cannot be entered", errno);
        return child_ok();
    }
    int fd = open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY);
    int err = errno;
    if (fd < 0) return refused(err) ? enter_cwd_by_path(cwd) : cwd_open_failed(cwd, err);
    // fchdir checks search permission as the container user, as chdir(2) would.
    int rc = ::fchdir(fd);
    err = errno;
    ::close(fd);
    if (rc != 0) {
        if (refused(err)) return enter_cwd_by_path(cwd);
        if (err == EACCES)
            return detail::fail_quoted("process.cwd", cwd, " is not accessible", err);
        return detail::fail_quoted("process.cwd", cwd, " cannot be entered", err);
    }
    // openat2 kept the walk inside the root already: a filter that refuses getcwd only takes
    // the second opinion away.
    err = cwd_reachable();
    if (err == EXDEV)
        return detail::fail_quoted("process.cwd", cwd, " is not inside the container", err);
    if (err != 0 && !refused(err))
        return detail::fail_quoted("process.cwd", cwd, " cannot be read back", err);
    return child_ok();
}

// --- file descriptors ---

// CVE-2024-21626 ("attack 3"): the kernel resolves the program, its `#!` interpreter and its ELF
// interpreter during execve, before close-on-exec fds are closed. A program or interpreter named
// /proc/self/fd/N/../../.. would walk out of the container through any directory fd hrun still
// holds (state directory, host /proc, cgroup and namespace fds). So every fd of hrun's is closed
// here, not only marked close-on-exec: only stdio, the caller's fds 3..3+N-1 (--preserve-fds)
// and the sync socket remain. The socket reports a failure up to execve and closes with it (it
// is close-on-exec); a socket cannot be walked through. Called once the host /proc is no longer
// needed: it is closed too.
ChildStatus close_runtime_fds(const ProcessPlan& plan, int procfd, int sync_fd) noexcept {
    const int first_closed = kFirstInheritableFd + plan.preserve_fds;
    // The caller checked 3..3+N-1 were open before hrun opened anything, so none of hrun's fds
    // can sit there; refuse rather than hand one over.
    if ((procfd >= kFirstInheritableFd && procfd < first_closed) ||
        (sync_fd >= kFirstInheritableFd && sync_fd < first_closed))
        return child_fail("", "an fd of hrun's is in the --preserve-fds range", EBADF);
    for (int fd = kFirstInheritableFd; fd < first_closed; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
            char message[sizeof(ChildError::message)] = "cannot pass fd ";
            detail::append_decimal(message, sizeof message, fd);
            append_cstr(message, sizeof message, " to the process (--preserve-fds)");
            return child_fail("", message, errno);
        }
    }
    // [first_closed, sync_fd) and (sync_fd, ~0]; sync_fd < first_closed only without one.
    const unsigned keep = sync_fd >= first_closed ? static_cast<unsigned>(sync_fd) : ~0U;
    long rc = 0;
    if (keep > static_cast<unsigned>(first_closed))
        rc = ::syscall(SYS_close_range, first_closed, keep - 1, 0U);
    if (rc == 0 && keep != ~0U) rc = ::syscall(SYS_close_range, keep + 1, ~0U, 0U);
    if (rc == 0) return child_ok();
    if (errno != ENOSYS) return child_fail("", "cannot close hrun's fds before exec", errno);
    // Kernels before 5.9: every possible fd, one by one.
    struct rlimit nofile;
    rlim_t limit = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? nofile.rlim_cur : 1024;
    if (limit > (1u << 20)) limit = 1u << 20;
    for (rlim_t fd = static_cast<rlim_t>(first_closed); fd < limit; ++fd)
        if (static_cast<int>(fd) != sync_fd) (void)::close(static_cast<int>(fd));
    return child_ok();
}

// --- program lookup ---

// 0 when `path` names, inside the container's root, a regular file this process may execute;
// else an errno (ELOOP or EXDEV: it leads out of the root or through a magic link). A relative
// path is taken from process.cwd, which the process has entered (or will) through the same
// lookup. execve then uses the path itself: a `#!` script cannot run from a close-on-exec fd,
// and with hrun's fds closed the kernel's second walk of the path has no way out either.
// Under a filter that refuses a step (openat2, faccessat2, even fstat), the step falls back to
// an older call or is left to execve, whose own walk and checks are the same: the lookup is
// there for a clear report, not for containment. A refused openat as well gives that errno.
int check_executable(int rootfd, const ProcessPlan& plan, const char* path) noexcept {
    char joined[2 * PATH_MAX];
    if (path[0] != '/') {
        const std::size_t cwd_len = plan.cwd.size();
        const std::size_t path_len = ::strlen(path);
        if (cwd_len + 1 + path_len >= sizeof joined) return ENAMETOOLONG;
        std::memcpy(joined, plan.cwd.c_str(), cwd_len);
        joined[cwd_len] = '/';
        std::memcpy(joined + cwd_len + 1, path, path_len + 1);
        path = joined;
    }
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd < 0 && refused(errno)) {
        // The root is the process root: an absolute path is resolved from it, as execve will.
        fd = ::open(path, O_PATH | O_CLOEXEC);
    }
    if (fd < 0) return errno;
    int err = 0;
    struct stat st;
    if (::fstat(fd, &st) != 0) err = refused(errno) ? 0 : errno;
    else if (!S_ISREG(st.st_mode)) err = EACCES;
    if (err == 0 &&
        ::syscall(SYS_faccessat2, fd, "", X_OK, AT_EACCESS | AT_EMPTY_PATH) != 0) {
        err = errno;
        // faccessat(2) has no flags: it checks the real ids, which equal the effective ones
        // here (setresuid set all three), and needs the path.
        if (refused(err))
            err = ::syscall(SYS_faccessat, AT_FDCWD, path, X_OK) == 0 || refused(errno) ? 0 : errno;
    }
    ::close(fd);
    return err;
}

// Finds the program as execvp(3) would, without allocating: a name with a slash is used as it
// is; otherwise each directory of the container's PATH is tried in turn (an empty entry means
// the working directory). Done before seccomp with no_new_privs, so that a missing program is
// still reported when the filter would deny the report; only execve runs after the filter.
ChildStatus find_program(const ProcessPlan& plan, int rootfd, char* out, std::size_t size) noexcept {
    const char* name = plan.args.data()[0];
    const std::size_t name_len = ::strlen(name);
    if (::strchr(name, '/') != nullptr) {
        if (name_len >= size)
            return detail::fail_quoted("process.args[0]", name, " is too long", ENAMETOOLONG);
        copy_cstr(out, size, name);
        int err = check_executable(rootfd, plan, out);
        if (err == ENOENT)
            return detail::fail_quoted("process.args[0]", name, " does not exist", err);
        if (err == ELOOP || err == EXDEV)
            return detail::fail_quoted("process.args[0]", name, " is not inside the container", err);
        // A filter that refuses even openat: execve, which needs no lookup, says the rest.
        if (err != 0 && !refused(err))
            return detail::fail_quoted("process.args[0]", name, " cannot execute", err);
        return child_ok();
    }
    bool denied = false;
    const char* dir = plan.path_search.c_str();
    for (;;) {
        const char* end = ::strchrnul(dir, ':');
        const std::size_t dir_len = static_cast<std::size_t>(end - dir);
        if (dir_len + 1 + name_len < size) {
            std::size_t len = 0;
            if (dir_len == 0) {
                out[len++] = '.';
            } else {
                std::memcpy(out, dir, dir_len);
                len = dir_len;
            }
            out[len++] = '/';
            std::memcpy(out + len, name, name_len + 1);
            int err = check_executable(rootfd, plan, out);
            if (err == 0) return child_ok();
            if (err == EACCES) denied = true;
            if (refused(err))
                return detail::fail_quoted("process.args[0]", name,
                                           " cannot be looked up in PATH: linux.seccomp refuses openat",
                                           err);
        }
        if (*end == '\0') break;
        dir = end + 1;
    }
    if (denied) return detail::fail_quoted("process.args[0]", name, " cannot execute", EACCES);
    return detail::fail_quoted("process.args[0]", name, " not found in PATH", ENOENT);
}

// --- the sequence ---

// hrun blocks signals around clone; the container starts with none blocked. (Dispositions were
// reset to default right after clone.) Before the filter, which may deny sigprocmask.
ChildStatus unblock_signals() noexcept {
    sigset_t none;
    ::sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
        return child_fail("", "cannot unblock signals", errno);
    return child_ok();
}

ChildStatus load_filter(const security::SeccompProgram* seccomp) noexcept {
    return seccomp != nullptr ? security::load_seccomp(*seccomp) : child_ok();
}

}  // namespace

ChildStatus check_program(const ProcessPlan& plan) noexcept {
    int rootfd = open_root();
    if (rootfd < 0) return child_fail("process.args[0]", "cannot open the container's root", errno);
    char program[PATH_MAX];
    ChildStatus found = find_program(plan, rootfd, program, sizeof program);
    ::close(rootfd);
    return found;
}

ChildStatus exec_process(const ProcessPlan& plan, const security::SeccompProgram* seccomp,
                         int procfd, int sync_fd) noexcept {
    HRUN_CHILD_TRY(apply_lsm_labels(plan, procfd));  // the last use of the host /proc
    // Before any filter: a profile need not allow close_range for hrun's sake.
    HRUN_CHILD_TRY(close_runtime_fds(plan, procfd, sync_fd));
    if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return child_fail("process.noNewPrivileges", "cannot set no_new_privs", errno);
    // Nothing of these drops CAP_SYS_ADMIN from the effective set: all before the filter.
    HRUN_CHILD_TRY(drop_bounding_set(plan));
    HRUN_CHILD_TRY(switch_groups(plan));
    if (!plan.no_new_privileges) {
        HRUN_CHILD_TRY(unblock_signals());
        HRUN_CHILD_TRY(load_filter(seccomp));
    }

    HRUN_CHILD_TRY(switch_user(plan));
    HRUN_CHILD_TRY(set_capabilities(plan));

    // After the uid change: the container user must be able to reach its working directory
    // and execute its program.
    int rootfd = open_root();
    if (rootfd < 0) return child_fail("process.cwd", "cannot open the container's root", errno);
    ChildStatus entered = enter_cwd(plan, rootfd);
    char program[PATH_MAX];
    if (entered) entered = find_program(plan, rootfd, program, sizeof program);
    ::close(rootfd);
    if (!entered) return entered;

    if (plan.no_new_privileges) {
        HRUN_CHILD_TRY(unblock_signals());
        HRUN_CHILD_TRY(load_filter(seccomp));
    }
    ::execve(program, plan.args.data(), plan.env.data());
    return detail::fail_quoted("process.args[0]", plan.args.data()[0], " cannot execute", errno);
}

}  // namespace hrun::process
