// The readable and the JSON forms of an inspect report. The readable one is meant for people
// learning what isolates a container: each line says what it is in words, with the kernel's
// own value next to it.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "inspect/inspect.hpp"

namespace hrun::inspect {
namespace {

using json = nlohmann::ordered_json;

std::string hex_mask(uint64_t mask) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, mask);
    return buf;
}

std::string join(const std::vector<std::string>& words, const char* sep = " ") {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
    return out;
}

// Capability names, wrapped after `width` columns and indented to line up with the first.
std::string capability_text(uint64_t mask, int last_cap, std::size_t indent) {
    if (mask == 0) return "none";
    const uint64_t full = full_capability_mask(last_cap);
    if ((mask & full) == full) return "all " + std::to_string(last_cap + 1) + " capabilities";
    std::string out, line;
    for (const std::string& name : capability_names(mask)) {
        if (!line.empty() && line.size() + 1 + name.size() > 80) {
            out += line + "\n" + std::string(indent, ' ');
            line.clear();
        }
        line += (line.empty() ? "" : " ") + name;
    }
    return out + line;
}

std::string optional_bytes(const std::optional<uint64_t>& v) { return v ? human_bytes(*v) : "max"; }

std::string ids_text(const std::vector<uint32_t>& ids) {
    std::string out;
    for (uint32_t id : ids) out += (out.empty() ? "" : " ") + std::to_string(id);
    return out;
}

std::string map_text(const IdMapInfo& m) {
    std::string out;
    for (const IdRange& r : m.ranges)
        out += (out.empty() ? "" : ", ") + std::to_string(r.inside) + " " + std::to_string(r.outside) + " " +
               std::to_string(r.count);
    if (m.identity) out += " (all ids as on the host: no user namespace of its own)";
    return out.empty() ? "(empty: no id mapped)" : out;
}

std::string root_text(const IdMapInfo& m, const char* what) {
    if (!m.root_on_host) return std::string(what) + " 0 is not mapped: no root in the container";
    if (*m.root_on_host == 0) return std::string(what) + " 0 on the host: root in the container is root on the host";
    return std::string(what) + " " + std::to_string(*m.root_on_host) +
           " on the host: root in the container is unprivileged outside it";
}

std::string seccomp_text(const ProcStatus& s) {
    if (!s.seccomp) return "unknown (no Seccomp line in status)";
    std::string out = seccomp_mode_name(*s.seccomp) + " (mode " + std::to_string(*s.seccomp) + ")";
    if (s.seccomp_filters && *s.seccomp != 0)
        out += ", " + std::to_string(*s.seccomp_filters) + (*s.seccomp_filters == 1 ? " filter" : " filters");
    return out;
}

std::string lsm_text(const LsmInfo& l) {
    if (l.name.empty()) return "none (LSM not enabled)";
    return l.name + ": " + l.label;
}

// Placements with the same path share one line, as on v1 where every hierarchy usually has one.
std::vector<std::string> placement_lines(const std::vector<CgroupPlacement>& placements) {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const CgroupPlacement& p : placements) {
        const std::string label = p.version == 2 ? "cgroup2" : join(p.controllers, ",");
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == p.path; });
        if (it == groups.end()) groups.push_back({p.path, {label}});
        else it->second.push_back(label);
    }
    std::vector<std::string> out;
    for (const auto& [path, labels] : groups) out.push_back(path + "  (" + join(labels, " ") + ")");
    return out;
}

std::string cpu_limit_text(const CgroupInfo& c) {
    std::string out;
    if (c.cpu_quota_us && c.cpu_period_us && *c.cpu_period_us) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f CPUs (quota %" PRId64 "us per %" PRIu64 "us)",
                      static_cast<double>(*c.cpu_quota_us) / static_cast<double>(*c.cpu_period_us),
                      *c.cpu_quota_us, *c.cpu_period_us);
        out = buf;
    } else {
        out = "no quota";
    }
    if (c.cpu_shares) out += ", shares " + std::to_string(*c.cpu_shares);
    if (c.cpu_weight) out += ", weight " + std::to_string(*c.cpu_weight);
    if (!c.cpuset_cpus.empty()) out += ", cpus " + c.cpuset_cpus;
    return out;
}

std::string ms_text(uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(ns) / 1e6);
    return buf;
}

json optional_json(const auto& v) { return v ? json(*v) : json(nullptr); }

