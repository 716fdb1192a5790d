// default_spec: the hardened defaults `hrun spec` writes, in both variants.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "spec/spec_io.hpp"

namespace hrun::spec {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

bool has_namespace(const Spec& s, const char* type) {
    return std::any_of(s.linux->namespaces.begin(), s.linux->namespaces.end(),
                       [&](const Namespace& n) { return n.type == type && n.path.empty(); });
}

const Mount* mount_at(const Spec& s, const char* destination) {
    for (const Mount& m : s.mounts)
        if (m.destination == destination) return &m;
    return nullptr;
}

TEST(DefaultSpec, IsValid) {
    const Spec s = default_spec({});
    auto st = validate_spec(s);
    EXPECT_TRUE(st) << st.error().what();
}

TEST(DefaultSpec, RootlessIsValid) {
    const Spec s = default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1001});
    auto st = validate_spec(s);
    EXPECT_TRUE(st) << st.error().what();
}

TEST(DefaultSpec, SurvivesARoundTrip) {
    for (bool rootless : {false, true}) {
        const Spec s = default_spec({.rootless = rootless, .host_uid = 1000, .host_gid = 1000, .args = {"sh", "-c", "id"}});
        auto again = parse_spec(to_json(s));
        ASSERT_TRUE(again) << again.error().what();
        EXPECT_TRUE(*again == s);
    }
}

TEST(DefaultSpec, IsHardened) {
    const Spec s = default_spec({});
    EXPECT_EQ(s.ociVersion, "1.2.0");
    ASSERT_TRUE(s.root);
    EXPECT_EQ(s.root->path, "rootfs");
    EXPECT_TRUE(s.root->readonly);
    ASSERT_TRUE(s.process);
    const Process& p = *s.process;
    EXPECT_TRUE(p.terminal);  // as runc's spec
    EXPECT_EQ(p.user.uid, 0u);
    EXPECT_EQ(p.user.gid, 0u);
    EXPECT_THAT(p.args, ElementsAre("sh"));
    EXPECT_THAT(p.env, ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"));
    EXPECT_EQ(p.cwd, "/");
    EXPECT_TRUE(p.noNewPrivileges);
    ASSERT_TRUE(p.capabilities);
    const std::vector<std::string> minimal = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER",         "CAP_FSETID",
                                              "CAP_KILL",   "CAP_SETGID",       "CAP_SETUID",         "CAP_SETPCAP",
                                              "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"};
    EXPECT_EQ(p.capabilities->bounding, minimal);
    EXPECT_EQ(p.capabilities->effective, minimal);
    EXPECT_EQ(p.capabilities->permitted, minimal);
    EXPECT_TRUE(p.capabilities->inheritable.empty());
    EXPECT_TRUE(p.capabilities->ambient.empty());
    EXPECT_THAT(p.capabilities->bounding, Not(Contains("CAP_NET_RAW")));
    EXPECT_THAT(p.capabilities->bounding, Not(Contains("CAP_MKNOD")));
    EXPECT_THAT(p.capabilities->bounding, Not(Contains("CAP_SYS_ADMIN")));
    ASSERT_EQ(p.rlimits.size(), 1u);
    EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
    EXPECT_EQ(p.rlimits[0].hard, 1024u);
    EXPECT_EQ(p.rlimits[0].soft, 1024u);
    EXPECT_EQ(s.hostname, "hrun");

    ASSERT_TRUE(s.linux);
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) EXPECT_TRUE(has_namespace(s, ns)) << ns;
    EXPECT_FALSE(has_namespace(s, "user"));
    EXPECT_TRUE(s.linux->uidMappings.empty());
    ASSERT_TRUE(s.linux->resources);
    ASSERT_EQ(s.linux->resources->devices.size(), 1u);
    EXPECT_FALSE(s.linux->resources->devices[0].allow);
    EXPECT_EQ(s.linux->resources->devices[0].access, "rwm");
    ASSERT_TRUE(s.linux->resources->pids);
    EXPECT_EQ(s.linux->resources->pids->limit, 1024);
    ASSERT_TRUE(s.linux->resources->memory);
    EXPECT_EQ(s.linux->resources->memory->limit, int64_t{512} << 20);
    EXPECT_THAT(s.linux->maskedPaths, Contains("/proc/kcore"));
    EXPECT_THAT(s.linux->maskedPaths, Contains("/sys/firmware"));
    EXPECT_EQ(s.linux->maskedPaths.size(), 12u);
    EXPECT_THAT(s.linux->readonlyPaths,
                ElementsAre("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
}

TEST(DefaultSpec, MountsTheUsualFilesystemsWithoutPrivileges) {
    const Spec s = default_spec({});
    const std::pair<const char*, const char*> expected[] = {
        {"/proc", "proc"},     {"/dev", "tmpfs"},  {"/dev/pts", "devpts"},       {"/dev/shm", "tmpfs"},
        {"/dev/mqueue", "mqueue"}, {"/sys", "sysfs"}, {"/sys/fs/cgroup", "cgroup"}, {"/tmp", "tmpfs"}};
    ASSERT_EQ(s.mounts.size(), std::size(expected));
    for (std::size_t i = 0; i < s.mounts.size(); ++i) {
        EXPECT_EQ(s.mounts[i].destination, expected[i].first);
        EXPECT_EQ(s.mounts[i].type, expected[i].second);
        EXPECT_THAT(s.mounts[i].options, Contains("nosuid")) << expected[i].first;
    }
    EXPECT_THAT(mount_at(s, "/sys")->options, Contains("ro"));
    EXPECT_THAT(mount_at(s, "/sys/fs/cgroup")->options, Contains("ro"));
    EXPECT_THAT(mount_at(s, "/dev/pts")->options, Contains("gid=5"));
    EXPECT_THAT(mount_at(s, "/dev/shm")->options, Contains("noexec"));
}

TEST(DefaultSpec, RootlessMapsRootToTheCaller) {
    const Spec s = default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1001});
    EXPECT_TRUE(has_namespace(s, "user"));
    EXPECT_TRUE(has_namespace(s, "network"));  // an unprivileged user may own a network namespace
    ASSERT_EQ(s.linux->uidMappings.size(), 1u);
    EXPECT_TRUE((s.linux->uidMappings[0] == IdMapping{0, 1000, 1}));
    ASSERT_EQ(s.linux->gidMappings.size(), 1u);
    EXPECT_TRUE((s.linux->gidMappings[0] == IdMapping{0, 1001, 1}));
    // Only gid 0 is mapped, so devpts cannot be given gid 5.
    EXPECT_THAT(mount_at(s, "/dev/pts")->options, Not(Contains("gid=5")));
    EXPECT_THAT(mount_at(s, "/dev/pts")->options, Contains("newinstance"));
}

