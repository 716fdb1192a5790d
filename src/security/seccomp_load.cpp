// Container side: installs the filter compiled in the parent. Runs between clone and exec, so
// it only reads the parent's (copy-on-write) program and makes one or two syscalls.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "security/seccomp.hpp"
#include "security/seccomp_names.hpp"

namespace hrun::security {

namespace {

long seccomp_set_filter(unsigned int flags, const sock_fprog* prog) noexcept {
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
}

}  // namespace

ChildStatus load_seccomp(const SeccompProgram& program) noexcept {
    if (program.filter.empty() || program.filter.size() > USHRT_MAX)
        return child_fail("linux.seccomp", "the compiled seccomp filter has a bad length", EINVAL);

    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.filter.size());
    // The kernel copies the program and never writes to it.
    prog.filter = const_cast<sock_filter*>(program.filter.data());

    long rc = seccomp_set_filter(program.flags, &prog);
    if (rc < 0 && errno == EINVAL && (program.flags & kOptionalFilterFlags) != 0) {
        // A kernel too old for LOG or SPEC_ALLOW says EINVAL; those flags only tune logging and
        // mitigations, so the filter goes in without them.
        rc = seccomp_set_filter(program.flags & ~kOptionalFilterFlags, &prog);
    }
    if (rc < 0) return child_fail("linux.seccomp", "cannot load the seccomp filter", errno);
    // With TSYNC a positive result is the id of a thread that could not be synchronised.
    if (rc > 0)
        return child_fail("linux.seccomp.flags",
                          "cannot synchronise the seccomp filter to every thread", ESRCH);
    return child_ok();
}

}  // namespace hrun::security
