// linux.resources on real containers: the kernel holds the limits hrun writes (a fork bomb, a
// memory hog, a CPU hog, devices outside the allowed list), `update` changes them while the
// container runs, `pause` freezes every process, and delete leaves no cgroup behind.
//
// The same tests run on this host's cgroup v1 hierarchies and, in the VM lane
// (scripts/vm-test.sh), on a cgroup v2-only kernel; tests of v2-only behaviour skip elsewhere.
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

bool cgroup2_only() {
    struct statfs s {};
    return ::statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

std::string host_cgroup_kind() { return cgroup2_only() ? "cgroup v2" : "cgroup v1 (or hybrid)"; }

// "key value" lines (pids.events, memory.events, cpu.stat, memory.oom_control).
std::optional<uint64_t> keyed_value(const std::string& path, const std::string& key) {
    std::ifstream in(path);
    std::string k;
    uint64_t v = 0;
    while (in >> k >> v)
        if (k == key) return v;
    return std::nullopt;
}

std::optional<uint64_t> number_in(const std::string& path) {
    auto text = read_file(path);
    if (!text) return std::nullopt;
    try {
        return std::stoull(*text);
    } catch (...) {
        return std::nullopt;
    }
}

std::vector<pid_t> pids_in(const std::string& procs_file) {
    std::vector<pid_t> pids;
    std::ifstream in(procs_file);
    for (pid_t p; in >> p;) pids.push_back(p);
    return pids;
}

char process_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("State:", 0) == 0) {
            auto pos = line.find_first_not_of(" \t", 6);
            return pos == std::string::npos ? '?' : line[pos];
        }
    return '?';
}

// Output lines "name.key=value" of a script that labels each probe run (see labelled()).
std::string fact(const std::string& out, const std::string& key) {
    std::istringstream lines(out);
    std::string found = "<absent>";
    for (std::string line; std::getline(lines, line);)
        if (line.rfind(key + "=", 0) == 0) found = line.substr(key.size() + 1);
    return found;
}

class Resources : public ContainerTest {
protected:
    // A failed assertion must not leave a container behind.
    void TearDown() override { delete_all_containers(120s); }

    bool wait_for_status(const std::string& id, const std::string& status, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (status_of(id) != status) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(50ms);
        }
        return true;
    }

    // The container's cgroup file `file`, in whichever hierarchy has it; "" when none does.
    static std::string cgroup_file(const std::string& id, const std::string& file) {
        for (const std::string& dir : cgroups_matching(id))
            if (fs::exists(dir + "/" + file)) return dir + "/" + file;
        return "";
    }

    void run_detached(const std::string& id, const std::vector<std::string>& args) {
        bundle().set_args(args);
        bundle().save();
        RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
        ASSERT_EQ(r.status, 0) << r.describe();
    }

    void add_capability(const std::string& cap) {
        for (const char* set : {"bounding", "effective", "permitted"}) {
            json& list = bundle().config["process"]["capabilities"][set];
            if (!list.is_array()) list = json::array();
            list.push_back(cap);
        }
    }

    // The bundle directory appears at /shared in the container.
    void share_bundle_dir() {
        bundle().config["mounts"].push_back(
            {{"destination", "/shared"}, {"type", "bind"}, {"source", bundle().dir()}, {"options", {"rbind"}}});
    }

    void expect_gone(const std::string& id) {
        EXPECT_NE(hrun({"state", id}).status, 0) << "state of " << id << " is still there";
        EXPECT_TRUE(cgroups_matching(id).empty()) << "a cgroup of " << id << " is left";
        std::vector<ProcessInfo> left;
        for (int i = 0; i < 50 && !(left = find_processes(bundle().rootfs())).empty(); ++i)
            std::this_thread::sleep_for(40ms);
        for (const ProcessInfo& p : left) ADD_FAILURE() << "process left: " << p.pid << " " << p.cmdline;
    }
};

// ---- pids ----

