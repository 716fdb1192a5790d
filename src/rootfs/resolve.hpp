// Resolving a container path inside the container's root, without ever leaving it.
//
// The walk goes component by component from a directory fd (the rootfs before pivot_root, "/"
// after), opening each with O_PATH|O_NOFOLLOW and expanding symlinks itself:
//   - an absolute symlink restarts at the root, a relative one continues where it was found;
//   - ".." pops back to the directory the walk came from (checked by device and inode, so a
//     concurrent rename cannot move the walk elsewhere); ".." at the root is an escape: EXDEV;
//   - a symlink on procfs (/proc/self/fd/N, /proc/1/root: "magic" links that jump anywhere) is
//     refused with EXDEV;
//   - at most kMaxSymlinks symlinks are followed (ELOOP).
// Missing components can be created on the way (mkdirat 0755, or an empty file at the end).
// A path that meets no symlink is first tried with one openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS) call, which can only give the walk's own answer; everything else (and
// kernels without openat2) takes the walk.
//
// Child-safe: no allocation, fixed buffers on the stack, only syscalls. Returns an O_PATH|O_CLOEXEC
// fd or -errno.
#pragma once

#include <cstddef>

namespace hrun::rootfs {

enum ResolveFlags : unsigned {
    kResolveDefault = 0,
    kResolveMkdirParents = 1u << 0,  // create missing intermediate directories (0755)
    kResolveMkdirLast = 1u << 1,     // create a missing final component as a directory (0755)
    kResolveCreateFile = 1u << 2,    // create a missing final component as an empty file (0644)
    kResolveNoFollowLast = 1u << 3,  // return a trailing symlink itself instead of following it
};

inline constexpr int kMaxSymlinks = 40;
// Deepest directory nesting the walk tracks (each level costs 16 bytes of stack).
inline constexpr int kMaxResolveDepth = 256;

// Resolves `path` (absolute or relative, both taken from `rootfd`) and returns an O_PATH fd of
// what it names. `rootfd` is only borrowed.
int resolve_in_root(int rootfd, const char* path, unsigned flags) noexcept;

// Resolves every component of `path` but the last, which is copied into `last` (NUL-terminated),
// and returns an O_PATH fd of the directory that should hold it: for mknodat/symlinkat/unlinkat.
// Fails with EINVAL when the path has no last component ("/", "..", ".").
// Of `flags`, only kResolveMkdirParents applies.
int resolve_parent_in_root(int rootfd, const char* path, unsigned flags, char* last,
                           std::size_t last_size) noexcept;

}  // namespace hrun::rootfs
