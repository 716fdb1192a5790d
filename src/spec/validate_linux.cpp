// Checks of the `linux` section, except resources (validate_resources.cpp) and seccomp
// (validate_seccomp.cpp).
#include <sched.h>

#include <array>
#include <string_view>

#include "spec/names.hpp"
#include "spec/validate_internal.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace hrun::spec::check {
namespace {

Status id_maps(const Linux& linux, const NamespaceSet& ns) {
    if (!linux.uidMappings.empty() && !ns.lists(CLONE_NEWUSER))
        return fail("linux.uidMappings", "needs a user namespace in linux.namespaces");
    if (!linux.gidMappings.empty() && !ns.lists(CLONE_NEWUSER))
        return fail("linux.gidMappings", "needs a user namespace in linux.namespaces");
    HRUN_TRY(id_mappings("linux.uidMappings", linux.uidMappings));
    HRUN_TRY(id_mappings("linux.gidMappings", linux.gidMappings));
    // Without a uid and a gid map the new namespace's processes are nobody and cannot setuid.
    if (ns.creates(CLONE_NEWUSER)) {
        if (linux.uidMappings.empty()) return fail("linux.uidMappings", "a new user namespace needs at least one mapping");
        if (linux.gidMappings.empty()) return fail("linux.gidMappings", "a new user namespace needs at least one mapping");
    }
    return ok();
}

Status time_offsets(const Linux& linux, const NamespaceSet& ns) {
    if (linux.timeOffsets.empty()) return ok();
    // Offsets can only be written before the first process enters the namespace.
    if (!ns.creates(CLONE_NEWTIME)) return fail("linux.timeOffsets", "needs a new time namespace");
    for (const auto& [clock, offset] : linux.timeOffsets) {
        if (clock != "monotonic" && clock != "boottime")
            return fail(key_at("linux.timeOffsets", clock), "unknown clock (expected \"monotonic\" or \"boottime\")");
        if (offset.nanosecs >= 1'000'000'000u)
            return fail(join(key_at("linux.timeOffsets", clock), "nanosecs"),
                        std::to_string(offset.nanosecs) + " is not below 1000000000");
    }
    return ok();
}

// Lexically: is `path` a path strictly below /dev once "." and ".." are resolved?
bool under_dev(std::string_view path) {
    std::size_t depth = 0;
    bool first_is_dev = false;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(i, end - i);
        i = end;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (depth == 0) return false;
            --depth;
            continue;
        }
        if (depth == 0) first_is_dev = part == "dev";
        ++depth;
        if (!first_is_dev) return false;
    }
    return first_is_dev && depth >= 2;
}

Status devices(const std::vector<Device>& list) {
    const std::string_view base = "linux.devices";
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Device& d = list[i];
        if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
            return fail(at(base, i, "type"), "unknown device type " + quote(d.type) + " (expected c, b, u or p)");
        HRUN_CHECK_AT(at(base, i, "path"), absolute_path(d.path));
        if (!under_dev(d.path)) return fail(at(base, i, "path"), quote(d.path) + " is not under /dev");
        if (d.type != "p") {
            // Linux device numbers: 12-bit major, 20-bit minor.
            if (d.major < 0 || d.major > 0xfff)
                return fail(at(base, i, "major"), std::to_string(d.major) + " is out of range [0, 4095]");
            if (d.minor < 0 || d.minor > 0xfffff)
                return fail(at(base, i, "minor"), std::to_string(d.minor) + " is out of range [0, 1048575]");
        }
        if (d.fileMode && *d.fileMode > 07777)
            return fail(at(base, i, "fileMode"), octal(*d.fileMode) + " exceeds 07777");
        // chown(2) reads 4294967295 as "leave unchanged": the node would stay root's.
        if (d.uid && *d.uid == 4294967295u)
            return fail(at(base, i, "uid"), "4294967295 is (uid_t)-1, which chown reads as \"unchanged\"; ids are 0 to 4294967294");
        if (d.gid && *d.gid == 4294967295u)
            return fail(at(base, i, "gid"), "4294967295 is (gid_t)-1, which chown reads as \"unchanged\"; ids are 0 to 4294967294");
    }
    return ok();
}

