#include "rootfs/resolve.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>

#include "hrun/fd.hpp"
#include "test_util.hpp"

namespace hrun::rootfs {
namespace {

using test::same_file;
using test::TempDir;

class Resolve : public ::testing::Test {
protected:
    void SetUp() override {
        root_.mkdirs("root");
        rootfd_.reset(::open((root_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_TRUE(rootfd_);
    }
    std::string in_root(const std::string& rel) const { return root_ / ("root/" + rel); }
    int resolve(const char* path, unsigned flags = kResolveDefault) {
        return resolve_in_root(rootfd_.get(), path, flags);
    }

    TempDir root_;
    UniqueFd rootfd_;
};

TEST_F(Resolve, PlainPath) {
    root_.write("root/etc/hostname", "box");
    UniqueFd fd(resolve("/etc/hostname"));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("etc/hostname")));
    // Relative, with redundant parts.
    UniqueFd again(resolve("etc//./hostname"));
    EXPECT_TRUE(same_file(again.get(), in_root("etc/hostname")));
}

TEST_F(Resolve, RootItself) {
    UniqueFd fd(resolve("/"));
    ASSERT_GE(fd.get(), 0);
    EXPECT_NE(fd.get(), rootfd_.get());  // a new fd the caller owns
    EXPECT_TRUE(same_file(fd.get(), in_root("")));
}

TEST_F(Resolve, RelativeSymlinkInside) {
    root_.write("root/b/file", "x");
    root_.symlink("../b", "root/a/link");
    UniqueFd fd(resolve("/a/link/file"));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("b/file")));
}

TEST_F(Resolve, AbsoluteSymlinkRestartsAtTheRoot) {
    root_.write("root/etc/passwd", "container");
    root_.symlink("/etc", "root/abs");
    UniqueFd fd(resolve("/abs/passwd"));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("etc/passwd")));
    EXPECT_FALSE(same_file(fd.get(), "/etc/passwd"));
}

TEST_F(Resolve, AbsoluteSymlinkNeverReachesTheHost) {
    // The host has /usr/bin; the rootfs does not.
    root_.symlink("/usr/bin", "root/hostbin");
    EXPECT_EQ(resolve("/hostbin"), -ENOENT);
}

TEST_F(Resolve, DotDotInsideIsFine) {
    root_.mkdirs("root/a/b");
    root_.write("root/c", "x");
    UniqueFd fd(resolve("/a/b/../../c"));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("c")));
}

TEST_F(Resolve, SymlinkClimbingAboveTheRootIsAnEscape) {
    root_.mkdirs("root/mnt");
    root_.symlink("../../../../etc", "root/mnt/evil");
    EXPECT_EQ(resolve("/mnt/evil"), -EXDEV);
    EXPECT_EQ(resolve("/mnt/evil/passwd"), -EXDEV);
}

TEST_F(Resolve, LiteralDotDotAtTheRootIsAnEscape) {
    EXPECT_EQ(resolve("/.."), -EXDEV);
    root_.mkdirs("root/a");
    EXPECT_EQ(resolve("a/../../x"), -EXDEV);
}

TEST_F(Resolve, SymlinkLoops) {
    root_.symlink("l2", "root/l1");
    root_.symlink("l1", "root/l2");
    EXPECT_EQ(resolve("/l1"), -ELOOP);
    root_.symlink("self", "root/self");
    EXPECT_EQ(resolve("/self/x"), -ELOOP);
}

TEST_F(Resolve, SymlinkBudgetIsForty) {
    // c0 -> c1 -> ... -> cN -> target: N+1 links.
    root_.write("root/target", "x");
    auto chain = [&](int links, const std::string& prefix) {
        for (int i = 0; i < links; ++i) {
            std::string next = i + 1 == links ? "target" : prefix + std::to_string(i + 1);
            root_.symlink(next, "root/" + prefix + std::to_string(i));
        }
        return "/" + prefix + "0";
    };
    std::string forty = chain(kMaxSymlinks, "a");
    std::string forty_one = chain(kMaxSymlinks + 1, "b");
    UniqueFd fd(resolve(forty.c_str()));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("target")));
    EXPECT_EQ(resolve(forty_one.c_str()), -ELOOP);
}

