// process: noNewPrivileges, the LSM profile, rlimits, secrets in the environment, real-time
// scheduling.
#include <algorithm>
#include <array>
#include <cctype>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;

// SELinux types that the container policy does not confine.
constexpr std::array<std::string_view, 5> kUnconfinedSelinuxTypes{
    "spc_t", "unconfined_t", "container_runtime_t", "kernel_t", "initrc_t"};

// user:role:type[:level] -> type
std::string_view selinux_type(std::string_view label) {
    for (int skip = 0; skip < 2; ++skip) {
        const auto colon = label.find(':');
        if (colon == std::string_view::npos) return {};
        label.remove_prefix(colon + 1);
    }
    return label.substr(0, label.find(':'));
}

// Names that announce a secret. A variable naming a file (DB_PASSWORD_FILE) is the remedy and
// is left alone.
bool looks_secret(std::string_view key) {
    std::string upper(key);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper.ends_with("_FILE") || upper.ends_with("_PATH") || upper.ends_with("_DIR")) return false;
    for (std::string_view word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY",
                                  "ACCESS_KEY", "CREDENTIAL"})
        if (upper.find(word) != std::string::npos) return true;
    return false;
}

void check_lsm(const spec::Process& p, Findings& out) {
    const std::string_view type = selinux_type(p.selinuxLabel);
    const bool privileged_selinux = std::find(kUnconfinedSelinuxTypes.begin(), kUnconfinedSelinuxTypes.end(), type) !=
                                    kUnconfinedSelinuxTypes.end();
    if (privileged_selinux)
        out.add("HRUN-LSM-002", Severity::medium, "process.selinuxLabel",
                "SELinux type \"" + std::string(type) + "\" is not confined by the container policy");

    const bool apparmor = !p.apparmorProfile.empty() && p.apparmorProfile != "unconfined";
    const bool selinux = !p.selinuxLabel.empty() && !privileged_selinux;
    if (apparmor || selinux) return;
    if (p.apparmorProfile == "unconfined")
        out.add("HRUN-LSM-001", Severity::low, "process.apparmorProfile", "the AppArmor profile is \"unconfined\"");
    else if (!privileged_selinux)
        out.add("HRUN-LSM-001", Severity::low, "process.apparmorProfile",
                "neither process.apparmorProfile nor process.selinuxLabel is set");
}

}  // namespace

void check_process(const Context& ctx, Findings& out) {
    if (!ctx.process) return;
    const spec::Process& p = *ctx.process;

    if (!p.noNewPrivileges)
        out.add("HRUN-NNP-001", Severity::medium, "process.noNewPrivileges", "noNewPrivileges is off");

    check_lsm(p, out);

    if (p.rlimits.empty()) out.add("HRUN-RLIMIT-001", Severity::low, "process.rlimits", "no rlimits are set");

    for (std::size_t i = 0; i < p.env.size(); ++i) {
        const std::string& entry = p.env[i];
        const auto eq = entry.find('=');
        if (eq == std::string::npos || eq + 1 == entry.size()) continue;  // no value, nothing leaked
        const std::string_view key(entry.data(), eq);
        if (looks_secret(key))
            out.add("HRUN-ENV-001", Severity::low, at("process.env", i),
                    std::string(key) + " looks like a secret passed in the environment");
    }

    if (p.scheduler) {
        const std::string& policy = p.scheduler->policy;
        if (policy == "SCHED_FIFO" || policy == "SCHED_RR" || policy == "SCHED_DEADLINE")
            out.add("HRUN-SCHED-001", Severity::low, "process.scheduler.policy", policy + " is a real-time policy");
    }
    if (p.ioPriority && p.ioPriority->ioClass == "IOPRIO_CLASS_RT")
        out.add("HRUN-SCHED-001", Severity::low, "process.ioPriority.class", "IOPRIO_CLASS_RT is the real-time I/O class");
}

}  // namespace hrun::audit::detail
