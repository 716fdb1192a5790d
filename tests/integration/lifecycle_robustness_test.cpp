// hrun killed with SIGKILL in the middle of `start`, `run --detach` and `exec`, and many
// lifecycles racing one another: whatever is cut short, `delete --force` leaves no process,
// cgroup, mount or state behind, and every command that loses a race says why.
//
// A stage is reached in two ways: a delay after launch (sweeping the early, unnamed steps), or a
// hook that marks its own start and then stays as long as the hrun that runs it (the named
// steps: prestart, createRuntime, createContainer, poststart).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <latch>
#include <regex>
#include <thread>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

class Robustness : public RuntimeTest {
protected:
    // Marks that it runs (touch $1), then waits while its parent lives (at most 20 s), so that
    // killing hrun at this stage also ends the hook.
    std::string stage_hook() {
        const std::string path = bundle().dir() + "/stage-hook.sh";
        write_executable(path,
                         "#!/bin/sh\n"
                         "touch \"$1\"\n"
                         "i=0\n"
                         "while [ $i -lt 400 ] && kill -0 \"$PPID\" 2>/dev/null; do\n"
                         "  sleep 0.05; i=$((i + 1))\n"
                         "done\n");
        return path;
    }

    // A config whose only hook is the stage hook of `kind`, marking `marker`.
    void hook_stage(const std::string& kind, const std::string& marker) {
        bundle().config.erase("hooks");
        if (!kind.empty()) {
            const std::string hook = stage_hook();
            bundle().config["hooks"][kind] = json::array({{{"path", hook}, {"args", {hook, marker}}}});
        }
        bundle().set_args({"/bin/sleep", "1000"});
        bundle().save();
    }

    std::string marker_for(const std::string& id) { return bundle().dir() + "/reached-" + id; }

    // Runs hrun with `args` and SIGKILLs it once `marker` exists.
    void kill_when_marked(const std::vector<std::string>& args, const std::string& marker,
                          const std::string& label) {
        Process p(hrun_argv(args));
        bool reached = eventually([&] { return read_file(marker).has_value(); }, 20s);
        EXPECT_TRUE(reached) << label << ": the stage was never reached: " << p.wait(1s).describe();
        ::kill(p.pid(), SIGKILL);
        p.wait();
    }

    // Runs hrun with `args` and SIGKILLs it after `delay`.
    void kill_after(const std::vector<std::string>& args, std::chrono::microseconds delay) {
        Process p(hrun_argv(args));
        std::this_thread::sleep_for(delay);
        ::kill(p.pid(), SIGKILL);
        p.wait();
    }

    void create_or_fail(const std::string& id) {
        RunResult r = hrun({"create", "--bundle", bundle().dir(), id});
        ASSERT_EQ(r.status, 0) << r.describe();
    }
};

const std::vector<int> kDelaysUs = {0, 300, 1000, 2500, 5000, 9000, 15000, 30000};

TEST_F(Robustness, CreateKilledInEachHookStage) {
    const HostSnapshot before = HostSnapshot::take();
    for (const std::string kind : {"prestart", "createRuntime", "createContainer"}) {
        const std::string id = unique_id();
        hook_stage(kind, marker_for(id));
        kill_when_marked({"create", "--bundle", bundle().dir(), id}, marker_for(id), kind);
        expect_gone_after_delete_force(id, "create killed in " + kind);
    }
    expect_no_host_leaks(before);
}

TEST_F(Robustness, StartKilledAtAnyMoment) {
    hook_stage("", "");
    const HostSnapshot before = HostSnapshot::take();
    for (int delay : kDelaysUs) {
        const std::string id = unique_id();
        create_or_fail(id);
        kill_after({"start", id}, std::chrono::microseconds(delay));
        expect_gone_after_delete_force(id, "start killed after " + std::to_string(delay) + " us");
    }
    expect_no_host_leaks(before);
}

TEST_F(Robustness, StartKilledWhilePoststartRuns) {
    const HostSnapshot before = HostSnapshot::take();
    const std::string id = unique_id();
    hook_stage("poststart", marker_for(id));
    create_or_fail(id);
    kill_when_marked({"start", id}, marker_for(id), "poststart");
    // The user's program was running when start died: the container is there to delete.
    EXPECT_EQ(status_of(id), "running");
    expect_gone_after_delete_force(id, "start killed in poststart");
    expect_no_host_leaks(before);
}

