// Configs with noNewPrivileges false: the seccomp filter goes in while hrun is still privileged,
// before the uid change, the working directory and the program lookup, so those steps run under
// the container's own profile. Profiles written before openat2, close_range, clone3 and
// faccessat2 existed (older Docker and containerd defaults, runtime-tools' generator) refuse
// them with EPERM when they list a newer syscall, or with ENOSYS through hrun's prologue when
// they do not: either way the container must start, as root and as another user, from a
// working directory other than /, for `run` and for `exec`; and the fallbacks must still keep
// a working directory reached through a magic link out of the host.
#include <sys/stat.h>

#include <fstream>

#include "runtime_fixture.hpp"

namespace hrun::itest {
namespace {

// Syscalls numbered 435 and above on x86-64 that hrun's default profile lists: a profile from
// before Linux 5.3 names none of them.
const std::set<std::string> kNewerThan434 = {
    "clone3",          "close_range",     "openat2",        "pidfd_getfd",
    "faccessat2",      "process_madvise", "epoll_pwait2",   "mount_setattr",
    "quotactl_fd",     "landlock_create_ruleset",           "landlock_add_rule",
    "landlock_restrict_self",             "memfd_secret",   "process_mrelease",
    "futex_waitv",     "set_mempolicy_home_node",           "cachestat",
    "fchmodat2",       "map_shadow_stack", "futex_wake",    "futex_wait",
    "futex_requeue"};

// An allow-list profile made from hrun's default one (profiles/seccomp/default.json, its
// unconditional rule) without `removed`, with the default action EPERM.
json allowlist_profile(const std::set<std::string>& removed) {
    const auto text = read_file(source_dir() + "/profiles/seccomp/default.json");
    if (!text) {
        ADD_FAILURE() << "cannot read profiles/seccomp/default.json";
        return json::object();
    }
    const json def = json::parse(*text);
    json names = json::array();
    for (const auto& n : def["syscalls"][0]["names"])
        if (!removed.count(n.get<std::string>())) names.push_back(n);
    // clone stands in a rule of its own (its flags are checked there): allowed outright here.
    names.push_back("clone");
    return {{"defaultAction", "SCMP_ACT_ERRNO"},
            {"architectures", def["architectures"]},
            {"syscalls", json::array({{{"names", names}, {"action", "SCMP_ACT_ALLOW"}}})}};
}

// The four syscalls refused with EPERM: the profile still lists newer ones (futex_waitv, ...).
json profile_refusing_new_calls(std::set<std::string> also = {}) {
    also.insert({"openat2", "close_range", "clone3", "faccessat2"});
    return allowlist_profile(also);
}


class EarlySeccomp : public RuntimeTest {
protected:
    void SetUp() override {
        RuntimeTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        // The config as written: the oci policy adds no no_new_privs and no profile of its own.
        bundle().global_args = {"--policy=oci"};
        bundle().config["process"]["noNewPrivileges"] = false;
        bundle().config["linux"]["seccomp"] = profile_refusing_new_calls();
        // A home only uid 1000 may enter, and a directory only root may.
        home_ = "/home/user";
        ::mkdir((bundle().rootfs() + "/home").c_str(), 0755);
        ::mkdir((bundle().rootfs() + home_).c_str(), 0700);
        ASSERT_EQ(::chown((bundle().rootfs() + home_).c_str(), 1000, 1000), 0);
        ::chmod((bundle().rootfs() + "/root").c_str(), 0700);
    }

    // An unprivileged user: no capabilities (CAP_DAC_OVERRIDE would open every directory).
    void as_user(uint32_t uid) {
        bundle().config["process"]["user"] = {{"uid", uid}, {"gid", uid}};
        for (const char* set : {"effective", "permitted", "inheritable", "ambient"})
            bundle().config["process"]["capabilities"][set] = json::array();
    }

    RunResult probe_in(const std::string& cwd) {
        bundle().config["process"]["cwd"] = cwd;
        return bundle().probe({});
    }

