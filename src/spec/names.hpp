// Name tables shared by validation and by the host-side planning stages.
#pragma once

#include <optional>
#include <string_view>

namespace hrun::spec {

// "CAP_SYS_ADMIN" -> 21 (libcap's table; also accepts the name without "CAP_" prefix? no: the
// spec requires the CAP_ prefix). nullopt for unknown names.
std::optional<int> capability_from_name(std::string_view name);

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE. nullopt for unknown names.
std::optional<int> rlimit_from_name(std::string_view name);

// "pid" -> CLONE_NEWPID, ..., "time" -> CLONE_NEWTIME. nullopt for unknown types.
std::optional<int> namespace_clone_flag(std::string_view type);

}  // namespace hrun::spec
