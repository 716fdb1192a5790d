// One table per config struct: the JSON name of each member and whether the writer always emits
// it. The reader (parse.cpp) and the writer (write.cpp) both walk these tables, so a field can
// never be read under one name and written under another, and a new member is one line here.
#pragma once

#include <string_view>
#include <tuple>

#include "hrun/spec.hpp"

namespace hrun::spec::fields {

// Always: required by the runtime-spec, written even when zero/empty.
// IfSet: written only when it differs from what an absent field parses to (so round trips hold).
enum class Emit { Always, IfSet };

template <class S, class M>
struct Field {
    std::string_view name;
    M S::*member;
    Emit emit;
};

template <class S, class M>
constexpr Field<S, M> field(std::string_view name, M S::*member, Emit emit = Emit::IfSet) {
    return {name, member, emit};
}

template <class S>
struct Table;  // specialised below; Table<S>::list is a tuple of Field<S, ...>

template <class S>
concept Described = requires { Table<S>::list; };

constexpr Emit always = Emit::Always;

#define HRUN_FIELDS(S, ...)                                  \
    template <>                                              \
    struct Table<S> {                                        \
        static constexpr auto list = std::tuple{__VA_ARGS__}; \
    }

HRUN_FIELDS(IdMapping, field("containerID", &IdMapping::containerID, always),
            field("hostID", &IdMapping::hostID, always), field("size", &IdMapping::size, always));

HRUN_FIELDS(Root, field("path", &Root::path, always), field("readonly", &Root::readonly));

HRUN_FIELDS(Mount, field("destination", &Mount::destination, always), field("type", &Mount::type),
            field("source", &Mount::source), field("options", &Mount::options),
            field("uidMappings", &Mount::uidMappings), field("gidMappings", &Mount::gidMappings));

HRUN_FIELDS(ConsoleSize, field("height", &ConsoleSize::height, always),
            field("width", &ConsoleSize::width, always));

HRUN_FIELDS(User, field("uid", &User::uid, always), field("gid", &User::gid, always),
            field("umask", &User::umask), field("additionalGids", &User::additionalGids),
            field("username", &User::username));

HRUN_FIELDS(Capabilities, field("bounding", &Capabilities::bounding),
            field("effective", &Capabilities::effective),
            field("inheritable", &Capabilities::inheritable),
            field("permitted", &Capabilities::permitted), field("ambient", &Capabilities::ambient));

HRUN_FIELDS(Rlimit, field("type", &Rlimit::type, always), field("hard", &Rlimit::hard, always),
            field("soft", &Rlimit::soft, always));

HRUN_FIELDS(Scheduler, field("policy", &Scheduler::policy, always), field("nice", &Scheduler::nice),
            field("priority", &Scheduler::priority), field("flags", &Scheduler::flags),
            field("runtime", &Scheduler::runtime), field("deadline", &Scheduler::deadline),
            field("period", &Scheduler::period));

HRUN_FIELDS(IoPriority, field("class", &IoPriority::ioClass, always),
            field("priority", &IoPriority::priority, always));

HRUN_FIELDS(Process, field("terminal", &Process::terminal, always),
            field("consoleSize", &Process::consoleSize), field("user", &Process::user, always),
            field("args", &Process::args), field("commandLine", &Process::commandLine),
            field("env", &Process::env), field("cwd", &Process::cwd, always),
            field("capabilities", &Process::capabilities), field("rlimits", &Process::rlimits),
            field("noNewPrivileges", &Process::noNewPrivileges),
            field("apparmorProfile", &Process::apparmorProfile),
            field("oomScoreAdj", &Process::oomScoreAdj),
            field("selinuxLabel", &Process::selinuxLabel), field("scheduler", &Process::scheduler),
            field("ioPriority", &Process::ioPriority));

HRUN_FIELDS(Hook, field("path", &Hook::path, always), field("args", &Hook::args),
            field("env", &Hook::env), field("timeout", &Hook::timeout));

HRUN_FIELDS(Hooks, field("prestart", &Hooks::prestart), field("createRuntime", &Hooks::createRuntime),
            field("createContainer", &Hooks::createContainer),
            field("startContainer", &Hooks::startContainer), field("poststart", &Hooks::poststart),
            field("poststop", &Hooks::poststop));

HRUN_FIELDS(Namespace, field("type", &Namespace::type, always), field("path", &Namespace::path));

HRUN_FIELDS(TimeOffset, field("secs", &TimeOffset::secs, always),
            field("nanosecs", &TimeOffset::nanosecs, always));

HRUN_FIELDS(Device, field("type", &Device::type, always), field("path", &Device::path, always),
            field("major", &Device::major, always), field("minor", &Device::minor, always),
            field("fileMode", &Device::fileMode), field("uid", &Device::uid),
            field("gid", &Device::gid));

HRUN_FIELDS(DeviceRule, field("allow", &DeviceRule::allow, always), field("type", &DeviceRule::type),
            field("major", &DeviceRule::major), field("minor", &DeviceRule::minor),
            field("access", &DeviceRule::access));

HRUN_FIELDS(MemoryResources, field("limit", &MemoryResources::limit),
            field("reservation", &MemoryResources::reservation),
            field("swap", &MemoryResources::swap), field("kernel", &MemoryResources::kernel),
            field("kernelTCP", &MemoryResources::kernelTCP),
            field("swappiness", &MemoryResources::swappiness),
            field("disableOOMKiller", &MemoryResources::disableOOMKiller),
            field("useHierarchy", &MemoryResources::useHierarchy),
            field("checkBeforeUpdate", &MemoryResources::checkBeforeUpdate));

HRUN_FIELDS(CpuResources, field("shares", &CpuResources::shares), field("quota", &CpuResources::quota),
            field("burst", &CpuResources::burst), field("period", &CpuResources::period),
            field("realtimeRuntime", &CpuResources::realtimeRuntime),
            field("realtimePeriod", &CpuResources::realtimePeriod),
            field("cpus", &CpuResources::cpus), field("mems", &CpuResources::mems),
            field("idle", &CpuResources::idle));

HRUN_FIELDS(PidsResources, field("limit", &PidsResources::limit));

HRUN_FIELDS(WeightDevice, field("major", &WeightDevice::major, always),
            field("minor", &WeightDevice::minor, always), field("weight", &WeightDevice::weight),
            field("leafWeight", &WeightDevice::leafWeight));

HRUN_FIELDS(ThrottleDevice, field("major", &ThrottleDevice::major, always),
            field("minor", &ThrottleDevice::minor, always),
            field("rate", &ThrottleDevice::rate, always));

HRUN_FIELDS(BlockIoResources, field("weight", &BlockIoResources::weight),
            field("leafWeight", &BlockIoResources::leafWeight),
            field("weightDevice", &BlockIoResources::weightDevice),
            field("throttleReadBpsDevice", &BlockIoResources::throttleReadBpsDevice),
            field("throttleWriteBpsDevice", &BlockIoResources::throttleWriteBpsDevice),
            field("throttleReadIOPSDevice", &BlockIoResources::throttleReadIOPSDevice),
            field("throttleWriteIOPSDevice", &BlockIoResources::throttleWriteIOPSDevice));

HRUN_FIELDS(HugepageLimit, field("pageSize", &HugepageLimit::pageSize, always),
            field("limit", &HugepageLimit::limit, always));

HRUN_FIELDS(NetworkPriority, field("name", &NetworkPriority::name, always),
            field("priority", &NetworkPriority::priority, always));

HRUN_FIELDS(NetworkResources, field("classID", &NetworkResources::classID),
            field("priorities", &NetworkResources::priorities));

HRUN_FIELDS(RdmaLimit, field("hcaHandles", &RdmaLimit::hcaHandles),
            field("hcaObjects", &RdmaLimit::hcaObjects));

HRUN_FIELDS(Resources, field("devices", &Resources::devices), field("memory", &Resources::memory),
            field("cpu", &Resources::cpu), field("pids", &Resources::pids),
            field("blockIO", &Resources::blockIO),
            field("hugepageLimits", &Resources::hugepageLimits),
            field("network", &Resources::network), field("rdma", &Resources::rdma),
            field("unified", &Resources::unified));

HRUN_FIELDS(SeccompArg, field("index", &SeccompArg::index, always),
            field("value", &SeccompArg::value, always), field("valueTwo", &SeccompArg::valueTwo),
            field("op", &SeccompArg::op, always));

HRUN_FIELDS(SeccompSyscall, field("names", &SeccompSyscall::names, always),
            field("action", &SeccompSyscall::action, always),
            field("errnoRet", &SeccompSyscall::errnoRet), field("args", &SeccompSyscall::args));

HRUN_FIELDS(Seccomp, field("defaultAction", &Seccomp::defaultAction, always),
            field("defaultErrnoRet", &Seccomp::defaultErrnoRet),
            field("architectures", &Seccomp::architectures), field("flags", &Seccomp::flags),
            field("listenerPath", &Seccomp::listenerPath),
            field("listenerMetadata", &Seccomp::listenerMetadata),
            field("syscalls", &Seccomp::syscalls));

HRUN_FIELDS(Personality, field("domain", &Personality::domain, always),
            field("flags", &Personality::flags));

HRUN_FIELDS(Linux, field("namespaces", &Linux::namespaces), field("uidMappings", &Linux::uidMappings),
            field("gidMappings", &Linux::gidMappings), field("timeOffsets", &Linux::timeOffsets),
            field("devices", &Linux::devices), field("cgroupsPath", &Linux::cgroupsPath),
            field("resources", &Linux::resources),
            field("rootfsPropagation", &Linux::rootfsPropagation),
            field("seccomp", &Linux::seccomp), field("sysctl", &Linux::sysctl),
            field("maskedPaths", &Linux::maskedPaths),
            field("readonlyPaths", &Linux::readonlyPaths), field("mountLabel", &Linux::mountLabel),
            field("personality", &Linux::personality));

HRUN_FIELDS(Spec, field("ociVersion", &Spec::ociVersion, always), field("root", &Spec::root),
            field("mounts", &Spec::mounts), field("process", &Spec::process),
            field("hostname", &Spec::hostname), field("domainname", &Spec::domainname),
            field("annotations", &Spec::annotations), field("hooks", &Spec::hooks),
            field("linux", &Spec::linux));

#undef HRUN_FIELDS

}  // namespace hrun::spec::fields