// startContainer belongs to `start`, which waits for it: kill `start` while the hook runs in
// the container (the hook, in the container's cgroup, stays until delete --force).
TEST_F(Robustness, StartKilledWhileStartContainerRuns) {
    const HostSnapshot before = HostSnapshot::take();
    const std::string id = unique_id();
    const std::string markers = bundle().dir() + "/markers";
    ::mkdir(markers.c_str(), 0755);
    bundle().config["mounts"].push_back(
        {{"destination", "/markers"}, {"type", "bind"}, {"source", markers}, {"options", {"rbind", "rw"}}});
    hook_stage("startContainer", "/markers/" + id);
    // Inside the container the hook's path is the container's: the same script in the rootfs.
    write_executable(bundle().rootfs() + "/bin/stage-hook", read_file(stage_hook()).value_or(""));
    bundle().config["hooks"]["startContainer"][0]["path"] = "/bin/stage-hook";
    bundle().save();
    create_or_fail(id);
    kill_when_marked({"start", id}, markers + "/" + id, "startContainer");
    expect_gone_after_delete_force(id, "start killed in startContainer");
    expect_no_host_leaks(before);
}

TEST_F(Robustness, RunDetachKilledAtAnyMoment) {
    hook_stage("", "");
    const HostSnapshot before = HostSnapshot::take();
    for (int delay : kDelaysUs) {
        const std::string id = unique_id();
        kill_after({"run", "--detach", "--bundle", bundle().dir(), id}, std::chrono::microseconds(delay));
        expect_gone_after_delete_force(id, "run --detach killed after " + std::to_string(delay) + " us");
    }
    expect_no_host_leaks(before);
}

TEST_F(Robustness, RunDetachKilledInEachHookStage) {
    const HostSnapshot before = HostSnapshot::take();
    for (const std::string kind : {"prestart", "createRuntime", "createContainer", "poststart"}) {
        const std::string id = unique_id();
        hook_stage(kind, marker_for(id));
        kill_when_marked({"run", "--detach", "--bundle", bundle().dir(), id}, marker_for(id), kind);
        expect_gone_after_delete_force(id, "run --detach killed in " + kind);
    }
    expect_no_host_leaks(before);
}

// A killed `exec` may leave the process it started (runc does too), but only inside the
// container, where `delete --force` reaches it: in the container's pid namespace and cgroup.
// Nothing half set up (still hrun, not yet the program) may survive it.
class ExecKilled : public Robustness {
protected:
    void SetUp() override {
        Robustness::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        hook_stage("", "");
        before_ = HostSnapshot::take();
        id_ = unique_id();
        bundle().set_args({"/bin/sleep", "1000"});
        init_ = run_sleeper(id_);
        ASSERT_GT(init_, 0);
        pid_ns_ = ns_inode(init_, "pid");
        mnt_ns_ = ns_inode(init_, "mnt");
        cgroup_ = read_file("/proc/" + std::to_string(init_) + "/cgroup").value_or("?");
    }

    // Every process in the container's mount or pid namespace is one `delete --force` kills, and
    // no hrun process (they name the container on their command line) outlives the killed exec.
    void expect_only_container_processes(const std::string& label) {
        EXPECT_TRUE(eventually([&] { return find_processes(id_).empty(); }, 3s))
            << label << ": an hrun process of the killed exec is left";
        std::vector<pid_t> procs = processes_in_ns("pid", pid_ns_);
        for (pid_t p : processes_in_ns("mnt", mnt_ns_)) procs.push_back(p);
        for (pid_t p : procs) {
            auto cg = read_file("/proc/" + std::to_string(p) + "/cgroup");
            // Exited meanwhile, or exiting: cgroup v1 reports an exiting task in "/" everywhere.
            if (!cg || exiting(p)) continue;
            EXPECT_EQ(ns_inode(p, "pid"), pid_ns_) << label << ": pid " << p << " [" << process_comm(p)
                                                   << "] is outside the container's pid namespace";
            EXPECT_EQ(*cg, cgroup_) << label << ": pid " << p << " [" << process_comm(p)
                                    << "] is outside the container's cgroup";
        }
        EXPECT_EQ(status_of(id_), "running") << label;
    }

    void finish() {
        expect_gone_after_delete_force(id_, "after the killed execs");
        // SIGKILL is delivered at once but the processes exit (and leave their namespaces) in
        // their own time: both checks wait, as `delete --force` itself does not.
        EXPECT_TRUE(eventually([&] { return processes_in_ns("pid", pid_ns_).empty(); }, 3s))
            << "processes left in the container's pid namespace";
        EXPECT_TRUE(eventually([&] { return processes_in_ns("mnt", mnt_ns_).empty(); }, 3s))
            << "processes left in its mount namespace";
        expect_no_host_leaks(before_);
    }

    std::string id_;
    pid_t init_ = 0;
    std::string pid_ns_, mnt_ns_, cgroup_;
    HostSnapshot before_;
};

TEST_F(ExecKilled, ForegroundExecAtAnyMoment) {
    for (int delay : kDelaysUs) {
        kill_after({"exec", id_, "/bin/sleep", "999"}, std::chrono::microseconds(delay));
        expect_only_container_processes("exec killed after " + std::to_string(delay) + " us");
    }
    finish();
}

