// Helpers shared by the rootfs tests: temporary directory trees.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace hrun::rootfs::test {

// A directory under $TMPDIR (or /tmp), removed with everything in it at the end.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/hrun-rootfs-test.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (keep_) return;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

    // Leave the tree in place (something may still be mounted in it: never recurse then).
    void keep() { keep_ = true; }

    void mkdirs(const std::string& rel) const { std::filesystem::create_directories(*this / rel); }
    void write(const std::string& rel, const std::string& content) const {
        std::filesystem::create_directories(std::filesystem::path(*this / rel).parent_path());
        std::ofstream(*this / rel) << content;
    }
    void symlink(const std::string& target, const std::string& rel) const {
        std::filesystem::create_directories(std::filesystem::path(*this / rel).parent_path());
        if (::symlink(target.c_str(), (*this / rel).c_str()) != 0) std::abort();
    }

private:
    std::string path_;
    bool keep_ = false;
};

// True if `fd` is the file at `path` (same device and inode, symlinks not followed).
inline bool same_file(int fd, const std::string& path) {
    struct stat a, b;
    if (::fstat(fd, &a) != 0 || ::lstat(path.c_str(), &b) != 0) return false;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace hrun::rootfs::test
