// process.capabilities: privileged-equivalent capabilities in any set.
//
// A capability counts as held when it is in the effective, permitted or ambient set. One that is
// only in the bounding or inheritable set can still be gained at execve (root gets the bounding
// set; setuid binaries and file capabilities do too), unless noNewPrivileges is on: then execve
// never raises the permitted set, and the capability is inert, reported as info.
#include <array>
#include <set>

#include "audit/checks.hpp"
#include "spec/names.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;

struct CapRule {
    std::string_view name;
    std::string_view id;
    Severity severity;
};

constexpr CapRule kCapRules[] = {
    {"CAP_SYS_ADMIN", "HRUN-CAP-002", Severity::critical},
    {"CAP_SYS_MODULE", "HRUN-CAP-003", Severity::critical},
    {"CAP_SYS_RAWIO", "HRUN-CAP-004", Severity::critical},
    {"CAP_DAC_READ_SEARCH", "HRUN-CAP-005", Severity::critical},
    {"CAP_SYS_PTRACE", "HRUN-CAP-006", Severity::high},
    {"CAP_NET_ADMIN", "HRUN-CAP-007", Severity::high},
    {"CAP_SYS_BOOT", "HRUN-CAP-008", Severity::high},
    {"CAP_SYS_TIME", "HRUN-CAP-009", Severity::high},
    {"CAP_MAC_ADMIN", "HRUN-CAP-010", Severity::high},
    {"CAP_MAC_OVERRIDE", "HRUN-CAP-011", Severity::high},
    {"CAP_BPF", "HRUN-CAP-012", Severity::high},
    {"CAP_PERFMON", "HRUN-CAP-013", Severity::medium},
    {"CAP_SYSLOG", "HRUN-CAP-014", Severity::medium},
    {"CAP_AUDIT_CONTROL", "HRUN-CAP-015", Severity::medium},
    {"CAP_SYS_RESOURCE", "HRUN-CAP-016", Severity::medium},
    {"CAP_CHECKPOINT_RESTORE", "HRUN-CAP-017", Severity::medium},
    {"CAP_NET_RAW", "HRUN-CAP-018", Severity::low},
    {"CAP_MKNOD", "HRUN-CAP-019", Severity::low},
    {"CAP_SYS_NICE", "HRUN-CAP-020", Severity::low},
    {"CAP_LINUX_IMMUTABLE", "HRUN-CAP-021", Severity::low},
    {"CAP_IPC_LOCK", "HRUN-CAP-022", Severity::low},
    {"CAP_SYS_PACCT", "HRUN-CAP-023", Severity::low},
    {"CAP_SYS_TTY_CONFIG", "HRUN-CAP-023", Severity::low},
    {"CAP_IPC_OWNER", "HRUN-CAP-023", Severity::low},
    {"CAP_LEASE", "HRUN-CAP-023", Severity::low},
    {"CAP_WAKE_ALARM", "HRUN-CAP-023", Severity::low},
    {"CAP_BLOCK_SUSPEND", "HRUN-CAP-023", Severity::low},
    {"CAP_AUDIT_READ", "HRUN-CAP-023", Severity::low},
    {"CAP_SETFCAP", "HRUN-CAP-023", Severity::info},  // in Docker's default set; worth a look only
};

// Capabilities 0..37 exist since Linux 4.3; a set holding all of them is the "privileged" set,
// whatever newer ones (CAP_PERFMON, CAP_BPF, ...) the writer's tooling knew about.
constexpr int kPrivilegedThrough = 37;

struct Sets {
    struct Named {
        std::string_view name;
        const std::vector<std::string>* list;
        bool held;  // effective/permitted/ambient: the process has these now
    };
    std::array<Named, 5> sets;

    explicit Sets(const spec::Capabilities& c)
        : sets{{{"effective", &c.effective, true},
                {"permitted", &c.permitted, true},
                {"ambient", &c.ambient, true},
                {"bounding", &c.bounding, false},
                {"inheritable", &c.inheritable, false}}} {}
};

bool holds_every_capability(const std::vector<std::string>& list) {
    std::set<int> numbers;
    for (const auto& name : list)
        if (auto n = spec::capability_from_name(name)) numbers.insert(*n);
    for (int n = 0; n <= kPrivilegedThrough; ++n)
        if (!numbers.contains(n)) return false;
    return true;
}

// Where `name` first appears: held sets before gainable ones. Empty path when absent.
struct Where {
    std::string path;
    bool held = false;
};

Where find(const Sets& sets, std::string_view name) {
    for (const auto& set : sets.sets) {
        for (std::size_t i = 0; i < set.list->size(); ++i) {
            if ((*set.list)[i] != name) continue;
            return {at(std::string("process.capabilities.") + std::string(set.name), i), set.held};
        }
    }
    return {};
}

// Context raises a few capabilities: what they reach depends on the namespace they act in.
Severity in_context(const Context& ctx, const CapRule& rule) {
    if (rule.name == "CAP_SYS_PTRACE" && !ctx.isolates("pid")) return Severity::critical;
    if (rule.name == "CAP_NET_ADMIN" && !ctx.isolates("network")) return Severity::critical;
    if (rule.name == "CAP_NET_RAW" && !ctx.isolates("network")) return Severity::medium;
    return rule.severity;
}

}  // namespace

void check_capabilities(const Context& ctx, Findings& out) {
    if (!ctx.process || !ctx.process->capabilities) return;
    const Sets sets(*ctx.process->capabilities);

    // The privileged set: one finding instead of one per capability.
    for (const auto& set : sets.sets) {
        if (!holds_every_capability(*set.list)) continue;
        const bool live = set.held || !ctx.no_new_privileges;
        if (!live) continue;  // inert; the per-capability pass reports what matters
        out.add("HRUN-CAP-001", Severity::critical, "process.capabilities." + std::string(set.name),
                "the " + std::string(set.name) + " set holds every capability: the container is privileged");
        return;
    }

    for (const CapRule& rule : kCapRules) {
        const Where where = find(sets, rule.name);
        if (where.path.empty()) continue;
        const std::string name(rule.name);
        if (!where.held && ctx.no_new_privileges) {
            out.add(rule.id, Severity::info, where.path,
                    name + " is only in the bounding/inheritable sets; inert while noNewPrivileges is on");
            continue;
        }
        std::string message = name + " granted";
        if (!where.held) message += " (gainable at execve: noNewPrivileges is off)";
        const Severity severity = in_context(ctx, rule);
        if (severity > rule.severity)
            message += rule.name == "CAP_SYS_PTRACE" ? " together with the host pid namespace"
                                                     : " together with the host network namespace";
        out.add(rule.id, severity, where.path, std::move(message));
    }
}

}  // namespace hrun::audit::detail
