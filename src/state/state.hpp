// Per-container state kept between lifecycle commands (`create`, `start`, `state`, `kill`,
// `delete`, `list`, ...), laid out as runc does so that engines driving hrun see the same
// behaviour:
//
//   <root>/                 mode 0700 (created on demand; missing parents 0711)
//   <root>/<id>/            mode 0700, one per container; its existence reserves the id
//   <root>/<id>/state.json  mode 0600, ContainerState, replaced atomically (rename)
//   <root>/<id>/exec.fifo   the fifo a created container's init blocks on until `start`
//
// Concurrency rules:
//   * Creation is exclusive: the directory is made under a temporary name, opened and locked,
//     and only then renamed to <id> with RENAME_NOREPLACE. Exactly one of several concurrent
//     creators of the same id wins; the others get `container "<id>" already exists` (EEXIST).
//     The winner holds LOCK_EX from the moment the name appears until it releases the
//     ContainerDir, so commands that lock the container never see it half made.
//   * Commands that read-modify-write or destroy a container hold an exclusive flock(2) on its
//     directory (ContainerDir with Lock::Exclusive). Readers may take Lock::Shared, or
//     Lock::None: state.json is only ever replaced by rename, so a lock-free reader sees either
//     the old or the new file, never a partial one.
//   * A directory without state.json is a container still being created (or the leftover of
//     a creation that was killed): load() reports `container "<id>" does not exist`, as runc
//     does, instead of waiting. `state` and `list` should not block on the lock at all (use
//     Lock::None): OCI hooks run while `create` holds it and commonly call `<runtime> state`.
//   * After a lock is acquired, the directory is checked to still be the one named <id>; one
//     removed (or removed and created anew) while the caller waited is reported as
//     `container "<id>" does not exist`: the command was aimed at the container that is gone.
//
// flock(2) locks belong to the open file description: a process forked while a ContainerDir
// is held inherits the lock through its copy of fd() and keeps it until that copy is closed
// (O_CLOEXEC closes it only at execve). A container init that waits on the exec fifo before
// execve must therefore close fd() right after clone, or `start` would wait on it forever.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::state {

inline constexpr const char* kStateFile = "state.json";
inline constexpr const char* kExecFifo = "exec.fifo";

// ---------------------------------------------------------------------------------------------
// What state.json holds.

// Enough to reopen the container's cgroup (cgroups::Cgroup::open).
struct CgroupState {
    std::vector<std::string> directories;  // one per hierarchy, absolute
    std::string mode;                      // "unified", "hybrid" or "legacy" (cgroups::mode_name)

    bool operator==(const CgroupState&) const = default;
};

struct ContainerState {
    std::string oci_version;   // the config's ociVersion
    std::string id;
    int pid = 0;               // init process, as seen from the host's pid namespace
    uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat when created: detects pid reuse
    std::string bundle;        // absolute
    std::string rootfs;        // absolute
    std::string created;       // RFC 3339 UTC with nanoseconds (rfc3339_nano), as runc prints it
    std::string owner;         // user name of the creator; informational (see format_state)
    std::map<std::string, std::string> annotations;
    std::string config_path;   // <bundle>/config.json at creation
    CgroupState cgroup;
    bool systemd_cgroup = false;
    bool rootless = false;
    std::string exec_fifo;     // absolute path while the container is "created"; may be empty
    nlohmann::json init_process;  // the config's process object: the defaults for `exec`
    std::string policy;        // "oci", "hardened" or "strict": exec applies the same one
    std::string policy_reason;  // why that one (policy::choose_policy): given, default, deferred
    std::vector<std::string> applied_defaults;  // hardened defaults hrun filled in
    nlohmann::json extra = nlohmann::json::object();  // room for later fields

    bool operator==(const ContainerState&) const = default;
};

// state.json keys: ociVersion, id, pid, pid_start_time, bundle, rootfs, created, owner,
// annotations, config_path, cgroup {directories, mode}, systemd_cgroup, rootless, exec_fifo,
// init_process, policy, policy_reason, applied_defaults, extra. Reading requires "id" and "pid", defaults every other
// missing key and ignores unknown keys (a newer hrun may have written them). from_json throws
// nlohmann::json exceptions on wrong types; ContainerDir::load turns them into an Error.
void to_json(nlohmann::json& j, const ContainerState& s);
void from_json(const nlohmann::json& j, ContainerState& s);

