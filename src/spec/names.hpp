// Name tables shared by validation and by the host-side planning stages.
#pragma once

#include <optional>
#include <string_view>

namespace hrun::spec {

// "CAP_SYS_ADMIN" -> 21 (libcap's table). Only the spelling the runtime-spec uses is accepted:
// "CAP_" and upper case; nullopt for anything else.
std::optional<int> capability_from_name(std::string_view name);

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE. nullopt for unknown names.
std::optional<int> rlimit_from_name(std::string_view name);

// "pid" -> CLONE_NEWPID, ..., "time" -> CLONE_NEWTIME. nullopt for unknown types.
std::optional<int> namespace_clone_flag(std::string_view type);

}  // namespace hrun::spec
