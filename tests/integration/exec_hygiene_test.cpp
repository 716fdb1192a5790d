// `hrun exec` hygiene (the CVE-2024-21626 class): the process it starts gets nothing of hrun's
// or the caller's (no fd beyond 0-2 unless --preserve-fds, no working directory on the host),
// sees the container's mounts, and joins every namespace, the cgroup and the confinement of the
// container's init, changed only where a flag says so.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {



// "mount-id parent-id mount-point" of each mountinfo line, sorted. The root field is left out:
// for a cgroup mount it is relative to the reader's cgroup namespace, so the host reads it
// differently from the container.
std::vector<std::string> mount_points(const std::string& mountinfo) {
    std::vector<std::string> mounts;
    std::istringstream in(mountinfo);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string id, parent, device, root, point;
        if (words >> id >> parent >> device >> root >> point) mounts.push_back(id + " " + parent + " " + point);
    }
    std::sort(mounts.begin(), mounts.end());
    return mounts;
}

class ExecHygiene : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // A filter the exec'd process must carry: mkdir denied with a recognisable errno.
        bundle().config["linux"]["seccomp"] = {
            {"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", json::array({{{"names", json::array({"mkdir", "mkdirat"})},
                                       {"action", "SCMP_ACT_ERRNO"},
                                       {"errnoRet", 1234}}})}};
        // A host directory with a file only the host has: reading it proves a host cwd.
        host_dir_ = bundle().dir() + "/host-only";
        ::mkdir(host_dir_.c_str(), 0755);
        std::ofstream(host_dir_ + "/host-secret") << "leaked-from-the-host\n";
    }

    void start_container() {
        id_ = unique_id();
        init_ = run_sleeper(id_);
        ASSERT_GT(init_, 0);
    }

    std::vector<std::string> exec_argv(const std::vector<std::string>& options,
                                       const std::vector<std::string>& command) {
        std::vector<std::string> args{"exec"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(id_);
        args.insert(args.end(), command.begin(), command.end());
        return hrun_argv(args);
    }
    RunResult exec(const std::vector<std::string>& options, const std::vector<std::string>& command) {
        return run_command(exec_argv(options, command));
    }
    RunResult exec_probe(const std::vector<std::string>& options) {
        return exec(options, {"/bin/hrun-probe"});
    }

    // Prints the host-only file if the cwd is the host directory, then the probe's facts.
    const std::vector<std::string> cat_then_probe_{"/bin/sh", "-c",
                                                   "cat host-secret 2>/dev/null; exec /bin/hrun-probe"};

    // A cwd given through a /proc/self/fd magic link is refused, or resolved in the container:
    // never the host directory the fd may point to.
    void expect_refused_or_inside(const RunResult& r, const std::string& label) {
        EXPECT_EQ(r.out.find("leaked-from-the-host"), std::string::npos) << label << ": " << r.describe();
        if (r.status == 0) {
            EXPECT_EQ(r.fact("cwd").rfind("/", 0), 0u) << label << ": cwd outside the root: " << r.describe();
        } else {
            EXPECT_NE(r.err.find("cwd"), std::string::npos)
                << label << ": refused without naming the cwd: " << r.describe();
        }
        EXPECT_FALSE(r.timed_out) << label;
    }

    std::string id_;
    pid_t init_ = 0;
    std::string host_dir_;
};

TEST_F(ExecHygiene, OnlyTheStandardFdsReachTheProcess) {
    start_container();
    const std::map<int, std::string> inherited{{3, "/dev/null"}, {4, host_dir_}, {7, host_dir_}};
    RunResult r = run_command(with_open_fds(inherited, exec_argv({}, {"/bin/hrun-probe", "fds"})));
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.keys_with_prefix("fd."), (std::set<std::string>{"fd.0", "fd.1", "fd.2"})) << r.describe();

    // Control: handed on explicitly, the caller's fds do arrive (so the probe would see them).
    RunResult preserved = run_command(with_open_fds(
        {{3, "/dev/null"}, {4, host_dir_}}, exec_argv({"--preserve-fds", "2"}, {"/bin/hrun-probe", "fds"})));
    ASSERT_EQ(preserved.status, 0) << preserved.describe();
    EXPECT_EQ(preserved.keys_with_prefix("fd."),
              (std::set<std::string>{"fd.0", "fd.1", "fd.2", "fd.3", "fd.4"}))
        << preserved.describe();
}

