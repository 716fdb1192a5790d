// Child side: a "cgroup" or "cgroup2" entry of mounts[].
//
// What the container sees follows the host's layout (computed in the parent):
//   - one cgroup2 mount (a v2-only host, or an explicit "cgroup2");
//   - on a v1 or hybrid host, a tmpfs with one mount per hierarchy below it ("cpu", "memory",
//     ..., "unified") plus a symlink per controller of a merged hierarchy ("cpu" -> "cpu,cpuacct").
// With its own cgroup namespace the container gets fresh mounts, which show the namespace's root;
// without one it gets binds of its own cgroup directories, never the host's whole tree.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "hrun/fd.hpp"
#include "linux/procfs.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

constexpr uint64_t kCgroupAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// Parses the leading decimal of `s`; -1 if there is none.
int parse_id(const char* s, const char* end) noexcept {
    int v = 0;
    if (s == end) return -1;
    for (; s < end; ++s) {
        if (*s < '0' || *s > '9' || v > 1000000) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

// Host path of this process's own cgroup in hierarchy `h`: its mount point followed by the
// path /proc/self/cgroup gives (minus the mount's own root, when the host mount is a bind).
int own_cgroup_path(const CgroupHierarchy& h, int procfd, char* out, std::size_t size) noexcept {
    int fd = os::procfs_open(procfd, "self/cgroup", O_RDONLY);
    if (fd < 0) return fd;
    UniqueFd owner(fd);
    char buf[8192];
    std::size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = ::read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;
        len += static_cast<std::size_t>(n);
    }
    buf[len] = '\0';

    for (char* line = buf; *line != '\0';) {
        char* nl = std::strchr(line, '\n');
        char* end = nl ? nl : line + std::strlen(line);
        char* c1 = static_cast<char*>(std::memchr(line, ':', static_cast<std::size_t>(end - line)));
        char* c2 = c1 ? static_cast<char*>(std::memchr(c1 + 1, ':', static_cast<std::size_t>(end - c1 - 1))) : nullptr;
        if (c2 != nullptr && parse_id(line, c1) == h.hierarchy_id) {
            const char* path = c2 + 1;
            std::size_t path_len = static_cast<std::size_t>(end - path);
            const char* root = h.mount_root.c_str();
            std::size_t root_len = h.mount_root.size();
            if (root_len > 1 && path_len >= root_len && std::strncmp(path, root, root_len) == 0 &&
                (path_len == root_len || path[root_len] == '/')) {
                path += root_len;
                path_len -= root_len;
            }
            if (path_len == 1 && path[0] == '/') path_len = 0;  // the hierarchy's root
            std::size_t base = h.host_mount.size();
            if (base + path_len + 1 > size) return -ENAMETOOLONG;
            std::memcpy(out, h.host_mount.c_str(), base);
            std::memcpy(out + base, path, path_len);
            out[base + path_len] = '\0';
            return 0;
        }
        line = nl ? nl + 1 : end;
    }
    return -ENOENT;
}

// One hierarchy at `target` (found again as `path` from `dirfd` on the mount(2) path).
int mount_hierarchy(MountContext& ctx, const RootfsPlan& plan, const CgroupHierarchy& h, const MountTarget& target,
                    const AttrChange& attrs, int procfd, char* why, std::size_t why_size) noexcept {
    if (plan.new_cgroup) {
        NewFilesystem fs;
        fs.fstype = h.v2 ? "cgroup2" : "cgroup";
        fs.source = h.fs_source.c_str();
        fs.extra_params = h.fs_options.c_str();
        fs.attrs = attrs;
        return mount_new_filesystem(ctx, target, fs, why, why_size);
    }
    char src[PATH_MAX];
    int r = own_cgroup_path(h, procfd, src, sizeof src);
    if (r < 0) {
        copy_cstr(why, why_size, "cannot find this process's cgroup");
        return r;
    }
    r = mount_bind(ctx, target, AT_FDCWD, src, true, attrs, AttrChange{});
    if (r < 0) copy_cstr(why, why_size, "cannot bind the container's cgroup");
    return r;
}

ChildStatus mount_cgroup2(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd, int target,
                          int procfd) noexcept {
    const CgroupHierarchy* h = nullptr;
    for (const auto& c : plan.cgroups.hierarchies)
        if (c.v2 && h == nullptr) h = &c;
    if (h == nullptr) return child_fail(mp.type_field.c_str(), "the host has no cgroup2 hierarchy", ENOENT);

    MountTarget where{target, rootfd, mp.destination.c_str()};
    char why[96] = {};
    // A fresh cgroup2 mount, as runc does; only where that is refused (a user namespace without
    // its own cgroup namespace) fall back to a bind of our own cgroup.
    NewFilesystem fs;
    fs.fstype = "cgroup2";
    fs.source = mp.source.c_str();
    fs.options = &mp.options;
    fs.attrs = mp.options.attrs;
    int mnt = mount_new_filesystem(ctx, where, fs, why, sizeof why);
    if (mnt < 0 && (mnt == -EPERM || mnt == -EBUSY) && !plan.new_cgroup) {
        char src[PATH_MAX];
        int r = own_cgroup_path(*h, procfd, src, sizeof src);
        if (r < 0) return child_fail(mp.field.c_str(), "cannot find this process's cgroup", -r);
        mnt = mount_bind(ctx, where, AT_FDCWD, src, true, mp.options.attrs, AttrChange{});
        copy_cstr(why, sizeof why, "cannot bind the container's cgroup");
    }
    if (mnt < 0) return fail_with_detail(mp.field.c_str(), "cannot mount", why, -mnt);
    UniqueFd owner(mnt);
    for (unsigned long p : mp.options.propagation) {
        int r = change_propagation(ctx, mnt, p);
        if (r < 0) return child_fail(mp.options_field.c_str(), "cannot change the mount propagation", -r);
    }
    return child_ok();
}

ChildStatus mount_cgroup_v1_tree(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd,
                                 int target, int procfd) noexcept {
    char why[96] = {};
    NewFilesystem base_fs;
    base_fs.fstype = "tmpfs";
    base_fs.source = "tmpfs";
    base_fs.mode = "0755";
    base_fs.attrs = AttrChange{kCgroupAttrs, 0};
    int base = mount_new_filesystem(ctx, MountTarget{target, rootfd, mp.destination.c_str()}, base_fs, why, sizeof why);
    if (base < 0) return fail_with_detail(mp.field.c_str(), "cannot mount the cgroup tmpfs", why, -base);
    UniqueFd base_owner(base);

    // Each hierarchy: nosuid,nodev,noexec plus what the config asked ("ro").
    AttrChange attrs = mp.options.attrs;
    attrs.set |= kCgroupAttrs;
    attrs.clear &= ~kCgroupAttrs;
    for (const auto& h : plan.cgroups.hierarchies) {
        // The tmpfs is ours and fresh: plain *at calls on it cannot be redirected.
        if (::mkdirat(base, h.name.c_str(), 0755) != 0 && errno != EEXIST)
            return fail_with_detail(mp.field.c_str(), "cannot create", h.name.c_str(), errno);
        int sub = ::openat(base, h.name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0) return fail_with_detail(mp.field.c_str(), "cannot open", h.name.c_str(), errno);
        UniqueFd sub_owner(sub);
        int mnt = mount_hierarchy(ctx, plan, h, MountTarget{sub, base, h.name.c_str()}, attrs, procfd, why,
                                  sizeof why);
        if (mnt < 0) return fail_with_detail(mp.field.c_str(), h.name.c_str(), why, -mnt);
        UniqueFd mnt_owner(mnt);
        for (unsigned long p : mp.options.propagation) {
            int r = change_propagation(ctx, mnt, p);
            if (r < 0) return child_fail(mp.options_field.c_str(), "cannot change the mount propagation", -r);
        }
        for (const auto& alias : h.aliases)
            if (::symlinkat(h.name.c_str(), base, alias.c_str()) != 0 && errno != EEXIST)
                return fail_with_detail(mp.field.c_str(), "cannot create the link", alias.c_str(), errno);
    }
    if (mp.options.attrs.set & MOUNT_ATTR_RDONLY) {
        int r = change_mount_attrs(ctx, base, AttrChange{MOUNT_ATTR_RDONLY, 0}, false);
        if (r < 0) return child_fail(mp.options_field.c_str(), "cannot make the cgroup tmpfs read-only", -r);
    }
    for (unsigned long p : mp.options.propagation) {
        int r = change_propagation(ctx, base, p);
        if (r < 0) return child_fail(mp.options_field.c_str(), "cannot change the mount propagation", -r);
    }
    return child_ok();
}

}  // namespace

ChildStatus mount_cgroups(MountContext& ctx, const RootfsPlan& plan, const MountPlan& mp, int rootfd, int target,
                          int procfd) noexcept {
    if (mp.cgroup_v1_tree) return mount_cgroup_v1_tree(ctx, plan, mp, rootfd, target, procfd);
    return mount_cgroup2(ctx, plan, mp, rootfd, target, procfd);
}

}  // namespace hrun::rootfs
