// The container's own /proc, /sys and cgroup mounts: what linux.readonlyPaths and
// linux.maskedPaths leave writable or readable, and sysfs/cgroupfs mounted without "ro".
//
// How much a writable kernel knob matters depends on who writes: root-owned files in /proc/sys
// and /sys are guarded by file permissions only, so container root that is host root passes them;
// in a user namespace they belong to an unmapped owner and stay out of reach.
#include <array>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;

// Whether `path` or a directory above it is listed.
bool listed(const std::vector<std::string>& list, std::string_view path) {
    for (const auto& entry : list)
        if (is_within(path, normalize_path(entry))) return true;
    return false;
}

const std::vector<std::string>& readonly_paths(const Context& ctx) {
    static const std::vector<std::string> none;
    return ctx.linux ? ctx.linux->readonlyPaths : none;
}

const std::vector<std::string>& masked_paths(const Context& ctx) {
    static const std::vector<std::string> none;
    return ctx.linux ? ctx.linux->maskedPaths : none;
}

// The first mount of `type` that is not read-only; -1 when every one is (or there is none).
int writable_mount(const Context& ctx, std::string_view type, std::string_view type2 = {}) {
    for (std::size_t i = 0; i < ctx.spec.mounts.size(); ++i) {
        const spec::Mount& m = ctx.spec.mounts[i];
        if (m.type != type && (type2.empty() || m.type != type2)) continue;
        bool ro = false;
        for (const auto& o : m.options) {
            if (o == "ro") ro = true;
            if (o == "rw") ro = false;
        }
        if (!ro) return static_cast<int>(i);
    }
    return -1;
}

// host root: high; ids not remapped: medium (a setuid path to root may exist); user namespace:
// the files' owner is not mapped, so only info.
Severity by_writer(const Context& ctx, Severity when_host_root) {
    if (ctx.host_root) return when_host_root;
    if (!ctx.user_namespace) return lower(when_host_root);
    return Severity::info;
}

void check_proc_knobs(const Context& ctx, Findings& out) {
    const int proc = writable_mount(ctx, "proc");
    if (proc < 0) return;
    const auto& ro = readonly_paths(ctx);
    const auto& masked = masked_paths(ctx);
    const std::string who = ctx.host_root ? " to container root, which is host root" : "";

    if (!listed(ro, "/proc/sys") && !listed(masked, "/proc/sys"))
        out.add("HRUN-PROC-001", by_writer(ctx, Severity::high), "linux.readonlyPaths",
                "/proc/sys is not read-only" + (ro.empty() ? std::string(" (linux.readonlyPaths is empty)") : "") +
                    "; it is writable" + who);
    if (!listed(ro, "/proc/sysrq-trigger") && !listed(masked, "/proc/sysrq-trigger"))
        out.add("HRUN-PROC-002", by_writer(ctx, Severity::high), "linux.readonlyPaths",
                "/proc/sysrq-trigger is neither read-only nor masked; it is writable" + who);
}

void check_masks(const Context& ctx, Findings& out) {
    const bool proc = ctx.mounts_filesystem("proc");
    const bool sysfs = ctx.mounts_filesystem("sysfs");
    if (!proc && !sysfs) return;
    const auto& masked = masked_paths(ctx);
    if (masked.empty()) {
        out.add("HRUN-PROC-003", Severity::medium, "linux.maskedPaths",
                "linux.maskedPaths is empty: nothing in /proc or /sys is hidden");
        return;
    }
    std::string missing;
    auto need = [&](std::string_view path) {
        if (listed(masked, path)) return;
        if (!missing.empty()) missing += ", ";
        missing += path;
    };
    if (proc)
        for (std::string_view p : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"}) need(p);
    if (sysfs) need("/sys/firmware");
    if (!missing.empty())
        out.add("HRUN-PROC-003", Severity::low, "linux.maskedPaths", "not masked: " + missing);
}

}  // namespace

void check_proc_sys(const Context& ctx, Findings& out) {
    check_proc_knobs(ctx, out);
    check_masks(ctx, out);

    if (int i = writable_mount(ctx, "sysfs"); i >= 0)
        out.add("HRUN-PROC-004", by_writer(ctx, Severity::high), at("mounts", static_cast<std::size_t>(i), "options"),
                "sysfs at " + ctx.spec.mounts[static_cast<std::size_t>(i)].destination + " is mounted read-write");
    if (int i = writable_mount(ctx, "cgroup", "cgroup2"); i >= 0)
        out.add("HRUN-PROC-005", by_writer(ctx, Severity::medium), at("mounts", static_cast<std::size_t>(i), "options"),
                "the cgroup filesystem at " + ctx.spec.mounts[static_cast<std::size_t>(i)].destination +
                    " is mounted read-write");
}

}  // namespace hrun::audit::detail
