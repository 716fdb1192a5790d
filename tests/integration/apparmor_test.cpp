// process.apparmorProfile: the container runs confined by the named profile, the profile's
// denials hold, and a profile that is not loaded is refused before anything is created.
//
// Needs a kernel with AppArmor enabled and apparmor_parser: the VM lane (scripts/vm-test.sh)
// has both. Elsewhere every test skips, saying why.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

namespace hrun::itest {
namespace {

std::optional<std::string> apparmor_unavailable() {
    auto enabled = read_file("/sys/module/apparmor/parameters/enabled").value_or("N");
    if (enabled.empty() || enabled[0] != 'Y') return "AppArmor is not enabled on this kernel (the VM lane has it)";
    if (!read_file("/sys/kernel/security/apparmor/profiles"))
        return "AppArmor's securityfs interface is not mounted at /sys/kernel/security";
    return std::nullopt;
}

std::string apparmor_parser() {
    for (const char* p : {"/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"})
        if (::access(p, X_OK) == 0) return p;
    return "";
}

class AppArmor : public ContainerTest {
protected:
    void SetUp() override {
        if (auto why = apparmor_unavailable()) GTEST_SKIP() << *why;
        parser_ = apparmor_parser();
        if (parser_.empty()) GTEST_SKIP() << "apparmor_parser is not installed (package apparmor)";
        ContainerTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        profile_ = "hrun-it-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
        profile_file_ = bundle().dir() + "/apparmor-profile";
        // Everything a shell needs, but not the secret file. The rules use the paths the
        // container sees (AppArmor resolves them in the process's own mount namespace).
        std::ofstream(profile_file_) << "abi <abi/3.0>,\n"
                                     << "profile " << profile_ << " flags=(attach_disconnected,mediate_deleted) {\n"
                                     << "  file,\n"
                                     << "  capability,\n"
                                     << "  signal,\n"
                                     << "  deny /etc/hrun-secret rw,\n"
                                     << "}\n";
        RunResult loaded = run_command({parser_, "-r", profile_file_});
        ASSERT_EQ(loaded.status, 0) << "apparmor_parser could not load the test profile\n" << loaded.describe();
        loaded_ = true;
    }

    void TearDown() override {
        if (loaded_) run_command({parser_, "-R", profile_file_});
    }

    std::string parser_, profile_, profile_file_;
    bool loaded_ = false;
};

TEST_F(AppArmor, ContainerProcessRunsUnderTheConfiguredProfile) {
    bundle().config["process"]["apparmorProfile"] = profile_;
    // attr/apparmor/current is AppArmor's own file (Linux 5.8+); attr/current is shared by LSMs.
    bundle().set_args({"/bin/sh", "-c", "cat /proc/self/attr/apparmor/current 2>/dev/null || cat /proc/self/attr/current"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, profile_ + " (enforce)\n") << r.describe();
}

TEST_F(AppArmor, WhatTheProfileDeniesFailsInsideTheContainer) {
    std::ofstream(bundle().rootfs() + "/etc/hrun-secret") << "secret\n";
    const std::vector<std::string> script = {
        "/bin/sh", "-c", "cat /etc/hrun-secret; echo secret=$?; cat /etc/passwd >/dev/null; echo passwd=$?"};

    // Without the profile the file is readable: what fails below is the profile.
    bundle().set_args(script);
    RunResult open = bundle().run();
    ASSERT_EQ(open.status, 0) << open.describe();
    EXPECT_EQ(open.fact("secret"), "0") << open.describe();

    bundle().config["process"]["apparmorProfile"] = profile_;
    bundle().set_args(script);
    RunResult confined = bundle().run();
    ASSERT_EQ(confined.status, 0) << confined.describe();
    EXPECT_NE(confined.fact("secret"), "0") << "the denied file was read\n" << confined.describe();
    EXPECT_NE(confined.err.find("Permission denied"), std::string::npos) << confined.describe();
    EXPECT_EQ(confined.out.find("secret\n"), std::string::npos) << confined.describe();
    EXPECT_EQ(confined.fact("passwd"), "0") << "the profile allows other files\n" << confined.describe();
}

TEST_F(AppArmor, AProfileThatIsNotLoadedIsRefusedWithNothingLeft) {
    const std::string missing = profile_ + "-not-loaded";
    bundle().config["process"]["apparmorProfile"] = missing;
    bundle().set_args({"/bin/true"});
    HostSnapshot before = HostSnapshot::take();
    RunResult r = bundle().run();
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("process.apparmorProfile"), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find(missing), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find("not loaded"), std::string::npos) << r.describe();
    for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;
}

}  // namespace
}  // namespace hrun::itest

namespace hrun::itest {
namespace {

// The hardened policy's AppArmor half: a config without process.apparmorProfile runs under
// hrun-default (loaded by hrun on first use), whose denials hold even where capabilities and
// seccomp would allow the operation.
class AppArmorDefault : public ContainerTest {
protected:
    void SetUp() override {
        if (auto why = apparmor_unavailable()) GTEST_SKIP() << *why;
        if (apparmor_parser().empty()) GTEST_SKIP() << "apparmor_parser is not installed (package apparmor)";
        ContainerTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // CAP_SYS_ADMIN and a seccomp profile that allows everything: only AppArmor stands
        // between the container and mount(2) here.
        for (const char* set : {"bounding", "effective", "permitted"})
            bundle().config["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
        bundle().config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"}};
        bundle().config["process"].erase("apparmorProfile");
        bundle().set_args({"/bin/sh", "-c",
                           "cat /proc/self/attr/current; "
                           "mount -t tmpfs t /tmp 2>/dev/null && echo mount=allowed || echo mount=denied; "
                           "(echo 0 > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=allowed || echo sysrq=denied"});
    }
};

TEST_F(AppArmorDefault, HardenedPolicyConfinesWithHrunDefault) {
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find("hrun-default (enforce)"), std::string::npos) << r.describe();
    EXPECT_NE(r.out.find("mount=denied"), std::string::npos) << r.describe();
    EXPECT_NE(r.out.find("sysrq=denied"), std::string::npos) << r.describe();
    auto profiles = read_file("/sys/kernel/security/apparmor/profiles").value_or("");
    EXPECT_NE(profiles.find("hrun-default (enforce)"), std::string::npos) << "hrun loaded its profile";
}

TEST_F(AppArmorDefault, OciPolicyLeavesTheContainerUnconfined) {
    bundle().global_args = {"--policy=oci"};
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find("unconfined"), std::string::npos) << r.describe();
    EXPECT_NE(r.out.find("mount=allowed"), std::string::npos) << "the control: without the profile mount works\n"
                                                             << r.describe();
}

}  // namespace
}  // namespace hrun::itest
