#include "linux/subid.hpp"

#include <gtest/gtest.h>

namespace hrun::os {
namespace {

constexpr std::string_view kFile =
    "# comment\n"
    "alice:100000:65536\n"
    "bob:165536:65536\n"
    "1000:231072:1000\n"
    "alice:300000:10\n"
    "broken-line\n"
    "alice:x:10\n"
    "alice:5:0\n"
    "alice:4294967295:2\n";

TEST(Subid, RangesOfANameInFileOrder) {
    auto r = parse_subid_ranges(kFile, "alice", 4242);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].start, 100000u);
    EXPECT_EQ(r[0].count, 65536u);
    EXPECT_EQ(r[1].start, 300000u);
    EXPECT_EQ(r[1].count, 10u);
}

TEST(Subid, NumericOwnerMatchesTheUid) {
    auto r = parse_subid_ranges(kFile, "carol", 1000);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].start, 231072u);
}

TEST(Subid, MalformedZeroAndWrappingLinesAreIgnored) {
    EXPECT_TRUE(parse_subid_ranges(kFile, "nobody-here", 9).empty());
    for (const auto& r : parse_subid_ranges(kFile, "alice", 4242)) EXPECT_NE(r.count, 0u);
}

TEST(Subid, AllowsOnlyInsideOneRangeOrTheOwnId) {
    auto r = parse_subid_ranges(kFile, "alice", 4242);
    EXPECT_TRUE(subid_allows(r, 4242, 4242, 1));
    EXPECT_FALSE(subid_allows(r, 4242, 4242, 2));
    EXPECT_TRUE(subid_allows(r, 4242, 100000, 65536));
    EXPECT_TRUE(subid_allows(r, 4242, 100010, 5));
    EXPECT_FALSE(subid_allows(r, 4242, 99999, 2));
    EXPECT_FALSE(subid_allows(r, 4242, 100000, 65537));
    EXPECT_FALSE(subid_allows(r, 4242, 165536, 1));  // bob's range
    EXPECT_FALSE(subid_allows(r, 4242, 100000, 0));
}

TEST(Subid, MissingFileHasNoRanges) {
    auto r = read_subid_ranges("/nonexistent/subuid", "alice", 1);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->empty());
}

TEST(Subid, LooksUpRootByNameAndUid) {
    auto byname = lookup_user("root");
    auto byuid = lookup_user("0");
    ASSERT_TRUE(byname && byuid);
    EXPECT_EQ(byname->uid, 0u);
    EXPECT_EQ(byuid->name, "root");
    EXPECT_FALSE(lookup_user("no-such-user-hrun"));
}

}  // namespace
}  // namespace hrun::os
