// What prepare_process/exec_process do, computed before clone by plan_process.
//
// Everything here is ready to hand to a syscall: the child reads these members (a copy-on-write
// copy of the parent's memory) and never allocates.
#pragma once

#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hrun::process {

// Strings plus the NULL-terminated char* array execve wants, pointing into those strings.
// Copies and moves rebuild the pointers, so a copied plan never points into its source.
class CStringArray {
public:
    CStringArray() = default;
    explicit CStringArray(std::vector<std::string> strings) : strings_(std::move(strings)) {
        rebuild();
    }
    CStringArray(const CStringArray& other) : strings_(other.strings_) { rebuild(); }
    CStringArray& operator=(const CStringArray& other) {
        if (this != &other) {
            strings_ = other.strings_;
            rebuild();
        }
        return *this;
    }
    // A vector move hands over its element buffer, so the pointers stay valid as they are.
    CStringArray(CStringArray&&) noexcept = default;
    CStringArray& operator=(CStringArray&&) noexcept = default;

    const std::vector<std::string>& strings() const noexcept { return strings_; }
    std::size_t size() const noexcept { return strings_.size(); }
    // NULL-terminated, for execve. Child-safe.
    char* const* data() const noexcept {
        static char* const empty[] = {nullptr};
        return pointers_.empty() ? empty : pointers_.data();
    }

private:
    void rebuild();

    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

// Capability sets as bit masks (bit N = capability N), already limited to what this kernel
// knows (0..cap_last_cap).
struct CapabilityMasks {
    uint64_t bounding = 0;
    uint64_t effective = 0;
    uint64_t permitted = 0;
    uint64_t inheritable = 0;
    uint64_t ambient = 0;
};

// sched_setattr(2)'s struct sched_attr (kernel ABI, SCHED_ATTR_SIZE_VER1). Declared here
// because <linux/sched/types.h> clashes with glibc's <sched.h> over struct sched_param.
struct SchedAttr {
    uint32_t size = sizeof(SchedAttr);
    uint32_t sched_policy = 0;
    uint64_t sched_flags = 0;
    int32_t sched_nice = 0;
    uint32_t sched_priority = 0;
    uint64_t sched_runtime = 0;
    uint64_t sched_deadline = 0;
    uint64_t sched_period = 0;
    uint32_t sched_util_min = 0;
    uint32_t sched_util_max = 0;
};
static_assert(sizeof(SchedAttr) == 56, "struct sched_attr is 56 bytes (SCHED_ATTR_SIZE_VER1)");

struct RlimitPlan {
    int resource = 0;  // RLIMIT_*
    rlim_t soft = 0;
    rlim_t hard = 0;
    std::string field;  // "process.rlimits[2]"
};

struct ProcessPlan {
    // --- exec ---
    CStringArray args;          // process.args
    CStringArray env;           // process.env, deduplicated, HOME and PATH filled in
    std::string path_search;    // PATH from `env`: where a slash-less args[0] is looked up
    std::string cwd;            // absolute, resolved inside the container's root at exec
    int preserve_fds = 0;       // fds 3..3+N-1 stay open across exec

    // --- identity ---
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> additional_gids;
    // setgroups(2) is skipped when the user namespace denies it (a mapping written without
    // CAP_SETGID in the parent namespace); then additional_gids is empty.
    bool set_groups = true;
    // A user namespace joined by path: it may deny setgroups(2), and then the process keeps its
    // groups as runc's does (switch_groups).
    bool joins_user_namespace = false;

    // --- privileges ---
    CapabilityMasks caps;
    int cap_last_cap = 0;  // bounding drop covers 0..cap_last_cap
    // capset(2) arguments for effective/permitted/inheritable, prebuilt from `caps`.
    __user_cap_header_struct cap_header{};
    __user_cap_data_struct cap_data[_LINUX_CAPABILITY_U32S_3]{};
    bool no_new_privileges = false;

    // --- limits and scheduling (prepare_process) ---
    std::vector<RlimitPlan> rlimits;
    mode_t umask = 022;
    std::optional<int> oom_score_adj;
    std::optional<SchedAttr> scheduler;       // for sched_setattr(2)
    std::optional<int> io_priority;           // IOPRIO_PRIO_VALUE(class, level)
    std::optional<unsigned long> personality; // PER_LINUX / PER_LINUX32

    // --- LSM: written to the verified procfs right before the privilege drop ---
    std::string apparmor_exec;  // "exec <profile>", empty when no profile
    std::string selinux_label;  // empty when no label
};

}  // namespace hrun::process
