// linux.resources -> the cgroup file writes for this host: for each controller, the files of
// the hierarchy version that enforces it. Pure: nothing here touches the filesystem.
#include <algorithm>
#include <array>
#include <cmath>

#include "cgroups/cgroups.hpp"

namespace hrun::cgroups {
namespace {

std::string str(int64_t v) { return std::to_string(v); }
std::string str(uint64_t v) { return std::to_string(v); }
// v2 spells "unlimited" as max; v1 files take -1.
std::string v2_limit(int64_t v) { return v < 0 ? "max" : std::to_string(v); }
std::string device(int64_t major, int64_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }
std::string indexed(std::string_view base, std::size_t i) { return std::string(base) + "[" + std::to_string(i) + "]"; }
std::string keyed(std::string_view base, std::string_view key) {
    return std::string(base) + "[\"" + std::string(key) + "\"]";
}

class Builder {
public:
    explicit Builder(const Layout& layout) : layout_(layout) {}

    // The hierarchy enforcing `controller`, or an error naming the field that needs it.
    Result<std::size_t> need(std::string_view controller, const std::string& field) const {
        if (auto i = layout_.find(controller)) return *i;
        return fail(field, "needs the " + std::string(controller) + " controller, which this host does not offer (" +
                               std::string(mode_name(layout_.mode)) + ")");
    }
    int version(std::size_t h) const { return layout_.hierarchies[h].version; }

    Write& add(std::size_t h, std::string_view controller, std::string file, std::string value, std::string field) {
        Write w;
        w.hierarchy = h;
        w.controller = std::string(controller);
        w.file = std::move(file);
        w.value = std::move(value);
        w.field = std::move(field);
        plan_.writes.push_back(std::move(w));
        if (version(h) == 2 && !controller.empty() &&
            std::find(plan_.v2_controllers.begin(), plan_.v2_controllers.end(), controller) == plan_.v2_controllers.end())
            plan_.v2_controllers.emplace_back(controller);
        return plan_.writes.back();
    }