json namespace_json(const NamespaceInfo& ns) {
    return {{"type", ns.type}, {"inode", ns.inode}, {"path", ns.path}, {"sharedWithHost", ns.shared_with_host},
            {"sharedWith", ns.shared_with}};
}

json map_json(const IdMapInfo& m) {
    json ranges = json::array();
    for (const IdRange& r : m.ranges) ranges.push_back({{"inside", r.inside}, {"outside", r.outside}, {"count", r.count}});
    return {{"ranges", ranges}, {"identity", m.identity}, {"rootOnHost", optional_json(m.root_on_host)}};
}

json caps_json(uint64_t mask) { return {{"mask", hex_mask(mask)}, {"names", capability_names(mask)}}; }

json cgroup_json(const CgroupInfo& c) {
    json placements = json::array();
    for (const CgroupPlacement& p : c.placements)
        placements.push_back({{"version", p.version}, {"controllers", p.controllers}, {"path", p.path},
                              {"directory", p.directory}});
    json io = json::array();
    for (const auto& d : c.stats.io)
        io.push_back({{"major", d.major}, {"minor", d.minor}, {"readBytes", d.read_bytes},
                      {"writeBytes", d.write_bytes}, {"readOps", d.read_ops}, {"writeOps", d.write_ops}});
    const cgroups::Stats& s = c.stats;
    return {{"mode", c.mode},
            {"placements", placements},
            {"memory",
             {{"usage", optional_json(s.memory_usage)}, {"limit", optional_json(s.memory_limit)},
              {"maxUsage", optional_json(s.memory_max_usage)}, {"swapUsage", optional_json(s.swap_usage)},
              {"swapLimit", optional_json(s.swap_limit)}, {"oomKills", optional_json(c.oom_kills)}}},
            {"pids", {{"current", optional_json(s.pids_current)}, {"limit", optional_json(s.pids_limit)}}},
            {"cpu",
             {{"usageNs", optional_json(s.cpu_usage_ns)}, {"quotaUs", optional_json(c.cpu_quota_us)},
              {"periodUs", optional_json(c.cpu_period_us)}, {"shares", optional_json(c.cpu_shares)},
              {"weight", optional_json(c.cpu_weight)}, {"cpus", c.cpuset_cpus},
              {"throttledPeriods", optional_json(s.cpu_throttled_periods)}}},
            {"io", {{"weight", optional_json(c.io_weight)}, {"limits", c.io_limits}, {"devices", io}}}};
}

json mount_json(const MountView& v) {
    const MountEntry& m = v.entry;
    json j{{"mountPoint", m.mount_point}, {"kind", mount_kind_name(v.kind)}, {"fstype", m.fstype},
           {"source", m.source}, {"root", m.root}, {"readOnly", m.read_only()}, {"options", m.options}};
    if (!v.host_source.empty()) j["hostSource"] = v.host_source;
    if (!v.covered_by.empty()) j["coveredBy"] = v.covered_by;
    return j;
}

void mounts_section(std::ostringstream& out, pid_t pid, const std::vector<MountView>& mounts) {
    out << "\nMounts (from /proc/" << pid << "/mountinfo)\n";
    std::size_t width = 12;
    for (const MountView& v : mounts)
        if (v.kind != MountKind::Other && v.kind != MountKind::Cgroup && v.kind != MountKind::Device)
            width = std::max(width, v.entry.mount_point.size());
    std::vector<std::string> others;
    for (const MountView& v : mounts) {
        const MountEntry& m = v.entry;
        std::string what, detail;
        switch (v.kind) {
            case MountKind::Root:
                what = m.read_only() ? "read-only" : "writable";
                detail = "root" + (v.host_source.empty() ? "" : ", from the host's " + v.host_source);
                break;
            case MountKind::Masked:
                what = "masked";
                detail = v.covered_by + " over it";
                break;
            case MountKind::ReadOnlyPath:
                what = "read-only";
                detail = "bound onto itself read-only";
                break;
            case MountKind::HostBind:
                what = "host bind";
                detail = "the host's " + v.host_source + (m.read_only() ? " (read-only)" : " (writable)");
                break;
            case MountKind::Device:
                others.push_back("host device nodes");
                continue;
            case MountKind::Cgroup:
            case MountKind::Other:
                others.push_back(m.fstype);
                continue;
        }
        // An idmapped mount shows its files' owners through a user namespace's maps.
        if (m.has_option("idmapped")) detail += ", idmapped (owners translated by the container's uid/gid maps)";
        out << "  " << m.mount_point << std::string(width + 2 - std::min(width, m.mount_point.size()), ' ') << what
            << std::string(11 - std::min<std::size_t>(10, what.size()), ' ') << detail << "\n";
    }
    if (!others.empty()) {
        std::vector<std::string> kinds;
        for (const auto& t : others)
            if (std::find(kinds.begin(), kinds.end(), t) == kinds.end()) kinds.push_back(t);
        out << "  and " << others.size() << " more mount" << (others.size() == 1 ? "" : "s") << " ("
            << join(kinds, ", ") << "); all in --format json\n";
    }
}

}  // namespace

