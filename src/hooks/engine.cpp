#include "hooks/engine.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hrun::hooks::detail {

// --- Tail ---

void Tail::append(const char* data, std::size_t len) noexcept {
    if (len >= kSize) {  // only the last kSize bytes can survive
        data += len - kSize;
        total_ += len - kSize;
        len = kSize;
    }
    for (std::size_t i = 0; i < len; ++i) ring_[(total_ + i) % kSize] = data[i];
    total_ += len;
}

std::size_t Tail::copy_to(char* dst, std::size_t cap, bool* cut) const noexcept {
    *cut = false;
    if (cap == 0) return 0;
    const std::size_t first = total_ - kept();  // stream offset of the oldest kept byte
    std::size_t end = total_;
    auto at = [this](std::size_t offset) { return ring_[offset % kSize]; };
    while (end > first) {
        char c = at(end - 1);
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') break;
        --end;
    }
    std::size_t begin = end - first > cap - 1 ? end - (cap - 1) : first;
    *cut = begin > 0;
    std::size_t len = 0;
    for (std::size_t offset = begin; offset < end; ++offset) dst[len++] = at(offset);
    dst[len] = '\0';
    return len;
}

namespace {

constexpr int kNoFd = -1;

void close_fd(int& fd) noexcept {
    if (fd >= 0) ::close(fd);
    fd = kNoFd;
}

// pipe2 with both ends close-on-exec and above the standard streams, so that the dup2 calls
// that install them as 0, 1 and 2 in the hook never overwrite one another (hrun may have been
// started with a standard stream closed).
int make_pipe(int fds[2]) noexcept {
    if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
    for (int i = 0; i < 2; ++i) {
        if (fds[i] > STDERR_FILENO) continue;
        int moved = ::fcntl(fds[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        int saved = errno;
        ::close(fds[i]);
        fds[i] = moved;
        if (moved < 0) {
            close_fd(fds[1 - i]);
            errno = saved;
            return -1;
        }
    }
    return 0;
}

void set_nonblocking(int fd) noexcept {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Blocks SIGPIPE while the state is written to a hook that may have closed its stdin, and
// consumes the SIGPIPE this raised, so that neither a default disposition (death) nor a caller
// that watches every signal through a signalfd ever sees it.
class SigpipeBlock {
public:
    SigpipeBlock() noexcept {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        ::sigprocmask(SIG_BLOCK, &pipe_only, &saved_mask_);
    }
    ~SigpipeBlock() {
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
            sigset_t pipe_only;
            sigemptyset(&pipe_only);
            sigaddset(&pipe_only, SIGPIPE);
            struct timespec now = {0, 0};
            while (::sigtimedwait(&pipe_only, nullptr, &now) < 0 && errno == EINTR) {
            }
        }
        ::sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
    }
    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;

private:
    sigset_t saved_mask_;
    bool was_pending_ = false;
};

long long monotonic_ms() noexcept {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A fork-like clone that also returns a pidfd: waiting and killing through it can never hit a
// recycled pid, and polling it needs no SIGCHLD (the caller may have every signal blocked).
pid_t clone_with_pidfd(int* pidfd) noexcept {
    struct clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        // Seccomp profiles written before clone3 existed make it fail with ENOSYS (so that libc
        // falls back); clone(2) takes CLONE_PIDFD too and stores the fd through parent_tid.
#if defined(__s390__) || defined(__s390x__)
        pid = ::syscall(SYS_clone, 0, CLONE_PIDFD | SIGCHLD, pidfd, nullptr, 0);
#else
        pid = ::syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, pidfd, nullptr, 0);
#endif
    }
    return static_cast<pid_t>(pid);
}

// Closes every fd from `low` up. close_range(2) needs Linux 5.9; before that, walk up to the
// fd limit.
void close_from(int low) noexcept {
    if (::syscall(SYS_close_range, static_cast<unsigned>(low), ~0U, 0U) == 0) return;
    struct rlimit lim;
    long top = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        lim.rlim_cur < static_cast<rlim_t>(top))
        top = static_cast<long>(lim.rlim_cur);
    for (long fd = low; fd < top; ++fd) ::close(static_cast<int>(fd));
}

// In the new process: becomes the hook. Only returns by _exit, after reporting execve's errno
// through `report` (close-on-exec, so end-of-file there means the exec succeeded).
[[noreturn]] void exec_hook(const PreparedHook& hook, int in, int out, int err,
                            int report) noexcept {
    // Its own process group: a timeout kills the hook together with what it started.
    ::setpgid(0, 0);

    // Ignored signals stay ignored across execve and the mask is inherited; the hook gets
    // neither from hrun, which may block or ignore everything around clone.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    // (libc refuses the signals it reserves for itself with EINVAL; those are never ignored.)
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    // All pipe ends are above 2 (make_pipe), so these cannot clobber one another; dup2 leaves
    // the new descriptors inheritable.
    if (::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(err, STDERR_FILENO) < 0 || ::dup2(report, 3) < 0) {
        int e = errno;
        (void)!::write(report, &e, sizeof e);
        ::_exit(127);
    }
    // Nothing of hrun's but the three streams may reach the hook. fd 3 (the report pipe) is
    // closed by execve itself.
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    close_from(4);

    ::execve(hook.path.c_str(), hook.argv.data(), hook.envp.data());
    int e = errno;
    (void)!::write(3, &e, sizeof e);
    ::_exit(127);
}

// Reads what is there without blocking; closes `fd` at end-of-file or on an error. Stops after
// `budget` bytes so that a process that never stops writing cannot hold us.
void read_available(int& fd, Tail& tail, std::size_t budget) noexcept {
    char buf[4096];
    std::size_t taken = 0;
    while (fd >= 0 && taken < budget) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            tail.append(buf, static_cast<std::size_t>(n));
            taken += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            close_fd(fd);  // end-of-file, or an error that will not go away
        }
    }
}

