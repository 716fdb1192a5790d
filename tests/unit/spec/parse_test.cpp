// parse_spec / load_spec / to_json: every member of the model, type errors, invalid JSON.
#include <fcntl.h>
#include <sys/stat.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "spec/spec_io.hpp"
#include "spec_test_support.hpp"

namespace hrun::spec {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Every member of include/hrun/spec.hpp set to a value that differs from its default and from
// its neighbours, so a member read under the wrong name or into the wrong field shows up.
constexpr const char* kFullConfig = R"({
  "ociVersion": "1.2.0",
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
     "gidMappings": [{"containerID": 3, "hostID": 1001, "size": 2}]},
    {"destination": "/proc", "type": "proc", "source": "proc"}
  ],
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4], "username": "alice"},
    "args": ["sh", "-c", "true"],
    "commandLine": "sh -c true",
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/home",
    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_KILL"], "inheritable": ["CAP_SETUID"],
                     "permitted": ["CAP_SETGID"], "ambient": ["CAP_NET_BIND_SERVICE"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024},
                {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}],
    "noNewPrivileges": true,
    "apparmorProfile": "hrun-default",
    "oomScoreAdj": -500,
    "selinuxLabel": "system_u:system_r:container_t:s0:c1,c2",
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 7, "flags": ["SCHED_FLAG_RESET_ON_FORK"],
                  "runtime": 1000, "deadline": 2000, "period": 3000},
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}
  },
  "hostname": "box",
  "domainname": "example.org",
  "annotations": {"org.example.key": "value", "b": "c"},
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "x"], "env": ["A=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps"}],
    "poststop": [{"path": "/bin/pst", "timeout": 9}]
  },
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "user"},
                   {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 65537}],
    "timeOffsets": {"monotonic": {"secs": -100, "nanosecs": 5}, "boottime": {"secs": 7, "nanosecs": 0}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 6}],
    "cgroupsPath": "/hrun/test",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 1073741824, "reservation": 536870912, "swap": 2147483648, "kernel": -1, "kernelTCP": 12,
                 "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 50000, "burst": 1000, "period": 100000, "realtimeRuntime": 950000,
              "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
      "pids": {"limit": 100},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 16, "weight": 600, "leafWeight": 200}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 1, "rate": 2}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 2, "rate": 3}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 3, "rate": 4}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "max", "io.weight": "100"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock", "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
         "args": [{"index": 0, "value": 8, "valueTwo": 255, "op": "SCMP_CMP_MASKED_EQ"}]}
      ]
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": ["X"]}
  }
})";

