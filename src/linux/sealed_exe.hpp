// hrun runs from a sealed, read-only copy of itself whenever it enters a pid namespace whose
// other processes belong to a container (CVE-2019-5736). A process there with CAP_SYS_PTRACE and
// no user namespace of its own passes ptrace_may_access against hrun's forked child even when
// that child is non-dumpable, so it can open /proc/<pid>/exe, keep the file, and write the hrun
// binary on the host once hrun exits. Run from a memfd copy with every seal that forbids a change
// (F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW, and F_SEAL_SEAL so no seal can be taken back),
// /proc/<pid>/exe names that copy: the kernel refuses every write to it, and the binary on disk is
// never open while a container can see us.
//
// hrun forks the container process from itself (the plan travels through clone, there is no
// init binary to re-exec), so the copy is what the whole invocation runs from: `exec` re-execs
// through the copy before doing anything, `create`/`run` only when the config shares a pid
// namespace (host pid namespace, or one joined by path). A new pid namespace needs nothing: the
// child is alone in it until it execs the container's program, and that is the hot path.
//
// The check is on the running image, never on an environment variable: /proc/self/exe is opened
// read-only and asked for its seals (F_GET_SEALS). A regular file has none, so a re-exec happens
// once and the copy it runs cannot fail the check.
#pragma once

#include <string_view>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::os {

// The seals the copy carries; every one must be present for it to count as sealed.
int sealed_exe_seals() noexcept;

// True when `fd` is a memfd carrying every seal of sealed_exe_seals(). False for regular files
// (F_GET_SEALS fails with EINVAL on them), for an unsealed memfd and for a partly sealed one.
bool fd_is_sealed(int fd) noexcept;

// A sealed memfd holding the bytes of the file open at `src` (read from offset 0), named `name`
// (what /proc/<pid>/exe then shows: "/memfd:<name> (deleted)"), close-on-exec, with the
// original's access and modification times.
Result<UniqueFd> sealed_copy(int src, const char* name);

// Remembers main's argv: a re-exec runs the same command line (and `environ`, unchanged).
void remember_invocation(char** argv) noexcept;

// Whether the running program is a sealed copy (/proc/self/exe checked as above).
Result<bool> running_sealed();

// Returns ok() when hrun already runs from a sealed copy. Otherwise makes one from
// /proc/self/exe, closes its fd to the original, and execveat()s the copy with the remembered
// argv and the environment; the caller's fds (stdio, --preserve-fds, a console socket) stay
// where they are, hrun's own are close-on-exec. Returns only on failure; `why` names the
// command for the error message.
Status ensure_sealed_exe(std::string_view why);

}  // namespace hrun::os
