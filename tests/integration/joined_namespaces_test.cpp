// Namespaces joined by path (linux.namespaces[i].path), as runc takes them: the container enters
// the namespaces a holder process made (unshare(1), or a first container) and hrun does in them
// what the config asks (hostname and sysctls in a joined uts or ipc namespace, the rootfs setup
// in a joined mount namespace); `exec` into such a container lands in the same namespaces. The
// host's own namespaces are not changed that way: a hostname or a rootfs in them is refused.
#include <sys/utsname.h>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

std::string proc_name(const std::string& type) {
    if (type == "network") return "net";
    if (type == "mount") return "mnt";
    return type;
}

class JoinedNamespaces : public RuntimeTest {
protected:
    // A process in new namespaces of `flags` (unshare options), sleeping; returns the pid that
    // is inside them (the child of unshare --fork), 0 on failure.
    pid_t start_holder(const std::vector<std::string>& flags) {
        std::vector<std::string> argv{"/usr/bin/unshare"};
        argv.insert(argv.end(), flags.begin(), flags.end());
        argv.insert(argv.end(), {"--fork", "--kill-child", "/bin/sleep", "1000"});
        holders_.push_back(std::make_unique<Process>(argv));
        const pid_t unshare_pid = holders_.back()->pid();
        pid_t inside = 0;
        eventually([&] {
            auto children = descendants(unshare_pid);
            for (pid_t c : children)
                if (process_comm(c) == "sleep") inside = c;
            return inside != 0;
        });
        EXPECT_NE(inside, 0) << "the holder did not start: unshare " << ::testing::PrintToString(flags);
        return inside;
    }

    // Points the config's namespace of `type` at the holder's.
    void join(const std::string& type, pid_t holder) {
        const std::string path = "/proc/" + std::to_string(holder) + "/ns/" + proc_name(type);
        for (auto& ns : bundle().config["linux"]["namespaces"])
            if (ns["type"] == type) {
                ns["path"] = path;
                return;
            }
        bundle().config["linux"]["namespaces"].push_back({{"type", type}, {"path", path}});
    }

    std::string holder_hostname(pid_t holder) {
        RunResult r = run_command({"/usr/bin/nsenter", "-t", std::to_string(holder), "-u", "hostname"});
        return r.status == 0 ? r.out : "<nsenter failed: " + r.err + ">";
    }

    std::vector<std::unique_ptr<Process>> holders_;
};

TEST_F(JoinedNamespaces, UtsIpcNetworkCgroupMountAndTimeOfAHolder) {
    pid_t holder = start_holder({"--uts", "--ipc", "--net", "--mount", "--cgroup", "--time",
                                 "--propagation", "private"});
    ASSERT_GT(holder, 0);
    const std::vector<std::string> types{"uts", "ipc", "network", "cgroup", "mount", "time"};
    for (const auto& type : types) join(type, holder);
    bundle().config["hostname"] = "joined-uts";
    bundle().config["linux"]["sysctl"] = {{"kernel.shmmni", "1234"}, {"net.ipv4.ip_forward", "1"}};
    const std::string host_name = [] {
        struct utsname u;
        ::uname(&u);
        return std::string(u.nodename);
    }();

    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    const pid_t init = pid_of(id);
    for (const auto& type : types) {
        const std::string p = proc_name(type);
        EXPECT_EQ(ns_inode(init, p), ns_inode(holder, p)) << type << " namespace not joined";
    }
    // pid stays new: the container is pid 1 of its own.
    EXPECT_NE(ns_inode(init, "pid"), ns_inode(holder, "pid"));
    // The hostname is set in the joined namespace (the holder sees it), not on the host.
    EXPECT_EQ(holder_hostname(holder), "joined-uts\n");
    struct utsname now;
    ::uname(&now);
    EXPECT_EQ(std::string(now.nodename), host_name) << "the host was renamed";

    // exec lands in the same namespaces, sees the container's rootfs and its sysctls.
    RunResult r = hrun({"exec", id, "/bin/hrun-probe"});
    ASSERT_EQ(r.status, 0) << r.describe();
    for (const auto& type : types) {
        const std::string p = proc_name(type);
        EXPECT_EQ(r.fact("ns." + p), ns_inode(holder, p)) << type << "\n" << r.describe();
    }
    EXPECT_EQ(r.fact("hostname"), "joined-uts") << r.describe();
    RunResult sysctls =
        hrun({"exec", id, "/bin/cat", "/proc/sys/kernel/shmmni", "/proc/sys/net/ipv4/ip_forward"});
    EXPECT_EQ(sysctls.status, 0) << sysctls.describe();
    EXPECT_EQ(sysctls.out, "1234\n1\n") << sysctls.describe();
    // The joined mount namespace holds the container's root: the probe is there, the bundle not.
    RunResult root = hrun({"exec", id, "/bin/sh", "-c", "test -x /bin/hrun-probe && test ! -e " + bundle().dir() + " && echo rootfs"});
    EXPECT_EQ(root.out, "rootfs\n") << root.describe();
}

