// Stage 3, "prepare": everything the container side needs, computed on the host before clone,
// so that the child only makes syscalls.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "create/namespaces.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "process/process.hpp"
#include "rootfs/rootfs.hpp"
#include "security/seccomp.hpp"

namespace hrun::create {

struct CreateOptions {
    std::string id;
    std::string bundle;     // absolute
    bool no_pivot = false;
    int preserve_fds = 0;
};

struct ContainerPlan {
    std::string id;
    std::string bundle;
    spec::Spec spec;
    os::HostContext host;
    NamespacePlan ns;
    rootfs::RootfsPlan rootfs;
    process::ProcessPlan process;
    std::optional<security::SeccompProgram> seccomp;
    pid_t parent_pid = 0;  // the child dies with hrun before exec (PR_SET_PDEATHSIG)
};

Result<ContainerPlan> prepare_container(spec::Spec spec, const CreateOptions& options);

}  // namespace hrun::create
