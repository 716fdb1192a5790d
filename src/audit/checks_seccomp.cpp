// linux.seccomp: absent, allow-everything, or leaving the calls that container escapes rely on.
//
// A call counts as blocked when a rule without argument conditions gives it an action other
// than ALLOW/LOG (ERRNO, KILL, TRAP, TRACE, NOTIFY), or, in a default-deny profile, when no
// rule allows it. A rule with argument conditions blocks only some uses and is not counted.
#include <set>

#include "audit/checks.hpp"

namespace hrun::audit::detail {
namespace {

// Calls a profile should never leave open to a container (Docker's default profile blocks all
// of them for a process without extra capabilities).
constexpr std::string_view kKeyCalls[] = {
    "kexec_load",    "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
    "bpf",           "keyctl",          "add_key",     "request_key",  "mount",         "umount2",
    "unshare",       "setns",           "ptrace",      "perf_event_open", "userfaultfd", "reboot",
    "acct",          "swapon",          "swapoff",     "iopl",         "ioperm",        "pivot_root",
};

bool lets_through(std::string_view action) { return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG"; }

std::string join_names(const std::vector<std::string_view>& names) {
    std::string out;
    for (auto n : names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    return out;
}

}  // namespace

void check_seccomp(const Context& ctx, Findings& out) {
    if (!ctx.linux || !ctx.linux->seccomp) {
        out.add("HRUN-SECCOMP-001", Severity::medium, "linux.seccomp", "no seccomp filter is set");
        return;
    }
    const spec::Seccomp& s = *ctx.linux->seccomp;
    const bool default_allows = lets_through(s.defaultAction);

    // What the rules decide unconditionally, per call name. The last rule for a name wins here;
    // a profile that names a call twice with different actions is unusual enough to ignore.
    std::set<std::string> blocked, allowed;
    for (const auto& rule : s.syscalls) {
        if (!rule.args.empty()) continue;
        for (const auto& name : rule.names) {
            if (lets_through(rule.action)) {
                allowed.insert(name);
                blocked.erase(name);
            } else {
                blocked.insert(name);
                allowed.erase(name);
            }
        }
    }

    std::vector<std::string_view> open;
    for (std::string_view call : kKeyCalls) {
        const std::string c(call);
        const bool is_open = default_allows ? !blocked.contains(c) : allowed.contains(c);
        if (is_open) open.push_back(call);
    }
    if (open.empty()) return;

    if (default_allows && open.size() == std::size(kKeyCalls)) {
        out.add("HRUN-SECCOMP-002", Severity::medium, "linux.seccomp.defaultAction",
                "defaultAction " + s.defaultAction + " and no rule blocks any of: " + join_names(open));
        return;
    }
    out.add("HRUN-SECCOMP-003", Severity::low, default_allows ? "linux.seccomp.defaultAction" : "linux.seccomp.syscalls",
            "left open: " + join_names(open));
}

}  // namespace hrun::audit::detail
