// linux.resources -> cgroup file writes: the conversions runc and crun use, and the files
// chosen on v2, hybrid and legacy layouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "cgroups/cgroups.hpp"
#include "samples.hpp"

namespace hrun::cgroups {
namespace {

constexpr int64_t MiB = 1024 * 1024;

// ---- conversions ----

TEST(Conversion, CpuSharesToWeight) {
    // runc (opencontainers/cgroups ConvertCPUSharesToCgroupV2Value, runc >= 1.3.2) and crun
    // (>= 1.23): weight = ceil(10^((l^2 + 125 l) / 612 - 7/34)) with l = log2(shares), clamped to
    // [1, 10000]. The first row is runc's own test table; 102 shares (Kubernetes' 100m) -> 17 is
    // the figure of the Kubernetes announcement of the new curve.
    struct Case { uint64_t shares, weight; };
    for (const Case c : {Case{0, 0}, Case{1, 1}, Case{2, 1}, Case{3, 2}, Case{1024, 100}, Case{262143, 10000},
                         Case{262144, 10000}, Case{262145, 10000},
                         Case{102, 17}, Case{512, 59}, Case{1000, 99}, Case{2048, 174}, Case{4096, 303},
                         Case{10000, 627}, Case{131072, 5478}, Case{1'000'000, 10000}})
        EXPECT_EQ(cpu_weight_from_shares(c.shares), c.weight) << "shares " << c.shares;
}

TEST(Conversion, CpuWeightGrowsWithShares) {
    // Relative weights keep their order: more shares never means less CPU.
    uint64_t previous = cpu_weight_from_shares(2);
    for (uint64_t shares = 3; shares <= 262144; shares += shares / 64 + 1) {
        const uint64_t weight = cpu_weight_from_shares(shares);
        EXPECT_GE(weight, previous) << "shares " << shares;
        EXPECT_GE(weight, 1u);
        EXPECT_LE(weight, 10000u);
        previous = weight;
    }
}

TEST(Conversion, BlkioWeightToIoWeight) {
    // runc and crun: io.weight = 1 + (w - 10) * 9999 / 990, the line from [10, 1000] onto
    // [1, 10000] (runc's table: 10 -> 1, 1000 -> 10000, 0 -> 0 unset). Out-of-range weights,
    // which validation refuses before this point, are clamped rather than wrapped.
    struct Case { uint64_t blkio, io; };
    for (const Case c : {Case{10, 1}, Case{1000, 10000}, Case{500, 4950}, Case{100, 910}, Case{11, 11},
                         Case{0, 0}, Case{5, 1}, Case{2000, 10000}})
        EXPECT_EQ(io_weight_from_blkio(c.blkio), c.io) << "blkio " << c.blkio;
}

TEST(Conversion, MemswToSwapMax) {
    // runc's ConvertMemorySwapToCgroupV2Value table (memory+swap, memory -> swap.max).
    struct Case { int64_t memsw, memory; std::optional<int64_t> swap; };
    for (const Case c : {
             Case{0, 0, 0},                  // all unset
             Case{-1, 0, -1},                // unlimited memory+swap, unset memory
             Case{300, -1, 300},             // unlimited memory: all of it is swap
             Case{-1, -1, -1},               // all unlimited
             Case{-2, 0, std::nullopt},      // negative memory+swap
             Case{-1, 1000, -1},             // unlimited memory+swap, set memory
             Case{1000, 1000, 0},            // memory+swap == memory: no swap at all
             Case{500, 200, 300},            // memory+swap > memory
             Case{300, 400, std::nullopt},   // memory+swap < memory
             Case{300, 0, std::nullopt},     // unset memory
             Case{300, -300, std::nullopt},  // negative memory
             Case{0, -1, -1},                // unlimited memory, swap unset: unlimited swap (v1 parity)
             Case{0, 32 * MiB, 0},           // swap unset
             Case{64 * MiB, 32 * MiB, 32 * MiB},
         }) {
        auto swap = swap_max_from_memsw(c.memsw, c.memory);
        if (c.swap) {
            ASSERT_TRUE(swap.has_value()) << c.memsw << ", " << c.memory << ": " << swap.error().what();
            EXPECT_EQ(*swap, *c.swap) << c.memsw << ", " << c.memory;
        } else {
            EXPECT_FALSE(swap.has_value()) << c.memsw << ", " << c.memory << " gave " << *swap;
        }
    }
}

// ---- plans ----

const Write* find(const Plan& p, std::string_view file) {
    auto it = std::find_if(p.writes.begin(), p.writes.end(), [&](const Write& w) { return w.file == file; });
    return it == p.writes.end() ? nullptr : &*it;
}

std::string value_of(const Plan& p, std::string_view file) {
    const Write* w = find(p, file);
    return w ? w->value : "<absent>";
}

PlanOptions no_devices() {
    PlanOptions o;
    o.devices = false;
    return o;
}

spec::Resources typical() {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 32 * MiB;
    r.memory->swap = 64 * MiB;
    r.memory->reservation = 16 * MiB;
    r.cpu = spec::CpuResources{};
    r.cpu->shares = 1024;
    r.cpu->quota = 50000;
    r.cpu->period = 100000;
    r.cpu->cpus = "0-1";
    r.pids = spec::PidsResources{32};
    return r;
}

TEST(PlanV2, MemoryCpuPidsFiles) {
    Layout l = samples::v2_host();
    auto p = plan_resources(typical(), l, no_devices());
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_EQ(value_of(*p, "memory.max"), "33554432");
    EXPECT_EQ(value_of(*p, "memory.swap.max"), "33554432");  // 64 MiB memory+swap = 32 MiB swap
    EXPECT_EQ(value_of(*p, "memory.low"), "16777216");
    EXPECT_EQ(value_of(*p, "cpu.weight"), "100");  // the v1 default maps to the v2 default
    EXPECT_EQ(value_of(*p, "cpu.max"), "50000 100000");
    EXPECT_EQ(value_of(*p, "cpuset.cpus"), "0-1");
    EXPECT_EQ(value_of(*p, "pids.max"), "32");
    for (const Write& w : p->writes) EXPECT_EQ(w.hierarchy, 0u);
    auto has = [&](const char* c) {
        return std::find(p->v2_controllers.begin(), p->v2_controllers.end(), c) != p->v2_controllers.end();
    };
    EXPECT_TRUE(has("memory") && has("cpu") && has("cpuset") && has("pids"));
    EXPECT_FALSE(has("io"));
    EXPECT_EQ(find(*p, "memory.max")->field, "linux.resources.memory.limit");
    EXPECT_FALSE(p->bpf_devices.has_value());
}

TEST(PlanV2, UnlimitedValuesAreMax) {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = -1;
    r.cpu = spec::CpuResources{};
    r.cpu->quota = -1;
    r.cpu->period = 250000;
    r.pids = spec::PidsResources{-1};
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(value_of(*p, "memory.max"), "max");
    EXPECT_EQ(value_of(*p, "memory.swap.max"), "max");
    EXPECT_EQ(value_of(*p, "cpu.max"), "max 250000");
    EXPECT_EQ(value_of(*p, "pids.max"), "max");
}

TEST(PlanV2, SwapEqualToLimitDisablesSwap) {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 32 * MiB;
    r.memory->swap = 32 * MiB;
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(value_of(*p, "memory.swap.max"), "0");
}

TEST(PlanV2, SwapWithoutLimitIsAnErrorOnTheSwapField) {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->swap = 32 * MiB;
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.memory.swap");
}

TEST(PlanV2, BlockIoHugepagesRdmaAndUnified) {
    spec::Resources r;
    r.blockIO = spec::BlockIoResources{};
    r.blockIO->weight = 500;
    r.blockIO->leafWeight = 300;  // no v2 equivalent: ignored
    r.blockIO->weightDevice.push_back({8, 0, uint16_t{100}, std::nullopt});
    r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
    r.blockIO->throttleWriteIOPSDevice.push_back({8, 16, 0});
    r.hugepageLimits.push_back({"2MB", 4 * 2 * MiB});
    r.rdma["mlx5_0"] = spec::RdmaLimit{3, 1000};
    r.unified["memory.high"] = "30M";
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_TRUE(p.has_value()) << p.error().what();
    const Write* weight = find(*p, "io.weight");
    ASSERT_NE(weight, nullptr);
    EXPECT_EQ(weight->value, "4950");
    EXPECT_EQ(weight->fallback_file, "io.bfq.weight");
    EXPECT_EQ(weight->fallback_value, "500");
    const auto io_weights = std::count_if(p->writes.begin(), p->writes.end(), [](const Write& w) {
        return w.file == "io.weight" && w.value == "8:0 910";
    });
    EXPECT_EQ(io_weights, 1);
    std::vector<std::string> io_max;
    for (const Write& w : p->writes)
        if (w.file == "io.max") io_max.push_back(w.value);
    EXPECT_EQ(io_max, (std::vector<std::string>{"8:0 rbps=1048576", "8:16 wiops=max"}));
    EXPECT_EQ(value_of(*p, "hugetlb.2MB.max"), "8388608");
    EXPECT_TRUE(find(*p, "hugetlb.2MB.rsvd.max")->if_exists);
    EXPECT_EQ(value_of(*p, "rdma.max"), "mlx5_0 hca_handle=3 hca_object=1000");
    EXPECT_EQ(value_of(*p, "memory.high"), "30M");
    EXPECT_EQ(p->writes.back().file, "memory.high");  // unified comes last and wins
    EXPECT_EQ(p->writes.back().field, "linux.resources.unified[\"memory.high\"]");
}

TEST(PlanV2, UnifiedKeysAreChecked) {
    spec::Resources r;
    r.unified["foo.bar"] = "1";
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.unified[\"foo.bar\"]");

    r.unified.clear();
    r.unified["cgroup.procs"] = "1";
    p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.unified[\"cgroup.procs\"]");

    r.unified.clear();
    r.unified["memory.high/x"] = "1";
    EXPECT_FALSE(plan_resources(r, samples::v2_host(), no_devices()).has_value());

    r.unified.clear();
    r.unified["cgroup.max.depth"] = "3";  // a core file: no controller to enable
    p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->writes[0].controller, "");
    EXPECT_TRUE(p->v2_controllers.empty());
}

TEST(PlanV2, RealtimeCpuIsRefused) {
    spec::Resources r;
    r.cpu = spec::CpuResources{};
    r.cpu->realtimeRuntime = 950000;
    auto p = plan_resources(r, samples::v2_host(), no_devices());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.cpu.realtimeRuntime");
}

TEST(PlanV2, DevicesBecomeABpfProgramWithTheDefaultsAppended) {
    spec::Resources r;
    r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "c", 10, 200, "rw"});
    auto p = plan_resources(r, samples::v2_host(), PlanOptions{});
    ASSERT_TRUE(p.has_value()) << p.error().what();
    ASSERT_TRUE(p->bpf_devices.has_value());
    const auto& rules = *p->bpf_devices;
    ASSERT_EQ(rules.size(), 2 + default_device_rules().size());
    EXPECT_EQ(rules[0], (DeviceRule{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}));
    EXPECT_EQ(rules[1], (DeviceRule{true, 'c', 10, 200, kAccessRead | kAccessWrite}));
    EXPECT_TRUE(std::equal(default_device_rules().begin(), default_device_rules().end(), rules.begin() + 2));
    EXPECT_TRUE(p->writes.empty());
}

