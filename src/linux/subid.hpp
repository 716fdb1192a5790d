// Subordinate id ranges (/etc/subuid, /etc/subgid): which host ids an unprivileged user may map
// into a user namespace through newuidmap/newgidmap, and which range a remapped container gets.
//
// Each line is "owner:start:count"; the owner is a user name or a numeric uid, and one owner may
// hold several ranges. Lines that do not parse are ignored, as shadow's tools ignore them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"

namespace hrun::os {

struct SubidRange {
    uint32_t start = 0;
    uint32_t count = 0;
};

inline constexpr const char* kSubuidFile = "/etc/subuid";
inline constexpr const char* kSubgidFile = "/etc/subgid";

// The ranges of `text` owned by `name` or by the decimal `id`, in file order.
std::vector<SubidRange> parse_subid_ranges(std::string_view text, std::string_view name, uint32_t id);

// The same, read from `path`; a missing file means no ranges.
Result<std::vector<SubidRange>> read_subid_ranges(const char* path, std::string_view name, uint32_t id);

// True when host ids [start, start+count) lie inside one of `ranges` (or are exactly `own_id`
// with count 1: every user may map itself).
bool subid_allows(const std::vector<SubidRange>& ranges, uint32_t own_id, uint32_t start, uint32_t count);

// The name and primary group of a user given by name or decimal uid ("hrunremap", "1000").
struct UserEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};
std::optional<UserEntry> lookup_user(std::string_view name_or_uid);
std::optional<std::string> group_name(gid_t gid);

}  // namespace hrun::os