// "2024-05-01T12:00:00.123456789Z" as Go's RFC3339Nano prints it: UTC, trailing zeros of the
// fraction dropped (and the dot too when the fraction is zero).
std::string rfc3339_nano(const struct timespec& ts);
// The current CLOCK_REALTIME in that format, for ContainerState::created.
std::string rfc3339_now();

// The name of `uid` from the user database, or "#<uid>" when it has none (as runc's list).
std::string user_name(uid_t uid);

// The default state root: $XDG_RUNTIME_DIR/hrun when not running as root and that variable is
// set, /run/hrun otherwise.
std::string default_root();

// Refuses ids that could escape the root or collide with hrun's temporary names ("", ".",
// "..", containing '/' or NUL, starting with '@'). The full syntax check is
// create::validate_container_id; this is the last line of defence for every path built here.
Status check_id(std::string_view id);

// ---------------------------------------------------------------------------------------------
// Status (runtime-spec "created", "running", "stopped", plus runc's "paused").

enum class ContainerStatus { Created, Running, Paused, Stopped };
std::string_view status_name(ContainerStatus status);

// The fields of /proc/<pid>/stat that status derivation needs.
struct ProcStat {
    char state = '?';          // field 3: R, S, D, Z, T, t, X, I, ...
    pid_t ppid = 0;            // field 4
    uint64_t start_time = 0;   // field 22, clock ticks since boot
};

// Parses one /proc/<pid>/stat line. comm (field 2) may contain spaces and ')': the fields
// after it are found from the last ')'.
Result<ProcStat> parse_proc_stat(std::string_view text);
// Reads /proc/<pid>/stat through a verified procfs (procfd < 0: opens one). A process that does
// not exist gives an Error with err ENOENT or ESRCH.
Result<ProcStat> read_proc_stat(pid_t pid, int procfd = -1);
// Field 22 of /proc/<pid>/stat, for ContainerState::pid_start_time.
Result<uint64_t> process_start_time(pid_t pid, int procfd = -1);

// Whether the recorded init process still exists: pid > 0, present in /proc, not a zombie or
// dead, and started at pid_start_time (otherwise the pid was reused by another process).
Result<bool> init_alive(const ContainerState& state, int procfd = -1);

// Answers whether the container's cgroup is frozen. Called only while init is alive.
using PausedCheck = std::function<Result<bool>(const ContainerState&)>;

// The runtime status, decided in runc's order:
//   stopped  init is not alive (see init_alive)
//   paused   `paused` (when given) says so; a created container can be paused too
//   created  exec_fifo is set and the fifo still exists (init waits on it until `start`)
//   running  otherwise
Result<ContainerStatus> container_status(const ContainerState& state, const PausedCheck& paused = {},
                                         int procfd = -1);

// ---------------------------------------------------------------------------------------------
// Output of `hrun state` and `hrun list`, byte for byte as runc prints them.

// The runtime-spec state object: ociVersion, id, pid (0 when stopped), status, bundle,
// rootfs, created, annotations (left out when empty), owner, in runc's order. owner is always
// "": runc's `state` never fills it in (only `list` shows owners).
nlohmann::ordered_json runtime_state(const ContainerState& state, ContainerStatus status);
// runtime_state indented by two spaces, without a trailing newline (runc writes none). Like
// Go's encoder, '<', '>', '&', U+2028 and U+2029 inside strings are written as \uXXXX.
std::string format_state(const ContainerState& state, ContainerStatus status);

// One line of `hrun list`.
struct ListRow {
    ContainerState state;
    ContainerStatus status = ContainerStatus::Stopped;
    std::string owner;  // owner of the container directory (user_name)
};

// `list`: header "ID PID STATUS BUNDLE CREATED OWNER", columns padded with spaces to the
// widest cell plus 3 (at least 12), the last column unpadded, as Go's tabwriter does for runc.
std::string format_list_table(const std::vector<ListRow>& rows);
// `list --format json`: one compact line, an array of {ociVersion, id, pid, status, bundle,
// rootfs, created, annotations (omitted when empty), owner}; "null" when there are no
// containers, as runc prints.
std::string format_list_json(const std::vector<ListRow>& rows);
// `list -q`: the ids, one per line.
std::string format_list_quiet(const std::vector<ListRow>& rows);

// ---------------------------------------------------------------------------------------------
// The state root and the container directories in it.

