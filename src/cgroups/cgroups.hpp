// Resource limits through Linux control groups, on cgroup v2 ("unified"), cgroup v1 ("legacy")
// and hybrid hosts (v1 controllers plus a cgroup2 mount that carries few or no controllers).
//
// The life of a container's cgroup, all in the parent (runtime) process:
//
//   Layout layout = detect_layout(procfd)           what the host mounts and where hrun sits
//   Placement where = resolve_placement(layout, ..)  linux.cgroupsPath -> one directory per hierarchy
//   Plan plan = plan_resources(resources, layout, ..)  linux.resources -> exact file writes (pure)
//   Cgroup cg = Cgroup::create(layout, where, plan)    mkdir + writes; undone if anything fails
//   clone3 with CLONE_INTO_CGROUP and cg.clone_into_fd() when that is >= 0,
//   else cg.attach(child_pid) while the child waits on the sync socket
//   cg.release()                                     the container lives there now
//
// Later lifecycle commands (another hrun process) reopen it with Cgroup::open(layout,
// directories) from the directories saved in the container state, then freeze(), thaw(),
// kill_all(), pids(), stats(), oom_kills(), update() or destroy().
//
// Every failure is an hrun::Error naming the config field it concerns, e.g.
// `linux.resources.memory.limit: cannot write "1024" to memory.max: Device or resource busy`.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroups/devices.hpp"
#include "hrun/error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"

namespace hrun::cgroups {

// ---------------------------------------------------------------------------------------------
// Layout: which cgroup hierarchies exist and where hrun's own process sits in each.

enum class Mode {
    Unified,  // only cgroup2: every controller lives in one hierarchy
    Hybrid,   // v1 controller hierarchies plus a cgroup2 mount (systemd's "unified" directory)
    Legacy,   // v1 only
};

std::string_view mode_name(Mode mode);

// One mounted hierarchy.
struct Hierarchy {
    int version = 1;                       // 1 or 2
    std::string mount_point;               // "/sys/fs/cgroup/memory"
    std::string mount_root = "/";          // the hierarchy's directory that is mounted there
    std::vector<std::string> controllers;  // v1: "cpu", "cpuacct", "name=systemd"; v2: cgroup.controllers
    std::string own_path = "/";            // hrun's cgroup in this hierarchy (/proc/self/cgroup)

    bool has(std::string_view controller) const;
    // The directory of `path` (a cgroup path inside this hierarchy) under the mount point, or
    // an empty string when the mount does not show that part of the hierarchy.
    std::string directory_of(std::string_view path) const;
};

struct Layout {
    Mode mode = Mode::Unified;
    std::vector<Hierarchy> hierarchies;  // v1 hierarchies in mount order, then the v2 one

