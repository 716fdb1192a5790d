// process.capabilities and process.noNewPrivileges.
//
// The five sets become 64-bit masks in the parent. The child applies them with prctl and a raw
// capset(2) on a prebuilt header and data pair: libcap's cap_set_proc does not allocate, but it
// locks a mutex inside the cap_t (a write into the plan) and can route the call through libpsx
// to every thread of the process; the raw call is one syscall on read-only data.
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "linux/log.hpp"
#include "process/child_text.hpp"
#include "process/process_internal.hpp"
#include "spec/names.hpp"

namespace hrun::process {

namespace {

constexpr int kMaskBits = 64;

constexpr uint64_t bit(int cap) noexcept { return uint64_t{1} << cap; }

// Names in config.json -> mask. A name libcap knows but this kernel does not (above
// cap_last_cap) is left out, as runc does, so that one config runs on older kernels.
Result<uint64_t> mask_from_names(const std::vector<std::string>& names, const std::string& field,
                                 int cap_last_cap, std::vector<std::string>& unavailable) {
    uint64_t mask = 0;
    for (std::size_t i = 0; i < names.size(); ++i) {
        auto cap = spec::capability_from_name(names[i]);
        if (!cap)
            return fail(field + "[" + std::to_string(i) + "]",
                        "unknown capability \"" + names[i] + "\"");
        if (*cap > cap_last_cap || *cap >= kMaskBits) {
            unavailable.push_back(names[i]);
            continue;
        }
        mask |= bit(*cap);
    }
    return mask;
}

std::string names_of(uint64_t mask, const spec::Capabilities& caps) {
    // Report with the config's own spelling: the first name in any set for each bit.
    std::string out;
    for (const auto* set : {&caps.ambient, &caps.permitted, &caps.inheritable}) {
        for (const auto& name : *set) {
            auto cap = spec::capability_from_name(name);
            if (!cap || *cap >= kMaskBits || !(mask & bit(*cap))) continue;
            if (!out.empty()) out += ", ";
            out += name;
            mask &= ~bit(*cap);
        }
    }
    return out;
}

}  // namespace

Status plan_capabilities(const spec::Process& process, const os::HostContext& host,
                         ProcessPlan& plan) {
    plan.no_new_privileges = process.noNewPrivileges;
    plan.cap_last_cap = host.cap_last_cap < kMaskBits ? host.cap_last_cap : kMaskBits - 1;
    if (plan.cap_last_cap < 0) return fail("", "the kernel's cap_last_cap is invalid");

    // No capabilities object: every set is empty, the process runs without privileges.
    if (process.capabilities) {
        const spec::Capabilities& caps = *process.capabilities;
        std::vector<std::string> unavailable;
        const int last = plan.cap_last_cap;
        CapabilityMasks& m = plan.caps;
        auto mask = [&](const std::vector<std::string>& names, const char* set) {
            return mask_from_names(names, std::string("process.capabilities.") + set, last,
                                   unavailable);
        };
        m.bounding = HRUN_TRY(mask(caps.bounding, "bounding"));
        m.effective = HRUN_TRY(mask(caps.effective, "effective"));
        m.permitted = HRUN_TRY(mask(caps.permitted, "permitted"));
        m.inheritable = HRUN_TRY(mask(caps.inheritable, "inheritable"));
        m.ambient = HRUN_TRY(mask(caps.ambient, "ambient"));

        if (!unavailable.empty()) {
            std::string list;
            for (const auto& name : unavailable) list += (list.empty() ? "" : ", ") + name;
            log::warn("process.capabilities: not known to this kernel, ignored: " + list);
        }

        // capset(2) refuses an effective set that is not permitted: say so before clone.
        for (std::size_t i = 0; i < caps.effective.size(); ++i) {
            auto cap = spec::capability_from_name(caps.effective[i]);
            if (cap && *cap <= last && !(m.permitted & bit(*cap)))
                return fail("process.capabilities.effective[" + std::to_string(i) + "]",
                            "\"" + caps.effective[i] + "\" is not in the permitted set");
        }
        // The kernel only raises an ambient capability that is both permitted and inheritable.
        // runc and crun carry on without it; so do we, loudly.
        const uint64_t not_raisable = m.ambient & ~(m.permitted & m.inheritable);
        if (not_raisable != 0) {
            log::warn("process.capabilities.ambient: not both permitted and inheritable, not "
                      "raised: " + names_of(not_raisable, caps));
            m.ambient &= ~not_raisable;
        }
    }

    plan.cap_header.version = _LINUX_CAPABILITY_VERSION_3;
    plan.cap_header.pid = 0;  // this thread
    for (int word = 0; word < _LINUX_CAPABILITY_U32S_3; ++word) {
        const int shift = 32 * word;
        plan.cap_data[word].effective = static_cast<uint32_t>(plan.caps.effective >> shift);
        plan.cap_data[word].permitted = static_cast<uint32_t>(plan.caps.permitted >> shift);
        plan.cap_data[word].inheritable = static_cast<uint32_t>(plan.caps.inheritable >> shift);
    }
    return ok();
}

ChildStatus drop_bounding_set(const ProcessPlan& plan) noexcept {
    for (int cap = 0; cap <= plan.cap_last_cap; ++cap) {
        if (plan.caps.bounding & bit(cap)) continue;
        // One call per capability: dropping one that is still there is the usual case. Only a
        // refusal asks whether it was already gone (a nested runtime, a joined namespace),
        // which needs no CAP_SETPCAP and is no failure.
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
        const int err = errno;
        if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 0) continue;
        char message[sizeof(ChildError::message)] = "cannot drop capability ";
        detail::append_decimal(message, sizeof message, cap);
        append_cstr(message, sizeof message, " from the bounding set");
        return child_fail("process.capabilities.bounding", message, err);
    }
    return child_ok();
}

ChildStatus set_capabilities(const ProcessPlan& plan) noexcept {
    // capset(2) only reads through the pointers; its prototype is just not const.
    auto* header = const_cast<__user_cap_header_struct*>(&plan.cap_header);
    auto* data = const_cast<__user_cap_data_struct*>(plan.cap_data);
    if (::syscall(SYS_capset, header, data) != 0)
        return child_fail("process.capabilities",
                          "cannot set the effective, permitted and inheritable sets", errno);

    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        // Kernels before 4.3 have no ambient set: nothing to clear, nothing can be raised.
        if (errno != EINVAL || plan.caps.ambient != 0)
            return child_fail("process.capabilities.ambient", "cannot clear the ambient set",
                              errno);
        return child_ok();
    }
    for (int cap = 0; cap <= plan.cap_last_cap; ++cap) {
        if (!(plan.caps.ambient & bit(cap))) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
            char message[sizeof(ChildError::message)] = "cannot raise capability ";
            detail::append_decimal(message, sizeof message, cap);
            append_cstr(message, sizeof message, " in the ambient set");
            return child_fail("process.capabilities.ambient", message, errno);
        }
    }
    return child_ok();
}

}  // namespace hrun::process
