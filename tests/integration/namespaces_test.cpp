// Namespaces as seen from inside: each configured type is a new namespace (inode differs from
// the host's), each type not configured is shared with the host.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cstdlib>

#include "harness.hpp"

namespace hrun::itest {
namespace {

// Probe key for a config namespace type.
std::string probe_key(const std::string& type) {
    if (type == "mount") return "mnt";
    if (type == "network") return "net";
    return type;
}

bool host_has_namespace(const std::string& probe_type) {
    struct stat st;
    return ::stat(("/proc/self/ns/" + probe_type).c_str(), &st) == 0;
}

void expect_namespaces(const RunResult& r, const std::set<std::string>& new_types,
                       const std::set<std::string>& shared_types) {
    auto host = host_namespaces();
    for (const auto& type : new_types) {
        std::string key = probe_key(type);
        EXPECT_NE(r.fact("ns." + key), "<absent>") << r.describe();
        EXPECT_NE(r.fact("ns." + key), host[key]) << type << " namespace is the host's\n" << r.describe();
    }
    for (const auto& type : shared_types) {
        std::string key = probe_key(type);
        EXPECT_EQ(r.fact("ns." + key), host[key]) << type << " namespace should be the host's\n" << r.describe();
    }
}

using Namespaces = ContainerTest;

TEST_F(Namespaces, DefaultConfigIsolatesAllButUserAndTime) {
    std::set<std::string> configured;
    for (const auto& n : bundle().config["linux"]["namespaces"]) configured.insert(n["type"]);
    ASSERT_EQ(configured, (std::set<std::string>{"pid", "network", "ipc", "uts", "mount", "cgroup"}));

    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    expect_namespaces(r, configured, {"user", "time"});
    EXPECT_EQ(r.fact("pid"), "1");
}

// A new pid namespace next to one joined by path (a Kubernetes container with its own pid
// namespace inside its pod's network namespace): the process is pid 1 of a pid namespace of its
// own, and its /proc is that namespace's, not hrun's.
TEST_F(Namespaces, ANewPidNamespaceNextToAJoinedOne) {
    for (auto& n : bundle().config["linux"]["namespaces"])
        if (n["type"] == "network") n["path"] = "/proc/self/ns/net";
    bundle().set_args({"/bin/sh", "-c", "echo pid=$$; cat /proc/1/comm; readlink /proc/self/ns/pid"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find("pid=1\n"), std::string::npos) << r.describe();
    EXPECT_NE(r.out.find("sh\n"), std::string::npos) << "/proc/1 is not the container's process\n" << r.describe();
    EXPECT_EQ(r.out.find(host_namespaces()["pid"]), std::string::npos) << "hrun's pid namespace\n" << r.describe();
}

TEST_F(Namespaces, EachTypeCanBeLeftOut) {
    // Without a pid and a network namespace the container shares the host's.
    bundle().remove_namespace("pid");
    bundle().remove_namespace("network");
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    expect_namespaces(r, {"ipc", "uts", "mount", "cgroup"}, {"pid", "network", "user"});
    EXPECT_NE(r.fact("pid"), "1") << r.describe();
}

TEST_F(Namespaces, TimeNamespaceWhenConfigured) {
    if (!host_has_namespace("time")) GTEST_SKIP() << "this kernel has no time namespaces";
    bundle().add_namespace("time");
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    expect_namespaces(r, {"time", "pid", "mount"}, {"user"});
}

TEST_F(Namespaces, TimeOffsetsShiftBoottime) {
    if (!host_has_namespace("time")) GTEST_SKIP() << "this kernel has no time namespaces";
    bundle().add_namespace("time");
    const long offset = 10L * 365 * 24 * 3600;  // ten years: far above any real uptime
    bundle().config["linux"]["timeOffsets"] = {{"boottime", {{"secs", offset}, {"nanosecs", 0}}}};
    bundle().set_args({"/bin/cat", "/proc/uptime"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    double uptime = std::strtod(r.out.c_str(), nullptr);
    EXPECT_GT(uptime, static_cast<double>(offset)) << r.describe();
}

class UserNamespace : public ContainerTest {
protected:
    BundleOptions bundle_options() const override {
        BundleOptions o;
        o.chown = "100000:100000";
        return o;
    }
};

TEST_F(UserNamespace, RootIsMappedToAnUnprivilegedHostId) {
    if (!host_has_namespace("user")) GTEST_SKIP() << "this kernel has no user namespaces";
    bundle().add_namespace("user");
    json map = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
    bundle().config["linux"]["uidMappings"] = map;
    bundle().config["linux"]["gidMappings"] = map;
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    expect_namespaces(r, {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}, {});
    EXPECT_EQ(r.fact("uid"), "0") << r.describe();
    EXPECT_EQ(r.fact("gid"), "0") << r.describe();
}

TEST_F(UserNamespace, UidMapIsTheConfiguredOne) {
    if (!host_has_namespace("user")) GTEST_SKIP() << "this kernel has no user namespaces";
    bundle().add_namespace("user");
    json map = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
    bundle().config["linux"]["uidMappings"] = map;
    bundle().config["linux"]["gidMappings"] = map;
    bundle().set_args({"/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    std::istringstream lines(r.out);
    for (int i = 0; i < 2; ++i) {
        unsigned long inside = 1, outside = 0, size = 0;
        ASSERT_TRUE(lines >> inside >> outside >> size) << r.describe();
        EXPECT_EQ(inside, 0u);
        EXPECT_EQ(outside, 100000u);
        EXPECT_EQ(size, 65536u);
    }
}

using Hostname = ContainerTest;

TEST_F(Hostname, HostnameAndDomainnameAreSetInTheUtsNamespace) {
    struct utsname before;
    ASSERT_EQ(::uname(&before), 0);
    bundle().config["hostname"] = "hrun-it-host";
    bundle().config["domainname"] = "hrun.test";
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("hostname"), "hrun-it-host") << r.describe();
    EXPECT_EQ(r.fact("domainname"), "hrun.test") << r.describe();

    struct utsname after;
    ASSERT_EQ(::uname(&after), 0);
    EXPECT_STREQ(after.nodename, before.nodename) << "the host's hostname changed";
    EXPECT_STREQ(after.domainname, before.domainname) << "the host's domainname changed";
}

}  // namespace
}  // namespace hrun::itest
