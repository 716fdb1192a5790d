// The process module's steps, one file per concern. plan_* run in the parent and fill a
// ProcessPlan; the others run in the container process (noexcept, no allocation).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "process/process.hpp"
#include "process/process_plan.hpp"

namespace hrun::process {

inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// --- parent (plan.cpp, environment.cpp, credentials.cpp, capabilities.cpp, limits.cpp, lsm.cpp)

// process.args, process.cwd.
Status plan_command(const spec::Process& process, ProcessPlan& plan);
// process.env, deduplicated (the last value of a name wins, at its first position), with HOME
// and PATH added when absent. Needs plan.uid for the HOME lookup, which reads the container's
// /etc/passwd through the verified procfs `procfd` (-1: opens one).
Status plan_environment(const spec::Spec& spec, const ProcessOptions& options, int procfd,
                        ProcessPlan& plan);
// process.user.
Status plan_credentials(const spec::Spec& spec, const os::HostContext& host, ProcessPlan& plan);
// process.capabilities, process.noNewPrivileges.
Status plan_capabilities(const spec::Process& process, const os::HostContext& host,
                         ProcessPlan& plan);
// process.rlimits, process.user.umask, process.oomScoreAdj, process.scheduler,
// process.ioPriority, linux.personality.
Status plan_limits(const spec::Spec& spec, ProcessPlan& plan);
// process.apparmorProfile, process.selinuxLabel.
Status plan_lsm(const spec::Process& process, const os::HostContext& host, ProcessPlan& plan);

// The home directory of `uid` in an /etc/passwd text; nullopt when no entry names it.
std::optional<std::string> home_from_passwd(std::string_view passwd, uid_t uid);
// True when AppArmor's profile list (/sys/kernel/security/apparmor/profiles: "name (mode)" lines)
// holds `profile`.
bool apparmor_profile_listed(std::string_view profiles, std::string_view profile);

// --- child (credentials.cpp, capabilities.cpp, lsm.cpp, exec.cpp)

ChildStatus drop_bounding_set(const ProcessPlan& plan) noexcept;
// setgroups and setresgid: no capability changes, so before a filter that needs CAP_SYS_ADMIN.
ChildStatus switch_groups(const ProcessPlan& plan) noexcept;
// PR_SET_KEEPCAPS around setresuid, so the permitted set survives the uid change until
// set_capabilities narrows it.
ChildStatus switch_user(const ProcessPlan& plan) noexcept;
// capset(effective, permitted, inheritable), then the ambient set.
ChildStatus set_capabilities(const ProcessPlan& plan) noexcept;
ChildStatus apply_lsm_labels(const ProcessPlan& plan, int procfd) noexcept;

}  // namespace hrun::process
