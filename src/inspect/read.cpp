// The kernel side of `hrun inspect`: everything here is read from a verified procfs and the
// cgroup filesystems. The container's state directory only says which process to look at.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "cgroups/fs.hpp"
#include "inspect/inspect.hpp"
#include "linux/procfs.hpp"
#include "state/state.hpp"

namespace hrun::inspect {
namespace {

// Per namespace type, the inodes of the other live containers of a state root, with their ids.
using OtherNamespaces = std::map<std::string, std::vector<std::pair<std::string, uint64_t>>>;

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string proc_path(pid_t pid, const char* rest) { return std::to_string(pid) + "/" + rest; }

Result<std::string> read_proc(int procfd, pid_t pid, const char* rest) {
    return os::procfs_read(procfd, proc_path(pid, rest).c_str());
}

// Inode of /proc/<pid>/ns/<type>; 0 when this kernel has no such namespace type.
Result<uint64_t> namespace_inode(int procfd, pid_t pid, const std::string& type) {
    const std::string rel = std::to_string(pid) + "/ns/" + type;
    char target[128];
    const ssize_t n = ::readlinkat(procfd, rel.c_str(), target, sizeof target - 1);
    if (n < 0) {
        if (errno == ENOENT) return uint64_t{0};
        return fail_errno("cannot read /proc/" + rel);
    }
    const auto inode = parse_namespace_link(std::string_view(target, static_cast<std::size_t>(n)));
    if (!inode) return fail("", "/proc/" + rel + " does not name a namespace", EINVAL);
    return *inode;
}

Result<IdMapInfo> read_id_map(int procfd, pid_t pid, const char* file) {
    IdMapInfo info;
    info.ranges = HRUN_TRY(parse_id_map(HRUN_TRY(read_proc(procfd, pid, file))));
    info.identity = is_identity_map(info.ranges);
    info.root_on_host = map_to_outside(info.ranges, 0);
    return info;
}

// AppArmor's own attribute first (Linux 5.8), then the one every LSM may answer. Both fail
// with EINVAL when no LSM that keeps labels is enabled.
LsmInfo read_lsm(int procfd, pid_t pid) {
    if (auto text = read_proc(procfd, pid, "attr/apparmor/current"); text && !trim(*text).empty())
        return {"apparmor", trim(*text)};
    if (auto text = read_proc(procfd, pid, "attr/current"); text && !trim(*text).empty()) {
        const bool selinux = ::access("/sys/fs/selinux", F_OK) == 0;
        return {selinux ? "selinux" : "lsm", trim(*text)};
    }
    return {};
}

int read_cap_last_cap(int procfd) {
    auto text = os::procfs_read(procfd, "sys/kernel/cap_last_cap");
    if (!text) return 40;
    return std::atoi(text->c_str());
}

std::optional<std::string> read_at(int fd, const char* file) {
    std::string text;
    if (fd < 0 || cgroups::fs::read_at(fd, file, text) != 0) return std::nullopt;
    return trim(std::move(text));
}

std::optional<uint64_t> read_number(int fd, const char* file) {
    auto text = read_at(fd, file);
    uint64_t v = 0;
    if (!text || !cgroups::fs::parse_u64(*text, v)) return std::nullopt;
    return v;
}

// The hierarchy's line of /proc/<pid>/cgroup: the v2 one is "0::<path>", a v1 one names the
// same controllers as the hierarchy.
const cgroups::ProcCgroup* line_for(const cgroups::Hierarchy& h, const std::vector<cgroups::ProcCgroup>& lines) {
    for (const auto& line : lines) {
        if (h.version == 2 && line.id == 0 && line.controllers.empty()) return &line;
        if (h.version == 1 && !line.controllers.empty()) {
            auto a = line.controllers, b = h.controllers;
            std::ranges::sort(a);
            std::ranges::sort(b);
            if (a == b) return &line;
        }
    }
    return nullptr;
}

void read_cpu_limits(const cgroups::Cgroup& cg, CgroupInfo& info) {
    const cgroups::Layout& layout = cg.layout();
    const auto i = layout.find("cpu");
    if (!i) return;
    const int fd = cg.leaf_fd(*i);
    if (layout.hierarchies[*i].version == 1) {
        if (auto q = read_at(fd, "cpu.cfs_quota_us"); q && *q != "-1") info.cpu_quota_us = std::atoll(q->c_str());
        info.cpu_period_us = read_number(fd, "cpu.cfs_period_us");
        info.cpu_shares = read_number(fd, "cpu.shares");
    } else {
        // cpu.max: "max 100000" or "50000 100000".
        if (auto m = read_at(fd, "cpu.max")) {
            const auto space = m->find(' ');
            const std::string quota = m->substr(0, space);
            if (quota != "max") info.cpu_quota_us = std::atoll(quota.c_str());
            if (space != std::string::npos) info.cpu_period_us = std::strtoull(m->c_str() + space + 1, nullptr, 10);
        }
        info.cpu_weight = read_number(fd, "cpu.weight");
    }
}

void read_cpuset(const cgroups::Cgroup& cg, CgroupInfo& info) {
    const auto i = cg.layout().find("cpuset");
    if (!i) return;
    const bool v1 = cg.layout().hierarchies[*i].version == 1;
    if (auto cpus = read_at(cg.leaf_fd(*i), v1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective"))
        info.cpuset_cpus = *cpus;
}

void read_io_limits(const cgroups::Cgroup& cg, CgroupInfo& info) {
    const cgroups::Layout& layout = cg.layout();
    if (const auto i = layout.find("blkio")) {
        const int fd = cg.leaf_fd(*i);
        info.io_weight = read_number(fd, "blkio.weight");
        if (!info.io_weight) info.io_weight = read_number(fd, "blkio.bfq.weight");
        for (const char* file : {"read_bps_device", "write_bps_device", "read_iops_device", "write_iops_device"}) {
            const std::string name = std::string("blkio.throttle.") + file;
            auto text = read_at(fd, name.c_str());
            if (!text) continue;
            for (std::string_view line : cgroups::fs::split(*text, "\n"))
                info.io_limits.push_back(std::string(file) + " " + std::string(line));
        }
    } else if (const auto j = layout.find("io")) {
        const int fd = cg.leaf_fd(*j);
        // io.weight: "default 100" then per-device lines.
        if (auto w = read_at(fd, "io.weight"); w && w->starts_with("default "))
            info.io_weight = std::strtoull(w->c_str() + 8, nullptr, 10);
        if (auto text = read_at(fd, "io.max"))
            for (std::string_view line : cgroups::fs::split(*text, "\n")) info.io_limits.emplace_back(line);
    }
}

// The process's cgroups from /proc/<pid>/cgroup, opened through this host's layout. nullopt
// when it sits at the root of every hierarchy (the host's init): the root has no limits.
Result<std::optional<CgroupInfo>> read_cgroup(int procfd, pid_t pid) {
    auto layout = cgroups::detect_layout(procfd);
    if (!layout) return std::optional<CgroupInfo>{};  // no cgroup filesystem mounted at all
    const auto lines = HRUN_TRY(cgroups::parse_proc_cgroup(HRUN_TRY(read_proc(procfd, pid, "cgroup"))));
    CgroupInfo info;
    info.mode = std::string(cgroups::mode_name(layout->mode));
    std::vector<std::string> directories;
    for (const cgroups::Hierarchy& h : layout->hierarchies) {
        const cgroups::ProcCgroup* line = line_for(h, lines);
        if (!line) continue;
        CgroupPlacement p{h.version, h.controllers, line->path, h.directory_of(line->path)};
        if (p.directory == h.mount_point) p.directory.clear();  // the root: nothing to open
        if (!p.directory.empty()) directories.push_back(p.directory);
        info.placements.push_back(std::move(p));
    }
    if (directories.empty()) return std::optional<CgroupInfo>{};
    auto cg = cgroups::Cgroup::open(*layout, directories);
    if (!cg) return std::optional<CgroupInfo>{};
    if (auto s = cg->stats()) info.stats = *s;
    if (auto n = cg->oom_kills()) info.oom_kills = *n;
    read_cpu_limits(*cg, info);
    read_cpuset(*cg, info);
    read_io_limits(*cg, info);
    return std::optional<CgroupInfo>{std::move(info)};
}

// The host's namespaces are pid 1's. Reading another process's links needs ptrace access to
// it, which a runtime confined with fewer capabilities than init lacks; then the namespaces of
// hrun itself, which runs on the host, stand in for them.
pid_t host_reference(int procfd) {
    return namespace_inode(procfd, 1, "mnt").value_or(0) != 0 ? 1 : ::getpid();
}

Result<ProcessReport> read_process(int procfd, pid_t pid, const OtherNamespaces& others) {
    ProcessReport r;
    r.pid = pid;
    r.status = HRUN_TRY(parse_status(HRUN_TRY(read_proc(procfd, pid, "status"))));
    if (!r.status.ns_pids.empty()) r.pid_in_container = r.status.ns_pids.back();
    r.cap_last_cap = read_cap_last_cap(procfd);
    const pid_t host = host_reference(procfd);
    r.host_reference = host == 1 ? "pid 1" : "hrun's own, as pid 1's cannot be read";
    for (const char* type : kNamespaceTypes) {
        NamespaceInfo ns{type, HRUN_TRY(namespace_inode(procfd, pid, type)), "/proc/" + std::to_string(pid) + "/ns/" + type};
        if (ns.inode == 0) continue;
        if (auto h = namespace_inode(procfd, host, type); h && *h == ns.inode) ns.shared_with_host = true;
        if (auto it = others.find(type); it != others.end())
            for (const auto& [id, inode] : it->second)
                if (inode == ns.inode) ns.shared_with.push_back(id);
        r.namespaces.push_back(std::move(ns));
    }
    r.uid_map = HRUN_TRY(read_id_map(procfd, pid, "uid_map"));
    r.gid_map = HRUN_TRY(read_id_map(procfd, pid, "gid_map"));
    r.lsm = read_lsm(procfd, pid);
    r.cgroup = HRUN_TRY(read_cgroup(procfd, pid));
    const auto mine = HRUN_TRY(parse_mountinfo(HRUN_TRY(read_proc(procfd, pid, "mountinfo"))));
    const auto host_mounts = HRUN_TRY(parse_mountinfo(HRUN_TRY(os::procfs_read(procfd, "self/mountinfo"))));
    r.mounts = classify_mounts(mine, host_mounts);
    r.nsenter = nsenter_command(pid, r.namespaces);
    return r;
}

OtherNamespaces other_containers(const state::StateRoot& root, const std::string& id, int procfd) {
    OtherNamespaces out;
    auto listed = root.list();
    if (!listed) return out;
    for (const auto& c : *listed) {
        if (c.state.id == id) continue;
        if (auto alive = state::init_alive(c.state, procfd); !alive || !*alive) continue;
        for (const char* type : kNamespaceTypes)
            if (auto inode = namespace_inode(procfd, c.state.pid, type); inode && *inode)
                out[type].emplace_back(c.state.id, *inode);
    }
    return out;
}

// Whether `pid` belongs to the container whose init is `init`: it is in the init's cgroup (or
// below), or, with no cgroup to ask, in the init's own pid namespace.
Result<bool> belongs_to(int procfd, pid_t pid, pid_t init, const std::optional<CgroupInfo>& cgroup) {
    if (pid == init) return true;
    if (cgroup) {
        auto layout = HRUN_TRY(cgroups::detect_layout(procfd));
        std::vector<std::string> directories;
        for (const auto& p : cgroup->placements)
            if (!p.directory.empty()) directories.push_back(p.directory);
        auto cg = HRUN_TRY(cgroups::Cgroup::open(layout, directories));
        auto pids = HRUN_TRY(cg.pids());
        return std::ranges::find(pids, pid) != pids.end();
    }
    const auto status = HRUN_TRY(parse_status(HRUN_TRY(read_proc(procfd, pid, "status"))));
    const auto init_status = HRUN_TRY(parse_status(HRUN_TRY(read_proc(procfd, init, "status"))));
    // An init with a single NSpid entry shares the host's pid namespace: that proves nothing.
    return init_status.ns_pids.size() > 1 && status.ns_pids.size() == init_status.ns_pids.size() &&
           HRUN_TRY(namespace_inode(procfd, pid, "pid")) == HRUN_TRY(namespace_inode(procfd, init, "pid"));
}

}  // namespace

std::string nsenter_command(pid_t pid, const std::vector<NamespaceInfo>& namespaces) {
    // nsenter's flag for each type, in the order its manual lists them.
    static constexpr std::pair<const char*, const char*> kFlags[] = {
        {"mnt", "-m"}, {"uts", "-u"}, {"ipc", "-i"}, {"net", "-n"},
        {"pid", "-p"}, {"user", "-U"}, {"cgroup", "-C"}, {"time", "-T"}};
    std::string cmd = "nsenter -t " + std::to_string(pid);
    for (const auto& [type, flag] : kFlags)
        for (const NamespaceInfo& ns : namespaces)
            if (ns.type == type && !ns.shared_with_host) cmd += std::string(" ") + flag;
    return cmd;
}

Result<Report> inspect_container(const std::string& root_path, const std::string& id, std::optional<pid_t> pid) {
    auto root = state::StateRoot::open(root_path, state::StateRoot::Create::MustExist);
    if (!root) return fail("", "container \"" + id + "\" does not exist", ENOENT);
    state::ContainerDir dir = HRUN_TRY(root->open(id, state::Lock::None));
    const state::ContainerState st = HRUN_TRY(dir.load());
    dir.release();
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());

    auto layout = cgroups::detect_layout(procfd.get());
    state::PausedCheck paused = [&](const state::ContainerState& s) -> Result<bool> {
        if (!layout || s.cgroup.directories.empty()) return false;
        auto cg = cgroups::Cgroup::open(*layout, s.cgroup.directories);
        return cg ? cg->frozen() : Result<bool>(false);
    };
    const auto status = HRUN_TRY(state::container_status(st, paused, procfd.get()));
    if (status == state::ContainerStatus::Stopped)
        return fail("", "container \"" + id + "\" is not running: there is no process to inspect", ESRCH);

    Report report;
    report.id = id;
    report.status = std::string(state::status_name(status));
    report.init_pid = st.pid;
    report.policy = st.policy;
    report.policy_reason = st.policy_reason;
    report.applied_defaults = st.applied_defaults;
    report.own_cgroup = !st.cgroup.directories.empty();
    const pid_t target = pid.value_or(st.pid);
    const auto others = other_containers(*root, id, procfd.get());
    if (target != st.pid) {
        const auto init_cgroup = HRUN_TRY(read_cgroup(procfd.get(), st.pid));
        auto member = belongs_to(procfd.get(), target, st.pid, init_cgroup);
        if (!member) return std::unexpected(member.error().context("--pid"));
        if (!*member)
            return fail("--pid", "process " + std::to_string(target) + " is not in container \"" + id + "\"", ESRCH);
    }
    auto process = read_process(procfd.get(), target, others);
    if (!process) return std::unexpected(process.error().context("inspecting process " + std::to_string(target)));
    report.process = std::move(*process);
    return report;
}

Result<Report> inspect_host() {
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    Report report;
    report.id = "host";
    report.init_pid = host_reference(procfd.get());
    report.process = HRUN_TRY(read_process(procfd.get(), report.init_pid, {}));
    return report;
}

}  // namespace hrun::inspect