TEST(PlanV1, HybridHostUsesV1FilesAndV2ForHugetlb) {
    Layout l = samples::hybrid_host();
    spec::Resources r = typical();
    r.memory->disableOOMKiller = true;
    r.memory->swappiness = 0;
    r.cpu->burst = 1000;
    r.cpu->realtimePeriod = 1000000;
    r.cpu->realtimeRuntime = 950000;
    r.blockIO = spec::BlockIoResources{};
    r.blockIO->weight = 500;
    r.blockIO->throttleReadBpsDevice.push_back({8, 0, 1048576});
    r.hugepageLimits.push_back({"1GB", 0});
    auto p = plan_resources(r, l, no_devices());
    ASSERT_TRUE(p.has_value()) << p.error().what();
    const std::size_t mem = *l.find("memory");
    EXPECT_EQ(find(*p, "memory.limit_in_bytes")->hierarchy, mem);
    EXPECT_EQ(value_of(*p, "memory.limit_in_bytes"), "33554432");
    EXPECT_EQ(value_of(*p, "memory.memsw.limit_in_bytes"), "67108864");  // v1 keeps memory+swap
    EXPECT_TRUE(find(*p, "memory.memsw.limit_in_bytes")->if_exists);
    EXPECT_EQ(value_of(*p, "memory.soft_limit_in_bytes"), "16777216");
    EXPECT_EQ(value_of(*p, "memory.oom_control"), "1");
    EXPECT_EQ(value_of(*p, "memory.swappiness"), "0");
    EXPECT_EQ(value_of(*p, "cpu.shares"), "1024");
    EXPECT_EQ(value_of(*p, "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(value_of(*p, "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(value_of(*p, "cpu.cfs_burst_us"), "1000");
    EXPECT_EQ(value_of(*p, "cpu.rt_period_us"), "1000000");
    EXPECT_EQ(value_of(*p, "cpu.rt_runtime_us"), "950000");
    EXPECT_EQ(find(*p, "cpuset.cpus")->hierarchy, *l.find("cpuset"));
    EXPECT_EQ(value_of(*p, "pids.max"), "32");
    EXPECT_EQ(value_of(*p, "blkio.weight"), "500");
    EXPECT_EQ(find(*p, "blkio.weight")->fallback_file, "blkio.bfq.weight");
    EXPECT_EQ(value_of(*p, "blkio.throttle.read_bps_device"), "8:0 1048576");
    // hugetlb lives in the cgroup2 hierarchy here, so it takes v2 names and must be enabled there.
    EXPECT_EQ(find(*p, "hugetlb.1GB.max")->hierarchy, *l.unified());
    EXPECT_EQ(p->v2_controllers, std::vector<std::string>{"hugetlb"});
    EXPECT_EQ(find(*p, "memory.max"), nullptr);
}

TEST(PlanV1, UnlimitedMemorySetsMemswUnlimitedToo) {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = -1;
    r.pids = spec::PidsResources{-1};
    auto p = plan_resources(r, samples::legacy_host(), no_devices());
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(value_of(*p, "memory.limit_in_bytes"), "-1");
    EXPECT_EQ(value_of(*p, "memory.memsw.limit_in_bytes"), "-1");
    EXPECT_EQ(value_of(*p, "pids.max"), "max");
}

TEST(PlanV1, NetworkNeedsItsControllers) {
    spec::Resources r;
    r.network.emplace();
    r.network->classID = 0x100001;
    r.network->priorities.push_back({"eth0", 5});
    auto legacy = plan_resources(r, samples::legacy_host(), no_devices());
    ASSERT_TRUE(legacy.has_value()) << legacy.error().what();
    EXPECT_EQ(value_of(*legacy, "net_cls.classid"), "1048577");
    EXPECT_EQ(value_of(*legacy, "net_prio.ifpriomap"), "eth0 5");

    auto hybrid = plan_resources(r, samples::hybrid_host(), no_devices());
    ASSERT_FALSE(hybrid.has_value());
    EXPECT_EQ(hybrid.error().field, "linux.resources.network.classID");
    EXPECT_NE(hybrid.error().message.find("net_cls"), std::string::npos);
}

TEST(PlanV1, UnifiedIsRefusedOffV2OnlyHosts) {
    spec::Resources r;
    r.unified["hugetlb.2MB.max"] = "0";
    for (const Layout& l : {samples::hybrid_host(), samples::legacy_host()}) {
        auto p = plan_resources(r, l, no_devices());
        ASSERT_FALSE(p.has_value());
        EXPECT_EQ(p.error().field, "linux.resources.unified[\"hugetlb.2MB.max\"]");
        EXPECT_NE(p.error().message.find("cgroup v2"), std::string::npos);
    }
}

TEST(PlanV1, DevicesStartFromDenyAllThenReplayTheRules) {
    spec::Resources r;
    r.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "b", 8, std::nullopt, "r"});
    r.devices.push_back({false, "c", 1, 3, "rw"});
    auto p = plan_resources(r, samples::hybrid_host(), PlanOptions{});
    ASSERT_TRUE(p.has_value()) << p.error().what();
    EXPECT_FALSE(p->bpf_devices.has_value());
    std::vector<std::string> lines;
    for (const Write& w : p->writes) lines.push_back(w.file + " " + w.value);
    ASSERT_EQ(lines.size(), 1 + 3 + default_device_rules().size());
    EXPECT_EQ(lines[0], "devices.deny a");
    EXPECT_EQ(lines[1], "devices.deny a *:* rwm");
    EXPECT_EQ(lines[2], "devices.allow b 8:* r");
    EXPECT_EQ(lines[3], "devices.deny c 1:3 rw");
    EXPECT_EQ(lines[4], "devices.allow c *:* m");
    EXPECT_EQ(lines.back(), "devices.allow c 136:* rwm");
    EXPECT_EQ(p->writes[2].field, "linux.resources.devices[1]");
}

