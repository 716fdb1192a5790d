// What the idmapped-mount tests share: the remap user with its subordinate range, and a probe of
// whether a directory's filesystem can carry an idmapped mount on this kernel.
//
// The remap user "hrun-remap" (a system user, so that useradd allocates no range of its own) gets
// 300000-365535 in /etc/subuid and /etc/subgid; the tests create it when it is missing.
#pragma once

#include <fcntl.h>
#include <linux/mount.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "harness.hpp"

namespace hrun::itest {

inline constexpr const char* kRemapUser = "hrun-remap";
inline constexpr unsigned kRangeStart = 300000;
inline constexpr unsigned kRangeSize = 65536;

inline bool file_has_line(const std::string& path, const std::string& line) {
    std::istringstream in(read_file(path).value_or(""));
    for (std::string l; std::getline(in, l);)
        if (l == line) return true;
    return false;
}

// Creates the user and its ranges unless they exist; empty when ready, else why not.
inline std::string ensure_remap_user() {
    if (::getpwnam(kRemapUser) == nullptr) {
        RunResult add = run_command({"/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                     kRemapUser});
        if (add.status != 0) return "useradd failed: " + add.describe();
    }
    const std::string range = std::string(kRemapUser) + ":" + std::to_string(kRangeStart) + ":" +
                              std::to_string(kRangeSize);
    if (file_has_line("/etc/subuid", range) && file_has_line("/etc/subgid", range)) return "";
    const std::string ids = std::to_string(kRangeStart) + "-" + std::to_string(kRangeStart + kRangeSize - 1);
    RunResult mod = run_command({"/usr/sbin/usermod", "--add-subuids", ids, "--add-subgids", ids, kRemapUser});
    if (mod.status != 0) return "usermod failed: " + mod.describe();
    return "";
}

inline bool kernel_has_user_namespaces() { return std::filesystem::exists("/proc/self/ns/user"); }

// Why `dir`'s filesystem cannot carry an idmapped mount here, or "" when it can. Probed with the
// kernel directly (not through hrun) so that hrun wrongly refusing a capable filesystem still
// fails the tests. Only "cannot" answers skip: any other failure of the probe returns "" and
// lets the test run and report.
inline std::string idmap_unsupported(const std::string& dir) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return "";
    const pid_t child = ::fork();
    if (child < 0) return "";
    if (child == 0) {
        char c = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char c = 'n';
    const bool in_namespace = ::read(ready[0], &c, 1) == 1 && c == 'y';
    ::close(ready[0]);
    std::string why;
    int userns = -1;
    if (in_namespace) {
        const std::string proc = "/proc/" + std::to_string(child);
        const std::string map = "0 " + std::to_string(kRangeStart) + " " + std::to_string(kRangeSize) + "\n";
        std::ofstream(proc + "/uid_map") << map;
        std::ofstream(proc + "/gid_map") << map;
        userns = ::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    if (userns < 0) return "";
    const long tree = ::syscall(SYS_open_tree, AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0 && errno == ENOSYS) why = "this kernel has no open_tree (idmapped mounts need Linux 5.12)";
    if (tree >= 0) {
        struct mount_attr attr;
        std::memset(&attr, 0, sizeof attr);
        attr.attr_set = MOUNT_ATTR_IDMAP;
        attr.userns_fd = static_cast<uint64_t>(userns);
        if (::syscall(SYS_mount_setattr, static_cast<int>(tree), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0 &&
            (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS))
            why = "the filesystem under " + dir + " cannot be idmapped on this kernel (mount_setattr: " +
                  std::strerror(errno) + ")";
        ::close(static_cast<int>(tree));
    }
    ::close(userns);
    return why;
}

// For the tests that need an idmapped mount of the bundle's filesystem to exist at all.
#define SKIP_UNLESS_IDMAPPABLE(dir)                                                 \
    if (const std::string why_not = idmap_unsupported(dir); !why_not.empty()) \
    GTEST_SKIP() << why_not

}  // namespace hrun::itest
