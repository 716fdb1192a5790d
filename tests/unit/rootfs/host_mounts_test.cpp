#include "rootfs/host_mounts.hpp"

#include <gtest/gtest.h>

namespace hrun::rootfs {
namespace {

// A hybrid host: v1 hierarchies plus a cgroup2 "unified", one merged hierarchy.
constexpr const char* kHybridMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "23 27 0:22 / /sys rw,relatime - sysfs sysfs rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "42 31 0:39 / /sys/fs/cgroup/net_cls rw,relatime - cgroup cgroup rw,net_cls\n"
    "50 27 0:40 / /srv/with\\040space rw - tmpfs tmpfs rw\n"
    "51 27 0:41 / /var/lib/box/rootfs/proc rw - proc proc rw\n";

constexpr const char* kHybridCgroup =
    "9:name=systemd:/user.slice\n"
    "4:memory:/box/one\n"
    "2:cpu,cpuacct:/\n"
    "0::/box/one\n";

TEST(HostMounts, ParsesMountinfoFields) {
    auto m = parse_mountinfo(kHybridMountinfo);
    ASSERT_EQ(m.size(), 11u);
    EXPECT_EQ(m[0].mount_point, "/proc");
    EXPECT_EQ(m[0].fs_type, "proc");
    EXPECT_EQ(m[4].mount_point, "/sys/fs/cgroup/cpu,cpuacct");  // optional field "shared:9" skipped
    EXPECT_EQ(m[4].super_options, "rw,cpu,cpuacct");
    EXPECT_EQ(m[9].mount_point, "/srv/with space");
    EXPECT_EQ(m[2].source, "/dev/vda");
}

TEST(HostMounts, SkipsMalformedLines) {
    auto m = parse_mountinfo("garbage\n1 2 3\n\n27 1 254:0 / / rw - ext4 /dev/vda rw\n");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_EQ(m[0].mount_point, "/");
}

TEST(HostMounts, ParsesProcCgroup) {
    auto c = parse_proc_cgroup(kHybridCgroup);
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0].id, 9);
    EXPECT_EQ(c[0].controllers, "name=systemd");
    EXPECT_EQ(c[3].id, 0);
    EXPECT_EQ(c[3].controllers, "");
    EXPECT_EQ(c[3].path, "/box/one");
}

TEST(HostMounts, HybridLayout) {
    auto layout = cgroup_layout(parse_mountinfo(kHybridMountinfo), parse_proc_cgroup(kHybridCgroup));
    EXPECT_FALSE(layout.v2_only);
    // net_cls is mounted but this process is in no net_cls hierarchy: left out.
    ASSERT_EQ(layout.hierarchies.size(), 4u);

    const auto& cpu = layout.hierarchies[0];
    EXPECT_EQ(cpu.name, "cpu,cpuacct");
    EXPECT_EQ(cpu.hierarchy_id, 2);
    EXPECT_EQ(cpu.fs_options, "cpu,cpuacct");
    EXPECT_EQ(cpu.fs_source, "cgroup");
    EXPECT_EQ(cpu.aliases, (std::vector<std::string>{"cpu", "cpuacct"}));
    EXPECT_FALSE(cpu.v2);

    const auto& mem = layout.hierarchies[1];
    EXPECT_EQ(mem.name, "memory");
    EXPECT_EQ(mem.host_mount, "/sys/fs/cgroup/memory");
    EXPECT_EQ(mem.hierarchy_id, 4);
    EXPECT_TRUE(mem.aliases.empty());

    const auto& sd = layout.hierarchies[2];
    EXPECT_EQ(sd.fs_options, "name=systemd");
    EXPECT_EQ(sd.fs_source, "systemd");
    EXPECT_EQ(sd.hierarchy_id, 9);

    const auto& unified = layout.hierarchies[3];
    EXPECT_TRUE(unified.v2);
    EXPECT_EQ(unified.name, "unified");
    EXPECT_EQ(unified.hierarchy_id, 0);
    EXPECT_EQ(unified.fs_source, "cgroup2");
}

TEST(HostMounts, V2OnlyLayout) {
    auto layout = cgroup_layout(
        parse_mountinfo("27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"),
        parse_proc_cgroup("0::/user.slice/session-1.scope\n"));
    EXPECT_TRUE(layout.v2_only);
    ASSERT_EQ(layout.hierarchies.size(), 1u);
    EXPECT_TRUE(layout.hierarchies[0].v2);
    EXPECT_EQ(layout.hierarchies[0].host_mount, "/sys/fs/cgroup");
}

TEST(HostMounts, OverMountedCgroupRootHidesWhatIsBelow) {
    // A later cgroup2 mount on /sys/fs/cgroup covers the earlier tmpfs layout.
    std::string text = std::string(kHybridMountinfo) +
                       "60 23 0:50 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    auto layout = cgroup_layout(parse_mountinfo(text), parse_proc_cgroup(kHybridCgroup));
    EXPECT_TRUE(layout.v2_only);
}

TEST(HostMounts, PseudoFilesystemsOutsideTheRootfs) {
    auto p = host_pseudo_fs_mounts(parse_mountinfo(kHybridMountinfo), "/var/lib/box/rootfs");
    EXPECT_EQ(p, (std::vector<std::string>{"/proc", "/sys"}));
}

TEST(HostMounts, CleanPath) {
    EXPECT_EQ(clean_path("/a//b/./c/../d/"), "/a/b/d");
    EXPECT_EQ(clean_path("relative/x"), "/relative/x");
    EXPECT_EQ(clean_path("/../../etc"), "/etc");
    EXPECT_EQ(clean_path(""), "/");
    EXPECT_EQ(clean_path("/"), "/");
    EXPECT_EQ(clean_path("/dev/"), "/dev");
}

TEST(HostMounts, PathWithin) {
    EXPECT_TRUE(path_within("/proc", "/proc"));
    EXPECT_TRUE(path_within("/proc/sys", "/proc"));
    EXPECT_FALSE(path_within("/procfoo", "/proc"));
    EXPECT_FALSE(path_within("/pro", "/proc"));
    EXPECT_TRUE(path_within("/anything", "/"));
}

}  // namespace
}  // namespace hrun::rootfs
