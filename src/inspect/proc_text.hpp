// Pure parsers of the /proc texts `hrun inspect` reads (unit-tested on sample texts): the
// status file, uid_map/gid_map, mountinfo and namespace links, and the decoding of capability
// masks into names.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"

namespace hrun::inspect {

// The lines of /proc/<pid>/status that describe a process's privileges.
struct ProcStatus {
    std::string name;                 // Name:
    std::vector<uint32_t> uids;       // Uid: real, effective, saved, filesystem (reader's user ns)
    std::vector<uint32_t> gids;       // Gid:
    std::vector<pid_t> ns_pids;       // NSpid: outermost (reader's) first, innermost last
    uint64_t cap_inheritable = 0;     // CapInh:
    uint64_t cap_permitted = 0;       // CapPrm:
    uint64_t cap_effective = 0;       // CapEff:
    uint64_t cap_bounding = 0;        // CapBnd:
    uint64_t cap_ambient = 0;         // CapAmb:
    std::optional<bool> no_new_privs;      // NoNewPrivs: (Linux 4.10)
    std::optional<int> seccomp;            // Seccomp: 0 disabled, 1 strict, 2 filter
    std::optional<int> seccomp_filters;    // Seccomp_filters: (Linux 5.9)
};

// Requires the five Cap* lines (present since Linux 4.3); the others are optional.
Result<ProcStatus> parse_status(std::string_view text);

// "CAP_CHOWN", ... for each bit set in `mask`, lowest first. Bits the capability library has no
// name for come out as "CAP_<number>".
std::vector<std::string> capability_names(uint64_t mask);
// The mask with every capability up to `last_cap` (/proc/sys/kernel/cap_last_cap) set.
uint64_t full_capability_mask(int last_cap);

// "disabled", "strict", "filter" (or "mode N").
std::string seccomp_mode_name(int mode);

// One line of /proc/<pid>/uid_map or gid_map.
struct IdRange {
    uint32_t inside = 0;   // first id in the process's user namespace
    uint32_t outside = 0;  // first id in the reader's user namespace
    uint32_t count = 0;

    bool operator==(const IdRange&) const = default;
};

Result<std::vector<IdRange>> parse_id_map(std::string_view text);
// The outside id of `inside`, or nullopt when the map does not cover it.
std::optional<uint32_t> map_to_outside(const std::vector<IdRange>& map, uint32_t inside);
// The inside id of `outside`, or nullopt when unmapped.
std::optional<uint32_t> map_to_inside(const std::vector<IdRange>& map, uint32_t outside);
// "0 0 4294967295": the map of a process that shares the reader's user namespace.
bool is_identity_map(const std::vector<IdRange>& map);

// One line of /proc/<pid>/mountinfo (see proc_pid_mountinfo(5)).
struct MountEntry {
    int id = 0;
    int parent = 0;
    uint32_t major = 0;
    uint32_t minor = 0;
    std::string root;                          // path of the mounted directory inside its filesystem
    std::string mount_point;                   // relative to the process's root
    std::vector<std::string> options;          // per-mount options: "ro", "nosuid", ...
    std::vector<std::string> optional_fields;  // "shared:1", "master:2", ...
    std::string fstype;
    std::string source;
    std::vector<std::string> super_options;    // per-superblock options

    bool read_only() const;
    bool has_option(std::string_view option) const;
    bool same_device(const MountEntry& other) const { return major == other.major && minor == other.minor; }
};

// Decodes the octal escapes (\040 for a space, \011, \012, \134) the kernel writes in paths.
Result<std::vector<MountEntry>> parse_mountinfo(std::string_view text);

// The inode in a namespace link's target: "net:[4026531840]" -> 4026531840.
std::optional<uint64_t> parse_namespace_link(std::string_view target);

}  // namespace hrun::inspect
