#include "linux/subid.hpp"

#include <grp.h>
#include <pwd.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace hrun::os {

namespace {

std::optional<uint32_t> parse_u32(std::string_view s) {
    uint32_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

}  // namespace

std::vector<SubidRange> parse_subid_ranges(std::string_view text, std::string_view name, uint32_t id) {
    std::vector<SubidRange> out;
    const std::string id_text = std::to_string(id);
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (line.empty() || line.front() == '#') continue;
        size_t a = line.find(':');
        size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
        if (b == std::string_view::npos) continue;
        std::string_view owner = line.substr(0, a);
        if (owner != name && owner != id_text) continue;
        auto start = parse_u32(line.substr(a + 1, b - a - 1));
        auto count = parse_u32(line.substr(b + 1));
        // A range that wraps past 2^32 cannot be mapped; skip it like a malformed line.
        if (!start || !count || *count == 0 || uint64_t(*start) + *count > (uint64_t(1) << 32)) continue;
        out.push_back({*start, *count});
    }
    return out;
}

Result<std::vector<SubidRange>> read_subid_ranges(const char* path, std::string_view name, uint32_t id) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::vector<SubidRange>{};
        return fail_errno(std::string("cannot read ") + path);
    }
    std::stringstream buf;
    buf << in.rdbuf();
    return parse_subid_ranges(buf.str(), name, id);
}

bool subid_allows(const std::vector<SubidRange>& ranges, uint32_t own_id, uint32_t start, uint32_t count) {
    if (count == 0) return false;
    if (start == own_id && count == 1) return true;
    const uint64_t end = uint64_t(start) + count;
    for (const SubidRange& r : ranges)
        if (start >= r.start && end <= uint64_t(r.start) + r.count) return true;
    return false;
}

std::optional<UserEntry> lookup_user(std::string_view name_or_uid) {
    std::string key(name_or_uid);
    struct passwd pw;
    struct passwd* found = nullptr;
    char buf[4096];
    if (auto uid = parse_u32(key))
        ::getpwuid_r(*uid, &pw, buf, sizeof buf, &found);
    else
        ::getpwnam_r(key.c_str(), &pw, buf, sizeof buf, &found);
    if (!found) return std::nullopt;
    return UserEntry{found->pw_name, found->pw_uid, found->pw_gid};
}

std::optional<std::string> group_name(gid_t gid) {
    struct group gr;
    struct group* found = nullptr;
    char buf[4096];
    ::getgrgid_r(gid, &gr, buf, sizeof buf, &found);
    if (!found) return std::nullopt;
    return std::string(found->gr_name);
}

}  // namespace hrun::os
