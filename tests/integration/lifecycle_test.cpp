// The runc lifecycle as engines drive it: create, start, state, kill, delete, list, ps, pause,
// resume, update; and what is left after a `create` that died or raced another.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace hrun::itest {
namespace {

class Lifecycle : public ContainerTest {
protected:
    // A failed assertion must not leave a container behind: every id is deleted by force.
    void TearDown() override { delete_all_containers(); }
    void create_sleeper(const std::string& id, const std::string& pid_file = "") {
        bundle().set_args({"/bin/sleep", "1000"});
        bundle().save();
        std::vector<std::string> args{"create", "--bundle", bundle().dir()};
        if (!pid_file.empty()) args.insert(args.end(), {"--pid-file", pid_file});
        args.push_back(id);
        RunResult r = hrun(args);
        ASSERT_EQ(r.status, 0) << r.describe();
    }
};

TEST_F(Lifecycle, CreateStartStateKillDelete) {
    const std::string id = unique_id();
    const std::string pid_file = bundle().dir() + "/pid";
    create_sleeper(id, pid_file);
    EXPECT_EQ(status_of(id), "created");
    auto pid_text = read_file(pid_file);
    ASSERT_TRUE(pid_text) << "no pid file";
    pid_t pid = std::atoi(pid_text->c_str());
    EXPECT_GT(pid, 0);
    // Created: the process exists but has not exec'd the container's program yet.
    EXPECT_NE(process_comm(pid), "sleep");

    RunResult started = hrun({"start", id});
    ASSERT_EQ(started.status, 0) << started.describe();
    EXPECT_EQ(status_of(id), "running");
    EXPECT_EQ(process_comm(pid), "sleep");

    RunResult listed = hrun({"list", "--format", "json"});
    ASSERT_EQ(listed.status, 0) << listed.describe();
    auto rows = json::parse(listed.out, nullptr, false);
    ASSERT_TRUE(rows.is_array()) << listed.out;
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].value("id", ""), id);
    EXPECT_EQ(rows[0].value("pid", 0), pid);

    RunResult ps = hrun({"ps", "--format", "json", id});
    ASSERT_EQ(ps.status, 0) << ps.describe();
    EXPECT_EQ(json::parse(ps.out, nullptr, false), json::array({pid}));

    RunResult second_start = hrun({"start", id});
    EXPECT_NE(second_start.status, 0) << "a running container cannot be started again";

    RunResult busy = hrun({"delete", id});
    EXPECT_NE(busy.status, 0);
    EXPECT_NE(busy.err.find("--force"), std::string::npos) << busy.describe();

    RunResult killed = hrun({"kill", id, "KILL"});
    ASSERT_EQ(killed.status, 0) << killed.describe();
    for (int i = 0; i < 100 && status_of(id) != "stopped"; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(status_of(id), "stopped");
    EXPECT_NE(hrun({"kill", id, "TERM"}).status, 0) << "kill of a stopped container is an error";

    RunResult deleted = hrun({"delete", id});
    ASSERT_EQ(deleted.status, 0) << deleted.describe();
    EXPECT_NE(hrun({"state", id}).status, 0);
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Lifecycle, StartRunsTheProgramWithItsOutput) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sh", "-c", "echo started > /tmp/marker; sleep 1000"});
    bundle().config["mounts"].push_back(
        {{"destination", "/tmp"}, {"type", "bind"}, {"source", bundle().dir()}, {"options", {"rbind"}}});
    bundle().save();
    ASSERT_EQ(hrun({"create", "--bundle", bundle().dir(), id}).status, 0);
    EXPECT_FALSE(read_file(bundle().dir() + "/marker")) << "the program ran before start";
    ASSERT_EQ(hrun({"start", id}).status, 0);
    std::optional<std::string> marker;
    // The shell creates the file before echo writes to it: wait for the whole line.
    for (int i = 0; i < 100; ++i) {
        marker = read_file(bundle().dir() + "/marker");
        if (marker && marker->find('\n') != std::string::npos) break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(marker.value_or("<none>"), "started\n");
    EXPECT_EQ(hrun({"delete", "--force", id}).status, 0);
}

