// The foreground terminal: hrun's stdio <-> the container's pty master.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "console/console.hpp"

namespace hrun::console {

namespace {

// Reads per on_master_readable call: a container that prints without pause must not keep
// the supervise loop from its signals. Poll reports the master readable again.
constexpr int kReadsPerEvent = 16;
// Reads drain_output makes at most (16 MiB): a process left holding the slave could print forever.
constexpr int kDrainReads = 1024;

}  // namespace

TerminalProxy::TerminalProxy(UniqueFd master, int in_fd, int out_fd)
    : master_(std::move(master)), in_fd_(in_fd), out_fd_(out_fd) {}

TerminalProxy::TerminalProxy(TerminalProxy&& other) noexcept
    : master_(std::move(other.master_)),
      in_fd_(other.in_fd_),
      out_fd_(other.out_fd_),
      tty_fd_(other.tty_fd_),
      raw_(std::exchange(other.raw_, false)),
      saved_(other.saved_),
      stdin_done_(other.stdin_done_),
      output_done_(other.output_done_),
      out_broken_(other.out_broken_),
      pending_(other.pending_),
      pending_off_(other.pending_off_),
      pending_len_(other.pending_len_) {
    other.tty_fd_ = -1;
}

TerminalProxy::~TerminalProxy() { restore_terminal(); }

Result<TerminalProxy> TerminalProxy::start(UniqueFd master, int in_fd, int out_fd) {
    if (!master) return fail("", "no pty master to copy from", EBADF);
    int flags = ::fcntl(master.get(), F_GETFL);
    if (flags < 0 || ::fcntl(master.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return fail_errno("cannot make the pty master non-blocking");

    TerminalProxy proxy(std::move(master), in_fd, out_fd);
    if (in_fd >= 0 && ::isatty(in_fd)) proxy.tty_fd_ = in_fd;
    else if (out_fd >= 0 && ::isatty(out_fd)) proxy.tty_fd_ = out_fd;

    if (proxy.tty_fd_ >= 0) {
        if (::tcgetattr(proxy.tty_fd_, &proxy.saved_) != 0) return fail_errno("cannot read the terminal's settings");
        struct termios raw = proxy.saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(proxy.tty_fd_, TCSANOW, &raw) != 0) return fail_errno("cannot put the terminal in raw mode");
        proxy.raw_ = true;  // from here on the destructor restores it, error paths included
    }
    proxy.on_sigwinch();
    return proxy;
}

void TerminalProxy::restore_terminal() {
    if (!raw_) return;
    raw_ = false;
    ::tcsetattr(tty_fd_, TCSANOW, &saved_);
}

int TerminalProxy::stdin_fd_to_poll() const {
    if (stdin_done_ || output_done_ || pending_len_ > 0) return -1;
    return in_fd_;
}

short TerminalProxy::master_events() const {
    if (output_done_) return 0;
    return static_cast<short>(POLLIN | (pending_len_ > 0 ? POLLOUT : 0));
}

void TerminalProxy::fill_pollfds(pollfd& in, pollfd& master) const {
    in.fd = stdin_fd_to_poll();
    in.events = POLLIN;
    in.revents = 0;
    short events = master_events();
    master.fd = events != 0 ? master_.get() : -1;
    master.events = events;
    master.revents = 0;
}

void TerminalProxy::handle(const pollfd& in, const pollfd& master) {
    if (in.fd >= 0 && in.fd == in_fd_) {
        if ((in.revents & POLLNVAL) != 0) stdin_done_ = true;
        else if ((in.revents & (POLLIN | POLLHUP | POLLERR)) != 0) on_stdin_readable();
    }
    if (master.fd >= 0 && master.fd == master_.get()) {
        if ((master.revents & POLLOUT) != 0) on_master_writable();
        if ((master.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) on_master_readable();
    }
}

void TerminalProxy::on_stdin_readable() {
    if (stdin_done_ || output_done_ || pending_len_ > 0) return;
    char buf[kBufferSize];
    ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // EOF, or EIO for a job in the background: stop copying, as runc does
        stdin_done_ = true;
        return;
    }
    write_to_master(buf, static_cast<std::size_t>(n));
}

void TerminalProxy::write_to_master(const char* data, std::size_t len) {
    std::size_t done = 0;
    while (done < len) {
        ssize_t n = ::write(master_.get(), data + done, len - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        return;  // EIO: the slave is gone; the read side notices and ends the output
    }
    // The rest waits for POLLOUT; stdin is not read meanwhile, so it always fits.
    std::memcpy(pending_.data(), data + done, len - done);
    pending_off_ = 0;
    pending_len_ = len - done;
}

void TerminalProxy::on_master_writable() {
    while (pending_len_ > 0) {
        ssize_t n = ::write(master_.get(), pending_.data() + pending_off_, pending_len_);
        if (n > 0) {
            pending_off_ += static_cast<std::size_t>(n);
            pending_len_ -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        pending_len_ = 0;  // the slave is gone: the input has nowhere to go
    }
    pending_off_ = 0;
}

void TerminalProxy::write_out(const char* data, std::size_t len) {
    std::size_t done = 0;
    while (!out_broken_ && done < len) {
        ssize_t n = ::write(out_fd_, data + done, len - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {  // someone made our stdout non-blocking
            pollfd p{out_fd_, POLLOUT, 0};
            ::poll(&p, 1, -1);
        } else {
            // Nobody reads our output any more; keep draining the master so that the
            // container does not block writing to its terminal.
            out_broken_ = true;
        }
    }
}

void TerminalProxy::on_master_readable() {
    if (output_done_) return;
    char buf[kBufferSize];
    for (int i = 0; i < kReadsPerEvent; ++i) {
        ssize_t n = ::read(master_.get(), buf, sizeof buf);
        if (n > 0) {
            write_out(buf, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        output_done_ = true;  // EIO: every slave descriptor is closed
        pending_len_ = 0;
        return;
    }
}

void TerminalProxy::drain_output() {
    for (int i = 0; i < kDrainReads / kReadsPerEvent && !output_done_; ++i) {
        // Stop as soon as nothing is left (on_master_readable also returns on EAGAIN, but
        // does not say so).
        pollfd p{master_.get(), POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0 || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
        on_master_readable();
    }
}

void TerminalProxy::on_sigwinch() {
    if (tty_fd_ < 0 || output_done_) return;
    struct winsize ws;
    if (::ioctl(tty_fd_, TIOCGWINSZ, &ws) != 0) return;
    ::ioctl(master_.get(), TIOCSWINSZ, &ws);
}

}  // namespace hrun::console
