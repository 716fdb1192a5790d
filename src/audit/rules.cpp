// The rule catalogue: ids, usual severities, rationale and fixes. Ids are stable (tools filter on
// them); a retired rule keeps its number unused rather than having it reassigned.
#include <algorithm>

#include "audit/audit.hpp"

namespace hrun::audit {

namespace {

using enum Severity;

// Shared texts for the per-capability rules.
constexpr std::string_view kDropCap =
    "remove it from process.capabilities (bounding, effective, permitted, inheritable, ambient)";

const std::vector<Rule> kRules = {
    // ---- capabilities ----
    {"HRUN-CAP-001", critical, "every capability granted (privileged container)",
     "with the full set the container can mount, load modules, read raw memory and reconfigure "
     "the host: namespaces stop being a boundary",
     "list only the capabilities the workload needs, starting from the `hrun spec` set"},
    {"HRUN-CAP-002", critical, "CAP_SYS_ADMIN",
     "the catch-all administrative capability: mount, bpf, namespace and device operations that "
     "lead to well-known escapes (cgroup v1 release_agent, mounting host devices)",
     kDropCap},
    {"HRUN-CAP-003", critical, "CAP_SYS_MODULE",
     "loads kernel modules: arbitrary code in the host kernel", kDropCap},
    {"HRUN-CAP-004", critical, "CAP_SYS_RAWIO",
     "raw I/O port and memory access (/dev/mem, iopl), reading and writing host memory", kDropCap},
    {"HRUN-CAP-005", critical, "CAP_DAC_READ_SEARCH",
     "open_by_handle_at lets a container open any file of a host filesystem by handle, reaching "
     "outside its root (the \"shocker\" escape)",
     kDropCap},
    {"HRUN-CAP-006", high, "CAP_SYS_PTRACE",
     "ptrace of other processes and reading their memory; with the host pid namespace, of host "
     "processes",
     kDropCap},
    {"HRUN-CAP-007", high, "CAP_NET_ADMIN",
     "reconfigures interfaces, routes and firewall rules; with the host network namespace, the "
     "host's own",
     kDropCap},
    {"HRUN-CAP-008", high, "CAP_SYS_BOOT", "kexec_load and reboot: replacing or stopping the host kernel",
     kDropCap},
    {"HRUN-CAP-009", high, "CAP_SYS_TIME", "the system clock is not namespaced: changes the host's time",
     kDropCap},
    {"HRUN-CAP-010", high, "CAP_MAC_ADMIN", "changes the LSM (AppArmor, SELinux, Smack) policy",
     kDropCap},
    {"HRUN-CAP-011", high, "CAP_MAC_OVERRIDE", "bypasses the LSM policy meant to confine the container",
     kDropCap},
    {"HRUN-CAP-012", high, "CAP_BPF",
     "loads BPF programs and maps: a large kernel attack surface and host-wide tracing", kDropCap},
    {"HRUN-CAP-013", medium, "CAP_PERFMON",
     "performance monitoring of the whole system; leaks kernel addresses and other processes' data",
     kDropCap},
    {"HRUN-CAP-014", medium, "CAP_SYSLOG",
     "reads and clears the kernel log, which holds kernel addresses and host events", kDropCap},
    {"HRUN-CAP-015", medium, "CAP_AUDIT_CONTROL", "changes or disables the host's audit rules",
     kDropCap},
    {"HRUN-CAP-016", medium, "CAP_SYS_RESOURCE",
     "overrides resource limits and quotas that keep the container from exhausting the host",
     kDropCap},
    {"HRUN-CAP-017", medium, "CAP_CHECKPOINT_RESTORE",
     "chooses pids and reads other processes' state for checkpointing", kDropCap},
    {"HRUN-CAP-018", low, "CAP_NET_RAW",
     "raw and packet sockets: spoofed traffic and ARP/DNS attacks on neighbours; with the host "
     "network namespace, on the host's network",
     kDropCap},
    {"HRUN-CAP-019", low, "CAP_MKNOD",
     "creates device nodes; only the device cgroup then stands between the container and host "
     "devices",
     kDropCap},
    {"HRUN-CAP-020", low, "CAP_SYS_NICE",
     "raises priorities and sets real-time scheduling, starving host processes", kDropCap},
    {"HRUN-CAP-021", low, "CAP_LINUX_IMMUTABLE",
     "sets the immutable and append-only flags, which can make files impossible to clean up",
     kDropCap},
    {"HRUN-CAP-022", low, "CAP_IPC_LOCK", "locks memory that cannot be swapped or reclaimed", kDropCap},
    {"HRUN-CAP-023", low, "capability outside the usual container set",
     "a capability that container workloads rarely need; each one widens what a compromised "
     "process can do",
     kDropCap},

    // ---- namespaces and users ----
    {"HRUN-NS-001", high, "host pid namespace",
     "the container sees and signals host processes, and with CAP_SYS_PTRACE reads their memory "
     "and /proc/<pid>/root",
     "add {\"type\": \"pid\"} to linux.namespaces (no path)"},
    {"HRUN-NS-002", high, "host network namespace",
     "the container reaches services bound to the host's localhost and abstract unix sockets "
     "(runtime shims), and shares the host's interfaces",
     "add {\"type\": \"network\"} to linux.namespaces (no path), or join a container's namespace"},
    {"HRUN-NS-003", medium, "host IPC namespace",
     "the container reads and writes host shared memory segments, semaphores and message queues",
     "add {\"type\": \"ipc\"} to linux.namespaces (no path)"},
    {"HRUN-NS-004", low, "host UTS namespace",
     "a hostname change in the container changes the host's",
     "add {\"type\": \"uts\"} to linux.namespaces (no path)"},
    {"HRUN-NS-005", critical, "host mount namespace",
     "the container's mounts (and its root) are the host's: there is no filesystem isolation",
     "add {\"type\": \"mount\"} to linux.namespaces (no path)"},
    {"HRUN-NS-006", low, "host cgroup namespace",
     "the container sees the host's cgroup hierarchy and the paths of other containers",
     "add {\"type\": \"cgroup\"} to linux.namespaces (no path)"},
    {"HRUN-NS-007", medium, "no user namespace",
     "container ids are host ids: a process that breaks out as root is root on the host, and "
     "root-owned host files it can reach are its own",
     "add {\"type\": \"user\"} with linux.uidMappings/gidMappings onto unprivileged host ids "
     "(`hrun spec --rootless` or specs/userns-remap.json), or run as a non-root process.user"},
    {"HRUN-USER-001", high, "user namespace maps onto host root",
     "container ids mapped to host uid/gid 0 keep root's ownership of host files: the user "
     "namespace no longer protects the host",
     "map container ids onto an unprivileged host range (hostID > 0)"},

    // ---- host paths bound into the container ----
    {"HRUN-MNT-001", critical, "host root filesystem bind-mounted",
     "the whole host filesystem (credentials, runtime sockets, binaries) is inside the container",
     "bind only the directories the workload needs, read-only where possible"},
    {"HRUN-MNT-002", critical, "container engine socket bind-mounted",
     "the engine's API starts privileged containers on request: access to its socket is root on "
     "the host, and a read-only bind does not stop connect()",
     "do not expose the engine socket; use a scoped API proxy if the workload must talk to it"},
    {"HRUN-MNT-003", high, "host credentials or system configuration bind-mounted",
     "/etc holds password hashes, sudoers, ssh and cluster keys; writing it gives host accounts or "
     "code run by host services",
     "bind only the single files needed (resolv.conf, hosts), read-only"},
    {"HRUN-MNT-004", critical, "host kernel interface bind-mounted (/proc, /sys, /dev)",
     "the host's /proc, /sys or /dev expose host processes, kernel knobs and devices that the "
     "container's own instances hide or mask",
     "mount fresh proc/sysfs/tmpfs instances (as `hrun spec` does) instead of binding the host's"},
    {"HRUN-MNT-005", high, "host system binaries or kernel images bind-mounted",
     "writable host binaries, libraries, kernel images or modules run later with host privileges",
     "do not bind host system directories; put what the workload needs in its image"},
    {"HRUN-MNT-006", high, "container runtime or orchestrator state bind-mounted",
     "other containers' filesystems, secrets and state live there; writing it can alter what the "
     "runtime starts next",
     "do not bind runtime state directories into workloads"},
    {"HRUN-MNT-007", high, "home directories bind-mounted",
     "home directories hold ssh keys, shell start-up files and credentials of host users",
     "bind only a dedicated data directory"},
    {"HRUN-MNT-008", medium, "host logs bind-mounted",
     "writable host logs can be forged or filled, and symlinks placed there have been used to "
     "make log readers open host files",
     "bind a dedicated log directory, or read-only"},
    {"HRUN-PROP-001", medium, "shared root mount propagation",
     "with shared propagation mounts cross between the container and the host in both directions",
     "set linux.rootfsPropagation to \"rprivate\" or \"rslave\" (or leave it out)"},
    {"HRUN-PROP-002", medium, "shared mount propagation on a mount",
     "mounts made below a shared bind appear on the host, and host mounts appear in the container",
     "drop \"shared\"/\"rshared\" from the mount's options (use \"rslave\" to receive host mounts)"},
    {"HRUN-ROOTFS-001", low, "writable root filesystem",
     "a writable root lets an intruder change the image's binaries and persist; a read-only root "
     "with tmpfs or volumes for data is the CIS recommendation",
     "set root.readonly to true and mount writable tmpfs or volumes where the workload writes"},

    // ---- /proc and /sys ----
    {"HRUN-PROC-001", high, "/proc/sys writable",
     "kernel knobs such as kernel.core_pattern and kernel.modprobe run host programs; only "
     "root-owned file permissions guard them when container root is host root",
     "list /proc/sys in linux.readonlyPaths"},
    {"HRUN-PROC-002", high, "/proc/sysrq-trigger writable",
     "writing it reboots, crashes or freezes the host kernel",
     "list /proc/sysrq-trigger in linux.readonlyPaths (or linux.maskedPaths)"},
    {"HRUN-PROC-003", medium, "host information in /proc or /sys not masked",
     "/proc/kcore, /proc/keys, /proc/timer_list, /proc/sched_debug and /sys/firmware leak kernel "
     "memory, keys and host activity",
     "list them in linux.maskedPaths, as `hrun spec` does"},
    {"HRUN-PROC-004", high, "sysfs mounted read-write",
     "writable sysfs reaches host-wide kernel and device settings (uevent_helper runs a host "
     "program)",
     "add \"ro\" to the sysfs mount's options"},
    {"HRUN-PROC-005", medium, "cgroup filesystem mounted read-write",
     "the container can raise its own limits, and on cgroup v1 with CAP_SYS_ADMIN a release_agent "
     "runs host programs",
     "add \"ro\" to the cgroup mount's options"},

    // ---- process ----
    {"HRUN-NNP-001", medium, "noNewPrivileges off",
     "setuid binaries and file capabilities in the image can raise privileges inside the "
     "container",
     "set process.noNewPrivileges to true"},
    {"HRUN-LSM-001", low, "no AppArmor profile or SELinux label",
     "a mandatory access control profile is a second fence when another setting is wrong; where "
     "the host enforces an LSM, a container without a profile runs unconfined",
     "set process.apparmorProfile (or process.selinuxLabel on SELinux hosts)"},
    {"HRUN-LSM-002", medium, "privileged SELinux type",
     "types such as spc_t and unconfined_t are exempt from the container policy",
     "use a confined container type (container_t)"},
    {"HRUN-RLIMIT-001", low, "no rlimits",
     "without limits on open files and processes per user the container inherits the runtime's, "
     "usually far higher than a workload needs",
     "set process.rlimits (at least RLIMIT_NOFILE)"},
    {"HRUN-ENV-001", low, "secret in the environment",
     "environment variables are visible in /proc/<pid>/environ, in the config file and in logs",
     "pass secrets in a read-only mounted file instead of process.env"},
    {"HRUN-SCHED-001", low, "real-time CPU or I/O scheduling",
     "real-time policies run ahead of every normal host process and can starve the host",
     "use SCHED_OTHER/SCHED_BATCH and the best-effort I/O class"},

    // ---- resources ----
    {"HRUN-RES-001", medium, "no memory limit",
     "a container without a memory limit can push the host into reclaim and the OOM killer",
     "set linux.resources.memory.limit"},
    {"HRUN-RES-002", medium, "no pids limit",
     "a fork bomb in the container exhausts the host's process table",
     "set linux.resources.pids.limit"},
    {"HRUN-RES-003", low, "no CPU limit",
     "without a quota, shares or a CPU set the container competes equally with the host's services",
     "set linux.resources.cpu (quota/period, shares or cpus)"},
    {"HRUN-RES-004", low, "protected from the OOM killer",
     "the kernel kills host processes first when memory runs out",
     "leave process.oomScoreAdj at 0 or above and memory.disableOOMKiller unset"},

    // ---- devices ----
    {"HRUN-DEV-001", critical, "every device allowed",
     "the device cgroup no longer restricts access: with a device node (or CAP_MKNOD) the "
     "container reads and writes host disks and memory",
     "start linux.resources.devices with {\"allow\": false, \"access\": \"rwm\"} and allow only "
     "specific devices"},
    {"HRUN-DEV-002", high, "host memory or I/O port device",
     "/dev/mem, /dev/kmem and /dev/port give raw access to host memory and hardware",
     "remove the device from linux.devices and its allow rule from linux.resources.devices"},
    {"HRUN-DEV-003", high, "host block device",
     "raw access to a disk bypasses every file permission and mount option",
     "mount the filesystem on the host and bind the directory needed instead"},
    {"HRUN-DEV-004", low, "extra host device",
     "each host device added is kernel driver surface and, sometimes, shared host state",
     "check the device is needed; prefer read-only access"},

    // ---- seccomp ----
    {"HRUN-SECCOMP-001", medium, "no seccomp filter",
     "every system call is open, including rarely used and historically exploitable ones",
     "add linux.seccomp with a default-deny allow-list (see specs/seccomp-example.json for the "
     "syntax)"},
    {"HRUN-SECCOMP-002", medium, "seccomp filter allows everything",
     "an allow-by-default filter that blocks none of the dangerous calls is no filter",
     "use a default-deny profile, or block at least the calls listed in the message"},
    {"HRUN-SECCOMP-003", low, "seccomp filter leaves dangerous calls open",
     "calls such as kexec_load, init_module, open_by_handle_at and bpf are common escape steps",
     "deny the calls listed in the message unconditionally"},

    // ---- sysctls ----
    {"HRUN-SYSCTL-001", critical, "sysctl that runs host programs",
     "kernel.core_pattern, kernel.modprobe and similar name programs the host kernel runs as root",
     "remove the key from linux.sysctl"},
    {"HRUN-SYSCTL-002", high, "sysctl not isolated by any namespace",
     "the setting is host-wide: the container changes the host kernel's behaviour",
     "remove the key from linux.sysctl; set it on the host if really needed"},
    {"HRUN-SYSCTL-003", high, "sysctl in a namespace shared with the host",
     "the sysctl is namespaced, but the container shares that namespace with the host",
     "give the container its own namespace for it, or remove the key"},
    {"HRUN-SYSCTL-004", low, "namespaced sysctl outside the usual safe set",
     "isolated from the host, but it can raise the kernel memory and CPU a container uses",
     "check the value is needed"},

    // ---- hooks ----
    {"HRUN-HOOK-001", info, "hook runs a host program",
     "prestart, createRuntime, createContainer, poststart and poststop hooks run a host binary "
     "with the runtime's privileges",
     "check the binary and its arguments are trusted"},
    {"HRUN-HOOK-002", medium, "hook binary in a world-writable directory",
     "anyone on the host who can write there can replace the program the runtime runs as root",
     "install hook programs in a root-owned directory"},
};

}  // namespace

std::string_view severity_name(Severity severity) {
    switch (severity) {
    case Severity::info: return "info";
    case Severity::low: return "low";
    case Severity::medium: return "medium";
    case Severity::high: return "high";
    case Severity::critical: return "critical";
    }
    return "info";
}

std::optional<Severity> severity_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kSeverityCount; ++i) {
        const auto s = static_cast<Severity>(i);
        if (severity_name(s) == name) return s;
    }
    return std::nullopt;
}

const std::vector<Rule>& rules() { return kRules; }

const Rule* find_rule(std::string_view id) {
    auto it = std::find_if(kRules.begin(), kRules.end(), [id](const Rule& r) { return r.id == id; });
    return it == kRules.end() ? nullptr : &*it;
}

}  // namespace hrun::audit