TEST_F(JoinedNamespaces, ThePidNamespaceOfAnotherContainer) {
    const std::string first = unique_id();
    const pid_t first_init = run_sleeper(first);
    ASSERT_GT(first_init, 0);
    join("pid", first_init);
    const std::string second = unique_id();
    const pid_t second_init = run_sleeper(second);
    ASSERT_GT(second_init, 0);
    EXPECT_EQ(ns_inode(second_init, "pid"), ns_inode(first_init, "pid"));

    RunResult r = hrun({"exec", second, "/bin/hrun-probe"});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("ns.pid"), ns_inode(first_init, "pid")) << r.describe();
    EXPECT_NE(r.fact("pid"), "1") << "the first container's init is pid 1\n" << r.describe();
    // The second container's /proc shows the first one's init.
    RunResult ps = hrun({"exec", second, "/bin/cat", "/proc/1/cmdline"});
    EXPECT_EQ(ps.status, 0) << ps.describe();
    EXPECT_NE(ps.out.find("sleep"), std::string::npos) << ps.describe();
}

TEST_F(JoinedNamespaces, AUserNamespace) {
    // Container root is the holder's root, mapped to host root: one id.
    pid_t holder = start_holder({"--user", "--map-root-user"});
    ASSERT_GT(holder, 0);
    join("user", holder);
    bundle().config["linux"].erase("uidMappings");
    bundle().config["linux"].erase("gidMappings");
    bundle().config["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    // Only id 0 is mapped: devpts cannot take gid 5 (as in a rootless config).
    for (auto& m : bundle().config["mounts"]) {
        if (m["type"] != "devpts") continue;
        json options = json::array();
        for (const auto& o : m["options"])
            if (o.get<std::string>().rfind("gid=", 0) != 0) options.push_back(o);
        m["options"] = options;
    }
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("ns.user"), ns_inode(holder, "user")) << r.describe();
    EXPECT_EQ(r.fact("uid"), "0") << r.describe();

    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    RunResult e = hrun({"exec", id, "/bin/cat", "/proc/self/uid_map"});
    ASSERT_EQ(e.status, 0) << e.describe();
    EXPECT_EQ(e.out.find_first_not_of(" 0\n1"), std::string::npos) << "not the holder's map\n" << e.describe();
    RunResult probe = hrun({"exec", id, "/bin/hrun-probe"});
    EXPECT_EQ(probe.fact("ns.user"), ns_inode(holder, "user")) << probe.describe();
}

TEST_F(JoinedNamespaces, TheHostsUtsAndMountNamespacesAreNotChanged) {
    const HostSnapshot before = HostSnapshot::take();
    struct utsname u;
    ::uname(&u);
    const std::string host_name = u.nodename;

    // hrun's own uts namespace (the test's) with a hostname: would rename the host.
    const std::string own = "/proc/" + std::to_string(::getpid()) + "/ns/";
    bundle().config["hostname"] = "renamed-host";
    for (auto& ns : bundle().config["linux"]["namespaces"])
        if (ns["type"] == "uts") ns["path"] = own + "uts";
    RunResult r = bundle().probe({});
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("linux.namespaces[3].path: is the host's uts namespace: setting the hostname"),
              std::string::npos)
        << r.describe();
    ::uname(&u);
    EXPECT_EQ(std::string(u.nodename), host_name);

    // hrun's own mount namespace (the test's, which hrun inherits): the rootfs setup would pivot it.
    bundle().config.erase("hostname");
    for (auto& ns : bundle().config["linux"]["namespaces"]) {
        if (ns["type"] == "uts") ns.erase("path");
        if (ns["type"] == "mount") ns["path"] = own + "mnt";
    }
    RunResult m = bundle().probe({});
    EXPECT_NE(m.status, 0) << m.describe();
    EXPECT_NE(m.err.find("is the host's mount namespace: setting up the rootfs there would change the host"),
              std::string::npos)
        << m.describe();
    expect_no_host_leaks(before);
}

}  // namespace
}  // namespace hrun::itest