std::string human_bytes(uint64_t bytes) {
    static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) return std::to_string(bytes) + "B";
    double v = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (v >= 1024 && unit + 1 < std::size(kUnits)) {
        v /= 1024;
        ++unit;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
    std::string text = buf;
    // "32.0" reads better as "32"; "1.50" as "1.5".
    if (text.find('.') != std::string::npos) {
        while (text.back() == '0') text.pop_back();
        if (text.back() == '.') text.pop_back();
    }
    return text + kUnits[unit];
}

std::string format_report(const Report& r) {
    const ProcessReport& p = r.process;
    const ProcStatus& s = p.status;
    std::ostringstream out;
    if (r.id == "host") out << "Host (pid " << p.pid << ")\n";
    else out << "Container " << r.id << " (" << r.status << ")\n";
    out << "  process    pid " << p.pid << " on the host";
    if (p.pid_in_container) out << ", pid " << *p.pid_in_container << " inside";
    out << ", \"" << s.name << "\"" << (p.pid == r.init_pid ? " (init)" : "") << "\n";

    out << "\nNamespaces (from /proc/" << p.pid << "/ns; the host's: " << p.host_reference << ")\n";
    out << "  TYPE    INODE       SHARED WITH\n";
    for (const NamespaceInfo& ns : p.namespaces) {
        std::vector<std::string> with;
        if (ns.shared_with_host) with.push_back("host");
        with.insert(with.end(), ns.shared_with.begin(), ns.shared_with.end());
        char line[96];
        std::snprintf(line, sizeof line, "  %-7s %-11" PRIu64 " ", ns.type.c_str(), ns.inode);
        out << line << (with.empty() ? "- (its own)" : join(with, ", ")) << "\n";
    }

    out << "\nUsers (from /proc/" << p.pid << "/uid_map, gid_map and status)\n";
    out << "  uid_map    " << map_text(p.uid_map) << "\n";
    out << "  gid_map    " << map_text(p.gid_map) << "\n";
    out << "  uids       " << ids_text(s.uids) << " on the host (real, effective, saved, fs)\n";
    out << "  root       " << root_text(p.uid_map, "uid") << "\n";

    out << "\nCapabilities (from /proc/" << p.pid << "/status)\n";
    const std::pair<const char*, uint64_t> sets[] = {{"effective", s.cap_effective},
                                                     {"permitted", s.cap_permitted},
                                                     {"inheritable", s.cap_inheritable},
                                                     {"bounding", s.cap_bounding},
                                                     {"ambient", s.cap_ambient}};
    for (const auto& [name, mask] : sets) {
        char label[32];
        std::snprintf(label, sizeof label, "  %-12s", name);
        out << label << capability_text(mask, p.cap_last_cap, 14) << "\n";
    }

    out << "\nSecurity\n";
    out << "  no_new_privs  " << (s.no_new_privs ? (*s.no_new_privs ? "yes" : "no") : "unknown") << "\n";
    out << "  seccomp       " << seccomp_text(s) << "\n";
    out << "  lsm           " << lsm_text(p.lsm) << "\n";
    if (!r.policy.empty()) {
        out << "  policy        " << r.policy
            << (r.applied_defaults.empty() ? " (nothing left unset by the config)" : ", filled in:") << "\n";
        for (const std::string& d : r.applied_defaults) out << "                  " << d << "\n";
        if (!r.policy_reason.empty()) out << "  policy from   " << r.policy_reason << "\n";
    }

    if (!r.own_cgroup) {
        out << "\nCgroup\n  none of its own: no cgroup was delegated to the rootless user who created it, so\n"
               "  nothing limits its memory, pids or CPU; its processes sit in their creator's cgroup";
        if (p.cgroup && !p.cgroup->placements.empty()) out << " (" << p.cgroup->placements.front().path << ")";
        out << "\n";
    } else if (p.cgroup) {
        const CgroupInfo& c = *p.cgroup;
        const cgroups::Stats& st = c.stats;
        out << "\nCgroup (from /proc/" << p.pid << "/cgroup and the cgroup files)\n";
        out << "  mode       " << c.mode << "\n";
        for (const std::string& line : placement_lines(c.placements)) out << "  path       " << line << "\n";
        out << "  memory     " << (st.memory_usage ? human_bytes(*st.memory_usage) : "?") << " used, limit "
            << optional_bytes(st.memory_limit);
        if (c.oom_kills) out << ", OOM kills " << *c.oom_kills;
        out << "\n";
        out << "  pids       " << (st.pids_current ? std::to_string(*st.pids_current) : "?") << ", limit "
            << (st.pids_limit ? std::to_string(*st.pids_limit) : "max") << "\n";
        out << "  cpu        " << (st.cpu_usage_ns ? ms_text(*st.cpu_usage_ns) + " used, " : "") << cpu_limit_text(c)
            << "\n";
        uint64_t rd = 0, wr = 0;
        for (const auto& d : st.io) rd += d.read_bytes, wr += d.write_bytes;
        out << "  io         " << human_bytes(rd) << " read, " << human_bytes(wr) << " written";
        if (c.io_weight) out << ", weight " << *c.io_weight;
        if (!c.io_limits.empty()) out << ", limits: " << join(c.io_limits, "; ");
        out << "\n";
    } else {
        out << "\nCgroup\n  path       / (the root cgroup: no limits)\n";
    }

    mounts_section(out, p.pid, p.mounts);

    out << "\nEnter by hand (namespaces only: no cgroup, capabilities, seccomp or LSM label)\n";
    out << "  " << p.nsenter << "\n";
    return out.str();
}

