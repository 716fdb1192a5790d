// Commands on an existing container: what runc's `state`, `kill`, `list`, `ps`, `pause` and
// `resume` do, read from the state directory and the kernel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::lifecycle {

// The runtime-spec state JSON (`hrun state ID`).
Result<std::string> state_json(const std::string& root, const std::string& id);

// "TERM", "SIGTERM", "15" -> 15.
Result<int> parse_signal(const std::string& text);

// Signals the init process, or with `all` every process in the container's cgroup.
// A stopped container is an error, as with runc.
Status kill(const std::string& root, const std::string& id, int signal, bool all);

enum class ListFormat { Table, Json, Quiet };
Result<std::string> list(const std::string& root, ListFormat format);

// Host pids of every process in the container.
Result<std::vector<pid_t>> processes(const std::string& root, const std::string& id);

Status pause(const std::string& root, const std::string& id);

// Applies new linux.resources to a live container's cgroup (`hrun update`).
Status update(const std::string& root, const std::string& id, const spec::Resources& resources);

// `--resources FILE|-` content: a linux.resources object, parsed with the config's rules.
Result<spec::Resources> parse_resources(std::string_view json_text);

// `hrun events`: with `stats_once` one stats event; otherwise a stats event every `interval`
// and an "oom" event for each OOM kill, until the container's init exits. One JSON per line.
Status events(const std::string& root, const std::string& id, bool stats_once,
              std::chrono::nanoseconds interval, const std::function<void(const std::string&)>& emit);

// runtime-spec features JSON (`hrun features`).
std::string features_json();
Status resume(const std::string& root, const std::string& id);

}  // namespace hrun::lifecycle