TEST_F(Resolve, MissingAndNotADirectory) {
    root_.write("root/file", "x");
    EXPECT_EQ(resolve("/nope/x"), -ENOENT);
    EXPECT_EQ(resolve("/file/x"), -ENOTDIR);
}

// Paths without symlinks take one openat2 call; these are the walk's answers it must keep.
TEST_F(Resolve, SymlinkFreePathsKeepTheWalksAnswers) {
    root_.write("root/etc/hostname", "box");
    root_.mkdirs("root/a/b");
    // A trailing slash is ignored, even after a file.
    UniqueFd file(resolve("/etc/hostname/"));
    ASSERT_GE(file.get(), 0);
    EXPECT_TRUE(same_file(file.get(), in_root("etc/hostname")));
    UniqueFd dir(resolve("a/b//"));
    EXPECT_TRUE(same_file(dir.get(), in_root("a/b")));
    UniqueFd root(resolve("///"));
    EXPECT_TRUE(same_file(root.get(), in_root("")));
    // ".." above the root from a plain directory is still an escape, not the root.
    EXPECT_EQ(resolve("/a/../../etc"), -EXDEV);
    // Deeper than the walk tracks: still refused, although the kernel could go on.
    std::string deep;
    for (int i = 0; i < kMaxResolveDepth; ++i) deep += "/d";
    root_.mkdirs("root" + deep);
    EXPECT_EQ(resolve(deep.c_str()), -ENAMETOOLONG);
    // A symlink on the way still goes through the walk: inside the root it is followed.
    root_.symlink("/a", "root/link");
    UniqueFd through(resolve("/link/b"));
    EXPECT_TRUE(same_file(through.get(), in_root("a/b")));
}

