#include "rootfs/mount_api.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hrun/child_error.hpp"
#include "hrun/fd.hpp"
#include "rootfs/resolve.hpp"

namespace hrun::rootfs {

namespace {

// Raw syscalls: the libc wrappers are recent, and we want -errno either way.
int ret(long r) noexcept { return r < 0 ? -errno : static_cast<int>(r); }

int sys_fsopen(const char* fstype, unsigned flags) noexcept {
    return ret(::syscall(SYS_fsopen, fstype, flags));
}
int sys_fsconfig(int fd, unsigned cmd, const char* key, const char* value, int aux) noexcept {
    return ret(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attrs) noexcept {
    return ret(::syscall(SYS_fsmount, fd, flags, attrs));
}
int sys_move_mount(int from_dfd, const char* from, int to_dfd, const char* to, unsigned flags) noexcept {
    return ret(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
int sys_open_tree(int dfd, const char* path, unsigned flags) noexcept {
    return ret(::syscall(SYS_open_tree, dfd, path, flags));
}
int sys_mount_setattr(int dfd, const char* path, unsigned flags, const AttrChange& change,
                      unsigned long propagation) noexcept {
    struct mount_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.attr_set = change.set;
    attr.attr_clr = change.clear;
    attr.propagation = propagation;
    return ret(::syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr));
}
int sys_mount(const char* src, const char* target, const char* fstype, unsigned long flags,
              const char* data) noexcept {
    return ::mount(src, target, fstype, flags, data) == 0 ? 0 : -errno;
}

int attach(int mnt_fd, int target_fd) noexcept {
    return sys_move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

void set_why(char* why, std::size_t size, const char* a, const char* b = nullptr, const char* c = nullptr) noexcept {
    if (why == nullptr || size == 0) return;
    copy_cstr(why, size, a);
    if (b) append_cstr(why, size, b);
    if (c) append_cstr(why, size, c);
}

// One filesystem parameter: "key=value" as a string, a bare "key" as a flag.
int config_param(int fsfd, const char* key, const char* value, bool has_value) noexcept {
    if (has_value) return sys_fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0);
    return sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, key, nullptr, 0);
}

// Applies "a,b=c,d" parameter by parameter.
int config_csv(int fsfd, const char* csv, char* why, std::size_t why_size) noexcept {
    char tok[256];
    const char* p = csv;
    while (*p != '\0') {
        const char* end = std::strchr(p, ',');
        std::size_t n = end ? static_cast<std::size_t>(end - p) : std::strlen(p);
        if (n >= sizeof tok) return -ENAMETOOLONG;
        std::memcpy(tok, p, n);
        tok[n] = '\0';
        if (n > 0) {
            char* eq = std::strchr(tok, '=');
            if (eq) *eq = '\0';
            int r = config_param(fsfd, tok, eq ? eq + 1 : nullptr, eq != nullptr);
            if (r < 0) {
                if (eq) *eq = '=';
                set_why(why, why_size, "option \"", tok, "\" rejected");
                return r;
            }
        }
        p = end ? end + 1 : p + n;
    }
    return 0;
}

// Appends ",item" (or "item" first) to a mount(2) data string; false when it does not fit.
bool data_append(char* buf, std::size_t size, const char* a, const char* b = nullptr) noexcept {
    std::size_t len = std::strlen(buf);
    std::size_t need = (len ? 1 : 0) + std::strlen(a) + (b ? 1 + std::strlen(b) : 0);
    if (len + need + 1 > size) return false;
    if (len) append_cstr(buf, size, ",");
    append_cstr(buf, size, a);
    if (b) {
        append_cstr(buf, size, "=");
        append_cstr(buf, size, b);
    }
    return true;
}

int reopen_target(const MountTarget& t) noexcept {
    if (t.path == nullptr) return -EINVAL;
    return resolve_in_root(t.dirfd, t.path, kResolveDefault);
}

int legacy_remount(int mnt_fd, const AttrChange& change) noexcept {
    struct statfs sfs;
    if (::fstatfs(mnt_fd, &sfs) != 0) return -errno;
    unsigned long flags = apply_change_to_ms_flags(statfs_to_ms_flags(sfs.f_flags), change);
    char path[32];
    proc_fd_path(mnt_fd, path, sizeof path);
    return sys_mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | flags, nullptr);
}

int new_filesystem_fd_api(const MountTarget& target, const NewFilesystem& fs, int fsfd, char* why,
                          std::size_t why_size) noexcept {
    int r;
    if (fs.source && (r = sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "source", fs.source, 0)) < 0) {
        set_why(why, why_size, "source \"", fs.source, "\" rejected");
        return r;
    }
    if (fs.mode && (r = sys_fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", fs.mode, 0)) < 0) {
        set_why(why, why_size, "mode rejected");
        return r;
    }
    if (fs.options) {
        for (const auto& flag : fs.options->sb_flags)
            if ((r = sys_fsconfig(fsfd, FSCONFIG_SET_FLAG, flag.c_str(), nullptr, 0)) < 0) {
                set_why(why, why_size, "option \"", flag.c_str(), "\" rejected");
                return r;
            }
        for (const auto& p : fs.options->data)
            if ((r = config_param(fsfd, p.key.c_str(), p.value.c_str(), p.has_value)) < 0) {
                set_why(why, why_size, "option \"", p.key.c_str(), "\" rejected");
                return r;
            }
    }
    if (fs.extra_params && (r = config_csv(fsfd, fs.extra_params, why, why_size)) < 0) return r;
    if ((r = sys_fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0)) < 0) {
        set_why(why, why_size, "cannot create the filesystem");
        return r;
    }
    int mnt = sys_fsmount(fsfd, FSMOUNT_CLOEXEC, static_cast<unsigned>(fs.attrs.set));
    if (mnt < 0) {
        set_why(why, why_size, "cannot create the mount");
        return mnt;
    }
    UniqueFd owner(mnt);
    if ((r = attach(mnt, target.fd)) < 0) {
        set_why(why, why_size, "cannot attach the mount");
        return r;
    }
    return owner.release();
}

int new_filesystem_legacy(const MountTarget& target, const NewFilesystem& fs, char* why,
                          std::size_t why_size) noexcept {
    char data[4096] = {};
    bool fits = true;
    if (fs.mode) fits = data_append(data, sizeof data, "mode", fs.mode);
    if (fs.options)
        for (const auto& p : fs.options->data)
            fits = fits && data_append(data, sizeof data, p.key.c_str(), p.has_value ? p.value.c_str() : nullptr);
    if (fs.extra_params && fs.extra_params[0]) fits = fits && data_append(data, sizeof data, fs.extra_params);
    if (!fits) {
        set_why(why, why_size, "options too long");
        return -E2BIG;
    }
    unsigned long flags = attrs_to_ms_flags(fs.attrs) | (fs.options ? fs.options->sb_ms_flags : 0UL);
    char path[32];
    proc_fd_path(target.fd, path, sizeof path);
    int r = sys_mount(fs.source ? fs.source : fs.fstype, path, fs.fstype, flags, data);
    if (r < 0) {
        set_why(why, why_size, "mount(2) failed");
        return r;
    }
    return reopen_target(target);
}

}  // namespace

