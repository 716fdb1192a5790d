// Escapes from the container's cgroup and through an idmapped rootfs, tried as an attacker would.
//
// Cgroup: hrun is SIGKILLed at every millisecond of `exec`, `exec --detach` and `create`, with
// and without a busy CPU, while a watcher scans /proc the whole time: no process may ever be in
// one of the container's namespaces without being in the container's cgroups (outside them it
// escapes the limits, the freezer and `kill --all`), and nothing half set up may outlive the
// killed hrun. `pause` answers in bounded time: loops of pause/resume on a forking container,
// and a pause behind a held lock.
//
// Idmapped rootfs: with --userns-remap, container root writes through the idmapped rootfs as
// host root, so a set-uid file it makes is a set-uid-root file on disk. A writable idmapped
// rootfs (or mounts[] entry) that other host users can reach is refused naming the field; in a
// closed directory it runs, and another host user cannot reach the file.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "idmap_support.hpp"
#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kNamespaceTypes = {"mnt", "pid", "net", "ipc", "uts", "cgroup"};

std::vector<pid_t> all_pids() {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) pids.push_back(std::stoi(name));
    }
    return pids;
}

// "4:memory:/hrun/x" lines by hierarchy ("4:memory"), from /proc/<pid>/cgroup text.
std::map<std::string, std::string> cgroup_lines(const std::string& text) {
    std::map<std::string, std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.rfind(':');
        if (colon != std::string::npos) lines[line.substr(0, colon)] = line.substr(colon + 1);
    }
    return lines;
}

// Scans /proc in a loop on its own thread until stopped, and records every process it sees in a
// watched namespace whose cgroups are not the container's. What counts as watched and as the
// container's cgroups is given by `check`, which returns "" or what is wrong.
class Watcher {
public:
    using Check = std::function<std::string(pid_t)>;
    explicit Watcher(Check check) : check_(std::move(check)), thread_([this] { run(); }) {}
    ~Watcher() { stop(); }

    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    std::vector<std::string> findings() {
        std::lock_guard lock(mutex_);
        return {findings_.begin(), findings_.end()};
    }
    int scans() const { return scans_; }

private:
    void run() {
        while (!stop_) {
            for (pid_t p : all_pids()) {
                std::string wrong = check_(p);
                if (wrong.empty()) continue;
                std::lock_guard lock(mutex_);
                if (findings_.size() < 20) findings_.insert(wrong);
            }
            ++scans_;
        }
    }

    Check check_;
    std::atomic<bool> stop_{false};
    std::atomic<int> scans_{0};
    std::mutex mutex_;
    std::set<std::string> findings_;
    std::thread thread_;
};

// Keeps both CPUs busy while it lives: the killed commands run on a loaded machine.
class BusyCpus {
public:
    BusyCpus() {
        for (int i = 0; i < 2; ++i)
            threads_.emplace_back([this] {
                unsigned long x = 0;
                while (!stop_.load(std::memory_order_relaxed)) x = x * 31 + 7;
                sink_ = x;
            });
    }
    ~BusyCpus() {
        stop_ = true;
        for (auto& t : threads_) t.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<unsigned long> sink_{0};
    std::vector<std::thread> threads_;
};

class CgroupEscape : public RuntimeTest {
protected:
    // SIGKILLs hrun `args` after `delay`.
    void kill_after(const std::vector<std::string>& args, std::chrono::microseconds delay) {
        Process p(hrun_argv(args));
        std::this_thread::sleep_for(delay);
        ::kill(p.pid(), SIGKILL);
        p.wait();
    }

    static std::string describe(pid_t p, const std::string& what) {
        const std::string cmdline = read_file("/proc/" + std::to_string(p) + "/cmdline").value_or("");
        std::string shown = cmdline.substr(0, 80);
        for (char& c : shown)
            if (c == '\0') c = ' ';
        return "pid " + std::to_string(p) + " [" + process_comm(p) + "] '" + shown + "' " + what;
    }

