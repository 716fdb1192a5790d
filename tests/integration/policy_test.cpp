// The --policy global option: what the hardened default adds to a config that leaves seccomp and
// no_new_privs unset, what `oci` leaves alone, and what `strict` refuses.
#include <gmock/gmock.h>

#include "harness.hpp"

namespace hrun::itest {
namespace {

class Policy : public ContainerTest {
protected:
    void SetUp() override {
        ContainerTest::SetUp();
        if (IsSkipped()) return;
        bundle().config["linux"].erase("seccomp");
        bundle().config["process"].erase("noNewPrivileges");
    }
};

TEST_F(Policy, HardenedIsTheDefaultAndConfinesAPlainBundle) {
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "2") << "the default seccomp profile\n" << r.describe();
    EXPECT_EQ(r.fact("nonewprivs"), "1") << r.describe();
}

TEST_F(Policy, TheDefaultProfileDeniesHostChangingCalls) {
    for (const char* call : {"keyctl", "unshare", "mount", "bpf", "clock_settime"}) {
        RunResult r = bundle().probe({"syscall", call});
        ASSERT_EQ(r.status, 0) << r.describe();
        EXPECT_EQ(r.fact("syscall"), "EPERM") << call << "\n" << r.describe();
    }
}

TEST_F(Policy, OrdinaryWorkPassesTheDefaultProfile) {
    // A shell script exercising files, pipes, signals and subprocesses under the default profile.
    bundle().set_args({"/bin/sh", "-c",
                       "set -e; cd /tmp; echo hello > f; cat f | tr a-z A-Z > g; grep -q HELLO g;"
                       " mkdir d; mv f d/; ls d | grep -q f; rm -r d g;"
                       " sleep 5 & kill $!; wait $! || true;"
                       " (trap 'echo trapped' USR1; kill -USR1 $$ 2>/dev/null || true);"
                       " seq 1 200 | sort -rn | head -1 | grep -q 200;"
                       " date >/dev/null; id -u >/dev/null; echo done"});
    RunResult r = bundle().run();
    EXPECT_EQ(r.status, 0) << r.describe();
    EXPECT_NE(r.out.find("done"), std::string::npos) << r.describe();
}

TEST_F(Policy, AServicesOrdinaryWorkPassesTheDefaultProfile) {
    // Threads, sockets, event fds, signals, processes and files: each step must work unchanged.
    RunResult r = bundle().probe({"workload"});
    ASSERT_EQ(r.status, 0) << r.describe();
    for (const char* step : {"threads", "unix_socket", "tcp_loopback", "udp_loopback", "pipe_poll", "eventfd",
                             "timerfd", "signal", "fork_wait", "files", "mmap_mprotect"})
        EXPECT_EQ(r.fact(std::string("work.") + step), "ok") << step << "\n" << r.describe();
    EXPECT_EQ(r.fact("workload"), "ok") << r.describe();
    // ... and the same config really runs under the default profile.
    RunResult facts = bundle().probe({});
    EXPECT_EQ(facts.fact("seccomp"), "2") << facts.describe();
}

TEST_F(Policy, OciLeavesTheConfigAsWritten) {
    bundle().global_args = {"--policy=oci"};
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "0") << r.describe();
    EXPECT_EQ(r.fact("nonewprivs"), "0") << r.describe();
    RunResult k = bundle().probe({"syscall", "keyctl"});
    EXPECT_NE(k.fact("syscall"), "EPERM") << k.describe();
}

TEST_F(Policy, AConfigsOwnProfileIsKept) {
    bundle().config["linux"]["seccomp"] = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", json::array({{{"names", json::array({"mkdir", "mkdirat"})},
                                   {"action", "SCMP_ACT_ERRNO"},
                                   {"errnoRet", 99}}})}};
    RunResult keyctl = bundle().probe({"syscall", "keyctl"});
    EXPECT_NE(keyctl.fact("syscall"), "EPERM") << "only the config's rules apply\n" << keyctl.describe();
    RunResult mkdir = bundle().probe({"syscall", "mkdir"});
    EXPECT_EQ(mkdir.fact("errno"), "99") << mkdir.describe();
}

TEST_F(Policy, StrictRefusesCapSysAdminUnlessTheAnnotationAcceptsIt) {
    bundle().global_args = {"--policy=strict"};
    for (const char* set : {"bounding", "effective", "permitted"})
        bundle().config["process"]["capabilities"][set].push_back("CAP_SYS_ADMIN");
    const HostSnapshot before = HostSnapshot::take();
    RunResult refused = bundle().probe({});
    EXPECT_NE(refused.status, 0);
    EXPECT_NE(refused.err.find("strict policy"), std::string::npos) << refused.describe();
    EXPECT_NE(refused.err.find("process.capabilities"), std::string::npos) << refused.describe();
    for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;

    bundle().config["annotations"]["org.hrun.policy.accept"] = "HRUN-CAP-002";
    RunResult accepted = bundle().probe({});
    EXPECT_EQ(accepted.status, 0) << accepted.describe();
}

