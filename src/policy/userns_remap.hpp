// --userns-remap=USER[:GROUP] (HRUN_USERNS_REMAP), as dockerd's userns-remap: a config without
// a user namespace gets one in which container ids 0..N-1 are USER's first subordinate range
// (/etc/subuid; GROUP's, by default USER's, in /etc/subgid), with the rootfs mounted idmapped
// through it, so that an image unpacked as host root needs no chown. Container root is then an
// unprivileged host id. A config that has its own user namespace is left as it is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/subid.hpp"
#include "policy/policy.hpp"

namespace hrun::policy {

// The host ids a remapped container gets.
struct UsernsRemap {
    std::string user;   // as resolved: "hrun-remap"
    std::string group;  // the subgid owner looked up: GROUP, or the user's name
    os::SubidRange uids;
    os::SubidRange gids;
};

// Where the ranges come from (tests point these at their own files).
struct SubidFiles {
    const char* subuid = os::kSubuidFile;
    const char* subgid = os::kSubgidFile;
};

// Resolves "USER[:GROUP]" (names or numeric ids) to the first subordinate ranges. Every error
// names --userns-remap: an unknown user or group, no range, a malformed value.
Result<UsernsRemap> resolve_userns_remap(std::string_view value, const SubidFiles& files = {});

// The mappings for one range: container 0..count-1 -> host start..start+count-1.
std::vector<spec::IdMapping> remap_mappings(const os::SubidRange& range);

struct RemapOutcome {
    std::vector<AppliedDefault> applied;  // what was added (empty when left alone)
    bool left_alone = false;              // the config has its own user namespace
};

// Adds the user namespace, its mappings and the rootfs idmap annotation to `spec`, unless it
// already has a user namespace.
RemapOutcome apply_userns_remap(spec::Spec& spec, const UsernsRemap& remap);

}  // namespace hrun::policy
