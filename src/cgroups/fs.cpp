#include "cgroups/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace hrun::cgroups::fs {
namespace {

int read_fd(int fd, std::string& out) {
    out.clear();
    char buf[4096];
    while (true) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return 0;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

bool on_cgroupfs(int fd) {
    struct statfs sfs;
    if (::fstatfs(fd, &sfs) != 0) return false;
    return sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int checked_dir(int fd) {
    if (fd < 0) return -errno;
    if (!on_cgroupfs(fd)) {
        ::close(fd);
        return -EXDEV;
    }
    return fd;
}

}  // namespace

int read_at(int dirfd, const char* name, std::string& out) {
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return errno;
    return read_fd(fd.get(), out);
}

int write_at(int dirfd, const char* name, std::string_view value) {
    UniqueFd fd(::openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return errno;
    ssize_t n;
    do {
        n = ::write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno;
    return static_cast<std::size_t>(n) == value.size() ? 0 : EIO;
}

int read_path(const std::string& path, std::string& out) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno;
    return read_fd(fd.get(), out);
}

int open_cgroup_dir(const std::string& path) {
    return checked_dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
}

int open_cgroup_dir_at(int dirfd, const char* name) {
    return checked_dir(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
}

std::vector<std::string> subdirectories(int dirfd) {
    std::vector<std::string> names;
    int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return names;
    DIR* dir = ::fdopendir(dup);
    if (dir == nullptr) {
        ::close(dup);
        return names;
    }
    while (dirent* e = ::readdir(dir)) {
        std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        if (e->d_type == DT_DIR) names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

int read_procs(int dirfd, std::vector<pid_t>& out, bool recursive) {
    std::string text;
    if (int err = read_at(dirfd, "cgroup.procs", text); err != 0) return err;
    for (std::string_view line : split(text, "\n")) {
        uint64_t pid = 0;
        if (parse_u64(line, pid) && pid > 0) out.push_back(static_cast<pid_t>(pid));
    }
    if (!recursive) return 0;
    for (const std::string& name : subdirectories(dirfd)) {
        UniqueFd sub(open_cgroup_dir_at(dirfd, name.c_str()));
        if (!sub) continue;  // removed meanwhile
        if (int err = read_procs(sub.get(), out, true); err != 0 && err != ENOENT) return err;
    }
    return 0;
}

std::vector<std::string_view> split(std::string_view text, std::string_view separators) {
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t j = text.find_first_of(separators, i);
        if (j == std::string_view::npos) j = text.size();
        if (j > i) parts.push_back(text.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\n");
    return std::string(text.substr(first, last - first + 1));
}

bool parse_u64(std::string_view text, uint64_t& out) {
    const std::string t = trim(text);
    if (t.empty()) return false;
    uint64_t v = 0;
    for (char c : t) {
        if (c < '0' || c > '9') return false;
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - digit) / 10) return false;
        v = v * 10 + digit;
    }
    out = v;
    return true;
}

void sleep_ms(int ms) {
    timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000L};
    while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

}  // namespace hrun::cgroups::fs
