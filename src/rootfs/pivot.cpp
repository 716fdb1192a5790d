// Child side: making the rootfs the process's "/".
//
// pivot_root(".", ".") from inside the rootfs stacks the old root on top of the new one; that
// old root is then detached. pivot_root needs no directory in the rootfs for the old root and
// leaves nothing of the host reachable.
//
// With no_pivot (for rootfs on filesystems where pivot_root is refused, such as an initramfs)
// the rootfs is moved onto "/" and the process chroots into it. The host's mount tree stays in
// the namespace then, below the rootfs; its full proc and sysfs mounts are detached first
// because their presence is what allows a fresh proc/sysfs mount from inside the container.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "hrun/fd.hpp"
#include "rootfs/steps.hpp"

namespace hrun::rootfs {

namespace {

ChildStatus pivot(int rootfd) noexcept {
    int oldroot = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (oldroot < 0) return child_fail("root.path", "cannot open the old root", errno);
    UniqueFd oldroot_owner(oldroot);
    if (::fchdir(rootfd) != 0) return child_fail("root.path", "cannot enter the rootfs", errno);
    if (::syscall(SYS_pivot_root, ".", ".") != 0) return child_fail("root.path", "pivot_root failed", errno);
    // The kernel leaves the cwd on the old root, but say so rather than rely on it.
    if (::fchdir(oldroot) != 0) return child_fail("root.path", "cannot enter the old root", errno);
    // Already a slave since setup began; repeated so that the detach below can never reach the
    // host whatever happened in between.
    // "." is the old root here; /proc/self/fd is not reachable any more for the mount(2) path.
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
        return child_fail("root.path", "cannot make the old root a slave", errno);
    if (::umount2(".", MNT_DETACH) != 0) return child_fail("root.path", "cannot detach the old root", errno);
    if (::chdir("/") != 0) return child_fail("root.path", "cannot enter the new root", errno);
    return child_ok();
}

ChildStatus move_root(const RootfsPlan& plan, int rootfd) noexcept {
    for (const auto& p : plan.host_pseudo_fs) {
        const char* path = p.c_str();
        if (::mount(nullptr, path, nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
            if (errno == ENOENT || errno == EINVAL) continue;  // already gone with a parent
            return child_fail("root.path", "cannot make a host pseudo-filesystem a slave", errno);
        }
        if (::umount2(path, MNT_DETACH) != 0) {
            if (errno != EINVAL && errno != EPERM)
                return child_fail("root.path", "cannot detach a host pseudo-filesystem", errno);
            // Locked in a user namespace: cover it instead.
            if (::mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
                return child_fail("root.path", "cannot cover a host pseudo-filesystem", errno);
        }
    }
    if (::fchdir(rootfd) != 0) return child_fail("root.path", "cannot enter the rootfs", errno);
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
        return child_fail("root.path", "cannot move the rootfs onto \"/\"", errno);
    if (::chroot(".") != 0) return child_fail("root.path", "chroot failed", errno);
    if (::chdir("/") != 0) return child_fail("root.path", "cannot enter the new root", errno);
    return child_ok();
}

}  // namespace

ChildStatus enter_rootfs(MountContext&, const RootfsPlan& plan, int rootfd) noexcept {
    if (plan.no_pivot) return move_root(plan, rootfd);
    return pivot(rootfd);
}

}  // namespace hrun::rootfs