TEST_F(ExecHygiene, ContainerInitHasOnlyTheStandardFdsToo) {
    bundle().set_args({"/bin/hrun-probe", "fds"});
    bundle().save();
    RunResult r = run_command(with_open_fds(
        {{3, "/dev/null"}, {5, host_dir_}}, hrun_argv({"run", "--bundle", bundle().dir(), unique_id()})));
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.keys_with_prefix("fd."), (std::set<std::string>{"fd.0", "fd.1", "fd.2"})) << r.describe();
}

TEST_F(ExecHygiene, CwdThroughAnFdOfHrunIsRefusedOrInside) {
    start_container();
    // Whatever hrun itself holds open while it sets the process up (state dir, procfs,
    // namespaces, sockets): none of it may become the working directory.
    for (int fd = 3; fd <= 14; ++fd) {
        const std::string cwd = "/proc/self/fd/" + std::to_string(fd);
        expect_refused_or_inside(exec({"--cwd", cwd}, cat_then_probe_), "--cwd " + cwd);
    }
    // Control: a plain --cwd is honoured, and the host file is readable where it is.
    RunResult plain = exec({"--cwd", "/tmp"}, cat_then_probe_);
    ASSERT_EQ(plain.status, 0) << plain.describe();
    EXPECT_EQ(plain.fact("cwd"), "/tmp");
}

TEST_F(ExecHygiene, CwdThroughAnFdOfTheCallerIsRefusedOrInside) {
    start_container();
    const std::string cwd = "/proc/self/fd/7";
    // hrun inherits fd 7 on a host directory.
    expect_refused_or_inside(
        run_command(with_open_fds({{7, host_dir_}}, exec_argv({"--cwd", cwd}, cat_then_probe_))),
        "inherited fd 7");
    // ... and passes it into the container: there it really is the host directory.
    std::map<int, std::string> fds{{3, "/dev/null"}, {4, "/dev/null"}, {5, "/dev/null"},
                                   {6, "/dev/null"}, {7, host_dir_}};
    expect_refused_or_inside(
        run_command(with_open_fds(fds, exec_argv({"--preserve-fds", "5", "--cwd", cwd}, cat_then_probe_))),
        "preserved fd 7");

    // The same cwd from an exec --process file.
    const std::string process_file = bundle().dir() + "/process.json";
    json process = bundle().config["process"];
    process["args"] = cat_then_probe_;
    process["cwd"] = cwd;
    std::ofstream(process_file) << process.dump();
    expect_refused_or_inside(
        run_command(with_open_fds(fds, exec_argv({"--preserve-fds", "5", "--process", process_file}, {}))),
        "process.cwd of --process");
}

TEST_F(ExecHygiene, ProcessCwdThroughAnFdIsRefusedOrInside) {
    bundle().set_args(cat_then_probe_);
    bundle().config["process"]["cwd"] = "/proc/self/fd/7";
    bundle().save();
    std::map<int, std::string> fds{{3, "/dev/null"}, {4, "/dev/null"}, {5, "/dev/null"},
                                   {6, "/dev/null"}, {7, host_dir_}};
    expect_refused_or_inside(
        run_command(with_open_fds(fds, hrun_argv({"run", "--preserve-fds", "5", "--bundle",
                                                   bundle().dir(), unique_id()}))),
        "process.cwd with fd 7 preserved");
    expect_refused_or_inside(
        run_command(with_open_fds({{7, host_dir_}}, hrun_argv({"run", "--bundle", bundle().dir(), unique_id()}))),
        "process.cwd with fd 7 inherited");
}

TEST_F(ExecHygiene, MountsAreTheContainers) {
    start_container();
    RunResult r = exec({}, {"/bin/cat", "/proc/self/mountinfo"});
    ASSERT_EQ(r.status, 0) << r.describe();
    auto init_view = read_file("/proc/" + std::to_string(init_) + "/mountinfo");
    ASSERT_TRUE(init_view);
    EXPECT_FALSE(mount_points(r.out).empty()) << r.describe();
    EXPECT_EQ(mount_points(r.out), mount_points(*init_view)) << r.out << "\n--- init ---\n" << *init_view;
    EXPECT_NE(mount_points(r.out), mount_points(read_file("/proc/self/mountinfo").value_or("")))
        << "the exec'd process sees the host's mounts";
}

