#include "create/prepare.hpp"

#include <sched.h>
#include <unistd.h>

#include "linux/log.hpp"
#include "security/seccomp_cache.hpp"

namespace hrun::create {

namespace {

bool permission_error(int err) { return err == EACCES || err == EPERM || err == EROFS; }

// An unprivileged caller whose cgroup root has not delegated: without limits the container
// runs without a cgroup of its own (said once, with how to delegate); with limits it cannot
// be created, and the first limit is named.
Status run_without_cgroup(const cgroups::Plan& writes, const std::vector<cgroups::Undelegated>& missing,
                          uid_t uid) {
    const std::string who = "uid " + std::to_string(uid);
    if (!writes.writes.empty()) {
        const cgroups::Write& first = writes.writes.front();
        const cgroups::Undelegated* where = &missing.front();
        for (const auto& m : missing)
            if (m.hierarchy == first.hierarchy) where = &m;
        return fail(first.field, "cannot be enforced: cgroup " + where->directory + " is not delegated to " + who +
                                     " (" + where->reason + ")",
                    where->err);
    }
    const cgroups::Undelegated& m = missing.front();
    log::warn("cgroup " + m.directory + " is not delegated to " + who + " (" + m.reason +
              "); the container runs without a cgroup of its own: no limits, no pause, and ps and kill --all "
              "see only its init process. To delegate, have root create a cgroup in every hierarchy and chown "
              "it and its files to " + who + " (and start hrun inside it on cgroup v2), then set "
              "linux.cgroupsPath below it");
    return ok();
}

// Without CLONE_INTO_CGROUP (cgroup v1 and hybrid hosts) the parent moves the child into the
// container's cgroups after clone. Namespaces clone3 created would exist before that: a child
// born in them lives, for a moment, in the container's namespaces but outside its cgroups (its
// limits, its freezer, kill --all), and stays so if hrun is killed in that moment until it reads
// EOF. So the child is born in hrun's namespaces and creates them only once the parent said it
// is in the cgroups (CGROUP_JOINED): unshare, then a second fork into the new pid namespace.
// The cgroup namespace must be rooted at the container's cgroup for the same reason.
void namespaces_after_cgroup(NamespacePlan& ns) {
    const unsigned long flags = ns.clone_flags;
    ns.clone_flags = 0;
    const unsigned long late = flags & static_cast<unsigned long>(CLONE_NEWPID);
    ns.late_flags |= late;
    ns.unshare_flags |= flags & ~late;
    if (late != 0) ns.second_fork = true;
}

Status prepare_cgroup(ContainerPlan& plan, const spec::Spec& spec, const CreateOptions& options) {
    static const spec::Linux kNoLinux;
    const spec::Linux& linux = spec.linux ? *spec.linux : kNoLinux;
    cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(plan.host.proc.get()));
    cgroups::PathOptions where{linux.cgroupsPath, options.id, options.systemd_cgroup,
                               cgroups::systemd_running()};
    cgroups::Placement placement = HRUN_TRY(cgroups::resolve_placement(layout, where));
    const bool unprivileged = plan.host.euid != 0;
    cgroups::PlanOptions plan_options;
    // Device rules need CAP_SYS_ADMIN in the host's namespace (v1 devices.allow/deny, v2's BPF
    // program), which an unprivileged caller never has, not even in a delegated cgroup. Its
    // container lives in a user namespace, where mknod(2) is refused anyway, and the device
    // nodes it gets are bind mounts of nodes the caller may open on the host.
    plan_options.devices = !unprivileged;
    cgroups::Plan writes = HRUN_TRY(cgroups::plan_resources(
        linux.resources ? *linux.resources : spec::Resources{}, layout, plan_options));
    if (unprivileged) {
        if (auto missing = cgroups::find_undelegated(layout, placement); !missing.empty())
            return run_without_cgroup(writes, missing, plan.host.euid);
    }
    if (options.on_cgroup_placed) HRUN_TRY(options.on_cgroup_placed(placement, layout.mode));
    auto created = cgroups::Cgroup::create(layout, placement, writes);
    if (!created && unprivileged && permission_error(created.error().err) &&
        created.error().field == "linux.cgroupsPath") {
        // Refused although the directories looked delegated (an LSM, a read-only remount):
        // nothing was made; same verdict as above, and the state forgets the placement.
        if (options.on_cgroup_placed) HRUN_TRY(options.on_cgroup_placed(cgroups::Placement{}, layout.mode));
        cgroups::Undelegated m{0, placement.path, created.error().message, created.error().err};
        return run_without_cgroup(writes, {m}, plan.host.euid);
    }
    plan.cgroup = HRUN_TRY(std::move(created));

