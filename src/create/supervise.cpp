#include "create/supervise.hpp"

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

// Non-blocking check of the container's status; true when it has exited.
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

Result<int> supervise(ContainerProcess& container) {
    sigset_t all;
    sigfillset(&all);
    UniqueFd sfd(::signalfd(-1, &all, SFD_CLOEXEC));
    if (!sfd) return fail_errno("cannot watch signals");

    int code = 0;
    // The container may already be gone (SIGCHLD was queued before the signalfd existed).
    while (!reap_if_exited(container.pid(), code)) {
        struct signalfd_siginfo info;
        ssize_t n = ::read(sfd.get(), &info, sizeof info);
        if (n < 0 && errno == EINTR) continue;
        if (n != static_cast<ssize_t>(sizeof info)) return fail_errno("cannot read signals");
        int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGCHLD) continue;  // loop re-checks the container
        // pidfd: the signal reaches this container even if its pid number was recycled.
        ::syscall(SYS_pidfd_send_signal, container.pidfd(), sig, nullptr, 0);
    }
    container.release();
    return code;
}

}  // namespace hrun::create