TEST_F(ExecHygiene, JoinsEveryNamespaceOfTheContainer) {
    start_container();
    RunResult r = exec_probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    auto host = host_namespaces();
    for (const std::string type : {"cgroup", "ipc", "mnt", "net", "pid", "uts", "user", "time"})
        EXPECT_EQ(r.fact("ns." + type), ns_inode(init_, type)) << type << "\n" << r.describe();
    // The comparison means something: the container does have its own of these.
    for (const std::string type : {"cgroup", "ipc", "mnt", "net", "pid", "uts"})
        EXPECT_NE(ns_inode(init_, type), host[type]) << type;
}

TEST_F(ExecHygiene, JoinsTheCgroupAndConfinementSeenFromTheHost) {
    start_container();
    const std::string pid_file = bundle().dir() + "/exec.pid";
    RunResult r = exec({"--detach", "--pid-file", pid_file}, {"/bin/sleep", "999"});
    ASSERT_EQ(r.status, 0) << r.describe();
    pid_t pid = std::atoi(read_file(pid_file).value_or("0").c_str());
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(eventually([&] { return process_comm(pid) == "sleep"; }, 3s)) << process_comm(pid);
    EXPECT_EQ(read_file("/proc/" + std::to_string(pid) + "/cgroup"),
              read_file("/proc/" + std::to_string(init_) + "/cgroup"));
    for (const std::string field : {"CapEff", "CapPrm", "CapBnd", "Seccomp", "NoNewPrivs"})
        EXPECT_EQ(status_field(pid, field), status_field(init_, field)) << field;
    const json caps = bundle().config["process"]["capabilities"];
    EXPECT_EQ(status_field(pid, "CapEff"), capability_mask(caps["effective"]));
    EXPECT_EQ(status_field(pid, "CapBnd"), capability_mask(caps["bounding"]));
    EXPECT_EQ(status_field(pid, "Seccomp"), "2");
    EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");

    RunResult ps = hrun({"ps", "--format", "json", id_});
    ASSERT_EQ(ps.status, 0) << ps.describe();
    json pids = json::parse(ps.out, nullptr, false);
    EXPECT_NE(std::find(pids.begin(), pids.end(), json(pid)), pids.end()) << ps.out;
}

TEST_F(ExecHygiene, ConfinementAsConfiguredSeenFromInside) {
    start_container();
    const json caps = bundle().config["process"]["capabilities"];
    RunResult r = exec_probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("cap.eff"), capability_mask(caps["effective"])) << r.describe();
    EXPECT_EQ(r.fact("cap.bnd"), capability_mask(caps["bounding"])) << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "2");
    EXPECT_EQ(r.fact("nonewprivs"), "1");
    EXPECT_EQ(r.fact("uid"), "0");
    EXPECT_EQ(r.fact("cwd"), "/");
    EXPECT_EQ(r.fact("env.PATH"), bundle().config["process"]["env"][0].get<std::string>().substr(5));
    RunResult denied = exec({}, {"/bin/hrun-probe", "syscall", "mkdir"});
    ASSERT_EQ(denied.status, 0) << denied.describe();
    EXPECT_EQ(denied.fact("errno"), "1234") << "the container's seccomp filter is not applied";
}

