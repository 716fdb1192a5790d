#include "create/namespaces.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <linux/sched.h>

#include "create/sync.hpp"
#include "linux/procfs.hpp"
#include "spec/names.hpp"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace hrun::create {

namespace {

std::string ns_field(std::size_t i) { return "linux.namespaces[" + std::to_string(i) + "]"; }

const char* ns_name(int type) {
    switch (type) {
        case CLONE_NEWPID: return "pid";
        case CLONE_NEWNET: return "network";
        case CLONE_NEWNS: return "mount";
        case CLONE_NEWIPC: return "ipc";
        case CLONE_NEWUTS: return "uts";
        case CLONE_NEWUSER: return "user";
        case CLONE_NEWCGROUP: return "cgroup";
        case CLONE_NEWTIME: return "time";
    }
    return "unknown";
}

// Opens a namespace file and checks it really is a namespace of the expected type, so a typo'd
// path fails here with its field instead of as a bare EINVAL from setns in the child. The path is
// looked up O_PATH first and opened for real only once it is known to be on nsfs: a config
// naming a device, FIFO or socket must not make hrun open it (opening some devices has effects,
// a FIFO would block). setns needs a real open, hence the reopen of that same inode.
Result<UniqueFd> open_namespace(const std::string& path, int type, const std::string& field) {
    UniqueFd path_fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!path_fd) return fail_errno("cannot open \"" + path + "\"", field);
    struct statfs sfs;
    if (::fstatfs(path_fd.get(), &sfs) != 0 || sfs.f_type != NSFS_MAGIC)
        return fail(field, "\"" + path + "\" is not a namespace file", EINVAL);
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    const std::string self_fd = "self/fd/" + std::to_string(path_fd.get());
    UniqueFd fd(::openat(procfd.get(), self_fd.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open \"" + path + "\"", field);
    if (::fstatfs(fd.get(), &sfs) != 0 || sfs.f_type != NSFS_MAGIC)
        return fail(field, "\"" + path + "\" is not a namespace file", EINVAL);
    int actual = ::ioctl(fd.get(), NS_GET_NSTYPE);
    if (actual != type)
        return fail(field, "\"" + path + "\" is not a " + ns_name(type) + " namespace", EINVAL);
    return fd;
}

const char* proc_ns_file(int type) {
    switch (type) {
        case CLONE_NEWNET: return "net";
        case CLONE_NEWNS: return "mnt";
        case CLONE_NEWPID: return "pid";
        case CLONE_NEWIPC: return "ipc";
        case CLONE_NEWUTS: return "uts";
        case CLONE_NEWUSER: return "user";
        case CLONE_NEWCGROUP: return "cgroup";
        case CLONE_NEWTIME: return "time";
    }
    return "";
}

// Whether the opened namespace is the host's: the one hrun runs in, or the one of pid 1 (hrun
// may run in a private mount namespace of its own). A path may name either, /proc/1/ns/uts or
// /proc/self/ns/net, and then joining it shares nothing new.
Result<bool> is_host_namespace(const NamespacePlan::Join& join) {
    struct stat theirs;
    if (::fstat(join.fd.get(), &theirs) != 0) return fail_errno("cannot stat the namespace", join.field);
    for (const bool init : {false, true}) {
        const std::string path = std::string(init ? "/proc/1/ns/" : "/proc/self/ns/") + proc_ns_file(join.type);
        struct stat host;
        if (::stat(path.c_str(), &host) != 0) {
            // An unprivileged caller may not look at pid 1's namespaces; its own are the host's
            // it can reach.
            if (init && (errno == EACCES || errno == EPERM)) continue;
            return fail_errno("cannot stat " + path, join.field);
        }
        if (theirs.st_dev == host.st_dev && theirs.st_ino == host.st_ino) return true;
    }
    return false;
}

// What hrun changes inside a namespace it joins, as runc does: the hostname and domainname in a
// uts namespace, sysctls in a network, ipc or uts one, the rootfs setup (propagation,
// pivot_root) in a mount namespace. In the host's namespace that would change the host, so a
// config asking for it there is refused with the path's field.
Status check_changes_in_joined(const NamespacePlan::Join& join, const spec::Spec& spec) {
    const char* change = nullptr;
    switch (join.type) {
        case CLONE_NEWUTS:
            if (!spec.hostname.empty()) change = "setting the hostname";
            else if (!spec.domainname.empty()) change = "setting the domainname";
            break;
        case CLONE_NEWNS: change = "setting up the rootfs"; break;
        default: break;
    }
    if (change == nullptr && spec.linux) {
        for (const auto& [key, value] : spec.linux->sysctl) {
            const bool net = key.starts_with("net.");
            const bool uts = key == "kernel.hostname" || key == "kernel.domainname";
            const bool ipc = !net && !uts;  // validation let only namespaced keys through
            if ((net && join.type == CLONE_NEWNET) || (uts && join.type == CLONE_NEWUTS) ||
                (ipc && join.type == CLONE_NEWIPC)) {
                change = "writing linux.sysctl";
                break;
            }
        }
    }
    if (change == nullptr) return ok();
    if (!HRUN_TRY(is_host_namespace(join))) return ok();
    return fail(join.field, std::string("is the host's ") + ns_name(join.type) + " namespace: " + change +
                                " there would change the host",
                EINVAL);
}

// "net.ipv4.ip_forward" -> "sys/net/ipv4/ip_forward"
std::string sysctl_path(const std::string& key) {
    std::string path = "sys/" + key;
    std::replace(path.begin() + 4, path.end(), '.', '/');
    return path;
}

}  // namespace

