// What a container's mount table means for its isolation, worked out from two mountinfo
// texts alone (the container's and the host's), so it shows what the kernel did, not what the
// config asked for. Pure: unit-tested on sample tables.
#pragma once

#include <string>
#include <vector>

#include "inspect/proc_text.hpp"

namespace hrun::inspect {

enum class MountKind {
    Root,          // the container's "/"
    Masked,        // /dev/null bound over a file, or an empty read-only tmpfs over a directory
    ReadOnlyPath,  // a path bound onto itself and made read-only (linux.readonlyPaths)
    HostBind,      // a filesystem the host has mounted too: a bind mount of a host path
    Device,        // a host device node bound at the same path (/dev/null in a user namespace)
    Cgroup,        // a cgroup or cgroup2 hierarchy
    Other,         // a filesystem of the container's own (proc, sysfs, tmpfs, devpts, mqueue)
};

const char* mount_kind_name(MountKind kind);

struct MountView {
    MountEntry entry;
    MountKind kind = MountKind::Other;
    // Where it comes from on the host ("/srv/bundle/rootfs", "/dev/null"), when the host has
    // the same filesystem mounted; empty otherwise.
    std::string host_source;
    // For Masked: what covers the path ("/dev/null" or "read-only tmpfs").
    std::string covered_by;
};

// The host path that `mount` shows, found through a host mount of the same filesystem whose
// root contains the mount's root (the longest such root wins, then the shortest mount point).
// Empty when the host has no mount of that filesystem.
std::string host_path_of(const MountEntry& mount, const std::vector<MountEntry>& host);

std::vector<MountView> classify_mounts(const std::vector<MountEntry>& container,
                                       const std::vector<MountEntry>& host);

}  // namespace hrun::inspect
