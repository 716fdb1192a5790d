#include "create/sync.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace hrun::create {

int sync_send(int fd, const SyncMsg& msg) noexcept {
    for (;;) {
        ssize_t n = ::send(fd, &msg, sizeof msg, MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(sizeof msg)) return 0;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -errno : -EMSGSIZE;
    }
}

int sync_recv(int fd, SyncMsg& msg) noexcept {
    for (;;) {
        ssize_t n = ::recv(fd, &msg, sizeof msg, 0);
        if (n == static_cast<ssize_t>(sizeof msg)) return 0;
        if (n == 0) return -EPIPE;
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -errno : -EPROTO;
    }
}

}  // namespace hrun::create
