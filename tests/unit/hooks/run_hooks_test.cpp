// run_hooks / run_hooks_best_effort: real hooks (busybox sh scripts) run from this process.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "hooks/hooks.hpp"
#include "hooks_test_util.hpp"

namespace hrun::hooks {
namespace {

using test::have_busybox;
using test::read_file;
using test::ScratchDir;
using test::shell_hook;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class RunHooks : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have_busybox()) GTEST_SKIP() << "needs " << test::kBusybox << " for the hook scripts";
        ASSERT_TRUE(dir_.ok());
    }
    std::string at(const std::string& name) const { return dir_ / name; }

    ScratchDir dir_;
};

TEST_F(RunHooks, PassesExactArgsEnvAndState) {
    // argv as given, environment exactly `env`, the state intact on stdin (larger than a pipe
    // buffer, so the write loop is exercised), and an empty signal mask.
    const std::string script =
        "tr '\\0' '\\n' < /proc/$$/cmdline > \"$D/args\"; "
        "tr '\\0' '\\n' < /proc/$$/environ > \"$D/env\"; "
        "grep SigBlk /proc/$$/status > \"$D/sigblk\"; "
        "cat > \"$D/stdin\"";
    spec::Hook hook = shell_hook(dir_.path(), script);
    hook.args.insert(hook.args.end(), {"zeroth", "one", "two words", ""});
    hook.env.push_back("WITH_SPACE=a b");
    hook.env.push_back("EMPTY=");
    ASSERT_EQ(::setenv("HRUN_HOOKS_TEST_LEAK", "from-the-runtime", 1), 0);
    const std::string state = test::big_state(300 * 1024);

    // hrun blocks every signal around clone; hooks must still run and be waited for.
    sigset_t all, saved;
    sigfillset(&all);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &all, &saved), 0);
    Status s = run_hooks({hook}, "prestart", state);
    ::sigprocmask(SIG_SETMASK, &saved, nullptr);
    ::unsetenv("HRUN_HOOKS_TEST_LEAK");

    ASSERT_TRUE(s) << s.error().what();
    EXPECT_EQ(read_file(at("args")), test::newline_list(hook.args));
    EXPECT_EQ(read_file(at("env")), test::newline_list(hook.env));
    EXPECT_EQ(read_file(at("env")).find("HRUN_HOOKS_TEST_LEAK"), std::string::npos);
    EXPECT_EQ(read_file(at("sigblk")), "SigBlk:\t0000000000000000\n");
    const std::string got = read_file(at("stdin"));
    EXPECT_EQ(got.size(), state.size());
    EXPECT_TRUE(got == state) << "the state arrived altered";
}

TEST_F(RunHooks, WithoutArgsArgv0IsThePath) {
    // A busybox symlink named "sh": busybox picks the applet from argv[0]'s base name, and sh
    // with no arguments runs its stdin, which here is the "state".
    const std::string sh = at("sh");
    ASSERT_EQ(::symlink(test::kBusybox, sh.c_str()), 0);
    spec::Hook hook;
    hook.path = sh;
    hook.env = {"D=" + dir_.path()};
    Status s = run_hooks({hook}, "createRuntime",
                         "/bin/busybox tr '\\0' '\\n' < /proc/$$/cmdline > \"$D/args\"\n");
    ASSERT_TRUE(s) << s.error().what();
    EXPECT_EQ(read_file(at("args")), sh + "\n");
}

TEST_F(RunHooks, NonZeroExitNamesStatusAndStderr) {
    Status s = run_hooks({shell_hook(dir_.path(), "echo to-stdout; echo first line >&2; "
                                                  "echo 'bad thing' >&2; exit 3")},
                         "prestart", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().field, "hooks.prestart[0]");
    EXPECT_EQ(s.error().err, 0);
    EXPECT_EQ(s.error().what(),
              "hooks.prestart[0]: \"/bin/busybox\" exited with status 3: first line\nbad thing");
}

TEST_F(RunHooks, StdoutShownWhenStderrIsEmpty) {
    Status s = run_hooks({shell_hook(dir_.path(), "echo only-stdout; exit 2")}, "prestart", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "\"/bin/busybox\" exited with status 2: only-stdout");
}

