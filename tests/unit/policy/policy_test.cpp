#include "policy/policy.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <cerrno>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../security/bpf_interpreter.hpp"
#include "security/seccomp.hpp"
#include "spec/spec_io.hpp"

namespace hrun::policy {
namespace {

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;

const std::vector<std::string> kDefaultBounding = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};

security::SeccompProgram compiled(const std::vector<std::string>& bounding) {
    auto profile = default_seccomp_profile(bounding);
    EXPECT_TRUE(profile.has_value()) << (profile ? "" : profile.error().message);
    if (!profile) return {};
    auto program = security::compile_seccomp(*profile);
    EXPECT_TRUE(program.has_value()) << (program ? "" : program.error().message);
    return program ? *program : security::SeccompProgram{};
}

uint32_t verdict(const security::SeccompProgram& p, int nr, std::vector<uint64_t> args = {},
                 uint32_t arch = AUDIT_ARCH_X86_64) {
    return security::test::run_bpf(p.filter, security::test::syscall_data(arch, nr, std::move(args)))
        .value_or(0xdeadbeef);
}

nlohmann::json profile_json() {
    std::ifstream in(HRUN_SOURCE_DIR "/profiles/seccomp/default.json");
    return nlohmann::json::parse(in, nullptr, false);
}

// The profile as the JSON says it, for a bounding set: rules filtered by whenCapability and
// unlessCapability, hrun's own keys dropped, read by the spec parser. The built-in table must
// give exactly this.
spec::Seccomp profile_from_json(const std::vector<std::string>& bounding) {
    nlohmann::json doc = profile_json();
    auto holds_any = [&](const nlohmann::json& caps) {
        for (const auto& c : caps)
            if (std::find(bounding.begin(), bounding.end(), c.get<std::string>()) != bounding.end()) return true;
        return false;
    };
    nlohmann::json kept = nlohmann::json::array();
    for (auto entry : doc["syscalls"]) {
        if (entry.contains("whenCapability") && !holds_any(entry["whenCapability"])) continue;
        if (entry.contains("unlessCapability") && holds_any(entry["unlessCapability"])) continue;
        for (const char* key : {"whenCapability", "unlessCapability", "comment"}) entry.erase(key);
        kept.push_back(entry);
    }
    doc["syscalls"] = kept;
    doc.erase("comment");
    auto parsed = spec::parse_spec(nlohmann::json{{"ociVersion", "1.2.0"}, {"linux", {{"seccomp", doc}}}}.dump());
    EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
    return parsed && parsed->linux && parsed->linux->seccomp ? *parsed->linux->seccomp : spec::Seccomp{};
}

TEST(DefaultSeccompProfile, TheBuiltInTableIsTheJsonProfile) {
    // Every capability any whenCapability or unlessCapability names, and then some.
    std::vector<std::string> all = kDefaultBounding;
    const nlohmann::json doc = profile_json();  // kept: a loop over a temporary's member would dangle
    for (const auto& entry : doc["syscalls"])
        for (const char* key : {"whenCapability", "unlessCapability"})
            for (const auto& cap : entry.value(key, nlohmann::json::array())) all.push_back(cap.get<std::string>());
    for (const auto& bounding : {std::vector<std::string>{}, kDefaultBounding, all,
                                 std::vector<std::string>{"CAP_SYS_ADMIN"}, std::vector<std::string>{"CAP_SYS_PTRACE"}}) {
        auto built_in = default_seccomp_profile(bounding);
        ASSERT_TRUE(built_in.has_value()) << built_in.error().message;
        const spec::Seccomp expected = profile_from_json(bounding);
        EXPECT_FALSE(expected.syscalls.empty());
        EXPECT_EQ(*built_in, expected) << "bounding set of " << bounding.size() << ": rebuild, or the table generator "
                                          "dropped something from profiles/seccomp/default.json";
    }
}

TEST(DefaultSeccompProfile, NamesEveryX86_64SyscallTheLibraryKnows) {
    // Written from the syscall table: every syscall is allowed, gated or denied with a reason,
    // none forgotten.
    const auto doc = profile_json();
    std::set<std::string> named;
    for (const auto& entry : doc["syscalls"]) {
        EXPECT_TRUE(entry.contains("comment")) << entry.dump().substr(0, 200);
        for (const auto& n : entry["names"]) named.insert(n.get<std::string>());
    }
    int checked = 0;
    for (int nr = 0; nr < 1024; ++nr) {
        char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
        if (!name) continue;
        EXPECT_TRUE(named.count(name)) << name << " (" << nr << ") is not in profiles/seccomp/default.json";
        std::free(name);
        ++checked;
    }
    EXPECT_GT(checked, 350);
}

TEST(DefaultSeccompProfile, OrdinaryWorkloadSyscallsAreAllowed) {
    const auto p = compiled(kDefaultBounding);
    for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_close, SYS_mmap, SYS_execve, SYS_wait4,
                   SYS_socket, SYS_connect, SYS_futex, SYS_rt_sigaction, SYS_getdents64, SYS_pipe2,
                   SYS_exit_group, SYS_statx})
        EXPECT_EQ(verdict(p, nr), kAllow) << "syscall " << nr;
}

