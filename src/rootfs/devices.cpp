// Child side: device nodes and the /dev symlinks, before pivot_root.
//
// Outside a user namespace a node is created with mknod. Inside one, mknod of a device is
// refused, so the host's node is bound onto an empty file instead (as runc does); the node is
// opened here, before pivot_root, and bound only if it is still the inode the parent checked.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "hrun/fd.hpp"
#include "rootfs/resolve.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

// Sets the umask for the lifetime of the object: mknod must produce exactly the config's mode.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t mask) noexcept : old_(::umask(mask)) {}
    ~UmaskGuard() { ::umask(old_); }
    UmaskGuard(const UmaskGuard&) = delete;
    UmaskGuard& operator=(const UmaskGuard&) = delete;

private:
    mode_t old_;
};

bool same_node(const struct stat& st, const DevicePlan& d) noexcept {
    return (st.st_mode & S_IFMT) == (d.mode & S_IFMT) && (S_ISFIFO(d.mode) || st.st_rdev == d.rdev);
}

ChildStatus bind_device(MountContext& ctx, const DevicePlan& d, int rootfd) noexcept {
    int src = ::open(d.path.c_str(), O_PATH | O_CLOEXEC);
    if (src < 0) return fail_with_detail(d.field.c_str(), "cannot open the host device", d.path.c_str(), errno);
    UniqueFd src_owner(src);
    struct stat st;
    if (::fstat(src, &st) != 0) return fail_with_detail(d.field.c_str(), "cannot stat the host device", d.path.c_str(), errno);
    if (!same_node(st, d) || st.st_dev != d.host_dev || st.st_ino != d.host_ino)
        return fail_with_detail(d.field.c_str(), "host device changed since it was checked", d.path.c_str(), EXDEV);

    int target = resolve_in_root(rootfd, d.path.c_str(), kResolveMkdirParents | kResolveCreateFile);
    if (target < 0) return resolve_failure(d.field.c_str(), target, "cannot create the device's mount point");
    UniqueFd target_owner(target);
    int mnt = mount_bind(ctx, MountTarget{target, rootfd, d.path.c_str()}, src, "", false, AttrChange{}, AttrChange{});
    if (mnt < 0) return fail_with_detail(d.field.c_str(), "cannot bind the host device", d.path.c_str(), -mnt);
    ::close(mnt);
    return child_ok();
}

ChildStatus make_node(const DevicePlan& d, int rootfd) noexcept {
    char name[NAME_MAX + 1];
    int dir = resolve_parent_in_root(rootfd, d.path.c_str(), kResolveMkdirParents, name, sizeof name);
    if (dir < 0) return resolve_failure(d.field.c_str(), dir, "cannot create the device's directory");
    UniqueFd dir_owner(dir);

    if (::mknodat(dir, name, d.mode, d.rdev) != 0) {
        if (errno != EEXIST) return fail_with_detail(d.field.c_str(), "cannot create", d.path.c_str(), errno);
        // Something is there already (a previous run on the same rootfs, or the image's own
        // entry): keep it if it is this very node, replace anything else but a directory.
        struct stat st;
        if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            return fail_with_detail(d.field.c_str(), "cannot stat", d.path.c_str(), errno);
        if (!same_node(st, d)) {
            if (S_ISDIR(st.st_mode)) return fail_with_detail(d.field.c_str(), "is a directory", d.path.c_str(), EISDIR);
            if (::unlinkat(dir, name, 0) != 0 || ::mknodat(dir, name, d.mode, d.rdev) != 0)
                return fail_with_detail(d.field.c_str(), "cannot replace", d.path.c_str(), errno);
        } else if (::fchmodat(dir, name, d.mode & 07777, 0) != 0) {
            return fail_with_detail(d.field.c_str(), "cannot chmod", d.path.c_str(), errno);
        }
    }
    if (::fchownat(dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0)
        return fail_with_detail(d.field.c_str(), "cannot chown", d.path.c_str(), errno);
    return child_ok();
}

ChildStatus make_symlink(const DevSymlink& s, int rootfd) noexcept {
    char name[NAME_MAX + 1];
    int dir = resolve_parent_in_root(rootfd, s.path.c_str(), kResolveMkdirParents, name, sizeof name);
    if (dir < 0) return resolve_failure(s.field.c_str(), dir, "cannot create the link's directory");
    UniqueFd dir_owner(dir);
    if (s.replace && ::unlinkat(dir, name, 0) != 0 && errno != ENOENT)
        return fail_with_detail(s.field.c_str(), "cannot replace", s.path.c_str(), errno);
    // An existing entry is left alone, as runc does: the image may provide its own.
    if (::symlinkat(s.target.c_str(), dir, name) != 0 && errno != EEXIST)
        return fail_with_detail(s.field.c_str(), "cannot create the link", s.path.c_str(), errno);
    return child_ok();
}

// An empty 0666 file at /dev/console, unless something is there already (an image's own node or
// file: console/child_terminal.cpp checks what it binds onto).
ChildStatus make_console_mount_point(int rootfd) noexcept {
    char name[NAME_MAX + 1];
    int dir = resolve_parent_in_root(rootfd, "/dev/console", kResolveMkdirParents, name, sizeof name);
    if (dir < 0) return resolve_failure("process.terminal", dir, "cannot create /dev");
    UniqueFd dir_owner(dir);
    int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return child_fail("process.terminal", "cannot create /dev/console", errno);
    if (fd >= 0) ::close(fd);
    return child_ok();
}

}  // namespace

ChildStatus create_devices(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept {
    UmaskGuard umask(0);
    for (const auto& d : plan.devices) {
        if (d.bind) HRUN_CHILD_TRY(bind_device(ctx, d, rootfd));
        else HRUN_CHILD_TRY(make_node(d, rootfd));
    }
    for (const auto& s : plan.dev_symlinks) HRUN_CHILD_TRY(make_symlink(s, rootfd));
    if (plan.console_mount_point) HRUN_CHILD_TRY(make_console_mount_point(rootfd));  // umask 0: exactly 0666
    return child_ok();
}

}  // namespace hrun::rootfs
