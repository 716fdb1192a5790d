// Helpers for the state tests: temporary roots, forked helper processes, lock observation.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

#include "state/state.hpp"

namespace hrun::state::test {

// A directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/hrun-state-test.XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);  // does not follow symlinks
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Runs `body` in a forked child and returns its pid; the child exits with body's result.
// The child never returns into the test framework.
inline pid_t fork_child(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
        int code = 99;
        try {
            code = body();
        } catch (...) {
            code = 98;
        }
        ::_exit(code);
    }
    return pid;
}

// Waits for `pid` and returns its exit code (or 128 + signal); -1 if waiting failed.
inline int wait_exit(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Kills and reaps a helper process that a failed assertion left behind.
struct Reaper {
    pid_t pid = -1;
    ~Reaper() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            wait_exit(pid);
        }
    }
};

// A pipe used to pass single bytes between a test and its child processes.
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) == 0) {
            r = fds[0];
            w = fds[1];
        }
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (r >= 0) ::close(r);
        r = -1;
    }
    void close_write() {
        if (w >= 0) ::close(w);
        w = -1;
    }
    bool send(char c) const { return ::write(w, &c, 1) == 1; }
    // The next byte, or 0 on timeout/EOF.
    char receive(int timeout_ms = 10000) const {
        struct pollfd p{r, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return 0;
        char c = 0;
        return ::read(r, &c, 1) == 1 ? c : 0;
    }
};

// True once /proc/locks shows `pid` waiting for a lock ("-> FLOCK ... <pid> ...").
inline bool wait_until_blocked_on_flock(pid_t pid, int timeout_ms = 10000) {
    const std::string needle = " " + std::to_string(pid) + " ";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream locks("/proc/locks");
        std::string line;
        while (std::getline(locks, line))
            if (line.find("->") != std::string::npos && line.find("FLOCK") != std::string::npos &&
                line.find(needle) != std::string::npos)
                return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

inline ContainerState sample_state(const std::string& id) {
    ContainerState s;
    s.oci_version = "1.2.0";
    s.id = id;
    s.pid = 4242;
    s.pid_start_time = 123456;
    s.bundle = "/srv/bundles/" + id;
    s.rootfs = s.bundle + "/rootfs";
    s.created = "2024-05-01T12:00:00.123456789Z";
    s.owner = "";
    s.annotations = {{"org.example.a", "1"}, {"b", "two"}};
    s.config_path = s.bundle + "/config.json";
    s.cgroup.directories = {"/sys/fs/cgroup/memory/hrun/" + id, "/sys/fs/cgroup/unified/hrun/" + id};
    s.cgroup.mode = "hybrid";
    s.systemd_cgroup = false;
    s.rootless = true;
    s.exec_fifo = "/run/hrun/" + id + "/exec.fifo";
    s.init_process = nlohmann::json{{"args", {"/bin/sh", "-c", "echo hi"}}, {"cwd", "/"}, {"terminal", false}};
    s.applied_defaults = {"no_new_privileges", "seccomp"};
    s.policy = "hardened";
    s.extra = nlohmann::json{{"future", {{"x", 1}}}};
    return s;
}

}  // namespace hrun::state::test
