// Malformed and hostile configs: each must be refused with a message naming the JSON field,
// and must leave the host as it was (mounts, processes, state directory, cgroups).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <regex>

#include "harness.hpp"

namespace hrun::itest {
namespace {

namespace fs = std::filesystem;

struct BadConfig {
    std::string name;                     // test name suffix
    std::function<void(Bundle&)> mutate;  // breaks the config (and sometimes the rootfs)
    std::string field;                    // JSON path the message must contain ("" = any)
    std::string reason;                   // case-insensitive regex the message must match
    bool raw = false;                     // mutate wrote config.json itself
    // Returns why the case cannot run on this host (it would be a valid config here).
    std::function<std::optional<std::string>()> unless;
    // Extra checks after the run (files that must not have appeared on the host).
    std::function<void(const Bundle&)> after;
};

std::ostream& operator<<(std::ostream& os, const BadConfig& c) { return os << c.name; }

json& namespaces(Bundle& b) { return b.config["linux"]["namespaces"]; }

// Index of the array element a case touched last: fields written "{i}" in the table name it.
size_t last_index = 0;

size_t namespace_index(Bundle& b, const std::string& type) {
    auto& ns = namespaces(b);
    for (size_t i = 0; i < ns.size(); ++i)
        if (ns[i]["type"] == type) return last_index = i;
    ns.push_back({{"type", type}});
    return last_index = ns.size() - 1;
}

// Appends to an array in the config; returns the new element's index.
size_t append(json& array, json value) {
    if (!array.is_array()) array = json::array();
    array.push_back(std::move(value));
    return last_index = array.size() - 1;
}

std::string resolve_field(std::string field) {
    auto pos = field.find("{i}");
    if (pos != std::string::npos) field.replace(pos, 3, std::to_string(last_index));
    return field;
}

void write_config_text(const Bundle& b, const std::string& text) {
    std::ofstream(b.dir() + "/config.json", std::ios::trunc) << text;
}

json seccomp_with(json rule) {
    return {{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", json::array({std::move(rule)})}};
}

std::string evil_name(const Bundle& b) { return "/tmp/hrun-evil-" + b.id(); }

std::optional<std::string> if_apparmor_enabled() {
    auto enabled = read_file("/sys/module/apparmor/parameters/enabled").value_or("N");
    if (!enabled.empty() && enabled[0] == 'Y') return "AppArmor is enabled here: the profile could be valid";
    return std::nullopt;
}

std::optional<std::string> if_selinux_enabled() {
    if (fs::exists("/sys/fs/selinux/enforce")) return "SELinux is enabled here: the label could be valid";
    return std::nullopt;
}

void expect_no_host_file(const std::string& path) {
    std::error_code ec;
    EXPECT_FALSE(fs::exists(fs::symlink_status(path, ec))) << "created on the host: " << path;
    fs::remove_all(path, ec);
}

// Field names are the ones a validator reports; the reasons are loose on purpose (any fair
// wording passes) but must say *something* about the problem.
std::vector<BadConfig> cases() {
    std::vector<BadConfig> c;
    const std::string any = ".";

    // --- JSON and types ---
    c.push_back({"BadJson", [](Bundle& b) { write_config_text(b, "{\"ociVersion\": \"1.2.0\", \"process\": {]}"); },
                 "", "json|parse|syntax|unexpected", true});
    c.push_back({"TruncatedJson",
                 [](Bundle& b) {
                     std::string text = b.config.dump(2);
                     write_config_text(b, text.substr(0, text.size() / 2));
                 },
                 "", "json|parse|syntax|unexpected|end", true});
    c.push_back({"ArgsIsAString", [](Bundle& b) { b.config["process"]["args"] = "/bin/sh -c true"; },
                 "process.args", "array|type|expected"});
    c.push_back({"ArgsElementIsANumber", [](Bundle& b) { b.config["process"]["args"] = json::array({"/bin/sh", 5}); },
                 "process.args[1]", "string|type|expected"});
    c.push_back({"ArgsEmpty", [](Bundle& b) { b.config["process"]["args"] = json::array(); },
                 "process.args", "empty|at least|required|missing"});
    c.push_back({"UidNegative", [](Bundle& b) { b.config["process"]["user"]["uid"] = -1; },
                 "process.user.uid", "unsigned|negative|range|expected|integer"});
    c.push_back({"UidIsAString", [](Bundle& b) { b.config["process"]["user"]["uid"] = "0"; },
                 "process.user.uid", "integer|number|type|expected"});
    c.push_back({"AdditionalGidsIsAString", [](Bundle& b) { b.config["process"]["user"]["additionalGids"] = "10"; },
                 "process.user.additionalGids", "array|type|expected"});
    c.push_back({"RlimitHardIsAString",
                 [](Bundle& b) {
                     b.config["process"]["rlimits"] =
                         json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", "1024"}}});
                 },
                 "process.rlimits[0].hard", "integer|number|type|expected"});
    c.push_back({"OciVersionMissing", [](Bundle& b) { b.config.erase("ociVersion"); }, "ociVersion",
                 "missing|required|absent|empty"});
    c.push_back({"RootMissing", [](Bundle& b) { b.config.erase("root"); }, "root", "missing|required|absent"});
    c.push_back({"ProcessMissing", [](Bundle& b) { b.config.erase("process"); }, "process",
                 "missing|required|absent"});

    // --- paths that must be absolute ---
    c.push_back({"RelativeMountDestination",
                 [](Bundle& b) {
                     append(b.config["mounts"], {{"destination", "mnt/data"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
                 },
                 "mounts[{i}].destination", "absolute|relative"});
    c.push_back({"RelativeCwd", [](Bundle& b) { b.config["process"]["cwd"] = "tmp"; }, "process.cwd",
                 "absolute|relative"});
    c.push_back({"RelativeMaskedPath", [](Bundle& b) { append(b.config["linux"]["maskedPaths"], "proc/kcore"); },
                 "linux.maskedPaths[{i}]", "absolute|relative"});
    c.push_back({"RelativeReadonlyPath", [](Bundle& b) { append(b.config["linux"]["readonlyPaths"], "proc/sys"); },
                 "linux.readonlyPaths[{i}]", "absolute|relative"});
    c.push_back({"RelativeHookPath",
                 [](Bundle& b) {
                     b.config["hooks"]["createRuntime"] = json::array({{{"path", "relative/hook"}}});
                 },
                 "hooks.createRuntime[0].path", "absolute|relative"});

    // --- names that must be known ---
    c.push_back({"UnknownNamespaceType", [](Bundle& b) { append(namespaces(b), {{"type", "bogus"}}); },
                 "linux.namespaces[{i}]", "unknown|invalid|unsupported|bogus"});
    c.push_back({"NamespaceListedTwice", [](Bundle& b) { append(namespaces(b), {{"type", "pid"}}); },
                 "linux.namespaces", "twice|duplicate|more than once|already"});
    c.push_back({"UnknownCapability",
                 [](Bundle& b) { append(b.config["process"]["capabilities"]["bounding"], "CAP_BOGUS"); },
                 "process.capabilities.bounding[{i}]", "unknown|invalid|CAP_BOGUS"});
    c.push_back({"UnknownRlimit",
                 [](Bundle& b) {
                     append(b.config["process"]["rlimits"], {{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}});
                 },
                 "process.rlimits[{i}]", "unknown|invalid|RLIMIT_BOGUS"});
    c.push_back({"RlimitSoftAboveHard",
                 [](Bundle& b) {
                     b.config["process"]["rlimits"] =
                         json::array({{{"type", "RLIMIT_NOFILE"}, {"soft", 2048}, {"hard", 1024}}});
                 },
                 "process.rlimits[0]", "soft|hard|greater|exceed"});
    c.push_back({"UnknownSeccompSyscall",
                 [](Bundle& b) {
                     b.config["linux"]["seccomp"] = seccomp_with(
                         {{"names", json::array({"not_a_syscall"})}, {"action", "SCMP_ACT_ERRNO"}});
                 },
                 "linux.seccomp.syscalls[0]", "unknown|invalid|not_a_syscall"});
    c.push_back({"UnknownSeccompAction",
                 [](Bundle& b) {
                     b.config["linux"]["seccomp"] =
                         seccomp_with({{"names", json::array({"mkdir"})}, {"action", "SCMP_ACT_BOGUS"}});
                 },
                 "linux.seccomp.syscalls[0].action", "unknown|invalid|SCMP_ACT_BOGUS"});
    c.push_back({"UnknownSeccompDefaultAction",
                 [](Bundle& b) { b.config["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_MAYBE"}}; },
                 "linux.seccomp.defaultAction", "unknown|invalid|SCMP_ACT_MAYBE"});
    c.push_back({"BadSeccompArgOp",
                 [](Bundle& b) {
                     b.config["linux"]["seccomp"] = seccomp_with(
                         {{"names", json::array({"personality"})},
                          {"action", "SCMP_ACT_ERRNO"},
                          {"args", json::array({{{"index", 0}, {"value", 1}, {"op", "SCMP_CMP_ALMOST"}}})}});
                 },
                 "linux.seccomp.syscalls[0].args[0].op", "unknown|invalid|SCMP_CMP_ALMOST"});
    c.push_back({"BadPropagation", [](Bundle& b) { b.config["linux"]["rootfsPropagation"] = "sideways"; },
                 "linux.rootfsPropagation", "unknown|invalid|sideways|propagation"});
    c.push_back({"UnknownDeviceType",
                 [](Bundle& b) {
                     b.config["linux"]["devices"] =
                         json::array({{{"type", "x"}, {"path", "/dev/hrun-x"}, {"major", 1}, {"minor", 3}}});
                 },
                 "linux.devices[0].type", "unknown|invalid|type"});

    // --- inconsistent combinations ---
    c.push_back({"OverlappingUidMaps",
                 [](Bundle& b) {
                     namespace_index(b, "user");
                     b.config["linux"]["uidMappings"] =
                         json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 1000}},
                                      {{"containerID", 500}, {"hostID", 200000}, {"size", 1000}}});
                     b.config["linux"]["gidMappings"] =
                         json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
                 },
                 "linux.uidMappings", "overlap"});
    c.push_back({"UidMapsWithoutUserNamespace",
                 [](Bundle& b) {
                     json map = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
                     b.config["linux"]["uidMappings"] = map;
                     b.config["linux"]["gidMappings"] = map;
                 },
                 "linux.uidMappings", "user"});
    c.push_back({"HostnameWithoutUtsNamespace",
                 [](Bundle& b) {
                     json kept = json::array();
                     for (const auto& n : namespaces(b))
                         if (n["type"] != "uts") kept.push_back(n);
                     namespaces(b) = kept;
                     b.config["hostname"] = "not-the-hosts";
                 },
                 "hostname", "uts"});
    c.push_back({"TimeOffsetsWithoutTimeNamespace",
                 [](Bundle& b) {
                     b.config["linux"]["timeOffsets"] = {{"monotonic", {{"secs", 10}, {"nanosecs", 0}}}};
                 },
                 "linux.timeOffsets", "time"});
    c.push_back({"SysctlNotNamespaced",
                 [](Bundle& b) { b.config["linux"]["sysctl"] = {{"kernel.core_pattern", "|/tmp/hrun-evil"}}; },
                 "linux.sysctl", "namespace|not allowed|permitted|unsupported|kernel.core_pattern"});
    c.push_back({"ApparmorProfileWithoutApparmor",
                 [](Bundle& b) { b.config["process"]["apparmorProfile"] = "hrun-test-profile"; },
                 "process.apparmorProfile", "apparmor", false, if_apparmor_enabled});
    c.push_back({"SelinuxLabelWithoutSelinux",
                 [](Bundle& b) { b.config["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"; },
                 "process.selinuxLabel", "selinux", false, if_selinux_enabled});
    c.push_back({"HugeOomScoreAdj", [](Bundle& b) { b.config["process"]["oomScoreAdj"] = 5000; },
                 "process.oomScoreAdj", "range|1000|invalid"});

    // --- hostile paths ---
    c.push_back({"DevicePathOutsideDev",
                 [](Bundle& b) {
                     b.config["linux"]["devices"] =
                         json::array({{{"type", "c"}, {"path", "/etc/hrun-null"}, {"major", 1}, {"minor", 3}}});
                 },
                 "linux.devices[0].path", "/dev"});
    c.push_back({"DevicePathEscapingDev",
                 [](Bundle& b) {
                     b.config["linux"]["devices"] =
                         json::array({{{"type", "c"}, {"path", "/dev/../etc/hrun-null"}, {"major", 1}, {"minor", 3}}});
                 },
                 "linux.devices[0].path", "/dev|\\.\\."});
    c.push_back({"CgroupsPathWithDotDot",
                 [](Bundle& b) { b.config["linux"]["cgroupsPath"] = "/../../hrun-evil-" + b.id(); },
                 "linux.cgroupsPath", "\\.\\.|escape|outside|invalid"});
    c.push_back({"RelativeCgroupsPathEscaping",
                 [](Bundle& b) { b.config["linux"]["cgroupsPath"] = "hrun-x/../../../hrun-evil-" + b.id(); },
                 "linux.cgroupsPath", "\\.\\.|escape|outside|invalid"});

    // --- resource limits (checked before any cgroup exists) ---
    c.push_back({"MemoryLimitNegative",
                 [](Bundle& b) { b.config["linux"]["resources"]["memory"] = {{"limit", -2}}; },
                 "linux.resources.memory.limit", "-2|below|negative|range"});
    c.push_back({"MemorySwapBelowLimit",
                 [](Bundle& b) {
                     b.config["linux"]["resources"]["memory"] = {{"limit", 64 << 20}, {"swap", 32 << 20}};
                 },
                 "linux.resources.memory.swap", "below|less|smaller"});
    c.push_back({"PidsLimitNegative", [](Bundle& b) { b.config["linux"]["resources"]["pids"] = {{"limit", -5}}; },
                 "linux.resources.pids.limit", "-5|below|negative|range"});
    c.push_back({"CpuQuotaNegative",
                 [](Bundle& b) { b.config["linux"]["resources"]["cpu"] = {{"quota", -20000}, {"period", 100000}}; },
                 "linux.resources.cpu.quota", "-20000|below|negative|range"});
    c.push_back({"CpuSharesNegative", [](Bundle& b) { b.config["linux"]["resources"]["cpu"] = {{"shares", -1}}; },
                 "linux.resources.cpu.shares", "unsigned|negative|range|expected|integer"});
    c.push_back({"BlkioWeightOutOfRange",
                 [](Bundle& b) { b.config["linux"]["resources"]["blockIO"] = {{"weight", 5}}; },
                 "linux.resources.blockIO.weight", "range|10|1000"});
    c.push_back({"UnifiedKeyUnknown",
                 [](Bundle& b) { b.config["linux"]["resources"]["unified"] = {{"memory.bogus", "1"}}; },
                 "linux.resources.unified[\"memory.bogus\"]", "no such|not exist|unknown|no cgroup file|cgroup v2"});
    c.push_back({"UnifiedKeyIsAPath",
                 [](Bundle& b) { b.config["linux"]["resources"]["unified"] = {{"../memory.max", "1"}}; },
                 "linux.resources.unified", "form|controller\\.file|invalid"});
    c.push_back({"UnifiedKeyManagedByHrun",
                 [](Bundle& b) { b.config["linux"]["resources"]["unified"] = {{"cgroup.procs", "1"}}; },
                 "linux.resources.unified[\"cgroup.procs\"]", "managed|reserved|cannot be set|cgroup v2"});
    c.push_back({"NamespacePathMissing",
                 [](Bundle& b) {
                     size_t i = namespace_index(b, "network");
                     namespaces(b)[i]["path"] = "/nonexistent/hrun-netns";
                 },
                 "linux.namespaces[{i}].path", "no such|not found|exist|open"});
    c.push_back({"RootfsMissing", [](Bundle& b) { b.config["root"]["path"] = "no-such-rootfs"; }, "root.path",
                 "no such|not found|exist|missing"});
    c.push_back({"RootPathIsAFile",
                 [](Bundle& b) {
                     std::ofstream(b.dir() + "/plain-file") << "not a directory\n";
                     b.config["root"]["path"] = "plain-file";
                 },
                 "root.path", "directory"});
    c.push_back({"MountDestinationSymlinkOutOfRootfs",
                 [](Bundle& b) {
                     fs::create_symlink("../../../../../../../.." + evil_name(b), b.rootfs() + "/mnt/evil");
                     append(b.config["mounts"], {{"destination", "/mnt/evil"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
                 },
                 "mounts[{i}].destination", "symlink|link|outside|escape|resolve|loop|no such|not a directory|exist", false, nullptr,
                 [](const Bundle& b) { expect_no_host_file(evil_name(b)); }});
    c.push_back({"CwdThroughProcSelfFd", [](Bundle& b) { b.config["process"]["cwd"] = "/proc/self/fd/3"; },
                 "process.cwd", any});
    c.push_back({"CwdMissing", [](Bundle& b) { b.config["process"]["cwd"] = "/no/such/dir"; }, "process.cwd", any});
    c.push_back({"Args0NotFound", [](Bundle& b) { b.config["process"]["args"] = json::array({"/bin/no-such-binary"}); },
                 "process.args", "no such|not found|exist|executable"});
    return c;
}

class BadConfigs : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigs, RefusedWithTheFieldAndNothingLeftBehind) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the base config has no user namespace";
    const BadConfig& c = GetParam();
    if (c.unless)
        if (auto why = c.unless()) GTEST_SKIP() << *why;

    Bundle b;
    ASSERT_TRUE(b.error().empty()) << b.error();
    b.set_args({"/bin/hrun-probe"});
    c.mutate(b);
    if (!c.raw) b.save();
    const std::string field = resolve_field(c.field);

    HostSnapshot before = HostSnapshot::take();
    RunOptions o;
    o.timeout = 20s;
    RunResult r = run_command(b.run_argv(), o);

    std::cout << "hrun exit " << r.status << ", stderr: " << r.err << std::flush;
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_NE(r.status, 0) << "a bad config was accepted\n" << r.describe();
    EXPECT_LT(r.status, 128) << "hrun died of a signal\n" << r.describe();
    EXPECT_EQ(r.out, "") << "the container process ran\n" << r.describe();
    EXPECT_NE(r.err.find("hrun: "), std::string::npos) << r.describe();
    if (!field.empty()) {
        EXPECT_NE(r.err.find(field), std::string::npos) << "field " << field << "\n" << r.describe();
    }
    EXPECT_TRUE(std::regex_search(r.err, std::regex(c.reason, std::regex::icase)))
        << "reason /" << c.reason << "/\n" << r.describe();
    EXPECT_EQ(r.err.find("Sanitizer"), std::string::npos) << r.describe();
    EXPECT_EQ(r.err.find("runtime error:"), std::string::npos) << r.describe();

    std::vector<std::string> leaks = HostSnapshot::take().leaks_since(before, b);
    std::string listed;
    for (const auto& l : leaks) listed += "\n  " + l;
    EXPECT_TRUE(leaks.empty()) << "left behind:" << listed;
    if (c.after) c.after(b);
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfigs, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<BadConfig>& info) { return info.param.name; });

// The table means something only if the unbroken config runs.
TEST(BadConfigsBaseline, UnmodifiedConfigRuns) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the base config has no user namespace";
    Bundle b;
    ASSERT_TRUE(b.error().empty()) << b.error();
    b.set_args({"/bin/hrun-probe", "exit", "0"});
    HostSnapshot before = HostSnapshot::take();
    RunResult r = b.run();
    EXPECT_EQ(r.status, 0) << r.describe();
    std::vector<std::string> leaks = HostSnapshot::take().leaks_since(before, b);
    std::string listed;
    for (const auto& l : leaks) listed += "\n  " + l;
    EXPECT_TRUE(leaks.empty()) << "left behind:" << listed;
}

TEST(BadConfigsBaseline, TableIsLargeEnough) { EXPECT_GE(cases().size(), 32u); }

}  // namespace
}  // namespace hrun::itest
