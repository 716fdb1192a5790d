// Terminals: with --console-socket hrun hands the pty master to the caller over a unix socket
// (SCM_RIGHTS), as containerd and conmon expect; without one, a foreground hrun copies between
// the caller's terminal and the pty. Either way the process gets a real tty of the configured
// size, input reaches it and output comes back.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset(std::exchange(o.fd_, -1));
        return *this;
    }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

// The listening end of a --console-socket.
class ConsoleSocket {
public:
    explicit ConsoleSocket(const std::string& path) : path_(path) {
        sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        if (::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(sock_.get(), 4) != 0)
            error_ = std::string("cannot listen on ") + path + ": " + std::strerror(errno);
    }
    const std::string& path() const { return path_; }
    const std::string& error() const { return error_; }

    // Accepts one connection and returns the descriptor it carries (-1 on timeout or when the
    // message holds none); `name` gets the payload sent with it.
    Fd receive(std::chrono::milliseconds timeout, std::string* name = nullptr) {
        pollfd pfd{sock_.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return Fd();
        Fd conn(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return Fd();
        pfd = {conn.get(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout.count())) != 1) return Fd();
        char payload[4096];
        iovec iov{payload, sizeof payload};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) return Fd();
        if (name) name->assign(payload, static_cast<size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
                return Fd(fd);
            }
        }
        return Fd();
    }

private:
    std::string path_;
    std::string error_;
    Fd sock_;
};

// Reads `fd` into `seen` until it contains `needle` (true) or the timeout/EOF (false).
bool read_until(int fd, std::string& seen, const std::string& needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen.find(needle) == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return false;
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[1024];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return false;  // EIO: every slave is closed
        seen.append(buf, static_cast<size_t>(n));
    }
    return true;
}

bool write_all(int fd, const std::string& text) {
    return ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

// A shell dialogue on the terminal: its size, its name, then one line echoed back.
const std::vector<std::string> kDialogue = {
    "/bin/sh", "-c", "stty size; echo tty=$(tty); read line; echo got:$line; sleep 1000"};

class Console : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        socket_ = std::make_unique<ConsoleSocket>(bundle().dir() + "/console.sock");
        ASSERT_TRUE(socket_->error().empty()) << socket_->error();
        bundle().config["process"]["terminal"] = true;
        bundle().config["process"]["consoleSize"] = {{"height", 37}, {"width", 101}};
        bundle().set_args(kDialogue);
        bundle().save();
    }

    // Runs hrun `args` and receives the master it sends; `hrun_result` gets hrun's outcome.
    Fd master_from(const std::vector<std::string>& args, RunResult& hrun_result, std::string* name = nullptr) {
        Process p(hrun_argv(args));
        Fd master = socket_->receive(15s, name);
        hrun_result = p.wait(20s);
        return master;
    }

    // The master is a terminal, the dialogue shows the configured size and an echo of our input.
    void talk(int master, const std::string& size) {
        EXPECT_TRUE(::isatty(master)) << "the received fd is not a terminal";
        std::string seen;
        EXPECT_TRUE(read_until(master, seen, size, 10s)) << "no \"" << size << "\" in: " << seen;
        EXPECT_TRUE(read_until(master, seen, "tty=/dev/pts/", 10s)) << seen;
        ASSERT_TRUE(write_all(master, "hello from the test\n"));
        EXPECT_TRUE(read_until(master, seen, "got:hello from the test", 10s)) << seen;
    }

    std::unique_ptr<ConsoleSocket> socket_;
};

TEST_F(Console, CreateSendsThePtyMaster) {
    const std::string id = unique_id();
    RunResult created;
    std::string name;
    Fd master = master_from({"create", "--console-socket", socket_->path(), "--bundle", bundle().dir(), id},
                            created, &name);
    ASSERT_EQ(created.status, 0) << created.describe();
    ASSERT_TRUE(master) << "no descriptor arrived on the console socket";
    EXPECT_FALSE(name.empty()) << "runc sends the master's name along";
    RunResult started = hrun({"start", id});
    ASSERT_EQ(started.status, 0) << started.describe();
    talk(master.get(), "37 101");
}

TEST_F(Console, RunDetachSendsThePtyMaster) {
    const std::string id = unique_id();
    RunResult ran;
    Fd master = master_from({"run", "--detach", "--console-socket", socket_->path(), "--bundle", bundle().dir(), id},
                            ran);
    ASSERT_EQ(ran.status, 0) << ran.describe();
    ASSERT_TRUE(master) << "no descriptor arrived on the console socket";
    EXPECT_EQ(status_of(id), "running");
    talk(master.get(), "37 101");
}

TEST_F(Console, DetachedTerminalWithoutSocketIsRefused) {
    const std::string id = unique_id();
    RunResult r = hrun({"create", "--bundle", bundle().dir(), id});
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("console-socket"), std::string::npos) << r.describe();
    EXPECT_NE(hrun({"state", id}).status, 0);
}

