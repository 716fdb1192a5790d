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

bool joins_user_namespace(const spec::Spec& spec) {
    if (!spec.linux) return false;
    for (const auto& ns : spec.linux->namespaces)
        if (ns.type == "user" && !ns.path.empty()) return true;
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
    plan.joins_user_namespace = joins_user_namespace(spec);
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
//
// Groups and gid first, before a seccomp filter loaded without no_new_privs (they change no
// capability, and the filter need not allow them for hrun's sake); the uid last.
ChildStatus switch_groups(const ProcessPlan& plan) noexcept {
    if (plan.set_groups &&
        ::syscall(SYS_setgroups, plan.additional_gids.size(), plan.additional_gids.data()) != 0) {
        // A user namespace joined by path may deny setgroups(2) (its maps were written without
        // privilege): the process keeps the list it has, as with runc. No filter is loaded yet,
        // so EPERM is the kernel's answer; asked-for groups cannot be had there.
        if (errno != EPERM || !plan.additional_gids.empty() || !plan.joins_user_namespace)
            return child_fail("process.user.additionalGids", "cannot set the supplementary groups",
                              errno);
    }
    if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0)
        return child_fail("process.user.gid", "cannot switch to the group id", errno);
    return child_ok();
}

ChildStatus switch_user(const ProcessPlan& plan) noexcept {
    // Keep the permitted set across the uid change; set_capabilities narrows it right after.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return child_fail("process.user", "cannot keep capabilities across the uid change", errno);
    if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0)
        return child_fail("process.user.uid", "cannot switch to the user id", errno);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return child_fail("process.user", "cannot clear the keep-capabilities flag", errno);
    return child_ok();
}

}  // namespace hrun::process
