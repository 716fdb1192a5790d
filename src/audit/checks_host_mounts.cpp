// mounts[*]: sensitive host paths bound into the container, and root.path naming the host root.
//
// A bind is judged by the most severe sensitive path it exposes: the most specific catalogue
// entry the source lies in (/sys/fs/cgroup rather than /sys), or an entry below the source
// (binding /run exposes /run/containerd/containerd.sock). Writable binds rate higher than
// read-only ones, except for sockets: connect() does not need a writable mount.
#include <array>
#include <optional>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;
using enum Severity;

struct HostPath {
    std::string_view path;
    std::string_view id;       // empty: a harmless path that overrides a broader entry
    Severity writable;
    Severity readonly;
    bool subtree;              // paths below it count as it (/proc/1/root is /proc)
};

constexpr std::string_view kHarmless = "";

constexpr HostPath kHostPaths[] = {
    {"/", "HRUN-MNT-001", critical, high, false},

    // Engine sockets (MNT-002); users' sockets below /run/user are matched by pattern.
    {"/run/docker.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/containerd/containerd.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/k3s/containerd/containerd.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/podman/podman.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/crio/crio.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/buildkit/buildkitd.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/dockershim.sock", "HRUN-MNT-002", critical, critical, false},
    {"/run/docker/plugins", "HRUN-MNT-002", critical, critical, true},

    // Host credentials and configuration (MNT-003).
    {"/etc", "HRUN-MNT-003", critical, high, false},
    {"/etc/shadow", "HRUN-MNT-003", critical, high, false},
    {"/etc/gshadow", "HRUN-MNT-003", critical, high, false},
    {"/etc/passwd", "HRUN-MNT-003", critical, info, false},
    {"/etc/group", "HRUN-MNT-003", critical, info, false},
    {"/etc/sudoers", "HRUN-MNT-003", critical, medium, false},
    {"/etc/sudoers.d", "HRUN-MNT-003", critical, medium, true},
    {"/etc/ssh", "HRUN-MNT-003", critical, high, true},
    {"/etc/kubernetes", "HRUN-MNT-003", critical, high, true},
    {"/etc/crontab", "HRUN-MNT-003", critical, info, false},
    {"/etc/cron.d", "HRUN-MNT-003", critical, info, true},
    {"/etc/systemd", "HRUN-MNT-003", critical, info, true},
    {"/etc/ld.so.preload", "HRUN-MNT-003", critical, info, false},
    {"/etc/docker", "HRUN-MNT-003", high, low, true},
    {"/etc/containerd", "HRUN-MNT-003", high, low, true},

    // Kernel interfaces (MNT-004).
    {"/proc", "HRUN-MNT-004", critical, high, true},
    {"/sys", "HRUN-MNT-004", high, medium, true},
    {"/sys/fs/cgroup", "HRUN-MNT-004", critical, low, true},
    {"/sys/kernel/security", "HRUN-MNT-004", critical, medium, true},
    {"/dev", "HRUN-MNT-004", high, medium, true},
    {"/dev/mem", "HRUN-MNT-004", critical, critical, false},
    {"/dev/kmem", "HRUN-MNT-004", critical, critical, false},
    {"/dev/port", "HRUN-MNT-004", critical, critical, false},
    {"/dev/disk", "HRUN-MNT-004", critical, high, true},
    {"/dev/shm", "HRUN-MNT-004", medium, low, true},
    {"/dev/log", "HRUN-MNT-004", low, low, false},
    {"/dev/null", kHarmless, info, info, false},
    {"/dev/zero", kHarmless, info, info, false},
    {"/dev/full", kHarmless, info, info, false},
    {"/dev/random", kHarmless, info, info, false},
    {"/dev/urandom", kHarmless, info, info, false},

    // Host binaries, libraries, kernels and modules (MNT-005).
    {"/boot", "HRUN-MNT-005", high, low, true},
    {"/lib/modules", "HRUN-MNT-005", high, low, true},
    {"/usr", "HRUN-MNT-005", high, info, true},
    {"/bin", "HRUN-MNT-005", high, info, true},
    {"/sbin", "HRUN-MNT-005", high, info, true},
    {"/lib", "HRUN-MNT-005", high, info, true},
    {"/lib64", "HRUN-MNT-005", high, info, true},

    // Runtime and orchestrator state (MNT-006).
    {"/var/lib/docker", "HRUN-MNT-006", high, medium, true},
    {"/var/lib/containerd", "HRUN-MNT-006", high, medium, true},
    {"/var/lib/containers", "HRUN-MNT-006", high, medium, true},
    {"/var/lib/kubelet", "HRUN-MNT-006", high, medium, true},
    {"/var/lib/etcd", "HRUN-MNT-006", critical, high, true},
    {"/run/hrun", "HRUN-MNT-006", high, medium, true},
    {"/run/runc", "HRUN-MNT-006", high, medium, true},

    // Home directories (MNT-007) and logs (MNT-008).
    {"/root", "HRUN-MNT-007", high, medium, true},
    {"/home", "HRUN-MNT-007", medium, low, true},
    {"/var/log", "HRUN-MNT-008", medium, low, true},
};

