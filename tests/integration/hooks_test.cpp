// OCI hooks: each kind runs at its moment of create/start/delete (and of run), where the
// runtime-spec puts it (host or container namespaces), with the state JSON on stdin and exactly
// its own args and env; a timeout or a failure fails the operation cleanly, except poststop,
// whose failure is only a warning.
//
// Every hook is one recording script: it writes what it saw to <log>/<kind>.facts (key=value)
// and appends its kind to <log>/sequence. <log> is a host directory, bind-mounted at /hooklog
// for the hook that runs inside the container (startContainer).
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

const char kRecorder[] = R"SH(#!/bin/sh
# record-hook LOGDIR KIND [EXTRA...]
log=$1; kind=$2; shift 2
state=$(cat)
pid=$(printf '%s' "$state" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
bundle=$(printf '%s' "$state" | sed -n 's/.*"bundle":"\([^"]*\)".*/\1/p')
proc_mounted() {  # is the container's /proc mounted, in the mount table $1?
  awk -v mp="$bundle/rootfs/proc" '$5 == mp { n++ } END { print n + 0 }' "$1" 2>/dev/null
}
{
  echo "extra=$*"
  echo "ns.mnt=$(readlink /proc/self/ns/mnt)"
  echo "ns.pid=$(readlink /proc/self/ns/pid)"
  echo "ns.net=$(readlink /proc/self/ns/net)"
  echo "ns.uts=$(readlink /proc/self/ns/uts)"
  echo "hostname=$(hostname)"
  if [ -e /bin/hrun-probe ]; then echo "root=container"; else echo "root=host"; fi
  echo "pid.comm=$(cat /proc/$pid/comm 2>/dev/null)"
  echo "pid.proc_mounted=$(proc_mounted /proc/$pid/mountinfo)"
  echo "self.proc_mounted=$(proc_mounted /proc/self/mountinfo)"
  env | sed 's/^/env./'
  echo "state=$state"
} > "$log/$kind.facts"
echo "$kind" >> "$log/sequence"
)SH";

const std::vector<std::string> kAllKinds = {"prestart",       "createRuntime", "createContainer",
                                            "startContainer", "poststart",     "poststop"};

bool runs_in_container(const std::string& kind) { return kind == "startContainer"; }

std::map<std::string, std::string> parse_facts(const std::string& text) {
    std::map<std::string, std::string> facts;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        auto eq = line.find('=');
        if (eq != std::string::npos) facts[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return facts;
}

std::string ns_link(const std::string& type, const std::string& inode) { return type + ":[" + inode + "]"; }

class Hooks : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        log_ = bundle().dir() + "/hooklog";
        ::mkdir(log_.c_str(), 0777);
        recorder_ = bundle().dir() + "/record-hook";
        write_executable(recorder_, kRecorder);
        write_executable(bundle().rootfs() + "/bin/record-hook", kRecorder);
        bundle().config["mounts"].push_back(
            {{"destination", "/hooklog"}, {"type", "bind"}, {"source", log_}, {"options", {"rbind", "rw"}}});
        bundle().set_args({"/bin/sleep", "1000"});
    }

    // The recording hook of `kind`: inside the container its paths are the container's.
    json recording_hook(const std::string& kind) {
        bool inside = runs_in_container(kind);
        std::string path = inside ? "/bin/record-hook" : recorder_;
        return {{"path", path},
                {"args", {"record-hook", inside ? "/hooklog" : log_, kind, "extra-1", "two words"}},
                {"env", {"HOOK_KIND=" + kind, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}}};
    }
    void record_all_hooks() {
        for (const auto& kind : kAllKinds) bundle().config["hooks"][kind] = json::array({recording_hook(kind)});
        bundle().save();
    }

    std::vector<std::string> sequence() {
        std::vector<std::string> seq;
        std::istringstream lines(read_file(log_ + "/sequence").value_or(""));
        for (std::string line; std::getline(lines, line);) seq.push_back(line);
        return seq;
    }
    std::map<std::string, std::string> facts(const std::string& kind) {
        return parse_facts(read_file(log_ + "/" + kind + ".facts").value_or(""));
    }
    json state_seen_by(const std::string& kind) {
        return json::parse(facts(kind)["state"], nullptr, false);
    }

    // hrun's own environment carries a sentinel that no hook may see.
    RunResult hrun_env(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) {
        return hrun(args, {.timeout = timeout, .env_add = {"HRUN_TEST_SENTINEL=leaked"}});
    }

    // The state a hook got, its args and env.
    void expect_state_args_env(const std::string& kind, const std::string& id, const std::string& status) {
        json st = state_seen_by(kind);
        ASSERT_TRUE(st.is_object()) << kind << " got no state JSON: " << facts(kind)["state"];
        EXPECT_EQ(st.value("id", ""), id) << kind;
        EXPECT_EQ(st.value("status", ""), status) << kind;
        EXPECT_EQ(st.value("bundle", ""), bundle().dir()) << kind;
        EXPECT_FALSE(st.value("ociVersion", "").empty()) << kind;
        EXPECT_TRUE(st.contains("pid")) << kind;
        auto f = facts(kind);
        EXPECT_EQ(f["extra"], "extra-1 two words") << kind << ": args";
        EXPECT_EQ(f["env.HOOK_KIND"], kind) << kind << ": env";
        EXPECT_EQ(f.count("env.HRUN_TEST_SENTINEL"), 0u) << kind << ": hrun's environment leaked into the hook";
    }

    // Runs in hrun's namespaces, with the host's root.
    void expect_on_host(const std::string& kind) {
        auto f = facts(kind);
        auto host = host_namespaces();
        EXPECT_EQ(f["ns.mnt"], ns_link("mnt", host["mnt"])) << kind;
        EXPECT_EQ(f["ns.pid"], ns_link("pid", host["pid"])) << kind;
        EXPECT_EQ(f["ns.uts"], ns_link("uts", host["uts"])) << kind;
        EXPECT_EQ(f["root"], "host") << kind;
    }

    // Runs in the namespaces of the container whose init is `pid`.
    void expect_in_container_namespaces(const std::string& kind, pid_t pid) {
        auto f = facts(kind);
        for (const std::string type : {"mnt", "pid", "net", "uts"})
            EXPECT_EQ(f["ns." + type], ns_link(type, ns_inode(pid, type))) << kind << ": " << type;
        EXPECT_EQ(f["hostname"], bundle().config.value("hostname", "")) << kind;
    }

    std::string log_;
    std::string recorder_;
};