enum class Lock { None, Shared, Exclusive };
enum class Wait { Block, Try };  // Try: fail with EWOULDBLOCK instead of waiting for the lock

class ContainerDir;

// A container found by StateRoot::list().
struct ListedContainer {
    ContainerState state;
    uid_t owner_uid = 0;  // owner of the container directory
};

class StateRoot {
public:
    enum class Create { IfMissing, MustExist };

    // Opens the state root (following symlinks in `path`, which the administrator chose).
    // IfMissing creates it with mode 0700 and missing parents with 0711; MustExist fails with
    // ENOENT instead. A relative path is made absolute.
    static Result<StateRoot> open(const std::string& path, Create create = Create::IfMissing);

    const std::string& path() const { return path_; }
    int fd() const { return fd_.get(); }
    // <root>/<id>
    std::string container_path(std::string_view id) const;

    // Reserves `id` and returns its new, empty directory locked exclusively. Fails with EEXIST
    // and `container "<id>" already exists` when the id is taken.
    Result<ContainerDir> create(const std::string& id) const;

    // Opens an existing container's directory and takes `lock` on it. Fails with ENOENT and
    // `container "<id>" does not exist` when there is no such directory, or it was removed or
    // replaced while waiting for the lock; with EWOULDBLOCK when wait is Try and the lock is
    // held.
    // Does not require state.json to exist (delete cleans up failed creations).
    Result<ContainerDir> open(const std::string& id, Lock lock, Wait wait = Wait::Block) const;

    // Every container directory with a readable state.json whose id matches its name, sorted by
    // id. Takes no locks; anything else in the root (files, symlinks, directories without or
    // with a broken state.json, temporary directories) is skipped.
    Result<std::vector<ListedContainer>> list() const;

    // Removes the temporary directories of creations whose creator died before naming them
    // ("@hrun-creating-<pid>-*" of a pid that no longer exists). create() and `delete` call it.
    void sweep_abandoned() const;

private:
    StateRoot(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

    std::string path_;
    UniqueFd fd_;  // O_RDONLY|O_DIRECTORY|O_CLOEXEC
};

// An open container directory, holding its lock until destroyed, release()d or remove()d.
class ContainerDir {
public:
    ContainerDir(ContainerDir&&) noexcept = default;
    ContainerDir& operator=(ContainerDir&&) noexcept = default;
    ~ContainerDir() = default;  // closing the fd releases the lock

    const std::string& id() const { return id_; }
    const std::string& path() const { return path_; }  // <root>/<id>
    // The locked directory fd (O_RDONLY|O_DIRECTORY|O_CLOEXEC); -1 after release()/remove().
    int fd() const { return fd_.get(); }
    Lock lock() const { return lock_; }

    // Reads state.json. A missing file gives ENOENT and `container "<id>" does not exist`
    // (the container is still being created); an unreadable or invalid one an error saying so.
    Result<ContainerState> load() const;

    // Replaces state.json atomically: written to a new temporary file in the directory
    // (O_EXCL, mode 0600) and renamed over it. Requires Lock::Exclusive and state.id == id().
    Status save(const ContainerState& state) const;

    // Makes the exec fifo (mode 0622, owned by uid:gid so that the container's root can open
    // it for writing) and returns its absolute path. Requires Lock::Exclusive.
    Result<std::string> create_exec_fifo(uid_t uid, gid_t gid) const;

    // Deletes the directory and everything in it, through fd-relative calls that never follow
    // symlinks or cross into another filesystem; state.json goes first, so a removal cut short
    // leaves a container that reads as nonexistent. Requires Lock::Exclusive; releases it.
    Status remove();

    // Unlocks and closes the directory.
    void release();

private:
    friend class StateRoot;
    ContainerDir(std::string id, std::string path, UniqueFd root, UniqueFd fd, Lock lock)
        : id_(std::move(id)), path_(std::move(path)), root_(std::move(root)), fd_(std::move(fd)), lock_(lock) {}

    std::string id_;
    std::string path_;
    UniqueFd root_;  // a duplicate of the root's fd, to remove the directory from it
    UniqueFd fd_;
    Lock lock_ = Lock::None;
};

// list() turned into rows for the formatters: status through container_status with `paused`,
// owner through user_name. A container whose status cannot be read is left out with a
// warning in hrun's log, as runc's list does.
Result<std::vector<ListRow>> list_rows(const StateRoot& root, const PausedCheck& paused = {});

}  // namespace hrun::state
