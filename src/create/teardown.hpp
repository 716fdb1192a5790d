// `hrun delete`: the end of a container, whatever state it was left in.
#pragma once

#include <string>

#include "hrun/error.hpp"

namespace hrun::create {

// Removes a stopped container: its cgroup, its state directory, then the poststop hooks.
// With `force` a live container is killed first (every process in its cgroup). A state
// directory without state.json (a create killed at its very start) is simply removed.
Status delete_container(const std::string& root, const std::string& id, bool force);

}  // namespace hrun::create
