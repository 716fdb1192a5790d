// Creating, joining, updating and removing a container's cgroup directories.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cgroups/cgroups.hpp"
#include "cgroups/fs.hpp"

namespace hrun::cgroups {
namespace {

constexpr const char* kPathField = "linux.cgroupsPath";

// How long removal waits for exiting processes to leave a cgroup (rmdir says EBUSY meanwhile).
constexpr int kRemoveAttempts = 200;
constexpr int kRemoveStepMs = 10;

// Whether the file holds nothing but blanks (an unset cpuset.cpus is "\n").
bool blank(const std::string& s) { return s.find_first_not_of(" \t\n") == std::string::npos; }

// A new v1 cpuset cgroup starts with empty cpus and mems, and no task can join it until both
// are set (ENOSPC): copy them from the parent where they are blank.
Status inherit_cpuset(const std::string& dir) {
    const std::string parent = dir.substr(0, dir.rfind('/'));
    UniqueFd parent_fd(fs::open_cgroup_dir(parent));
    UniqueFd fd(fs::open_cgroup_dir(dir));
    if (!parent_fd || !fd) return fail(kPathField, "cannot open cpuset cgroup " + dir, errno);
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        std::string mine, theirs;
        if (int err = fs::read_at(fd.get(), file, mine); err != 0)
            return fail(kPathField, "cannot read " + dir + "/" + file, err);
        if (!blank(mine)) continue;
        if (int err = fs::read_at(parent_fd.get(), file, theirs); err != 0)
            return fail(kPathField, "cannot read " + parent + "/" + file, err);
        if (blank(theirs)) continue;
        if (int err = fs::write_at(fd.get(), file, fs::trim(theirs)); err != 0)
            return fail(kPathField, "cannot copy " + std::string(file) + " into " + dir, err);
    }
    return ok();
}

// Removes a cgroup directory and every cgroup below it (made by the container itself),
// deepest first. rmdir of a cgroup fails with EBUSY while exiting tasks are still in it.
int remove_tree(const std::string& dir) {
    // The usual leaf, empty and without sub-cgroups, goes with one rmdir; only a refusal (sub-
    // cgroups or tasks still there: EBUSY) is worth listing the directory for.
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
    UniqueFd fd(fs::open_cgroup_dir(dir));
    if (fd)
        for (const std::string& sub : fs::subdirectories(fd.get())) remove_tree(dir + "/" + sub);
    fd.reset();
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return 0;
        if (errno != EBUSY || attempt == kRemoveAttempts) return errno;
        fs::sleep_ms(kRemoveStepMs);
    }
}

// 0, or the errno of the write (ENOENT when no acceptable file exists).
int write_one(int dirfd, const Write& w, std::string& used_file) {
    used_file = w.file;
    int err = fs::write_at(dirfd, w.file.c_str(), w.value);
    if (err == ENOENT && !w.fallback_file.empty()) {
        used_file = w.fallback_file;
        err = fs::write_at(dirfd, w.fallback_file.c_str(), w.fallback_value.empty() ? w.value : w.fallback_value);
    }
    if (err == ENOENT && w.if_exists) return 0;
    return err;
}

}  // namespace

Cgroup::Cgroup(Cgroup&& other) noexcept
    : layout_(std::move(other.layout_)),
      directories_(std::move(other.directories_)),
      leaves_(std::move(other.leaves_)),
      owned_(std::move(other.owned_)) {
    other.owned_.clear();
}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
    if (this != &other) {
        cleanup();
        layout_ = std::move(other.layout_);
        directories_ = std::move(other.directories_);
        leaves_ = std::move(other.leaves_);
        owned_ = std::move(other.owned_);
        other.owned_.clear();
    }
    return *this;
}

Cgroup::~Cgroup() { cleanup(); }

void Cgroup::cleanup() noexcept {
    if (owned_.empty()) return;
    try {
        // Whatever got in (a half-created container) must not outlive the failed creation.
        for (std::size_t i = 0; i < leaves_.size(); ++i) {
            if (!leaves_[i] || std::find(owned_.begin(), owned_.end(), directories_[i]) == owned_.end()) continue;
            std::vector<pid_t> pids;
            fs::read_procs(leaves_[i].get(), pids, true);
            for (pid_t pid : pids) ::kill(pid, SIGKILL);
        }
        leaves_.clear();
        for (auto it = owned_.rbegin(); it != owned_.rend(); ++it) remove_tree(*it);
    } catch (...) {
        // Out of memory while cleaning up: nothing better to do than leave the rest.
    }
    owned_.clear();
}

