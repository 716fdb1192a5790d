// How context changes a rule's rating: read-only versus writable binds, capabilities that cannot
// be gained, namespaces that widen what a capability reaches, and who could write to /proc.
#include <gtest/gtest.h>

#include "audit_test_support.hpp"

namespace hrun::audit::test {
namespace {

std::string bind(const std::string& source, const std::string& mode) {
    return R"([{"op": "add", "path": "/mounts/-", "value": {"destination": "/host", "type": "bind", "source": ")" +
           source + R"(", "options": ["rbind", ")" + mode + R"("]}}])";
}

Severity severity_of(const std::vector<Finding>& findings, std::string_view id) { return only(findings, id).severity; }

// ---- capabilities ----

TEST(CapabilityContext, OnlyInBoundingWithNoNewPrivilegesIsInert) {
    auto f = audit_patch(R"([{"op": "add", "path": "/process/capabilities/bounding/-", "value": "CAP_SYS_ADMIN"}])");
    auto cap = only(f, "HRUN-CAP-002");
    EXPECT_EQ(cap.severity, Severity::info);
    EXPECT_EQ(cap.path, "process.capabilities.bounding[3]");
}

TEST(CapabilityContext, OnlyInBoundingWithoutNoNewPrivilegesCanBeGained) {
    auto f = audit_patch(R"([{"op": "add", "path": "/process/capabilities/bounding/-", "value": "CAP_SYS_ADMIN"},
                             {"op": "replace", "path": "/process/noNewPrivileges", "value": false}])");
    EXPECT_EQ(severity_of(f, "HRUN-CAP-002"), Severity::critical);
}

TEST(CapabilityContext, HeldSetIsNamedBeforeBounding) {
    auto f = audit_patch(R"([{"op": "add", "path": "/process/capabilities/bounding/-", "value": "CAP_BPF"},
                             {"op": "add", "path": "/process/capabilities/effective/-", "value": "CAP_BPF"}])");
    EXPECT_EQ(only(f, "HRUN-CAP-012").path, "process.capabilities.effective[3]");
}

TEST(CapabilityContext, PrivilegedSetIsOneFindingNotForty) {
    // Capabilities 0..37: the privileged set on any kernel since 4.3.
    auto f = audit_patch(R"([{"op": "replace", "path": "/process/capabilities/effective", "value": [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
        "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ"]}])");
    EXPECT_EQ(severity_of(f, "HRUN-CAP-001"), Severity::critical);
    EXPECT_FALSE(has(f, "HRUN-CAP-002")) << describe(f);
    EXPECT_EQ(only(f, "HRUN-CAP-001").path, "process.capabilities.effective");
}

TEST(CapabilityContext, PtraceWithHostPidNamespaceIsCritical) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/linux/namespaces/0"},
                             {"op": "add", "path": "/process/capabilities/permitted/-", "value": "CAP_SYS_PTRACE"}])");
    EXPECT_EQ(severity_of(f, "HRUN-CAP-006"), Severity::critical);
}

TEST(CapabilityContext, NetAdminAndNetRawWithHostNetworkRateHigher) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/linux/namespaces/1"},
                             {"op": "add", "path": "/process/capabilities/permitted/-", "value": "CAP_NET_ADMIN"},
                             {"op": "add", "path": "/process/capabilities/permitted/-", "value": "CAP_NET_RAW"}])");
    EXPECT_EQ(severity_of(f, "HRUN-CAP-007"), Severity::critical);
    EXPECT_EQ(severity_of(f, "HRUN-CAP-018"), Severity::medium);
}

TEST(CapabilityContext, NoCapabilitiesObjectMeansNone) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/process/capabilities"}])");
    for (const auto& x : f) EXPECT_FALSE(x.id.starts_with("HRUN-CAP-")) << describe(f);
}

// ---- namespaces and users ----

