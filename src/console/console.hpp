// Terminals: process.terminal = true gives the container process a pseudo-terminal of its own.
//
// The pty is allocated *inside* the container, from the container's devpts instance, so that
// its slave is a file of the container's /dev/pts (numbered there, owned there, and released
// with it). The sequence, as runc does it:
//
//   child, after pivot_root           parent (hrun)                    caller
//   -----------------------           -------------                    ------
//   setup_terminal(): new pty,
//   slave on /dev/console and 0/1/2,
//   controlling tty
//   send_fd(sync, master, name) ----> recv_fd(sync)
//                                     --console-socket PATH given:
//                                       send_to_console_socket() ----> containerd / conmon
//                                     otherwise, in the foreground:
//                                       TerminalProxy between the master and hrun's stdio
//
// The payload that travels with the master over the console socket is the master's file name
// as runc's init has it, kMasterName: "/dev/pts/ptmx" (runc opens the container's
// /dev/pts/ptmx and re-opens it through /proc, keeping that name). Receivers use it only as a
// label for the file they create from the descriptor.
#pragma once

#include <poll.h>
#include <sys/types.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <string>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/fd.hpp"
#include "hrun/spec.hpp"

namespace hrun::console {

// The file name sent along with the master, matching runc.
inline constexpr const char* kMasterName = "/dev/pts/ptmx";

// Longest name recv_fd accepts with a descriptor, as runc's RecvFd (its MaxNameLen).
inline constexpr std::size_t kMaxNameLen = 4096;

// ---------------------------------------------------------------------------------------------
// Child side

// Everything setup_terminal needs, computed in the parent.
struct TerminalPlan {
    bool enabled = false;        // process.terminal
    unsigned short rows = 0;     // process.consoleSize.height
    unsigned short cols = 0;     // process.consoleSize.width; the size is applied only when both
                                 // are non-zero, as runc does (0x0 is the kernel's default anyway)
    bool mount_console = true;   // bind the slave onto /dev/console: for a container's first
                                 // process, not for one joining an existing container
    bool legacy_mount = false;   // bind with mount(2) even where open_tree/move_mount exist
                                 // (they are used otherwise, mount(2) only on ENOSYS)
};

// From the validated spec (consoleSize was range-checked by the spec module).
TerminalPlan plan_terminal(const spec::Process& process);

// Called in the container process after pivot_root (cwd and root are the container's "/"),
// before the process's credentials drop. Steps:
//   1. open /dev/pts/ptmx as O_PATH without following a final symlink (intermediate ones stay
//      inside the root: RESOLVE_IN_ROOT, no magic links) and check that it is the ptmx node of
//      a real devpts mount: devpts superblock, inode 2, character device 5:2. A container
//      that replaced it (a regular file, a symlink, a 5:2 node on tmpfs, a bind mount over it)
//      is refused: a pty from anywhere else would not be the container's (substituted paths
//      under /dev were the root of runc's CVE-2025-52565). The /dev/ptmx symlink is not
//      consulted at all: it is the container's to change, and it only points here anyway.
//   2. re-open that verified inode read-write through procfd ("self/fd" opened with
//      procfs_open, then the one magic-link component), never through the path again: the
//      kernel allocates a new pty pair in the devpts the inode belongs to.
//   3. unlock the slave (TIOCSPTLCK 0) and open it with TIOCGPTPEER: no path, no race.
//   4. apply plan.rows x plan.cols (TIOCSWINSZ) when both are set.
//   5. if plan.mount_console: open /dev/console (O_PATH, not following a final symlink; created
//      as an empty 0666 file when missing; must be a regular file or a character device) and
//      bind the slave onto it with open_tree(slave fd) + move_mount(onto the console fd), or,
//      without the new mount API, with mount(2) on the two "self/fd/N" magic links relative to
//      the verified procfs (the cwd is moved there for the call and back to "/" after).
//   6. setsid() (unless already a session leader), TIOCSCTTY on the slave, dup2 it onto 0, 1
//      and 2 (without CLOEXEC), close the original.
// On success *master_out is the master (O_CLOEXEC, >= 3); the caller sends it to the parent
// with send_fd(sync_fd, master, kMasterName) and closes it before exec. On failure nothing is
// left open (mounts already made stay: the container is being torn down).
// With plan.enabled false it does nothing and sets *master_out to -1.
// `procfd` is the verified procfs root (os::HostContext::proc), only borrowed.
// The slave belongs to the container's root; a runtime that then switches to process.user
// should fchown 0/1/2 to that user first (runc's fixStdioPermissions).
// Child-safe: noexcept, no allocation.
ChildStatus setup_terminal(const TerminalPlan& plan, int procfd, int* master_out) noexcept;

// ---------------------------------------------------------------------------------------------
// Passing descriptors (SCM_RIGHTS over AF_UNIX)

// Sends `fd` in one sendmsg: the descriptor as SCM_RIGHTS ancillary data and `name` (without
// its NUL) as the payload, as runc's SendRawFd does. An empty or null name is sent as a single
// NUL byte (a stream socket cannot carry ancillary data without at least one byte of payload).
// Works on SOCK_STREAM, SOCK_SEQPACKET and SOCK_DGRAM sockets. MSG_NOSIGNAL: a closed peer is
// -EPIPE, not SIGPIPE. Child-safe; returns 0 or -errno (-ENAMETOOLONG if name >= kMaxNameLen).
int send_fd(int sock, int fd, const char* name) noexcept;

// Receives one descriptor sent by send_fd (or by runc, conmon, any SCM_RIGHTS sender of a
// single fd with a name payload), on a SOCK_SEQPACKET, SOCK_STREAM or SOCK_DGRAM socket. The
// descriptor arrives O_CLOEXEC. The payload (read whole into an internal kMaxNameLen buffer, so
// a stream is never left holding the rest of a name) is copied into `name_buf`, truncated to
// len-1 bytes and NUL-terminated; name_buf may be null when len is 0.
// Returns the fd, or -errno: -ECONNRESET when the peer closed without sending, -EBADMSG when
// the message held no descriptor, -EPROTO when it held more than one or other ancillary data,
// -EMSGSIZE when the payload is kMaxNameLen bytes or more (as runc's RecvFd). Every received
// descriptor is closed on error. Child-safe (4 KiB of stack).
int recv_fd(int sock, char* name_buf, std::size_t len) noexcept;

// Parent side of --console-socket: connects an AF_UNIX SOCK_STREAM socket to `socket_path`,
// sends `master` with `name` (send_fd), closes the connection. Paths longer than sun_path are
// reached through an O_PATH fd of the socket file ("/proc/self/fd/N"). `master` stays open.
Status send_to_console_socket(const std::string& socket_path, int master, const std::string& name);

// ---------------------------------------------------------------------------------------------
// Parent side in the foreground: hrun's own stdio <-> the pty master

// Copies hrun's stdin to the master and the master to hrun's stdout, for `hrun run` without a
// console socket. Integrates with a poll loop (the supervise loop, which reads every signal
// from a signalfd):
//
//     pollfd fds[3] = {{signalfd, POLLIN}, {}, {}};
//     proxy.fill_pollfds(fds[1], fds[2]);      // fd -1 when not wanted: poll ignores it
//     poll(fds, 3, -1);
//     proxy.handle(fds[1], fds[2]);            // or the on_* calls one by one
//     on SIGWINCH from the signalfd: proxy.on_sigwinch() (and do not forward it: the kernel
//     sends SIGWINCH to the container's foreground group when the size changes)
//     when the container has exited: proxy.drain_output(), then destroy the proxy.
//
// The caller's terminal is the first of stdin, stdout that is a tty (runc takes the first of
// stdin, stdout, stderr). When there is one, it is put in raw mode (cfmakeraw) for the proxy's
// lifetime: every byte, ^C included, goes to the container, whose own line discipline
// interprets it. The saved termios is restored by restore_terminal() and the destructor, on
// every path that unwinds; hrun handles fatal signals through the signalfd, so none bypasses it.
//
// Stdin is only read when poll says it is readable (hrun does not make the caller's stdin
// non-blocking: that flag would be shared with the shell). The master is made non-blocking;
// input the container does not take yet is held (up to one buffer) and stdin is not read again
// until it is written. Stdin at EOF (or EIO, e.g. a background job) stops the copy, as with
// runc: no EOF character is sent. A master read that fails with EIO means every slave
// descriptor is closed: output is over.
class TerminalProxy {
public:
    // Takes the master. in_fd/out_fd are borrowed (hrun's 0 and 1 normally).
    static Result<TerminalProxy> start(UniqueFd master, int in_fd = STDIN_FILENO, int out_fd = STDOUT_FILENO);

