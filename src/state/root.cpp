// The state root: exclusive creation of container directories, opening them under a lock,
// and listing them.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

namespace {

constexpr std::size_t kStateSizeLimit = 16u << 20;
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// mkdir -p for the parents of the root (0711: others may traverse, as with /run/user), then
// the root itself (0700). Modes are set explicitly because mkdir applies the umask; existing
// directories are left as they are.
Status make_root(const std::string& path) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        std::string parent = path.substr(0, slash);
        if (::mkdir(parent.c_str(), 0711) == 0) {
            if (::chmod(parent.c_str(), 0711) != 0) return fail_errno("cannot set the mode of " + parent);
        } else if (errno != EEXIST) {
            return fail_errno("cannot create " + parent);
        }
    }
    if (::mkdir(path.c_str(), 0700) == 0) {
        if (::chmod(path.c_str(), 0700) != 0) return fail_errno("cannot set the mode of " + path);
    } else if (errno != EEXIST) {
        return fail_errno("cannot create the state root " + path);
    }
    return ok();
}

Status lock_dir(int fd, Lock lock, Wait wait, std::string_view id) {
    if (lock == Lock::None) return ok();
    int op = (lock == Lock::Exclusive ? LOCK_EX : LOCK_SH) | (wait == Wait::Try ? LOCK_NB : 0);
    while (::flock(fd, op) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK)
            return fail("", "container " + detail::quoted(id) + " is locked by another hrun process", EWOULDBLOCK);
        return fail_errno("cannot lock container " + detail::quoted(id));
    }
    return ok();
}

Result<UniqueFd> dup_fd(int fd) {
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy) return fail_errno("cannot duplicate the state root fd");
    return copy;
}

}  // namespace

Result<StateRoot> StateRoot::open(const std::string& path, Create create) {
    if (path.empty()) return fail("root", "the state root must not be empty", EINVAL);
    std::string abs = path;
    if (abs.front() != '/') {
        std::unique_ptr<char, decltype(&std::free)> cwd(::getcwd(nullptr, 0), &std::free);
        if (!cwd) return fail_errno("cannot get the current directory", "root");
        abs = std::string(cwd.get()) + "/" + abs;
    }
    while (abs.size() > 1 && abs.back() == '/') abs.pop_back();

    constexpr int kRootFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
    UniqueFd fd(::open(abs.c_str(), kRootFlags));
    if (!fd && errno == ENOENT && create == Create::IfMissing) {
        HRUN_TRY(make_root(abs));
        fd.reset(::open(abs.c_str(), kRootFlags));
    }
    if (!fd) return fail_errno("cannot open the state root " + abs, "root");
    return StateRoot(std::move(abs), std::move(fd));
}

std::string StateRoot::container_path(std::string_view id) const {
    return path_ == "/" ? "/" + std::string(id) : path_ + "/" + std::string(id);
}

Result<ContainerDir> StateRoot::create(const std::string& id) const {
    HRUN_TRY(check_id(id));
    const std::string exists_msg = "container " + detail::quoted(id) + " already exists";

    // The directory is born under a private name and locked before it gets the id, so that
    // nobody can lock it between its appearance and the creator's lock.
    sweep_abandoned();
    std::string temp;
    for (int attempt = 0;; ++attempt) {
        // The creator's pid in the name lets sweep_abandoned() tell a dead creator's directory
        // from one whose creator has not locked it yet.
        temp = std::string(detail::kCreatingPrefix) + std::to_string(::getpid()) + "-" +
               detail::random_hex(8);
        if (::mkdirat(fd_.get(), temp.c_str(), 0700) == 0) break;
        if (errno != EEXIST || attempt >= 8)
            return fail_errno("cannot create a directory in the state root " + path_);
    }
    auto drop_temp = [&] { ::unlinkat(fd_.get(), temp.c_str(), AT_REMOVEDIR); };
    UniqueFd dir(::openat(fd_.get(), temp.c_str(), kDirFlags));
    if (!dir || ::fchmod(dir.get(), 0700) != 0 || ::flock(dir.get(), LOCK_EX) != 0) {
        Error e{errno, "", "cannot prepare the directory of container " + detail::quoted(id)};
        drop_temp();
        return std::unexpected(std::move(e));
    }

    // RENAME_NOREPLACE makes the rename the atomic arbiter: of concurrent creators of one id,
    // exactly one succeeds.
    if (::renameat2(fd_.get(), temp.c_str(), fd_.get(), id.c_str(), RENAME_NOREPLACE) != 0) {
        int err = errno;
        drop_temp();
        if (err == EEXIST) return fail("", exists_msg, EEXIST);
        if (err != EINVAL && err != ENOSYS)
            return fail("", "cannot create the directory of container " + detail::quoted(id), err);
        // A filesystem without RENAME_NOREPLACE: mkdir is the arbiter; the directory is then
        // visible unlocked for a moment, during which it reads as "does not exist".
        if (::mkdirat(fd_.get(), id.c_str(), 0700) != 0) {
            if (errno == EEXIST) return fail("", exists_msg, EEXIST);
            return fail_errno("cannot create the directory of container " + detail::quoted(id));
        }
        dir.reset(::openat(fd_.get(), id.c_str(), kDirFlags));
        if (!dir || ::fchmod(dir.get(), 0700) != 0 || ::flock(dir.get(), LOCK_EX) != 0) {
            Error e{errno, "", "cannot prepare the directory of container " + detail::quoted(id)};
            ::unlinkat(fd_.get(), id.c_str(), AT_REMOVEDIR);
            return std::unexpected(std::move(e));
        }
    }
    UniqueFd root = HRUN_TRY(dup_fd(fd_.get()));
    return ContainerDir(id, container_path(id), std::move(root), std::move(dir), Lock::Exclusive);
}

