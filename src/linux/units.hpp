// The units runc's command line takes, for the flags engines pass in runc's spelling: Go
// durations (`events --interval 100ms`, containerd's `--interval=5s`) and byte sizes with
// binary units (`update --memory 50M`, docker's RAMInBytes).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "hrun/error.hpp"

namespace hrun::units {

// A Go duration, as time.ParseDuration reads it: an optional sign, then one or more numbers
// (decimal fractions allowed) each followed by a unit of ns, us (µs, μs), ms, s, m or h, e.g.
// "1s", "100ms", "1m30s", "1.5h"; "0" alone needs no unit. Errors name `flag`.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text, const std::string& flag);

// A byte count as docker/go-units' RAMInBytes reads it: a non-negative decimal number, an
// optional space, and an optional unit k, m, g, t or p (powers of 1024, any case), optionally
// followed by "b" or "ib" ("50M", "50mb", "1.5GiB", "512b", "4096"). The result is truncated to
// whole bytes. Errors name `flag`.
Result<int64_t> parse_ram_bytes(std::string_view text, const std::string& flag);

}  // namespace hrun::units
