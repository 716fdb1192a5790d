// Commands on an existing container: what runc's `state`, `kill`, `list`, `ps`, `pause` and
// `resume` do, read from the state directory and the kernel.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "hrun/error.hpp"

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
Status resume(const std::string& root, const std::string& id);

}  // namespace hrun::lifecycle
