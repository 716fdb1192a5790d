// runc's command-line and runtime contract as engines and scripts use it, each case checked
// against runc 1.1.5: what `spec` writes, the units `events` and `update` take, the exit codes of
// `delete --force` and `kill --all`, a cgroup frozen before start, the device allowlist, the
// console under a read-only /dev, nested cgroup v1 cpusets, the hooks' working directory and
// `--debug`.
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

class RuncContract : public RuntimeTest {};

// `runc spec` asks for a terminal; so does `hrun spec`. make-bundle.sh turns it off for bundles
// run without one, and such a bundle runs.
TEST_F(RuncContract, SpecAsksForATerminalAsRuncDoes) {
    TempDir tmp;
    RunResult r = run_command({hrun_binary(), "spec", "--bundle", tmp.path()});
    ASSERT_EQ(r.status, 0) << r.describe();
    json c = json::parse(read_file(tmp.path() + "/config.json").value_or("{}"));
    EXPECT_EQ(c["process"]["terminal"], true) << c.dump(2);
    EXPECT_EQ(c["process"]["args"], json::array({"sh"}));

    EXPECT_EQ(json::parse(read_file(bundle().dir() + "/config.json").value_or("{}"))["process"]["terminal"], false)
        << "make-bundle.sh leaves a terminal on";
    bundle().set_args({"/bin/echo", "no tty needed"});
    RunResult run = bundle().run();
    ASSERT_EQ(run.status, 0) << run.describe();
    EXPECT_EQ(run.out, "no tty needed\n");
}

// containerd's runc client passes `--interval=Ns`; runc takes any Go duration. A container that
// lives about a second gets a stats event every 100 ms, and events ends when it exits.
TEST_F(RuncContract, EventsIntervalTakesGoDurations) {
    const std::string id = unique_id();
    bundle().set_args({"/bin/sleep", "1.5"});
    bundle().save();
    RunResult started = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(started.status, 0) << started.describe();
    RunResult events = hrun({"events", "--interval=100ms", id}, {.timeout = 10s});
    ASSERT_EQ(events.status, 0) << events.describe();
    size_t stats = 0;
    std::istringstream lines(events.out);
    for (std::string line; std::getline(lines, line);) {
        json event = json::parse(line, nullptr, false);
        ASSERT_FALSE(event.is_discarded()) << line;
        EXPECT_EQ(event.value("id", ""), id);
        if (event.value("type", "") == "stats") ++stats;
    }
    // About 15 in 1.5 s; 5 leaves room for a slow host, and a 1 s interval would give 2.
    EXPECT_GE(stats, 5u) << events.describe();

    RunResult del = hrun({"delete", id});
    EXPECT_EQ(del.status, 0) << del.describe();
}

TEST_F(RuncContract, EventsIntervalFormsAndRefusals) {
    const std::string id = unique_id();
    ASSERT_NE(run_sleeper(id), 0);
    // The forms an engine passes, and hrun's bare seconds; --stats prints one event and exits.
    for (const std::string form : {"--interval=5s", "--interval=1m30s", "--interval=250ms", "--interval=2"}) {
        RunResult r = hrun({"events", form, "--stats", id});
        EXPECT_EQ(r.status, 0) << form << ": " << r.describe();
        EXPECT_NE(r.out.find("\"type\":\"stats\""), std::string::npos) << form << ": " << r.describe();
    }
    for (const auto& [form, message] : std::vector<std::pair<std::string, std::string>>{
             {"--interval=3d", "--interval: invalid duration \"3d\": unknown unit \"d\""},
             {"--interval=0s", "--interval: must be greater than 0"},
             {"--interval=-1s", "--interval: must be greater than 0"},
             {"--interval=1x5", "--interval: invalid duration"}}) {
        RunResult r = hrun({"events", form, "--stats", id});
        EXPECT_EQ(r.status, 1) << form << ": " << r.describe();
        EXPECT_NE(r.err.find(message), std::string::npos) << form << ": " << r.describe();
        EXPECT_TRUE(r.out.empty()) << form << ": " << r.describe();
    }
}

