// The parent's side of idmapped mounts, for real (needs root): a namespace made for explicit
// maps, detached clones that show owners through it, and the error for a filesystem that
// cannot be idmapped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "linux/procfs.hpp"
#include "rootfs/idmap.hpp"
#include "test_util.hpp"

namespace hrun::rootfs {
namespace {

using test::TempDir;

class PremadeMounts : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: idmapped mounts need CAP_SYS_ADMIN on the host";
        auto proc = os::open_verified_procfs();
        ASSERT_TRUE(proc.has_value()) << proc.error().what();
        proc_ = std::move(*proc);
        dir_.write("data/file", "x");
        ASSERT_EQ(::chown((dir_ / "data/file").c_str(), 0, 0), 0);
        ASSERT_EQ(::chown((dir_ / "data").c_str(), 1000, 1000), 0);
    }

    MountPlan bind_plan(const std::string& source, std::string uid_map, std::string gid_map) {
        MountPlan mp;
        mp.kind = MountKind::kBind;
        mp.field = "mounts[3]";
        mp.source_field = "mounts[3].source";
        mp.options_field = "mounts[3].options";
        mp.source = source;
        mp.idmap.enabled = true;
        mp.idmap.field = "mounts[3]";
        mp.idmap.reason = "\"idmap\"";
        mp.idmap.uid_map = std::move(uid_map);
        mp.idmap.gid_map = std::move(gid_map);
        mp.idmap.slot = 0;
        return mp;
    }

    UniqueFd proc_;
    TempDir dir_;
};

TEST_F(PremadeMounts, NewNamespaceHasTheMaps) {
    auto ns = new_mapped_userns("0 300000 1000\n", "0 310000 1000\n", proc_.get());
    ASSERT_TRUE(ns.has_value()) << ns.error().what();
    // The fd is a user namespace other than ours.
    struct stat ours, theirs;
    ASSERT_EQ(::stat("/proc/self/ns/user", &ours), 0);
    ASSERT_EQ(::fstat(ns->get(), &theirs), 0);
    EXPECT_NE(ours.st_ino, theirs.st_ino);
    // The process that held it is gone, reaped: no child of ours is left.
    errno = 0;
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG | __WALL), -1);
    EXPECT_EQ(errno, ECHILD);
}

TEST_F(PremadeMounts, ExplicitMapsShowOwnersThroughThem) {
    RootfsPlan plan;
    plan.mounts.push_back(bind_plan(dir_ / "data", "0 300000 1000\n", "0 310000 1000\n"));
    plan.mounts[0].options.attrs.set = MOUNT_ATTR_RDONLY;
    plan.premade_count = 1;
    auto mounts = make_premade_mounts(plan, -1, proc_.get());
    ASSERT_TRUE(mounts.has_value()) << mounts.error().what();
    ASSERT_EQ(mounts->size(), 1u);
    struct stat st;
    // On disk 0:0, seen through the mount as the namespace's 0, host 300000/310000.
    ASSERT_EQ(::fstatat((*mounts)[0].get(), "file", &st, 0), 0);
    EXPECT_EQ(st.st_uid, 300000u);
    EXPECT_EQ(st.st_gid, 310000u);
    // 1000 is outside the maps: the overflow id.
    ASSERT_EQ(::fstatat((*mounts)[0].get(), "", &st, AT_EMPTY_PATH), 0);
    EXPECT_EQ(st.st_uid, 65534u);
    // The options were applied to the clone.
    EXPECT_LT(::openat((*mounts)[0].get(), "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), 0);
    EXPECT_EQ(errno, EROFS);
}

TEST_F(PremadeMounts, MissingContainerNamespaceIsAnError) {
    RootfsPlan plan;
    plan.mounts.push_back(bind_plan(dir_ / "data", "", ""));
    plan.premade_count = 1;
    auto mounts = make_premade_mounts(plan, -1, proc_.get());
    ASSERT_FALSE(mounts.has_value());
    EXPECT_EQ(mounts.error().field, "mounts[3]");
}

TEST_F(PremadeMounts, UnsupportedFilesystemNamesTheMount) {
    // procfs does not allow idmapped mounts.
    RootfsPlan plan;
    plan.mounts.push_back(bind_plan("/proc", "0 300000 1000\n", "0 300000 1000\n"));
    plan.premade_count = 1;
    auto mounts = make_premade_mounts(plan, -1, proc_.get());
    ASSERT_FALSE(mounts.has_value());
    EXPECT_EQ(mounts.error().field, "mounts[3]");
    EXPECT_EQ(mounts.error().message, "\"idmap\": the filesystem does not support idmapped mounts");
}

TEST_F(PremadeMounts, BadMapsNameTheMapping) {
    RootfsPlan plan;
    plan.mounts.push_back(bind_plan(dir_ / "data", "0 300000 0\n", "0 300000 1\n"));
    plan.premade_count = 1;
    auto mounts = make_premade_mounts(plan, -1, proc_.get());
    ASSERT_FALSE(mounts.has_value());
    EXPECT_EQ(mounts.error().field, "mounts[3].uidMappings");
}

}  // namespace
}  // namespace hrun::rootfs
