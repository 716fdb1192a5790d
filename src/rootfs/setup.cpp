// setup_rootfs: the child's side of the container's filesystem view, in order.
//
//   1. "/" becomes a recursive slave (or private): nothing mounted from here on reaches the host.
//      Just before, the sources of bind mounts the config marks shared are cloned: those clones
//      stay peers of the host's mounts, as "rshared" asks (and only they).
//   2. The rootfs is bound onto itself (recursively) so that it is a mount point to pivot into;
//      with the idmap annotation, the parent's idmapped clone of it is attached there instead.
//   3. The host's /dev/null is cloned while the host tree is still reachable (for masking).
//   4. mounts[] in order, each at a destination resolved inside the rootfs.
//   5. Device nodes and /dev links; then the "ro" held back for tmpfs and /dev.
//      The caller's before-pivot step (the create-time hooks) runs here.
//   6. pivot_root (or MS_MOVE + chroot); linux.rootfsPropagation applied to the new root.
//   7. maskedPaths, readonlyPaths, root.readonly, all resolved from the new root.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "hrun/fd.hpp"
#include "rootfs/rootfs.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

ChildStatus clone_host_null(MountContext& ctx, const RootfsPlan& plan, UniqueFd& out) noexcept {
    int fd = clone_mount(AT_FDCWD, "/dev/null", false);
    if (fd == -ENOSYS) {
        ctx.legacy = true;  // masked files will use the container's verified /dev/null
        return child_ok();
    }
    if (fd < 0) return child_fail("linux.maskedPaths", "cannot clone the host's /dev/null", -fd);
    out.reset(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return child_fail("linux.maskedPaths", "cannot stat the host's /dev/null", errno);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3) || st.st_dev != plan.devnull_dev ||
        st.st_ino != plan.devnull_ino)
        return child_fail("linux.maskedPaths", "the host's /dev/null changed since it was checked", EXDEV);
    return child_ok();
}

// The idmapped clone of the rootfs the parent made takes the place of the plain rbind; `out` gets
// an fd of its root of our own (the premade fd stays the caller's).
ChildStatus attach_idmapped_rootfs(const RootfsPlan& plan, int mnt, int rootfs_dir, int& out) noexcept {
    int r = attach_mount(mnt, rootfs_dir);
    if (r < 0) return child_fail(plan.rootfs_idmap.field.c_str(), "cannot attach the idmapped rootfs", -r);
    out = ::fcntl(mnt, F_DUPFD_CLOEXEC, 0);
    if (out < 0) return child_fail("root.path", "cannot keep the idmapped rootfs", errno);
    return child_ok();
}

}  // namespace

ChildStatus setup_rootfs(const RootfsPlan& plan, int procfd, BeforePivot before_pivot, const int* premade,
                         int early_rootfs_dir) noexcept {
    UniqueFd early(early_rootfs_dir);
    MountContext ctx;
    ctx.legacy = plan.legacy_mount_api;
    ctx.premade = premade;
    if (plan.premade_count > 0 && premade == nullptr)
        return child_fail("root.path", "the idmapped mounts were not received", EINVAL);

    int fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return child_fail("root.path", "cannot open \"/\"", errno);
    UniqueFd host_root(fd);
    int shared[kMaxSharedMounts];
    UniqueFd shared_owners[kMaxSharedMounts];
    for (std::size_t i = 0; i < kMaxSharedMounts; ++i) shared[i] = -1;
    if (plan.shared_count > 0) {
        for (const auto& mp : plan.mounts) {
            if (mp.shared_slot < 0 || ctx.legacy) continue;
            int c = clone_mount(AT_FDCWD, mp.source.c_str(), mp.options.recursive);
            if (c == -ENOSYS) break;  // bound later as any other mount: a slave of the host's
            if (c < 0) return child_fail(mp.source_field.c_str(), "cannot clone the source of a shared mount", -c);
            shared_owners[mp.shared_slot].reset(c);
            shared[mp.shared_slot] = c;
        }
        ctx.shared = shared;
    }
    int r = change_propagation(ctx, host_root.get(), plan.setup_propagation);
    if (r < 0) return child_fail("linux.rootfsPropagation", "cannot change the propagation of \"/\"", -r);

    fd = early ? early.release() : ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return child_fail("root.path", "cannot open the rootfs", errno);
    UniqueFd rootfs_dir(fd);
    if (plan.rootfs_idmap.slot >= 0) {
        HRUN_CHILD_TRY(attach_idmapped_rootfs(plan, premade[plan.rootfs_idmap.slot], rootfs_dir.get(), fd));
    } else {
        fd = mount_bind(ctx, MountTarget{rootfs_dir.get(), host_root.get(), plan.rootfs.c_str()}, AT_FDCWD,
                        plan.rootfs.c_str(), true, AttrChange{}, AttrChange{});
        if (fd < 0) return child_fail("root.path", "cannot bind-mount the rootfs onto itself", -fd);
    }
    UniqueFd rootfd(fd);
    rootfs_dir.reset();

    UniqueFd host_null;
    if (!plan.masked_paths.empty() && !ctx.legacy) HRUN_CHILD_TRY(clone_host_null(ctx, plan, host_null));

    for (const auto& mp : plan.mounts) HRUN_CHILD_TRY(mount_config_entry(ctx, plan, mp, rootfd.get(), procfd));
    HRUN_CHILD_TRY(create_devices(ctx, plan, rootfd.get()));
    HRUN_CHILD_TRY(apply_deferred_readonly(ctx, plan, rootfd.get()));
    if (before_pivot.run != nullptr) {
        // From the rootfs, as runc runs the createContainer hooks: a hook that writes relative
        // paths (library injectors) writes into the container.
        if (::fchdir(rootfd.get()) != 0) return child_fail("root.path", "cannot enter the rootfs", errno);
        HRUN_CHILD_TRY(before_pivot.run(before_pivot.context));
    }

    HRUN_CHILD_TRY(enter_rootfs(ctx, plan, rootfd.get()));
    host_root.reset();
    fd = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return child_fail("root.path", "cannot open the new root", errno);
    rootfd.reset(fd);
    if (plan.final_propagation != 0) {
        r = change_propagation(ctx, rootfd.get(), plan.final_propagation);
        if (r < 0) return child_fail("linux.rootfsPropagation", "cannot change the propagation of the root", -r);
    }

    HRUN_CHILD_TRY(mask_paths(ctx, plan, rootfd.get(), host_null.get()));
    HRUN_CHILD_TRY(make_paths_readonly(ctx, plan, rootfd.get()));
    HRUN_CHILD_TRY(make_root_readonly(ctx, plan, rootfd.get()));
    return child_ok();
}

}  // namespace hrun::rootfs
