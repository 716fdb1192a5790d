#include "linux/root_file.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace hrun::os {

namespace {

const char* file_type(mode_t mode) {
    switch (mode & S_IFMT) {
        case S_IFDIR: return "a directory";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFIFO: return "a FIFO";
        case S_IFSOCK: return "a socket";
        case S_IFLNK: return "a symbolic link";
        default: return "not a regular file";
    }
}

}  // namespace

Result<UniqueFd> open_root_dir(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open the root directory \"" + path + "\"");
    return fd;
}

Result<UniqueFd> open_process_root(int procfd, pid_t pid) {
    // /proc/<pid>/root is a magic link: it must be followed here, which is why this is not
    // procfs_open. procfd is a verified procfs, so "<pid>/root" is the kernel's link.
    const std::string path = std::to_string(pid) + "/root";
    UniqueFd fd(::openat(procfd, path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open the root of process " + std::to_string(pid));
    return fd;
}

Result<std::string> read_file_in_root(int procfd, int rootfd, const char* relpath,
                                      std::size_t max_size) {
    const std::string name = std::string("/") + relpath;
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    UniqueFd path_fd(static_cast<int>(::syscall(SYS_openat2, rootfd, relpath, &how, sizeof how)));
    if (!path_fd) return fail_errno("cannot look up " + name + " in the container");
    struct stat st;
    if (::fstat(path_fd.get(), &st) != 0) return fail_errno("cannot stat " + name + " in the container");
    if (!S_ISREG(st.st_mode))
        return fail("", name + " in the container is " + file_type(st.st_mode) + ", not a regular file", EINVAL);
    if (static_cast<std::size_t>(st.st_size) > max_size)
        return fail("", name + " in the container is larger than " + std::to_string(max_size) + " bytes", EFBIG);

    // Reopen the inode the O_PATH fd holds, not the path: the path may have changed since.
    // O_NONBLOCK is belt and braces: the inode is a regular file, which never blocks on open.
    const std::string self_fd = "self/fd/" + std::to_string(path_fd.get());
    UniqueFd fd(::openat(procfd, self_fd.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open " + name + " in the container");
    struct stat opened;
    if (::fstat(fd.get(), &opened) != 0 || opened.st_dev != st.st_dev || opened.st_ino != st.st_ino ||
        !S_ISREG(opened.st_mode))
        return fail("", "cannot open " + name + " in the container: it changed while being opened", ESTALE);

    std::string text;
    text.reserve(static_cast<std::size_t>(st.st_size));
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read " + name + " in the container");
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        // It may grow while being read: the bound holds for what is read, not only for st_size.
        if (text.size() > max_size)
            return fail("", name + " in the container is larger than " + std::to_string(max_size) + " bytes", EFBIG);
    }
    return text;
}

}  // namespace hrun::os
