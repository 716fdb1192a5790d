// `hrun delete`: the end of a container, whatever state it was left in.
#pragma once

#include <string>

#include "cgroups/cgroups.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "state/state.hpp"

namespace hrun::create {

// Removes a stopped container: its cgroup, its state directory, then the poststop hooks.
// With `force` a live container is killed first (every process in its cgroup). A state
// directory without state.json (a create killed at its very start) is simply removed.
Status delete_container(const std::string& root, const std::string& id, bool force);

// The end of a foreground `run` whose init it has reaped: what delete_container does without
// `force`, from what `run` already holds (the state it wrote, the config it ran, its cgroup)
// rather than read back. The container directory is reopened and locked (a `delete` that
// removed it meanwhile makes this fail as delete_container would). `cgroup` may be null.
Status finish_run(const state::StateRoot& root, const state::ContainerState& st, const spec::Spec& spec,
                  cgroups::Cgroup* cgroup);

}  // namespace hrun::create
