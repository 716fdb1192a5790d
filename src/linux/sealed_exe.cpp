#include "linux/sealed_exe.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

extern char** environ;

namespace hrun::os {

namespace {

// Linux 6.3 added MFD_EXEC: with vm.memfd_noexec set, a memfd is executable only when asked
// for; older kernels refuse the unknown flag (EINVAL) and every memfd is executable there.
#ifndef MFD_EXEC
constexpr unsigned kMfdExec = 0x0010U;
#else
constexpr unsigned kMfdExec = MFD_EXEC;
#endif

char** g_argv = nullptr;

UniqueFd create_memfd(const char* name) {
    const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
    int fd = ::memfd_create(name, flags | kMfdExec);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create(name, flags);
    return UniqueFd(fd);
}

}  // namespace

int sealed_exe_seals() noexcept { return F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE; }

bool fd_is_sealed(int fd) noexcept {
    int seals = ::fcntl(fd, F_GET_SEALS);
    return seals >= 0 && (seals & sealed_exe_seals()) == sealed_exe_seals();
}

Result<UniqueFd> sealed_copy(int src, const char* name) {
    struct stat st;
    if (::fstat(src, &st) != 0) return fail_errno("cannot stat the hrun binary");
    if (!S_ISREG(st.st_mode)) return fail("", "the hrun binary is not a regular file", EINVAL);
    UniqueFd copy = create_memfd(name);
    if (!copy) return fail_errno("cannot create a memfd for a sealed copy of hrun");
    // sendfile copies in the kernel, from any regular file into the memfd (copy_file_range
    // refuses to cross filesystem types).
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n = ::sendfile(copy.get(), src, &offset, static_cast<std::size_t>(st.st_size - offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot copy the hrun binary into its sealed copy");
        if (n == 0) break;
    }
    if (offset != st.st_size)
        return fail("", "the hrun binary changed size while it was copied", EIO);
    // The original's times: what identifies the binary (the seccomp cache's key) stays the same.
    const struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(copy.get(), times) != 0) return fail_errno("cannot date the sealed copy of hrun");
    if (::fcntl(copy.get(), F_ADD_SEALS, sealed_exe_seals()) != 0)
        return fail_errno("cannot seal the copy of the hrun binary");
    if (!fd_is_sealed(copy.get())) return fail("", "the copy of the hrun binary is not sealed", EPERM);
    return copy;
}

void remember_invocation(char** argv) noexcept { g_argv = argv; }

Result<bool> running_sealed() {
    UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self) return fail_errno("cannot open /proc/self/exe");
    return fd_is_sealed(self.get());
}

Status ensure_sealed_exe(std::string_view why) {
    UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!self) return fail_errno("cannot open /proc/self/exe");
    if (fd_is_sealed(self.get())) return ok();
    if (g_argv == nullptr || g_argv[0] == nullptr)
        return fail("", std::string(why) + ": no command line to run a sealed copy of hrun with", EINVAL);
    UniqueFd copy = HRUN_TRY(sealed_copy(self.get(), "hrun"));
    self.reset();  // nothing of ours refers to the binary on disk any more
    ::syscall(SYS_execveat, copy.get(), "", g_argv, environ, AT_EMPTY_PATH);
    return fail_errno(std::string(why) + ": cannot run the sealed copy of hrun");
}

}  // namespace hrun::os
