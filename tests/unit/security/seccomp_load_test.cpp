// Loads compiled filters into forked children and checks what the kernel then does. The child
// reports through its exit code (0 = every check passed, else the number of the failed check)
// or dies by a signal; the parent asserts.
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "security/seccomp.hpp"
#include "security/seccomp_names.hpp"
#include "seccomp_test_util.hpp"

namespace hrun::security {
namespace {

using test::arg;
using test::profile;
using test::rule;

constexpr int kSetupFailed = 100;
constexpr int kLoadFailed = 101;
constexpr uint32_t kErrno = 1234;

// True when a raw syscall failed with the errno our filters return.
bool blocked(long rc) { return rc == -1 && errno == static_cast<int>(kErrno); }

SeccompProgram compile(const spec::Seccomp& config) {
    auto p = compile_seccomp(config);
    EXPECT_TRUE(p.has_value()) << p.error().what();
    return p ? *p : SeccompProgram{};
}

// Ends a child at once with a raw exit_group, which the filters under test allow. Neither _exit
// nor a [[noreturn]] function: under sanitizers both run runtime code first (leak checks, stack
// bookkeeping) whose own syscalls a test's filter may deny.
void child_exit(int code) {
    ::syscall(SYS_exit_group, code);
}

// Forks, confines the child with `program` and runs `body` there; returns the wait status.
int run_confined(const SeccompProgram& program, const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        // A child killed by SIGSYS must not leave core files behind.
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) child_exit(kSetupFailed);
        if (!load_seccomp(program)) child_exit(kLoadFailed);
        child_exit(body());
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

::testing::AssertionResult exited_ok(int status) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return ::testing::AssertionSuccess();
    if (WIFEXITED(status))
        return ::testing::AssertionFailure() << "child check " << WEXITSTATUS(status) << " failed";
    if (WIFSIGNALED(status))
        return ::testing::AssertionFailure() << "child killed by signal " << WTERMSIG(status);
    return ::testing::AssertionFailure() << "wait status " << status;
}

::testing::AssertionResult killed_by(int status, int sig) {
    if (WIFSIGNALED(status) && WTERMSIG(status) == sig) return ::testing::AssertionSuccess();
    if (WIFEXITED(status))
        return ::testing::AssertionFailure() << "child exited with " << WEXITSTATUS(status);
    return ::testing::AssertionFailure() << "wait status " << status;
}

TEST(SeccompLoad, ErrnoRuleReturnsTheConfiguredErrno) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", kErrno)}));
    int status = run_confined(program, [] {
        // Without the filter this fails with ENOENT, never 1234.
        if (!blocked(::syscall(SYS_mkdir, "/nonexistent-hrun-test/dir", 0700))) return 1;
        if (!blocked(::syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent-hrun-test/dir", 0700))) return 2;
        if (::syscall(SYS_getpid) != ::getpid()) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, DefaultErrnoRetAppliesToEverythingNotAllowed) {
    auto config = profile("SCMP_ACT_ERRNO", {rule({"exit_group", "exit", "getpid"}, "SCMP_ACT_ALLOW")});
    config.defaultErrnoRet = kErrno;
    int status = run_confined(compile(config), [] {
        if (::syscall(SYS_getpid) <= 0) return 1;
        if (!blocked(::syscall(SYS_getppid))) return 2;
        if (!blocked(::syscall(SYS_getuid))) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, KillProcessKillsWithSigsys) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_KILL_PROCESS")}));
    int status = run_confined(program, [] {
        ::syscall(SYS_getppid);
        return 1;  // not reached when the filter works
    });
    EXPECT_TRUE(killed_by(status, SIGSYS));
}

TEST(SeccompLoad, KillThreadKillsASingleThreadedProcessWithSigsys) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_KILL")}));
    int status = run_confined(program, [] {
        ::syscall(SYS_getppid);
        return 1;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS));
}

TEST(SeccompLoad, TrapDeliversSigsys) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_TRAP")}));
    int status = run_confined(program, [] {
        ::syscall(SYS_getppid);
        return 1;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS));
}

TEST(SeccompLoad, LogAllowsTheSyscall) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_LOG")}));
    pid_t parent = ::getpid();
    int status = run_confined(program, [parent] { return ::syscall(SYS_getppid) == parent ? 0 : 1; });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, TraceWithoutATracerFailsTheSyscallWithEnosys) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_TRACE", kErrno)}));
    int status = run_confined(program, [] {
        long rc = ::syscall(SYS_getppid);
        return rc == -1 && errno == ENOSYS ? 0 : 1;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, ArgumentFilterBlocksOnlyTheMatchingValue) {
    auto program = compile(profile(
        "SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", kErrno, {arg(0, "SCMP_CMP_EQ", 0xffffffff)})}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(SYS_personality, 0xffffffffUL))) return 1;
        if (::syscall(SYS_personality, 0UL) < 0) return 2;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, ConditionsOnOneArgumentAreAlternatives) {
    auto program = compile(profile(
        "SCMP_ACT_ALLOW", {rule({"personality"}, "SCMP_ACT_ERRNO", kErrno,
                                {arg(0, "SCMP_CMP_EQ", 0x0008), arg(0, "SCMP_CMP_EQ", 0xffffffff)})}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(SYS_personality, 0x0008UL))) return 1;
        if (!blocked(::syscall(SYS_personality, 0xffffffffUL))) return 2;
        if (::syscall(SYS_personality, 0UL) < 0) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, ConditionsOnDifferentArgumentsMustAllMatch) {
    auto program = compile(profile(
        "SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", kErrno,
                                {arg(0, "SCMP_CMP_EQ", PRIO_PROCESS), arg(1, "SCMP_CMP_EQ", 4242)})}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 4242))) return 1;
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 0))) return 2;
        if (blocked(::syscall(SYS_getpriority, PRIO_PGRP, 4242))) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, MaskedEqualUsesValueAsMaskAndValueTwoAsExpected) {
    auto program = compile(profile(
        "SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", kErrno,
                                {arg(1, "SCMP_CMP_MASKED_EQ", 0xff, 0x39)})}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7f39))) return 1;
        if (!blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 0x39))) return 2;
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 0x7f3a))) return 3;
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 0xff))) return 4;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