    // The delays of a sweep: 0..40 ms in 1 ms steps (every 4 ms with `coarse`).
    static std::vector<int> sweep_ms(bool coarse) {
        std::vector<int> ms;
        for (int d = 0; d <= 40; d += coarse ? 4 : 1) ms.push_back(d);
        return ms;
    }
};

// exec joins a running container: every process in any of its namespaces must be in its cgroups
// at every instant the watcher looks, and none of hrun's may outlive the killed exec.
class ExecKilledAnywhere : public CgroupEscape {
protected:
    void SetUp() override {
        CgroupEscape::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        before_ = HostSnapshot::take();
        id_ = unique_id();
        init_ = run_sleeper(id_);
        ASSERT_GT(init_, 0);
        for (const auto& type : kNamespaceTypes) {
            const std::string ino = ns_inode(init_, type);
            if (!ino.empty() && ino != ns_inode(::getpid(), type)) namespaces_[type] = ino;
        }
        ASSERT_TRUE(namespaces_.count("mnt") && namespaces_.count("pid"));
        cgroup_ = read_file("/proc/" + std::to_string(init_) + "/cgroup").value_or("");
        ASSERT_NE(cgroup_.find(id_), std::string::npos) << "the container has no cgroup of its own: " << cgroup_;
    }

    // "" when `p` is in none of the container's namespaces, or is in its cgroups.
    std::string check(pid_t p) const {
        std::string in;
        for (const auto& [type, ino] : namespaces_)
            if (ns_inode(p, type) == ino) in += (in.empty() ? "" : ",") + type;
        if (in.empty()) return "";
        const auto cg = read_file("/proc/" + std::to_string(p) + "/cgroup");
        if (!cg || *cg == cgroup_ || exiting(p)) return "";
        return describe(p, "is in the container's " + in + " namespace(s) but in cgroups\n" + *cg +
                               "instead of\n" + cgroup_);
    }

    void sweep(const std::vector<std::string>& args, bool busy) {
        Watcher watcher([this](pid_t p) { return check(p); });
        std::optional<BusyCpus> load;
        if (busy) load.emplace();
        for (int ms : sweep_ms(busy)) {
            kill_after(args, std::chrono::milliseconds(ms));
            // Nothing of hrun's (a process still running hrun's code names the container on its
            // command line) outlives it; the exec'd program itself may stay, inside.
            EXPECT_TRUE(eventually([&] { return find_processes(id_).empty(); }, 3s))
                << "an hrun process of the exec killed after " << ms << " ms is left";
        }
        load.reset();
        watcher.stop();
        std::printf("[          ] %d scans of /proc while killing\n", watcher.scans());
        EXPECT_GT(watcher.scans(), 0);
        for (const auto& f : watcher.findings()) ADD_FAILURE() << f;
        EXPECT_EQ(status_of(id_), "running");
    }

    void finish() {
        expect_gone_after_delete_force(id_, "after the killed execs");
        EXPECT_TRUE(eventually([&] { return processes_in_ns("pid", namespaces_["pid"]).empty(); }, 3s));
        expect_no_host_leaks(before_);
    }

