// User and group ids as a config or a flag gives them, and the container's own /etc/passwd and
// /etc/group (parsed from text; reading them is os::read_file_in_root's job).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::process {

// The highest uid or gid a process can be given. 4294967295 is (uid_t)-1, which
// setresuid/setresgid/chown read as "leave this id unchanged": asking for it as root stays root.
// The kernel maps no id to it either.
inline constexpr uint32_t kMaxId = 4294967294u;

// A decimal id in 0..kMaxId: digits only (no sign, no blanks, no "0x"), nothing after them.
std::optional<uint32_t> parse_id(std::string_view text);

struct PasswdEntry {
    std::string name;
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string home;
};

struct GroupEntry {
    std::string name;
    uint32_t gid = 0;
    std::vector<std::string> members;
};

// The first entry of an /etc/passwd text with this name (or uid). Lines that are not
// name:password:uid:gid:gecos:home:shell with valid ids are skipped, as comments and blanks are.
std::optional<PasswdEntry> find_user(std::string_view passwd, std::string_view name);
std::optional<PasswdEntry> find_user(std::string_view passwd, uint32_t uid);
// The first entry of an /etc/group text (name:password:gid:member,member) with this name.
std::optional<GroupEntry> find_group(std::string_view group, std::string_view name);
// The gids of every group whose member list names `user`, in file order.
std::vector<uint32_t> groups_listing(std::string_view group, std::string_view user);

// Reads a file of the container ("etc/passwd", "etc/group").
using ContainerFileReader = std::function<Result<std::string>(const char* relpath)>;

// `hrun exec --user USER[:GROUP]` applied to the exec'd process's `user`. Errors name `flag`.
//   - Numeric parts are taken as runc's exec takes them: UID alone changes the uid and keeps the
//     process's gid; UID:GID sets both. Neither file is read.
//   - A USER name is looked up in the container's /etc/passwd: its uid, and unless a GROUP is
//     given its gid, plus the groups of /etc/group that list the name as a member (the rules of
//     libcontainer/user's GetExecUser).
//   - A GROUP name is looked up in the container's /etc/group.
// The supplementary groups are replaced (by those of a USER name, or none); ids must be in
// 0..kMaxId. `read` is called only for a name.
Status apply_user_flag(std::string_view value, std::string_view flag, spec::User& user,
                       const ContainerFileReader& read);

}  // namespace hrun::process
