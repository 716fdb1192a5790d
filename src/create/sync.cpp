#include "create/sync.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

bool sync_peer_gone(int fd) noexcept {
    char byte;
    for (;;) {
        ssize_t n = ::recv(fd, &byte, sizeof byte, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        // 0: EOF, the parent's end is closed. A pending message or EAGAIN: it is still there.
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

int tie_to_parent(int sync_fd, pid_t parent) noexcept {
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -errno;
    // hrun may have died before the prctl took effect: then no signal will come. getppid()
    // tells only outside a new or joined pid namespace (inside, the parent is invisible and
    // reads 0); the socket tells everywhere: an exiting hrun closes its files before it
    // reparents its children (do_exit: exit_files, then exit_notify), so a parent that missed
    // the prctl has already closed its end.
    const pid_t ppid = ::getppid();
    if ((ppid != 0 && ppid != parent) || sync_peer_gone(sync_fd)) ::_exit(1);
    return 0;
}

}  // namespace hrun::create
