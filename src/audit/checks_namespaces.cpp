// linux.namespaces: namespaces shared with the host, either left out or joined through a path
// that names the host's own (/proc/1/ns/net); and user namespaces that map onto host root.
#include <array>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;

struct NamespaceRule {
    std::string_view type;  // OCI spelling
    std::string_view id;
    Severity severity;
};

constexpr NamespaceRule kNamespaceRules[] = {
    {"pid", "HRUN-NS-001", Severity::high},
    {"network", "HRUN-NS-002", Severity::high},
    {"ipc", "HRUN-NS-003", Severity::medium},
    {"uts", "HRUN-NS-004", Severity::low},
    {"mount", "HRUN-NS-005", Severity::critical},
    {"cgroup", "HRUN-NS-006", Severity::low},
};

// Where to point a finding about `type`: the joining entry's path, or the list itself.
std::string namespace_field(const Context& ctx, std::string_view type) {
    const int i = ctx.namespace_index(type);
    if (i >= 0) return at("linux.namespaces", static_cast<std::size_t>(i), "path");
    return "linux.namespaces";
}

std::string shared_message(const Context& ctx, std::string_view type) {
    const int i = ctx.namespace_index(type);
    if (i < 0) return "no " + std::string(type) + " namespace: the host's is shared";
    return "joins the host's " + std::string(type) + " namespace (" +
           ctx.linux->namespaces[static_cast<std::size_t>(i)].path + ")";
}

// Whether a mapping list gives some container id the host id 0.
bool maps_host_root(const std::vector<spec::IdMapping>& maps) {
    for (const auto& m : maps)
        if (m.hostID == 0 && m.size > 0) return true;
    return false;
}

}  // namespace

void check_namespaces(const Context& ctx, Findings& out) {
    for (const NamespaceRule& rule : kNamespaceRules) {
        if (ctx.isolates(rule.type)) continue;
        out.add(rule.id, rule.severity, namespace_field(ctx, rule.type), shared_message(ctx, rule.type));
    }

    if (!ctx.user_namespace) {
        // Ids are not remapped. That matters most when the process is root.
        std::string message = shared_message(ctx, "user");
        message += ctx.runs_as_root ? "; the process runs as uid 0, which is host root"
                                    : "; container uids are host uids";
        out.add("HRUN-NS-007", ctx.runs_as_root ? Severity::medium : Severity::low,
                namespace_field(ctx, "user"), std::move(message));
        return;
    }
    // Maps only matter for a namespace this config creates; a joined one was mapped elsewhere.
    if (!ctx.linux->namespaces[static_cast<std::size_t>(ctx.namespace_index("user"))].path.empty()) return;
    if (maps_host_root(ctx.linux->uidMappings))
        out.add("HRUN-USER-001", Severity::high, "linux.uidMappings",
                "a container uid is mapped to host uid 0");
    if (maps_host_root(ctx.linux->gidMappings))
        out.add("HRUN-USER-001", Severity::medium, "linux.gidMappings",
                "a container gid is mapped to host gid 0");
}

}  // namespace hrun::audit::detail
