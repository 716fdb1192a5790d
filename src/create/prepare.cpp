#include "create/prepare.hpp"

#include <unistd.h>

namespace hrun::create {

Result<ContainerPlan> prepare_container(spec::Spec spec, const CreateOptions& options) {
    ContainerPlan plan;
    plan.id = options.id;
    plan.bundle = options.bundle;
    plan.parent_pid = ::getpid();
    plan.host = HRUN_TRY(os::probe_host());

    plan.ns = HRUN_TRY(plan_namespaces(spec, plan.host.euid));

    rootfs::RootfsOptions rootfs_options{options.bundle, options.no_pivot};
    plan.rootfs = HRUN_TRY(rootfs::plan_rootfs(spec, rootfs_options, plan.ns.summary, plan.host));

    process::ProcessOptions process_options{options.preserve_fds, options.bundle};
    plan.process = HRUN_TRY(process::plan_process(spec, process_options, plan.host));
    // An unprivileged gid map only holds once setgroups(2) is denied; the process must not try.
    plan.process.set_groups = !plan.ns.deny_setgroups;

    if (spec.linux && spec.linux->seccomp)
        plan.seccomp = HRUN_TRY(security::compile_seccomp(*spec.linux->seccomp));

    plan.spec = std::move(spec);
    return plan;
}

}  // namespace hrun::create
