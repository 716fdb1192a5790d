// linux.cgroupsPath -> the container's cgroup directory in every hierarchy.
#include <unistd.h>

#include <algorithm>

#include "cgroups/cgroups.hpp"
#include "cgroups/fs.hpp"

namespace hrun::cgroups {
namespace {

constexpr const char* kField = "linux.cgroupsPath";

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// "/a//b/./c/" -> "/a/b/c"; relative paths keep no leading slash. ".." could climb out of the
// subtree the path is meant to be in (hrun's own cgroup, or a systemd slice), so it is refused.
Result<std::string> normalize(std::string_view path) {
    if (path.find('\0') != std::string_view::npos) return fail(kField, "must not contain a NUL byte");
    std::string out;
    for (std::string_view part : fs::split(path, "/")) {
        if (part == ".") continue;
        if (part == "..") return fail(kField, quoted(path) + " must not contain \"..\" components");
        if (!out.empty() || path.front() == '/') out += '/';
        out += part;
    }
    return out;
}

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return "/";
    return path.substr(0, slash);
}

std::string join(const std::string& base, const std::string& rel) {
    if (base == "/") return "/" + rel;
    return base + "/" + rel;
}

// systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice.
Result<std::string> expand_slice(std::string_view slice) {
    constexpr std::string_view suffix = ".slice";
    if (slice == "-.slice") return std::string();  // the root slice
    if (!slice.ends_with(suffix) || slice.size() == suffix.size() || slice.find('/') != std::string_view::npos)
        return fail(kField, quoted(slice) + " is not a systemd slice name like \"system.slice\"");
    const std::string_view stem = slice.substr(0, slice.size() - suffix.size());
    if (stem.front() == '-' || stem.back() == '-' || stem.find("--") != std::string_view::npos)
        return fail(kField, quoted(slice) + " is not a valid systemd slice name");
    std::string path;
    std::size_t pos = 0;
    while (true) {
        const auto dash = stem.find('-', pos);
        const std::string_view prefix = stem.substr(0, dash);
        path += "/" + std::string(prefix) + std::string(suffix);
        if (dash == std::string_view::npos) break;
        pos = dash + 1;
    }
    return path;
}

Result<std::string> systemd_path(const PathOptions& o) {
    if (!o.systemd_running)
        return fail(kField, "--systemd-cgroup needs systemd, which is not running on this host");
    const std::string spec = o.cgroups_path.empty() ? "system.slice:hrun:" + o.container_id : o.cgroups_path;
    const auto parts = std::count(spec.begin(), spec.end(), ':');
    if (parts != 2) return fail(kField, quoted(spec) + " is not of the form slice:prefix:name (--systemd-cgroup)");
    const auto c1 = spec.find(':');
    const auto c2 = spec.find(':', c1 + 1);
    const std::string slice = spec.substr(0, c1).empty() ? "system.slice" : spec.substr(0, c1);
    const std::string prefix = spec.substr(c1 + 1, c2 - c1 - 1);
    const std::string name = spec.substr(c2 + 1);
    if (name.empty()) return fail(kField, quoted(spec) + " has an empty name (slice:prefix:name)");
    if (name.find('/') != std::string::npos || prefix.find('/') != std::string::npos || name == "." || name == "..")
        return fail(kField, quoted(spec) + ": prefix and name must not contain \"/\"");
    const std::string parent = HRUN_TRY(expand_slice(slice));
    const std::string unit = name.ends_with(".slice") ? name
                             : prefix.empty()         ? name + ".scope"
                                                      : prefix + "-" + name + ".scope";
    return parent + "/" + unit;
}

}  // namespace

bool systemd_running() { return ::access("/run/systemd/system", F_OK) == 0; }

Result<Placement> resolve_placement(const Layout& layout, const PathOptions& options) {
    Placement p;
    if (options.systemd) {
        p.path = HRUN_TRY(normalize(HRUN_TRY(systemd_path(options))));
    } else if (options.cgroups_path.empty()) {
        if (options.container_id.empty() || options.container_id.find('/') != std::string::npos ||
            options.container_id == "." || options.container_id == "..")
            return fail(kField, "is empty and the container id " + quoted(options.container_id) +
                                    " cannot name a cgroup");
        p.path = "hrun-" + options.container_id;  // one flat directory: no shared parent left behind
    } else {
        p.path = HRUN_TRY(normalize(options.cgroups_path));
    }
    if (p.path.empty() || p.path == "/")
        return fail(kField, quoted(options.cgroups_path) + " names " +
                                (options.cgroups_path.starts_with("/") ? "the root cgroup" : "hrun's own cgroup") +
                                ", not a cgroup of the container's own");

    for (const Hierarchy& h : layout.hierarchies) {
        std::string inside;
        if (p.path.front() == '/') {
            inside = p.path;
        } else {
            // On v2 a cgroup with processes cannot pass controllers on to children (the "no
            // internal processes" rule), and hrun's own cgroup has at least hrun in it.
            const std::string base = h.version == 2 ? parent_of(h.own_path) : h.own_path;
            inside = join(base, p.path);
        }
        std::string dir = h.directory_of(inside);
        if (dir.empty())
            return fail(kField, "cgroup " + quoted(inside) + " is outside the part of the hierarchy mounted at " +
                                    h.mount_point + " (mount root " + h.mount_root + ")");
        p.paths.push_back(std::move(inside));
        p.directories.push_back(std::move(dir));
    }
    return p;
}

}  // namespace hrun::cgroups