    if (plan.cgroup->clone_into_fd() < 0) {
        plan.wait_for_cgroup = true;
        namespaces_after_cgroup(plan.ns);
    }
    return ok();
}

// linux.seccomp compiled to BPF, or read back from the cache when this profile was compiled
// before by this very hrun binary and libseccomp.
Result<security::SeccompProgram> compile_seccomp(const spec::Seccomp& profile, const std::string& cache_dir) {
    if (cache_dir.empty()) return security::compile_seccomp(profile);
    const std::string key = security::seccomp_cache_key(profile);
    const security::SeccompCache cache = security::SeccompCache::open(cache_dir);
    if (auto cached = cache.find(key)) return std::move(*cached);
    security::SeccompProgram program = HRUN_TRY(security::compile_seccomp(profile));
    cache.store(key, program);
    return program;
}

}  // namespace

Result<ContainerPlan> prepare_container(spec::Spec spec, const CreateOptions& options) {
    ContainerPlan plan;
    plan.id = options.id;
    plan.bundle = options.bundle;
    plan.parent_pid = ::getpid();
    plan.host = HRUN_TRY(os::probe_host());

    plan.ns = HRUN_TRY(plan_namespaces(spec, plan.host.euid));
    HRUN_TRY(prepare_cgroup(plan, spec, options));

    rootfs::RootfsOptions rootfs_options{options.bundle, options.no_pivot};
    plan.rootfs = HRUN_TRY(rootfs::plan_rootfs(spec, rootfs_options, plan.ns.summary, plan.host));

    process::ProcessOptions process_options{options.preserve_fds, options.bundle};
    plan.process = HRUN_TRY(process::plan_process(spec, process_options, plan.host));
    // An unprivileged gid map only holds once setgroups(2) is denied; the process must not try.
    plan.process.set_groups = !plan.ns.deny_setgroups;

    if (spec.linux && spec.linux->seccomp)
        plan.seccomp = HRUN_TRY(compile_seccomp(*spec.linux->seccomp, options.seccomp_cache_dir));

    if (spec.process) plan.terminal = console::plan_terminal(*spec.process);
    plan.rootfs.console_mount_point = plan.terminal.enabled && plan.terminal.mount_console;
    if (spec.hooks) {
        const auto& h = *spec.hooks;
        plan.runtime_hooks = !h.prestart.empty() || !h.createRuntime.empty();
        // In the container's namespaces (the child runs them), before pivot_root: the path and
        // the files it names still resolve as on the host, as with runc.
        if (!h.createContainer.empty())
            plan.container_hooks = hooks::prepare_hooks(
                h.createContainer, "createContainer",
                hooks::hook_state_text(options.id, "creating", options.bundle, spec.annotations));
        if (!h.startContainer.empty())
            plan.start_hooks = hooks::prepare_hooks(
                h.startContainer, "startContainer",
                hooks::hook_state_text(options.id, "created", options.bundle, spec.annotations));
    }

    plan.spec = std::move(spec);
    return plan;
}

Result<ContainerPlan> prepare_joining(spec::Spec spec, const CreateOptions& options,
                                      std::optional<cgroups::Cgroup> cgroup) {
    ContainerPlan plan;
    plan.id = options.id;
    plan.bundle = options.bundle;
    plan.parent_pid = ::getpid();
    plan.join_existing = true;
    plan.host = HRUN_TRY(os::probe_host());
    plan.ns = HRUN_TRY(plan_namespaces(spec, plan.host.euid));
    plan.ns.hostname.clear();
    plan.ns.domainname.clear();
    plan.ns.sysctls.clear();
    plan.ns.loopback_up = false;
    plan.cgroup = std::move(cgroup);
    plan.wait_for_cgroup = plan.cgroup && plan.cgroup->clone_into_fd() < 0;

    process::ProcessOptions process_options{options.preserve_fds, options.bundle, options.root_fd};
    plan.process = HRUN_TRY(process::plan_process(spec, process_options, plan.host));
    if (spec.linux && spec.linux->seccomp)
        plan.seccomp = HRUN_TRY(compile_seccomp(*spec.linux->seccomp, options.seccomp_cache_dir));
    if (spec.process) {
        plan.terminal = console::plan_terminal(*spec.process);
        plan.terminal.mount_console = false;  // /dev/console belongs to the container's init
    }
    plan.spec = std::move(spec);
    return plan;
}

}  // namespace hrun::create
