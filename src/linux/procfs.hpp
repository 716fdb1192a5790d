// A verified procfs: /proc attributes are written only through a file descriptor of the real
// proc filesystem, opened and checked before any container code could have influenced it
// (the lesson of CVE-2019-16884 and CVE-2019-19921, where a container's fake /proc redirected
// a runtime's writes).
#pragma once

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

#include <string>

namespace hrun::os {

// Opens /proc as O_PATH|O_DIRECTORY and checks that it is the root of a proc filesystem
// (f_type PROC_SUPER_MAGIC, inode 1).
Result<UniqueFd> open_verified_procfs();

// Opens `relpath` ("self/attr/apparmor/exec", "1234/uid_map") below a verified procfs fd without
// crossing into another filesystem or following magic links, and checks the result is on procfs.
// Child-safe: no allocation; returns an fd or -errno.
int procfs_open(int procfd, const char* relpath, int flags) noexcept;

// Reads a whole (small) procfs file, parent side ("self/mountinfo", "self/cgroup").
Result<std::string> procfs_read(int procfd, const char* relpath);

// Writes `len` bytes to a procfs file in one write(2), as the kernel requires for maps and
// attributes. Child-safe; returns 0 or -errno.
int procfs_write(int procfd, const char* relpath, const char* data, std::size_t len) noexcept;

}  // namespace hrun::os
