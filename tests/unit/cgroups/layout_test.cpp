// Layout detection (mountinfo and /proc/self/cgroup parsers) and cgroupsPath placement, on the
// sample texts of a v2-only, a hybrid and a legacy host.
#include <gtest/gtest.h>

#include "cgroups/cgroups.hpp"
#include "samples.hpp"

namespace hrun::cgroups {
namespace {

using samples::mount_of;

TEST(ParseMountinfo, V2OnlyHostHasOneCgroup2Mount) {
    auto mounts = parse_mountinfo(samples::kV2Mountinfo);
    ASSERT_TRUE(mounts.has_value()) << mounts.error().what();
    ASSERT_EQ(mounts->size(), 1u);
    EXPECT_EQ((*mounts)[0].version, 2);
    EXPECT_EQ((*mounts)[0].mount_point, "/sys/fs/cgroup");
    EXPECT_EQ((*mounts)[0].root, "/");
    EXPECT_TRUE((*mounts)[0].controllers.empty());
}

TEST(ParseMountinfo, HybridHostListsEveryV1HierarchyAndTheUnifiedMount) {
    auto mounts = parse_mountinfo(samples::kHybridMountinfo);
    ASSERT_TRUE(mounts.has_value());
    ASSERT_EQ(mounts->size(), 10u);  // 8 controllers, name=systemd, cgroup2; the tmpfs is not one
    EXPECT_EQ((*mounts)[3].mount_point, "/sys/fs/cgroup/memory");
    EXPECT_EQ((*mounts)[3].controllers, std::vector<std::string>{"memory"});
    EXPECT_EQ((*mounts)[8].controllers, std::vector<std::string>{"name=systemd"});
    EXPECT_EQ((*mounts)[9].version, 2);
    EXPECT_EQ((*mounts)[9].mount_point, "/sys/fs/cgroup/unified");
}

TEST(ParseMountinfo, LegacyHostKeepsCoMountedControllersAndDropsOtherOptions) {
    auto mounts = parse_mountinfo(samples::kLegacyMountinfo);
    ASSERT_TRUE(mounts.has_value());
    // 11 hierarchies; the later bind mount of the memory hierarchy is not a new one.
    ASSERT_EQ(mounts->size(), 11u);
    EXPECT_EQ((*mounts)[0].controllers, std::vector<std::string>{"name=systemd"});  // no xattr, release_agent
    EXPECT_EQ((*mounts)[1].controllers, (std::vector<std::string>{"cpuacct", "cpu"}));
    EXPECT_EQ((*mounts)[8].controllers, std::vector<std::string>{"cpuset"});  // clone_children is no controller
    for (const auto& m : *mounts) EXPECT_NE(m.mount_point, "/var/lib/my mem");
}

TEST(ParseMountinfo, DecodesOctalEscapesAndMountRoots) {
    auto mounts = parse_mountinfo("60 18 0:26 /user.slice /var/lib/my\\040mem\\134x rw - cgroup cgroup rw,memory\n");
    ASSERT_TRUE(mounts.has_value());
    ASSERT_EQ(mounts->size(), 1u);
    EXPECT_EQ((*mounts)[0].mount_point, "/var/lib/my mem\\x");
    EXPECT_EQ((*mounts)[0].root, "/user.slice");
}

TEST(ParseMountinfo, RejectsMalformedLines) {
    auto r = parse_mountinfo("31 23 0:28 / /sys/fs/cgroup rw,relatime tmpfs tmpfs rw\n");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("line 1"), std::string::npos);
}

TEST(ParseProcCgroup, ReadsIdsControllersAndPaths) {
    auto e = parse_proc_cgroup(samples::kLegacyCgroup);
    ASSERT_TRUE(e.has_value());
    ASSERT_EQ(e->size(), 11u);
    EXPECT_EQ((*e)[3].id, 8);
    EXPECT_EQ((*e)[7].controllers, (std::vector<std::string>{"net_prio", "net_cls"}));
    EXPECT_EQ((*e)[8].path, "/user.slice/user-0.slice/session-1.scope");

    auto v2 = parse_proc_cgroup("0::/a:b\n");  // a colon inside the path is part of it
    ASSERT_TRUE(v2.has_value());
    EXPECT_TRUE((*v2)[0].controllers.empty());
    EXPECT_EQ((*v2)[0].path, "/a:b");
    EXPECT_FALSE(parse_proc_cgroup("x:memory:/\n").has_value());
    EXPECT_FALSE(parse_proc_cgroup("4:memory\n").has_value());
}

TEST(BuildLayout, V2OnlyHost) {
    Layout l = samples::v2_host();
    EXPECT_EQ(l.mode, Mode::Unified);
    ASSERT_EQ(l.hierarchies.size(), 1u);
    EXPECT_EQ(l.hierarchies[0].own_path, "/user.slice/user-1000.slice/session-3.scope");
    EXPECT_EQ(l.find("memory"), 0u);
    EXPECT_EQ(l.find("io"), 0u);
    EXPECT_EQ(l.find(""), 0u);
    EXPECT_FALSE(l.find("devices").has_value());  // a BPF program on v2
    EXPECT_FALSE(l.find("blkio").has_value());
}

TEST(BuildLayout, HybridHost) {
    Layout l = samples::hybrid_host();
    EXPECT_EQ(l.mode, Mode::Hybrid);
    ASSERT_EQ(l.hierarchies.size(), 10u);
    EXPECT_EQ(mount_of(l, l.find("memory")), "/sys/fs/cgroup/memory");
    EXPECT_EQ(l.hierarchies[*l.find("memory")].own_path, "/process_api/eec64baaa79f21024ced5c808083776a");
    EXPECT_EQ(l.hierarchies[*l.find("pids")].own_path, "/");
    // hugetlb is bound to the cgroup2 hierarchy on this host.
    EXPECT_EQ(mount_of(l, l.find("hugetlb")), "/sys/fs/cgroup/unified");
    EXPECT_EQ(l.hierarchies.back().version, 2);
    EXPECT_FALSE(l.find("net_cls").has_value());
    EXPECT_FALSE(l.find("io").has_value());
}

TEST(BuildLayout, LegacyHost) {
    Layout l = samples::legacy_host();
    EXPECT_EQ(l.mode, Mode::Legacy);
    EXPECT_FALSE(l.unified().has_value());
    EXPECT_EQ(l.find("cpu"), l.find("cpuacct"));
    EXPECT_EQ(mount_of(l, l.find("cpu")), "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_EQ(l.hierarchies[*l.find("cpu")].own_path, "/user.slice");
    EXPECT_EQ(mount_of(l, l.find("net_prio")), "/sys/fs/cgroup/net_cls,net_prio");
    EXPECT_FALSE(l.find("").has_value());
}

TEST(BuildLayout, SkipsMountsThisProcessIsNotInAndFailsWithoutAny) {
    auto mounts = parse_mountinfo(samples::kHybridMountinfo);
    auto own = parse_proc_cgroup("4:memory:/\n");
    ASSERT_TRUE(mounts && own);
    auto l = build_layout(*mounts, *own, "");
    ASSERT_TRUE(l.has_value());
    ASSERT_EQ(l->hierarchies.size(), 1u);
    EXPECT_EQ(l->mode, Mode::Legacy);

    auto none = build_layout({}, *own, "");
    ASSERT_FALSE(none.has_value());
    EXPECT_NE(none.error().message.find("no cgroup filesystem"), std::string::npos);
}

TEST(Hierarchy, DirectoryOfRespectsTheMountRoot) {
    Hierarchy h;
    h.mount_point = "/sys/fs/cgroup/memory";
    EXPECT_EQ(h.directory_of("/"), "/sys/fs/cgroup/memory");
    EXPECT_EQ(h.directory_of("/a/b"), "/sys/fs/cgroup/memory/a/b");
    h.mount_root = "/docker/abc";
    EXPECT_EQ(h.directory_of("/docker/abc/x"), "/sys/fs/cgroup/memory/x");
    EXPECT_EQ(h.directory_of("/docker/abc"), "/sys/fs/cgroup/memory");
    EXPECT_EQ(h.directory_of("/docker/abcd/x"), "");
    EXPECT_EQ(h.directory_of("/other"), "");
}

// ---- placement ----

PathOptions path(std::string p, std::string id = "abc") {
    PathOptions o;
    o.cgroups_path = std::move(p);
    o.container_id = std::move(id);
    return o;
}

TEST(Placement, EmptyPathIsHrunIdBelowOwnCgroupOnEveryHierarchy) {
    Layout l = samples::hybrid_host();
    auto p = resolve_placement(l, path(""));
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(p->path, "hrun-abc");
    const std::size_t mem = *l.find("memory");
    EXPECT_EQ(p->paths[mem], "/process_api/eec64baaa79f21024ced5c808083776a/hrun-abc");
    EXPECT_EQ(p->directories[mem], "/sys/fs/cgroup/memory/process_api/eec64baaa79f21024ced5c808083776a/hrun-abc");
    EXPECT_EQ(p->directories[*l.find("pids")], "/sys/fs/cgroup/pids/hrun-abc");
    EXPECT_EQ(p->directories[*l.unified()], "/sys/fs/cgroup/unified/hrun-abc");
    EXPECT_EQ(p->directories.size(), l.hierarchies.size());
}

TEST(Placement, RelativeOnV2StartsAtTheParentOfOwnCgroup) {
    auto p = resolve_placement(samples::v2_host(), path("ctr/x"));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->directories[0], "/sys/fs/cgroup/user.slice/user-1000.slice/ctr/x");
}

TEST(Placement, AbsoluteIsFromEachHierarchyRootAndNormalized) {
    Layout l = samples::legacy_host();
    auto p = resolve_placement(l, path("//machine/./ctr1/"));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->path, "/machine/ctr1");
    EXPECT_EQ(p->directories[*l.find("memory")], "/sys/fs/cgroup/memory/machine/ctr1");
    EXPECT_EQ(p->directories[*l.find("cpu")], "/sys/fs/cgroup/cpu,cpuacct/machine/ctr1");
}

