// Escapes through ids and through the container's own /etc/passwd and /etc/group, tried as an
// attacker would: a config or an `exec --user` asking for (uid_t)-1 (which set*id reads as
// "unchanged": the process would stay root), and an image or a running container whose
// passwd/group is a device node, a FIFO, a symlink to a host file or a huge file, which hrun
// (outside the container's device cgroup, with all its privileges) must never open as a file.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

constexpr const char* kIdRange = "ids are 0 to 4294967294";

// A FIFO planted in the rootfs, with a host thread blocked opening it for writing: the open
// returns only once someone opens the FIFO for reading. opened() says whether anyone did.
class FifoTrap {
public:
    explicit FifoTrap(std::string path, std::string payload) : path_(std::move(path)) {
        ::unlink(path_.c_str());
        ok_ = ::mkfifo(path_.c_str(), 0644) == 0;
        if (!ok_) return;
        writer_ = std::thread([this, payload = std::move(payload)] {
            int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
            if (fd < 0) return;
            if (!releasing_) opened_ = true;
            ssize_t ignored = ::write(fd, payload.data(), payload.size());
            (void)ignored;
            ::close(fd);
        });
    }
    ~FifoTrap() {
        if (!ok_) return;
        // Unblock the writer ourselves: open for reading and hold it until the thread is done.
        releasing_ = true;
        int reader = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        writer_.join();
        if (reader >= 0) ::close(reader);
    }
    bool ok() const { return ok_; }
    bool opened() const { return opened_; }

private:
    std::string path_;
    bool ok_ = false;
    std::atomic<bool> opened_{false};
    std::atomic<bool> releasing_{false};
    std::thread writer_;
};

class EscapeIds : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // A group the image's "user" belongs to, so that a name brings its groups.
        std::ofstream(bundle().rootfs() + "/etc/group", std::ios::app) << "audio:x:29:user\n";
    }

    void start_container() {
        id_ = unique_id();
        init_ = run_sleeper(id_);
        ASSERT_GT(init_, 0);
        processes_ = processes_in_cgroups_named(id_).size();
    }

    RunResult exec(const std::vector<std::string>& options, const std::vector<std::string>& command,
                   std::chrono::milliseconds timeout = 30s) {
        std::vector<std::string> args{"exec"};
        args.insert(args.end(), options.begin(), options.end());
        args.push_back(id_);
        args.insert(args.end(), command.begin(), command.end());
        RunOptions options_run;
        options_run.timeout = timeout;
        return run_command(hrun_argv(args), options_run);
    }
    RunResult exec_probe(const std::vector<std::string>& options) { return exec(options, {"/bin/hrun-probe"}); }

    // Refused: a clear error naming `field`, no abort, no process started in the container, and
    // the container still running as before.
    void expect_refused(const RunResult& r, const std::string& field, const std::string& label) {
        EXPECT_NE(r.status, 0) << label << ": ran\n" << r.describe();
        EXPECT_NE(r.status, 134) << label << ": aborted\n" << r.describe();
        EXPECT_LT(r.status, 128) << label << ": killed by a signal\n" << r.describe();
        EXPECT_FALSE(r.timed_out) << label;
        EXPECT_EQ(r.fact("uid"), "<absent>") << label << ": the process ran\n" << r.describe();
        EXPECT_NE(r.err.find(field), std::string::npos) << label << ": error does not name " << field << "\n"
                                                        << r.describe();
        EXPECT_EQ(status_of(id_), "running") << label;
        EXPECT_EQ(processes_in_cgroups_named(id_).size(), processes_) << label << ": a process was left behind";
    }

    std::string id_;
    pid_t init_ = 0;
    std::size_t processes_ = 0;  // in the container's cgroup once it runs
};

// ---- (uid_t)-1 in config.json ----

