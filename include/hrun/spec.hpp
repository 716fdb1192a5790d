// The OCI runtime-spec 1.2 configuration (config.json) as typed C++ values.
//
// Field names follow the JSON spelling so that a struct member maps to its JSON path at a glance.
// Optional JSON objects are std::optional; absent arrays are empty. Parsing (spec/parse.cpp)
// checks JSON types and names each wrong field; validation (spec/validate.cpp) checks meaning.
// Every struct compares member-wise, so round trips (parse(to_json(x)) == x) can be checked.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hrun::spec {

inline constexpr const char* kSpecVersion = "1.2.0";

// annotations[kRootfsIdmapAnnotation] == "true" (with a new user namespace): the rootfs is
// mounted idmapped through the container's user namespace, so that a rootfs owned by host root
// is owned by container root without a chown (what --userns-remap sets).
inline constexpr const char* kRootfsIdmapAnnotation = "org.hrun.rootfs.idmap";

struct IdMapping {
    uint32_t containerID = 0;
    uint32_t hostID = 0;
    uint32_t size = 0;

    bool operator==(const IdMapping&) const = default;
};

struct Root {
    std::string path;
    bool readonly = false;

    bool operator==(const Root&) const = default;
};

struct Mount {
    std::string destination;
    std::string type;
    std::string source;
    std::vector<std::string> options;
    std::vector<IdMapping> uidMappings;  // idmapped mount
    std::vector<IdMapping> gidMappings;

    bool operator==(const Mount&) const = default;
};

struct ConsoleSize {
    uint32_t height = 0;
    uint32_t width = 0;

    bool operator==(const ConsoleSize&) const = default;
};

struct User {
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<uint32_t> umask;
    std::vector<uint32_t> additionalGids;
    std::string username;  // Windows only in the spec; kept for round-tripping

    bool operator==(const User&) const = default;
};

struct Capabilities {
    std::vector<std::string> bounding;
    std::vector<std::string> effective;
    std::vector<std::string> inheritable;
    std::vector<std::string> permitted;
    std::vector<std::string> ambient;

    bool operator==(const Capabilities&) const = default;
};

struct Rlimit {
    std::string type;  // "RLIMIT_NOFILE"
    uint64_t hard = 0;
    uint64_t soft = 0;

    bool operator==(const Rlimit&) const = default;
};

struct Scheduler {
    std::string policy;  // SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE
    int32_t nice = 0;
    int32_t priority = 0;
    std::vector<std::string> flags;  // SCHED_FLAG_*
    uint64_t runtime = 0;
    uint64_t deadline = 0;
    uint64_t period = 0;

    bool operator==(const Scheduler&) const = default;
};

struct IoPriority {
    std::string ioClass;  // JSON "class": IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
    int32_t priority = 0;

    bool operator==(const IoPriority&) const = default;
};

struct Process {
    bool terminal = false;
    std::optional<ConsoleSize> consoleSize;
    User user;
    std::vector<std::string> args;
    std::string commandLine;  // Windows only
    std::vector<std::string> env;
    std::string cwd;
    std::optional<Capabilities> capabilities;
    std::vector<Rlimit> rlimits;
    bool noNewPrivileges = false;
    std::string apparmorProfile;
    std::optional<int32_t> oomScoreAdj;
    std::string selinuxLabel;
    std::optional<Scheduler> scheduler;
    std::optional<IoPriority> ioPriority;

    bool operator==(const Process&) const = default;
};

struct Hook {
    std::string path;
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::optional<int32_t> timeout;  // seconds, > 0

    bool operator==(const Hook&) const = default;
};

struct Hooks {
    std::vector<Hook> prestart;  // deprecated in the spec, still run by runc
    std::vector<Hook> createRuntime;
    std::vector<Hook> createContainer;
    std::vector<Hook> startContainer;
    std::vector<Hook> poststart;
    std::vector<Hook> poststop;

    bool operator==(const Hooks&) const = default;
};

struct Namespace {
    std::string type;  // pid network mount ipc uts user cgroup time
    std::string path;  // join this namespace instead of creating one

    bool operator==(const Namespace&) const = default;
};

struct TimeOffset {
    int64_t secs = 0;
    uint32_t nanosecs = 0;

    bool operator==(const TimeOffset&) const = default;
};

struct Device {
    std::string type;  // c, b, u, p
    std::string path;
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint32_t> fileMode;
    std::optional<uint32_t> uid;
    std::optional<uint32_t> gid;

    bool operator==(const Device&) const = default;
};

// --- linux.resources (applied by the cgroup backends) ---

struct DeviceRule {
    bool allow = false;
    std::string type;  // a, c, b (empty = all)
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    std::string access;  // subset of "rwm"

    bool operator==(const DeviceRule&) const = default;
};

struct MemoryResources {
    std::optional<int64_t> limit;
    std::optional<int64_t> reservation;
    std::optional<int64_t> swap;
    std::optional<int64_t> kernel;
    std::optional<int64_t> kernelTCP;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disableOOMKiller;
    std::optional<bool> useHierarchy;
    std::optional<bool> checkBeforeUpdate;

