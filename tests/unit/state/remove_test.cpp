// Deleting a container directory: everything inside goes, nothing outside it does, whatever
// symlinks, hard links or mounts were planted there.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "state/state.hpp"
#include "state_test_util.hpp"

namespace hrun::state {
namespace {

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

class RemoveTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(tmp.path().empty());
        auto r = StateRoot::open(tmp / "root");
        ASSERT_TRUE(r) << r.error().what();
        root.emplace(std::move(*r));
        // Outside the root: what planted links point at.
        ASSERT_EQ(::mkdir(outside().c_str(), 0755), 0);
        test::write_text(outside() + "/precious", "keep me");
        ASSERT_EQ(::mkdir((outside() + "/subdir").c_str(), 0755), 0);
        test::write_text(outside() + "/subdir/also", "keep me too");
    }
    std::string outside() const { return tmp / "outside"; }
    void expect_outside_intact() {
        EXPECT_EQ(test::read_text(outside() + "/precious"), "keep me");
        EXPECT_EQ(test::read_text(outside() + "/subdir/also"), "keep me too");
    }

    test::TempDir tmp;
    std::optional<StateRoot> root;
};

TEST_F(RemoveTest, RemovesEverythingInsideAndNothingOutside) {
    auto dir = root->create("web");
    ASSERT_TRUE(dir);
    ASSERT_TRUE(dir->save(test::sample_state("web")));
    ASSERT_TRUE(dir->create_exec_fifo(::geteuid(), ::getegid()));
    const std::string p = dir->path();
    test::write_text(p + "/state.json.tmp-leftover", "{");
    ASSERT_EQ(::symlink(outside().c_str(), (p + "/dirlink").c_str()), 0);
    ASSERT_EQ(::symlink((outside() + "/precious").c_str(), (p + "/filelink").c_str()), 0);
    ASSERT_EQ(::link((outside() + "/precious").c_str(), (p + "/hardlink").c_str()), 0);
    ASSERT_EQ(::mkdir((p + "/sub").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((p + "/sub/deeper").c_str(), 0700), 0);
    test::write_text(p + "/sub/deeper/file", "x");
    ASSERT_EQ(::symlink(outside().c_str(), (p + "/sub/deeper/up").c_str()), 0);
    ASSERT_EQ(::symlink("../../..", (p + "/sub/deeper/dots").c_str()), 0);

    auto removed = dir->remove();
    ASSERT_TRUE(removed) << removed.error().what();
    EXPECT_EQ(dir->fd(), -1);
    EXPECT_FALSE(exists(p));
    EXPECT_TRUE(exists(root->path()));
    expect_outside_intact();
    struct stat st{};
    ASSERT_EQ(::stat((outside() + "/precious").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);  // only the hard link inside was removed

    auto gone = root->open("web", Lock::None);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().err, ENOENT);
    EXPECT_TRUE(root->create("web"));  // the id is free again
}

TEST_F(RemoveTest, RemovesAContainerWhoseCreationDied) {
    {
        auto dir = root->create("half");  // no state.json: creation never finished
        ASSERT_TRUE(dir);
    }
    auto dir = root->open("half", Lock::Exclusive);
    ASSERT_TRUE(dir) << dir.error().what();
    EXPECT_FALSE(dir->load());
    ASSERT_TRUE(dir->remove());
    EXPECT_FALSE(exists(root->path() + "/half"));
}

TEST_F(RemoveTest, NeedsTheExclusiveLock) {
    ASSERT_TRUE(root->create("web"));
    auto shared = root->open("web", Lock::Shared);
    ASSERT_TRUE(shared);
    auto st = shared->remove();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, EINVAL);
    EXPECT_TRUE(exists(root->path() + "/web"));
}

TEST_F(RemoveTest, DoesNotRemoveADirectoryThatIsNoLongerTheContainer) {
    auto dir = root->create("web");
    ASSERT_TRUE(dir);
    ASSERT_EQ(::rename((root->path() + "/web").c_str(), (root->path() + "/elsewhere").c_str()), 0);
    ASSERT_EQ(::mkdir((root->path() + "/web").c_str(), 0700), 0);
    test::write_text(root->path() + "/web/keep", "k");
    auto st = dir->remove();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, ENOENT);
    EXPECT_EQ(test::read_text(root->path() + "/web/keep"), "k");
    EXPECT_TRUE(exists(root->path() + "/elsewhere"));
}

// A directory mounted inside the container directory is refused, not emptied.
TEST_F(RemoveTest, RefusesToDescendIntoAMount) {
    auto dir = root->create("web");
    ASSERT_TRUE(dir);
    ASSERT_TRUE(dir->save(test::sample_state("web")));
    ASSERT_EQ(::mkdir((dir->path() + "/mnt").c_str(), 0700), 0);
    dir->release();
    const std::string mnt = root->path() + "/web/mnt";
    // In a private mount namespace, so that nothing outlives the test.
    pid_t child = test::fork_child([&] {
        if (::unshare(CLONE_NEWNS) != 0) return 10;
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 10;
        if (::mount(outside().c_str(), mnt.c_str(), nullptr, MS_BIND, nullptr) != 0) return 10;
        auto held = root->open("web", Lock::Exclusive);
        if (!held) return 2;
        auto st = held->remove();
        if (st) return 3;
        if (st.error().err != EBUSY) return 4;
        if (test::read_text(outside() + "/precious") != "keep me") return 5;
        if (test::read_text(mnt + "/precious") != "keep me") return 6;
        return 0;
    });
    ASSERT_GT(child, 0);
    int code = test::wait_exit(child);
    if (code == 10) GTEST_SKIP() << "cannot make a private mount namespace with a bind mount here";
    EXPECT_EQ(code, 0);
    expect_outside_intact();
    // Without the mount, the remains go away normally.
    auto again = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->remove());
    EXPECT_FALSE(exists(root->path() + "/web"));
}

}  // namespace
}  // namespace hrun::state