    // Index of the cgroup2 hierarchy, if mounted.
    std::optional<std::size_t> unified() const;
    // Index of the hierarchy that enforces `controller`: the v1 hierarchy that has it, else the
    // v2 hierarchy when it lists the controller. "" names the v2 hierarchy's core files
    // (cgroup.freeze, cgroup.kill, ...). nullopt when no hierarchy offers it.
    std::optional<std::size_t> find(std::string_view controller) const;
};

// One cgroup or cgroup2 line of /proc/self/mountinfo.
struct CgroupMount {
    int version = 1;
    std::string mount_point;
    std::string root;                      // mountinfo field 4
    std::vector<std::string> controllers;  // v1 only: from the super options
};

// One line of /proc/self/cgroup: "4:memory:/process_api/eec6".
struct ProcCgroup {
    int id = 0;
    std::vector<std::string> controllers;  // empty for the v2 line "0::/"
    std::string path;
};

// Pure parsers (unit-tested on sample texts). The mountinfo parser keeps the first mount of
// each hierarchy and decodes the octal escapes the kernel writes for spaces and the like.
Result<std::vector<CgroupMount>> parse_mountinfo(std::string_view text);
Result<std::vector<ProcCgroup>> parse_proc_cgroup(std::string_view text);
// Joins mounts and memberships; `v2_controllers` is the content of cgroup.controllers at the
// cgroup2 mount ("" when there is none or it carries no controller).
Result<Layout> build_layout(const std::vector<CgroupMount>& mounts, const std::vector<ProcCgroup>& own,
                            std::string_view v2_controllers);

// Reads self/mountinfo and self/cgroup through the verified procfs fd and the cgroup2 mount's
// cgroup.controllers. Fails when the host mounts no cgroup filesystem at all.
Result<Layout> detect_layout(int procfd);

// ---------------------------------------------------------------------------------------------
// Placement: linux.cgroupsPath turned into one directory per hierarchy.

struct PathOptions {
    std::string cgroups_path;   // linux.cgroupsPath, may be empty
    std::string container_id;
    bool systemd = false;       // --systemd-cgroup: cgroups_path is "slice:prefix:name"
    bool systemd_running = false;  // see systemd_running()
};

// Whether systemd is the host's init (/run/systemd/system exists).
bool systemd_running();

struct Placement {
    std::string path;                      // the resolved cgroup path ("hrun-abc" or "/a/b")
    std::vector<std::string> paths;        // per hierarchy: the cgroup path inside it ("/process_api/x/hrun/abc")
    std::vector<std::string> directories;  // per hierarchy: its directory ("/sys/fs/cgroup/memory/...")
};

// An absolute cgroupsPath is taken from each hierarchy's root, a relative one from hrun's own
// cgroup (on v2 from the parent of hrun's own cgroup, which usually holds processes and so
// cannot enable controllers for children). An empty one becomes "hrun-<id>". ".." components
// are rejected. With systemd, "slice:prefix:name" maps to the directory systemd would use for
// the scope (/a.slice/a-b.slice/prefix-name.scope); hrun creates it itself, without D-Bus.
Result<Placement> resolve_placement(const Layout& layout, const PathOptions& options);

// Unprivileged callers: a hierarchy in which the caller cannot create the placement's cgroup
// or move a process into it (root has not delegated that part of the tree to it).
struct Undelegated {
    std::size_t hierarchy = 0;  // index into Layout::hierarchies
    std::string directory;      // the container's cgroup in it
    std::string reason;         // "cannot create cgroups in /sys/fs/cgroup/pids: Permission denied"
    int err = 0;                // EACCES, EPERM, EROFS
};

// Checks with the caller's effective ids (faccessat): every hierarchy whose deepest existing
// directory on the way to the leaf is not writable, or, on cgroup v2, where hrun's own cgroup
// and the leaf meet in a cgroup whose cgroup.procs it cannot write. Empty: all delegated.
std::vector<Undelegated> find_undelegated(const Layout& layout, const Placement& placement);

// ---------------------------------------------------------------------------------------------
// Plan: linux.resources as the file writes for this host's layout (pure, no I/O).

struct Write {
    std::size_t hierarchy = 0;   // index into Layout::hierarchies
    std::string controller;      // "memory", or "" for the v2 core files
    std::string file;            // "memory.max"
    std::string value;           // written in one write(2)
    std::string field;           // config path for errors ("linux.resources.memory.limit")
    std::string fallback_file;   // used when `file` does not exist (io.weight -> io.bfq.weight)
    std::string fallback_value;  // value for fallback_file (defaults to `value` when empty)
    bool if_exists = false;      // silently skipped when neither file exists (optional kernel features)

    bool operator==(const Write&) const = default;
};

struct Plan {
    std::vector<Write> writes;                // in order; see Cgroup::create for retries
    std::vector<std::string> v2_controllers;  // must be enabled in cgroup.subtree_control up the tree
    // Enforced by a BPF program on the v2 leaf when the host has no v1 devices hierarchy.
    std::optional<std::vector<DeviceRule>> bpf_devices;
};

struct PlanOptions {
    // Build device rules. Creation always does (a container without rules gets only the default
    // devices, as with runc); an update without rules leaves device access unchanged.
    bool devices = true;
};

Result<Plan> plan_resources(const spec::Resources& resources, const Layout& layout, const PlanOptions& options);

// The conversions runc and crun use between v1-style spec values and v2 files.
// cpu.shares [2, 262144] -> cpu.weight [1, 10000] on runc's and crun's current curve, which maps
// the v1 default 1024 to the v2 default 100; out-of-range shares are clamped; 0 -> 0 (unset).
uint64_t cpu_weight_from_shares(uint64_t shares);
// blkio weight [10, 1000] -> io.weight [1, 10000]; 0 -> 0 (unset).
uint64_t io_weight_from_blkio(uint64_t weight);
// memory.swap (memory+swap, v1 meaning) -> memory.swap.max; -1 = "max", 0 = unset. With an
// unlimited memory limit (-1) the whole amount is swap.
Result<int64_t> swap_max_from_memsw(int64_t swap, int64_t limit);

// ---------------------------------------------------------------------------------------------
// Statistics (all values read from the cgroup files of whichever version enforces them).

struct IoDeviceStats {
    uint32_t major = 0;
    uint32_t minor = 0;
    uint64_t read_bytes = 0;
    uint64_t write_bytes = 0;
    uint64_t read_ops = 0;
    uint64_t write_ops = 0;

