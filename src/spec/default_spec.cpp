// The config `hrun spec` writes. It starts from least privilege: a read-only root, no new
// privileges, the small capability set that a shell and package scripts need (no CAP_NET_RAW,
// which allows packet spoofing, no CAP_MKNOD, no CAP_SYS_*, except CAP_SYS_CHROOT), every
// namespace but the user namespace (added for rootless use), all devices denied in the cgroup,
// pids and memory limits that stop a fork or memory bomb from taking the host down with it
// (not in the rootless variant: see below), and the /proc and /sys entries that leak host
// information masked or read-only.
#include <algorithm>
#include <string>
#include <vector>

#include "spec/spec_io.hpp"

namespace hrun::spec {
namespace {

constexpr int64_t kDefaultPidsLimit = 1024;
constexpr int64_t kDefaultMemoryLimit = int64_t{512} << 20;  // 512 MiB

std::vector<std::string> default_capabilities() {
    return {"CAP_CHOWN",  "CAP_DAC_OVERRIDE",    "CAP_FOWNER",         "CAP_FSETID",
            "CAP_KILL",   "CAP_SETGID",          "CAP_SETUID",         "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"};
}

std::vector<Mount> default_mounts() {
    return {
        {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, {}, {}},
        {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}, {}, {}},
        {"/dev/pts",
         "devpts",
         "devpts",
         {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
         {},
         {}},
        {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}, {}, {}},
        {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}, {}, {}},
        {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}, {}, {}},
        {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}, {}, {}},
        {"/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777", "size=65536k"}, {}, {}},
    };
}

// --userns-remap: container root is an unprivileged host id from a subordinate range, and the
// rootfs, owned by host root as unpacked, is idmapped through the container's user namespace
// rather than chowned. The range covers gid 5, so devpts keeps gid=5.
void add_userns_remap(Spec& spec, const DefaultSpecOptions& options) {
    spec.linux->namespaces.push_back({"user", ""});
    spec.linux->uidMappings = options.remap_uids;
    spec.linux->gidMappings = options.remap_gids;
    spec.annotations[kRootfsIdmapAnnotation] = "true";
}

}  // namespace

Spec default_spec(const DefaultSpecOptions& options) {
    Spec spec;
    spec.ociVersion = kSpecVersion;
    spec.root = Root{"rootfs", true};

    Process& p = spec.process.emplace();
    // As runc's spec: `sh` on a terminal, for a person at a shell. Bundles run by scripts and
    // engines without a tty set it false (scripts/make-bundle.sh does).
    p.terminal = true;
    p.user = User{};  // root inside the container
    p.args = options.args;
    p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
    p.cwd = "/";
    Capabilities& caps = p.capabilities.emplace();
    caps.bounding = default_capabilities();
    caps.effective = caps.bounding;
    caps.permitted = caps.bounding;
    p.rlimits = {Rlimit{"RLIMIT_NOFILE", 1024, 1024}};
    p.noNewPrivileges = true;

    spec.hostname = "hrun";
    spec.mounts = default_mounts();

    Linux& linux = spec.linux.emplace();
    linux.namespaces = {{"pid", ""}, {"network", ""}, {"ipc", ""}, {"uts", ""}, {"mount", ""}, {"cgroup", ""}};
    // Rootless: no linux.resources at all, as runc's `spec --rootless`. Limits need a cgroup
    // that root has delegated to the user, which most hosts have not, and hrun refuses to run
    // a config whose limits it cannot enforce; device rules need CAP_SYS_ADMIN on the host and
    // are moot in a user namespace, where mknod is refused. Add limits once a cgroup is
    // delegated (linux.cgroupsPath below it).
    if (!options.rootless) {
        Resources& res = linux.resources.emplace();
        res.devices = {DeviceRule{false, "", std::nullopt, std::nullopt, "rwm"}};
        // Generous for one service, small against a host's pid_max and RAM: a bomb hits the
        // cgroup limit (fork fails, the OOM killer acts inside the container) long before the
        // host notices.
        res.pids.emplace().limit = kDefaultPidsLimit;
        res.memory.emplace().limit = kDefaultMemoryLimit;
    }
    linux.maskedPaths = {"/proc/acpi",        "/proc/asound",      "/proc/kcore",       "/proc/keys",
                         "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
                         "/proc/scsi",        "/sys/firmware",     "/sys/devices/virtual/powercap",
                         "/sys/kernel/security"};
    linux.readonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

    if (options.rootless) {
        // Container root is the invoking user. The network namespace stays: an unprivileged
        // user may create one inside its own user namespace. With subordinate ids, as podman
        // does, they become ids 1..N (newuidmap/newgidmap write such maps), so that images
        // with files and users of other ids work.
        linux.namespaces.push_back({"user", ""});
        linux.uidMappings = {IdMapping{0, options.host_uid, 1}};
        linux.gidMappings = {IdMapping{0, options.host_gid, 1}};
        if (options.subuids.size > 0) linux.uidMappings.push_back({1, options.subuids.hostID, options.subuids.size});
        if (options.subgids.size > 0) linux.gidMappings.push_back({1, options.subgids.hostID, options.subgids.size});
        // devpts refuses a gid outside the namespace: without subordinate gids 5 (tty) is not
        // mapped.
        if (options.subgids.size < 5) {
            for (Mount& m : spec.mounts) {
                if (m.type != "devpts") continue;
                std::erase(m.options, std::string("gid=5"));
            }
        }
    }
    if (!options.remap_uids.empty() && !options.rootless) add_userns_remap(spec, options);
    return spec;
}

}  // namespace hrun::spec
