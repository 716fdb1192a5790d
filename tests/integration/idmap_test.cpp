// Idmapped mounts and --userns-remap: a rootfs unpacked as host root, run with container root
// remapped to a subordinate range, is owned by container root through an idmapped mount; mounts[]
// entries with "idmap" or their own uidMappings show host files through the maps they ask for;
// and bad requests are refused naming the field, with nothing left behind.
//
// The remap user "hrun-remap" (a system user, so that useradd allocates no range of its own) gets
// 300000-365535 in /etc/subuid and /etc/subgid; the tests create it when it is missing.
#include <fcntl.h>
#include <linux/mount.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>

#include "harness.hpp"
#include "idmap_support.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

class Idmap : public ContainerTest {
protected:
    void SetUp() override {
        ContainerTest::SetUp();
        if (IsSkipped()) return;
        if (!kernel_has_user_namespaces()) GTEST_SKIP() << "this kernel has no user namespaces";
        const std::string why = ensure_remap_user();
        ASSERT_TRUE(why.empty()) << why;
        // The rootfs as an image unpacked by root: every file owned by host root.
        struct stat st;
        ASSERT_EQ(::stat((bundle().rootfs() + "/bin/busybox").c_str(), &st), 0);
        ASSERT_EQ(st.st_uid, 0u);
    }

    void remap() { bundle().global_args = {"--userns-remap=" + std::string(kRemapUser)}; }

    // A writable idmapped mount must lie below a directory closed to other host users (what
    // container root writes there is host root's on disk): the bundle's temporary directory,
    // which holds the host directories of host_dir() too, becomes root's alone.
    void close_to_other_users() {
        ASSERT_EQ(::chmod(fs::path(bundle().dir()).parent_path().c_str(), 0700), 0);
    }

    // A host directory for bind mounts, next to the bundle.
    std::string host_dir(const std::string& name, uid_t uid, gid_t gid) {
        std::string dir = fs::path(bundle().dir()).parent_path() / name;
        fs::create_directories(dir);
        EXPECT_EQ(::chown(dir.c_str(), uid, gid), 0);
        EXPECT_EQ(::chmod(dir.c_str(), 0755), 0);
        return dir;
    }

    void add_bind(const std::string& source, const std::string& destination, json options) {
        bundle().config["mounts"].push_back(
            {{"destination", destination}, {"type", "bind"}, {"source", source}, {"options", options}});
    }

    // Runs the container detached; returns its host pid (0 on failure, with the failure added).
    pid_t run_detached() {
        bundle().save();
        const std::string pid_file = fs::path(bundle().dir()).parent_path() / "container.pid";
        RunResult r = bundle().hrun({"run", "--detach", "--pid-file", pid_file, "--bundle", bundle().dir(), bundle().id()});
        if (r.status != 0) {
            ADD_FAILURE() << r.describe();
            return 0;
        }
        return static_cast<pid_t>(std::stol(read_file(pid_file).value_or("0")));
    }

    void delete_container() { bundle().hrun({"delete", "--force", bundle().id()}); }

    void expect_refused(const std::string& field, const std::string& reason) {
        const HostSnapshot before = HostSnapshot::take();
        bundle().set_args({"/bin/hrun-probe"});
        RunResult r = bundle().run();
        EXPECT_NE(r.status, 0) << "accepted\n" << r.describe();
        EXPECT_EQ(r.out, "") << "the container process ran\n" << r.describe();
        EXPECT_NE(r.err.find(field), std::string::npos) << "field " << field << "\n" << r.describe();
        EXPECT_NE(r.err.find(reason), std::string::npos) << "reason " << reason << "\n" << r.describe();
        for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;
    }
};

