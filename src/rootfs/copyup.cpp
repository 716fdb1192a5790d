// tmpfs "tmpcopyup": the new tmpfs gets a copy of what the directory it covers held, so that a
// read-only container's writable /tmp or /run starts with the image's content (podman asks for
// it). Child side: stack buffers only, bounded depth, never follows a symlink.
#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

constexpr int kMaxDepth = 16;

struct linux_dirent64_header {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int copy_file(int src_dir, int dst_dir, const char* name, const struct stat& st) noexcept {
    int in = ::openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return -errno;
    int out = ::openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        int err = errno;
        ::close(in);
        return -err;
    }
    int rc = 0;
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = ::sendfile(out, in, nullptr, static_cast<size_t>(left));
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        left -= n;
    }
    ::close(in);
    ::close(out);
    return rc;
}

int copy_tree(int src_dir, int dst_dir, int depth) noexcept {
    if (depth > kMaxDepth) return -ELOOP;
    alignas(8) char buf[4096];
    for (;;) {
        long n = ::syscall(SYS_getdents64, src_dir, buf, sizeof buf);
        if (n < 0) return -errno;
        if (n == 0) return 0;
        for (long off = 0; off < n;) {
            auto* e = reinterpret_cast<linux_dirent64_header*>(buf + off);
            off += e->d_reclen;
            const char* name = e->d_name;
            if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
            struct stat st;
            if (::fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
            int rc = 0;
            if (S_ISDIR(st.st_mode)) {
                if (::mkdirat(dst_dir, name, st.st_mode & 07777) != 0) return -errno;
                int s = ::openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int d = ::openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                rc = s < 0 || d < 0 ? -errno : copy_tree(s, d, depth + 1);
                if (s >= 0) ::close(s);
                if (d >= 0) ::close(d);
            } else if (S_ISREG(st.st_mode)) {
                rc = copy_file(src_dir, dst_dir, name, st);
            } else if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t len = ::readlinkat(src_dir, name, target, sizeof target - 1);
                if (len < 0) return -errno;
                target[len] = '\0';
                if (::symlinkat(target, dst_dir, name) != 0) rc = -errno;
            } else if (::mknodat(dst_dir, name, st.st_mode, st.st_rdev) != 0) {
                rc = -errno;
            }
            if (rc < 0) return rc;
            // Owners as in the image (a user namespace may not map them all: keep going then).
            (void)::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
        }
    }
}

}  // namespace

ChildStatus copy_up(const MountPlan& mp, int covered_dir, int new_root) noexcept {
    int rc = copy_tree(covered_dir, new_root, 0);
    if (rc < 0) return child_fail(mp.options_field.c_str(), "tmpcopyup: cannot copy the covered directory", -rc);
    return child_ok();
}

}  // namespace hrun::rootfs
