// Child-safe text helpers: numbers and quoted values formatted into fixed buffers, so that
// errors raised between clone and exec can still name what failed (`process.rlimits[2]`,
// `"/nope" does not exist`) without allocating.
#pragma once

#include <cstddef>

#include "hrun/child_error.hpp"

namespace hrun::process::detail {

// Writes the decimal text of `value` into buf (always NUL-terminated). Returns its length.
inline std::size_t format_decimal(char* buf, std::size_t size, long long value) noexcept {
    if (size == 0) return 0;
    char digits[24];
    std::size_t n = 0;
    // Work on the negative side so that LLONG_MIN needs no special case.
    long long v = value < 0 ? value : -value;
    do {
        digits[n++] = static_cast<char>('0' - v % 10);
        v /= 10;
    } while (v != 0);
    if (value < 0) digits[n++] = '-';
    std::size_t len = 0;
    while (n > 0 && len + 1 < size) buf[len++] = digits[--n];
    buf[len] = '\0';
    return len;
}

inline void append_decimal(char* dst, std::size_t size, long long value) noexcept {
    char digits[24];
    format_decimal(digits, sizeof digits, value);
    append_cstr(dst, size, digits);
}

// Parses an optionally signed decimal integer followed by optional whitespace.
inline bool parse_decimal(const char* s, long long* out) noexcept {
    bool negative = false;
    if (*s == '-' || *s == '+') negative = *s++ == '-';
    if (*s < '0' || *s > '9') return false;
    long long v = 0;
    for (; *s >= '0' && *s <= '9'; ++s) {
        if (v > 100000000000000000LL) return false;  // far beyond anything parsed here
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ' || *s == '\n' || *s == '\t') ++s;
    if (*s != '\0') return false;
    *out = negative ? -v : v;
    return true;
}

// child_fail with the message `"<value>"<suffix>`. A long value is cut short (ending in "...")
// so that the suffix, which says what went wrong, always fits.
inline ChildStatus fail_quoted(const char* field, const char* value, const char* suffix,
                               int err) noexcept {
    constexpr std::size_t kSize = sizeof(ChildError::message);
    const std::size_t suffix_len = ::strnlen(suffix, kSize);
    const std::size_t value_len = ::strnlen(value, kSize);
    // Room for the value: everything but the two quotes, the suffix and the NUL.
    const std::size_t room = kSize > suffix_len + 3 ? kSize - suffix_len - 3 : 0;
    char message[kSize] = "\"";
    std::size_t len = 1;
    if (value_len <= room) {
        for (std::size_t i = 0; i < value_len; ++i) message[len++] = value[i];
    } else if (room > 3) {
        for (std::size_t i = 0; i < room - 3; ++i) message[len++] = value[i];
        for (int i = 0; i < 3; ++i) message[len++] = '.';
    }
    message[len++] = '"';
    message[len] = '\0';
    append_cstr(message, kSize, suffix);
    return child_fail(field, message, err);
}

}  // namespace hrun::process::detail