TEST(DefaultSeccompProfile, HostChangingCallsFailWithEperm) {
    const auto p = compiled(kDefaultBounding);
    for (int nr : {SYS_mount, SYS_umount2, SYS_pivot_root, SYS_unshare, SYS_setns, SYS_init_module,
                   SYS_finit_module, SYS_kexec_load, SYS_reboot, SYS_swapon, SYS_acct, SYS_quotactl,
                   SYS_settimeofday, SYS_clock_settime, SYS_keyctl, SYS_add_key, SYS_bpf,
                   SYS_perf_event_open, SYS_userfaultfd, SYS_io_uring_setup, SYS_open_by_handle_at,
                   SYS_name_to_handle_at, SYS_ptrace, SYS_process_vm_readv, SYS_iopl, SYS_ioperm,
                   SYS_lookup_dcookie, SYS_fsopen, SYS_move_mount, SYS_open_tree, SYS_modify_ldt})
        EXPECT_EQ(verdict(p, nr), kEperm) << "syscall " << nr;
}

TEST(DefaultSeccompProfile, CloneMayNotCreateNamespacesAndClone3FallsBack) {
    const auto p = compiled(kDefaultBounding);
    EXPECT_EQ(verdict(p, SYS_clone, {0x3d0f00 /* a thread's flags */}), kAllow);
    EXPECT_EQ(verdict(p, SYS_clone, {0x10000000 /* CLONE_NEWUSER */}), kEperm);
    EXPECT_EQ(verdict(p, SYS_clone, {0x20000000 | 0x11 /* CLONE_NEWPID|SIGCHLD */}), kEperm);
    EXPECT_EQ(verdict(p, SYS_clone3), kEnosys) << "libcs fall back to clone on ENOSYS";
}

TEST(DefaultSeccompProfile, PersonalityOnlyForTheSafeDomains) {
    const auto p = compiled(kDefaultBounding);
    EXPECT_EQ(verdict(p, SYS_personality, {0}), kAllow);
    EXPECT_EQ(verdict(p, SYS_personality, {0xffffffff}), kAllow);
    EXPECT_EQ(verdict(p, SYS_personality, {0x0400000 /* READ_IMPLIES_EXEC */}), kEperm);
    EXPECT_EQ(verdict(p, SYS_personality, {0x0040000 /* ADDR_NO_RANDOMIZE */}), kEperm);
}

TEST(DefaultSeccompProfile, SyscallsNewerThanTheListGetEnosys) {
    const auto p = compiled(kDefaultBounding);
    EXPECT_EQ(verdict(p, 900), kEnosys);
}

TEST(DefaultSeccompProfile, CapabilitiesInTheBoundingSetUnlockTheirSyscalls) {
    std::vector<std::string> bounding = kDefaultBounding;
    bounding.push_back("CAP_SYS_ADMIN");
    bounding.push_back("CAP_SYS_PTRACE");
    const auto p = compiled(bounding);
    EXPECT_EQ(verdict(p, SYS_mount), kAllow);
    EXPECT_EQ(verdict(p, SYS_unshare), kAllow);
    EXPECT_EQ(verdict(p, SYS_clone, {0x10000000}), kAllow);
    EXPECT_EQ(verdict(p, SYS_clone3), kAllow);
    EXPECT_EQ(verdict(p, SYS_ptrace), kAllow);
    EXPECT_EQ(verdict(p, SYS_init_module), kEperm) << "CAP_SYS_MODULE is still missing";
    EXPECT_EQ(verdict(p, SYS_keyctl), kEperm) << "denied whatever the capabilities";
}

