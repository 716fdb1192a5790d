// The default seccomp profile: profiles/seccomp/default.json, built into the binary (as the
// table the build generates from it, policy/seccomp_table.hpp) so a container never depends on
// a file outside the bundle at create time.
#include <algorithm>

#include "policy/policy.hpp"
#include "policy/seccomp_table.hpp"

namespace hrun::policy {

namespace {

bool holds_any(const std::vector<std::string>& bounding, std::span<const char* const> caps) {
    return std::any_of(caps.begin(), caps.end(), [&](const char* cap) {
        return std::find(bounding.begin(), bounding.end(), cap) != bounding.end();
    });
}

std::vector<std::string> strings(std::span<const char* const> list) { return {list.begin(), list.end()}; }

}  // namespace

Result<spec::Seccomp> default_seccomp_profile(const std::vector<std::string>& bounding) {
    const table::Profile& t = table::kDefaultProfile;
    spec::Seccomp profile;
    profile.defaultAction = t.default_action;
    if (t.has_default_errno_ret) profile.defaultErrnoRet = t.default_errno_ret;
    profile.architectures = strings(t.architectures);
    profile.flags = strings(t.flags);
    profile.syscalls.reserve(t.rules.size());
    for (const table::Rule& rule : t.rules) {
        if (!rule.when_capability.empty() && !holds_any(bounding, rule.when_capability)) continue;
        if (holds_any(bounding, rule.unless_capability)) continue;
        spec::SeccompSyscall& s = profile.syscalls.emplace_back();
        s.names = strings(rule.names);
        s.action = rule.action;
        if (rule.has_errno_ret) s.errnoRet = rule.errno_ret;
        for (const table::Arg& a : rule.args) s.args.push_back({a.index, a.value, a.value_two, a.op});
    }
    return profile;
}

}  // namespace hrun::policy
