#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <cstring>

#include "security/seccomp.hpp"
#include "bpf_interpreter.hpp"
#include "seccomp_test_util.hpp"

namespace hrun::security {
namespace {

using test::arg;
using test::profile;
using test::rule;

Error compile_error(const spec::Seccomp& config) {
    auto p = compile_seccomp(config);
    EXPECT_FALSE(p.has_value()) << "compiled although it should not have";
    return p ? Error{} : p.error();
}

bool same_filter(const SeccompProgram& a, const SeccompProgram& b) {
    return a.filter.size() == b.filter.size() &&
           std::memcmp(a.filter.data(), b.filter.data(), a.filter.size() * sizeof(sock_filter)) == 0;
}

// True when some instruction of the program returns `ret` (BPF_RET|BPF_K).
bool returns(const SeccompProgram& p, uint32_t ret) {
    for (const sock_filter& insn : p.filter)
        if (insn.code == (BPF_RET | BPF_K) && insn.k == ret) return true;
    return false;
}

TEST(SeccompCompile, DefaultOnlyProfileCompilesToAProgramReturningTheDefault) {
    auto p = compile_seccomp(profile("SCMP_ACT_ALLOW"));
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->filter.empty());
    EXPECT_TRUE(returns(*p, SECCOMP_RET_ALLOW));
    EXPECT_EQ(p->flags, 0u);
}

TEST(SeccompCompile, RuleActionsAppearInTheProgram) {
    auto p = compile_seccomp(profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO", 1234),
                                                        rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")}));
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | 1234u));
    EXPECT_TRUE(returns(*p, SECCOMP_RET_KILL_PROCESS));
}

TEST(SeccompCompile, DefaultErrnoRetAppliesToTheDefaultErrnoAction) {
    auto config = profile("SCMP_ACT_ERRNO", {rule({"getpid"}, "SCMP_ACT_ALLOW")});
    config.defaultErrnoRet = 38;
    auto p = compile_seccomp(config);
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | 38u));
    EXPECT_FALSE(returns(*p, SECCOMP_RET_ERRNO | EPERM));
}

TEST(SeccompCompile, RuleErrnoWithoutErrnoRetIsEperm) {
    auto config = profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO")});
    auto p = compile_seccomp(config);
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(returns(*p, SECCOMP_RET_ERRNO | EPERM));
}

TEST(SeccompCompile, DefaultErrnoRetWithANonErrnoDefaultIsAnError) {
    auto config = profile("SCMP_ACT_ALLOW");
    config.defaultErrnoRet = 1;
    EXPECT_EQ(compile_error(config).field, "linux.seccomp.defaultErrnoRet");
}

TEST(SeccompCompile, RulesRepeatingTheDefaultActionAreSkipped) {
    auto bare = compile_seccomp(profile("SCMP_ACT_ALLOW"));
    auto redundant = compile_seccomp(profile("SCMP_ACT_ALLOW", {rule({"getpid", "read"}, "SCMP_ACT_ALLOW")}));
    ASSERT_TRUE(bare.has_value()) << bare.error().what();
    ASSERT_TRUE(redundant.has_value()) << redundant.error().what();
    EXPECT_TRUE(same_filter(*bare, *redundant));
    // The same errno as the default is redundant too; a different errno is not.
    auto errno_default = profile("SCMP_ACT_ERRNO", {rule({"getpid"}, "SCMP_ACT_ERRNO")});
    auto bare_errno = compile_seccomp(profile("SCMP_ACT_ERRNO"));
    auto same_errno = compile_seccomp(errno_default);
    errno_default.syscalls[0].errnoRet = 38;
    auto other_errno = compile_seccomp(errno_default);
    ASSERT_TRUE(bare_errno && same_errno && other_errno);
    // Naming getpid still draws the line above which syscalls get ENOSYS (see
    // seccomp_enosys_test.cpp), so compare what the programs return rather than their text.
    auto verdict = [](const SeccompProgram& p, int nr) {
        return test::run_bpf(p.filter, test::syscall_data(AUDIT_ARCH_X86_64, nr)).value_or(0);
    };
    EXPECT_EQ(verdict(*same_errno, SYS_getpid), verdict(*bare_errno, SYS_getpid));
    EXPECT_EQ(verdict(*same_errno, SYS_getpid), SECCOMP_RET_ERRNO | EPERM);
    EXPECT_EQ(verdict(*other_errno, SYS_getpid), SECCOMP_RET_ERRNO | 38u);
}

TEST(SeccompCompile, UnknownSyscallNamesTheField) {
    auto config = profile("SCMP_ACT_ERRNO", {rule({"read"}, "SCMP_ACT_ALLOW"),
                                             rule({"write", "close", "fooo"}, "SCMP_ACT_ALLOW")});
    Error e = compile_error(config);
    EXPECT_EQ(e.field, "linux.seccomp.syscalls[1].names[2]");
    EXPECT_EQ(e.message, "unknown syscall \"fooo\"");
    EXPECT_EQ(e.what(), "linux.seccomp.syscalls[1].names[2]: unknown syscall \"fooo\"");
}

TEST(SeccompCompile, UnknownSyscallIsAnErrorEvenInARedundantRule) {
    EXPECT_EQ(compile_error(profile("SCMP_ACT_ALLOW", {rule({"fooo"}, "SCMP_ACT_ALLOW")})).field,
              "linux.seccomp.syscalls[0].names[0]");
}

