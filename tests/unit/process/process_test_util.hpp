// Helpers for the process tests: spec builders and a harness that runs prepare_process +
// exec_process in a forked child and collects its output and ChildStatus.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "hrun/child_error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"
#include "linux/host.hpp"
#include "process/process.hpp"

namespace hrun::process::test {

// The smallest spec plan_process accepts, with the given command.
inline spec::Spec minimal_spec(std::vector<std::string> args = {"/bin/busybox", "true"}) {
    spec::Spec s;
    s.ociVersion = spec::kSpecVersion;
    s.process.emplace();
    s.process->args = std::move(args);
    s.process->cwd = "/";
    s.process->env = {"PATH=/bin:/usr/bin:/sbin:/usr/sbin"};
    return s;
}

inline os::HostContext fake_host(int cap_last_cap = 40) {
    os::HostContext host;
    host.cap_last_cap = cap_last_cap;
    host.euid = 0;
    host.egid = 0;
    return host;
}

// Moves an fd to 100 or above (close-on-exec) so that tests can lay out fds 3.. freely.
inline UniqueFd high_fd(int fd) {
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 100);
    ::close(fd);
    return UniqueFd(moved);
}

struct ChildRun {
    bool reported = false;  // exec_process returned and the child sent its status
    ChildStatus status;
    std::string output;     // the process's stdout
    int wait_status = 0;
};

inline std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// Forks. The child runs `setup()` (to lay out fds, drop test-specific privileges...), then
// prepare_process and exec_process; if either fails it writes its ChildStatus to a close-on-exec
// pipe, so the parent reads either a status or end-of-file (exec succeeded).
template <class Setup>
ChildRun run_child(const ProcessPlan& plan, int procfd, Setup setup,
                   const security::SeccompProgram* seccomp = nullptr) {
    ChildRun run;
    int status_pipe[2];
    int out_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
        ADD_FAILURE() << "pipe2: " << std::strerror(errno);
        return run;
    }
    UniqueFd status_r = high_fd(status_pipe[0]), status_w = high_fd(status_pipe[1]);
    UniqueFd out_r = high_fd(out_pipe[0]), out_w = high_fd(out_pipe[1]);

    pid_t pid = ::fork();
    if (pid < 0) {
        ADD_FAILURE() << "fork: " << std::strerror(errno);
        return run;
    }
    if (pid == 0) {
        ::alarm(20);  // survives execve: nothing a test starts can hang the suite
        ::dup2(out_w.get(), STDOUT_FILENO);
        setup();
        ChildStatus st = prepare_process(plan, procfd);
        if (st) st = exec_process(plan, seccomp, procfd, status_w.get());
        (void)!::write(status_w.get(), &st, sizeof st);
        ::_exit(111);
    }
    status_w.reset();
    out_w.reset();
    std::string status_bytes = read_all(status_r.get());
    run.output = read_all(out_r.get());
    ::waitpid(pid, &run.wait_status, 0);
    if (status_bytes.size() == sizeof(ChildStatus)) {
        run.reported = true;
        std::memcpy(&run.status, status_bytes.data(), sizeof(ChildStatus));
    } else if (!status_bytes.empty()) {
        ADD_FAILURE() << "short status from the child: " << status_bytes.size() << " bytes";
    }
    return run;
}

inline ChildRun run_child(const ProcessPlan& plan, int procfd) {
    return run_child(plan, procfd, [] {});
}

}  // namespace hrun::process::test