TEST_F(Hooks, CreateStartDeleteRunEachKindAtItsMoment) {
    record_all_hooks();
    const std::string id = unique_id();
    RunResult created = hrun_env({"create", "--bundle", bundle().dir(), id});
    ASSERT_EQ(created.status, 0) << created.describe();
    EXPECT_EQ(sequence(), (std::vector<std::string>{"prestart", "createRuntime", "createContainer"}));
    const pid_t pid = pid_of(id);
    ASSERT_GT(pid, 0);
    for (const std::string kind : {"prestart", "createRuntime"}) {
        expect_state_args_env(kind, id, "creating");
        EXPECT_EQ(state_seen_by(kind).value("pid", 0), pid) << kind;
        expect_on_host(kind);
        // The container process exists, has not exec'd the program, and its mounts are made
        // (runc runs these after the mounts, right before pivot_root).
        EXPECT_FALSE(facts(kind)["pid.comm"].empty()) << kind;
        EXPECT_NE(facts(kind)["pid.comm"], "sleep") << kind;
        EXPECT_EQ(facts(kind)["pid.proc_mounted"], "1") << kind << ": the container's mounts are not made yet";
    }
    // createContainer: in the container's namespaces, after its mounts, before pivot_root (its
    // path and files resolve on the host).
    expect_state_args_env("createContainer", id, "creating");
    expect_in_container_namespaces("createContainer", pid);
    EXPECT_EQ(facts("createContainer")["root"], "host");
    EXPECT_EQ(facts("createContainer")["self.proc_mounted"], "1");

    RunResult started = hrun_env({"start", id});
    ASSERT_EQ(started.status, 0) << started.describe();
    EXPECT_EQ(sequence(), (std::vector<std::string>{"prestart", "createRuntime", "createContainer",
                                                    "startContainer", "poststart"}));
    // startContainer: inside the container (its root, its namespaces), before the program.
    expect_state_args_env("startContainer", id, "created");
    expect_in_container_namespaces("startContainer", pid);
    EXPECT_EQ(facts("startContainer")["root"], "container");
    EXPECT_NE(facts("startContainer")["pid.comm"], "sleep") << "the program ran before startContainer";
    // The pid as seen from the host (the runtime-spec) or, as runc reports it, from inside.
    json pid_seen = state_seen_by("startContainer")["pid"];
    EXPECT_TRUE(pid_seen == json(pid) || pid_seen == json(1)) << pid_seen;
    // poststart: on the host, once the program runs.
    expect_state_args_env("poststart", id, "running");
    EXPECT_EQ(state_seen_by("poststart").value("pid", 0), pid);
    expect_on_host("poststart");
    EXPECT_EQ(facts("poststart")["pid.comm"], "sleep");

    ASSERT_EQ(hrun({"kill", id, "KILL"}).status, 0);
    ASSERT_TRUE(eventually([&] { return status_of(id) == "stopped"; }));
    EXPECT_EQ(sequence().size(), 5u) << "poststop ran before delete";
    RunResult deleted = hrun_env({"delete", id});
    ASSERT_EQ(deleted.status, 0) << deleted.describe();
    EXPECT_EQ(sequence().back(), "poststop");
    expect_state_args_env("poststop", id, "stopped");
    expect_on_host("poststop");
}

