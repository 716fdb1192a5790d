// Which namespaces clone3 creates, which the child unshares, and when a second fork is needed.
#include <gtest/gtest.h>
#include <sched.h>

#include "create/namespaces.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace hrun::create {
namespace {

spec::Spec with_namespaces(std::vector<spec::Namespace> namespaces) {
    spec::Spec s;
    s.linux.emplace();
    s.linux->namespaces = std::move(namespaces);
    return s;
}

TEST(NamespacePlan, AllNewNamespacesGoStraightToClone3) {
    auto plan = plan_namespaces(
        with_namespaces({{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""},
                         {"cgroup", ""}}),
        0);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_EQ(plan->clone_flags, static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWNET |
                                                            CLONE_NEWIPC | CLONE_NEWUTS |
                                                            CLONE_NEWNS | CLONE_NEWCGROUP));
    EXPECT_EQ(plan->unshare_flags, 0u);
    EXPECT_FALSE(plan->second_fork);
    EXPECT_TRUE(plan->loopback_up);
    EXPECT_TRUE(plan->summary.new_pid);
    EXPECT_FALSE(plan->summary.new_user);
}

TEST(NamespacePlan, MountNamespaceIsRequired) {
    auto plan = plan_namespaces(with_namespaces({{"pid", ""}}), 0);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.namespaces");
}

TEST(NamespacePlan, TimeNamespaceNeedsASecondForkAndUnsharesPidLate) {
    auto s = with_namespaces({{"pid", ""}, {"mount", ""}, {"time", ""}});
    s.linux->timeOffsets["monotonic"] = {86400, 5};
    auto plan = plan_namespaces(s, 0);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_EQ(plan->clone_flags, 0u);
    EXPECT_TRUE(plan->second_fork);
    EXPECT_EQ(plan->late_flags, static_cast<unsigned long>(CLONE_NEWPID | CLONE_NEWTIME));
    EXPECT_EQ(plan->unshare_flags, static_cast<unsigned long>(CLONE_NEWNS));
    EXPECT_EQ(plan->time_offsets, "monotonic 86400 5\n");
}

TEST(NamespacePlan, JoinedNamespaceIsOpenedAndTypeChecked) {
    auto plan = plan_namespaces(with_namespaces({{"mount", ""}, {"network", "/proc/self/ns/net"}}), 0);
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_EQ(plan->joins.size(), 1u);
    EXPECT_EQ(plan->joins[0].type, CLONE_NEWNET);
    EXPECT_TRUE(plan->joins[0].fd);
    EXPECT_EQ(plan->clone_flags, 0u);
    EXPECT_EQ(plan->unshare_flags, static_cast<unsigned long>(CLONE_NEWNS));
    EXPECT_FALSE(plan->second_fork);
    EXPECT_FALSE(plan->summary.new_net);
}

TEST(NamespacePlan, JoiningWithTheWrongTypeNamesThePath) {
    auto plan = plan_namespaces(with_namespaces({{"mount", ""}, {"ipc", "/proc/self/ns/net"}}), 0);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.namespaces[1].path");
    EXPECT_NE(plan.error().message.find("not a ipc namespace"), std::string::npos);
}

TEST(NamespacePlan, JoiningAMissingPathFailsWithErrno) {
    auto plan = plan_namespaces(with_namespaces({{"mount", ""}, {"pid", "/nonexistent/ns"}}), 0);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().err, ENOENT);
}

TEST(NamespacePlan, JoinedPidNamespaceNeedsASecondFork) {
    auto plan = plan_namespaces(with_namespaces({{"mount", ""}, {"pid", "/proc/self/ns/pid"}}), 0);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_TRUE(plan->second_fork);
    EXPECT_EQ(plan->late_flags, 0u);
}

TEST(NamespacePlan, UserJoinComesFirst) {
    auto plan = plan_namespaces(with_namespaces({{"mount", ""},
                                                 {"network", "/proc/self/ns/net"},
                                                 {"user", "/proc/self/ns/user"}}),
                                0);
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_EQ(plan->joins.size(), 2u);
    EXPECT_EQ(plan->joins[0].type, CLONE_NEWUSER);
    EXPECT_EQ(plan->joins[1].type, CLONE_NEWNET);
}