TEST_F(EscapeIds, ConfigMinusOneIdsAreRefusedNamingTheFieldAndLeaveNothing) {
    const std::vector<std::pair<json, std::string>> cases = {
        {{{"uid", 4294967295u}, {"gid", 0}}, "process.user.uid"},
        {{{"uid", 1000}, {"gid", 4294967295u}}, "process.user.gid"},
        {{{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 4294967295u}}}, "process.user.additionalGids[1]"},
    };
    for (const auto& [user, field] : cases) {
        bundle().config["process"]["user"] = user;
        bundle().set_args({"/bin/hrun-probe"});
        bundle().save();
        HostSnapshot before = HostSnapshot::take();
        const std::string id = unique_id();
        RunResult r = hrun({"run", "--bundle", bundle().dir(), id});
        EXPECT_NE(r.status, 0) << field << ": ran\n" << r.describe();
        EXPECT_EQ(r.fact("uid"), "<absent>") << field << ": the process ran as uid " << r.fact("uid");
        EXPECT_NE(r.err.find(field + ": 4294967295"), std::string::npos) << r.describe();
        EXPECT_NE(r.err.find(kIdRange), std::string::npos) << r.describe();
        expect_no_host_leaks(before);
        EXPECT_NE(hrun({"state", id}).status, 0) << field << ": state left";
        EXPECT_TRUE(cgroups_matching(id).empty()) << field << ": cgroup left";
    }
}

// ---- linux.namespaces[].path on the host ----

// A namespace path is a host path: a config naming a FIFO (or a device) there must not make
// hrun open it; it is refused as "not a namespace file" without blocking.
TEST_F(EscapeIds, NamespacePathNamingAFifoIsNeverOpened) {
    const std::string fifo = bundle().dir() + "/not-a-namespace";
    FifoTrap trap(fifo, "x");
    ASSERT_TRUE(trap.ok()) << std::strerror(errno);
    bundle().config["linux"]["namespaces"].push_back({{"type", "ipc"}, {"path", fifo}});
    auto& list = bundle().config["linux"]["namespaces"];
    // One entry per type: drop the config's own new ipc namespace.
    for (auto it = list.begin(); it != list.end(); ++it)
        if ((*it)["type"] == "ipc" && !it->contains("path")) {
            list.erase(it);
            break;
        }
    bundle().set_args({"/bin/hrun-probe"});
    bundle().save();
    HostSnapshot before = HostSnapshot::take();
    const std::string id = unique_id();
    RunOptions options;
    options.timeout = 15s;
    RunResult r = run_command(hrun_argv({"run", "--bundle", bundle().dir(), id}), options);
    EXPECT_FALSE(r.timed_out) << "hrun blocked opening the FIFO";
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("is not a namespace file"), std::string::npos) << r.describe();
    EXPECT_NE(r.err.find("linux.namespaces["), std::string::npos) << r.describe();
    EXPECT_FALSE(trap.opened()) << "hrun opened the FIFO for reading";
    expect_no_host_leaks(before);
    EXPECT_NE(hrun({"state", id}).status, 0) << "state left";
}

// ---- exec --user / -g / --process ----