TEST(SeccompCompile, SyscallsOfOtherArchitecturesAreSkippedSilently) {
    // socketcall exists on x86 but not x86_64; arm_fadvise64_64 and set_tls only on arm.
    auto native_only = profile("SCMP_ACT_ERRNO",
                               {rule({"socketcall", "arm_fadvise64_64", "set_tls", "read"}, "SCMP_ACT_ALLOW")});
    auto p = compile_seccomp(native_only);
    ASSERT_TRUE(p.has_value()) << p.error().what();
    auto multi = native_only;
    multi.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    auto q = compile_seccomp(multi);
    ASSERT_TRUE(q.has_value()) << q.error().what();
    EXPECT_GT(q->filter.size(), p->filter.size());  // the other ABIs got their own branches
}

TEST(SeccompCompile, EmptyNamesAreAnError) {
    EXPECT_EQ(compile_error(profile("SCMP_ACT_ALLOW", {rule({}, "SCMP_ACT_ERRNO")})).field,
              "linux.seccomp.syscalls[0].names");
}

TEST(SeccompCompile, BadActionsNameTheirField) {
    EXPECT_EQ(compile_error(profile("SCMP_ACT_NOPE")).field, "linux.seccomp.defaultAction");
    EXPECT_EQ(compile_error(profile("")).field, "linux.seccomp.defaultAction");
    EXPECT_EQ(compile_error(profile("SCMP_ACT_ALLOW", {rule({"read"}, "SCMP_ACT_ALLOW"),
                                                       rule({"mkdir"}, "SCMP_ACT_DENY")}))
                  .field,
              "linux.seccomp.syscalls[1].action");
    EXPECT_EQ(compile_error(profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_LOG", 3)})).field,
              "linux.seccomp.syscalls[0].errnoRet");
}

TEST(SeccompCompile, NotifyIsRefusedAsUnsupported) {
    Error e = compile_error(profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_NOTIFY")}));
    EXPECT_EQ(e.field, "linux.seccomp.syscalls[0].action");
    EXPECT_NE(e.message.find("not supported"), std::string::npos) << e.message;
    auto with_listener = profile("SCMP_ACT_ALLOW");
    with_listener.listenerPath = "/run/listener.sock";
    EXPECT_EQ(compile_error(with_listener).field, "linux.seccomp.listenerPath");
}

TEST(SeccompCompile, BadArgumentOperatorNamesTheField) {
    auto config = profile("SCMP_ACT_ALLOW",
                          {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                {arg(0, "SCMP_CMP_EQ", 1), arg(1, "SCMP_CMP_EQUALS", 2)})});
    Error e = compile_error(config);
    EXPECT_EQ(e.field, "linux.seccomp.syscalls[0].args[1].op");
    EXPECT_NE(e.message.find("SCMP_CMP_EQUALS"), std::string::npos);
}

TEST(SeccompCompile, ArgumentIndexBeyondSixIsAnError) {
    auto config = profile("SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                                  {arg(6, "SCMP_CMP_EQ", 1)})});
    EXPECT_EQ(compile_error(config).field, "linux.seccomp.syscalls[0].args[0].index");
}

TEST(SeccompCompile, ArgumentFiltersAddComparisons) {
    auto plain = compile_seccomp(profile("SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO")}));
    auto filtered = compile_seccomp(profile(
        "SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                {arg(0, "SCMP_CMP_EQ", 0xffffffff)})}));
    ASSERT_TRUE(plain.has_value()) << plain.error().what();
    ASSERT_TRUE(filtered.has_value()) << filtered.error().what();
    EXPECT_GT(filtered->filter.size(), plain->filter.size());
    // The compared value shows up as an immediate of a jump.
    bool compares = false;
    for (const sock_filter& insn : filtered->filter)
        if (BPF_CLASS(insn.code) == BPF_JMP && insn.k == 0xffffffffu) compares = true;
    EXPECT_TRUE(compares);
}

TEST(SeccompCompile, RepeatedArgumentIndexesAreSplitIntoSeparateRules) {
    // libseccomp alone refuses two conditions on one argument in a single rule.
    auto config = profile("SCMP_ACT_ALLOW",
                          {rule({"personality"}, "SCMP_ACT_ERRNO", std::nullopt,
                                {arg(0, "SCMP_CMP_EQ", 0x10), arg(0, "SCMP_CMP_EQ", 0x20)})});
    auto p = compile_seccomp(config);
    ASSERT_TRUE(p.has_value()) << p.error().what();
}

TEST(SeccompCompile, ArchitecturesAreMappedAndUnknownOnesNamed) {
    auto config = profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO")},
                          {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"});
    auto p = compile_seccomp(config);
    ASSERT_TRUE(p.has_value()) << p.error().what();
    // The filter checks the architecture token of each syscall against the listed ABIs.
    bool checks_x86 = false;
    for (const sock_filter& insn : p->filter)
        if (BPF_CLASS(insn.code) == BPF_JMP && insn.k == SCMP_ARCH_X86) checks_x86 = true;
    EXPECT_TRUE(checks_x86);

    config.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"};
    Error e = compile_error(config);
    EXPECT_EQ(e.field, "linux.seccomp.architectures[1]");
    EXPECT_NE(e.message.find("SCMP_ARCH_PDP11"), std::string::npos);
}

TEST(SeccompCompile, FlagsMapToKernelBits) {
    auto config = profile("SCMP_ACT_ALLOW");
    config.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                    "SECCOMP_FILTER_FLAG_TSYNC"};
    auto p = compile_seccomp(config);
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(p->flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                 SECCOMP_FILTER_FLAG_TSYNC});

    config.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NOPE"};
    EXPECT_EQ(compile_error(config).field, "linux.seccomp.flags[1]");
}

}  // namespace
}  // namespace hrun::security