Spec full_model() {
    Spec s;
    s.ociVersion = "1.2.0";
    s.root = Root{"rootfs", true};
    s.mounts = {Mount{"/data", "bind", "/srv/data", {"rbind", "ro"}, {{0, 1000, 1}}, {{3, 1001, 2}}},
                Mount{"/proc", "proc", "proc", {}, {}, {}}};
    Process& p = s.process.emplace();
    p.terminal = true;
    p.consoleSize = ConsoleSize{24, 80};
    p.user = User{1, 2, 18, {3, 4}, "alice"};
    p.args = {"sh", "-c", "true"};
    p.commandLine = "sh -c true";
    p.env = {"PATH=/bin", "TERM=xterm"};
    p.cwd = "/home";
    p.capabilities = Capabilities{{"CAP_CHOWN"}, {"CAP_KILL"}, {"CAP_SETUID"}, {"CAP_SETGID"}, {"CAP_NET_BIND_SERVICE"}};
    p.rlimits = {{"RLIMIT_NOFILE", 2048, 1024}, {"RLIMIT_CORE", UINT64_MAX, 0}};
    p.noNewPrivileges = true;
    p.apparmorProfile = "hrun-default";
    p.oomScoreAdj = -500;
    p.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
    p.scheduler = Scheduler{"SCHED_DEADLINE", -5, 7, {"SCHED_FLAG_RESET_ON_FORK"}, 1000, 2000, 3000};
    p.ioPriority = IoPriority{"IOPRIO_CLASS_BE", 4};
    s.hostname = "box";
    s.domainname = "example.org";
    s.annotations = {{"org.example.key", "value"}, {"b", "c"}};
    Hooks& h = s.hooks.emplace();
    h.prestart = {Hook{"/bin/pre", {"pre", "x"}, {"A=1"}, 5}};
    h.createRuntime = {Hook{"/bin/cr", {}, {}, std::nullopt}};
    h.createContainer = {Hook{"/bin/cc", {}, {}, std::nullopt}};
    h.startContainer = {Hook{"/bin/sc", {}, {}, std::nullopt}};
    h.poststart = {Hook{"/bin/ps", {}, {}, std::nullopt}};
    h.poststop = {Hook{"/bin/pst", {}, {}, 9}};

    Linux& l = s.linux.emplace();
    l.namespaces = {{"pid", ""}, {"network", "/var/run/netns/x"}, {"user", ""}, {"time", ""}};
    l.uidMappings = {{0, 100000, 65536}};
    l.gidMappings = {{0, 200000, 65537}};
    l.timeOffsets = {{"monotonic", {-100, 5}}, {"boottime", {7, 0}}};
    l.devices = {Device{"c", "/dev/fuse", 10, 229, 438, 0, 6}};
    l.cgroupsPath = "/hrun/test";
    Resources& r = l.resources.emplace();
    r.devices = {DeviceRule{false, "", std::nullopt, std::nullopt, "rwm"}, DeviceRule{true, "c", 10, 229, "rw"}};
    r.memory = MemoryResources{1073741824, 536870912, 2147483648, -1, 12, 60, true, false, true};
    r.cpu = CpuResources{1024, 50000, 1000, 100000, 950000, 1000000, "0-1", "0", 1};
    r.pids = PidsResources{100};
    r.blockIO = BlockIoResources{500,
                                 300,
                                 {WeightDevice{8, 16, 600, 200}},
                                 {ThrottleDevice{8, 0, 1048576}},
                                 {ThrottleDevice{8, 1, 2}},
                                 {ThrottleDevice{8, 2, 3}},
                                 {ThrottleDevice{8, 3, 4}}};
    r.hugepageLimits = {HugepageLimit{"2MB", 209715200}};
    r.network = NetworkResources{1048577, {NetworkPriority{"eth0", 500}}};
    r.rdma = {{"mlx5_1", RdmaLimit{3, 10000}}};
    r.unified = {{"memory.high", "max"}, {"io.weight", "100"}};
    l.rootfsPropagation = "rslave";
    l.seccomp = Seccomp{"SCMP_ACT_ERRNO",
                        1,
                        {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"},
                        {"SECCOMP_FILTER_FLAG_LOG"},
                        "/run/seccomp.sock",
                        "meta",
                        {SeccompSyscall{{"read", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
                         SeccompSyscall{{"personality"}, "SCMP_ACT_ERRNO", 22, {SeccompArg{0, 8, 255, "SCMP_CMP_MASKED_EQ"}}}}};
    l.sysctl = {{"net.ipv4.ip_forward", "1"}};
    l.maskedPaths = {"/proc/kcore"};
    l.readonlyPaths = {"/proc/sys"};
    l.mountLabel = "system_u:object_r:container_file_t:s0";
    l.personality = Personality{"LINUX32", {"X"}};
    return s;
}

TEST(ParseSpec, ReadsEveryMemberIntoTheRightField) {
    auto parsed = parse_spec(kFullConfig);
    ASSERT_TRUE(parsed) << parsed.error().what();
    const Spec expected = full_model();
    // Section by section first, so a failure points at the section.
    EXPECT_TRUE(parsed->root == expected.root);
    EXPECT_TRUE(parsed->mounts == expected.mounts);
    EXPECT_TRUE(parsed->process == expected.process);
    EXPECT_TRUE(parsed->hooks == expected.hooks);
    EXPECT_TRUE(parsed->linux->namespaces == expected.linux->namespaces);
    EXPECT_TRUE(parsed->linux->resources == expected.linux->resources);
    EXPECT_TRUE(parsed->linux->seccomp == expected.linux->seccomp);
    EXPECT_TRUE(*parsed == expected);
    // Spot checks of members whose JSON name differs from a neighbour's meaning.
    EXPECT_EQ(parsed->process->ioPriority->ioClass, "IOPRIO_CLASS_BE");
    EXPECT_EQ(parsed->process->rlimits[0].hard, 2048u);
    EXPECT_EQ(parsed->process->rlimits[0].soft, 1024u);
    EXPECT_EQ(parsed->process->rlimits[1].hard, UINT64_MAX);
    EXPECT_EQ(parsed->linux->timeOffsets.at("monotonic").secs, -100);
}

TEST(ParseSpec, WritesEveryMemberBack) {
    const Spec model = full_model();
    const std::string text = to_json(model);
    // Nothing the input had is lost or renamed on the way out.
    EXPECT_EQ(nlohmann::json::parse(text), nlohmann::json::parse(kFullConfig));
    auto again = parse_spec(text);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_TRUE(*again == model);
}

TEST(ParseSpec, RoundTripsCompactOutput) {
    const Spec model = full_model();
    const std::string compact = to_json(model, -1);
    EXPECT_EQ(compact.find('\n'), std::string::npos);
    auto again = parse_spec(compact);
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_TRUE(*again == model);
}

TEST(ParseSpec, RoundTripsEmptyOptionalSections) {
    // Present but empty objects stay present; zero-valued optionals stay set.
    Spec s;
    s.ociVersion = "1.0.0";
    s.process.emplace().capabilities.emplace();
    s.process->oomScoreAdj = 0;
    s.hooks.emplace();
    s.linux.emplace().resources.emplace().memory.emplace().limit = 0;
    s.linux->seccomp.emplace();
    auto again = parse_spec(to_json(s));
    ASSERT_TRUE(again) << again.error().what();
    EXPECT_TRUE(*again == s);
    EXPECT_TRUE(again->process->capabilities.has_value());
    EXPECT_EQ(again->process->oomScoreAdj, 0);
}

TEST(ParseSpec, OmitsEmptyOptionalFieldsAndAlwaysWritesVersion) {
    Spec s;
    const auto doc = nlohmann::json::parse(to_json(s));
    EXPECT_EQ(doc, nlohmann::json::parse(R"({"ociVersion": ""})"));
    s.process.emplace().args = {"sh"};
    const auto with_process = nlohmann::json::parse(to_json(s));
    EXPECT_EQ(with_process["process"],
              nlohmann::json::parse(R"({"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": ""})"));
}

TEST(ParseSpec, IgnoresUnknownFields) {
    auto parsed = parse_spec(R"({"ociVersion": "1.2.0", "x-vendor": {"deep": [1, 2]},
        "process": {"args": ["sh"], "cwd": "/", "futureField": true, "user": {"uid": 5, "sid": "S-1"}},
        "linux": {"intelRdt": {"closID": "x"}, "netDevices": {"eth0": {}}, "memoryPolicy": {"mode": "MPOL_BIND"}}})");
    ASSERT_TRUE(parsed) << parsed.error().what();
    EXPECT_EQ(parsed->process->user.uid, 5u);
    EXPECT_TRUE(parsed->linux.has_value());
}

TEST(ParseSpec, TreatsNullAsAbsent) {
    auto parsed = parse_spec(R"({"ociVersion": "1.2.0", "root": null, "mounts": null,
        "process": {"args": ["sh"], "cwd": "/", "oomScoreAdj": null, "capabilities": null, "env": null}})");
    ASSERT_TRUE(parsed) << parsed.error().what();
    EXPECT_FALSE(parsed->root.has_value());
    EXPECT_FALSE(parsed->process->oomScoreAdj.has_value());
    EXPECT_FALSE(parsed->process->capabilities.has_value());
    EXPECT_TRUE(parsed->mounts.empty());
}

TEST(ParseSpec, AcceptsIntegerLimitsOfEachType) {
    auto parsed = parse_spec(R"({"ociVersion": "1.2.0", "process": {"args": ["sh"], "cwd": "/",
        "user": {"uid": 4294967295, "gid": 0}, "oomScoreAdj": -2147483648},
        "linux": {"resources": {"memory": {"limit": 9223372036854775807, "swap": -9223372036854775808},
                                "blockIO": {"weight": 65535}}}})");
    ASSERT_TRUE(parsed) << parsed.error().what();
    EXPECT_EQ(parsed->process->user.uid, 4294967295u);
    EXPECT_EQ(*parsed->process->oomScoreAdj, INT32_MIN);
    EXPECT_EQ(*parsed->linux->resources->memory->limit, INT64_MAX);
    EXPECT_EQ(*parsed->linux->resources->memory->swap, INT64_MIN);
    EXPECT_EQ(*parsed->linux->resources->blockIO->weight, 65535);
}

