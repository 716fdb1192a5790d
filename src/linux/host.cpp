#include "linux/host.hpp"

#include <fcntl.h>
#include <sys/apparmor.h>
#include <unistd.h>

#include <cstdlib>

#include "linux/procfs.hpp"

namespace hrun::os {

namespace {
int read_cap_last_cap(int procfd) {
    int fd = procfs_open(procfd, "sys/kernel/cap_last_cap", O_RDONLY);
    if (fd < 0) return 40;
    char buf[16] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    return n > 0 ? std::atoi(buf) : 40;
}
}  // namespace

Result<HostContext> probe_host() {
    HostContext host;
    host.proc = HRUN_TRY(open_verified_procfs());
    host.cap_last_cap = read_cap_last_cap(host.proc.get());
    host.apparmor = ::aa_is_enabled() == 1;
    host.selinux = ::access("/sys/fs/selinux/enforce", F_OK) == 0;
    host.euid = ::geteuid();
    host.egid = ::getegid();
    return host;
}

}  // namespace hrun::os
