#include "linux/sealed_exe.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace hrun::os {
namespace {

std::string read_fd(int fd) {
    std::string out;
    char buf[4096];
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n <= 0) return out;
        out.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
}

// A regular file with `text`, unlinked at once (kept by its fd).
UniqueFd temp_file(const std::string& text) {
    char path[] = "/tmp/hrun-sealed-test-XXXXXX";
    UniqueFd fd(::mkstemp(path));
    if (fd) {
        ::unlink(path);
        EXPECT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    }
    return fd;
}

TEST(SealedExe, ARegularFileIsNotSealed) {
    UniqueFd file = temp_file("#!/bin/sh\n");
    ASSERT_TRUE(file);
    EXPECT_FALSE(fd_is_sealed(file.get()));
}

TEST(SealedExe, AnUnsealedOrPartlySealedMemfdIsNot) {
    UniqueFd memfd(::memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    ASSERT_TRUE(memfd);
    EXPECT_FALSE(fd_is_sealed(memfd.get()));
    // Each seal but one: still writable in some way, so not sealed.
    const int all = sealed_exe_seals();
    for (int missing : {F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE}) {
        UniqueFd partial(::memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING));
        ASSERT_TRUE(partial);
        ASSERT_EQ(::fcntl(partial.get(), F_ADD_SEALS, all & ~missing), 0);
        EXPECT_FALSE(fd_is_sealed(partial.get())) << "missing seal " << missing;
    }
    // A memfd made without MFD_ALLOW_SEALING carries F_SEAL_SEAL alone.
    UniqueFd plain(::memfd_create("t", MFD_CLOEXEC));
    ASSERT_TRUE(plain);
    EXPECT_FALSE(fd_is_sealed(plain.get()));
}

TEST(SealedExe, TheCopyHasTheBytesTimesAndEverySeal) {
    const std::string text = std::string(100000, 'x') + "end";
    UniqueFd file = temp_file(text);
    ASSERT_TRUE(file);
    const struct timespec when[2] = {{1000, 5}, {2000, 7}};
    ASSERT_EQ(::futimens(file.get(), when), 0);
    ::lseek(file.get(), 123, SEEK_SET);  // copied from offset 0 whatever the file offset

    auto copy = sealed_copy(file.get(), "hrun-test");
    ASSERT_TRUE(copy) << copy.error().what();
    EXPECT_TRUE(fd_is_sealed(copy->get()));
    EXPECT_EQ(read_fd(copy->get()), text);
    struct stat st;
    ASSERT_EQ(::fstat(copy->get(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 2000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7);
    EXPECT_EQ(::fcntl(copy->get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

    // What a process holding it would try: every change is refused by the kernel.
    EXPECT_EQ(::pwrite(copy->get(), "X", 1, 0), -1);
    EXPECT_EQ(errno, EPERM);
    EXPECT_EQ(::write(copy->get(), "X", 1), -1);
    EXPECT_EQ(::ftruncate(copy->get(), 0), -1);
    EXPECT_EQ(::ftruncate(copy->get(), 1 << 20), -1);
    EXPECT_EQ(::fcntl(copy->get(), F_ADD_SEALS, 0), -1) << "a seal could still be changed";
    EXPECT_EQ(::mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, copy->get(), 0), MAP_FAILED);
    // Reopened through /proc, as a container would reach it: the same seals.
    std::string path = "/proc/self/fd/" + std::to_string(copy->get());
    UniqueFd again(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    ASSERT_TRUE(again);
    EXPECT_TRUE(fd_is_sealed(again.get()));
    EXPECT_EQ(::write(again.get(), "X", 1), -1);
    EXPECT_EQ(read_fd(again.get()), text);
}

TEST(SealedExe, OnlyRegularFilesAreCopied) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
    EXPECT_FALSE(sealed_copy(r.get(), "t"));
}

TEST(SealedExe, ThisTestIsNotRunningSealed) {
    auto sealed = running_sealed();
    ASSERT_TRUE(sealed) << sealed.error().what();
    EXPECT_FALSE(*sealed);
}

// A sealed copy of this very binary, run: it sees itself as sealed. (The child re-runs only the
// one test below, which reports through its exit status.)
TEST(SealedExe, ACopyRunFromTheMemfdSeesItselfSealed) {
    if (const char* mode = std::getenv("HRUN_SEALED_EXE_TEST_CHILD"); mode != nullptr) {
        auto sealed = running_sealed();
        std::_Exit(sealed && *sealed ? 42 : 43);
    }
    UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(self);
    auto copy = sealed_copy(self.get(), "hrun-unit");
    ASSERT_TRUE(copy) << copy.error().what();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        const char* argv[] = {"unit_linux", "--gtest_filter=SealedExe.ACopyRunFromTheMemfdSeesItselfSealed", nullptr};
        const char* envp[] = {"HRUN_SEALED_EXE_TEST_CHILD=1", nullptr};
        if (int null = ::open("/dev/null", O_WRONLY); null >= 0) ::dup2(null, STDOUT_FILENO);
        ::fexecve(copy->get(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        std::_Exit(44);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 42) << "43: not sealed when run from the copy; 44: exec failed";
}

}  // namespace
}  // namespace hrun::os