TEST(Plan, DeviceRuleErrorsNameTheRule) {
    spec::Resources r;
    r.devices.push_back({false, "", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "c", 1, 3, ""});
    auto p = plan_resources(r, samples::v2_host(), PlanOptions{});
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.devices[1].access");
    r.devices[1] = {true, "x", 1, 3, "r"};
    p = plan_resources(r, samples::v2_host(), PlanOptions{});
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.devices[1].type");
}

TEST(Plan, MissingControllerIsAnErrorNamingTheField) {
    Layout l = samples::v2_host();
    l.hierarchies[0].controllers = {"memory"};  // e.g. a delegation without pids
    spec::Resources r;
    r.pids = spec::PidsResources{10};
    auto p = plan_resources(r, l, no_devices());
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().field, "linux.resources.pids.limit");
    EXPECT_NE(p.error().message.find("pids controller"), std::string::npos);
}

TEST(Plan, EmptyResourcesWriteNothingButTheDefaultDevices) {
    auto p = plan_resources(spec::Resources{}, samples::v2_host(), no_devices());
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(p->writes.empty());
    EXPECT_TRUE(p->v2_controllers.empty());
    p = plan_resources(spec::Resources{}, samples::v2_host(), PlanOptions{});
    ASSERT_TRUE(p.has_value());
    ASSERT_TRUE(p->bpf_devices.has_value());
    EXPECT_EQ(*p->bpf_devices, default_device_rules());
}

}  // namespace
}  // namespace hrun::cgroups
