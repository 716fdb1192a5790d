// Namespaces: which to create and how, which to join, and the id maps the parent writes.
//
// Fast path (the common case): every namespace is new and there is no time namespace, so clone3
// creates them all at once and the child is pid 1 from birth. General path: the child starts in
// hrun's namespaces, joins the listed ones by fd (user first, so it holds the capabilities
// needed for the rest), unshares the new ones, and when a pid namespace is joined or a time
// namespace is wanted (both only affect children) forks once more: that grandchild, born with
// CLONE_PARENT so hrun can wait for it, becomes the container.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"
#include "create/id_maps.hpp"
#include "rootfs/rootfs.hpp"

namespace hrun::create {

struct NamespacePlan {
    struct Join {
        UniqueFd fd;        // opened and type-checked in the parent
        int type = 0;       // CLONE_NEW*
        std::string field;  // linux.namespaces[i].path
    };
    struct Sysctl {
        std::string path;   // below /proc: "sys/net/ipv4/ip_forward"
        std::string value;
        std::string field;  // linux.sysctl["net.ipv4.ip_forward"]
    };

    unsigned long clone_flags = 0;    // created by clone3 itself (fast path)
    unsigned long unshare_flags = 0;  // created by the child with unshare (general path)
    unsigned long late_flags = 0;     // pid/time: unshared right before the second fork
    std::vector<Join> joins;          // user namespace first
    bool second_fork = false;

    bool new_user = false;
    bool deny_setgroups = false;  // unprivileged mapping: setgroups(2) must be denied first
    std::string uid_map;          // "0 1000 1\n", ready for one write (empty with a helper)
    std::string gid_map;
    // Unprivileged caller mapping more than its own id: newuidmap/newgidmap write the map
    // (id_maps.hpp). The child stays dumpable while they run: they check that it is the
    // caller's through the owner of /proc/PID, which is root for a non-dumpable process.
    std::optional<MapHelper> uid_helper;
    std::optional<MapHelper> gid_helper;
    std::string time_offsets;     // "monotonic 86400 0\nboottime ..."

    std::string hostname;
    std::string domainname;
    std::vector<Sysctl> sysctls;
    bool loopback_up = false;

    rootfs::NamespaceSummary summary;
};

Result<NamespacePlan> plan_namespaces(const spec::Spec& spec, uid_t euid);

// Parent: writes setgroups/uid_map/gid_map of `pid` through the verified procfs, or runs
// newuidmap/newgidmap for it.
Status write_id_maps(const NamespacePlan& plan, int procfd, pid_t pid);

// A directory the child opens (O_PATH) as soon as its new mount namespace exists, while its ids
// are still host root's: the idmapped rootfs may lie below a directory closed to every other
// host user (rootfs/idmap_exposure.cpp), the container's root included. `fd` stays -1 when
// there is no such moment (a joined mount namespace) or the open fails; the rootfs setup then
// opens the path itself and reports the error.
struct EarlyOpen {
    const char* path = nullptr;
    int fd = -1;
};

// Child: enters every namespace (asking the parent for id maps over `sync_fd`) and, when the plan
// needs it, forks the container process and exits. Returns in the container process. `parent`
// is hrun's pid: the child ties itself to it again after each change of ids (tie_to_parent).
ChildStatus enter_namespaces(const NamespacePlan& plan, int sync_fd, int procfd, pid_t parent,
                             EarlyOpen* early) noexcept;

// Child, inside the namespaces: hostname, domainname, sysctls, loopback up.
ChildStatus configure_namespaces(const NamespacePlan& plan, int procfd) noexcept;

}  // namespace hrun::create