TEST_F(Console, ExecTtySendsThePtyMaster) {
    bundle().config["process"]["terminal"] = false;
    bundle().config["process"].erase("consoleSize");
    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    Process exec(hrun_argv({"exec", "--tty", "--console-socket", socket_->path(), id, "/bin/sh", "-c",
                            "stty size; echo tty=$(tty); read line; echo got:$line"}));
    Fd master = socket_->receive(15s);
    ASSERT_TRUE(master) << "no descriptor arrived: " << exec.wait(5s).describe();
    EXPECT_TRUE(::isatty(master.get()));
    std::string seen;
    EXPECT_TRUE(read_until(master.get(), seen, "tty=/dev/pts/", 10s)) << seen;
    ASSERT_TRUE(write_all(master.get(), "typed\n"));
    EXPECT_TRUE(read_until(master.get(), seen, "got:typed", 10s)) << seen;
    RunResult r = exec.wait(10s);
    EXPECT_EQ(r.status, 0) << r.describe();
}

// ---- the caller's own terminal ----

// hrun started with the slave of a pty the test holds as its stdin, stdout and stderr.
class OnTerminal {
public:
    OnTerminal(const std::vector<std::string>& argv, unsigned short rows, unsigned short cols) {
        int m = -1, s = -1;
        winsize ws{};
        ws.ws_row = rows;
        ws.ws_col = cols;
        if (::openpty(&m, &s, nullptr, nullptr, &ws) != 0) return;
        master_.reset(m);
        slave_.reset(s);
        ::fcntl(m, F_SETFD, FD_CLOEXEC);
        ::fcntl(s, F_SETFD, FD_CLOEXEC);
        ::tcgetattr(s, &before_);
        std::vector<std::string> args = argv;
        std::vector<char*> c_args;
        for (auto& a : args) c_args.push_back(a.data());
        c_args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setsid();
            ::ioctl(s, TIOCSCTTY, 0);
            ::dup2(s, 0);
            ::dup2(s, 1);
            ::dup2(s, 2);
            ::execv(c_args[0], c_args.data());
            ::_exit(127);
        }
    }
    ~OnTerminal() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    bool ok() const { return master_ && pid_ > 0; }
    int master() const { return master_.get(); }
    std::string& seen() { return seen_; }

    // Waits for hrun to exit, reading the terminal meanwhile; its status, -1 on timeout.
    int wait(std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int ws;
            if (::waitpid(pid_, &ws, WNOHANG) == pid_) {
                reaped_ = true;
                read_until(master_.get(), seen_, "\x01never", 100ms);  // the last output
                return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
            }
            read_until(master_.get(), seen_, "\x01never", 20ms);
        }
        return -1;
    }
    // The terminal's settings are those it had before hrun ran (raw mode undone).
    bool settings_restored() const {
        termios now{};
        ::tcgetattr(slave_.get(), &now);
        return now.c_iflag == before_.c_iflag && now.c_oflag == before_.c_oflag &&
               now.c_lflag == before_.c_lflag && now.c_cflag == before_.c_cflag;
    }

private:
    Fd master_, slave_;
    termios before_{};
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::string seen_;
};

TEST_F(Console, ForegroundRunUsesTheCallersTerminal) {
    bundle().set_args({"/bin/sh", "-c", "stty size; echo tty=$(tty); read line; echo got:$line"});
    bundle().save();
    OnTerminal term(hrun_argv({"run", "--bundle", bundle().dir(), unique_id()}), 25, 90);
    ASSERT_TRUE(term.ok());
    // As runc: the caller's terminal size wins over consoleSize in the foreground.
    EXPECT_TRUE(read_until(term.master(), term.seen(), "25 90", 15s)) << term.seen();
    EXPECT_TRUE(read_until(term.master(), term.seen(), "tty=/dev/pts/", 10s)) << term.seen();
    ASSERT_TRUE(write_all(term.master(), "through the caller\n"));
    EXPECT_TRUE(read_until(term.master(), term.seen(), "got:through the caller", 10s)) << term.seen();
    EXPECT_EQ(term.wait(15s), 0) << term.seen();
    EXPECT_TRUE(term.settings_restored()) << "hrun left the caller's terminal in raw mode";
}

TEST_F(Console, ForegroundExecTtyUsesTheCallersTerminal) {
    bundle().config["process"]["terminal"] = false;
    bundle().config["process"].erase("consoleSize");
    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    OnTerminal term(hrun_argv({"exec", "--tty", id, "/bin/sh", "-c",
                               "stty size; echo tty=$(tty); read line; echo got:$line; exit 4"}),
                    30, 77);
    ASSERT_TRUE(term.ok());
    EXPECT_TRUE(read_until(term.master(), term.seen(), "30 77", 15s)) << term.seen();
    EXPECT_TRUE(read_until(term.master(), term.seen(), "tty=/dev/pts/", 10s)) << term.seen();
    ASSERT_TRUE(write_all(term.master(), "exec input\n"));
    EXPECT_TRUE(read_until(term.master(), term.seen(), "got:exec input", 10s)) << term.seen();
    EXPECT_EQ(term.wait(15s), 4) << "the exit status comes back: " << term.seen();
    EXPECT_TRUE(term.settings_restored()) << "hrun left the caller's terminal in raw mode";
}

}  // namespace
}  // namespace hrun::itest