TEST(NamespacePlan, IdMapsAreFormattedForOneWrite) {
    auto s = with_namespaces({{"user", ""}, {"mount", ""}});
    s.linux->uidMappings = {{0, 100000, 65536}, {65536, 1000, 1}};
    s.linux->gidMappings = {{0, 100000, 65536}};
    auto root = plan_namespaces(s, 0);
    ASSERT_TRUE(root);
    EXPECT_EQ(root->uid_map, "0 100000 65536\n65536 1000 1\n");
    EXPECT_EQ(root->gid_map, "0 100000 65536\n");
    EXPECT_FALSE(root->deny_setgroups);
    // An unprivileged caller writes only its own id itself (more needs newuidmap: id_maps_test),
    // and must deny setgroups(2) first.
    s.linux->uidMappings = {{0, 1000, 1}};
    s.linux->gidMappings.clear();
    auto unprivileged = plan_namespaces(s, 1000);
    ASSERT_TRUE(unprivileged) << unprivileged.error().what();
    EXPECT_EQ(unprivileged->uid_map, "0 1000 1\n");
    EXPECT_FALSE(unprivileged->uid_helper);
    EXPECT_TRUE(unprivileged->deny_setgroups);
}

TEST(NamespacePlan, SysctlKeysBecomeProcPaths) {
    auto s = with_namespaces({{"network", ""}, {"mount", ""}});
    s.linux->sysctl["net.ipv4.ip_forward"] = "1";
    auto plan = plan_namespaces(s, 0);
    ASSERT_TRUE(plan);
    ASSERT_EQ(plan->sysctls.size(), 1u);
    EXPECT_EQ(plan->sysctls[0].path, "sys/net/ipv4/ip_forward");
    EXPECT_EQ(plan->sysctls[0].field, "linux.sysctl[\"net.ipv4.ip_forward\"]");
}

TEST(NamespacePlan, NewPidNamespaceNextToAJoinedOneNeedsASecondFork) {
    auto plan = plan_namespaces(with_namespaces({{"pid", ""}, {"mount", ""}, {"network", "/proc/self/ns/net"}}), 0);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_EQ(plan->clone_flags, 0u);
    EXPECT_EQ(plan->late_flags, static_cast<unsigned long>(CLONE_NEWPID));
    EXPECT_EQ(plan->unshare_flags, static_cast<unsigned long>(CLONE_NEWNS));
    EXPECT_TRUE(plan->second_fork) << "the container would stay in hrun's pid namespace";
}

// Joined by path, hrun changes what the config asks in the namespace (hostname, sysctls, the
// rootfs setup), as runc does; in hrun's own namespace that would change the host.
TEST(NamespacePlan, ChangesInHrunsOwnJoinedNamespaceAreRefused) {
    auto uts = with_namespaces({{"mount", ""}, {"uts", "/proc/self/ns/uts"}});
    uts.hostname = "renamed";
    auto hostname = plan_namespaces(uts, 0);
    ASSERT_FALSE(hostname);
    EXPECT_EQ(hostname.error().field, "linux.namespaces[1].path");
    EXPECT_NE(hostname.error().message.find("setting the hostname"), std::string::npos);

    auto net = with_namespaces({{"mount", ""}, {"network", "/proc/self/ns/net"}});
    net.linux->sysctl["net.ipv4.ip_forward"] = "1";
    auto sysctl = plan_namespaces(net, 0);
    ASSERT_FALSE(sysctl);
    EXPECT_EQ(sysctl.error().field, "linux.namespaces[1].path");

    auto mount = plan_namespaces(with_namespaces({{"mount", "/proc/self/ns/mnt"}}), 0);
    ASSERT_FALSE(mount);
    EXPECT_EQ(mount.error().field, "linux.namespaces[0].path");
    EXPECT_NE(mount.error().message.find("setting up the rootfs"), std::string::npos);

    // Joining it without changing anything there shares it, and it is not the container's own.
    auto shared = plan_namespaces(with_namespaces({{"mount", ""}, {"uts", "/proc/self/ns/uts"}}), 0);
    ASSERT_TRUE(shared) << shared.error().what();
    EXPECT_FALSE(shared->summary.new_net);
}

}  // namespace
}  // namespace hrun::create
