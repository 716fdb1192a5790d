#include "linux/procfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace hrun::os {

namespace {
constexpr ino_t kProcRootIno = 1;

bool on_procfs(int fd) noexcept {
    struct statfs sfs;
    return ::fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}
}  // namespace

Result<UniqueFd> open_verified_procfs() {
    UniqueFd fd(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open /proc");
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return fail_errno("cannot stat /proc");
    if (!on_procfs(fd.get()) || st.st_ino != kProcRootIno)
        return fail("", "/proc is not the root of a proc filesystem (over-mounted?)", EXDEV);
    return fd;
}

int procfs_open(int procfd, const char* relpath, int flags) noexcept {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = static_cast<unsigned>(flags) | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    int fd = static_cast<int>(::syscall(SYS_openat2, procfd, relpath, &how, sizeof how));
    if (fd < 0) return -errno;
    if (!on_procfs(fd)) {
        ::close(fd);
        return -EXDEV;
    }
    return fd;
}

Result<std::string> procfs_read(int procfd, const char* relpath) {
    int fd = procfs_open(procfd, relpath, O_RDONLY);
    if (fd < 0) return fail("", std::string("cannot open /proc/") + relpath, -fd);
    UniqueFd owner(fd);
    std::string text;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno(std::string("cannot read /proc/") + relpath);
        if (n == 0) return text;
        text.append(buf, static_cast<std::size_t>(n));
    }
}

int procfs_write(int procfd, const char* relpath, const char* data, std::size_t len) noexcept {
    int fd = procfs_open(procfd, relpath, O_WRONLY);
    if (fd < 0) return fd;
    ssize_t n = ::write(fd, data, len);
    int err = n < 0 ? errno : (static_cast<std::size_t>(n) == len ? 0 : EIO);
    ::close(fd);
    return -err;
}

}  // namespace hrun::os
