// Container locks: exclusion between processes, shared readers, waiting, and a container
// removed or replaced while a process waited for its lock.
#include <gtest/gtest.h>

#include "state/state.hpp"
#include "state_test_util.hpp"

namespace hrun::state {
namespace {

class LockTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(tmp.path().empty());
        auto r = StateRoot::open(tmp / "root");
        ASSERT_TRUE(r) << r.error().what();
        root.emplace(std::move(*r));
        auto dir = root->create("web");
        ASSERT_TRUE(dir) << dir.error().what();
        ASSERT_TRUE(dir->save(test::sample_state("web")));
    }

    // Forks a child that takes `lock` on "web", reports 'L', and releases it when told 'R'.
    pid_t spawn_holder(Lock lock, test::Pipe& to_parent, test::Pipe& to_child) {
        return test::fork_child([&, lock] {
            auto dir = root->open("web", lock);
            if (!dir) return 2;
            to_parent.send('L');
            if (to_child.receive() != 'R') return 3;
            dir->release();
            to_parent.send('U');
            return 0;
        });
    }

    test::TempDir tmp;
    std::optional<StateRoot> root;
};

TEST_F(LockTest, ExclusiveHolderShutsOutEveryLockUntilReleased) {
    test::Pipe up, down;
    pid_t holder = spawn_holder(Lock::Exclusive, up, down);
    ASSERT_GT(holder, 0);
    test::Reaper reaper{holder};
    ASSERT_EQ(up.receive(), 'L');

    for (Lock lock : {Lock::Exclusive, Lock::Shared}) {
        auto attempt = root->open("web", lock, Wait::Try);
        ASSERT_FALSE(attempt);
        EXPECT_EQ(attempt.error().err, EWOULDBLOCK);
        EXPECT_EQ(attempt.error().message, "container \"web\" is locked by another hrun process");
    }
    // Lock-free readers are not held up.
    auto reader = root->open("web", Lock::None, Wait::Try);
    ASSERT_TRUE(reader);
    EXPECT_TRUE(reader->load());

    ASSERT_TRUE(down.send('R'));
    ASSERT_EQ(up.receive(), 'U');
    auto after = root->open("web", Lock::Exclusive, Wait::Try);
    EXPECT_TRUE(after) << after.error().what();
    reaper.pid = -1;
    EXPECT_EQ(test::wait_exit(holder), 0);
}

TEST_F(LockTest, SharedHoldersAdmitReadersButNotWriters) {
    test::Pipe up, down;
    pid_t holder = spawn_holder(Lock::Shared, up, down);
    ASSERT_GT(holder, 0);
    test::Reaper reaper{holder};
    ASSERT_EQ(up.receive(), 'L');

    auto reader = root->open("web", Lock::Shared, Wait::Try);
    ASSERT_TRUE(reader) << reader.error().what();
    auto writer = root->open("web", Lock::Exclusive, Wait::Try);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().err, EWOULDBLOCK);
    reader->release();

    ASSERT_TRUE(down.send('R'));
    ASSERT_EQ(up.receive(), 'U');
    EXPECT_TRUE(root->open("web", Lock::Exclusive, Wait::Try));
    reaper.pid = -1;
    EXPECT_EQ(test::wait_exit(holder), 0);
}

TEST_F(LockTest, LocksConflictWithinOneProcessToo) {
    // flock locks belong to open file descriptions, so two opens in one process exclude each
    // other: a command cannot accidentally pass its own lock.
    auto first = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(first);
    EXPECT_FALSE(root->open("web", Lock::Exclusive, Wait::Try));
    first->release();
    EXPECT_TRUE(root->open("web", Lock::Exclusive, Wait::Try));
}

TEST_F(LockTest, BlockingOpenWaitsForTheHolder) {
    test::Pipe up, down, waiter_up;
    pid_t holder = spawn_holder(Lock::Exclusive, up, down);
    ASSERT_GT(holder, 0);
    test::Reaper reap_holder{holder};
    ASSERT_EQ(up.receive(), 'L');

    pid_t waiter = test::fork_child([&] {
        auto dir = root->open("web", Lock::Exclusive, Wait::Block);
        waiter_up.send(dir ? 'A' : 'E');
        return dir ? 0 : 2;
    });
    ASSERT_GT(waiter, 0);
    test::Reaper reap_waiter{waiter};
    ASSERT_TRUE(test::wait_until_blocked_on_flock(waiter));
    EXPECT_EQ(waiter_up.receive(100), 0);  // still waiting

    ASSERT_TRUE(down.send('R'));
    EXPECT_EQ(waiter_up.receive(), 'A');
    reap_holder.pid = reap_waiter.pid = -1;
    EXPECT_EQ(test::wait_exit(holder), 0);
    EXPECT_EQ(test::wait_exit(waiter), 0);
}

TEST_F(LockTest, ContainerRemovedWhileWaitingDoesNotExist) {
    auto held = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(held);
    pid_t waiter = test::fork_child([&] {
        // The copy of the parent's locked fd would keep the lock alive in this process.
        ::close(held->fd());
        auto dir = root->open("web", Lock::Exclusive, Wait::Block);
        if (dir) return 0;
        if (dir.error().err == ENOENT && dir.error().message == "container \"web\" does not exist") return 1;
        return 2;
    });
    ASSERT_GT(waiter, 0);
    test::Reaper reaper{waiter};
    // The waiter opened the directory and sleeps in flock: only the check after the lock can
    // tell it that the directory is gone.
    ASSERT_TRUE(test::wait_until_blocked_on_flock(waiter));
    ASSERT_TRUE(held->remove());
    reaper.pid = -1;
    EXPECT_EQ(test::wait_exit(waiter), 1);
}

// The directory the waiter holds still exists, but the id now names another directory (it was
// moved aside and a new container took the id): the waiter must not act on the newcomer.
TEST_F(LockTest, ContainerReplacedWhileWaitingDoesNotExist) {
    auto held = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(held);
    pid_t waiter = test::fork_child([&] {
        // The copy of the parent's locked fd would keep the lock alive in this process.
        ::close(held->fd());
        auto dir = root->open("web", Lock::Exclusive, Wait::Block);
        if (dir) return 0;
        return dir.error().err == ENOENT ? 1 : 2;
    });
    ASSERT_GT(waiter, 0);
    test::Reaper reaper{waiter};
    ASSERT_TRUE(test::wait_until_blocked_on_flock(waiter));
    ASSERT_EQ(::rename((root->path() + "/web").c_str(), (root->path() + "/moved").c_str()), 0);
    auto newcomer = root->create("web");
    ASSERT_TRUE(newcomer) << newcomer.error().what();
    ASSERT_TRUE(newcomer->save(test::sample_state("web")));
    newcomer->release();
    held->release();
    reaper.pid = -1;
    EXPECT_EQ(test::wait_exit(waiter), 1);
    // Whoever asks now gets the newcomer.
    EXPECT_TRUE(root->open("web", Lock::Exclusive, Wait::Try));
}

}  // namespace
}  // namespace hrun::state