    std::string id_;
    pid_t init_ = 0;
    std::map<std::string, std::string> namespaces_;
    std::string cgroup_;
    HostSnapshot before_;
};

TEST_F(ExecKilledAnywhere, ForegroundExec) {
    sweep({"exec", id_, "/bin/sleep", "999"}, false);
    finish();
}

TEST_F(ExecKilledAnywhere, DetachedExec) {
    sweep({"exec", "--detach", id_, "/bin/sleep", "999"}, false);
    finish();
}

TEST_F(ExecKilledAnywhere, DetachedExecOnABusyMachine) {
    sweep({"exec", "--detach", id_, "/bin/sleep", "999"}, true);
    finish();
}

// create makes the namespaces itself: any process of a create (its command line names the id)
// that is in a namespace other than the host's must be in the container's cgroups, i.e. in
// every hierarchy where a container's cgroup is its own.
class CreateKilledAnywhere : public CgroupEscape {
protected:
    void SetUp() override {
        CgroupEscape::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        bundle().set_args({"/bin/sleep", "1000"});
        bundle().save();
        for (const auto& type : kNamespaceTypes) host_ns_[type] = ns_inode(::getpid(), type);
        // Which hierarchies hold a container of its own: learnt from one that is running.
        const std::string id = unique_id();
        const pid_t init = run_sleeper(id);
        ASSERT_GT(init, 0);
        for (const auto& [hierarchy, path] : cgroup_lines(read_file("/proc/" + std::to_string(init) + "/cgroup").value_or("")))
            if (path.find(id) != std::string::npos) own_hierarchies_.push_back(hierarchy);
        ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
        ASSERT_FALSE(own_hierarchies_.empty()) << "containers get no cgroup of their own here";
    }

    std::string check(pid_t p, const std::string& prefix) const {
        const std::string cmdline = read_file("/proc/" + std::to_string(p) + "/cmdline").value_or("");
        const auto at = cmdline.find(prefix);
        if (at == std::string::npos || p == ::getpid()) return "";
        const std::string id = cmdline.substr(at, cmdline.find('\0', at) - at);
        std::string in;
        for (const auto& [type, ino] : host_ns_) {
            const std::string actual = ns_inode(p, type);
            if (!actual.empty() && actual != ino) in += (in.empty() ? "" : ",") + type;
        }
        if (in.empty()) return "";
        const auto text = read_file("/proc/" + std::to_string(p) + "/cgroup");
        if (!text) return "";
        const auto lines = cgroup_lines(*text);
        for (const auto& h : own_hierarchies_) {
            auto it = lines.find(h);
            if (it != lines.end() && it->second.find(id) != std::string::npos) continue;
            if (exiting(p)) return "";
            return describe(p, "is in new " + in + " namespace(s) but not in the container's cgroup (" + h +
                                   "):\n" + *text);
        }
        return "";
    }

    void sweep(bool busy) {
        const std::string prefix = unique_id();  // every id of this sweep starts with it
        Watcher watcher([&](pid_t p) { return check(p, prefix); });
        std::optional<BusyCpus> load;
        if (busy) load.emplace();
        const HostSnapshot before = HostSnapshot::take();
        for (int ms : sweep_ms(busy)) {
            const std::string id = prefix + "-" + std::to_string(ms);
            kill_after({"create", "--bundle", bundle().dir(), id}, std::chrono::milliseconds(ms));
            // Until READY the container process dies with hrun; after it, it waits on its fifo,
            // in its cgroup, for delete to remove it.
            expect_gone_after_delete_force(id, "create killed after " + std::to_string(ms) + " ms");
        }
        load.reset();
        watcher.stop();
        std::printf("[          ] %d scans of /proc while killing\n", watcher.scans());
        for (const auto& f : watcher.findings()) ADD_FAILURE() << f;
        expect_no_host_leaks(before);
    }

