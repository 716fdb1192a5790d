// The catalogue, the score, the ordering and the two output formats.
#include <gtest/gtest.h>

#include <set>

#include "audit_test_support.hpp"

namespace hrun::audit::test {
namespace {

Finding make(std::string id, Severity s, std::string path = "p") {
    return Finding{std::move(id), s, std::move(path), "message", "why", "fix"};
}

TEST(Catalogue, IdsAreUniqueAndDocumented) {
    std::set<std::string_view> ids;
    for (const auto& r : rules()) {
        EXPECT_TRUE(ids.insert(r.id).second) << r.id << " twice";
        EXPECT_TRUE(r.id.starts_with("HRUN-")) << r.id;
        EXPECT_FALSE(r.title.empty()) << r.id;
        EXPECT_FALSE(r.why.empty()) << r.id;
        EXPECT_FALSE(r.fix.empty()) << r.id;
        EXPECT_EQ(find_rule(r.id), &r);
    }
    EXPECT_EQ(find_rule("HRUN-NOPE-001"), nullptr);
}

TEST(Severities, NamesRoundTrip) {
    for (std::size_t i = 0; i < kSeverityCount; ++i) {
        const auto s = static_cast<Severity>(i);
        EXPECT_EQ(severity_from_name(severity_name(s)), s);
    }
    EXPECT_FALSE(severity_from_name("severe"));
    EXPECT_FALSE(severity_from_name("HIGH"));
}

TEST(Score, WeightsAndCaps) {
    EXPECT_EQ(score({}), 100);
    EXPECT_EQ(score({make("a", Severity::info)}), 100);
    EXPECT_EQ(score({make("a", Severity::low), make("b", Severity::medium)}), 94);
    EXPECT_EQ(score({make("a", Severity::high)}), kHighScoreCap);  // 85 capped
    EXPECT_EQ(score({make("a", Severity::critical)}), kCriticalScoreCap);
    std::vector<Finding> many(30, make("a", Severity::medium));
    EXPECT_EQ(score(many), 0);  // floored
}

TEST(Report, SortsMostSevereFirstAndCounts) {
    auto r = make_report("c.json", {make("HRUN-B", Severity::low), make("HRUN-A", Severity::critical),
                                    make("HRUN-C", Severity::low, "a"), make("HRUN-B", Severity::low, "a")});
    ASSERT_EQ(r.findings.size(), 4u);
    EXPECT_EQ(r.findings[0].id, "HRUN-A");
    EXPECT_EQ(r.findings[1].id, "HRUN-B");
    EXPECT_EQ(r.findings[1].path, "a");
    EXPECT_EQ(r.findings[3].id, "HRUN-C");
    EXPECT_EQ(r.counts[static_cast<std::size_t>(Severity::low)], 3);
    EXPECT_EQ(r.counts[static_cast<std::size_t>(Severity::critical)], 1);
    EXPECT_EQ(r.worst(), Severity::critical);
}

TEST(Report, ThresholdIsInclusive) {
    auto r = make_report("c", {make("x", Severity::medium)});
    EXPECT_TRUE(r.has_at_least(Severity::info));
    EXPECT_TRUE(r.has_at_least(Severity::medium));
    EXPECT_FALSE(r.has_at_least(Severity::high));
    EXPECT_FALSE(make_report("c", {}).has_at_least(Severity::info));
}

TEST(Format, TableHasColumnsFixesAndGroups) {
    auto r = make_report("bundle/config.json",
                         {Finding{"HRUN-X-001", Severity::high, "linux.x", "the x is on", "because", "turn it off"},
                          Finding{"HRUN-Y-001", Severity::low, "process.y", "y is set", "since", "unset y"}});
    const std::string t = format_table(r, false);
    EXPECT_NE(t.find("hrun audit: bundle/config.json"), std::string::npos) << t;
    EXPECT_NE(t.find("score 70/100, rating high (0 critical, 1 high, 0 medium, 1 low, 0 info)"), std::string::npos)
        << t;
    EXPECT_NE(t.find("SEVERITY  ID"), std::string::npos) << t;
    EXPECT_NE(t.find("PATH"), std::string::npos) << t;
    EXPECT_NE(t.find("MESSAGE"), std::string::npos) << t;
    const auto high = t.find("high      HRUN-X-001  linux.x    the x is on");
    const auto low = t.find("low       HRUN-Y-001  process.y  y is set");
    ASSERT_NE(high, std::string::npos) << t;
    ASSERT_NE(low, std::string::npos) << t;
    EXPECT_LT(high, low);
    EXPECT_NE(t.find("fix: turn it off"), std::string::npos);
    EXPECT_NE(t.find("\n\nlow"), std::string::npos) << "groups separated by a blank line:\n" << t;
    EXPECT_EQ(t.find("why:"), std::string::npos);
    EXPECT_NE(format_table(r, true).find("why: because"), std::string::npos);
}

TEST(Format, TableWithoutFindingsAndWithValidationError) {
    auto r = make_report("c.json", {});
    EXPECT_NE(format_table(r, false).find("no findings"), std::string::npos);
    r.validation_error = Error{0, "linux.sysctl[\"vm.x\"]", "not namespaced; would change the host"};
    EXPECT_NE(format_table(r, false).find("invalid config (hrun would refuse to run it): linux.sysctl[\"vm.x\"]"),
              std::string::npos);
}

TEST(Format, JsonHasFindingsScoreAndCounts) {
    auto r = make_report("c.json", {Finding{"HRUN-X-001", Severity::critical, "a.b", "m", "w", "f"}});
    auto doc = nlohmann::json::parse(format_json(r));
    EXPECT_EQ(doc["config"], "c.json");
    EXPECT_EQ(doc["valid"], true);
    EXPECT_FALSE(doc.contains("validationError"));
    EXPECT_EQ(doc["score"], kCriticalScoreCap);
    EXPECT_EQ(doc["rating"], "critical");
    EXPECT_EQ(doc["counts"]["critical"], 1);
    EXPECT_EQ(doc["counts"]["info"], 0);
    ASSERT_EQ(doc["findings"].size(), 1u);
    EXPECT_EQ(doc["findings"][0]["id"], "HRUN-X-001");
    EXPECT_EQ(doc["findings"][0]["severity"], "critical");
    EXPECT_EQ(doc["findings"][0]["path"], "a.b");
    EXPECT_EQ(doc["findings"][0]["message"], "m");
    EXPECT_EQ(doc["findings"][0]["why"], "w");
    EXPECT_EQ(doc["findings"][0]["fix"], "f");

    r.validation_error = Error{0, "process.cwd", "must be absolute"};
    doc = nlohmann::json::parse(format_json(r));
    EXPECT_EQ(doc["valid"], false);
    EXPECT_EQ(doc["validationError"]["field"], "process.cwd");
    EXPECT_EQ(make_report("c", {}).score, 100);
    EXPECT_EQ(nlohmann::json::parse(format_json(make_report("c", {})))["rating"], "none");
}

TEST(Format, JsonSurvivesInvalidUtf8InConfigStrings) {
    auto r = make_report("c.json", {Finding{"HRUN-X-001", Severity::low, "p", std::string("bad \xff byte"), "w", "f"}});
    auto doc = nlohmann::json::parse(format_json(r));  // must not throw
    EXPECT_EQ(doc["findings"].size(), 1u);
}

}  // namespace
}  // namespace hrun::audit::test
