// prepare_process + exec_process for real, in a forked child (needs root).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "linux/procfs.hpp"
#include "process/process.hpp"
#include "process_test_util.hpp"
#include "security/seccomp.hpp"

namespace hrun::process {
namespace {

using test::ChildRun;
using test::fake_host;
using test::minimal_spec;
using test::run_child;

// The value of a "Name:\tvalue" line of /proc/<pid>/status, trailing blanks removed.
std::string status_field(const std::string& status, const std::string& name) {
    std::istringstream in(status);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name + ":", 0) != 0) continue;
        std::string value = line.substr(name.size() + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        value.erase(value.find_last_not_of(" \t") + 1);
        return value;
    }
    return "<missing " + name + ">";
}

// The rest of the first line that starts with `prefix` ("ulimit=").
std::string line_after(const std::string& output, const std::string& prefix) {
    std::istringstream in(output);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
    return "<missing " + prefix + ">";
}

// "uid=1000(app) gid=1000(app)" -> "uid=1000 gid=1000".
std::string without_names(const std::string& id) {
    std::string out;
    int depth = 0;
    for (char c : id) {
        if (c == '(') ++depth;
        if (depth == 0) out += c;
        if (c == ')' && depth > 0) --depth;
    }
    return out;
}

// Drops CAP_SYS_RESOURCE from the effective set (runs in the forked test child): the checks
// that depend on lacking it must not depend on the machine running the tests.
void drop_sys_resource() noexcept {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) ::_exit(90);
    data[CAP_SYS_RESOURCE / 32].effective &= ~(1u << (CAP_SYS_RESOURCE % 32));
    if (::syscall(SYS_capset, &header, data) != 0) ::_exit(91);
}

class ProcessChild : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: the child switches uid and capabilities";
        auto proc = os::open_verified_procfs();
        ASSERT_TRUE(proc.has_value()) << proc.error().what();
        procfd_ = test::high_fd(proc->release());
        ASSERT_TRUE(procfd_);
    }

    ProcessPlan plan(const spec::Spec& s, ProcessOptions options = {}) {
        auto host = fake_host(last_cap());
        auto p = plan_process(s, options, host);
        EXPECT_TRUE(p.has_value()) << p.error().what();
        return p ? std::move(*p) : ProcessPlan{};
    }

    int last_cap() {
        int fd = os::procfs_open(procfd_.get(), "sys/kernel/cap_last_cap", O_RDONLY);
        char buf[16] = {};
        if (fd >= 0) {
            (void)!::read(fd, buf, sizeof buf - 1);
            ::close(fd);
        }
        return fd >= 0 ? std::atoi(buf) : 40;
    }

    void expect_failure(const ChildRun& run, const std::string& field, const std::string& message,
                        int err) {
        ASSERT_TRUE(run.reported) << "the process ran; output:\n" << run.output;
        EXPECT_EQ(std::string(run.status.error.field), field);
        EXPECT_EQ(std::string(run.status.error.message), message);
        EXPECT_EQ(run.status.error.err, err) << std::strerror(run.status.error.err);
    }

    UniqueFd procfd_;
};

TEST_F(ProcessChild, RunsWithThePlannedIdentityPrivilegesAndLimits) {
    auto s = minimal_spec({"/bin/busybox", "sh", "-c",
                           "cat /proc/self/status; echo ulimit=$(ulimit -n); "
                           "echo umask=$(umask); echo pwd=$(pwd); echo id=$(id)"});
    s.process->cwd = "/tmp";
    s.process->user.uid = 1000;
    s.process->user.gid = 1000;
    s.process->user.additionalGids = {10, 20};
    s.process->user.umask = 027;
    const std::vector<std::string> bind = {"CAP_NET_BIND_SERVICE"};
    s.process->capabilities = spec::Capabilities{bind, bind, bind, bind, bind};
    s.process->noNewPrivileges = true;
    s.process->rlimits = {{"RLIMIT_NOFILE", 200, 100}};

    ChildRun run = run_child(plan(s), procfd_.get());
    ASSERT_FALSE(run.reported) << run.status.error.field << ": " << run.status.error.message
                               << ": " << std::strerror(run.status.error.err);
    ASSERT_TRUE(WIFEXITED(run.wait_status) && WEXITSTATUS(run.wait_status) == 0)
        << "wait status " << run.wait_status << "; output:\n" << run.output;

    const std::string& out = run.output;
    const std::string net_bind = "0000000000000400";  // bit 10
    EXPECT_EQ(status_field(out, "CapEff"), net_bind);
    EXPECT_EQ(status_field(out, "CapPrm"), net_bind);
    EXPECT_EQ(status_field(out, "CapInh"), net_bind);
    EXPECT_EQ(status_field(out, "CapBnd"), net_bind);
    EXPECT_EQ(status_field(out, "CapAmb"), net_bind);
    EXPECT_EQ(status_field(out, "NoNewPrivs"), "1");
    EXPECT_EQ(status_field(out, "Uid"), "1000\t1000\t1000\t1000");
    EXPECT_EQ(status_field(out, "Gid"), "1000\t1000\t1000\t1000");
    EXPECT_EQ(status_field(out, "Groups"), "10 20");
    EXPECT_EQ(line_after(out, "ulimit="), "100");
    EXPECT_EQ(line_after(out, "umask="), "0027");
    EXPECT_EQ(line_after(out, "pwd="), "/tmp");
    // busybox id adds names from the host's /etc/passwd and /etc/group when it finds them.
    EXPECT_EQ(without_names(line_after(out, "id=")), "uid=1000 gid=1000 groups=10,20")
        << line_after(out, "id=");
}

