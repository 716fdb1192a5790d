// process.user: supplementary groups, gid and uid of the container process.
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "process/process_internal.hpp"

namespace hrun::process {

namespace {

bool creates_user_namespace(const spec::Spec& spec) {
    if (!spec.linux) return false;
    for (const auto& ns : spec.linux->namespaces)
        if (ns.type == "user" && ns.path.empty()) return true;
    return false;
}

}  // namespace

Status plan_credentials(const spec::Spec& spec, const os::HostContext& host, ProcessPlan& plan) {
    const spec::User& user = spec.process->user;
    plan.uid = user.uid;
    plan.gid = user.gid;
    // Without CAP_SETGID over the parent namespace the id maps are only accepted once
    // setgroups(2) is denied in the new user namespace; the process then keeps the group list
    // it was born with (just its gid) and cannot be given supplementary groups.
    plan.set_groups = !(creates_user_namespace(spec) && host.euid != 0);
    if (!plan.set_groups && !user.additionalGids.empty())
        return fail("process.user.additionalGids",
                    "cannot be set: setgroups(2) is denied in a user namespace mapped without "
                    "privileges");
    const long max_groups = ::sysconf(_SC_NGROUPS_MAX);
    if (max_groups > 0 && user.additionalGids.size() > static_cast<std::size_t>(max_groups))
        return fail("process.user.additionalGids",
                    "has more groups than the kernel allows (" + std::to_string(max_groups) + ")");
    plan.additional_gids.assign(user.additionalGids.begin(), user.additionalGids.end());
    return ok();
}

// Raw syscalls rather than glibc's wrappers: glibc applies set*id/setgroups to every thread it
// believes the process has, and a process made by clone3 inherits the parent's thread list
// without the threads. The container process has exactly one thread: the kernel's per-thread
// semantics are what we want.
ChildStatus switch_credentials(const ProcessPlan& plan) noexcept {
    // Keep the permitted set across the uid change; set_capabilities narrows it right after.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return child_fail("process.user", "cannot keep capabilities across the uid change", errno);
    if (plan.set_groups &&
        ::syscall(SYS_setgroups, plan.additional_gids.size(), plan.additional_gids.data()) != 0)
        return child_fail("process.user.additionalGids", "cannot set the supplementary groups",
                          errno);
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0)
        return child_fail("process.user.gid", "cannot switch to the group id", errno);
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0)
        return child_fail("process.user.uid", "cannot switch to the user id", errno);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return child_fail("process.user", "cannot clear the keep-capabilities flag", errno);
    return child_ok();
}

}  // namespace hrun::process
