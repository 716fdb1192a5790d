// Child side, after pivot_root: linux.maskedPaths, linux.readonlyPaths, root.readonly.
//
// A masked directory gets an empty read-only tmpfs over it; a masked file gets /dev/null bound
// over it. That /dev/null is the host's, cloned before pivot_root and checked to be the inode the
// parent verified: binding the container's own /dev/null by path would let a container that
// replaced it with a symlink turn the mask into a bind of anything it likes (CVE-2025-31133).
// Paths that do not exist are skipped; paths that resolve outside the root are errors.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "hrun/fd.hpp"
#include "rootfs/resolve.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

bool is_null_device(const struct stat& st) noexcept {
    return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

ChildStatus mask_directory(MountContext& ctx, const PathEntry& e, int rootfd, int target) noexcept {
    NewFilesystem fs;
    fs.fstype = "tmpfs";
    fs.source = "tmpfs";
    fs.attrs = AttrChange{MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0};
    char why[96] = {};
    int mnt = mount_new_filesystem(ctx, MountTarget{target, rootfd, e.path.c_str()}, fs, why, sizeof why);
    if (mnt < 0) return fail_with_detail(e.field.c_str(), "cannot mask the directory", why, -mnt);
    ::close(mnt);
    return child_ok();
}

// Without the fd-based mount API the host's node cannot be carried across pivot_root; the
// container's /dev/null is used, but only once its fd proves it is the null device, and the bind
// is made from that very fd.
int open_container_null(int rootfd) noexcept {
    int fd = resolve_in_root(rootfd, "/dev/null", kResolveDefault);
    if (fd < 0) return fd;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !is_null_device(st)) {
        ::close(fd);
        return -EXDEV;
    }
    return fd;
}

class NullSource {
public:
    // `host_null` is the detached clone of the host's /dev/null (-1 on the mount(2) path).
    explicit NullSource(int host_null) noexcept : host_null_(host_null) {}

    ChildStatus mask(MountContext& ctx, const PathEntry& e, int rootfd, int target) noexcept {
        if (!attached_ && host_null_ >= 0 && !ctx.legacy) {
            // The first masked file takes the clone itself; later ones clone from it, now that it
            // is attached in our namespace.
            int r = attach_mount(host_null_, target);
            if (r < 0) return child_fail(e.field.c_str(), "cannot bind /dev/null over the file", -r);
            attached_ = true;
            return child_ok();
        }
        int src = attached_ ? host_null_ : container_null(rootfd);
        if (src < 0)
            return child_fail(e.field.c_str(), "no verified /dev/null to mask the file with", -src);
        int mnt = mount_bind(ctx, MountTarget{target, rootfd, e.path.c_str()}, src, "", false, AttrChange{},
                             AttrChange{});
        if (mnt < 0) return child_fail(e.field.c_str(), "cannot bind /dev/null over the file", -mnt);
        ::close(mnt);
        return child_ok();
    }

private:
    int container_null(int rootfd) noexcept {
        if (!container_null_) {
            int fd = open_container_null(rootfd);
            if (fd < 0) return fd;
            container_null_.reset(fd);
        }
        return container_null_.get();
    }

    int host_null_;
    bool attached_ = false;
    UniqueFd container_null_;
};

}  // namespace

ChildStatus mask_paths(MountContext& ctx, const RootfsPlan& plan, int rootfd, int devnull) noexcept {
    NullSource null_source(devnull);
    for (const auto& e : plan.masked_paths) {
        int t = resolve_in_root(rootfd, e.path.c_str(), kResolveDefault);
        if (t == -ENOENT) continue;
        if (t < 0) return resolve_failure(e.field.c_str(), t, "cannot resolve the path");
        UniqueFd target(t);
        struct stat st;
        if (::fstat(t, &st) != 0) return child_fail(e.field.c_str(), "cannot stat the path", errno);
        if (S_ISDIR(st.st_mode)) HRUN_CHILD_TRY(mask_directory(ctx, e, rootfd, t));
        else HRUN_CHILD_TRY(null_source.mask(ctx, e, rootfd, t));
    }
    return child_ok();
}

ChildStatus make_paths_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept {
    for (const auto& e : plan.readonly_paths) {
        int t = resolve_in_root(rootfd, e.path.c_str(), kResolveDefault);
        if (t == -ENOENT) continue;
        if (t < 0) return resolve_failure(e.field.c_str(), t, "cannot resolve the path");
        UniqueFd target(t);
        // The path bound onto itself with everything below it, then read-only throughout; its
        // nosuid/nodev/noexec stay as they were.
        int mnt = mount_bind(ctx, MountTarget{t, rootfd, e.path.c_str()}, t, "", true, AttrChange{},
                             AttrChange{MOUNT_ATTR_RDONLY, 0});
        if (mnt < 0) return child_fail(e.field.c_str(), "cannot make the path read-only", -mnt);
        ::close(mnt);
    }
    return child_ok();
}

ChildStatus make_root_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept {
    if (!plan.root_readonly) return child_ok();
    // Only the root mount: tmpfs mounts such as /tmp or /dev/shm stay writable.
    int r = change_mount_attrs(ctx, rootfd, AttrChange{MOUNT_ATTR_RDONLY, 0}, false);
    if (r < 0) return child_fail("root.readonly", "cannot make the root read-only", -r);
    return child_ok();
}

}  // namespace hrun::rootfs
