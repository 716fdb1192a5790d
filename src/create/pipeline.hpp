// The create path, start to finish. Each stage lives in its own file, in this order:
//
//   1. parse      spec/parse*.cpp      config.json -> spec::Spec (type errors name the field)
//   2. validate   spec/validate*.cpp   meaning checks, before anything exists
//   3. prepare    create/prepare.cpp   host side: namespaces, rootfs, process, seccomp BPF
//   4. clone      create/spawn.cpp     clone3 + the sync protocol of create/sync.hpp
//   5. child      create/child.cpp     namespaces, rootfs, process limits (no allocation)
//   6. exec       process/exec.cpp     credentials, capabilities, LSM, seccomp, execve
//   7. supervise  create/supervise.cpp wait, forward signals, exit status
//
// create/container.cpp strings them together for `create`, `start` and `run`, with the
// container's state directory; create/teardown.cpp is `delete`.
#pragma once

#include <string>

#include "hrun/error.hpp"

namespace hrun::create {

// Container ids as runc accepts them: 1-1024 characters of [A-Za-z0-9_+.-], not "." or "..".
Status validate_container_id(const std::string& id);

// "hrun-" and 12 random hex digits.
std::string generate_container_id();


}  // namespace hrun::create
