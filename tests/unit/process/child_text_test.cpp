// The child-safe formatting helpers behind the container process's error messages.
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "process/child_text.hpp"

namespace hrun::process::detail {
namespace {

std::string decimal(long long v, std::size_t size = 32) {
    char buf[32];
    format_decimal(buf, size, v);
    return buf;
}

TEST(ChildText, FormatsDecimals) {
    EXPECT_EQ(decimal(0), "0");
    EXPECT_EQ(decimal(7), "7");
    EXPECT_EQ(decimal(-1000), "-1000");
    EXPECT_EQ(decimal(LLONG_MAX), "9223372036854775807");
    EXPECT_EQ(decimal(LLONG_MIN), "-9223372036854775808");
    EXPECT_EQ(decimal(12345, 3), "12");  // truncated, still terminated
}

TEST(ChildText, ParsesDecimals) {
    long long v = 0;
    EXPECT_TRUE(parse_decimal("-17\n", &v));
    EXPECT_EQ(v, -17);
    EXPECT_TRUE(parse_decimal("1000", &v));
    EXPECT_EQ(v, 1000);
    EXPECT_FALSE(parse_decimal("", &v));
    EXPECT_FALSE(parse_decimal("-", &v));
    EXPECT_FALSE(parse_decimal("12a", &v));
    EXPECT_FALSE(parse_decimal("99999999999999999999999", &v));
}

TEST(ChildText, QuotedMessageKeepsItsSuffix) {
    ChildStatus s = fail_quoted("process.cwd", "/tmp", " does not exist", ENOENT);
    EXPECT_STREQ(s.error.field, "process.cwd");
    EXPECT_STREQ(s.error.message, "\"/tmp\" does not exist");
    EXPECT_EQ(s.error.err, ENOENT);

    const std::string long_value(500, 'x');
    s = fail_quoted("process.cwd", long_value.c_str(), " is not inside the container", ELOOP);
    const std::string message = s.error.message;
    EXPECT_EQ(message.size(), sizeof(ChildError::message) - 1);
    EXPECT_EQ(message.front(), '"');
    EXPECT_TRUE(message.ends_with("...\" is not inside the container")) << message;
}

}  // namespace
}  // namespace hrun::process::detail