    bool operator==(const MemoryResources&) const = default;
};

struct CpuResources {
    std::optional<uint64_t> shares;
    std::optional<int64_t> quota;
    std::optional<uint64_t> burst;
    std::optional<uint64_t> period;
    std::optional<int64_t> realtimeRuntime;
    std::optional<uint64_t> realtimePeriod;
    std::string cpus;
    std::string mems;
    std::optional<int64_t> idle;

    bool operator==(const CpuResources&) const = default;
};

struct PidsResources {
    std::optional<int64_t> limit;

    bool operator==(const PidsResources&) const = default;
};

struct WeightDevice {
    int64_t major = 0;
    int64_t minor = 0;
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leafWeight;

    bool operator==(const WeightDevice&) const = default;
};

struct ThrottleDevice {
    int64_t major = 0;
    int64_t minor = 0;
    uint64_t rate = 0;

    bool operator==(const ThrottleDevice&) const = default;
};

struct BlockIoResources {
    std::optional<uint16_t> weight;
    std::optional<uint16_t> leafWeight;
    std::vector<WeightDevice> weightDevice;
    std::vector<ThrottleDevice> throttleReadBpsDevice;
    std::vector<ThrottleDevice> throttleWriteBpsDevice;
    std::vector<ThrottleDevice> throttleReadIOPSDevice;
    std::vector<ThrottleDevice> throttleWriteIOPSDevice;

    bool operator==(const BlockIoResources&) const = default;
};

struct HugepageLimit {
    std::string pageSize;  // "2MB"
    uint64_t limit = 0;

    bool operator==(const HugepageLimit&) const = default;
};

struct NetworkPriority {
    std::string name;
    uint32_t priority = 0;

    bool operator==(const NetworkPriority&) const = default;
};

struct NetworkResources {
    std::optional<uint32_t> classID;
    std::vector<NetworkPriority> priorities;

    bool operator==(const NetworkResources&) const = default;
};

struct RdmaLimit {
    std::optional<uint32_t> hcaHandles;
    std::optional<uint32_t> hcaObjects;

    bool operator==(const RdmaLimit&) const = default;
};

struct Resources {
    std::vector<DeviceRule> devices;
    std::optional<MemoryResources> memory;
    std::optional<CpuResources> cpu;
    std::optional<PidsResources> pids;
    std::optional<BlockIoResources> blockIO;
    std::vector<HugepageLimit> hugepageLimits;
    std::optional<NetworkResources> network;
    std::map<std::string, RdmaLimit> rdma;
    std::map<std::string, std::string> unified;

    bool operator==(const Resources&) const = default;
};

// --- linux.seccomp ---

struct SeccompArg {
    uint32_t index = 0;
    uint64_t value = 0;
    uint64_t valueTwo = 0;
    std::string op;  // SCMP_CMP_NE, _LT, _LE, _EQ, _GE, _GT, _MASKED_EQ

    bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
    std::vector<std::string> names;
    std::string action;  // SCMP_ACT_*
    std::optional<uint32_t> errnoRet;
    std::vector<SeccompArg> args;

    bool operator==(const SeccompSyscall&) const = default;
};

struct Seccomp {
    std::string defaultAction;
    std::optional<uint32_t> defaultErrnoRet;
    std::vector<std::string> architectures;  // SCMP_ARCH_*
    std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
    std::string listenerPath;
    std::string listenerMetadata;
    std::vector<SeccompSyscall> syscalls;

    bool operator==(const Seccomp&) const = default;
};

struct Personality {
    std::string domain;  // LINUX, LINUX32
    std::vector<std::string> flags;

    bool operator==(const Personality&) const = default;
};

struct Linux {
    std::vector<Namespace> namespaces;
    std::vector<IdMapping> uidMappings;
    std::vector<IdMapping> gidMappings;
    std::map<std::string, TimeOffset> timeOffsets;  // "monotonic", "boottime"
    std::vector<Device> devices;
    std::string cgroupsPath;
    std::optional<Resources> resources;
    std::string rootfsPropagation;  // shared, slave, private, unbindable (r-prefixed too)
    std::optional<Seccomp> seccomp;
    std::map<std::string, std::string> sysctl;
    std::vector<std::string> maskedPaths;
    std::vector<std::string> readonlyPaths;
    std::string mountLabel;
    std::optional<Personality> personality;

    bool operator==(const Linux&) const = default;
};

struct Spec {
    std::string ociVersion;
    std::optional<Root> root;
    std::vector<Mount> mounts;
    std::optional<Process> process;
    std::string hostname;
    std::string domainname;
    std::map<std::string, std::string> annotations;
    std::optional<Hooks> hooks;
    std::optional<Linux> linux;

    bool operator==(const Spec&) const = default;
};

}  // namespace hrun::spec