// The first value found in one of the container's cgroup directories, in the first of `files`
// that exists there (v1 and v2 names); "" when none.
std::string cgroup_value(const std::string& id, const std::vector<std::string>& files) {
    for (const std::string& dir : cgroups_matching(id))
        for (const std::string& file : files)
            if (auto v = read_file(dir + "/" + file)) return v->substr(0, v->find('\n'));
    return "";
}

// `update` takes sizes as runc does (docker's RAMInBytes: 50M, 10mb, 1.5GiB; -1 for none) and
// runc's flag name --cpu-share; a unit it does not know is refused, naming the flag, and changes
// nothing.
TEST_F(RuncContract, UpdateTakesRuncUnitsAndFlagNames) {
    bundle().config["linux"]["resources"]["memory"]["limit"] = 100 * 1024 * 1024;
    bundle().config["linux"]["resources"]["cpu"]["shares"] = 1024;
    const std::string id = unique_id();
    ASSERT_NE(run_sleeper(id), 0);
    ASSERT_EQ(cgroup_value(id, {"memory.limit_in_bytes", "memory.max"}), std::to_string(100 * 1024 * 1024));

    RunResult r = hrun({"update", "--memory", "50M", "--memory-reservation", "10mb", "--cpu-share", "512", id});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(cgroup_value(id, {"memory.limit_in_bytes", "memory.max"}), std::to_string(50 * 1024 * 1024));
    EXPECT_EQ(cgroup_value(id, {"memory.soft_limit_in_bytes", "memory.low"}), std::to_string(10 * 1024 * 1024));
    const std::string shares = cgroup_value(id, {"cpu.shares"});
    if (!shares.empty()) {  // v2 has cpu.weight, converted
        EXPECT_EQ(shares, "512");
    }

    r = hrun({"update", "--memory", "1.5GiB", id});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(cgroup_value(id, {"memory.limit_in_bytes", "memory.max"}), std::to_string(3LL << 29));

    for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
             {"--memory", "50x"}, {"--memory", "M"}, {"--memory-reservation", "-5"}, {"--memory", "1.5.5g"}}) {
        RunResult bad = hrun({"update", flag, value, id});
        EXPECT_EQ(bad.status, 1) << flag << " " << value << ": " << bad.describe();
        EXPECT_NE(bad.err.find(flag + ": invalid size \"" + value + "\""), std::string::npos)
            << flag << " " << value << ": " << bad.describe();
    }
    EXPECT_EQ(cgroup_value(id, {"memory.limit_in_bytes", "memory.max"}), std::to_string(3LL << 29));

    // -1: no limit (the kernel's largest value on v1, "max" on v2).
    r = hrun({"update", "--memory", "-1", id});
    ASSERT_EQ(r.status, 0) << r.describe();
    const std::string unlimited = cgroup_value(id, {"memory.limit_in_bytes", "memory.max"});
    EXPECT_TRUE(unlimited == "max" || unlimited.size() >= 18) << unlimited;
}

// runc hands what follows the id to ps: `runc ps ID -e -x`, `-o pid,comm`.
TEST_F(RuncContract, PsArgumentsFollowTheId) {
    const std::string id = unique_id();
    const pid_t pid = run_sleeper(id);
    ASSERT_NE(pid, 0);
    auto row_of = [&](const std::string& out) {
        std::istringstream lines(out);
        std::string line, found;
        std::getline(lines, line);  // header
        while (std::getline(lines, line)) {
            std::istringstream fields(line);
            std::string first;
            fields >> first;
            if (first == std::to_string(pid)) found = line;
        }
        return found;
    };
    RunResult ex = hrun({"ps", id, "-e", "-x"});
    ASSERT_EQ(ex.status, 0) << ex.describe();
    EXPECT_EQ(ex.out.substr(0, ex.out.find('\n')).find("PID"), 2u) << ex.out;  // "  PID TTY STAT..."
    EXPECT_NE(row_of(ex.out).find("sleep 1000"), std::string::npos) << ex.out;

    RunResult o = hrun({"ps", id, "-o", "pid,comm"});
    ASSERT_EQ(o.status, 0) << o.describe();
    std::istringstream lines(o.out);
    std::string header;
    std::getline(lines, header);
    EXPECT_THAT(header, ::testing::MatchesRegex(" *PID COMMAND *")) << o.out;
    EXPECT_THAT(row_of(o.out), ::testing::MatchesRegex(" *[0-9]+ sleep *")) << o.out;
    EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 2) << "only the container's process: " << o.out;

    // The default stays -ef, and --format json before the id stays hrun's.
    RunResult ef = hrun({"ps", id});
    ASSERT_EQ(ef.status, 0) << ef.describe();
    EXPECT_EQ(ef.out.rfind("UID", 0), 0u) << ef.out;
    RunResult js = hrun({"ps", "--format", "json", id});
    ASSERT_EQ(js.status, 0) << js.describe();
    EXPECT_EQ(json::parse(js.out, nullptr, false), json::array({pid})) << js.out;
}

