// hrun spec [--rootless | --userns-remap USER[:GROUP]] [--bundle DIR]: write a hardened config.json.
#include <fcntl.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "hrun/fd.hpp"
#include "linux/subid.hpp"
#include "policy/userns_remap.hpp"
#include "spec/spec_io.hpp"

namespace hrun::cli {

namespace {

Status write_new_file(const std::string& path, const std::string& text) {
    // O_EXCL: never overwrite someone's config, as runc refuses to.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return fail("", "\"" + path + "\" exists; remove it first", EEXIST);
    if (fd < 0) return fail_errno("cannot create \"" + path + "\"");
    UniqueFd owner(fd);
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return fail_errno("cannot write \"" + path + "\"");
    return ok();
}

// The caller's first /etc/subuid and /etc/subgid ranges, which `--rootless` maps as container
// ids 1..N. Unreadable files or no ranges leave the single mapping of the caller's own ids.
void add_subordinate_ids(spec::DefaultSpecOptions& options) {
    auto user = os::lookup_user(std::to_string(options.host_uid));
    const std::string name = user ? user->name : std::string();
    auto uids = os::read_subid_ranges(os::kSubuidFile, name, options.host_uid);
    auto gids = os::read_subid_ranges(os::kSubgidFile, name, options.host_uid);
    if (uids && !uids->empty()) options.subuids = {1, uids->front().start, uids->front().count};
    if (gids && !gids->empty()) options.subgids = {1, gids->front().start, gids->front().count};
}

}  // namespace

void add_spec_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct SpecArgs {
        std::string bundle = ".";
        bool rootless = false;
        std::string userns_remap;
    };
    auto args = std::make_shared<SpecArgs>();
    CLI::App* cmd = app.add_subcommand("spec", "write a hardened config.json for a new bundle");
    cmd->add_option("-b,--bundle", args->bundle, "directory to write config.json into");
    cmd->add_flag("--rootless", args->rootless,
                  "map container root to the calling user in a user namespace");
    cmd->add_option("--userns-remap", args->userns_remap,
                    "USER[:GROUP]: map container root to USER's first /etc/subuid range (GROUP's, "
                    "default USER's, /etc/subgid range) in a user namespace, the rootfs idmapped")
        ->excludes("--rootless");
    cmd->callback([args, &global, &outcome] {
        if (global.parse_only) return;
        spec::DefaultSpecOptions options;
        options.rootless = args->rootless;
        options.host_uid = ::geteuid();
        options.host_gid = ::getegid();
        if (options.rootless) add_subordinate_ids(options);
        if (!args->userns_remap.empty()) {
            auto remap = policy::resolve_userns_remap(args->userns_remap);
            if (!remap) {
                outcome.exit_code = report(remap.error());
                return;
            }
            options.remap_uids = policy::remap_mappings(remap->uids);
            options.remap_gids = policy::remap_mappings(remap->gids);
        }
        std::string text = spec::to_json(spec::default_spec(options));  // ends in a newline
        auto st = write_new_file(args->bundle + "/config.json", text);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

}  // namespace hrun::cli
