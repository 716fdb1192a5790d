// setup_rootfs for real, as root: a forked child enters a new mount namespace, builds a busybox
// container root from a plan, looks at the result from inside and reports to the parent over a
// pipe. The namespace dies with the child; the parent checks that its own mount table is
// unchanged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "linux/host.hpp"
#include "rootfs/rootfs.hpp"
#include "test_util.hpp"

namespace hrun::rootfs {
namespace {

using test::TempDir;

constexpr long kMqueueMagic = 0x19800202;  // not in <linux/magic.h>

// What the child saw, sent back as plain bytes.
struct Observed {
    ChildError error;  // from setup_rootfs
    int step_errno = 0;  // a failure of the test's own namespace preparation
    char cwd[64] = {};
    bool root_readonly = false;
    int root_create_errno = 0;
    int tmp_create_errno = -1;
    long tmp_fs = 0;
    unsigned tmp_mode = 0;
    long proc_fs = 0;
    long devpts_fs = 0;
    long shm_fs = 0;
    long mqueue_fs = 0;
    long sys_fs = 0;
    bool sys_readonly = false;
    unsigned devnull_mode = 0;
    dev_t devnull_rdev = 0;
    uid_t devnull_uid = 0;
    unsigned fuse_mode = 0;
    dev_t fuse_rdev = 0;
    uid_t fuse_uid = 0;
    gid_t fuse_gid = 0;
    bool fifo_is_fifo = false;
    char fd_link[64] = {};
    char ptmx_link[64] = {};
    char data[32] = {};
    bool data_readonly = false;
    int data_write_errno = 0;
    off_t hostname_size = -1;
    bool hostname_readonly = false;
    ssize_t masked_file_read = -1;
    dev_t masked_file_rdev = 0;
    int masked_dir_entries = -1;
    bool masked_dir_readonly = false;
    int rodir_create_errno = 0;
    bool proc_sys_readonly = false;
    bool rotmp_readonly = false;
    bool dev_writable = false;
    int host_dir_errno = 0;
    long cgroup_root_fs = 0;
    bool cgroup_root_readonly = false;
    int cgroup_hierarchies_ok = 0;  // right type, read-only, and our own cgroup
    int exec_status = -1;
    char root_propagation[32] = {};
    int fds_before = -1;  // open fds of the child around setup_rootfs
    int fds_after = -2;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

long fs_type(const char* path) {
    struct statfs sfs;
    return ::statfs(path, &sfs) == 0 ? static_cast<long>(sfs.f_type) : -errno;
}

bool readonly(const char* path) {
    struct statvfs sv;
    return ::statvfs(path, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

int create_errno(const char* path) {
    int fd = ::open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    ::unlink(path);
    return 0;
}

void read_link(const char* path, char* out, std::size_t size) {
    ssize_t n = ::readlink(path, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
}

// Runs a shell inside the container: the busybox rootfs must work as one.
int run_shell(const char* script) {
    pid_t pid = ::fork();
    if (pid == 0) {
        const char* argv[] = {"sh", "-c", script, nullptr};
        const char* envp[] = {"PATH=/bin", nullptr};
        ::execve("/bin/sh", const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct ChildOptions {
    bool user_namespace = false;  // also unshare user, pid and ipc namespaces (root mapped to root)
    bool cgroup_namespace = false;
};

int count_fds() {
    int n = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
    return ec ? -1 : n - 1;  // minus the iterator's own
}

bool write_file(const char* path, const char* text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
    ::close(fd);
    return ok;
}

// Forks; the child enters new namespaces, runs setup_rootfs and then `observe`; the parent gets
// the observations. Nothing of the child's mounts can outlive it.
Observed run_in_child(const RootfsPlan& plan, int procfd, const ChildOptions& opts,
                      const std::function<void(Observed&)>& observe) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) std::abort();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        auto report = [&](const Observed& o) {
            (void)!::write(pipefd[1], &o, sizeof o);
            ::_exit(0);
        };
        Observed o;
        int flags = CLONE_NEWNS | (opts.user_namespace ? CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWIPC : 0) |
                    (opts.cgroup_namespace ? CLONE_NEWCGROUP : 0);
        if (::unshare(flags) != 0) {
            o.step_errno = errno;
            report(o);
        }
        if (opts.user_namespace) {
            if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", "0 0 1") ||
                !write_file("/proc/self/gid_map", "0 0 1")) {
                o.step_errno = errno ? errno : EIO;
                report(o);
            }
            // The first child becomes pid 1 of the new pid namespace, which owns its proc mount.
            pid_t inner = ::fork();
            if (inner != 0) {
                int status = 0;
                ::waitpid(inner, &status, 0);
                ::_exit(0);
            }
        }
        o.fds_before = count_fds();
        ChildStatus s = setup_rootfs(plan, procfd);
        o.error = s.error;
        o.fds_after = count_fds();
        if (s) observe(o);
        report(o);
    }
    ::close(pipefd[1]);
    Observed o;
    std::size_t got = 0;
    while (got < sizeof o) {
        ssize_t n = ::read(pipefd[0], reinterpret_cast<char*>(&o) + got, sizeof o - got);
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(pipefd[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(got, sizeof o) << "the child died before reporting";
    return o;
}

class Setup : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "setup_rootfs needs root (mount, pivot_root, mknod)";
        if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "no /bin/busybox to build a rootfs from";
        auto h = os::probe_host();
        ASSERT_TRUE(h.has_value()) << h.error().what();
        host_ = std::move(*h);
        mountinfo_before_ = own_mounts();

        bundle_.mkdirs("rootfs/bin");
        std::filesystem::copy_file("/bin/busybox", bundle_ / "rootfs/bin/busybox");
        bundle_.symlink("busybox", "rootfs/bin/sh");
        bundle_.write("rootfs/etc/secret", "topsecret\n");
        bundle_.write("rootfs/etc/secretdir/file", "hidden\n");
        bundle_.mkdirs("rootfs/var/rodir");
        bundle_.mkdirs("rootfs/tmp");
        ::chmod((bundle_ / "rootfs/tmp").c_str(), 01777);
        host_data_.write("hello.txt", "hello");
        host_data_.write("hostname", "box\n");

        spec_.root = spec::Root{"rootfs", true};
        spec_.linux = spec::Linux{};
        options_.bundle_dir = bundle_.path();
        ns_.new_mount = true;
    }

    void TearDown() override {
        if (::geteuid() != 0 || mountinfo_before_.empty()) return;
        std::string after = own_mounts();
        EXPECT_EQ(after, mountinfo_before_) << "a mount leaked into the test's namespace";
        if (after != mountinfo_before_) {
            // Never recurse into something mounted.
            bundle_.keep();
            host_data_.keep();
        }
        EXPECT_FALSE(readonly("/sys")) << "the host's /sys became read-only";
    }

    // The host's mount table minus what other programs on the machine mount meanwhile under
    // /tmp and /run (engines, other tests): only mounts this test could have leaked count.
    std::string own_mounts() const {
        std::istringstream lines(read_text("/proc/self/mountinfo"));
        std::string out, line;
        const std::string ours[] = {bundle_.path(), host_data_.path()};
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string f[5];
            for (auto& x : f) fields >> x;
            const std::string& point = f[4];
            bool foreign = (point.rfind("/tmp/", 0) == 0 || point.rfind("/run/", 0) == 0) &&
                           point.rfind(ours[0], 0) != 0 && point.rfind(ours[1], 0) != 0;
            if (!foreign) out += line + "\n";
        }
        return out;
    }

    void add(std::string dest, std::string type, std::string source, std::vector<std::string> opts) {
        spec::Mount m;
        m.destination = std::move(dest);
        m.type = std::move(type);
        m.source = std::move(source);
        m.options = std::move(opts);
        spec_.mounts.push_back(std::move(m));
    }

    // A runc-like configuration: proc, /dev and friends, sys, cgroups, tmpfs, binds, masks.
    void full_config(bool with_cgroup) {
        add("/proc", "proc", "proc", {});
        add("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
        add("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
        add("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
        add("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
        add("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
        if (with_cgroup) add("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
        add("/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev"});
        add("/data", "bind", host_data_.path(), {"rbind", "ro"});
        add("/rotmp", "tmpfs", "tmpfs", {"ro"});
        add("/etc/hostname", "bind", host_data_ / "hostname", {"bind", "ro"});
        spec_.linux->maskedPaths = {"/etc/secret", "/etc/secretdir", "/nonexistent", "/proc/kcore"};
        spec_.linux->readonlyPaths = {"/var/rodir", "/proc/sys"};
        spec::Device fuse;
        fuse.type = "c";
        fuse.path = "/dev/fuse";
        fuse.major = 10;
        fuse.minor = 229;
        fuse.fileMode = 0600;
        fuse.uid = 1;
        fuse.gid = 2;
        spec::Device fifo;
        fifo.type = "p";
        fifo.path = "/dev/myfifo";
        spec_.linux->devices = {fuse, fifo};
    }

    RootfsPlan make_plan() {
        auto p = plan_rootfs(spec_, options_, ns_, host_);
        EXPECT_TRUE(p.has_value()) << p.error().what();
        return p ? std::move(*p) : RootfsPlan{};
    }

    Observed run(const RootfsPlan& plan, const std::function<void(Observed&)>& observe,
                 ChildOptions opts = {}) {
        return run_in_child(plan, host_.proc.get(), opts, observe);
    }

    static std::string describe(const ChildError& e) {
        return std::string(e.field) + ": " + e.message + ": " + std::strerror(e.err);
    }

    os::HostContext host_;
    std::string mountinfo_before_;
    TempDir bundle_;
    TempDir host_data_;
    spec::Spec spec_;
    RootfsOptions options_;
    NamespaceSummary ns_;
};

void observe_cgroups(Observed& o, const RootfsPlan& plan);

void observe_full(Observed& o, const RootfsPlan& plan, const std::string& host_dir) {
    if (::getcwd(o.cwd, sizeof o.cwd) == nullptr) o.cwd[0] = '?';
    o.root_readonly = readonly("/");
    o.root_create_errno = create_errno("/newfile");
    o.tmp_create_errno = create_errno("/tmp/newfile");
    o.tmp_fs = fs_type("/tmp");
    struct stat st;
    if (::stat("/tmp", &st) == 0) o.tmp_mode = st.st_mode & 07777;
    o.proc_fs = fs_type("/proc");
    o.devpts_fs = fs_type("/dev/pts");
    o.shm_fs = fs_type("/dev/shm");
    o.mqueue_fs = fs_type("/dev/mqueue");
    o.sys_fs = fs_type("/sys");
    o.sys_readonly = readonly("/sys");
    if (::stat("/dev/null", &st) == 0) {
        o.devnull_mode = st.st_mode;
        o.devnull_rdev = st.st_rdev;
        o.devnull_uid = st.st_uid;
    }
    if (::lstat("/dev/fuse", &st) == 0) {
        o.fuse_mode = st.st_mode;
        o.fuse_rdev = st.st_rdev;
        o.fuse_uid = st.st_uid;
        o.fuse_gid = st.st_gid;
    }
    o.fifo_is_fifo = ::lstat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode);
    read_link("/dev/fd", o.fd_link, sizeof o.fd_link);
    read_link("/dev/ptmx", o.ptmx_link, sizeof o.ptmx_link);

    int fd = ::open("/data/hello.txt", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = ::read(fd, o.data, sizeof o.data - 1);
        o.data[n > 0 ? n : 0] = '\0';
        ::close(fd);
    }
    o.data_readonly = readonly("/data");
    o.data_write_errno = create_errno("/data/new");
    if (::stat("/etc/hostname", &st) == 0) o.hostname_size = st.st_size;
    o.hostname_readonly = readonly("/etc/hostname");

    fd = ::open("/etc/secret", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[32];
        o.masked_file_read = ::read(fd, buf, sizeof buf);
        ::close(fd);
    }
    if (::stat("/etc/secret", &st) == 0) o.masked_file_rdev = st.st_rdev;
    o.masked_dir_entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/etc/secretdir")) ++o.masked_dir_entries;
    o.masked_dir_readonly = readonly("/etc/secretdir");
    o.rodir_create_errno = create_errno("/var/rodir/new");
    o.proc_sys_readonly = readonly("/proc/sys");
    o.rotmp_readonly = readonly("/rotmp");
    o.dev_writable = !readonly("/dev");
    o.host_dir_errno = ::access(host_dir.c_str(), F_OK) == 0 ? 0 : errno;

    observe_cgroups(o, plan);

    o.exec_status = run_shell(
        "test -c /dev/null && test ! -s /etc/secret && test -z \"$(busybox ls /etc/secretdir)\" && "
        "echo ok > /tmp/probe && test \"$(busybox cat /tmp/probe)\" = ok && "
        "test \"$(busybox cat /data/hello.txt)\" = hello && ! busybox touch /newfile 2>/dev/null");
}

void expect_full(const Observed& o, const RootfsPlan& plan, bool user_namespace) {
    EXPECT_STREQ(o.cwd, "/");
    EXPECT_TRUE(o.root_readonly);
    EXPECT_EQ(o.root_create_errno, EROFS);
    EXPECT_EQ(o.tmp_create_errno, 0);
    EXPECT_EQ(o.tmp_fs, TMPFS_MAGIC);
    EXPECT_EQ(o.tmp_mode, 01777u) << "the tmpfs keeps the mode of the directory it covers";
    EXPECT_EQ(o.proc_fs, PROC_SUPER_MAGIC);
    EXPECT_EQ(o.devpts_fs, DEVPTS_SUPER_MAGIC);
    EXPECT_EQ(o.shm_fs, TMPFS_MAGIC);
    EXPECT_EQ(o.mqueue_fs, kMqueueMagic);
    EXPECT_EQ(o.sys_fs, SYSFS_MAGIC);
    EXPECT_TRUE(o.sys_readonly);
    EXPECT_TRUE(S_ISCHR(o.devnull_mode));
    EXPECT_EQ(o.devnull_rdev, makedev(1, 3));
    EXPECT_TRUE(o.fifo_is_fifo);
    if (!user_namespace) {
        EXPECT_EQ(o.devnull_mode & 07777, 0666u);
        EXPECT_EQ(o.fuse_mode, static_cast<unsigned>(S_IFCHR | 0600));
        EXPECT_EQ(o.fuse_rdev, makedev(10, 229));
        EXPECT_EQ(o.fuse_uid, 1u);
        EXPECT_EQ(o.fuse_gid, 2u);
    }
    EXPECT_STREQ(o.fd_link, "/proc/self/fd");
    EXPECT_STREQ(o.ptmx_link, "pts/ptmx");
    EXPECT_STREQ(o.data, "hello");
    EXPECT_TRUE(o.data_readonly);
    EXPECT_EQ(o.data_write_errno, EROFS);
    EXPECT_EQ(o.hostname_size, 4);
    EXPECT_TRUE(o.hostname_readonly);
    EXPECT_EQ(o.masked_file_read, 0) << "a masked file reads empty";
    EXPECT_EQ(o.masked_file_rdev, makedev(1, 3));
    EXPECT_EQ(o.masked_dir_entries, 0);
    EXPECT_TRUE(o.masked_dir_readonly);
    EXPECT_EQ(o.rodir_create_errno, EROFS);
    EXPECT_TRUE(o.proc_sys_readonly);
    EXPECT_TRUE(o.rotmp_readonly);
    EXPECT_TRUE(o.dev_writable);
    EXPECT_EQ(o.host_dir_errno, ENOENT) << "the host's tree is out of reach";
    if (!plan.cgroups.hierarchies.empty()) {
        EXPECT_EQ(o.cgroup_root_fs, TMPFS_MAGIC);
        EXPECT_TRUE(o.cgroup_root_readonly);
        EXPECT_EQ(o.cgroup_hierarchies_ok, static_cast<int>(plan.cgroups.hierarchies.size()));
    }
    EXPECT_EQ(o.exec_status, 0) << "a shell in the container";
}

class FullSetup : public Setup, public ::testing::WithParamInterface<bool> {};

TEST_P(FullSetup, BuildsTheContainerRoot) {
    bool legacy = GetParam();
    full_config(true);
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    plan.legacy_mount_api = legacy;
    std::string host_dir = host_data_.path();
    Observed o = run(plan, [&](Observed& ob) { observe_full(ob, plan, host_dir); });
    ASSERT_EQ(o.step_errno, 0) << std::strerror(o.step_errno);
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    expect_full(o, plan, false);
    EXPECT_EQ(o.fds_after, o.fds_before) << "setup_rootfs leaks no fd";
    // The host's files are untouched by masks and binds.
    EXPECT_EQ(read_text(bundle_ / "rootfs/etc/secret"), "topsecret\n");
}

INSTANTIATE_TEST_SUITE_P(MountApi, FullSetup, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "LegacyMount" : "FdMountApi"; });

TEST_F(Setup, InAUserNamespace) {
    full_config(true);
    ns_.new_user = true;
    ns_.new_pid = true;
    ns_.new_ipc = true;
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(plan.mounts[5].sysfs_bind_host);
    for (const auto& d : plan.devices) EXPECT_EQ(d.bind, !S_ISFIFO(d.mode)) << d.path;
    std::string host_dir = host_data_.path();
    Observed o = run(
        plan, [&](Observed& ob) { observe_full(ob, plan, host_dir); }, ChildOptions{true});
    if (o.step_errno == EPERM || o.step_errno == EINVAL)
        GTEST_SKIP() << "user namespaces unavailable: " << std::strerror(o.step_errno);
    ASSERT_EQ(o.step_errno, 0) << std::strerror(o.step_errno);
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    expect_full(o, plan, true);
    EXPECT_EQ(o.fds_after, o.fds_before) << "setup_rootfs leaks no fd";
}

TEST_F(Setup, DestinationEscapingThroughASymlinkIsRejected) {
    bundle_.mkdirs("rootfs/mnt");
    // From <tmp>/<dir>/rootfs/mnt this climbs to the host's /etc.
    bundle_.symlink("../../../../etc", "rootfs/mnt/evil");
    add("/proc", "proc", "proc", {});
    add("/dev", "tmpfs", "tmpfs", {"mode=755"});
    add("/tmp", "tmpfs", "tmpfs", {});
    add("/mnt/evil", "tmpfs", "tmpfs", {});
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    Observed o = run(plan, [](Observed&) {});
    ASSERT_EQ(o.step_errno, 0);
    ASSERT_TRUE(o.error.failed());
    EXPECT_STREQ(o.error.field, "mounts[3].destination");
    EXPECT_STREQ(o.error.message, "resolves outside the rootfs through a symlink");
    EXPECT_EQ(o.error.err, EXDEV);
}

TEST_F(Setup, MaskedPathEscapingIsRejectedWithItsField) {
    bundle_.symlink("../../../../../../etc/passwd", "rootfs/etc/evil");
    add("/proc", "proc", "proc", {});
    spec_.linux->maskedPaths = {"/nonexistent", "/etc/evil"};
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    Observed o = run(plan, [](Observed&) {});
    ASSERT_TRUE(o.error.failed());
    EXPECT_STREQ(o.error.field, "linux.maskedPaths[1]");
    EXPECT_EQ(o.error.err, EXDEV);
}

TEST_F(Setup, DevicePathEscapingIsRejectedWithItsField) {
    // No /dev mount: the device goes into the rootfs's own /dev, which is a symlink out of it.
    bundle_.symlink("../../../..", "rootfs/dev");
    spec::Device fifo;
    fifo.type = "p";
    fifo.path = "/dev/fifo";
    spec_.linux->devices = {fifo};
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    Observed o = run(plan, [](Observed&) {});
    ASSERT_TRUE(o.error.failed());
    EXPECT_STREQ(o.error.field, "linux.devices[0].path");
    EXPECT_EQ(o.error.err, EXDEV);
    EXPECT_NE(::access("/fifo", F_OK), 0);
}

TEST_F(Setup, NoPivotMovesTheRootAndHidesHostProc) {
    options_.no_pivot = true;
    add("/proc", "proc", "proc", {});
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    Observed o = run(plan, [](Observed& ob) {
        if (::getcwd(ob.cwd, sizeof ob.cwd) == nullptr) ob.cwd[0] = '?';
        ob.proc_fs = fs_type("/proc");
        ob.exec_status = run_shell("test -x /bin/busybox && test ! -e /usr");
    });
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    EXPECT_STREQ(o.cwd, "/");
    EXPECT_EQ(o.proc_fs, PROC_SUPER_MAGIC);
    EXPECT_EQ(o.exec_status, 0);
}

TEST_F(Setup, SharedRootPropagationStaysInsideTheContainer) {
    spec_.linux->rootfsPropagation = "rshared";
    add("/proc", "proc", "proc", {});
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    Observed o = run(plan, [](Observed& ob) {
        // Optional fields of the "/" line of our mountinfo: "shared:N" expected.
        std::istringstream lines(read_text("/proc/self/mountinfo"));
        std::string line;
        while (std::getline(lines, line)) {
            std::istringstream f(line);
            std::string id, parent, devno, root, point, opts, tag;
            f >> id >> parent >> devno >> root >> point >> opts >> tag;
            if (point == "/") copy_cstr(ob.root_propagation, sizeof ob.root_propagation, tag.c_str());
        }
    });
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    EXPECT_TRUE(std::string(o.root_propagation).starts_with("shared:")) << o.root_propagation;
}

// Counts the hierarchies below /sys/fs/cgroup that have the right type, honour "ro" and show
// this process in their cgroup.procs (its own cgroup, or the namespace root that is the same).
void observe_cgroups(Observed& o, const RootfsPlan& plan) {
    o.cgroup_root_fs = fs_type("/sys/fs/cgroup");
    o.cgroup_root_readonly = readonly("/sys/fs/cgroup");
    std::string me = std::to_string(::getpid());
    for (const auto& h : plan.cgroups.hierarchies) {
        std::string dir = "/sys/fs/cgroup/" + h.name;
        long want = h.v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
        std::string procs = read_text(dir + "/cgroup.procs");
        bool ours = ("\n" + procs).find("\n" + me + "\n") != std::string::npos;
        if (fs_type(dir.c_str()) == want && readonly(dir.c_str()) && ours) ++o.cgroup_hierarchies_ok;
    }
}

TEST_F(Setup, CgroupNamespaceGetsFreshHierarchies) {
    add("/proc", "proc", "proc", {});
    add("/sys", "sysfs", "sysfs", {"ro"});
    add("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "ro"});
    ns_.new_cgroup = true;
    auto p = plan_rootfs(spec_, options_, ns_, host_);
    if (!p && p.error().err == ENOENT) GTEST_SKIP() << p.error().what();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    RootfsPlan plan = std::move(*p);
    Observed o = run(plan, [&](Observed& ob) { observe_cgroups(ob, plan); }, ChildOptions{false, true});
    ASSERT_EQ(o.step_errno, 0) << std::strerror(o.step_errno);
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    EXPECT_EQ(o.cgroup_root_fs, plan.cgroups.v2_only ? CGROUP2_SUPER_MAGIC : TMPFS_MAGIC);
    EXPECT_TRUE(o.cgroup_root_readonly);
    if (!plan.cgroups.v2_only) {
        EXPECT_EQ(o.cgroup_hierarchies_ok, static_cast<int>(plan.cgroups.hierarchies.size()));
    }
}

TEST_F(Setup, ExplicitCgroup2Mount) {
    add("/proc", "proc", "proc", {});
    add("/sys/fs/cgroup", "cgroup2", "cgroup2", {"nosuid", "noexec", "nodev"});
    auto p = plan_rootfs(spec_, options_, ns_, host_);
    if (!p && p.error().err == ENOENT) GTEST_SKIP() << p.error().what();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->mounts[1].cgroup_v1_tree);
    Observed o = run(*p, [](Observed& ob) {
        ob.cgroup_root_fs = fs_type("/sys/fs/cgroup");
        ob.cgroup_root_readonly = readonly("/sys/fs/cgroup");
    });
    ASSERT_FALSE(o.error.failed()) << describe(o.error);
    EXPECT_EQ(o.cgroup_root_fs, CGROUP2_SUPER_MAGIC);
    EXPECT_FALSE(o.cgroup_root_readonly);
}

TEST_F(Setup, ConfigDevicesInTheRootfsOwnDev) {
    // No /dev mount: nodes go to the rootfs's /dev on disk. A stale regular file is replaced, and
    // a second run finds its own nodes and keeps them.
    bundle_.write("rootfs/dev/fuse", "not a device");
    spec::Device fuse;
    fuse.type = "c";
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    fuse.fileMode = 0640;
    fuse.gid = 5;
    spec::Device disk;
    disk.type = "b";
    disk.path = "/dev/sub/disk";
    disk.major = 7;
    disk.minor = 0;
    spec_.linux->devices = {fuse, disk};
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    for (int round = 0; round < 2; ++round) {
        Observed o = run(plan, [](Observed&) {});
        ASSERT_FALSE(o.error.failed()) << "round " << round << ": " << describe(o.error);
        struct stat st;
        ASSERT_EQ(::lstat((bundle_ / "rootfs/dev/fuse").c_str(), &st), 0);
        EXPECT_TRUE(S_ISCHR(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0640u);
        EXPECT_EQ(st.st_rdev, makedev(10, 229));
        EXPECT_EQ(st.st_gid, 5u);
        ASSERT_EQ(::lstat((bundle_ / "rootfs/dev/sub/disk").c_str(), &st), 0);
        EXPECT_TRUE(S_ISBLK(st.st_mode));
        EXPECT_EQ(st.st_mode & 07777, 0666u);
        EXPECT_EQ(st.st_rdev, makedev(7, 0));
    }
    // No default nodes or links without a /dev mount.
    EXPECT_NE(::access((bundle_ / "rootfs/dev/null").c_str(), F_OK), 0);
    EXPECT_NE(::access((bundle_ / "rootfs/dev/fd").c_str(), F_OK), 0);
}

TEST_F(Setup, MissingBindSourceAtSetupTime) {
    host_data_.mkdirs("vanishing");
    add("/v", "bind", host_data_ / "vanishing", {"bind"});
    RootfsPlan plan = make_plan();
    ASSERT_FALSE(HasFailure());
    std::filesystem::remove(host_data_ / "vanishing");
    Observed o = run(plan, [](Observed&) {});
    ASSERT_TRUE(o.error.failed());
    EXPECT_STREQ(o.error.field, "mounts[0].source");
    EXPECT_EQ(o.error.err, ENOENT);
}

}  // namespace
}  // namespace hrun::rootfs
