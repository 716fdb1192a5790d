#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "console/console.hpp"
#include "test_util.hpp"

namespace hrun::console {
namespace {

using test::count_open_fds;
using test::open_pty_pair;
using test::TempDir;

struct SocketPair {
    UniqueFd a, b;
};

SocketPair socket_pair(int type) {
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) return {};
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// True if `a` and `b` are the same open file (same inode; for pipes that is the pipe).
bool same_inode(int a, int b) {
    struct stat sa, sb;
    return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

class FdPassing : public ::testing::TestWithParam<int> {};

TEST_P(FdPassing, SendsDescriptorAndName) {
    auto sp = socket_pair(GetParam());
    ASSERT_TRUE(sp.a && sp.b);
    int pipefd[2];
    ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
    UniqueFd rd(pipefd[0]), wr(pipefd[1]);

    ASSERT_EQ(send_fd(sp.a.get(), wr.get(), "/dev/pts/ptmx"), 0);
    char name[kMaxNameLen];
    int got = recv_fd(sp.b.get(), name, sizeof name);
    ASSERT_GE(got, 0) << std::strerror(-got);
    UniqueFd received(got);
    EXPECT_STREQ(name, "/dev/pts/ptmx");
    EXPECT_NE(received.get(), wr.get());
    EXPECT_TRUE(same_inode(received.get(), wr.get()));
    EXPECT_NE(::fcntl(received.get(), F_GETFD) & FD_CLOEXEC, 0);

    // The received descriptor is the pipe's write end: what goes in comes out of `rd`.
    ASSERT_EQ(::write(received.get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(rd.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST_P(FdPassing, MessagesStayApart) {
    auto sp = socket_pair(GetParam());
    int pipefd[2];
    ASSERT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
    UniqueFd rd(pipefd[0]), wr(pipefd[1]);

    ASSERT_EQ(send_fd(sp.a.get(), rd.get(), "first"), 0);
    ASSERT_EQ(send_fd(sp.a.get(), wr.get(), "second"), 0);
    char name[kMaxNameLen];
    UniqueFd one(recv_fd(sp.b.get(), name, sizeof name));
    ASSERT_TRUE(one);
    EXPECT_STREQ(name, "first");
    EXPECT_TRUE(same_inode(one.get(), rd.get()));
    UniqueFd two(recv_fd(sp.b.get(), name, sizeof name));
    ASSERT_TRUE(two);
    EXPECT_STREQ(name, "second");
    EXPECT_TRUE(same_inode(two.get(), wr.get()));
}

TEST_P(FdPassing, EmptyNameStillCarriesTheDescriptor) {
    auto sp = socket_pair(GetParam());
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), ""), 0);
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), nullptr), 0);
    for (int i = 0; i < 2; ++i) {
        char name[16] = "garbage";
        UniqueFd got(recv_fd(sp.b.get(), name, sizeof name));
        ASSERT_TRUE(got);
        EXPECT_STREQ(name, "");
        EXPECT_TRUE(same_inode(got.get(), file.get()));
    }
}

TEST_P(FdPassing, SmallNameBufferTruncates) {
    auto sp = socket_pair(GetParam());
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), "abcdef"), 0);
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), "next"), 0);
    char name[4];
    UniqueFd got(recv_fd(sp.b.get(), name, sizeof name));
    ASSERT_TRUE(got);
    EXPECT_STREQ(name, "abc");
    // The rest of the long name did not stay behind in the socket.
    char next[16];
    UniqueFd again(recv_fd(sp.b.get(), next, sizeof next));
    ASSERT_TRUE(again);
    EXPECT_STREQ(next, "next");
    // And a null buffer is allowed.
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), "x"), 0);
    UniqueFd third(recv_fd(sp.b.get(), nullptr, 0));
    EXPECT_TRUE(third);
}

// Connection-oriented sockets only: a datagram socket has no end of stream to see.
class ConnectedFdPassing : public ::testing::TestWithParam<int> {};

TEST_P(ConnectedFdPassing, ClosedPeerIsConnectionReset) {
    auto sp = socket_pair(GetParam());
    sp.a.reset();
    char name[16];
    EXPECT_EQ(recv_fd(sp.b.get(), name, sizeof name), -ECONNRESET);
}

TEST_P(FdPassing, MessageWithoutDescriptorIsBadMessage) {
    auto sp = socket_pair(GetParam());
    ASSERT_EQ(::send(sp.a.get(), "plain", 5, 0), 5);
    char name[16];
    EXPECT_EQ(recv_fd(sp.b.get(), name, sizeof name), -EBADMSG);
}

TEST_P(FdPassing, TwoDescriptorsAreRefusedAndClosed) {
    auto sp = socket_pair(GetParam());
    UniqueFd f1(::open("/dev/null", O_RDONLY | O_CLOEXEC)), f2(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
    int fds[2] = {f1.get(), f2.get()};
    char byte = 'n';
    iovec iov{&byte, 1};
    union {
        char bytes[CMSG_SPACE(sizeof fds)];
        cmsghdr align;
    } control;
    std::memset(&control, 0, sizeof control);
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    std::memcpy(CMSG_DATA(c), fds, sizeof fds);
    ASSERT_EQ(::sendmsg(sp.a.get(), &msg, 0), 1);

    int before = count_open_fds();
    char name[16];
    EXPECT_EQ(recv_fd(sp.b.get(), name, sizeof name), -EPROTO);
    EXPECT_EQ(count_open_fds(), before);  // both received descriptors were closed again
}

TEST_P(FdPassing, NameTooLongIsRefused) {
    auto sp = socket_pair(GetParam());
    std::string name(kMaxNameLen, 'n');
    EXPECT_EQ(send_fd(sp.a.get(), 0, name.c_str()), -ENAMETOOLONG);
    name.resize(kMaxNameLen - 1);
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(send_fd(sp.a.get(), file.get(), name.c_str()), 0);
    char buf[kMaxNameLen];
    UniqueFd got(recv_fd(sp.b.get(), buf, sizeof buf));
    ASSERT_TRUE(got);
    EXPECT_EQ(std::string(buf), name);
}

TEST_P(ConnectedFdPassing, SendToClosedPeerIsEpipeNotSignal) {
    auto sp = socket_pair(GetParam());
    sp.b.reset();
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    EXPECT_EQ(send_fd(sp.a.get(), file.get(), "x"), -EPIPE);  // and the test is still alive
}

std::string socket_type_name(const ::testing::TestParamInfo<int>& info) {
    switch (info.param) {
    case SOCK_STREAM: return "Stream";
    case SOCK_SEQPACKET: return "Seqpacket";
    default: return "Dgram";
    }
}

INSTANTIATE_TEST_SUITE_P(SocketTypes, FdPassing, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM),
                         socket_type_name);
