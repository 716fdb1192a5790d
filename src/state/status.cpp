// Container status from the recorded init process: /proc/<pid>/stat, the exec fifo and the
// caller's freezer check.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <string>

#include "linux/procfs.hpp"
#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

std::string_view status_name(ContainerStatus status) {
    switch (status) {
        case ContainerStatus::Created: return "created";
        case ContainerStatus::Running: return "running";
        case ContainerStatus::Paused: return "paused";
        case ContainerStatus::Stopped: return "stopped";
    }
    return "unknown";
}

namespace {

// Splits the space-separated fields after comm; returns false if there are fewer than `count`.
bool split_fields(std::string_view rest, std::string_view* fields, std::size_t count) {
    std::size_t i = 0;
    while (i < count) {
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (rest.empty()) return false;
        std::size_t end = rest.find_first_of(" \n");
        fields[i++] = rest.substr(0, end);
        if (end == std::string_view::npos) rest = {};
        else rest.remove_prefix(end);
        if (!rest.empty() && rest.front() == '\n') rest = {};
    }
    return true;
}

template <class T>
bool to_number(std::string_view text, T& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view text) {
    // "pid (comm) state ppid ...": comm is the executable's name, chosen by whoever runs it, so
    // it may hold spaces and parentheses; the kernel writes nothing after it that contains ')'.
    std::size_t close = text.rfind(')');
    std::size_t open = text.find('(');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return fail("", "malformed /proc stat line", EINVAL);
    // Fields 3..22 follow comm: state is the first, starttime the twentieth.
    std::string_view fields[20];
    if (!split_fields(text.substr(close + 1), fields, 20)) return fail("", "short /proc stat line", EINVAL);
    ProcStat st;
    if (fields[0].size() != 1) return fail("", "malformed process state in /proc stat line", EINVAL);
    st.state = fields[0].front();
    if (!to_number(fields[1], st.ppid) || !to_number(fields[19], st.start_time))
        return fail("", "malformed number in /proc stat line", EINVAL);
    return st;
}

Result<ProcStat> read_proc_stat(pid_t pid, int procfd) {
    if (pid <= 0) return fail("", "invalid pid " + std::to_string(pid), ESRCH);
    UniqueFd own;
    if (procfd < 0) {
        own = HRUN_TRY(os::open_verified_procfs());
        procfd = own.get();
    }
    const std::string rel = std::to_string(pid) + "/stat";
    UniqueFd fd(os::procfs_open(procfd, rel.c_str(), O_RDONLY));
    if (!fd) {
        int err = -fd.release();
        return fail("", "cannot open /proc/" + rel, err);
    }
    std::string text;
    char buf[1024];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            // A process that exits between open and read gives ESRCH.
            return fail_errno("cannot read /proc/" + rel);
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > 1 << 16) return fail("", "/proc/" + rel + " is too large", EFBIG);
    }
    auto st = parse_proc_stat(text);
    if (!st) st.error().context("/proc/" + rel);
    return st;
}

Result<uint64_t> process_start_time(pid_t pid, int procfd) {
    return HRUN_TRY(read_proc_stat(pid, procfd)).start_time;
}

Result<bool> init_alive(const ContainerState& state, int procfd) {
    if (state.pid <= 0) return false;
    auto st = read_proc_stat(state.pid, procfd);
    if (!st) {
        if (st.error().err == ENOENT || st.error().err == ESRCH) return false;
        return std::unexpected(std::move(st.error()));
    }
    // A zombie has exited (its parent has not reaped it yet); X is a task being torn down.
    if (st->state == 'Z' || st->state == 'X' || st->state == 'x') return false;
    // Same pid, different start time: the init exited and the pid went to another process.
    return st->start_time == state.pid_start_time;
}

Result<ContainerStatus> container_status(const ContainerState& state, const PausedCheck& paused, int procfd) {
    if (!HRUN_TRY(init_alive(state, procfd))) return ContainerStatus::Stopped;
    if (paused && HRUN_TRY(paused(state))) return ContainerStatus::Paused;
    if (!state.exec_fifo.empty()) {
        struct stat st;
        if (::lstat(state.exec_fifo.c_str(), &st) == 0) return ContainerStatus::Created;
        if (errno != ENOENT && errno != ENOTDIR)
            return fail_errno("cannot check the exec fifo " + state.exec_fifo);
    }
    return ContainerStatus::Running;
}

}  // namespace hrun::state
