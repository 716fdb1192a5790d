#include "security/seccomp_names.hpp"

#include <gtest/gtest.h>
#include <linux/seccomp.h>

#include <cerrno>

namespace hrun::security {
namespace {

uint32_t action(std::string_view name, std::optional<uint32_t> errno_ret = std::nullopt) {
    auto a = seccomp_action_from_name(name, errno_ret, "action", "errnoRet");
    EXPECT_TRUE(a.has_value()) << name << ": " << (a ? "" : a.error().what());
    return a.value_or(0xdeadbeef);
}

TEST(SeccompNames, ActionsMapToLibseccompValues) {
    EXPECT_EQ(action("SCMP_ACT_ALLOW"), SCMP_ACT_ALLOW);
    EXPECT_EQ(action("SCMP_ACT_LOG"), SCMP_ACT_LOG);
    EXPECT_EQ(action("SCMP_ACT_TRAP"), SCMP_ACT_TRAP);
    EXPECT_EQ(action("SCMP_ACT_KILL_PROCESS"), SCMP_ACT_KILL_PROCESS);
    EXPECT_EQ(action("SCMP_ACT_KILL_THREAD"), SCMP_ACT_KILL_THREAD);
    // The spec's SCMP_ACT_KILL is the historical thread kill.
    EXPECT_EQ(action("SCMP_ACT_KILL"), SCMP_ACT_KILL_THREAD);
}

TEST(SeccompNames, ActionsMatchKernelReturnValues) {
    // What ends up in the BPF program is the kernel's SECCOMP_RET_* encoding.
    EXPECT_EQ(action("SCMP_ACT_ALLOW"), SECCOMP_RET_ALLOW);
    EXPECT_EQ(action("SCMP_ACT_KILL_PROCESS"), SECCOMP_RET_KILL_PROCESS);
    EXPECT_EQ(action("SCMP_ACT_ERRNO", 1234), SECCOMP_RET_ERRNO | 1234u);
    EXPECT_EQ(action("SCMP_ACT_TRACE", 7), SECCOMP_RET_TRACE | 7u);
}

TEST(SeccompNames, ErrnoAndTraceUseTheConfiguredErrnoOrEperm) {
    EXPECT_EQ(action("SCMP_ACT_ERRNO"), SCMP_ACT_ERRNO(EPERM));
    EXPECT_EQ(action("SCMP_ACT_ERRNO", 38), SCMP_ACT_ERRNO(38));
    EXPECT_EQ(action("SCMP_ACT_ERRNO", 0), SCMP_ACT_ERRNO(0));
    EXPECT_EQ(action("SCMP_ACT_TRACE"), SCMP_ACT_TRACE(EPERM));
    EXPECT_EQ(action("SCMP_ACT_TRACE", 1234), SCMP_ACT_TRACE(1234));
}

TEST(SeccompNames, ErrnoOnActionsThatCannotReturnOneIsRefused) {
    for (const char* name : {"SCMP_ACT_ALLOW", "SCMP_ACT_KILL", "SCMP_ACT_LOG", "SCMP_ACT_TRAP"}) {
        auto a = seccomp_action_from_name(name, 5, "action", "errnoRet");
        ASSERT_FALSE(a.has_value()) << name;
        EXPECT_EQ(a.error().field, "errnoRet");
    }
}

TEST(SeccompNames, ErrnoWiderThan16BitsIsRefused) {
    auto a = seccomp_action_from_name("SCMP_ACT_ERRNO", 0x10000, "action", "errnoRet");
    ASSERT_FALSE(a.has_value());
    EXPECT_EQ(a.error().field, "errnoRet");
    EXPECT_TRUE(seccomp_action_from_name("SCMP_ACT_ERRNO", 0xffff, "a", "e").has_value());
}

TEST(SeccompNames, UnknownEmptyAndNotifyActionsAreErrors) {
    for (const char* name : {"SCMP_ACT_ALOW", "", "scmp_act_allow", "SCMP_ACT_NOTIFY"}) {
        auto a = seccomp_action_from_name(name, std::nullopt, "defaultAction", "defaultErrnoRet");
        ASSERT_FALSE(a.has_value()) << name;
        EXPECT_EQ(a.error().field, "defaultAction");
    }
    auto notify = seccomp_action_from_name("SCMP_ACT_NOTIFY", std::nullopt, "a", "e");
    ASSERT_FALSE(notify.has_value());
    EXPECT_NE(notify.error().message.find("not supported"), std::string::npos);
}

TEST(SeccompNames, ArchitecturesMapToAuditTokens) {
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_X86_64"), SCMP_ARCH_X86_64);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_X86"), SCMP_ARCH_X86);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_X32"), SCMP_ARCH_X32);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_AARCH64"), SCMP_ARCH_AARCH64);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_ARM"), SCMP_ARCH_ARM);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_MIPSEL64N32"), SCMP_ARCH_MIPSEL64N32);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_PPC64LE"), SCMP_ARCH_PPC64LE);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_S390X"), SCMP_ARCH_S390X);
    EXPECT_EQ(seccomp_arch_from_name("SCMP_ARCH_RISCV64"), SCMP_ARCH_RISCV64);
    EXPECT_NE(SCMP_ARCH_X86_64, SCMP_ARCH_X32);  // same machine, different ABI token
    EXPECT_FALSE(seccomp_arch_from_name("x86_64").has_value());
    EXPECT_FALSE(seccomp_arch_from_name("SCMP_ARCH_VAX").has_value());
    EXPECT_FALSE(seccomp_arch_from_name("SCMP_ARCH_NATIVE").has_value());
}

TEST(SeccompNames, ComparisonOperators) {
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_NE"), SCMP_CMP_NE);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_LT"), SCMP_CMP_LT);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_LE"), SCMP_CMP_LE);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_EQ"), SCMP_CMP_EQ);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_GE"), SCMP_CMP_GE);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_GT"), SCMP_CMP_GT);
    EXPECT_EQ(seccomp_op_from_name("SCMP_CMP_MASKED_EQ"), SCMP_CMP_MASKED_EQ);
    EXPECT_FALSE(seccomp_op_from_name("SCMP_CMP_EQUAL").has_value());
    EXPECT_FALSE(seccomp_op_from_name("").has_value());
}

TEST(SeccompNames, FilterFlagsAreKernelBits) {
    EXPECT_EQ(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_TSYNC"), SECCOMP_FILTER_FLAG_TSYNC);
    EXPECT_EQ(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_LOG"), SECCOMP_FILTER_FLAG_LOG);
    EXPECT_EQ(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
              SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    // Accepted, but only meaningful with a notify listener, which hrun does not create.
    EXPECT_EQ(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"), 0u);
    EXPECT_FALSE(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_NEW_LISTENER").has_value());
    EXPECT_FALSE(seccomp_flag_from_name("SECCOMP_FILTER_FLAG_BOGUS").has_value());
}

}  // namespace
}  // namespace hrun::security
