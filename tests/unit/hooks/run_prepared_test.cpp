// run_prepared_hooks, the container side, called from a forked child as the container process
// would call it; the ChildStatus comes back through a pipe.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "hooks/hooks.hpp"
#include "hooks_test_util.hpp"

namespace hrun::hooks {
namespace {

using test::have_busybox;
using test::read_file;
using test::ScratchDir;
using test::shell_hook;

struct ChildRun {
    bool reported = false;
    ChildStatus status;
    pid_t pid = -1;  // the forked child's pid
};

// Forks; the child runs run_prepared_hooks(prepared, pid) and writes the ChildStatus back.
ChildRun run_in_child(const PreparedHooks& prepared, pid_t pid = 0) {
    ChildRun run;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2: " << std::strerror(errno);
        return run;
    }
    pid_t child = ::fork();
    if (child < 0) {
        ADD_FAILURE() << "fork: " << std::strerror(errno);
        return run;
    }
    if (child == 0) {
        ::close(fds[0]);
        ChildStatus s = run_prepared_hooks(prepared, pid);
        ssize_t n = ::write(fds[1], &s, sizeof s);
        ::_exit(n == static_cast<ssize_t>(sizeof s) ? 0 : 1);
    }
    ::close(fds[1]);
    run.pid = child;
    ssize_t n;
    while ((n = ::read(fds[0], &run.status, sizeof run.status)) < 0 && errno == EINTR) {
    }
    run.reported = n == static_cast<ssize_t>(sizeof run.status);
    ::close(fds[0]);
    int wstatus = 0;
    while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
    }
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "child status " << wstatus;
    return run;
}

class RunPrepared : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_busybox()) GTEST_SKIP() << "needs " << test::kBusybox << " for the hook scripts";
        ASSERT_TRUE(dir_.ok());
    }
    std::string at(const std::string& name) const { return dir_ / name; }

    ScratchDir dir_;
};

const std::string kRecord =
    "tr '\\0' '\\n' < /proc/$$/cmdline > \"$D/args\"; "
    "tr '\\0' '\\n' < /proc/$$/environ > \"$D/env\"; "
    "cat > \"$D/stdin\"";

TEST_F(RunPrepared, FillsInThePidAndPassesArgsEnvAndState) {
    spec::Hook hook = shell_hook(dir_.path(), kRecord);
    hook.args.insert(hook.args.end(), {"zeroth", "one", "two words"});
    StateText state = hook_state_text("c1", "created", "/bundle", {{"a", "b"}});
    PreparedHooks prepared = prepare_hooks({hook}, "startContainer", state);

    ChildRun run = run_in_child(prepared, 4242);
    ASSERT_TRUE(run.reported);
    ASSERT_TRUE(run.status) << run.status.error.field << ": " << run.status.error.message;
    EXPECT_EQ(read_file(at("args")), test::newline_list(hook.args));
    EXPECT_EQ(read_file(at("env")), test::newline_list(hook.env));
    const std::string got = read_file(at("stdin"));
    EXPECT_EQ(got, state.head + "4242" + state.tail);
    auto json = nlohmann::json::parse(got);
    EXPECT_EQ(json["pid"], 4242);
    EXPECT_EQ(json["id"], "c1");
    EXPECT_EQ(json["status"], "created");
    EXPECT_EQ(json["annotations"]["a"], "b");
}

TEST_F(RunPrepared, PidZeroMeansTheCallersOwnPid) {
    PreparedHooks prepared = prepare_hooks({shell_hook(dir_.path(), kRecord)}, "startContainer",
                                           hook_state_text("c1", "created", "/bundle", {}));
    ChildRun run = run_in_child(prepared);
    ASSERT_TRUE(run.reported);
    ASSERT_TRUE(run.status) << run.status.error.message;
    auto json = nlohmann::json::parse(read_file(at("stdin")));
    EXPECT_EQ(json["pid"], run.pid);
}

TEST_F(RunPrepared, CompleteStateIsWrittenAsIs) {
    const std::string state = test::big_state(200 * 1024);
    PreparedHooks prepared =
        prepare_hooks({shell_hook(dir_.path(), kRecord)}, "startContainer", state);
    ChildRun run = run_in_child(prepared, 77);
    ASSERT_TRUE(run.reported);
    ASSERT_TRUE(run.status) << run.status.error.message;
    EXPECT_TRUE(read_file(at("stdin")) == state) << "the state arrived altered";
}

