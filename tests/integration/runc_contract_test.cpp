// runc's command-line and runtime contract as engines and scripts use it, each case checked
// against runc 1.1.5: what `spec` writes, the units `events` and `update` take, the exit codes of
// `delete --force` and `kill --all`, a cgroup frozen before start, the device allowlist, the
// console under a read-only /dev, nested cgroup v1 cpusets, the hooks' working directory and
// `--debug`.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
}  // namespace hrun::itest
