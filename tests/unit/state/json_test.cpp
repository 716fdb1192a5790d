// state.json encoding: round trip, tolerance for unknown and missing keys, time stamps, ids.
#include <gtest/gtest.h>

#include "state/state.hpp"
#include "state_test_util.hpp"

namespace hrun::state {
namespace {

TEST(StateJson, RoundTripKeepsEveryField) {
    ContainerState s = test::sample_state("web");
    nlohmann::json j = s;
    ContainerState back = j.get<ContainerState>();
    EXPECT_EQ(back, s);
    // Through text too, as state.json is stored.
    ContainerState reparsed = nlohmann::json::parse(j.dump(2)).get<ContainerState>();
    EXPECT_EQ(reparsed, s);
}

TEST(StateJson, UsesTheDocumentedKeys) {
    nlohmann::json j = test::sample_state("web");
    for (const char* key : {"ociVersion", "id", "pid", "pid_start_time", "bundle", "rootfs", "created", "owner",
                            "annotations", "config_path", "cgroup", "systemd_cgroup", "rootless", "exec_fifo",
                            "init_process", "policy", "applied_defaults", "extra"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["cgroup"]["mode"], "hybrid");
    EXPECT_EQ(j["cgroup"]["directories"].size(), 2u);
    EXPECT_EQ(j["pid_start_time"], 123456u);
    EXPECT_EQ(j["init_process"]["args"][2], "echo hi");
}

TEST(StateJson, ToleratesUnknownKeysAndDefaultsMissingOnes) {
    nlohmann::json j = {{"id", "x"}, {"pid", 7}, {"a_future_field", {{"deep", true}}}, {"cgroup", nullptr}};
    ContainerState s = j.get<ContainerState>();
    EXPECT_EQ(s.id, "x");
    EXPECT_EQ(s.pid, 7);
    EXPECT_EQ(s.pid_start_time, 0u);
    EXPECT_TRUE(s.annotations.empty());
    EXPECT_TRUE(s.cgroup.directories.empty());
    EXPECT_TRUE(s.init_process.is_null());
    EXPECT_TRUE(s.extra.is_object());
    EXPECT_TRUE(s.extra.empty());
}

TEST(StateJson, RequiresIdAndPidAndRightTypes) {
    EXPECT_THROW((nlohmann::json{{"pid", 1}}.get<ContainerState>()), nlohmann::json::exception);
    EXPECT_THROW((nlohmann::json{{"id", "x"}}.get<ContainerState>()), nlohmann::json::exception);
    EXPECT_THROW((nlohmann::json{{"id", "x"}, {"pid", "12"}}.get<ContainerState>()), nlohmann::json::exception);
    EXPECT_THROW((nlohmann::json{{"id", "x"}, {"pid", 1}, {"extra", 3}}.get<ContainerState>()),
                 nlohmann::json::exception);
    EXPECT_THROW((nlohmann::json::array().get<ContainerState>()), nlohmann::json::exception);
}

TEST(Rfc3339, FormatsLikeGoRfc3339Nano) {
    EXPECT_EQ(rfc3339_nano({0, 0}), "1970-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339_nano({1714564800, 500000000}), "2024-05-01T12:00:00.5Z");
    EXPECT_EQ(rfc3339_nano({1714564800, 123456789}), "2024-05-01T12:00:00.123456789Z");
    EXPECT_EQ(rfc3339_nano({1714564800, 1000}), "2024-05-01T12:00:00.000001Z");
    EXPECT_EQ(rfc3339_nano({1714564800, 120}), "2024-05-01T12:00:00.00000012Z");
}

TEST(Rfc3339, NowIsCurrentUtc) {
    std::string now = rfc3339_now();
    time_t t = ::time(nullptr);
    struct tm tm{};
    gmtime_r(&t, &tm);
    char year[8];
    std::strftime(year, sizeof year, "%Y", &tm);
    EXPECT_EQ(now.substr(0, 4), year);
    EXPECT_EQ(now.back(), 'Z');
    EXPECT_EQ(now[10], 'T');
}

TEST(Ids, DefensiveCheckRefusesPathLikeIds) {
    for (std::string_view bad : {"", ".", "..", "a/b", "/x", "../x", "@hrun-creating-1"})
        EXPECT_FALSE(check_id(bad)) << bad;
    EXPECT_FALSE(check_id(std::string_view("a\0b", 3)));
    for (std::string_view good : {"a", "web-1", "..a", ".x", "a.b+c_d"}) EXPECT_TRUE(check_id(good)) << good;
}

TEST(Users, NamesRootAndNumbersUnknownUids) {
    EXPECT_EQ(user_name(0), "root");
    EXPECT_EQ(user_name(4000000000u), "#4000000000");
}

}  // namespace
}  // namespace hrun::state