int attach_mount(int mnt_fd, int target_fd) noexcept { return attach(mnt_fd, target_fd); }

int clone_mount(int dfd, const char* path, bool recursive) noexcept {
    return sys_open_tree(dfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0u));
}

void proc_fd_path(int fd, char* buf, std::size_t size) noexcept {
    char digits[16];
    int n = 0;
    unsigned v = fd < 0 ? 0u : static_cast<unsigned>(fd);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < static_cast<int>(sizeof digits));
    copy_cstr(buf, size, "/proc/self/fd/");
    std::size_t len = std::strlen(buf);
    while (n > 0 && len + 1 < size) buf[len++] = digits[--n];
    buf[len] = '\0';
}

void format_mode(unsigned mode, char* buf, std::size_t size) noexcept {
    char digits[12];
    int n = 0;
    mode &= 07777;
    do {
        digits[n++] = static_cast<char>('0' + (mode & 7));
        mode >>= 3;
    } while (mode != 0);
    std::size_t len = 0;
    if (size > 1) buf[len++] = '0';  // leading 0: octal, as mount(8) writes it
    while (n > 0 && len + 1 < size) buf[len++] = digits[--n];
    if (size > 0) buf[len < size ? len : size - 1] = '\0';
}

int mount_new_filesystem(MountContext& ctx, const MountTarget& target, const NewFilesystem& fs, char* why,
                         std::size_t why_size) noexcept {
    if (!ctx.legacy) {
        int fsfd = sys_fsopen(fs.fstype, FSOPEN_CLOEXEC);
        if (fsfd == -ENOSYS) {
            ctx.legacy = true;
        } else if (fsfd < 0) {
            set_why(why, why_size, "unknown filesystem type \"", fs.fstype, "\"");
            return fsfd;
        } else {
            UniqueFd owner(fsfd);
            return new_filesystem_fd_api(target, fs, fsfd, why, why_size);
        }
    }
    return new_filesystem_legacy(target, fs, why, why_size);
}

