// The uid/gid maps of a new user namespace, and who writes them.
//
// Root writes /proc/PID/uid_map and gid_map itself. An unprivileged caller may write only one
// line there, mapping its own id once (and a gid map only after denying setgroups(2)). Anything
// more (several ranges, ids that are not its own) goes through the setuid helpers newuidmap and
// newgidmap, which grant the ranges that /etc/subuid and /etc/subgid delegate to the user.
// hrun checks the ranges against those files before clone, so that a config the helper would
// refuse fails with its field and leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"
#include "linux/subid.hpp"

namespace hrun::create {

// newuidmap or newgidmap, ready to run as `program PID args...`.
struct MapHelper {
    std::string program;            // absolute path
    std::vector<std::string> args;  // "inner outer count" triples, one word each
};

// What plan_id_maps needs to know about the caller (loaded by load_caller_ids; tests fill it).
struct CallerIds {
    uid_t euid = 0;
    gid_t egid = 0;
    std::string user;                      // passwd name of euid; empty when it has none
    std::vector<os::SubidRange> subuids;   // the user's ranges in /etc/subuid
    std::vector<os::SubidRange> subgids;   // ... and /etc/subgid
    std::optional<std::string> newuidmap;  // absolute paths, when installed
    std::optional<std::string> newgidmap;
};

struct IdMapPlan {
    std::string uid_map;  // "0 1000 1\n": written by hrun itself when there is no helper
    std::string gid_map;
    std::optional<MapHelper> uid_helper;
    std::optional<MapHelper> gid_helper;
    // setgroups(2) in the namespace: denied by hrun before its own unprivileged gid map, or by
    // newgidmap when no range it maps comes from /etc/subgid (it keeps a user that maps only
    // its own gid from dropping groups that deny it access).
    bool deny_setgroups = false;
};

// Whether `maps` needs newuidmap/newgidmap: an unprivileged caller mapping anything other than
// exactly one container id to its own id.
bool needs_map_helper(const std::vector<spec::IdMapping>& maps, uint32_t own_id, uid_t euid);

// Every host range of `maps` must be the caller's own id alone or lie inside one of `ranges`.
// `field` is "linux.uidMappings", `file` "/etc/subuid". Error:
// `linux.uidMappings[1]: host ids 100000-165535 are not delegated to user "x" in /etc/subuid`.
Status check_delegated_ids(const std::vector<spec::IdMapping>& maps, const std::vector<os::SubidRange>& ranges,
                           uint32_t own_id, std::string_view user, std::string_view field, std::string_view file);

// Pure: the maps of `linux` for `caller`, validated (ranges, helper installed).
Result<IdMapPlan> plan_id_maps(const spec::Linux& linux, const CallerIds& caller);

// The caller's ids, user name, subordinate ranges and helpers. Reads the files only for an
// unprivileged caller whose maps need them.
Result<CallerIds> load_caller_ids(const spec::Linux& linux, uid_t euid, gid_t egid);

// `name` in $PATH, then in the usual system directories; the first executable one.
std::optional<std::string> find_program(std::string_view name, const char* path_env);

// Parent: runs `helper.program PID helper.args...`, killing it after `timeout`. Its stderr is
// part of the error, which names `field`.
Status run_map_helper(const MapHelper& helper, pid_t pid, std::string_view field,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace hrun::create
