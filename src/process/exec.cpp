// exec_process: from the start barrier to execve, in the container process.
//
// The order follows runc: the LSM label and no_new_privs first, seccomp while still privileged
// when no_new_privs is off (installing a filter then needs CAP_SYS_ADMIN), then the privilege
// drop (bounding set, groups, gid, uid, capabilities), the working directory, fd hygiene and
// the program lookup; with no_new_privs, seccomp comes last so that only execve runs under it.
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

// --- working directory ---

int open_in_root(int rootfd, const char* path) noexcept {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    // "/" is the container's root (we are past pivot_root): ".." and absolute symlinks stay in
    // it, and /proc/self/fd/N style magic links, which can point anywhere, are refused.
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
        int fd = static_cast<int>(::syscall(SYS_openat2, rootfd, path, &how, sizeof how));
        // EAGAIN: a concurrent rename made the kernel give up on a safe ".." walk; try again.
        if (fd >= 0 || errno != EAGAIN || attempt == 8) return fd;
    }
}

// CVE-2024-21626: a working directory reached through a leaked fd lies outside the container,
// and the process would start with the host's filesystem in reach. The path is resolved inside
// the root, then the kernel's view of the result is checked: getcwd(2) marks a directory that is
// not below the process root "(unreachable)".
ChildStatus enter_cwd(const ProcessPlan& plan) noexcept {
    const char* cwd = plan.cwd.c_str();
    int rootfd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return child_fail("process.cwd", "cannot open the container's root", errno);
    int fd = open_in_root(rootfd, cwd);
    int err = errno;
    ::close(rootfd);
    if (fd < 0) {
        switch (err) {
            case ENOENT: return detail::fail_quoted("process.cwd", cwd, " does not exist", err);
            case ENOTDIR:
                return detail::fail_quoted("process.cwd", cwd, " is not a directory", err);
            case ELOOP:
            case EXDEV:
                return detail::fail_quoted("process.cwd", cwd, " is not inside the container", err);
            case EACCES: return detail::fail_quoted("process.cwd", cwd, " is not accessible", err);
            default: return detail::fail_quoted("process.cwd", cwd, " cannot be opened", err);
        }
    }
    // fchdir checks search permission as the container user, as chdir(2) would.
    int rc = ::fchdir(fd);
    err = errno;
    ::close(fd);
    if (rc != 0) {
        if (err == EACCES)
            return detail::fail_quoted("process.cwd", cwd, " is not accessible", err);
        return detail::fail_quoted("process.cwd", cwd, " cannot be entered", err);
    }
    // The raw syscall: glibc's getcwd hides the "(unreachable)" answer behind ENOENT.
    char actual[PATH_MAX];
    if (::syscall(SYS_getcwd, actual, sizeof actual) < 0)
        return detail::fail_quoted("process.cwd", cwd, " cannot be read back", errno);
    if (actual[0] != '/')
        return detail::fail_quoted("process.cwd", cwd, " is not inside the container", EXDEV);
    return child_ok();
}

// --- file descriptors ---

