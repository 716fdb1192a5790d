#include "rootfs/mount_options.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>

namespace hrun::rootfs {
namespace {

MountOptions parse_ok(std::vector<std::string> opts) {
    auto r = parse_mount_options(opts, "mounts[0].options");
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().what());
    return r ? *r : MountOptions{};
}

struct AttrCase {
    std::vector<std::string> options;
    uint64_t set;
    uint64_t clear;
};

class AttrOptions : public ::testing::TestWithParam<AttrCase> {};

TEST_P(AttrOptions, MapToMountAttributes) {
    const auto& c = GetParam();
    auto o = parse_ok(c.options);
    EXPECT_EQ(o.attrs.set, c.set);
    EXPECT_EQ(o.attrs.clear, c.clear);
    EXPECT_TRUE(o.data.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, AttrOptions,
    ::testing::Values(
        AttrCase{{}, 0, 0}, AttrCase{{"defaults"}, 0, 0},
        AttrCase{{"ro"}, MOUNT_ATTR_RDONLY, 0}, AttrCase{{"rw"}, 0, MOUNT_ATTR_RDONLY},
        AttrCase{{"ro", "rw"}, 0, MOUNT_ATTR_RDONLY},  // the last one wins
        AttrCase{{"nosuid", "nodev", "noexec"}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0},
        AttrCase{{"suid", "dev", "exec"}, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
        AttrCase{{"nosuid,nodev"}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0},  // comma lists split
        AttrCase{{"noatime"}, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
        AttrCase{{"relatime"}, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
        AttrCase{{"strictatime"}, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
        AttrCase{{"norelatime"}, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
        AttrCase{{"noatime", "strictatime"}, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
        AttrCase{{"nodiratime"}, MOUNT_ATTR_NODIRATIME, 0},
        AttrCase{{"nosymfollow"}, MOUNT_ATTR_NOSYMFOLLOW, 0},
        // Recursive forms on a fresh filesystem fold into the plain ones.
        AttrCase{{"rro", "rnosuid"}, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0}));

TEST(MountOptions, BindAndRecursiveAttributes) {
    auto o = parse_ok({"rbind", "ro", "rnoexec", "rrw"});
    EXPECT_TRUE(o.bind);
    EXPECT_TRUE(o.recursive);
    EXPECT_EQ(o.attrs.set, uint64_t{MOUNT_ATTR_RDONLY});
    EXPECT_EQ(o.rec_attrs.set, uint64_t{MOUNT_ATTR_NOEXEC});
    EXPECT_EQ(o.rec_attrs.clear, uint64_t{MOUNT_ATTR_RDONLY});

    auto plain = parse_ok({"bind"});
    EXPECT_TRUE(plain.bind);
    EXPECT_FALSE(plain.recursive);
}

TEST(MountOptions, PropagationInOrder) {
    auto o = parse_ok({"rbind", "rprivate", "shared", "runbindable", "slave"});
    ASSERT_EQ(o.propagation.size(), 4u);
    EXPECT_EQ(o.propagation[0], static_cast<unsigned long>(MS_PRIVATE | MS_REC));
    EXPECT_EQ(o.propagation[1], static_cast<unsigned long>(MS_SHARED));
    EXPECT_EQ(o.propagation[2], static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
    EXPECT_EQ(o.propagation[3], static_cast<unsigned long>(MS_SLAVE));
}

TEST(MountOptions, ParsePropagationNames) {
    EXPECT_EQ(parse_propagation("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
    EXPECT_EQ(parse_propagation("private"), static_cast<unsigned long>(MS_PRIVATE));
    EXPECT_FALSE(parse_propagation("rw").has_value());
    EXPECT_FALSE(parse_propagation("r").has_value());
    EXPECT_FALSE(parse_propagation("").has_value());
    EXPECT_FALSE(parse_propagation("rrshared").has_value());
}

TEST(MountOptions, FilesystemDataAndSuperblockFlags) {
    auto o = parse_ok({"nosuid", "strictatime", "mode=755", "size=65536k", "newinstance", "sync", "x-gvfs-hide"});
    ASSERT_EQ(o.data.size(), 3u);
    EXPECT_EQ(o.data[0], (FsParam{"mode", "755", true}));
    EXPECT_EQ(o.data[1], (FsParam{"size", "65536k", true}));
    EXPECT_EQ(o.data[2], (FsParam{"newinstance", "", false}));
    EXPECT_EQ(o.sb_flags, std::vector<std::string>{"sync"});
    EXPECT_EQ(o.sb_ms_flags, static_cast<unsigned long>(MS_SYNCHRONOUS));
    EXPECT_EQ(join_fs_params(o.data), "mode=755,size=65536k,newinstance");
}

TEST(MountOptions, ValueMayContainEquals) {
    auto p = split_fs_param("context=system_u:object_r:x=y");
    EXPECT_EQ(p.key, "context");
    EXPECT_EQ(p.value, "system_u:object_r:x=y");
    EXPECT_TRUE(p.has_value);
}

TEST(MountOptions, BindRejectsFilesystemOptionsWithTheirIndex) {
    auto r = parse_mount_options({"rbind", "ro", "size=1m"}, "mounts[4].options");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field, "mounts[4].options[2]");
    EXPECT_NE(r.error().message.find("size=1m"), std::string::npos);

    auto sb = parse_mount_options({"bind", "sync"}, "mounts[1].options");
    ASSERT_FALSE(sb.has_value());
    EXPECT_EQ(sb.error().field, "mounts[1].options[1]");
}

TEST(MountOptions, TmpcopyupIsAFlagNotData) {
    auto r = parse_mount_options({"nosuid", "tmpcopyup", "size=1m"}, "mounts[0].options");
    ASSERT_TRUE(r.has_value()) << r.error().what();
    EXPECT_TRUE(r->tmpcopyup);
    ASSERT_EQ(r->data.size(), 1u);
    EXPECT_EQ(r->data[0].key, "size");
}

TEST(MountOptions, IdmapOptions) {
    auto plain = parse_ok({"rbind", "ro"});
    EXPECT_FALSE(plain.idmap);
    auto idmap = parse_mount_options({"rbind", "nosuid", "idmap"}, "mounts[3].options");
    ASSERT_TRUE(idmap.has_value()) << idmap.error().what();
    EXPECT_TRUE(idmap->idmap);
    EXPECT_FALSE(idmap->idmap_recursive);
    EXPECT_EQ(idmap->idmap_field, "mounts[3].options[2]");
    EXPECT_TRUE(idmap->data.empty());  // not a filesystem parameter
    auto ridmap = parse_mount_options({"ridmap", "rbind"}, "mounts[0].options");
    ASSERT_TRUE(ridmap.has_value()) << ridmap.error().what();
    EXPECT_TRUE(ridmap->idmap);
    EXPECT_TRUE(ridmap->idmap_recursive);
    EXPECT_EQ(ridmap->idmap_field, "mounts[0].options[0]");
    auto known = known_mount_options();
    EXPECT_NE(std::find(known.begin(), known.end(), "idmap"), known.end());
    EXPECT_NE(std::find(known.begin(), known.end(), "ridmap"), known.end());
}

TEST(MountOptions, UnsupportedOptionsAreRefusedNotIgnored) {
    for (const char* opt : {"iversion", "noiversion"}) {
        auto r = parse_mount_options({"nosuid", opt}, "mounts[0].options");
        ASSERT_FALSE(r.has_value()) << opt;
        EXPECT_EQ(r.error().field, "mounts[0].options[1]");
        EXPECT_EQ(r.error().err, EOPNOTSUPP);
    }
    auto remount = parse_mount_options({"remount"}, "mounts[0].options");
    EXPECT_FALSE(remount.has_value());
    EXPECT_TRUE(parse_mount_options({"bind", "remount"}, "mounts[0].options").has_value());
}

TEST(MountOptions, AttrsToLegacyFlags) {
    auto o = parse_ok({"ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime"});
    EXPECT_EQ(attrs_to_ms_flags(o.attrs),
              static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME));
    EXPECT_EQ(attrs_to_ms_flags(parse_ok({"relatime"}).attrs), static_cast<unsigned long>(MS_RELATIME));
    EXPECT_EQ(attrs_to_ms_flags(parse_ok({"strictatime"}).attrs), static_cast<unsigned long>(MS_STRICTATIME));
    EXPECT_EQ(attrs_to_ms_flags(parse_ok({"rw"}).attrs), 0ul);
}

TEST(MountOptions, StatfsFlagsAndRemountChanges) {
    unsigned long current = statfs_to_ms_flags(ST_NOSUID | ST_NODEV | ST_RELATIME);
    EXPECT_EQ(current, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_RELATIME));
    EXPECT_EQ(statfs_to_ms_flags(0), static_cast<unsigned long>(MS_STRICTATIME));

    // "ro,dev,noatime" on top of nosuid,nodev,relatime keeps nosuid.
    auto change = parse_ok({"ro", "dev", "noatime"}).attrs;
    EXPECT_EQ(apply_change_to_ms_flags(current, change),
              static_cast<unsigned long>(MS_NOSUID | MS_RDONLY | MS_NOATIME));
    // An empty change keeps everything.
    EXPECT_EQ(apply_change_to_ms_flags(current, AttrChange{}), current);
}

}  // namespace
}  // namespace hrun::rootfs
