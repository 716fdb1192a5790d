// Resource usage of a container, from whichever cgroup version enforces each controller.
#include <unistd.h>

#include "cgroups/cgroups.hpp"
#include "cgroups/fs.hpp"
#include "cgroups/stat_files.hpp"

namespace hrun::cgroups {
namespace {

// v1 reports an unlimited page counter as PAGE_COUNTER_MAX pages, a page-aligned value just
// below 2^63; anything at least that large means "no limit".
constexpr uint64_t kV1Unlimited = 9223372036854771712ULL;

std::optional<uint64_t> read_u64(int fd, const char* file) {
    std::string text;
    uint64_t v = 0;
    if (fd < 0 || fs::read_at(fd, file, text) != 0 || !fs::parse_u64(text, v)) return std::nullopt;
    return v;
}

std::optional<std::string> read_text(int fd, const char* file) {
    std::string text;
    if (fd < 0 || fs::read_at(fd, file, text) != 0) return std::nullopt;
    return text;
}

std::optional<uint64_t> value(const std::map<std::string, uint64_t>& m, const char* key, uint64_t scale = 1) {
    const auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second * scale;
}

IoDeviceStats& device_entry(std::vector<IoDeviceStats>& list, uint32_t major, uint32_t minor) {
    for (IoDeviceStats& d : list)
        if (d.major == major && d.minor == minor) return d;
    list.push_back({major, minor});
    return list.back();
}

// "8:0" -> major and minor.
bool parse_device(std::string_view text, uint32_t& major, uint32_t& minor) {
    const auto colon = text.find(':');
    uint64_t ma = 0, mi = 0;
    if (colon == std::string_view::npos || !fs::parse_u64(text.substr(0, colon), ma) ||
        !fs::parse_u64(text.substr(colon + 1), mi))
        return false;
    major = static_cast<uint32_t>(ma);
    minor = static_cast<uint32_t>(mi);
    return true;
}

void blkio_lines(std::string_view text, std::vector<IoDeviceStats>& list, bool bytes) {
    for (std::string_view line : fs::split(text, "\n")) {
        const auto parts = fs::split(line, " ");
        uint32_t major = 0, minor = 0;
        uint64_t n = 0;
        if (parts.size() != 3 || !parse_device(parts[0], major, minor) || !fs::parse_u64(parts[2], n)) continue;
        const bool read = parts[1] == "Read";
        if (!read && parts[1] != "Write") continue;
        IoDeviceStats& d = device_entry(list, major, minor);
        (bytes ? (read ? d.read_bytes : d.write_bytes) : (read ? d.read_ops : d.write_ops)) = n;
    }
}

void memory_stats(const Hierarchy& h, int fd, Stats& s) {
    if (h.version == 2) {
        s.memory_usage = read_u64(fd, "memory.current");
        if (auto t = read_text(fd, "memory.max")) s.memory_limit = parse_limit(*t);
        s.memory_max_usage = read_u64(fd, "memory.peak");  // Linux 5.19
        s.swap_usage = read_u64(fd, "memory.swap.current");
        if (auto t = read_text(fd, "memory.swap.max")) s.swap_limit = parse_limit(*t);
        return;
    }
    s.memory_usage = read_u64(fd, "memory.usage_in_bytes");
    if (auto t = read_text(fd, "memory.limit_in_bytes")) s.memory_limit = parse_limit(*t);
    s.memory_max_usage = read_u64(fd, "memory.max_usage_in_bytes");
    // memsw counts memory plus swap; swap alone is the difference.
    const auto memsw = read_u64(fd, "memory.memsw.usage_in_bytes");
    if (memsw && s.memory_usage) s.swap_usage = *memsw > *s.memory_usage ? *memsw - *s.memory_usage : 0;
    if (auto t = read_text(fd, "memory.memsw.limit_in_bytes")) {
        const auto memsw_limit = parse_limit(*t);
        if (memsw_limit && s.memory_limit)
            s.swap_limit = *memsw_limit > *s.memory_limit ? *memsw_limit - *s.memory_limit : 0;
    }
}

void cpu_v2(int fd, Stats& s) {
    const auto t = read_text(fd, "cpu.stat");
    if (!t) return;
    const auto m = parse_flat_keyed(*t);
    s.cpu_usage_ns = value(m, "usage_usec", 1000);
    s.cpu_user_ns = value(m, "user_usec", 1000);
    s.cpu_system_ns = value(m, "system_usec", 1000);
    s.cpu_periods = value(m, "nr_periods");
    s.cpu_throttled_periods = value(m, "nr_throttled");
    s.cpu_throttled_ns = value(m, "throttled_usec", 1000);
}

void cpu_v1(int cpu_fd, int cpuacct_fd, Stats& s) {
    s.cpu_usage_ns = read_u64(cpuacct_fd, "cpuacct.usage");
    if (auto t = read_text(cpuacct_fd, "cpuacct.stat")) {
        // user and system are in clock ticks (USER_HZ).
        const auto m = parse_flat_keyed(*t);
        const long hz = ::sysconf(_SC_CLK_TCK);
        const uint64_t tick_ns = hz > 0 ? 1'000'000'000ULL / static_cast<uint64_t>(hz) : 10'000'000ULL;
        s.cpu_user_ns = value(m, "user", tick_ns);
        s.cpu_system_ns = value(m, "system", tick_ns);
    }
    if (auto t = read_text(cpu_fd, "cpu.stat")) {
        const auto m = parse_flat_keyed(*t);
        s.cpu_periods = value(m, "nr_periods");
        s.cpu_throttled_periods = value(m, "nr_throttled");
        s.cpu_throttled_ns = value(m, "throttled_time");
    }
}

}  // namespace

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
    std::map<std::string, uint64_t> out;
    for (std::string_view line : fs::split(text, "\n")) {
        const auto parts = fs::split(line, " ");
        uint64_t v = 0;
        if (parts.size() == 2 && fs::parse_u64(parts[1], v)) out[std::string(parts[0])] = v;
    }
    return out;
}

