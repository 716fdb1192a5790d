// Loading and attaching the cgroup v2 device program with the raw bpf(2) syscall.
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cgroups/devices.hpp"

namespace hrun::cgroups {
namespace {

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

uint64_t ptr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// The kernel reads the license only to gate GPL-only helpers, of which a device program calls
// none; any non-GPL string will do.
constexpr char kLicense[] = "hrun";

Result<UniqueFd> load(const std::vector<bpf_insn>& program) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = ptr(program.data());
    attr.insn_cnt = static_cast<uint32_t>(program.size());
    attr.license = ptr(kLicense);
    int fd = static_cast<int>(bpf(BPF_PROG_LOAD, attr));
    if (fd >= 0) return UniqueFd(fd);
    const int err = errno;
    // Load again with the verifier's log, so that a rejected program can be diagnosed.
    std::vector<char> log(16384, '\0');
    attr.log_level = 1;
    attr.log_buf = ptr(log.data());
    attr.log_size = static_cast<uint32_t>(log.size());
    fd = static_cast<int>(bpf(BPF_PROG_LOAD, attr));
    if (fd >= 0) return UniqueFd(fd);
    std::string text(log.data());
    if (text.size() > 400) text = "..." + text.substr(text.size() - 400);
    return fail("linux.resources.devices",
                "cannot load the device filter program" + (text.empty() ? std::string() : " (verifier: " + text + ")"),
                err);
}

// Ids of the device programs attached directly to the cgroup.
Result<std::vector<uint32_t>> attached_programs(int cgroup_fd) {
    std::vector<uint32_t> ids(64);
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (bpf(BPF_PROG_QUERY, attr) != 0)
        return fail("linux.resources.devices", "cannot list the cgroup's device programs", errno);
    ids.resize(attr.query.prog_cnt);
    return ids;
}

}  // namespace

Status attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& program) {
    UniqueFd prog = HRUN_TRY(load(program));
    const std::vector<uint32_t> old = HRUN_TRY(attached_programs(cgroup_fd));

    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, attr) != 0)
        return fail("linux.resources.devices", "cannot attach the device filter program", errno);

    // The new filter is in force; the ones it replaces can go.
    for (uint32_t id : old) {
        bpf_attr get;
        std::memset(&get, 0, sizeof get);
        get.prog_id = id;
        UniqueFd old_prog(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, get)));
        if (!old_prog) {
            if (errno == ENOENT) continue;  // already gone
            return fail("linux.resources.devices", "cannot open a previous device program", errno);
        }
        bpf_attr detach;
        std::memset(&detach, 0, sizeof detach);
        detach.target_fd = static_cast<uint32_t>(cgroup_fd);
        detach.attach_bpf_fd = static_cast<uint32_t>(old_prog.get());
        detach.attach_type = BPF_CGROUP_DEVICE;
        if (bpf(BPF_PROG_DETACH, detach) != 0 && errno != ENOENT)
            return fail("linux.resources.devices", "cannot detach a previous device program", errno);
    }
    return ok();
}

}  // namespace hrun::cgroups