TEST_F(RunHooks, OnlyTheLastKibOfStderrIsKept) {
    Status s = run_hooks(
        {shell_hook(dir_.path(), "head -c 5000 /dev/zero | tr '\\0' x >&2; echo END >&2; exit 1")},
        "createContainer", "{}");
    ASSERT_FALSE(s);
    const std::string& m = s.error().message;
    const std::string prefix = "\"/bin/busybox\" exited with status 1: ...";
    ASSERT_EQ(m.rfind(prefix, 0), 0u) << m;
    std::string tail = m.substr(prefix.size());
    // The last KiB of the stream is 1020 x's and "END\n"; the trailing newline is dropped.
    EXPECT_EQ(tail, std::string(1020, 'x') + "END");
}

TEST_F(RunHooks, KilledBySignal) {
    Status s = run_hooks({shell_hook(dir_.path(), "kill -9 $$")}, "poststart", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().what(), "hooks.poststart[0]: \"/bin/busybox\" killed by signal 9");
}

TEST_F(RunHooks, IgnoredSignalsAreNotInherited) {
    // A shell keeps signals that were ignored when it started ignored; the hook must start
    // with default dispositions whatever the runtime ignores.
    struct sigaction ignore {}, saved{};
    ignore.sa_handler = SIG_IGN;
    ASSERT_EQ(::sigaction(SIGTERM, &ignore, &saved), 0);
    Status s = run_hooks({shell_hook(dir_.path(), "kill -TERM $$; exit 0")}, "prestart", "{}");
    ::sigaction(SIGTERM, &saved, nullptr);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "\"/bin/busybox\" killed by signal 15");
}

TEST_F(RunHooks, TimeoutKillsTheHookAndWhatItStarted) {
    const auto start = std::chrono::steady_clock::now();
    const std::string script =
        "echo $$ > \"$D/pid\"; sleep 10 & echo $! > \"$D/child\"; wait";
    Status s = run_hooks({shell_hook(dir_.path(), script, 1)}, "createContainer", "{}");
    const double elapsed = seconds_since(start);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().what(), "hooks.createContainer[0]: timed out after 1 s");
    EXPECT_GE(elapsed, 0.9);
    EXPECT_LT(elapsed, 2.5);
    const pid_t hook_pid = std::atoi(read_file(at("pid")).c_str());
    const pid_t sleep_pid = std::atoi(read_file(at("child")).c_str());
    ASSERT_GT(hook_pid, 0);
    ASSERT_GT(sleep_pid, 0);
    EXPECT_TRUE(test::process_gone(hook_pid));
    EXPECT_TRUE(test::process_gone(sleep_pid)) << "the hook's child survived the timeout";
}

TEST_F(RunHooks, MissingExecutable) {
    spec::Hook hook;
    hook.path = at("nope");
    Status s = run_hooks({hook}, "createRuntime", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().err, ENOENT);
    EXPECT_EQ(s.error().what(), "hooks.createRuntime[0].path: cannot execute \"" + at("nope") +
                                    "\": no such file or directory");
}

TEST_F(RunHooks, NotExecutable) {
    const std::string plain = at("plain");
    { std::ofstream(plain) << "#!/bin/sh\nexit 0\n"; }
    ASSERT_EQ(::chmod(plain.c_str(), 0644), 0);
    spec::Hook hook;
    hook.path = plain;
    Status s = run_hooks({hook}, "prestart", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().field, "hooks.prestart[0].path");
    EXPECT_EQ(s.error().err, EACCES);
}