    TerminalProxy(TerminalProxy&& other) noexcept;
    TerminalProxy& operator=(TerminalProxy&&) = delete;
    TerminalProxy(const TerminalProxy&) = delete;
    TerminalProxy& operator=(const TerminalProxy&) = delete;
    ~TerminalProxy();

    int master_fd() const { return master_.get(); }
    // The descriptor to poll for input, or -1 (stdin at EOF, or input is pending).
    int stdin_fd_to_poll() const;
    // POLLIN while output may come, | POLLOUT while input is pending; 0 once the master is done.
    short master_events() const;
    // Sets both pollfds (fd -1 for one not to watch).
    void fill_pollfds(pollfd& in, pollfd& master) const;
    // Dispatches the revents of the pollfds fill_pollfds set.
    void handle(const pollfd& in, const pollfd& master);

    void on_stdin_readable();   // one read from stdin, written on to the master
    void on_master_readable();  // reads the master until it would block, writes to stdout
    void on_master_writable();  // flushes pending input
    void on_sigwinch();         // the caller terminal's size to the master
    // Copies what output is left in the master without waiting for more (after the container
    // exited; a process it left behind may still hold the slave).
    void drain_output();

    bool stdin_done() const { return stdin_done_; }
    bool output_done() const { return output_done_; }
    bool raw_mode() const { return raw_; }
    // The caller's terminal as it was before start(); idempotent.
    void restore_terminal();

private:
    TerminalProxy(UniqueFd master, int in_fd, int out_fd);
    void write_out(const char* data, std::size_t len);
    void write_to_master(const char* data, std::size_t len);

    static constexpr std::size_t kBufferSize = 16 * 1024;

    UniqueFd master_;
    int in_fd_ = -1;
    int out_fd_ = -1;
    int tty_fd_ = -1;  // the caller's terminal (in_fd or out_fd), -1 if none
    bool raw_ = false;
    struct termios saved_ {};
    bool stdin_done_ = false;
    bool output_done_ = false;
    bool out_broken_ = false;  // writing our stdout failed: output is read and dropped
    std::array<char, kBufferSize> pending_{};  // input read from stdin, not yet taken by the master
    std::size_t pending_off_ = 0;
    std::size_t pending_len_ = 0;
};

}  // namespace hrun::console