TEST_F(ExecKilled, DetachedExecAtAnyMoment) {
    for (int delay : kDelaysUs) {
        kill_after({"exec", "--detach", id_, "/bin/sleep", "999"}, std::chrono::microseconds(delay));
        expect_only_container_processes("exec --detach killed after " + std::to_string(delay) + " us");
    }
    finish();
}

TEST_F(ExecKilled, WhileItsProcessRuns) {
    Process exec(hrun_argv({"exec", id_, "/bin/hrun-probe", "sleep", "999"}));
    ASSERT_TRUE(exec.wait_for_output("ready", 10s)) << exec.wait(1s).describe();
    ::kill(exec.pid(), SIGKILL);
    exec.wait();
    expect_only_container_processes("exec killed while supervising");
    finish();
}

// 50 lifecycles at once, ten of them on ids another one uses: every command succeeds or says
// plainly why not, and afterwards nothing is left.
TEST_F(Robustness, FiftyLifecyclesAtOnceWithCollidingIds) {
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    const HostSnapshot before = HostSnapshot::take();
    const std::string base = unique_id();
    constexpr int kWorkers = 50;
    constexpr int kPairs = 10;  // workers 2k and 2k+1 (k < 10) share an id, and start together
    constexpr int kDistinctIds = kWorkers - kPairs;
    struct Lifecycle {
        std::string id;
        RunResult create, start, remove;
    };
    std::vector<Lifecycle> runs(kWorkers);
    auto started = std::chrono::steady_clock::now();
    {
        // Every worker waits at the gate until all exist, so that the lifecycles overlap.
        std::latch gate(kWorkers + 1);
        std::vector<std::thread> workers;
        for (int i = 0; i < kWorkers; ++i) {
            runs[i].id = base + "-" + std::to_string(i < 2 * kPairs ? i / 2 : i - kPairs);
            workers.emplace_back([this, &gate, &run = runs[i]] {
                gate.arrive_and_wait();
                const RunOptions slow{.timeout = 90s};
                run.create = run_command(hrun_argv({"create", "--bundle", bundle().dir(), run.id}), slow);
                run.start = run_command(hrun_argv({"start", run.id}), slow);
                run.remove = run_command(hrun_argv({"delete", "--force", run.id}), slow);
            });
        }
        started = std::chrono::steady_clock::now();
        gate.arrive_and_wait();
        for (auto& w : workers) w.join();
    }
    const auto seconds =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count() /
        1000.0;
    std::printf("[          ] %d lifecycles in %.1f s\n", kWorkers, seconds);

    // The errors a lost race may give: the id is taken, gone, or no longer waiting for start.
    const std::regex clear_error("already exists|does not exist|\\(not created\\)");
    std::map<std::string, int> created_ok;
    std::map<std::string, int> tally;  // "create ok", "start does not exist", ...
    int successes = 0;
    for (const auto& run : runs) {
        using Step = std::pair<const char*, const RunResult*>;
        for (const auto& [what, r] : {Step{"create", &run.create}, Step{"start", &run.start},
                                      Step{"delete --force", &run.remove}}) {
            EXPECT_FALSE(r->timed_out) << what << " " << run.id << " hung: " << r->describe();
            std::smatch reason;
            std::regex_search(r->err, reason, clear_error);
            ++tally[std::string(what) + " " + (r->status == 0 ? "ok" : reason.empty() ? "?" : reason.str())];
            if (r->status == 0) {
                ++successes;
                continue;
            }
            EXPECT_EQ(r->status, 1) << what << " " << run.id << ": " << r->describe();
            EXPECT_TRUE(std::regex_search(r->err, clear_error))
                << what << " " << run.id << " failed without a clear reason: " << r->describe();
        }
        created_ok[run.id] += run.create.status == 0;
    }
    for (const auto& [outcome, count] : tally) std::printf("[          ]   %-32s %d\n", outcome.c_str(), count);
    // The first create of each id finds it free.
    for (const auto& [id, wins] : created_ok) EXPECT_GE(wins, 1) << id << " was never created";
    EXPECT_GE(successes, 3 * kDistinctIds) << "most commands should have succeeded";

    RunResult left = hrun({"list", "-q"});
    EXPECT_EQ(left.out, "") << "containers left";
    EXPECT_TRUE(find_processes(base).empty()) << "an hrun process is left";
    EXPECT_TRUE(processes_in_cgroups_named(base).empty()) << "a container process is left";
    EXPECT_TRUE(cgroups_matching(base).empty()) << joined(cgroups_matching(base));
    expect_no_host_leaks(before);
}

}  // namespace
}  // namespace hrun::itest
