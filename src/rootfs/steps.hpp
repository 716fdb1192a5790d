// The child-side steps of setup_rootfs, one file each, in the order setup.cpp runs them.
// All are noexcept, allocate nothing and report through ChildStatus.
#pragma once

#include "hrun/child_error.hpp"
#include "rootfs/mount_api.hpp"
#include "rootfs/rootfs_plan.hpp"

namespace hrun::rootfs {

// mounts.cpp: one entry of mounts[], resolved and created inside the rootfs (`rootfd`).
ChildStatus mount_config_entry(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd,
                               int procfd) noexcept;
// mounts.cpp: "ro" of tmpfs and /dev mounts, held back until their contents exist.
ChildStatus apply_deferred_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept;

// cgroup_mounts.cpp: a "cgroup"/"cgroup2" entry, attached at `target` (the resolved destination).
ChildStatus mount_cgroups(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd, int target,
                          int procfd) noexcept;

// devices.cpp: device nodes, then the /dev symlinks.
ChildStatus create_devices(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept;

// pivot.cpp: makes the rootfs "/" (pivot_root, or MS_MOVE + chroot with no_pivot). On return the
// cwd is the new "/".
ChildStatus enter_rootfs(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept;

// masked.cpp: maskedPaths, readonlyPaths and root.readonly, run from the new root `rootfd`.
// `devnull` is the host's /dev/null, cloned before pivot_root (-1 on the mount(2) path).
ChildStatus mask_paths(MountContext& ctx, const RootfsPlan& plan, int rootfd, int devnull) noexcept;
ChildStatus make_paths_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept;
ChildStatus make_root_readonly(MountContext& ctx, const RootfsPlan& plan, int rootfd) noexcept;

// A failed resolve_in_root as the error users should see: an escape is named as such.
ChildStatus resolve_failure(const char* field, int neg_errno, const char* what) noexcept;

// child_fail with "<what> <detail>" as the message (built in a fixed buffer).
ChildStatus fail_with_detail(const char* field, const char* what, const char* detail, int err) noexcept;

// tmpcopyup: copies `covered_dir`'s content into the new tmpfs root `new_root` (copyup.cpp).
ChildStatus copy_up(const MountPlan& mp, int covered_dir, int new_root) noexcept;

}  // namespace hrun::rootfs
