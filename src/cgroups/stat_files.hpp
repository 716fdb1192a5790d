// Parsers of the cgroup statistics files (pure, unit-tested on sample texts).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/cgroups.hpp"

namespace hrun::cgroups {

// "key value" lines (memory.stat, cpu.stat, memory.events, cgroup.events, memory.oom_control);
// lines whose value is not a number are left out.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);

// v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device.
std::vector<IoDeviceStats> parse_io_stat(std::string_view text);

// v1 blkio.throttle.io_service_bytes(_recursive) and io_serviced(_recursive):
// "8:0 Read 4096" lines per device and operation, and a final "Total N".
std::vector<IoDeviceStats> parse_blkio(std::string_view bytes, std::string_view ops);

// A limit file's value: nullopt for "max" (v2) or for v1's "unlimited" value, which is the
// largest page-aligned signed 64-bit number (9223372036854771712) or above.
std::optional<uint64_t> parse_limit(std::string_view text);

}  // namespace hrun::cgroups
