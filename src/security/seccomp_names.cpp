#include "security/seccomp_names.hpp"

#include <array>
#include <cerrno>
#include <utility>

namespace hrun::security {

namespace {

template <class T, std::size_t N>
std::optional<T> lookup(const std::array<std::pair<std::string_view, T>, N>& table,
                        std::string_view name) {
    for (const auto& [key, value] : table)
        if (key == name) return value;
    return std::nullopt;
}

// Every architecture libseccomp can filter for. Entries guarded by #ifdef appeared in later
// libseccomp releases; a name missing from this build is reported as unknown.
const auto kArches = std::to_array<std::pair<std::string_view, uint32_t>>({
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
#ifdef SCMP_ARCH_M68K
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K},
#endif
#ifdef SCMP_ARCH_SH
    {"SCMP_ARCH_SH", SCMP_ARCH_SH},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB},
#endif
});

const auto kOps = std::to_array<std::pair<std::string_view, scmp_compare>>({
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
});

const auto kFlags = std::to_array<std::pair<std::string_view, unsigned int>>({
    {"SECCOMP_FILTER_FLAG_TSYNC", kFilterFlagTsync},
    {"SECCOMP_FILTER_FLAG_LOG", kFilterFlagLog},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", kFilterFlagSpecAllow},
    // Only changes how a notify listener's wait behaves, and the kernel rejects it without
    // SECCOMP_FILTER_FLAG_NEW_LISTENER. hrun has no listener (SCMP_ACT_NOTIFY is refused), so
    // the flag is accepted and has nothing to do.
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0u},
});

// The errno a filter can return is the 16-bit data field of the action.
constexpr uint32_t kMaxActionData = 0xffff;

}  // namespace

std::optional<uint32_t> seccomp_arch_from_name(std::string_view name) {
    return lookup(kArches, name);
}

std::optional<scmp_compare> seccomp_op_from_name(std::string_view name) {
    return lookup(kOps, name);
}

std::optional<unsigned int> seccomp_flag_from_name(std::string_view name) {
    return lookup(kFlags, name);
}

Result<uint32_t> seccomp_action_from_name(std::string_view name, std::optional<uint32_t> errno_ret,
                                          std::string_view action_key, std::string_view errno_key) {
    // Field names become strings only on the error paths: this runs once per syscalls[] entry.
    const auto field = [&] { return std::string(action_key); };
    const auto errno_field = [&] { return std::string(errno_key); };

    const bool takes_errno = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
    if (takes_errno) {
        if (errno_ret && *errno_ret > kMaxActionData)
            return fail(errno_field(),
                        "errno " + std::to_string(*errno_ret) + " does not fit in 16 bits");
        const uint32_t data = errno_ret.value_or(EPERM);
        return name == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(data) : SCMP_ACT_TRACE(data);
    }

    std::optional<uint32_t> action;
    if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") action = SCMP_ACT_KILL_THREAD;
    else if (name == "SCMP_ACT_KILL_PROCESS") action = SCMP_ACT_KILL_PROCESS;
    else if (name == "SCMP_ACT_TRAP") action = SCMP_ACT_TRAP;
    else if (name == "SCMP_ACT_ALLOW") action = SCMP_ACT_ALLOW;
    else if (name == "SCMP_ACT_LOG") action = SCMP_ACT_LOG;
    else if (name == "SCMP_ACT_NOTIFY")
        return fail(field(), "SCMP_ACT_NOTIFY is not supported (hrun has no seccomp notify listener)");
    else if (name.empty())
        return fail(field(), "missing seccomp action");
    else
        return fail(field(), "unknown seccomp action \"" + std::string(name) + "\"");

    // The runtime spec requires an error, not silence, when an errno cannot be returned.
    if (errno_ret)
        return fail(errno_field(), std::string(name) + " cannot return an errno (only "
                                   "SCMP_ACT_ERRNO and SCMP_ACT_TRACE can)");
    return *action;
}

}  // namespace hrun::security