TEST_F(Resources, ForkBombStaysWithinPidsMaxAndIsDeletedCleanly) {
    const std::string id = unique_id();
    bundle().config["linux"]["resources"]["pids"] = {{"limit", 32}};
    // The bomb runs in a background subshell; the container's init stays a plain sleep.
    run_detached(id, {"/bin/sh", "-c", "(b() { b | b & }; b) & exec sleep 1000"});
    const std::string current = cgroup_file(id, "pids.current");
    const std::string events = cgroup_file(id, "pids.events");
    ASSERT_FALSE(current.empty()) << "no pids.current for " << id << " on " << host_cgroup_kind();

    uint64_t highest = 0;
    bool host_forked = false;
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < until) {
        if (auto n = number_in(current)) highest = std::max(highest, *n);
        if (!host_forked) {
            // The host (this test) can still start processes while the bomb runs.
            RunResult t = run_command({"/bin/true"}, {.timeout = 10s});
            EXPECT_EQ(t.status, 0) << t.describe();
            host_forked = t.status == 0;
        }
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(host_forked);
    EXPECT_LE(highest, 32u) << "pids.current went past pids.max";
    EXPECT_GE(highest, 8u) << "the bomb never took off";
    // The kernel refused forks at the limit: the bomb really pushed against it.
    if (!events.empty()) {
        EXPECT_GT(keyed_value(events, "max").value_or(0), 0u) << read_file(events).value_or("");
    }
    EXPECT_EQ(status_of(id), "running");

    RunResult del = hrun({"delete", "--force", id}, {.timeout = 120s});
    ASSERT_EQ(del.status, 0) << del.describe();
    expect_gone(id);
}

// ---- memory ----

TEST_F(Resources, MemoryHogIsOomKilledAndReported) {
    const std::string id = unique_id();
    // memory+swap equal to memory: no swap to escape into.
    bundle().config["linux"]["resources"]["memory"] = {{"limit", 32 << 20}, {"swap", 32 << 20}};
    bundle().set_args({"/bin/sh", "-c", "x=a; while :; do x=$x$x; done"});
    bundle().save();
    RunResult r = hrun({"run", "--keep", "--bundle", bundle().dir(), id}, {.timeout = 120s});
    EXPECT_EQ(r.status, 128 + SIGKILL) << r.describe();
    // hrun says why the container died, naming the limit.
    EXPECT_NE(r.err.find("OOM"), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find("linux.resources.memory.limit"), std::string::npos) << r.describe();

    // The kernel counted the kill in the container's cgroup (v2 memory.events, v1 oom_control).
    std::string counter = cgroup_file(id, "memory.events");
    if (counter.empty()) counter = cgroup_file(id, "memory.oom_control");
    ASSERT_FALSE(counter.empty()) << "no memory cgroup for " << id;
    EXPECT_GE(keyed_value(counter, "oom_kill").value_or(0), 1u) << counter << ":\n" << read_file(counter).value_or("");
    if (counter.ends_with("memory.events")) {
        // v2: the limit was hit, and the kill is also in the group-wide counter.
        EXPECT_GE(keyed_value(counter, "max").value_or(0), 1u) << read_file(counter).value_or("");
        EXPECT_GE(keyed_value(counter, "oom").value_or(0), 1u) << read_file(counter).value_or("");
    }
    EXPECT_EQ(status_of(id), "stopped");
    ASSERT_EQ(hrun({"delete", id}).status, 0);
    expect_gone(id);
}

// ---- cpu ----

TEST_F(Resources, CpuQuotaHoldsABusyLoopToAFifthOfACore) {
    const std::string id = unique_id();
    bundle().config["linux"]["resources"]["cpu"] = {{"quota", 20000}, {"period", 100000}};
    run_detached(id, {"/bin/sh", "-c", "while :; do :; done"});

    // Total CPU time of the cgroup in nanoseconds: v1 cpuacct.usage, v2 cpu.stat usage_usec.
    const std::string v1_usage = cgroup_file(id, "cpuacct.usage");
    const std::string cpu_stat = cgroup_file(id, "cpu.stat");
    auto usage_ns = [&]() -> std::optional<uint64_t> {
        if (!v1_usage.empty()) return number_in(v1_usage);
        if (auto us = keyed_value(cpu_stat, "usage_usec")) return *us * 1000;
        return std::nullopt;
    };
    ASSERT_TRUE(usage_ns().has_value()) << "no CPU accounting for " << id << " on " << host_cgroup_kind();

    std::this_thread::sleep_for(300ms);  // past the start of the loop
    const auto used_before = *usage_ns();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);
    const auto used_after = *usage_ns();
    const auto wall_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    const double share = static_cast<double>(used_after - used_before) / static_cast<double>(wall_ns);
    std::cout << "busy loop under a 20000/100000 quota used " << share * 100 << "% of one CPU\n";
    // Loose on purpose: scheduling and period boundaries blur it, an unlimited loop takes ~100%.
    EXPECT_GT(share, 0.10);
    EXPECT_LT(share, 0.35);
    EXPECT_GT(keyed_value(cpu_stat, "nr_throttled").value_or(0), 0u) << "the quota never throttled the loop";
    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
    expect_gone(id);
}

