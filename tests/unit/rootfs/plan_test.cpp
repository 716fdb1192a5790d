#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "linux/host.hpp"
#include "rootfs/rootfs.hpp"
#include "test_util.hpp"

namespace hrun::rootfs {
namespace {

using test::TempDir;

class Plan : public ::testing::Test {
protected:
    void SetUp() override {
        auto h = os::probe_host();
        ASSERT_TRUE(h.has_value()) << h.error().what();
        host_ = std::move(*h);
        bundle_.mkdirs("rootfs");
        spec_.root = spec::Root{"rootfs", false};
        spec_.linux = spec::Linux{};
        options_.bundle_dir = bundle_.path();
        ns_.new_mount = true;
    }

    Result<RootfsPlan> plan() { return plan_rootfs(spec_, options_, ns_, host_); }

    spec::Mount mount(std::string dest, std::string type, std::string source, std::vector<std::string> opts) {
        spec::Mount m;
        m.destination = std::move(dest);
        m.type = std::move(type);
        m.source = std::move(source);
        m.options = std::move(opts);
        return m;
    }

    void add_dev_mounts() {
        spec_.mounts.push_back(mount("/proc", "proc", "proc", {}));
        spec_.mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
        spec_.mounts.push_back(mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666"}));
    }

    void expect_error(const std::string& field, const std::string& message_part) {
        auto r = plan();
        ASSERT_FALSE(r.has_value()) << "expected an error on " << field;
        EXPECT_EQ(r.error().field, field) << r.error().what();
        EXPECT_NE(r.error().message.find(message_part), std::string::npos) << r.error().what();
    }

    os::HostContext host_;
    TempDir bundle_;
    spec::Spec spec_;
    RootfsOptions options_;
    NamespaceSummary ns_;
};

TEST_F(Plan, RootfsRelativeToTheBundle) {
    spec_.root->readonly = true;
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    char real[PATH_MAX];
    ASSERT_NE(::realpath((bundle_ / "rootfs").c_str(), real), nullptr);
    EXPECT_EQ(p->rootfs, real);
    EXPECT_TRUE(p->root_readonly);
    EXPECT_EQ(p->setup_propagation, static_cast<unsigned long>(MS_REC | MS_SLAVE));
    EXPECT_EQ(p->final_propagation, 0ul);
}

TEST_F(Plan, MissingRootfs) {
    spec_.root->path = "/x/rootfs";
    auto r = plan();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().what(), "root.path: \"/x/rootfs\" does not exist");
    spec_.root.reset();
    expect_error("root.path", "required");
}

TEST_F(Plan, RootfsMustBeADirectory) {
    bundle_.write("file", "x");
    spec_.root->path = "file";
    expect_error("root.path", "not a directory");
}

TEST_F(Plan, NeedsANewMountNamespace) {
    ns_.new_mount = false;
    expect_error("linux.namespaces", "mount namespace");
}

TEST_F(Plan, BindSources) {
    bundle_.write("data/file.txt", "x");
    spec_.mounts.push_back(mount("/data", "bind", "data", {"rbind", "ro"}));
    spec_.mounts.push_back(mount("/etc/file.txt", "none", bundle_ / "data/file.txt", {"bind"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    ASSERT_EQ(p->mounts.size(), 2u);
    EXPECT_EQ(p->mounts[0].kind, MountKind::kBind);
    EXPECT_EQ(p->mounts[0].source, bundle_ / "data");  // relative to the bundle
    EXPECT_TRUE(p->mounts[0].source_is_dir);
    EXPECT_TRUE(p->mounts[0].options.recursive);
    EXPECT_EQ(p->mounts[0].dest_field, "mounts[0].destination");
    EXPECT_EQ(p->mounts[1].kind, MountKind::kBind);
    EXPECT_FALSE(p->mounts[1].source_is_dir);
    EXPECT_FALSE(p->mounts[1].options.recursive);

    spec_.mounts.push_back(mount("/gone", "bind", "/no/such/source", {"bind"}));
    expect_error("mounts[2].source", "\"/no/such/source\" does not exist");
}

TEST_F(Plan, DestinationsAreCleaned) {
    spec_.mounts.push_back(mount("/tmp/../run//x/", "tmpfs", "", {}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(p->mounts[0].destination, "/run/x");
    EXPECT_EQ(p->mounts[0].source, "tmpfs");  // the type when no source is given
    EXPECT_TRUE(p->mounts[0].inherit_dir_mode);

    spec_.mounts.push_back(mount("/..", "tmpfs", "", {}));
    expect_error("mounts[1].destination", "root");
}

TEST_F(Plan, ProcDestinations) {
    spec_.mounts.push_back(mount("/proc", "proc", "proc", {}));
    spec_.mounts.push_back(mount("/proc/meminfo", "bind", "/proc/meminfo", {"bind"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->mounts[0].procfs_target_allowed);
    EXPECT_TRUE(p->mounts[1].procfs_target_allowed);

    spec_.mounts.push_back(mount("/proc/sys", "tmpfs", "tmpfs", {}));
    expect_error("mounts[2].destination", "inside /proc");
    spec_.mounts.pop_back();
    spec_.mounts.push_back(mount("/proc", "tmpfs", "tmpfs", {}));
    expect_error("mounts[2].destination", "proc filesystem");
}

TEST_F(Plan, MountTypeAndOptionErrors) {
    spec_.mounts.push_back(mount("/x", "", "", {}));
    expect_error("mounts[0].type", "required");
    spec_.mounts[0] = mount("/x", "proc", "", {"nosuid", "tmpcopyup"});
    expect_error("mounts[0].options", "tmpfs mounts only");
    spec_.mounts[0] = mount("/x", "bind", bundle_.path(), {"rbind"});
    spec_.mounts[0].uidMappings.push_back({0, 1000, 1});
    spec_.mounts[0].gidMappings.push_back({0, 1000, 1});
    expect_error("mounts[0].uidMappings", "new user namespace");
}

// ---- idmapped mounts ----

class IdmapPlanning : public Plan {
protected:
    void SetUp() override {
        Plan::SetUp();
        ns_.new_user = true;
        spec_.linux->uidMappings = {{0, 300000, 65536}};
        spec_.linux->gidMappings = {{0, 300000, 65536}};
    }
};

TEST_F(IdmapPlanning, OptionWithoutMappingsUsesTheContainersNamespace) {
    spec_.mounts.push_back(mount("/tmp", "tmpfs", "tmpfs", {}));
    spec_.mounts.push_back(mount("/data", "bind", bundle_.path(), {"rbind", "ro", "idmap"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->mounts[0].idmap.enabled);
    const IdmapPlan& idmap = p->mounts[1].idmap;
    EXPECT_TRUE(idmap.enabled);
    EXPECT_FALSE(idmap.recursive);  // "idmap" maps the top mount only
    EXPECT_TRUE(idmap.uid_map.empty());
    EXPECT_TRUE(idmap.gid_map.empty());
    EXPECT_EQ(idmap.slot, 0);
    EXPECT_EQ(p->premade_count, 1u);
    // The options stay the mount's: the parent applies them to the clone.
    EXPECT_TRUE(p->mounts[1].options.attrs.set & MOUNT_ATTR_RDONLY);
    EXPECT_TRUE(p->mounts[1].options.recursive);
}

TEST_F(IdmapPlanning, RidmapIsRecursive) {
    spec_.mounts.push_back(mount("/data", "none", bundle_.path(), {"rbind", "ridmap"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->mounts[0].idmap.enabled);
    EXPECT_TRUE(p->mounts[0].idmap.recursive);
}

TEST_F(IdmapPlanning, ExplicitMappingsGetTheirOwnMaps) {
    spec_.mounts.push_back(mount("/a", "bind", bundle_.path(), {"bind"}));
    spec_.mounts[0].uidMappings = {{0, 400000, 1000}, {1000, 1000, 1}};
    spec_.mounts[0].gidMappings = {{0, 400000, 1000}};
    // Mappings equal to the container's are the container's namespace.
    spec_.mounts.push_back(mount("/b", "bind", bundle_.path(), {"bind"}));
    spec_.mounts[1].uidMappings = spec_.linux->uidMappings;
    spec_.mounts[1].gidMappings = spec_.linux->gidMappings;
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->mounts[0].idmap.enabled);
    EXPECT_EQ(p->mounts[0].idmap.uid_map, "0 400000 1000\n1000 1000 1\n");
    EXPECT_EQ(p->mounts[0].idmap.gid_map, "0 400000 1000\n");
    EXPECT_EQ(p->mounts[0].idmap.reason, "uidMappings");
    EXPECT_TRUE(p->mounts[1].idmap.enabled);
    EXPECT_TRUE(p->mounts[1].idmap.uid_map.empty());
    EXPECT_EQ(p->mounts[0].idmap.slot, 0);
    EXPECT_EQ(p->mounts[1].idmap.slot, 1);
    EXPECT_EQ(p->premade_count, 2u);
}

TEST_F(IdmapPlanning, Errors) {
    spec_.mounts.push_back(mount("/x", "tmpfs", "tmpfs", {"nosuid", "idmap"}));
    expect_error("mounts[0].options[1]", "bind mounts only");
    spec_.mounts[0] = mount("/x", "proc", "proc", {});
    spec_.mounts[0].uidMappings = {{0, 1, 1}};
    spec_.mounts[0].gidMappings = {{0, 1, 1}};
    expect_error("mounts[0].uidMappings", "bind mounts only");
    spec_.mounts[0] = mount("/x", "bind", bundle_.path(), {"bind"});
    spec_.mounts[0].gidMappings = {{0, 1, 1}};
    expect_error("mounts[0].uidMappings", "go together");
    spec_.mounts[0] = mount("/x", "bind", bundle_.path(), {"bind", "ridmap"});
    ns_.new_user = false;
    expect_error("mounts[0].options[1]", "new user namespace");
}

TEST_F(IdmapPlanning, TooManyIdmappedMounts) {
    for (std::size_t i = 0; i <= kMaxPremadeMounts; ++i)
        spec_.mounts.push_back(mount("/m" + std::to_string(i), "bind", bundle_.path(), {"bind", "idmap"}));
    expect_error("mounts[" + std::to_string(kMaxPremadeMounts) + "]", "too many");
}

TEST_F(IdmapPlanning, RootfsAnnotation) {
    spec_.mounts.push_back(mount("/data", "bind", bundle_.path(), {"bind", "idmap"}));
    spec_.annotations[spec::kRootfsIdmapAnnotation] = "true";
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->rootfs_idmap.enabled);
    EXPECT_TRUE(p->rootfs_idmap.recursive);
    EXPECT_TRUE(p->rootfs_idmap.uid_map.empty());
    EXPECT_EQ(p->rootfs_idmap.slot, 0);  // the rootfs comes first
    EXPECT_EQ(p->mounts[0].idmap.slot, 1);
    EXPECT_EQ(p->premade_count, 2u);

    spec_.annotations[spec::kRootfsIdmapAnnotation] = "false";
    p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->rootfs_idmap.enabled);
    EXPECT_EQ(p->premade_count, 1u);

    spec_.annotations[spec::kRootfsIdmapAnnotation] = "yes";
    expect_error("annotations[\"org.hrun.rootfs.idmap\"]", "\"true\" or \"false\"");
    spec_.annotations[spec::kRootfsIdmapAnnotation] = "true";
    spec_.mounts.clear();
    ns_.new_user = false;
    expect_error("annotations[\"org.hrun.rootfs.idmap\"]", "new user namespace");
}

TEST_F(Plan, NoIdmapNoPremadeMounts) {
    spec_.mounts.push_back(mount("/data", "bind", bundle_.path(), {"rbind"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->mounts[0].idmap.enabled);
    EXPECT_EQ(p->mounts[0].idmap.slot, -1);
    EXPECT_FALSE(p->rootfs_idmap.enabled);
    EXPECT_EQ(p->premade_count, 0u);
}

TEST_F(Plan, DeferredReadOnly) {
    spec_.mounts.push_back(mount("/dev", "tmpfs", "tmpfs", {"ro", "mode=755"}));
    spec_.mounts.push_back(mount("/run", "tmpfs", "tmpfs", {"ro"}));
    spec_.mounts.push_back(mount("/sys", "sysfs", "sysfs", {"ro"}));
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->mounts[0].defer_readonly);
    EXPECT_FALSE(p->mounts[0].inherit_dir_mode);  // mode= given
    EXPECT_TRUE(p->mounts[1].defer_readonly);
    EXPECT_FALSE(p->mounts[2].defer_readonly);
    EXPECT_EQ(p->mounts[2].kind, MountKind::kSysfs);
    EXPECT_FALSE(p->mounts[2].sysfs_bind_host);
}

TEST_F(Plan, SysfsInAUserNamespaceWithoutNetworkNamespace) {
    spec_.mounts.push_back(mount("/sys", "sysfs", "sysfs", {"ro"}));
    ns_.new_user = true;
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->mounts[0].sysfs_bind_host);
    ns_.new_net = true;
    p = plan();
    ASSERT_TRUE(p.has_value());
    EXPECT_FALSE(p->mounts[0].sysfs_bind_host);
}

TEST_F(Plan, Propagation) {
    spec_.linux->rootfsPropagation = "rshared";
    auto p = plan();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->setup_propagation, static_cast<unsigned long>(MS_REC | MS_SLAVE));
    EXPECT_EQ(p->final_propagation, static_cast<unsigned long>(MS_REC | MS_SHARED));

    spec_.linux->rootfsPropagation = "rprivate";
    p = plan();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->setup_propagation, static_cast<unsigned long>(MS_REC | MS_PRIVATE));
    EXPECT_EQ(p->final_propagation, 0ul);

    spec_.linux->rootfsPropagation = "rslave";
    p = plan();
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->final_propagation, 0ul);

    spec_.linux->rootfsPropagation = "sideways";
    expect_error("linux.rootfsPropagation", "unknown propagation");
}

TEST_F(Plan, DefaultDevicesWithADevMount) {
    add_dev_mounts();
    spec::Device fuse;
    fuse.type = "c";
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    fuse.fileMode = 0600;
    fuse.uid = 7;
    spec::Device ptmx;
    ptmx.type = "c";
    ptmx.path = "/dev/ptmx";
    ptmx.major = 5;
    ptmx.minor = 2;
    spec_.linux->devices = {fuse, ptmx};
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();

    // fuse + the six defaults; /dev/ptmx becomes the pts/ptmx link instead.
    ASSERT_EQ(p->devices.size(), 7u);
    EXPECT_EQ(p->devices[0].path, "/dev/fuse");
    EXPECT_EQ(p->devices[0].field, "linux.devices[0].path");
    EXPECT_EQ(p->devices[0].mode, static_cast<mode_t>(S_IFCHR | 0600));
    EXPECT_EQ(p->devices[0].rdev, makedev(10, 229));
    EXPECT_EQ(p->devices[0].uid, 7u);
    EXPECT_FALSE(p->devices[0].bind);
    std::vector<std::string> paths;
    for (const auto& d : p->devices) paths.push_back(d.path);
    for (const char* want : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"})
        EXPECT_NE(std::find(paths.begin(), paths.end(), want), paths.end()) << want;
    EXPECT_EQ(std::find(paths.begin(), paths.end(), "/dev/ptmx"), paths.end());
    EXPECT_EQ(p->devices[1].field, "mounts[1]");  // the defaults are due to the /dev mount

    bool ptmx_link = false, fd_link = false;
    for (const auto& s : p->dev_symlinks) {
        if (s.path == "/dev/ptmx") ptmx_link = s.target == "pts/ptmx" && s.replace;
        if (s.path == "/dev/fd") fd_link = s.target == "/proc/self/fd";
    }
    EXPECT_TRUE(ptmx_link);
    EXPECT_TRUE(fd_link);
}

TEST_F(Plan, ConfigDeviceOverridesADefault) {
    add_dev_mounts();
    spec::Device null;
    null.type = "c";
    null.path = "/dev/null";
    null.major = 1;
    null.minor = 3;
    null.fileMode = 0644;
    spec_.linux->devices = {null};
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    int count = 0;
    for (const auto& d : p->devices)
        if (d.path == "/dev/null") {
            ++count;
            EXPECT_EQ(d.mode & 07777, 0644u);
        }
    EXPECT_EQ(count, 1);
}

TEST_F(Plan, NoDevMountStillCreatesConfigDevices) {
    spec::Device fifo;
    fifo.type = "p";
    fifo.path = "/dev/fifo";
    spec_.linux->devices = {fifo};
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    ASSERT_EQ(p->devices.size(), 1u);
    EXPECT_TRUE(S_ISFIFO(p->devices[0].mode));
    EXPECT_TRUE(p->dev_symlinks.empty());
}

TEST_F(Plan, HostDevBindGetsNothingCreated) {
    spec_.mounts.push_back(mount("/dev", "bind", "/dev", {"rbind"}));
    spec::Device fuse;
    fuse.type = "c";
    fuse.path = "/dev/fuse";
    fuse.major = 10;
    fuse.minor = 229;
    spec_.linux->devices = {fuse};
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_TRUE(p->devices.empty());
    EXPECT_TRUE(p->dev_symlinks.empty());
}

TEST_F(Plan, DeviceErrorsNameTheirField) {
    spec::Device bad;
    bad.type = "x";
    bad.path = "/dev/bad";
    spec_.linux->devices = {bad};
    expect_error("linux.devices[0].type", "unknown device type");
    spec_.linux->devices[0].type = "c";
    spec_.linux->devices[0].major = -1;
    expect_error("linux.devices[0].major", "out of range");
}

TEST_F(Plan, UserNamespaceBindsCheckedHostNodes) {
    add_dev_mounts();
    ns_.new_user = true;
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    struct stat st;
    ASSERT_EQ(::stat("/dev/null", &st), 0);
    bool seen = false;
    for (const auto& d : p->devices) {
        EXPECT_TRUE(d.bind) << d.path;
        if (d.path == "/dev/null") {
            seen = true;
            EXPECT_EQ(d.host_dev, st.st_dev);
            EXPECT_EQ(d.host_ino, st.st_ino);
        }
    }
    EXPECT_TRUE(seen);

    // The config says /dev/null is 1:5: the host node does not match.
    spec::Device wrong;
    wrong.type = "c";
    wrong.path = "/dev/null";
    wrong.major = 1;
    wrong.minor = 5;
    spec_.linux->devices = {wrong};
    expect_error("linux.devices[0].path", "is not c 1:5");
}

TEST_F(Plan, MaskedAndReadonlyPaths) {
    spec_.linux->maskedPaths = {"/proc/kcore", "/proc//keys/"};
    spec_.linux->readonlyPaths = {"/proc/sys"};
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    ASSERT_EQ(p->masked_paths.size(), 2u);
    EXPECT_EQ(p->masked_paths[1].field, "linux.maskedPaths[1]");
    EXPECT_EQ(p->masked_paths[1].path, "/proc/keys");
    EXPECT_EQ(p->readonly_paths[0].field, "linux.readonlyPaths[0]");
    struct stat st;
    ASSERT_EQ(::stat("/dev/null", &st), 0);
    EXPECT_EQ(p->devnull_ino, st.st_ino);

    spec_.linux->readonlyPaths = {"/proc/sys", ""};
    expect_error("linux.readonlyPaths[1]", "empty");
}

TEST_F(Plan, CgroupMountFollowsTheHostLayout) {
    spec_.mounts.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid"}));
    auto p = plan();
    if (!p && p.error().err == ENOENT) GTEST_SKIP() << "no cgroup hierarchy on this host: " << p.error().what();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(p->mounts[0].kind, MountKind::kCgroup);
    EXPECT_EQ(p->mounts[0].cgroup_v1_tree, !p->cgroups.v2_only);
    ASSERT_FALSE(p->cgroups.hierarchies.empty());
    for (const auto& h : p->cgroups.hierarchies) {
        EXPECT_TRUE(h.host_mount.starts_with("/sys/fs/cgroup")) << h.host_mount;
        EXPECT_GE(h.hierarchy_id, 0);
        struct stat st;
        EXPECT_EQ(::stat(h.host_mount.c_str(), &st), 0) << h.host_mount;
    }
}

TEST_F(Plan, NoPivotListsHostPseudoFilesystems) {
    options_.no_pivot = true;
    auto p = plan();
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_NE(std::find(p->host_pseudo_fs.begin(), p->host_pseudo_fs.end(), "/proc"), p->host_pseudo_fs.end());
    for (const auto& m : p->host_pseudo_fs) EXPECT_FALSE(m.starts_with(p->rootfs)) << m;
}

}  // namespace
}  // namespace hrun::rootfs