Status Cgroup::make_directories(const Placement& placement) {
    for (std::size_t i = 0; i < layout_.hierarchies.size(); ++i) {
        const Hierarchy& h = layout_.hierarchies[i];
        const std::string& leaf = placement.directories[i];
        if (!leaf.starts_with(h.mount_point)) return fail(kPathField, leaf + " is not below " + h.mount_point);
        const bool cpuset = h.version == 1 && h.has("cpuset");
        bool leaf_created = false;
        // Another hrun removing a shared parent (say "hrun") between two of our mkdirs makes
        // the second fail with ENOENT: walk again from the top.
        for (int attempt = 0;; ++attempt) {
            std::string dir = h.mount_point;
            int err = 0;
            for (std::string_view part : fs::split(std::string_view(leaf).substr(h.mount_point.size()), "/")) {
                dir += "/";
                dir += part;
                if (::mkdir(dir.c_str(), 0755) == 0) {
                    owned_.push_back(dir);
                    if (dir == leaf) leaf_created = true;
                } else if (errno != EEXIST) {
                    err = errno;
                    break;
                }
                // Every level, also one someone else made and left without cpus or mems: the
                // leaf can only inherit what its parent has (as runc fills each level).
                if (cpuset) HRUN_TRY(inherit_cpuset(dir));
            }
            if (err == 0) break;
            if (err != ENOENT || attempt == 3) return fail(kPathField, "cannot create cgroup " + dir, err);
        }
        int fd = fs::open_cgroup_dir(leaf);
        if (fd < 0) return fail(kPathField, "cannot open cgroup " + leaf, -fd);
        leaves_[i].reset(fd);
        if (!leaf_created) {
            // Sharing a cgroup with other processes would share (and let them change) its limits.
            std::vector<pid_t> pids;
            fs::read_procs(fd, pids, true);
            if (!pids.empty())
                return fail(kPathField, "cgroup " + leaf + " already holds " + std::to_string(pids.size()) +
                                            " process(es) that are not this container's", EBUSY);
        }
    }
    return ok();
}

// A process that joins a frozen cgroup stops at once, in an uninterruptible sleep: hrun's child
// would never report back and hrun would wait with it until someone thaws the cgroup. As runc,
// a container does not start into a frozen cgroup (its own freezer set, or a frozen ancestor's:
// v1 shows that in the child's freezer.state, v2 in its cgroup.events).
Status Cgroup::refuse_frozen() const {
    for (std::size_t i = 0; i < layout_.hierarchies.size(); ++i) {
        const Hierarchy& h = layout_.hierarchies[i];
        if (!leaves_[i]) continue;
        std::string text;
        if (h.version == 1) {
            if (!h.has("freezer") || fs::read_at(leaves_[i].get(), "freezer.state", text) != 0) continue;
            text = fs::trim(text);
            if (text != "THAWED")
                return fail(kPathField, "cgroup " + directories_[i] + " is frozen (freezer.state " + text +
                                            "): a container cannot start in it; thaw it or choose another path",
                            EBUSY);
        } else {
            std::string freeze;
            const bool requested = fs::read_at(leaves_[i].get(), "cgroup.freeze", freeze) == 0 && fs::trim(freeze) == "1";
            bool effective = false;
            if (fs::read_at(leaves_[i].get(), "cgroup.events", text) == 0)
                for (std::string_view line : fs::split(text, "\n")) effective |= fs::trim(line) == "frozen 1";
            if (requested || effective)
                return fail(kPathField, "cgroup " + directories_[i] + " is frozen (" +
                                            (requested ? "cgroup.freeze 1" : "a frozen parent") +
                                            "): a container cannot start in it; thaw it or choose another path",
                            EBUSY);
        }
    }
    return ok();
}

