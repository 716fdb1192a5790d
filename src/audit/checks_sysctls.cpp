// linux.sysctl: keys that change the host (not namespaced, or in a namespace the container shares
// with the host), keys that make the host kernel run programs, and namespaced keys outside the
// set Kubernetes considers safe for any workload.
//
// hrun's validation already refuses keys no namespace isolates; the audit still rates them, so
// that a config meant for another runtime, or not yet validated, gets a full review.
#include <algorithm>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::key_at;

// Knobs naming a program the kernel runs as host root.
bool runs_host_program(std::string_view key) {
    return key == "kernel.core_pattern" || key == "kernel.modprobe" || key == "kernel.poweroff_cmd" ||
           key == "kernel.hotplug" || key.starts_with("kernel.usermodehelper.");
}

// The namespace (OCI type) isolating a key; empty when none does.
std::string_view namespace_of(std::string_view key) {
    if (key.starts_with("net.")) return "network";
    if (key.starts_with("kernel.shm") || key.starts_with("kernel.msg") || key == "kernel.sem" ||
        key == "kernel.sem_next_id" || key.starts_with("fs.mqueue."))
        return "ipc";
    if (key == "kernel.hostname" || key == "kernel.domainname") return "uts";
    return {};
}

constexpr std::string_view kSafe[] = {
    "kernel.shm_rmid_forced",        "kernel.hostname",          "kernel.domainname",
    "net.ipv4.ip_local_port_range",  "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",     "net.ipv4.ip_local_reserved_ports",    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",      "net.ipv4.tcp_keepalive_intvl",        "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",             "net.ipv4.tcp_wmem",
};

}  // namespace

void check_sysctls(const Context& ctx, Findings& out) {
    if (!ctx.linux) return;
    for (const auto& [raw_key, value] : ctx.linux->sysctl) {
        std::string key = raw_key;
        std::replace(key.begin(), key.end(), '/', '.');  // "kernel/core_pattern" names the same file
        const std::string field = key_at("linux.sysctl", raw_key);
        if (runs_host_program(key)) {
            out.add("HRUN-SYSCTL-001", Severity::critical, field, key + " names a program the host kernel runs as root");
            continue;
        }
        const std::string_view ns = namespace_of(key);
        if (ns.empty()) {
            out.add("HRUN-SYSCTL-002", Severity::high, field, key + " is not namespaced: it is set on the host");
            continue;
        }
        if (!ctx.isolates(ns)) {
            out.add("HRUN-SYSCTL-003", Severity::high, field,
                    key + " belongs to the " + std::string(ns) + " namespace, which is the host's");
            continue;
        }
        if (std::find(std::begin(kSafe), std::end(kSafe), key) == std::end(kSafe))
            out.add("HRUN-SYSCTL-004", Severity::low, field, key + " is namespaced but not in the safe set");
    }
}

}  // namespace hrun::audit::detail
