// Which cgroup hierarchies the host mounts (/proc/self/mountinfo) and where hrun's own process
// sits in each (/proc/self/cgroup).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "cgroups/cgroups.hpp"
#include "cgroups/fs.hpp"
#include "linux/procfs.hpp"

namespace hrun::cgroups {
namespace {

constexpr std::array<std::string_view, 15> kV1Controllers = {
    "cpu",     "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls", "net_prio",
    "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc",    "debug"};

bool is_v1_controller(std::string_view option) {
    if (option.starts_with("name=")) return option.size() > 5;
    return std::find(kV1Controllers.begin(), kV1Controllers.end(), option) != kV1Controllers.end();
}

// mountinfo writes space, tab, newline and backslash as \040, \011, \012, \134.
std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' &&
            s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}


}  // namespace

std::string_view mode_name(Mode mode) {
    switch (mode) {
        case Mode::Unified: return "unified (cgroup v2)";
        case Mode::Hybrid: return "hybrid (cgroup v1 and v2)";
        case Mode::Legacy: return "legacy (cgroup v1)";
    }
    return "?";
}

bool Hierarchy::has(std::string_view controller) const {
    return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::string Hierarchy::directory_of(std::string_view path) const {
    std::string_view rest = path;
    if (mount_root != "/") {
        if (!path.starts_with(mount_root)) return {};
        rest = path.substr(mount_root.size());
        if (!rest.empty() && rest.front() != '/') return {};  // "/ab" is not below "/a"
    }
    std::string dir = mount_point;
    if (!rest.empty() && rest != "/") dir += rest;
    return dir;
}

std::optional<std::size_t> Layout::unified() const {
    for (std::size_t i = 0; i < hierarchies.size(); ++i)
        if (hierarchies[i].version == 2) return i;
    return std::nullopt;
}

std::optional<std::size_t> Layout::find(std::string_view controller) const {
    if (controller.empty()) return unified();
    for (std::size_t i = 0; i < hierarchies.size(); ++i)
        if (hierarchies[i].version == 1 && hierarchies[i].has(controller)) return i;
    if (auto v2 = unified(); v2 && hierarchies[*v2].has(controller)) return v2;
    return std::nullopt;
}

Result<std::vector<CgroupMount>> parse_mountinfo(std::string_view text) {
    std::vector<CgroupMount> mounts;
    std::size_t line_no = 0;
    for (std::string_view line : fs::split(text, "\n")) {
        ++line_no;
        const auto fields = fs::split(line, " ");
        const auto dash = std::find(fields.begin(), fields.end(), std::string_view("-"));
        // id parent dev root mountpoint options [optional...] - fstype source superoptions
        if (fields.size() < 10 || dash == fields.end() || dash - fields.begin() < 6 || fields.end() - dash < 4)
            return fail("", "malformed line " + std::to_string(line_no) + " in /proc/self/mountinfo");
        const std::string_view fstype = *(dash + 1);
        if (fstype != "cgroup" && fstype != "cgroup2") continue;

        CgroupMount m;
        m.version = fstype == "cgroup2" ? 2 : 1;
        m.root = unescape(fields[3]);
        m.mount_point = unescape(fields[4]);
        if (m.version == 1) {
            for (std::string_view opt : fs::split(*(dash + 3), ","))
                if (is_v1_controller(opt)) m.controllers.emplace_back(opt);
            if (m.controllers.empty()) continue;  // not a usable hierarchy
        }
        // The same hierarchy mounted twice (bind mounts): the first mount is the one used.
        const bool seen = std::any_of(mounts.begin(), mounts.end(), [&](const CgroupMount& o) {
            return o.version == m.version && (m.version == 2 || sorted(o.controllers) == sorted(m.controllers));
        });
        if (!seen) mounts.push_back(std::move(m));
    }
    return mounts;
}

Result<std::vector<ProcCgroup>> parse_proc_cgroup(std::string_view text) {
    std::vector<ProcCgroup> entries;
    std::size_t line_no = 0;
    for (std::string_view line : fs::split(text, "\n")) {
        ++line_no;
        const auto c1 = line.find(':');
        const auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
        if (c2 == std::string_view::npos)
            return fail("", "malformed line " + std::to_string(line_no) + " in /proc/self/cgroup");
        ProcCgroup e;
        uint64_t id = 0;
        if (!fs::parse_u64(line.substr(0, c1), id))
            return fail("", "malformed hierarchy id on line " + std::to_string(line_no) + " of /proc/self/cgroup");
        e.id = static_cast<int>(id);
        for (std::string_view c : fs::split(line.substr(c1 + 1, c2 - c1 - 1), ",")) e.controllers.emplace_back(c);
        e.path = std::string(line.substr(c2 + 1));
        if (e.path.empty() || e.path.front() != '/')
            return fail("", "malformed cgroup path on line " + std::to_string(line_no) + " of /proc/self/cgroup");
        entries.push_back(std::move(e));
    }
    return entries;
}

Result<Layout> build_layout(const std::vector<CgroupMount>& mounts, const std::vector<ProcCgroup>& own,
                            std::string_view v2_controllers) {
    Layout layout;
    bool v1 = false;
    for (const CgroupMount& m : mounts) {
        if (m.version != 1) continue;
        const auto wanted = sorted(m.controllers);
        const auto entry = std::find_if(own.begin(), own.end(), [&](const ProcCgroup& e) {
            return e.id != 0 && sorted(e.controllers) == wanted;
        });
        // A mount this process is not a member of belongs to another view of the system
        // (e.g. a different cgroup namespace's mount table): it cannot be used.
        if (entry == own.end()) continue;
        Hierarchy h;
        h.version = 1;
        h.mount_point = m.mount_point;
        h.mount_root = m.root;
        h.controllers = m.controllers;
        h.own_path = entry->path;
        layout.hierarchies.push_back(std::move(h));
        v1 = true;
    }
    for (const CgroupMount& m : mounts) {
        if (m.version != 2) continue;
        const auto entry = std::find_if(own.begin(), own.end(), [](const ProcCgroup& e) {
            return e.id == 0 && e.controllers.empty();
        });
        if (entry == own.end()) continue;
        Hierarchy h;
        h.version = 2;
        h.mount_point = m.mount_point;
        h.mount_root = m.root;
        for (std::string_view c : fs::split(v2_controllers, " \t\n")) h.controllers.emplace_back(c);
        h.own_path = entry->path;
        layout.hierarchies.push_back(std::move(h));
        break;
    }
    if (layout.hierarchies.empty()) return fail("", "no cgroup filesystem is mounted (see /proc/self/mountinfo)");
    layout.mode = !v1 ? Mode::Unified : (layout.unified() ? Mode::Hybrid : Mode::Legacy);
    return layout;
}

Result<Layout> detect_layout(int procfd) {
    const std::string mountinfo = HRUN_TRY(os::procfs_read(procfd, "self/mountinfo"));
    const std::string cgroup = HRUN_TRY(os::procfs_read(procfd, "self/cgroup"));
    const auto mounts = HRUN_TRY(parse_mountinfo(mountinfo));
    const auto own = HRUN_TRY(parse_proc_cgroup(cgroup));
    std::string v2_controllers;
    for (const CgroupMount& m : mounts) {
        if (m.version != 2) continue;
        if (int err = fs::read_path(m.mount_point + "/cgroup.controllers", v2_controllers); err != 0)
            return fail("", "cannot read " + m.mount_point + "/cgroup.controllers", err);
        break;
    }
    return build_layout(mounts, own, v2_controllers);
}

}  // namespace hrun::cgroups