json report_json(const Report& r) {
    const ProcessReport& p = r.process;
    const ProcStatus& s = p.status;
    json namespaces = json::array();
    for (const auto& ns : p.namespaces) namespaces.push_back(namespace_json(ns));
    json mounts = json::array();
    for (const auto& m : p.mounts) mounts.push_back(mount_json(m));
    json j;
    j["id"] = r.id;
    if (!r.status.empty()) j["status"] = r.status;
    if (!r.policy.empty())
        j["policy"] = {{"name", r.policy}, {"reason", r.policy_reason}, {"appliedDefaults", r.applied_defaults}};
    j["initPid"] = r.init_pid;
    j["pid"] = p.pid;
    j["pidInContainer"] = optional_json(p.pid_in_container);
    j["name"] = s.name;
    j["namespaces"] = namespaces;
    j["hostNamespaces"] = p.host_reference;
    j["uidMap"] = map_json(p.uid_map);
    j["gidMap"] = map_json(p.gid_map);
    j["uids"] = s.uids;
    j["gids"] = s.gids;
    j["capabilities"] = {{"effective", caps_json(s.cap_effective)},   {"permitted", caps_json(s.cap_permitted)},
                         {"inheritable", caps_json(s.cap_inheritable)}, {"bounding", caps_json(s.cap_bounding)},
                         {"ambient", caps_json(s.cap_ambient)}};
    j["noNewPrivs"] = optional_json(s.no_new_privs);
    j["seccomp"] = {{"mode", optional_json(s.seccomp)},
                    {"modeName", s.seccomp ? json(seccomp_mode_name(*s.seccomp)) : json(nullptr)},
                    {"filters", optional_json(s.seccomp_filters)}};
    j["lsm"] = p.lsm.name.empty() ? json{{"name", nullptr}, {"label", nullptr}, {"text", lsm_text(p.lsm)}}
                                  : json{{"name", p.lsm.name}, {"label", p.lsm.label}, {"text", lsm_text(p.lsm)}};
    j["cgroup"] = p.cgroup && r.own_cgroup ? cgroup_json(*p.cgroup) : json(nullptr);
    j["ownCgroup"] = r.own_cgroup;
    j["mounts"] = mounts;
    j["nsenter"] = p.nsenter;
    return j;
}

}  // namespace hrun::inspect