    bool operator==(const IoDeviceStats&) const = default;
};

struct Stats {
    // bytes; limits are nullopt when unlimited
    std::optional<uint64_t> memory_usage;
    std::optional<uint64_t> memory_limit;
    std::optional<uint64_t> memory_max_usage;  // v1 max_usage_in_bytes, v2 memory.peak
    std::optional<uint64_t> swap_usage;
    std::optional<uint64_t> swap_limit;
    // CPU time in nanoseconds
    std::optional<uint64_t> cpu_usage_ns;
    std::optional<uint64_t> cpu_user_ns;
    std::optional<uint64_t> cpu_system_ns;
    std::optional<uint64_t> cpu_periods;
    std::optional<uint64_t> cpu_throttled_periods;
    std::optional<uint64_t> cpu_throttled_ns;
    std::optional<uint64_t> pids_current;
    std::optional<uint64_t> pids_limit;
    std::vector<IoDeviceStats> io;
};

// ---------------------------------------------------------------------------------------------
// A container's cgroup: one directory per hierarchy.

class Cgroup {
public:
    // Makes the directories (v2: enables controllers in cgroup.subtree_control from the mount
    // root down; v1: copies cpuset.cpus/mems from the parent into new cpuset cgroups), writes
    // the plan (writes that fail are retried once after the others, which settles ordering
    // constraints such as memsw >= limit) and attaches the device program. On failure every
    // directory made here is removed again. An existing leaf is reused if no process is in it.
    static Result<Cgroup> create(const Layout& layout, const Placement& placement, const Plan& plan);

    // An existing container cgroup, from the directories saved at creation. Owns nothing:
    // dropping it removes nothing (destroy() does).
    static Result<Cgroup> open(const Layout& layout, const std::vector<std::string>& directories);

    Cgroup(Cgroup&& other) noexcept;
    Cgroup& operator=(Cgroup&& other) noexcept;
    Cgroup(const Cgroup&) = delete;
    Cgroup& operator=(const Cgroup&) = delete;
    // Unless released: kills whatever is inside and removes the directories this object made.
    ~Cgroup();

    // The container lives here now: keep the directories when this object is dropped.
    void release() noexcept { owned_.clear(); }

    // O_DIRECTORY fd of the v2 leaf for clone3's CLONE_INTO_CGROUP on cgroup v2-only hosts,
    // where that one placement is complete; -1 otherwise (use attach()).
    int clone_into_fd() const noexcept;
    // O_DIRECTORY fd of the leaf in hierarchy `index` (for tests and the device program).
    int leaf_fd(std::size_t index) const noexcept;

    // Moves `pid` (a whole process) into the leaf of every hierarchy.
    Status attach(pid_t pid) const;

    // Per hierarchy, in Layout order: the leaf directory (to be saved in the container state).
    const std::vector<std::string>& directories() const noexcept { return directories_; }
    const Layout& layout() const noexcept { return layout_; }

    // Stops every process (v2 cgroup.freeze, v1 freezer.state) and waits until the kernel
    // reports the group frozen; thaw() undoes it.
    Status freeze() const;
    Status thaw() const;
    // Whether the freezer reports the group frozen (false on a host without a freezer).
    Result<bool> frozen() const;
    // SIGKILLs every process in the container's cgroup and its sub-cgroups and waits until
    // they are gone (cgroup.kill when the kernel has it, else repeated kill(2) while frozen).
    Status kill_all() const;
    // All processes in the cgroup and its sub-cgroups.
    Result<std::vector<pid_t>> pids() const;
    Result<Stats> stats() const;
    // Number of OOM kills in the cgroup (v2 memory.events, v1 memory.oom_control).
    Result<uint64_t> oom_kills() const;
    // Applies a new linux.resources; device access changes only when it lists device rules
    // (then the defaults are appended again; on v1 the list is replayed from "deny all", on v2
    // the new program is attached before the old one is detached).
    Status update(const spec::Resources& resources);
    // kill_all(), then removes the leaf directories (and any sub-cgroups the container made).
    Status destroy();

private:
    Cgroup() = default;
    Status make_directories(const Placement& placement);
    Status refuse_frozen() const;
    Status enable_v2_controllers(const std::vector<std::string>& needed, const std::string& leaf_path);
    Status apply(const Plan& plan);
    void cleanup() noexcept;

    Layout layout_;
    std::vector<std::string> directories_;  // leaf per hierarchy
    std::vector<UniqueFd> leaves_;          // O_DIRECTORY fd per hierarchy
    std::vector<std::string> owned_;        // directories made here, outermost first
};

}  // namespace hrun::cgroups