struct TypeErrorCase {
    const char* json;
    const char* message;
};

class TypeErrors : public ::testing::TestWithParam<TypeErrorCase> {};

TEST_P(TypeErrors, NameThePathAndTheExpectedType) {
    auto parsed = parse_spec(GetParam().json);
    ASSERT_FALSE(parsed) << "parsed: " << GetParam().json;
    EXPECT_EQ(parsed.error().what(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    ParseSpec, TypeErrors,
    ::testing::Values(
        TypeErrorCase{R"({"process": {"user": {"uid": "0"}}})",
                      "process.user.uid: expected an unsigned 32-bit integer, got string"},
        TypeErrorCase{R"({"mounts": [{"destination": "/a"}, {"destination": "/b"},
                                     {"destination": "/c", "options": ["ro", 1]}]})",
                      "mounts[2].options[1]: expected a string, got number"},
        TypeErrorCase{R"({"process": {"user": {"uid": -1}}})",
                      "process.user.uid: expected an unsigned 32-bit integer, got -1 (out of range)"},
        TypeErrorCase{R"({"process": {"user": {"gid": 4294967296}}})",
                      "process.user.gid: expected an unsigned 32-bit integer, got 4294967296 (out of range)"},
        TypeErrorCase{R"({"process": {"user": {"uid": 1.5}}})",
                      "process.user.uid: expected an unsigned 32-bit integer, got number 1.5 (not an integer)"},
        TypeErrorCase{R"({"process": {"terminal": "yes"}})", "process.terminal: expected a boolean, got string"},
        TypeErrorCase{R"({"process": {"args": "sh"}})", "process.args: expected an array, got string"},
        TypeErrorCase{R"({"root": []})", "root: expected an object, got array"},
        TypeErrorCase{R"([1, 2])", "config.json: expected an object, got array"},
        TypeErrorCase{R"({"ociVersion": 1})", "ociVersion: expected a string, got number"},
        TypeErrorCase{R"({"linux": {"sysctl": {"net.core.somaxconn": 1024}}})",
                      "linux.sysctl[\"net.core.somaxconn\"]: expected a string, got number"},
        TypeErrorCase{R"({"annotations": {"a\"b": 1}})", "annotations[\"a\\\"b\"]: expected a string, got number"},
        TypeErrorCase{R"({"linux": {"resources": {"memory": {"limit": "1G"}}}})",
                      "linux.resources.memory.limit: expected a 64-bit integer, got string"},
        TypeErrorCase{R"({"linux": {"resources": {"memory": {"swappiness": -1}}}})",
                      "linux.resources.memory.swappiness: expected an unsigned 64-bit integer, got -1 (out of range)"},
        TypeErrorCase{R"({"process": {"oomScoreAdj": 3000000000}})",
                      "process.oomScoreAdj: expected a 32-bit integer, got 3000000000 (out of range)"},
        TypeErrorCase{R"({"linux": {"resources": {"blockIO": {"weight": 70000}}}})",
                      "linux.resources.blockIO.weight: expected an unsigned 16-bit integer, got 70000 (out of range)"},
        TypeErrorCase{R"({"process": {"rlimits": [{"type": "RLIMIT_CORE", "hard": -1, "soft": 0}]}})",
                      "process.rlimits[0].hard: expected an unsigned 64-bit integer, got -1 (out of range)"},
        TypeErrorCase{R"({"linux": {"timeOffsets": {"monotonic": {"secs": "x"}}}})",
                      "linux.timeOffsets[\"monotonic\"].secs: expected a 64-bit integer, got string"},
        TypeErrorCase{R"({"process": {"ioPriority": {"class": 2}}})",
                      "process.ioPriority.class: expected a string, got number"},
        TypeErrorCase{R"({"mounts": {}})", "mounts: expected an array, got object"},
        TypeErrorCase{R"({"linux": {"seccomp": {"syscalls": [{"names": ["read"], "args": [{"index": true}]}]}}})",
                      "linux.seccomp.syscalls[0].args[0].index: expected an unsigned 32-bit integer, got boolean"},
        TypeErrorCase{R"({"linux": {"resources": {"devices": [{"allow": 1}]}}})",
                      "linux.resources.devices[0].allow: expected a boolean, got number"},
        TypeErrorCase{R"({"hooks": {"poststop": [{"path": "/x", "timeout": 1e3}]}})",
                      "hooks.poststop[0].timeout: expected a 32-bit integer, got number 1e3 (not an integer)"},
        TypeErrorCase{R"({"annotations": {"a": null, "b": []}})", "annotations[\"b\"]: expected a string, got array"},
        TypeErrorCase{R"({"linux": {"uidMappings": [{"containerID": 0, "hostID": {}, "size": 1}]}})",
                      "linux.uidMappings[0].hostID: expected an unsigned 32-bit integer, got object"}));

