#include "create/spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "create/child.hpp"
#include "create/sync.hpp"
#include "rootfs/idmap.hpp"

namespace hrun::create {

namespace {

void reap(pid_t pid) noexcept {
    while (::waitpid(pid, nullptr, __WALL) < 0 && errno == EINTR) {
    }
}

Error child_error_to_error(const ChildError& ce) {
    return Error{ce.err, ce.field, ce.message};
}

// clone3 with the namespaces the plan creates up front. The child runs on a copy of our stack,
// exactly like fork, and never returns from child_main.
Result<ContainerProcess> clone_child(const ContainerPlan& plan, int child_sock, int parent_sock) {
    int pidfd = -1;
    struct clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = plan.ns.clone_flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (plan.cgroup && plan.cgroup->clone_into_fd() >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = static_cast<uint64_t>(plan.cgroup->clone_into_fd());
    }
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return fail_errno("cannot create the container process", "linux.namespaces");
    if (pid == 0) {
        ::close(parent_sock);
        child_main(plan, child_sock);
    }
    return ContainerProcess(static_cast<pid_t>(pid), UniqueFd(pidfd));
}

// The child vanished without a word: say how, and name the memory limit when the kernel's OOM
// killer took it (a limit too small for even the setup is a config error, not a crash).
Error describe_setup_death(const ContainerPlan& plan, ContainerProcess& child) {
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(child.pid(), &status, __WALL)) < 0 && errno == EINTR) {
    }
    if (r == child.pid()) child.release();
    if (plan.cgroup) {
        if (auto ooms = plan.cgroup->oom_kills(); ooms && *ooms > 0)
            return Error{0, "linux.resources.memory.limit",
                         "the container process was OOM-killed during setup: the limit is too low"};
    }
    if (r > 0 && WIFSIGNALED(status))
        return Error{0, "", std::string("the container process was killed by signal ") +
                                 std::to_string(WTERMSIG(status)) + " during setup"};
    if (r > 0 && WIFEXITED(status))
        return Error{0, "", "the container process exited with status " +
                                 std::to_string(WEXITSTATUS(status)) + " during setup"};
    return Error{ECHILD, "", "the container process died during setup"};
}

// With a second fork, `first` only created namespaces and handed over to `container`.
Result<ContainerProcess> finish(const ContainerPlan& plan, ContainerProcess& first,
                                ContainerProcess container) {
    if (!plan.ns.second_fork) return std::move(first);
    // The intermediate process exits right after handing over; collect it.
    while (::waitpid(first.pid(), nullptr, __WALL) < 0 && errno == EINTR) {
    }
    first.release();
    if (container.pid() == 0) return fail("", "the container process was not created", ECHILD);
    return container;
}

// IDMAP_REQUEST: the premade (idmapped) mounts, made here with host privilege, go to the child
// in slot order; closing our copies afterwards leaves the child the only holder.
Status send_premade_mounts(const ContainerPlan& plan, int sock, int container_userns) {
    std::vector<UniqueFd> mounts =
        HRUN_TRY(rootfs::make_premade_mounts(plan.rootfs, container_userns, plan.host.proc.get()));
    int rc = sync_send(sock, SyncType::IdmapMounts, static_cast<pid_t>(mounts.size()));
    for (std::size_t i = 0; rc == 0 && i < mounts.size(); ++i) rc = console::send_fd(sock, mounts[i].get(), "idmap");
    if (rc < 0) return fail("", "cannot pass the idmapped mounts to the container process", -rc);
    return ok();
}

// With premade mounts, the container's user namespace is kept as an fd as soon as it is mapped:
// whichever process sends IDMAP_REQUEST later, the namespace is the same.
Result<UniqueFd> open_user_namespace(const ContainerPlan& plan, pid_t pid) {
    if (plan.rootfs.premade_count == 0 || plan.join_existing) return UniqueFd();
    std::string path = std::to_string(pid) + "/ns/user";
    UniqueFd fd(::openat(plan.host.proc.get(), path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open the container's user namespace", "linux.namespaces");
    return fd;
}

}  // namespace

ContainerProcess& ContainerProcess::operator=(ContainerProcess&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, 0);
        pidfd_ = std::move(other.pidfd_);
    }
    return *this;
}

