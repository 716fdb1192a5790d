// Checks of the `mounts` section.
//
// Options are not matched against a fixed list: besides the mount flags (ro, nosuid, rbind,
// rprivate, ...), every filesystem takes its own data options (mode=755, newinstance, size=64k),
// which are handed to the kernel as they are. What can be checked is that each entry is one
// option: not empty, no comma that would smuggle a second option into the data string.
#include <string_view>

#include "spec/validate_internal.hpp"

namespace hrun::spec::check {
namespace {

bool is_bind(const Mount& m) {
    if (m.type == "bind") return true;
    for (const auto& o : m.options)
        if (o == "bind" || o == "rbind") return true;
    return false;
}

// Filesystem type names are short tokens: "proc", "fuse.sshfs", "9p", "cgroup2".
bool is_fs_type(std::string_view type) {
    if (type.empty() || type.size() > 64) return false;
    for (char c : type) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

Status mount(const Mount& m, std::size_t i) {
    const std::string_view base = "mounts";
    HRUN_CHECK_AT(at(base, i, "destination"), absolute_path(m.destination));
    if (climbs_above_root(m.destination))
        return fail(at(base, i, "destination"), quote(m.destination) + " climbs above \"/\" with \"..\"");

    const bool bind = is_bind(m);
    if (m.type.empty() && !bind) return fail(at(base, i, "type"), "missing (needed unless the mount is a bind mount)");
    if (!m.type.empty() && !is_fs_type(m.type))
        return fail(at(base, i, "type"), quote(m.type) + " is not a filesystem type");

    if (bind && m.source.empty()) return fail(at(base, i, "source"), "missing (a bind mount needs a source)");
    if (has_nul(m.source)) return fail(at(base, i, "source"), "contains a NUL byte");

    for (std::size_t k = 0; k < m.options.size(); ++k) {
        const std::string& o = m.options[k];
        if (o.empty()) return fail(at(at(base, i, "options"), k), "must not be empty");
        if (o.find(',') != std::string::npos)
            return fail(at(at(base, i, "options"), k), quote(o) + " contains a comma (one option per entry)");
        if (has_nul(o)) return fail(at(at(base, i, "options"), k), "contains a NUL byte");
    }

    // An idmapped mount needs both directions mapped.
    if (m.uidMappings.empty() != m.gidMappings.empty())
        return fail(at(base, i, m.uidMappings.empty() ? "uidMappings" : "gidMappings"),
                    "missing (uidMappings and gidMappings go together)");
    if (!m.uidMappings.empty()) {
        HRUN_TRY(id_mappings(at(base, i, "uidMappings"), m.uidMappings));
        HRUN_TRY(id_mappings(at(base, i, "gidMappings"), m.gidMappings));
    }
    return ok();
}

}  // namespace

Status mounts(const std::vector<Mount>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) HRUN_TRY(mount(list[i], i));
    return ok();
}

}  // namespace hrun::spec::check
