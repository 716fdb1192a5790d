#include "create/supervise.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace hrun::create {

sigset_t block_all_signals() {
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &old);
    return old;
}

namespace {

// Non-blocking check of the process's status; true when it has exited.
bool reap_if_exited(pid_t pid, int& code) {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid, &status, WNOHANG | __WALL)) < 0 && errno == EINTR) {
    }
    if (r != pid) return false;
    if (WIFEXITED(status)) code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) code = 128 + WTERMSIG(status);
    else return false;
    return true;
}

}  // namespace

Result<int> supervise(ContainerProcess& process, console::TerminalProxy* terminal) {
    sigset_t all;
    sigfillset(&all);
    UniqueFd sfd(::signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd) return fail_errno("cannot watch signals");

    int code = 0;
    // The process may already be gone (SIGCHLD was queued before the signalfd existed).
    while (!reap_if_exited(process.pid(), code)) {
        pollfd fds[3] = {{sfd.get(), POLLIN, 0}, {-1, 0, 0}, {-1, 0, 0}};
        if (terminal) terminal->fill_pollfds(fds[1], fds[2]);
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            return fail_errno("cannot wait for the container");
        }
        if (terminal) terminal->handle(fds[1], fds[2]);
        if (!(fds[0].revents & POLLIN)) continue;
        struct signalfd_siginfo info;
        while (::read(sfd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            int sig = static_cast<int>(info.ssi_signo);
            if (sig == SIGCHLD) continue;  // the loop re-checks the process
            if (sig == SIGWINCH && terminal) {
                terminal->on_sigwinch();  // the kernel signals the container's foreground group
                continue;
            }
            // pidfd: the signal reaches this process even if its pid number was recycled.
            ::syscall(SYS_pidfd_send_signal, process.pidfd(), sig, nullptr, 0);
        }
    }
    if (terminal) terminal->drain_output();
    process.release();
    return code;
}

}  // namespace hrun::create
