// Shared pieces of validate_*.cpp: one function per section of config.json, plus the small
// checks several sections make (paths, id mappings). Messages are built only on failure; a valid
// config goes through without allocating.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::spec::check {

// Which namespaces linux.namespaces lists, as CLONE_NEW* bits; `created` are those without a
// path (a new namespace rather than one that is joined).
struct NamespaceSet {
    int listed = 0;
    int created = 0;
    bool lists(int flag) const { return (listed & flag) != 0; }
    bool creates(int flag) const { return (created & flag) != 0; }
};

// ---- field paths and quoting (failure path only) ----
std::string at(std::string_view base, std::size_t index);                           // base[i]
std::string at(std::string_view base, std::size_t index, std::string_view member);  // base[i].m
std::string key_at(std::string_view base, std::string_view key);                    // base["k"]
std::string join(std::string_view base, std::string_view member);                   // base.m
std::string quote(std::string_view value);  // "value", with control characters escaped
std::string octal(uint64_t value);          // 0755

// ---- small checks ----
// Those that take no field return an Error whose field is empty; the caller names it with
// HRUN_CHECK_AT, which builds the field string only when the check fails.
bool has_nul(std::string_view s);
// Whether a lexical walk of `path` goes above its start through ".." components.
bool climbs_above_root(std::string_view path);
// Non-empty, starts with '/', no NUL byte.
Status absolute_path(std::string_view path);
// Non-empty text without newline or NUL (LSM labels, profile names).
Status single_line(std::string_view value);
// user:role:type[:level]
Status selinux_label(std::string_view label);
// KEY=VALUE with a non-empty key.
Status env_entry(std::string_view entry);
// Sizes, 32-bit overflow, and overlaps between entries (container side and host side); `field`
// is the list's own path ("linux.uidMappings"), entries are named from it.
Status id_mappings(std::string_view field, std::span<const IdMapping> maps);

// ---- sections ----
Status oci_version(std::string_view version);
Result<NamespaceSet> namespaces(const std::vector<Namespace>& list);
Status process(const Process& process);
Status mounts(const std::vector<Mount>& mounts);
Status hooks(const Hooks& hooks);
Status linux_section(const Linux& linux, const NamespaceSet& ns);
Status resources(const Resources& resources);
Status seccomp(const Seccomp& seccomp);

}  // namespace hrun::spec::check

// Returns from the enclosing function when `expr` (a Status without a field) fails, naming the
// failing field `field_expr`, which is evaluated only then.
#define HRUN_CHECK_AT(field_expr, expr)                              \
    do {                                                             \
        ::hrun::Status _hrun_s = (expr);                             \
        if (!_hrun_s) {                                              \
            _hrun_s.error().field = (field_expr);                    \
            return std::unexpected(std::move(_hrun_s.error()));      \
        }                                                            \
    } while (0)
