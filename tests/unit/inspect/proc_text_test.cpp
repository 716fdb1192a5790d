// The /proc parsers of `hrun inspect`, on texts copied from real processes (and broken ones).
#include <gtest/gtest.h>

#include "inspect/proc_text.hpp"

namespace hrun::inspect {
namespace {

// A container init as the host reads it: pid 4242 outside, 1 inside, the default capability set.
constexpr std::string_view kStatus =
    "Name:\tsleep\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "Pid:\t4242\n"
    "PPid:\t4230\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "NStgid:\t4242\t1\n"
    "NSpid:\t4242\t1\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t00000000a80425fb\n"
    "CapEff:\t00000000a80425fb\n"
    "CapBnd:\t00000000a80425fb\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t1\n"
    "Speculation_Store_Bypass:\tthread vulnerable\n";

TEST(ParseStatus, ReadsPrivilegesIdsAndPids) {
    auto s = parse_status(kStatus);
    ASSERT_TRUE(s) << s.error().what();
    EXPECT_EQ(s->name, "sleep");
    EXPECT_EQ(s->uids, (std::vector<uint32_t>{0, 0, 0, 0}));
    EXPECT_EQ(s->ns_pids, (std::vector<pid_t>{4242, 1}));
    EXPECT_EQ(s->cap_effective, 0xa80425fbULL);
    EXPECT_EQ(s->cap_bounding, 0xa80425fbULL);
    EXPECT_EQ(s->cap_inheritable, 0u);
    EXPECT_EQ(s->no_new_privs, true);
    EXPECT_EQ(s->seccomp, 2);
    EXPECT_EQ(s->seccomp_filters, 1);
}

TEST(ParseStatus, OlderKernelsLackTheSeccompFilterCount) {
    std::string text(kStatus);
    text.erase(text.find("Seccomp_filters"), std::string("Seccomp_filters:\t1\n").size());
    auto s = parse_status(text);
    ASSERT_TRUE(s) << s.error().what();
    EXPECT_EQ(s->seccomp, 2);
    EXPECT_FALSE(s->seccomp_filters.has_value());
}

TEST(ParseStatus, RefusesMissingOrBrokenCapabilityLines) {
    EXPECT_FALSE(parse_status("Name:\tx\nCapEff:\t00\n"));
    std::string text(kStatus);
    text.replace(text.find("00000000a80425fb"), 16, "zz");
    auto s = parse_status(text);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("CapPrm"), std::string::npos) << s.error().what();
}

TEST(CapabilityNames, DecodesTheDefaultSet) {
    // 0xa80425fb is Docker's default set.
    EXPECT_EQ(capability_names(0xa80425fbULL),
              (std::vector<std::string>{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                                        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                                        "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
                                        "CAP_SETFCAP"}));
    EXPECT_EQ(capability_names(0), std::vector<std::string>{});
    EXPECT_EQ(capability_names(uint64_t{1} << 21), std::vector<std::string>{"CAP_SYS_ADMIN"});
    // A bit no kernel has named yet still shows up.
    EXPECT_EQ(capability_names(uint64_t{1} << 62), std::vector<std::string>{"CAP_62"});
}

TEST(CapabilityNames, FullMask) {
    EXPECT_EQ(full_capability_mask(40), 0x1ffffffffffULL);
    EXPECT_EQ(full_capability_mask(63), ~uint64_t{0});
    EXPECT_EQ(seccomp_mode_name(2), "filter");
    EXPECT_EQ(seccomp_mode_name(0), "disabled");
}

TEST(IdMap, RemappedRootAndIdentity) {
    auto remapped = parse_id_map("         0     100000      65536\n");
    ASSERT_TRUE(remapped) << remapped.error().what();
    EXPECT_EQ(*remapped, (std::vector<IdRange>{{0, 100000, 65536}}));
    EXPECT_EQ(map_to_outside(*remapped, 0), 100000u);
    EXPECT_EQ(map_to_outside(*remapped, 65535), 165535u);
    EXPECT_FALSE(map_to_outside(*remapped, 65536));
    EXPECT_EQ(map_to_inside(*remapped, 100001), 1u);
    EXPECT_FALSE(map_to_inside(*remapped, 0));
    EXPECT_FALSE(is_identity_map(*remapped));

    auto identity = parse_id_map("         0          0 4294967295\n");
    ASSERT_TRUE(identity);
    EXPECT_TRUE(is_identity_map(*identity));
    EXPECT_EQ(map_to_outside(*identity, 4294967294U), 4294967294U);
}

TEST(IdMap, SeveralRangesAndErrors) {
    auto m = parse_id_map("0 1000 1\n1 100000 65535\n");
    ASSERT_TRUE(m);
    EXPECT_EQ(map_to_outside(*m, 0), 1000u);
    EXPECT_EQ(map_to_outside(*m, 5), 100004u);
    EXPECT_TRUE(parse_id_map("")->empty());
    EXPECT_FALSE(parse_id_map("0 1000\n"));
    EXPECT_FALSE(parse_id_map("0 x 1\n"));
}

TEST(Mountinfo, ParsesFieldsOptionalTagsAndEscapes) {
    const std::string text =
        "601 580 8:1 /srv/bundle/rootfs / ro,relatime master:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
        "602 601 0:61 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
        "620 601 8:1 /home/my\\040dir /data\\011tab rw,relatime shared:5 master:1 - ext4 /dev/sda1 rw\n";
    auto m = parse_mountinfo(text);
    ASSERT_TRUE(m) << m.error().what();
    ASSERT_EQ(m->size(), 3u);
    const MountEntry& root = (*m)[0];
    EXPECT_EQ(root.id, 601);
    EXPECT_EQ(root.parent, 580);
    EXPECT_EQ(root.major, 8u);
    EXPECT_EQ(root.minor, 1u);
    EXPECT_EQ(root.root, "/srv/bundle/rootfs");
    EXPECT_EQ(root.mount_point, "/");
    EXPECT_TRUE(root.read_only());
    EXPECT_EQ(root.optional_fields, std::vector<std::string>{"master:1"});
    EXPECT_EQ(root.fstype, "ext4");
    EXPECT_EQ(root.source, "/dev/sda1");
    EXPECT_EQ(root.super_options, (std::vector<std::string>{"rw", "errors=remount-ro"}));
    EXPECT_FALSE((*m)[1].read_only());
    EXPECT_TRUE((*m)[1].has_option("noexec"));
    EXPECT_TRUE((*m)[1].optional_fields.empty());
    EXPECT_EQ((*m)[2].root, "/home/my dir");
    EXPECT_EQ((*m)[2].mount_point, "/data\ttab");
    EXPECT_EQ((*m)[2].optional_fields.size(), 2u);
}

TEST(Mountinfo, RefusesTruncatedLines) {
    EXPECT_FALSE(parse_mountinfo("601 580 8:1 / / rw - ext4\n"));
    EXPECT_FALSE(parse_mountinfo("601 580 81 / / rw - ext4 /dev/sda1 rw\n"));
    EXPECT_FALSE(parse_mountinfo("x 580 8:1 / / rw - ext4 /dev/sda1 rw\n"));
    EXPECT_TRUE(parse_mountinfo("")->empty());
}

TEST(NamespaceLink, Inode) {
    EXPECT_EQ(parse_namespace_link("net:[4026531840]"), 4026531840u);
    EXPECT_EQ(parse_namespace_link("pid_for_children:[4026532801]"), 4026532801u);
    EXPECT_FALSE(parse_namespace_link("net:4026531840"));
    EXPECT_FALSE(parse_namespace_link("net:[]"));
    EXPECT_FALSE(parse_namespace_link(""));
}

}  // namespace
}  // namespace hrun::inspect
