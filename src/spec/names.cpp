// Name tables for capabilities, rlimits and namespace types.
#include "spec/names.hpp"

#include <sched.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include <array>
#include <utility>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace hrun::spec {

std::optional<int> capability_from_name(std::string_view name) {
    // libcap also accepts lower case, names without "CAP_" and plain numbers; the runtime-spec
    // spells capabilities exactly "CAP_" + upper case, and anything else is a config mistake.
    constexpr std::string_view prefix = "CAP_";
    if (name.size() <= prefix.size() || !name.starts_with(prefix)) return std::nullopt;
    char buf[64];
    if (name.size() >= sizeof buf) return std::nullopt;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool allowed = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!allowed) return std::nullopt;
        buf[i] = c;
    }
    buf[name.size()] = '\0';
    // The suffix must name a capability, not be a number that libcap would take as one.
    if (name[prefix.size()] >= '0' && name[prefix.size()] <= '9') return std::nullopt;
    cap_value_t value = 0;
    if (cap_from_name(buf, &value) != 0) return std::nullopt;
    return static_cast<int>(value);
}

std::optional<int> rlimit_from_name(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, int>, 16> table{{
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
    }};
    for (const auto& [n, v] : table)
        if (n == name) return v;
    return std::nullopt;
}

std::optional<int> namespace_clone_flag(std::string_view type) {
    static constexpr std::array<std::pair<std::string_view, int>, 8> table{{
        {"pid", CLONE_NEWPID},
        {"network", CLONE_NEWNET},
        {"mount", CLONE_NEWNS},
        {"ipc", CLONE_NEWIPC},
        {"uts", CLONE_NEWUTS},
        {"user", CLONE_NEWUSER},
        {"cgroup", CLONE_NEWCGROUP},
        {"time", CLONE_NEWTIME},
    }};
    for (const auto& [n, v] : table)
        if (n == type) return v;
    return std::nullopt;
}

}  // namespace hrun::spec