Result<NamespacePlan> plan_namespaces(const spec::Spec& spec, uid_t euid) {
    NamespacePlan plan;
    static const spec::Linux kNoLinux;
    const spec::Linux& linux = spec.linux ? *spec.linux : kNoLinux;

    unsigned long created = 0;
    bool joined_mount = false;
    for (std::size_t i = 0; i < linux.namespaces.size(); ++i) {
        const auto& ns = linux.namespaces[i];
        auto flag = spec::namespace_clone_flag(ns.type);
        if (!flag) return fail(ns_field(i) + ".type", "unknown namespace \"" + ns.type + "\"");
        if (ns.path.empty()) {
            created |= static_cast<unsigned long>(*flag);
            continue;
        }
        NamespacePlan::Join join;
        join.field = ns_field(i) + ".path";
        join.type = *flag;
        join.fd = HRUN_TRY(open_namespace(ns.path, *flag, join.field));
        HRUN_TRY(check_changes_in_joined(join, spec));
        joined_mount |= *flag == CLONE_NEWNS;
        plan.joins.push_back(std::move(join));
    }
    if (!(created & CLONE_NEWNS) && !joined_mount)
        return fail("linux.namespaces", "a mount namespace is required to set up the rootfs");
    // The user namespace is joined first: it grants the capabilities to join the others.
    std::stable_partition(plan.joins.begin(), plan.joins.end(),
                          [](const NamespacePlan::Join& j) { return j.type == CLONE_NEWUSER; });

    auto joined = [&](int type) {
        return std::any_of(plan.joins.begin(), plan.joins.end(),
                           [type](const NamespacePlan::Join& j) { return j.type == type; });
    };
    bool time_ns = (created & CLONE_NEWTIME) || joined(CLONE_NEWTIME);
    plan.second_fork = time_ns || joined(CLONE_NEWPID);
    if (plan.joins.empty() && !plan.second_fork) {
        plan.clone_flags = created;
    } else {
        plan.late_flags = created & (CLONE_NEWPID | CLONE_NEWTIME);
        plan.unshare_flags = created & ~plan.late_flags;
        // unshare(CLONE_NEWPID) moves only the children: a new pid namespace next to joined
        // ones (a Kubernetes container with its own pid namespace in its pod's network, ipc and
        // uts) is entered by the second fork, or the process would stay in hrun's.
        if (plan.late_flags != 0) plan.second_fork = true;
    }

    plan.new_user = created & CLONE_NEWUSER;
    if (plan.new_user) {
        // Checked here, before clone: ranges the caller may not map fail with their field.
        const CallerIds caller = HRUN_TRY(load_caller_ids(linux, euid, ::getegid()));
        IdMapPlan maps = HRUN_TRY(plan_id_maps(linux, caller));
        plan.uid_map = std::move(maps.uid_map);
        plan.gid_map = std::move(maps.gid_map);
        plan.uid_helper = std::move(maps.uid_helper);
        plan.gid_helper = std::move(maps.gid_helper);
        plan.deny_setgroups = maps.deny_setgroups;
    }
    if (created & CLONE_NEWTIME) {
        for (const auto& [clock, offset] : linux.timeOffsets)
            plan.time_offsets += clock + ' ' + std::to_string(offset.secs) + ' ' +
                                 std::to_string(offset.nanosecs) + '\n';
    }

    plan.hostname = spec.hostname;
    plan.domainname = spec.domainname;
    for (const auto& [key, value] : linux.sysctl)
        plan.sysctls.push_back({sysctl_path(key), value, "linux.sysctl[\"" + key + "\"]"});
    plan.loopback_up = created & CLONE_NEWNET;

    // The container's own namespaces: created, or joined by path and not the host's. A joined user
    // namespace refuses mknod as a new one does; a joined cgroup namespace gives a fresh cgroup
    // mount its own view.
    unsigned long own = created;
    for (const auto& join : plan.joins)
        if (!HRUN_TRY(is_host_namespace(join))) own |= static_cast<unsigned long>(join.type);
    plan.summary.new_user = own & CLONE_NEWUSER;
    plan.summary.new_mount = own & CLONE_NEWNS;
    plan.summary.new_pid = own & CLONE_NEWPID;
    plan.summary.new_net = own & CLONE_NEWNET;
    plan.summary.new_ipc = own & CLONE_NEWIPC;
    plan.summary.new_cgroup = own & CLONE_NEWCGROUP;
    return plan;
}