INSTANTIATE_TEST_SUITE_P(SocketTypes, ConnectedFdPassing, ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         socket_type_name);

TEST(FdPassing, SeqpacketNameOfMaxLengthIsTooBig) {
    // A runc-style receiver refuses a name of kMaxNameLen bytes or more; so do we (a raw
    // sender can produce one, send_fd cannot).
    auto sp = socket_pair(SOCK_SEQPACKET);
    std::string big(kMaxNameLen + 10, 'b');
    UniqueFd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    int fd = file.get();
    iovec iov{big.data(), big.size()};
    union {
        char bytes[CMSG_SPACE(sizeof(int))];
        cmsghdr align;
    } control;
    std::memset(&control, 0, sizeof control);
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ASSERT_EQ(::sendmsg(sp.a.get(), &msg, 0), static_cast<ssize_t>(big.size()));
    int before = count_open_fds();
    char name[16];
    EXPECT_EQ(recv_fd(sp.b.get(), name, sizeof name), -EMSGSIZE);
    EXPECT_EQ(count_open_fds(), before);
}

// A console socket as containerd's shim or conmon has one: listening, SOCK_STREAM.
class ConsoleSocket : public ::testing::Test {
protected:
    // Binds and listens at `path` (reached from `dir` when given, for paths longer than sun_path).
    UniqueFd listen_at(const std::string& dir, const std::string& name) {
        UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, name.c_str(), sizeof addr.sun_path - 1);
        UniqueFd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (::chdir(dir.c_str()) != 0) return {};
        int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        if (::fchdir(cwd.get()) != 0) return {};
        if (rc != 0 || ::listen(sock.get(), 1) != 0) return {};
        return sock;
    }

    // Accepts the runtime's connection and receives the master.
    UniqueFd receive(int listener, std::string& name) {
        UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) return {};
        char buf[kMaxNameLen];
        int fd = recv_fd(conn.get(), buf, sizeof buf);
        if (fd < 0) return {};
        name = buf;
        return UniqueFd(fd);
    }

    TempDir tmp;
};

TEST_F(ConsoleSocket, ReceivesThePtyMaster) {
    UniqueFd listener = listen_at(tmp.path(), "console.sock");
    ASSERT_TRUE(listener);
    auto pty = open_pty_pair();
    ASSERT_TRUE(pty.master && pty.slave);

    auto st = send_to_console_socket(tmp / "console.sock", pty.master.get(), kMasterName);
    ASSERT_TRUE(st) << st.error().what();
    std::string name;
    UniqueFd got = receive(listener.get(), name);
    ASSERT_TRUE(got);
    EXPECT_EQ(name, "/dev/pts/ptmx");

    // A pty master (TIOCGPTN only works on one), and the same pty as ours.
    unsigned ours = 0, theirs = 0;
    ASSERT_EQ(::ioctl(pty.master.get(), TIOCGPTN, &ours), 0);
    ASSERT_EQ(::ioctl(got.get(), TIOCGPTN, &theirs), 0);
    EXPECT_EQ(ours, theirs);
    EXPECT_NE(::ioctl(pty.slave.get(), TIOCGPTN, &theirs), 0);  // a slave has no pty number
    // The master is still ours too.
    EXPECT_GE(::fcntl(pty.master.get(), F_GETFD), 0);
}

TEST_F(ConsoleSocket, PathLongerThanSunPath) {
    std::string dir = tmp.path();
    while (dir.size() < 140) {
        dir += "/a-rather-long-directory-name";
        ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    }
    UniqueFd listener = listen_at(dir, "c.sock");
    ASSERT_TRUE(listener);
    std::string path = dir + "/c.sock";
    ASSERT_GT(path.size(), sizeof(sockaddr_un::sun_path));
    auto pty = open_pty_pair();
    auto st = send_to_console_socket(path, pty.master.get(), kMasterName);
    ASSERT_TRUE(st) << st.error().what();
    std::string name;
    UniqueFd got = receive(listener.get(), name);
    ASSERT_TRUE(got);
    unsigned n = 0;
    EXPECT_EQ(::ioctl(got.get(), TIOCGPTN, &n), 0);
}

TEST_F(ConsoleSocket, MissingSocketNamesThePath) {
    auto pty = open_pty_pair();
    auto st = send_to_console_socket(tmp / "nobody-listens", pty.master.get(), kMasterName);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, ENOENT);
    EXPECT_NE(st.error().what().find("nobody-listens"), std::string::npos) << st.error().what();
    EXPECT_FALSE(send_to_console_socket("", pty.master.get(), kMasterName));
}

}  // namespace
}  // namespace hrun::console
