// Security policies: what hrun adds to a config before creating the container.
//
//   oci       the config exactly as written (engines that pass their own profiles)
//   hardened  fills what the config leaves unset with hrun's defaults: the
//             default seccomp profile (profiles/seccomp/default.json, trimmed to the
//             capabilities of the bounding set), no_new_privs, and the default AppArmor
//             profile where the host enforces AppArmor
//   strict    hardened, and refuses configs rated critical by `hrun audit` unless an
//             annotation grants the exception (see strict.cpp)
//
// "Unset" for a boolean means false: engines written in Go omit false fields, so the two cannot
// be told apart in config.json. Every default applied is reported, for the log and the state.
//
// Without --policy (or HRUN_POLICY) the policy is hardened, except for a config that comes from
// an orchestrator with a security policy of its own (choose_policy): Kubernetes decides a pod's
// seccomp profile, privilege escalation and AppArmor profile in its security context, and a
// config without a filter or with no_new_privs off is what the pod asked for (Unconfined,
// allowPrivilegeEscalation). Such a config is run as written (oci). An operator who wants the
// hardened defaults under Kubernetes too says so: --policy=hardened (or strict) applies to every
// config. The annotations are not a privilege boundary: whoever writes config.json can leave the
// hardened defaults out anyway by setting the fields themselves.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::policy {

enum class Policy { Oci, Hardened, Strict };

std::optional<Policy> policy_from_name(std::string_view name);
std::string_view policy_name(Policy policy);

// What the host offers that the defaults depend on.
struct HostSecurity {
    bool apparmor_enabled = false;  // AppArmor enforcing with hrun-default loaded
};

// One default filled in: the JSON path and what was put there.
struct AppliedDefault {
    std::string field;
    std::string value;

    bool operator==(const AppliedDefault&) const = default;
};

// A config written by an orchestrator's CRI implementation, known by the annotations it adds to
// every container: `name` (for the log) and the annotation that told.
struct Orchestrator {
    std::string name;
    std::string annotation;
};
std::optional<Orchestrator> orchestrator_of(const spec::Spec& spec);
inline constexpr std::string_view kCriContainerTypeAnnotation = "io.kubernetes.cri.container-type";
inline constexpr std::string_view kCriSandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";
inline constexpr std::string_view kCrioAnnotationPrefix = "io.kubernetes.cri-o.";
// podman writes CRI-O's annotation names on its own containers too, and says it is podman here
// ("libpod"); CRI-O says "cri-o".
inline constexpr std::string_view kContainerManagerAnnotation = "io.container.manager";
inline constexpr std::string_view kPodmanContainerManager = "libpod";

// The policy applied to `spec` and why (for the log, state.json and `hrun inspect`).
struct PolicyChoice {
    Policy policy = Policy::Hardened;
    std::string reason;
};

// `requested`: the operator's --policy / HRUN_POLICY, nullopt when neither was given. A given
// policy applies to every config; the default is hardened, or oci for an orchestrator's config.
PolicyChoice choose_policy(std::optional<Policy> requested, const spec::Spec& spec);

// Applies `policy` to `spec` in place (before validation of the result and before prepare).
// Errors name the field that `strict` refuses.
Result<std::vector<AppliedDefault>> apply_policy(spec::Spec& spec, Policy policy, const HostSecurity& host);

// hrun's default seccomp profile for a container whose bounding set is `bounding`: entries with
// whenCapability kept only when one of those capabilities is in it, entries with
// unlessCapability only when none is.
Result<spec::Seccomp> default_seccomp_profile(const std::vector<std::string>& bounding);

// `strict`: the first critical audit finding the config's annotations do not accept, as an
// error naming its field.
Status refuse_critical(const spec::Spec& spec);
inline constexpr std::string_view kAcceptAnnotation = "org.hrun.policy.accept";

// The AppArmor profile name the hardened policy applies, and its text
// (profiles/apparmor/hrun-default as built into the binary).
inline constexpr std::string_view kDefaultAppArmorProfile = "hrun-default";
std::string_view default_apparmor_profile_text();

// Whether `name` is among the profiles loaded in the kernel (securityfs' profile list).
bool apparmor_profile_loaded(std::string_view profiles_list, std::string_view name);

// The host facts the policy needs. With AppArmor enforcing and hrun-default not loaded yet, it
// is loaded here (apparmor_parser -r); when that fails the policy goes without it, with a
// warning, rather than refusing to start containers.
HostSecurity detect_host_security();

}  // namespace hrun::policy