Status write_id_maps(const NamespacePlan& plan, int procfd, pid_t pid) {
    std::string dir = std::to_string(pid) + "/";
    auto write = [&](const char* file, const std::string& data, const char* field) -> Status {
        if (data.empty()) return ok();
        int rc = os::procfs_write(procfd, (dir + file).c_str(), data.data(), data.size());
        if (rc < 0) return fail(field, std::string("cannot write ") + file, -rc);
        return ok();
    };
    if (plan.uid_helper) HRUN_TRY(run_map_helper(*plan.uid_helper, pid, "linux.uidMappings"));
    else HRUN_TRY(write("uid_map", plan.uid_map, "linux.uidMappings"));
    if (plan.gid_helper) {
        HRUN_TRY(run_map_helper(*plan.gid_helper, pid, "linux.gidMappings"));
        // newgidmap decides about setgroups(2); the process was planned (set_groups) for what
        // its rule predicts. A different verdict would make the container fail later and
        // less clearly, so say it here.
        const std::string setgroups = HRUN_TRY(os::procfs_read(procfd, (dir + "setgroups").c_str()));
        const bool denied = setgroups.starts_with("deny");
        if (denied != plan.deny_setgroups)
            return fail("linux.gidMappings", std::string("newgidmap left setgroups(2) ") +
                                                 (denied ? "denied" : "allowed") + ", unlike expected",
                        EPERM);
    } else {
        if (plan.deny_setgroups) HRUN_TRY(write("setgroups", "deny", "linux.gidMappings"));
        HRUN_TRY(write("gid_map", plan.gid_map, "linux.gidMappings"));
    }
    return ok();
}

// ---- child side: no allocation below this line ----