TEST_F(Lifecycle, PauseResumeAndUpdate) {
    const std::string id = unique_id();
    create_sleeper(id);
    ASSERT_EQ(hrun({"start", id}).status, 0);
    ASSERT_EQ(hrun({"pause", id}).status, 0);
    EXPECT_EQ(status_of(id), "paused");
    EXPECT_NE(hrun({"pause", id}).status, 0) << "pausing twice is an error";
    ASSERT_EQ(hrun({"resume", id}).status, 0);
    EXPECT_EQ(status_of(id), "running");

    RunResult updated = hrun({"update", "--pids-limit", "7", "--memory", "67108864", id});
    ASSERT_EQ(updated.status, 0) << updated.describe();
    bool saw_pids = false, saw_memory = false;
    for (const std::string& dir : cgroups_matching(id)) {
        if (auto v = read_file(dir + "/pids.max")) saw_pids |= *v == "7\n";
        if (auto v = read_file(dir + "/memory.limit_in_bytes")) saw_memory |= *v == "67108864\n";
        if (auto v = read_file(dir + "/memory.max")) saw_memory |= *v == "67108864\n";
    }
    EXPECT_TRUE(saw_pids) << "pids.max not updated";
    EXPECT_TRUE(saw_memory) << "memory limit not updated";
    EXPECT_EQ(hrun({"delete", "--force", id}).status, 0);
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Lifecycle, RunDetachedThenDeleteForce) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(status_of(id), "running");
    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
    EXPECT_TRUE(find_processes(bundle().rootfs()).empty());
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Lifecycle, ForegroundRunLeavesNoState) {
    bundle().set_args({"/bin/true"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    RunResult listed = hrun({"list", "-q"});
    EXPECT_EQ(listed.out, "") << "run without --keep removes its state";
}

// `hrun create` killed with SIGKILL at an arbitrary moment: whatever it left, `delete --force`
// removes (processes, cgroups, state).
TEST_F(Lifecycle, CreateKilledAtAnyMomentIsCleanedByDeleteForce) {
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    const HostSnapshot before = HostSnapshot::take();
    for (int delay_us : {0, 200, 1000, 3000, 6000, 10000, 20000}) {
        const std::string id = unique_id();
        Process create({hrun_binary(), "--root", bundle().state_root(), "create", "--bundle",
                        bundle().dir(), id});
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
        ::kill(create.pid(), SIGKILL);
        create.wait();
        RunResult del = hrun({"delete", "--force", id});
        // "does not exist" is fine when it died before reserving the id.
        if (del.status != 0) {
            EXPECT_NE(del.err.find("does not exist"), std::string::npos) << delay_us << " us: " << del.describe();
        }
        std::this_thread::sleep_for(50ms);  // an orphaned child dies with its parent (pdeathsig)
        EXPECT_TRUE(cgroups_matching(id).empty()) << delay_us << " us";
        EXPECT_TRUE(find_processes(bundle().rootfs()).empty()) << delay_us << " us";
        EXPECT_NE(hrun({"state", id}).status, 0) << delay_us << " us";
    }
    for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;
}

// Several creates of one id at once: exactly one wins, the others fail clearly.
TEST_F(Lifecycle, ConcurrentCreatesOfOneIdHaveOneWinner) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    std::vector<std::unique_ptr<Process>> creates;
    for (int i = 0; i < 8; ++i)
        creates.push_back(std::make_unique<Process>(std::vector<std::string>{
            hrun_binary(), "--root", bundle().state_root(), "create", "--bundle", bundle().dir(), id}));
    int winners = 0;
    for (auto& p : creates) {
        RunResult r = p->wait();
        if (r.status == 0) {
            ++winners;
        } else {
            EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.describe();
        }
    }
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(status_of(id), "created");
    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Lifecycle, EventsStatsAndOom) {
    const std::string id = unique_id();
    create_sleeper(id);
    ASSERT_EQ(hrun({"start", id}).status, 0);
    RunResult ev = hrun({"events", "--stats", id});
    ASSERT_EQ(ev.status, 0) << ev.describe();
    auto j = json::parse(ev.out, nullptr, false);
    EXPECT_EQ(j.value("type", ""), "stats") << ev.out;
    EXPECT_EQ(j["data"]["pids"].value("current", 0), 1) << ev.out;
    EXPECT_GT(j["data"]["memory"]["usage"].value("usage", 0), 0) << ev.out;
    ASSERT_EQ(hrun({"delete", "--force", id}).status, 0);

    // A memory hog under 32 MiB: `events` reports the kernel's OOM kill, then ends with it.
    const std::string hog = unique_id();
    bundle().set_args({"/bin/sh", "-c", "sleep 1; x=a; while :; do x=$x$x; done"});
    bundle().config["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
    bundle().save();
    ASSERT_EQ(hrun({"run", "--detach", "--bundle", bundle().dir(), hog}).status, 0);
    RunResult watched = run_command({hrun_binary(), "--root", bundle().state_root(), "events",
                                     "--interval", "1", hog}, {.timeout = 60s});
    EXPECT_EQ(watched.status, 0) << watched.describe();
    EXPECT_NE(watched.out.find("{\"type\":\"oom\",\"id\":\"" + hog + "\"}"), std::string::npos)
        << watched.describe();
    EXPECT_EQ(status_of(hog), "stopped");
    ASSERT_EQ(hrun({"delete", hog}).status, 0);
}

// podman's --read-only: writable tmpfs dirs that start with the image's content.
TEST_F(Lifecycle, TmpcopyupSeedsTheTmpfsWithTheCoveredContent) {
    bundle().config["mounts"].push_back({{"destination", "/etc"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                                         {"options", {"nosuid", "nodev", "tmpcopyup", "size=1m"}}});
    bundle().set_args({"/bin/sh", "-c", "grep -c root /etc/passwd; echo new > /etc/added && cat /etc/added"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "1\nnew\n") << r.describe();
    EXPECT_FALSE(read_file(bundle().rootfs() + "/etc/added")) << "the write reached the image";
}

TEST_F(Lifecycle, SignalNamesAndNumbers) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sh", "-c", "trap 'exit 9' USR1; while :; do sleep 0.05; done"});
    bundle().save();
    ASSERT_EQ(hrun({"run", "--detach", "--bundle", bundle().dir(), id}).status, 0);
    EXPECT_NE(hrun({"kill", id, "SIGNOPE"}).status, 0);
    ASSERT_EQ(hrun({"kill", id, "SIGUSR1"}).status, 0);
    for (int i = 0; i < 100 && status_of(id) != "stopped"; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(status_of(id), "stopped");
    EXPECT_EQ(hrun({"delete", id}).status, 0);
}

}  // namespace
}  // namespace hrun::itest