TEST_F(Idmap, RemappedRootOwnsTheRootOwnedRootfs) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    remap();
    close_to_other_users();
    bundle().config["root"]["readonly"] = false;
    bundle().set_args({"/bin/sh", "-c", "stat -c %u:%g /bin/busybox; id -u; touch /root/made-inside && echo wrote"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    std::istringstream out(r.out);
    std::string owner, uid, wrote;
    out >> owner >> uid >> wrote;
    EXPECT_EQ(owner, "0:0") << "the rootfs is container root's\n" << r.describe();
    EXPECT_EQ(uid, "0") << r.describe();
    EXPECT_EQ(wrote, "wrote") << r.describe();
    // Written by container root through the idmapped rootfs: host root's on disk.
    struct stat st;
    ASSERT_EQ(::stat((bundle().rootfs() + "/root/made-inside").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, 0u);
}

TEST_F(Idmap, RemappedRootIsTheRangeOnTheHost) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    remap();
    bundle().set_args({"/bin/sleep", "60"});
    pid_t pid = run_detached();
    ASSERT_GT(pid, 0);
    std::string status = read_file("/proc/" + std::to_string(pid) + "/status").value_or("");
    std::string uid_map = read_file("/proc/" + std::to_string(pid) + "/uid_map").value_or("");
    std::string gid_map = read_file("/proc/" + std::to_string(pid) + "/gid_map").value_or("");
    std::string state = read_file(bundle().state_root() + "/" + bundle().id() + "/state.json").value_or("");
    // exec joins the user namespace the config does not list.
    RunResult exec = bundle().hrun({"exec", bundle().id(), "/bin/cat", "/proc/self/uid_map"});
    delete_container();

    std::istringstream lines(status);
    std::string uid_line;
    for (std::string l; std::getline(lines, l);)
        if (l.rfind("Uid:", 0) == 0) uid_line = l;
    std::istringstream uids(uid_line.substr(4));
    unsigned real = 0;
    uids >> real;
    EXPECT_EQ(real, kRangeStart) << status;
    for (const std::string* map : {&uid_map, &gid_map}) {
        std::istringstream m(*map);
        unsigned inside = 1, outside = 0, size = 0;
        ASSERT_TRUE(m >> inside >> outside >> size) << *map;
        EXPECT_EQ(inside, 0u);
        EXPECT_EQ(outside, kRangeStart);
        EXPECT_EQ(size, kRangeSize);
    }
    // What was added is recorded with the container.
    EXPECT_NE(state.find("linux.uidMappings: 0 300000 65536"), std::string::npos) << state;
    EXPECT_NE(state.find("org.hrun.rootfs.idmap"), std::string::npos) << state;
    ASSERT_EQ(exec.status, 0) << exec.describe();
    EXPECT_THAT(exec.out, ::testing::MatchesRegex("^ *0 +300000 +65536\n$")) << exec.describe();
}

TEST_F(Idmap, RemapFromTheEnvironment) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    bundle().set_args({"/bin/sh", "-c", "stat -c %u /bin/busybox; cat /proc/self/uid_map"});
    RunOptions o;
    o.env_add = {"HRUN_USERNS_REMAP=" + std::string(kRemapUser)};
    RunResult r = bundle().run(o);
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_THAT(r.out, ::testing::MatchesRegex("^0\n *0 +300000 +65536\n$")) << r.describe();
}

