// Who writes the id maps of a new user namespace: hrun itself (root, or an unprivileged caller
// mapping only its own id) or newuidmap/newgidmap, and which ranges an unprivileged caller may
// map according to /etc/subuid and /etc/subgid.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "create/id_maps.hpp"
#include "create/namespaces.hpp"

namespace hrun::create {
namespace {

using spec::IdMapping;

spec::Linux maps(std::vector<IdMapping> uids, std::vector<IdMapping> gids) {
    spec::Linux l;
    l.uidMappings = std::move(uids);
    l.gidMappings = std::move(gids);
    return l;
}

// An unprivileged caller "alice" (uid 1000, gid 1000) with ranges 100000-165535 and both helpers.
CallerIds alice() {
    CallerIds c;
    c.euid = 1000;
    c.egid = 1000;
    c.user = "alice";
    c.subuids = {{100000, 65536}};
    c.subgids = {{100000, 65536}};
    c.newuidmap = "/usr/bin/newuidmap";
    c.newgidmap = "/usr/bin/newgidmap";
    return c;
}

TEST(NeedsMapHelper, OnlyForAnUnprivilegedCallerMappingMoreThanItself) {
    EXPECT_FALSE(needs_map_helper({{0, 1000, 1}}, 1000, 1000));
    EXPECT_FALSE(needs_map_helper({{5, 1000, 1}}, 1000, 1000));  // any container id, own host id once
    EXPECT_TRUE(needs_map_helper({{0, 1000, 2}}, 1000, 1000));
    EXPECT_TRUE(needs_map_helper({{0, 1001, 1}}, 1000, 1000));
    EXPECT_TRUE(needs_map_helper({{0, 1000, 1}, {1, 100000, 65536}}, 1000, 1000));
    EXPECT_FALSE(needs_map_helper({}, 1000, 1000));
    // Root writes any map itself.
    EXPECT_FALSE(needs_map_helper({{0, 100000, 65536}, {65536, 5, 1}}, 0, 0));
}

TEST(CheckDelegatedIds, AcceptsOwnIdAndRangesInsideTheSubordinateOnes) {
    const std::vector<os::SubidRange> ranges = {{100000, 65536}, {300000, 10}};
    EXPECT_TRUE(check_delegated_ids({{0, 1000, 1}, {1, 100000, 65536}, {65537, 300002, 8}}, ranges, 1000, "alice",
                                    "linux.uidMappings", "/etc/subuid"));
}

TEST(CheckDelegatedIds, NamesTheFirstRangeThatIsNotDelegated) {
    const std::vector<os::SubidRange> ranges = {{100000, 65536}};
    auto st = check_delegated_ids({{0, 1000, 1}, {1, 100000, 65536}, {65537, 165536, 1}}, ranges, 1000, "alice",
                                  "linux.uidMappings", "/etc/subuid");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "linux.uidMappings[2]");
    EXPECT_EQ(st.error().message, "host id 165536 is not delegated to user \"alice\" in /etc/subuid");

    // One past the end of the range, or spanning two adjacent ranges, is not inside one range.
    st = check_delegated_ids({{0, 100001, 65536}}, ranges, 1000, "alice", "linux.gidMappings", "/etc/subgid");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "linux.gidMappings[0]");
    EXPECT_EQ(st.error().message, "host ids 100001-165536 are not delegated to user \"alice\" in /etc/subgid");

    // Someone else's id, once, is not the caller's own.
    st = check_delegated_ids({{0, 0, 1}}, ranges, 1000, "alice", "linux.uidMappings", "/etc/subuid");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "linux.uidMappings[0]");
}

TEST(PlanIdMaps, RootWritesEverythingItselfWithSetgroupsAllowed) {
    CallerIds root;
    auto plan = plan_id_maps(maps({{0, 100000, 65536}}, {{0, 100000, 65536}}), root);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_EQ(plan->uid_map, "0 100000 65536\n");
    EXPECT_EQ(plan->gid_map, "0 100000 65536\n");
    EXPECT_FALSE(plan->uid_helper);
    EXPECT_FALSE(plan->gid_helper);
    EXPECT_FALSE(plan->deny_setgroups);
}