// An engine cleaning up after a failed create deletes by force an id that may never have been
// made: runc exits 0 without a word. Without --force, and for an invalid id, it is an error.
TEST_F(RuncContract, DeleteForceOfAContainerThatDoesNotExistSucceeds) {
    const std::string id = unique_id();
    RunResult forced = hrun({"delete", "--force", id});
    EXPECT_EQ(forced.status, 0) << forced.describe();
    EXPECT_TRUE(forced.err.empty()) << forced.describe();
    // And with no state root at all.
    TempDir empty;
    RunResult no_root = run_command({hrun_binary(), "--root", empty.path() + "/none", "delete", "-f", id});
    EXPECT_EQ(no_root.status, 0) << no_root.describe();

    RunResult plain = hrun({"delete", id});
    EXPECT_EQ(plain.status, 1) << plain.describe();
    EXPECT_NE(plain.err.find("does not exist"), std::string::npos) << plain.describe();
    RunResult invalid = hrun({"delete", "--force", "../" + id});
    EXPECT_EQ(invalid.status, 1) << invalid.describe();
    EXPECT_NE(invalid.err.find("is not a valid container id"), std::string::npos) << invalid.describe();
}

// Signal 0 probes; `kill --all` of a stopped container signals what is left in its cgroup
// (nothing here) and succeeds, as runc; `kill` of a stopped container's init is still an error.
TEST_F(RuncContract, KillAllOfAStoppedContainerSucceeds) {
    const std::string running = unique_id();
    const pid_t pid = run_sleeper(running);
    ASSERT_NE(pid, 0);
    RunResult probe = hrun({"kill", running, "0"});
    EXPECT_EQ(probe.status, 0) << probe.describe();
    probe = hrun({"kill", "--all", running, "0"});
    EXPECT_EQ(probe.status, 0) << probe.describe();
    EXPECT_EQ(status_of(running), "running") << "signal 0 must not disturb the process";

    const std::string id = unique_id();
    bundle().set_args({"/bin/true"});
    bundle().save();
    RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(r.status, 0) << r.describe();
    ASSERT_TRUE(eventually([&] { return status_of(id) == "stopped"; })) << status_of(id);
    for (const std::string sig : {"0", "KILL", "SIGTERM"}) {
        RunResult all = hrun({"kill", "--all", id, sig});
        EXPECT_EQ(all.status, 0) << sig << ": " << all.describe();
    }
    RunResult init = hrun({"kill", id, "0"});
    EXPECT_EQ(init.status, 1) << init.describe();
    EXPECT_NE(init.err.find("is not running"), std::string::npos) << init.describe();
    RunResult bad = hrun({"kill", "--all", id, "65"});
    EXPECT_EQ(bad.status, 1) << bad.describe();
    EXPECT_EQ(hrun({"delete", id}).status, 0);
}

