// Shared pieces of the audit checks: facts derived once from the config (which namespaces are
// really private, whether container root is host root), the finding collector, and one function
// per concern (checks_*.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.hpp"
#include "hrun/spec.hpp"

namespace hrun::audit::detail {

struct Context {
    explicit Context(const spec::Spec& s);

    const spec::Spec& spec;
    const spec::Process* process = nullptr;  // null when the config has none
    const spec::Linux* linux = nullptr;

    bool user_namespace = false;  // a user namespace that is not the host's
    bool runs_as_root = false;    // process.user.uid == 0
    // Root without a private user namespace: uid 0 in the container is uid 0 on the host, so
    // every root-owned file the container can reach (and every /proc/sys knob) is its own.
    bool host_root = false;
    bool no_new_privileges = false;

    // Index into linux.namespaces of the entry of `type`; -1 when there is none.
    int namespace_index(std::string_view type) const;
    // Whether the container gets a namespace of `type` that is not the host's: a new one, or one
    // joined by a path that does not name the host's (/proc/1/ns/..., /proc/self/ns/...).
    bool isolates(std::string_view type) const;
    // Whether a mount of `type` ("proc", "sysfs", "cgroup"/"cgroup2") is in mounts.
    bool mounts_filesystem(std::string_view type) const;
};

// Whether a namespace path names the host's namespace: init's (/proc/1/ns/*), or the runtime's
// own (/proc/self/ns/*, /proc/thread-self/ns/*), which is the host's when hrun runs on the host.
bool is_host_namespace_path(std::string_view path);

// The lexical normal form of an absolute path: no "//", ".", "..", or trailing "/".
std::string normalize_path(std::string_view path);
// Whether `path` is `base` or below it (both normalized).
bool is_within(std::string_view path, std::string_view base);

// Collects findings, taking rationale and fix from the rule catalogue.
class Findings {
public:
    void add(std::string_view id, Severity severity, std::string path, std::string message);
    std::vector<Finding> take() { return std::move(list_); }

private:
    std::vector<Finding> list_;
};

// One severity step down (info stays info): used where a mitigation halves the risk.
Severity lower(Severity s);
Severity raise(Severity s);

void check_capabilities(const Context& ctx, Findings& out);
void check_namespaces(const Context& ctx, Findings& out);
void check_host_mounts(const Context& ctx, Findings& out);
void check_mount_options(const Context& ctx, Findings& out);  // propagation, read-only rootfs
void check_proc_sys(const Context& ctx, Findings& out);
void check_process(const Context& ctx, Findings& out);  // user, nnp, LSM, rlimits, env, scheduling
void check_resources(const Context& ctx, Findings& out);
void check_devices(const Context& ctx, Findings& out);
void check_seccomp(const Context& ctx, Findings& out);
void check_sysctls(const Context& ctx, Findings& out);
void check_hooks(const Context& ctx, Findings& out);

}  // namespace hrun::audit::detail
