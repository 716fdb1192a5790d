// Seccomp: compiled to BPF in the parent with libseccomp, loaded in the child with a raw
// seccomp(2) so the container side only makes syscalls.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <vector>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::security {

struct SeccompProgram {
    std::vector<sock_filter> filter;  // exported by seccomp_export_bpf
    unsigned int flags = 0;           // SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER)
};

// Compiles linux.seccomp. Errors name the field: `linux.seccomp.syscalls[4].names[0]: unknown
// syscall "fooo"`. Names unknown to libseccomp for *some* listed architecture are skipped as
// runc does; names unknown everywhere are an error.
Result<SeccompProgram> compile_seccomp(const spec::Seccomp& config);

// Child side: installs the program. No allocation.
ChildStatus load_seccomp(const SeccompProgram& program) noexcept;

}  // namespace hrun::security
