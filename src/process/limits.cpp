// Limits and scheduling of the container process: process.rlimits, process.user.umask,
// process.oomScoreAdj, process.scheduler, process.ioPriority and linux.personality.
// Planned in the parent, applied by prepare_process before the start barrier.
#include <fcntl.h>
#include <linux/ioprio.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <set>
#include <string_view>
#include <utility>

#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "process/child_text.hpp"
#include "process/process_internal.hpp"
#include "spec/names.hpp"

namespace hrun::process {

namespace {

template <std::size_t N>
std::optional<uint64_t> lookup(const std::array<std::pair<std::string_view, uint64_t>, N>& table,
                               std::string_view name) {
    for (const auto& [n, v] : table)
        if (n == name) return v;
    return std::nullopt;
}

// Values from the kernel's uapi (include/uapi/linux/sched.h).
constexpr std::array<std::pair<std::string_view, uint64_t>, 7> kSchedPolicies{{
    {"SCHED_OTHER", 0},
    {"SCHED_FIFO", 1},
    {"SCHED_RR", 2},
    {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},
    {"SCHED_IDLE", 5},
    {"SCHED_DEADLINE", 6},
}};
constexpr std::array<std::pair<std::string_view, uint64_t>, 7> kSchedFlags{{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};
constexpr std::array<std::pair<std::string_view, uint64_t>, 3> kIoPrioClasses{{
    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
}};
constexpr std::array<std::pair<std::string_view, uint64_t>, 2> kPersonalities{{
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
}};

Status plan_rlimits(const spec::Process& process, ProcessPlan& plan) {
    std::set<int> seen;
    for (std::size_t i = 0; i < process.rlimits.size(); ++i) {
        const spec::Rlimit& limit = process.rlimits[i];
        const std::string field = "process.rlimits[" + std::to_string(i) + "]";
        auto resource = spec::rlimit_from_name(limit.type);
        if (!resource)
            return fail(field + ".type", "unknown resource \"" + limit.type + "\"");
        if (!seen.insert(*resource).second)
            return fail(field + ".type", "\"" + limit.type + "\" is set twice");
        if (limit.soft > limit.hard)
            return fail(field, "the soft limit is above the hard limit");
        plan.rlimits.push_back({*resource, static_cast<rlim_t>(limit.soft),
                                static_cast<rlim_t>(limit.hard), field});
    }
    return ok();
}

Status plan_scheduler(const spec::Scheduler& s, ProcessPlan& plan) {
    auto policy = lookup(kSchedPolicies, s.policy);
    if (!policy)
        return fail("process.scheduler.policy", "unknown policy \"" + s.policy + "\"");
    if (s.nice < -20 || s.nice > 19)
        return fail("process.scheduler.nice", "must be between -20 and 19");
    if (s.priority < 0) return fail("process.scheduler.priority", "must not be negative");
    SchedAttr attr{};
    attr.size = sizeof attr;
    attr.sched_policy = static_cast<uint32_t>(*policy);
    for (std::size_t i = 0; i < s.flags.size(); ++i) {
        auto flag = lookup(kSchedFlags, s.flags[i]);
        if (!flag)
            return fail("process.scheduler.flags[" + std::to_string(i) + "]",
                        "unknown flag \"" + s.flags[i] + "\"");
        attr.sched_flags |= *flag;
    }
    attr.sched_nice = s.nice;
    attr.sched_priority = static_cast<uint32_t>(s.priority);
    attr.sched_runtime = s.runtime;
    attr.sched_deadline = s.deadline;
    attr.sched_period = s.period;
    plan.scheduler = attr;
    return ok();
}

Status plan_io_priority(const spec::IoPriority& io, ProcessPlan& plan) {
    auto cls = lookup(kIoPrioClasses, io.ioClass);
    if (!cls)
        return fail("process.ioPriority.class", "unknown class \"" + io.ioClass + "\"");
    if (io.priority < 0 || io.priority >= IOPRIO_NR_LEVELS)
        return fail("process.ioPriority.priority", "must be between 0 and 7");
    plan.io_priority = static_cast<int>(IOPRIO_PRIO_VALUE(*cls, io.priority));
    return ok();
}

Status plan_personality(const spec::Personality& p, ProcessPlan& plan) {
    auto domain = lookup(kPersonalities, p.domain);
    if (!domain)
        return fail("linux.personality.domain", "unknown domain \"" + p.domain + "\"");
    // The runtime-spec lists flags without defining any; runc ignores them too.
    if (!p.flags.empty()) log::warn("linux.personality.flags: not supported, ignored");
    plan.personality = static_cast<unsigned long>(*domain);
    return ok();
}

// --- child side ---

ChildStatus apply_rlimits(const ProcessPlan& plan) noexcept {
    for (const RlimitPlan& limit : plan.rlimits) {
        const struct rlimit value{limit.soft, limit.hard};
        // Raising a hard limit needs CAP_SYS_RESOURCE in the initial user namespace: inside a
        // user namespace, or for a root without that capability, it fails with EPERM.
        if (::setrlimit(static_cast<__rlimit_resource_t>(limit.resource), &value) != 0)
            return child_fail(limit.field.c_str(), "cannot set the limit", errno);
    }
    return child_ok();
}

int read_oom_score_adj(int procfd, long long* value) noexcept {
    int fd = os::procfs_open(procfd, "self/oom_score_adj", O_RDONLY);
    if (fd < 0) return fd;
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    int err = errno;
    ::close(fd);
    if (n < 0) return -err;
    return detail::parse_decimal(buf, value) ? 0 : -EINVAL;
}

// Through the verified procfs: a container-controlled /proc cannot redirect the write.
// Lowering the score below the current minimum needs CAP_SYS_RESOURCE (which even root may lack,
// and a user namespace never grants): that refusal is tolerated, the process keeps its
// current, higher score. Any other failure, raising included, is an error.
ChildStatus apply_oom_score_adj(const ProcessPlan& plan, int procfd) noexcept {
    if (!plan.oom_score_adj) return child_ok();
    char text[24];
    const std::size_t len = detail::format_decimal(text, sizeof text, *plan.oom_score_adj);
    int rc = os::procfs_write(procfd, "self/oom_score_adj", text, len);
    if (rc == 0) return child_ok();
    if (rc == -EACCES || rc == -EPERM) {
        long long current = 0;
        if (read_oom_score_adj(procfd, &current) == 0 && *plan.oom_score_adj < current)
            return child_ok();
    }
    return child_fail("process.oomScoreAdj", "cannot write /proc/self/oom_score_adj", -rc);
}

ChildStatus apply_scheduler(const ProcessPlan& plan) noexcept {
    if (!plan.scheduler) return child_ok();
    SchedAttr attr = *plan.scheduler;  // the kernel may write the size back (E2BIG)
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
        return child_fail("process.scheduler", "cannot set the scheduling policy", errno);
    return child_ok();
}

ChildStatus apply_io_priority(const ProcessPlan& plan) noexcept {
    if (!plan.io_priority) return child_ok();
    if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, *plan.io_priority) != 0)
        return child_fail("process.ioPriority", "cannot set the I/O priority", errno);
    return child_ok();
}

ChildStatus apply_personality(const ProcessPlan& plan) noexcept {
    if (!plan.personality) return child_ok();
    if (::personality(*plan.personality) < 0)
        return child_fail("linux.personality", "cannot set the execution domain", errno);
    return child_ok();
}

}  // namespace