Status Cgroup::enable_v2_controllers(const std::vector<std::string>& needed, const std::string& leaf_path) {
    const auto u = layout_.unified();
    if (!u) return ok();
    const Hierarchy& h = layout_.hierarchies[*u];
    const std::string leaf = h.directory_of(leaf_path);
    // Every cgroup from the mount down to the leaf's parent must pass the controllers on.
    std::vector<std::string> chain{h.mount_point};
    for (std::string_view part : fs::split(std::string_view(leaf).substr(h.mount_point.size()), "/"))
        chain.push_back(chain.back() + "/" + std::string(part));
    chain.pop_back();  // the leaf itself enables nothing: the container may do that below it

    for (const std::string& dir : chain) {
        UniqueFd fd(fs::open_cgroup_dir(dir));
        if (!fd) return fail(kPathField, "cannot open cgroup " + dir, errno);
        std::string available, enabled;
        if (int err = fs::read_at(fd.get(), "cgroup.controllers", available); err != 0)
            return fail(kPathField, "cannot read " + dir + "/cgroup.controllers", err);
        if (int err = fs::read_at(fd.get(), "cgroup.subtree_control", enabled); err != 0)
            return fail(kPathField, "cannot read " + dir + "/cgroup.subtree_control", err);
        const auto avail = fs::split(available, " \n");
        const auto on = fs::split(enabled, " \n");
        std::vector<std::string> wanted = needed;
        // On a v2-only host every controller of the hierarchy is passed on (as runc does), so
        // that stats and later updates find their files even when creation set no limit.
        if (layout_.mode == Mode::Unified) wanted.insert(wanted.end(), h.controllers.begin(), h.controllers.end());
        for (const std::string& c : wanted) {
            if (std::find(on.begin(), on.end(), c) != on.end()) continue;
            const bool required = std::find(needed.begin(), needed.end(), c) != needed.end();
            if (std::find(avail.begin(), avail.end(), c) == avail.end()) {
                if (required)
                    return fail("linux.resources", "the " + c + " controller is not available in " + dir +
                                                       " (not delegated by its parent)");
                continue;
            }
            if (int err = fs::write_at(fd.get(), "cgroup.subtree_control", "+" + c); err != 0 && required)
                return fail("linux.resources", "cannot enable the " + c + " controller in " + dir +
                                                   "/cgroup.subtree_control" +
                                                   (err == EBUSY ? " (that cgroup has processes of its own)" : ""),
                            err);
        }
    }
    return ok();
}

Status Cgroup::apply(const Plan& plan) {
    // Some values depend on others already in place (v1 memsw >= limit, cfs quota vs period,
    // rt runtime vs period), in an order that differs between raising and lowering: what
    // fails is tried again once after everything else was written.
    std::vector<const Write*> retry;
    std::string file;
    for (const Write& w : plan.writes) {
        if (w.hierarchy >= leaves_.size() || !leaves_[w.hierarchy])
            return fail(w.field, "the cgroup of this hierarchy does not exist", ENOENT);
        if (write_one(leaves_[w.hierarchy].get(), w, file) != 0) retry.push_back(&w);
    }
    for (const Write* w : retry) {
        const int err = write_one(leaves_[w->hierarchy].get(), *w, file);
        if (err == ENOENT) return fail(w->field, "this kernel offers no cgroup file " + w->file);
        if (err != 0) return fail(w->field, "cannot write \"" + w->value + "\" to " + file, err);
    }
    if (plan.bpf_devices) {
        const auto u = layout_.unified();
        if (!u || !leaves_[*u]) return fail("linux.resources.devices", "no cgroup v2 directory to filter devices in");
        HRUN_TRY(attach_device_program(leaves_[*u].get(), device_program(*plan.bpf_devices)));
    }
    return ok();
}

Result<Cgroup> Cgroup::create(const Layout& layout, const Placement& placement, const Plan& plan) {
    if (placement.directories.size() != layout.hierarchies.size() || placement.paths.size() != layout.hierarchies.size())
        return fail(kPathField, "placement does not match the host's cgroup layout");
    Cgroup cg;
    cg.layout_ = layout;
    cg.directories_ = placement.directories;
    cg.leaves_.resize(layout.hierarchies.size());
    HRUN_TRY(cg.make_directories(placement));
    HRUN_TRY(cg.refuse_frozen());
    if (auto u = layout.unified()) HRUN_TRY(cg.enable_v2_controllers(plan.v2_controllers, placement.paths[*u]));
    HRUN_TRY(cg.apply(plan));
    return cg;
}

