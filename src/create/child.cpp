#include "create/child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <utility>

#include "create/sync.hpp"

namespace hrun::create {

namespace {

ChildStatus tie_to_hrun(const ContainerPlan& plan, int sync_fd) noexcept {
    if (int rc = tie_to_parent(sync_fd, plan.parent_pid); rc < 0)
        return child_fail("", "cannot set the parent death signal", -rc);
    return child_ok();
}

// The 64-bit mask after `key` ("SigIgn:\t0000000000001000") in /proc/self/status text.
bool status_mask(const char* text, const char* key, uint64_t* mask) noexcept {
    const char* p = std::strstr(text, key);
    if (p == nullptr) return false;
    p += std::strlen(key);
    while (*p == ' ' || *p == '\t') ++p;
    uint64_t v = 0;
    int digits = 0;
    for (; digits < 16; ++digits, ++p) {
        const char c = *p;
        if (c >= '0' && c <= '9') v = v << 4 | static_cast<uint64_t>(c - '0');
        else if (c >= 'a' && c <= 'f') v = v << 4 | static_cast<uint64_t>(c - 'a' + 10);
        else break;
    }
    *mask = v;
    return digits == 16;
}

// The signals whose disposition is not the default: ignored (SigIgn, possibly inherited from
// whoever started hrun; it would survive execve) or caught (SigCgt). One read of our own
// status through the verified procfs; false when it cannot be read or parsed.
bool changed_signals(int procfd, uint64_t* changed) noexcept {
    int fd = ::openat(procfd, "self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    // The Sig* lines come before the long per-cpu lists: the first 4 KiB hold them unless the
    // Groups line is huge, and then the answer is "unknown".
    char text[4096];
    std::size_t len = 0;
    while (len + 1 < sizeof text) {
        ssize_t n = ::read(fd, text + len, sizeof text - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        len += static_cast<std::size_t>(n);
    }
    ::close(fd);
    text[len] = '\0';
    uint64_t ignored = 0, caught = 0;
    if (!status_mask(text, "\nSigIgn:", &ignored) || !status_mask(text, "\nSigCgt:", &caught)) return false;
    *changed = ignored | caught;
    return true;
}

// hrun's own signal handling must not leak into the container: every disposition back to
// default (the mask, blocked around clone, is emptied right before execve). Only the signals
// that are not at their default already, when the kernel says which; else all of them.
void reset_signals(int procfd) noexcept {
    uint64_t changed = ~uint64_t{0};
    if (!changed_signals(procfd, &changed)) changed = ~uint64_t{0};
    for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (!(changed & (uint64_t{1} << (sig - 1)))) continue;
        ::signal(sig, SIG_DFL);
    }
}

// `hrun start` opens the fifo for reading; our open for writing blocks until then. The
// startContainer hooks run next, as part of `start`, and their outcome is what we write: "0" to
// go on, or "1" followed by the ChildError of the hook that failed, for `start` to report (the
// parent that created us is gone; nobody else would hear of it). One write of less than
// PIPE_BUF bytes: `start` reads it whole. The fifo is reached through our own fd (the state
// directory is not visible after pivot_root).
ChildStatus wait_for_start(const ContainerPlan& plan, int procfd) noexcept {
    const int fifo_fd = plan.exec_fifo.get();
    char path[32] = "self/fd/";
    char digits[12];
    int n = 0;
    for (unsigned v = static_cast<unsigned>(fifo_fd); n == 0 || v != 0; v /= 10) digits[n++] = '0' + v % 10;
    std::size_t len = std::strlen(path);
    while (n > 0) path[len++] = digits[--n];
    path[len] = '\0';
    int fd = ::openat(procfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return child_fail("", "cannot open the exec fifo", errno);
    ChildStatus hooked = hooks::run_prepared_hooks(plan.start_hooks);
    char verdict[1 + sizeof(ChildError)];
    std::size_t size = 1;
    verdict[0] = '0';
    if (!hooked) {
        verdict[0] = '1';
        std::memcpy(verdict + 1, &hooked.error, sizeof(ChildError));
        size = sizeof verdict;
    }
    ssize_t w = ::write(fd, verdict, size);
    int err = errno;
    ::close(fd);
    if (!hooked) return hooked;
    if (w != static_cast<ssize_t>(size)) return child_fail("", "cannot write the exec fifo", err);
    return child_ok();
}

// prestart, createRuntime and createContainer, from inside setup_rootfs once the container's
// mounts are made and before pivot_root (rootfs::BeforePivot): the parent runs the first two
// in the runtime's namespaces while we wait; createContainer runs here, in the container's.
struct CreateHooksStep {
    const ContainerPlan* plan;
    int sync_fd;
};

ChildStatus run_create_hooks(void* context) noexcept {
    const auto& step = *static_cast<const CreateHooksStep*>(context);
    if (step.plan->runtime_hooks) {
        int rc = sync_send(step.sync_fd, SyncType::Hooks);
        if (rc == 0) rc = sync_expect(step.sync_fd, SyncType::HooksDone);
        if (rc < 0) return child_fail("hooks", "the runtime hooks did not complete", -rc);
    }
    return hooks::run_prepared_hooks(step.plan->container_hooks);
}

// The pty is made inside the container (its own devpts), becomes our stdio and controlling
// terminal, and its master goes to the parent. The slave belongs to the container's root: give
// it to the process's user, or it could not reopen its own terminal. Only the owner changes, as
// in runc: the group stays the one devpts gave it (its gid= option, tty (5) in every config
// hrun and the engines write), which is what lets write(1) and wall reach it.
ChildStatus hand_over_terminal(const ContainerPlan& plan, int sync_fd, int procfd) noexcept {
    int master = -1;
    HRUN_CHILD_TRY(console::setup_terminal(plan.terminal, procfd, &master));
    int rc = sync_send(sync_fd, SyncType::Terminal);
    if (rc == 0) rc = console::send_fd(sync_fd, master, console::kMasterName);
    ::close(master);
    if (rc < 0) return child_fail("process.terminal", "cannot pass the terminal to hrun", -rc);
    for (int fd = 0; fd <= 2; ++fd)
        if (::fchown(fd, plan.process.uid, static_cast<gid_t>(-1)) != 0)
            return child_fail("process.terminal", "cannot hand the terminal to process.user", errno);
    return child_ok();
}

// Mounts the parent makes for us (idmapped ones: the kernel wants privilege over the source
// filesystem that our root lacks), received into a fixed array: IDMAP_REQUEST, IDMAP_MOUNTS with
// the count, then one fd per message. Closed once setup_rootfs has attached them.
struct PremadeMounts {
    int fds[rootfs::kMaxPremadeMounts];
    std::size_t count = 0;

    PremadeMounts() noexcept {
        for (int& fd : fds) fd = -1;
    }
    ~PremadeMounts() {
        for (std::size_t i = 0; i < count; ++i) ::close(fds[i]);
    }
};

ChildStatus receive_premade_mounts(const ContainerPlan& plan, int sync_fd, PremadeMounts& out) noexcept {
    const std::size_t want = plan.rootfs.premade_count;
    if (want == 0) return child_ok();
    if (want > rootfs::kMaxPremadeMounts) return child_fail("mounts", "too many idmapped mounts", E2BIG);
    int rc = sync_send(sync_fd, SyncType::IdmapRequest);
    SyncMsg msg;
    if (rc == 0) rc = sync_recv(sync_fd, msg);
    if (rc == 0 && (msg.type != SyncType::IdmapMounts || static_cast<std::size_t>(msg.pid) != want)) rc = -EPROTO;
    while (rc == 0 && out.count < want) {
        int fd = console::recv_fd(sync_fd, nullptr, 0);
        if (fd < 0) rc = fd;
        else out.fds[out.count++] = fd;
    }
    if (rc < 0) return child_fail("mounts", "cannot receive the idmapped mounts from hrun", -rc);
    return child_ok();
}

ChildStatus setup_and_exec(const ContainerPlan& plan, int sync_fd) noexcept {
    // Non-dumpable: no process in the container may open /proc/<pid>/exe (the runtime binary,
    // CVE-2019-5736) or our memory while we are still the runtime. execve resets it.
    if (::prctl(PR_SET_DUMPABLE, 0) != 0)
        return child_fail("", "cannot make the runtime process non-dumpable", errno);
    // Dies with hrun until exec: a half-built container must not outlive the runtime that owns
    // it. Again after the second fork and after every change of ids (namespaces.cpp).
    HRUN_CHILD_TRY(tie_to_hrun(plan, sync_fd));
    reset_signals(plan.host.proc.get());
    if (plan.state_dir_fd >= 0) ::close(plan.state_dir_fd);

    if (plan.wait_for_cgroup) {
        if (int rc = sync_expect(sync_fd, SyncType::CgroupJoined); rc < 0)
            return child_fail("linux.cgroupsPath", "not placed in the cgroup", -rc);
    }
    const int procfd = plan.host.proc.get();
    EarlyOpen rootfs_dir;
    if (!plan.join_existing && plan.rootfs.rootfs_idmap.enabled) rootfs_dir.path = plan.rootfs.rootfs.c_str();
    HRUN_CHILD_TRY(enter_namespaces(plan.ns, sync_fd, procfd, plan.parent_pid, &rootfs_dir));
    if (plan.ns.second_fork) HRUN_CHILD_TRY(tie_to_hrun(plan, sync_fd));
    if (!plan.join_existing) HRUN_CHILD_TRY(configure_namespaces(plan.ns, procfd));
    if (!plan.join_existing) {
        CreateHooksStep hooks_step{&plan, sync_fd};
        PremadeMounts premade;
        HRUN_CHILD_TRY(receive_premade_mounts(plan, sync_fd, premade));
        HRUN_CHILD_TRY(rootfs::setup_rootfs(plan.rootfs, procfd, {run_create_hooks, &hooks_step}, premade.fds,
                                            std::exchange(rootfs_dir.fd, -1)));
    }
    if (rootfs_dir.fd >= 0) ::close(rootfs_dir.fd);
    if (plan.terminal.enabled) HRUN_CHILD_TRY(hand_over_terminal(plan, sync_fd, procfd));
    HRUN_CHILD_TRY(process::prepare_process(plan.process, procfd));
    HRUN_CHILD_TRY(process::check_program(plan.process));

    // From here on the container lives its own life, as with runc: it outlives hrun (`create`
    // exits right after START). Cleared before READY, not after START, or hrun's exit could
    // race the prctl; a parent that dies before START still ends us: its socket reads EOF.
    if (::prctl(PR_SET_PDEATHSIG, 0) != 0)
        return child_fail("", "cannot clear the parent death signal", errno);
    int rc = sync_send(sync_fd, SyncType::Ready);
    if (rc == 0) rc = sync_expect(sync_fd, SyncType::Start);
    if (rc < 0) return child_fail("", "not started by the parent", -rc);
    if (plan.exec_fifo) HRUN_CHILD_TRY(wait_for_start(plan, procfd));  // and startContainer
    else HRUN_CHILD_TRY(hooks::run_prepared_hooks(plan.start_hooks));

    return process::exec_process(plan.process, plan.seccomp ? &*plan.seccomp : nullptr, procfd, sync_fd);
}

}  // namespace

void child_main(const ContainerPlan& plan, int sync_fd) noexcept {
    ChildStatus status = setup_and_exec(plan, sync_fd);
    SyncMsg msg;
    msg.type = SyncType::Error;
    msg.error = status.error;
    (void)sync_send(sync_fd, msg);
    ::_exit(1);
}

}  // namespace hrun::create
