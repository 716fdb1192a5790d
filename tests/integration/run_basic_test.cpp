// `hrun run` end to end: exit status, stdio and the state it keeps (or must not keep).
#include <signal.h>

#include <filesystem>
#include <sstream>

#include "harness.hpp"

namespace hrun::itest {
namespace {

using RunBasic = ContainerTest;

TEST_F(RunBasic, ExitStatusIsTheContainers) {
    for (int code : {0, 1, 42, 255}) {
        RunResult r = bundle().probe({"exit", std::to_string(code)});
        EXPECT_FALSE(r.timed_out) << r.describe();
        EXPECT_EQ(r.status, code) << r.describe();
    }
}

TEST_F(RunBasic, StdoutIsPassedThrough) {
    bundle().set_args({"/bin/echo", "hello from", "a container"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "hello from a container\n") << r.describe();
}

TEST_F(RunBasic, StderrIsPassedThrough) {
    bundle().set_args({"/bin/sh", "-c", "echo to-stderr >&2; exit 3"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 3) << r.describe();
    EXPECT_NE(r.err.find("to-stderr"), std::string::npos) << r.describe();
    EXPECT_EQ(r.out, "") << r.describe();
}

TEST_F(RunBasic, StdinIsPassedThrough) {
    bundle().set_args({"/bin/cat"});
    RunOptions o;
    o.stdin_data = "line one\nline two\n";
    RunResult r = bundle().run(o);
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, o.stdin_data) << r.describe();
}

TEST_F(RunBasic, ArgumentsArePassedVerbatim) {
    bundle().set_args({"/bin/sh", "-c", "for a in \"$@\"; do echo \"[$a]\"; done", "sh", "two words", "",
                       "$HOME", "*"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "[two words]\n[]\n[$HOME]\n[*]\n") << r.describe();
}

TEST_F(RunBasic, ContainerProcessIsPid1) {
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("pid"), "1") << r.describe();
}

// The container's init killed by a signal from the host: hrun reports 128+N like a shell.
TEST_F(RunBasic, SignalDeathFromTheHostGives128PlusN) {
    bundle().set_args({"/bin/hrun-probe", "sleep", "60"});
    bundle().save();
    Process hrun(bundle().run_argv());
    ASSERT_TRUE(hrun.wait_for_output("ready", 20s)) << hrun.wait(1s).describe();

    pid_t target = 0;
    for (pid_t p : descendants(hrun.pid()))
        if (process_comm(p) == "hrun-probe") target = p;
    ASSERT_NE(target, 0) << "no hrun-probe process below hrun (pid " << hrun.pid() << ")";
    ASSERT_EQ(::kill(target, SIGKILL), 0);

    RunResult r = hrun.wait(20s);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.status, 128 + SIGKILL) << r.describe();
}

TEST_F(RunBasic, NoStateIsLeftAfterExit) {
    RunResult r = bundle().probe({"exit", "0"});
    ASSERT_EQ(r.status, 0) << r.describe();
    std::error_code ec;
    if (std::filesystem::exists(bundle().state_root(), ec)) {
        for (const auto& e : std::filesystem::directory_iterator(bundle().state_root(), ec))
            ADD_FAILURE() << "left in the state root: " << e.path();
    }
}

TEST_F(RunBasic, IdsCanBeReusedSequentially) {
    for (int i = 0; i < 2; ++i) {
        RunResult r = bundle().probe({"exit", "0"});
        EXPECT_EQ(r.status, 0) << "run " << i << ": " << r.describe();
    }
}

TEST_F(RunBasic, LogFileGetsErrorsAsJson) {
    bundle().config["process"]["cwd"] = "relative";
    bundle().save();
    const std::string log = bundle().state_root() + ".log";
    std::vector<std::string> argv = {hrun_binary(), "--log", log, "--log-format", "json"};
    std::vector<std::string> run = bundle().run_argv();
    argv.insert(argv.end(), run.begin() + 1, run.end());
    RunResult r = run_command(argv);
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("process.cwd"), std::string::npos) << r.describe();

    auto text = read_file(log);
    ASSERT_TRUE(text.has_value()) << "no log file at " << log;
    std::istringstream lines(*text);
    bool mentioned = false;
    int count = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        ++count;
        json entry = json::parse(line, nullptr, /*allow_exceptions=*/false);
        EXPECT_FALSE(entry.is_discarded()) << "not JSON: " << line;
        mentioned |= line.find("process.cwd") != std::string::npos;
    }
    EXPECT_GT(count, 0) << "empty log";
    EXPECT_TRUE(mentioned) << "the error is not in the log:\n" << *text;
}

TEST(Cli, VersionPrintsSomething) {
    RunResult r = run_command({hrun_binary(), "--version"});
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_FALSE(r.out.empty()) << r.describe();
}

TEST(Cli, SpecWritesHardenedDefaults) {
    TempDir tmp;
    RunResult r = run_command({hrun_binary(), "spec", "--bundle", tmp.path()});
    ASSERT_EQ(r.status, 0) << r.describe();
    auto text = read_file(tmp.path() + "/config.json");
    ASSERT_TRUE(text.has_value()) << "hrun spec wrote no config.json";
    json c = json::parse(*text);
    EXPECT_EQ(c["ociVersion"], "1.2.0");
    EXPECT_EQ(c["root"]["path"], "rootfs");
    EXPECT_EQ(c["root"]["readonly"], true);
    EXPECT_EQ(c["process"]["noNewPrivileges"], true);
    EXPECT_EQ(c["process"]["user"]["uid"], 0);
    std::set<std::string> ns;
    for (const auto& n : c["linux"]["namespaces"]) ns.insert(n["type"].get<std::string>());
    EXPECT_EQ(ns, (std::set<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"}));
    std::set<std::string> bounding;
    for (const auto& cap : c["process"]["capabilities"]["bounding"]) bounding.insert(cap.get<std::string>());
    EXPECT_EQ(bounding.count("CAP_SYS_ADMIN"), 0u);
    EXPECT_EQ(bounding.count("CAP_CHOWN"), 1u);
    EXPECT_FALSE(c["linux"]["maskedPaths"].empty());
    EXPECT_FALSE(c["linux"]["readonlyPaths"].empty());
}

TEST(Cli, SpecRootlessMapsRootToTheCaller) {
    TempDir tmp;
    RunResult r = run_command({hrun_binary(), "spec", "--rootless", "--bundle", tmp.path()});
    ASSERT_EQ(r.status, 0) << r.describe();
    json c = json::parse(read_file(tmp.path() + "/config.json").value_or("{}"));
    bool user_ns = false;
    for (const auto& n : c["linux"]["namespaces"]) user_ns |= n["type"] == "user";
    EXPECT_TRUE(user_ns) << c.dump(2);
    ASSERT_TRUE(c["linux"]["uidMappings"].is_array()) << c.dump(2);
    ASSERT_FALSE(c["linux"]["uidMappings"].empty()) << c.dump(2);
    EXPECT_EQ(c["linux"]["uidMappings"][0]["containerID"], 0);
    EXPECT_EQ(c["linux"]["uidMappings"][0]["hostID"], ::geteuid());
}

}  // namespace
}  // namespace hrun::itest