    Plan& plan() { return plan_; }
    const Layout& layout() const { return layout_; }

private:
    const Layout& layout_;
    Plan plan_;
};

constexpr std::string_view kMem = "linux.resources.memory";
constexpr std::string_view kCpu = "linux.resources.cpu";

std::string f(std::string_view base, std::string_view member) { return std::string(base) + "." + std::string(member); }

Status memory(Builder& b, const spec::MemoryResources& m) {
    // kernel (kmem) limits are no longer enforced by kernels since 5.x and runc ignores them;
    // useHierarchy and checkBeforeUpdate have no file on current kernels either.
    const bool any = m.limit || m.reservation || (m.swap && *m.swap != 0) || m.kernelTCP || m.swappiness ||
                     (m.disableOOMKiller && *m.disableOOMKiller);
    if (!any) return ok();
    const std::size_t h = HRUN_TRY(b.need("memory", std::string(kMem)));
    if (b.version(h) == 1) {
        if (m.limit) b.add(h, "memory", "memory.limit_in_bytes", str(*m.limit), f(kMem, "limit"));
        // memsw exists only with swap accounting; without it there is no swap limit to set.
        if (m.swap && *m.swap != 0)
            b.add(h, "memory", "memory.memsw.limit_in_bytes", str(*m.swap), f(kMem, "swap")).if_exists = true;
        else if (m.limit && *m.limit == -1)
            b.add(h, "memory", "memory.memsw.limit_in_bytes", "-1", f(kMem, "swap")).if_exists = true;
        if (m.reservation) b.add(h, "memory", "memory.soft_limit_in_bytes", str(*m.reservation), f(kMem, "reservation"));
        if (m.kernelTCP)
            b.add(h, "memory", "memory.kmem.tcp.limit_in_bytes", str(*m.kernelTCP), f(kMem, "kernelTCP")).if_exists = true;
        if (m.swappiness) b.add(h, "memory", "memory.swappiness", str(*m.swappiness), f(kMem, "swappiness"));
        if (m.disableOOMKiller && *m.disableOOMKiller)
            b.add(h, "memory", "memory.oom_control", "1", f(kMem, "disableOOMKiller"));
        return ok();
    }
    // v2: swappiness and disableOOMKiller have no equivalent; kernelTCP is part of memory.max.
    if (m.limit) b.add(h, "memory", "memory.max", v2_limit(*m.limit), f(kMem, "limit"));
    auto swap = swap_max_from_memsw(m.swap.value_or(0), m.limit.value_or(0));
    if (!swap) return fail(f(kMem, "swap"), swap.error().message);
    // 0 is "unset" except when swap equals the limit: then it means "no swap at all".
    if (*swap != 0 || (m.swap && *m.swap > 0))
        b.add(h, "memory", "memory.swap.max", v2_limit(*swap), f(kMem, "swap")).if_exists = true;
    if (m.reservation) b.add(h, "memory", "memory.low", v2_limit(*m.reservation), f(kMem, "reservation"));
    return ok();
}

Status cpu(Builder& b, const spec::CpuResources& c) {
    const bool shares = c.shares && *c.shares != 0;
    const bool quota = c.quota && *c.quota != 0;
    const bool period = c.period && *c.period != 0;
    const bool rt_runtime = c.realtimeRuntime && *c.realtimeRuntime != 0;
    const bool rt_period = c.realtimePeriod && *c.realtimePeriod != 0;
    if (shares || quota || period || c.burst || rt_runtime || rt_period || c.idle) {
        const std::size_t h = HRUN_TRY(b.need("cpu", std::string(kCpu)));
        if (b.version(h) == 1) {
            if (shares) b.add(h, "cpu", "cpu.shares", str(*c.shares), f(kCpu, "shares"));
            // Period before quota: a failing pair is retried in the other order anyway.
            if (period) b.add(h, "cpu", "cpu.cfs_period_us", str(*c.period), f(kCpu, "period"));
            if (quota) b.add(h, "cpu", "cpu.cfs_quota_us", str(*c.quota), f(kCpu, "quota"));
            if (c.burst) b.add(h, "cpu", "cpu.cfs_burst_us", str(*c.burst), f(kCpu, "burst"));
            if (rt_period) b.add(h, "cpu", "cpu.rt_period_us", str(*c.realtimePeriod), f(kCpu, "realtimePeriod"));
            if (rt_runtime) b.add(h, "cpu", "cpu.rt_runtime_us", str(*c.realtimeRuntime), f(kCpu, "realtimeRuntime"));
            if (c.idle) b.add(h, "cpu", "cpu.idle", str(*c.idle), f(kCpu, "idle"));
        } else {
            if (rt_runtime || rt_period)
                return fail(f(kCpu, rt_runtime ? "realtimeRuntime" : "realtimePeriod"),
                            "real-time CPU bandwidth needs cgroup v1 (cgroup v2 has no cpu.rt_* files)");
            if (shares) b.add(h, "cpu", "cpu.weight", str(cpu_weight_from_shares(*c.shares)), f(kCpu, "shares"));
            if (quota || period) {
                std::string max = quota && *c.quota > 0 ? str(*c.quota) : "max";
                if (period) max += " " + str(*c.period);
                b.add(h, "cpu", "cpu.max", max, f(kCpu, quota ? "quota" : "period"));
            }
            if (c.burst) b.add(h, "cpu", "cpu.max.burst", str(*c.burst), f(kCpu, "burst"));
            if (c.idle) b.add(h, "cpu", "cpu.idle", str(*c.idle), f(kCpu, "idle"));
        }
    }
    if (!c.cpus.empty() || !c.mems.empty()) {
        const std::size_t h = HRUN_TRY(b.need("cpuset", f(kCpu, c.cpus.empty() ? "mems" : "cpus")));
        if (!c.cpus.empty()) b.add(h, "cpuset", "cpuset.cpus", c.cpus, f(kCpu, "cpus"));
        if (!c.mems.empty()) b.add(h, "cpuset", "cpuset.mems", c.mems, f(kCpu, "mems"));
    }
    return ok();
}

Status pids(Builder& b, const spec::PidsResources& p) {
    // 0 means "not set", as in runc; -1 (or any negative) is unlimited.
    if (!p.limit || *p.limit == 0) return ok();
    const std::size_t h = HRUN_TRY(b.need("pids", "linux.resources.pids.limit"));
    b.add(h, "pids", "pids.max", v2_limit(*p.limit), "linux.resources.pids.limit");
    return ok();
}

struct Throttle {
    const std::vector<spec::ThrottleDevice>* list;
    std::string_view name;     // config member
    std::string_view v1_file;  // blkio.throttle.*
    std::string_view v2_key;   // io.max key
};

Status block_io(Builder& b, const spec::BlockIoResources& io) {
    constexpr std::string_view base = "linux.resources.blockIO";
    const std::array<Throttle, 4> throttles = {{
        {&io.throttleReadBpsDevice, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps"},
        {&io.throttleWriteBpsDevice, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps"},
        {&io.throttleReadIOPSDevice, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops"},
        {&io.throttleWriteIOPSDevice, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops"},
    }};
    const bool weight = io.weight && *io.weight != 0;
    const bool leaf = io.leafWeight && *io.leafWeight != 0;
    bool any = weight || leaf || !io.weightDevice.empty();
    for (const Throttle& t : throttles) any = any || !t.list->empty();
    if (!any) return ok();

    const auto v1 = b.layout().find("blkio");
    const std::size_t h = v1 ? *v1 : HRUN_TRY(b.need("io", std::string(base)));
    const std::string_view ctl = v1 ? "blkio" : "io";
    if (b.version(h) == 1) {
        if (weight) b.add(h, ctl, "blkio.weight", str(uint64_t{*io.weight}), f(base, "weight")).fallback_file = "blkio.bfq.weight";
        if (leaf) b.add(h, ctl, "blkio.leaf_weight", str(uint64_t{*io.leafWeight}), f(base, "leafWeight"));
        for (std::size_t i = 0; i < io.weightDevice.size(); ++i) {
            const spec::WeightDevice& d = io.weightDevice[i];
            const std::string field = indexed(f(base, "weightDevice"), i);
            if (d.weight)
                b.add(h, ctl, "blkio.weight_device", device(d.major, d.minor) + " " + str(uint64_t{*d.weight}), field)
                    .fallback_file = "blkio.bfq.weight_device";
            if (d.leafWeight)
                b.add(h, ctl, "blkio.leaf_weight_device", device(d.major, d.minor) + " " + str(uint64_t{*d.leafWeight}), field);
        }
        for (const Throttle& t : throttles)
            for (std::size_t i = 0; i < t.list->size(); ++i) {
                const spec::ThrottleDevice& d = (*t.list)[i];
                b.add(h, ctl, std::string(t.v1_file), device(d.major, d.minor) + " " + str(d.rate),
                      indexed(f(base, t.name), i));
            }
        return ok();
    }
    // v2: leaf weights have no equivalent. BFQ's io.bfq.weight takes the v1 range unconverted.
    if (weight) {
        Write& w = b.add(h, ctl, "io.weight", str(io_weight_from_blkio(*io.weight)), f(base, "weight"));
        w.fallback_file = "io.bfq.weight";
        w.fallback_value = str(uint64_t{*io.weight});
    }
    for (std::size_t i = 0; i < io.weightDevice.size(); ++i) {
        const spec::WeightDevice& d = io.weightDevice[i];
        if (!d.weight) continue;
        Write& w = b.add(h, ctl, "io.weight", device(d.major, d.minor) + " " + str(io_weight_from_blkio(*d.weight)),
                         indexed(f(base, "weightDevice"), i));
        w.fallback_file = "io.bfq.weight";
        w.fallback_value = device(d.major, d.minor) + " " + str(uint64_t{*d.weight});
    }
    for (const Throttle& t : throttles)
        for (std::size_t i = 0; i < t.list->size(); ++i) {
            const spec::ThrottleDevice& d = (*t.list)[i];
            // v1 removes a throttle when given 0; v2 spells that "max".
            const std::string rate = d.rate == 0 ? "max" : str(d.rate);
            b.add(h, ctl, "io.max", device(d.major, d.minor) + " " + std::string(t.v2_key) + "=" + rate,
                  indexed(f(base, t.name), i));
        }
    return ok();
}

Status hugepages(Builder& b, const std::vector<spec::HugepageLimit>& limits) {
    for (std::size_t i = 0; i < limits.size(); ++i) {
        const spec::HugepageLimit& l = limits[i];
        const std::string field = indexed("linux.resources.hugepageLimits", i);
        const std::string& size = l.pageSize;
        if (size.empty() || size.find_first_of("/.") != std::string::npos)
            return fail(field + ".pageSize", "\"" + size + "\" is not a page size like \"2MB\"");
        const std::size_t h = HRUN_TRY(b.need("hugetlb", field));
        if (b.version(h) == 1) {
            b.add(h, "hugetlb", "hugetlb." + size + ".limit_in_bytes", str(l.limit), field);
        } else {
            b.add(h, "hugetlb", "hugetlb." + size + ".max", str(l.limit), field);
            // Reservations count against the limit too on kernels that account them separately.
            b.add(h, "hugetlb", "hugetlb." + size + ".rsvd.max", str(l.limit), field).if_exists = true;
        }
    }
    return ok();
}

Status network(Builder& b, const spec::NetworkResources& n) {
    if (n.classID) {
        const std::size_t h = HRUN_TRY(b.need("net_cls", "linux.resources.network.classID"));
        b.add(h, "net_cls", "net_cls.classid", str(uint64_t{*n.classID}), "linux.resources.network.classID");
    }
    for (std::size_t i = 0; i < n.priorities.size(); ++i) {
        const std::string field = indexed("linux.resources.network.priorities", i);
        const std::string& name = n.priorities[i].name;
        if (name.empty() || name.find_first_of(" \n/") != std::string::npos)
            return fail(field + ".name", "\"" + name + "\" is not an interface name");
        const std::size_t h = HRUN_TRY(b.need("net_prio", field));
        b.add(h, "net_prio", "net_prio.ifpriomap", name + " " + str(uint64_t{n.priorities[i].priority}), field);
    }
    return ok();
}

Status rdma(Builder& b, const std::map<std::string, spec::RdmaLimit>& limits) {
    for (const auto& [dev, limit] : limits) {
        const std::string field = keyed("linux.resources.rdma", dev);
        if (dev.empty() || dev.find_first_of(" \n") != std::string::npos)
            return fail(field, "is not an RDMA device name");
        if (!limit.hcaHandles && !limit.hcaObjects) continue;
        const std::size_t h = HRUN_TRY(b.need("rdma", field));
        std::string line = dev;
        if (limit.hcaHandles) line += " hca_handle=" + str(uint64_t{*limit.hcaHandles});
        if (limit.hcaObjects) line += " hca_object=" + str(uint64_t{*limit.hcaObjects});
        b.add(h, "rdma", "rdma.max", line, field);
    }
    return ok();
}

Status unified(Builder& b, const std::map<std::string, std::string>& files) {
    if (files.empty()) return ok();
    if (b.layout().mode != Mode::Unified)
        return fail(keyed("linux.resources.unified", files.begin()->first),
                    "is a cgroup v2 file: linux.resources.unified needs a cgroup v2-only host, and this host is " +
                        std::string(mode_name(b.layout().mode)));
    // Files through which a config could move processes or undo hrun's own setup.
    constexpr std::array<std::string_view, 5> reserved = {"cgroup.procs", "cgroup.threads", "cgroup.kill",
                                                          "cgroup.subtree_control", "cgroup.type"};
    for (const auto& [key, value] : files) {
        const std::string field = keyed("linux.resources.unified", key);
        const auto dot = key.find('.');
        if (dot == std::string::npos || dot == 0 || key.find('/') != std::string::npos || key.find('\0') != std::string::npos)
            return fail(field, "is not a cgroup file name of the form controller.file");
        if (std::find(reserved.begin(), reserved.end(), key) != reserved.end())
            return fail(field, "is managed by hrun and cannot be set");
        const std::string controller = key.substr(0, dot) == "cgroup" ? "" : key.substr(0, dot);
        const std::size_t h = HRUN_TRY(b.need(controller, field));
        b.add(h, controller, key, value, field);
    }
    return ok();
}

Status devices(Builder& b, const spec::Resources& r, const PlanOptions& o) {
    if (!o.devices) return ok();
    std::vector<DeviceRule> rules = HRUN_TRY(device_rules(r.devices));
    if (auto h = b.layout().find("devices"); h && b.version(*h) == 1) {
        // Start from "nothing allowed", then replay the rules; the kernel keeps the exceptions.
        b.add(*h, "devices", "devices.deny", "a", "linux.resources.devices");
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const std::string field = i < r.devices.size() ? indexed("linux.resources.devices", i)
                                                           : std::string("linux.resources.devices");
            b.add(*h, "devices", rules[i].allow ? "devices.allow" : "devices.deny", v1_device_line(rules[i]), field);
        }
        return ok();
    }
    if (!b.layout().unified())
        return fail("linux.resources.devices", "needs the devices controller or cgroup v2, and this host has neither");
    b.plan().bpf_devices = std::move(rules);
    return ok();
}

}  // namespace

uint64_t cpu_weight_from_shares(uint64_t shares) {
    if (shares == 0) return 0;
    if (shares <= 2) return 1;
    if (shares >= 262144) return 10000;
    // With l = log2(shares), weight = ceil(10^((l^2 + 125 l) / 612 - 7/34)): the curve through
    // (2, 1), (1024, 100) and (262144, 10000). A straight line from [2, 262144] to [1, 10000]
    // gave the default 1024 shares a weight of 39, far below v2's default of 100; runc (from
    // 1.3.2) and crun (from 1.23) moved to this curve, and the numbers here follow them.
    const double l = std::log2(static_cast<double>(shares));
    const double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
    return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

uint64_t io_weight_from_blkio(uint64_t weight) {
    if (weight == 0) return 0;
    weight = std::clamp<uint64_t>(weight, 10, 1000);
    return 1 + ((weight - 10) * 9999) / 990;
}

Result<int64_t> swap_max_from_memsw(int64_t swap, int64_t limit) {
    // Memory unlimited and swap unset: unlimited swap too, as on v1.
    if (limit == -1 && swap == 0) return -1;
    if (swap == -1 || swap == 0) return swap;
    if (swap < 0) return fail("", "invalid swap limit " + std::to_string(swap) + " (-1 means unlimited)");
    // Unlimited memory: nothing to subtract, the whole amount is swap (as runc does).
    if (limit == -1) return swap;
    if (limit == 0) return fail("", "a swap limit needs a memory limit (swap counts memory plus swap)");
    if (limit < 0) return fail("", "invalid memory limit " + std::to_string(limit));
    if (swap < limit)
        return fail("", std::to_string(swap) + " is below the memory limit " + std::to_string(limit) +
                            " (swap counts memory plus swap)");
    return swap - limit;
}

Result<Plan> plan_resources(const spec::Resources& r, const Layout& layout, const PlanOptions& options) {
    Builder b(layout);
    if (r.memory) HRUN_TRY(memory(b, *r.memory));
    if (r.cpu) HRUN_TRY(cpu(b, *r.cpu));
    if (r.pids) HRUN_TRY(pids(b, *r.pids));
    if (r.blockIO) HRUN_TRY(block_io(b, *r.blockIO));
    HRUN_TRY(hugepages(b, r.hugepageLimits));
    if (r.network) HRUN_TRY(network(b, *r.network));
    HRUN_TRY(rdma(b, r.rdma));
    HRUN_TRY(devices(b, r, options));
    // Last, so that an explicit v2 file overrides what the fields above computed (as in runc).
    HRUN_TRY(unified(b, r.unified));
    return std::move(b.plan());
}

}  // namespace hrun::cgroups
