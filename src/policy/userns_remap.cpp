#include "policy/userns_remap.hpp"

#include <grp.h>

#include <cerrno>
#include <charconv>
#include <optional>

namespace hrun::policy {

namespace {

constexpr const char* kFlag = "--userns-remap";

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::optional<uint32_t> parse_id(std::string_view s) {
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// A group by name or decimal gid: its name and gid (a numeric gid without a name keeps the number).
std::optional<std::pair<std::string, gid_t>> lookup_group(std::string_view name_or_gid) {
    if (auto gid = parse_id(name_or_gid)) return std::pair{os::group_name(*gid).value_or(std::string(name_or_gid)), *gid};
    std::string key(name_or_gid);
    struct group gr;
    struct group* found = nullptr;
    char buf[4096];
    ::getgrnam_r(key.c_str(), &gr, buf, sizeof buf, &found);
    if (found == nullptr) return std::nullopt;
    return std::pair{std::string(found->gr_name), found->gr_gid};
}

Result<os::SubidRange> first_range(const char* file, const std::string& owner, uint32_t id, const char* what) {
    auto ranges = os::read_subid_ranges(file, owner, id);
    if (!ranges) return fail(kFlag, ranges.error().message, ranges.error().err);
    if (ranges->empty())
        return fail(kFlag, std::string(what) + " " + quoted(owner) + " has no subordinate range in " + file);
    return ranges->front();
}

bool has_user_namespace(const spec::Spec& spec) {
    if (!spec.linux) return false;
    for (const auto& ns : spec.linux->namespaces)
        if (ns.type == "user") return true;
    return false;
}

std::string describe(const std::vector<spec::IdMapping>& maps) {
    std::string out;
    for (const auto& m : maps) {
        if (!out.empty()) out += ", ";
        out += std::to_string(m.containerID) + " " + std::to_string(m.hostID) + " " + std::to_string(m.size);
    }
    return out;
}

}  // namespace

Result<UsernsRemap> resolve_userns_remap(std::string_view value, const SubidFiles& files) {
    auto colon = value.find(':');
    std::string_view user_part = value.substr(0, colon);
    std::string_view group_part = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
    if (user_part.empty() || (colon != std::string_view::npos && group_part.empty()) ||
        group_part.find(':') != std::string_view::npos)
        return fail(kFlag, quoted(value) + " is not USER[:GROUP]", EINVAL);

    auto user = os::lookup_user(user_part);
    if (!user) return fail(kFlag, "unknown user " + quoted(user_part));
    UsernsRemap remap;
    remap.user = user->name;
    remap.uids = HRUN_TRY(first_range(files.subuid, user->name, user->uid, "user"));

    // Without GROUP, /etc/subgid is searched for the user, as newgidmap does.
    std::string group_owner = user->name;
    uint32_t group_id = user->uid;
    if (!group_part.empty()) {
        auto group = lookup_group(group_part);
        if (!group) return fail(kFlag, "unknown group " + quoted(group_part));
        group_owner = group->first;
        group_id = group->second;
    }
    remap.group = group_owner;
    remap.gids = HRUN_TRY(first_range(files.subgid, group_owner, group_id, group_part.empty() ? "user" : "group"));
    return remap;
}

std::vector<spec::IdMapping> remap_mappings(const os::SubidRange& range) {
    return {spec::IdMapping{0, range.start, range.count}};
}

RemapOutcome apply_userns_remap(spec::Spec& spec, const UsernsRemap& remap) {
    RemapOutcome out;
    if (has_user_namespace(spec)) {
        out.left_alone = true;
        return out;
    }
    spec::Linux& linux = spec.linux ? *spec.linux : spec.linux.emplace();
    linux.namespaces.push_back({"user", ""});
    linux.uidMappings = remap_mappings(remap.uids);
    linux.gidMappings = remap_mappings(remap.gids);
    spec.annotations[spec::kRootfsIdmapAnnotation] = "true";
    const std::string by = " (--userns-remap=" + remap.user + ":" + remap.group + ")";
    out.applied.push_back({"linux.namespaces", "user" + by});
    out.applied.push_back({"linux.uidMappings", describe(linux.uidMappings)});
    out.applied.push_back({"linux.gidMappings", describe(linux.gidMappings)});
    out.applied.push_back({std::string("annotations[\"") + spec::kRootfsIdmapAnnotation + "\"]", "true"});
    return out;
}

}  // namespace hrun::policy