    std::map<std::string, std::string> host_ns_;
    std::vector<std::string> own_hierarchies_;
};

TEST_F(CreateKilledAnywhere, Create) { sweep(false); }

TEST_F(CreateKilledAnywhere, CreateOnABusyMachine) { sweep(true); }

// Whole runs, not killed: a create path that puts its process into namespaces before its cgroup
// shows here too, while the watcher looks.
TEST_F(CreateKilledAnywhere, RunsAreNeverOutsideTheirCgroup) {
    const std::string prefix = unique_id();
    Watcher watcher([&](pid_t p) { return check(p, prefix); });
    for (int i = 0; i < 15; ++i) {
        const std::string id = prefix + "-" + std::to_string(i);
        bundle().set_args({"/bin/true"});
        bundle().save();
        RunResult r = hrun({"run", "--bundle", bundle().dir(), id});
        EXPECT_EQ(r.status, 0) << r.describe();
    }
    watcher.stop();
    for (const auto& f : watcher.findings()) ADD_FAILURE() << f;
}

class PauseBounded : public CgroupEscape {};

// A container that forks all the time: every pause freezes it, every resume thaws it, and no
// command takes longer than the freezer's deadline.
TEST_F(PauseBounded, PauseResumeLoopsOnAForkingContainer) {
    bundle().set_args({"/bin/sh", "-c", "while :; do /bin/true; done"});
    bundle().save();
    const std::string id = unique_id();
    ASSERT_EQ(hrun({"run", "--detach", "--bundle", bundle().dir(), id}).status, 0);
    const RunOptions bounded{.timeout = 8s};
    for (int i = 0; i < 20; ++i) {
        RunResult p = hrun({"pause", id}, bounded);
        ASSERT_EQ(p.status, 0) << "pause " << i << ": " << p.describe();
        EXPECT_EQ(status_of(id), "paused");
        RunResult r = hrun({"resume", id}, bounded);
        ASSERT_EQ(r.status, 0) << "resume " << i << ": " << r.describe();
        EXPECT_EQ(status_of(id), "running");
    }
    expect_gone_after_delete_force(id, "after pause/resume loops");
}

// Another command holding the container's lock (hung, stopped, or just slow) does not make
// pause hang: it gives up with a clear error, and works once the lock is free.
TEST_F(PauseBounded, PauseBehindAHeldLockGivesUp) {
    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    const std::string dir = bundle().state_root() + "/" + id;
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << dir;
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    const auto start = std::chrono::steady_clock::now();
    RunResult held = hrun({"pause", id}, RunOptions{.timeout = 30s});
    const auto took = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_FALSE(held.timed_out) << held.describe();
    EXPECT_NE(held.status, 0) << held.describe();
    EXPECT_NE(held.err.find("locked by another hrun process"), std::string::npos) << held.describe();
    EXPECT_LT(took, 20s);
    EXPECT_EQ(status_of(id), "running");
    RunResult freed = hrun({"pause", id}, RunOptions{.timeout = 8s});
    EXPECT_EQ(freed.status, 0) << freed.describe();
    EXPECT_EQ(status_of(id), "paused");
    expect_gone_after_delete_force(id, "after the held lock");
}

// ---- idmapped rootfs under --userns-remap ----

class IdmapSetuid : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        if (!kernel_has_user_namespaces()) GTEST_SKIP() << "this kernel has no user namespaces";
        const std::string why = ensure_remap_user();
        ASSERT_TRUE(why.empty()) << why;
        bundle().global_args = {"--userns-remap=" + std::string(kRemapUser)};
        bundle().config["root"]["readonly"] = false;
        // Container root plants a set-uid copy of a shell in its rootfs, owned by itself.
        bundle().set_args({"/bin/sh", "-c", "cp /bin/busybox /suid-sh && chown 0:0 /suid-sh && chmod 4755 /suid-sh && "
                                            "stat -c %u:%a /suid-sh"});
    }

    std::string parent_dir() { return fs::path(bundle().dir()).parent_path(); }

    // `argv` run as an unprivileged host user (nobody), with no groups.
    RunResult as_other_user(std::vector<std::string> argv) {
        argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"});
        return run_command(argv);
    }

    void expect_refused(const std::string& field) {
        const HostSnapshot before = HostSnapshot::take();
        bundle().save();
        RunResult r = bundle().run();
        EXPECT_NE(r.status, 0) << "accepted\n" << r.describe();
        EXPECT_EQ(r.out, "") << "the container process ran\n" << r.describe();
        EXPECT_NE(r.err.find(field + ":"), std::string::npos) << "field " << field << "\n" << r.describe();
        EXPECT_NE(r.err.find("other host users can reach"), std::string::npos) << r.describe();
        struct stat st;
        EXPECT_NE(::stat((bundle().rootfs() + "/suid-sh").c_str(), &st), 0) << "the container wrote its file";
        for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;
    }
};

