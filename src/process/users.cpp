// Ids from flags and configs, and lookups in the container's /etc/passwd and /etc/group.
#include "process/users.hpp"

#include <cerrno>
#include <charconv>

namespace hrun::process {

namespace {

// Splits `line` at ':' into at most `N` fields; returns how many there were.
template <std::size_t N>
std::size_t split_fields(std::string_view line, std::string_view (&fields)[N]) {
    std::size_t count = 0;
    while (count < N) {
        const std::size_t colon = line.find(':');
        fields[count++] = line.substr(0, colon);
        if (colon == std::string_view::npos) break;
        line.remove_prefix(colon + 1);
    }
    return count;
}

// Calls `visit(line)` for each line that is not blank or a comment, until it returns true.
template <class Visit>
void for_each_line(std::string_view text, Visit&& visit) {
    while (!text.empty()) {
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line.front() == '#') continue;
        if (visit(line)) return;
    }
}

std::optional<PasswdEntry> passwd_entry(std::string_view line) {
    std::string_view f[7];  // name:password:uid:gid:gecos:home:shell
    if (split_fields(line, f) < 6 || f[0].empty()) return std::nullopt;
    auto uid = parse_id(f[2]);
    auto gid = parse_id(f[3]);
    if (!uid || !gid) return std::nullopt;
    return PasswdEntry{std::string(f[0]), *uid, *gid, std::string(f[5])};
}

std::optional<GroupEntry> group_entry(std::string_view line) {
    std::string_view f[4];  // name:password:gid:member,member
    if (split_fields(line, f) < 3 || f[0].empty()) return std::nullopt;
    auto gid = parse_id(f[2]);
    if (!gid) return std::nullopt;
    GroupEntry entry{std::string(f[0]), *gid, {}};
    std::string_view members = f[3];
    while (!members.empty()) {
        const std::size_t comma = members.find(',');
        std::string_view member = members.substr(0, comma);
        if (!member.empty()) entry.members.emplace_back(member);
        members = comma == std::string_view::npos ? std::string_view{} : members.substr(comma + 1);
    }
    return entry;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

// "-1", "+5": meant as numbers, never as names (a name cannot start with a sign).
bool signed_number(std::string_view s) {
    return s.size() > 1 && (s[0] == '-' || s[0] == '+') && all_digits(s.substr(1));
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A failed read of the container's passwd or group, as an error of the flag.
Result<std::string> read_database(Result<std::string> text, std::string_view flag, std::string_view what) {
    if (!text) {
        Error e = std::move(text.error());
        e.field = std::string(flag);
        e.context("cannot look up " + std::string(what));
        return std::unexpected(std::move(e));
    }
    return text;
}

}  // namespace

std::optional<uint32_t> parse_id(std::string_view text) {
    if (!all_digits(text)) return std::nullopt;
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > kMaxId) return std::nullopt;
    return static_cast<uint32_t>(value);
}

std::optional<PasswdEntry> find_user(std::string_view passwd, std::string_view name) {
    std::optional<PasswdEntry> found;
    for_each_line(passwd, [&](std::string_view line) {
        auto entry = passwd_entry(line);
        if (entry && entry->name == name) found = std::move(entry);
        return found.has_value();
    });
    return found;
}

std::optional<PasswdEntry> find_user(std::string_view passwd, uint32_t uid) {
    std::optional<PasswdEntry> found;
    for_each_line(passwd, [&](std::string_view line) {
        auto entry = passwd_entry(line);
        if (entry && entry->uid == uid) found = std::move(entry);
        return found.has_value();
    });
    return found;
}

std::optional<GroupEntry> find_group(std::string_view group, std::string_view name) {
    std::optional<GroupEntry> found;
    for_each_line(group, [&](std::string_view line) {
        auto entry = group_entry(line);
        if (entry && entry->name == name) found = std::move(entry);
        return found.has_value();
    });
    return found;
}

std::vector<uint32_t> groups_listing(std::string_view group, std::string_view user) {
    std::vector<uint32_t> gids;
    for_each_line(group, [&](std::string_view line) {
        auto entry = group_entry(line);
        if (!entry) return false;
        for (const auto& member : entry->members)
            if (member == user) {
                gids.push_back(entry->gid);
                break;
            }
        return false;
    });
    return gids;
}

Status apply_user_flag(std::string_view value, std::string_view flag, spec::User& user,
                       const ContainerFileReader& read) {
    const std::size_t colon = value.find(':');
    const std::string_view user_part = value.substr(0, colon);
    const bool has_group = colon != std::string_view::npos;
    const std::string_view group_part = has_group ? value.substr(colon + 1) : std::string_view{};
    const std::string field(flag);
    const std::string range = " (ids are 0 to " + std::to_string(kMaxId) + ")";

    if (user_part.empty()) return fail(field, quoted(value) + " names no user; expected UID[:GID] or NAME[:GROUP]");
    if (has_group && group_part.empty())
        return fail(field, quoted(value) + " names no group after ':'; expected UID[:GID] or NAME[:GROUP]");

    spec::User result = user;
    result.additionalGids.clear();
    if (all_digits(user_part) || signed_number(user_part)) {
        auto uid = parse_id(user_part);
        if (!uid) return fail(field, quoted(user_part) + " is not a valid uid" + range);
        result.uid = *uid;
    } else {
        std::string passwd = HRUN_TRY(read_database(read("etc/passwd"), flag, "user " + quoted(user_part)));
        auto entry = find_user(passwd, user_part);
        if (!entry) return fail(field, "no user " + quoted(user_part) + " in the container's /etc/passwd");
        result.uid = entry->uid;
        if (!has_group) {
            result.gid = entry->gid;
            // An image without /etc/group just has no supplementary groups for the user; one
            // whose /etc/group is not a readable regular file is refused.
            auto group = read("etc/group");
            if (group)
                result.additionalGids = groups_listing(*group, entry->name);
            else if (group.error().err != ENOENT)
                return std::unexpected(
                    read_database(std::move(group), flag, "the groups of " + quoted(user_part)).error());
        }
    }
    if (has_group) {
        if (all_digits(group_part) || signed_number(group_part)) {
            auto gid = parse_id(group_part);
            if (!gid) return fail(field, quoted(group_part) + " is not a valid gid" + range);
            result.gid = *gid;
        } else {
            std::string group = HRUN_TRY(read_database(read("etc/group"), flag, "group " + quoted(group_part)));
            auto entry = find_group(group, group_part);
            if (!entry) return fail(field, "no group " + quoted(group_part) + " in the container's /etc/group");
            result.gid = entry->gid;
        }
    }
    user = std::move(result);
    return ok();
}

}  // namespace hrun::process
