// Idmapped mounts: planning (which mounts, through which id maps) and the parent's side of
// making them (see IdmapPlan in rootfs_plan.hpp for why the parent makes them).
#pragma once

#include <string>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"
#include "rootfs/rootfs.hpp"

namespace hrun::rootfs {

// "containerID hostID size\n" per mapping: the text /proc/<pid>/uid_map takes.
std::string id_map_text(const std::vector<spec::IdMapping>& mappings);

// Plans mounts[i]'s idmap from its "idmap"/"ridmap" options and uidMappings/gidMappings.
// `mp` is planned already (kind, options, field names).
Status plan_mount_idmap(MountPlan& mp, const spec::Mount& m, const spec::Spec& spec, const NamespaceSummary& ns);

// The rootfs idmap from annotations["org.hrun.rootfs.idmap"].
Status plan_rootfs_idmap(RootfsPlan& plan, const spec::Spec& spec, const NamespaceSummary& ns);

// Whether a user other than host root can walk from "/" to `path` (absolute, without symlinks):
// false when some directory on the way, `path` included, is owned by root and grants search
// neither to others nor to a group other than root's (idmap_exposure.cpp).
Result<bool> reachable_by_other_users(const std::string& path);

// Refuses a writable idmapped mount of `host_path` that other host users can reach: what the
// container's root writes there is host root's on disk, set-uid bits included. `field` is
// root.path or mounts[i].source.
Status check_idmap_not_exposed(const std::string& host_path, const std::string& field);

// Numbers the premade mounts (rootfs first, then mounts[] in order) and checks their count.
Status assign_premade_slots(RootfsPlan& plan);

// Parent, once the container's user namespace is mapped: the detached mounts for every slot,
// in slot order. `container_userns` is an fd of that namespace; namespaces for other maps are
// made here (a short-lived process each) and gone on return.
Result<std::vector<UniqueFd>> make_premade_mounts(const RootfsPlan& plan, int container_userns, int procfd);

// A user namespace with these maps, as an fd of /proc/<pid>/ns/user. The process that made it
// is killed and reaped before this returns; the fd keeps the namespace alive.
Result<UniqueFd> new_mapped_userns(const std::string& uid_map, const std::string& gid_map, int procfd);

}  // namespace hrun::rootfs
