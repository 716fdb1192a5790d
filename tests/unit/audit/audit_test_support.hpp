// Helpers shared by the audit unit tests: a hardened config that produces no finding at all,
// patched (RFC 6902 JSON Patch) into configs that trip one rule or narrowly miss it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit.hpp"
#include "spec/spec_io.hpp"

namespace hrun::audit::test {

// Every isolation the audit asks for: all namespaces including user (onto unprivileged ids),
// a read-only root, masked and read-only /proc entries, ro sysfs/cgroupfs, default-deny
// seccomp, an AppArmor profile, limits, rlimits, noNewPrivileges, a small capability set.
inline const char* kHardened = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "hrun-default"
  },
  "hostname": "box",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]},
    {"destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf", "options": ["rbind", "ro"]},
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rw"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                   {"type": "cgroup"}, {"type": "user"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}],
      "memory": {"limit": 536870912},
      "pids": {"limit": 256},
      "cpu": {"quota": 50000, "period": 100000}
    },
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "syscalls": [{"names": ["read", "write", "exit", "exit_group", "execve", "brk", "mmap"], "action": "SCMP_ACT_ALLOW"}]
    },
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
  }
})";

inline std::string patched(const std::string& patch) {
    auto doc = nlohmann::json::parse(kHardened);
    if (!patch.empty()) doc = doc.patch(nlohmann::json::parse(patch));
    return doc.dump();
}

inline spec::Spec parse(const std::string& text) {
    auto s = spec::parse_spec(text);
    EXPECT_TRUE(s) << s.error().what();
    return s ? *s : spec::Spec{};
}

inline std::vector<Finding> audit_patch(const std::string& patch) { return audit_spec(parse(patched(patch))); }

inline std::vector<const Finding*> with_id(const std::vector<Finding>& findings, std::string_view id) {
    std::vector<const Finding*> out;
    for (const auto& f : findings)
        if (f.id == id) out.push_back(&f);
    return out;
}

inline bool has(const std::vector<Finding>& findings, std::string_view id) { return !with_id(findings, id).empty(); }

// The one finding of `id`; fails the test when there is not exactly one.
inline Finding only(const std::vector<Finding>& findings, std::string_view id) {
    auto list = with_id(findings, id);
    EXPECT_EQ(list.size(), 1u) << "findings of " << id;
    return list.empty() ? Finding{} : *list.front();
}

inline std::string describe(const std::vector<Finding>& findings) {
    std::string out;
    for (const auto& f : findings)
        out += "  " + f.id + " " + std::string(severity_name(f.severity)) + " " + f.path + ": " + f.message + "\n";
    return out.empty() ? "  (none)\n" : out;
}

}  // namespace hrun::audit::test
