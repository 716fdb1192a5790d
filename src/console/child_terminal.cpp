// The container side of process.terminal: a pty from the container's own devpts, wired up as
// the process's stdio, controlling terminal and /dev/console. Runs between clone and exec:
// no allocation, no exceptions, errors as ChildStatus.
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "console/console.hpp"
#include "linux/procfs.hpp"

namespace hrun::console {

TerminalPlan plan_terminal(const spec::Process& process) {
    TerminalPlan plan;
    plan.enabled = process.terminal;
    if (process.consoleSize && process.consoleSize->height != 0 && process.consoleSize->width != 0) {
        plan.rows = static_cast<unsigned short>(process.consoleSize->height);
        plan.cols = static_cast<unsigned short>(process.consoleSize->width);
    }
    return plan;
}

namespace {

constexpr const char* kField = "process.terminal";

// The ptmx node every devpts instance has (fs/devpts: inode 2, device TTYAUX_MAJOR:2).
constexpr unsigned kPtmxMajor = 5;
constexpr unsigned kPtmxMinor = 2;
constexpr ino_t kPtmxInode = 2;

int sys_openat2(int dirfd, const char* path, int flags, mode_t mode, unsigned long long resolve) noexcept {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
    how.mode = mode;
    how.resolve = resolve;
    long r = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return r < 0 ? -errno : static_cast<int>(r);
}

// Paths in the container are resolved from its root without leaving it and without jumping
// through /proc magic links.
constexpr unsigned long long kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

// Decimal text of a non-negative fd into buf (at least 12 bytes).
void format_fd(int fd, char* buf) noexcept {
    char digits[12];
    int n = 0;
    for (unsigned v = static_cast<unsigned>(fd); n == 0 || v != 0; v /= 10) digits[n++] = static_cast<char>('0' + v % 10);
    int i = 0;
    while (n > 0) buf[i++] = digits[--n];
    buf[i] = '\0';
}

// Moves fd to a number >= 3 (CLOEXEC), so that filling 0, 1 and 2 cannot clobber it.
int lift_fd(int fd) noexcept {
    if (fd >= 3) return fd;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    ::close(fd);
    return moved >= 0 ? moved : -err;
}

// The checks a ptmx node must pass before we open it; each failure has its own message.
const char* ptmx_problem(int fd, int& err) noexcept {
    struct statfs sfs;
    struct stat st;
    if (::fstatfs(fd, &sfs) != 0 || ::fstat(fd, &st) != 0) {
        err = errno;
        return "cannot inspect /dev/pts/ptmx";
    }
    err = EXDEV;
    if (sfs.f_type != DEVPTS_SUPER_MAGIC) return "/dev/pts/ptmx is not on a devpts filesystem";
    err = ENOTTY;
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != kPtmxMajor || minor(st.st_rdev) != kPtmxMinor ||
        st.st_ino != kPtmxInode)
        return "/dev/pts/ptmx is not the ptmx device of its devpts";
    return nullptr;
}

// A new pty master, from the verified ptmx inode of the container's devpts.
ChildStatus open_master(int rootfd, int fd_dir, int& master) noexcept {
    int handle = sys_openat2(rootfd, "dev/pts/ptmx", O_PATH | O_NOFOLLOW, 0, kInRoot);
    if (handle < 0) return child_fail(kField, "cannot find /dev/pts/ptmx (is a devpts mounted on /dev/pts?)", -handle);
    UniqueFd ptmx(handle);
    int err = 0;
    if (const char* problem = ptmx_problem(ptmx.get(), err)) return child_fail(kField, problem, err);

    // Re-open the inode we checked (not the path again: it could have changed since).
    char name[12];
    format_fd(ptmx.get(), name);
    int fd = ::openat(fd_dir, name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return child_fail(kField, "cannot open /dev/pts/ptmx", errno);
    UniqueFd opened(fd);
    struct stat a, b;
    if (::fstat(ptmx.get(), &a) != 0 || ::fstat(opened.get(), &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return child_fail(kField, "/dev/pts/ptmx changed while it was opened", EXDEV);

    int lifted = lift_fd(opened.release());
    if (lifted < 0) return child_fail(kField, "cannot move the pty master", -lifted);
    master = lifted;
    return child_ok();
}

// The slave of `master`, opened through the master itself: no /dev/pts/N path to race on.
ChildStatus open_slave(int master, int& slave) noexcept {
    int unlock = 0;
    if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) return child_fail(kField, "cannot unlock the pty", errno);
    int fd = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return child_fail(kField, "cannot open the pty slave (TIOCGPTPEER)", errno);
    int lifted = lift_fd(fd);
    if (lifted < 0) return child_fail(kField, "cannot move the pty slave", -lifted);
    slave = lifted;
    return child_ok();
}

// /dev/console as a mount point: the existing file (not a symlink), or a new empty 0666 file.
ChildStatus open_console_target(int rootfd, int& target) noexcept {
    int fd = sys_openat2(rootfd, "dev/console", O_PATH | O_NOFOLLOW, 0, kInRoot);
    if (fd == -ENOENT) {
        int dev = sys_openat2(rootfd, "dev", O_PATH | O_DIRECTORY, 0, kInRoot);
        if (dev < 0) return child_fail(kField, "cannot open /dev", -dev);
        UniqueFd dev_dir(dev);
        fd = ::openat(dev_dir.get(), "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0666);
        if (fd < 0) return child_fail(kField, "cannot create /dev/console", errno);
        // The umask may have taken bits away; the console is for everyone, as in runc.
        if (::fchmod(fd, 0666) != 0) {
            int err = errno;
            ::close(fd);
            return child_fail(kField, "cannot chmod /dev/console", err);
        }
    } else if (fd < 0) {
        return child_fail(kField, "cannot open /dev/console", -fd);
    }
    UniqueFd console(fd);
    struct stat st;
    if (::fstat(console.get(), &st) != 0) return child_fail(kField, "cannot stat /dev/console", errno);
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        return child_fail(kField, "/dev/console is neither a file nor a device (a symlink?)", ENOTTY);
    target = console.release();
    return child_ok();
}

// mount(2) on two fds: both named as "N" relative to the verified self/fd directory, which is
// made the cwd for the call (mount(2) has no dirfd). The cwd goes back to the container's "/".
int legacy_bind(int fd_dir, int rootfd, int source, int target) noexcept {
    char src[12], dst[12];
    format_fd(source, src);
    format_fd(target, dst);
    if (::fchdir(fd_dir) != 0) return -errno;
    int rc = ::mount(src, dst, nullptr, MS_BIND, nullptr) == 0 ? 0 : -errno;
    if (::fchdir(rootfd) != 0 && rc == 0) rc = -errno;
    return rc;
}

ChildStatus mount_console(const TerminalPlan& plan, int rootfd, int fd_dir, int slave) noexcept {
    int target_fd = -1;
    HRUN_CHILD_TRY(open_console_target(rootfd, target_fd));
    UniqueFd target(target_fd);

    int rc = -ENOSYS;
    if (!plan.legacy_mount) {
        long tree = ::syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree >= 0) {
            UniqueFd detached(static_cast<int>(tree));
            rc = ::syscall(SYS_move_mount, detached.get(), "", target.get(), "",
                           MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) == 0
                     ? 0
                     : -errno;
        } else {
            rc = -errno;
        }
    }
    if (rc == -ENOSYS) rc = legacy_bind(fd_dir, rootfd, slave, target.get());
    if (rc < 0) return child_fail(kField, "cannot bind the pty onto /dev/console", -rc);
    return child_ok();
}

// The slave becomes the controlling terminal of a new session, and the process's stdio.
ChildStatus attach_stdio(int slave) noexcept {
    if (::setsid() < 0 && !(errno == EPERM && ::getsid(0) == ::getpid()))
        return child_fail(kField, "cannot start a new session", errno);
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) return child_fail(kField, "cannot make the pty the controlling terminal", errno);
    for (int target = 0; target <= 2; ++target)
        if (::dup2(slave, target) < 0) return child_fail(kField, "cannot make the pty the standard streams", errno);
    return child_ok();
}

}  // namespace

ChildStatus setup_terminal(const TerminalPlan& plan, int procfd, int* master_out) noexcept {
    if (master_out != nullptr) *master_out = -1;
    if (!plan.enabled) return child_ok();
    if (master_out == nullptr) return child_fail(kField, "no place for the pty master", EINVAL);

    int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) return child_fail(kField, "cannot open /", errno);
    UniqueFd rootfd(root);
    // O_RDONLY, not O_PATH: procfs_open adds O_NOCTTY, which openat2 refuses next to O_PATH.
    int dir = os::procfs_open(procfd, "self/fd", O_RDONLY | O_DIRECTORY);
    if (dir < 0) return child_fail(kField, "cannot open /proc/self/fd", -dir);
    UniqueFd fd_dir(dir);

    int master_fd = -1, slave_fd = -1;
    HRUN_CHILD_TRY(open_master(rootfd.get(), fd_dir.get(), master_fd));
    UniqueFd master(master_fd);
    HRUN_CHILD_TRY(open_slave(master.get(), slave_fd));
    UniqueFd slave(slave_fd);

    if (plan.rows != 0 && plan.cols != 0) {
        struct winsize ws;
        std::memset(&ws, 0, sizeof ws);
        ws.ws_row = plan.rows;
        ws.ws_col = plan.cols;
        if (::ioctl(master.get(), TIOCSWINSZ, &ws) != 0)
            return child_fail("process.consoleSize", "cannot set the terminal size", errno);
    }
    if (plan.mount_console) HRUN_CHILD_TRY(mount_console(plan, rootfd.get(), fd_dir.get(), slave.get()));
    HRUN_CHILD_TRY(attach_stdio(slave.get()));

    *master_out = master.release();
    return child_ok();  // `slave` closes here; 0, 1 and 2 keep the pty open
}

}  // namespace hrun::console
