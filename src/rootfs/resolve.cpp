#include "rootfs/resolve.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

namespace hrun::rootfs {

namespace {

constexpr std::size_t kPathBuf = PATH_MAX;
constexpr int kOpenComponent = O_PATH | O_NOFOLLOW | O_CLOEXEC;

struct DirId {
    dev_t dev;
    ino_t ino;
    bool operator==(const DirId&) const = default;
};

// One resolution. Lives on the child's stack: about 12 KiB, no heap.
class Walker {
public:
    Walker(int rootfd, unsigned flags) noexcept : rootfd_(rootfd), flags_(flags), cur_(rootfd) {}
    Walker(const Walker&) = delete;
    Walker& operator=(const Walker&) = delete;
    ~Walker() { drop_cur(); }

    int run(const char* path) noexcept {
        std::size_t n = ::strnlen(path, kPathBuf);
        if (n == kPathBuf) return -ENAMETOOLONG;
        std::memcpy(rem_, path, n);
        len_ = n;
        pos_ = 0;

        struct stat st;
        if (::fstat(rootfd_, &st) != 0) return -errno;
        if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
        stack_[0] = {st.st_dev, st.st_ino};

        char name[NAME_MAX + 1];
        while (true) {
            bool is_last = false;
            int r = next_component(name, &is_last);
            if (r < 0) return r;
            if (r == 0) break;  // nothing left
            if (std::strcmp(name, ".") == 0) continue;
            if (std::strcmp(name, "..") == 0) {
                r = go_up();
                if (r < 0) return r;
                continue;
            }
            r = step(name, is_last);
            if (r < 0) return r;
            if (r == kReturnLink) return release_cur();
        }
        if (cur_ == rootfd_) return reopen(rootfd_);
        return release_cur();
    }

private:
    static constexpr int kReturnLink = 1;

    // Copies the next component into `name`; 1 if one was found, 0 at the end, -errno on error.
    int next_component(char* name, bool* is_last) noexcept {
        while (pos_ < len_ && rem_[pos_] == '/') ++pos_;
        if (pos_ == len_) return 0;
        std::size_t start = pos_;
        while (pos_ < len_ && rem_[pos_] != '/') ++pos_;
        std::size_t n = pos_ - start;
        if (n > NAME_MAX) return -ENAMETOOLONG;
        std::memcpy(name, rem_ + start, n);
        name[n] = '\0';
        std::size_t after = pos_;
        while (after < len_ && rem_[after] == '/') ++after;
        *is_last = after == len_;
        return 1;
    }