TEST_F(IdmapSetuid, WritableRootfsOthersCanReachIsRefused) {
    ASSERT_EQ(::chmod(parent_dir().c_str(), 0755), 0);  // /, /tmp, the bundle's dir: all searchable
    expect_refused("root.path");
}

TEST_F(IdmapSetuid, WritableIdmappedMountOthersCanReachIsRefused) {
    bundle().config["root"]["readonly"] = true;
    bundle().config["annotations"]["org.hrun.rootfs.idmap"] = "false";
    ASSERT_EQ(::chmod(parent_dir().c_str(), 0755), 0);
    const std::string shared = parent_dir() + "/shared";
    fs::create_directories(shared);
    ::chmod(shared.c_str(), 0755);
    bundle().config["mounts"].push_back(
        {{"destination", "/data"}, {"type", "bind"}, {"source", shared}, {"options", {"bind", "idmap"}}});
    bundle().set_args({"/bin/sh", "-c", "cp /bin/busybox /data/suid-sh && chmod 4755 /data/suid-sh"});
    const std::string field = "mounts[" + std::to_string(bundle().config["mounts"].size() - 1) + "].source";
    expect_refused(field);
    EXPECT_FALSE(fs::exists(shared + "/suid-sh"));
}

// The bundle below a directory only root may search: the container runs, its root makes the
// set-uid-root file on disk, and another host user cannot get to it. The same file in reach
// (the directory opened afterwards) would be the host root shell this guards against.
TEST_F(IdmapSetuid, InAClosedDirectoryOtherUsersCannotReachTheSetuidFile) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    ASSERT_EQ(::chmod(parent_dir().c_str(), 0700), 0);
    bundle().save();
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "0:4755\n") << r.describe();
    const std::string file = bundle().rootfs() + "/suid-sh";
    struct stat st;
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u) << "written as host root through the idmapped rootfs";
    EXPECT_TRUE(st.st_mode & S_ISUID);

    RunResult other = as_other_user({file, "id", "-u"});
    EXPECT_NE(other.status, 0) << "another host user ran the set-uid file\n" << other.describe();
    EXPECT_EQ(other.out, "");
    RunResult look = as_other_user({"/usr/bin/stat", "-c", "%u:%a", file});
    EXPECT_NE(look.status, 0) << look.describe();
    EXPECT_NE(look.err.find("Permission denied"), std::string::npos) << look.describe();

    // The control: opened up, the same user reaches a set-uid file of host root.
    ASSERT_EQ(::chmod(parent_dir().c_str(), 0755), 0);
    RunResult reached = as_other_user({"/usr/bin/stat", "-c", "%u:%a", file});
    EXPECT_EQ(reached.out, "0:4755\n") << reached.describe();
    ::unlink(file.c_str());
}

// `hrun spec --userns-remap` writes a read-only rootfs: it runs from a directory anyone can
// search (a read-only idmapped rootfs without CAP_SYS_ADMIN cannot be written).
TEST_F(IdmapSetuid, ReadOnlyRootfsInReachRuns) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    ASSERT_EQ(::chmod(parent_dir().c_str(), 0755), 0);
    bundle().config["root"]["readonly"] = true;
    bundle().set_args({"/bin/sh", "-c", "touch /planted 2>/dev/null || echo read-only"});
    bundle().save();
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "read-only\n") << r.describe();

    // Unless the container may remount it: then it counts as writable.
    bundle().config["process"]["capabilities"]["bounding"].push_back("CAP_SYS_ADMIN");
    bundle().save();
    RunResult admin = bundle().run();
    EXPECT_NE(admin.status, 0) << admin.describe();
    EXPECT_NE(admin.err.find("root.path:"), std::string::npos) << admin.describe();
}

}  // namespace
}  // namespace hrun::itest
