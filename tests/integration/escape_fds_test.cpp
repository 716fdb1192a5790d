// Escapes through file descriptors, tried from the attacker's side:
//   - CVE-2024-21626 "attack 3": an image (or a process in the container, for `exec`) whose
//     program is a script with `#!/proc/self/fd/N/../../..<host path>`. The kernel opens the
//     `#!` interpreter during execve, before close-on-exec fds close: any directory fd of
//     hrun's still open there leads to the host. The interpreter named is a host-only copy of
//     the static busybox, installed as `sh`: if it ever runs, it runs the script's body, which
//     prints a marker.
//   - `--preserve-fds N` with fewer than N fds open in the caller: hrun's own fds (its state
//     root) would be handed over.
//   - a pid file written through a symlink planted at its path or at its temporary name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

constexpr int kFirstFd = 3;
constexpr int kLastFd = 20;
constexpr const char* kMarker = "HOST-SHELL-RAN";


// argv with stdout and stderr sent to `file`: for `create`, whose container keeps them open
// after hrun has exited.
std::vector<std::string> output_to(const std::string& file, const std::vector<std::string>& argv) {
    std::vector<std::string> out{"/bin/sh", "-c", "f=$1; shift; exec \"$@\" >\"$f\" 2>&1", "sh", file};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

std::set<std::string> fd_keys(const RunResult& r) { return r.keys_with_prefix("fd."); }

class EscapeFds : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // The host-only interpreter: a static binary, so that no ELF interpreter has to be
        // found in the container for it to run.
        std::error_code ec;
        host_sh_ = host_.path() + "/sh";
        std::filesystem::copy_file("/bin/busybox", host_sh_, ec);
        ASSERT_FALSE(ec) << "cannot copy /bin/busybox: " << ec.message();
        ::chmod(host_sh_.c_str(), 0755);
        auto elf = read_file(host_sh_);
        ASSERT_TRUE(elf && elf->find("/lib64/ld-linux") == std::string::npos)
            << "/bin/busybox is not static (busybox-static)";
    }

    // /proc/self/fd/N, then far more ".." than any host directory is deep, then the host path.
    std::string through_fd(int fd) const {
        std::string path = "/proc/self/fd/" + std::to_string(fd) + "/";
        for (int i = 0; i < 16; ++i) path += "../";
        return path + host_sh_.substr(1);
    }
    std::string attack_script(int fd) const {
        return "#!" + through_fd(fd) + "\necho " + kMarker + "-fd" + std::to_string(fd) + "\n";
    }
    // The image's attack scripts: rootfs/entry-N for every N.
    void plant_in_image() {
        for (int fd = kFirstFd; fd <= kLastFd; ++fd)
            write_executable(bundle().rootfs() + "/entry-" + std::to_string(fd), attack_script(fd));
    }

    void expect_no_host_shell(const RunResult& r, const std::string& label) {
        EXPECT_EQ(r.out.find(kMarker), std::string::npos) << label << ": a host binary ran\n" << r.describe();
        EXPECT_EQ(r.err.find(kMarker), std::string::npos) << label << ": a host binary ran\n" << r.describe();
        EXPECT_FALSE(r.timed_out) << label;
    }

    TempDir host_;  // outside every rootfs: only the host has it
    std::string host_sh_;
};

TEST_F(EscapeFds, RunInterpreterThroughAnyFdNeverRunsAHostBinary) {
    const HostSnapshot before = HostSnapshot::take();
    plant_in_image();
    for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
        const std::string label = "run, #!/proc/self/fd/" + std::to_string(fd);
        bundle().set_args({"/entry-" + std::to_string(fd)});
        bundle().save();
        // The caller also leaves a host directory open on fd 9, not passed on.
        RunResult r = run_command(with_open_fds(
            {{9, host_.path()}}, hrun_argv({"run", "--bundle", bundle().dir(), unique_id()})));
        expect_no_host_shell(r, label);
        EXPECT_NE(r.status, 0) << label << ": " << r.describe();
        EXPECT_NE(r.err.find("process.args[0]"), std::string::npos) << label << ": " << r.describe();
    }
    expect_no_host_leaks(before);
}

TEST_F(EscapeFds, APreservedHostDirectoryIsWhatTheInterpreterWalkNeeds) {
    // Control for the tests above: a directory fd the caller hands over on purpose does lead
    // to the host interpreter, so the marker shows when the walk works.
    plant_in_image();
    bundle().set_args({"/entry-3"});
    bundle().save();
    RunResult r = run_command(with_open_fds(
        {{3, host_.path()}}, hrun_argv({"run", "--preserve-fds", "1", "--bundle", bundle().dir(), unique_id()})));
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find(std::string(kMarker) + "-fd3"), std::string::npos) << r.describe();
}

