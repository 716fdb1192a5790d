// linux.resources.devices: what the device cgroup lets the container open.
//
// The rules are read the way hrun applies them (cgroups/devices.cpp): the last rule matching a
// device decides the access bits it names and anything no rule allows is denied. linux.devices
// adds no rule (as in runc): a node it creates opens only where these rules allow. A wildcard
// allow followed by a deny-all is therefore harmless, and only what finally stays open is
// reported.
#include <optional>
#include <string>
#include <vector>

#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {
namespace {

using spec::check::at;

constexpr unsigned kRead = 1, kWrite = 2, kMknod = 4;
// A device number no rule names on purpose: allowed only through a wildcard.
constexpr int64_t kUnnamedMajor = 4094;
constexpr int64_t kUnnamedMinor = 1048574;

struct Rule {
    bool allow = false;
    char type = 'a';               // a, c, b
    std::optional<int64_t> major;  // nullopt: any
    std::optional<int64_t> minor;
    unsigned access = 0;
    std::string field;
};

unsigned access_bits(std::string_view access) {
    unsigned bits = 0;
    for (char c : access) bits |= c == 'r' ? kRead : c == 'w' ? kWrite : c == 'm' ? kMknod : 0;
    return bits;
}

std::optional<int64_t> number(std::optional<int64_t> n) {
    if (!n || *n < 0) return std::nullopt;  // -1 is the spec's other spelling of "any"
    return n;
}

std::vector<Rule> effective_rules(const Context& ctx) {
    std::vector<Rule> rules;
    if (!ctx.linux) return rules;
    if (ctx.linux->resources) {
        const auto& list = ctx.linux->resources->devices;
        for (std::size_t i = 0; i < list.size(); ++i) {
            const spec::DeviceRule& d = list[i];
            const char type = d.type.empty() ? 'a' : d.type[0];
            rules.push_back({d.allow, type, number(d.major), number(d.minor), access_bits(d.access),
                             at("linux.resources.devices", i)});
        }
    }
    return rules;
}

bool matches(const Rule& r, char type, int64_t major, int64_t minor) {
    if (r.type != 'a' && r.type != type) return false;
    if (r.major && *r.major != major) return false;
    if (r.minor && *r.minor != minor) return false;
    return true;
}

// The field of the rule that lets `access` through, or nullopt when the device stays closed.
std::optional<std::string> allowed_by(const std::vector<Rule>& rules, char type, int64_t major, int64_t minor,
                                      unsigned access) {
    unsigned remaining = access;
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        if (!matches(*it, type, major, minor)) continue;
        if (!it->allow) {
            if (remaining & it->access) return std::nullopt;
            continue;
        }
        remaining &= ~it->access;
        if (remaining == 0) return it->field;
    }
    return std::nullopt;
}

// Reading or writing: either is enough to matter.
std::optional<std::string> opens(const std::vector<Rule>& rules, char type, int64_t major, int64_t minor) {
    if (auto f = allowed_by(rules, type, major, minor, kRead)) return f;
    return allowed_by(rules, type, major, minor, kWrite);
}

// Character devices every container gets (hrun's defaults): null, zero, full, random, urandom,
// tty, console, ptmx, and the pty slaves.
bool is_standard_char(int64_t major, std::optional<int64_t> minor) {
    if (major == 136) return true;
    if (!minor) return false;
    if (major == 1) return *minor == 3 || *minor == 5 || *minor == 7 || *minor == 8 || *minor == 9;
    if (major == 5) return *minor == 0 || *minor == 1 || *minor == 2;
    return false;
}

std::string device_name(char type, std::optional<int64_t> major, std::optional<int64_t> minor) {
    auto n = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : std::string("*"); };
    return std::string(1, type) + " " + n(major) + ":" + n(minor);
}

}  // namespace

void check_devices(const Context& ctx, Findings& out) {
    const std::vector<Rule> rules = effective_rules(ctx);

    const auto any_char = opens(rules, 'c', kUnnamedMajor, kUnnamedMinor);
    const auto any_block = opens(rules, 'b', kUnnamedMajor, kUnnamedMinor);
    if (any_char || any_block) {
        const std::string kinds = any_char && any_block ? "every character and block device"
                                  : any_char            ? "every character device"
                                                        : "every block device";
        out.add("HRUN-DEV-001", Severity::critical, any_char ? *any_char : *any_block,
                "the device rules let the container open " + kinds);
    }

    // Host memory and I/O ports, unless the wildcard finding already covers them.
    if (!any_char) {
        struct Memory {
            int64_t minor;
            std::string_view name;
        };
        for (const Memory& m : {Memory{1, "/dev/mem"}, Memory{2, "/dev/kmem"}, Memory{4, "/dev/port"}}) {
            if (auto f = opens(rules, 'c', 1, m.minor))
                out.add("HRUN-DEV-002", Severity::high, *f, std::string(m.name) + " (c 1:" + std::to_string(m.minor) + ") can be opened");
        }
    }

    for (const Rule& r : rules) {
        if (!r.allow || !(r.access & (kRead | kWrite))) continue;
        // Only rules that still decide something: a later deny may have closed them again.
        const int64_t major = r.major.value_or(kUnnamedMajor);
        const int64_t minor = r.minor.value_or(kUnnamedMinor);
        if (r.type == 'b' && !any_block) {
            if (opens(rules, 'b', major, minor) == r.field)
                out.add("HRUN-DEV-003", Severity::high, r.field,
                        "block device " + device_name('b', r.major, r.minor) + " can be opened");
        } else if (r.type == 'c' && !any_char && r.major) {
            const bool memory = *r.major == 1 && (!r.minor || *r.minor == 1 || *r.minor == 2 || *r.minor == 4);
            if (memory || is_standard_char(*r.major, r.minor)) continue;
            if (opens(rules, 'c', major, minor) == r.field)
                out.add("HRUN-DEV-004", Severity::low, r.field,
                        "host device " + device_name('c', r.major, r.minor) + " can be opened");
        }
    }
}

}  // namespace hrun::audit::detail
