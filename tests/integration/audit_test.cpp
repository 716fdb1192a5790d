// `hrun audit` from the command line: the table and JSON outputs, --fail-on exit codes for CI,
// and exit 2 with a message naming the file or field for configs that cannot be audited or
// that hrun would refuse to run. The rules themselves are covered by tests/unit/audit.
#include <fstream>

#include "harness.hpp"

namespace hrun::itest {
namespace {

RunResult audit(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {hrun_binary(), "audit"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
}

std::string example(const std::string& name) { return source_dir() + "/specs/" + name; }

// A bundle directory holding what `hrun spec` writes.
struct SpecBundle {
    TempDir tmp;
    SpecBundle() {
        auto r = run_command({hrun_binary(), "spec", "--bundle", tmp.path()});
        EXPECT_EQ(r.status, 0) << r.describe();
    }
    std::string config() const { return tmp.path() + "/config.json"; }
};

TEST(AuditCli, DefaultBundleTableScoresWellAndExitsZero) {
    SpecBundle b;
    auto r = audit({b.tmp.path()});  // a bundle directory means its config.json
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find("hrun audit: " + b.config()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SEVERITY  ID"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("0 critical, 0 high"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("HRUN-RES-003"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fix: set linux.resources.cpu"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("HRUN-RES-001"), std::string::npos) << r.out;  // the default has a memory limit
    EXPECT_EQ(r.out.find("why:"), std::string::npos);
    EXPECT_NE(audit({"--explain", b.config()}).out.find("why: "), std::string::npos);
}

TEST(AuditCli, JsonOutputForTheDangerousExample) {
    auto r = audit({"--format", "json", example("dangerous.json")});
    ASSERT_EQ(r.status, 0) << r.describe();  // findings alone do not fail without --fail-on
    auto doc = json::parse(r.out);
    EXPECT_EQ(doc["valid"], true);
    EXPECT_EQ(doc["rating"], "critical");
    EXPECT_EQ(doc["score"], 0);
    EXPECT_GE(doc["counts"]["critical"].get<int>(), 3);
    std::set<std::string> ids;
    for (const auto& f : doc["findings"]) {
        ids.insert(f["id"].get<std::string>());
        EXPECT_FALSE(f["path"].get<std::string>().empty());
        EXPECT_FALSE(f["fix"].get<std::string>().empty());
    }
    for (const char* id : {"HRUN-MNT-001", "HRUN-MNT-002", "HRUN-CAP-002", "HRUN-DEV-001", "HRUN-NS-007"})
        EXPECT_TRUE(ids.contains(id)) << id << " missing from\n" << r.out;
    EXPECT_EQ(doc["findings"][0]["severity"], "critical");
}

TEST(AuditCli, FailOnSetsTheExitCode) {
    SpecBundle b;
    // The default config's worst finding is medium.
    EXPECT_EQ(audit({"--fail-on", "critical", b.config()}).status, 0);
    EXPECT_EQ(audit({"--fail-on", "high", b.config()}).status, 0);
    auto medium = audit({"--fail-on", "medium", b.config()});
    EXPECT_EQ(medium.status, 1) << medium.describe();
    EXPECT_NE(medium.err.find("at or above medium"), std::string::npos) << medium.err;
    EXPECT_EQ(audit({"--fail-on", "info", b.config()}).status, 1);
    EXPECT_EQ(audit({"--fail-on", "critical", "-f", "json", example("dangerous.json")}).status, 1);
    EXPECT_NE(audit({"--fail-on", "severe", b.config()}).status, 0);
}

TEST(AuditCli, UnreadableOrMalformedConfigExitsTwo) {
    TempDir tmp;
    auto missing = audit({tmp.path() + "/nope.json"});
    EXPECT_EQ(missing.status, 2) << missing.describe();
    EXPECT_NE(missing.err.find(tmp.path() + "/nope.json"), std::string::npos) << missing.err;
    EXPECT_TRUE(missing.out.empty()) << missing.out;

    std::ofstream(tmp.path() + "/config.json") << R"({"ociVersion": "1.2.0", "process": {"user": {"uid": "root"}}})";
    auto typed = audit({tmp.path()});
    EXPECT_EQ(typed.status, 2) << typed.describe();
    EXPECT_NE(typed.err.find("process.user.uid"), std::string::npos) << typed.err;

    std::ofstream(tmp.path() + "/broken.json") << "{\"ociVersion\": ";
    EXPECT_EQ(audit({tmp.path() + "/broken.json"}).status, 2);
}

TEST(AuditCli, InvalidConfigIsAuditedButExitsTwo) {
    SpecBundle b;
    auto config = json::parse(std::ifstream(b.config()));
    config["linux"]["sysctl"] = {{"kernel.core_pattern", "|/tmp/x"}};
    std::ofstream(b.config(), std::ios::trunc) << config.dump();
    auto r = audit({"-f", "json", "--fail-on", "critical", b.tmp.path()});
    EXPECT_EQ(r.status, 2) << r.describe();  // invalid wins over --fail-on
    EXPECT_NE(r.err.find("linux.sysctl[\"kernel.core_pattern\"]"), std::string::npos) << r.err;
    auto doc = json::parse(r.out);
    EXPECT_EQ(doc["valid"], false);
    EXPECT_EQ(doc["validationError"]["field"], "linux.sysctl[\"kernel.core_pattern\"]");
    EXPECT_EQ(doc["findings"][0]["id"], "HRUN-SYSCTL-001");
}

}  // namespace
}  // namespace hrun::itest
