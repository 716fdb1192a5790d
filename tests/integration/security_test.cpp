// What a container may do: capabilities, no_new_privs, seccomp, read-only root, masked and
// read-only paths. Each restriction is checked against a control run without it, so a test
// fails when the restriction does not come from the config.
#include <linux/capability.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "harness.hpp"
#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

using Capabilities = ContainerTest;

TEST_F(Capabilities, DefaultSetsAreTheConfiguredOnes) {
    const json caps = bundle().config["process"]["capabilities"];
    ASSERT_TRUE(caps.is_object()) << bundle().config.dump(2);
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("cap.bnd"), capability_mask(caps.value("bounding", json::array()))) << r.describe();
    EXPECT_EQ(r.fact("cap.eff"), capability_mask(caps.value("effective", json::array()))) << r.describe();
    EXPECT_EQ(r.fact("cap.prm"), capability_mask(caps.value("permitted", json::array()))) << r.describe();
    EXPECT_EQ(r.fact("cap.inh"), capability_mask(caps.value("inheritable", json::array()))) << r.describe();
    EXPECT_EQ(r.fact("cap.amb"), capability_mask(caps.value("ambient", json::array()))) << r.describe();
    // The hardened default must not hand out CAP_SYS_ADMIN.
    EXPECT_EQ(std::stoull(r.fact("cap.bnd"), nullptr, 16) & (uint64_t{1} << CAP_SYS_ADMIN), 0u);
}

TEST_F(Capabilities, ASetOfTwo) {
    json two = json::array({"CAP_CHOWN", "CAP_NET_BIND_SERVICE"});
    bundle().config["process"]["capabilities"] = {
        {"bounding", two}, {"effective", two}, {"permitted", two}, {"inheritable", json::array()},
        {"ambient", json::array()}};
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    const std::string expected = "0000000000000401";
    EXPECT_EQ(r.fact("cap.eff"), expected) << r.describe();
    EXPECT_EQ(r.fact("cap.prm"), expected) << r.describe();
    EXPECT_EQ(r.fact("cap.bnd"), expected) << r.describe();
    EXPECT_EQ(r.fact("cap.inh"), "0000000000000000") << r.describe();
    EXPECT_EQ(r.fact("cap.amb"), "0000000000000000") << r.describe();
}

TEST_F(Capabilities, AmbientSurvivesANonRootUser) {
    json one = json::array({"CAP_NET_BIND_SERVICE"});
    bundle().config["process"]["capabilities"] = {
        {"bounding", one}, {"effective", one}, {"permitted", one}, {"inheritable", one}, {"ambient", one}};
    bundle().config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("cap.amb"), "0000000000000400") << r.describe();
    EXPECT_EQ(r.fact("cap.eff"), "0000000000000400") << r.describe();
}

TEST_F(Capabilities, NoCapabilitiesMeansNone) {
    json none = json::array();
    bundle().config["process"]["capabilities"] = {
        {"bounding", none}, {"effective", none}, {"permitted", none}, {"inheritable", none}, {"ambient", none}};
    RunResult r = bundle().probe({"syscall", "chown"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("syscall"), "EPERM") << "chown without CAP_CHOWN\n" << r.describe();
}

using NoNewPrivileges = ContainerTest;

TEST_F(NoNewPrivileges, SetWhenConfigured) {
    bundle().config["process"]["noNewPrivileges"] = true;
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("nonewprivs"), "1") << r.describe();
}

TEST_F(NoNewPrivileges, UnsetWhenNotConfigured) {
    bundle().global_args = {"--policy=oci"};  // the hardened default policy would set it
    bundle().config["process"]["noNewPrivileges"] = false;
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("nonewprivs"), "0") << r.describe();
}

class Seccomp : public ContainerTest {
protected:
    void deny_mkdir_with(int err) {
        bundle().config["linux"]["seccomp"] = {
            {"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", json::array({{{"names", json::array({"mkdir", "mkdirat"})},
                                       {"action", "SCMP_ACT_ERRNO"},
                                       {"errnoRet", err}}})}};
    }
};

