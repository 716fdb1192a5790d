// Checks of `linux.resources`: ranges the cgroup files accept, so a bad value is reported with
// its JSON path before any cgroup exists rather than as a failed write halfway through creation.
#include <string_view>

#include "spec/validate_internal.hpp"

namespace hrun::spec::check {
namespace {

constexpr std::string_view kMemory = "linux.resources.memory";

// -1 means unlimited; anything below is an error.
Status at_least_minus_one(std::string_view field, const std::optional<int64_t>& v) {
    if (v && *v < -1) return fail(std::string(field), std::to_string(*v) + " is below -1 (-1 means unlimited)");
    return ok();
}

Status memory(const MemoryResources& m) {
    HRUN_TRY(at_least_minus_one("linux.resources.memory.limit", m.limit));
    HRUN_TRY(at_least_minus_one("linux.resources.memory.reservation", m.reservation));
    HRUN_TRY(at_least_minus_one("linux.resources.memory.swap", m.swap));
    HRUN_TRY(at_least_minus_one("linux.resources.memory.kernel", m.kernel));
    HRUN_TRY(at_least_minus_one("linux.resources.memory.kernelTCP", m.kernelTCP));
    // swap is memory+swap (cgroup v1 memsw), so it cannot be below the memory limit.
    if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit)
        return fail(join(kMemory, "swap"), std::to_string(*m.swap) + " is below linux.resources.memory.limit " +
                                               std::to_string(*m.limit) + " (swap counts memory plus swap)");
    if (m.swappiness && *m.swappiness > 100)
        return fail(join(kMemory, "swappiness"), std::to_string(*m.swappiness) + " exceeds 100");
    return ok();
}

// "0-3,5,7-8"
bool is_cpu_list(std::string_view list) {
    if (list.empty()) return true;
    std::size_t i = 0;
    while (true) {
        auto number = [&] {
            const std::size_t start = i;
            while (i < list.size() && list[i] >= '0' && list[i] <= '9') ++i;
            return i > start;
        };
        if (!number()) return false;
        if (i < list.size() && list[i] == '-') {
            ++i;
            if (!number()) return false;
        }
        if (i == list.size()) return true;
        if (list[i] != ',') return false;
        ++i;
    }
}

Status cpu(const CpuResources& c) {
    // 0 means "unset": docker writes it for every container without --cpu-shares, as runc accepts.
    if (c.quota && *c.quota < -1) return fail("linux.resources.cpu.quota", std::to_string(*c.quota) + " is below -1");
    // The kernel takes CFS quotas and periods of 1 ms or more, periods up to 1 s (0 = unset).
    if (c.quota && *c.quota > 0 && *c.quota < 1000)
        return fail("linux.resources.cpu.quota", std::to_string(*c.quota) + " is below the minimum of 1000");
    if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1'000'000))
        return fail("linux.resources.cpu.period", std::to_string(*c.period) + " is out of range [1000, 1000000]");
    if (!is_cpu_list(c.cpus)) return fail("linux.resources.cpu.cpus", quote(c.cpus) + " is not a list like \"0-3,5\"");
    if (!is_cpu_list(c.mems)) return fail("linux.resources.cpu.mems", quote(c.mems) + " is not a list like \"0-3,5\"");
    if (c.idle && *c.idle != 0 && *c.idle != 1)
        return fail("linux.resources.cpu.idle", std::to_string(*c.idle) + " is neither 0 nor 1");
    return ok();
}

Status weight(const std::string& field, const std::optional<uint16_t>& w) {
    // 0 means "unset" (docker writes it), as runc and the cgroup backends treat it.
    if (w && *w != 0 && (*w < 10 || *w > 1000)) return fail(field, std::to_string(*w) + " is out of range [10, 1000]");
    return ok();
}

Status device_numbers(std::string_view base, std::size_t i, int64_t major, int64_t minor) {
    if (major < 0) return fail(at(base, i, "major"), "must not be negative");
    if (minor < 0) return fail(at(base, i, "minor"), "must not be negative");
    return ok();
}

Status throttles(std::string_view base, const std::vector<ThrottleDevice>& list) {
    for (std::size_t i = 0; i < list.size(); ++i) HRUN_TRY(device_numbers(base, i, list[i].major, list[i].minor));
    return ok();
}