// What a bind exposes: the rule, its severity for this mount, and the path that decided it.
struct Exposure {
    std::string_view id;
    Severity severity;
    std::string what;
};

// /var/run is a symlink to /run on current distributions, and a bind follows it.
std::string host_path(std::string_view source) {
    std::string p = normalize_path(source);
    if (is_within(p, "/var/run")) p = "/run" + p.substr(std::string_view("/var/run").size());
    return p;
}

// /run/user/<uid>/podman/podman.sock and /run/user/<uid>/docker.sock (rootless engines).
bool is_user_engine_socket(std::string_view p) {
    if (!p.starts_with("/run/user/")) return false;
    std::string_view rest = p.substr(std::string_view("/run/user/").size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return false;
    rest = rest.substr(slash);
    return rest == "/podman/podman.sock" || rest == "/docker.sock";
}

// Whether `p` is /run/user, /run/user/<uid> or /run/user/<uid>/podman: holds a user's socket.
bool holds_user_engine_socket(std::string_view p) {
    if (p == "/run" || p == "/run/user") return true;
    if (!p.starts_with("/run/user/")) return false;
    std::string_view rest = p.substr(std::string_view("/run/user/").size());
    const auto slash = rest.find('/');
    return slash == std::string_view::npos || rest.substr(slash) == "/podman";
}

std::optional<Exposure> exposure(std::string_view source, bool writable) {
    const std::string p = host_path(source);
    std::optional<Exposure> best;
    auto consider = [&](std::string_view id, Severity s, std::string what) {
        if (!best || s > best->severity) best = Exposure{id, s, std::move(what)};
    };

    // The most specific entry the source is in decides for the source itself.
    const HostPath* own = nullptr;
    for (const HostPath& e : kHostPaths) {
        const bool in = e.subtree ? is_within(p, e.path) : p == e.path;
        if (in && (!own || e.path.size() > own->path.size())) own = &e;
    }
    if (own && !own->id.empty()) consider(own->id, writable ? own->writable : own->readonly, std::string(own->path));

    // Entries below the source come with it (the host root is handled as an entry of its own).
    if (p != "/") {
        for (const HostPath& e : kHostPaths) {
            if (e.id.empty() || e.path == p || !is_within(e.path, p)) continue;
            consider(e.id, writable ? e.writable : e.readonly, std::string(e.path));
        }
    }
    // Rootless engines' sockets, after the table so that a fixed socket path is named first.
    if (is_user_engine_socket(p) || holds_user_engine_socket(p))
        consider("HRUN-MNT-002", critical, is_user_engine_socket(p) ? p : "/run/user/<uid>/podman/podman.sock");
    return best;
}

bool is_bind(const spec::Mount& m) {
    if (m.type == "bind" || m.type == "rbind") return true;
    for (const auto& o : m.options)
        if (o == "bind" || o == "rbind") return true;
    return false;
}

// The last of "ro"/"rw" wins, as in mount(8); a bind is writable unless told otherwise.
bool is_writable(const std::vector<std::string>& options) {
    bool writable = true;
    for (const auto& o : options) {
        if (o == "ro") writable = false;
        if (o == "rw") writable = true;
    }
    return writable;
}

}  // namespace

void check_host_mounts(const Context& ctx, Findings& out) {
    // A root.path of "/" runs the container on the host's own filesystem.
    if (ctx.spec.root && normalize_path(ctx.spec.root->path) == "/") {
        const bool writable = !ctx.spec.root->readonly;
        out.add("HRUN-MNT-001", writable ? critical : high, "root.path",
                std::string("the container's root is the host root") + (writable ? " (writable)" : " (read-only)"));
    }

    for (std::size_t i = 0; i < ctx.spec.mounts.size(); ++i) {
        const spec::Mount& m = ctx.spec.mounts[i];
        if (!is_bind(m) || !m.source.starts_with('/')) continue;
        const bool writable = is_writable(m.options);
        auto e = exposure(m.source, writable);
        if (!e) continue;
        std::string message = "host " + normalize_path(m.source) + " bound at " + m.destination;
        message += writable ? " read-write" : " read-only";
        if (e->what != host_path(m.source)) message += " (exposes " + e->what + ")";
        out.add(e->id, e->severity, at("mounts", i, "source"), std::move(message));
    }
}

}  // namespace hrun::audit::detail