std::vector<IoDeviceStats> parse_io_stat(std::string_view text) {
    std::vector<IoDeviceStats> list;
    for (std::string_view line : fs::split(text, "\n")) {
        const auto parts = fs::split(line, " ");
        uint32_t major = 0, minor = 0;
        if (parts.empty() || !parse_device(parts[0], major, minor)) continue;
        IoDeviceStats& d = device_entry(list, major, minor);
        for (std::size_t i = 1; i < parts.size(); ++i) {
            const auto eq = parts[i].find('=');
            uint64_t n = 0;
            if (eq == std::string_view::npos || !fs::parse_u64(parts[i].substr(eq + 1), n)) continue;
            const std::string_view key = parts[i].substr(0, eq);
            if (key == "rbytes") d.read_bytes = n;
            else if (key == "wbytes") d.write_bytes = n;
            else if (key == "rios") d.read_ops = n;
            else if (key == "wios") d.write_ops = n;
        }
    }
    return list;
}

std::vector<IoDeviceStats> parse_blkio(std::string_view bytes, std::string_view ops) {
    std::vector<IoDeviceStats> list;
    blkio_lines(bytes, list, true);
    blkio_lines(ops, list, false);
    return list;
}

std::optional<uint64_t> parse_limit(std::string_view text) {
    if (fs::trim(text) == "max") return std::nullopt;
    uint64_t v = 0;
    if (!fs::parse_u64(text, v) || v >= kV1Unlimited) return std::nullopt;
    return v;
}

Result<Stats> Cgroup::stats() const {
    Stats s;
    auto leaf = [&](std::string_view controller) -> std::pair<const Hierarchy*, int> {
        const auto i = layout_.find(controller);
        if (!i || !leaves_[*i]) return {nullptr, -1};
        return {&layout_.hierarchies[*i], leaves_[*i].get()};
    };
    bool any = false;
    for (const UniqueFd& fd : leaves_) any = any || static_cast<bool>(fd);
    if (!any) return fail("linux.cgroupsPath", "the container's cgroup no longer exists", ENOENT);

    if (auto [h, fd] = leaf("memory"); h) memory_stats(*h, fd, s);

    const auto u = layout_.unified();
    if (auto [h, fd] = leaf("cpu"); h && h->version == 1) {
        cpu_v1(fd, leaf("cpuacct").second, s);
    } else if (u && leaves_[*u] && layout_.mode == Mode::Unified) {
        cpu_v2(leaves_[*u].get(), s);  // cpu.stat's usage lines exist even without the cpu controller
    }

    if (auto [h, fd] = leaf("pids"); h) {
        s.pids_current = read_u64(fd, "pids.current");
        if (auto t = read_text(fd, "pids.max")) s.pids_limit = parse_limit(*t);
    }

    if (auto [h, fd] = leaf("blkio"); h) {
        auto bytes = read_text(fd, "blkio.throttle.io_service_bytes_recursive");
        if (!bytes) bytes = read_text(fd, "blkio.throttle.io_service_bytes");
        auto ops = read_text(fd, "blkio.throttle.io_serviced_recursive");
        if (!ops) ops = read_text(fd, "blkio.throttle.io_serviced");
        s.io = parse_blkio(bytes.value_or(""), ops.value_or(""));
    } else if (auto [h2, fd2] = leaf("io"); h2) {
        if (auto t = read_text(fd2, "io.stat")) s.io = parse_io_stat(*t);
    }
    return s;
}

}  // namespace hrun::cgroups