// Writes as much of the state as the pipe takes; closes `fd` when all is written or the hook
// stopped reading (EPIPE: a hook need not read its stdin).
void write_available(int& fd, const StatePieces& state, int& piece, std::size_t& offset) noexcept {
    while (fd >= 0) {
        while (piece < 3 && offset == state.size[piece]) {
            ++piece;
            offset = 0;
        }
        if (piece == 3) {
            close_fd(fd);  // end-of-file tells the hook the state is complete
            return;
        }
        ssize_t n = ::write(fd, state.data[piece] + offset, state.size[piece] - offset);
        if (n >= 0) {
            offset += static_cast<std::size_t>(n);
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            return;
        } else {
            close_fd(fd);
        }
    }
}

void kill_hook(pid_t pid, int pidfd) noexcept {
    // The pgid equals the hook's pid and cannot be recycled while the hook is unreaped.
    ::kill(-pid, SIGKILL);
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);  // before its setpgid
}

int reap(int pidfd, siginfo_t& info) noexcept {
    std::memset(&info, 0, sizeof info);
    int r;
    do {
        r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
    } while (r < 0 && errno == EINTR);
    return r;
}

Outcome setup_failed(const char* what, int err) noexcept {
    Outcome o;
    o.kind = Outcome::Kind::SetupFailed;
    o.what = what;
    o.err = err;
    return o;
}

}  // namespace