TEST(ParseSpec, InvalidJsonNamesLineAndColumn) {
    auto parsed = parse_spec("{\n  \"ociVersion\": \"1.2.0\",\n  \"root\": ,\n}");
    ASSERT_FALSE(parsed);
    EXPECT_THAT(parsed.error().what(), StartsWith("config.json: invalid JSON at line 3, column 11: "));
    EXPECT_THAT(parsed.error().what(), HasSubstr("syntax error"));
}

TEST(ParseSpec, SyntaxErrorsWinOverEarlierTypeErrors) {
    auto parsed = parse_spec(R"({"process": {"user": {"uid": "0"}}, "root": })");
    ASSERT_FALSE(parsed);
    EXPECT_THAT(parsed.error().what(), StartsWith("config.json: invalid JSON at line 1, column "));
}

TEST(ParseSpec, InvalidJsonVariantsNeverThrow) {
    for (const char* text : {"", "{", "{\"a\": }", "[1,]", "{\"a\": \"\xff\"}", "{\"a\": 1e999}", "nul", "{} {}"}) {
        Result<Spec> parsed = parse_spec(text);
        ASSERT_FALSE(parsed) << text;
        EXPECT_THAT(parsed.error().what(), StartsWith("config.json: invalid JSON")) << text;
    }
}