namespace {

ChildStatus retie(int sync_fd, pid_t parent) noexcept {
    if (int rc = tie_to_parent(sync_fd, parent); rc < 0)
        return child_fail("", "cannot set the parent death signal", -rc);
    return child_ok();
}

ChildStatus ask_for_id_maps(const NamespacePlan& plan, int sync_fd, pid_t parent) noexcept {
    // newuidmap/newgidmap accept only a target whose /proc/PID is the caller's: dumpable for
    // as long as they run. No container code runs yet; non-dumpable again right after.
    const bool helper = plan.uid_helper.has_value() || plan.gid_helper.has_value();
    if (helper && ::prctl(PR_SET_DUMPABLE, 1) != 0)
        return child_fail("linux.uidMappings", "cannot become dumpable for newuidmap", errno);
    int rc = sync_send(sync_fd, SyncType::UsernsReady);
    if (rc == 0) rc = sync_expect(sync_fd, SyncType::UsernsMapped);
    if (helper && ::prctl(PR_SET_DUMPABLE, 0) != 0)
        return child_fail("linux.uidMappings", "cannot become non-dumpable again", errno);
    if (rc < 0) return child_fail("linux.uidMappings", "no id maps from the parent", -rc);
    // Become root of the new namespace when root is mapped (rootless and remapped configs map
    // it); a namespace that maps no root keeps its full capabilities under the overflow id.
    if (::setresgid(0, 0, 0) != 0 && errno != EINVAL)
        return child_fail("linux.gidMappings", "cannot become gid 0 in the user namespace", errno);
    if (::setresuid(0, 0, 0) != 0 && errno != EINVAL)
        return child_fail("linux.uidMappings", "cannot become uid 0 in the user namespace", errno);
    // New euid: the kernel has cleared the death signal.
    return retie(sync_fd, parent);
}

void open_early(EarlyOpen* early) noexcept {
    if (early != nullptr && early->path != nullptr && early->fd < 0)
        early->fd = ::open(early->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

// The process that continues as the container after a second fork. CLONE_PARENT makes it
// hrun's child, so hrun waits for it directly and no subreaper is needed.
ChildStatus fork_container(const NamespacePlan& plan, int sync_fd, int procfd) noexcept {
    if (plan.late_flags != 0 && ::unshare(static_cast<int>(plan.late_flags)) != 0)
        return child_fail("linux.namespaces", "cannot create the pid/time namespace", errno);
    if (!plan.time_offsets.empty()) {
        int rc = os::procfs_write(procfd, "self/timens_offsets", plan.time_offsets.data(),
                                  plan.time_offsets.size());
        if (rc < 0) return child_fail("linux.timeOffsets", "cannot write the time offsets", -rc);
    }
    struct clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = CLONE_PARENT;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return child_fail("linux.namespaces", "cannot fork into the pid namespace", errno);
    if (pid == 0) return child_ok();  // the container process carries on
    int rc = sync_send(sync_fd, SyncType::ContainerPid, static_cast<pid_t>(pid));
    ::_exit(rc == 0 ? 0 : 1);
}

}  // namespace

ChildStatus enter_namespaces(const NamespacePlan& plan, int sync_fd, int procfd, pid_t parent,
                             EarlyOpen* early) noexcept {
    if (plan.clone_flags & CLONE_NEWNS) open_early(early);
    if (plan.clone_flags & CLONE_NEWUSER) HRUN_CHILD_TRY(ask_for_id_maps(plan, sync_fd, parent));

    for (const auto& join : plan.joins) {
        if (::setns(join.fd.get(), join.type) != 0)
            return child_fail(join.field.c_str(), "cannot join the namespace", errno);
        if (join.type == CLONE_NEWUSER) {
            if (::setresgid(0, 0, 0) == 0) (void)::setresuid(0, 0, 0);
            HRUN_CHILD_TRY(retie(sync_fd, parent));
        }
    }
    if (plan.unshare_flags != 0) {
        if (::unshare(static_cast<int>(plan.unshare_flags)) != 0)
            return child_fail("linux.namespaces", "cannot create the namespaces", errno);
        if (plan.unshare_flags & CLONE_NEWNS) open_early(early);
        if (plan.unshare_flags & CLONE_NEWUSER) HRUN_CHILD_TRY(ask_for_id_maps(plan, sync_fd, parent));
    }
    if (plan.second_fork) HRUN_CHILD_TRY(fork_container(plan, sync_fd, procfd));
    return child_ok();
}

ChildStatus configure_namespaces(const NamespacePlan& plan, int procfd) noexcept {
    if (!plan.hostname.empty() && ::sethostname(plan.hostname.data(), plan.hostname.size()) != 0)
        return child_fail("hostname", "cannot set the hostname", errno);
    if (!plan.domainname.empty() &&
        ::setdomainname(plan.domainname.data(), plan.domainname.size()) != 0)
        return child_fail("domainname", "cannot set the domainname", errno);
    for (const auto& s : plan.sysctls) {
        int rc = os::procfs_write(procfd, s.path.c_str(), s.value.data(), s.value.size());
        if (rc < 0) return child_fail(s.field.c_str(), "cannot write the sysctl", -rc);
    }
    if (plan.loopback_up) {
        int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0) return child_fail("linux.namespaces", "cannot bring up loopback", errno);
        struct ifreq ifr;
        std::memset(&ifr, 0, sizeof ifr);
        copy_cstr(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        int rc = ::ioctl(sock, SIOCGIFFLAGS, &ifr);
        if (rc == 0) {
            ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
            rc = ::ioctl(sock, SIOCSIFFLAGS, &ifr);
        }
        int err = errno;
        ::close(sock);
        if (rc != 0) return child_fail("linux.namespaces", "cannot bring up loopback", err);
    }
    return child_ok();
}

}  // namespace hrun::create
