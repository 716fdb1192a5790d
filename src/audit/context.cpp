// Facts the checks share, the finding collector, and audit_spec running every check.
#include <algorithm>
#include <filesystem>

#include "audit/checks.hpp"

namespace hrun::audit {
namespace detail {

bool is_host_namespace_path(std::string_view path) {
    const std::string p = normalize_path(path);
    for (std::string_view prefix : {"/proc/1/ns/", "/proc/self/ns/", "/proc/thread-self/ns/"})
        if (p.starts_with(prefix)) return true;
    return false;
}

std::string normalize_path(std::string_view path) {
    std::string out = std::filesystem::path(path).lexically_normal().string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

bool is_within(std::string_view path, std::string_view base) {
    if (base == "/") return path.starts_with('/');
    return path == base || (path.starts_with(base) && path.size() > base.size() && path[base.size()] == '/');
}

Context::Context(const spec::Spec& s) : spec(s) {
    if (s.process) process = &*s.process;
    if (s.linux) linux = &*s.linux;
    user_namespace = isolates("user");
    runs_as_root = process && process->user.uid == 0;
    host_root = runs_as_root && !user_namespace;
    no_new_privileges = process && process->noNewPrivileges;
}

int Context::namespace_index(std::string_view type) const {
    if (!linux) return -1;
    for (std::size_t i = 0; i < linux->namespaces.size(); ++i)
        if (linux->namespaces[i].type == type) return static_cast<int>(i);
    return -1;
}

bool Context::isolates(std::string_view type) const {
    const int i = namespace_index(type);
    if (i < 0) return false;
    const std::string& path = linux->namespaces[static_cast<std::size_t>(i)].path;
    return path.empty() || !is_host_namespace_path(path);
}

bool Context::mounts_filesystem(std::string_view type) const {
    return std::any_of(spec.mounts.begin(), spec.mounts.end(), [type](const spec::Mount& m) {
        return m.type == type || (type == "cgroup" && m.type == "cgroup2");
    });
}

void Findings::add(std::string_view id, Severity severity, std::string path, std::string message) {
    Finding f;
    f.id = std::string(id);
    f.severity = severity;
    f.path = std::move(path);
    f.message = std::move(message);
    // The catalogue is the only source of ids: a check naming an unknown one is caught by the
    // unit test that requires every finding to carry a rationale and a fix.
    if (const Rule* rule = find_rule(id)) {
        f.why = std::string(rule->why);
        f.fix = std::string(rule->fix);
    }
    list_.push_back(std::move(f));
}

Severity lower(Severity s) { return s == Severity::info ? s : static_cast<Severity>(static_cast<int>(s) - 1); }

Severity raise(Severity s) {
    return s == Severity::critical ? s : static_cast<Severity>(static_cast<int>(s) + 1);
}

}  // namespace detail

std::vector<Finding> audit_spec(const spec::Spec& spec) {
    using namespace detail;
    const Context ctx(spec);
    Findings out;
    check_capabilities(ctx, out);
    check_namespaces(ctx, out);
    check_host_mounts(ctx, out);
    check_mount_options(ctx, out);
    check_proc_sys(ctx, out);
    check_process(ctx, out);
    check_resources(ctx, out);
    check_devices(ctx, out);
    check_seccomp(ctx, out);
    check_sysctls(ctx, out);
    check_hooks(ctx, out);
    return out.take();
}

}  // namespace hrun::audit
