// /proc/self/mountinfo and /proc/self/cgroup texts of three kinds of hosts, and the layouts
// built from them, shared by the pure tests.
#pragma once

#include <gtest/gtest.h>

#include "cgroups/cgroups.hpp"

namespace hrun::cgroups::samples {

// A cgroup v2-only host (systemd, Fedora-like), hrun running in a login session.
inline constexpr const char* kV2Mountinfo =
    "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "36 24 0:31 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:10 - bpf bpf rw,mode=700\n";
inline constexpr const char* kV2Cgroup = "0::/user.slice/user-1000.slice/session-3.scope\n";
inline constexpr const char* kV2Controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";

// The hybrid host the tests run on: v1 controllers, cgroup2 with hugetlb only, and the
// memory hierarchy placing the process below /process_api.
inline constexpr const char* kHybridMountinfo =
    "23 1 0:21 / / rw,relatime - ext4 /dev/root rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
inline constexpr const char* kHybridCgroup =
    "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
    "4:memory:/process_api/eec64baaa79f21024ced5c808083776a\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
inline constexpr const char* kHybridControllers = "hugetlb\n";

// A cgroup v1-only host (CentOS 7-like): co-mounted cpu,cpuacct and net_cls,net_prio, a bind
// mount of the memory hierarchy elsewhere, and a mount point with a space in its name.
inline constexpr const char* kLegacyMountinfo =
    "18 1 8:1 / / rw,relatime shared:1 - xfs /dev/sda1 rw\n"
    "25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup "
    "rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n"
    "29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuacct,cpu\n"
    "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory\n"
    "31 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup "
    "rw,net_prio,net_cls\n"
    "32 25 0:28 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,devices\n"
    "33 25 0:29 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer\n"
    "34 25 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,pids\n"
    "35 25 0:31 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,blkio\n"
    "36 25 0:32 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,cpuset,clone_children\n"
    "37 25 0:33 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,hugetlb\n"
    "38 25 0:34 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,perf_event\n"
    "60 18 0:26 /user.slice /var/lib/my\\040mem rw,relatime shared:14 - cgroup cgroup rw,memory\n";
inline constexpr const char* kLegacyCgroup =
    "11:cpuset:/\n10:pids:/user.slice/user-0.slice/session-1.scope\n9:hugetlb:/\n8:perf_event:/\n"
    "7:blkio:/user.slice\n6:freezer:/\n5:devices:/user.slice\n4:net_prio,net_cls:/\n"
    "3:memory:/user.slice/user-0.slice/session-1.scope\n2:cpuacct,cpu:/user.slice\n"
    "1:name=systemd:/user.slice/user-0.slice/session-1.scope\n";

inline Layout layout(const char* mountinfo, const char* cgroup, const char* controllers) {
    auto mounts = parse_mountinfo(mountinfo);
    auto own = parse_proc_cgroup(cgroup);
    EXPECT_TRUE(mounts.has_value());
    EXPECT_TRUE(own.has_value());
    if (!mounts || !own) return {};
    auto l = build_layout(*mounts, *own, controllers);
    EXPECT_TRUE(l.has_value()) << l.error().what();
    return l ? *l : Layout{};
}

inline Layout v2_host() { return layout(kV2Mountinfo, kV2Cgroup, kV2Controllers); }
inline Layout hybrid_host() { return layout(kHybridMountinfo, kHybridCgroup, kHybridControllers); }
inline Layout legacy_host() { return layout(kLegacyMountinfo, kLegacyCgroup, ""); }

// The hierarchy (by mount point) a layout index designates.
inline std::string mount_of(const Layout& l, std::optional<std::size_t> i) {
    return i ? l.hierarchies[*i].mount_point : std::string("<none>");
}

}  // namespace hrun::cgroups::samples
