// The default AppArmor profile: loaded into the kernel on first use, so a host with AppArmor
// needs no installation step for hrun's hardened policy.
#include <fcntl.h>
#include <spawn.h>
#include <sys/apparmor.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "policy/policy.hpp"

extern char** environ;

namespace hrun::policy {

namespace {

constexpr std::string_view kProfileText =
#include "policy/default_apparmor.inc"
    ;

constexpr const char* kProfilesList = "/sys/kernel/security/apparmor/profiles";

// nullopt when the file cannot be opened: the kernel shows the profile list to policy
// administrators only, so an unprivileged (rootless) hrun gets EACCES here.
std::optional<std::string> read_text(const char* path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

// Whether the kernel knows profile `name`, asked without reading the profile list: a forked
// child asks for `name` as its exec label and exits without exec'ing, so the answer (ENOENT
// for an unknown profile) changes no label anywhere. An unconfined task may make this change
// without privileges, which is also what the container's own process will do.
bool profile_can_be_entered(std::string_view name) {
    const std::string request = "exec " + std::string(name);
    auto procfd = os::open_verified_procfs();  // /proc attributes only through a verified procfs
    if (!procfd) return false;
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int rc = os::procfs_write(procfd->get(), "thread-self/attr/apparmor/exec", request.data(), request.size());
        if (rc == -ENOENT) rc = os::procfs_write(procfd->get(), "thread-self/attr/exec", request.data(), request.size());
        ::_exit(rc < 0 ? 1 : 0);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char* find_parser() {
    for (const char* p : {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"})
        if (::access(p, X_OK) == 0) return p;
    return nullptr;
}

// apparmor_parser -r reading the profile from its standard input.
bool load_profile(std::string_view text) {
    const char* parser = find_parser();
    if (!parser) {
        log::warn("AppArmor is enabled but apparmor_parser is not installed: hrun-default cannot be loaded");
        return false;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    char* argv[] = {const_cast<char*>(parser), const_cast<char*>("-r"), const_cast<char*>("-q"), nullptr};
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, parser, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[0]);
    bool written = rc == 0;
    for (std::size_t done = 0; written && done < text.size();) {
        ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) written = false;
        else done += static_cast<std::size_t>(n);
    }
    ::close(fds[1]);
    if (rc != 0) return false;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const bool loaded = written && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!loaded) log::warn("apparmor_parser could not load hrun-default; containers start without it");
    return loaded;
}

}  // namespace

std::string_view default_apparmor_profile_text() { return kProfileText; }

bool apparmor_profile_loaded(std::string_view profiles_list, std::string_view name) {
    // Lines read "<name> (<mode>)".
    std::size_t pos = 0;
    while (pos < profiles_list.size()) {
        std::size_t end = profiles_list.find('\n', pos);
        if (end == std::string_view::npos) end = profiles_list.size();
        std::string_view line = profiles_list.substr(pos, end - pos);
        if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ' ')
            return true;
        pos = end + 1;
    }
    return false;
}

HostSecurity detect_host_security() {
    HostSecurity host;
    if (aa_is_enabled() != 1) return host;
    const std::optional<std::string> list = read_text(kProfilesList);
    const bool loaded = list ? apparmor_profile_loaded(*list, kDefaultAppArmorProfile)
                             : profile_can_be_entered(kDefaultAppArmorProfile);
    if (loaded) {
        host.apparmor_enabled = true;
    } else if (::geteuid() != 0) {
        // Loading a profile needs CAP_MAC_ADMIN on the host: a rootless run cannot do it, so it
        // says what it is doing and how root fixes it, instead of failing the container.
        log::warn(
            "AppArmor is enabled but the hrun-default profile is not loaded and only root can load it: the "
            "container starts without an AppArmor profile (load it as root: apparmor_parser -r "
            "profiles/apparmor/hrun-default, or run any container as root)");
    } else if (load_profile(kProfileText)) {
        host.apparmor_enabled = true;
    }
    return host;
}

}  // namespace hrun::policy
