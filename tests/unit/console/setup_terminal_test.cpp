// setup_terminal in a forked child that plays the container: a private mount namespace, a
// tmpfs /dev with a fresh devpts instance on dev/pts, chroot into it. The namespace dies with
// the child, and every mount with it.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "console/console.hpp"
#include "linux/procfs.hpp"
#include "test_util.hpp"

namespace hrun::console {
namespace {

using test::read_some;
using test::TempDir;

enum class Scenario {
    Good,               // devpts on /dev/pts, /dev/ptmx -> pts/ptmx, an empty /dev/console
    NoConsoleFile,      // as Good, /dev/console missing: created
    LegacyMount,        // as Good, bound with mount(2) on the procfs fd links
    SessionLeader,      // as Good, the process already leads its own session
    NoDevpts,           // /dev/pts is an empty directory
    PtmxRegularFile,    // /dev/pts/ptmx is a regular file
    PtmxSymlink,        // /dev/pts/ptmx is a symlink to /dev/null
    PtmxFakeNode,       // /dev/pts/ptmx is a 5:2 device node on tmpfs, not devpts
    PtmxIsAPtySlave,    // devpts, but a pty slave is bind-mounted over its ptmx
    ConsoleSymlink,     // /dev/console is a symlink
};

// First message from the child: how setup_terminal went.
struct SetupReport {
    char broken[128] = {};  // the test's own preparation failed (not the code under test)
    int broken_errno = 0;
    bool ok = false;
    ChildError error;
    int master_fd = -2;
    int fds_before = 0;
    int fds_after = 0;
};

// Second message, after the master was sent: what the process looks like.
struct Checks {
    bool tty[3] = {};
    bool stdio_cloexec = true;
    bool master_cloexec = false;
    bool session_leader = false;
    bool ctty = false;            // TIOCGSID on stdin names our session
    bool foreground = false;      // our process group is the terminal's foreground group
    bool dev_tty_opens = false;   // /dev/tty (the controlling terminal) opens
    unsigned short rows = 0, cols = 0;
    bool console_is_device = false;
    bool console_is_our_pty = false;
    int slave_copies = 0;         // descriptors >= 3 still open on the slave
};

int count_fds() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd)
        if (::fcntl(fd, F_GETFD) >= 0) ++n;
    return n;
}

[[noreturn]] void child_broken(int sock, const char* what) {
    SetupReport r;
    r.broken_errno = errno;
    copy_cstr(r.broken, sizeof r.broken, what);
    (void)::send(sock, &r, sizeof r, MSG_NOSIGNAL);
    ::_exit(3);
}