TEST(DefaultSeccompProfile, ThirtyTwoBitCallsAreFilteredToo) {
    const auto p = compiled(kDefaultBounding);
    EXPECT_EQ(verdict(p, 102 /* i386 socketcall */, {}, AUDIT_ARCH_I386), kAllow);
    EXPECT_EQ(verdict(p, 21 /* i386 mount */, {}, AUDIT_ARCH_I386), kEperm);
}

spec::Spec plain_spec() {
    spec::Spec s;
    s.ociVersion = "1.2.0";
    s.process.emplace();
    s.process->args = {"sh"};
    s.process->capabilities.emplace().bounding = kDefaultBounding;
    return s;
}

TEST(ApplyPolicy, OciChangesNothing) {
    spec::Spec s = plain_spec();
    const spec::Spec before = s;
    auto applied = apply_policy(s, Policy::Oci, HostSecurity{true});
    ASSERT_TRUE(applied);
    EXPECT_TRUE(applied->empty());
    EXPECT_EQ(s, before);
}

TEST(ApplyPolicy, HardenedFillsWhatIsUnsetAndSaysSo) {
    spec::Spec s = plain_spec();
    auto applied = apply_policy(s, Policy::Hardened, HostSecurity{false});
    ASSERT_TRUE(applied);
    ASSERT_TRUE(s.linux && s.linux->seccomp);
    EXPECT_EQ(s.linux->seccomp->defaultAction, "SCMP_ACT_ERRNO");
    EXPECT_TRUE(s.process->noNewPrivileges);
    EXPECT_TRUE(s.process->apparmorProfile.empty()) << "no AppArmor on the host: no label";
    ASSERT_EQ(applied->size(), 2u);
    EXPECT_EQ((*applied)[0].field, "linux.seccomp");
    EXPECT_EQ((*applied)[1].field, "process.noNewPrivileges");
}

TEST(ApplyPolicy, TheFilledDefaultConfigIsStillValid) {
    spec::Spec s = spec::default_spec(spec::DefaultSpecOptions{});
    ASSERT_TRUE(apply_policy(s, Policy::Hardened, HostSecurity{true}));
    auto valid = spec::validate_spec(s);
    EXPECT_TRUE(valid.has_value()) << valid.error().field << ": " << valid.error().message;
}

TEST(ApplyPolicy, HardenedKeepsWhatTheConfigSets) {
    spec::Spec s = plain_spec();
    s.process->noNewPrivileges = true;
    s.process->apparmorProfile = "my-profile";
    s.linux.emplace().seccomp.emplace().defaultAction = "SCMP_ACT_ALLOW";
    auto applied = apply_policy(s, Policy::Hardened, HostSecurity{true});
    ASSERT_TRUE(applied);
    EXPECT_TRUE(applied->empty());
    EXPECT_EQ(s.linux->seccomp->defaultAction, "SCMP_ACT_ALLOW");
    EXPECT_EQ(s.process->apparmorProfile, "my-profile");
}

TEST(ApplyPolicy, HardenedAddsTheAppArmorProfileWhereTheHostHasIt) {
    spec::Spec s = plain_spec();
    auto applied = apply_policy(s, Policy::Hardened, HostSecurity{true});
    ASSERT_TRUE(applied);
    EXPECT_EQ(s.process->apparmorProfile, "hrun-default");
}

