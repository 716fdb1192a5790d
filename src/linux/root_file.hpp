// Reading a file of a container's root filesystem (its /etc/passwd, /etc/group) from hrun.
//
// The rootfs belongs to the image and, once the container runs, to the container: any path in
// it may be a symlink to a host file, a FIFO that blocks its reader forever, or a device node
// whose open(2) has effects (a watchdog, a tape, /dev/kmsg). hrun runs outside the container's
// device cgroup and with all its privileges, so it must never open such a thing. Every read of
// a container file goes through read_file_in_root.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::os {

// A passwd or group file larger than this is not one hrun reads.
inline constexpr std::size_t kMaxRootFileSize = std::size_t{4} << 20;

// A host directory used as a root (the bundle's rootfs, before the container exists), O_PATH.
Result<UniqueFd> open_root_dir(const std::string& path);

// The root directory of a running process (the container's init: its pivoted root, in its mount
// namespace), through /proc/<pid>/root of the verified procfs `procfd`.
Result<UniqueFd> open_process_root(int procfd, pid_t pid);

// The contents of `relpath` ("etc/passwd") below `rootfd`, as the container sees it:
//   - resolved with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, so "..", absolute symlinks and
//     /proc magic links cannot lead outside the root;
//   - opened O_PATH first, which opens nothing (no device driver's open, no FIFO wait), and
//     checked with fstat to be a regular file of at most `max_size` bytes;
//   - read through a reopen of that very inode (/proc/self/fd/N of the verified procfs
//     `procfd`), so that replacing the path with a device between check and read changes nothing.
// Errors carry ENOENT when the file does not exist, EINVAL when it is not a regular file (the
// message says what it is), EFBIG when it is larger than `max_size`.
Result<std::string> read_file_in_root(int procfd, int rootfd, const char* relpath,
                                      std::size_t max_size = kMaxRootFileSize);

}  // namespace hrun::os
