#include "linux/units.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace hrun::units {

namespace {

constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |INT64_MIN|: a negative duration's bound

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Leading digits as an integer; false when it passes 2^63 (Go's leadingInt).
bool leading_int(std::string_view& s, uint64_t& value) {
    value = 0;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        if (value > kMaxMagnitude / 10) return false;
        value = value * 10 + static_cast<uint64_t>(s[i] - '0');
        if (value > kMaxMagnitude) return false;
    }
    s.remove_prefix(i);
    return true;
}

// Leading digits of a fraction: the digits as an integer and 10^count, digits past what fits
// ignored (they cannot change a nanosecond count).
void leading_fraction(std::string_view& s, uint64_t& value, double& scale) {
    value = 0;
    scale = 1;
    bool overflow = false;
    size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        if (overflow) continue;
        if (value > (kMaxMagnitude - 1) / 10) {
            overflow = true;
            continue;
        }
        const uint64_t next = value * 10 + static_cast<uint64_t>(s[i] - '0');
        if (next > kMaxMagnitude) {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10;
    }
    s.remove_prefix(i);
}

uint64_t unit_nanoseconds(std::string_view unit) {
    if (unit == "ns") return 1;
    if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return 1'000;
    if (unit == "ms") return 1'000'000;
    if (unit == "s") return 1'000'000'000;
    if (unit == "m") return 60'000'000'000;
    if (unit == "h") return 3'600'000'000'000;
    return 0;
}

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text, const std::string& flag) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    auto invalid = [&](const std::string& why) { return fail(flag, "invalid duration " + quoted + ": " + why); };
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return std::chrono::nanoseconds(0);
    if (s.empty()) return invalid("expected a number and a unit (ns, us, ms, s, m, h), e.g. 1s or 100ms");
    uint64_t total = 0;
    while (!s.empty()) {
        if (!(s[0] == '.' || is_digit(s[0]))) return invalid("expected a number");
        const size_t before = s.size();
        uint64_t whole = 0;
        if (!leading_int(s, whole)) return invalid("out of range");
        const bool had_whole = s.size() != before;
        uint64_t fraction = 0;
        double scale = 1;
        bool had_fraction = false;
        if (!s.empty() && s[0] == '.') {
            s.remove_prefix(1);
            const size_t at = s.size();
            leading_fraction(s, fraction, scale);
            had_fraction = s.size() != at;
        }
        if (!had_whole && !had_fraction) return invalid("expected a number");
        size_t unit_len = 0;
        while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
        if (unit_len == 0) return invalid("missing unit (ns, us, ms, s, m, h)");
        const std::string_view unit = s.substr(0, unit_len);
        s.remove_prefix(unit_len);
        const uint64_t ns = unit_nanoseconds(unit);
        if (ns == 0) return invalid("unknown unit \"" + std::string(unit) + "\" (ns, us, ms, s, m, h)");
        if (whole > kMaxMagnitude / ns) return invalid("out of range");
        uint64_t value = whole * ns;
        if (fraction > 0) {
            value += static_cast<uint64_t>(static_cast<double>(fraction) * (static_cast<double>(ns) / scale));
            if (value > kMaxMagnitude) return invalid("out of range");
        }
        total += value;
        if (total > kMaxMagnitude) return invalid("out of range");
    }
    if (negative) return std::chrono::nanoseconds(static_cast<int64_t>(0 - total));  // 2^63 wraps to INT64_MIN
    if (total > kMaxMagnitude - 1) return invalid("out of range");
    return std::chrono::nanoseconds(static_cast<int64_t>(total));
}

Result<int64_t> parse_ram_bytes(std::string_view text, const std::string& flag) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    auto invalid = [&](const std::string& why) { return fail(flag, "invalid size " + quoted + ": " + why); };
    // The number: digits with at most one decimal point, then an optional space, then the unit.
    size_t end = 0;
    bool digits = false, point = false;
    for (; end < text.size(); ++end) {
        if (is_digit(text[end])) digits = true;
        else if (text[end] == '.' && !point) point = true;
        else break;
    }
    if (!digits) return invalid("expected a non-negative number, e.g. 512, 50M or 1.5GiB");
    const std::string number(text.substr(0, end));
    std::string_view suffix = text.substr(end);
    if (!suffix.empty() && suffix[0] == ' ') suffix.remove_prefix(1);

    std::string unit;
    for (char c : suffix) unit += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    double multiplier = 1;
    if (!unit.empty() && unit != "b") {
        static constexpr std::string_view kPrefixes = "kmgtp";
        const size_t power = unit.size() <= 3 ? kPrefixes.find(unit[0]) : std::string_view::npos;
        const std::string_view rest = std::string_view(unit).substr(1);
        if (power == std::string_view::npos || !(rest.empty() || rest == "b" || rest == "ib"))
            return invalid("unknown unit \"" + std::string(suffix) + "\" (k, m, g, t or p, with an optional b or ib)");
        multiplier = std::ldexp(1.0, 10 * static_cast<int>(power + 1));
    }
    errno = 0;
    const double size = std::strtod(number.c_str(), nullptr) * multiplier;
    // 2^63 is exactly representable: anything at or above it does not fit an int64.
    if (errno == ERANGE || !(size < std::ldexp(1.0, 63))) return invalid("out of range");
    return static_cast<int64_t>(size);
}

}  // namespace hrun::units