// fds 3..3+N-1 are handed to the process; every other fd above stderr closes at execve. They
// are marked close-on-exec rather than closed: hrun's sync socket must stay open until execve
// has succeeded, to report a failure of the steps in between.
ChildStatus set_fd_inheritance(const ProcessPlan& plan, int procfd) noexcept {
    const int first_closed = kFirstInheritableFd + plan.preserve_fds;
    if (procfd >= kFirstInheritableFd && procfd < first_closed)
        return child_fail("", "hrun's /proc fd is in the --preserve-fds range", EBADF);
    for (int fd = kFirstInheritableFd; fd < first_closed; ++fd) {
        int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
            char message[sizeof(ChildError::message)] = "cannot pass fd ";
            detail::append_decimal(message, sizeof message, fd);
            append_cstr(message, sizeof message, " to the process (--preserve-fds)");
            return child_fail("", message, errno);
        }
    }
    if (::syscall(SYS_close_range, first_closed, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return child_ok();
    if (errno != ENOSYS && errno != EINVAL)
        return child_fail("", "cannot mark inherited fds close-on-exec", errno);
    // Kernels before 5.11: every possible fd, one by one.
    struct rlimit nofile;
    rlim_t limit = ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? nofile.rlim_cur : 1024;
    if (limit > (1u << 20)) limit = 1u << 20;
    for (rlim_t fd = static_cast<rlim_t>(first_closed); fd < limit; ++fd)
        (void)::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    return child_ok();
}

// --- program lookup ---

// 0 when `path` is a regular file this process may execute, else an errno.
int check_executable(const char* path) noexcept {
    struct stat st;
    if (::stat(path, &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return EACCES;
    if (::faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) != 0) return errno;
    return 0;
}

// Finds the program as execvp(3) would, without allocating: a name with a slash is used as it
// is; otherwise each directory of the container's PATH is tried in turn (an empty entry means
// the working directory). Done before seccomp with no_new_privs, so that a missing program is
// still reported when the filter would deny the report; only execve runs after the filter.
ChildStatus find_program(const ProcessPlan& plan, char* out, std::size_t size) noexcept {
    const char* name = plan.args.data()[0];
    const std::size_t name_len = ::strlen(name);
    if (::strchr(name, '/') != nullptr) {
        if (name_len >= size)
            return detail::fail_quoted("process.args[0]", name, " is too long", ENAMETOOLONG);
        copy_cstr(out, size, name);
        int err = check_executable(out);
        if (err == ENOENT)
            return detail::fail_quoted("process.args[0]", name, " does not exist", err);
        if (err != 0) return detail::fail_quoted("process.args[0]", name, " cannot execute", err);
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
            int err = check_executable(out);
            if (err == 0) return child_ok();
            if (err == EACCES) denied = true;
        }
        if (*end == '\0') break;
        dir = end + 1;
    }
    if (denied) return detail::fail_quoted("process.args[0]", name, " cannot execute", EACCES);
    return detail::fail_quoted("process.args[0]", name, " not found in PATH", ENOENT);
}

// --- the sequence ---

ChildStatus load_filter(const security::SeccompProgram* seccomp) noexcept {
    return seccomp != nullptr ? security::load_seccomp(*seccomp) : child_ok();
}

}  // namespace

ChildStatus check_program(const ProcessPlan& plan) noexcept {
    char program[PATH_MAX];
    return find_program(plan, program, sizeof program);
}

ChildStatus exec_process(const ProcessPlan& plan, const security::SeccompProgram* seccomp,
                         int procfd) noexcept {
    HRUN_CHILD_TRY(apply_lsm_labels(plan, procfd));
    if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return child_fail("process.noNewPrivileges", "cannot set no_new_privs", errno);
    if (!plan.no_new_privileges) HRUN_CHILD_TRY(load_filter(seccomp));

    HRUN_CHILD_TRY(drop_bounding_set(plan));
    HRUN_CHILD_TRY(switch_credentials(plan));
    HRUN_CHILD_TRY(set_capabilities(plan));

    // After the uid change: the container user must be able to reach its working directory.
    HRUN_CHILD_TRY(enter_cwd(plan));
    HRUN_CHILD_TRY(set_fd_inheritance(plan, procfd));
    char program[PATH_MAX];
    HRUN_CHILD_TRY(find_program(plan, program, sizeof program));

    // hrun blocks signals around clone; the container starts with none blocked. (Dispositions
    // were reset to default right after clone.) Before the filter, which may deny sigprocmask.
    sigset_t none;
    ::sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0)
        return child_fail("", "cannot unblock signals", errno);

    if (plan.no_new_privileges) HRUN_CHILD_TRY(load_filter(seccomp));
    ::execve(program, plan.args.data(), plan.env.data());
    return detail::fail_quoted("process.args[0]", plan.args.data()[0], " cannot execute", errno);
}

}  // namespace hrun::process