TEST(PlanIdMaps, OwnIdsOnlyAreWrittenByHrunWithSetgroupsDenied) {
    auto plan = plan_id_maps(maps({{0, 1000, 1}}, {{0, 1000, 1}}), alice());
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_EQ(plan->uid_map, "0 1000 1\n");
    EXPECT_EQ(plan->gid_map, "0 1000 1\n");
    EXPECT_FALSE(plan->uid_helper);
    EXPECT_FALSE(plan->gid_helper);
    EXPECT_TRUE(plan->deny_setgroups);  // the kernel's condition for an unprivileged gid map
}

TEST(PlanIdMaps, SeveralRangesGoThroughTheHelpers) {
    auto plan = plan_id_maps(maps({{0, 1000, 1}, {1, 100000, 65536}}, {{0, 1000, 1}, {1, 100000, 65536}}), alice());
    ASSERT_TRUE(plan) << plan.error().what();
    ASSERT_TRUE(plan->uid_helper);
    EXPECT_EQ(plan->uid_helper->program, "/usr/bin/newuidmap");
    EXPECT_EQ(plan->uid_helper->args, (std::vector<std::string>{"0", "1000", "1", "1", "100000", "65536"}));
    ASSERT_TRUE(plan->gid_helper);
    EXPECT_EQ(plan->gid_helper->program, "/usr/bin/newgidmap");
    EXPECT_EQ(plan->gid_helper->args, (std::vector<std::string>{"0", "1000", "1", "1", "100000", "65536"}));
    EXPECT_TRUE(plan->uid_map.empty());
    EXPECT_TRUE(plan->gid_map.empty());
    // A range from /etc/subgid: newgidmap leaves setgroups(2) allowed.
    EXPECT_FALSE(plan->deny_setgroups);
}

TEST(PlanIdMaps, UidAndGidAreDecidedSeparately) {
    auto plan = plan_id_maps(maps({{0, 1000, 1}, {1, 100000, 10}}, {{0, 1000, 1}}), alice());
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_TRUE(plan->uid_helper);
    EXPECT_FALSE(plan->gid_helper);
    EXPECT_EQ(plan->gid_map, "0 1000 1\n");
    EXPECT_TRUE(plan->deny_setgroups);
}

TEST(PlanIdMaps, NewgidmapDeniesSetgroupsWhenNoRangeComesFromSubgid) {
    // Own gid mapped as two container ids is not "one own id": the helper maps it, and by its
    // rule (no range from /etc/subgid) it denies setgroups.
    CallerIds c = alice();
    auto plan = plan_id_maps(maps({}, {{0, 1000, 1}, {1, 1000, 1}}), c);
    // Overlapping host ids are the spec validator's business; here only the helper's verdict.
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_TRUE(plan->gid_helper);
    EXPECT_TRUE(plan->deny_setgroups);
}

TEST(PlanIdMaps, RangesOutsideSubuidFailBeforeAnythingRuns) {
    auto plan = plan_id_maps(maps({{0, 1000, 1}, {1, 200000, 65536}}, {{0, 1000, 1}}), alice());
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.uidMappings[1]");
    EXPECT_EQ(plan.error().message, "host ids 200000-265535 are not delegated to user \"alice\" in /etc/subuid");

    plan = plan_id_maps(maps({{0, 1000, 1}}, {{0, 1000, 1}, {1, 100000, 65537}}), alice());
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.gidMappings[1]");
    EXPECT_EQ(plan.error().message, "host ids 100000-165536 are not delegated to user \"alice\" in /etc/subgid");
}

