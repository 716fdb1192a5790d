// Descriptors over AF_UNIX sockets (SCM_RIGHTS), in the form runc and its callers use: one
// message, the descriptor as ancillary data, a file name as the payload.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "console/console.hpp"

namespace hrun::console {

namespace {

// Room for a few descriptors: a peer that sends more than one is told apart from one that
// sends one (all of them are then closed), instead of the kernel dropping the extras silently.
constexpr std::size_t kMaxFdsSeen = 8;

union ControlBuffer {
    char bytes[CMSG_SPACE(sizeof(int) * kMaxFdsSeen)];
    cmsghdr align;
};

void close_all(const int* fds, std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i) ::close(fds[i]);
}

}  // namespace

int send_fd(int sock, int fd, const char* name) noexcept {
    std::size_t len = name != nullptr ? ::strnlen(name, kMaxNameLen) : 0;
    if (len >= kMaxNameLen) return -ENAMETOOLONG;
    static const char kNul = '\0';
    const char* data = len > 0 ? name : &kNul;
    std::size_t size = len > 0 ? len : 1;

    iovec iov;
    iov.iov_base = const_cast<char*>(data);
    iov.iov_len = size;
    union {
        char bytes[CMSG_SPACE(sizeof(int))];
        cmsghdr align;
    } control;
    std::memset(&control, 0, sizeof control);
    msghdr msg;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);

    ssize_t n;
    while ((n = ::sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    if (n < 0) return -errno;
    // A stream socket may take less; the descriptor went with the first byte, the rest of the
    // name follows as plain data.
    std::size_t sent = static_cast<std::size_t>(n);
    while (sent < size) {
        ssize_t m = ::send(sock, data + sent, size - sent, MSG_NOSIGNAL);
        if (m < 0 && errno == EINTR) continue;
        if (m <= 0) return m < 0 ? -errno : -EPIPE;
        sent += static_cast<std::size_t>(m);
    }
    return 0;
}

int recv_fd(int sock, char* name_buf, std::size_t len) noexcept {
    // Always receive into a full-size buffer: on a stream socket a short read would leave the
    // rest of the name in the stream for the next reader.
    char payload[kMaxNameLen];
    iovec iov;
    iov.iov_base = payload;
    iov.iov_len = sizeof payload;
    ControlBuffer control;
    std::memset(&control, 0, sizeof control);
    msghdr msg;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.bytes;
    msg.msg_controllen = sizeof control.bytes;

    ssize_t n;
    while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (n < 0) return -errno;

    int fds[kMaxFdsSeen];
    std::size_t count = 0;
    bool other = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            other = true;
            continue;
        }
        std::size_t in_msg = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < in_msg && count < kMaxFdsSeen; ++i)
            std::memcpy(&fds[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
    }

    if (count == 0) return n == 0 && !other ? -ECONNRESET : -EBADMSG;
    if (count > 1 || other || (msg.msg_flags & MSG_CTRUNC) != 0) {
        close_all(fds, count);
        return -EPROTO;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) >= kMaxNameLen) {
        close_all(fds, count);
        return -EMSGSIZE;
    }
    if (name_buf != nullptr && len > 0) {
        std::size_t copy = static_cast<std::size_t>(n) < len - 1 ? static_cast<std::size_t>(n) : len - 1;
        std::memcpy(name_buf, payload, copy);
        name_buf[copy] = '\0';
    }
    return fds[0];
}

Status send_to_console_socket(const std::string& socket_path, int master, const std::string& name) {
    if (socket_path.empty()) return fail("", "the console socket path is empty", EINVAL);
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return fail_errno("cannot create a socket for the console");

    sockaddr_un addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    std::string target = socket_path;
    UniqueFd path_fd;
    if (socket_path.size() >= sizeof addr.sun_path) {
        // Too long for sun_path: connect through the magic link of an O_PATH fd of the socket.
        path_fd.reset(::open(socket_path.c_str(), O_PATH | O_CLOEXEC));
        if (!path_fd) return fail_errno("cannot open the console socket " + socket_path);
        target = "/proc/self/fd/" + std::to_string(path_fd.get());
    }
    std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
    if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno("cannot connect to the console socket " + socket_path);
    if (int rc = send_fd(sock.get(), master, name.c_str()); rc < 0)
        return fail("", "cannot send the pty master to the console socket " + socket_path, -rc);
    return ok();
}

}  // namespace hrun::console
