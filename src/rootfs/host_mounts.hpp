// The host's mount table and cgroup membership, read in the parent: which cgroup hierarchies a
// "cgroup" mount must reproduce, and which pseudo-filesystems --no-pivot must hide.
//
// The parsers are pure functions of the file texts so they are unit-tested on fixtures.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hrun::rootfs {

// One line of /proc/<pid>/mountinfo (fields of proc(5); octal escapes like \040 decoded).
struct MountInfoEntry {
    std::string root;         // path of the mount's root inside its filesystem
    std::string mount_point;  // where it is mounted
    std::string fs_type;
    std::string source;
    std::string super_options;  // "rw,cpu,cpuacct"
};

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

// One line of /proc/<pid>/cgroup: "4:cpu,cpuacct:/user.slice" (id 0 with empty controllers
// for cgroup2).
struct CgroupMembership {
    int id = -1;
    std::string controllers;
    std::string path;
};

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text);

// A cgroup hierarchy of the host, as the container's /sys/fs/cgroup will show it.
struct CgroupHierarchy {
    std::string name;        // directory below the cgroup mount: "cpu", "cpu,cpuacct", "unified"
    std::string host_mount;  // "/sys/fs/cgroup/cpu"
    std::string mount_root;  // root of that host mount in the hierarchy ("/" unless it is a bind)
    bool v2 = false;
    std::string fs_options;  // for a fresh mount: "cpu,cpuacct", "name=systemd"; empty for cgroup2
    std::string fs_source;   // for a fresh mount: "cgroup", "systemd", "cgroup2"
    int hierarchy_id = -1;   // first field of /proc/self/cgroup (0 for cgroup2)
    std::vector<std::string> aliases;  // "cpu,cpuacct" gets symlinks "cpu" and "cpuacct"
};

struct CgroupLayout {
    bool v2_only = false;  // /sys/fs/cgroup itself is cgroup2
    std::vector<CgroupHierarchy> hierarchies;
};

// Finds the hierarchies mounted directly below /sys/fs/cgroup (v1 and a hybrid "unified"
// cgroup2), or the single cgroup2 mount of a v2-only host, and matches each with its line of
// /proc/self/cgroup. Hierarchies the process is not a member of are left out.
CgroupLayout cgroup_layout(const std::vector<MountInfoEntry>& mounts,
                           const std::vector<CgroupMembership>& membership);

// Mount points of full (root "/") proc and sysfs mounts outside `rootfs`: with --no-pivot the
// host's copies stay reachable and must be detached (see pivot.cpp).
std::vector<std::string> host_pseudo_fs_mounts(const std::vector<MountInfoEntry>& mounts,
                                               std::string_view rootfs);

// Lexically cleans a container path: "/a//b/./c/../d/" -> "/a/b/d". The result is absolute;
// ".." at the root stays at the root (literal "..", not symlinks, which the resolver rejects).
std::string clean_path(std::string_view path);

// True if `path` is `dir` or below it (both clean and absolute).
bool path_within(std::string_view path, std::string_view dir);

}  // namespace hrun::rootfs
