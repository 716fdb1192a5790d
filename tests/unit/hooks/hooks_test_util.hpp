// Helpers for the hook tests: a scratch directory, shell hooks run by busybox, file reading and
// /proc checks.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hooks/hooks.hpp"
#include "hrun/spec.hpp"

namespace hrun::hooks::test {

inline constexpr const char* kBusybox = "/bin/busybox";

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class ScratchDir {
public:
    ScratchDir() {
        char tmpl[] = "/tmp/hrun-hooks-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    bool ok() const { return !path_.empty(); }
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline bool have_busybox() { return ::access(kBusybox, X_OK) == 0; }

// A hook running `script` in busybox's sh (argv[0] "sh" selects the applet), with D set to
// `dir` and a PATH, and nothing else in its environment.
inline spec::Hook shell_hook(const std::string& dir, const std::string& script,
                             std::optional<int32_t> timeout = std::nullopt) {
    spec::Hook h;
    h.path = kBusybox;
    h.args = {"sh", "-c", script};
    h.env = {"PATH=/bin:/usr/bin:/sbin:/usr/sbin", "D=" + dir};
    h.timeout = timeout;
    return h;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "<cannot read " + path + ">";
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Each string followed by "\n": what `tr '\0' '\n'` makes of a NUL-separated /proc list.
inline std::string newline_list(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += s + "\n";
    return out;
}

// The process is gone, or dead and waiting for its reaper (not ours to reap).
inline bool process_gone(pid_t pid) {
    for (int i = 0; i < 100; ++i) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        if (!stat) return true;
        std::string line;
        std::getline(stat, line);
        auto close_paren = line.rfind(')');
        if (close_paren != std::string::npos && close_paren + 2 < line.size() &&
            line[close_paren + 2] == 'Z')
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// The fds listed by `ls -l /proc/self/fd` ("N -> target" lines), without the directory ls
// itself opened to list them.
inline std::map<std::string, std::string> listed_fds(const std::string& ls_output) {
    std::map<std::string, std::string> fds;
    for (const auto& line : lines(ls_output)) {
        auto arrow = line.find(" -> ");
        if (arrow == std::string::npos) continue;
        auto space = line.rfind(' ', arrow - 1);
        std::string fd = line.substr(space + 1, arrow - space - 1);
        std::string target = line.substr(arrow + 4);
        if (target.rfind("/proc/", 0) == 0 && target.size() > 3 &&
            target.compare(target.size() - 3, 3, "/fd") == 0)
            continue;
        fds[fd] = target;
    }
    return fds;
}

// A state JSON of at least `size` bytes, padded in an annotation.
inline std::string big_state(std::size_t size) {
    return hook_state_json("big", "creating", 1, "/bundle",
                           {{"padding", std::string(size, 'p')}, {"text", "caf\u00e9 \"q\"\n"}});
}

}  // namespace hrun::hooks::test
