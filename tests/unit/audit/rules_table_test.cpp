// One row per rule of the catalogue: a patch of the hardened config that trips the rule (with the
// severity expected for it) and a near miss that must not. A catalogue rule without a row fails
// RulesTable.CoversEveryRule, so a new rule cannot go untested.
#include <gtest/gtest.h>

#include <set>

#include "audit_test_support.hpp"

namespace hrun::audit::test {
namespace {

struct Row {
    std::string id;
    std::string trip;  // JSON Patch text
    Severity severity;
    std::string clean;  // JSON Patch text ("" = the hardened config itself)
};

std::ostream& operator<<(std::ostream& os, const Row& r) { return os << r.id; }

// Patch builders.
std::string add(const std::string& path, const std::string& value) {
    return R"({"op": "add", "path": ")" + path + R"(", "value": )" + value + "}";
}
std::string replace(const std::string& path, const std::string& value) {
    return R"({"op": "replace", "path": ")" + path + R"(", "value": )" + value + "}";
}
std::string remove(const std::string& path) { return R"({"op": "remove", "path": ")" + path + R"("})"; }
std::string ops(std::initializer_list<std::string> list) {
    std::string out = "[";
    for (const auto& op : list) out += (out.size() > 1 ? ", " : "") + op;
    return out + "]";
}

std::string grant(const std::string& cap) { return ops({add("/process/capabilities/permitted/-", "\"" + cap + "\"")}); }
std::string bind(const std::string& source, const std::string& mode) {
    return ops({add("/mounts/-", R"({"destination": "/host", "type": "bind", "source": ")" + source +
                                     R"(", "options": ["rbind", ")" + mode + R"("]})")});
}
// Container root becomes host root: no user namespace, so file permissions protect nothing.
std::string host_root_and(const std::string& op) {
    return ops({remove("/linux/namespaces/6"), remove("/linux/uidMappings"), remove("/linux/gidMappings"), op});
}

std::string all_capabilities(std::string_view except = {}) {
    const char* names[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
                           "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
                           "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
                           "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
                           "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
                           "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
                           "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
                           "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
                           "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
    std::string out = "[";
    for (const char* n : names) {
        if (n == except) continue;
        out += (out.size() > 1 ? ", \"" : "\"") + std::string(n) + "\"";
    }
    return out + "]";
}

const std::string kKeyCalls =
    R"(["kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
        "bpf", "keyctl", "add_key", "request_key", "mount", "umount2", "unshare", "setns", "ptrace",
        "perf_event_open", "userfaultfd", "reboot", "acct", "swapon", "swapoff", "iopl", "ioperm", "pivot_root"])";

std::string sysctl(const std::string& key, const std::string& value) {
    return ops({add("/linux/sysctl", R"({")" + key + R"(": ")" + value + R"("})")});
}

using enum Severity;

const std::vector<Row> kRows = {
    // capabilities
    {"HRUN-CAP-001", ops({replace("/process/capabilities/permitted", all_capabilities())}), critical,
     ops({replace("/process/capabilities/permitted", all_capabilities("CAP_AUDIT_READ"))})},
    {"HRUN-CAP-002", grant("CAP_SYS_ADMIN"), critical, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-003", grant("CAP_SYS_MODULE"), critical, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-004", grant("CAP_SYS_RAWIO"), critical, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-005", grant("CAP_DAC_READ_SEARCH"), critical, grant("CAP_DAC_OVERRIDE")},
    {"HRUN-CAP-006", grant("CAP_SYS_PTRACE"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-007", grant("CAP_NET_ADMIN"), high, grant("CAP_NET_BROADCAST")},
    {"HRUN-CAP-008", grant("CAP_SYS_BOOT"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-009", grant("CAP_SYS_TIME"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-010", grant("CAP_MAC_ADMIN"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-011", grant("CAP_MAC_OVERRIDE"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-012", grant("CAP_BPF"), high, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-013", grant("CAP_PERFMON"), medium, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-014", grant("CAP_SYSLOG"), medium, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-015", grant("CAP_AUDIT_CONTROL"), medium, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-016", grant("CAP_SYS_RESOURCE"), medium, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-017", grant("CAP_CHECKPOINT_RESTORE"), medium, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-018", grant("CAP_NET_RAW"), low, grant("CAP_NET_BIND_SERVICE")},
    {"HRUN-CAP-019", grant("CAP_MKNOD"), low, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-020", grant("CAP_SYS_NICE"), low, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-021", grant("CAP_LINUX_IMMUTABLE"), low, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-022", grant("CAP_IPC_LOCK"), low, grant("CAP_AUDIT_WRITE")},
    {"HRUN-CAP-023", grant("CAP_SYS_PACCT"), low, grant("CAP_SETUID")},

    // namespaces and users
    {"HRUN-NS-001", ops({remove("/linux/namespaces/0")}), high,
     ops({add("/linux/namespaces/0/path", R"("/proc/4242/ns/pid")")})},
    {"HRUN-NS-002", ops({add("/linux/namespaces/1/path", R"("/proc/1/ns/net")")}), high,
     ops({add("/linux/namespaces/1/path", R"("/var/run/netns/web")")})},
    {"HRUN-NS-003", ops({remove("/linux/namespaces/2")}), medium, ""},
    {"HRUN-NS-004", ops({remove("/linux/namespaces/3")}), low, ""},
    {"HRUN-NS-005", ops({remove("/linux/namespaces/4")}), critical, ""},
    {"HRUN-NS-006", ops({remove("/linux/namespaces/5")}), low, ""},
    {"HRUN-NS-007", host_root_and(replace("/hostname", R"("box")")), medium,
     ops({replace("/linux/uidMappings/0/hostID", "200000")})},
    {"HRUN-USER-001", ops({replace("/linux/uidMappings/0/hostID", "0")}), high,
     ops({replace("/linux/uidMappings/0/hostID", "1000")})},

    // host paths
    {"HRUN-MNT-001", bind("/", "rw"), critical, bind("/srv", "rw")},
    {"HRUN-MNT-002", bind("/var/run/docker.sock", "ro"), critical, bind("/run/app/app.sock", "rw")},
    {"HRUN-MNT-003", bind("/etc", "rw"), critical, bind("/etc/hosts", "ro")},
    {"HRUN-MNT-004", bind("/proc", "rw"), critical, bind("/dev/null", "rw")},
    {"HRUN-MNT-005", bind("/usr", "rw"), high, bind("/opt/tools", "ro")},
    {"HRUN-MNT-006", bind("/var/lib/docker", "ro"), medium, bind("/var/lib/app", "rw")},
    {"HRUN-MNT-007", bind("/root", "rw"), high, bind("/srv/home", "rw")},
    {"HRUN-MNT-008", bind("/var/log", "rw"), medium, bind("/var/log-archive", "rw")},
    {"HRUN-PROP-001", ops({add("/linux/rootfsPropagation", R"("rshared")")}), medium,
     ops({add("/linux/rootfsPropagation", R"("rslave")")})},
    {"HRUN-PROP-002", ops({replace("/mounts/5/options", R"(["rbind", "rshared"])")}), medium,
     ops({replace("/mounts/5/options", R"(["rbind", "rslave"])")})},
    {"HRUN-ROOTFS-001", ops({replace("/root/readonly", "false")}), low, ""},

    // /proc and /sys
    {"HRUN-PROC-001", host_root_and(replace("/linux/readonlyPaths", R"(["/proc/sysrq-trigger"])")), high,
     host_root_and(replace("/linux/readonlyPaths", R"(["/proc"])"))},
    {"HRUN-PROC-002", host_root_and(replace("/linux/readonlyPaths", R"(["/proc/sys"])")), high,
     host_root_and(add("/linux/maskedPaths/-", R"("/proc/sysrq-trigger")"))},
    {"HRUN-PROC-003", ops({replace("/linux/maskedPaths", "[]")}), medium,
     ops({add("/linux/maskedPaths/-", R"("/proc/acpi")")})},
    {"HRUN-PROC-004", host_root_and(replace("/mounts/2/options", R"(["nosuid"])")), high,
     host_root_and(replace("/mounts/2/options", R"(["nosuid", "rw", "ro"])"))},
    {"HRUN-PROC-005", host_root_and(replace("/mounts/3/options", R"(["nosuid"])")), medium,
     host_root_and(replace("/mounts/3/options", R"(["ro"])"))},

    // process
    {"HRUN-NNP-001", ops({replace("/process/noNewPrivileges", "false")}), medium, ""},
    {"HRUN-LSM-001", ops({remove("/process/apparmorProfile")}), low,
     ops({remove("/process/apparmorProfile"),
          add("/process/selinuxLabel", R"("system_u:system_r:container_t:s0:c1,c2")")})},
    {"HRUN-LSM-002", ops({add("/process/selinuxLabel", R"("system_u:system_r:spc_t:s0")")}), medium,
     ops({add("/process/selinuxLabel", R"("system_u:system_r:container_t:s0")")})},
    {"HRUN-RLIMIT-001", ops({remove("/process/rlimits")}), low, ""},
    {"HRUN-ENV-001", ops({add("/process/env/-", R"("DB_PASSWORD=hunter2")")}), low,
     ops({add("/process/env/-", R"("DB_PASSWORD_FILE=/run/secrets/db")")})},
    {"HRUN-SCHED-001", ops({add("/process/scheduler", R"({"policy": "SCHED_FIFO", "priority": 10})")}), low,
     ops({add("/process/scheduler", R"({"policy": "SCHED_BATCH"})")})},

    // resources
    {"HRUN-RES-001", ops({remove("/linux/resources/memory")}), medium,
     ops({remove("/linux/resources/memory"), add("/linux/resources/unified", R"({"memory.max": "536870912"})")})},
    {"HRUN-RES-002", ops({remove("/linux/resources/pids")}), medium,
     ops({remove("/linux/resources/pids"), add("/linux/resources/unified", R"({"pids.max": "100"})")})},
    {"HRUN-RES-003", ops({remove("/linux/resources/cpu")}), low,
     ops({replace("/linux/resources/cpu", R"({"shares": 512})")})},
    {"HRUN-RES-004", ops({add("/process/oomScoreAdj", "-500")}), low, ops({add("/process/oomScoreAdj", "100")})},

    // devices
    {"HRUN-DEV-001", ops({add("/linux/resources/devices/-", R"({"allow": true, "access": "rwm"})")}), critical,
     ops({replace("/linux/resources/devices",
                  R"([{"allow": true, "access": "rwm"}, {"allow": false, "access": "rwm"}])")})},
    // linux.devices adds no rule: a node opens only where linux.resources.devices allows it.
    {"HRUN-DEV-002", ops({add("/linux/resources/devices/-", R"({"allow": true, "type": "c", "major": 1, "minor": 1, "access": "rw"})")}), high,
     ops({add("/linux/devices", R"([{"type": "c", "path": "/dev/mem", "major": 1, "minor": 1}])"),
          add("/linux/resources/devices/-", R"({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"})")})},
    {"HRUN-DEV-003", ops({add("/linux/resources/devices/-", R"({"allow": true, "type": "b", "major": 8, "minor": 0, "access": "rw"})")}),
     high,
     ops({add("/linux/devices", R"([{"type": "b", "path": "/dev/sda", "major": 8, "minor": 0}])"),
          add("/linux/resources/devices/-", R"({"allow": true, "type": "b", "major": 8, "minor": 0, "access": "m"})")})},
    {"HRUN-DEV-004",
     ops({add("/linux/resources/devices/-", R"({"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"})")}), low,
     ops({add("/linux/devices", R"([{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229}])"),
          add("/linux/resources/devices/-", R"({"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rw"})")})},

    // seccomp
    {"HRUN-SECCOMP-001", ops({remove("/linux/seccomp")}), medium, ""},
    {"HRUN-SECCOMP-002", ops({replace("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW"})")}), medium,
     ops({replace("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": )" + kKeyCalls +
                                        R"(, "action": "SCMP_ACT_ERRNO"}]})")})},
    {"HRUN-SECCOMP-003",
     ops({replace("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load",
          "init_module"], "action": "SCMP_ACT_ERRNO"}]})")}),
     low,
     ops({replace("/linux/seccomp", R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": )" + kKeyCalls +
                                        R"(, "action": "SCMP_ACT_KILL_PROCESS"}]})")})},

    // sysctls
    {"HRUN-SYSCTL-001", sysctl("kernel.core_pattern", "|/tmp/x"), critical, sysctl("net.ipv4.tcp_syncookies", "1")},
    {"HRUN-SYSCTL-002", sysctl("vm.overcommit_memory", "1"), high, sysctl("net.ipv4.tcp_syncookies", "1")},
    {"HRUN-SYSCTL-003",
     ops({remove("/linux/namespaces/1"), add("/linux/sysctl", R"({"net.ipv4.ip_forward": "1"})")}), high,
     sysctl("net.ipv4.ip_forward", "1")},
    {"HRUN-SYSCTL-004", sysctl("net.ipv4.ip_forward", "1"), low, sysctl("net.ipv4.ip_local_port_range", "1024 65000")},

    // hooks
    {"HRUN-HOOK-001", ops({add("/hooks", R"({"poststop": [{"path": "/usr/bin/cleanup"}]})")}), info,
     ops({add("/hooks", R"({"startContainer": [{"path": "/bin/setup"}]})")})},
    {"HRUN-HOOK-002", ops({add("/hooks", R"({"createRuntime": [{"path": "/tmp/hook"}]})")}), medium,
     ops({add("/hooks", R"({"createRuntime": [{"path": "/tmp-hooks/hook"}]})")})},
};

TEST(RulesTable, HardenedConfigHasNoFinding) {
    auto findings = audit_spec(parse(kHardened));
    EXPECT_TRUE(findings.empty()) << describe(findings);
    auto valid = spec::validate_spec(parse(kHardened));
    EXPECT_TRUE(valid) << valid.error().what();
}

TEST(RulesTable, CoversEveryRule) {
    std::set<std::string> covered;
    for (const auto& r : kRows) covered.insert(r.id);
    for (const auto& rule : rules()) EXPECT_TRUE(covered.contains(std::string(rule.id))) << rule.id << " has no row";
    EXPECT_EQ(covered.size(), kRows.size()) << "an id has two rows";
}

class RuleRow : public ::testing::TestWithParam<Row> {};

TEST_P(RuleRow, TripsWithItsSeverity) {
    const Row& row = GetParam();
    auto findings = audit_patch(row.trip);
    auto hits = with_id(findings, row.id);
    ASSERT_FALSE(hits.empty()) << row.id << " not reported; got:\n" << describe(findings);
    const Finding& f = *hits.front();
    EXPECT_EQ(f.severity, row.severity) << describe(findings);
    EXPECT_FALSE(f.path.empty());
    EXPECT_FALSE(f.message.empty());
    EXPECT_FALSE(f.why.empty()) << "id missing from the catalogue?";
    EXPECT_FALSE(f.fix.empty());
    for (const auto& any : findings) EXPECT_NE(find_rule(any.id), nullptr) << any.id << " is not in the catalogue";
}

TEST_P(RuleRow, NearMissDoesNotTrip) {
    const Row& row = GetParam();
    auto findings = audit_patch(row.clean);
    EXPECT_FALSE(has(findings, row.id)) << describe(findings);
}

INSTANTIATE_TEST_SUITE_P(Audit, RuleRow, ::testing::ValuesIn(kRows), [](const auto& info) {
    std::string name = info.param.id;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
});

}  // namespace
}  // namespace hrun::audit::test