TEST(ParseSpec, DeepNestingIsSkippedWithoutRecursion) {
    std::string text = "{\"x-unknown\": ";
    text += std::string(100000, '[');
    text += std::string(100000, ']');
    text += "}";
    // Unknown members are ignored whatever their depth.
    EXPECT_TRUE(parse_spec(text));
}

class LoadSpec : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hrun-spec-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
    std::string dir_;
};

TEST_F(LoadSpec, ReadsAFile) {
    const std::string path = write("config.json", kFullConfig);
    auto loaded = load_spec(path);
    ASSERT_TRUE(loaded) << loaded.error().what();
    EXPECT_TRUE(*loaded == full_model());
}

TEST_F(LoadSpec, MissingFileNamesPathAndErrno) {
    const std::string path = dir_ + "/absent.json";
    auto loaded = load_spec(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().err, ENOENT);
    EXPECT_EQ(loaded.error().field, path);
    EXPECT_EQ(loaded.error().what(), path + ": cannot open: no such file or directory");  // lower case, as runc prints it
}

TEST_F(LoadSpec, DirectoryIsRejected) {
    auto loaded = load_spec(dir_);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().err, EISDIR);
    EXPECT_THAT(loaded.error().what(), StartsWith(dir_ + ": cannot read: "));
}

TEST_F(LoadSpec, FifoIsRejectedWithoutBlocking) {
    const std::string path = dir_ + "/config.json";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    // Opening a FIFO for reading blocks until a writer appears; keep one open meanwhile.
    const int writer = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(writer, 0);
    auto loaded = load_spec(path);
    ::close(writer);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().what(), path + ": not a regular file");
}

TEST_F(LoadSpec, UnreadableFileNamesErrno) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
    const std::string path = write("config.json", "{}");
    std::filesystem::permissions(path, std::filesystem::perms::none);
    auto loaded = load_spec(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().err, EACCES);
}

TEST_F(LoadSpec, InvalidJsonNamesTheFile) {
    const std::string path = write("config.json", "{\"ociVersion\": }");
    auto loaded = load_spec(path);
    ASSERT_FALSE(loaded);
    EXPECT_THAT(loaded.error().what(), StartsWith(path + ": invalid JSON at line 1, column "));
}

TEST_F(LoadSpec, TypeErrorsKeepTheJsonPath) {
    const std::string path = write("config.json", R"({"process": {"cwd": 1}})");
    auto loaded = load_spec(path);
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().what(), "process.cwd: expected a string, got number");
}

TEST(ParseSpec, TypicalConfigParsesAndValidatesWellUnderAMillisecond) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "timings are meaningless under AddressSanitizer";
#else
    const std::string text = test::read_text(test::source_path("specs/seccomp-example.json"));
    ASSERT_FALSE(text.empty());
    constexpr int rounds = 200;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) {
        auto parsed = parse_spec(text);
        ASSERT_TRUE(parsed) << parsed.error().what();
        ASSERT_TRUE(validate_spec(*parsed));
    }
    const auto per_round = (std::chrono::steady_clock::now() - start) / rounds;
    // Generous: the budget is 1 ms on a loaded CI machine; a typical config takes tens of µs.
    EXPECT_LT(per_round, std::chrono::microseconds(1000));
#endif
}

}  // namespace
}  // namespace hrun::spec
