// Signals sent to hrun reach the container's process; its fate becomes hrun's exit status.
#include <signal.h>

#include <thread>

#include "harness.hpp"

namespace hrun::itest {
namespace {

using Signals = ContainerTest;

TEST_F(Signals, SigtermIsForwardedToTheContainer) {
    bundle().set_args({"/bin/hrun-probe", "trap-term", "7"});
    bundle().save();
    Process hrun(bundle().run_argv());
    ASSERT_TRUE(hrun.wait_for_output("ready", 20s)) << hrun.wait(1s).describe();
    ASSERT_EQ(::kill(hrun.pid(), SIGTERM), 0);
    RunResult r = hrun.wait(20s);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.status, 7) << "the probe exits 7 when SIGTERM reaches it\n" << r.describe();
}

TEST_F(Signals, SignalForwardedToANonInitProcessKillsIt) {
    // Without a pid namespace the probe is no namespace init: default dispositions apply, so a
    // forwarded SIGTERM kills it and hrun reports 128+15.
    bundle().remove_namespace("pid");
    bundle().set_args({"/bin/hrun-probe", "sleep", "60"});
    bundle().save();
    Process hrun(bundle().run_argv());
    ASSERT_TRUE(hrun.wait_for_output("ready", 20s)) << hrun.wait(1s).describe();
    ASSERT_EQ(::kill(hrun.pid(), SIGTERM), 0);
    RunResult r = hrun.wait(20s);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.status, 128 + SIGTERM) << r.describe();
}

TEST_F(Signals, RepeatedSignalsAreAllForwarded) {
    // A shell that counts SIGUSR1 and exits with the count after SIGTERM.
    bundle().set_args({"/bin/sh", "-c",
                       "n=0; trap 'n=$((n+1))' USR1; trap 'exit $n' TERM; echo ready; "
                       "while :; do sleep 0.05; done"});
    bundle().save();
    Process hrun(bundle().run_argv());
    ASSERT_TRUE(hrun.wait_for_output("ready", 20s)) << hrun.wait(1s).describe();
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(::kill(hrun.pid(), SIGUSR1), 0);
        std::this_thread::sleep_for(300ms);  // sh runs traps between commands
    }
    ASSERT_EQ(::kill(hrun.pid(), SIGTERM), 0);
    RunResult r = hrun.wait(20s);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.status, 3) << r.describe();
}

}  // namespace
}  // namespace hrun::itest
