// `hrun inspect` and `hrun stats` on running containers: what they print must be what the kernel
// says (checked here through /proc and the cgroup files independently) and what the config asked.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace hrun::itest {
namespace {

class Inspect : public ContainerTest {
protected:
    void TearDown() override { delete_all_containers(); }
    // Runs the bundle detached under `id` with `args`; returns the init's host pid.
    pid_t start(const std::string& id, const std::vector<std::string>& args) {
        bundle().set_args(args);
        bundle().save();
        RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
        EXPECT_EQ(r.status, 0) << r.describe();
        RunResult st = hrun({"state", id});
        return json::parse(st.out, nullptr, false).value("pid", 0);
    }
    json inspect_json(std::vector<std::string> args) {
        args.insert(args.begin(), {"inspect", "--format", "json"});
        RunResult r = hrun(args);
        EXPECT_EQ(r.status, 0) << r.describe();
        return json::parse(r.out, nullptr, false);
    }
    // A limited, filtered container: what the inspect tests compare against.
    void restrict_config() {
        json caps = json::array({"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"});
        bundle().config["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
        bundle().config["linux"]["resources"]["memory"] = {{"limit", 48 << 20}};
        bundle().config["linux"]["resources"]["pids"] = {{"limit", 20}};
        bundle().config["linux"]["seccomp"] = {
            {"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", json::array({{{"names", json::array({"mkdir", "mkdirat"})},
                                       {"action", "SCMP_ACT_ERRNO"},
                                       {"errnoRet", 1}}})}};
    }
};

std::string link_inode(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return "<none>";
    return std::to_string(st.st_ino);
}

TEST_F(Inspect, NamespacesAreTheKernelsInodes) {
    const std::string id = unique_id();
    const pid_t pid = start(id, {"/bin/sleep", "1000"});
    ASSERT_GT(pid, 0);
    const json j = inspect_json({id});
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.value("pid", 0), pid);
    EXPECT_EQ(j["pidInContainer"], 1);
    std::set<std::string> seen;
    for (const json& ns : j["namespaces"]) {
        const std::string type = ns.value("type", "");
        seen.insert(type);
        const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
        EXPECT_EQ(ns.value("path", ""), path);
        EXPECT_EQ(std::to_string(ns.value("inode", uint64_t{0})), link_inode(path)) << type;
        // The default config has no user namespace and makes every other kind but time.
        const bool shared = link_inode(path) == link_inode("/proc/self/ns/" + type);
        EXPECT_EQ(ns.value("sharedWithHost", !shared), shared) << type;
    }
    for (const char* type : {"cgroup", "ipc", "mnt", "net", "pid", "uts", "user"}) EXPECT_TRUE(seen.count(type)) << type;
    const std::string nsenter = j.value("nsenter", "");
    EXPECT_EQ(nsenter.rfind("nsenter -t " + std::to_string(pid) + " -m -u -i -n -p", 0), 0u) << nsenter;
    EXPECT_EQ(nsenter.find("-U"), std::string::npos) << nsenter;