TEST(PlanIdMaps, AMissingHelperIsNamedWithItsPackage) {
    CallerIds c = alice();
    c.newuidmap.reset();
    auto plan = plan_id_maps(maps({{0, 1000, 1}, {1, 100000, 65536}}, {{0, 1000, 1}}), c);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.uidMappings");
    EXPECT_EQ(plan.error().message, "mapping more than your own uid needs newuidmap (Debian package uidmap)");

    c = alice();
    c.newgidmap.reset();
    plan = plan_id_maps(maps({{0, 1000, 1}}, {{0, 1000, 1}, {1, 100000, 65536}}), c);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.gidMappings");
    EXPECT_EQ(plan.error().message, "mapping more than your own gid needs newgidmap (Debian package uidmap)");

    // Without a helper, mapping only oneself still works.
    c.newuidmap.reset();
    EXPECT_TRUE(plan_id_maps(maps({{0, 1000, 1}}, {{0, 1000, 1}}), c));
}

TEST(PlanIdMaps, ACallerWithoutRangesCanOnlyMapItself) {
    CallerIds c = alice();
    c.subuids.clear();
    auto plan = plan_id_maps(maps({{0, 1000, 1}, {1, 100000, 1}}, {}), c);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().field, "linux.uidMappings[1]");
}

TEST(PlanNamespaces, CarriesTheHelpersOfAnUnprivilegedCaller) {
    // plan_namespaces with euid 0 never reads /etc/subuid: root maps through the kernel files.
    spec::Spec s;
    s.linux.emplace();
    s.linux->namespaces = {{"user", ""}, {"mount", ""}};
    s.linux->uidMappings = {{0, 100000, 65536}};
    s.linux->gidMappings = {{0, 100000, 65536}};
    auto plan = plan_namespaces(s, 0);
    ASSERT_TRUE(plan) << plan.error().what();
    EXPECT_FALSE(plan->uid_helper);
    EXPECT_FALSE(plan->deny_setgroups);
    EXPECT_EQ(plan->uid_map, "0 100000 65536\n");
}

TEST(FindProgram, SearchesPathThenSystemDirectories) {
    char tmpl[] = "/tmp/hrun-find-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string exe = dir + "/newuidmap";
    std::ofstream(exe) << "#!/bin/sh\n";
    ASSERT_EQ(::chmod(exe.c_str(), 0755), 0);
    const std::string path = "relative:" + dir + ":/nonexistent";
    EXPECT_EQ(find_program("newuidmap", path.c_str()), exe);
    EXPECT_EQ(find_program("hrun-no-such-program", path.c_str()), std::nullopt);
    // Not executable: skipped.
    ASSERT_EQ(::chmod(exe.c_str(), 0644), 0);
    const auto found = find_program("newuidmap", path.c_str());
    EXPECT_NE(found, exe);
    ::unlink(exe.c_str());
    ::rmdir(dir.c_str());
}

TEST(RunMapHelper, ReportsExitStatusAndStderr) {
    // A stand-in for newuidmap that prints what it got and fails, as the real one does.
    char tmpl[] = "/tmp/hrun-helper-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string script = std::string(tmpl) + "/fake-newuidmap";
    std::ofstream(script) << "#!/bin/sh\necho \"cannot map $2 $3 $4\" >&2\nexit 3\n";
    ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
    auto st = run_map_helper({script, {"0", "1000", "1"}}, 4242, "linux.uidMappings");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "linux.uidMappings");
    EXPECT_EQ(st.error().message, "fake-newuidmap failed (exit status 3): cannot map 0 1000 1");

    std::ofstream(script, std::ios::trunc) << "#!/bin/sh\ntest \"$1\" = 4242 || exit 9\n";
    EXPECT_TRUE(run_map_helper({script, {"0", "1000", "1"}}, 4242, "linux.uidMappings"));

    std::ofstream(script, std::ios::trunc) << "#!/bin/sh\nexec sleep 30\n";
    st = run_map_helper({script, {}}, 1, "linux.gidMappings", std::chrono::milliseconds(200));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, ETIMEDOUT);
    ::unlink(script.c_str());
    ::rmdir(tmpl);
}

}  // namespace
}  // namespace hrun::create
