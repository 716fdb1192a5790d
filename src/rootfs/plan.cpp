// plan_rootfs: everything about the container's filesystem view that can be decided and checked
// before clone, turned into the RootfsPlan the child executes.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdlib>

#include "linux/procfs.hpp"
#include "rootfs/idmap.hpp"
#include "rootfs/rootfs.hpp"

namespace hrun::rootfs {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join_bundle(const std::string& bundle, const std::string& path) {
    if (!path.empty() && path.front() == '/') return path;
    if (bundle.empty()) return path;
    return bundle + "/" + path;
}

Result<std::string> plan_rootfs_path(const spec::Spec& spec, const std::string& bundle) {
    if (!spec.root || spec.root->path.empty()) return fail("root.path", "is required", EINVAL);
    std::string path = join_bundle(bundle, spec.root->path);
    char real[PATH_MAX];
    if (::realpath(path.c_str(), real) == nullptr) {
        if (errno == ENOENT) return fail("root.path", quoted(path) + " does not exist");
        return fail_errno("cannot resolve " + quoted(path), "root.path");
    }
    struct stat st;
    if (::stat(real, &st) != 0) return fail_errno("cannot stat " + quoted(path), "root.path");
    if (!S_ISDIR(st.st_mode)) return fail("root.path", quoted(path) + " is not a directory", ENOTDIR);
    if (std::string_view(real) == "/") return fail("root.path", "the host's \"/\" cannot be a container's rootfs", EINVAL);
    return std::string(real);
}


// Files below /proc that may be covered, so that lxcfs-style emulations can show per-container
// values (the same list runc accepts).
constexpr std::array<std::string_view, 10> kProcFilesAllowed{
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
    "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

bool on_procfs(const std::string& host_path) {
    struct statfs sfs;
    return ::statfs(host_path.c_str(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

Status check_proc_destination(MountPlan& mp) {
    if (!path_within(mp.destination, "/proc")) return ok();
    if (mp.destination == "/proc") {
        bool is_proc = (mp.kind == MountKind::kFilesystem && mp.fstype == "proc") ||
                       (mp.kind == MountKind::kBind && on_procfs(mp.source));
        if (!is_proc) return fail(mp.dest_field, "only a proc filesystem can be mounted on \"/proc\"", EINVAL);
        mp.procfs_target_allowed = true;
        return ok();
    }
    for (auto allowed : kProcFilesAllowed)
        if (mp.destination == allowed) {
            mp.procfs_target_allowed = true;
            return ok();
        }
    return fail(mp.dest_field, quoted(mp.destination) + " cannot be mounted because it is inside /proc", EINVAL);
}

Result<MountPlan> plan_mount(const spec::Spec& spec, const spec::Mount& m, std::size_t index,
                             const RootfsOptions& options, const NamespaceSummary& ns) {
    MountPlan mp;
    mp.field = "mounts[" + std::to_string(index) + "]";
    mp.dest_field = mp.field + ".destination";
    mp.source_field = mp.field + ".source";
    mp.type_field = mp.field + ".type";
    mp.options_field = mp.field + ".options";
    if (m.destination.empty()) return fail(mp.dest_field, "is required", EINVAL);
    mp.destination = clean_path(m.destination);
    if (mp.destination == "/") return fail(mp.dest_field, "cannot mount over the container's root", EINVAL);

    mp.options = HRUN_TRY(parse_mount_options(m.options, mp.options_field));
    const MountOptions& o = mp.options;

    if (o.bind || m.type == "bind") {
        mp.kind = MountKind::kBind;
        if (m.source.empty()) return fail(mp.source_field, "is required for a bind mount", EINVAL);
        mp.source = join_bundle(options.bundle_dir, m.source);
        struct stat st;
        if (::stat(mp.source.c_str(), &st) != 0) {
            if (errno == ENOENT) return fail(mp.source_field, quoted(mp.source) + " does not exist");
            return fail_errno("cannot stat " + quoted(mp.source), mp.source_field);
        }
        mp.source_is_dir = S_ISDIR(st.st_mode);
    } else {
        if (m.type.empty() || m.type == "none")
            return fail(mp.type_field, "is required for a mount that is not a bind mount", EINVAL);
        mp.fstype = m.type;
        mp.source = m.source.empty() ? m.type : m.source;
        if (m.type == "sysfs") {
            mp.kind = MountKind::kSysfs;
            // A user namespace may mount sysfs only for a network namespace it owns.
            mp.sysfs_bind_host = ns.new_user && !ns.new_net;
        } else if (m.type == "cgroup" || m.type == "cgroup2") {
            mp.kind = MountKind::kCgroup;
        } else {
            mp.kind = MountKind::kFilesystem;
        }
        bool is_tmpfs = m.type == "tmpfs";
        if (o.tmpcopyup && !is_tmpfs)
            return fail(mp.options_field, "\"tmpcopyup\" applies to tmpfs mounts only", EINVAL);
        mp.copy_up = o.tmpcopyup;
        mp.defer_readonly = (is_tmpfs || mp.destination == "/dev") && (o.attrs.set & MOUNT_ATTR_RDONLY);
        if (is_tmpfs) {
            mp.inherit_dir_mode = true;
            for (const auto& p : o.data)
                if (p.key == "mode") mp.inherit_dir_mode = false;
        }
    }
    HRUN_TRY(plan_mount_idmap(mp, m, spec, ns));
    HRUN_TRY(check_proc_destination(mp));
    return mp;
}

struct DefaultDevice {
    const char* path;
    unsigned major;
    unsigned minor;
};
constexpr std::array<DefaultDevice, 6> kDefaultDevices{{
    {"/dev/null", 1, 3},
    {"/dev/zero", 1, 5},
    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},
    {"/dev/urandom", 1, 9},
    {"/dev/tty", 5, 0},
}};

std::string describe_device(mode_t type, dev_t rdev) {
    const char* t = S_ISBLK(type) ? "b" : "c";
    return std::string(t) + " " + std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
}

// In a user namespace device nodes cannot be created: the host's node is bound instead. Check
// now that it is what the config says, and remember its identity for the child.
Status check_host_device(DevicePlan& d) {
    struct stat st;
    if (::stat(d.path.c_str(), &st) != 0)
        return fail_errno("cannot stat the host device " + quoted(d.path) + " to bind it", d.field);
    if ((st.st_mode & S_IFMT) != (d.mode & S_IFMT) || st.st_rdev != d.rdev)
        return fail(d.field, "host device " + quoted(d.path) + " is not " + describe_device(d.mode, d.rdev), EINVAL);
    d.host_dev = st.st_dev;
    d.host_ino = st.st_ino;
    return ok();
}

Result<DevicePlan> plan_device(const spec::Device& dev, std::size_t index, bool bind) {
    DevicePlan d;
    std::string base = "linux.devices[" + std::to_string(index) + "]";
    d.field = base + ".path";
    if (dev.path.empty()) return fail(d.field, "is required", EINVAL);
    d.path = clean_path(dev.path);
    if (d.path == "/") return fail(d.field, "cannot be \"/\"", EINVAL);
    mode_t type;
    if (dev.type == "c" || dev.type == "u") type = S_IFCHR;
    else if (dev.type == "b") type = S_IFBLK;
    else if (dev.type == "p") type = S_IFIFO;
    else return fail(base + ".type", "unknown device type " + quoted(dev.type) + " (want c, b, u or p)", EINVAL);
    if (type != S_IFIFO) {
        if (dev.major < 0 || dev.major > 0xfff) return fail(base + ".major", "out of range", ERANGE);
        if (dev.minor < 0 || dev.minor > 0xfffff) return fail(base + ".minor", "out of range", ERANGE);
        d.rdev = makedev(static_cast<unsigned>(dev.major), static_cast<unsigned>(dev.minor));
    }
    d.mode = type | (dev.fileMode.value_or(0666) & 07777);
    d.uid = dev.uid.value_or(0);
    d.gid = dev.gid.value_or(0);
    d.bind = bind && type != S_IFIFO;  // a FIFO needs no privilege to create
    if (d.bind) HRUN_TRY(check_host_device(d));
    return d;
}

Status plan_dev(RootfsPlan& plan, const spec::Spec& spec, const NamespaceSummary& ns, int procfd) {
    const MountPlan* dev_mount = nullptr;
    bool devpts = false;
    for (const auto& m : plan.mounts) {
        if (m.destination == "/dev") dev_mount = &m;
        if (m.destination == "/dev/pts" && m.kind == MountKind::kFilesystem && m.fstype == "devpts") devpts = true;
    }
    // A bind of the host's /dev already has its nodes; creating ours would write into the host.
    if (dev_mount != nullptr && dev_mount->kind == MountKind::kBind) return ok();
    bool populate = dev_mount != nullptr;
    bool ptmx_link = populate && devpts;

    if (spec.linux)
        for (std::size_t i = 0; i < spec.linux->devices.size(); ++i) {
            DevicePlan d = HRUN_TRY(plan_device(spec.linux->devices[i], i, ns.new_user));
            if (ptmx_link && d.path == "/dev/ptmx") continue;  // the pts/ptmx link wins, as in runc
            plan.devices.push_back(std::move(d));
        }
    if (!populate) return ok();

    for (const auto& def : kDefaultDevices) {
        bool overridden = false;
        for (const auto& d : plan.devices)
            if (d.path == def.path) overridden = true;
        if (overridden) continue;
        DevicePlan d;
        d.field = dev_mount->field;  // the default nodes exist because of this mount
        d.path = def.path;
        d.mode = S_IFCHR | 0666;
        d.rdev = makedev(def.major, def.minor);
        d.bind = ns.new_user;
        if (d.bind) HRUN_TRY(check_host_device(d));
        plan.devices.push_back(std::move(d));
    }

    const std::string& f = dev_mount->field;
    plan.dev_symlinks = {
        {f, "/dev/fd", "/proc/self/fd", false},
        {f, "/dev/stdin", "/proc/self/fd/0", false},
        {f, "/dev/stdout", "/proc/self/fd/1", false},
        {f, "/dev/stderr", "/proc/self/fd/2", false},
    };
    // kcore exists only with CONFIG_PROC_KCORE.
    struct stat st;
    if (::fstatat(procfd, "kcore", &st, AT_SYMLINK_NOFOLLOW) == 0)
        plan.dev_symlinks.push_back({f, "/dev/core", "/proc/kcore", false});
    if (ptmx_link) plan.dev_symlinks.push_back({f, "/dev/ptmx", "pts/ptmx", true});
    return ok();
}

Status plan_propagation(RootfsPlan& plan, const spec::Spec& spec) {
    // While building, "/" receives host events but sends none: nothing we mount reaches the host.
    plan.setup_propagation = MS_REC | MS_SLAVE;
    if (!spec.linux || spec.linux->rootfsPropagation.empty()) return ok();
    auto p = parse_propagation(spec.linux->rootfsPropagation);
    if (!p)
        return fail("linux.rootfsPropagation",
                    "unknown propagation " + quoted(spec.linux->rootfsPropagation) +
                        " (want [r]shared, [r]slave, [r]private or [r]unbindable)",
                    EINVAL);
    if (*p == (MS_REC | MS_PRIVATE)) plan.setup_propagation = *p;
    // Shared and unbindable are applied to the new root only: a container's "shared" root forms
    // its own peer group, never one with the host's mounts.
    if (*p != plan.setup_propagation) plan.final_propagation = *p;
    return ok();
}

// A bind mount whose propagation is shared in the config must be a peer of its source's peer
// group on the host (mounts made on either side appear on the other). Made after "/" became a
// recursive slave it would be a slave of that group (host to container only), so the child
// clones these sources first (setup_rootfs). An idmapped one is the parent's clone: not these.
Status assign_shared_slots(RootfsPlan& plan) {
    for (auto& mp : plan.mounts) {
        if (mp.kind != MountKind::kBind || mp.idmap.enabled) continue;
        bool shared = false;
        for (unsigned long p : mp.options.propagation) shared = shared || (p & MS_SHARED) != 0;
        if (!shared) continue;
        if (plan.shared_count >= kMaxSharedMounts)
            return fail(mp.options_field,
                        "too many bind mounts with shared propagation (at most " +
                            std::to_string(kMaxSharedMounts) + ")",
                        E2BIG);
        mp.shared_slot = static_cast<int>(plan.shared_count++);
    }
    return ok();
}

Status plan_paths(std::vector<PathEntry>& out, const std::vector<std::string>& paths, const char* name) {
    for (std::size_t i = 0; i < paths.size(); ++i) {
        PathEntry e;
        e.field = std::string(name) + "[" + std::to_string(i) + "]";
        if (paths[i].empty()) return fail(e.field, "is empty", EINVAL);
        e.path = clean_path(paths[i]);
        if (e.path == "/") return fail(e.field, "cannot be \"/\"", EINVAL);
        out.push_back(std::move(e));
    }
    return ok();
}

Status plan_devnull(RootfsPlan& plan) {
    struct stat st;
    if (::stat("/dev/null", &st) != 0) return fail_errno("cannot stat the host's /dev/null", "linux.maskedPaths");
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
        return fail("linux.maskedPaths", "the host's /dev/null is not the null device (c 1:3)", EINVAL);
    plan.devnull_dev = st.st_dev;
    plan.devnull_ino = st.st_ino;
    return ok();
}

Status plan_cgroups(RootfsPlan& plan, const std::vector<MountInfoEntry>& mountinfo, int procfd) {
    bool wanted = false;
    for (const auto& m : plan.mounts)
        if (m.kind == MountKind::kCgroup) wanted = true;
    if (!wanted) return ok();
    std::string cg = HRUN_TRY(os::procfs_read(procfd, "self/cgroup"));
    plan.cgroups = cgroup_layout(mountinfo, parse_proc_cgroup(cg));
    bool has_v2 = false;
    for (const auto& h : plan.cgroups.hierarchies) has_v2 = has_v2 || h.v2;
    for (auto& m : plan.mounts) {
        if (m.kind != MountKind::kCgroup) continue;
        if (plan.cgroups.hierarchies.empty())
            return fail(m.type_field, "no cgroup hierarchy found below /sys/fs/cgroup", ENOENT);
        if (m.fstype == "cgroup2" && !has_v2) return fail(m.type_field, "the host has no cgroup2 hierarchy", ENOENT);
        // "cgroup2" asks for the unified hierarchy alone, even on a host that also has v1.
        m.cgroup_v1_tree = m.fstype == "cgroup" && !plan.cgroups.v2_only;
    }
    return ok();
}

// A read-only mount stays so unless the container may remount it (CAP_SYS_ADMIN over its own
// mount namespace); see idmap_exposure.cpp for why a writable idmapped one must be unreachable.
bool may_remount(const spec::Spec& spec) {
    if (!spec.process || !spec.process->capabilities) return false;
    for (const auto& cap : spec.process->capabilities->bounding)
        if (cap == "CAP_SYS_ADMIN" || cap == "SYS_ADMIN") return true;
    return false;
}

Status check_idmapped_exposure(const RootfsPlan& plan, const spec::Spec& spec) {
    const bool remount = may_remount(spec);
    if (plan.rootfs_idmap.enabled && (!plan.root_readonly || remount))
        HRUN_TRY(check_idmap_not_exposed(plan.rootfs, "root.path"));
    for (const auto& mp : plan.mounts) {
        if (!mp.idmap.enabled) continue;
        const bool readonly = ((mp.options.attrs.set | mp.options.rec_attrs.set) & MOUNT_ATTR_RDONLY) != 0;
        if (!readonly || remount) HRUN_TRY(check_idmap_not_exposed(mp.source, mp.source_field));
    }
    return ok();
}

}  // namespace

Result<RootfsPlan> plan_rootfs(const spec::Spec& spec, const RootfsOptions& options,
                               const NamespaceSummary& ns, const os::HostContext& host) {
    if (!ns.new_mount)
        return fail("linux.namespaces", "setting up the rootfs needs a mount namespace of the container's own", EINVAL);
    RootfsPlan plan;
    plan.rootfs = HRUN_TRY(plan_rootfs_path(spec, options.bundle_dir));
    plan.root_readonly = spec.root->readonly;
    plan.no_pivot = options.no_pivot;
    plan.new_user = ns.new_user;
    plan.new_cgroup = ns.new_cgroup;
    HRUN_TRY(plan_propagation(plan, spec));

    for (std::size_t i = 0; i < spec.mounts.size(); ++i)
        plan.mounts.push_back(HRUN_TRY(plan_mount(spec, spec.mounts[i], i, options, ns)));
    HRUN_TRY(plan_rootfs_idmap(plan, spec, ns));
    HRUN_TRY(assign_premade_slots(plan));
    HRUN_TRY(assign_shared_slots(plan));
    HRUN_TRY(check_idmapped_exposure(plan, spec));

    int procfd = host.proc.get();
    std::vector<MountInfoEntry> mountinfo;
    bool need_mountinfo = options.no_pivot;
    for (const auto& m : plan.mounts) need_mountinfo = need_mountinfo || m.kind == MountKind::kCgroup;
    if (need_mountinfo) mountinfo = parse_mountinfo(HRUN_TRY(os::procfs_read(procfd, "self/mountinfo")));
    HRUN_TRY(plan_cgroups(plan, mountinfo, procfd));
    if (options.no_pivot) plan.host_pseudo_fs = host_pseudo_fs_mounts(mountinfo, plan.rootfs);

    HRUN_TRY(plan_dev(plan, spec, ns, procfd));
    if (spec.linux) {
        HRUN_TRY(plan_paths(plan.masked_paths, spec.linux->maskedPaths, "linux.maskedPaths"));
        HRUN_TRY(plan_paths(plan.readonly_paths, spec.linux->readonlyPaths, "linux.readonlyPaths"));
    }
    if (!plan.masked_paths.empty()) HRUN_TRY(plan_devnull(plan));
    return plan;
}

}  // namespace hrun::rootfs