struct OpCase {
    const char* op;
    bool below, equal, above;  // is who = 999, 1000, 1001 blocked?
};

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.op; }

class SeccompOperator : public ::testing::TestWithParam<OpCase> {};

TEST_P(SeccompOperator, ComparesTheArgumentAsTheNameSays) {
    const OpCase c = GetParam();
    auto program = compile(profile(
        "SCMP_ACT_ALLOW", {rule({"getpriority"}, "SCMP_ACT_ERRNO", kErrno,
                                {arg(0, "SCMP_CMP_EQ", PRIO_PROCESS), arg(1, c.op, 1000)})}));
    int status = run_confined(program, [c] {
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 999)) != c.below) return 1;
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 1000)) != c.equal) return 2;
        if (blocked(::syscall(SYS_getpriority, PRIO_PROCESS, 1001)) != c.above) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status)) << c.op;
}

INSTANTIATE_TEST_SUITE_P(All, SeccompOperator,
                         ::testing::Values(OpCase{"SCMP_CMP_NE", true, false, true},
                                           OpCase{"SCMP_CMP_LT", true, false, false},
                                           OpCase{"SCMP_CMP_LE", true, true, false},
                                           OpCase{"SCMP_CMP_EQ", false, true, false},
                                           OpCase{"SCMP_CMP_GE", false, true, true},
                                           OpCase{"SCMP_CMP_GT", false, false, true}),
                         [](const auto& info) { return std::string(info.param.op + 9); });