// A cgroup someone else made and froze, in one hierarchy (v1 freezer or v2): thawed and removed
// (with a child left by a failed test) on destruction.
class FrozenCgroup {
public:
    FrozenCgroup(std::string dir, bool v2) : dir_(std::move(dir)), v2_(v2) {
        if (::mkdir(dir_.c_str(), 0755) != 0) {
            error_ = "cannot create " + dir_ + ": " + std::strerror(errno);
            return;
        }
        std::ofstream(dir_ + (v2_ ? "/cgroup.freeze" : "/freezer.state")) << (v2_ ? "1" : "FROZEN");
        const std::string state = read_file(dir_ + (v2_ ? "/cgroup.events" : "/freezer.state")).value_or("");
        if (state.find(v2_ ? "frozen 1" : "FROZEN") == std::string::npos) error_ = "cannot freeze " + dir_ + ": " + state;
    }
    ~FrozenCgroup() {
        std::ofstream(dir_ + (v2_ ? "/cgroup.freeze" : "/freezer.state")) << (v2_ ? "0" : "THAWED");
        std::error_code ec;
        for (const auto& sub : fs::directory_iterator(dir_, ec))
            if (sub.is_directory()) ::rmdir(sub.path().c_str());
        ::rmdir(dir_.c_str());
    }
    const std::string& error() const { return error_; }

private:
    std::string dir_;
    bool v2_;
    std::string error_;
};

