// The parent/child synchronisation protocol of the create path.
//
// One SOCK_SEQPACKET socketpair links hrun (the parent) and the container process from clone to
// exec. SEQPACKET keeps message boundaries and reports the peer's death as EOF, so every message
// is one fixed-size SyncMsg and "the child exec'd" is simply EOF: the child's end is O_CLOEXEC.
//
//   child (container process)                   parent (hrun)
//   ---------------------------------------     ------------------------------------------------
//   [clone3: on cgroup v2, born in its cgroup
//    (CLONE_INTO_CGROUP) and its new namespaces;
//    otherwise born in hrun's namespaces]
//   [tie_to_parent: PR_SET_PDEATHSIG, then exit
//    if hrun is already gone (getppid, socket
//    EOF); again after every fork and id change]
//                      <-------------------     CGROUP_JOINED  (v1/hybrid only: the parent
//                                               wrote the pid to every cgroup.procs first; only
//                                               then does the child join or unshare any
//                                               namespace, so no process of hrun's is ever in
//                                               the container's namespaces outside its cgroups)
//   [joins/unshares its namespaces]
//   USERNS_READY       ------------------->     write /proc/<pid>/{setgroups,uid_map,gid_map}
//                      <-------------------     USERNS_MAPPED        (only with a new user ns)
//   [second fork, for a joined pid ns, a time
//    namespace, or a new pid ns on v1/hybrid:
//    the grandchild, born with CLONE_PARENT in
//    the cgroups, becomes the container]
//   CONTAINER_PID(pid) ------------------->     track pid as the container process
//   [hostname, sysctl]
//   IDMAP_REQUEST      ------------------->     clone and idmap every premade mount (the rootfs
//                                               with the idmap annotation, idmapped mounts[]):
//                                               the container's user namespace, or one made for
//                                               the mount's own maps (only when the plan has any)
//                      <-------------------     IDMAP_MOUNTS, then one message per mount in slot
//                                               order, its detached mount fd as SCM_RIGHTS
//   [rootfs: mounts (premade ones attached with move_mount), devices]
//   HOOKS              ------------------->     run prestart, createRuntime
//                      <-------------------     HOOKS_DONE    (only when the config has them)
//   [createContainer hooks; pivot_root, masked and read-only paths]
//   TERMINAL + fd      ------------------->     pty master (SCM_RIGHTS): to --console-socket,
//                                               or kept to proxy the caller's terminal
//   [rlimits ...]
//   READY              ------------------->     record state.json and the pid file
//                      <-------------------     START
//   [create: block opening exec.fifo until `hrun start` reads it; startContainer hooks;
//    write "0" (or "1" + the hook's ChildError) to the fifo for `start`]
//   [run: startContainer hooks]
//   [user, caps, LSM, seccomp, execve]
//   EOF (exec succeeded)  ---------------->     container is running (`run` waits for this;
//                                               `create` has returned at START)
//
//   Any step may instead send ERROR(ChildError) and exit 1; the parent then kills and reaps
//   whatever it created and reports the error with the config field it names. Until READY the
//   child dies with hrun (SIGKILL by PR_SET_PDEATHSIG); every receive that reads EOF (hrun gone)
//   makes the child exit too.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "hrun/child_error.hpp"

namespace hrun::create {

enum class SyncType : uint32_t {
    CgroupJoined = 1,  // parent -> child: you are in the container's cgroups
    UsernsReady,       // child -> parent: my user namespace exists, map it
    UsernsMapped,      // parent -> child: uid/gid maps are written
    ContainerPid,      // child -> parent: this pid (host view) is the container process
    Hooks,             // child -> parent: namespaces exist, run the runtime-side hooks
    HooksDone,         // parent -> child: hooks succeeded
    Terminal,          // child -> parent: the pty master follows as SCM_RIGHTS
    Ready,             // child -> parent: set up, waiting for START
    Start,             // parent -> child: exec the process
    Error,             // child -> parent: setup failed, see error
    IdmapRequest,      // child -> parent: my user namespace is mapped, make the premade mounts
    IdmapMounts,       // parent -> child: pid = how many detached mounts follow, one fd each
};

struct SyncMsg {
    SyncType type{};
    pid_t pid = 0;
    ChildError error;
};

// Child-safe helpers: no allocation. Return 0 or -errno; EOF on receive is -EPIPE.
int sync_send(int fd, const SyncMsg& msg) noexcept;
int sync_recv(int fd, SyncMsg& msg) noexcept;

// Whether the parent's end of the socket is closed (hrun exited), without blocking.
bool sync_peer_gone(int fd) noexcept;

// Dies with hrun until exec: PR_SET_PDEATHSIG(SIGKILL), then _exit(1) at once if hrun is
// already gone (the signal would never come). Called right after every fork and again after
// every change of euid/egid/fsuid/fsgid (setresuid in a user namespace): the kernel clears the
// death signal on such a change. 0, or -errno when the prctl fails.
int tie_to_parent(int sync_fd, pid_t parent) noexcept;

// Sends a bare message of `type`.
inline int sync_send(int fd, SyncType type, pid_t pid = 0) noexcept {
    SyncMsg msg;
    msg.type = type;
    msg.pid = pid;
    return sync_send(fd, msg);
}

// Receives and checks the type; anything else is -EPROTO.
inline int sync_expect(int fd, SyncType type) noexcept {
    SyncMsg msg;
    int rc = sync_recv(fd, msg);
    if (rc == 0 && msg.type != type) rc = -EPROTO;
    return rc;
}

}  // namespace hrun::create