TEST(ApplyPolicy, StrictRefusesCriticalConfigsUnlessAccepted) {
    spec::Spec s = plain_spec();
    s.process->capabilities->bounding.push_back("CAP_SYS_ADMIN");
    s.process->capabilities->effective = {"CAP_SYS_ADMIN"};
    s.process->capabilities->permitted = {"CAP_SYS_ADMIN"};
    spec::Spec copy = s;
    auto refused = apply_policy(copy, Policy::Strict, HostSecurity{false});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("strict policy"), std::string::npos) << refused.error().message;
    EXPECT_NE(refused.error().message.find(std::string(kAcceptAnnotation)), std::string::npos);
    EXPECT_FALSE(refused.error().field.empty());

    // Accepting every critical finding by id lets it through.
    std::string ids;
    for (int i = 0; i < 10; ++i) {
        spec::Spec attempt = s;
        attempt.annotations[std::string(kAcceptAnnotation)] = ids;
        auto r = apply_policy(attempt, Policy::Strict, HostSecurity{false});
        if (r) return;
        const std::string msg = r.error().message;
        const auto start = msg.rfind("=") + 1;
        ids += (ids.empty() ? "" : ",") + msg.substr(start, msg.find(')', start) - start);
    }
    FAIL() << "still refused with " << ids;
}

TEST(ApplyPolicy, StrictAcceptsTheHardenedDefaultConfig) {
    spec::DefaultSpecOptions options;
    spec::Spec s = spec::default_spec(options);
    auto applied = apply_policy(s, Policy::Strict, HostSecurity{false});
    EXPECT_TRUE(applied) << applied.error().field << ": " << applied.error().message;
}

// What containerd's CRI plugin writes for a container whose pod asked for Unconfined seccomp and
// allowPrivilegeEscalation: no filter, no_new_privs off, and its annotations.
spec::Spec cri_spec() {
    spec::Spec s = plain_spec();
    s.annotations["io.kubernetes.cri.container-type"] = "container";
    s.annotations["io.kubernetes.cri.sandbox-id"] = "4f5d1c";
    s.annotations["io.kubernetes.cri.container-name"] = "debugger";
    return s;
}

TEST(ChoosePolicy, APlainConfigGetsTheHardenedDefaults) {
    spec::Spec s = plain_spec();
    s.annotations["io.kubernetes.pod.name"] = "not-from-a-cri";  // only the CRI's own marks count
    const PolicyChoice choice = choose_policy(std::nullopt, s);
    EXPECT_EQ(choice.policy, Policy::Hardened);
    EXPECT_EQ(choice.reason, "default");
    EXPECT_FALSE(orchestrator_of(s));
}

TEST(ChoosePolicy, KubernetesThroughContainerdKeepsWhatThePodAskedFor) {
    for (const char* key : {"io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id"}) {
        spec::Spec s = plain_spec();
        s.annotations[key] = "sandbox";
        const PolicyChoice choice = choose_policy(std::nullopt, s);
        EXPECT_EQ(choice.policy, Policy::Oci) << key;
        EXPECT_NE(choice.reason.find(key), std::string::npos) << choice.reason;
        EXPECT_NE(choice.reason.find("containerd"), std::string::npos) << choice.reason;
    }
    // Applied, the choice leaves the unconfined, escalation-allowed container as written.
    spec::Spec s = cri_spec();
    const spec::Spec before = s;
    auto applied = apply_policy(s, choose_policy(std::nullopt, s).policy, HostSecurity{true});
    ASSERT_TRUE(applied);
    EXPECT_TRUE(applied->empty());
    EXPECT_EQ(s, before);
    EXPECT_FALSE(s.process->noNewPrivileges);
    EXPECT_FALSE(s.linux && s.linux->seccomp);
}

TEST(ChoosePolicy, KubernetesThroughCrioToo) {
    spec::Spec s = plain_spec();
    s.annotations["io.kubernetes.cri-o.ContainerType"] = "container";
    const PolicyChoice choice = choose_policy(std::nullopt, s);
    EXPECT_EQ(choice.policy, Policy::Oci);
    EXPECT_NE(choice.reason.find("CRI-O"), std::string::npos) << choice.reason;
    EXPECT_NE(choice.reason.find("io.kubernetes.cri-o.ContainerType"), std::string::npos) << choice.reason;
    // A key that merely starts alike is not CRI-O's.
    spec::Spec other = plain_spec();
    other.annotations["io.kubernetes.cri-operator"] = "x";
    other.annotations["io.kubernetes.cri"] = "x";
    EXPECT_EQ(choose_policy(std::nullopt, other).policy, Policy::Hardened);
}

