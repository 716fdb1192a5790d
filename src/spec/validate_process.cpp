// Checks of the `process` section.
#include <algorithm>
#include <array>
#include <string_view>

#include "spec/names.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::spec::check {
namespace {

template <std::size_t N>
bool one_of(std::string_view value, const std::array<std::string_view, N>& names) {
    return std::find(names.begin(), names.end(), value) != names.end();
}

Status arguments(const Process& p) {
    if (p.args.empty()) return fail("process.args", "must not be empty");
    if (p.args[0].empty()) return fail("process.args[0]", "must not be empty");
    for (std::size_t i = 0; i < p.args.size(); ++i)
        if (has_nul(p.args[i])) return fail(at("process.args", i), "contains a NUL byte");
    for (std::size_t i = 0; i < p.env.size(); ++i) HRUN_CHECK_AT(at("process.env", i), env_entry(p.env[i]));
    HRUN_CHECK_AT("process.cwd", absolute_path(p.cwd));
    return ok();
}

Status terminal(const Process& p) {
    if (!p.consoleSize) return ok();
    if (!p.terminal) return fail("process.consoleSize", "needs process.terminal to be true");
    // struct winsize holds 16-bit sizes.
    if (p.consoleSize->height > 0xffff)
        return fail("process.consoleSize.height", std::to_string(p.consoleSize->height) + " exceeds 65535");
    if (p.consoleSize->width > 0xffff)
        return fail("process.consoleSize.width", std::to_string(p.consoleSize->width) + " exceeds 65535");
    return ok();
}

// (uid_t)-1 and (gid_t)-1 mean "leave unchanged" to setresuid/setresgid/setgroups' callers: a
// process asked to be 4294967295 would stay root.
constexpr uint32_t kUnchangedId = 4294967295u;

std::string unusable_id(std::string_view type) {
    return "4294967295 is (" + std::string(type) + ")-1, which the kernel reads as \"unchanged\"; ids are 0 to 4294967294";
}

Status user(const User& u) {
    if (u.uid == kUnchangedId) return fail("process.user.uid", unusable_id("uid_t"));
    if (u.gid == kUnchangedId) return fail("process.user.gid", unusable_id("gid_t"));
    for (std::size_t i = 0; i < u.additionalGids.size(); ++i)
        if (u.additionalGids[i] == kUnchangedId) return fail(at("process.user.additionalGids", i), unusable_id("gid_t"));
    if (u.umask && *u.umask > 0777)
        return fail("process.user.umask", octal(*u.umask) + " exceeds 0777");
    return ok();
}

Status capability_set(std::string_view set, const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
        // Duplicates are harmless: the sets are bit masks.
        if (!capability_from_name(names[i]))
            return fail(at(join("process.capabilities", set), i), "unknown capability " + quote(names[i]));
    }
    return ok();
}

Status capabilities(const Capabilities& c) {
    HRUN_TRY(capability_set("bounding", c.bounding));
    HRUN_TRY(capability_set("effective", c.effective));
    HRUN_TRY(capability_set("inheritable", c.inheritable));
    HRUN_TRY(capability_set("permitted", c.permitted));
    HRUN_TRY(capability_set("ambient", c.ambient));
    return ok();
}

Status rlimits(const std::vector<Rlimit>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Rlimit& r = list[i];
        if (!rlimit_from_name(r.type)) return fail(at("process.rlimits", i, "type"), "unknown rlimit " + quote(r.type));
        for (std::size_t j = 0; j < i; ++j)
            if (list[j].type == r.type) return fail("process.rlimits", quote(r.type) + " listed twice");
        if (r.soft > r.hard)
            return fail(at("process.rlimits", i),
                        "soft limit " + std::to_string(r.soft) + " exceeds hard limit " + std::to_string(r.hard));
    }
    return ok();
}

Status scheduler(const Scheduler& s) {
    static constexpr std::array<std::string_view, 7> policies{
        "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"};
    static constexpr std::array<std::string_view, 7> flags{
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",        "SCHED_FLAG_DL_OVERRUN",
        "SCHED_FLAG_KEEP_POLICY",   "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
        "SCHED_FLAG_UTIL_CLAMP_MAX"};
    if (s.policy.empty()) return fail("process.scheduler.policy", "missing");
    if (!one_of(s.policy, policies)) return fail("process.scheduler.policy", "unknown policy " + quote(s.policy));
    for (std::size_t i = 0; i < s.flags.size(); ++i)
        if (!one_of(s.flags[i], flags)) return fail(at("process.scheduler.flags", i), "unknown flag " + quote(s.flags[i]));
    if (s.nice < -20 || s.nice > 19)
        return fail("process.scheduler.nice", std::to_string(s.nice) + " is out of range [-20, 19]");

    const bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
    if (realtime && (s.priority < 1 || s.priority > 99))
        return fail("process.scheduler.priority", std::to_string(s.priority) + " is out of range [1, 99] for " + s.policy);
    if (!realtime && s.priority != 0)
        return fail("process.scheduler.priority", "must be 0 for " + s.policy);

    if (s.policy != "SCHED_DEADLINE") {
        if (s.runtime != 0 || s.deadline != 0 || s.period != 0)
            return fail("process.scheduler", "runtime, deadline and period need SCHED_DEADLINE");
        return ok();
    }
    if (s.runtime == 0) return fail("process.scheduler.runtime", "must be greater than 0 for SCHED_DEADLINE");
    if (s.deadline == 0) return fail("process.scheduler.deadline", "must be greater than 0 for SCHED_DEADLINE");
    if (s.runtime > s.deadline)
        return fail("process.scheduler.runtime",
                    std::to_string(s.runtime) + " exceeds the deadline " + std::to_string(s.deadline));
    if (s.period != 0 && s.deadline > s.period)
        return fail("process.scheduler.deadline",
                    std::to_string(s.deadline) + " exceeds the period " + std::to_string(s.period));
    return ok();
}

Status io_priority(const IoPriority& io) {
    static constexpr std::array<std::string_view, 3> classes{"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                             "IOPRIO_CLASS_IDLE"};
    if (!one_of(io.ioClass, classes)) return fail("process.ioPriority.class", "unknown class " + quote(io.ioClass));
    if (io.priority < 0 || io.priority > 7)
        return fail("process.ioPriority.priority", std::to_string(io.priority) + " is out of range [0, 7]");
    return ok();
}

}  // namespace

Status process(const Process& p) {
    HRUN_TRY(arguments(p));
    HRUN_TRY(terminal(p));
    HRUN_TRY(user(p.user));
    if (p.capabilities) HRUN_TRY(capabilities(*p.capabilities));
    HRUN_TRY(rlimits(p.rlimits));
    if (p.oomScoreAdj && (*p.oomScoreAdj < -1000 || *p.oomScoreAdj > 1000))
        return fail("process.oomScoreAdj", std::to_string(*p.oomScoreAdj) + " is out of range [-1000, 1000]");
    if (p.scheduler) HRUN_TRY(scheduler(*p.scheduler));
    if (p.ioPriority) HRUN_TRY(io_priority(*p.ioPriority));
    if (!p.apparmorProfile.empty()) HRUN_CHECK_AT("process.apparmorProfile", single_line(p.apparmorProfile));
    if (!p.selinuxLabel.empty()) HRUN_CHECK_AT("process.selinuxLabel", selinux_label(p.selinuxLabel));
    return ok();
}

}  // namespace hrun::spec::check
