// Checks of `linux.seccomp`. Syscall names are left to the seccomp compiler, which knows which
// architectures define them.
#include <algorithm>
#include <array>
#include <string_view>

#include "spec/validate_internal.hpp"

namespace hrun::spec::check {
namespace {

constexpr std::string_view kSeccomp = "linux.seccomp";

template <std::size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& names) {
    return std::find(names.begin(), names.end(), value) != names.end();
}

constexpr std::array<std::string_view, 9> kActions{
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY"};

constexpr std::array<std::string_view, 23> kArchitectures{
    "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",  "SCMP_ARCH_X32",      "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",     "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",        "SCMP_ARCH_SH",      "SCMP_ARCH_SHEB"};

constexpr std::array<std::string_view, 4> kFlags{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                                 "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                                 "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};

constexpr std::array<std::string_view, 7> kOperators{"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                                     "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

// errnoRet only means something for actions that return an errno to the caller.
bool takes_errno(std::string_view action) { return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE"; }

// The error's field is "action" or "errnoRet"; callers place it under their own path.
Status action(const Seccomp& s, std::string_view action, const std::optional<uint32_t>& errno_ret) {
    if (action.empty()) return fail("action", "missing");
    if (!one_of(action, kActions)) return fail("action", "unknown action " + quote(action));
    if (action == "SCMP_ACT_NOTIFY" && s.listenerPath.empty())
        return fail("action", "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
    if (errno_ret && !takes_errno(action)) return fail("errnoRet", "only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
    return ok();
}

Status syscall_rule(const Seccomp& s, const SeccompSyscall& rule, std::size_t i) {
    const auto field = [i](std::string_view member) { return join(at("linux.seccomp.syscalls", i), member); };
    if (rule.names.empty()) return fail(field("names"), "must not be empty");
    for (std::size_t k = 0; k < rule.names.size(); ++k)
        if (rule.names[k].empty()) return fail(at(field("names"), k), "must not be empty");
    if (Status st = action(s, rule.action, rule.errnoRet); !st) {
        st.error().field = field(st.error().field);
        return st;
    }
    for (std::size_t k = 0; k < rule.args.size(); ++k) {
        const SeccompArg& a = rule.args[k];
        if (a.index >= 6) return fail(join(at(field("args"), k), "index"), std::to_string(a.index) + " is not below 6");
        if (!one_of(a.op, kOperators)) return fail(join(at(field("args"), k), "op"), "unknown operator " + quote(a.op));
    }
    return ok();
}

}  // namespace

Status seccomp(const Seccomp& s) {
    if (Status st = action(s, s.defaultAction, s.defaultErrnoRet); !st) {
        st.error().field = st.error().field == "action" ? "linux.seccomp.defaultAction" : "linux.seccomp.defaultErrnoRet";
        return st;
    }
    // The kernel cannot notify about every syscall: the supervisor's own would deadlock.
    if (s.defaultAction == "SCMP_ACT_NOTIFY")
        return fail("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
    for (std::size_t i = 0; i < s.architectures.size(); ++i)
        if (!one_of(s.architectures[i], kArchitectures))
            return fail(at(join(kSeccomp, "architectures"), i), "unknown architecture " + quote(s.architectures[i]));
    for (std::size_t i = 0; i < s.flags.size(); ++i)
        if (!one_of(s.flags[i], kFlags)) return fail(at(join(kSeccomp, "flags"), i), "unknown flag " + quote(s.flags[i]));
    for (std::size_t i = 0; i < s.syscalls.size(); ++i) HRUN_TRY(syscall_rule(s, s.syscalls[i], i));
    return ok();
}

}  // namespace hrun::spec::check
