// The names linux.seccomp uses (SCMP_ACT_*, SCMP_ARCH_*, SCMP_CMP_*, SECCOMP_FILTER_FLAG_*)
// mapped to the values libseccomp and seccomp(2) take. Parent side only.
#pragma once

#include <seccomp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hrun/error.hpp"

namespace hrun::security {

// seccomp(2) filter flags. These are kernel ABI values; spelled out here because older
// <linux/seccomp.h> headers lack the newer ones.
inline constexpr unsigned int kFilterFlagTsync = 1u << 0;
inline constexpr unsigned int kFilterFlagLog = 1u << 1;
inline constexpr unsigned int kFilterFlagSpecAllow = 1u << 2;
inline constexpr unsigned int kFilterFlagWaitKillableRecv = 1u << 5;

// Flags that only relax logging or mitigation: an older kernel that rejects them still gets the
// filter itself, which is what confines the container.
inline constexpr unsigned int kOptionalFilterFlags = kFilterFlagLog | kFilterFlagSpecAllow;

// "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64 (an AUDIT_ARCH_* token). nullopt for unknown names,
// including architectures this libseccomp was built without.
std::optional<uint32_t> seccomp_arch_from_name(std::string_view name);

// "SCMP_CMP_MASKED_EQ" -> SCMP_CMP_MASKED_EQ. nullopt for unknown operators.
std::optional<scmp_compare> seccomp_op_from_name(std::string_view name);

// The kernel's filter flag bit for a SECCOMP_FILTER_FLAG_* name; 0 for a flag that is accepted
// but has nothing to do without a notify listener (WAIT_KILLABLE_RECV). nullopt when unknown.
std::optional<unsigned int> seccomp_flag_from_name(std::string_view name);

// The libseccomp action for an SCMP_ACT_* name. `errno_ret` is the configured errno (errnoRet or
// defaultErrnoRet) and is only meaningful for SCMP_ACT_ERRNO and SCMP_ACT_TRACE, which fall back
// to EPERM without it. Errors carry `action_key` or `errno_key` as their field, for the caller
// to prefix with the object's path (kept relative so the success path builds no strings).
Result<uint32_t> seccomp_action_from_name(std::string_view name, std::optional<uint32_t> errno_ret,
                                          std::string_view action_key, std::string_view errno_key);

}  // namespace hrun::security