TEST_F(Resolve, CreatesDirectories) {
    UniqueFd fd(resolve("/x/y/z", kResolveMkdirParents | kResolveMkdirLast));
    ASSERT_GE(fd.get(), 0);
    struct stat st;
    ASSERT_EQ(::stat(in_root("x/y/z").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_TRUE(same_file(fd.get(), in_root("x/y/z")));
    // Parents only: the last component must then exist.
    EXPECT_EQ(resolve("/p/q", kResolveMkdirParents), -ENOENT);
    EXPECT_EQ(::access(in_root("p").c_str(), F_OK), 0);
}

TEST_F(Resolve, CreatesAnEmptyFile) {
    UniqueFd fd(resolve("/etc/resolv.conf", kResolveMkdirParents | kResolveCreateFile));
    ASSERT_GE(fd.get(), 0);
    struct stat st;
    ASSERT_EQ(::stat(in_root("etc/resolv.conf").c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 0);
    // An existing file is returned as it is.
    root_.write("root/etc/hosts", "127.0.0.1 localhost\n");
    UniqueFd hosts(resolve("/etc/hosts", kResolveCreateFile));
    EXPECT_TRUE(same_file(hosts.get(), in_root("etc/hosts")));
    ASSERT_EQ(::stat(in_root("etc/hosts").c_str(), &st), 0);
    EXPECT_GT(st.st_size, 0);
}

TEST_F(Resolve, CreatesThroughAnInsideSymlink) {
    root_.symlink("/made", "root/lnk");  // dangling until created
    UniqueFd fd(resolve("/lnk/sub", kResolveMkdirParents | kResolveMkdirLast));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("made/sub")));
}

TEST_F(Resolve, NeverCreatesOutside) {
    root_.symlink("../outside", "root/esc");
    EXPECT_EQ(resolve("/esc/x", kResolveMkdirParents | kResolveMkdirLast), -EXDEV);
    EXPECT_NE(::access((root_ / "outside").c_str(), F_OK), 0);
}

TEST_F(Resolve, NoFollowLastReturnsTheLink) {
    root_.write("root/real", "x");
    root_.symlink("real", "root/link");
    UniqueFd fd(resolve("/link", kResolveNoFollowLast));
    ASSERT_GE(fd.get(), 0);
    EXPECT_TRUE(same_file(fd.get(), in_root("link")));
    struct stat st;
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    // Links before the last component are still followed.
    root_.mkdirs("root/d");
    root_.symlink("d", "root/dl");
    root_.symlink("../real", "root/d/inner");
    UniqueFd inner(resolve("/dl/inner", kResolveNoFollowLast));
    EXPECT_TRUE(same_file(inner.get(), in_root("d/inner")));
}

TEST_F(Resolve, ProcfsLinksAreRefused) {
    // Resolving from the host's "/": /proc/self is a procfs link, /proc/self/root a magic one.
    UniqueFd host_root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(host_root);
    EXPECT_EQ(resolve_in_root(host_root.get(), "/proc/self/root/etc", kResolveDefault), -EXDEV);
    std::string fd_path = "/proc/1/fd/0";
    int r = resolve_in_root(host_root.get(), fd_path.c_str(), kResolveDefault);
    EXPECT_TRUE(r == -EXDEV || r == -EACCES || r == -ENOENT) << r;
    // procfs entries that are not links are fine.
    UniqueFd version(resolve_in_root(host_root.get(), "/proc/version", kResolveDefault));
    EXPECT_GE(version.get(), 0);
}

TEST_F(Resolve, ParentAndLastName) {
    char name[NAME_MAX + 1];
    UniqueFd dir(resolve_parent_in_root(rootfd_.get(), "/dev/null", kResolveMkdirParents, name, sizeof name));
    ASSERT_GE(dir.get(), 0);
    EXPECT_STREQ(name, "null");
    EXPECT_TRUE(same_file(dir.get(), in_root("dev")));

    UniqueFd top(resolve_parent_in_root(rootfd_.get(), "/top", kResolveDefault, name, sizeof name));
    ASSERT_GE(top.get(), 0);
    EXPECT_STREQ(name, "top");
    EXPECT_TRUE(same_file(top.get(), in_root("")));

    EXPECT_EQ(resolve_parent_in_root(rootfd_.get(), "/", kResolveDefault, name, sizeof name), -EINVAL);
    EXPECT_EQ(resolve_parent_in_root(rootfd_.get(), "/a/..", kResolveDefault, name, sizeof name), -EINVAL);
    EXPECT_EQ(resolve_parent_in_root(rootfd_.get(), "/missing/x", kResolveDefault, name, sizeof name), -ENOENT);

    // The parent part follows symlinks inside the root, and not out of it.
    root_.symlink("../../..", "root/up");
    EXPECT_EQ(resolve_parent_in_root(rootfd_.get(), "/up/x", kResolveDefault, name, sizeof name), -EXDEV);
}

TEST_F(Resolve, LongNames) {
    std::string long_name(NAME_MAX + 1, 'n');
    EXPECT_EQ(resolve(("/" + long_name).c_str()), -ENAMETOOLONG);
    std::string long_path(PATH_MAX + 10, 'a');
    EXPECT_EQ(resolve(long_path.c_str()), -ENAMETOOLONG);
}

TEST_F(Resolve, ReturnedFdIsPathOnlyAndCloexec) {
    root_.write("root/f", "x");
    UniqueFd fd(resolve("/f"));
    ASSERT_GE(fd.get(), 0);
    int flags = ::fcntl(fd.get(), F_GETFL);
    EXPECT_TRUE(flags & O_PATH);
    EXPECT_TRUE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);
}

}  // namespace
}  // namespace hrun::rootfs
