// Parsers of the statistics files, on texts as the kernel writes them.
#include <gtest/gtest.h>

#include "cgroups/stat_files.hpp"

namespace hrun::cgroups {
namespace {

TEST(StatFiles, FlatKeyed) {
    auto m = parse_flat_keyed("usage_usec 123\nuser_usec 100\nsystem_usec 23\nnr_periods 0\nbad x\n\n");
    EXPECT_EQ(m.size(), 4u);
    EXPECT_EQ(m["usage_usec"], 123u);
    EXPECT_EQ(m["system_usec"], 23u);
    EXPECT_EQ(m.count("bad"), 0u);
    auto oom = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    EXPECT_EQ(oom["oom_kill"], 2u);
}

TEST(StatFiles, IoStatV2) {
    auto io = parse_io_stat("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
                            "253:1 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n");
    ASSERT_EQ(io.size(), 2u);
    EXPECT_EQ(io[0], (IoDeviceStats{8, 0, 4096, 8192, 1, 2}));
    EXPECT_EQ(io[1], (IoDeviceStats{253, 1, 1, 0, 1, 0}));
}

TEST(StatFiles, BlkioV1) {
    auto io = parse_blkio("8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Async 4608\n8:0 Discard 0\n8:0 Total 4608\n"
                          "8:16 Read 7\nTotal 4615\n",
                          "8:0 Read 1\n8:0 Write 3\n8:0 Total 4\nTotal 4\n");
    ASSERT_EQ(io.size(), 2u);
    EXPECT_EQ(io[0], (IoDeviceStats{8, 0, 4096, 512, 1, 3}));
    EXPECT_EQ(io[1], (IoDeviceStats{8, 16, 7, 0, 0, 0}));
}

TEST(StatFiles, Limits) {
    EXPECT_FALSE(parse_limit("max\n").has_value());
    EXPECT_FALSE(parse_limit("9223372036854771712\n").has_value());  // v1 unlimited
    EXPECT_EQ(parse_limit("33554432\n"), 33554432u);
    EXPECT_FALSE(parse_limit("").has_value());
}

}  // namespace
}  // namespace hrun::cgroups
