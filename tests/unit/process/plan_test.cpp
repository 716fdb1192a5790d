// plan_process: what the parent computes from process.* before clone.
#include <gtest/gtest.h>
#include <linux/ioprio.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "process/process.hpp"
#include "process/process_internal.hpp"
#include "process_test_util.hpp"

namespace hrun::process {
namespace {

using test::fake_host;
using test::minimal_spec;

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

ProcessPlan plan_ok(const spec::Spec& s, const os::HostContext& host = fake_host(),
                    const ProcessOptions& options = {}) {
    auto plan = plan_process(s, options, host);
    EXPECT_TRUE(plan.has_value()) << plan.error().what();
    return plan ? std::move(*plan) : ProcessPlan{};
}

Error plan_error(const spec::Spec& s, const os::HostContext& host = fake_host()) {
    auto plan = plan_process(s, {}, host);
    EXPECT_FALSE(plan.has_value()) << "planned although it should not have";
    return plan ? Error{} : plan.error();
}

std::vector<std::string> strings_of(char* const* array) {
    std::vector<std::string> out;
    for (; *array != nullptr; ++array) out.emplace_back(*array);
    return out;
}

// --- capabilities ---

TEST(PlanCapabilities, NamesBecomeMasksAndCapsetData) {
    auto s = minimal_spec();
    s.process->capabilities = spec::Capabilities{
        .bounding = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_AUDIT_READ"},
        .effective = {"CAP_NET_BIND_SERVICE", "CAP_AUDIT_READ"},
        .inheritable = {"CAP_NET_BIND_SERVICE"},
        .permitted = {"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN", "CAP_AUDIT_READ"},
        .ambient = {"CAP_NET_BIND_SERVICE"},
    };
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(plan.caps.bounding, bit(0) | bit(10) | bit(21) | bit(37));
    EXPECT_EQ(plan.caps.effective, bit(10) | bit(37));
    EXPECT_EQ(plan.caps.permitted, bit(10) | bit(21) | bit(37));
    EXPECT_EQ(plan.caps.inheritable, bit(10));
    EXPECT_EQ(plan.caps.ambient, bit(10));
    EXPECT_EQ(plan.cap_last_cap, 40);

    EXPECT_EQ(plan.cap_header.version, static_cast<uint32_t>(_LINUX_CAPABILITY_VERSION_3));
    EXPECT_EQ(plan.cap_header.pid, 0);
    EXPECT_EQ(plan.cap_data[0].effective, 1u << 10);
    EXPECT_EQ(plan.cap_data[1].effective, 1u << (37 - 32));
    EXPECT_EQ(plan.cap_data[0].permitted, (1u << 10) | (1u << 21));
    EXPECT_EQ(plan.cap_data[1].permitted, 1u << (37 - 32));
    EXPECT_EQ(plan.cap_data[0].inheritable, 1u << 10);
    EXPECT_EQ(plan.cap_data[1].inheritable, 0u);
}

TEST(PlanCapabilities, CapabilitiesUnknownToTheKernelAreIgnored) {
    auto s = minimal_spec();
    // CAP_PERFMON = 38, CAP_BPF = 39, CAP_CHECKPOINT_RESTORE = 40: libcap knows all three.
    s.process->capabilities = spec::Capabilities{
        .bounding = {"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_KILL"},
        .effective = {"CAP_BPF"},
        .permitted = {"CAP_BPF", "CAP_KILL"},
    };
    ProcessPlan plan = plan_ok(s, fake_host(38));
    EXPECT_EQ(plan.caps.bounding, bit(38) | bit(5));
    EXPECT_EQ(plan.caps.effective, 0u);
    EXPECT_EQ(plan.caps.permitted, bit(5));
    EXPECT_EQ(plan.cap_last_cap, 38);
}

TEST(PlanCapabilities, UnknownNameIsAnErrorNamingTheEntry) {
    auto s = minimal_spec();
    s.process->capabilities = spec::Capabilities{.permitted = {"CAP_KILL", "CAP_FLY"}};
    Error e = plan_error(s);
    EXPECT_EQ(e.field, "process.capabilities.permitted[1]");
    EXPECT_NE(e.message.find("CAP_FLY"), std::string::npos) << e.message;
}

TEST(PlanCapabilities, EffectiveMustBePermitted) {
    auto s = minimal_spec();
    s.process->capabilities =
        spec::Capabilities{.effective = {"CAP_KILL", "CAP_CHOWN"}, .permitted = {"CAP_KILL"}};
    Error e = plan_error(s);
    EXPECT_EQ(e.field, "process.capabilities.effective[1]");
}

TEST(PlanCapabilities, AmbientOutsidePermittedAndInheritableIsNotRaised) {
    auto s = minimal_spec();
    s.process->capabilities = spec::Capabilities{
        .inheritable = {"CAP_KILL"},
        .permitted = {"CAP_KILL", "CAP_CHOWN"},
        .ambient = {"CAP_KILL", "CAP_CHOWN"},
    };
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(plan.caps.ambient, bit(5));  // CAP_KILL; CAP_CHOWN is not inheritable
}

TEST(PlanCapabilities, NoCapabilitiesObjectMeansEverySetEmpty) {
    ProcessPlan plan = plan_ok(minimal_spec());
    EXPECT_EQ(plan.caps.bounding, 0u);
    EXPECT_EQ(plan.caps.effective, 0u);
    EXPECT_EQ(plan.caps.permitted, 0u);
    EXPECT_EQ(plan.caps.inheritable, 0u);
    EXPECT_EQ(plan.caps.ambient, 0u);
    EXPECT_EQ(plan.cap_data[0].permitted, 0u);
}

TEST(PlanCapabilities, NoNewPrivilegesIsCarried) {
    auto s = minimal_spec();
    EXPECT_FALSE(plan_ok(s).no_new_privileges);
    s.process->noNewPrivileges = true;
    EXPECT_TRUE(plan_ok(s).no_new_privileges);
}

// --- command and environment ---

TEST(PlanCommand, ArgvAndEnvpAreNullTerminatedCopies) {
    auto s = minimal_spec({"/bin/busybox", "sh", "-c", "echo hi"});
    s.process->env = {"A=1", "PATH=/opt/bin", "HOME=/root"};
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(strings_of(plan.args.data()), s.process->args);
    EXPECT_EQ(plan.args.data()[4], nullptr);
    EXPECT_EQ(strings_of(plan.env.data()), s.process->env);
    EXPECT_EQ(plan.path_search, "/opt/bin");
    EXPECT_EQ(plan.cwd, "/");
}

TEST(PlanCommand, HomeAndPathDefaultsAreAdded) {
    auto s = minimal_spec();
    s.process->env = {"TERM=xterm"};
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(strings_of(plan.env.data()),
              (std::vector<std::string>{
                  "TERM=xterm", "HOME=/",
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}));
    EXPECT_EQ(plan.path_search, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST(PlanCommand, RepeatedVariableKeepsItsFirstPlaceAndLastValue) {
    auto s = minimal_spec();
    s.process->env = {"A=1", "HOME=/h", "B=2", "A=3", "PATH=/x"};
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(strings_of(plan.env.data()),
              (std::vector<std::string>{"A=3", "HOME=/h", "B=2", "PATH=/x"}));
}

TEST(PlanCommand, MalformedEnvironmentEntryIsAnError) {
    auto s = minimal_spec();
    s.process->env = {"A=1", "JUSTANAME"};
    EXPECT_EQ(plan_error(s).field, "process.env[1]");
    s.process->env = {"=value"};
    EXPECT_EQ(plan_error(s).field, "process.env[0]");
}

TEST(PlanCommand, ArgsAndCwdAreChecked) {
    auto s = minimal_spec({});
    EXPECT_EQ(plan_error(s).field, "process.args");
    s = minimal_spec({""});
    EXPECT_EQ(plan_error(s).field, "process.args[0]");
    s = minimal_spec({"/bin/true", std::string("a\0b", 3)});
    EXPECT_EQ(plan_error(s).field, "process.args[1]");
    s = minimal_spec();
    s.process->cwd = "tmp";
    EXPECT_EQ(plan_error(s).field, "process.cwd");
    s.process.reset();
    EXPECT_EQ(plan_error(s).field, "process");
}

TEST(PlanCommand, CopiedPlanPointsIntoItsOwnStrings) {
    auto s = minimal_spec({"/bin/busybox", "echo", "a-long-enough-argument-to-live-on-the-heap"});
    auto original = std::make_unique<ProcessPlan>(plan_ok(s));
    ProcessPlan copy = *original;
    char* const* argv = copy.args.data();
    EXPECT_EQ(argv[2], copy.args.strings()[2].data());
    EXPECT_NE(argv[2], original->args.strings()[2].data());
    original.reset();
    EXPECT_STREQ(copy.args.data()[2], "a-long-enough-argument-to-live-on-the-heap");
    EXPECT_STREQ(copy.env.data()[0], "PATH=/bin:/usr/bin:/sbin:/usr/sbin");
    ProcessPlan moved = std::move(copy);
    EXPECT_STREQ(moved.args.data()[2], "a-long-enough-argument-to-live-on-the-heap");
}

class TempDir {
public:
    TempDir() {
        char tmpl[] = "/tmp/hrun-process-test-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) ADD_FAILURE() << "mkdtemp failed";
        path_ = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    const std::string& path() const { return path_; }
    void write(const std::string& rel, const std::string& text) const {
        std::filesystem::create_directories(std::filesystem::path(path_ + "/" + rel).parent_path());
        std::ofstream(path_ + "/" + rel) << text;
    }

private:
    std::string path_;
};

TEST(PlanCommand, HomeComesFromTheContainersPasswd) {
    TempDir bundle;
    bundle.write("rootfs/etc/passwd",
                 "root:x:0:0:root:/root:/bin/sh\n"
                 "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                 "app:x:1000:1000:App,,,:/home/app:/bin/sh\n");
    auto s = minimal_spec();
    s.root = spec::Root{"rootfs", false};
    s.process->user.uid = 1000;
    auto host = fake_host();
    ProcessPlan plan = plan_ok(s, host, ProcessOptions{0, bundle.path()});
    EXPECT_EQ(strings_of(plan.env.data())[1], "HOME=/home/app");

    s.process->user.uid = 4242;  // no entry
    plan = plan_ok(s, host, ProcessOptions{0, bundle.path()});
    EXPECT_EQ(strings_of(plan.env.data())[1], "HOME=/");

    s.root = spec::Root{bundle.path() + "/rootfs", false};  // absolute root.path
    s.process->user.uid = 0;
    plan = plan_ok(s, host);
    EXPECT_EQ(strings_of(plan.env.data())[1], "HOME=/root");
}

TEST(PlanCommand, PasswdSymlinkStaysInsideTheRootfs) {
    TempDir bundle;
    // /etc/passwd -> /hrun-passwd: in the container that is <rootfs>/hrun-passwd, not the host's.
    bundle.write("rootfs/hrun-passwd", "app:x:1000:1000::/inside:/bin/sh\n");
    std::filesystem::create_directories(bundle.path() + "/rootfs/etc");
    std::filesystem::create_symlink("/hrun-passwd", bundle.path() + "/rootfs/etc/passwd");
    auto s = minimal_spec();
    s.root = spec::Root{bundle.path() + "/rootfs", false};
    s.process->user.uid = 1000;
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(strings_of(plan.env.data())[1], "HOME=/inside");
}

TEST(Passwd, HomeLookup) {
    const std::string passwd =
        "root:x:0:0:root:/root:/bin/bash\n"
        "broken line\n"
        "nohome:x:7:7::\n"
        "bad:x:12x:1::/nope:/bin/sh\n"
        "u:x:1000:1000::/home/u:/bin/sh\n"
        "dup:x:1000:1000::/home/dup:/bin/sh\n"
        "last:x:65534:65534::/nonexistent:/bin/false";
    EXPECT_EQ(home_from_passwd(passwd, 0), "/root");
    EXPECT_EQ(home_from_passwd(passwd, 1000), "/home/u");
    EXPECT_EQ(home_from_passwd(passwd, 65534), "/nonexistent");
    EXPECT_EQ(home_from_passwd(passwd, 7), std::nullopt);
    EXPECT_EQ(home_from_passwd(passwd, 12), std::nullopt);
    EXPECT_EQ(home_from_passwd("", 0), std::nullopt);
}

// --- user ---

TEST(PlanCredentials, UserIdsAndGroups) {
    auto s = minimal_spec();
    s.process->user.uid = 1000;
    s.process->user.gid = 1001;
    s.process->user.additionalGids = {10, 20};
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(plan.uid, 1000u);
    EXPECT_EQ(plan.gid, 1001u);
    EXPECT_EQ(plan.additional_gids, (std::vector<gid_t>{10, 20}));
    EXPECT_TRUE(plan.set_groups);
}

TEST(PlanCredentials, UnprivilegedUserNamespaceCannotSetGroups) {
    auto s = minimal_spec();
    s.linux.emplace();
    s.linux->namespaces = {{"user", ""}, {"mount", ""}};
    auto host = fake_host();
    host.euid = 1000;
    EXPECT_FALSE(plan_ok(s, host).set_groups);
    s.process->user.additionalGids = {5};
    auto plan = plan_process(s, {}, host);
    ASSERT_FALSE(plan.has_value());
    EXPECT_EQ(plan.error().field, "process.user.additionalGids");
    host.euid = 0;
    EXPECT_TRUE(plan_ok(s, host).set_groups);
}

// --- limits ---

TEST(PlanLimits, RlimitsUmaskAndOomScore) {
    auto s = minimal_spec();
    s.process->rlimits = {{"RLIMIT_NOFILE", 200, 100}, {"RLIMIT_CORE", RLIM_INFINITY, 0}};
    s.process->user.umask = 027;
    s.process->oomScoreAdj = -17;
    ProcessPlan plan = plan_ok(s);
    ASSERT_EQ(plan.rlimits.size(), 2u);
    EXPECT_EQ(plan.rlimits[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ(plan.rlimits[0].soft, 100u);
    EXPECT_EQ(plan.rlimits[0].hard, 200u);
    EXPECT_EQ(plan.rlimits[0].field, "process.rlimits[0]");
    EXPECT_EQ(plan.rlimits[1].resource, RLIMIT_CORE);
    EXPECT_EQ(plan.rlimits[1].hard, RLIM_INFINITY);
    EXPECT_EQ(plan.umask, 027u);
    EXPECT_EQ(plan.oom_score_adj, -17);
}

TEST(PlanLimits, Defaults) {
    ProcessPlan plan = plan_ok(minimal_spec());
    EXPECT_TRUE(plan.rlimits.empty());
    EXPECT_EQ(plan.umask, 022u);
    EXPECT_FALSE(plan.oom_score_adj);
    EXPECT_FALSE(plan.scheduler);
    EXPECT_FALSE(plan.io_priority);
    EXPECT_FALSE(plan.personality);
}

TEST(PlanLimits, BadRlimitsAreErrors) {
    auto s = minimal_spec();
    s.process->rlimits = {{"RLIMIT_NOFILE", 10, 10}, {"RLIMIT_FLOPS", 1, 1}};
    EXPECT_EQ(plan_error(s).field, "process.rlimits[1].type");
    s.process->rlimits = {{"RLIMIT_NOFILE", 10, 10}, {"RLIMIT_NOFILE", 20, 20}};
    EXPECT_EQ(plan_error(s).field, "process.rlimits[1].type");
    s.process->rlimits = {{"RLIMIT_NOFILE", 10, 20}};
    EXPECT_EQ(plan_error(s).field, "process.rlimits[0]");
}

TEST(PlanLimits, OutOfRangeValuesAreErrors) {
    auto s = minimal_spec();
    s.process->oomScoreAdj = 1001;
    EXPECT_EQ(plan_error(s).field, "process.oomScoreAdj");
    s = minimal_spec();
    s.process->user.umask = 01000;
    EXPECT_EQ(plan_error(s).field, "process.user.umask");
}

TEST(PlanLimits, SchedulerBecomesSchedAttr) {
    auto s = minimal_spec();
    s.process->scheduler = spec::Scheduler{.policy = "SCHED_DEADLINE",
                                           .flags = {"SCHED_FLAG_RESET_ON_FORK",
                                                     "SCHED_FLAG_RECLAIM"},
                                           .runtime = 10000000,
                                           .deadline = 30000000,
                                           .period = 30000000};
    ProcessPlan plan = plan_ok(s);
    ASSERT_TRUE(plan.scheduler);
    EXPECT_EQ(plan.scheduler->size, sizeof(SchedAttr));
    EXPECT_EQ(plan.scheduler->sched_policy, 6u);
    EXPECT_EQ(plan.scheduler->sched_flags, 0x03u);
    EXPECT_EQ(plan.scheduler->sched_runtime, 10000000u);
    EXPECT_EQ(plan.scheduler->sched_deadline, 30000000u);
    EXPECT_EQ(plan.scheduler->sched_period, 30000000u);

    s.process->scheduler = spec::Scheduler{.policy = "SCHED_BATCH", .nice = 5};
    plan = plan_ok(s);
    EXPECT_EQ(plan.scheduler->sched_policy, 3u);
    EXPECT_EQ(plan.scheduler->sched_nice, 5);

    s.process->scheduler = spec::Scheduler{.policy = "SCHED_FAST"};
    EXPECT_EQ(plan_error(s).field, "process.scheduler.policy");
    s.process->scheduler = spec::Scheduler{.policy = "SCHED_OTHER", .flags = {"SCHED_FLAG_NOPE"}};
    EXPECT_EQ(plan_error(s).field, "process.scheduler.flags[0]");
}

TEST(PlanLimits, IoPriorityAndPersonality) {
    auto s = minimal_spec();
    s.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_IDLE", 7};
    s.linux.emplace();
    s.linux->personality = spec::Personality{"LINUX32", {}};
    ProcessPlan plan = plan_ok(s);
    EXPECT_EQ(plan.io_priority, (IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) | 7);
    EXPECT_EQ(plan.personality, static_cast<unsigned long>(PER_LINUX32));

    s.linux->personality = spec::Personality{"LINUX", {}};
    EXPECT_EQ(plan_ok(s).personality, static_cast<unsigned long>(PER_LINUX));
    s.linux->personality = spec::Personality{"WINDOWS", {}};
    EXPECT_EQ(plan_error(s).field, "linux.personality.domain");
    s.linux->personality.reset();
    s.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_BE", 8};
    EXPECT_EQ(plan_error(s).field, "process.ioPriority.priority");
    s.process->ioPriority = spec::IoPriority{"IOPRIO_CLASS_NONE", 0};
    EXPECT_EQ(plan_error(s).field, "process.ioPriority.class");
}

// --- LSM ---

TEST(PlanLsm, AppArmorProfileWithoutAppArmorIsAnError) {
    auto s = minimal_spec();
    s.process->apparmorProfile = "hrun-default";
    auto host = fake_host();
    host.apparmor = false;
    EXPECT_EQ(plan_error(s, host).what(),
              "process.apparmorProfile: AppArmor is not enabled on this host");
}

TEST(PlanLsm, SelinuxLabelWithoutSelinuxIsAnError) {
    auto s = minimal_spec();
    s.process->selinuxLabel = "system_u:system_r:container_t:s0";
    auto host = fake_host();
    host.selinux = false;
    EXPECT_EQ(plan_error(s, host).what(),
              "process.selinuxLabel: SELinux is not enabled on this host");
}

TEST(PlanLsm, ThisHostsLsmsMatchWhatPlanningSays) {
    auto host = os::probe_host();
    ASSERT_TRUE(host.has_value()) << host.error().what();
    auto s = minimal_spec();
    s.process->apparmorProfile = "hrun-default";
    EXPECT_EQ(plan_process(s, {}, *host).has_value(), host->apparmor);
    s.process->apparmorProfile.clear();
    s.process->selinuxLabel = "system_u:system_r:container_t:s0";
    EXPECT_EQ(plan_process(s, {}, *host).has_value(), host->selinux);
}

TEST(PlanLsm, LabelsAreReadyToWrite) {
    if (::access("/sys/kernel/security/apparmor/profiles", F_OK) == 0)
        GTEST_SKIP() << "AppArmor's profile list exists here: the profile would be checked";
    auto s = minimal_spec();
    s.process->apparmorProfile = "hrun-default";
    s.process->selinuxLabel = "system_u:system_r:container_t:s0";
    auto host = fake_host();
    host.apparmor = true;
    host.selinux = true;
    ProcessPlan plan = plan_ok(s, host);
    EXPECT_EQ(plan.apparmor_exec, "exec hrun-default");
    EXPECT_EQ(plan.selinux_label, "system_u:system_r:container_t:s0");
}

TEST(PlanLsm, AppArmorProfileList) {
    const std::string list =
        "docker-default (enforce)\n"
        "/usr/bin/man (enforce)\n"
        "name with spaces (complain)\n";
    EXPECT_TRUE(apparmor_profile_listed(list, "docker-default"));
    EXPECT_TRUE(apparmor_profile_listed(list, "/usr/bin/man"));
    EXPECT_TRUE(apparmor_profile_listed(list, "name with spaces"));
    EXPECT_FALSE(apparmor_profile_listed(list, "docker"));
    EXPECT_FALSE(apparmor_profile_listed(list, "enforce"));
    EXPECT_FALSE(apparmor_profile_listed("", "docker-default"));
}

TEST(PlanOptions, PreserveFdsIsCarriedAndMustNotBeNegative) {
    auto s = minimal_spec();
    EXPECT_EQ(plan_ok(s, fake_host(), ProcessOptions{3, ""}).preserve_fds, 3);
    EXPECT_FALSE(plan_process(s, ProcessOptions{-1, ""}, fake_host()).has_value());
}

}  // namespace
}  // namespace hrun::process