    void expect_started(const RunResult& r, const std::string& cwd, const std::string& uid) {
        ASSERT_EQ(r.status, 0) << r.describe();
        EXPECT_EQ(r.fact("nonewprivs"), "0") << r.describe();
        EXPECT_EQ(r.fact("seccomp"), "2") << r.describe();
        EXPECT_EQ(r.fact("cwd"), cwd) << r.describe();
        EXPECT_EQ(r.fact("uid"), uid) << r.describe();
    }

    std::string home_;
};

TEST_F(EarlySeccomp, StartsAsRootInADirectoryWithoutTheNewSyscalls) {
    expect_started(probe_in("/tmp"), "/tmp", "0");
    expect_started(probe_in("/"), "/", "0");
}

TEST_F(EarlySeccomp, StartsAsAnotherUserInItsHome) {
    as_user(1000);
    expect_started(probe_in(home_), home_, "1000");
    // A program found through PATH, from a relative entry's point of view too.
    bundle().config["process"]["env"] = json::array({"PATH=/usr/bin:/bin"});
    bundle().config["process"]["cwd"] = home_;
    bundle().set_args({"sh", "-c", "pwd; id -u"});
    RunResult r = bundle().run();
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.out, home_ + "\n1000\n");
}

TEST_F(EarlySeccomp, TheFallbackStillChecksTheUsersPermissions) {
    as_user(1000);
    RunResult r = probe_in("/root");
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("process.cwd: \"/root\" is not accessible"), std::string::npos) << r.describe();
    RunResult missing = probe_in("/no/such/dir");
    EXPECT_NE(missing.status, 0) << missing.describe();
    EXPECT_NE(missing.err.find("process.cwd: \"/no/such/dir\" does not exist"), std::string::npos)
        << missing.describe();
    // A program the user may not execute is reported before exec, by the faccessat fallback.
    write_executable(bundle().rootfs() + "/bin/root-only", "#!/bin/sh\necho ran\n");
    ::chmod((bundle().rootfs() + "/bin/root-only").c_str(), 0700);
    bundle().config["process"]["cwd"] = "/";
    bundle().set_args({"/bin/root-only"});
    RunResult denied = bundle().run();
    EXPECT_NE(denied.status, 0) << denied.describe();
    EXPECT_EQ(denied.out.find("ran"), std::string::npos) << denied.describe();
    EXPECT_NE(denied.err.find("process.args[0]: \"/bin/root-only\" cannot execute"), std::string::npos)
        << denied.describe();
}

TEST_F(EarlySeccomp, StartsWhenTheNewSyscallsAnswerEnosys) {
    // Nothing above 434 listed: the prologue answers ENOSYS for openat2 and the rest.
    bundle().config["linux"]["seccomp"] = allowlist_profile(kNewerThan434);
    expect_started(probe_in("/tmp"), "/tmp", "0");
    as_user(1000);
    expect_started(probe_in(home_), home_, "1000");
}

TEST_F(EarlySeccomp, TheFullDefaultProfileStillWorks) {
    bundle().config["linux"]["seccomp"] = allowlist_profile({});
    as_user(1000);
    expect_started(probe_in(home_), home_, "1000");
}

TEST_F(EarlySeccomp, GroupsAndGidAreSetBeforeTheFilter) {
    // A profile that lets the container change neither its groups nor its gid: hrun sets them
    // before the filter, so the container still gets what the config asks.
    bundle().config["linux"]["seccomp"] =
        profile_refusing_new_calls({"setgroups", "setgroups32", "setresgid", "setresgid32", "setgid", "setgid32"});
    as_user(1000);
    bundle().config["process"]["user"]["additionalGids"] = json::array({10, 20});
    RunResult r = probe_in(home_);
    expect_started(r, home_, "1000");
    EXPECT_EQ(r.fact("gid"), "1000") << r.describe();
    EXPECT_EQ(r.fact("groups"), "10,20") << r.describe();
}