TEST(Placement, RejectsEscapesAndTheRoot) {
    Layout l = samples::v2_host();
    for (const char* bad : {"../x", "/a/../../b", "a/.."}) {
        auto p = resolve_placement(l, path(bad));
        ASSERT_FALSE(p.has_value()) << bad;
        EXPECT_EQ(p.error().field, "linux.cgroupsPath");
        EXPECT_NE(p.error().message.find("\"..\""), std::string::npos);
    }
    for (const char* bad : {"/", "//", ".", "./"}) {
        auto p = resolve_placement(l, path(bad));
        ASSERT_FALSE(p.has_value()) << bad;
        EXPECT_EQ(p.error().field, "linux.cgroupsPath");
    }
    EXPECT_FALSE(resolve_placement(l, path("", "a/b")).has_value());
}

TEST(Placement, PathsOutsideTheMountedPartAreRefused) {
    Layout l = samples::v2_host();
    l.hierarchies[0].mount_root = "/user.slice";
    l.hierarchies[0].own_path = "/user.slice/x/y";
    EXPECT_TRUE(resolve_placement(l, path("rel")).has_value());
    auto p = resolve_placement(l, path("/system.slice/z"));
    ASSERT_FALSE(p.has_value());
    EXPECT_NE(p.error().message.find("outside"), std::string::npos);
}