// ---- devices (v1 devices controller here, the BPF device program on cgroup v2) ----

TEST_F(Resources, DevicesOutsideTheAllowedListCannotBeOpened) {
    // CAP_MKNOD, so that what stops the container is the device cgroup, not a missing capability.
    add_capability("CAP_MKNOD");
    // One extra rule: the kmsg device may be opened for writing (an open that needs no privilege).
    bundle().config["linux"]["resources"]["devices"].push_back(
        {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 11}, {"access", "w"}});
    // Each probe's output is prefixed with a label: "sda.read=EPERM".
    bundle().set_args({"/bin/sh", "-c", R"(
p() { label=$1; shift; hrun-probe "$@" | sed "s/^/$label./"; }
mknod /dev/t-sda b 8 0 && echo sda.mknod=ok
mknod /dev/t-mem c 1 1 && echo mem.mknod=ok
mknod /dev/t-kmsg c 1 11 && echo kmsg.mknod=ok
mknod /dev/t-tty c 5 0 && echo tty.mknod=ok
p sda read /dev/t-sda
p mem read /dev/t-mem
p kmsg-read read /dev/t-kmsg
p kmsg write /dev/t-kmsg
p null write /dev/null
p zero write /dev/zero
p urandom write /dev/urandom
p tty write /dev/t-tty
)"});
    RunResult r = bundle().run({.timeout = 60s});
    ASSERT_EQ(r.status, 0) << r.describe();
    // Creating nodes is allowed for every device (runc's default "m" rules); opening is not.
    for (const char* n : {"sda", "mem", "kmsg", "tty"})
        EXPECT_EQ(fact(r.out, std::string(n) + ".mknod"), "ok") << n << "\n" << r.describe();
    EXPECT_EQ(fact(r.out, "sda.read"), "EPERM") << r.describe();
    EXPECT_EQ(fact(r.out, "mem.read"), "EPERM") << r.describe();
    // The rule allows w but not r on the same device.
    EXPECT_EQ(fact(r.out, "kmsg-read.read"), "EPERM") << r.describe();
    EXPECT_EQ(fact(r.out, "kmsg.write"), "ok") << r.describe();
    for (const char* n : {"null", "zero", "urandom"})
        EXPECT_EQ(fact(r.out, std::string(n) + ".write"), "ok") << n << "\n" << r.describe();
    // /dev/tty is allowed: without a controlling terminal the driver answers ENXIO, never the
    // cgroup's EPERM.
    EXPECT_NE(fact(r.out, "tty.write"), "EPERM") << r.describe();
    EXPECT_NE(fact(r.out, "tty.write"), "<absent>") << r.describe();
}

// ---- update ----

