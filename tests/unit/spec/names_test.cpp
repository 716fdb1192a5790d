// Name tables: capabilities (libcap, exact spelling), rlimits, namespace clone flags.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>

#include "spec/names.hpp"

namespace hrun::spec {
namespace {

TEST(CapabilityFromName, KnowsTheSpecNames) {
    EXPECT_EQ(capability_from_name("CAP_CHOWN"), CAP_CHOWN);
    EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
    EXPECT_EQ(capability_from_name("CAP_NET_RAW"), CAP_NET_RAW);
    EXPECT_EQ(capability_from_name("CAP_AUDIT_WRITE"), CAP_AUDIT_WRITE);
    EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
}

TEST(CapabilityFromName, RequiresExactUpperCaseWithPrefix) {
    EXPECT_FALSE(capability_from_name("cap_chown"));
    EXPECT_FALSE(capability_from_name("Cap_Chown"));
    EXPECT_FALSE(capability_from_name("CAP_chown"));
    EXPECT_FALSE(capability_from_name("CHOWN"));
    EXPECT_FALSE(capability_from_name("chown"));
    EXPECT_FALSE(capability_from_name("CAP_"));
    EXPECT_FALSE(capability_from_name(""));
    EXPECT_FALSE(capability_from_name("CAP_FOO"));
    EXPECT_FALSE(capability_from_name("CAP_0"));
    EXPECT_FALSE(capability_from_name("0"));
    EXPECT_FALSE(capability_from_name("CAP_CHOWN "));
    EXPECT_FALSE(capability_from_name(std::string_view("CAP_CHOWN\0X", 11)));
    EXPECT_FALSE(capability_from_name("CAP_CHOWN,CAP_KILL"));
    EXPECT_FALSE(capability_from_name(std::string(200, 'A')));
}

TEST(RlimitFromName, KnowsEveryLinuxRlimit) {
    const std::pair<const char*, int> all[] = {
        {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    };
    static_assert(std::size(all) == RLIMIT_NLIMITS, "every rlimit the kernel has");
    for (const auto& [name, value] : all) EXPECT_EQ(rlimit_from_name(name), value) << name;
    EXPECT_FALSE(rlimit_from_name("RLIMIT_FOO"));
    EXPECT_FALSE(rlimit_from_name("rlimit_nofile"));
    EXPECT_FALSE(rlimit_from_name("NOFILE"));
    EXPECT_FALSE(rlimit_from_name(""));
}

TEST(NamespaceCloneFlag, MapsSpecTypes) {
    EXPECT_EQ(namespace_clone_flag("pid"), CLONE_NEWPID);
    EXPECT_EQ(namespace_clone_flag("network"), CLONE_NEWNET);
    EXPECT_EQ(namespace_clone_flag("mount"), CLONE_NEWNS);
    EXPECT_EQ(namespace_clone_flag("ipc"), CLONE_NEWIPC);
    EXPECT_EQ(namespace_clone_flag("uts"), CLONE_NEWUTS);
    EXPECT_EQ(namespace_clone_flag("user"), CLONE_NEWUSER);
    EXPECT_EQ(namespace_clone_flag("cgroup"), CLONE_NEWCGROUP);
    EXPECT_EQ(namespace_clone_flag("time"), 0x80);
    EXPECT_FALSE(namespace_clone_flag("net"));
    EXPECT_FALSE(namespace_clone_flag("PID"));
    EXPECT_FALSE(namespace_clone_flag(""));
}

}  // namespace
}  // namespace hrun::spec