Outcome run_hook(const PreparedHook& hook, const StatePieces& state, Tail& out,
                 Tail& err) noexcept {
    // [0] read end, [1] write end.
    int in_pipe[2] = {kNoFd, kNoFd}, out_pipe[2] = {kNoFd, kNoFd}, err_pipe[2] = {kNoFd, kNoFd},
        report_pipe[2] = {kNoFd, kNoFd};
    auto close_all = [&]() noexcept {
        for (int* p : {in_pipe, out_pipe, err_pipe, report_pipe}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
    };
    if (make_pipe(in_pipe) != 0 || make_pipe(out_pipe) != 0 || make_pipe(err_pipe) != 0 ||
        make_pipe(report_pipe) != 0) {
        int e = errno;
        close_all();
        return setup_failed("cannot create a pipe for the hook", e);
    }

    int pidfd = kNoFd;
    pid_t pid = clone_with_pidfd(&pidfd);
    if (pid == 0) exec_hook(hook, in_pipe[0], out_pipe[1], err_pipe[1], report_pipe[1]);
    int clone_errno = errno;
    close_fd(in_pipe[0]);
    close_fd(out_pipe[1]);
    close_fd(err_pipe[1]);
    close_fd(report_pipe[1]);
    if (pid < 0) {
        close_all();
        return setup_failed("cannot start the hook", clone_errno);
    }
    set_nonblocking(in_pipe[1]);
    set_nonblocking(out_pipe[0]);
    set_nonblocking(err_pipe[0]);
    set_nonblocking(report_pipe[0]);

    const long long deadline =
        hook.timeout_seconds > 0 ? monotonic_ms() + 1000LL * hook.timeout_seconds : -1;
    int piece = 0;
    std::size_t offset = 0;
    bool timed_out = false;
    int poll_errno = 0;  // poll failed: the hook is killed and the error reported
    {
        SigpipeBlock no_sigpipe;
        write_available(in_pipe[1], state, piece, offset);  // an empty state closes stdin now
        for (;;) {
            struct pollfd fds[4];
            nfds_t n = 0;
            fds[n++] = {pidfd, POLLIN, 0};
            if (in_pipe[1] >= 0) fds[n++] = {in_pipe[1], POLLOUT, 0};
            if (out_pipe[0] >= 0) fds[n++] = {out_pipe[0], POLLIN, 0};
            if (err_pipe[0] >= 0) fds[n++] = {err_pipe[0], POLLIN, 0};
            int wait_ms = -1;
            if (deadline >= 0) {
                long long left = deadline - monotonic_ms();
                if (left <= 0) {
                    timed_out = true;
                    break;
                }
                wait_ms = static_cast<int>(left);
            }
            int ready = ::poll(fds, n, wait_ms);
            if (ready < 0) {
                if (errno == EINTR) continue;
                poll_errno = errno;
                break;
            }
            if (ready == 0) continue;  // the deadline check above decides
            // Drain the pipes before looking at the exit, so nothing written just before it
            // is lost; the budget keeps one chatty hook from starving the exit check.
            write_available(in_pipe[1], state, piece, offset);
            read_available(out_pipe[0], out, 1 << 20);
            read_available(err_pipe[0], err, 1 << 20);
            if (fds[0].revents != 0) break;  // exited
        }
    }
    close_fd(in_pipe[1]);
    if (timed_out || poll_errno != 0) kill_hook(pid, pidfd);

    siginfo_t info;
    int reaped = reap(pidfd, info);
    int reap_errno = errno;
    // Whatever the hook wrote before it ended; processes it left behind may still hold the
    // pipes, so read only what is already there.
    read_available(out_pipe[0], out, 1 << 20);
    read_available(err_pipe[0], err, 1 << 20);
    int exec_errno = 0;
    bool exec_failed = ::read(report_pipe[0], &exec_errno, sizeof exec_errno) ==
                       static_cast<ssize_t>(sizeof exec_errno);
    close_all();
    ::close(pidfd);

    if (poll_errno != 0) return setup_failed("cannot wait for the hook", poll_errno);
    Outcome o;
    if (timed_out) {
        o.kind = Outcome::Kind::TimedOut;
    } else if (exec_failed) {
        o.kind = Outcome::Kind::ExecFailed;
        o.err = exec_errno;
    } else if (reaped != 0) {
        o = setup_failed("cannot get the hook's exit status", reap_errno);
    } else if (info.si_code == CLD_EXITED) {
        if (info.si_status != 0) {
            o.kind = Outcome::Kind::Exited;
            o.code = info.si_status;
        }
    } else {
        o.kind = Outcome::Kind::Signaled;
        o.code = info.si_status;
    }
    return o;
}

}  // namespace hrun::hooks::detail
