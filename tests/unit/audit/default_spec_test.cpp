// What `hrun spec` writes must audit well, and a config that hands the host over must not.
//
// The default config still draws findings that depend on the deployment and cannot be chosen
// for every workload in advance: a CPU limit, a seccomp profile, an LSM profile
// (the host may not enforce one), and, outside rootless mode, a user namespace (root in the
// container maps to root on the host unless the operator sets up an id range). None of them is
// high or critical.
#include <gtest/gtest.h>

#include <set>

#include "audit_test_support.hpp"

namespace hrun::audit::test {
namespace {

// Memory and pids limits are in the default config (RES-001/002 must not appear).
const std::set<std::string> kDeploymentDependent = {
    "HRUN-RES-003", "HRUN-SECCOMP-001", "HRUN-LSM-001", "HRUN-NS-007",
};

void expect_good(const spec::Spec& s) {
    const Report r = make_report("config.json", audit_spec(s));
    EXPECT_EQ(r.counts[static_cast<std::size_t>(Severity::critical)], 0) << describe(r.findings);
    EXPECT_EQ(r.counts[static_cast<std::size_t>(Severity::high)], 0) << describe(r.findings);
    EXPECT_FALSE(r.has_at_least(Severity::high));
    EXPECT_GE(r.score, 75) << describe(r.findings);
    for (const auto& f : r.findings)
        EXPECT_TRUE(kDeploymentDependent.contains(f.id)) << "not a documented default finding: " << f.id << " "
                                                         << f.message;
}

TEST(DefaultSpecAudit, DefaultScoresWellWithoutHighFindings) { expect_good(spec::default_spec({})); }

TEST(DefaultSpecAudit, RootlessScoresWellWithoutHighFindings) {
    // The rootless config sets no limits (they need a delegated cgroup): RES-001/002 are
    // expected there, and stay medium.
    auto s = spec::default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1000});
    const Report r = make_report("config.json", audit_spec(s));
    EXPECT_FALSE(r.has_at_least(Severity::high)) << describe(r.findings);
    EXPECT_GE(r.score, 60) << describe(r.findings);
    std::set<std::string> allowed = kDeploymentDependent;
    allowed.insert({"HRUN-RES-001", "HRUN-RES-002"});
    for (const auto& f : r.findings)
        EXPECT_TRUE(allowed.contains(f.id)) << "not a documented rootless finding: " << f.id << " " << f.message;
    EXPECT_TRUE(has(r.findings, "HRUN-RES-002"));
    EXPECT_FALSE(has(audit_spec(s), "HRUN-NS-007"));
}

TEST(DefaultSpecAudit, AddingTheDeploymentSettingsLeavesNothing) {
    // The remaining findings are exactly the deployment-dependent ones: filling them in clears them.
    auto s = spec::default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1000});
    auto& res = s.linux->resources.emplace();
    res.memory.emplace().limit = 256 << 20;
    res.pids.emplace().limit = 128;
    res.cpu.emplace().shares = 512;
    s.process->apparmorProfile = "hrun-default";
    s.linux->seccomp = spec::Seccomp{.defaultAction = "SCMP_ACT_ERRNO",
                                     .syscalls = {{.names = {"read", "write"}, .action = "SCMP_ACT_ALLOW"}}};
    auto findings = audit_spec(s);
    EXPECT_TRUE(findings.empty()) << describe(findings);
    EXPECT_EQ(make_report("c", findings).score, 100);
}

TEST(DefaultSpecAudit, HostRootBindSysAdminNoUserNamespaceIsCritical) {
    auto s = spec::default_spec({});
    s.mounts.push_back({"/host", "bind", "/", {"rbind", "rw"}, {}, {}});
    s.process->capabilities->effective.push_back("CAP_SYS_ADMIN");
    s.process->capabilities->permitted.push_back("CAP_SYS_ADMIN");
    s.process->capabilities->bounding.push_back("CAP_SYS_ADMIN");
    const Report r = make_report("dangerous.json", audit_spec(s));
    ASSERT_TRUE(r.worst());
    EXPECT_EQ(*r.worst(), Severity::critical);
    EXPECT_TRUE(has(r.findings, "HRUN-MNT-001"));
    EXPECT_TRUE(has(r.findings, "HRUN-CAP-002"));
    EXPECT_TRUE(has(r.findings, "HRUN-NS-007"));
    EXPECT_LE(r.score, kCriticalScoreCap);
    EXPECT_EQ(r.findings.front().severity, Severity::critical);
}

TEST(DefaultSpecAudit, ShippedExamplesAudit) {
    // specs/dangerous.json is the example of what the audit is for; the others derive from the
    // default and must stay free of critical/high findings.
    for (const char* name : {"default.json", "rootless.json", "userns-remap.json", "seccomp-example.json"}) {
        SCOPED_TRACE(name);
        auto s = spec::load_spec(std::string(HRUN_SOURCE_DIR) + "/specs/" + name);
        ASSERT_TRUE(s) << s.error().what();
        const Report r = make_report(name, audit_spec(*s));
        EXPECT_FALSE(r.has_at_least(Severity::high)) << describe(r.findings);
    }
    // joined-namespaces.json joins /proc/1/ns/net, the host's network namespace: that, and only
    // that, is high.
    auto joined = spec::load_spec(std::string(HRUN_SOURCE_DIR) + "/specs/joined-namespaces.json");
    ASSERT_TRUE(joined) << joined.error().what();
    const Report j = make_report("joined-namespaces.json", audit_spec(*joined));
    EXPECT_EQ(j.counts[static_cast<std::size_t>(Severity::high)], 1) << describe(j.findings);
    EXPECT_EQ(j.findings.front().id, "HRUN-NS-002") << describe(j.findings);
    auto dangerous = spec::load_spec(std::string(HRUN_SOURCE_DIR) + "/specs/dangerous.json");
    ASSERT_TRUE(dangerous) << dangerous.error().what();
    const Report r = make_report("dangerous.json", audit_spec(*dangerous));
    EXPECT_GE(r.counts[static_cast<std::size_t>(Severity::critical)], 3) << describe(r.findings);
    EXPECT_EQ(r.score, 0);
}

}  // namespace
}  // namespace hrun::audit::test