TEST_F(EscapeIds, ExecUserIdsThatWouldStayRootAreRefused) {
    start_container();
    // Each of these ran the process as uid 0: -1 and 4294967295 are "unchanged", 4294967296 was
    // truncated to 0.
    for (std::string user : {"-1", "4294967295", "4294967296", "4294967295:4294967295", "1000:-1",
                                     "1000:4294967295", "1000:4294967296", "18446744073709551615"})
        expect_refused(exec_probe({"--user", user}), "--user", "--user " + user);
    for (std::string gid : {"-1", "4294967295", "4294967296", "x"})
        expect_refused(exec_probe({"--user", "1000:1000", "--additional-gids", gid}), "--additional-gids", "-g " + gid);

    // Control: the last usable id is accepted.
    RunResult r = exec_probe({"--user", "4294967294:4294967294"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "4294967294") << r.describe();
    EXPECT_EQ(r.fact("gid"), "4294967294") << r.describe();
}

TEST_F(EscapeIds, ExecProcessFileMinusOneIsRefusedNamingTheField) {
    start_container();
    const std::string file = bundle().dir() + "/process.json";
    for (const auto& [user, field] : std::vector<std::pair<json, std::string>>{
             {{{"uid", 4294967295u}, {"gid", 0}}, "process.user.uid"},
             {{{"uid", 0}, {"gid", 4294967295u}}, "process.user.gid"},
             {{{"uid", 0}, {"gid", 0}, {"additionalGids", {4294967295u}}}, "process.user.additionalGids[0]"}}) {
        json process = {{"args", {"/bin/hrun-probe"}}, {"cwd", "/"}, {"user", user}, {"env", {"PATH=/bin"}}};
        std::ofstream(file, std::ios::trunc) << process.dump();
        expect_refused(exec({"--process", file}, {}), field, "--process " + user.dump());
    }
}

TEST_F(EscapeIds, ExecUserNamesAreLookedUpInTheContainer) {
    start_container();
    RunResult r = exec_probe({"--user", "user"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("gid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("groups"), "29") << r.describe();  // audio lists "user"
    EXPECT_EQ(r.fact("env.HOME"), "/tmp") << r.describe();

    r = exec_probe({"--user", "user:nogroup"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("gid"), "65534") << r.describe();
    EXPECT_EQ(r.fact("groups"), "") << r.describe();

    r = exec_probe({"--user", "65534:audio"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("uid"), "65534") << r.describe();
    EXPECT_EQ(r.fact("gid"), "29") << r.describe();
    EXPECT_EQ(r.fact("env.HOME"), "/nonexistent") << r.describe();

    // A name the host has but the image does not: looked up in the container only.
    for (std::string user : {"hrun-no-such-user", "daemon", "user:hrun-no-such-group", "0:daemon"})
        expect_refused(exec_probe({"--user", user}), "--user", "--user " + user);
    RunResult unknown = exec_probe({"--user", "hrun-no-such-user"});
    EXPECT_NE(unknown.err.find("no user \"hrun-no-such-user\" in the container's /etc/passwd"), std::string::npos)
        << unknown.describe();
}

// ---- hostile files in the image ----

class EscapeIdsImage : public EscapeIds {
protected:
    std::string passwd() const { return bundle_->rootfs() + "/etc/passwd"; }

    // Runs the probe as uid 1000 (whose passwd entry says HOME=/tmp): hrun must not hang, must
    // run the container, and HOME falls back to "/" as runc's does without a usable passwd.
    void expect_runs_with_fallback_home(const std::string& label) {
        bundle().config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
        RunOptions options;
        options.timeout = 20s;
        RunResult r = bundle().probe({}, options);
        EXPECT_FALSE(r.timed_out) << label << ": hrun hung";
        ASSERT_EQ(r.status, 0) << label << "\n" << r.describe();
        EXPECT_EQ(r.fact("uid"), "1000") << label;
        EXPECT_EQ(r.fact("env.HOME"), "/") << label << "\n" << r.describe();
    }
};

TEST_F(EscapeIdsImage, PasswdSymlinkToAHostFileIsResolvedInsideTheRootfs) {
    // A host file with a passwd line the container must not get: HOME=/host-home would prove it
    // was read.
    const std::string host_file = bundle().dir() + "/host-passwd";
    std::ofstream(host_file) << "user:x:1000:1000::/host-home:/bin/sh\nhostonly:x:0:0::/:/bin/sh\n";
    for (const std::string& target : std::vector<std::string>{"../../host-passwd", "/../../host-passwd", host_file}) {
        ::unlink(passwd().c_str());
        ASSERT_EQ(::symlink(target.c_str(), passwd().c_str()), 0);
        expect_runs_with_fallback_home("/etc/passwd -> " + target);
    }
    // And for exec: the host-only name is unknown in the container.
    start_container();
    expect_refused(exec_probe({"--user", "hostonly"}), "--user", "--user hostonly via a symlink out");
}

TEST_F(EscapeIdsImage, PasswdSymlinkToKmsgIsNeverOpened) {
    ASSERT_EQ(::unlink(passwd().c_str()), 0);
    ASSERT_EQ(::symlink("/dev/kmsg", passwd().c_str()), 0);
    expect_runs_with_fallback_home("/etc/passwd -> /dev/kmsg");
    start_container();
    expect_refused(exec_probe({"--user", "user"}), "--user", "--user user, passwd -> /dev/kmsg");
}

TEST_F(EscapeIdsImage, PasswdFifoIsNeverOpened) {
    FifoTrap trap(passwd(), "user:x:1000:1000::/from-the-fifo:/bin/sh\n");
    ASSERT_TRUE(trap.ok()) << std::strerror(errno);
    expect_runs_with_fallback_home("/etc/passwd is a FIFO");
    EXPECT_FALSE(trap.opened()) << "hrun opened the FIFO for reading";
}

TEST_F(EscapeIdsImage, PasswdDeviceIsNeverOpened) {
    ASSERT_EQ(::unlink(passwd().c_str()), 0);
    if (::mknod(passwd().c_str(), S_IFCHR | 0644, makedev(1, 3)) != 0)
        GTEST_SKIP() << "mknod c 1:3: " << std::strerror(errno);
    expect_runs_with_fallback_home("/etc/passwd is c 1:3");
    start_container();
    RunResult r = exec_probe({"--user", "user"});
    expect_refused(r, "--user", "--user user, passwd is c 1:3");
    EXPECT_NE(r.err.find("character device"), std::string::npos) << r.describe();
}

TEST_F(EscapeIdsImage, HugePasswdIsNotRead) {
    {
        std::ofstream out(passwd(), std::ios::trunc);
        out << "user:x:1000:1000::/huge:/bin/sh\n";
    }
    ASSERT_EQ(::truncate(passwd().c_str(), off_t{64} << 20), 0);  // sparse: no disk used
    expect_runs_with_fallback_home("64 MiB /etc/passwd");
    start_container();
    RunResult r = exec_probe({"--user", "user"});
    expect_refused(r, "--user", "--user user, 64 MiB passwd");
    EXPECT_NE(r.err.find("larger than"), std::string::npos) << r.describe();
}

// ---- a running container replaces its own files ----

TEST_F(EscapeIds, ContainerReplacingItsPasswdWithADeviceOrFifo) {
    bundle().config["root"]["readonly"] = false;
    for (const char* set : {"bounding", "effective", "permitted"})
        bundle().config["process"]["capabilities"][set].push_back("CAP_MKNOD");
    bundle().config["linux"]["resources"]["devices"].push_back(
        {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}});
    // /etc/passwd becomes c 1:3 (when the kernel lets it), /etc/group a FIFO whose writer marks
    // /tmp/group-opened once anyone opens the FIFO to read it.
    bundle().set_args({"/bin/sh", "-c",
                       "rm -f /etc/passwd /etc/group; "
                       "mknod /etc/passwd c 1 3 || echo 'user:x:1000:1000::/tmp:/bin/sh' > /etc/passwd; "
                       "mkfifo /etc/group; "
                       "(echo 'wheel:x:0:user' > /etc/group; touch /tmp/group-opened) & "
                       "touch /tmp/ready; exec sleep 1000"});
    bundle().save();
    id_ = unique_id();
    RunResult started = hrun({"run", "--detach", "--bundle", bundle().dir(), id_});
    ASSERT_EQ(started.status, 0) << started.describe();
    ASSERT_TRUE(eventually([&] { return exec({}, {"test", "-e", "/tmp/ready"}).status == 0; }))
        << "the container did not get ready";
    const bool device = exec({}, {"test", "-c", "/etc/passwd"}).status == 0;
    processes_ = processes_in_cgroups_named(id_).size();  // sleep and the FIFO's writer

    if (device) {
        RunResult r = exec({"--user", "user"}, {"/bin/hrun-probe"}, 20s);
        expect_refused(r, "--user", "--user user, passwd replaced by c 1:3");
        EXPECT_NE(r.err.find("character device"), std::string::npos) << r.describe();
        // HOME is looked up for a numeric uid too: it falls back.
        RunResult home = exec_probe({"--user", "1000"});
        ASSERT_EQ(home.status, 0) << home.describe();
        EXPECT_EQ(home.fact("env.HOME"), "/") << home.describe();
    } else {
        std::printf("[  NOTE    ] mknod refused in the container; only the FIFO part ran\n");
    }
    // The group FIFO: a name in GROUP reads it, a user name reads it for the user's groups.
    RunResult group = exec({"--user", "0:wheel"}, {"/bin/hrun-probe"}, 20s);
    expect_refused(group, "--user", "--user 0:wheel, group is a FIFO");
    EXPECT_NE(group.err.find("FIFO"), std::string::npos) << group.describe();
    RunResult opened = exec({}, {"test", "-e", "/tmp/group-opened"});
    EXPECT_NE(opened.status, 0) << "hrun opened the container's FIFO for reading";
}

}  // namespace
}  // namespace hrun::itest
