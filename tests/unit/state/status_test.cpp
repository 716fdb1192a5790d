// Status derivation: /proc/<pid>/stat parsing, pid reuse, zombies, the exec fifo, paused.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>

#include "state/state.hpp"
#include "state_test_util.hpp"

namespace hrun::state {
namespace {

// Fields 3..52 of a real stat line; field 22 (starttime) is 987654.
constexpr const char* kTail =
    " S 1 1234 1234 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 987654 2588672 200 18446744073709551615 "
    "1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ProcStat, ParsesStateParentAndStartTime) {
    auto st = parse_proc_stat(std::string("1234 (sleep)") + kTail);
    ASSERT_TRUE(st) << st.error().what();
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->ppid, 1);
    EXPECT_EQ(st->start_time, 987654u);
}

TEST(ProcStat, CommMayHoldSpacesAndParentheses) {
    // comm "a) Z 9 (x" would derail a parser that stops at the first ')'.
    auto st = parse_proc_stat(std::string("77 (a) Z 9 (x)") + kTail);
    ASSERT_TRUE(st) << st.error().what();
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->start_time, 987654u);
    auto spaced = parse_proc_stat(std::string("77 (my prog  )") + kTail);
    ASSERT_TRUE(spaced);
    EXPECT_EQ(spaced->ppid, 1);
}

TEST(ProcStat, RejectsMalformedLines) {
    EXPECT_FALSE(parse_proc_stat(""));
    EXPECT_FALSE(parse_proc_stat("12 sleep S 1 2 3"));
    EXPECT_FALSE(parse_proc_stat("12 (sleep) S 1 2 3\n"));                        // too short
    EXPECT_FALSE(parse_proc_stat(std::string("12 (sleep) SS") + (kTail + 2)));  // two-letter state
    std::string bad_start = std::string("12 (x)") + kTail;
    bad_start.replace(bad_start.find("987654"), 6, "98x654");
    EXPECT_FALSE(parse_proc_stat(bad_start));
}

TEST(ProcStat, ReadsThisProcess) {
    auto st = read_proc_stat(::getpid());
    ASSERT_TRUE(st) << st.error().what();
    EXPECT_EQ(st->state, 'R');
    EXPECT_EQ(st->ppid, ::getppid());
    // Independent reading of field 22.
    std::string text = test::read_text("/proc/self/stat");
    std::string after = text.substr(text.rfind(')') + 2);
    unsigned long long start = 0;
    int n = std::sscanf(after.c_str(), "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                        &start);
    ASSERT_EQ(n, 1);
    EXPECT_EQ(st->start_time, start);
    auto t = process_start_time(::getpid());
    ASSERT_TRUE(t);
    EXPECT_EQ(*t, start);
}

class StatusTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(dir.path().empty());
        child = test::fork_child([] {
            for (;;) ::pause();
            return 0;
        });
        ASSERT_GT(child, 0);
        auto start = process_start_time(child);
        ASSERT_TRUE(start) << start.error().what();
        state.id = "st";
        state.pid = child;
        state.pid_start_time = *start;
        state.exec_fifo = dir / "exec.fifo";
    }
    void TearDown() override {
        if (child > 0) {
            ::kill(child, SIGKILL);
            test::wait_exit(child);
        }
    }
    ContainerStatus status(const PausedCheck& paused = {}) {
        auto s = container_status(state, paused);
        EXPECT_TRUE(s) << s.error().what();
        return s ? *s : ContainerStatus::Stopped;
    }

    test::TempDir dir;
    pid_t child = -1;
    ContainerState state;
};

TEST_F(StatusTest, LiveProcessWithoutFifoIsRunning) {
    EXPECT_EQ(status(), ContainerStatus::Running);
    EXPECT_TRUE(*init_alive(state));
    state.exec_fifo.clear();
    EXPECT_EQ(status(), ContainerStatus::Running);
}

TEST_F(StatusTest, LiveProcessWithExecFifoIsCreated) {
    ASSERT_EQ(::mkfifo(state.exec_fifo.c_str(), 0600), 0);
    EXPECT_EQ(status(), ContainerStatus::Created);
    ASSERT_EQ(::unlink(state.exec_fifo.c_str()), 0);  // what `start` does
    EXPECT_EQ(status(), ContainerStatus::Running);
}

TEST_F(StatusTest, PausedCheckDecidesPausedEvenWhenCreated) {
    int calls = 0;
    PausedCheck frozen = [&](const ContainerState& s) -> Result<bool> {
        ++calls;
        EXPECT_EQ(s.id, "st");
        return true;
    };
    PausedCheck thawed = [&](const ContainerState&) -> Result<bool> {
        ++calls;
        return false;
    };
    EXPECT_EQ(status(frozen), ContainerStatus::Paused);
    EXPECT_EQ(status(thawed), ContainerStatus::Running);
    ASSERT_EQ(::mkfifo(state.exec_fifo.c_str(), 0600), 0);
    EXPECT_EQ(status(frozen), ContainerStatus::Paused);
    EXPECT_EQ(status(thawed), ContainerStatus::Created);
    EXPECT_EQ(calls, 4);

    PausedCheck broken = [](const ContainerState&) -> Result<bool> { return fail("", "freezer unreadable", EIO); };
    auto s = container_status(state, broken);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().err, EIO);
}

TEST_F(StatusTest, ReusedPidIsStopped) {
    state.pid_start_time += 1;
    int calls = 0;
    PausedCheck paused = [&](const ContainerState&) -> Result<bool> {
        ++calls;
        return true;
    };
    ASSERT_EQ(::mkfifo(state.exec_fifo.c_str(), 0600), 0);
    EXPECT_EQ(status(paused), ContainerStatus::Stopped);
    EXPECT_EQ(calls, 0);  // the freezer is not consulted for a dead container
    EXPECT_FALSE(*init_alive(state));
}

TEST_F(StatusTest, ZombieAndReapedProcessesAreStopped) {
    ASSERT_EQ(::mkfifo(state.exec_fifo.c_str(), 0600), 0);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    // Not reaped yet: wait until the kernel shows it as a zombie.
    bool zombie = false;
    for (int i = 0; i < 5000 && !zombie; ++i) {
        auto st = read_proc_stat(child);
        ASSERT_TRUE(st) << st.error().what();
        zombie = st->state == 'Z';
        if (!zombie) ::usleep(1000);
    }
    ASSERT_TRUE(zombie);
    EXPECT_EQ(status(), ContainerStatus::Stopped);
    EXPECT_EQ(test::wait_exit(child), 128 + SIGKILL);
    pid_t gone = child;
    child = -1;
    auto st = read_proc_stat(gone);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, ENOENT);
    EXPECT_EQ(status(), ContainerStatus::Stopped);
}

TEST(Status, NoPidIsStopped) {
    ContainerState s;
    s.id = "none";
    EXPECT_EQ(*container_status(s), ContainerStatus::Stopped);
    s.pid = -5;
    EXPECT_EQ(*container_status(s), ContainerStatus::Stopped);
}

}  // namespace
}  // namespace hrun::state