    // The nsenter line works: it lands in the container's uts namespace.
    std::vector<std::string> argv;
    std::istringstream words(nsenter);
    for (std::string w; words >> w;) argv.push_back(w);
    ASSERT_FALSE(argv.empty());
    // The harness execs without a PATH search.
    for (const char* dir : {"/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"})
        if (::access((dir + argv[0]).c_str(), X_OK) == 0) {
            argv[0] = dir + argv[0];
            break;
        }
    if (argv[0].front() != '/') GTEST_SKIP() << "nsenter (util-linux) is not installed";
    argv.push_back("hostname");
    RunResult entered = run_command(argv);
    EXPECT_EQ(entered.status, 0) << entered.describe();
    EXPECT_EQ(entered.out, bundle().config.value("hostname", "") + "\n") << entered.describe();
}

TEST_F(Inspect, PrivilegesAndLimitsMatchTheConfig) {
    restrict_config();
    const std::string id = unique_id();
    const pid_t pid = start(id, {"/bin/sleep", "1000"});
    ASSERT_GT(pid, 0);
    const json j = inspect_json({id});
    ASSERT_TRUE(j.is_object());

    std::vector<std::string> want = bundle().config["process"]["capabilities"]["effective"];
    for (const char* set : {"effective", "permitted", "bounding"}) {
        std::vector<std::string> names = j["capabilities"][set]["names"];
        std::ranges::sort(names);
        std::ranges::sort(want);
        EXPECT_EQ(names, want) << set;
    }
    EXPECT_TRUE(j["capabilities"]["ambient"]["names"].empty());
    EXPECT_EQ(j["noNewPrivs"], true);
    EXPECT_EQ(j["seccomp"]["mode"], 2);
    EXPECT_EQ(j["seccomp"]["modeName"], "filter");
    if (!j["seccomp"]["filters"].is_null()) {
        EXPECT_GE(j["seccomp"]["filters"].get<int>(), 1);
    }

    // The limits shown are those in the cgroup files, and those the config asked for.
    ASSERT_TRUE(j["cgroup"].is_object()) << j.dump(2);
    EXPECT_EQ(j["cgroup"]["memory"]["limit"], 48 << 20) << j["cgroup"].dump(2);
    EXPECT_EQ(j["cgroup"]["pids"]["limit"], 20);
    EXPECT_EQ(j["cgroup"]["pids"]["current"], 1);
    bool saw_memory_file = false;
    for (const json& p : j["cgroup"]["placements"]) {
        const std::string dir = p.value("directory", "");
        if (dir.empty()) continue;
        EXPECT_NE(dir.find(id), std::string::npos) << dir;
        for (const char* file : {"/memory.limit_in_bytes", "/memory.max"})
            if (auto v = read_file(dir + file)) {
                EXPECT_EQ(*v, std::to_string(48 << 20) + "\n");
                saw_memory_file = true;
            }
    }
    EXPECT_TRUE(saw_memory_file) << j["cgroup"].dump(2);

    // The readable form says the same in words.
    RunResult table = hrun({"inspect", id});
    ASSERT_EQ(table.status, 0) << table.describe();
    EXPECT_NE(table.out.find("effective   CAP_CHOWN CAP_KILL CAP_NET_BIND_SERVICE\n"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("filter (mode 2)"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("limit 48MiB"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("1, limit 20\n"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("nsenter -t " + std::to_string(pid)), std::string::npos) << table.out;
}

TEST_F(Inspect, MountsShowTheReadOnlyRootMasksAndHostBinds) {
    const std::string shared = bundle().dir() + "/shared";
    ASSERT_EQ(::mkdir(shared.c_str(), 0755), 0);
    bundle().config["mounts"].push_back(
        {{"destination", "/data"}, {"type", "bind"}, {"source", shared}, {"options", {"bind", "ro"}}});
    const std::string id = unique_id();
    ASSERT_GT(start(id, {"/bin/sleep", "1000"}), 0);
    const json j = inspect_json({id});
    std::map<std::string, json> by_point;
    for (const json& m : j["mounts"]) by_point[m.value("mountPoint", "")] = m;
    char real[PATH_MAX];
    ASSERT_TRUE(::realpath(bundle().rootfs().c_str(), real));
    ASSERT_TRUE(by_point.count("/"));
    EXPECT_EQ(by_point["/"].value("kind", ""), "root");
    EXPECT_EQ(by_point["/"].value("readOnly", false), true);
    EXPECT_EQ(by_point["/"].value("hostSource", ""), real);
    ASSERT_TRUE(by_point.count("/data")) << j["mounts"].dump(1);
    EXPECT_EQ(by_point["/data"].value("kind", ""), "host-bind");
    EXPECT_EQ(by_point["/data"].value("readOnly", false), true);
    ASSERT_TRUE(::realpath(shared.c_str(), real));
    EXPECT_EQ(by_point["/data"].value("hostSource", ""), real);
    ASSERT_TRUE(by_point.count("/proc/sys"));
    EXPECT_EQ(by_point["/proc/sys"].value("kind", ""), "readonly-path");
    // Masked paths that exist on this kernel: a directory gets a read-only tmpfs, a file /dev/null.
    int masked = 0;
    for (const std::string path : bundle().config["linux"]["maskedPaths"]) {
        if (!by_point.count(path)) continue;
        ++masked;
        EXPECT_EQ(by_point[path].value("kind", ""), "masked") << path;
        struct stat st;
        if (::stat(path.c_str(), &st) == 0) {
            EXPECT_EQ(by_point[path].value("coveredBy", ""), S_ISDIR(st.st_mode) ? "read-only tmpfs" : "/dev/null")
                << path;
        }
    }
    EXPECT_GT(masked, 0) << j["mounts"].dump(1);
}

TEST_F(Inspect, NamespacesSharedWithAnotherContainerAreNamed) {
    const std::string first = unique_id();
    const pid_t pid = start(first, {"/bin/sleep", "1000"});
    ASSERT_GT(pid, 0);
    for (json& ns : bundle().config["linux"]["namespaces"])
        if (ns.value("type", "") == "network") ns["path"] = "/proc/" + std::to_string(pid) + "/ns/net";
    const std::string second = unique_id();
    ASSERT_GT(start(second, {"/bin/sleep", "1000"}), 0);
    const json j = inspect_json({second});
    for (const json& ns : j["namespaces"]) {
        const std::string type = ns.value("type", "");
        if (type == "net") {
            EXPECT_EQ(ns["sharedWith"], json::array({first})) << ns.dump();
        } else if (type == "uts" || type == "mnt") {
            EXPECT_TRUE(ns["sharedWith"].empty()) << ns.dump();
        }
    }

    RunResult diff = hrun({"inspect", "--format", "json", "--diff", first, second});
    ASSERT_EQ(diff.status, 0) << diff.describe();
    const json d = json::parse(diff.out, nullptr, false);
    std::map<std::string, bool> differs;
    for (const json& row : d["rows"]) differs[row.value("section", "") + " " + row.value("item", "")] = row["differs"];
    EXPECT_FALSE(differs.at("namespace net"));
    EXPECT_TRUE(differs.at("namespace uts"));
    EXPECT_FALSE(differs.at("limit memory"));

    RunResult host = hrun({"inspect", "--diff", first, "host"});
    ASSERT_EQ(host.status, 0) << host.describe();
    EXPECT_NE(host.out.find("namespace net"), std::string::npos) << host.out;
    EXPECT_NE(host.out.find("differs"), std::string::npos) << host.out;
}

TEST_F(Inspect, PidOfAnotherProcessOfTheContainer) {
    const std::string id = unique_id();
    ASSERT_GT(start(id, {"/bin/sh", "-c", "sleep 1000 & wait"}), 0);
    pid_t child = 0;
    for (int i = 0; i < 100 && !child; ++i) {
        RunResult ps = hrun({"ps", "--format", "json", id});
        for (const json& p : json::parse(ps.out, nullptr, false))
            if (process_comm(p.get<pid_t>()) == "sleep") child = p.get<pid_t>();
        if (!child) std::this_thread::sleep_for(20ms);
    }
    ASSERT_GT(child, 0);
    const json j = inspect_json({"--pid", std::to_string(child), id});
    EXPECT_EQ(j.value("pid", 0), child);
    EXPECT_EQ(j["name"], "sleep");
    EXPECT_GT(j.value("pidInContainer", 0), 1);

    RunResult outsider = hrun({"inspect", "--pid", std::to_string(::getpid()), id});
    EXPECT_NE(outsider.status, 0);
    EXPECT_NE(outsider.err.find("--pid"), std::string::npos) << outsider.describe();
    RunResult missing = hrun({"inspect", "no-such-container"});
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.describe();
}

TEST_F(Inspect, StatsShowUsageAgainstTheLimits) {
    restrict_config();
    const std::string idle = unique_id();
    ASSERT_GT(start(idle, {"/bin/sleep", "1000"}), 0);
    const std::string busy = unique_id();
    ASSERT_GT(start(busy, {"/bin/sh", "-c", "while :; do :; done"}), 0);

    RunResult r = hrun({"stats", "--format", "json", "--interval", "0.5"});
    ASSERT_EQ(r.status, 0) << r.describe();
    const json rows = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(rows.is_array()) << r.out;
    ASSERT_EQ(rows.size(), 2u) << r.out;
    for (const json& row : rows) {
        EXPECT_EQ(row["data"]["memory"]["usage"]["limit"], 48 << 20) << row.dump();
        EXPECT_EQ(row["data"]["pids"]["limit"], 20) << row.dump();
        EXPECT_EQ(row["data"]["pids"]["current"], 1) << row.dump();
        EXPECT_GT(row["data"]["memory"]["usage"].value("usage", 0), 0) << row.dump();
        const double cpu = row.value("cpuPercent", -1.0);
        // A shell spinning takes most of a CPU; a sleeping one almost none.
        if (row["id"] == busy) {
            EXPECT_GT(cpu, 30.0) << row.dump();
        } else {
            EXPECT_LT(cpu, 10.0) << row.dump();
        }
    }

    RunResult table = hrun({"stats", "--interval", "0.2", idle});
    ASSERT_EQ(table.status, 0) << table.describe();
    EXPECT_EQ(table.out.rfind("CONTAINER", 0), 0u) << table.out;
    EXPECT_NE(table.out.find(idle + " "), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("/ 48MiB"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("1 / 20"), std::string::npos) << table.out;
    EXPECT_EQ(table.out.find(busy), std::string::npos) << "only the named container";

    // --watch redraws in place until interrupted.
    RunResult watch = hrun({"stats", "--watch", "--interval", "0.2", idle}, {.timeout = 1500ms});
    EXPECT_TRUE(watch.timed_out);
    std::size_t redraws = 0;
    for (auto at = watch.out.find("\033[2J\033[H"); at != std::string::npos; at = watch.out.find("\033[2J\033[H", at + 1))
        ++redraws;
    EXPECT_GE(redraws, 2u) << watch.describe();

    EXPECT_NE(hrun({"stats", "no-such-container"}).status, 0);
}

class InspectUserNamespace : public Inspect {
protected:
    BundleOptions bundle_options() const override {
        BundleOptions o;
        o.chown = "100000:100000";
        return o;
    }
};

TEST_F(InspectUserNamespace, RootIsAnUnprivilegedHostUid) {
    if (link_inode("/proc/self/ns/user") == "<none>")
        GTEST_SKIP() << "this kernel has no user namespaces";
    bundle().add_namespace("user");
    json map = json::array({{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}});
    bundle().config["linux"]["uidMappings"] = map;
    bundle().config["linux"]["gidMappings"] = map;
    const std::string id = unique_id();
    const pid_t pid = start(id, {"/bin/sleep", "1000"});
    ASSERT_GT(pid, 0);
    const json j = inspect_json({id});
    EXPECT_EQ(j["uidMap"]["rootOnHost"], 100000);
    EXPECT_EQ(j["uidMap"]["identity"], false);
    EXPECT_EQ(j["gidMap"]["rootOnHost"], 100000);
    EXPECT_EQ(j["uids"][0], 100000);
    for (const json& ns : j["namespaces"]) {
        if (ns["type"] == "user") {
            EXPECT_FALSE(ns.value("sharedWithHost", true));
        }
    }
    EXPECT_NE(j.value("nsenter", "").find(" -U"), std::string::npos) << j["nsenter"];
    RunResult table = hrun({"inspect", id});
    EXPECT_NE(table.out.find("uid 100000 on the host"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace hrun::itest
