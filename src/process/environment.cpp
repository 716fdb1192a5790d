// process.env: the environment the container process is exec'd with.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <unordered_map>

#include "hrun/fd.hpp"
#include "process/process_internal.hpp"

namespace hrun::process {

namespace {

// An /etc/passwd larger than this is not a passwd file worth trusting for a HOME value.
constexpr std::size_t kMaxPasswdSize = 4 << 20;

// Reads <rootfs>/etc/passwd without letting the container's symlinks lead outside its rootfs
// (RESOLVE_IN_ROOT) and without blocking on a FIFO planted there. The rootfs belongs to the
// image, not to us: any failure just means "no passwd file".
std::optional<std::string> read_container_passwd(const std::string& rootfs) {
    UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) return std::nullopt;
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    UniqueFd fd(
        static_cast<int>(::syscall(SYS_openat2, root.get(), "etc/passwd", &how, sizeof how)));
    if (!fd) return std::nullopt;
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::size_t>(st.st_size) > kMaxPasswdSize)
        return std::nullopt;
    std::string text;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxPasswdSize) return std::nullopt;
    }
    return text;
}

std::string rootfs_path(const spec::Spec& spec, const ProcessOptions& options) {
    if (!spec.root || spec.root->path.empty()) return {};
    const std::string& path = spec.root->path;
    if (path[0] == '/' || options.bundle.empty()) return path;
    return options.bundle + "/" + path;
}

// runc's rule: HOME is the user's home in the container's /etc/passwd, "/" when there is none.
std::string home_for(const spec::Spec& spec, const ProcessOptions& options, uid_t uid) {
    const std::string rootfs = rootfs_path(spec, options);
    if (rootfs.empty()) return "/";
    auto passwd = read_container_passwd(rootfs);
    if (!passwd) return "/";
    return home_from_passwd(*passwd, uid).value_or("/");
}

}  // namespace

std::optional<std::string> home_from_passwd(std::string_view passwd, uid_t uid) {
    // name:password:uid:gid:gecos:home:shell
    while (!passwd.empty()) {
        std::size_t eol = passwd.find('\n');
        std::string_view line = passwd.substr(0, eol);
        passwd = eol == std::string_view::npos ? std::string_view{} : passwd.substr(eol + 1);

        std::string_view fields[7];
        std::size_t count = 0;
        while (count < 7) {
            std::size_t colon = line.find(':');
            fields[count++] = line.substr(0, colon);
            if (colon == std::string_view::npos) break;
            line.remove_prefix(colon + 1);
        }
        if (count < 6) continue;
        const std::string_view id = fields[2];
        unsigned long value = 0;
        auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
        if (id.empty() || ec != std::errc{} || end != id.data() + id.size()) continue;
        if (value != uid) continue;
        if (fields[5].empty()) return std::nullopt;
        return std::string(fields[5]);
    }
    return std::nullopt;
}

Status plan_environment(const spec::Spec& spec, const ProcessOptions& options, ProcessPlan& plan) {
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
    if (!position.contains("HOME")) env.push_back("HOME=" + home_for(spec, options, plan.uid));
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