Status block_io(const BlockIoResources& b) {
    if (b.weight) HRUN_TRY(weight("linux.resources.blockIO.weight", b.weight));
    if (b.leafWeight) HRUN_TRY(weight("linux.resources.blockIO.leafWeight", b.leafWeight));
    constexpr std::string_view wd = "linux.resources.blockIO.weightDevice";
    for (std::size_t i = 0; i < b.weightDevice.size(); ++i) {
        const WeightDevice& d = b.weightDevice[i];
        HRUN_TRY(device_numbers(wd, i, d.major, d.minor));
        if (d.weight) HRUN_TRY(weight(at(wd, i, "weight"), d.weight));
        if (d.leafWeight) HRUN_TRY(weight(at(wd, i, "leafWeight"), d.leafWeight));
    }
    HRUN_TRY(throttles("linux.resources.blockIO.throttleReadBpsDevice", b.throttleReadBpsDevice));
    HRUN_TRY(throttles("linux.resources.blockIO.throttleWriteBpsDevice", b.throttleWriteBpsDevice));
    HRUN_TRY(throttles("linux.resources.blockIO.throttleReadIOPSDevice", b.throttleReadIOPSDevice));
    HRUN_TRY(throttles("linux.resources.blockIO.throttleWriteIOPSDevice", b.throttleWriteIOPSDevice));
    return ok();
}

Status device_rules(const std::vector<DeviceRule>& list) {
    constexpr std::string_view base = "linux.resources.devices";
    for (std::size_t i = 0; i < list.size(); ++i) {
        const DeviceRule& r = list[i];
        if (!r.type.empty() && r.type != "a" && r.type != "c" && r.type != "b")
            return fail(at(base, i, "type"), "unknown device type " + quote(r.type) + " (expected a, c or b)");
        // -1 is accepted as the wildcard some engines write instead of leaving the field out.
        if (r.major && *r.major < -1) return fail(at(base, i, "major"), std::to_string(*r.major) + " is below -1");
        if (r.minor && *r.minor < -1) return fail(at(base, i, "minor"), std::to_string(*r.minor) + " is below -1");
        if (r.access.find_first_not_of("rwm") != std::string::npos)
            return fail(at(base, i, "access"), quote(r.access) + " is not a combination of r, w and m");
    }
    return ok();
}

// "2MB", "1GB", "64KB": the names of the hugetlb controller's files.
bool is_page_size(std::string_view size) {
    std::size_t digits = 0;
    while (digits < size.size() && size[digits] >= '0' && size[digits] <= '9') ++digits;
    if (digits == 0 || size[0] == '0') return false;
    const std::string_view unit = size.substr(digits);
    return unit == "KB" || unit == "MB" || unit == "GB" || unit == "TB" || unit == "PB";
}

// "memory.high", "cpu.weight.nice": a controller and a file name, never a path.
bool is_unified_key(std::string_view key) {
    if (key.empty() || key.front() == '.' || key.back() == '.') return false;
    if (key.find('.') == std::string_view::npos) return false;
    if (key.find("..") != std::string_view::npos) return false;
    return key.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

}  // namespace

Status resources(const Resources& r) {
    HRUN_TRY(device_rules(r.devices));
    if (r.memory) HRUN_TRY(memory(*r.memory));
    if (r.cpu) HRUN_TRY(cpu(*r.cpu));
    if (r.pids && r.pids->limit && *r.pids->limit < -1)
        return fail("linux.resources.pids.limit", std::to_string(*r.pids->limit) + " is below -1 (-1 means unlimited)");
    if (r.blockIO) HRUN_TRY(block_io(*r.blockIO));
    for (std::size_t i = 0; i < r.hugepageLimits.size(); ++i)
        if (!is_page_size(r.hugepageLimits[i].pageSize))
            return fail(at("linux.resources.hugepageLimits", i, "pageSize"),
                        quote(r.hugepageLimits[i].pageSize) + " is not a page size like \"2MB\"");
    if (r.network)
        for (std::size_t i = 0; i < r.network->priorities.size(); ++i)
            if (r.network->priorities[i].name.empty())
                return fail(at("linux.resources.network.priorities", i, "name"), "must not be empty");
    for (const auto& [device, limit] : r.rdma)
        if (device.empty()) return fail("linux.resources.rdma", "has an empty device name");
    for (const auto& [key, value] : r.unified)
        if (!is_unified_key(key))
            return fail(key_at("linux.resources.unified", key), "not of the form controller.file");
    return ok();
}

}  // namespace hrun::spec::check
