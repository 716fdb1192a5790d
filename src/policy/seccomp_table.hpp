// The default seccomp profile as constant data compiled into hrun. The build generates it from
// profiles/seccomp/default.json (src/tools/seccomp_table_gen.cpp), so a start under the hardened
// policy copies rules out of a table instead of parsing and re-serialising the JSON profile;
// the JSON stays the one place the profile is written and reviewed.
#pragma once

#include <cstdint>
#include <span>

namespace hrun::policy::table {

struct Arg {
    uint32_t index;
    uint64_t value;
    uint64_t value_two;
    const char* op;  // SCMP_CMP_*
};

struct Rule {
    std::span<const char* const> names;
    const char* action;  // SCMP_ACT_*
    bool has_errno_ret;
    uint32_t errno_ret;
    std::span<const Arg> args;
    // hrun's own keys: the rule is kept only when one of `when_capability` is in the bounding
    // set (if it lists any), and only when none of `unless_capability` is.
    std::span<const char* const> when_capability;
    std::span<const char* const> unless_capability;
};

struct Profile {
    const char* default_action;
    bool has_default_errno_ret;
    uint32_t default_errno_ret;
    std::span<const char* const> architectures;
    std::span<const char* const> flags;
    std::span<const Rule> rules;
};

// profiles/seccomp/default.json, every rule, before the bounding set is applied.
extern const Profile kDefaultProfile;

}  // namespace hrun::policy::table