// The freezer hierarchies of this host: {directory, is v2}.
std::vector<std::pair<std::string, bool>> freezer_hierarchies() {
    std::vector<std::pair<std::string, bool>> out;
    struct statfs top;
    if (::statfs("/sys/fs/cgroup", &top) == 0 && top.f_type == CGROUP2_SUPER_MAGIC) return {{"/sys/fs/cgroup", true}};
    struct statfs sfs;
    if (::statfs("/sys/fs/cgroup/freezer", &sfs) == 0 && sfs.f_type == CGROUP_SUPER_MAGIC)
        out.emplace_back("/sys/fs/cgroup/freezer", false);
    if (::statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
        out.emplace_back("/sys/fs/cgroup/unified", true);
    return out;
}

// Stricter than runc 1.1 on purpose (README): a cgroupsPath that already holds someone else's
// process is refused, naming the field; that process is left alone, and nothing of the
// container stays. runc 1.1 warns and shares the cgroup.
TEST_F(RuncContract, RefusesACgroupThatHoldsOtherProcesses) {
    struct statfs sfs;
    std::string mount = "/sys/fs/cgroup";
    if (::statfs(mount.c_str(), &sfs) != 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) mount = "/sys/fs/cgroup/pids";
    if (::statfs(mount.c_str(), &sfs) != 0 || (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC))
        GTEST_SKIP() << "no pids or unified cgroup hierarchy here";
    const std::string id = unique_id();
    const std::string name = "hrun-busy-" + id;
    const std::string dir = mount + "/" + name;
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << std::strerror(errno);
    Process other({"/bin/sleep", "60"});
    std::ofstream(dir + "/cgroup.procs") << other.pid();
    struct Cleanup {
        std::string dir;
        Process& other;
        ~Cleanup() {
            ::kill(other.pid(), SIGKILL);
            other.wait(5s);
            for (int i = 0; i < 100 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10'000);
        }
    } cleanup{dir, other};
    ASSERT_NE(read_file(dir + "/cgroup.procs").value_or("").find(std::to_string(other.pid())), std::string::npos);

    bundle().config["linux"]["cgroupsPath"] = "/" + name;
    bundle().set_args({"/bin/true"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 1) << r.describe();
    EXPECT_NE(r.err.find("linux.cgroupsPath"), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find("already holds 1 process"), std::string::npos) << r.describe();
    EXPECT_EQ(::kill(other.pid(), 0), 0) << "the other process was killed";
    EXPECT_NE(read_file(dir + "/cgroup.procs").value_or("").find(std::to_string(other.pid())), std::string::npos);
    EXPECT_EQ(hrun({"list", "-q"}).out, "");
    EXPECT_EQ(cgroups_matching(id), std::set<std::string>{dir}) << "the container's cgroups were left";
}

// A process joining a frozen cgroup stops in an uninterruptible sleep. runc refuses to start
// into one ("unexpectedly frozen"); hrun refuses too, at once, naming linux.cgroupsPath, and
// leaves nothing: no state, no cgroup of its own, the frozen one as it was. Also when the frozen
// cgroup is the parent of the container's.
TEST_F(RuncContract, RefusesToStartInAFrozenCgroup) {
    const auto hierarchies = freezer_hierarchies();
    if (hierarchies.empty()) GTEST_SKIP() << "no cgroup freezer on this host";
    bundle().set_args({"/bin/true"});
    for (const auto& [mount, v2] : hierarchies) {
        for (const bool parent : {false, true}) {
            const std::string id = unique_id();
            const std::string frozen = "hrun-frozen-" + id;
            const std::string label = mount + (parent ? ", frozen parent" : ", frozen cgroup");
            FrozenCgroup cg(mount + "/" + frozen, v2);
            ASSERT_TRUE(cg.error().empty()) << cg.error();
            bundle().config["linux"]["cgroupsPath"] = "/" + frozen + (parent ? "/" + id : "");
            bundle().save();
            const auto before = std::chrono::steady_clock::now();
            RunResult r = hrun({"run", "--bundle", bundle().dir(), id}, {.timeout = 20s});
            EXPECT_FALSE(r.timed_out) << label << ": hrun hung on the frozen cgroup";
            EXPECT_LT(std::chrono::steady_clock::now() - before, 10s) << label;
            EXPECT_EQ(r.status, 1) << label << ": " << r.describe();
            EXPECT_NE(r.err.find("linux.cgroupsPath"), std::string::npos) << label << ": " << r.describe();
            EXPECT_NE(r.err.find("is frozen"), std::string::npos) << label << ": " << r.describe();
            EXPECT_EQ(hrun({"list", "-q"}).out, "") << label << ": state left";
            std::set<std::string> expected;
            for (const auto& [m, _] : hierarchies)
                if (m == mount) expected.insert(m + "/" + frozen);
            EXPECT_EQ(cgroups_matching(id), expected) << label << ": cgroups left";
            const std::string state = read_file(mount + "/" + frozen + (v2 ? "/cgroup.freeze" : "/freezer.state")).value_or("");
            EXPECT_EQ(state, v2 ? "1\n" : "FROZEN\n") << label << ": the frozen cgroup was changed";
        }
    }
}

// A device in linux.devices is made in the container, but whether it opens is for
// linux.resources.devices alone, as in runc: under a deny-all, a container that was given
// /dev/kmsg cannot write the host's kernel log through it. With an allow rule it can (the
// control that shows the write is what the rules decide).
TEST_F(RuncContract, LinuxDevicesAddNothingToTheDeviceAllowlist) {
    bundle().config["linux"]["devices"] = json::parse(
        R"([{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 420, "uid": 0, "gid": 0}])");
    bundle().config["linux"]["resources"]["devices"] = json::parse(R"([{"allow": false, "access": "rwm"}])");
    bundle().set_args({"/bin/sh", "-c",
                       "test -c /dev/kmsg && echo node; echo hrun-contract-test > /dev/kmsg && echo wrote; "
                       "head -c 1 /dev/zero | wc -c"});
    RunResult denied = bundle().run();
    EXPECT_EQ(denied.status, 0) << denied.describe();
    EXPECT_EQ(denied.out, "node\n1\n") << denied.describe();
    EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.describe();

    bundle().config["linux"]["resources"]["devices"].push_back(
        json::parse(R"({"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"})"));
    RunResult allowed = bundle().run();
    EXPECT_EQ(allowed.status, 0) << allowed.describe();
    EXPECT_EQ(allowed.out, "node\nwrote\n1\n") << allowed.describe();
}

// What a terminal prints, with the pty's CR LF line ends made plain.
std::string plain_lines(std::string text) {
    std::string out;
    for (char c : text)
        if (c != '\r') out += c;
    return out;
}

// A read-only /dev and a terminal: runc binds the console before /dev turns read-only, so the
// container starts, on its pty, with /dev/console bound and /dev still read-only.
TEST_F(RuncContract, TerminalWithAReadOnlyDev) {
    bool found = false;
    for (auto& m : bundle().config["mounts"])
        if (m.value("destination", "") == "/dev") {
            m["options"].push_back("ro");
            found = true;
        }
    ASSERT_TRUE(found) << "the config has no /dev mount";
    bundle().config["process"]["terminal"] = true;
    bundle().set_args({"/bin/sh", "-c",
                       "tty; stat -c '%t:%T' /dev/console; touch /dev/new 2>/dev/null || echo read-only"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    // /dev/console is the pty slave (major 136, hex 88).
    EXPECT_THAT(plain_lines(r.out), ::testing::MatchesRegex("/dev/pts/[0-9]+\n88:[0-9a-f]+\nread-only\n")) << r.describe();
}

// The process's terminal is its own and the tty group's (gid 5, from devpts' gid=5), as runc
// leaves it: only the owner changes to process.user. For run and for exec -t.
TEST_F(RuncContract, TerminalIsOwnedByTheUserAndTheTtyGroup) {
    bundle().config["process"]["terminal"] = true;
    bundle().config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    bundle().set_args({"/bin/sh", "-c", "stat -c '%u:%g %a' $(tty); id -g"});
    RunResult run = bundle().run();
    ASSERT_EQ(run.status, 0) << run.describe();
    EXPECT_EQ(plain_lines(run.out), "1000:5 620\n1000\n") << run.describe();

    bundle().config["process"]["terminal"] = false;
    bundle().config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    const std::string id = unique_id();
    ASSERT_NE(run_sleeper(id), 0);
    RunResult exec = hrun({"exec", "-t", "-u", "1000:1000", id, "/bin/sh", "-c", "stat -c '%u:%g %a' $(tty); id -g"});
    ASSERT_EQ(exec.status, 0) << exec.describe();
    EXPECT_EQ(plain_lines(exec.out), "1000:5 620\n1000\n") << exec.describe();
}

// Parents of a nested cgroupsPath that someone else made in the v1 cpuset hierarchy, without
// cpuset.cpus and cpuset.mems (as mkdir leaves them): no task can join a cgroup below them
// (ENOSPC) until each level has both. runc fills each level from its parent; so does hrun.
TEST_F(RuncContract, NestedCpusetParentsWithoutCpusAreFilled) {
    struct statfs sfs;
    if (::statfs("/sys/fs/cgroup/cpuset", &sfs) != 0 || sfs.f_type != CGROUP_SUPER_MAGIC)
        GTEST_SKIP() << "no cgroup v1 cpuset hierarchy on this host";
    const std::string id = unique_id();
    const std::string top = "/sys/fs/cgroup/cpuset/hrun-cpuset-" + id;
    const std::string mid = top + "/mid";
    // The parents hrun made in the other hierarchies stay after the container (as runc leaves
    // them): removed here, deepest first, with the test's own in cpuset.
    struct Cleanup {
        std::string name;
        ~Cleanup() {
            const std::set<std::string> dirs = cgroups_matching(name);
            for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
                ::rmdir((*it + "/mid").c_str());
                ::rmdir(it->c_str());
            }
        }
    } cleanup{"hrun-cpuset-" + id};
    ASSERT_EQ(::mkdir(top.c_str(), 0755), 0) << std::strerror(errno);
    ASSERT_EQ(::mkdir(mid.c_str(), 0755), 0) << std::strerror(errno);
    for (const std::string& dir : {top, mid})
        for (const char* file : {"/cpuset.cpus", "/cpuset.mems"})
            ASSERT_EQ(read_file(dir + file).value_or("?"), "\n") << dir << file << " is not blank";

    bundle().config["linux"]["cgroupsPath"] = "/hrun-cpuset-" + id + "/mid/" + id;
    bundle().set_args({"/bin/sh", "-c", "grep Cpus_allowed_list /proc/self/status"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    const std::string host_cpus = read_file("/sys/fs/cgroup/cpuset/cpuset.cpus").value_or("?");
    for (const std::string& dir : {top, mid}) {
        EXPECT_EQ(read_file(dir + "/cpuset.cpus").value_or("?"), host_cpus) << dir;
        EXPECT_EQ(read_file(dir + "/cpuset.mems").value_or("?"), read_file("/sys/fs/cgroup/cpuset/cpuset.mems").value_or("?"))
            << dir;
    }
    EXPECT_NE(r.out.find("Cpus_allowed_list:\t" + host_cpus.substr(0, host_cpus.find('\n'))), std::string::npos)
        << r.describe();
    // The container's own cgroup went with it; the parents it did not make stay.
    EXPECT_FALSE(fs::exists(mid + "/" + id));
    EXPECT_TRUE(fs::exists(mid));
    for (const std::string& dir : cgroups_matching(id))
        EXPECT_EQ(dir.find("/mid/"), std::string::npos) << dir << " is left";
}

// createContainer hooks run from the rootfs, as runc runs them: a hook that writes a relative
// path (a GPU library injector, say) writes into the container.
TEST_F(RuncContract, CreateContainerHooksRunFromTheRootfs) {
    bundle().config["hooks"]["createContainer"] = json::array(
        {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "pwd > hook-cwd; echo injected > hook-file"}}}});
    bundle().set_args({"/bin/cat", "/hook-cwd", "/hook-file"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, fs::canonical(bundle().rootfs()).string() + "\ninjected\n") << r.describe();
    EXPECT_TRUE(fs::exists(bundle().rootfs() + "/hook-file"));
}

// --debug logs the main stages, as runc's level=debug lines: on stderr, or in --log as text or
// as JSON lines with "level": "debug". Without it there are none.
TEST_F(RuncContract, DebugLogsTheMainStages) {
    bundle().config["hooks"]["prestart"] = json::array({{{"path", "/bin/true"}}});
    bundle().set_args({"/bin/true"});
    bundle().save();
    const std::string id = unique_id();
    RunResult quiet = hrun({"run", "--bundle", bundle().dir(), id});
    ASSERT_EQ(quiet.status, 0) << quiet.describe();
    EXPECT_EQ(quiet.err.find("debug"), std::string::npos) << quiet.describe();

    RunResult loud = hrun({"--debug", "run", "--bundle", bundle().dir(), id});
    ASSERT_EQ(loud.status, 0) << loud.describe();
    for (const std::string& line : std::vector<std::string>{
             "hrun: debug: container " + id + ": " + bundle().dir() + "/config.json loaded and valid",
          "hrun: debug: container " + id + ": prepared (policy ", "hrun: debug: running hooks.prestart[0]: /bin/true",
          "hrun: debug: container " + id + ": process ", "exited with status 0"})
        EXPECT_NE(loud.err.find(line), std::string::npos) << line << "\n" << loud.describe();

    // JSON lines in a log file, for create, start, kill and delete; nothing on stderr.
    const std::string log = bundle().dir() + "/hrun.log";
    const std::vector<std::string> json_log = {"--debug", "--log", log, "--log-format", "json"};
    bundle().set_args({"/bin/sleep", "1000"});
    bundle().save();
    for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
             {"create", "--bundle", bundle().dir(), id}, {"start", id}, {"kill", id, "KILL"}}) {
        std::vector<std::string> argv = json_log;
        argv.insert(argv.end(), cmd.begin(), cmd.end());
        RunResult r = hrun(argv);
        ASSERT_EQ(r.status, 0) << r.describe();
        EXPECT_EQ(r.err, "") << r.describe();
    }
    ASSERT_TRUE(eventually([&] { return status_of(id) == "stopped"; }));
    std::vector<std::string> del = json_log;
    del.insert(del.end(), {"delete", id});
    ASSERT_EQ(hrun(del).status, 0);
    std::vector<std::string> debug_messages;
    std::istringstream lines(read_file(log).value_or(""));
    for (std::string line; std::getline(lines, line);) {
        json entry = json::parse(line, nullptr, false);
        ASSERT_TRUE(entry.is_object()) << line;
        EXPECT_TRUE(entry.contains("time")) << line;
        if (entry.value("level", "") == "debug") debug_messages.push_back(entry.value("msg", ""));
    }
    auto logged = [&](const std::string& needle) {
        return std::any_of(debug_messages.begin(), debug_messages.end(),
                           [&](const std::string& m) { return m.find(needle) != std::string::npos; });
    };
    EXPECT_TRUE(logged("waiting for start")) << read_file(log).value_or("");
    EXPECT_TRUE(logged("container " + id + ": starting process")) << read_file(log).value_or("");
    EXPECT_TRUE(logged("signal 9 to the init of container " + id)) << read_file(log).value_or("");
    EXPECT_TRUE(logged("delete container " + id + " (stopped)")) << read_file(log).value_or("");
}

}  // namespace
}  // namespace hrun::itest