TEST_F(RunHooks, HookThatDoesNotReadAMebibyteState) {
    // The hook exits without reading: the write end sees EPIPE. Neither a hang nor SIGPIPE
    // (default disposition: death of this process), and no SIGPIPE left pending for a caller
    // that blocks signals.
    struct sigaction dfl {}, saved{};
    dfl.sa_handler = SIG_DFL;
    ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &saved), 0);
    const std::string state = test::big_state(1 << 20);
    spec::Hook quits;
    quits.path = test::kBusybox;
    quits.args = {"true"};
    const auto start = std::chrono::steady_clock::now();
    Status s = run_hooks({quits}, "prestart", state);
    EXPECT_TRUE(s) << s.error().what();

    sigset_t pipe_only, saved_mask, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &pipe_only, &saved_mask), 0);
    // Reads a little, then lingers with stdin open but unread, then exits.
    Status partial = run_hooks({shell_hook(dir_.path(), "head -c 100 > /dev/null; sleep 0.2")},
                               "prestart", state);
    EXPECT_TRUE(partial) << partial.error().what();
    Status closed =
        run_hooks({shell_hook(dir_.path(), "exec 0<&-; sleep 0.1")}, "prestart", state);
    EXPECT_TRUE(closed) << closed.error().what();
    sigemptyset(&pending);
    ::sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "a SIGPIPE was left pending";
    ::sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
    ::sigaction(SIGPIPE, &saved, nullptr);
    EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(RunHooks, RunInOrderAndStopAtTheFirstFailure) {
    std::vector<spec::Hook> hooks = {
        shell_hook(dir_.path(), "echo first >> \"$D/order\""),
        shell_hook(dir_.path(), "echo second >> \"$D/order\"; exit 4"),
        shell_hook(dir_.path(), "echo third >> \"$D/order\""),
    };
    Status s = run_hooks(hooks, "poststart", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().field, "hooks.poststart[1]");
    EXPECT_EQ(read_file(at("order")), "first\nsecond\n");

    std::filesystem::remove(at("order"));
    hooks[1] = shell_hook(dir_.path(), "echo second >> \"$D/order\"");
    Status all = run_hooks(hooks, "poststart", "{}");
    EXPECT_TRUE(all) << all.error().what();
    EXPECT_EQ(read_file(at("order")), "first\nsecond\nthird\n");
}

TEST_F(RunHooks, BestEffortRunsEveryHookAndReportsEveryFailure) {
    std::vector<spec::Hook> hooks = {
        shell_hook(dir_.path(), "echo first >> \"$D/order\"; exit 5"),
        shell_hook(dir_.path(), "echo second >> \"$D/order\""),
        shell_hook(dir_.path(), "echo third >> \"$D/order\"; echo oops >&2; exit 6"),
    };
    Status s = run_hooks_best_effort(hooks, "poststop", "{}");
    ASSERT_FALSE(s);
    EXPECT_EQ(read_file(at("order")), "first\nsecond\nthird\n");
    EXPECT_EQ(s.error().what(),
              "hooks.poststop[0]: \"/bin/busybox\" exited with status 5; "
              "hooks.poststop[2]: \"/bin/busybox\" exited with status 6: oops");

    // A single failure comes back as it is, field and all.
    Status one = run_hooks_best_effort({hooks[1], hooks[2]}, "poststop", "{}");
    ASSERT_FALSE(one);
    EXPECT_EQ(one.error().field, "hooks.poststop[1]");

    Status none = run_hooks_best_effort({hooks[1]}, "poststop", "{}");
    EXPECT_TRUE(none) << none.error().what();
}

TEST_F(RunHooks, OnlyTheStandardStreamsReachTheHook) {
    // Leave descriptors open without close-on-exec, low and high.
    int leaked_low = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leaked_low, 0);
    int leaked_high = ::dup2(leaked_low, 60);
    ASSERT_EQ(leaked_high, 60);
    Status s = run_hooks({shell_hook(dir_.path(), "exec ls -l /proc/self/fd > \"$D/fds\"")},
                         "createRuntime", "{}");
    ::close(leaked_low);
    ::close(leaked_high);
    ASSERT_TRUE(s) << s.error().what();
    auto fds = test::listed_fds(read_file(at("fds")));
    std::set<std::string> numbers;
    for (const auto& [fd, target] : fds) numbers.insert(fd);
    EXPECT_EQ(numbers, (std::set<std::string>{"0", "1", "2"})) << read_file(at("fds"));
    EXPECT_EQ(fds["0"].rfind("pipe:", 0), 0u) << fds["0"];
    EXPECT_EQ(fds["1"], at("fds"));
    EXPECT_EQ(fds["2"].rfind("pipe:", 0), 0u) << fds["2"];
}

TEST_F(RunHooks, EmptyListDoesNothing) {
    EXPECT_TRUE(run_hooks({}, "prestart", "{}"));
    EXPECT_TRUE(run_hooks_best_effort({}, "poststop", "{}"));
}

}  // namespace
}  // namespace hrun::hooks