TEST_F(RunPrepared, NonZeroExitNamesTheHookAndItsStderr) {
    std::vector<spec::Hook> hooks = {
        shell_hook(dir_.path(), "echo ran >> \"$D/order\""),
        shell_hook(dir_.path(), "echo ran >> \"$D/order\"; echo 'bad thing' >&2; exit 3"),
        shell_hook(dir_.path(), "echo ran >> \"$D/order\""),
    };
    ChildRun run = run_in_child(prepare_hooks(hooks, "startContainer", std::string("{}")));
    ASSERT_TRUE(run.reported);
    ASSERT_FALSE(run.status);
    EXPECT_STREQ(run.status.error.field, "hooks.startContainer[1]");
    EXPECT_STREQ(run.status.error.message, "\"/bin/busybox\" exited with status 3: bad thing");
    EXPECT_EQ(run.status.error.err, 0);
    EXPECT_EQ(read_file(at("order")), "ran\nran\n");
}

TEST_F(RunPrepared, LongOutputKeepsItsEndInTheMessage) {
    ChildRun run = run_in_child(prepare_hooks(
        {shell_hook(dir_.path(), "head -c 3000 /dev/zero | tr '\\0' y >&2; echo END >&2; exit 1")},
        "startContainer", std::string("{}")));
    ASSERT_TRUE(run.reported);
    ASSERT_FALSE(run.status);
    const std::string m = run.status.error.message;
    const std::string prefix = "\"/bin/busybox\" exited with status 1: ...";
    ASSERT_EQ(m.rfind(prefix, 0), 0u) << m;
    EXPECT_EQ(m.size(), sizeof(ChildError::message) - 1) << "the message should use all its room";
    EXPECT_EQ(m.substr(prefix.size()), std::string(m.size() - prefix.size() - 3, 'y') + "END");
}

TEST_F(RunPrepared, KilledBySignal) {
    ChildRun run = run_in_child(prepare_hooks({shell_hook(dir_.path(), "kill -KILL $$")},
                                              "startContainer", std::string("{}")));
    ASSERT_TRUE(run.reported);
    ASSERT_FALSE(run.status);
    EXPECT_STREQ(run.status.error.message, "\"/bin/busybox\" killed by signal 9");
}

TEST_F(RunPrepared, MissingExecutableNamesThePath) {
    spec::Hook missing;
    missing.path = at("nope");
    ChildRun run = run_in_child(prepare_hooks({shell_hook(dir_.path(), "exit 0"), missing},
                                              "startContainer", std::string("{}")));
    ASSERT_TRUE(run.reported);
    ASSERT_FALSE(run.status);
    EXPECT_STREQ(run.status.error.field, "hooks.startContainer[1].path");
    EXPECT_EQ(run.status.error.message, "cannot execute \"" + at("nope") + "\"");
    EXPECT_EQ(run.status.error.err, ENOENT);
}

TEST_F(RunPrepared, Timeout) {
    const auto start = std::chrono::steady_clock::now();
    ChildRun run = run_in_child(
        prepare_hooks({shell_hook(dir_.path(), "echo $$ > \"$D/pid\"; exec sleep 10", 1)},
                      "startContainer", std::string("{}")));
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(run.reported);
    ASSERT_FALSE(run.status);
    EXPECT_STREQ(run.status.error.field, "hooks.startContainer[0]");
    EXPECT_STREQ(run.status.error.message, "timed out after 1 s");
    EXPECT_GE(elapsed, 0.9);
    EXPECT_LT(elapsed, 2.5);
    const pid_t hook_pid = std::atoi(read_file(at("pid")).c_str());
    ASSERT_GT(hook_pid, 0);
    EXPECT_TRUE(test::process_gone(hook_pid));
}

TEST_F(RunPrepared, OnlyTheStandardStreamsReachTheHook) {
    int leaked = ::open("/dev/null", O_RDONLY);  // inheritable on purpose
    ASSERT_GE(leaked, 0);
    ChildRun run = run_in_child(
        prepare_hooks({shell_hook(dir_.path(), "exec ls -l /proc/self/fd > \"$D/fds\"")},
                      "startContainer", std::string("{}")));
    ::close(leaked);
    ASSERT_TRUE(run.reported);
    ASSERT_TRUE(run.status) << run.status.error.message;
    std::set<std::string> numbers;
    for (const auto& [fd, target] : test::listed_fds(read_file(at("fds")))) numbers.insert(fd);
    EXPECT_EQ(numbers, (std::set<std::string>{"0", "1", "2"})) << read_file(at("fds"));
}

TEST_F(RunPrepared, NoHooksNoWork) {
    ChildRun run = run_in_child(prepare_hooks({}, "startContainer", std::string("{}")));
    ASSERT_TRUE(run.reported);
    EXPECT_TRUE(run.status);
}

}  // namespace
}  // namespace hrun::hooks
