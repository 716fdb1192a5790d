// Why a writable idmapped mount must sit behind a closed directory.
//
// Through an idmapped mount, what container root writes lands on disk as the host id it maps
// back to: with the rootfs idmapped through a remapped user namespace (container 0 = host
// 100000, mount 0 -> host 0), a file container root creates, chowns to itself and marks
// `chmod 4755` is a set-uid binary owned by host uid 0. The container cannot use it (its own
// view maps that owner to itself), but any host user who can walk to the file can exec it and
// become host root. dockerd answers this with a 0700 remap root; hrun asks the same of the
// bundle: somewhere from "/" down to the mount's source, a directory owned by host root must be
// closed to everyone else (no search bit for others, nor for its group unless that is root's),
// so that no other host user can reach what the container writes. A read-only mount whose
// container cannot remount it (no CAP_SYS_ADMIN) writes nothing, and is not checked.
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>

#include "rootfs/idmap.hpp"

namespace hrun::rootfs {

namespace {

// An access ACL can grant search to named users while the group bits (its mask) show "x".
bool has_access_acl(const std::string& path) {
    return ::lgetxattr(path.c_str(), "system.posix_acl_access", nullptr, 0) > 0;
}

bool closed_to_others(const std::string& dir, const struct stat& st) {
    if (st.st_uid != 0 || (st.st_mode & S_IXOTH)) return false;
    if (st.st_mode & S_IXGRP) return st.st_gid == 0 && !has_access_acl(dir);
    return true;
}

}  // namespace

Result<bool> reachable_by_other_users(const std::string& path) {
    if (path.empty() || path.front() != '/') return fail("", "not an absolute path: \"" + path + "\"", EINVAL);
    std::string prefix = "/";
    std::size_t pos = 1;
    for (;;) {
        struct stat st;
        if (::lstat(prefix.c_str(), &st) != 0) return fail_errno("cannot stat \"" + prefix + "\"");
        // The last component may be a file (a bind-mounted one); only directories gate a walk.
        if (S_ISDIR(st.st_mode) && closed_to_others(prefix, st)) return false;
        if (pos >= path.size()) return true;
        std::size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        if (next > pos) {
            if (prefix.size() > 1) prefix += '/';
            prefix.append(path, pos, next - pos);
        }
        pos = next + 1;
    }
}

Status check_idmap_not_exposed(const std::string& host_path, const std::string& field) {
    char real[PATH_MAX];
    if (::realpath(host_path.c_str(), real) == nullptr)
        return fail_errno("cannot resolve \"" + host_path + "\"", field);
    auto reachable = reachable_by_other_users(real);
    if (!reachable) return fail(field, reachable.error().message, reachable.error().err);
    if (!*reachable) return ok();
    return fail(field,
                "\"" + std::string(real) +
                    "\" is a writable idmapped mount that other host users can reach: files the container's "
                    "root writes there are host root's on disk, so a set-uid file it makes would be a host root "
                    "shell for them. Put it below a directory owned by root with no search permission for "
                    "others (e.g. chmod 0700), or make the mount read-only",
                EACCES);
}

}  // namespace hrun::rootfs