TEST(DefaultSpec, RootlessMapsSubordinateIdsAsOneToN) {
    const Spec s = default_spec({.rootless = true,
                                 .host_uid = 1000,
                                 .host_gid = 1001,
                                 .subuids = {1, 200000, 65536},
                                 .subgids = {1, 300000, 65536}});
    EXPECT_THAT(s.linux->uidMappings, ElementsAre(IdMapping{0, 1000, 1}, IdMapping{1, 200000, 65536}));
    EXPECT_THAT(s.linux->gidMappings, ElementsAre(IdMapping{0, 1001, 1}, IdMapping{1, 300000, 65536}));
    // gid 5 (tty) is mapped now: devpts keeps it.
    EXPECT_THAT(mount_at(s, "/dev/pts")->options, Contains("gid=5"));
    auto st = validate_spec(s);
    EXPECT_TRUE(st) << st.error().what();

    // Subordinate uids alone: the gid map stays single, and gid=5 goes.
    const Spec only_uids = default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1001,
                                         .subuids = {1, 200000, 65536}});
    EXPECT_EQ(only_uids.linux->uidMappings.size(), 2u);
    EXPECT_THAT(only_uids.linux->gidMappings, ElementsAre(IdMapping{0, 1001, 1}));
    EXPECT_THAT(mount_at(only_uids, "/dev/pts")->options, Not(Contains("gid=5")));
}

TEST(DefaultSpec, RootlessSetsNoResources) {
    // Limits need a cgroup delegated to the user; hrun refuses limits it cannot enforce.
    for (IdMapping sub : {IdMapping{1, 0, 0}, IdMapping{1, 200000, 65536}}) {
        const Spec s = default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1000, .subuids = sub, .subgids = sub});
        EXPECT_FALSE(s.linux->resources.has_value());
    }
    // The privileged variant keeps them.
    EXPECT_TRUE(default_spec({}).linux->resources.has_value());
}

TEST(DefaultSpec, UsesTheGivenArguments) {
    const Spec s = default_spec({.args = {"/bin/echo", "hi"}});
    EXPECT_THAT(s.process->args, ElementsAre("/bin/echo", "hi"));
}

TEST(DefaultSpec, UsernsRemapMapsRootAndIdmapsTheRootfs) {
    DefaultSpecOptions o;
    o.remap_uids = {IdMapping{0, 300000, 65536}};
    o.remap_gids = {IdMapping{0, 310000, 65536}};
    const Spec s = default_spec(o);
    EXPECT_TRUE(has_namespace(s, "user"));
    EXPECT_THAT(s.linux->uidMappings, ElementsAre(IdMapping{0, 300000, 65536}));
    EXPECT_THAT(s.linux->gidMappings, ElementsAre(IdMapping{0, 310000, 65536}));
    ASSERT_EQ(s.annotations.count(kRootfsIdmapAnnotation), 1u);
    EXPECT_EQ(s.annotations.at(kRootfsIdmapAnnotation), "true");
    // The range covers gid 5: devpts keeps its tty group, and the limits stay.
    const Mount* pts = mount_at(s, "/dev/pts");
    ASSERT_NE(pts, nullptr);
    EXPECT_THAT(pts->options, Contains("gid=5"));
    ASSERT_TRUE(s.linux->resources.has_value());
    EXPECT_TRUE(s.linux->resources->pids.has_value());
    auto st = validate_spec(s);
    EXPECT_TRUE(st) << st.error().what();

    // Without the option: no user namespace, no annotation.
    const Spec plain = default_spec({});
    EXPECT_FALSE(has_namespace(plain, "user"));
    EXPECT_EQ(plain.annotations.count(kRootfsIdmapAnnotation), 0u);
}

}  // namespace
}  // namespace hrun::spec