void StateRoot::sweep_abandoned() const {
    auto names = detail::open_listing(fd_.get());
    if (!names) return;
    while (const dirent* e = ::readdir(names->get())) {
        std::string_view name = e->d_name;
        if (name.substr(0, detail::kCreatingPrefix.size()) != detail::kCreatingPrefix) continue;
        const pid_t creator = std::atoi(e->d_name + detail::kCreatingPrefix.size());
        if (creator <= 0 || ::kill(creator, 0) == 0 || errno != ESRCH) continue;  // still at work
        ::unlinkat(fd_.get(), e->d_name, AT_REMOVEDIR);  // always empty: nothing is put in it
    }
}

Result<ContainerDir> StateRoot::open(const std::string& id, Lock lock, Wait wait) const {
    HRUN_TRY(check_id(id));
    UniqueFd dir(::openat(fd_.get(), id.c_str(), kDirFlags));
    if (!dir) {
        if (errno == ENOENT) return detail::does_not_exist(id);
        if (errno == ENOTDIR || errno == ELOOP)
            return fail("", "container " + detail::quoted(id) + ": " + container_path(id) + " is not a directory",
                        ENOTDIR);
        return fail_errno("cannot open the directory of container " + detail::quoted(id));
    }
    HRUN_TRY(lock_dir(dir.get(), lock, wait, id));

    // While we waited, the container may have been deleted, and even created anew under the
    // same id. Either way the container this command was aimed at no longer exists; acting on
    // a newcomer that merely shares its id (killing it, say) would be wrong.
    struct stat held, named;
    if (::fstat(dir.get(), &held) != 0) return fail_errno("cannot stat container " + detail::quoted(id));
    if (held.st_nlink == 0) return detail::does_not_exist(id);
    if (::fstatat(fd_.get(), id.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return detail::does_not_exist(id);
        return fail_errno("cannot stat container " + detail::quoted(id));
    }
    if (named.st_dev != held.st_dev || named.st_ino != held.st_ino) return detail::does_not_exist(id);
    UniqueFd root = HRUN_TRY(dup_fd(fd_.get()));
    return ContainerDir(id, container_path(id), std::move(root), std::move(dir), lock);
}

Result<std::vector<ListedContainer>> StateRoot::list() const {
    auto listing = detail::open_listing(fd_.get());
    if (!listing) return std::unexpected(std::move(listing.error().context("state root " + path_)));
    detail::DirStream d = std::move(*listing);

    std::vector<ListedContainer> out;
    for (;;) {
        errno = 0;
        struct dirent* e = ::readdir(d.get());
        if (e == nullptr) {
            if (errno != 0) return fail_errno("cannot read the state root " + path_);
            break;
        }
        std::string name = e->d_name;
        if (!check_id(name)) continue;  // ".", "..", temporary directories
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
        UniqueFd dir(::openat(fd_.get(), name.c_str(), kDirFlags));
        if (!dir) continue;
        struct stat st;
        if (::fstat(dir.get(), &st) != 0) continue;
        auto text = detail::read_file_at(dir.get(), kStateFile, kStateSizeLimit);
        if (!text) continue;  // being created, or not a container
        nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
        if (j.is_discarded()) continue;
        ListedContainer item;
        try {
            j.get_to(item.state);
        } catch (const nlohmann::json::exception&) {
            continue;
        }
        if (item.state.id != name) continue;
        item.owner_uid = st.st_uid;
        out.push_back(std::move(item));
    }
    std::sort(out.begin(), out.end(),
              [](const ListedContainer& a, const ListedContainer& b) { return a.state.id < b.state.id; });
    return out;
}

Result<std::vector<ListRow>> list_rows(const StateRoot& root, const PausedCheck& paused) {
    std::vector<ListedContainer> found = HRUN_TRY(root.list());
    UniqueFd proc = HRUN_TRY(os::open_verified_procfs());
    std::vector<ListRow> rows;
    for (ListedContainer& c : found) {
        auto status = container_status(c.state, paused, proc.get());
        if (!status) {
            log::warn("status for " + c.state.id + ": " + status.error().what());
            continue;
        }
        rows.push_back(ListRow{std::move(c.state), *status, user_name(c.owner_uid)});
    }
    return rows;
}

}  // namespace hrun::state