// Which namespace isolates a sysctl; 0 when none does and writing it would change the host.
int sysctl_namespace(std::string_view key) {
    if (key.starts_with("net.")) return CLONE_NEWNET;
    if (key.starts_with("kernel.shm") || key.starts_with("kernel.msg") || key == "kernel.sem" ||
        key == "kernel.sem_next_id" || key.starts_with("fs.mqueue."))
        return CLONE_NEWIPC;
    if (key == "kernel.hostname" || key == "kernel.domainname") return CLONE_NEWUTS;
    return 0;
}

Status sysctls(const std::map<std::string, std::string>& list, const NamespaceSet& ns) {
    for (const auto& [key, value] : list) {
        // The key becomes a path below /proc/sys: no separators or empty components that could
        // walk elsewhere.
        if (key.find('/') != std::string::npos || has_nul(key))
            return fail(key_at("linux.sysctl", key), "must be a dotted name without \"/\"");
        if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
            return fail(key_at("linux.sysctl", key), "has an empty component");
        const int flag = sysctl_namespace(key);
        if (flag == 0) return fail(key_at("linux.sysctl", key), "not namespaced; would change the host");
        // Created or joined by path (create/namespaces.cpp refuses the host's namespace).
        if (!ns.lists(flag)) {
            const char* name = flag == CLONE_NEWNET ? "a network" : flag == CLONE_NEWIPC ? "an ipc" : "a uts";
            return fail(key_at("linux.sysctl", key), std::string("needs ") + name + " namespace");
        }
        if (has_nul(value)) return fail(key_at("linux.sysctl", key), "value contains a NUL byte");
    }
    return ok();
}

Status propagation(std::string_view value) {
    static constexpr std::array<std::string_view, 8> names{"shared",  "slave",  "private",  "unbindable",
                                                           "rshared", "rslave", "rprivate", "runbindable"};
    if (value.empty()) return ok();
    for (auto n : names)
        if (n == value) return ok();
    return fail("linux.rootfsPropagation", "unknown propagation " + quote(value));
}

Status path_list(std::string_view base, const std::vector<std::string>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) HRUN_CHECK_AT(at(base, i), absolute_path(list[i]));
    return ok();
}

Status cgroups_path(std::string_view path) {
    if (has_nul(path)) return fail("linux.cgroupsPath", "contains a NUL byte");
    // Both the cgroupfs form (/a/b) and the systemd form (slice:prefix:name) are split here.
    std::size_t start = 0;
    for (std::size_t i = 0; i <= path.size(); ++i) {
        if (i == path.size() || path[i] == '/' || path[i] == ':') {
            if (path.substr(start, i - start) == "..")
                return fail("linux.cgroupsPath", quote(path) + " has a \"..\" component that would leave the cgroup root");
            start = i + 1;
        }
    }
    return ok();
}

}  // namespace

Result<NamespaceSet> namespaces(const std::vector<Namespace>& list) {
    NamespaceSet ns;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Namespace& n = list[i];
        const auto flag = namespace_clone_flag(n.type);
        if (!flag) return fail(at("linux.namespaces", i, "type"), "unknown namespace type " + quote(n.type));
        if (ns.lists(*flag)) return fail("linux.namespaces", quote(n.type) + " listed twice");
        if (!n.path.empty()) HRUN_CHECK_AT(at("linux.namespaces", i, "path"), absolute_path(n.path));
        ns.listed |= *flag;
        if (n.path.empty()) ns.created |= *flag;
    }
    return ns;
}

Status linux_section(const Linux& linux, const NamespaceSet& ns) {
    HRUN_TRY(id_maps(linux, ns));
    HRUN_TRY(time_offsets(linux, ns));
    HRUN_TRY(devices(linux.devices));
    HRUN_TRY(cgroups_path(linux.cgroupsPath));
    if (linux.resources) HRUN_TRY(resources(*linux.resources));
    HRUN_TRY(propagation(linux.rootfsPropagation));
    if (linux.seccomp) HRUN_TRY(seccomp(*linux.seccomp));
    HRUN_TRY(sysctls(linux.sysctl, ns));
    HRUN_TRY(path_list("linux.maskedPaths", linux.maskedPaths));
    HRUN_TRY(path_list("linux.readonlyPaths", linux.readonlyPaths));
    if (!linux.mountLabel.empty()) HRUN_CHECK_AT("linux.mountLabel", selinux_label(linux.mountLabel));
    if (linux.personality && linux.personality->domain != "LINUX" && linux.personality->domain != "LINUX32")
        return fail("linux.personality.domain", "unknown domain " + quote(linux.personality->domain));
    return ok();
}

}  // namespace hrun::spec::check
