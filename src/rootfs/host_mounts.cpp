#include "rootfs/host_mounts.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace hrun::rootfs {

namespace {

constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) return out;
        s.remove_prefix(at + 1);
    }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size()) {
            auto octal = s.substr(i + 1, 3);
            bool ok = std::all_of(octal.begin(), octal.end(), [](char c) { return c >= '0' && c <= '7'; });
            if (ok) {
                out += static_cast<char>((octal[0] - '0') * 64 + (octal[1] - '0') * 8 + (octal[2] - '0'));
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

std::string_view basename_of(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

// The last mount on each mount point is the visible one.
std::vector<const MountInfoEntry*> visible_mounts(const std::vector<MountInfoEntry>& mounts) {
    std::vector<const MountInfoEntry*> out;
    for (std::size_t i = 0; i < mounts.size(); ++i) {
        bool covered = false;
        for (std::size_t j = i + 1; j < mounts.size(); ++j)
            if (mounts[j].mount_point == mounts[i].mount_point) covered = true;
        if (!covered) out.push_back(&mounts[i]);
    }
    return out;
}

const CgroupMembership* find_v1_membership(const MountInfoEntry& m,
                                           const std::vector<CgroupMembership>& membership) {
    std::set<std::string_view> opts;
    for (auto o : split(m.super_options, ',')) opts.insert(o);
    for (const auto& line : membership) {
        if (line.id <= 0 || line.controllers.empty()) continue;
        auto ctrls = split(line.controllers, ',');
        if (std::all_of(ctrls.begin(), ctrls.end(), [&](std::string_view c) { return opts.count(c) > 0; }))
            return &line;
    }
    return nullptr;
}

const CgroupMembership* find_v2_membership(const std::vector<CgroupMembership>& membership) {
    for (const auto& line : membership)
        if (line.id == 0) return &line;
    return nullptr;
}

}  // namespace

std::vector<MountInfoEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountInfoEntry> out;
    for (auto line : split(text, '\n')) {
        if (line.empty()) continue;
        auto f = split(line, ' ');
        // id parent maj:min root mount_point options [optional...] - fstype source super_options
        auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
        if (f.size() < 10 || dash == f.end() || f.end() - dash < 4 || dash - f.begin() < 6) continue;
        MountInfoEntry e;
        e.root = unescape(f[3]);
        e.mount_point = unescape(f[4]);
        e.fs_type = unescape(dash[1]);
        e.source = unescape(dash[2]);
        e.super_options = unescape(dash[3]);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<CgroupMembership> parse_proc_cgroup(std::string_view text) {
    std::vector<CgroupMembership> out;
    for (auto line : split(text, '\n')) {
        if (line.empty()) continue;
        auto c1 = line.find(':');
        if (c1 == std::string_view::npos) continue;
        auto c2 = line.find(':', c1 + 1);
        if (c2 == std::string_view::npos) continue;
        CgroupMembership m;
        auto id = line.substr(0, c1);
        auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), m.id);
        if (ec != std::errc() || p != id.data() + id.size()) continue;
        m.controllers = std::string(line.substr(c1 + 1, c2 - c1 - 1));
        m.path = std::string(line.substr(c2 + 1));
        out.push_back(std::move(m));
    }
    return out;
}

CgroupLayout cgroup_layout(const std::vector<MountInfoEntry>& mounts,
                           const std::vector<CgroupMembership>& membership) {
    CgroupLayout layout;
    auto visible = visible_mounts(mounts);
    for (const auto* m : visible) {
        if (m->mount_point == kCgroupRoot && m->fs_type == "cgroup2") {
            layout.v2_only = true;
            if (const auto* line = find_v2_membership(membership)) {
                CgroupHierarchy h;
                h.host_mount = m->mount_point;
                h.mount_root = m->root;
                h.v2 = true;
                h.fs_source = "cgroup2";
                h.hierarchy_id = line->id;
                layout.hierarchies.push_back(std::move(h));
            }
            return layout;
        }
    }
    for (const auto* m : visible) {
        if (dirname_of(m->mount_point) != kCgroupRoot) continue;
        CgroupHierarchy h;
        h.name = std::string(basename_of(m->mount_point));
        h.host_mount = m->mount_point;
        h.mount_root = m->root;
        if (m->fs_type == "cgroup2") {
            const auto* line = find_v2_membership(membership);
            if (line == nullptr) continue;
            h.v2 = true;
            h.fs_source = "cgroup2";
            h.hierarchy_id = 0;
        } else if (m->fs_type == "cgroup") {
            const auto* line = find_v1_membership(*m, membership);
            if (line == nullptr) continue;
            h.fs_options = line->controllers;
            h.fs_source = line->controllers.starts_with("name=") ? line->controllers.substr(5) : "cgroup";
            h.hierarchy_id = line->id;
            if (h.name.find(',') != std::string::npos)
                for (auto part : split(h.name, ','))
                    if (!part.empty()) h.aliases.emplace_back(part);
        } else {
            continue;
        }
        layout.hierarchies.push_back(std::move(h));
    }
    return layout;
}

std::vector<std::string> host_pseudo_fs_mounts(const std::vector<MountInfoEntry>& mounts,
                                               std::string_view rootfs) {
    std::vector<std::string> out;
    for (const auto& m : mounts) {
        if (m.root != "/" || (m.fs_type != "proc" && m.fs_type != "sysfs")) continue;
        if (path_within(m.mount_point, rootfs)) continue;
        if (std::find(out.begin(), out.end(), m.mount_point) == out.end()) out.push_back(m.mount_point);
    }
    return out;
}

std::string clean_path(std::string_view path) {
    std::vector<std::string_view> parts;
    for (auto c : split(path, '/')) {
        if (c.empty() || c == ".") continue;
        if (c == "..") {
            if (!parts.empty()) parts.pop_back();
            continue;
        }
        parts.push_back(c);
    }
    std::string out;
    for (auto c : parts) {
        out += '/';
        out += c;
    }
    return out.empty() ? "/" : out;
}

bool path_within(std::string_view path, std::string_view dir) {
    if (dir == "/") return true;
    if (!path.starts_with(dir)) return false;
    return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace hrun::rootfs