TEST_F(Hooks, RunRunsEveryKindInOrder) {
    bundle().set_args({"/bin/sh", "-c", "echo program >> /hooklog/sequence"});
    record_all_hooks();
    const std::string id = unique_id();
    RunResult r = hrun_env({"run", "--bundle", bundle().dir(), id});
    ASSERT_EQ(r.status, 0) << r.describe();
    std::vector<std::string> seq = sequence();
    // The program and poststart may write in either order; everything else is fixed.
    auto program = std::find(seq.begin(), seq.end(), "program");
    ASSERT_NE(program, seq.end()) << "the program did not run";
    auto startc = std::find(seq.begin(), seq.end(), "startContainer");
    EXPECT_LT(startc, program) << "startContainer must run before the program";
    seq.erase(program);
    EXPECT_EQ(seq, kAllKinds);
    for (const auto& kind : kAllKinds) {
        static const std::map<std::string, std::string> status = {
            {"prestart", "creating"}, {"createRuntime", "creating"}, {"createContainer", "creating"},
            {"startContainer", "created"}, {"poststart", "running"}, {"poststop", "stopped"}};
        expect_state_args_env(kind, id, status.at(kind));
    }
    EXPECT_EQ(hrun({"list", "-q"}).out, "") << "run leaves no state";
}

// ---- failures ----

class HookFailures : public Hooks {
protected:
    // Exits 3 after saying why on stderr; the same script inside the rootfs for startContainer.
    json failing_hook(const std::string& kind) {
        const char text[] = "#!/bin/sh\necho \"hook says no\" >&2\nexit 3\n";
        write_executable(bundle().dir() + "/failing-hook", text);
        write_executable(bundle().rootfs() + "/bin/failing-hook", text);
        return {{"path", runs_in_container(kind) ? "/bin/failing-hook" : bundle().dir() + "/failing-hook"}};
    }
    // Sleeps far past a 1 s timeout, in a child process (the whole group must die).
    json sleeping_hook(const std::string& kind, const std::string& duration) {
        const std::string text = "#!/bin/sh\nsleep " + duration + " &\nwait\n";
        write_executable(bundle().dir() + "/sleeping-hook", text);
        write_executable(bundle().rootfs() + "/bin/sleeping-hook", text);
        return {{"path", runs_in_container(kind) ? "/bin/sleeping-hook" : bundle().dir() + "/sleeping-hook"},
                {"timeout", 1}};
    }
    void expect_names_hook(const RunResult& r, const std::string& kind, const std::string& what) {
        EXPECT_NE(r.status, 0) << r.describe();
        EXPECT_NE(r.err.find("hooks." + kind + "[0]"), std::string::npos) << r.describe();
        EXPECT_NE(r.err.find(what), std::string::npos) << r.describe();
    }
    // A container stopped by a failed start: nothing of it runs, `delete` removes the rest.
    void expect_stopped_then_deleted(const std::string& id, pid_t pid) {
        EXPECT_TRUE(eventually([&] { return status_of(id) == "stopped"; }, 5s)) << status_of(id);
        EXPECT_TRUE(pid <= 0 || status_field(pid, "State").empty() || status_field(pid, "State")[0] == 'Z');
        RunResult del = hrun({"delete", id});
        EXPECT_EQ(del.status, 0) << del.describe();
        EXPECT_TRUE(cgroups_matching(id).empty());
    }
};

TEST_F(HookFailures, CreateTimeHookFailureFailsCreateLeavingNothing) {
    const HostSnapshot before = HostSnapshot::take();
    for (const std::string kind : {"prestart", "createRuntime", "createContainer"}) {
        bundle().config["hooks"] = {{kind, json::array({failing_hook(kind)})}};
        bundle().save();
        const std::string id = unique_id();
        RunResult r = hrun({"create", "--bundle", bundle().dir(), id});
        expect_names_hook(r, kind, "hook says no");
        EXPECT_NE(r.err.find("status 3"), std::string::npos) << r.describe();
        EXPECT_NE(hrun({"state", id}).status, 0) << kind << ": state left";
        EXPECT_TRUE(cgroups_matching(id).empty()) << kind;
        EXPECT_TRUE(find_processes(id).empty()) << kind;
    }
    expect_no_host_leaks(before);
}