TEST_F(ExecHygiene, CapAddsToTheConfiguredSets) {
    start_container();
    json more = bundle().config["process"]["capabilities"]["effective"];
    more.push_back("CAP_SYS_ADMIN");
    RunResult r = exec_probe({"--cap", "CAP_SYS_ADMIN"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("cap.eff"), capability_mask(more)) << r.describe();
    EXPECT_EQ(r.fact("cap.bnd"), capability_mask(more)) << r.describe();
}

TEST_F(ExecHygiene, NoNewPrivsFollowsTheConfigUnlessAsked) {
    bundle().global_args = {"--policy=oci"};  // the config as it is: no no_new_privs added by default
    bundle().config["process"]["noNewPrivileges"] = false;
    start_container();
    RunResult plain = exec_probe({});
    ASSERT_EQ(plain.status, 0) << plain.describe();
    EXPECT_EQ(plain.fact("nonewprivs"), "0");
    EXPECT_EQ(plain.fact("seccomp"), "2");
    RunResult asked = exec_probe({"--no-new-privs"});
    ASSERT_EQ(asked.status, 0) << asked.describe();
    EXPECT_EQ(asked.fact("nonewprivs"), "1");
    EXPECT_EQ(asked.fact("seccomp"), "2");
}

TEST_F(ExecHygiene, UserEnvAndCwdFlags) {
    start_container();
    // Each repeatable flag last before the id once: it takes one value, not the id after it.
    RunResult r = exec_probe({"--user", "1000:1001", "--cwd", "/tmp", "--env", "FOO=bar", "--env", "TERM=dumb"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "1000");
    EXPECT_EQ(r.fact("euid"), "1000");
    EXPECT_EQ(r.fact("gid"), "1001");
    EXPECT_EQ(r.fact("env.FOO"), "bar");
    EXPECT_EQ(r.fact("env.TERM"), "dumb");
    EXPECT_NE(r.fact("env.PATH"), "<absent>") << "the container's environment is kept";
    EXPECT_EQ(r.fact("cwd"), "/tmp");
    EXPECT_EQ(r.fact("seccomp"), "2") << "a flag must not drop the rest of the confinement";

    RunResult groups = exec_probe({"--user", "1000:1000", "-g", "5", "--additional-gids", "6"});
    ASSERT_EQ(groups.status, 0) << groups.describe();
    EXPECT_EQ(groups.fact("groups"), "5,6") << groups.describe();
}

TEST_F(ExecHygiene, ProcessFileReplacesTheProcess) {
    start_container();
    const std::string process_file = bundle().dir() + "/process.json";
    json process = {
        {"args", {"/bin/hrun-probe"}},
        {"env", {"ONLY=this"}},
        {"cwd", "/dev"},
        {"user", {{"uid", 0}, {"gid", 8}}},
        {"capabilities",
         {{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}}},
        {"noNewPrivileges", true},
    };
    std::ofstream(process_file) << process.dump();
    RunResult r = exec({"--process", process_file}, {});
    ASSERT_EQ(r.status, 0) << r.describe();
    // The file's env replaces the container's (hrun adds HOME and PATH when missing, as a
    // login would have them).
    EXPECT_EQ(r.fact("env.ONLY"), "this") << r.describe();
    EXPECT_EQ(r.fact("env.TERM"), "<absent>") << "the config's env leaked into --process: " << r.describe();
    EXPECT_EQ(r.fact("cwd"), "/dev");
    EXPECT_EQ(r.fact("gid"), "8");
    EXPECT_EQ(r.fact("cap.bnd"), capability_mask(json::array({"CAP_KILL"})));
    EXPECT_EQ(r.fact("cap.eff"), capability_mask(json::array({"CAP_KILL"})));
    EXPECT_EQ(r.fact("ns.mnt"), ns_inode(init_, "mnt"));
    EXPECT_EQ(r.fact("seccomp"), "2") << "the container's filter applies to --process too";
}

// A --user that hrun cannot use is an error with a message and exit status 1, never an abort
// (an exception escaping a command used to end hrun with SIGABRT, status 134, nothing said).
TEST_F(ExecHygiene, UnusableUserIsAReportedErrorNotAnAbort) {
    start_container();
    for (const char* user : {"nosuchuser", "1000:nosuchgroup", "99999999999999999999"}) {
        RunResult r = exec_probe({"--user", user});
        EXPECT_EQ(r.status, 1) << "--user " << user << ": " << r.describe();
        EXPECT_NE(r.err.find("hrun: "), std::string::npos) << "--user " << user << ": " << r.describe();
        EXPECT_EQ(r.fact("uid"), "<absent>") << "--user " << user << " ran: " << r.describe();
    }
}

}  // namespace
}  // namespace hrun::itest
