// validate_spec: the order of checks, the top-level fields, hooks, and the helpers shared by the
// section validators (validate_*.cpp).
#include <sched.h>

#include <charconv>
#include <cstdint>

#include "spec/names.hpp"
#include "spec/spec_io.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::spec {
namespace check {

// ---- field paths and quoting ----

std::string at(std::string_view base, std::size_t index) {
    std::string out(base);
    out += '[';
    out += std::to_string(index);
    out += ']';
    return out;
}

std::string at(std::string_view base, std::size_t index, std::string_view member) {
    return join(at(base, index), member);
}

std::string key_at(std::string_view base, std::string_view key) {
    std::string out(base);
    out += '[';
    out += quote(key);
    out += ']';
    return out;
}

std::string join(std::string_view base, std::string_view member) {
    std::string out(base);
    out += '.';
    out += member;
    return out;
}

std::string quote(std::string_view value) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned char c : value) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out += "\\x";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
    return out;
}

std::string octal(uint64_t value) {
    char buf[32];
    buf[0] = '0';
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf, value, 8);
    (void)ec;
    return value == 0 ? std::string("0") : std::string(buf, end);
}

// ---- small checks ----

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

bool climbs_above_root(std::string_view path) {
    long depth = 0;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t end = path.find('/', i);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(i, end - i);
        if (part == "..") {
            if (--depth < 0) return true;
        } else if (!part.empty() && part != ".") {
            ++depth;
        }
        i = end;
    }
    return false;
}

Status absolute_path(std::string_view path) {
    if (path.empty() || path[0] != '/') return fail({}, "must be absolute");
    if (has_nul(path)) return fail({}, "contains a NUL byte");
    return ok();
}

Status single_line(std::string_view value) {
    if (value.empty()) return fail({}, "must not be empty");
    if (value.find_first_of(std::string_view("\n\r\0", 3)) != std::string_view::npos)
        return fail({}, quote(value) + " must be a single line");
    return ok();
}

Status selinux_label(std::string_view label) {
    HRUN_TRY(single_line(label));
    // user:role:type[:level], where the level itself may contain colons (s0:c1,c2).
    const auto c1 = label.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : label.find(':', c1 + 1);
    const auto c3 = c2 == std::string_view::npos ? c2 : label.find(':', c2 + 1);
    const bool well_formed = c1 != 0 && c2 != std::string_view::npos && c2 != c1 + 1 &&
                             c2 + 1 < label.size() && c3 != c2 + 1 && c3 + 1 != label.size();
    if (!well_formed) return fail({}, quote(label) + " is not of the form user:role:type[:level]");
    return ok();
}

Status env_entry(std::string_view entry) {
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) return fail({}, quote(entry) + " is not of the form KEY=VALUE");
    if (eq == 0) return fail({}, quote(entry) + " has an empty key");
    if (has_nul(entry)) return fail({}, "contains a NUL byte");
    return ok();
}

namespace {

std::string id_range(uint64_t first, uint64_t size) {
    return std::to_string(first) + "-" + std::to_string(first + size - 1);
}

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
    return a < b + b_size && b < a + a_size;
}

}  // namespace

Status id_mappings(std::string_view field, std::span<const IdMapping> maps) {
    // The kernel takes at most 340 lines in uid_map/gid_map (since Linux 4.15).
    if (maps.size() > 340)
        return fail(std::string(field), "has " + std::to_string(maps.size()) + " entries; the kernel accepts at most 340");
    // The kernel refuses an extent that reaches 4294967295 ((uid_t)-1, "no id"): the last id a
    // map may hold is 4294967294.
    constexpr uint64_t id_end = 4294967295;
    for (std::size_t i = 0; i < maps.size(); ++i) {
        const IdMapping& m = maps[i];
        if (m.size == 0) return fail(at(field, i, "size"), "must be greater than 0");
        if (uint64_t{m.containerID} + m.size > id_end)
            return fail(at(field, i), "container ids " + std::to_string(m.containerID) + "+" + std::to_string(m.size) +
                                          " go past 4294967294");
        if (uint64_t{m.hostID} + m.size > id_end)
            return fail(at(field, i),
                        "host ids " + std::to_string(m.hostID) + "+" + std::to_string(m.size) + " go past 4294967294");
        for (std::size_t j = 0; j < i; ++j) {
            const IdMapping& o = maps[j];
            if (overlaps(m.containerID, m.size, o.containerID, o.size))
                return fail(at(field, i),
                            "overlaps " + at(field, j) + " (container ids " + id_range(o.containerID, o.size) + ")");
            if (overlaps(m.hostID, m.size, o.hostID, o.size))
                return fail(at(field, i), "overlaps " + at(field, j) + " (host ids " + id_range(o.hostID, o.size) + ")");
        }
    }
    return ok();
}

// ---- top-level fields ----