TEST_F(ProcessChild, EnvironmentAndSignalMaskReachTheProcess) {
    auto s = minimal_spec({"/bin/busybox", "sh", "-c",
                           "grep SigBlk /proc/self/status; echo home=$HOME; echo path=$PATH; "
                           "echo x=$X"});
    s.process->env = {"X=42"};
    // The lead blocks every signal around clone: the process must start with none blocked.
    ChildRun run = run_child(plan(s), procfd_.get(), [] {
        sigset_t all;
        ::sigfillset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
    });
    ASSERT_FALSE(run.reported) << run.status.error.message;
    EXPECT_EQ(status_field(run.output, "SigBlk"), "0000000000000000");
    EXPECT_EQ(line_after(run.output, "home="), "/");
    EXPECT_EQ(line_after(run.output, "path="),
              "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    EXPECT_EQ(line_after(run.output, "x="), "42");
}

TEST_F(ProcessChild, ProgramIsFoundInTheContainersPath) {
    auto s = minimal_spec({"busybox", "echo", "found"});
    s.process->env = {"PATH=/hrun-no-such-dir::/bin"};
    ChildRun run = run_child(plan(s), procfd_.get());
    ASSERT_FALSE(run.reported) << run.status.error.field << ": " << run.status.error.message;
    EXPECT_EQ(run.output, "found\n");
}

TEST_F(ProcessChild, CwdThroughALeakedFdIsRefused) {
    // CVE-2024-21626: an fd to a host directory held by the runtime, named as the cwd. It sits
    // high, where hrun's own fds are (a low number would be reused by the lookup's own "/" fd):
    // closed before the lookup, it is not there to walk through.
    UniqueFd host_dir = test::high_fd(::open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(host_dir);
    auto s = minimal_spec();
    s.process->cwd = "/proc/self/fd/" + std::to_string(host_dir.get());
    ChildRun run = run_child(plan(s), procfd_.get());
    expect_failure(run, "process.cwd", "\"" + s.process->cwd + "\" does not exist", ENOENT);
}

// A host directory with a marker program that leaves `ran` behind when it is executed, and an
// fd of the runtime's on that directory, close-on-exec as all of hrun's are.
class LeakedDirectory {
public:
    LeakedDirectory() {
        char dir[] = "/tmp/hrun-process-leak-XXXXXX";
        if (::mkdtemp(dir) == nullptr) return;
        dir_ = dir;
        const std::string marker = dir_ + "/marker";
        std::ofstream(marker) << "#!/bin/busybox sh\necho ran > " << dir_ << "/ran\n";
        ::chmod(marker.c_str(), 0755);
        fd_ = test::high_fd(::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    ~LeakedDirectory() {
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }
    bool ok() const { return static_cast<bool>(fd_); }
    const std::string& dir() const { return dir_; }
    std::string through_fd() const { return "/proc/self/fd/" + std::to_string(fd_.get()); }
    bool marker_ran() const { return std::filesystem::exists(dir_ + "/ran"); }

private:
    std::string dir_;
    UniqueFd fd_;
};

TEST_F(ProcessChild, InterpreterThroughALeakedFdDoesNotRun) {
    // CVE-2024-21626 "attack 3": the kernel opens a `#!` interpreter during execve, while fds
    // that are only close-on-exec are still open.
    LeakedDirectory leak;
    ASSERT_TRUE(leak.ok());
    const std::string script = leak.dir() + "/entrypoint";
    std::ofstream(script) << "#!" << leak.through_fd() << "/marker\n";
    ::chmod(script.c_str(), 0755);
    ChildRun run = run_child(plan(minimal_spec({script})), procfd_.get());
    EXPECT_FALSE(leak.marker_ran()) << "the interpreter was reached through the runtime's fd";
    expect_failure(run, "process.args[0]", "\"" + script + "\" cannot execute", ENOENT);
}

TEST_F(ProcessChild, ProgramThroughALeakedFdIsRefused) {
    LeakedDirectory leak;
    ASSERT_TRUE(leak.ok());
    const std::string program = leak.through_fd() + "/marker";
    ChildRun run = run_child(plan(minimal_spec({program})), procfd_.get());
    EXPECT_FALSE(leak.marker_ran());
    // Closed before the lookup: nothing to walk through.
    expect_failure(run, "process.args[0]", "\"" + program + "\" does not exist", ENOENT);
}

TEST_F(ProcessChild, MissingCwdIsNamed) {
    auto s = minimal_spec();
    s.process->cwd = "/hrun-no-such-dir/nope";
    expect_failure(run_child(plan(s), procfd_.get()), "process.cwd",
                   "\"/hrun-no-such-dir/nope\" does not exist", ENOENT);
    s.process->cwd = "/bin/busybox";
    expect_failure(run_child(plan(s), procfd_.get()), "process.cwd",
                   "\"/bin/busybox\" is not a directory", ENOTDIR);
}

TEST_F(ProcessChild, MissingProgramIsNamed) {
    auto s = minimal_spec({"hrun-no-such-program"});
    expect_failure(run_child(plan(s), procfd_.get()), "process.args[0]",
                   "\"hrun-no-such-program\" not found in PATH", ENOENT);
    s = minimal_spec({"/hrun/no/such/program"});
    expect_failure(run_child(plan(s), procfd_.get()), "process.args[0]",
                   "\"/hrun/no/such/program\" does not exist", ENOENT);
}

TEST_F(ProcessChild, ProgramWithoutExecutePermissionCannotExecute) {
    char dir[] = "/tmp/hrun-process-exec-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string prog = std::string(dir) + "/prog";
    std::ofstream(prog) << "#!/bin/busybox sh\necho ran\n";
    ::chmod(prog.c_str(), 0644);
    auto s = minimal_spec({"prog"});
    s.process->env = {std::string("PATH=") + dir};
    ChildRun by_name = run_child(plan(s), procfd_.get());
    s = minimal_spec({prog});
    ChildRun by_path = run_child(plan(s), procfd_.get());
    std::filesystem::remove_all(dir);
    expect_failure(by_name, "process.args[0]", "\"prog\" cannot execute", EACCES);
    expect_failure(by_path, "process.args[0]", "\"" + prog + "\" cannot execute", EACCES);
}

TEST_F(ProcessChild, PreservedFdsSurviveAndOthersClose) {
    auto s = minimal_spec({"/bin/busybox", "ls", "-l", "/proc/self/fd"});
    ProcessPlan p = plan(s, ProcessOptions{2, ""});
    ChildRun run = run_child(p, procfd_.get(), [] {
        // fds 3 and 4 are passed although close-on-exec; 7 is inheritable but not passed.
        ::dup2(::open("/dev/null", O_RDONLY | O_CLOEXEC), 3);
        ::dup2(::open("/dev/zero", O_RDONLY | O_CLOEXEC), 4);
        ::fcntl(3, F_SETFD, FD_CLOEXEC);
        ::fcntl(4, F_SETFD, FD_CLOEXEC);
        ::dup2(::open("/dev/full", O_RDONLY), 7);
        // ls complains on stderr about its own, already closed, directory fd.
        ::dup2(::open("/dev/null", O_WRONLY), STDERR_FILENO);
    });
    ASSERT_FALSE(run.reported) << run.status.error.field << ": " << run.status.error.message;

    std::set<int> fds;
    std::istringstream in(run.output);
    for (std::string line; std::getline(in, line);) {
        std::size_t arrow = line.find(" -> ");
        if (arrow == std::string::npos) continue;
        std::size_t start = line.rfind(' ', arrow - 1) + 1;
        fds.insert(std::stoi(line.substr(start, arrow - start)));
        if (line.find("/dev/full") != std::string::npos) ADD_FAILURE() << "leaked: " << line;
    }
    EXPECT_NE(run.output.find(" 3 -> /dev/null"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(" 4 -> /dev/zero"), std::string::npos) << run.output;
    EXPECT_FALSE(fds.contains(7)) << run.output;
    // The status pipe and hrun's procfs fd (both >= 100) must not reach the process.
    ASSERT_FALSE(fds.empty()) << run.output;
    EXPECT_LT(*fds.rbegin(), 100) << run.output;
}

TEST_F(ProcessChild, PreservedFdThatIsNotOpenIsAnError) {
    auto s = minimal_spec();
    ChildRun run = run_child(plan(s, ProcessOptions{3, ""}), procfd_.get(), [] {
        ::dup2(::open("/dev/null", O_RDONLY), 3);
        ::dup2(::open("/dev/null", O_RDONLY), 4);
        ::close(5);
    });
    expect_failure(run, "", "cannot pass fd 5 to the process (--preserve-fds)", EBADF);
}

TEST_F(ProcessChild, RaisingAHardLimitNeedsCapSysResource) {
    struct rlimit nofile;
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &nofile), 0);
    if (nofile.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "RLIMIT_NOFILE has no hard limit here";
    auto s = minimal_spec();
    s.process->rlimits = {{"RLIMIT_CORE", 0, 0},
                          {"RLIMIT_NOFILE", nofile.rlim_max + 1, nofile.rlim_cur}};
    ChildRun run = run_child(plan(s), procfd_.get(), drop_sys_resource);
    expect_failure(run, "process.rlimits[1]", "cannot set the limit", EPERM);
}

TEST_F(ProcessChild, OomScoreAdjIsWrittenAndAnUnprivilegedLoweringIsTolerated) {
    auto s = minimal_spec({"/bin/busybox", "cat", "/proc/self/oom_score_adj"});
    s.process->oomScoreAdj = 500;
    ChildRun raised = run_child(plan(s), procfd_.get(), drop_sys_resource);
    ASSERT_FALSE(raised.reported) << raised.status.error.message;
    EXPECT_EQ(raised.output, "500\n");

    std::ifstream current_file("/proc/self/oom_score_adj");
    int current = 0;
    current_file >> current;
    s.process->oomScoreAdj = -999;
    ChildRun lowered = run_child(plan(s), procfd_.get(), drop_sys_resource);
    ASSERT_FALSE(lowered.reported) << lowered.status.error.message;
    EXPECT_EQ(lowered.output, std::to_string(current) + "\n");
}

TEST_F(ProcessChild, SchedulerIoPriorityAndPersonalityAreApplied) {
    auto s = minimal_spec({"/bin/busybox", "sh", "-c",
                           "echo nice=$(cut -d' ' -f19 /proc/self/stat); "
                           "echo policy=$(cut -d' ' -f41 /proc/self/stat); "
                           "echo arch=$(uname -m)"});
    s.process->scheduler = spec::Scheduler{.policy = "SCHED_BATCH", .nice = 7};
    s.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_IDLE", 0};
    s.linux.emplace();
    s.linux->personality = spec::Personality{"LINUX32", {}};
    ChildRun run = run_child(plan(s), procfd_.get());
    ASSERT_FALSE(run.reported) << run.status.error.field << ": " << run.status.error.message
                               << ": " << std::strerror(run.status.error.err);
    EXPECT_EQ(line_after(run.output, "nice="), "7");
    EXPECT_EQ(line_after(run.output, "policy="), "3");  // SCHED_BATCH
    EXPECT_EQ(line_after(run.output, "arch="), "i686");
}

// Seccomp placement: without no_new_privs the filter goes in while the process still has
// CAP_SYS_ADMIN, before the privilege drop (so it also filters the steps after it); with
// no_new_privs it goes in last, right before execve.
TEST_F(ProcessChild, SeccompIsLoadedEarlyWithoutNoNewPrivsAndLastWithIt) {
    spec::Seccomp config;
    config.defaultAction = "SCMP_ACT_ALLOW";
    config.syscalls = {spec::SeccompSyscall{{"chdir"}, "SCMP_ACT_ERRNO", 1, {}}};
    auto program = security::compile_seccomp(config);
    ASSERT_TRUE(program.has_value()) << program.error().what();

    auto s = minimal_spec({"/bin/busybox", "grep", "^Seccomp:", "/proc/self/status"});
    s.process->noNewPrivileges = false;
    ChildRun early = run_child(plan(s), procfd_.get(), [] {}, &*program);
    // chdir("/") ran under the filter: it failed with errno 1, and the capabilities were already
    // gone by then, so loading the filter had happened before the drop.
    expect_failure(early, "process.cwd", "\"/\" cannot be entered", EPERM);

    s.process->noNewPrivileges = true;
    ChildRun last = run_child(plan(s), procfd_.get(), [] {}, &*program);
    ASSERT_FALSE(last.reported) << last.status.error.field << ": " << last.status.error.message;
    EXPECT_EQ(status_field(last.output, "Seccomp"), "2");
}

}  // namespace
}  // namespace hrun::process
