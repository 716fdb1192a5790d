// Deleting a container directory. Everything is done relative to directory fds, with
// AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so a symlink planted in the directory is removed itself and
// never leads the removal elsewhere; a directory of another mount is refused, not emptied.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

namespace {

constexpr int kMaxDepth = 32;

struct Identity {
    dev_t dev = 0;
    ino_t ino = 0;
    uint64_t mnt_id = 0;
    bool has_mnt_id = false;
    mode_t mode = 0;
};

Result<Identity> identify(int dirfd, const char* name, int flags) {
    struct statx stx;
    if (::statx(dirfd, name, flags | AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO | STATX_MNT_ID, &stx) != 0)
        return fail_errno(std::string("cannot stat ") + (name[0] ? name : "directory"));
    Identity id;
    id.dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
    id.ino = stx.stx_ino;
    id.has_mnt_id = (stx.stx_mask & STATX_MNT_ID) != 0;
    id.mnt_id = stx.stx_mnt_id;
    id.mode = stx.stx_mode;
    return id;
}

// Same mount as the container directory; without mount ids (kernels before 5.8), the same
// device is the best available test.
bool same_mount(const Identity& a, const Identity& b) {
    if (a.has_mnt_id && b.has_mnt_id) return a.mnt_id == b.mnt_id;
    return a.dev == b.dev;
}

Result<std::vector<std::string>> entries(int dirfd) {
    detail::DirStream d = HRUN_TRY(detail::open_listing(dirfd));
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        struct dirent* e = ::readdir(d.get());
        if (e == nullptr) {
            if (errno != 0) return fail_errno("cannot read directory");
            return names;
        }
        std::string_view name = e->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
}

Status remove_contents(int dirfd, const Identity& top, int depth) {
    if (depth > kMaxDepth) return fail("", "directory tree too deep", ELOOP);
    for (const std::string& name : HRUN_TRY(entries(dirfd))) {
        auto entry = identify(dirfd, name.c_str(), 0);
        if (!entry) {
            if (entry.error().err == ENOENT) continue;
            return std::unexpected(std::move(entry.error()));
        }
        if (S_ISDIR(entry->mode)) {
            if (!same_mount(*entry, top))
                return fail("", name + " is a mount point; not removing what is mounted there", EBUSY);
            UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) {
                if (errno == ENOENT) continue;
                return fail_errno("cannot open " + name);
            }
            Identity opened = HRUN_TRY(identify(sub.get(), "", AT_EMPTY_PATH));
            if (opened.dev != entry->dev || opened.ino != entry->ino || !same_mount(opened, top))
                return fail("", name + " changed while being removed", EAGAIN);
            auto inner = remove_contents(sub.get(), top, depth + 1);
            if (!inner) return std::unexpected(std::move(inner.error().context(name)));
            if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
                return fail_errno("cannot remove " + name);
        } else if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) {
            return fail_errno("cannot remove " + name);
        }
    }
    return ok();
}

}  // namespace

Status ContainerDir::remove() {
    const std::string what = "cannot delete container " + detail::quoted(id_);
    if (!fd_) return fail("", "container " + detail::quoted(id_) + " is not open", EBADF);
    if (lock_ != Lock::Exclusive)
        return fail("", "deleting container " + detail::quoted(id_) + " requires its exclusive lock", EINVAL);

    // Only the directory we hold, and only if it is still the one named <id> in the root.
    Identity self = HRUN_TRY(identify(fd_.get(), "", AT_EMPTY_PATH));
    auto named = identify(root_.get(), id_.c_str(), 0);
    if (!named || named->dev != self.dev || named->ino != self.ino) {
        release();
        return detail::does_not_exist(id_);
    }

    // state.json first: a removal cut short leaves a directory that reads as nonexistent.
    if (::unlinkat(fd_.get(), kStateFile, 0) != 0 && errno != ENOENT) return fail_errno(what);

    // Another process could add an entry between emptying and rmdir (it would have to ignore
    // the lock); a few rounds settle that.
    for (int round = 0; round < 4; ++round) {
        auto emptied = remove_contents(fd_.get(), self, 0);
        if (!emptied) return std::unexpected(std::move(emptied.error().context(what)));
        if (::unlinkat(root_.get(), id_.c_str(), AT_REMOVEDIR) == 0) {
            release();
            return ok();
        }
        if (errno != ENOTEMPTY && errno != EEXIST) return fail_errno(what);
    }
    return fail("", what + ": it keeps getting new entries", ENOTEMPTY);
}

}  // namespace hrun::state