Result<Cgroup> Cgroup::open(const Layout& layout, const std::vector<std::string>& directories) {
    Cgroup cg;
    cg.layout_ = layout;
    cg.leaves_.resize(layout.hierarchies.size());
    cg.directories_.resize(layout.hierarchies.size());
    bool any = false;
    for (const std::string& dir : directories) {
        // The hierarchy whose mount point is the longest prefix of the directory.
        std::optional<std::size_t> best;
        for (std::size_t i = 0; i < layout.hierarchies.size(); ++i) {
            const std::string& mp = layout.hierarchies[i].mount_point;
            if (!dir.starts_with(mp + "/")) continue;
            if (!best || mp.size() > layout.hierarchies[*best].mount_point.size()) best = i;
        }
        if (!best) continue;  // a hierarchy unmounted since the container was made
        cg.directories_[*best] = dir;
        int fd = fs::open_cgroup_dir(dir);
        if (fd >= 0) {
            cg.leaves_[*best].reset(fd);
            any = true;
        } else if (fd != -ENOENT) {
            return fail(kPathField, "cannot open cgroup " + dir, -fd);
        }
    }
    if (!any) return fail(kPathField, "the container's cgroup no longer exists", ENOENT);
    return cg;
}

int Cgroup::clone_into_fd() const noexcept {
    if (layout_.mode != Mode::Unified) return -1;
    const auto u = layout_.unified();
    return u && *u < leaves_.size() ? leaves_[*u].get() : -1;
}

int Cgroup::leaf_fd(std::size_t index) const noexcept { return index < leaves_.size() ? leaves_[index].get() : -1; }

Status Cgroup::attach(pid_t pid) const {
    const std::string text = std::to_string(pid);
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
        if (!leaves_[i]) continue;
        if (int err = fs::write_at(leaves_[i].get(), "cgroup.procs", text); err != 0)
            return fail(kPathField, "cannot move process " + text + " into " + directories_[i], err);
    }
    return ok();
}

Status Cgroup::update(const spec::Resources& resources) {
    PlanOptions options;
    options.devices = !resources.devices.empty();
    const Plan plan = HRUN_TRY(plan_resources(resources, layout_, options));
    if (auto u = layout_.unified(); u && leaves_[*u] && !plan.v2_controllers.empty()) {
        // directory_of() of the saved directory's in-hierarchy path: recover it from the mount.
        const Hierarchy& h = layout_.hierarchies[*u];
        std::string path = directories_[*u].substr(h.mount_point.size());
        if (h.mount_root != "/") path = h.mount_root + path;
        HRUN_TRY(enable_v2_controllers(plan.v2_controllers, path.empty() ? "/" : path));
    }
    return apply(plan);
}

Status Cgroup::destroy() {
    // A cgroup still busy after remove_tree's wait holds a process that kill_all did not see:
    // it reads one hierarchy, and on v1 a process being placed (an `exec` killed while its
    // process was written into one cgroup.procs after another) can be in some hierarchies only.
    // Kill what the busy directory itself lists, then retry, a few rounds.
    constexpr int kKillRounds = 3;
    HRUN_TRY(kill_all());
    for (int round = 1;; ++round) {
        int err = 0;
        std::string busy;
        for (const std::string& dir : directories_) {
            if (dir.empty()) continue;
            if (err = remove_tree(dir); err != 0) {
                busy = dir;
                break;
            }
        }
        if (err == 0) break;
        if (err != EBUSY || round == kKillRounds) return fail(kPathField, "cannot remove cgroup " + busy, err);
        UniqueFd fd(fs::open_cgroup_dir(busy));
        std::vector<pid_t> pids;
        if (fd && fs::read_procs(fd.get(), pids, true) == 0)
            for (pid_t pid : pids) ::kill(pid, SIGKILL);
    }
    leaves_.clear();
    leaves_.resize(layout_.hierarchies.size());
    // Parents this object made (same process as the creation) go too when nothing else uses them.
    for (auto it = owned_.rbegin(); it != owned_.rend(); ++it) ::rmdir(it->c_str());
    owned_.clear();
    return ok();
}

}  // namespace hrun::cgroups
