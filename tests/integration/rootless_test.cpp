// Rootless: an unprivileged user runs containers. The test (as root) creates the user
// "hrun-rootless" with subordinate ids 200000-265535, gives it a bundle and a private
// XDG_RUNTIME_DIR, and runs hrun as that user (setpriv). Covered: `hrun spec --rootless` with
// both id ranges (newuidmap/newgidmap), state under $XDG_RUNTIME_DIR, a process user mapped
// through the subordinate range, ranges the user does not own, limits without a delegated
// cgroup, and a cgroup delegated by root.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUser = "hrun-rootless";
// Not overlapping other users' ranges (another test uses 300000 and up).
constexpr uint32_t kSubStart = 200000;
constexpr uint32_t kSubCount = 65536;

std::string sub_range_text() {
    return std::to_string(kSubStart) + "-" + std::to_string(kSubStart + kSubCount - 1);
}

// Whether `file` gives `user` exactly the test's range.
bool has_range(const char* file, const std::string& user) {
    std::ifstream in(file);
    const std::string want = user + ":" + std::to_string(kSubStart) + ":" + std::to_string(kSubCount);
    for (std::string line; std::getline(in, line);)
        if (line == want) return true;
    return false;
}

// The test user and its subordinate ids, made once and reused by later runs. useradd is told
// not to allocate ranges itself (SUB_*_COUNT=0): the test's range is added explicitly.
std::string ensure_user() {
    if (!::getpwnam(kUser)) {
        RunResult r = run_command({"/usr/sbin/useradd", "-M", "-s", "/usr/sbin/nologin", "-K", "SUB_UID_COUNT=0", "-K",
                                   "SUB_GID_COUNT=0", kUser});
        if (r.status != 0 && !::getpwnam(kUser)) return "useradd failed: " + r.describe();
    }
    std::vector<std::string> usermod{"/usr/sbin/usermod"};
    if (!has_range("/etc/subuid", kUser)) usermod.insert(usermod.end(), {"--add-subuids", sub_range_text()});
    if (!has_range("/etc/subgid", kUser)) usermod.insert(usermod.end(), {"--add-subgids", sub_range_text()});
    if (usermod.size() > 1) {
        usermod.push_back(kUser);
        RunResult r = run_command(usermod);
        if (r.status != 0) return "usermod failed: " + r.describe();
    }
    return {};
}

// /sys/fs/cgroup/<name> for every mounted hierarchy (v1 controllers, name=systemd, unified).
std::vector<std::string> cgroup_mounts() {
    std::vector<std::string> out;
    // A v2-only host: /sys/fs/cgroup is the one hierarchy, and its subdirectories are cgroups.
    struct statfs top;
    if (::statfs("/sys/fs/cgroup", &top) == 0 && top.f_type == CGROUP2_SUPER_MAGIC) return {"/sys/fs/cgroup"};
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup", ec)) {
        struct statfs sfs;
        if (entry.is_symlink() || !entry.is_directory()) continue;
        if (::statfs(entry.path().c_str(), &sfs) != 0) continue;
        if (sfs.f_type == CGROUP_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC) out.push_back(entry.path());
    }
    return out;
}

