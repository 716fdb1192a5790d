// CVE-2019-5736 from the attacker's side: a container with CAP_SYS_PTRACE and no user namespace
// (a debugging image) watches its pid namespace for processes whose exe is not one of its own
// files, keeps an O_PATH fd on each, and writes through it once the process is gone. hrun's
// processes that appear there (the one `exec` forks, the one `run` forks into a pid namespace
// joined by path) must run from a sealed copy (src/linux/sealed_exe.hpp): the attacker sees them,
// and the binary on disk stays byte for byte what it was.
//
// The runtime attacked is a copy of hrun in a temporary directory, never the build's own: if the
// protection fails, only the copy is written.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

class EscapeExe : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // Two copies: `runner` runs the attacker's container in the foreground (its file is busy
        // while it runs, so it is not the one to aim at); `target` is the hrun under attack.
        runner_ = copy_hrun("hrun-runner");
        target_ = copy_hrun("hrun");
        ASSERT_FALSE(runner_.empty());
        ASSERT_FALSE(target_.empty());
        original_ = read_file(target_).value_or("");
        ASSERT_FALSE(original_.empty());

        json& caps = bundle().config["process"]["capabilities"];
        for (const char* set : {"bounding", "effective", "permitted"}) caps[set].push_back("CAP_SYS_PTRACE");
        bundle().remove_namespace("user");
        bundle().set_args({"/bin/hrun-probe", "exe-overwrite", "60"});
        bundle().save();
    }

    std::string copy_hrun(const std::string& name) {
        const std::string path = copies_.path() + "/" + name;
        std::error_code ec;
        std::filesystem::copy_file(hrun_binary(), path, ec);
        if (ec || ::chmod(path.c_str(), 0755) != 0) {
            ADD_FAILURE() << "cannot copy hrun to " << path << ": " << ec.message();
            return "";
        }
        return path;
    }

    // hrun_argv with `binary` in place of the build's hrun.
    std::vector<std::string> argv_of(const std::string& binary, const std::vector<std::string>& args) const {
        std::vector<std::string> argv = hrun_argv(args);
        argv[0] = binary;
        return argv;
    }

    // Starts the attacker's container in the foreground; true once it scans.
    bool start_attacker() {
        id_ = unique_id();
        attacker_ = std::make_unique<Process>(argv_of(runner_, {"run", "--bundle", bundle().dir(), id_}),
                                              RunOptions{.timeout = 90s});
        return attacker_->wait_for_output("ready", 20s);
    }

    // Gives the attacker time to write to what it holds (it can once the runtime exited), then
    // stops it and returns what it saw and did.
    RunResult stop_attacker() {
        std::this_thread::sleep_for(500ms);
        RunResult kill = run_command(argv_of(runner_, {"kill", id_, "TERM"}));
        EXPECT_EQ(kill.status, 0) << kill.describe();
        return attacker_->wait(30s);
    }

    void expect_target_intact(const RunResult& attack, int runtimes) {
        ASSERT_EQ(attack.status, 0) << attack.describe();
        ASSERT_NE(attack.fact("exe.seen"), "<absent>") << attack.describe();
        // The attack was aimed: the runtime's processes were seen and held.
        EXPECT_GT(std::stol(attack.fact("exe.seen")), 0)
            << "the container never saw one of " << runtimes << " runtime processes; the test proves nothing\n"
            << attack.describe();
        EXPECT_NE(attack.fact("exe.target.0").find("hrun"), std::string::npos) << attack.describe();
        EXPECT_EQ(attack.fact("exe.written"), "0") << "the runtime's exe was written from the container\n"
                                                   << attack.describe();
        std::optional<std::string> after = read_file(target_);
        ASSERT_TRUE(after);
        EXPECT_TRUE(*after == original_) << "the hrun binary on disk changed: " << after->size() << " bytes, was "
                                         << original_.size();
        RunResult version = run_command({target_, "--version"});
        EXPECT_EQ(version.status, 0) << version.describe();
    }

    TempDir copies_;
    std::string runner_, target_, original_;
    std::string id_;
    std::unique_ptr<Process> attacker_;
};

TEST_F(EscapeExe, ExecCannotWriteTheRuntimeBinary) {
    ASSERT_TRUE(start_attacker());
    constexpr int kExecs = 25;
    for (int i = 0; i < kExecs; ++i) {
        RunResult r = run_command(argv_of(target_, {"exec", id_, "/bin/true"}));
        ASSERT_EQ(r.status, 0) << "exec " << i << ": " << r.describe();
    }
    expect_target_intact(stop_attacker(), kExecs);
}

// `run` into the attacker's pid namespace, joined by path: the child hrun forks appears there
// before it execs, as `exec`'s does.
TEST_F(EscapeExe, RunJoiningThePidNamespaceCannotWriteTheRuntimeBinary) {
    ASSERT_TRUE(start_attacker());
    pid_t init = 0;
    ASSERT_TRUE(eventually([&] { return (init = pid_of(id_)) > 0; }, 5s));

    TempDir joiner;
    json config = bundle().config;
    config["root"]["path"] = bundle().rootfs();
    config["process"]["args"] = json::array({"/bin/true"});
    config["process"]["capabilities"] = bundle().config["process"]["capabilities"];
    for (json& ns : config["linux"]["namespaces"])
        if (ns["type"] == "pid") ns["path"] = "/proc/" + std::to_string(init) + "/ns/pid";
    std::ofstream(joiner.path() + "/config.json") << config.dump();

    constexpr int kRuns = 15;
    for (int i = 0; i < kRuns; ++i) {
        RunResult r = run_command(argv_of(target_, {"run", "--bundle", joiner.path(), unique_id()}));
        ASSERT_EQ(r.status, 0) << "run " << i << ": " << r.describe();
    }
    expect_target_intact(stop_attacker(), kRuns);
}

// The hot path pays nothing: a `run` with a new pid namespace stays on the binary on disk,
// while `exec` and a `run` sharing a pid namespace move to the sealed copy.
TEST_F(EscapeExe, OnlyTheSharedPidNamespaceRunsSealed) {
    // The foreground hrun of a sleeping container, its exe read from the host.
    bundle().set_args({"/bin/hrun-probe", "sleep", "30"});
    bundle().save();
    Process plain(argv_of(target_, {"run", "--bundle", bundle().dir(), unique_id()}));
    ASSERT_TRUE(plain.wait_for_output("ready", 20s));
    char link[4096];
    std::string exe_path = "/proc/" + std::to_string(plain.pid()) + "/exe";
    ssize_t n = ::readlink(exe_path.c_str(), link, sizeof link - 1);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(link, static_cast<std::size_t>(n)), target_) << "a plain run re-executed itself";

    // Without a pid namespace of its own: the sealed copy.
    bundle().remove_namespace("pid");
    bundle().save();
    Process shared(argv_of(target_, {"run", "--bundle", bundle().dir(), unique_id()}));
    ASSERT_TRUE(shared.wait_for_output("ready", 20s));
    exe_path = "/proc/" + std::to_string(shared.pid()) + "/exe";
    n = ::readlink(exe_path.c_str(), link, sizeof link - 1);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(link, static_cast<std::size_t>(n)).rfind("/memfd:hrun", 0), 0u)
        << std::string(link, static_cast<std::size_t>(n));
}

}  // namespace
}  // namespace hrun::itest