Status oci_version(std::string_view version) {
    if (version.empty()) return fail("ociVersion", "missing");
    // MAJOR.MINOR.PATCH with an optional "-prerelease" or "+build" suffix (semver).
    const auto bad = [&] { return fail("ociVersion", quote(version) + " is not a version of the form 1.x.y"); };
    unsigned numbers[3] = {};
    const char* p = version.data();
    const char* end = version.data() + version.size();
    for (int i = 0; i < 3; ++i) {
        auto [next, ec] = std::from_chars(p, end, numbers[i]);
        if (ec != std::errc() || next == p) return bad();
        p = next;
        if (i < 2) {
            if (p == end || *p != '.') return bad();
            ++p;
        }
    }
    if (p != end && *p != '-' && *p != '+') return bad();
    if (numbers[0] != 1 || numbers[1] > 2)
        return fail("ociVersion", quote(version) + " is not supported (expected 1.0.0 to 1.2.x)");
    return ok();
}

namespace {

Status hook_list(std::string_view kind, const std::vector<Hook>& list) {
    if (list.empty()) return ok();
    const std::string base = join("hooks", kind);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Hook& h = list[i];
        HRUN_CHECK_AT(at(base, i, "path"), absolute_path(h.path));
        for (std::size_t k = 0; k < h.args.size(); ++k)
            if (has_nul(h.args[k])) return fail(at(at(base, i, "args"), k), "contains a NUL byte");
        for (std::size_t k = 0; k < h.env.size(); ++k) HRUN_CHECK_AT(at(at(base, i, "env"), k), env_entry(h.env[k]));
        if (h.timeout && *h.timeout <= 0)
            return fail(at(base, i, "timeout"), "must be greater than 0, got " + std::to_string(*h.timeout));
    }
    return ok();
}

Status host_name(std::string_view field, std::string_view name, const NamespaceSet& ns) {
    if (name.empty()) return ok();
    // Without a uts namespace of its own it would rename the host. One joined by path is the
    // container's (as in runc); that it is not the host's is checked when it is opened.
    if (!ns.lists(CLONE_NEWUTS)) return fail(std::string(field), "needs a uts namespace");
    if (name.size() > 64) return fail(std::string(field), "longer than 64 characters");
    if (has_nul(name)) return fail(std::string(field), "contains a NUL byte");
    return ok();
}

// Unmapped ids make setuid/setgroups fail after the namespace exists; say so up front.
Status user_ids_mapped(const Spec& spec, const NamespaceSet& ns) {
    if (!spec.process || !spec.linux || !ns.creates(CLONE_NEWUSER)) return ok();
    const auto mapped = [](const std::vector<IdMapping>& maps, uint32_t id) {
        for (const auto& m : maps)
            if (id >= m.containerID && uint64_t{id} < uint64_t{m.containerID} + m.size) return true;
        return false;
    };
    const User& user = spec.process->user;
    const Linux& linux = *spec.linux;
    if (!mapped(linux.uidMappings, user.uid))
        return fail("process.user.uid", std::to_string(user.uid) + " is not mapped by linux.uidMappings");
    if (!mapped(linux.gidMappings, user.gid))
        return fail("process.user.gid", std::to_string(user.gid) + " is not mapped by linux.gidMappings");
    for (std::size_t i = 0; i < user.additionalGids.size(); ++i)
        if (!mapped(linux.gidMappings, user.additionalGids[i]))
            return fail(at("process.user.additionalGids", i),
                        std::to_string(user.additionalGids[i]) + " is not mapped by linux.gidMappings");
    return ok();
}

}  // namespace

Status hooks(const Hooks& h) {
    HRUN_TRY(hook_list("prestart", h.prestart));
    HRUN_TRY(hook_list("createRuntime", h.createRuntime));
    HRUN_TRY(hook_list("createContainer", h.createContainer));
    HRUN_TRY(hook_list("startContainer", h.startContainer));
    HRUN_TRY(hook_list("poststart", h.poststart));
    HRUN_TRY(hook_list("poststop", h.poststop));
    return ok();
}

}  // namespace check

Status validate_spec(const Spec& spec) {
    HRUN_TRY(check::oci_version(spec.ociVersion));

    if (!spec.root) return fail("root", "missing");
    if (spec.root->path.empty()) return fail("root.path", "must not be empty");
    if (check::has_nul(spec.root->path)) return fail("root.path", "contains a NUL byte");

    // Namespaces first: several other fields are judged by which namespaces exist.
    const check::NamespaceSet ns = spec.linux ? HRUN_TRY(check::namespaces(spec.linux->namespaces)) : check::NamespaceSet{};

    if (!spec.process) return fail("process", "missing");
    HRUN_TRY(check::process(*spec.process));

    HRUN_TRY(check::host_name("hostname", spec.hostname, ns));
    HRUN_TRY(check::host_name("domainname", spec.domainname, ns));

    HRUN_TRY(check::mounts(spec.mounts));
    if (spec.hooks) HRUN_TRY(check::hooks(*spec.hooks));
    for (const auto& [key, value] : spec.annotations)
        if (key.empty()) return fail("annotations", "has an empty key");

    if (spec.linux) HRUN_TRY(check::linux_section(*spec.linux, ns));
    HRUN_TRY(check::user_ids_mapped(spec, ns));
    return ok();
}

}  // namespace hrun::spec