void ContainerProcess::kill_and_reap() noexcept {
    if (pid_ <= 0) return;
    if (pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    else ::kill(pid_, SIGKILL);
    reap(pid_);
    release();
}

Result<ContainerProcess> spawn_container(const ContainerPlan& plan, const SpawnSteps& steps) {
    int socks[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0)
        return fail_errno("cannot create the sync socket");
    UniqueFd parent_sock(socks[0]);
    UniqueFd child_sock(socks[1]);
    // The container inherits fds 3..3+N-1 (--preserve-fds); our end must sit above them.
    if (int min = 3 + plan.process.preserve_fds; child_sock.get() < min) {
        child_sock.reset(::fcntl(child_sock.get(), F_DUPFD_CLOEXEC, min));
        if (!child_sock) return fail_errno("cannot move the sync socket");
    }

    ContainerProcess first = HRUN_TRY(clone_child(plan, child_sock.get(), parent_sock.get()));
    child_sock.reset();  // so that the child's exec (or death) reads as EOF here
    if (plan.wait_for_cgroup) {
        HRUN_TRY(plan.cgroup->attach(first.pid()));
        if (int rc = sync_send(parent_sock.get(), SyncType::CgroupJoined); rc < 0)
            return fail("", "sync with the container process failed", -rc);
    }

    // With a second fork, `first` only creates namespaces and hands over to the container.
    ContainerProcess container;
    auto container_pid = [&] { return plan.ns.second_fork ? container.pid() : first.pid(); };
    bool started = false;
    UniqueFd container_userns;  // with premade mounts: the container's user namespace
    for (;;) {
        SyncMsg msg;
        int rc = sync_recv(parent_sock.get(), msg);
        if (rc == -EPIPE && started) break;  // exec'd; a death after START shows in its status
        // After a second fork the container process is the one whose death tells (the first
        // has exited 0 after handing over).
        if (rc == -EPIPE) return std::unexpected(describe_setup_death(plan, container.pid() > 0 ? container : first));
        if (rc < 0) return fail("", "sync with the container process failed", -rc);
        switch (msg.type) {
            case SyncType::UsernsReady:
                // Always the first child: user namespaces exist before any second fork, and
                // its own getpid() may be 1 in a new pid namespace.
                HRUN_TRY(write_id_maps(plan.ns, plan.host.proc.get(), first.pid()));
                container_userns = HRUN_TRY(open_user_namespace(plan, first.pid()));
                if ((rc = sync_send(parent_sock.get(), SyncType::UsernsMapped)) < 0)
                    return fail("", "sync with the container process failed", -rc);
                break;
            case SyncType::ContainerPid: {
                UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, msg.pid, 0)));
                if (!pidfd) return fail_errno("cannot track the container process");
                container = ContainerProcess(msg.pid, std::move(pidfd));
                break;
            }
            case SyncType::Hooks:
                if (steps.run_hooks) HRUN_TRY(steps.run_hooks(container_pid()));
                if ((rc = sync_send(parent_sock.get(), SyncType::HooksDone)) < 0)
                    return fail("", "sync with the container process failed", -rc);
                break;
            case SyncType::Terminal: {
                char name[console::kMaxNameLen + 1];
                int fd = console::recv_fd(parent_sock.get(), name, sizeof name);
                if (fd < 0) return fail("process.terminal", "cannot receive the terminal", -fd);
                UniqueFd master(fd);
                if (steps.terminal) HRUN_TRY(steps.terminal(std::move(master)));
                break;
            }
            case SyncType::Ready:
                if (steps.ready) HRUN_TRY(steps.ready(container_pid()));
                if ((rc = sync_send(parent_sock.get(), SyncType::Start)) < 0)
                    return fail("", "cannot start the container process", -rc);
                started = true;
                // `create`: the process now waits on the exec fifo, not on us.
                if (plan.exec_fifo) return finish(plan, first, std::move(container));
                break;
            case SyncType::IdmapRequest:
                HRUN_TRY(send_premade_mounts(plan, parent_sock.get(), container_userns.get()));
                break;
            case SyncType::Error:
                return std::unexpected(child_error_to_error(msg.error));
            default:
                return fail("", "unexpected message from the container process", EPROTO);
        }
    }
    return finish(plan, first, std::move(container));
}

}  // namespace hrun::create
