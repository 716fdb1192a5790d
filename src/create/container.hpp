// The runc lifecycle on top of the create pipeline (pipeline.hpp): `create` leaves the container
// process waiting on its exec fifo, `start` releases it, `run` is both plus waiting.
// Every container has a state directory (state/state.hpp) from the first moment of `create`,
// so that whatever happens to hrun, `delete --force` finds what to clean.
#pragma once

#include <sys/types.h>

#include <string>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "policy/policy.hpp"

namespace hrun::create {

struct ContainerRequest {
    std::string root;            // state root (--root)
    std::string id;              // empty: generated (run only)
    std::string bundle;          // directory holding config.json
    std::string pid_file;        // --pid-file
    std::string console_socket;  // --console-socket
    bool no_pivot = false;
    bool systemd_cgroup = false;
    int preserve_fds = 0;
    std::optional<policy::Policy> policy;  // --policy; none: policy::choose_policy's default
    std::string userns_remap;  // --userns-remap=USER[:GROUP] (policy/userns_remap.hpp); empty: off
};

// Whether the container process starts among processes of a container: no new pid namespace
// (the host's, or the one hrun runs in) or one joined by path. Then `create`/`run` run from a
// sealed copy of hrun (linux/sealed_exe.hpp); in a new pid namespace the child is alone.
bool shares_a_pid_namespace(const spec::Spec& spec);

// Writes `pid` to `path` through a temporary file renamed over it (engines poll for it).
Status write_pid_file(const std::string& path, pid_t pid);

// `hrun create`: returns once the process is set up and blocked before exec.
Status create_container(const ContainerRequest& request);

// `hrun start`: lets a created container run its startContainer hooks and exec (failing with
// the hook's error if one fails), then runs the poststart hooks.
Status start_container(const std::string& root, const std::string& id);

struct RunOptions {
    bool detach = false;  // return once started (`run --detach`)
    bool keep = false;    // keep the stopped container's state (`run --keep`)
};

// `hrun run`: create + start, then (unless detached) wait, forwarding signals and proxying the
// terminal, and delete. Returns the container's exit code (128+N for signal N).
Result<int> run_container(const ContainerRequest& request, const RunOptions& options);

}  // namespace hrun::create
