// The freezer's polling against fake freezer files: a freeze that cannot complete ends at its
// deadline, thawed again, with an error that says so; one that completes returns at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "cgroups/freezer.hpp"

namespace hrun::cgroups {
namespace {

using namespace std::chrono_literals;

// A v1 freezer.state that stays FREEZING after FROZEN is written, until `frozen_after` reads.
struct FakeV1 {
    std::vector<std::string> writes;
    int reads = 0;
    int frozen_after = -1;  // -1: never
    std::string state = "THAWED";

    FreezerFiles files() {
        FreezerFiles f;
        f.version = 1;
        f.request = [this](std::string_view v) {
            writes.emplace_back(v);
            state = v == "FROZEN" ? "FREEZING" : "THAWED";
            return 0;
        };
        f.reached = [this](bool frozen) -> std::optional<bool> {
            ++reads;
            if (state == "FREEZING" && frozen_after >= 0 && reads > frozen_after) state = "FROZEN";
            return state == (frozen ? "FROZEN" : "THAWED");
        };
        return f;
    }
};

TEST(Freezer, StuckV1FreezeEndsAtTheDeadlineThawed) {
    FakeV1 fake;
    const auto start = std::chrono::steady_clock::now();
    Status s = drive_freezer(fake.files(), true, 300ms);
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().err, ETIMEDOUT);
    EXPECT_EQ(s.error().field, "linux.cgroupsPath");
    EXPECT_NE(s.error().message.find("did not freeze within 300 ms"), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("thawed it again"), std::string::npos) << s.error().message;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 1s);
    ASSERT_FALSE(fake.writes.empty());
    EXPECT_EQ(fake.writes.front(), "FROZEN");
    EXPECT_EQ(fake.writes.back(), "THAWED");
    EXPECT_EQ(fake.state, "THAWED");
    // FROZEN was asked again while it stalled (the kernel retries the tasks it missed).
    EXPECT_GT(std::count(fake.writes.begin(), fake.writes.end(), "FROZEN"), 1);
}

TEST(Freezer, V1FreezeThatCompletesReturnsOk) {
    FakeV1 fake;
    fake.frozen_after = 3;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(drive_freezer(fake.files(), true, 5s).has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
    EXPECT_EQ(fake.state, "FROZEN");
    EXPECT_EQ(fake.writes, std::vector<std::string>{"FROZEN"});
}

TEST(Freezer, V2WaitsForFrozenInEvents) {
    int reads = 0;
    std::vector<std::string> writes;
    FreezerFiles f;
    f.version = 2;
    f.request = [&](std::string_view v) {
        writes.emplace_back(v);
        return 0;
    };
    f.reached = [&](bool) -> std::optional<bool> { return ++reads > 5; };
    EXPECT_TRUE(drive_freezer(f, true, 5s).has_value());
    EXPECT_EQ(writes, std::vector<std::string>{"1"});

    // Never "frozen 1": the deadline, then cgroup.freeze back to 0.
    writes.clear();
    f.reached = [](bool) -> std::optional<bool> { return std::nullopt; };
    Status s = drive_freezer(f, true, 30ms);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().err, ETIMEDOUT);
    EXPECT_EQ(writes, (std::vector<std::string>{"1", "0"}));
}

TEST(Freezer, FailedRequestIsReportedAtOnce) {
    FreezerFiles f;
    f.version = 1;
    f.request = [](std::string_view) { return EACCES; };
    f.reached = [](bool) -> std::optional<bool> { return false; };
    Status s = drive_freezer(f, true, 5s);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().err, EACCES);
    EXPECT_NE(s.error().message.find("freezer.state"), std::string::npos);
}

}  // namespace
}  // namespace hrun::cgroups
