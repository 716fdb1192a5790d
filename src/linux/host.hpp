// Facts about the host that the create path needs, read once in the parent before clone.
#pragma once

#include <sys/types.h>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::os {

struct HostContext {
    UniqueFd proc;            // verified procfs root (see procfs.hpp)
    int cap_last_cap = 40;    // highest capability number this kernel knows
    bool apparmor = false;    // AppArmor is the enabled LSM (libapparmor's aa_is_enabled)
    bool selinux = false;     // SELinux is enabled (/sys/fs/selinux/enforce exists)
    uid_t euid = 0;
    gid_t egid = 0;
};

Result<HostContext> probe_host();

}  // namespace hrun::os
