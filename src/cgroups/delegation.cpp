// Whether an unprivileged caller may have a cgroup at a placement: root delegates a subtree by
// giving it the directory (and its files); the caller then creates cgroups below it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cgroups/cgroups.hpp"

namespace hrun::cgroups {
namespace {

std::string parent_dir(const std::string& dir) { return dir.substr(0, dir.rfind('/')); }

// The deepest directory that both paths lie in (both are absolute, below one mount point).
std::string common_ancestor(const std::string& a, const std::string& b) {
    std::string common;
    std::size_t i = 0;
    while (i < a.size() && i < b.size()) {
        const std::size_t next_a = a.find('/', i + 1), next_b = b.find('/', i + 1);
        const std::string part_a = a.substr(i, next_a == std::string::npos ? std::string::npos : next_a - i);
        const std::string part_b = b.substr(i, next_b == std::string::npos ? std::string::npos : next_b - i);
        if (part_a != part_b) break;
        common += part_a;
        if (next_a == std::string::npos || next_b == std::string::npos) break;
        i = next_a;
    }
    return common;
}

// 0 or the errno faccessat gives for the effective ids (EACCES, EROFS, ...).
int check_access(const std::string& path, int mode) {
    return ::faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0 ? 0 : errno;
}

}  // namespace

std::vector<Undelegated> find_undelegated(const Layout& layout, const Placement& placement) {
    std::vector<Undelegated> out;
    for (std::size_t i = 0; i < layout.hierarchies.size() && i < placement.directories.size(); ++i) {
        const Hierarchy& h = layout.hierarchies[i];
        const std::string& leaf = placement.directories[i];
        // The deepest part of the path that exists: the caller must be able to add below it,
        // or, when the leaf exists already, to move processes into it.
        std::string dir = leaf;
        struct stat st;
        while (dir.size() > h.mount_point.size() && ::stat(dir.c_str(), &st) != 0) dir = parent_dir(dir);
        std::string reason;
        int err = 0;
        if (dir == leaf) {
            if ((err = check_access(leaf + "/cgroup.procs", W_OK)) != 0)
                reason = "cannot move processes into it (" + leaf + "/cgroup.procs)";
        } else if ((err = check_access(dir, W_OK | X_OK)) != 0) {
            reason = "cannot create cgroups in " + dir;
        }
        // cgroup v2 also asks for write access to cgroup.procs of the closest cgroup that holds
        // both the process's current cgroup and the target: the caller must already run inside
        // the delegated subtree.
        if (err == 0 && h.version == 2) {
            const std::string own = h.directory_of(h.own_path);
            if (!own.empty()) {
                const std::string common = common_ancestor(own, leaf);
                if (!common.empty() && (err = check_access(common + "/cgroup.procs", W_OK)) != 0)
                    reason = "hrun runs in " + own + ", outside the delegated subtree (moving a process needs write "
                             "access to " + common + "/cgroup.procs)";
            }
        }
        if (err != 0) out.push_back({i, leaf, reason + ": " + std::strerror(err), err});
    }
    return out;
}

}  // namespace hrun::cgroups
