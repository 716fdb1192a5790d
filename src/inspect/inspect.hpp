// `hrun inspect`: what isolates a container's process, read from the kernel (/proc/<pid>/ns,
// status, uid_map, attr, cgroup, mountinfo and the cgroup files), not from its config.json.
// What the kernel says is what holds; comparing it with the config is the point of looking.
//
//   Report r = inspect_container(root, id, pid)   the init process, or `pid` inside it
//   Report h = inspect_host()                      pid 1, for `--diff ID host`
//   format_report(r) / report_json(r)              the table and the JSON of `hrun inspect`
//   diff_reports(a, b)                             namespaces, ids, privileges and limits side by side
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cgroups/cgroups.hpp"
#include "hrun/error.hpp"
#include "inspect/mounts.hpp"
#include "inspect/proc_text.hpp"

namespace hrun::inspect {

// The namespace types of /proc/<pid>/ns that a process is a member of, in the order shown.
inline constexpr const char* kNamespaceTypes[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};

struct NamespaceInfo {
    std::string type;                      // "net"
    uint64_t inode = 0;                    // from the link target "net:[4026531840]"
    std::string path;                      // "/proc/4242/ns/net"
    bool shared_with_host = false;         // same inode as /proc/1/ns/<type> (see host_reference)
    std::vector<std::string> shared_with;  // other containers of the same state root
};

struct IdMapInfo {
    std::vector<IdRange> ranges;
    bool identity = false;                 // "0 0 4294967295": no user namespace of its own
    std::optional<uint32_t> root_on_host;  // host id of the container's id 0
};

struct CgroupPlacement {
    int version = 1;
    std::vector<std::string> controllers;  // v1: "memory", "name=systemd"; v2: empty
    std::string path;                      // from /proc/<pid>/cgroup
    std::string directory;                 // under the mount point, "" when not visible
};

struct CgroupInfo {
    std::string mode;  // "unified", "hybrid", "legacy"
    std::vector<CgroupPlacement> placements;
    cgroups::Stats stats;                    // usage, and the memory, swap and pids limits
    std::optional<uint64_t> oom_kills;
    std::optional<int64_t> cpu_quota_us;     // nullopt: no quota
    std::optional<uint64_t> cpu_period_us;
    std::optional<uint64_t> cpu_shares;      // v1 cpu.shares
    std::optional<uint64_t> cpu_weight;      // v2 cpu.weight
    std::string cpuset_cpus;                 // effective CPUs
    std::optional<uint64_t> io_weight;
    std::vector<std::string> io_limits;      // "read_bps_device 8:0 1048576" (v1), "8:0 rbps=..." (v2)
};

struct LsmInfo {
    std::string name;   // "apparmor", "selinux", or "" when no LSM reports a label
    std::string label;  // "hrun-default (enforce)", "unconfined", ...
};

struct ProcessReport {
    pid_t pid = 0;                          // on the host
    std::optional<pid_t> pid_in_container;  // innermost NSpid
    ProcStatus status;
    int cap_last_cap = 40;
    std::vector<NamespaceInfo> namespaces;
    std::string host_reference;             // whose namespaces stand for the host's: "pid 1"
    IdMapInfo uid_map;
    IdMapInfo gid_map;
    LsmInfo lsm;
    std::optional<CgroupInfo> cgroup;       // nullopt when the process sits at the root
    std::vector<MountView> mounts;
    std::string nsenter;                    // the command line to join its namespaces by hand
};

struct Report {
    std::string id;      // container id; "host" for inspect_host()
    std::string status;  // "running", "paused", "created" ("" for the host)
    pid_t init_pid = 0;
    // From state.json, not the kernel: the policy the container was created under and the
    // defaults it filled in that the config left unset (the kernel shows their effect below).
    std::string policy;
    std::string policy_reason;
    std::vector<std::string> applied_defaults;
    // A rootless container whose cgroup was not delegated has none of its own: the cgroup its
    // process sits in is its creator's, and nothing there limits the container.
    bool own_cgroup = true;
    ProcessReport process;
};

// The container's init process, or `pid` when given (which must be one of its processes).
// A stopped container is an error. Namespaces shared with other containers are looked for
// among the running containers of the same state root.
Result<Report> inspect_container(const std::string& root, const std::string& id, std::optional<pid_t> pid);

// pid 1, the host's init, or hrun's own process when pid 1's namespaces cannot be read: the
// reference "host" in `hrun inspect --diff ID host`.
Result<Report> inspect_host();

// The readable form (sections: process, namespaces, users, capabilities, security, cgroup,
// mounts, nsenter) and the JSON one.
std::string format_report(const Report& report);
nlohmann::ordered_json report_json(const Report& report);

// One compared property of `--diff`.
struct DiffRow {
    std::string section;  // "namespace", "user", "privilege", "limit"
    std::string item;     // "net", "root on host", "memory limit", ...
    std::string left;
    std::string right;
    bool differs = false;
};

std::vector<DiffRow> diff_reports(const Report& left, const Report& right);
std::string format_diff(const Report& left, const Report& right, const std::vector<DiffRow>& rows);
nlohmann::ordered_json diff_json(const Report& left, const Report& right, const std::vector<DiffRow>& rows);

// 1536 -> "1.5KiB", 33554432 -> "32MiB": binary units, three significant digits at most.
std::string human_bytes(uint64_t bytes);

// The `nsenter` command line that joins the namespaces a process does not share with the host.
std::string nsenter_command(pid_t pid, const std::vector<NamespaceInfo>& namespaces);

}  // namespace hrun::inspect
