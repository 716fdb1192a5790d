// Reading and atomically replacing state.json, and the exec fifo.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

namespace {

constexpr std::size_t kStateSizeLimit = 16u << 20;

Status write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno("cannot write the state file");
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok();
}

}  // namespace

Result<ContainerState> ContainerDir::load() const {
    if (!fd_) return fail("", "container " + detail::quoted(id_) + " is not open", EBADF);
    auto text = detail::read_file_at(fd_.get(), kStateFile, kStateSizeLimit);
    if (!text) {
        // No state.json: the container is still being created (or its creation died).
        if (text.error().err == ENOENT) return detail::does_not_exist(id_);
        return std::unexpected(std::move(text.error().context("container " + detail::quoted(id_))));
    }
    ContainerState state;
    try {
        nlohmann::json::parse(*text).get_to(state);
    } catch (const nlohmann::json::exception& e) {
        return fail("", "container " + detail::quoted(id_) + ": invalid " + kStateFile + ": " + e.what(), EINVAL);
    }
    if (state.id != id_)
        return fail("", "container " + detail::quoted(id_) + ": " + kStateFile + " belongs to " + detail::quoted(state.id),
                    EINVAL);
    return state;
}

Status ContainerDir::save(const ContainerState& state) const {
    if (!fd_) return fail("", "container " + detail::quoted(id_) + " is not open", EBADF);
    if (lock_ != Lock::Exclusive)
        return fail("", "saving container " + detail::quoted(id_) + " requires its exclusive lock", EINVAL);
    if (state.id != id_)
        return fail("", "state of " + detail::quoted(state.id) + " cannot be saved as container " + detail::quoted(id_),
                    EINVAL);
    std::string text;
    try {
        text = nlohmann::json(state).dump(2) + "\n";
    } catch (const nlohmann::json::exception& e) {
        // Only strings that are not UTF-8 can fail; they are refused rather than altered.
        return fail("", "container " + detail::quoted(id_) + ": cannot encode state: " + e.what(), EILSEQ);
    }

    // Readers never lock: they must only ever find a complete file, hence write + rename.
    // No fsync: the state lives on /run (tmpfs) and does not outlive a reboot anyway.
    const std::string temp = std::string(detail::kStateTempPrefix) + detail::random_hex(12);
    UniqueFd fd(::openat(fd_.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail_errno("cannot create a state file for container " + detail::quoted(id_));
    auto written = [&]() -> Status {
        if (::fchmod(fd.get(), 0600) != 0) return fail_errno("cannot set the mode of the state file");
        HRUN_TRY(write_all(fd.get(), text));
        if (::close(fd.release()) != 0) return fail_errno("cannot write the state file");
        if (::renameat(fd_.get(), temp.c_str(), fd_.get(), kStateFile) != 0)
            return fail_errno("cannot replace the state file");
        return ok();
    }();
    if (!written) {
        ::unlinkat(fd_.get(), temp.c_str(), 0);
        written.error().context("container " + detail::quoted(id_));
    }
    return written;
}

Result<std::string> ContainerDir::create_exec_fifo(uid_t uid, gid_t gid) const {
    if (!fd_) return fail("", "container " + detail::quoted(id_) + " is not open", EBADF);
    if (lock_ != Lock::Exclusive)
        return fail("", "creating the exec fifo of " + detail::quoted(id_) + " requires its exclusive lock", EINVAL);
    if (::mkfifoat(fd_.get(), kExecFifo, 0622) != 0) return fail_errno("cannot create the exec fifo");
    auto undo = [&](const char* what) {
        Error e{errno, "", what};
        ::unlinkat(fd_.get(), kExecFifo, 0);
        return std::unexpected(std::move(e));
    };
    struct stat st;
    if (::fstatat(fd_.get(), kExecFifo, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISFIFO(st.st_mode))
        return undo("cannot check the exec fifo");
    if ((st.st_uid != uid || st.st_gid != gid) && ::fchownat(fd_.get(), kExecFifo, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
        return undo("cannot change the owner of the exec fifo");
    // mkfifo applied the umask; the writer (the container's root) needs its w bit.
    if (::fchmodat(fd_.get(), kExecFifo, 0622, 0) != 0) return undo("cannot set the mode of the exec fifo");
    return path_ + "/" + kExecFifo;
}

void ContainerDir::release() {
    fd_.reset();
    root_.reset();
    lock_ = Lock::None;
}

}  // namespace hrun::state