TEST_F(Resources, UpdateChangesMemoryAndPidsLimitsOfARunningContainer) {
    const std::string id = unique_id();
    bundle().config["linux"]["resources"]["memory"] = {{"limit", 256 << 20}};
    bundle().config["linux"]["resources"]["pids"] = {{"limit", 100}};
    // A shell as init: it reaps the orphans a failed fork below leaves behind.
    run_detached(id, {"/bin/sh", "-c", "while :; do sleep 1; done"});

    RunResult up = hrun({"update", "--memory", "33554432", "--memory-swap", "33554432", "--pids-limit", "6", id});
    ASSERT_EQ(up.status, 0) << up.describe();

    // Read back the way an engine does: `events --stats` reads the cgroup files.
    RunResult ev = hrun({"events", "--stats", id});
    ASSERT_EQ(ev.status, 0) << ev.describe();
    auto stats = json::parse(ev.out, nullptr, false);
    EXPECT_EQ(stats["data"]["memory"]["usage"].value("limit", uint64_t{0}), 33554432u) << ev.out;
    EXPECT_EQ(stats["data"]["pids"].value("limit", uint64_t{0}), 6u) << ev.out;

    // The new limits hold inside: six background sleeps next to the init, its sleep and the
    // exec'd shell are more processes than six allow ...
    RunResult forks = hrun({"exec", id, "/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done; wait"});
    EXPECT_NE(forks.err.find("fork"), std::string::npos) << "six processes were not refused a seventh\n"
                                                         << forks.describe();
    const std::string pids_current = cgroup_file(id, "pids.current");
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (number_in(pids_current).value_or(0) > 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(100ms);  // the sleeps end and the init reaps them
    // ... and a memory hog is killed at the new memory limit.
    RunResult hog = hrun({"exec", id, "/bin/sh", "-c", "x=a; while :; do x=$x$x; done"}, {.timeout = 120s});
    EXPECT_EQ(hog.status, 128 + SIGKILL) << hog.describe();
    EXPECT_EQ(status_of(id), "running") << "the init (a shell using little memory) should have survived";

    // Raising works too (the kernel refuses some lowering orders; raising must never fail).
    RunResult raise = hrun({"update", "--memory", "536870912", "--memory-swap", "536870912", "--pids-limit", "200", id});
    ASSERT_EQ(raise.status, 0) << raise.describe();
    RunResult again = hrun({"events", "--stats", id});
    auto raised = json::parse(again.out, nullptr, false);
    EXPECT_EQ(raised["data"]["memory"]["usage"].value("limit", uint64_t{0}), 536870912u) << again.out;
    EXPECT_EQ(raised["data"]["pids"].value("limit", uint64_t{0}), 200u) << again.out;

    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
    expect_gone(id);
}

// ---- pause / resume ----

TEST_F(Resources, PauseFreezesEveryProcessAndResumeThawsThem) {
    const std::string id = unique_id();
    share_bundle_dir();
    // Three counters, each a process appending to its own file: a file that stops growing is a
    // process that stopped running.
    run_detached(id, {"/bin/sh", "-c",
                      "for n in 1 2 3; do (while :; do echo x >> /shared/counter$n; sleep 0.05; done) & done; wait"});
    auto sizes = [&] {
        std::vector<uintmax_t> s;
        for (int n = 1; n <= 3; ++n) {
            std::error_code ec;
            auto size = fs::file_size(bundle().dir() + "/counter" + std::to_string(n), ec);
            s.push_back(ec ? 0 : size);
        }
        return s;
    };
    // Every counter is running before the pause.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    for (auto s = sizes(); std::count(s.begin(), s.end(), 0) > 0; s = sizes()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the counters never started";
        std::this_thread::sleep_for(50ms);
    }

    ASSERT_EQ(hrun({"pause", id}).status, 0);
    EXPECT_EQ(status_of(id), "paused");
    // The freezer reports the whole group frozen.
    if (std::string freeze = cgroup_file(id, "cgroup.freeze"); cgroup2_only()) {
        ASSERT_FALSE(freeze.empty());
        EXPECT_EQ(read_file(freeze).value_or(""), "1\n");
        EXPECT_EQ(keyed_value(cgroup_file(id, "cgroup.events"), "frozen").value_or(0), 1u);
    } else {
        std::string state = cgroup_file(id, "freezer.state");
        ASSERT_FALSE(state.empty()) << "no freezer for " << id;
        EXPECT_EQ(read_file(state).value_or(""), "FROZEN\n");
    }
    const std::string procs = cgroup_file(id, "cgroup.procs");
    const std::vector<pid_t> pids = pids_in(procs);
    EXPECT_GE(pids.size(), 4u) << "the shell and its three counters";
    if (!cgroup2_only()) {
        // The v1 freezer parks each task in the refrigerator, which /proc shows as D.
        for (pid_t p : pids) EXPECT_EQ(process_state(p), 'D') << "pid " << p << " " << process_comm(p);
    }
    const auto frozen_sizes = sizes();
    std::this_thread::sleep_for(700ms);
    EXPECT_EQ(sizes(), frozen_sizes) << "a counter kept running while paused";

    ASSERT_EQ(hrun({"resume", id}).status, 0);
    EXPECT_EQ(status_of(id), "running");
    deadline = std::chrono::steady_clock::now() + 20s;
    for (auto s = sizes();; s = sizes()) {
        bool all_grew = true;
        for (int i = 0; i < 3; ++i) all_grew &= s[i] > frozen_sizes[i];
        if (all_grew) break;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "a counter did not resume";
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
    expect_gone(id);
}

// ---- kill --all ----

TEST_F(Resources, KillAllReachesEveryProcessOfTheContainer) {
    const std::string id = unique_id();
    // No pid namespace: the children would outlive their init if only the init got the signal.
    bundle().remove_namespace("pid");
    run_detached(id, {"/bin/sh", "-c", "for i in 1 2 3 4; do sleep 1000 & done; wait"});
    const std::string procs = cgroup_file(id, "cgroup.procs");
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (pids_in(procs).size() < 5) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the children never started";
        std::this_thread::sleep_for(50ms);
    }
    RunResult k = hrun({"kill", "--all", id, "KILL"});
    ASSERT_EQ(k.status, 0) << k.describe();
    EXPECT_TRUE(wait_for_status(id, "stopped", 20s));
    deadline = std::chrono::steady_clock::now() + 20s;
    while (!pids_in(procs).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(pids_in(procs).empty()) << "processes survived kill --all";
    ASSERT_EQ(hrun({"delete", id}).status, 0);
    expect_gone(id);
}

// ---- cgroup v2 only ----

// On a v2-only host the container process is cloned straight into its cgroup (clone3 with
// CLONE_INTO_CGROUP) rather than forked in hrun's cgroup and moved. Shown with a cgroup for hrun
// itself that has no room for one more process: a plain fork there fails, the container starts.
TEST_F(Resources, ContainerIsBornInItsCgroupOnCgroup2) {
    if (!cgroup2_only()) GTEST_SKIP() << "needs a cgroup v2-only host (CLONE_INTO_CGROUP); this is " << host_cgroup_kind();
    const std::string cage = "/sys/fs/cgroup/hrun-it-cage-" + std::to_string(::getpid());
    ASSERT_TRUE(fs::create_directory(cage)) << cage;
    struct Cleanup {
        std::string dir;
        ~Cleanup() { ::rmdir(dir.c_str()); }
    } cleanup{cage};
    // One process: the shell that moves itself in and then becomes hrun.
    std::ofstream(cage + "/pids.max") << "1";
    ASSERT_EQ(read_file(cage + "/pids.max").value_or(""), "1\n");

    RunResult control = run_command({"/bin/sh", "-c", "echo $$ > " + cage + "/cgroup.procs && /bin/true"});
    EXPECT_NE(control.status, 0) << "a fork inside the full cgroup should fail\n" << control.describe();

    const std::string id = unique_id();
    bundle().set_args({"/bin/cat", "/proc/self/cgroup"});
    bundle().save();
    RunResult r = run_command({"/bin/sh", "-c",
                               "echo $$ > " + cage + "/cgroup.procs && exec " + hrun_binary() + " --root " +
                                   bundle().state_root() + " run --bundle " + bundle().dir() + " " + id});
    EXPECT_EQ(r.status, 0) << "the container could not start from a full cgroup\n" << r.describe();
    EXPECT_EQ(r.out, "0::/\n") << "the container sees its own cgroup as the root\n" << r.describe();
    expect_gone(id);
}

// A container may make sub-cgroups of its own (systemd in a container does). Delete kills what
// runs in them (cgroup.kill) and removes them with the container's cgroup.
TEST_F(Resources, SubCgroupsOfTheContainerAreKilledAndRemovedOnCgroup2) {
    if (!cgroup2_only()) GTEST_SKIP() << "needs a cgroup v2-only host; this is " << host_cgroup_kind();
    for (json& m : bundle().config["mounts"])
        if (m.value("destination", "") == "/sys/fs/cgroup") {
            json options = json::array();
            for (const auto& o : m["options"])
                if (o != "ro") options.push_back(o);
            options.push_back("rw");
            m["options"] = options;
        }
    const std::string id = unique_id();
    run_detached(id, {"/bin/sh", "-c",
                      "mkdir /sys/fs/cgroup/inner; sleep 1000 & echo $! > /sys/fs/cgroup/inner/cgroup.procs; "
                      "exec sleep 1000"});
    const std::string procs = cgroup_file(id, "cgroup.procs");
    ASSERT_FALSE(procs.empty());
    const std::string inner = fs::path(procs).parent_path() / "inner" / "cgroup.procs";
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (pids_in(inner).empty()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing moved into " << inner;
        std::this_thread::sleep_for(50ms);
    }
    const pid_t moved = pids_in(inner).front();
    RunResult del = hrun({"delete", "--force", id});
    ASSERT_EQ(del.status, 0) << del.describe();
    EXPECT_FALSE(fs::exists(fs::path(inner).parent_path())) << "the sub-cgroup is left";
    EXPECT_TRUE(::kill(moved, 0) != 0 || process_state(moved) == 'Z') << "pid " << moved << " survived";
    expect_gone(id);
}

}  // namespace
}  // namespace hrun::itest
