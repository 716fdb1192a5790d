// The parent's side of idmapped mounts: detached clones (open_tree OPEN_TREE_CLONE) with the
// config's attributes and MOUNT_ATTR_IDMAP applied, ready for the child to attach.
//
// mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN in the user namespace that owns the source
// filesystem's superblock, the host's for a disk filesystem: hrun has it, the container's root
// does not. The tree stays detached until the child moves it into its mount namespace.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "rootfs/idmap.hpp"

namespace hrun::rootfs {

namespace {

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

int sys_open_tree(int dfd, const char* path, unsigned flags) {
    long r = ::syscall(SYS_open_tree, dfd, path, flags);
    return r < 0 ? -errno : static_cast<int>(r);
}

int sys_mount_setattr(int fd, bool recursive, uint64_t set, uint64_t clear, int userns_fd) {
    struct mount_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.attr_set = set;
    attr.attr_clr = clear;
    if (userns_fd >= 0) attr.userns_fd = static_cast<uint64_t>(userns_fd);
    long r = ::syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
    return r < 0 ? -errno : 0;
}

// The process that holds a new user namespace while its maps are written: killed and reaped
// when this goes out of scope, whatever happened.
class NamespaceHolder {
public:
    explicit NamespaceHolder(pid_t pid) : pid_(pid) {}
    NamespaceHolder(const NamespaceHolder&) = delete;
    NamespaceHolder& operator=(const NamespaceHolder&) = delete;
    ~NamespaceHolder() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, nullptr, __WALL) < 0 && errno == EINTR) {
        }
    }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_;
};

[[noreturn]] void hold_namespace(pid_t parent) noexcept {
    // Never outlive hrun; if it is already gone, do not wait for a kill that will not come.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    for (;;) ::pause();
}