Status plan_limits(const spec::Spec& spec, ProcessPlan& plan) {
    const spec::Process& process = *spec.process;
    HRUN_TRY(plan_rlimits(process, plan));

    // runc's default when process.user.umask is absent.
    const uint32_t umask = process.user.umask.value_or(022);
    if (umask > 0777) return fail("process.user.umask", "must be at most 0777");
    plan.umask = static_cast<mode_t>(umask);

    if (process.oomScoreAdj) {
        if (*process.oomScoreAdj < -1000 || *process.oomScoreAdj > 1000)
            return fail("process.oomScoreAdj", "must be between -1000 and 1000");
        plan.oom_score_adj = *process.oomScoreAdj;
    }
    if (process.scheduler) HRUN_TRY(plan_scheduler(*process.scheduler, plan));
    if (process.ioPriority) HRUN_TRY(plan_io_priority(*process.ioPriority, plan));
    if (spec.linux && spec.linux->personality)
        HRUN_TRY(plan_personality(*spec.linux->personality, plan));
    return ok();
}

ChildStatus prepare_process(const ProcessPlan& plan, int procfd) noexcept {
    HRUN_CHILD_TRY(apply_rlimits(plan));
    HRUN_CHILD_TRY(apply_oom_score_adj(plan, procfd));
    HRUN_CHILD_TRY(apply_scheduler(plan));
    HRUN_CHILD_TRY(apply_io_priority(plan));
    HRUN_CHILD_TRY(apply_personality(plan));
    ::umask(plan.umask);
    return child_ok();
}

}  // namespace hrun::process