TEST_F(EscapeFds, CreateStartInterpreterThroughAnyFdNeverRunsAHostBinary) {
    // `create` leaves the process waiting on the exec fifo, with more of hrun's fds around it.
    plant_in_image();
    for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
        const std::string label = "create/start, #!/proc/self/fd/" + std::to_string(fd);
        const std::string id = unique_id();
        const std::string out_file = host_.path() + "/out-" + std::to_string(fd);
        bundle().set_args({"/entry-" + std::to_string(fd)});
        bundle().save();
        RunResult created = run_command(output_to(out_file, hrun_argv({"create", "--bundle", bundle().dir(), id})));
        ASSERT_EQ(created.status, 0) << label << ": " << read_file(out_file).value_or("");
        RunResult started = hrun({"start", id});
        EXPECT_EQ(started.status, 0) << label << ": " << started.describe();
        EXPECT_TRUE(eventually([&] { return status_of(id) == "stopped"; })) << label << ": " << status_of(id);
        const std::string out = read_file(out_file).value_or("");
        EXPECT_EQ(out.find(kMarker), std::string::npos) << label << ": a host binary ran\n" << out;
        EXPECT_EQ(hrun({"delete", "--force", id}).status, 0) << label;
    }
}

TEST_F(EscapeFds, ExecOfAPlantedScriptNeverRunsAHostBinary) {
    // The container writes the scripts itself, into its own /tmp, then sleeps.
    std::string plant = "printf '#!/bin/sh\\necho benign-ran\\n' >/tmp/benign && chmod 755 /tmp/benign";
    for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
        const std::string n = std::to_string(fd);
        plant += " && printf '#!%s\\necho %s-fd%s\\n' '" + through_fd(fd) + "' " + kMarker + " " + n +
                 " >/tmp/entry-" + n + " && chmod 755 /tmp/entry-" + n;
    }
    const std::string id = unique_id();
    bundle().set_args({"/bin/sh", "-c", plant + " && exec sleep 1000"});
    bundle().save();
    RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(r.status, 0) << r.describe();
    // Control: the planted scripts are there and executable (the benign one is written first).
    ASSERT_TRUE(eventually([&] {
        return run_command(hrun_argv({"exec", id, "/tmp/benign"})).out.find("benign-ran") != std::string::npos &&
               run_command(hrun_argv({"exec", id, "/bin/test", "-x", "/tmp/entry-" + std::to_string(kLastFd)})).status == 0;
    })) << "the container did not plant its scripts";

    for (int fd = kFirstFd; fd <= kLastFd; ++fd) {
        const std::string label = "exec, #!/proc/self/fd/" + std::to_string(fd);
        RunResult e = run_command(with_open_fds(
            {{9, host_.path()}}, hrun_argv({"exec", id, "/tmp/entry-" + std::to_string(fd)})));
        expect_no_host_shell(e, label);
        EXPECT_NE(e.status, 0) << label << ": " << e.describe();
        // The same with a terminal-less shell in between is the container's own business:
        // by then execve has closed everything of hrun's.
    }
    // What the process finds at exec: the standard fds, and nothing of hrun's.
    RunResult fds = run_command(with_open_fds({{9, host_.path()}}, hrun_argv({"exec", id, "/bin/hrun-probe", "fds"})));
    ASSERT_EQ(fds.status, 0) << fds.describe();
    EXPECT_EQ(fd_keys(fds), (std::set<std::string>{"fd.0", "fd.1", "fd.2"})) << fds.describe();
}

// ---- --preserve-fds ----

