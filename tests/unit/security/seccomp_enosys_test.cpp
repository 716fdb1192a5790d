// What compiled programs return, run through a BPF interpreter: above all, that syscalls newer
// than a profile get ENOSYS while older unlisted ones get the default action.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <cerrno>

#include "bpf_interpreter.hpp"
#include "security/seccomp.hpp"
#include "seccomp_test_util.hpp"

namespace hrun::security {
namespace {

using test::profile;
using test::rule;
using test::run_bpf;
using test::syscall_data;

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;

SeccompProgram compile_ok(const spec::Seccomp& config) {
    auto p = compile_seccomp(config);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? *p : SeccompProgram{};
}

uint32_t verdict(const SeccompProgram& p, uint32_t arch, int nr) {
    auto r = run_bpf(p.filter, syscall_data(arch, nr));
    EXPECT_TRUE(r.has_value()) << "malformed program";
    return r.value_or(0xdeadbeef);
}

// read (0), write (1), exit_group (231) allowed; everything else the default.
spec::Seccomp small_allowlist(std::string default_action = "SCMP_ACT_ERRNO") {
    return profile(std::move(default_action), {rule({"read", "write", "exit_group"}, "SCMP_ACT_ALLOW")});
}

TEST(SeccompEnosys, NewerSyscallsGetEnosysOlderOnesTheDefault) {
    const SeccompProgram p = compile_ok(small_allowlist());
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_read), kAllow);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_exit_group), kAllow);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_mkdir), kEperm) << "unlisted but older than exit_group";
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_exit_group + 1), kEnosys);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_clone3), kEnosys);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, 999), kEnosys);
}

TEST(SeccompEnosys, TheLineFollowsTheHighestNamedSyscallWhateverItsAction) {
    // clone3 (435) is denied explicitly, so it is not "newer": it gets its rule's errno, and
    // only what lies above it gets ENOSYS.
    spec::Seccomp config = small_allowlist();
    config.syscalls.push_back(rule({"clone3"}, "SCMP_ACT_ERRNO", 38));
    config.syscalls.push_back(rule({"mkdir"}, "SCMP_ACT_ERRNO", 13));
    const SeccompProgram p = compile_ok(config);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_mkdir), SECCOMP_RET_ERRNO | 13u);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_clone3 - 1), kEperm);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_clone3 + 1), kEnosys);
}

TEST(SeccompEnosys, AllowingAndLoggingDefaultsNeedNoPrologue) {
    for (const char* action : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}) {
        spec::Seccomp config = profile(action, {rule({"mkdir"}, "SCMP_ACT_ERRNO", 5)});
        const SeccompProgram p = compile_ok(config);
        const uint32_t def = std::string(action) == "SCMP_ACT_ALLOW" ? kAllow : SECCOMP_RET_LOG;
        EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, 999), def) << action;
        EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_mkdir), SECCOMP_RET_ERRNO | 5u) << action;
    }
}

TEST(SeccompEnosys, AnEnosysDefaultStaysAsItIs) {
    spec::Seccomp config = small_allowlist();
    config.defaultErrnoRet = ENOSYS;
    const SeccompProgram p = compile_ok(config);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_mkdir), kEnosys);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, 999), kEnosys);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_write), kAllow);
}

TEST(SeccompEnosys, ADefaultOnlyProfileKeepsItsDefaultEverywhere) {
    const SeccompProgram p = compile_ok(profile("SCMP_ACT_ERRNO"));
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_read), kEperm);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, 999), kEperm);
}

TEST(SeccompEnosys, X32CallsAreJudgedByTheirOwnRulesNotTheX86_64Line) {
    // x32 syscalls carry AUDIT_ARCH_X86_64 with bit 30 set in nr: far "above" any x86_64 number.
    const SeccompProgram p = compile_ok(small_allowlist());
    const uint32_t x32 = verdict(p, AUDIT_ARCH_X86_64, 0x40000000 | 1);
    EXPECT_NE(x32, kEnosys);
    EXPECT_NE(x32, kAllow) << "x32 is not listed: not allowed";
}

TEST(SeccompEnosys, EachListedArchitectureHasItsOwnLine) {
    spec::Seccomp config = small_allowlist();
    config.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    const SeccompProgram p = compile_ok(config);
    // i386 numbers: read 3, write 4, exit_group 252.
    EXPECT_EQ(verdict(p, AUDIT_ARCH_I386, 3), kAllow);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_I386, 252), kAllow);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_I386, 39), kEperm) << "i386 mkdir: older, unlisted";
    EXPECT_EQ(verdict(p, AUDIT_ARCH_I386, 253), kEnosys);
    EXPECT_EQ(verdict(p, AUDIT_ARCH_X86_64, SYS_exit_group + 1), kEnosys);
}

TEST(SeccompEnosys, OtherArchitecturesStillGetTheBadArchAction) {
    const SeccompProgram p = compile_ok(small_allowlist());
    EXPECT_EQ(verdict(p, AUDIT_ARCH_AARCH64, 0), SECCOMP_RET_KILL_THREAD);
}

}  // namespace
}  // namespace hrun::security
