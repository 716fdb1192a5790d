// process.env: the environment the container process is exec'd with.
#include <unordered_map>

#include "hrun/fd.hpp"
#include "linux/procfs.hpp"
#include "linux/root_file.hpp"
#include "process/process_internal.hpp"
#include "process/users.hpp"

namespace hrun::process {

namespace {

std::string rootfs_path(const spec::Spec& spec, const ProcessOptions& options) {
    if (!spec.root || spec.root->path.empty()) return {};
    const std::string& path = spec.root->path;
    if (path[0] == '/' || options.bundle.empty()) return path;
    return options.bundle + "/" + path;
}

// runc's rule: HOME is the user's home in the container's /etc/passwd, "/" when there is none.
// The file belongs to the image (or to the running container, for exec): a missing, odd or
// hostile one (a device, a FIFO, a symlink out, a huge file) just means "no passwd file".
std::string home_for(const spec::Spec& spec, const ProcessOptions& options, int procfd, uid_t uid) {
    UniqueFd own_root;
    int root = options.root_fd;
    if (root < 0) {
        const std::string rootfs = rootfs_path(spec, options);
        if (rootfs.empty()) return "/";
        auto dir = os::open_root_dir(rootfs);
        if (!dir) return "/";
        own_root = std::move(*dir);
        root = own_root.get();
    }
    UniqueFd own_proc;
    if (procfd < 0) {
        auto proc = os::open_verified_procfs();
        if (!proc) return "/";
        own_proc = std::move(*proc);
        procfd = own_proc.get();
    }
    auto passwd = os::read_file_in_root(procfd, root, "etc/passwd");
    if (!passwd) return "/";
    return home_from_passwd(*passwd, uid).value_or("/");
}

}  // namespace

std::optional<std::string> home_from_passwd(std::string_view passwd, uid_t uid) {
    auto entry = find_user(passwd, static_cast<uint32_t>(uid));
    if (!entry || entry->home.empty()) return std::nullopt;
    return std::move(entry->home);
}

Status plan_environment(const spec::Spec& spec, const ProcessOptions& options, int procfd,
                        ProcessPlan& plan) {
    std::vector<std::string> env;
    std::unordered_map<std::string, std::size_t> position;  // name -> index in env
    const auto& entries = spec.process->env;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const std::string& entry = entries[i];
        const std::string field = "process.env[" + std::to_string(i) + "]";
        const std::size_t eq = entry.find('=');
        if (eq == std::string::npos) return fail(field, "must be NAME=VALUE");
        if (eq == 0) return fail(field, "has an empty name");
        if (entry.find('\0') != std::string::npos)
            return fail(field, "must not contain a NUL byte");
        std::string name = entry.substr(0, eq);
        auto [it, inserted] = position.try_emplace(std::move(name), env.size());
        if (inserted)
            env.push_back(entry);
        else
            env[it->second] = entry;  // a repeated name: the last value wins
    }
    if (!position.contains("HOME")) env.push_back("HOME=" + home_for(spec, options, procfd, plan.uid));
    if (auto it = position.find("PATH"); it != position.end()) {
        plan.path_search = env[it->second].substr(5);
    } else {
        plan.path_search = kDefaultPath;
        env.push_back(std::string("PATH=") + kDefaultPath);
    }
    plan.env = CStringArray(std::move(env));
    return ok();
}

}  // namespace hrun::process
