// read_file_in_root: a container's file is read as the container sees it, and only when it is a
// bounded regular file; what a hostile image plants there is never opened.
#include "linux/root_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "linux/procfs.hpp"

namespace hrun::os {
namespace {

namespace fs = std::filesystem;

class RootFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hrun-root-file-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        root_ = dir_ + "/rootfs";
        fs::create_directories(root_ + "/etc");
        auto proc = open_verified_procfs();
        ASSERT_TRUE(proc) << proc.error().what();
        proc_ = std::move(*proc);
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

    Result<std::string> read(const char* relpath, std::size_t max = kMaxRootFileSize) {
        auto root = open_root_dir(root_);
        if (!root) return std::unexpected(root.error());
        return read_file_in_root(proc_.get(), root->get(), relpath, max);
    }

    std::string dir_, root_;
    UniqueFd proc_;
};

TEST_F(RootFile, ReadsARegularFile) {
    write(root_ + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    auto text = read("etc/passwd");
    ASSERT_TRUE(text) << text.error().what();
    EXPECT_EQ(*text, "root:x:0:0::/root:/bin/sh\n");
}

TEST_F(RootFile, MissingIsENOENT) {
    auto text = read("etc/passwd");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, ENOENT);
}

TEST_F(RootFile, SymlinksResolveInsideTheRoot) {
    // The host file the links aim at: reading it would be an escape.
    write(dir_ + "/host-secret", "host:x:0:0::/host:/bin/sh\n");
    write(root_ + "/host-secret", "inside:x:0:0::/inside:/bin/sh\n");
    fs::create_symlink("../../host-secret", root_ + "/etc/passwd");
    fs::create_symlink("/../../../host-secret", root_ + "/etc/group");
    for (const char* name : {"etc/passwd", "etc/group"}) {
        auto text = read(name);
        ASSERT_TRUE(text) << name << ": " << text.error().what();
        EXPECT_EQ(*text, "inside:x:0:0::/inside:/bin/sh\n") << name;
    }
    // The host file's absolute path names <root>/<that path>, which the root does not have.
    fs::create_symlink(dir_ + "/host-secret", root_ + "/etc/shadow");
    auto text = read("etc/shadow");
    ASSERT_FALSE(text) << "read the host's file: " << *text;
    EXPECT_EQ(text.error().err, ENOENT);
}

TEST_F(RootFile, MagicLinksAreRefused) {
    // /proc/self/root inside a rootfs that has the host's /proc bound in would lead out.
    fs::create_directories(root_ + "/proc");
    fs::create_symlink("/proc/self/root/etc/passwd", root_ + "/etc/passwd");
    auto text = read("etc/passwd");
    EXPECT_FALSE(text);  // no /proc in this rootfs: ENOENT; with one, ELOOP
}

TEST_F(RootFile, AFifoIsRefusedWithoutBlocking) {
    ASSERT_EQ(::mkfifo((root_ + "/etc/passwd").c_str(), 0644), 0);
    const auto start = std::chrono::steady_clock::now();
    auto text = read("etc/passwd");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EINVAL);
    EXPECT_NE(text.error().message.find("a FIFO"), std::string::npos) << text.error().what();

    // Had it been opened for reading, a writer would find a reader: O_WRONLY|O_NONBLOCK on a FIFO
    // without one fails with ENXIO.
    int writer = ::open((root_ + "/etc/passwd").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    EXPECT_LT(writer, 0);
    EXPECT_EQ(errno, ENXIO);
    if (writer >= 0) ::close(writer);
}

TEST_F(RootFile, DevicesAreNeverOpened) {
    // c 1:3 is /dev/null: harmless if it were opened, and refused all the same.
    if (::mknod((root_ + "/etc/passwd").c_str(), S_IFCHR | 0644, makedev(1, 3)) != 0)
        GTEST_SKIP() << "mknod: " << std::strerror(errno) << " (needs CAP_MKNOD)";
    auto text = read("etc/passwd");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EINVAL);
    EXPECT_NE(text.error().message.find("a character device"), std::string::npos) << text.error().what();
    // Through a symlink to the host's /dev/kmsg: resolved in the root, where it is missing.
    fs::create_symlink("/dev/kmsg", root_ + "/etc/group");
    text = read("etc/group");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, ENOENT);
}

TEST_F(RootFile, DirectoriesAndSocketsAreRefused) {
    fs::create_directories(root_ + "/etc/passwd");
    auto text = read("etc/passwd");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EINVAL);
    EXPECT_NE(text.error().message.find("a directory"), std::string::npos);

    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(sock);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = root_ + "/etc/group";
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    text = read("etc/group");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EINVAL);
    EXPECT_NE(text.error().message.find("a socket"), std::string::npos) << text.error().what();
}

TEST_F(RootFile, SizeIsBounded) {
    {
        // Sparse: 5 MiB of holes cost no disk.
        int fd = ::open((root_ + "/etc/passwd").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 5 << 20), 0);
        ::close(fd);
    }
    auto text = read("etc/passwd");
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EFBIG);

    write(root_ + "/etc/group", std::string(100, 'x'));
    text = read("etc/group", 99);
    ASSERT_FALSE(text);
    EXPECT_EQ(text.error().err, EFBIG);
    text = read("etc/group", 100);
    ASSERT_TRUE(text) << text.error().what();
    EXPECT_EQ(text->size(), 100u);
}

TEST_F(RootFile, ProcessRootIsThatProcesssRoot) {
    // Our own root is the host's "/": /proc/self/root/etc/hostname-style lookups resolve there.
    auto root = open_process_root(proc_.get(), ::getpid());
    ASSERT_TRUE(root) << root.error().what();
    struct stat a, b;
    ASSERT_EQ(::fstat(root->get(), &a), 0);
    ASSERT_EQ(::stat("/", &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_dev, b.st_dev);
    EXPECT_FALSE(open_process_root(proc_.get(), 0x7ffffff0));
}

}  // namespace
}  // namespace hrun::os
