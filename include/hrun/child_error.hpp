// Errors raised in the container process between clone and exec.
//
// That process must not allocate (it may run under a 256 KiB memory limit and shares nothing
// with the parent's heap bookkeeping), so its errors are fixed-size, trivially copyable records
// that travel to the parent over the sync socket, where they become hrun::Error.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace hrun {

struct ChildError {
    int err = 0;          // errno, 0 if none
    char field[96] = {};  // config JSON path, e.g. "mounts[3].destination"
    char message[160] = {};

    bool failed() const noexcept { return message[0] != '\0'; }
};

// Copies at most size-1 bytes and always NUL-terminates. Safe in the child: no allocation.
inline void copy_cstr(char* dst, std::size_t size, const char* src) noexcept {
    if (size == 0) return;
    std::size_t i = 0;
    if (src != nullptr)
        for (; i + 1 < size && src[i] != '\0'; ++i) dst[i] = src[i];
    dst[i] = '\0';
}

// Appends src to the NUL-terminated string in dst (same guarantees as copy_cstr).
inline void append_cstr(char* dst, std::size_t size, const char* src) noexcept {
    std::size_t len = ::strnlen(dst, size);
    if (len < size) copy_cstr(dst + len, size - len, src);
}

// Result of one child-side step: empty on success.
struct ChildStatus {
    ChildError error;
    explicit operator bool() const noexcept { return !error.failed(); }
};

inline ChildStatus child_ok() noexcept { return {}; }

// Builds a failure; errno is captured by the caller (pass errno explicitly right after the call).
inline ChildStatus child_fail(const char* field, const char* message, int err) noexcept {
    ChildStatus s;
    s.error.err = err;
    copy_cstr(s.error.field, sizeof s.error.field, field);
    copy_cstr(s.error.message, sizeof s.error.message, message);
    if (s.error.message[0] == '\0') copy_cstr(s.error.message, sizeof s.error.message, "failed");
    return s;
}

}  // namespace hrun

// Return early from a child step when a sub-step fails.
#define HRUN_CHILD_TRY(expr)                \
    do {                                    \
        ::hrun::ChildStatus _hrun_s = (expr); \
        if (!_hrun_s) return _hrun_s;       \
    } while (0)
