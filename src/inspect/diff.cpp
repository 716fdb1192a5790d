// `hrun inspect --diff A B`: two reports side by side, one row per namespace, identity,
// privilege and limit, each marked as the same or different.
#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "inspect/inspect.hpp"

namespace hrun::inspect {
namespace {

using json = nlohmann::ordered_json;

std::string inode_of(const ProcessReport& p, const std::string& type) {
    for (const NamespaceInfo& ns : p.namespaces)
        if (ns.type == type) return std::to_string(ns.inode);
    return "-";
}

std::string mask_text(uint64_t mask) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, mask);
    const auto n = std::popcount(mask);
    return std::string(buf) + " (" + std::to_string(n) + ")";
}

std::string number_or(const std::optional<uint64_t>& v, const char* none) { return v ? std::to_string(*v) : none; }

std::string bytes_or_max(const std::optional<uint64_t>& v) { return v ? human_bytes(*v) : "max"; }

// The limits read from the cgroup; the root cgroup (the host's) has none.
struct Limits {
    std::string memory = "max", swap = "max", pids = "max", cpu = "max", cpu_weight = "-", cpus = "-", io_weight = "-",
                io_limits = "-";
};

Limits limits_of(const ProcessReport& p) {
    Limits l;
    if (!p.cgroup) return l;
    const CgroupInfo& c = *p.cgroup;
    l.memory = bytes_or_max(c.stats.memory_limit);
    l.swap = bytes_or_max(c.stats.swap_limit);
    l.pids = number_or(c.stats.pids_limit, "max");
    if (c.cpu_quota_us && c.cpu_period_us)
        l.cpu = std::to_string(*c.cpu_quota_us) + "/" + std::to_string(*c.cpu_period_us) + "us";
    if (c.cpu_shares) l.cpu_weight = "shares " + std::to_string(*c.cpu_shares);
    else if (c.cpu_weight) l.cpu_weight = "weight " + std::to_string(*c.cpu_weight);
    if (!c.cpuset_cpus.empty()) l.cpus = c.cpuset_cpus;
    l.io_weight = number_or(c.io_weight, "-");
    if (!c.io_limits.empty()) {
        l.io_limits.clear();
        for (const auto& s : c.io_limits) l.io_limits += (l.io_limits.empty() ? "" : "; ") + s;
    }
    return l;
}

std::string root_on_host(const IdMapInfo& m) { return m.root_on_host ? std::to_string(*m.root_on_host) : "unmapped"; }

std::string seccomp_of(const ProcStatus& s) {
    if (!s.seccomp) return "?";
    std::string out = seccomp_mode_name(*s.seccomp);
    if (s.seccomp_filters && *s.seccomp_filters) out += " (" + std::to_string(*s.seccomp_filters) + ")";
    return out;
}

std::string lsm_of(const LsmInfo& l) { return l.name.empty() ? "none" : l.label; }

std::string name_of(const Report& r) { return r.id; }

}  // namespace

std::vector<DiffRow> diff_reports(const Report& left, const Report& right) {
    std::vector<DiffRow> rows;
    auto add = [&rows](const char* section, std::string item, std::string a, std::string b) {
        const bool differs = a != b;
        rows.push_back({section, std::move(item), std::move(a), std::move(b), differs});
    };
    const ProcessReport& a = left.process;
    const ProcessReport& b = right.process;
    for (const char* type : kNamespaceTypes) {
        const std::string ia = inode_of(a, type), ib = inode_of(b, type);
        if (ia == "-" && ib == "-") continue;
        add("namespace", type, ia, ib);
    }
    add("user", "root on host", root_on_host(a.uid_map), root_on_host(b.uid_map));
    add("user", "uids", std::to_string(a.status.uids.empty() ? 0 : a.status.uids[1]),
        std::to_string(b.status.uids.empty() ? 0 : b.status.uids[1]));
    add("privilege", "effective caps", mask_text(a.status.cap_effective), mask_text(b.status.cap_effective));
    add("privilege", "bounding caps", mask_text(a.status.cap_bounding), mask_text(b.status.cap_bounding));
    add("privilege", "no_new_privs", a.status.no_new_privs.value_or(false) ? "yes" : "no",
        b.status.no_new_privs.value_or(false) ? "yes" : "no");
    add("privilege", "seccomp", seccomp_of(a.status), seccomp_of(b.status));
    add("privilege", "lsm", lsm_of(a.lsm), lsm_of(b.lsm));
    const Limits la = limits_of(a), lb = limits_of(b);
    add("limit", "memory", la.memory, lb.memory);
    add("limit", "swap", la.swap, lb.swap);
    add("limit", "pids", la.pids, lb.pids);
    add("limit", "cpu quota", la.cpu, lb.cpu);
    add("limit", "cpu weight", la.cpu_weight, lb.cpu_weight);
    add("limit", "cpus", la.cpus, lb.cpus);
    add("limit", "io weight", la.io_weight, lb.io_weight);
    add("limit", "io limits", la.io_limits, lb.io_limits);
    return rows;
}

std::string format_diff(const Report& left, const Report& right, const std::vector<DiffRow>& rows) {
    std::size_t wa = name_of(left).size(), wb = name_of(right).size();
    for (const DiffRow& r : rows) {
        wa = std::max(wa, r.left.size());
        wb = std::max(wb, r.right.size());
    }
    std::ostringstream out;
    auto line = [&](const std::string& what, const std::string& a, const std::string& b, const std::string& mark) {
        char head[40];
        std::snprintf(head, sizeof head, "%-26s", what.c_str());
        std::string text = head + a + std::string(wa + 2 - a.size(), ' ') + b + std::string(wb + 2 - b.size(), ' ') + mark;
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << "\n";
    };
    line("", name_of(left), name_of(right), "");
    int differing = 0;
    for (const DiffRow& r : rows) {
        line(r.section + " " + r.item, r.left, r.right, r.differs ? "differs" : "same");
        differing += r.differs;
    }
    out << differing << " of " << rows.size() << " differ\n";
    return out.str();
}

json diff_json(const Report& left, const Report& right, const std::vector<DiffRow>& rows) {
    json items = json::array();
    for (const DiffRow& r : rows)
        items.push_back({{"section", r.section}, {"item", r.item}, {"left", r.left}, {"right", r.right},
                         {"differs", r.differs}});
    return {{"left", name_of(left)}, {"right", name_of(right)}, {"rows", items}};
}

}  // namespace hrun::inspect