TEST_F(EscapeFds, PreserveFdsBeyondWhatTheCallerHasIsRefused) {
    const HostSnapshot before = HostSnapshot::take();
    // Should hrun's own fds arrive, the container lists them (the state root, here).
    bundle().set_args({"/bin/sh", "-c", "ls -la /proc/self/fd/3/ /proc/self/fd/4/ /proc/self/fd/5/; /bin/hrun-probe fds"});
    bundle().save();
    auto expect_refused = [&](const RunResult& r, const std::string& label) {
        EXPECT_NE(r.status, 0) << label << ": " << r.describe();
        EXPECT_NE(r.err.find("--preserve-fds"), std::string::npos) << label << ": " << r.describe();
        EXPECT_EQ(r.out.find("fd."), std::string::npos) << label << ": the container ran: " << r.describe();
    };
    // Only fd 3 is open: 4 and 5 would be hrun's own.
    const std::map<int, std::string> only_3{{3, "/dev/null"}};
    const std::string id = unique_id();
    expect_refused(run_command(with_open_fds(only_3, hrun_argv({"run", "--preserve-fds", "3", "--bundle", bundle().dir(), id}))),
                   "run with only fd 3");
    expect_refused(run_command(with_open_fds(only_3, hrun_argv({"create", "--preserve-fds", "3", "--bundle", bundle().dir(), id}))),
                   "create with only fd 3");
    // None at all: what once handed the container hrun's state root as fd 3.
    expect_refused(run_command(hrun_argv({"run", "--preserve-fds", "1", "--bundle", bundle().dir(), id})),
                   "run with no fd");
    // Nothing left behind: no state, no container, no mount or cgroup.
    std::error_code ec;
    EXPECT_FALSE(std::filesystem::exists(bundle().state_root() + "/" + id, ec));
    EXPECT_NE(hrun({"state", id}).status, 0);
    expect_no_host_leaks(before);

    // exec: refused before it joins the container; nothing new runs in it.
    const std::string sleeper = unique_id();
    pid_t init = run_sleeper(sleeper);
    ASSERT_GT(init, 0);
    const std::string pid_ns = ns_inode(init, "pid");
    const std::size_t procs = processes_in_ns("pid", pid_ns).size();
    expect_refused(run_command(with_open_fds(only_3, hrun_argv({"exec", "--preserve-fds", "3", sleeper, "/bin/hrun-probe", "fds"}))),
                   "exec with only fd 3");
    EXPECT_EQ(processes_in_ns("pid", pid_ns).size(), procs);

    // Control: with 3, 4 and 5 really open, they arrive, and nothing else does.
    bundle().set_args({"/bin/hrun-probe", "fds"});
    bundle().save();
    const std::map<int, std::string> three{{3, "/dev/null"}, {4, "/dev/zero"}, {5, host_.path()}};
    RunResult run = run_command(with_open_fds(three, hrun_argv({"run", "--preserve-fds", "3", "--bundle", bundle().dir(), unique_id()})));
    ASSERT_EQ(run.status, 0) << run.describe();
    EXPECT_EQ(fd_keys(run), (std::set<std::string>{"fd.0", "fd.1", "fd.2", "fd.3", "fd.4", "fd.5"})) << run.describe();
    RunResult exec = run_command(with_open_fds(three, hrun_argv({"exec", "--preserve-fds", "3", sleeper, "/bin/hrun-probe", "fds"})));
    ASSERT_EQ(exec.status, 0) << exec.describe();
    EXPECT_EQ(fd_keys(exec), (std::set<std::string>{"fd.0", "fd.1", "fd.2", "fd.3", "fd.4", "fd.5"})) << exec.describe();
}

// ---- pid files ----

class EscapePidFile : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        victim_ = dir_.path() + "/victim";
        std::ofstream(victim_) << "precious\n";
    }

    // A symlink to the victim at the pid file's path and at the temporary name hrun once used.
    std::string plant(const std::string& name) {
        const std::string pid_file = dir_.path() + "/" + name;
        EXPECT_EQ(::symlink(victim_.c_str(), pid_file.c_str()), 0);
        EXPECT_EQ(::symlink(victim_.c_str(), (pid_file + ".hrun-tmp").c_str()), 0);
        return pid_file;
    }

    void expect_written(const std::string& pid_file, pid_t pid, const std::string& label) {
        EXPECT_EQ(read_file(victim_).value_or(""), "precious\n") << label << ": the victim was written";
        struct stat st;
        ASSERT_EQ(::lstat(pid_file.c_str(), &st), 0) << label;
        EXPECT_TRUE(S_ISREG(st.st_mode)) << label << ": the pid file is not a regular file";
        EXPECT_EQ(read_file(pid_file).value_or(""), std::to_string(pid)) << label;
        // No temporary file is left next to it (the planted "<name>.hrun-tmp" is the test's).
        for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
            const std::string name = entry.path().filename();
            EXPECT_NE(name[0], '.') << label << ": left behind: " << name;
        }
    }

    TempDir dir_;  // a directory the attacker can write to
    std::string victim_;
};

TEST_F(EscapePidFile, PlantedSymlinksAreReplacedNotFollowed) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    const std::string run_pid = plant("run.pid");
    RunResult r = hrun({"run", "--detach", "--pid-file", run_pid, "--bundle", bundle().dir(), id});
    ASSERT_EQ(r.status, 0) << r.describe();
    expect_written(run_pid, pid_of(id), "run --pid-file");
    ::unlink((run_pid + ".hrun-tmp").c_str());

    const std::string exec_pid = plant("exec.pid");
    RunResult e = hrun({"exec", "--detach", "--pid-file", exec_pid, id, "/bin/sleep", "1000"});
    ASSERT_EQ(e.status, 0) << e.describe();
    const std::string written = read_file(exec_pid).value_or("");
    ASSERT_FALSE(written.empty());
    expect_written(exec_pid, std::stoi(written), "exec --pid-file");
    ::unlink((exec_pid + ".hrun-tmp").c_str());

    const std::string create_pid = plant("create.pid");
    const std::string created = unique_id();
    RunResult c = run_command(output_to(dir_.path() + "/create.out",
                                        hrun_argv({"create", "--pid-file", create_pid, "--bundle", bundle().dir(), created})));
    ASSERT_EQ(c.status, 0) << read_file(dir_.path() + "/create.out").value_or("");
    ::unlink((dir_.path() + "/create.out").c_str());
    ::unlink((create_pid + ".hrun-tmp").c_str());
    expect_written(create_pid, pid_of(created), "create --pid-file");
}

}  // namespace
}  // namespace hrun::itest