// What the policy filled in is recorded with the container and shown by `state` and `inspect`.
TEST_F(Policy, StateAndInspectShowTheDefaultsFilledIn) {
    bundle().set_args({"/bin/sleep", "30"});
    bundle().save();
    const std::string id = bundle().id();
    RunResult started = bundle().hrun({"run", "--detach", "--bundle", bundle().dir(), id});
    ASSERT_EQ(started.status, 0) << started.describe();
    struct DeleteOnExit {
        const Bundle& b;
        std::string id;
        ~DeleteOnExit() { b.hrun({"delete", "--force", id}); }
    } cleanup{bundle(), id};

    json st = json::parse(bundle().hrun({"state", id}).out, nullptr, false);
    EXPECT_EQ(st.value("policy", ""), "hardened") << st.dump();
    std::vector<std::string> fields;
    for (const auto& d : st.value("appliedDefaults", json::array())) {
        const std::string entry = d.get<std::string>();  // "field: value"
        fields.push_back(entry.substr(0, entry.find(':')));
    }
    EXPECT_THAT(fields, ::testing::IsSupersetOf({"linux.seccomp", "process.noNewPrivileges"})) << st.dump();

    json report = json::parse(bundle().hrun({"inspect", "--format", "json", id}).out, nullptr, false);
    EXPECT_EQ(report["policy"].value("name", ""), "hardened") << report.dump();
    EXPECT_EQ(report["policy"]["appliedDefaults"], st["appliedDefaults"]);
    RunResult text = bundle().hrun({"inspect", id});
    EXPECT_NE(text.out.find("policy        hardened, filled in:"), std::string::npos) << text.describe();
    EXPECT_NE(text.out.find("linux.seccomp: hrun default profile"), std::string::npos) << text.describe();
}

TEST_F(Policy, StateUnderOciListsNothingFilledIn) {
    bundle().global_args = {"--policy=oci"};
    bundle().set_args({"/bin/sleep", "30"});
    bundle().save();
    const std::string id = bundle().id();
    ASSERT_EQ(bundle().hrun({"run", "--detach", "--bundle", bundle().dir(), id}).status, 0);
    json st = json::parse(bundle().hrun({"state", id}).out, nullptr, false);
    bundle().hrun({"delete", "--force", id});
    EXPECT_EQ(st.value("policy", ""), "oci") << st.dump();
    EXPECT_FALSE(st.contains("appliedDefaults")) << st.dump();
}

// A config from Kubernetes' CRI (containerd marks it with io.kubernetes.cri.*): the pod's
// security context decides, so a pod that asked for Unconfined and privilege escalation gets
// them under the default policy; the operator's --policy=hardened still fills the defaults in.
TEST_F(Policy, AKubernetesConfigRunsAsThePodAskedUnlessThePolicyIsGiven) {
    bundle().config["annotations"]["io.kubernetes.cri.container-type"] = "container";
    bundle().config["annotations"]["io.kubernetes.cri.sandbox-id"] = "0123abcd";
    RunResult r = bundle().probe({});
    ASSERT_EQ(r.status, 0) << r.describe();
    EXPECT_EQ(r.fact("seccomp"), "0") << r.describe();
    EXPECT_EQ(r.fact("nonewprivs"), "0") << r.describe();

    bundle().set_args({"/bin/sleep", "30"});
    bundle().save();
    const std::string id = bundle().id();
    ASSERT_EQ(bundle().hrun({"run", "--detach", "--bundle", bundle().dir(), id}).status, 0);
    json st = json::parse(bundle().hrun({"state", id}).out, nullptr, false);
    RunResult text = bundle().hrun({"inspect", id});
    bundle().hrun({"delete", "--force", id});
    EXPECT_EQ(st.value("policy", ""), "oci") << st.dump();
    EXPECT_NE(st.value("policyReason", "").find("io.kubernetes.cri.container-type"), std::string::npos) << st.dump();
    EXPECT_FALSE(st.contains("appliedDefaults")) << st.dump();
    EXPECT_NE(text.out.find("deferred to Kubernetes"), std::string::npos) << text.describe();

    bundle().global_args = {"--policy=hardened"};
    RunResult forced = bundle().probe({});
    ASSERT_EQ(forced.status, 0) << forced.describe();
    EXPECT_EQ(forced.fact("seccomp"), "2") << forced.describe();
    EXPECT_EQ(forced.fact("nonewprivs"), "1") << forced.describe();
}

}  // namespace
}  // namespace hrun::itest
