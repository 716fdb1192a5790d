// TerminalProxy between two pty pairs: `caller` stands in for the terminal hrun runs in (its
// slave is hrun's stdin and stdout, its master is the person typing), `container` for the
// container's pty (its master is what hrun received, its slave the container's stdio).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "console/console.hpp"
#include "test_util.hpp"

namespace hrun::console {
namespace {

using test::open_pty_pair;
using test::PtyPair;
using test::read_some;

// One turn of a supervise loop.
void pump(TerminalProxy& proxy, int timeout_ms = 20) {
    pollfd fds[2];
    proxy.fill_pollfds(fds[0], fds[1]);
    if (::poll(fds, 2, timeout_ms) > 0) proxy.handle(fds[0], fds[1]);
}

// Pumps until `fd` has `want` bytes for us (read as they come), or a few seconds passed.
std::string pump_and_read(TerminalProxy& proxy, int fd, std::size_t want) {
    std::string got;
    for (int i = 0; i < 250 && got.size() < want; ++i) {
        pump(proxy);
        char buf[4096];
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n > 0) got.append(buf, static_cast<std::size_t>(n));
        }
    }
    return got;
}

void set_raw(int fd) {
    struct termios t;
    ASSERT_EQ(::tcgetattr(fd, &t), 0);
    ::cfmakeraw(&t);
    ASSERT_EQ(::tcsetattr(fd, TCSANOW, &t), 0);
}

void set_size(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    ASSERT_EQ(::ioctl(fd, TIOCSWINSZ, &ws), 0);
}

std::pair<int, int> get_size(int fd) {
    struct winsize ws {};
    if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return {-1, -1};
    return {ws.ws_row, ws.ws_col};
}

bool same_termios(const struct termios& a, const struct termios& b) {
    return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag && a.c_lflag == b.c_lflag &&
           std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

class Proxy : public ::testing::Test {
protected:
    void SetUp() override {
        caller = open_pty_pair();
        container = open_pty_pair();
        ASSERT_TRUE(caller.master && caller.slave && container.master && container.slave);
        // The container side byte-exact (no echo, no line buffering, no \n -> \r\n).
        set_raw(container.slave.get());
        set_size(caller.slave.get(), 30, 90);
        ASSERT_EQ(::tcgetattr(caller.slave.get(), &before), 0);
        container_master = container.master.get();
    }

    Result<TerminalProxy> start() {
        return TerminalProxy::start(std::move(container.master), caller.slave.get(), caller.slave.get());
    }

    PtyPair caller, container;
    int container_master = -1;
    struct termios before {};
};

TEST_F(Proxy, RawModeWhileRunningRestoredAfter) {
    ASSERT_TRUE(before.c_lflag & ICANON) << "a fresh pty starts canonical";
    {
        auto proxy = start();
        ASSERT_TRUE(proxy) << proxy.error().what();
        EXPECT_TRUE(proxy->raw_mode());
        struct termios during;
        ASSERT_EQ(::tcgetattr(caller.slave.get(), &during), 0);
        EXPECT_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0u);
        EXPECT_EQ(during.c_oflag & OPOST, 0u);
        EXPECT_FALSE(same_termios(during, before));

        // Moving the proxy must not restore early (the moved-from one is destroyed here).
        TerminalProxy moved(std::move(*proxy));
        ASSERT_EQ(::tcgetattr(caller.slave.get(), &during), 0);
        EXPECT_EQ(during.c_lflag & ICANON, 0u);
        EXPECT_TRUE(moved.raw_mode());
    }
    struct termios after;
    ASSERT_EQ(::tcgetattr(caller.slave.get(), &after), 0);
    EXPECT_TRUE(same_termios(after, before));
}

TEST_F(Proxy, RestoreTerminalIsIdempotent) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    proxy->restore_terminal();
    struct termios now;
    ASSERT_EQ(::tcgetattr(caller.slave.get(), &now), 0);
    EXPECT_TRUE(same_termios(now, before));
    // Somebody changes the terminal after the restore: a second restore must not undo it.
    struct termios changed = now;
    changed.c_lflag &= ~ECHO;
    ASSERT_EQ(::tcsetattr(caller.slave.get(), TCSANOW, &changed), 0);
    proxy->restore_terminal();
    ASSERT_EQ(::tcgetattr(caller.slave.get(), &now), 0);
    EXPECT_EQ(now.c_lflag & ECHO, 0u);
}

TEST_F(Proxy, BytesFlowBothWays) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    EXPECT_EQ(proxy->master_fd(), container_master);

    // Typed at the caller's terminal -> read by the container. Raw mode: ^C is a plain byte.
    ASSERT_EQ(::write(caller.master.get(), "ls\x03\r", 4), 4);
    EXPECT_EQ(pump_and_read(*proxy, container.slave.get(), 4), "ls\x03\r");

    // Written by the container -> shown on the caller's terminal, byte for byte (no OPOST).
    ASSERT_EQ(::write(container.slave.get(), "out\n", 4), 4);
    EXPECT_EQ(pump_and_read(*proxy, caller.master.get(), 4), "out\n");
}

TEST_F(Proxy, WindowSizeAtStartAndOnSigwinch) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    EXPECT_EQ(get_size(container.slave.get()), std::make_pair(30, 90));
    set_size(caller.slave.get(), 50, 120);
    EXPECT_EQ(get_size(container.slave.get()), std::make_pair(30, 90));
    proxy->on_sigwinch();
    EXPECT_EQ(get_size(container.slave.get()), std::make_pair(50, 120));
}