TEST(NamespaceContext, SelfNamespacePathIsTheHosts) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/namespaces/2/path", "value": "/proc/self/ns/ipc"}])");
    auto ns = only(f, "HRUN-NS-003");
    EXPECT_EQ(ns.path, "linux.namespaces[2].path");
    EXPECT_NE(ns.message.find("/proc/self/ns/ipc"), std::string::npos);
}

TEST(NamespaceContext, NoUserNamespaceIsLowForNonRoot) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/linux/namespaces/6"},
                             {"op": "remove", "path": "/linux/uidMappings"},
                             {"op": "remove", "path": "/linux/gidMappings"},
                             {"op": "replace", "path": "/process/user", "value": {"uid": 1000, "gid": 1000}}])");
    EXPECT_EQ(severity_of(f, "HRUN-NS-007"), Severity::low);
}

TEST(NamespaceContext, HostUserNamespaceByPathIsNoUserNamespace) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/namespaces/6/path", "value": "/proc/1/ns/user"}])");
    auto ns = only(f, "HRUN-NS-007");
    EXPECT_EQ(ns.severity, Severity::medium);
    EXPECT_EQ(ns.path, "linux.namespaces[6].path");
}

TEST(NamespaceContext, GidMappedToHostRootRatesBelowUid) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/gidMappings/0/hostID", "value": 0}])");
    auto user = only(f, "HRUN-USER-001");
    EXPECT_EQ(user.path, "linux.gidMappings");
    EXPECT_EQ(user.severity, Severity::medium);
}

// ---- host paths ----

TEST(MountContext, ReadOnlyRatesBelowWritable) {
    EXPECT_EQ(severity_of(audit_patch(bind("/etc", "rw")), "HRUN-MNT-003"), Severity::critical);
    EXPECT_EQ(severity_of(audit_patch(bind("/etc", "ro")), "HRUN-MNT-003"), Severity::high);
    EXPECT_EQ(severity_of(audit_patch(bind("/", "ro")), "HRUN-MNT-001"), Severity::high);
}

TEST(MountContext, LastOfRoAndRwWins) {
    auto f = audit_patch(R"([{"op": "add", "path": "/mounts/-", "value": {"destination": "/h", "type": "bind",
                             "source": "/etc", "options": ["ro", "rbind", "rw"]}}])");
    EXPECT_EQ(severity_of(f, "HRUN-MNT-003"), Severity::critical);
}

TEST(MountContext, SocketIsCriticalEvenReadOnly) {
    EXPECT_EQ(severity_of(audit_patch(bind("/run/containerd/containerd.sock", "ro")), "HRUN-MNT-002"),
              Severity::critical);
    EXPECT_EQ(severity_of(audit_patch(bind("/run/user/1000/podman/podman.sock", "ro")), "HRUN-MNT-002"),
              Severity::critical);
}

TEST(MountContext, ParentDirectoryExposesWhatIsBelow) {
    auto run = only(audit_patch(bind("/run", "ro")), "HRUN-MNT-002");
    EXPECT_EQ(run.severity, Severity::critical);
    EXPECT_NE(run.message.find("exposes"), std::string::npos) << run.message;
    EXPECT_EQ(severity_of(audit_patch(bind("/var/run/containerd", "ro")), "HRUN-MNT-002"), Severity::critical);
    EXPECT_EQ(severity_of(audit_patch(bind("/run/user/1000", "rw")), "HRUN-MNT-002"), Severity::critical);
    // /var holds both container state and etcd's data: the worst one decides.
    auto var = only(audit_patch(bind("/var", "rw")), "HRUN-MNT-006");
    EXPECT_EQ(var.severity, Severity::critical);
    EXPECT_NE(var.message.find("exposes /var/lib/etcd"), std::string::npos) << var.message;
    EXPECT_EQ(severity_of(audit_patch(bind("/var/lib", "ro")), "HRUN-MNT-006"), Severity::high);
}

