// Mount propagation (linux.rootfsPropagation, mounts[*].options) and root.readonly.
#include "audit/checks.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::audit::detail {

void check_mount_options(const Context& ctx, Findings& out) {
    if (ctx.linux) {
        const std::string& prop = ctx.linux->rootfsPropagation;
        if (prop == "shared" || prop == "rshared")
            out.add("HRUN-PROP-001", Severity::medium, "linux.rootfsPropagation",
                    "root mount propagation is \"" + prop + "\"");
    }

    for (std::size_t i = 0; i < ctx.spec.mounts.size(); ++i) {
        const spec::Mount& m = ctx.spec.mounts[i];
        for (std::size_t j = 0; j < m.options.size(); ++j) {
            if (m.options[j] != "shared" && m.options[j] != "rshared") continue;
            out.add("HRUN-PROP-002", Severity::medium, spec::check::at(spec::check::at("mounts", i, "options"), j),
                    "mount at " + m.destination + " has \"" + m.options[j] + "\" propagation");
            break;
        }
    }

    if (ctx.spec.root && !ctx.spec.root->readonly && ctx.spec.root->path != "/")
        out.add("HRUN-ROOTFS-001", Severity::low, "root.readonly", "the root filesystem is writable");
}

}  // namespace hrun::audit::detail