TEST_F(Seccomp, FilteredSyscallReturnsTheConfiguredErrno) {
    deny_mkdir_with(1234);
    RunResult r = bundle().probe({"syscall", "mkdir"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("errno"), "1234") << r.describe();
}

TEST_F(Seccomp, ProcessRunsInFilterMode) {
    deny_mkdir_with(1234);
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "2") << r.describe();
}

TEST_F(Seccomp, OtherSyscallsStillWork) {
    deny_mkdir_with(1234);
    RunResult r = bundle().probe({"write", "/tmp"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "ok") << r.describe();
}

TEST_F(Seccomp, WithoutAFilterMkdirWorks) {
    bundle().config["linux"].erase("seccomp");
    RunResult r = bundle().probe({"syscall", "mkdir"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("syscall"), "ok") << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "<absent>");  // the subcommand prints no facts
}

TEST_F(Seccomp, ArgumentConditionSelectsTheCall) {
    // personality(0xffffffff) only queries; deny it only for that argument value.
    bundle().config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", json::array({{{"names", json::array({"personality"})},
                                   {"action", "SCMP_ACT_ERRNO"},
                                   {"errnoRet", 77},
                                   {"args", json::array({{{"index", 0},
                                                          {"value", 0xffffffffULL},
                                                          {"op", "SCMP_CMP_EQ"}}})}}})}};
    RunResult r = bundle().probe({"syscall", "personality"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("errno"), "77") << r.describe();
}

// The second start of a profile loads the program compiled by the first from the state root's
// cache; it must filter exactly as the freshly compiled one did, and another profile must not
// be served the cached program.
TEST_F(Seccomp, CachedProgramFiltersLikeTheCompiledOne) {
    deny_mkdir_with(1234);
    RunResult first = bundle().probe({"syscall", "mkdir"});
    ASSERT_EQ(first.status, 0) << first.describe();
    EXPECT_EQ(first.fact("errno"), "1234") << first.describe();
    std::size_t entries = 0;
    for (const auto& e : std::filesystem::directory_iterator("/var/cache/hrun/seccomp")) entries += e.is_regular_file();
    EXPECT_GE(entries, 1u) << "the first start stored its program";

    RunResult second = bundle().probe({"syscall", "mkdir"});
    ASSERT_EQ(second.status, 0) << second.describe();
    EXPECT_EQ(second.fact("errno"), "1234") << second.describe();

    deny_mkdir_with(77);  // another profile: another entry, its own errno
    RunResult other = bundle().probe({"syscall", "mkdir"});
    ASSERT_EQ(other.status, 0) << other.describe();
    EXPECT_EQ(other.fact("errno"), "77") << other.describe();
}

using RootFilesystem = ContainerTest;

