#include "linux/units.hpp"

#include <gtest/gtest.h>

namespace hrun::units {
namespace {

using std::chrono::nanoseconds;
using namespace std::chrono_literals;

nanoseconds duration(std::string_view text) {
    auto r = parse_duration(text, "--interval");
    EXPECT_TRUE(r) << text << ": " << r.error().what();
    return r.value_or(nanoseconds(-42));
}

std::string duration_error(std::string_view text) {
    auto r = parse_duration(text, "--interval");
    EXPECT_FALSE(r) << text << " was accepted as " << r.value_or(0ns).count() << "ns";
    return r ? "" : r.error().what();
}

TEST(Duration, GoUnits) {
    EXPECT_EQ(duration("1s"), 1s);
    EXPECT_EQ(duration("100ms"), 100ms);
    EXPECT_EQ(duration("1m30s"), 90s);
    EXPECT_EQ(duration("2h"), 2h);
    EXPECT_EQ(duration("250us"), 250us);
    EXPECT_EQ(duration("250\u00b5s"), 250us);  // micro sign
    EXPECT_EQ(duration("250\u03bcs"), 250us);  // Greek mu
    EXPECT_EQ(duration("7ns"), 7ns);
    EXPECT_EQ(duration("1h2m3s4ms5us6ns"), 1h + 2min + 3s + 4ms + 5us + 6ns);
}

TEST(Duration, FractionsSignsAndZero) {
    EXPECT_EQ(duration("1.5s"), 1500ms);
    EXPECT_EQ(duration(".5s"), 500ms);
    EXPECT_EQ(duration("1.s"), 1s);
    EXPECT_EQ(duration("0.1h"), 6min);
    EXPECT_EQ(duration("0"), 0ns);
    EXPECT_EQ(duration("+0"), 0ns);
    EXPECT_EQ(duration("0s"), 0ns);
    EXPECT_EQ(duration("-1.5m"), -90s);
    EXPECT_EQ(duration("+3s"), 3s);
    EXPECT_EQ(duration("1.0000000000000000000001s"), 1s);  // digits past what fits are ignored
}

TEST(Duration, Range) {
    EXPECT_EQ(duration("9223372036854775807ns"), nanoseconds(INT64_MAX));
    EXPECT_EQ(duration("-9223372036854775808ns"), nanoseconds(INT64_MIN));
    EXPECT_NE(duration_error("9223372036854775808ns").find("out of range"), std::string::npos);
    EXPECT_NE(duration_error("2562048h").find("out of range"), std::string::npos);
    EXPECT_NE(duration_error("99999999999999999999s").find("out of range"), std::string::npos);
}

TEST(Duration, RefusesWhatGoRefuses) {
    EXPECT_NE(duration_error("5").find("missing unit"), std::string::npos);
    EXPECT_NE(duration_error("1s5").find("missing unit"), std::string::npos);
    EXPECT_NE(duration_error("3d").find("unknown unit \"d\""), std::string::npos);
    EXPECT_NE(duration_error("1S").find("unknown unit"), std::string::npos);
    EXPECT_NE(duration_error("").find("expected a number"), std::string::npos);
    EXPECT_NE(duration_error("-").find("expected a number"), std::string::npos);
    EXPECT_NE(duration_error(".s").find("expected a number"), std::string::npos);
    EXPECT_NE(duration_error("s").find("expected a number"), std::string::npos);
    EXPECT_NE(duration_error("1s ").find("unknown unit"), std::string::npos);
    EXPECT_NE(duration_error("--1s").find("expected a number"), std::string::npos);
    // The error names the flag and the text.
    EXPECT_EQ(duration_error("3d").rfind("--interval: invalid duration \"3d\"", 0), 0u) << duration_error("3d");
}

int64_t bytes(std::string_view text) {
    auto r = parse_ram_bytes(text, "--memory");
    EXPECT_TRUE(r) << text << ": " << r.error().what();
    return r.value_or(-42);
}

std::string bytes_error(std::string_view text) {
    auto r = parse_ram_bytes(text, "--memory");
    EXPECT_FALSE(r) << text << " was accepted as " << r.value_or(0);
    return r ? "" : r.error().what();
}

TEST(RamBytes, BinaryUnitsAnyCase) {
    EXPECT_EQ(bytes("4096"), 4096);
    EXPECT_EQ(bytes("512b"), 512);
    EXPECT_EQ(bytes("512B"), 512);
    EXPECT_EQ(bytes("50M"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("50m"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("50mb"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("50MB"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("50MiB"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("50 M"), 50 * 1024 * 1024);
    EXPECT_EQ(bytes("1k"), 1024);
    EXPECT_EQ(bytes("2g"), int64_t{2} << 30);
    EXPECT_EQ(bytes("3T"), int64_t{3} << 40);
    EXPECT_EQ(bytes("1p"), int64_t{1} << 50);
    EXPECT_EQ(bytes("1.5GiB"), int64_t{3} << 29);
    EXPECT_EQ(bytes("0.5k"), 512);
    EXPECT_EQ(bytes("1.7"), 1);  // truncated to whole bytes
    EXPECT_EQ(bytes("0"), 0);
}

TEST(RamBytes, RefusesWhatRamInBytesRefuses) {
    EXPECT_NE(bytes_error("-1").find("non-negative number"), std::string::npos);
    EXPECT_NE(bytes_error("M").find("non-negative number"), std::string::npos);
    EXPECT_NE(bytes_error("").find("non-negative number"), std::string::npos);
    EXPECT_NE(bytes_error(".").find("non-negative number"), std::string::npos);
    EXPECT_NE(bytes_error("50x").find("unknown unit \"x\""), std::string::npos);
    EXPECT_NE(bytes_error("50bb").find("unknown unit"), std::string::npos);
    EXPECT_NE(bytes_error("50mi").find("unknown unit"), std::string::npos);
    EXPECT_NE(bytes_error("50mbb").find("unknown unit"), std::string::npos);
    EXPECT_NE(bytes_error("50  M").find("unknown unit"), std::string::npos);
    EXPECT_NE(bytes_error("1.2.3").find("unknown unit"), std::string::npos);
    EXPECT_NE(bytes_error("8192p").find("out of range"), std::string::npos);
    EXPECT_EQ(bytes_error("50x").rfind("--memory: invalid size \"50x\"", 0), 0u) << bytes_error("50x");
}

}  // namespace
}  // namespace hrun::units