TEST(MountContext, MostSpecificEntryDecidesForTheSourceItself) {
    // /sys/fs/cgroup read-only is common and low; /sys read-only is medium.
    EXPECT_EQ(severity_of(audit_patch(bind("/sys/fs/cgroup", "ro")), "HRUN-MNT-004"), Severity::low);
    EXPECT_EQ(severity_of(audit_patch(bind("/sys", "ro")), "HRUN-MNT-004"), Severity::medium);
    EXPECT_EQ(severity_of(audit_patch(bind("/proc/1/root", "ro")), "HRUN-MNT-004"), Severity::high);
}

TEST(MountContext, HarmlessDevicesAndPathsThatOnlyLookAlike) {
    for (const char* src : {"/dev/null", "/dev/urandom", "/etcetera", "/procfs-data", "/usrlocal"}) {
        auto f = audit_patch(bind(src, "rw"));
        for (const auto& x : f) EXPECT_FALSE(x.id.starts_with("HRUN-MNT-")) << src << "\n" << describe(f);
    }
}

TEST(MountContext, LexicalTricksAreNormalized) {
    EXPECT_EQ(severity_of(audit_patch(bind("/srv/../etc/", "rw")), "HRUN-MNT-003"), Severity::critical);
    EXPECT_EQ(severity_of(audit_patch(bind("//", "rw")), "HRUN-MNT-001"), Severity::critical);
}

TEST(MountContext, OnlyBindsOfAbsoluteSourcesCount) {
    // A fresh proc instance is not the host's /proc; a relative source is inside the bundle.
    auto f = audit_patch(R"([{"op": "add", "path": "/mounts/-", "value": {"destination": "/p", "type": "proc",
                             "source": "/proc"}},
                            {"op": "add", "path": "/mounts/-", "value": {"destination": "/e", "type": "bind",
                             "source": "etc", "options": ["rbind"]}}])");
    for (const auto& x : f) EXPECT_FALSE(x.id.starts_with("HRUN-MNT-")) << describe(f);
}

TEST(MountContext, BindOptionWithoutBindTypeCounts) {
    auto f = audit_patch(R"([{"op": "add", "path": "/mounts/-", "value": {"destination": "/h", "type": "none",
                             "source": "/var/run/docker.sock", "options": ["bind"]}}])");
    EXPECT_EQ(only(f, "HRUN-MNT-002").path, "mounts[6].source");
}

TEST(MountContext, HostRootAsContainerRoot) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/root", "value": {"path": "/", "readonly": false}}])");
    auto root = only(f, "HRUN-MNT-001");
    EXPECT_EQ(root.path, "root.path");
    EXPECT_EQ(root.severity, Severity::critical);
}

// ---- /proc, /sys ----

TEST(ProcContext, WritableProcSysRatesByWhoWrites) {
    const std::string empty_ro = R"({"op": "replace", "path": "/linux/readonlyPaths", "value": []})";
    // In a user namespace /proc/sys files belong to an unmapped owner.
    EXPECT_EQ(severity_of(audit_patch("[" + empty_ro + "]"), "HRUN-PROC-001"), Severity::info);
    // Without one, a non-root process is one setuid binary away.
    auto nonroot = audit_patch(R"([{"op": "remove", "path": "/linux/namespaces/6"},
                                   {"op": "remove", "path": "/linux/uidMappings"},
                                   {"op": "remove", "path": "/linux/gidMappings"},
                                   {"op": "replace", "path": "/process/user", "value": {"uid": 1000, "gid": 1000}},)" +
                               empty_ro + "]");
    EXPECT_EQ(severity_of(nonroot, "HRUN-PROC-001"), Severity::medium);
}

TEST(ProcContext, ReadOnlyProcMountNeedsNoReadonlyPaths) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/readonlyPaths", "value": []},
                             {"op": "replace", "path": "/mounts/0/options", "value": ["ro"]}])");
    EXPECT_FALSE(has(f, "HRUN-PROC-001")) << describe(f);
    EXPECT_FALSE(has(f, "HRUN-PROC-002")) << describe(f);
}

