// The pure parts of the output: byte units, the nsenter line, the diff rows, the stats table
// and CPU percentages.
#include <gtest/gtest.h>

#include "inspect/inspect.hpp"
#include "inspect/stats.hpp"

namespace hrun::inspect {
namespace {

TEST(HumanBytes, BinaryUnitsWithoutTrailingZeros) {
    EXPECT_EQ(human_bytes(0), "0B");
    EXPECT_EQ(human_bytes(1023), "1023B");
    EXPECT_EQ(human_bytes(1024), "1KiB");
    EXPECT_EQ(human_bytes(1536), "1.5KiB");
    EXPECT_EQ(human_bytes(32 << 20), "32MiB");
    EXPECT_EQ(human_bytes(1288490188), "1.2GiB");
    EXPECT_EQ(human_bytes(123456789), "118MiB");
}

std::vector<NamespaceInfo> namespaces(std::initializer_list<std::pair<const char*, bool>> types) {
    std::vector<NamespaceInfo> out;
    uint64_t inode = 4026532000;
    for (const auto& [type, shared] : types) out.push_back({type, ++inode, "", shared, {}});
    return out;
}

TEST(Nsenter, FlagsForTheNamespacesNotSharedWithTheHost) {
    EXPECT_EQ(nsenter_command(4242, namespaces({{"cgroup", false}, {"ipc", false}, {"mnt", false}, {"net", false},
                                                {"pid", false}, {"time", true}, {"user", true}, {"uts", false}})),
              "nsenter -t 4242 -m -u -i -n -p -C");
    EXPECT_EQ(nsenter_command(7, namespaces({{"mnt", false}, {"user", false}, {"net", true}})), "nsenter -t 7 -m -U");
}

Report report(const std::string& id, uint64_t net_inode, std::optional<uint64_t> memory_limit) {
    Report r;
    r.id = id;
    r.process.namespaces = {{"net", net_inode, "", false, {}}, {"uts", 4026531838, "", true, {}}};
    r.process.uid_map.root_on_host = 0;
    r.process.status.cap_effective = 0x20;
    r.process.status.seccomp = 2;
    r.process.status.seccomp_filters = 1;
    if (memory_limit) {
        CgroupInfo c;
        c.stats.memory_limit = memory_limit;
        c.stats.pids_limit = 20;
        r.process.cgroup = c;
    }
    return r;
}

const DiffRow& row(const std::vector<DiffRow>& rows, const std::string& item) {
    for (const DiffRow& r : rows)
        if (r.item == item) return r;
    ADD_FAILURE() << "no row " << item;
    static DiffRow none;
    return none;
}

TEST(Diff, MarksWhatDiffers) {
    const Report a = report("a", 4026532100, 32 << 20);
    const Report b = report("b", 4026532200, std::nullopt);
    const auto rows = diff_reports(a, b);
    EXPECT_TRUE(row(rows, "net").differs);
    EXPECT_EQ(row(rows, "net").left, "4026532100");
    EXPECT_FALSE(row(rows, "uts").differs);
    EXPECT_TRUE(row(rows, "memory").differs);
    EXPECT_EQ(row(rows, "memory").left, "32MiB");
    EXPECT_EQ(row(rows, "memory").right, "max");
    EXPECT_EQ(row(rows, "pids").left, "20");
    EXPECT_FALSE(row(rows, "seccomp").differs);
    EXPECT_EQ(row(rows, "seccomp").left, "filter (1)");

    const std::string text = format_diff(a, b, rows);
    EXPECT_NE(text.find("namespace net"), std::string::npos) << text;
    EXPECT_NE(text.find("differs"), std::string::npos) << text;
    const auto j = diff_json(a, b, rows);
    EXPECT_EQ(j["left"], "a");
    EXPECT_EQ(j["rows"].size(), rows.size());
}

TEST(Report, AContainerWithoutItsOwnCgroupSaysNothingLimitsIt) {
    Report r = report("rootless", 4026532100, 64 << 20);
    r.status = "running";
    r.process.cgroup->placements = {{2, {}, "/user.slice/session-1.scope", ""}};
    r.own_cgroup = false;
    const std::string text = format_report(r);
    EXPECT_NE(text.find("none of its own"), std::string::npos) << text;
    EXPECT_NE(text.find("/user.slice/session-1.scope"), std::string::npos) << text;
    EXPECT_EQ(text.find("limit 64MiB"), std::string::npos) << "the creator's limits are not the container's\n" << text;
    const auto j = report_json(r);
    EXPECT_FALSE(j["ownCgroup"].get<bool>());
    EXPECT_TRUE(j["cgroup"].is_null());

    r.own_cgroup = true;
    EXPECT_EQ(format_report(r).find("none of its own"), std::string::npos);
    EXPECT_TRUE(report_json(r)["ownCgroup"].get<bool>());
}

TEST(Report, IdmappedMountsAreNamed) {
    Report r = report("remapped", 4026532100, std::nullopt);
    r.status = "running";
    MountView root;
    root.kind = MountKind::Root;
    root.entry.mount_point = "/";
    root.entry.options = {"ro", "relatime", "idmapped"};
    root.host_source = "/srv/bundle/rootfs";
    MountView plain = root;
    plain.kind = MountKind::HostBind;
    plain.entry.mount_point = "/data";
    plain.entry.options = {"rw"};
    plain.host_source = "/srv/data";
    r.process.mounts = {root, plain};
    const std::string text = format_report(r);
    const auto root_line = text.substr(text.find("  /  "), text.find('\n', text.find("  /  ")) - text.find("  /  "));
    EXPECT_NE(root_line.find("idmapped"), std::string::npos) << text;
    const auto data_line = text.substr(text.find("  /data"), text.find('\n', text.find("  /data")) - text.find("  /data"));
    EXPECT_EQ(data_line.find("idmapped"), std::string::npos) << text;
}

TEST(Stats, CpuPercentOfOneCpu) {
    using namespace std::chrono_literals;
    EXPECT_DOUBLE_EQ(cpu_percent(0, 500'000'000, 1s), 50.0);
    EXPECT_DOUBLE_EQ(cpu_percent(1'000'000'000, 3'000'000'000, 1s), 200.0);
    EXPECT_DOUBLE_EQ(cpu_percent(5, 4, 1s), 0.0);  // a counter that went back (cgroup recreated)
    EXPECT_DOUBLE_EQ(cpu_percent(0, 10, 0s), 0.0);
}

TEST(Stats, TableAndJson) {
    cgroups::Stats s;
    s.memory_usage = 1536 * 1024;
    s.memory_limit = 32 << 20;
    s.pids_current = 3;
    s.pids_limit = 20;
    s.io = {{8, 0, 4096, 8192, 1, 2}};
    std::vector<StatsRow> rows{{"web", "running", s, 12.5},
                               {"old", "stopped", std::nullopt, std::nullopt},
                               {"mine", "running", std::nullopt, std::nullopt, false}};
    const std::string text = format_stats_table(rows);
    EXPECT_EQ(text,
              "CONTAINER   CPU %    MEM USAGE / LIMIT                    MEM %   PIDS / LIMIT   BLOCK I/O (READ / WRITE)\n"
              "web         12.50%   1.5MiB / 32MiB                       4.69%   3 / 20         4KiB / 8KiB\n"
              "old         --       -- (stopped)                         --      --             --\n"
              "mine        --       -- (running, no cgroup of its own)   --      --             --\n");
    const auto j = stats_rows_json(rows);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["ownCgroup"], true);
    EXPECT_EQ(j[2]["ownCgroup"], false);
    EXPECT_TRUE(j[2]["data"].is_null());
    EXPECT_EQ(j[0]["id"], "web");
    EXPECT_DOUBLE_EQ(j[0]["cpuPercent"].get<double>(), 12.5);
    EXPECT_EQ(j[0]["data"]["pids"]["limit"], 20);
    EXPECT_EQ(j[0]["data"]["memory"]["usage"]["limit"], 32 << 20);
    EXPECT_TRUE(j[1]["data"].is_null());
}

}  // namespace
}  // namespace hrun::inspect
