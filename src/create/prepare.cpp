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

    process::ProcessOptions process_options{options.preserve_fds};
    plan.process = HRUN_TRY(process::plan_process(spec, process_options, plan.host));

    if (spec.linux && spec.linux->seccomp)
        plan.seccomp = HRUN_TRY(security::compile_seccomp(*spec.linux->seccomp));

    plan.spec = std::move(spec);
    return plan;
}

}  // namespace hrun::create
