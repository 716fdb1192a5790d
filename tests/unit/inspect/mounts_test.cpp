// Classification of a container's mounts against the host's table: root, masks, read-only
// paths and host binds are told apart by device numbers and root fields alone.
#include <gtest/gtest.h>

#include "inspect/mounts.hpp"

namespace hrun::inspect {
namespace {

// The host: an ext4 root, devtmpfs at /dev, a data disk, the v1 memory hierarchy.
constexpr std::string_view kHost =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "23 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw,size=4000k\n"
    "24 22 0:21 / /proc rw,nosuid,nodev,noexec shared:12 - proc proc rw\n"
    "25 22 8:17 / /srv/data rw,relatime shared:7 - ext4 /dev/sdb1 rw\n"
    "26 22 8:1 /var/lib/images /images rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 22 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";

// A container of the default config, plus /data bound from /srv/data/shared and / from the host.
constexpr std::string_view kContainer =
    "600 580 8:1 /srv/bundle/rootfs / ro,relatime master:1 - ext4 /dev/sda1 rw\n"
    "601 600 0:70 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "602 600 0:71 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
    "603 602 0:5 /null /dev/null rw,nosuid master:2 - devtmpfs udev rw,size=4000k\n"
    "604 600 0:72 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw\n"
    "605 600 8:17 /shared /data rw,relatime master:7 - ext4 /dev/sdb1 rw\n"
    "606 600 8:1 / /host ro,relatime master:1 - ext4 /dev/sda1 rw\n"
    "613 600 0:74 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755\n"
    "607 613 0:32 /hrun-abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
    "608 601 0:73 / /proc/acpi ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs ro\n"
    "609 601 0:5 /null /proc/kcore rw,nosuid master:2 - devtmpfs udev rw,size=4000k\n"
    "610 601 0:70 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "611 601 0:70 /sysrq-trigger /proc/sysrq-trigger ro,nosuid,nodev,noexec,relatime - proc proc rw\n"
    "612 600 8:1 /var/lib/images/base /opt/base rw,relatime master:1 - ext4 /dev/sda1 rw\n";

std::vector<MountView> classify() {
    auto host = parse_mountinfo(kHost);
    auto container = parse_mountinfo(kContainer);
    EXPECT_TRUE(host && container);
    return classify_mounts(*container, *host);
}

const MountView& at(const std::vector<MountView>& views, const std::string& mount_point) {
    for (const MountView& v : views)
        if (v.entry.mount_point == mount_point) return v;
    ADD_FAILURE() << "no mount at " << mount_point;
    static MountView none;
    return none;
}

TEST(ClassifyMounts, RootIsTheBundleRootfsFromTheHost) {
    const auto views = classify();
    const MountView& root = at(views, "/");
    EXPECT_EQ(root.kind, MountKind::Root);
    EXPECT_EQ(root.host_source, "/srv/bundle/rootfs");
    EXPECT_TRUE(root.entry.read_only());
}

TEST(ClassifyMounts, MasksAreNullBindsAndReadOnlyTmpfs) {
    const auto views = classify();
    EXPECT_EQ(at(views, "/proc/kcore").kind, MountKind::Masked);
    EXPECT_EQ(at(views, "/proc/kcore").covered_by, "/dev/null");
    EXPECT_EQ(at(views, "/proc/acpi").kind, MountKind::Masked);
    EXPECT_EQ(at(views, "/proc/acpi").covered_by, "read-only tmpfs");
    // The container's own /dev/null node is a device, not a mask; the writable /tmp is its own.
    EXPECT_EQ(at(views, "/dev/null").kind, MountKind::Device);
    EXPECT_EQ(at(views, "/dev/null").host_source, "/dev/null");
    EXPECT_EQ(at(views, "/tmp").kind, MountKind::Other);
    // A read-only tmpfs that holds other mounts (the cgroup hierarchies) hides nothing.
    EXPECT_EQ(at(views, "/sys/fs/cgroup").kind, MountKind::Other);
}

TEST(ClassifyMounts, ReadOnlyPathsAreSelfBinds) {
    const auto views = classify();
    EXPECT_EQ(at(views, "/proc/sys").kind, MountKind::ReadOnlyPath);
    EXPECT_EQ(at(views, "/proc/sysrq-trigger").kind, MountKind::ReadOnlyPath);
    EXPECT_EQ(at(views, "/proc").kind, MountKind::Other);
}

TEST(ClassifyMounts, HostBindsNameTheirHostPath) {
    const auto views = classify();
    EXPECT_EQ(at(views, "/data").kind, MountKind::HostBind);
    EXPECT_EQ(at(views, "/data").host_source, "/srv/data/shared");
    EXPECT_EQ(at(views, "/host").kind, MountKind::HostBind);
    EXPECT_EQ(at(views, "/host").host_source, "/");
    // /var/lib/images/base is also /images/base on the host: the mount with the longest root wins.
    EXPECT_EQ(at(views, "/opt/base").host_source, "/images/base");
    EXPECT_EQ(at(views, "/sys/fs/cgroup/memory").kind, MountKind::Cgroup);
}

TEST(HostPathOf, UnknownDeviceHasNoHostPath) {
    auto host = parse_mountinfo(kHost);
    ASSERT_TRUE(host);
    MountEntry m;
    m.major = 0;
    m.minor = 99;
    m.root = "/";
    EXPECT_EQ(host_path_of(m, *host), "");
    // A directory below the root of a host mount.
    m.major = 8;
    m.minor = 17;
    m.root = "/shared";
    EXPECT_EQ(host_path_of(m, *host), "/srv/data/shared");
}

}  // namespace
}  // namespace hrun::inspect