TEST(ChoosePolicy, PodmanBorrowsCrioAnnotationsButKeepsTheHardenedDefaults) {
    // What podman writes on a plain `podman run`: CRI-O's names, and itself as the manager.
    spec::Spec s = plain_spec();
    s.annotations["io.kubernetes.cri-o.ContainerType"] = "container";
    s.annotations["io.kubernetes.cri-o.SandboxID"] = "0123abcd";
    s.annotations["io.kubernetes.cri-o.TTY"] = "false";
    s.annotations["io.container.manager"] = "libpod";
    EXPECT_EQ(choose_policy(std::nullopt, s).policy, Policy::Hardened);
    // CRI-O names itself: deferred as before.
    s.annotations["io.container.manager"] = "cri-o";
    EXPECT_EQ(choose_policy(std::nullopt, s).policy, Policy::Oci);
}

TEST(ChoosePolicy, TheOperatorsPolicyAppliesToOrchestratedConfigsToo) {
    for (Policy p : {Policy::Oci, Policy::Hardened, Policy::Strict}) {
        EXPECT_EQ(choose_policy(p, cri_spec()).policy, p);
        EXPECT_EQ(choose_policy(p, plain_spec()).policy, p);
        EXPECT_NE(choose_policy(p, cri_spec()).reason.find("--policy"), std::string::npos);
    }
    spec::Spec s = cri_spec();
    auto applied = apply_policy(s, choose_policy(Policy::Hardened, s).policy, HostSecurity{false});
    ASSERT_TRUE(applied);
    EXPECT_TRUE(s.process->noNewPrivileges);
    EXPECT_TRUE(s.linux && s.linux->seccomp);
}

TEST(AppArmorProfiles, LoadedProfileIsFoundByExactName) {
    const std::string list = "docker-default (enforce)\nhrun-default (enforce)\nhrun-default-old (complain)\n";
    EXPECT_TRUE(apparmor_profile_loaded(list, "hrun-default"));
    EXPECT_TRUE(apparmor_profile_loaded(list, "docker-default"));
    EXPECT_FALSE(apparmor_profile_loaded(list, "hrun"));
    EXPECT_FALSE(apparmor_profile_loaded("hrun-default-old (enforce)\n", "hrun-default"));
    EXPECT_FALSE(apparmor_profile_loaded("", "hrun-default"));
}

TEST(AppArmorProfiles, TheDefaultProfileDeniesTheWaysOut) {
    const std::string_view text = default_apparmor_profile_text();
    EXPECT_NE(text.find("profile hrun-default"), std::string_view::npos);
    for (const char* rule : {"deny mount,", "deny umount,", "deny pivot_root,", "deny /proc/sys/** wklx,",
                             "deny /proc/sysrq-trigger rwklx,", "deny /proc/kcore rwklx,",
                             "deny /sys/firmware/** rwklx,", "deny /sys/kernel/security/** rwklx,"})
        EXPECT_NE(text.find(rule), std::string_view::npos) << rule;
}

TEST(PolicyNames, RoundTrip) {
    for (Policy p : {Policy::Oci, Policy::Hardened, Policy::Strict})
        EXPECT_EQ(policy_from_name(policy_name(p)), p);
    EXPECT_FALSE(policy_from_name("lenient"));
}

}  // namespace
}  // namespace hrun::policy

namespace hrun::policy {
namespace {

TEST(AppArmorProfiles, TheDefaultProfileParses) {
    const char* parser = nullptr;
    for (const char* p : {"/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"})
        if (::access(p, X_OK) == 0) parser = p;
    if (!parser) GTEST_SKIP() << "apparmor_parser is not installed (package apparmor)";
    char path[] = "/tmp/hrun-apparmor-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string_view text = default_apparmor_profile_text();
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    // -Q: parse and compile only, nothing is loaded; -K: no cache.
    const std::string command = std::string(parser) + " -Q -K " + path + " 2>&1";
    FILE* out = ::popen(command.c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string messages;
    char buf[256];
    while (std::fgets(buf, sizeof buf, out)) messages += buf;
    const int status = ::pclose(out);
    ::unlink(path);
    EXPECT_EQ(status, 0) << messages;
}

}  // namespace
}  // namespace hrun::policy
