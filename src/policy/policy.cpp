#include "policy/policy.hpp"

namespace hrun::policy {

std::optional<Policy> policy_from_name(std::string_view name) {
    if (name == "oci") return Policy::Oci;
    if (name == "hardened") return Policy::Hardened;
    if (name == "strict") return Policy::Strict;
    return std::nullopt;
}

std::string_view policy_name(Policy policy) {
    switch (policy) {
        case Policy::Oci: return "oci";
        case Policy::Hardened: return "hardened";
        case Policy::Strict: return "strict";
    }
    return "?";
}

std::optional<Orchestrator> orchestrator_of(const spec::Spec& spec) {
    // containerd's CRI plugin marks every container and sandbox with both; CRI-O with its own
    // prefix (io.kubernetes.cri-o.ContainerType, .SandboxID, ...), which podman borrows for
    // its own containers: those name their manager "libpod" and keep hrun's defaults.
    for (std::string_view key : {kCriContainerTypeAnnotation, kCriSandboxIdAnnotation})
        if (spec.annotations.contains(std::string(key)))
            return Orchestrator{"Kubernetes (containerd's CRI)", std::string(key)};
    if (auto manager = spec.annotations.find(std::string(kContainerManagerAnnotation));
        manager != spec.annotations.end() && manager->second == kPodmanContainerManager)
        return std::nullopt;
    auto it = spec.annotations.lower_bound(std::string(kCrioAnnotationPrefix));
    if (it != spec.annotations.end() && it->first.starts_with(kCrioAnnotationPrefix))
        return Orchestrator{"Kubernetes (CRI-O)", it->first};
    return std::nullopt;
}

PolicyChoice choose_policy(std::optional<Policy> requested, const spec::Spec& spec) {
    if (requested) return {*requested, "given by --policy or HRUN_POLICY"};
    if (auto orchestrator = orchestrator_of(spec))
        return {Policy::Oci, "default; hardened defaults deferred to " + orchestrator->name + ", annotation " +
                                 orchestrator->annotation + ": the pod's security context stands as written"};
    return {Policy::Hardened, "default"};
}

Result<std::vector<AppliedDefault>> apply_policy(spec::Spec& spec, Policy policy, const HostSecurity& host) {
    std::vector<AppliedDefault> applied;
    if (policy == Policy::Oci) return applied;

    spec::Linux& linux = spec.linux ? *spec.linux : spec.linux.emplace();
    if (!linux.seccomp) {
        static const std::vector<std::string> kNoCapabilities;
        const auto& bounding = spec.process && spec.process->capabilities
                                   ? spec.process->capabilities->bounding
                                   : kNoCapabilities;
        linux.seccomp = HRUN_TRY(default_seccomp_profile(bounding));
        applied.push_back({"linux.seccomp", "hrun default profile (" + std::to_string(linux.seccomp->syscalls.size()) +
                                                " rules for the bounding set)"});
    }
    if (spec.process) {
        if (!spec.process->noNewPrivileges) {
            spec.process->noNewPrivileges = true;
            applied.push_back({"process.noNewPrivileges", "true"});
        }
        if (host.apparmor_enabled && spec.process->apparmorProfile.empty()) {
            spec.process->apparmorProfile = std::string(kDefaultAppArmorProfile);
            applied.push_back({"process.apparmorProfile", std::string(kDefaultAppArmorProfile)});
        }
    }
    if (policy == Policy::Strict) HRUN_TRY(refuse_critical(spec));
    return applied;
}

}  // namespace hrun::policy