TEST(SeccompLoad, MultiArchitectureProfileStillFiltersNativeSyscalls) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"mkdir", "mkdirat", "socketcall"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(SYS_mkdir, "/nonexistent-hrun-test/dir", 0700))) return 1;
        if (::syscall(SYS_getpid) <= 0) return 2;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, MultiArchitectureProgramHasNoLeftoverLinkPlaceholders) {
    // The per-architecture programs are linked through placeholder returns; none may survive.
    auto program = compile(profile("SCMP_ACT_ERRNO", {rule({"getpid", "exit_group"}, "SCMP_ACT_ALLOW")},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"}));
    ASSERT_FALSE(program.filter.empty());
    for (const sock_filter& insn : program.filter)
        if (insn.code == (BPF_RET | BPF_K)) {
            EXPECT_NE(insn.k & SECCOMP_RET_ACTION_FULL, SECCOMP_RET_TRACE) << std::hex << insn.k;
        }
}

#if defined(__x86_64__)

constexpr long kX32SyscallBit = 0x40000000;
constexpr long kI386Getpid = 20;
constexpr long kI386Getppid = 64;

// A 32-bit (i386 ABI) syscall from this 64-bit process; returns the raw kernel result.
long i386_syscall(long nr) {
    long ret = nr;
    asm volatile("int $0x80" : "+a"(ret) : : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

bool i386_abi_available() {
    pid_t pid = ::fork();
    if (pid == 0) child_exit(i386_syscall(kI386Getpid) == ::getpid() ? 0 : 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(SeccompArch, I386SyscallsAreJudgedByTheX86Program) {
    if (!i386_abi_available()) GTEST_SKIP() << "this kernel does not run i386 syscalls (no IA32 emulation)";
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    int status = run_confined(program, [] {
        if (i386_syscall(kI386Getppid) != -static_cast<long>(kErrno)) return 1;
        if (i386_syscall(kI386Getpid) != ::getpid()) return 2;
        if (!blocked(::syscall(SYS_getppid))) return 3;  // native syscalls still filtered
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompArch, I386SyscallsAreKilledWhenX86IsNotListed) {
    if (!i386_abi_available()) GTEST_SKIP() << "this kernel does not run i386 syscalls (no IA32 emulation)";
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X32"}));
    int status = run_confined(program, [] {
        i386_syscall(kI386Getpid);
        return 1;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS));
}

// The x32 ABI shares x86_64's audit architecture and is told apart by a bit in the syscall
// number. Seccomp judges the syscall before the kernel dispatches it, so these tests hold even
// on kernels built without x32 support.
TEST(SeccompArch, X32SyscallsAreJudgedByTheX32Program) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    int status = run_confined(program, [] {
        if (!blocked(::syscall(kX32SyscallBit | SYS_getppid))) return 1;
        if (blocked(::syscall(kX32SyscallBit | SYS_getpid))) return 2;
        if (!blocked(::syscall(SYS_getppid))) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompArch, X32SyscallsAreKilledWhenX32IsNotListed) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"getppid"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
    int status = run_confined(program, [] {
        ::syscall(kX32SyscallBit | SYS_getpid);
        return 1;
    });
    EXPECT_TRUE(killed_by(status, SIGSYS));
}

TEST(SeccompArch, LinkingSurvivesRulesThatUseTraceActions) {
    // Rules returning the values the linker would pick first must not be mistaken for links.
    auto program = compile(profile("SCMP_ACT_ALLOW",
                                   {rule({"getppid"}, "SCMP_ACT_TRACE", 0xffff),
                                    rule({"getuid"}, "SCMP_ACT_TRACE", 0xfffe),
                                    rule({"mkdir"}, "SCMP_ACT_ERRNO", kErrno)},
                                   {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
    int status = run_confined(program, [] {
        long rc = ::syscall(SYS_getppid);
        if (rc != -1 || errno != ENOSYS) return 1;  // TRACE without a tracer
        if (!blocked(::syscall(kX32SyscallBit | SYS_mkdir, "/nonexistent-hrun-test/dir", 0700))) return 2;
        if (!blocked(::syscall(SYS_mkdir, "/nonexistent-hrun-test/dir", 0700))) return 3;
        return 0;
    });
    EXPECT_TRUE(exited_ok(status));
}

#endif  // __x86_64__

TEST(SeccompLoad, FilterFlagsLoad) {
    for (const char* flag : {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                             "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}) {
        auto config = profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO", kErrno)});
        config.flags = {flag};
        auto program = compile(config);
        int status = run_confined(program, [] {
            return blocked(::syscall(SYS_mkdir, "/nonexistent-hrun-test/dir", 0700)) ? 0 : 1;
        });
        EXPECT_TRUE(exited_ok(status)) << flag;
    }
}

TEST(SeccompLoad, UnknownFlagBitsFailWithEinvalInsteadOfLoadingSilently) {
    auto program = compile(profile("SCMP_ACT_ALLOW", {rule({"mkdir"}, "SCMP_ACT_ERRNO", kErrno)}));
    // A bit no kernel defines, together with an optional flag: the retry without the optional
    // flags must still fail rather than drop the unknown bit.
    program.flags = (1u << 30) | kFilterFlagLog;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        ChildStatus s = load_seccomp(program);
        if (s) child_exit(1);
        if (s.error.err != EINVAL) child_exit(2);
        if (std::string_view(s.error.field) != "linux.seccomp") child_exit(3);
        // No filter was installed.
        if (::syscall(SYS_mkdir, "/nonexistent-hrun-test/dir", 0700) != -1 || errno != ENOENT) child_exit(4);
        child_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(exited_ok(status));
}

TEST(SeccompLoad, EmptyProgramIsRefused) {
    ChildStatus s = load_seccomp(SeccompProgram{});
    EXPECT_FALSE(s);
    EXPECT_EQ(s.error.err, EINVAL);
}

}  // namespace
}  // namespace hrun::security