TEST_F(HookFailures, HookPastItsTimeoutFailsTheOperation) {
    const HostSnapshot before = HostSnapshot::take();
    for (const std::string kind : {"prestart", "createRuntime", "createContainer"}) {
        const std::string duration = "30." + std::to_string(::getpid() % 1000) + "1";
        bundle().config["hooks"] = {{kind, json::array({sleeping_hook(kind, duration)})}};
        bundle().save();
        const std::string id = unique_id();
        auto t0 = std::chrono::steady_clock::now();
        RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
        auto took = std::chrono::steady_clock::now() - t0;
        expect_names_hook(r, kind, "timed out");
        EXPECT_LT(took, 10s) << kind << ": the timeout was not enforced";
        EXPECT_TRUE(eventually([&] { return find_processes("sleep " + duration).empty(); }, 3s))
            << kind << ": the hook's child outlived the timeout";
        EXPECT_NE(hrun({"state", id}).status, 0) << kind << ": state left";
        EXPECT_TRUE(cgroups_matching(id).empty()) << kind;
    }
    expect_no_host_leaks(before);
}

TEST_F(HookFailures, StartContainerFailureFailsStart) {
    bundle().config["hooks"] = {{"startContainer", json::array({failing_hook("startContainer")})}};
    bundle().save();
    const std::string id = unique_id();
    ASSERT_EQ(hrun({"create", "--bundle", bundle().dir(), id}).status, 0);
    pid_t pid = pid_of(id);
    RunResult r = hrun({"start", id});
    expect_names_hook(r, "startContainer", "hook says no");
    expect_stopped_then_deleted(id, pid);
}

TEST_F(HookFailures, StartContainerTimeoutFailsStart) {
    bundle().config["hooks"] = {{"startContainer", json::array({sleeping_hook("startContainer", "30")})}};
    bundle().save();
    const std::string id = unique_id();
    ASSERT_EQ(hrun({"create", "--bundle", bundle().dir(), id}).status, 0);
    pid_t pid = pid_of(id);
    RunResult r = hrun({"start", id}, {.timeout = 20s});
    expect_names_hook(r, "startContainer", "timed out");
    expect_stopped_then_deleted(id, pid);
}

TEST_F(HookFailures, PoststartFailureFailsStartAndStopsTheContainer) {
    bundle().config["hooks"] = {{"poststart", json::array({failing_hook("poststart")})}};
    bundle().save();
    const std::string id = unique_id();
    ASSERT_EQ(hrun({"create", "--bundle", bundle().dir(), id}).status, 0);
    pid_t pid = pid_of(id);
    RunResult r = hrun({"start", id});
    expect_names_hook(r, "poststart", "hook says no");
    expect_stopped_then_deleted(id, pid);
}

TEST_F(HookFailures, PoststartFailureFailsRunLeavingNothing) {
    bundle().config["hooks"] = {{"poststart", json::array({failing_hook("poststart")})}};
    bundle().save();
    const HostSnapshot before = HostSnapshot::take();
    const std::string id = unique_id();
    RunResult r = hrun({"run", "--bundle", bundle().dir(), id});
    expect_names_hook(r, "poststart", "hook says no");
    EXPECT_NE(hrun({"state", id}).status, 0) << "state left";
    expect_no_host_leaks(before);
}

TEST_F(HookFailures, PoststopFailureIsOnlyAWarning) {
    // The first poststop hook fails; the second still runs, and the container is deleted.
    bundle().config["hooks"] = {{"poststop", json::array({failing_hook("poststop"), recording_hook("poststop")})}};
    bundle().save();
    const std::string id = unique_id();
    ASSERT_EQ(run_sleeper(id) > 0, true);
    RunResult r = hrun({"delete", "--force", id});
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("hooks.poststop[0]"), std::string::npos) << "no warning: " << r.describe();
    EXPECT_EQ(sequence(), std::vector<std::string>{"poststop"}) << "the next poststop hook did not run";
    EXPECT_NE(hrun({"state", id}).status, 0);
    EXPECT_TRUE(cgroups_matching(id).empty());
}

}  // namespace
}  // namespace hrun::itest