    int go_up() noexcept {
        if (depth_ == 0) return -EXDEV;  // ".." at the root would leave it
        if (depth_ == 1) {
            drop_cur();
            cur_ = rootfd_;
            depth_ = 0;
            return 0;
        }
        int fd = ::openat(cur_, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return -errno;
        struct stat st;
        if (::fstat(fd, &st) != 0 || !(DirId{st.st_dev, st.st_ino} == stack_[depth_ - 1])) {
            // The directory moved while we walked: give up rather than guess where we are.
            ::close(fd);
            return -EAGAIN;
        }
        drop_cur();
        cur_ = fd;
        --depth_;
        return 0;
    }

    bool may_create(bool is_last) const noexcept {
        if (is_last) return (flags_ & (kResolveMkdirLast | kResolveCreateFile)) != 0;
        return (flags_ & kResolveMkdirParents) != 0;
    }

    int create(const char* name, bool is_last) noexcept {
        if (is_last && (flags_ & kResolveCreateFile)) {
            int f = ::openat(cur_, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC | O_NOCTTY,
                             0644);
            if (f < 0) return errno == EEXIST ? 0 : -errno;
            ::close(f);
            return 0;
        }
        if (::mkdirat(cur_, name, 0755) != 0 && errno != EEXIST) return -errno;
        return 0;
    }

    int step(const char* name, bool is_last) noexcept {
        int fd = ::openat(cur_, name, kOpenComponent);
        if (fd < 0 && errno == ENOENT && may_create(is_last)) {
            int r = create(name, is_last);
            if (r < 0) return r;
            fd = ::openat(cur_, name, kOpenComponent);
        }
        if (fd < 0) return -errno;

        struct stat st;
        if (::fstat(fd, &st) != 0) {
            int err = errno;
            ::close(fd);
            return -err;
        }
        if (S_ISLNK(st.st_mode)) {
            if (is_last && (flags_ & kResolveNoFollowLast)) {
                drop_cur();
                cur_ = fd;
                return kReturnLink;
            }
            int r = follow(fd);
            ::close(fd);
            return r;
        }
        if (!is_last && !S_ISDIR(st.st_mode)) {
            ::close(fd);
            return -ENOTDIR;
        }
        if (depth_ + 1 >= kMaxResolveDepth) {
            ::close(fd);
            return -ENAMETOOLONG;
        }
        drop_cur();
        cur_ = fd;
        stack_[++depth_] = {st.st_dev, st.st_ino};
        return 0;
    }

    // Replaces the symlink just read by its target in the remaining path.
    int follow(int linkfd) noexcept {
        if (++links_ > kMaxSymlinks) return -ELOOP;
        struct statfs sfs;
        if (::fstatfs(linkfd, &sfs) != 0) return -errno;
        // procfs links are not text to be re-resolved but jumps into other processes' files.
        if (sfs.f_type == PROC_SUPER_MAGIC) return -EXDEV;
        ssize_t n = ::readlinkat(linkfd, "", link_, sizeof link_);
        if (n < 0) return -errno;
        if (n == 0) return -ENOENT;
        std::size_t target = static_cast<std::size_t>(n);
        std::size_t rest = len_ - pos_;
        if (target + 1 + rest >= kPathBuf) return -ENAMETOOLONG;
        std::memmove(rem_ + target + 1, rem_ + pos_, rest);
        std::memcpy(rem_, link_, target);
        rem_[target] = '/';
        len_ = target + 1 + rest;
        pos_ = 0;
        if (link_[0] == '/') {
            drop_cur();
            cur_ = rootfd_;
            depth_ = 0;
        }
        return 0;
    }

    static int reopen(int fd) noexcept {
        int r = ::openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return r < 0 ? -errno : r;
    }

    int release_cur() noexcept {
        int fd = cur_;
        cur_ = rootfd_;
        return fd;
    }

    void drop_cur() noexcept {
        if (cur_ != rootfd_ && cur_ >= 0) ::close(cur_);
        cur_ = rootfd_;
    }

    int rootfd_;
    unsigned flags_;
    int cur_;
    int depth_ = 0;
    int links_ = 0;
    std::size_t pos_ = 0;
    std::size_t len_ = 0;
    DirId stack_[kMaxResolveDepth];
    char rem_[kPathBuf];
    char link_[kPathBuf];
};

// --- the one-call fast path -----------------------------------------------------------------
//
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) answers in one syscall exactly when the walk
// would meet no symlink and never climb above the root: then both reach the same inode through
// the same directories. Anything the kernel refuses (a symlink: ELOOP; ".." above the root:
// EXDEV; a rename race: EAGAIN) or any other doubt goes to the Walker, whose answer is the
// reference: symlinks expanded inside the root, escapes refused with EXDEV, creation of what is
// missing. RESOLVE_IN_ROOT would be one call for symlinked paths too, but it clamps ".." at the
// root where the walk reports an escape.

// Cleared on the first ENOSYS/E2BIG (kernels before 5.6): from then on only the walk. Relaxed
// atomic: lock-free, and a stale true only costs one more failed call.
std::atomic<bool> g_have_openat2{true};

// The Walker's view of `path` as a relative path for openat2: leading and trailing slashes
// dropped ("" -> "."), false when it nests deeper than the walk tracks (the walk's
// ENAMETOOLONG must stay its answer). `out` holds kPathBuf bytes.
bool beneath_form(const char* path, std::size_t n, char* out) noexcept {
    std::size_t start = 0;
    while (start < n && path[start] == '/') ++start;
    while (n > start && path[n - 1] == '/') --n;
    if (n == start) {
        out[0] = '.';
        out[1] = '\0';
        return true;
    }
    int components = 1;
    for (std::size_t i = start; i < n; ++i)
        if (path[i] == '/' && ++components >= kMaxResolveDepth) return false;
    std::memcpy(out, path + start, n - start);
    out[n - start] = '\0';
    return true;
}

// >= 0: the resolved O_PATH fd. -ENOENT/-ENOTDIR: the walk's answer too when it may not create
// anything (no symlink was met before the failing component). 1: ask the walk.
constexpr int kAskWalker = 1;

int resolve_fast(int rootfd, const char* path, unsigned flags) noexcept {
    if (!g_have_openat2.load(std::memory_order_relaxed)) return kAskWalker;
    std::size_t n = ::strnlen(path, kPathBuf);
    if (n == kPathBuf) return -ENAMETOOLONG;
    char rel[kPathBuf];
    if (!beneath_form(path, n, rel)) return kAskWalker;
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    const int err = errno;
    if (err == ENOSYS || err == E2BIG) {
        g_have_openat2.store(false, std::memory_order_relaxed);
        return kAskWalker;
    }
    const bool creates = (flags & (kResolveMkdirParents | kResolveMkdirLast | kResolveCreateFile)) != 0;
    if ((err == ENOENT || err == ENOTDIR) && !creates) return -err;
    return kAskWalker;
}

int resolve(int rootfd, const char* path, unsigned flags) noexcept {
    int fd = resolve_fast(rootfd, path, flags);
    if (fd != kAskWalker) return fd;
    Walker w(rootfd, flags);
    return w.run(path);
}

}  // namespace

int resolve_in_root(int rootfd, const char* path, unsigned flags) noexcept {
    if (path == nullptr) return -EINVAL;
    return resolve(rootfd, path, flags);
}

int resolve_parent_in_root(int rootfd, const char* path, unsigned flags, char* last,
                           std::size_t last_size) noexcept {
    if (path == nullptr || last == nullptr || last_size == 0) return -EINVAL;
    char dir[kPathBuf];
    std::size_t n = ::strnlen(path, kPathBuf);
    if (n == kPathBuf) return -ENAMETOOLONG;
    std::memcpy(dir, path, n);
    dir[n] = '\0';
    while (n > 0 && dir[n - 1] == '/') dir[--n] = '\0';

    std::size_t slash = n;
    while (slash > 0 && dir[slash - 1] != '/') --slash;
    const char* name = dir + slash;
    std::size_t name_len = n - slash;
    if (name_len == 0 || std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) return -EINVAL;
    if (name_len >= last_size || name_len > NAME_MAX) return -ENAMETOOLONG;
    std::memcpy(last, name, name_len + 1);

    // Keep the leading "/" of "/name"; an empty directory part means the root itself.
    dir[slash] = '\0';
    unsigned dir_flags = (flags & kResolveMkdirParents) ? (kResolveMkdirParents | kResolveMkdirLast) : 0;
    return resolve(rootfd, dir, dir_flags);
}

}  // namespace hrun::rootfs