TEST(ProcContext, MissingMasksAreListed) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/maskedPaths", "value": ["/proc/kcore"]}])");
    auto m = only(f, "HRUN-PROC-003");
    EXPECT_EQ(m.severity, Severity::low);
    EXPECT_NE(m.message.find("/proc/keys"), std::string::npos);
    EXPECT_NE(m.message.find("/sys/firmware"), std::string::npos);
    EXPECT_EQ(m.message.find("/proc/kcore"), std::string::npos);
}

TEST(ProcContext, NoProcNoSysNoMaskFindings) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/mounts/3"}, {"op": "remove", "path": "/mounts/2"},
                             {"op": "remove", "path": "/mounts/0"},
                             {"op": "replace", "path": "/linux/maskedPaths", "value": []},
                             {"op": "replace", "path": "/linux/readonlyPaths", "value": []}])");
    for (const auto& x : f) EXPECT_FALSE(x.id.starts_with("HRUN-PROC-")) << describe(f);
}

// ---- devices ----

TEST(DeviceContext, WildcardMajorForMemoryIsHostMemory) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/resources/devices/-",
                             "value": {"allow": true, "type": "c", "major": 1, "access": "rw"}}])");
    EXPECT_EQ(with_id(f, "HRUN-DEV-002").size(), 3u) << describe(f);  // mem, kmem, port
    EXPECT_FALSE(has(f, "HRUN-DEV-001"));
    EXPECT_FALSE(has(f, "HRUN-DEV-004")) << describe(f);
}

TEST(DeviceContext, LaterDenyClosesAnEarlierAllow) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/resources/devices", "value": [
        {"allow": true, "type": "b", "major": 8, "minor": 0, "access": "rw"},
        {"allow": false, "type": "b", "access": "rwm"}]}])");
    EXPECT_FALSE(has(f, "HRUN-DEV-003")) << describe(f);
}

TEST(DeviceContext, ReadOnlyWildcardIsStillEveryDevice) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/resources/devices/-",
                             "value": {"allow": true, "type": "b", "access": "r"}}])");
    auto d = only(f, "HRUN-DEV-001");
    EXPECT_EQ(d.path, "linux.resources.devices[1]");
    EXPECT_NE(d.message.find("block"), std::string::npos);
}

// ---- seccomp ----

TEST(SeccompContext, ConditionalRuleDoesNotBlock) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/seccomp", "value": {"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["bpf"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}}])");
    EXPECT_TRUE(has(f, "HRUN-SECCOMP-002")) << describe(f);
}

TEST(SeccompContext, AllowListThatAllowsEscapeCalls) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/seccomp/syscalls/-",
                             "value": {"names": ["bpf", "keyctl"], "action": "SCMP_ACT_ALLOW"}}])");
    auto s = only(f, "HRUN-SECCOMP-003");
    EXPECT_EQ(s.path, "linux.seccomp.syscalls");
    EXPECT_NE(s.message.find("bpf, keyctl"), std::string::npos) << s.message;
}

TEST(SeccompContext, LogDefaultIsAllow) {
    auto f = audit_patch(R"([{"op": "replace", "path": "/linux/seccomp/defaultAction", "value": "SCMP_ACT_LOG"}])");
    EXPECT_TRUE(has(f, "HRUN-SECCOMP-002")) << describe(f);
}

// ---- sysctls ----

TEST(SysctlContext, SlashSpellingIsTheSameKey) {
    auto f = audit_patch(R"([{"op": "add", "path": "/linux/sysctl", "value": {"kernel/core_pattern": "|/x"}}])");
    EXPECT_EQ(only(f, "HRUN-SYSCTL-001").path, R"(linux.sysctl["kernel/core_pattern"])");
}

TEST(SysctlContext, IpcSysctlWithHostIpcIsTheHosts) {
    auto f = audit_patch(R"([{"op": "remove", "path": "/linux/namespaces/2"},
                             {"op": "add", "path": "/linux/sysctl", "value": {"kernel.shmmax": "1"}}])");
    EXPECT_EQ(severity_of(f, "HRUN-SYSCTL-003"), Severity::high);
}

}  // namespace
}  // namespace hrun::audit::test