TEST_F(RootFilesystem, ReadonlyRootRefusesWrites) {
    bundle().config["root"]["readonly"] = true;
    RunResult r = bundle().probe({"write", "/"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "EROFS") << r.describe();
}

TEST_F(RootFilesystem, TmpIsWritableOnAReadonlyRoot) {
    bundle().config["root"]["readonly"] = true;
    RunResult r = bundle().probe({"write", "/tmp"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "ok") << r.describe();
}

TEST_F(RootFilesystem, WritableRootWhenNotReadonly) {
    bundle().config["root"]["readonly"] = false;
    RunResult r = bundle().probe({"write", "/"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "ok") << r.describe();
}

TEST_F(RootFilesystem, ContainerSeesItsOwnRootOnly) {
    // A marker in the bundle's rootfs is visible at /; the host's root is not.
    std::ofstream(bundle().rootfs() + "/etc/hrun-marker") << "inside\n";
    bundle().set_args({"/bin/cat", "/etc/hrun-marker"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "inside\n") << r.describe();

    RunResult host_file = bundle().probe({"stat", "/etc/debian_version"});
    EXPECT_EQ(host_file.fact("stat"), "ENOENT") << host_file.describe();
}

TEST_F(RootFilesystem, DefaultDevicesExist) {
    RunResult r = bundle().probe({"stat", "/dev/null"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("stat.type"), "chr") << r.describe();
    EXPECT_EQ(r.fact("stat.rdev"), "1:3") << r.describe();
    RunResult w = bundle().probe({"write", "/dev/null", "discarded"});
    EXPECT_EQ(w.fact("write"), "ok") << w.describe();
}

TEST_F(RootFilesystem, OnlyStdioIsOpenAtExec) {
    RunResult r = bundle().probe({"fds"});
    ASSERT_EQ(r.status, 0) << r.describe();
    std::set<std::string> fds;
    for (const auto& [key, target] : r.facts())
        if (key.rfind("fd.", 0) == 0) fds.insert(key);
    EXPECT_EQ(fds, (std::set<std::string>{"fd.0", "fd.1", "fd.2"})) << r.describe();
}

constexpr const char* kTmpfsMagic = "0x1021994";

class MaskedPaths : public ContainerTest {
protected:
    void SetUp() override {
        ContainerTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        bundle().config["linux"]["maskedPaths"] = json::array({"/proc/kcore", "/proc/timer_list", "/sys/firmware"});
    }
};

TEST_F(MaskedPaths, KcoreReadsEmpty) {
    RunResult r = bundle().probe({"read", "/proc/kcore"});
    ASSERT_EQ(r.status, 0) << r.describe();
    if (!std::filesystem::exists("/proc/kcore")) {
        // Nothing to mask on this kernel: the container must not see one either.
        EXPECT_EQ(r.fact("read"), "ENOENT") << r.describe();
        return;
    }
    EXPECT_EQ(r.fact("read"), "ok") << r.describe();
    EXPECT_EQ(r.fact("size"), "0") << r.describe();
}

TEST_F(MaskedPaths, MaskedFileIsDevNull) {
    RunResult r = bundle().probe({"read", "/proc/timer_list"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("size"), "0") << r.describe();
    RunResult s = bundle().probe({"stat", "/proc/timer_list"});
    EXPECT_EQ(s.fact("stat.type"), "chr") << s.describe();
    EXPECT_EQ(s.fact("stat.rdev"), "1:3") << s.describe();
}

TEST_F(MaskedPaths, MaskedDirectoryIsEmpty) {
    RunResult r = bundle().probe({"read", "/sys/firmware"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("read"), "ok") << r.describe();
    EXPECT_EQ(r.fact("entries"), "0") << r.describe();
    RunResult s = bundle().probe({"stat", "/sys/firmware"});
    EXPECT_EQ(s.fact("stat.fsmagic"), kTmpfsMagic) << "expected an empty tmpfs over it\n" << s.describe();
}

TEST_F(MaskedPaths, UnmaskedPathsAreReadable) {
    bundle().config["linux"]["maskedPaths"] = json::array();
    RunResult r = bundle().probe({"read", "/proc/timer_list"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.fact("size"), "0") << r.describe();
    RunResult s = bundle().probe({"stat", "/sys/firmware"});
    EXPECT_NE(s.fact("stat.fsmagic"), kTmpfsMagic) << s.describe();
}

class ReadonlyPaths : public ContainerTest {};

TEST_F(ReadonlyPaths, ProcSysRefusesWrites) {
    bundle().config["linux"]["readonlyPaths"] = json::array({"/proc/sys"});
    RunResult r = bundle().probe({"write", "/proc/sys/kernel/domainname"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "EROFS") << r.describe();
}

TEST_F(ReadonlyPaths, ProcSysWritableWhenNotListed) {
    bundle().config["linux"]["readonlyPaths"] = json::array();
    // Opening for writing only; the domainname lives in the container's UTS namespace anyway.
    RunResult r = bundle().probe({"write", "/proc/sys/kernel/domainname"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("write"), "ok") << r.describe();
}

}  // namespace
}  // namespace hrun::itest