TEST_F(EarlySeccomp, GetcwdIsOnlyNeededWhenOpenat2IsRefused) {
    // openat2 allowed: it keeps the walk in the root, getcwd's second opinion is optional.
    bundle().config["linux"]["seccomp"] = allowlist_profile({"getcwd"});
    bundle().config["process"]["cwd"] = "/tmp";
    bundle().set_args({"/bin/hrun-probe", "stat", "."});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 0) << r.describe();
    // Neither: nothing proves a directory reached by path is inside the container.
    bundle().config["linux"]["seccomp"] = profile_refusing_new_calls({"getcwd"});
    bundle().save();
    RunResult refused = bundle().run();
    EXPECT_NE(refused.status, 0) << refused.describe();
    EXPECT_NE(refused.err.find("process.cwd: \"/tmp\" cannot be checked: linux.seccomp allows neither "
                               "openat2 nor getcwd"),
              std::string::npos)
        << refused.describe();
    // The root needs no check.
    bundle().config["process"]["cwd"] = "/";
    RunResult root = bundle().run();
    EXPECT_EQ(root.status, 0) << root.describe();
}

TEST_F(EarlySeccomp, ACwdThroughAMagicLinkStaysOutOfTheHostWithoutOpenat2) {
    // The caller hands a host directory in as fd 7 and the config names it as the cwd: the
    // chdir fallback follows the link, and getcwd must catch it.
    const std::string host_dir = bundle().dir() + "/host-only";
    ::mkdir(host_dir.c_str(), 0755);
    std::ofstream(host_dir + "/host-secret") << "leaked-from-the-host\n";
    bundle().set_args({"/bin/sh", "-c", "cat host-secret 2>/dev/null; exec /bin/hrun-probe"});
    bundle().config["process"]["cwd"] = "/proc/self/fd/7";
    bundle().save();
    std::map<int, std::string> fds{{3, "/dev/null"}, {4, "/dev/null"}, {5, "/dev/null"},
                                   {6, "/dev/null"}, {7, host_dir}};
    RunResult r = run_command(with_open_fds(
        fds, hrun_argv({"run", "--preserve-fds", "5", "--bundle", bundle().dir(), unique_id()})));
    EXPECT_EQ(r.out.find("leaked-from-the-host"), std::string::npos) << r.describe();
    EXPECT_NE(r.status, 0) << r.describe();
    EXPECT_NE(r.err.find("process.cwd: \"/proc/self/fd/7\" is not inside the container"), std::string::npos)
        << r.describe();
}

TEST_F(EarlySeccomp, ExecStartsUnderTheSameProfile) {
    as_user(1000);
    bundle().config["process"]["cwd"] = home_;
    const std::string id = unique_id();
    ASSERT_GT(run_sleeper(id), 0);
    // The container's user, its home.
    RunResult r = hrun({"exec", "--cwd", home_, id, "/bin/hrun-probe"});
    expect_started(r, home_, "1000");
    // Root, elsewhere; the lookup through PATH.
    RunResult root = hrun({"exec", "-u", "0:0", "--cwd", "/tmp", id, "/bin/hrun-probe"});
    expect_started(root, "/tmp", "0");
    RunResult sh = hrun({"exec", "--cwd", "/tmp", "-e", "PATH=/bin", id, "sh", "-c", "pwd"});
    EXPECT_EQ(sh.status, 0) << sh.describe();
    EXPECT_EQ(sh.out, "/tmp\n") << sh.describe();
    // The user's permissions hold for exec too.
    RunResult denied = hrun({"exec", "--cwd", "/root", id, "/bin/hrun-probe"});
    EXPECT_NE(denied.status, 0) << denied.describe();
    EXPECT_NE(denied.err.find("process.cwd: \"/root\" is not accessible"), std::string::npos)
        << denied.describe();
    // A host directory passed in as fd 3 and named as the cwd: refused.
    const std::string host_dir = bundle().dir() + "/host-only";
    ::mkdir(host_dir.c_str(), 0755);
    RunResult escape = run_command(with_open_fds(
        {{3, host_dir}},
        hrun_argv({"exec", "-u", "0:0", "--preserve-fds", "1", "--cwd", "/proc/self/fd/3", id,
                   "/bin/hrun-probe"})));
    EXPECT_NE(escape.status, 0) << escape.describe();
    EXPECT_NE(escape.err.find("is not inside the container"), std::string::npos) << escape.describe();
}

}  // namespace
}  // namespace hrun::itest