TEST_F(Proxy, SlaveClosedEndsOutputAfterTheLastBytes) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    ASSERT_EQ(::write(container.slave.get(), "bye", 3), 3);
    container.slave.reset();  // the container exited
    std::string got = pump_and_read(*proxy, caller.master.get(), 3);
    EXPECT_EQ(got, "bye");
    for (int i = 0; i < 50 && !proxy->output_done(); ++i) pump(*proxy);
    EXPECT_TRUE(proxy->output_done());
    EXPECT_EQ(proxy->master_events(), 0);
    pollfd in, master;
    proxy->fill_pollfds(in, master);
    EXPECT_EQ(master.fd, -1);
    EXPECT_EQ(in.fd, -1);  // nowhere to send input any more
}

TEST_F(Proxy, DrainOutputCopiesWhatIsLeft) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    std::string text(3000, 'd');
    ASSERT_EQ(::write(container.slave.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
    proxy->drain_output();  // no poll loop: everything that is there, at once
    EXPECT_EQ(read_some(caller.master.get(), text.size(), 1000), text);
    // With nothing left it returns at once instead of waiting for more.
    proxy->drain_output();
    EXPECT_FALSE(proxy->output_done());
}

TEST_F(Proxy, InputWaitsWhileTheContainerDoesNotRead) {
    auto proxy = start();
    ASSERT_TRUE(proxy);
    int typist = caller.master.get();
    ASSERT_EQ(::fcntl(typist, F_SETFL, ::fcntl(typist, F_GETFL) | O_NONBLOCK), 0);

    // Far more than a pty holds; the container reads nothing for now.
    std::string input;
    for (int i = 0; i < 100000; ++i) input.push_back(static_cast<char>('a' + i % 26));
    std::size_t typed = 0;
    bool held = false;
    for (int i = 0; i < 500 && !held; ++i) {
        ssize_t n = ::write(typist, input.data() + typed, input.size() - typed);
        if (n > 0) typed += static_cast<std::size_t>(n);
        pump(*proxy, 5);
        held = proxy->stdin_fd_to_poll() == -1 && (proxy->master_events() & POLLOUT) != 0;
    }
    ASSERT_TRUE(held) << "the proxy never held input back";
    EXPECT_FALSE(proxy->stdin_done());

    // The container starts reading: everything arrives, in order.
    std::string got;
    for (int i = 0; i < 5000 && got.size() < input.size(); ++i) {
        if (typed < input.size()) {
            ssize_t n = ::write(typist, input.data() + typed, input.size() - typed);
            if (n > 0) typed += static_cast<std::size_t>(n);
        }
        pump(*proxy, 1);
        char buf[16384];
        pollfd p{container.slave.get(), POLLIN, 0};
        while (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
            ssize_t n = ::read(container.slave.get(), buf, sizeof buf);
            if (n <= 0) break;
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
    ASSERT_EQ(got.size(), input.size());
    EXPECT_TRUE(got == input);
}

TEST(ProxyPipes, NoTerminalNoRawModeAndEofStopsInput) {
    auto container = open_pty_pair();
    ASSERT_TRUE(container.master && container.slave);
    set_raw(container.slave.get());
    set_size(container.slave.get(), 11, 22);
    int in[2], out[2];
    ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    UniqueFd in_r(in[0]), in_w(in[1]), out_r(out[0]), out_w(out[1]);

    auto proxy = TerminalProxy::start(std::move(container.master), in_r.get(), out_w.get());
    ASSERT_TRUE(proxy) << proxy.error().what();
    EXPECT_FALSE(proxy->raw_mode());
    EXPECT_EQ(get_size(container.slave.get()), std::make_pair(11, 22));  // left alone

    ASSERT_EQ(::write(in_w.get(), "piped", 5), 5);
    EXPECT_EQ(pump_and_read(*proxy, container.slave.get(), 5), "piped");
    ASSERT_EQ(::write(container.slave.get(), "back", 4), 4);
    EXPECT_EQ(pump_and_read(*proxy, out_r.get(), 4), "back");

    in_w.reset();  // EOF on stdin
    for (int i = 0; i < 50 && !proxy->stdin_done(); ++i) pump(*proxy);
    EXPECT_TRUE(proxy->stdin_done());
    EXPECT_EQ(proxy->stdin_fd_to_poll(), -1);
    // Output still flows after the input ended.
    EXPECT_FALSE(proxy->output_done());
    ASSERT_EQ(::write(container.slave.get(), "more", 4), 4);
    EXPECT_EQ(pump_and_read(*proxy, out_r.get(), 4), "more");
}

TEST(ProxyPipes, BrokenStdoutDoesNotBlockTheContainer) {
    auto container = open_pty_pair();
    ASSERT_TRUE(container.master && container.slave);
    set_raw(container.slave.get());
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    UniqueFd out_r(out[0]), out_w(out[1]);
    UniqueFd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    auto proxy = TerminalProxy::start(std::move(container.master), null_in.get(), out_w.get());
    ASSERT_TRUE(proxy);
    out_r.reset();  // nobody reads hrun's output (EPIPE; SIGPIPE is ignored for this test)
    struct sigaction ign {}, old {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    ASSERT_EQ(::write(container.slave.get(), "lost", 4), 4);
    for (int i = 0; i < 10; ++i) pump(*proxy, 5);
    ::sigaction(SIGPIPE, &old, nullptr);
    // The master was still read: nothing waits in it.
    pollfd p{proxy->master_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0);
    EXPECT_FALSE(proxy->output_done());
}

TEST(ProxyStart, NeedsAMaster) {
    auto proxy = TerminalProxy::start(UniqueFd(), 0, 1);
    ASSERT_FALSE(proxy);
    EXPECT_EQ(proxy.error().err, EBADF);
}

}  // namespace
}  // namespace hrun::console
