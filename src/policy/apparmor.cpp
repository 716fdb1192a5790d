// The default AppArmor profile: loaded into the kernel on first use, so a host with AppArmor
// needs no installation step for hrun's hardened policy.
#include <fcntl.h>
#include <spawn.h>
#include <sys/apparmor.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "linux/log.hpp"
#include "policy/policy.hpp"

extern char** environ;

namespace hrun::policy {

namespace {

constexpr std::string_view kProfileText =
#include "policy/default_apparmor.inc"
    ;

constexpr const char* kProfilesList = "/sys/kernel/security/apparmor/profiles";

std::string read_text(const char* path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
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
    if (apparmor_profile_loaded(read_text(kProfilesList), kDefaultAppArmorProfile) || load_profile(kProfileText))
        host.apparmor_enabled = true;
    return host;
}

}  // namespace hrun::policy