void make_devpts(int sock, const std::string& root) {
    std::string pts = root + "/dev/pts";
    if (::mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
        child_broken(sock, "mount devpts");
    if (::symlink("pts/ptmx", (root + "/dev/ptmx").c_str()) != 0) child_broken(sock, "symlink ptmx");
}

// Builds the container's /dev for the scenario and chroots into root.
void prepare_root(int sock, const std::string& root, Scenario s) {
    if (::unshare(CLONE_NEWNS) != 0) child_broken(sock, "unshare(CLONE_NEWNS)");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_broken(sock, "make / private");
    std::string dev = root + "/dev";
    if (::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID, "mode=0755") != 0) child_broken(sock, "mount tmpfs on dev");
    if (::mkdir((dev + "/pts").c_str(), 0755) != 0) child_broken(sock, "mkdir dev/pts");
    if (::mknod((dev + "/tty").c_str(), S_IFCHR | 0666, makedev(5, 0)) != 0) child_broken(sock, "mknod dev/tty");
    if (::mknod((dev + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) child_broken(sock, "mknod dev/null");

    switch (s) {
    case Scenario::Good:
    case Scenario::LegacyMount:
    case Scenario::SessionLeader: {
        make_devpts(sock, root);
        int fd = ::open((dev + "/console").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) child_broken(sock, "create dev/console");
        ::close(fd);
        break;
    }
    case Scenario::NoConsoleFile: make_devpts(sock, root); break;
    case Scenario::NoDevpts: break;
    case Scenario::PtmxRegularFile: {
        int fd = ::open((dev + "/pts/ptmx").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0) child_broken(sock, "create dev/pts/ptmx");
        ::close(fd);
        break;
    }
    case Scenario::PtmxSymlink:
        if (::symlink("/dev/null", (dev + "/pts/ptmx").c_str()) != 0) child_broken(sock, "symlink dev/pts/ptmx");
        break;
    case Scenario::PtmxFakeNode:
        if (::mknod((dev + "/pts/ptmx").c_str(), S_IFCHR | 0666, makedev(5, 2)) != 0)
            child_broken(sock, "mknod dev/pts/ptmx");
        break;
    case Scenario::PtmxIsAPtySlave: {
        make_devpts(sock, root);
        int m = ::open((dev + "/pts/ptmx").c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);  // stays open
        unsigned n = 0;
        int unlock = 0;
        if (m < 0 || ::ioctl(m, TIOCSPTLCK, &unlock) != 0 || ::ioctl(m, TIOCGPTN, &n) != 0)
            child_broken(sock, "allocate a pty");
        std::string slave = dev + "/pts/" + std::to_string(n);
        if (::mount(slave.c_str(), (dev + "/pts/ptmx").c_str(), nullptr, MS_BIND, nullptr) != 0)
            child_broken(sock, "bind a slave over ptmx");
        break;
    }
    case Scenario::ConsoleSymlink:
        make_devpts(sock, root);
        if (::symlink("/dev/null", (dev + "/console").c_str()) != 0) child_broken(sock, "symlink dev/console");
        break;
    }
    if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) child_broken(sock, "chroot");
}

Checks inspect(int master) {
    Checks c;
    for (int fd = 0; fd < 3; ++fd) {
        c.tty[fd] = ::isatty(fd) == 1;
        if ((::fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0) c.stdio_cloexec = false;
    }
    c.master_cloexec = (::fcntl(master, F_GETFD) & FD_CLOEXEC) != 0;
    c.session_leader = ::getsid(0) == ::getpid();
    pid_t sid = -1;
    c.ctty = ::ioctl(0, TIOCGSID, &sid) == 0 && sid == ::getsid(0);
    c.foreground = ::tcgetpgrp(0) == ::getpgrp();
    int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    c.dev_tty_opens = tty >= 0;
    if (tty >= 0) ::close(tty);
    struct winsize ws {};
    if (::ioctl(0, TIOCGWINSZ, &ws) == 0) {
        c.rows = ws.ws_row;
        c.cols = ws.ws_col;
    }
    struct stat console, in;
    if (::stat("/dev/console", &console) == 0 && ::fstat(0, &in) == 0) {
        c.console_is_device = S_ISCHR(console.st_mode);
        c.console_is_our_pty = console.st_rdev == in.st_rdev;
        for (int fd = 3; fd < 1024; ++fd) {
            struct stat st;
            if (::fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == in.st_rdev) ++c.slave_copies;
        }
    }
    return c;
}

[[noreturn]] void run_child(int sock, const std::string& root, Scenario s, const TerminalPlan& plan) {
    auto proc = os::open_verified_procfs();
    if (!proc) child_broken(sock, "open /proc");
    int procfd = proc->release();
    prepare_root(sock, root, s);
    if (s == Scenario::SessionLeader && ::setsid() < 0) child_broken(sock, "setsid");

    SetupReport r;
    r.fds_before = count_fds();
    int master = -2;
    ChildStatus st = setup_terminal(plan, procfd, &master);
    r.fds_after = count_fds();
    r.ok = static_cast<bool>(st);
    r.error = st.error;
    r.master_fd = master;
    if (::send(sock, &r, sizeof r, MSG_NOSIGNAL) != sizeof r) ::_exit(4);
    if (!st) ::_exit(0);

    if (send_fd(sock, master, kMasterName) != 0) ::_exit(5);
    Checks c = inspect(master);
    if (::write(1, "hello", 5) != 5) ::_exit(6);
    if (::send(sock, &c, sizeof c, MSG_NOSIGNAL) != sizeof c) ::_exit(7);
    char done;
    (void)::recv(sock, &done, 1, 0);  // the parent has read the output
    ::_exit(0);
}

struct Outcome {
    std::string skip;
    SetupReport report;
    std::string master_name;
    UniqueFd master;
    Checks checks;
    std::string output;
    int exit_status = -1;
};

const char* scenario_name(Scenario s) {
    switch (s) {
    case Scenario::Good: return "Good";
    case Scenario::NoConsoleFile: return "NoConsoleFile";
    case Scenario::LegacyMount: return "LegacyMount";
    case Scenario::SessionLeader: return "SessionLeader";
    case Scenario::NoDevpts: return "NoDevpts";
    case Scenario::PtmxRegularFile: return "PtmxRegularFile";
    case Scenario::PtmxSymlink: return "PtmxSymlink";
    case Scenario::PtmxFakeNode: return "PtmxFakeNode";
    case Scenario::PtmxIsAPtySlave: return "PtmxIsAPtySlave";
    case Scenario::ConsoleSymlink: return "ConsoleSymlink";
    }
    return "Unknown";
}

bool recv_timed(int sock, void* buf, std::size_t len) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    return ::recv(sock, buf, len, 0) == static_cast<ssize_t>(len);
}

Outcome run(Scenario s, TerminalPlan plan) {
    Outcome out;
    if (::geteuid() != 0) {
        out.skip = "needs root to mount devpts and tmpfs in a private mount namespace";
        return out;
    }
    TempDir root;
    if (::mkdir((root / "dev").c_str(), 0755) != 0) {
        out.skip = "cannot create the test root";
        return out;
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        out.skip = "no socketpair";
        return out;
    }
    UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
    pid_t pid = ::fork();
    if (pid == 0) {
        parent_sock.reset();
        run_child(child_sock.get(), root.path(), s, plan);
    }
    child_sock.reset();

    bool got = recv_timed(parent_sock.get(), &out.report, sizeof out.report);
    if (got && out.report.broken[0] != '\0') {
        out.skip = std::string("cannot build the container root: ") + out.report.broken + ": " +
                   std::strerror(out.report.broken_errno);
    } else if (got && out.report.ok) {
        char name[kMaxNameLen] = {};
        int fd = recv_fd(parent_sock.get(), name, sizeof name);
        if (fd >= 0) {
            out.master.reset(fd);
            out.master_name = name;
            if (recv_timed(parent_sock.get(), &out.checks, sizeof out.checks))
                out.output = read_some(out.master.get(), 5);
        }
    }
    (void)::send(parent_sock.get(), "x", 1, MSG_NOSIGNAL);
    if (!got) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    out.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return out;
}

TerminalPlan sized_plan(unsigned short rows, unsigned short cols) {
    TerminalPlan plan;
    plan.enabled = true;
    plan.rows = rows;
    plan.cols = cols;
    return plan;
}


class SetupTerminalWorks : public ::testing::TestWithParam<Scenario> {};

TEST_P(SetupTerminalWorks, GivesTheProcessAPtyOfItsOwn) {
    TerminalPlan plan = sized_plan(37, 123);
    plan.legacy_mount = GetParam() == Scenario::LegacyMount;
    Outcome o = run(GetParam(), plan);
    if (!o.skip.empty()) GTEST_SKIP() << o.skip;

    ASSERT_TRUE(o.report.ok) << o.report.error.field << ": " << o.report.error.message << ": "
                             << std::strerror(o.report.error.err);
    ASSERT_TRUE(o.master) << "no master received";
    EXPECT_GE(o.report.master_fd, 3);
    EXPECT_EQ(o.master_name, "/dev/pts/ptmx");
    unsigned n = 0;
    EXPECT_EQ(::ioctl(o.master.get(), TIOCGPTN, &n), 0) << "not a pty master";

    const Checks& c = o.checks;
    EXPECT_TRUE(c.tty[0] && c.tty[1] && c.tty[2]);
    EXPECT_FALSE(c.stdio_cloexec) << "stdio must survive exec";
    EXPECT_TRUE(c.master_cloexec);
    EXPECT_TRUE(c.session_leader);
    EXPECT_TRUE(c.ctty);
    EXPECT_TRUE(c.foreground);
    EXPECT_TRUE(c.dev_tty_opens);
    EXPECT_EQ(c.rows, 37);
    EXPECT_EQ(c.cols, 123);
    EXPECT_TRUE(c.console_is_device);
    EXPECT_TRUE(c.console_is_our_pty);
    EXPECT_EQ(c.slave_copies, 0) << "the original slave descriptor was left open";
    // One descriptor more (the master), the slave's own closed.
    EXPECT_EQ(o.report.fds_after, o.report.fds_before + 1);

    // What the process writes on its stdout comes out of the master we received.
    EXPECT_EQ(o.output, "hello");
    EXPECT_EQ(o.exit_status, 0);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, SetupTerminalWorks,
                         ::testing::Values(Scenario::Good, Scenario::NoConsoleFile, Scenario::LegacyMount,
                                           Scenario::SessionLeader),
                         [](const ::testing::TestParamInfo<Scenario>& info) { return scenario_name(info.param); });

struct Refusal {
    Scenario scenario;
    const char* message_part;
};

class SetupTerminalRefuses : public ::testing::TestWithParam<Refusal> {};

TEST_P(SetupTerminalRefuses, WithAClearErrorAndNothingLeftOpen) {
    Outcome o = run(GetParam().scenario, sized_plan(0, 0));
    if (!o.skip.empty()) GTEST_SKIP() << o.skip;
    ASSERT_FALSE(o.report.ok) << "setup_terminal accepted a bad /dev";
    EXPECT_STREQ(o.report.error.field, "process.terminal");
    EXPECT_NE(std::strstr(o.report.error.message, GetParam().message_part), nullptr)
        << "message: " << o.report.error.message;
    EXPECT_NE(o.report.error.err, 0);
    EXPECT_EQ(o.report.master_fd, -1);
    EXPECT_EQ(o.report.fds_after, o.report.fds_before);
    EXPECT_EQ(o.exit_status, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Scenarios, SetupTerminalRefuses,
    ::testing::Values(Refusal{Scenario::NoDevpts, "cannot find /dev/pts/ptmx"},
                      Refusal{Scenario::PtmxRegularFile, "not on a devpts filesystem"},
                      Refusal{Scenario::PtmxSymlink, "not on a devpts filesystem"},
                      Refusal{Scenario::PtmxFakeNode, "not on a devpts filesystem"},
                      Refusal{Scenario::PtmxIsAPtySlave, "not the ptmx device"},
                      Refusal{Scenario::ConsoleSymlink, "/dev/console is neither"}),
    [](const ::testing::TestParamInfo<Refusal>& info) { return scenario_name(info.param.scenario); });

TEST(SetupTerminalPlan, DisabledDoesNothing) {
    TerminalPlan plan;  // enabled = false
    int master = 42;
    int before = test::count_open_fds();
    EXPECT_TRUE(setup_terminal(plan, -1, &master));
    EXPECT_EQ(master, -1);
    EXPECT_EQ(test::count_open_fds(), before);
}

TEST(SetupTerminalPlan, FromTheSpec) {
    spec::Process p;
    EXPECT_FALSE(plan_terminal(p).enabled);
    p.terminal = true;
    p.consoleSize = spec::ConsoleSize{24, 80};
    TerminalPlan plan = plan_terminal(p);
    EXPECT_TRUE(plan.enabled);
    EXPECT_EQ(plan.rows, 24);
    EXPECT_EQ(plan.cols, 80);
    EXPECT_TRUE(plan.mount_console);
    EXPECT_FALSE(plan.legacy_mount);
    // Half a size is no size (runc resizes only when both are set).
    p.consoleSize = spec::ConsoleSize{24, 0};
    plan = plan_terminal(p);
    EXPECT_EQ(plan.rows, 0);
    EXPECT_EQ(plan.cols, 0);
}

}  // namespace
}  // namespace hrun::console
