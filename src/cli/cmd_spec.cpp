// hrun spec [--rootless] [--bundle DIR]: write a hardened config.json.
#include <fcntl.h>
#include <unistd.h>

#include "cli/commands.hpp"
#include "hrun/fd.hpp"
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

}  // namespace

void add_spec_command(CLI::App& app, const GlobalOptions&, Outcome& outcome) {
    struct SpecArgs {
        std::string bundle = ".";
        bool rootless = false;
    };
    auto args = std::make_shared<SpecArgs>();
    CLI::App* cmd = app.add_subcommand("spec", "write a hardened config.json for a new bundle");
    cmd->add_option("-b,--bundle", args->bundle, "directory to write config.json into");
    cmd->add_flag("--rootless", args->rootless,
                  "map container root to the calling user in a user namespace");
    cmd->callback([args, &outcome] {
        spec::DefaultSpecOptions options;
        options.rootless = args->rootless;
        options.host_uid = ::geteuid();
        options.host_gid = ::getegid();
        std::string text = spec::to_json(spec::default_spec(options)) + "\n";
        auto st = write_new_file(args->bundle + "/config.json", text);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

}  // namespace hrun::cli
