// Child-side mount primitives: the fd-based mount API (fsopen/fsconfig/fsmount, open_tree,
// move_mount, mount_setattr), with mount(2) on "/proc/self/fd/N" as the fallback for kernels
// that lack it (or when the plan asks for it). A mount is always attached to an O_PATH fd that
// the resolver produced, never to a path the kernel would resolve again.
//
// Child-safe: noexcept, no allocation. Functions return >= 0 on success and -errno on failure.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rootfs/mount_options.hpp"

namespace hrun::rootfs {

// State of one setup_rootfs run.
struct MountContext {
    bool legacy = false;  // use mount(2): forced by the plan, or set on the first ENOSYS
    // Mounts the parent made (idmapped ones), by IdmapPlan::slot; attached, never made here.
    const int* premade = nullptr;
    // Clones of the sources of shared bind mounts, by MountPlan::shared_slot, taken before "/"
    // turned slave; -1 where none could be taken (the legacy mount API: bound as usual).
    const int* shared = nullptr;
};

// Where a mount goes: the mount point's fd, plus how to find the point again once mount(2) has
// covered it (the legacy path needs an fd of the new mount to change its flags).
struct MountTarget {
    int fd = -1;
    int dirfd = -1;            // resolve `path` from here (resolve_in_root) ...
    const char* path = nullptr;  // ... to reach the new mount's root
};

// A new superblock: fsopen(fstype) + fsconfig(...) + fsmount.
struct NewFilesystem {
    const char* fstype = nullptr;
    const char* source = nullptr;         // fsconfig "source"; nullptr for none
    const char* mode = nullptr;           // tmpfs "mode" given before the config's options ("0755")
    const MountOptions* options = nullptr;  // superblock flags and filesystem parameters
    const char* extra_params = nullptr;   // comma-separated parameters ("cpu,cpuacct", "name=systemd")
    AttrChange attrs;                     // attributes of the new mount
};

// Attaches a new filesystem at `target`. Returns an O_PATH-like fd of the new mount's root.
// On failure `why` (may be null) says which step failed, e.g. `option "size=x" rejected`.
int mount_new_filesystem(MountContext& ctx, const MountTarget& target, const NewFilesystem& fs, char* why,
                         std::size_t why_size) noexcept;

// Bind-mounts `src` (a path from src_dfd, or the fd itself when src_path is "") at `target`;
// `recursive` for rbind. `attrs` apply to the top mount, `rec_attrs` to the whole tree, both
// before the tree becomes visible. Returns an fd of the new mount's root.
int mount_bind(MountContext& ctx, const MountTarget& target, int src_dfd, const char* src_path, bool recursive,
               const AttrChange& attrs, const AttrChange& rec_attrs) noexcept;

// mount_setattr on the mount `mnt_fd` is the root of (MS_REMOUNT|MS_BIND in the legacy path).
int change_mount_attrs(MountContext& ctx, int mnt_fd, const AttrChange& change, bool recursive) noexcept;

// MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) on the mount `mnt_fd` is the root of.
int change_propagation(MountContext& ctx, int mnt_fd, unsigned long ms_propagation) noexcept;

// open_tree(OPEN_TREE_CLONE): a detached copy of the mount at `path` (-ENOSYS on old kernels).
int clone_mount(int dfd, const char* path, bool recursive) noexcept;

// move_mount of the detached mount `mnt_fd` onto `target_fd`; afterwards `mnt_fd` refers to the
// attached mount.
int attach_mount(int mnt_fd, int target_fd) noexcept;

// "/proc/self/fd/N". The buffer must hold at least 32 bytes.
void proc_fd_path(int fd, char* buf, std::size_t size) noexcept;

// Octal text of a file mode: 01777 -> "1777". The buffer must hold at least 8 bytes.
void format_mode(unsigned mode, char* buf, std::size_t size) noexcept;

}  // namespace hrun::rootfs
