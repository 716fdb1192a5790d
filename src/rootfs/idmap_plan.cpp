// Planning of idmapped mounts: mounts[] entries with "idmap"/"ridmap" or uidMappings/gidMappings
// (runtime-spec 1.2, as runc 1.2 and crun read them), and the rootfs idmap annotation.
#include <cerrno>

#include "rootfs/idmap.hpp"

namespace hrun::rootfs {

namespace {

const std::vector<spec::IdMapping>& container_map(const spec::Spec& spec, bool uid) {
    static const std::vector<spec::IdMapping> kNone;
    if (!spec.linux) return kNone;
    return uid ? spec.linux->uidMappings : spec.linux->gidMappings;
}

std::string annotation_field() { return std::string("annotations[\"") + spec::kRootfsIdmapAnnotation + "\"]"; }

}  // namespace

std::string id_map_text(const std::vector<spec::IdMapping>& mappings) {
    std::string text;
    for (const auto& m : mappings)
        text += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size) + "\n";
    return text;
}

Status plan_mount_idmap(MountPlan& mp, const spec::Mount& m, const spec::Spec& spec, const NamespaceSummary& ns) {
    const MountOptions& o = mp.options;
    const bool has_mappings = !m.uidMappings.empty() || !m.gidMappings.empty();
    if (!o.idmap && !has_mappings) return ok();

    // The field to blame: the option when there is one, else the mappings.
    std::string field = o.idmap ? o.idmap_field
                                : mp.field + (m.uidMappings.empty() ? ".gidMappings" : ".uidMappings");
    std::string reason = o.idmap ? (o.idmap_recursive ? "\"ridmap\"" : "\"idmap\"") : "uidMappings";
    if (mp.kind != MountKind::kBind) return fail(field, reason + " applies to bind mounts only", EINVAL);
    if (!ns.new_user)
        return fail(field, "an idmapped mount needs a new user namespace (a \"user\" entry in linux.namespaces)",
                    EINVAL);
    if (m.uidMappings.empty() != m.gidMappings.empty())
        return fail(mp.field + (m.uidMappings.empty() ? ".uidMappings" : ".gidMappings"),
                    "missing (uidMappings and gidMappings go together)", EINVAL);

    IdmapPlan& idmap = mp.idmap;
    idmap.enabled = true;
    idmap.recursive = o.idmap_recursive;
    idmap.field = mp.field;
    idmap.reason = reason;
    // Mappings equal to the container's need no namespace of their own.
    if (has_mappings && (m.uidMappings != container_map(spec, true) || m.gidMappings != container_map(spec, false))) {
        idmap.uid_map = id_map_text(m.uidMappings);
        idmap.gid_map = id_map_text(m.gidMappings);
    }
    return ok();
}

Status plan_rootfs_idmap(RootfsPlan& plan, const spec::Spec& spec, const NamespaceSummary& ns) {
    auto it = spec.annotations.find(spec::kRootfsIdmapAnnotation);
    if (it == spec.annotations.end() || it->second == "false") return ok();
    const std::string field = annotation_field();
    if (it->second != "true") return fail(field, "must be \"true\" or \"false\"", EINVAL);
    if (!ns.new_user)
        return fail(field, "an idmapped rootfs needs a new user namespace (a \"user\" entry in linux.namespaces)",
                    EINVAL);
    IdmapPlan& idmap = plan.rootfs_idmap;
    idmap.enabled = true;
    idmap.recursive = true;  // the rootfs is bound with everything below it
    idmap.field = field;
    idmap.reason = "the rootfs";
    return ok();
}

Status assign_premade_slots(RootfsPlan& plan) {
    int next = 0;
    if (plan.rootfs_idmap.enabled) plan.rootfs_idmap.slot = next++;
    for (auto& mp : plan.mounts) {
        if (!mp.idmap.enabled) continue;
        if (static_cast<std::size_t>(next) >= kMaxPremadeMounts)
            return fail(mp.field, "too many idmapped mounts (at most " + std::to_string(kMaxPremadeMounts) + ")",
                        E2BIG);
        mp.idmap.slot = next++;
    }
    plan.premade_count = static_cast<std::size_t>(next);
    return ok();
}

}  // namespace hrun::rootfs