bool is_v2(const std::string& dir) {
    struct statfs sfs;
    return ::statfs(dir.c_str(), &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

// The lines of an id map as (inside, outside, count) triples.
std::vector<std::array<uint64_t, 3>> id_map_lines(const std::string& text) {
    std::vector<std::array<uint64_t, 3>> out;
    std::istringstream in(text);
    for (std::array<uint64_t, 3> t; in >> t[0] >> t[1] >> t[2];) out.push_back(t);
    return out;
}

class Rootless : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root to create the test user and its bundle";
        for (const char* tool : {"/usr/bin/newuidmap", "/usr/bin/newgidmap", "/usr/sbin/useradd", "/usr/bin/setpriv"})
            if (::access(tool, X_OK) != 0)
                GTEST_SKIP() << tool << " is missing (scripts/install-deps.sh installs uidmap, passwd, util-linux)";
        const std::string error = ensure_user();
        ASSERT_TRUE(error.empty()) << error;
        const struct passwd* pw = ::getpwnam(kUser);
        ASSERT_NE(pw, nullptr);
        uid_ = pw->pw_uid;
        gid_ = pw->pw_gid;

        bundle_ = std::make_unique<Bundle>(BundleOptions{.probe = true, .chown = owner()});
        ASSERT_TRUE(bundle_->error().empty()) << bundle_->error();
        // The user reaches its bundle: the temporary directory and the bundle directory are its.
        const std::string tmp = fs::path(bundle_->dir()).parent_path();
        for (const std::string& dir : {tmp, bundle_->dir()}) ASSERT_EQ(::chown(dir.c_str(), uid_, gid_), 0) << dir;
        ::unlink((bundle_->dir() + "/config.json").c_str());

        // A private runtime directory, as pam_systemd gives a logged-in user.
        runtime_dir_ = tmp + "/xdg-runtime";
        ASSERT_EQ(::mkdir(runtime_dir_.c_str(), 0700), 0);
        ASSERT_EQ(::chown(runtime_dir_.c_str(), uid_, gid_), 0);

        // The config is the user's own `hrun spec --rootless`.
        RunResult spec = as_user({"spec", "--rootless", "--bundle", bundle_->dir()});
        ASSERT_EQ(spec.status, 0) << spec.describe();
        auto text = read_file(bundle_->dir() + "/config.json");
        ASSERT_TRUE(text);
        bundle_->config = json::parse(*text);
        bundle_->config["process"]["terminal"] = false;  // spec asks for one; the tests have no tty
    }

    void TearDown() override {
        if (!bundle_) return;
        RunResult ids = as_user({"list", "-q"});
        std::istringstream lines(ids.out);
        for (std::string id; std::getline(lines, id);)
            if (!id.empty()) as_user({"delete", "--force", id});
        // The delegated parents (and anything a failed run left below them).
        for (const std::string& dir : delegated_) {
            std::error_code ec;
            for (const auto& sub : fs::directory_iterator(dir, ec))
                if (sub.is_directory()) ::rmdir(sub.path().c_str());
            ::rmdir(dir.c_str());
        }
    }

    std::string owner() const { return std::to_string(uid_) + ":" + std::to_string(gid_); }
    std::string state_dir(const std::string& id) const { return runtime_dir_ + "/hrun/" + id; }

    // hrun as the test user, with the environment a login session gives it. With `procs`, the
    // process first moves itself (still root) into that cgroup.procs: on cgroup v2 a user may
    // only move processes between cgroups of a subtree it owns, so it must start inside one.
    std::vector<std::string> user_argv(const std::vector<std::string>& args, const std::string& procs = "") const {
        std::vector<std::string> argv;
        if (!procs.empty()) argv = {"/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", procs};
        for (const std::string& a : {std::string("/usr/bin/setpriv"), "--reuid=" + std::to_string(uid_),
                                     "--regid=" + std::to_string(gid_), std::string("--init-groups"), std::string("--"),
                                     hrun_binary()})
            argv.push_back(a);
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    RunOptions user_options(RunOptions options = {}) const {
        options.env_add.insert(options.env_add.end(),
                               {"XDG_RUNTIME_DIR=" + runtime_dir_, "HOME=" + runtime_dir_, "USER=" + std::string(kUser),
                                "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"});
        return options;
    }
    RunResult as_user(const std::vector<std::string>& args, const std::string& procs = "") const {
        return run_command(user_argv(args, procs), user_options());
    }
    RunResult run_as_user(const std::string& id, const std::string& procs = "") {
        bundle_->save();
        return as_user({"run", "--bundle", bundle_->dir(), id}, procs);
    }

    // A cgroup root delegates to the user in every hierarchy: made by root, chowned with its
    // files. cpuset needs cpus and mems before any task can join a child.
    std::string delegate_cgroup() {
        const std::string name = "hrun-rootless-it-" + std::to_string(::getpid());
        for (const std::string& mount : cgroup_mounts()) {
            const std::string dir = mount + "/" + name;
            if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
                ADD_FAILURE() << "cannot create " << dir << ": " << std::strerror(errno);
                continue;
            }
            delegated_.push_back(dir);
            for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
                auto parent = read_file(mount + "/" + file);
                if (parent && !is_v2(mount)) std::ofstream(dir + "/" + file) << trim(*parent);
            }
            ::chown(dir.c_str(), uid_, gid_);
            std::error_code ec;
            for (const auto& f : fs::directory_iterator(dir, ec))
                if (f.is_regular_file()) ::chown(f.path().c_str(), uid_, gid_);
        }
        return name;
    }
    // Where hrun itself starts in the unified hierarchy: a leaf of its own below the delegated
    // cgroup (as systemd delegates: processes only in leaves). On cgroup v2 a cgroup with
    // processes cannot pass controllers to its children, so hrun must not sit in the parent of
    // the container's cgroup; and the two meet in the delegated cgroup, which the user owns.
    std::string unified_procs(const std::string& name) {
        for (const std::string& mount : cgroup_mounts()) {
            if (!is_v2(mount)) continue;
            const std::string runner = mount + "/" + name + "/runner";
            if (::mkdir(runner.c_str(), 0755) != 0 && errno != EEXIST) {
                ADD_FAILURE() << "cannot create " << runner << ": " << std::strerror(errno);
                return {};
            }
            ::chown(runner.c_str(), uid_, gid_);
            for (const char* file : {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"})
                ::chown((runner + "/" + file).c_str(), uid_, gid_);
            return runner + "/cgroup.procs";
        }
        return {};
    }

    uid_t uid_ = 0;
    gid_t gid_ = 0;
    std::string runtime_dir_;
    std::unique_ptr<Bundle> bundle_;
    std::vector<std::string> delegated_;
};

TEST_F(Rootless, SpecMapsRootToTheUserAndOneToNToItsSubordinateIds) {
    const json& linux = bundle_->config["linux"];
    EXPECT_EQ(linux["uidMappings"], json::parse(R"([{"containerID":0,"hostID":)" + std::to_string(uid_) +
                                                R"(,"size":1},{"containerID":1,"hostID":200000,"size":65536}])"));
    EXPECT_EQ(linux["gidMappings"], json::parse(R"([{"containerID":0,"hostID":)" + std::to_string(gid_) +
                                                R"(,"size":1},{"containerID":1,"hostID":200000,"size":65536}])"));
    EXPECT_FALSE(linux.contains("resources")) << "a rootless config sets no limits";
}

TEST_F(Rootless, RunsWithBothRangesMappedAndWarnsAboutTheMissingCgroup) {
    bundle_->set_args({"/bin/sh", "-c", "id -u; cat /proc/self/uid_map; echo --; cat /proc/self/gid_map"});
    const std::string id = unique_id();
    RunResult r = run_as_user(id);
    ASSERT_EQ(r.status, 0) << r.describe();
    std::istringstream out(r.out);
    std::string uid_line;
    std::getline(out, uid_line);
    EXPECT_EQ(uid_line, "0");
    const std::string rest = r.out.substr(r.out.find('\n') + 1);
    const std::string uid_map = rest.substr(0, rest.find("--"));
    const std::string gid_map = rest.substr(rest.find("--") + 2);
    using Line = std::array<uint64_t, 3>;
    EXPECT_EQ(id_map_lines(uid_map), (std::vector<Line>{{0, uid_, 1}, {1, kSubStart, kSubCount}})) << r.out;
    EXPECT_EQ(id_map_lines(gid_map), (std::vector<Line>{{0, gid_, 1}, {1, kSubStart, kSubCount}})) << r.out;
    // No cgroup was delegated: one warning that says which, to whom, and how to delegate.
    EXPECT_NE(r.err.find("is not delegated to uid " + std::to_string(uid_)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("linux.cgroupsPath"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("not delegated"), r.err.rfind("not delegated")) << "warned more than once: " << r.err;
    EXPECT_TRUE(cgroups_matching(id).empty());
    EXPECT_FALSE(fs::exists(state_dir(id)));
}

TEST_F(Rootless, StateLivesUnderXdgRuntimeDirUntilDelete) {
    bundle_->set_args({"/bin/sleep", "1000"});
    bundle_->save();
    const std::string id = unique_id();
    RunResult created = as_user({"create", "--bundle", bundle_->dir(), id});
    ASSERT_EQ(created.status, 0) << created.describe();
    const std::string state_file = state_dir(id) + "/state.json";
    struct stat st;
    ASSERT_EQ(::stat(state_file.c_str(), &st), 0) << state_file;
    EXPECT_EQ(st.st_uid, uid_);
    EXPECT_FALSE(fs::exists("/run/hrun/" + id));

    ASSERT_EQ(as_user({"start", id}).status, 0);
    RunResult state = as_user({"state", id});
    ASSERT_EQ(state.status, 0) << state.describe();
    const json doc = json::parse(state.out, nullptr, false);
    EXPECT_EQ(doc.value("status", ""), "running") << state.out;
    // Without a cgroup, ps knows the init process only.
    RunResult ps = as_user({"ps", "--format", "json", id});
    ASSERT_EQ(ps.status, 0) << ps.describe();
    EXPECT_EQ(json::parse(ps.out, nullptr, false), json::array({doc.value("pid", 0)})) << ps.out;
    // Without a cgroup, stats shows no usage rather than its creator's.
    RunResult stats = as_user({"stats", "--format", "json", id});
    ASSERT_EQ(stats.status, 0) << stats.describe();
    const json rows = json::parse(stats.out, nullptr, false);
    ASSERT_TRUE(rows.is_array() && rows.size() == 1) << stats.out;
    EXPECT_EQ(rows[0].value("ownCgroup", true), false) << stats.out;
    EXPECT_TRUE(rows[0]["data"].is_null()) << stats.out;
    RunResult table = as_user({"stats", id});
    EXPECT_NE(table.out.find("no cgroup of its own"), std::string::npos) << table.describe();
    // Without a cgroup, pause says why instead of pretending.
    RunResult paused = as_user({"pause", id});
    EXPECT_NE(paused.status, 0);
    EXPECT_NE(paused.err.find("freezer"), std::string::npos) << paused.describe();

    ASSERT_EQ(as_user({"kill", id, "KILL"}).status, 0);
    RunResult deleted;
    for (int i = 0; i < 100; ++i) {  // kill is asynchronous: delete once it is stopped
        deleted = as_user({"delete", id});
        if (deleted.status == 0) break;
        ::usleep(20000);
    }
    ASSERT_EQ(deleted.status, 0) << deleted.describe();
    EXPECT_FALSE(fs::exists(state_dir(id)));
}

TEST_F(Rootless, ProcessUserIsMappedThroughTheSubordinateRange) {
    bundle_->config["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    bundle_->set_args({"/bin/sh", "-c", "id -u; id -g; exec /bin/hrun-probe sleep 30"});
    bundle_->save();
    const std::string id = unique_id();
    Process p(user_argv({"run", "--bundle", bundle_->dir(), id}), user_options());
    ASSERT_TRUE(p.wait_for_output("ready", 20s)) << p.wait(1s).describe();
    auto state = read_file(state_dir(id) + "/state.json");
    ASSERT_TRUE(state);
    const pid_t pid = json::parse(*state, nullptr, false).value("pid", 0);
    ASSERT_GT(pid, 0);
    auto status = read_file("/proc/" + std::to_string(pid) + "/status");
    ASSERT_TRUE(status);
    // Container uid 1000 is host uid 200000 + (1000 - 1).
    EXPECT_NE(status->find("\nUid:\t200999\t200999\t200999\t200999\n"), std::string::npos) << *status;
    EXPECT_NE(status->find("\nGid:\t200999\t200999\t200999\t200999\n"), std::string::npos) << *status;
    ASSERT_EQ(as_user({"kill", id, "KILL"}).status, 0);
    RunResult r = p.wait(20s);
    EXPECT_NE(r.out.find("1000\n1000\nready"), std::string::npos) << r.describe();
}

TEST_F(Rootless, ARangeNotInSubuidFailsBeforeCloneAndLeavesNothing) {
    bundle_->config["linux"]["uidMappings"] = json::parse(R"([{"containerID":0,"hostID":)" + std::to_string(uid_) +
                                                          R"(,"size":1},{"containerID":1,"hostID":400000,"size":1000}])");
    bundle_->set_args({"/bin/true"});
    const std::string id = unique_id();
    RunResult r = run_as_user(id);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("linux.uidMappings[1]: host ids 400000-400999 are not delegated to user \"hrun-rootless\" "
                         "in /etc/subuid"),
              std::string::npos)
        << r.describe();
    EXPECT_FALSE(fs::exists(state_dir(id)));
    EXPECT_TRUE(find_processes(bundle_->dir()).empty());
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Rootless, ALimitWithoutADelegatedCgroupFailsAndLeavesNothing) {
    bundle_->config["linux"]["resources"] = {{"pids", {{"limit", 64}}}};
    bundle_->set_args({"/bin/true"});
    const std::string id = unique_id();
    RunResult r = run_as_user(id);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("linux.resources.pids.limit: cannot be enforced: cgroup "), std::string::npos)
        << r.describe();
    EXPECT_NE(r.err.find("is not delegated to uid " + std::to_string(uid_)), std::string::npos) << r.describe();
    EXPECT_FALSE(fs::exists(state_dir(id)));
    EXPECT_TRUE(find_processes(bundle_->dir()).empty());
    EXPECT_TRUE(cgroups_matching(id).empty());
}

TEST_F(Rootless, ADelegatedCgroupCarriesTheLimitUntilDelete) {
    const std::string parent = delegate_cgroup();
    ASSERT_FALSE(delegated_.empty());
    const std::string id = unique_id();
    bundle_->config["linux"]["cgroupsPath"] = "/" + parent + "/" + id;
    bundle_->config["linux"]["resources"] = {{"pids", {{"limit", 64}}}};
    bundle_->set_args({"/bin/hrun-probe", "sleep", "30"});
    bundle_->save();
    const std::string procs = unified_procs(parent);
    Process p(user_argv({"run", "--bundle", bundle_->dir(), id}, procs), user_options());
    ASSERT_TRUE(p.wait_for_output("ready", 20s)) << p.wait(1s).describe();

    std::string pids_dir;
    for (const std::string& dir : delegated_)
        if (fs::exists(dir + "/pids.max")) pids_dir = dir + "/" + id;
    ASSERT_FALSE(pids_dir.empty()) << "no pids hierarchy on this host";
    auto max = read_file(pids_dir + "/pids.max");
    ASSERT_TRUE(max) << pids_dir;
    EXPECT_EQ(trim(*max), "64");
    auto state = read_file(state_dir(id) + "/state.json");
    ASSERT_TRUE(state);
    const pid_t pid = json::parse(*state, nullptr, false).value("pid", 0);
    auto procs_in = read_file(pids_dir + "/cgroup.procs");
    ASSERT_TRUE(procs_in);
    EXPECT_NE(("\n" + *procs_in).find("\n" + std::to_string(pid) + "\n"), std::string::npos) << *procs_in;

    ASSERT_EQ(as_user({"kill", id, "KILL"}).status, 0);
    RunResult r = p.wait(20s);
    EXPECT_EQ(r.status, 128 + 9) << r.describe();
    EXPECT_EQ(r.err.find("not delegated"), std::string::npos) << r.err;
    // `run` deleted the container: its cgroup is gone from every hierarchy, the parents stay.
    for (const std::string& dir : delegated_) {
        EXPECT_FALSE(fs::exists(dir + "/" + id)) << dir;
        EXPECT_TRUE(fs::exists(dir)) << dir;
    }
    EXPECT_FALSE(fs::exists(state_dir(id)));
}

// A rootless hrun under the hardened policy on an AppArmor host cannot load hrun-default (that
// needs root) and cannot read the kernel's profile list: with the profile loaded by root the
// container is confined by it; without, it runs unconfined after a warning that says why.
TEST_F(Rootless, AppArmorConfinesWhenRootLoadedTheProfileAndWarnsWhenNot) {
    if (trim(read_file("/sys/module/apparmor/parameters/enabled").value_or("N")) != "Y")
        GTEST_SKIP() << "AppArmor is not enabled on this host (the VM lane has it)";
    std::string parser;
    for (const char* p : {"/sbin/apparmor_parser", "/usr/sbin/apparmor_parser"})
        if (parser.empty() && ::access(p, X_OK) == 0) parser = p;
    if (parser.empty()) GTEST_SKIP() << "apparmor_parser is not installed (package apparmor)";
    const std::string profile = std::string(HRUN_SOURCE_DIR) + "/profiles/apparmor/hrun-default";
    bundle_->set_args({"/bin/cat", "/proc/self/attr/current"});

    RunResult load = run_command({parser, "-r", profile});
    ASSERT_EQ(load.status, 0) << load.describe();
    RunResult confined = run_as_user(unique_id());
    ASSERT_EQ(confined.status, 0) << confined.describe();
    EXPECT_EQ(confined.out, "hrun-default (enforce)\n") << confined.describe();
    EXPECT_EQ(confined.err.find("hrun-default"), std::string::npos) << confined.err;

    {
        std::ofstream remove("/sys/kernel/security/apparmor/.remove");
        remove << "hrun-default";
    }
    RunResult unconfined = run_as_user(unique_id());
    // Leave the profile loaded for whatever runs next, as a root hrun would.
    run_command({parser, "-r", profile});
    ASSERT_EQ(unconfined.status, 0) << unconfined.describe();
    EXPECT_EQ(unconfined.out, "unconfined\n") << unconfined.describe();
    EXPECT_NE(unconfined.err.find("hrun-default profile is not loaded and only root can load it"), std::string::npos)
        << unconfined.describe();
}

}  // namespace
}  // namespace hrun::itest
