// The process hrun execs: credentials, umask, rlimits, environment, working directory.
#include <algorithm>

#include "harness.hpp"

namespace hrun::itest {
namespace {

using ProcessConfig = ContainerTest;

TEST_F(ProcessConfig, UidGidAndAdditionalGids) {
    bundle().config["process"]["user"] = {{"uid", 1000}, {"gid", 1001}, {"additionalGids", {20, 10, 1001}}};
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("euid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("gid"), "1001") << r.describe();
    EXPECT_EQ(r.fact("egid"), "1001") << r.describe();

    std::vector<std::string> groups;
    std::istringstream list(r.fact("groups"));
    for (std::string g; std::getline(list, g, ',');) groups.push_back(g);
    std::sort(groups.begin(), groups.end());
    EXPECT_EQ(groups, (std::vector<std::string>{"10", "1001", "20"})) << r.describe();
}

TEST_F(ProcessConfig, RootWithoutAdditionalGidsHasNoSupplementaryGroups) {
    bundle().config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "0") << r.describe();
    EXPECT_EQ(r.fact("groups"), "") << "host groups leaked into the container\n" << r.describe();
}

TEST_F(ProcessConfig, NonRootUserLosesEffectiveCapabilities) {
    bundle().config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    RunResult r = bundle().probe({"syscall", "chown"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("syscall"), "EPERM") << r.describe();
}

TEST_F(ProcessConfig, Umask) {
    bundle().config["process"]["user"]["umask"] = 027;
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("umask"), "0027") << r.describe();
}

TEST_F(ProcessConfig, DefaultRlimitsAreTheConfiguredOnes) {
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    const json& rlimits = bundle().config["process"]["rlimits"];
    ASSERT_FALSE(rlimits.empty()) << "hrun spec wrote no rlimits";
    for (const auto& rl : rlimits) {
        std::string name = rl["type"].get<std::string>().substr(std::string("RLIMIT_").size());
        std::string expected = std::to_string(rl["soft"].get<uint64_t>()) + ":" + std::to_string(rl["hard"].get<uint64_t>());
        EXPECT_EQ(r.fact("rlimit." + name), expected) << r.describe();
    }
}

TEST_F(ProcessConfig, Rlimits) {
    bundle().config["process"]["rlimits"] = json::array({
        {{"type", "RLIMIT_NOFILE"}, {"soft", 512}, {"hard", 768}},
        {{"type", "RLIMIT_CORE"}, {"soft", 0}, {"hard", 4096}},
        {{"type", "RLIMIT_NPROC"}, {"soft", 300}, {"hard", 400}},
    });
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("rlimit.NOFILE"), "512:768") << r.describe();
    EXPECT_EQ(r.fact("rlimit.CORE"), "0:4096") << r.describe();
    EXPECT_EQ(r.fact("rlimit.NPROC"), "300:400") << r.describe();
}

TEST_F(ProcessConfig, EnvironmentIsExactlyTheConfiguredOne) {
    bundle().config["process"]["env"] = json::array({"PATH=/bin", "HRUN_A=1", "HRUN_B=two words=and equals"});
    RunOptions o;
    o.env_add = {"HRUN_LEAK_FROM_HOST=1"};
    RunResult r = bundle().probe({}, o);
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("env.PATH"), "/bin") << r.describe();
    EXPECT_EQ(r.fact("env.HRUN_A"), "1") << r.describe();
    EXPECT_EQ(r.fact("env.HRUN_B"), "two words=and equals") << r.describe();
    EXPECT_EQ(r.fact("env.HRUN_LEAK_FROM_HOST"), "<absent>") << r.describe();
    // Only configured variables, plus HOME, which runtimes add when the config has none.
    for (const auto& [key, value] : r.facts()) {
        if (key.rfind("env.", 0) != 0) continue;
        std::string name = key.substr(4);
        EXPECT_TRUE(name == "PATH" || name == "HRUN_A" || name == "HRUN_B" || name == "HOME")
            << "unexpected variable " << name << "=" << value;
    }
}

TEST_F(ProcessConfig, WorkingDirectory) {
    for (std::string cwd : {"/tmp", "/etc", "/"}) {
        bundle().config["process"]["cwd"] = cwd;
        RunResult r = bundle().probe({});
        ASSERT_EQ(r.status, 0) << r.describe();
        EXPECT_EQ(r.fact("cwd"), cwd) << r.describe();
    }
}

TEST_F(ProcessConfig, Args0IsLookedUpInPath) {
    bundle().config["process"]["env"] = json::array({"PATH=/nowhere:/bin"});
    bundle().set_args({"hrun-probe", "exit", "9"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 9) << r.describe();
}

}  // namespace
}  // namespace hrun::itest
