// hooks: programs the runtime runs on the host. startContainer hooks run inside the container
// and are not host programs.
#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

// Directories anyone may write to (sticky or not, a file placed there can be swapped).
bool in_world_writable_directory(std::string_view path) {
    const std::string p = normalize_path(path);
    for (std::string_view dir : {"/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock", "/var/lock"})
        if (is_within(p, dir)) return true;
    return false;
}

void check_list(std::string_view name, const std::vector<spec::Hook>& hooks, Findings& out) {
    const std::string base = "hooks." + std::string(name);
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        const std::string field = spec::check::at(base, i, "path");
        const std::string& path = hooks[i].path;
        if (in_world_writable_directory(path))
            out.add("HRUN-HOOK-002", Severity::medium, field, path + " is in a world-writable directory");
        else
            out.add("HRUN-HOOK-001", Severity::info, field, std::string(name) + " hook runs " + path + " on the host");
    }
}

}  // namespace

void check_hooks(const Context& ctx, Findings& out) {
    if (!ctx.spec.hooks) return;
    const spec::Hooks& h = *ctx.spec.hooks;
    check_list("prestart", h.prestart, out);
    check_list("createRuntime", h.createRuntime, out);
    check_list("createContainer", h.createContainer, out);
    check_list("poststart", h.poststart, out);
    check_list("poststop", h.poststop, out);
}

}  // namespace hrun::audit::detail