Status write_proc_file(int procfd, pid_t pid, const char* name, const std::string& text, const std::string& field) {
    std::string path = std::to_string(pid) + "/" + name;
    UniqueFd fd(::openat(procfd, path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open /proc/" + path, field);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return fail_errno("cannot write /proc/" + path + " (" + quoted(text.substr(0, text.find('\n'))) + ")", field);
    return ok();
}

// One slot: what to clone and how to map it.
struct Premade {
    const IdmapPlan* idmap = nullptr;
    const char* source = nullptr;
    bool tree = false;  // clone with every mount below (rbind)
    AttrChange attrs;
    AttrChange rec_attrs;
    std::string source_field;
    std::string options_field;
};

Result<UniqueFd> make_one(const Premade& p, int userns_fd) {
    const IdmapPlan& idmap = *p.idmap;
    int fd = sys_open_tree(AT_FDCWD, p.source,
                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (p.tree ? static_cast<unsigned>(AT_RECURSIVE) : 0u));
    if (fd == -ENOSYS) return fail(idmap.field, idmap.reason + ": idmapped mounts need Linux 5.12 or later", ENOSYS);
    if (fd < 0) return fail(p.source_field, "cannot clone " + quoted(p.source) + " for an idmapped mount", -fd);
    UniqueFd tree(fd);
    // The options first, while nobody can see the mount yet.
    if (!p.attrs.empty())
        if (int r = sys_mount_setattr(fd, false, p.attrs.set, p.attrs.clear, -1); r < 0)
            return fail(p.options_field, "cannot apply the mount options", -r);
    if (!p.rec_attrs.empty())
        if (int r = sys_mount_setattr(fd, true, p.rec_attrs.set, p.rec_attrs.clear, -1); r < 0)
            return fail(p.options_field, "cannot apply the recursive mount options", -r);
    int r = sys_mount_setattr(fd, idmap.recursive, MOUNT_ATTR_IDMAP, 0, userns_fd);
    if (r == -EINVAL || r == -EOPNOTSUPP)
        return fail(idmap.field, idmap.reason + ": the filesystem does not support idmapped mounts", -r);
    if (r == -ENOSYS) return fail(idmap.field, idmap.reason + ": idmapped mounts need Linux 5.12 or later", ENOSYS);
    if (r == -EPERM)
        return fail(idmap.field, idmap.reason + ": no privilege over the source filesystem to idmap it", EPERM);
    if (r < 0) return fail(idmap.field, idmap.reason + ": cannot make the idmapped mount", -r);
    return tree;
}

}  // namespace

Result<UniqueFd> new_mapped_userns(const std::string& uid_map, const std::string& gid_map, int procfd) {
    const pid_t parent = ::getpid();
    struct clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0) return fail_errno("cannot create a user namespace for an idmapped mount");
    if (pid == 0) hold_namespace(parent);
    NamespaceHolder holder(static_cast<pid_t>(pid));
    HRUN_TRY(write_proc_file(procfd, holder.pid(), "uid_map", uid_map, "uidMappings"));
    HRUN_TRY(write_proc_file(procfd, holder.pid(), "gid_map", gid_map, "gidMappings"));
    std::string ns = std::to_string(holder.pid()) + "/ns/user";
    UniqueFd fd(::openat(procfd, ns.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail_errno("cannot open /proc/" + ns);
    return fd;
}

Result<std::vector<UniqueFd>> make_premade_mounts(const RootfsPlan& plan, int container_userns, int procfd) {
    std::vector<Premade> slots(plan.premade_count);
    auto place = [&](const IdmapPlan& idmap, Premade p) -> Status {
        if (idmap.slot < 0 || static_cast<std::size_t>(idmap.slot) >= slots.size())
            return fail(idmap.field, "idmapped mount without a slot", EINVAL);
        p.idmap = &idmap;
        slots[static_cast<std::size_t>(idmap.slot)] = std::move(p);
        return ok();
    };
    if (plan.rootfs_idmap.enabled) {
        Premade p;
        p.source = plan.rootfs.c_str();
        p.tree = true;
        p.source_field = "root.path";
        p.options_field = "root.path";
        HRUN_TRY(place(plan.rootfs_idmap, std::move(p)));
    }
    for (const auto& mp : plan.mounts) {
        if (!mp.idmap.enabled) continue;
        Premade p;
        p.source = mp.source.c_str();
        p.tree = mp.options.recursive;
        p.attrs = mp.options.attrs;
        p.rec_attrs = mp.options.rec_attrs;
        p.source_field = mp.source_field;
        p.options_field = mp.options_field;
        HRUN_TRY(place(mp.idmap, std::move(p)));
    }

    // One namespace per distinct pair of maps: mounts sharing their maps share it.
    struct Namespace {
        const std::string* uid_map;
        const std::string* gid_map;
        UniqueFd fd;
    };
    std::vector<Namespace> namespaces;
    std::vector<UniqueFd> out;
    out.reserve(slots.size());
    for (const Premade& p : slots) {
        if (p.idmap == nullptr) return fail("", "an idmapped mount slot was left empty", EINVAL);
        int userns = container_userns;
        if (!p.idmap->uid_map.empty()) {
            Namespace* found = nullptr;
            for (auto& n : namespaces)
                if (*n.uid_map == p.idmap->uid_map && *n.gid_map == p.idmap->gid_map) found = &n;
            if (found == nullptr) {
                auto fd = new_mapped_userns(p.idmap->uid_map, p.idmap->gid_map, procfd);
                if (!fd) {
                    const Error& e = fd.error();
                    return fail(e.field.empty() ? p.idmap->field : p.idmap->field + "." + e.field, e.message, e.err);
                }
                namespaces.push_back({&p.idmap->uid_map, &p.idmap->gid_map, std::move(*fd)});
                found = &namespaces.back();
            }
            userns = found->fd.get();
        }
        if (userns < 0) return fail(p.idmap->field, "the container's user namespace is not known", EINVAL);
        out.push_back(HRUN_TRY(make_one(p, userns)));
    }
    return out;
}

}  // namespace hrun::rootfs
