// Reading, checking and writing config.json.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::spec {

// Parses config.json text. Type errors name the JSON path: `process.user.uid: expected an
// unsigned 32-bit integer, got string`. Unknown fields are ignored, as the spec requires.
Result<Spec> parse_spec(std::string_view json_text);

// Reads and parses a file (`bundle/config.json`).
Result<Spec> load_spec(const std::string& path);

// Serialises back to JSON (used by `hrun spec` and by tests for round trips). indent >= 0 gives
// pretty-printed text ending in a newline, indent < 0 a single line. parse_spec(to_json(x)) == x.
std::string to_json(const Spec& spec, int indent = 2);

// Checks meaning before anything is created: absolute paths, known names (capabilities,
// rlimits, namespaces, syscalls' actions, mount propagation), duplicates, overlapping id
// maps, consistency between fields (uid maps need a user namespace, ...). The first error found
// is returned with its JSON path, e.g. `linux.namespaces: "pid" listed twice`.
Status validate_spec(const Spec& spec);

// The config `hrun spec` writes: hardened defaults for a busybox-style rootfs.
struct DefaultSpecOptions {
    bool rootless = false;  // add a user namespace mapping container root to host_uid/host_gid
    uint32_t host_uid = 0;
    uint32_t host_gid = 0;
    // Rootless: the caller's first /etc/subuid and /etc/subgid ranges (count 0: none); they
    // become container ids 1..count.
    IdMapping subuids{1, 0, 0};
    IdMapping subgids{1, 0, 0};
    std::vector<std::string> args = {"sh"};
    // --userns-remap: a user namespace with these maps (container 0..N-1 to a subordinate
    // range) and the rootfs idmap annotation; empty: none.
    std::vector<IdMapping> remap_uids;
    std::vector<IdMapping> remap_gids;
};
Spec default_spec(const DefaultSpecOptions& options);

}  // namespace hrun::spec
