// Device access rules (linux.resources.devices) and their two enforcements: the v1 devices
// controller's allow/deny files and, on cgroup v2, a BPF_PROG_TYPE_CGROUP_DEVICE program.
//
// Semantics (those of runc): rules are read in order and, for each access bit (r, w, m), the
// LAST rule that matches the device decides; what no rule covers is denied. A request is allowed
// only when every bit it asks for is allowed.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"

namespace hrun::cgroups {

// Access bits, equal to the kernel's BPF_DEVCG_ACC_* values.
inline constexpr uint32_t kAccessMknod = BPF_DEVCG_ACC_MKNOD;
inline constexpr uint32_t kAccessRead = BPF_DEVCG_ACC_READ;
inline constexpr uint32_t kAccessWrite = BPF_DEVCG_ACC_WRITE;
inline constexpr uint32_t kAccessAll = kAccessMknod | kAccessRead | kAccessWrite;
inline constexpr int64_t kAnyNumber = -1;

struct DeviceRule {
    bool allow = false;
    char type = 'a';               // 'a' (any), 'c' or 'b'
    int64_t major = kAnyNumber;
    int64_t minor = kAnyNumber;
    uint32_t access = kAccessAll;  // kAccess* bits

    bool operator==(const DeviceRule&) const = default;
};

// The devices every runc container may use, appended after the config's rules: mknod of any
// char or block device, /dev/null, zero, full, random, urandom, tty, ptmx and the pty slaves.
const std::vector<DeviceRule>& default_device_rules();

// linux.resources.devices, then the defaults. As in runc, linux.devices adds no rule: a device
// node the config creates is usable only where this allowlist lets it be (mknod itself is
// among the defaults). Errors name the rule ("linux.resources.devices[2].access: must not be
// empty").
Result<std::vector<DeviceRule>> device_rules(const std::vector<spec::DeviceRule>& config);

// The decision the rules make for one request (type 'c' or 'b', access bits non-zero).
bool device_allowed(const std::vector<DeviceRule>& rules, char type, int64_t major, int64_t minor,
                    uint32_t access);

// "c 1:3 rwm", "a *:* rwm": the v1 devices.allow / devices.deny line of a rule.
std::string v1_device_line(const DeviceRule& rule);

// The BPF program encoding device_allowed() for these rules: the rules are tested from the last
// to the first, each one settling the access bits it covers.
std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules);

// Loads the program (BPF_PROG_LOAD) and attaches it to the v2 cgroup directory `cgroup_fd`
// (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI); device programs attached there
// before are detached afterwards, so there is no moment without a filter.
Status attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& program);

}  // namespace hrun::cgroups
