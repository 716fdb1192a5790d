// Child side: one entry of mounts[] at its destination inside the rootfs.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>

#include "hrun/fd.hpp"
#include "rootfs/resolve.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

ChildStatus resolve_failure(const char* field, int neg_errno, const char* what) noexcept {
    int err = -neg_errno;
    if (err == EXDEV) return child_fail(field, "resolves outside the rootfs through a symlink", EXDEV);
    if (err == ELOOP) return child_fail(field, "too many levels of symbolic links", ELOOP);
    return child_fail(field, what, err);
}

ChildStatus fail_with_detail(const char* field, const char* what, const char* detail, int err) noexcept {
    char msg[sizeof(ChildError::message)];
    copy_cstr(msg, sizeof msg, what);
    if (detail != nullptr && detail[0] != '\0') {
        append_cstr(msg, sizeof msg, ": ");
        append_cstr(msg, sizeof msg, detail);
    }
    return child_fail(field, msg, err);
}

namespace {

bool on_procfs(int fd) noexcept {
    struct statfs sfs;
    return ::fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

// The destination as an O_PATH fd, created if missing: a directory, or an empty file for the
// bind of a file. `existed` tells whether it was there before.
ChildStatus open_destination(const MountPlan& mp, int rootfd, bool as_dir, UniqueFd& out, bool* existed,
                             struct stat* st) noexcept {
    int fd = resolve_in_root(rootfd, mp.destination.c_str(), kResolveDefault);
    *existed = fd >= 0;
    if (fd == -ENOENT)
        fd = resolve_in_root(rootfd, mp.destination.c_str(),
                             kResolveMkdirParents | (as_dir ? kResolveMkdirLast : kResolveCreateFile));
    if (fd < 0) return resolve_failure(mp.dest_field.c_str(), fd, "cannot create the mount point");
    out.reset(fd);
    if (::fstat(fd, st) != 0) return child_fail(mp.dest_field.c_str(), "cannot stat the mount point", errno);
    // Only /proc itself and a few emulated files may be covered on procfs: anything else there
    // (a symlink into /proc/sys, say) would let a mount change what the kernel exposes.
    if (!mp.procfs_target_allowed && on_procfs(fd))
        return child_fail(mp.dest_field.c_str(), "resolves to a path on procfs", EPERM);
    if (as_dir && !S_ISDIR(st->st_mode))
        return child_fail(mp.dest_field.c_str(), "is not a directory", ENOTDIR);
    return child_ok();
}

ChildStatus apply_propagation(MountContext& ctx, const MountPlan& mp, int mnt) noexcept {
    for (unsigned long p : mp.options.propagation) {
        int r = change_propagation(ctx, mnt, p);
        if (r < 0) return child_fail(mp.options_field.c_str(), "cannot change the mount propagation", -r);
    }
    return child_ok();
}

int new_filesystem(MountContext& ctx, const MountPlan& mp, int rootfd, int target, bool existed,
                   const struct stat& st, char* why, std::size_t why_size) noexcept {
    char mode[8];
    NewFilesystem fs;
    fs.fstype = mp.fstype.c_str();
    fs.source = mp.source.c_str();
    if (mp.inherit_dir_mode && existed) {
        // Keep the covered directory's permissions (an image's /tmp is 1777), as runc does.
        format_mode(st.st_mode & 07777, mode, sizeof mode);
        fs.mode = mode;
    }
    fs.options = &mp.options;
    fs.attrs = mp.options.attrs;
    if (mp.defer_readonly) fs.attrs.set &= ~uint64_t{MOUNT_ATTR_RDONLY};
    return mount_new_filesystem(ctx, MountTarget{target, rootfd, mp.destination.c_str()}, fs, why, why_size);
}

ChildStatus mount_bind_entry(MountContext& ctx, const MountPlan& mp, int rootfd) noexcept {
    UniqueFd target;
    bool existed;
    struct stat st;
    HRUN_CHILD_TRY(open_destination(mp, rootfd, mp.source_is_dir, target, &existed, &st));
    if (mp.idmap.slot >= 0) {
        // Made, options and all, by the parent (IdmapPlan); only attached here.
        int premade = ctx.premade[mp.idmap.slot];
        int r = attach_mount(premade, target.get());
        if (r < 0) return child_fail(mp.field.c_str(), "cannot attach the idmapped mount", -r);
        return apply_propagation(ctx, mp, premade);
    }
    if (mp.shared_slot >= 0 && ctx.shared != nullptr && ctx.shared[mp.shared_slot] >= 0) {
        // The early clone, still a peer of the host's mount: its flags set while detached, as
        // mount_bind does, then attached (setup_rootfs owns and closes the fd).
        int clone = ctx.shared[mp.shared_slot];
        int r = 0;
        if (!mp.options.attrs.empty() && (r = change_mount_attrs(ctx, clone, mp.options.attrs, false)) < 0)
            return child_fail(mp.options_field.c_str(), "cannot set the mount flags", -r);
        if (!mp.options.rec_attrs.empty() && (r = change_mount_attrs(ctx, clone, mp.options.rec_attrs, true)) < 0)
            return child_fail(mp.options_field.c_str(), "cannot set the mount flags", -r);
        if ((r = attach_mount(clone, target.get())) < 0)
            return child_fail(mp.source_field.c_str(), "cannot bind-mount the source", -r);
        return apply_propagation(ctx, mp, clone);
    }
    int mnt = mount_bind(ctx, MountTarget{target.get(), rootfd, mp.destination.c_str()}, AT_FDCWD,
                         mp.source.c_str(), mp.options.recursive, mp.options.attrs, mp.options.rec_attrs);
    if (mnt < 0) return child_fail(mp.source_field.c_str(), "cannot bind-mount the source", -mnt);
    UniqueFd owner(mnt);
    return apply_propagation(ctx, mp, mnt);
}

ChildStatus mount_filesystem_entry(MountContext& ctx, const MountPlan& mp, int rootfd) noexcept {
    UniqueFd target;
    bool existed;
    struct stat st;
    HRUN_CHILD_TRY(open_destination(mp, rootfd, true, target, &existed, &st));
    // The directory about to be covered, for tmpcopyup: an fd opened now keeps reaching it.
    UniqueFd covered;
    if (mp.copy_up) {
        covered.reset(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!covered) return child_fail(mp.dest_field.c_str(), "cannot open the directory to copy up", errno);
    }
    char why[96] = {};
    int mnt = new_filesystem(ctx, mp, rootfd, target.get(), existed, st, why, sizeof why);
    if (mnt < 0) return fail_with_detail(mp.field.c_str(), "cannot mount", why, -mnt);
    UniqueFd owner(mnt);
    if (mp.copy_up) {
        // Resolved afresh: the path now leads to the new tmpfs.
        UniqueFd top;
        HRUN_CHILD_TRY(open_destination(mp, rootfd, true, top, &existed, &st));
        UniqueFd root(::openat(top.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root) return child_fail(mp.dest_field.c_str(), "cannot open the new tmpfs", errno);
        HRUN_CHILD_TRY(copy_up(mp, covered.get(), root.get()));
    }
    return apply_propagation(ctx, mp, mnt);
}

ChildStatus mount_sysfs_entry(MountContext& ctx, const MountPlan& mp, int rootfd) noexcept {
    UniqueFd target;
    bool existed;
    struct stat st;
    HRUN_CHILD_TRY(open_destination(mp, rootfd, true, target, &existed, &st));
    if (!mp.sysfs_bind_host) {
        char why[96] = {};
        int mnt = new_filesystem(ctx, mp, rootfd, target.get(), existed, st, why, sizeof why);
        if (mnt >= 0) {
            UniqueFd owner(mnt);
            return apply_propagation(ctx, mp, mnt);
        }
        // A user namespace that does not own the network namespace may not mount sysfs.
        if (mnt != -EPERM && mnt != -EBUSY) return fail_with_detail(mp.field.c_str(), "cannot mount", why, -mnt);
    }
    // The host's /sys with everything below it; the options (ro above all) reach every submount.
    int mnt = mount_bind(ctx, MountTarget{target.get(), rootfd, mp.destination.c_str()}, AT_FDCWD, "/sys", true,
                         AttrChange{}, mp.options.attrs);
    if (mnt < 0) return child_fail(mp.field.c_str(), "cannot bind-mount the host's /sys", -mnt);
    UniqueFd owner(mnt);
    return apply_propagation(ctx, mp, mnt);
}

ChildStatus mount_cgroup_entry(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd,
                               int procfd) noexcept {
    UniqueFd target;
    bool existed;
    struct stat st;
    HRUN_CHILD_TRY(open_destination(mp, rootfd, true, target, &existed, &st));
    return mount_cgroups(ctx, plan, mp, rootfd, target.get(), procfd);
}

}  // namespace

ChildStatus mount_config_entry(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd,
                               int procfd) noexcept {
    switch (mp.kind) {
        case MountKind::kBind: return mount_bind_entry(ctx, mp, rootfd);
        case MountKind::kFilesystem: return mount_filesystem_entry(ctx, mp, rootfd);
        case MountKind::kSysfs: return mount_sysfs_entry(ctx, mp, rootfd);
        case MountKind::kCgroup: return mount_cgroup_entry(ctx, plan, mp, rootfd, procfd);
    }
    return child_fail(mp.field.c_str(), "unknown mount kind", EINVAL);
}

ChildStatus apply_deferred_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept {
    for (const auto& mp : plan.mounts) {
        if (!mp.defer_readonly) continue;
        int fd = resolve_in_root(rootfd, mp.destination.c_str(), kResolveDefault);
        if (fd < 0) return resolve_failure(mp.dest_field.c_str(), fd, "cannot find the mount again");
        UniqueFd owner(fd);
        int r = change_mount_attrs(ctx, fd, AttrChange{MOUNT_ATTR_RDONLY, 0}, false);
        if (r < 0) return child_fail(mp.options_field.c_str(), "cannot make the mount read-only", -r);
    }
    return child_ok();
}

}  // namespace hrun::rootfs
