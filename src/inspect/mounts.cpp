// Classifies a container's mounts from the kernel's tables: the device numbers say which
// filesystems are shared with the host, the root field says which directory of them is shown.
#include "inspect/mounts.hpp"

#include <map>

namespace hrun::inspect {
namespace {

// `path` is `prefix` or lies below it.
bool under(const std::string& path, const std::string& prefix) {
    if (prefix == "/") return path.starts_with("/");
    return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
}

std::string join(const std::string& base, const std::string& rest) {
    if (rest.empty() || rest == "/") return base;
    if (base == "/") return rest;
    return base + rest;
}

// The part of `path` below `prefix`, with its leading slash ("" when equal).
std::string below(const std::string& path, const std::string& prefix) {
    if (prefix == "/") return path == "/" ? "" : path;
    return path.substr(prefix.size());
}

bool is_cgroup_fs(const std::string& fstype) { return fstype == "cgroup" || fstype == "cgroup2"; }

// A bind of a filesystem onto a path of that same filesystem under its parent mount, at the
// matching place: what a read-only path's self-bind leaves in the table.
bool is_self_bind(const MountEntry& m, const std::map<int, const MountEntry*>& by_id) {
    const auto it = by_id.find(m.parent);
    if (it == by_id.end() || !m.same_device(*it->second)) return false;
    const MountEntry& parent = *it->second;
    if (!under(m.mount_point, parent.mount_point)) return false;
    return join(parent.root, below(m.mount_point, parent.mount_point)) == m.root;
}

// Whether other mounts sit on `m` (a read-only tmpfs holding the cgroup mounts is no mask).
bool has_children(const MountEntry& m, const std::vector<MountEntry>& all) {
    for (const MountEntry& other : all)
        if (other.parent == m.id && other.id != m.id) return true;
    return false;
}

}  // namespace

const char* mount_kind_name(MountKind kind) {
    switch (kind) {
        case MountKind::Root: return "root";
        case MountKind::Masked: return "masked";
        case MountKind::ReadOnlyPath: return "readonly-path";
        case MountKind::HostBind: return "host-bind";
        case MountKind::Device: return "device";
        case MountKind::Cgroup: return "cgroup";
        case MountKind::Other: return "other";
    }
    return "other";
}

std::string host_path_of(const MountEntry& mount, const std::vector<MountEntry>& host) {
    const MountEntry* best = nullptr;
    for (const MountEntry& h : host) {
        if (!h.same_device(mount) || !under(mount.root, h.root)) continue;
        if (!best || h.root.size() > best->root.size() ||
            (h.root.size() == best->root.size() && h.mount_point.size() < best->mount_point.size()))
            best = &h;
    }
    if (!best) return {};
    return join(best->mount_point, below(mount.root, best->root));
}

std::vector<MountView> classify_mounts(const std::vector<MountEntry>& container,
                                       const std::vector<MountEntry>& host) {
    std::map<int, const MountEntry*> by_id;
    for (const MountEntry& m : container) by_id[m.id] = &m;

    std::vector<MountView> out;
    for (const MountEntry& m : container) {
        MountView v;
        v.entry = m;
        v.host_source = host_path_of(m, host);
        // The null device anywhere but at /dev/null itself is a mask over a file.
        const bool null_device = m.mount_point != "/dev/null" &&
                                 (v.host_source == "/dev/null" ||
                                  ((m.fstype == "devtmpfs" || m.fstype == "tmpfs") && m.root == "/null"));
        if (m.mount_point == "/") {
            v.kind = MountKind::Root;
        } else if (null_device) {
            v.kind = MountKind::Masked;
            v.covered_by = "/dev/null";
        } else if (m.fstype == "tmpfs" && m.read_only() && v.host_source.empty() && !has_children(m, container)) {
            // A new tmpfs that was read-only from the start stays empty: all it does is hide.
            v.kind = MountKind::Masked;
            v.covered_by = "read-only tmpfs";
        } else if (is_cgroup_fs(m.fstype)) {
            v.kind = MountKind::Cgroup;
        } else if (m.read_only() && is_self_bind(m, by_id)) {
            v.kind = MountKind::ReadOnlyPath;
        } else if (m.mount_point.starts_with("/dev/") && v.host_source == m.mount_point) {
            // Where mknod is not allowed (a user namespace), device nodes are bound from the host.
            v.kind = MountKind::Device;
        } else if (!v.host_source.empty()) {
            v.kind = MountKind::HostBind;
        }
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace hrun::inspect
