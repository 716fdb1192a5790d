// What setup_rootfs does, computed before clone by plan_rootfs.
//
// Everything the child reads is here, already checked and in the form the syscalls take: the
// child only walks these vectors and calls c_str(). Strings named *field are the config JSON
// paths its errors carry ("mounts[3].destination").
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rootfs/host_mounts.hpp"
#include "rootfs/mount_options.hpp"

namespace hrun::rootfs {

enum class MountKind : uint8_t {
    kBind,        // open_tree(OPEN_TREE_CLONE) of a host path
    kFilesystem,  // fsopen/fsconfig/fsmount of a new superblock
    kSysfs,       // sysfs, or an rbind of the host's /sys where a fresh one is not permitted
    kCgroup,      // the host's cgroup layout, see RootfsPlan::cgroups
};

// An idmapped mount (mount_setattr MOUNT_ATTR_IDMAP). The kernel wants privilege over the
// source filesystem's owner (the host, for ext4, xfs, btrfs, tmpfs), which the container's root
// lacks: the parent makes the detached, already mapped mount once the container's user
// namespace is mapped, and hands it to the child, which only attaches it (create/sync.hpp).
struct IdmapPlan {
    bool enabled = false;
    bool recursive = false;  // every mount of the tree ("ridmap"), not only the top one
    // The namespace whose maps the mount applies, as uid_map/gid_map text ("0 300000 65536\n").
    // Both empty: the container's own user namespace; otherwise a namespace made for it.
    std::string uid_map;
    std::string gid_map;
    std::string field;   // the mount's field ("mounts[3]", "root.path")
    std::string reason;  // what asked for it, for errors: "\"idmap\"", "uidMappings"
    int slot = -1;       // index among the premade mounts the child receives
};

// At most this many premade mounts per container: the child receives them into a fixed array.
inline constexpr std::size_t kMaxPremadeMounts = 32;

struct MountPlan {
    MountKind kind = MountKind::kFilesystem;
    std::string field;          // "mounts[3]"
    std::string dest_field;     // "mounts[3].destination"
    std::string source_field;   // "mounts[3].source"
    std::string type_field;     // "mounts[3].type"
    std::string options_field;  // "mounts[3].options"
    std::string destination;  // clean absolute path in the container
    std::string source;       // kBind: absolute host path; otherwise fsconfig's "source"
    std::string fstype;       // kFilesystem: the filesystem type
    bool source_is_dir = true;  // kBind: create a directory at the destination, else an empty file
    MountOptions options;
    // tmpfs and /dev get files and mount points created in them after they are mounted; their
    // "ro" is applied once the rootfs is complete (as runc does).
    bool defer_readonly = false;
    // tmpfs without "mode=": take the mode of the directory it covers, if that existed.
    bool inherit_dir_mode = false;
    // tmpfs "tmpcopyup": copy the covered directory's content into the new tmpfs.
    bool copy_up = false;
    // The destination may lie on procfs (the mount of /proc itself, or an lxcfs-style file).
    bool procfs_target_allowed = false;
    // kSysfs: go straight to the rbind of /sys (user namespace without its own network namespace).
    bool sysfs_bind_host = false;
    // kCgroup: reproduce the host's v1 layout (a tmpfs with one mount per hierarchy) rather than
    // a single cgroup2 mount.
    bool cgroup_v1_tree = false;
    // kBind: an idmapped mount made by the parent (see IdmapPlan).
    IdmapPlan idmap;
    // kBind with "shared"/"rshared" (Kubernetes' Bidirectional propagation): index among the
    // clones setup_rootfs takes of the source before "/" turns slave, so that the container's
    // mount stays a peer of the host's; -1 for none.
    int shared_slot = -1;
};

// At most this many bind mounts with shared propagation per container (a fixed array in the child).
inline constexpr std::size_t kMaxSharedMounts = 16;

// A device node the container gets: mknod, or in a user namespace a bind of the host's node.
struct DevicePlan {
    std::string field;  // "linux.devices[0].path"; for a default device, the /dev mount ("mounts[2]")
    std::string path;   // clean absolute path in the container
    mode_t mode = 0;    // S_IFCHR/S_IFBLK/S_IFIFO | permissions
    dev_t rdev = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    bool bind = false;  // bind the host node at `path` instead of mknod
    // Identity of the host node, checked in the parent and again by the child before binding.
    dev_t host_dev = 0;
    ino_t host_ino = 0;
};

struct DevSymlink {
    std::string field;   // the /dev mount that calls for it ("mounts[2]")
    std::string path;    // "/dev/fd"
    std::string target;  // "/proc/self/fd"
    bool replace = false;  // remove what is there first (/dev/ptmx may exist as a device node)
};

struct PathEntry {
    std::string field;  // "linux.maskedPaths[2]"
    std::string path;   // clean absolute path in the container
};

struct RootfsPlan {
    std::string rootfs;  // absolute, symlink-free host path of root.path
    bool root_readonly = false;
    bool no_pivot = false;
    bool new_user = false;
    bool new_cgroup = false;

    // Propagation of "/" while the rootfs is built (never shared: the host must not see our
    // mounts), and the one linux.rootfsPropagation asks for, applied to the new root after
    // pivot_root (0: keep the first).
    unsigned long setup_propagation = 0;
    unsigned long final_propagation = 0;

    std::vector<MountPlan> mounts;
    CgroupLayout cgroups;  // for kCgroup mounts

    // /dev: default devices and links only when the config mounts a filesystem (not a bind) there.
    std::vector<DevicePlan> devices;
    std::vector<DevSymlink> dev_symlinks;
    // process.terminal: the pty is bound onto /dev/console after the rootfs is complete, when /dev
    // or the root may already be read-only. Its mount point (an empty 0666 file) is made with the
    // devices instead, as runc binds the console before /dev turns read-only.
    bool console_mount_point = false;

    std::vector<PathEntry> masked_paths;
    std::vector<PathEntry> readonly_paths;

    // Identity of the host's /dev/null (char 1:3), which masks files: the child opens it before
    // pivot_root and binds only if it is still this inode.
    dev_t devnull_dev = 0;
    ino_t devnull_ino = 0;

    // --no-pivot: host proc/sysfs mounts to detach before the rootfs is moved onto "/".
    std::vector<std::string> host_pseudo_fs;

    // Use mount(2) on /proc/self/fd/N instead of the fd-based mount API (tests exercise this
    // path; the child also falls back by itself when the kernel lacks the new calls).
    bool legacy_mount_api = false;

    // annotations["org.hrun.rootfs.idmap"]: the rootfs bind is an idmapped mount through the
    // container's user namespace, so a rootfs owned by host root is owned by container root.
    IdmapPlan rootfs_idmap;
    // How many premade mounts the child receives: slots 0..N-1 of rootfs_idmap and mounts[].
    std::size_t premade_count = 0;
    std::size_t shared_count = 0;  // mounts with a shared_slot
};

}  // namespace hrun::rootfs