TEST(Placement, SystemdNeedsSystemd) {
    PathOptions o = path("system.slice:docker:abc");
    o.systemd = true;
    o.systemd_running = false;
    auto p = resolve_placement(samples::v2_host(), o);
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().what(), "linux.cgroupsPath: --systemd-cgroup needs systemd, which is not running on this host");
}

TEST(Placement, SystemdSliceAndScopeNames) {
    Layout l = samples::v2_host();
    auto sd = [&](std::string spec, std::string id = "abc") {
        PathOptions o = path(std::move(spec), std::move(id));
        o.systemd = true;
        o.systemd_running = true;
        return resolve_placement(l, o);
    };
    auto p = sd("system.slice:docker:abc");
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(p->directories[0], "/sys/fs/cgroup/system.slice/docker-abc.scope");
    p = sd("machine-web-db.slice:hrun:x");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->path, "/machine.slice/machine-web.slice/machine-web-db.slice/hrun-x.scope");
    p = sd("", "id1");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->path, "/system.slice/hrun-id1.scope");
    p = sd(":hrun:y");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->path, "/system.slice/hrun-y.scope");
    for (const char* bad : {"system.slice:abc", "a:b:c:d", "system:p:n", "system.slice:p:", "a--b.slice:p:n",
                            "system.slice:p:../x"}) {
        auto r = sd(bad);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().field, "linux.cgroupsPath");
    }
}

}  // namespace
}  // namespace hrun::cgroups