TEST_F(Idmap, WithoutTheIdmapTheRootfsIsUnmapped) {
    // The same maps as --userns-remap, without the annotation: host root is not in the range.
    bundle().add_namespace("user");
    json map = json::array({{{"containerID", 0}, {"hostID", kRangeStart}, {"size", kRangeSize}}});
    bundle().config["linux"]["uidMappings"] = map;
    bundle().config["linux"]["gidMappings"] = map;
    bundle().set_args({"/bin/sh", "-c", "stat -c %u /bin/busybox; id -u"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "65534\n0\n") << r.describe();
}

TEST_F(Idmap, RemapLeavesAConfigWithItsOwnUserNamespaceAlone) {
    remap();
    bundle().add_namespace("user");
    json map = json::array({{{"containerID", 0}, {"hostID", kRangeStart + 1000}, {"size", 1000}}});
    bundle().config["linux"]["uidMappings"] = map;
    bundle().config["linux"]["gidMappings"] = map;
    bundle().set_args({"/bin/cat", "/proc/self/uid_map"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_THAT(r.out, ::testing::MatchesRegex("^ *0 +301000 +1000\n$")) << r.describe();
}

TEST_F(Idmap, IdmappedBindMountWritesAsHostRoot) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    remap();
    close_to_other_users();
    const std::string dir = host_dir("shared", 0, 0);
    add_bind(dir, "/data", json::array({"bind", "idmap"}));
    bundle().set_args({"/bin/sh", "-c", "stat -c %u /data; touch /data/made-inside && echo wrote"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "0\nwrote\n") << r.describe();
    struct stat st;
    ASSERT_EQ(::stat((dir + "/made-inside").c_str(), &st), 0) << r.describe();
    EXPECT_EQ(st.st_uid, 0u) << "container root writes as host root through the idmap";
    EXPECT_EQ(st.st_gid, 0u);
}

TEST_F(Idmap, PlainBindMountOfTheSameDirIsNotWritable) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    // The contrast to the test above: without "idmap", host root's directory is not container
    // root's.
    remap();
    const std::string dir = host_dir("shared", 0, 0);
    add_bind(dir, "/data", json::array({"bind"}));
    bundle().set_args({"/bin/sh", "-c", "stat -c %u /data; touch /data/made-inside 2>/dev/null || echo refused"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "65534\nrefused\n") << r.describe();
}

TEST_F(Idmap, ExplicitMappingsDifferentFromTheContainers) {
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    remap();
    close_to_other_users();
    // Host files of uid/gid 1000 shown as container root: disk 1000 -> host 300000 (container 0).
    const std::string dir = host_dir("user-files", 1000, 1000);
    {
        std::ofstream(dir + "/file") << "x";
    }
    ASSERT_EQ(::chown((dir + "/file").c_str(), 1000, 1000), 0);
    add_bind(dir, "/explicit", json::array({"bind"}));
    json map = json::array({{{"containerID", 1000}, {"hostID", kRangeStart}, {"size", 1}}});
    bundle().config["mounts"].back()["uidMappings"] = map;
    bundle().config["mounts"].back()["gidMappings"] = map;
    // The same directory with the container's own maps ("idmap"): 1000 stays 1000.
    add_bind(dir, "/own", json::array({"bind", "idmap"}));
    bundle().set_args({"/bin/sh", "-c", "stat -c %u:%g /explicit/file /own/file; echo y > /explicit/file && echo wrote"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, "0:0\n1000:1000\nwrote\n") << r.describe();
    struct stat st;
    ASSERT_EQ(::stat((dir + "/file").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1000u) << "the file keeps its owner on the host";
}

TEST_F(Idmap, SpecWritesTheRemap) {
    const std::string dir = fs::path(bundle().dir()).parent_path() / "spec-out";
    fs::create_directories(dir);
    RunResult r = bundle().hrun({"spec", "--bundle", dir, "--userns-remap", kRemapUser});
    ASSERT_EQ(r.status, 0) << r.describe();
    json c = json::parse(read_file(dir + "/config.json").value_or("{}"));
    bool user_ns = false;
    for (const auto& ns : c["linux"]["namespaces"]) user_ns = user_ns || ns["type"] == "user";
    EXPECT_TRUE(user_ns) << c.dump(2);
    json map = json::array({{{"containerID", 0}, {"hostID", kRangeStart}, {"size", kRangeSize}}});
    EXPECT_EQ(c["linux"]["uidMappings"], map) << c.dump(2);
    EXPECT_EQ(c["linux"]["gidMappings"], map) << c.dump(2);
    EXPECT_EQ(c["annotations"]["org.hrun.rootfs.idmap"], "true") << c.dump(2);

    // And the config runs, rootfs and all, as the remapped root.
    SKIP_UNLESS_IDMAPPABLE(bundle().rootfs());
    c["process"]["args"] = json::array({"/bin/sh", "-c", "stat -c %u /bin/busybox; cat /proc/self/uid_map"});
    c["process"]["terminal"] = false;  // spec asks for one; the test has no tty
    bundle().config = c;
    RunResult run = bundle().run();
    ASSERT_EQ(run.status, 0) << run.describe();
    EXPECT_THAT(run.out, ::testing::MatchesRegex("^0\n *0 +300000 +65536\n$")) << run.describe();

    RunResult unknown = bundle().hrun({"spec", "--bundle", dir, "--userns-remap", "hrun-no-such-user"});
    EXPECT_NE(unknown.status, 0);
    EXPECT_NE(unknown.err.find("--userns-remap"), std::string::npos) << unknown.describe();
}

TEST_F(Idmap, AnnotationWithoutAUserNamespaceIsRefused) {
    bundle().config["annotations"]["org.hrun.rootfs.idmap"] = "true";
    expect_refused("annotations[\"org.hrun.rootfs.idmap\"]", "user namespace");
}

TEST_F(Idmap, IdmapOnANonBindMountIsRefused) {
    remap();
    bundle().config["mounts"].push_back(
        {{"destination", "/scratch"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "idmap"}}});
    const std::string field = "mounts[" + std::to_string(bundle().config["mounts"].size() - 1) + "].options[1]";
    expect_refused(field, "bind mounts only");
}

TEST_F(Idmap, IdmapWithoutAUserNamespaceIsRefused) {
    add_bind(host_dir("shared", 0, 0), "/data", json::array({"bind", "idmap"}));
    const std::string field = "mounts[" + std::to_string(bundle().config["mounts"].size() - 1) + "].options[1]";
    expect_refused(field, "user namespace");
}

TEST_F(Idmap, UnknownRemapUserIsRefused) {
    bundle().global_args = {"--userns-remap=hrun-no-such-user"};
    expect_refused("--userns-remap", "unknown user");
}

TEST_F(Idmap, RemapUserWithoutARangeIsRefused) {
    bundle().global_args = {"--userns-remap=nobody"};
    if (file_has_line("/etc/subuid", "nobody") || read_file("/etc/subuid").value_or("").find("nobody:") != std::string::npos)
        GTEST_SKIP() << "nobody has a subordinate range on this host";
    expect_refused("--userns-remap", "no subordinate range");
}

}  // namespace
}  // namespace hrun::itest