int mount_bind(MountContext& ctx, const MountTarget& target, int src_dfd, const char* src_path, bool recursive,
               const AttrChange& attrs, const AttrChange& rec_attrs) noexcept {
    bool from_fd = src_path[0] == '\0';
    if (!ctx.legacy) {
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0u) |
                         (from_fd ? AT_EMPTY_PATH : 0u);
        int tree = sys_open_tree(src_dfd, src_path, flags);
        if (tree == -ENOSYS) {
            ctx.legacy = true;
        } else if (tree < 0) {
            return tree;
        } else {
            UniqueFd owner(tree);
            // Set the flags while the tree is still detached: it never appears writable.
            bool remount_after = false;
            int r = 0;
            if (!attrs.empty()) {
                r = sys_mount_setattr(tree, "", AT_EMPTY_PATH, attrs, 0);
                if (r == -ENOSYS) remount_after = true;  // 5.2 to 5.11: open_tree without mount_setattr
                else if (r < 0) return r;
            }
            if (!rec_attrs.empty() && (r = sys_mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, rec_attrs, 0)) < 0)
                return r;
            if ((r = attach(tree, target.fd)) < 0) return r;
            if (remount_after && (r = legacy_remount(tree, attrs)) < 0) return r;
            return owner.release();
        }
    }
    char src[32];
    if (from_fd) proc_fd_path(src_dfd, src, sizeof src);
    else if (src_dfd != AT_FDCWD) return -EINVAL;
    char path[32];
    proc_fd_path(target.fd, path, sizeof path);
    int r = sys_mount(from_fd ? src : src_path, path, nullptr, MS_BIND | (recursive ? static_cast<unsigned long>(MS_REC) : 0UL), nullptr);
    if (r < 0) return r;
    int mnt = reopen_target(target);
    if (mnt < 0) return mnt;
    UniqueFd owner(mnt);
    // mount(2) changes one mount at a time: the recursive form reaches only the top mount here.
    AttrChange all{attrs.set | rec_attrs.set, attrs.clear | rec_attrs.clear};
    if (!all.empty() && (r = legacy_remount(mnt, all)) < 0) return r;
    return owner.release();
}

int change_mount_attrs(MountContext& ctx, int mnt_fd, const AttrChange& change, bool recursive) noexcept {
    if (!ctx.legacy) {
        int r = sys_mount_setattr(mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0u), change, 0);
        if (r != -ENOSYS) return r;
    }
    // mount(2) changes one mount at a time: the recursive form reaches only the top mount here.
    return legacy_remount(mnt_fd, change);
}

int change_propagation(MountContext& ctx, int mnt_fd, unsigned long ms_propagation) noexcept {
    if (!ctx.legacy) {
        bool rec = (ms_propagation & MS_REC) != 0;
        int r = sys_mount_setattr(mnt_fd, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0u), AttrChange{},
                                  ms_propagation & ~static_cast<unsigned long>(MS_REC));
        if (r != -ENOSYS) return r;
    }
    char path[32];
    proc_fd_path(mnt_fd, path, sizeof path);
    return sys_mount(nullptr, path, nullptr, ms_propagation, nullptr);
}

}  // namespace hrun::rootfs
