// Typed errors: every failure keeps the errno that caused it and the config field it concerns,
// so a message can say `mounts[2].destination: must be absolute` or
// `linux.namespaces[1].path: cannot open: No such file or directory`.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace hrun {

struct Error {
    int err = 0;          // errno of the failing call; 0 when the error is not a syscall failure
    std::string field;    // JSON path in config.json ("process.user.uid"); empty when none applies
    std::string message;  // what went wrong, lower case, no trailing period

    // "field: message: strerror(err)", leaving out the parts that are empty.
    std::string what() const;

    // Prefix context as an error rises ("creating container: ...").
    Error& context(std::string_view ctx);
};

template <class T>
using Result = std::expected<T, Error>;
using Status = Result<void>;

inline std::unexpected<Error> fail(std::string field, std::string message, int err = 0) {
    return std::unexpected(Error{err, std::move(field), std::move(message)});
}

// For a failed syscall: captures errno at the call site.
inline std::unexpected<Error> fail_errno(std::string message, std::string field = {}) {
    return std::unexpected(Error{errno, std::move(field), std::move(message)});
}

inline Status ok() { return {}; }

}  // namespace hrun

// Propagate an error from an expression returning Result<T>/Status; yields the value otherwise.
#define HRUN_TRY(expr)                                              \
    ({                                                              \
        auto _hrun_r = (expr);                                      \
        if (!_hrun_r) return std::unexpected(std::move(_hrun_r.error())); \
        std::move(_hrun_r).value();                                 \
    })
