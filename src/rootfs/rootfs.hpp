// The container's filesystem view: everything between "a new mount namespace" and
// "the process sees only its rootfs".
//
// plan_rootfs runs in the parent and resolves/validates everything that can be known before
// clone (mount options to flags, data strings, host sources opened, the /dev set); setup_rootfs
// runs in the child and only makes syscalls.
#pragma once

#include <string>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "rootfs/rootfs_plan.hpp"

namespace hrun::rootfs {

// Which namespaces are the container's own: created, or joined by path (as opposed to shared
// with hrun, i.e. with the host).
struct NamespaceSummary {
    bool new_user = false;
    bool new_mount = false;
    bool new_pid = false;
    bool new_net = false;
    bool new_ipc = false;
    bool new_cgroup = false;
};

struct RootfsOptions {
    std::string bundle_dir;  // absolute; root.path is relative to it
    bool no_pivot = false;   // use MS_MOVE + chroot instead of pivot_root
};

Result<RootfsPlan> plan_rootfs(const spec::Spec& spec, const RootfsOptions& options,
                               const NamespaceSummary& ns, const os::HostContext& host);

// A step the caller runs inside setup_rootfs once every mount and device node is in place,
// right before the root changes: where the runtime-spec and runc put the prestart,
// createRuntime and createContainer hooks (a hook may add mounts under the rootfs, and still
// reaches the host's paths). It runs with the rootfs (with its mounts) as the working
// directory. Child-safe like the rest; a failure aborts the setup.
struct BeforePivot {
    ChildStatus (*run)(void* context) noexcept = nullptr;
    void* context = nullptr;
};

// Child side, in the new mount namespace: propagation, rootfs bind, config mounts, /dev,
// `before_pivot`, pivot_root, masked and read-only paths, read-only root. On return the cwd
// is "/". `premade` holds the plan's premade_count mounts the parent made (idmapped ones), by
// slot; they are attached, and stay owned by the caller. `rootfs_dir`, when >= 0, is an O_PATH
// fd of plan.rootfs opened in this mount namespace (taken over and closed); otherwise the path
// is opened here, with the container's ids.
ChildStatus setup_rootfs(const RootfsPlan& plan, int procfd, BeforePivot before_pivot = {},
                         const int* premade = nullptr, int rootfs_dir = -1) noexcept;

}  // namespace hrun::rootfs
