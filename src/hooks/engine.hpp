// Running one prepared hook: spawn, feed the state, collect output, wait with a timeout.
//
// Shared by the runtime side (run_hooks) and the container side (run_prepared_hooks), so it
// follows the container side's rules: no allocation, no exceptions, only syscalls and fixed
// buffers. Each side turns the Outcome into its own kind of error.
#pragma once

#include <cstddef>

#include "hooks/hooks.hpp"

namespace hrun::hooks::detail {

// The last kSize bytes written to a stream, in a ring.
class Tail {
public:
    static constexpr std::size_t kSize = 1024;

    void append(const char* data, std::size_t len) noexcept;
    // Copies the last bytes, oldest first, without trailing whitespace: at most `cap - 1` of
    // them, NUL-terminated. Returns the length; *cut tells whether earlier bytes were dropped.
    std::size_t copy_to(char* dst, std::size_t cap, bool* cut) const noexcept;

private:
    std::size_t kept() const noexcept { return total_ < kSize ? total_ : kSize; }

    char ring_[kSize];
    std::size_t total_ = 0;  // bytes ever appended
};

// The state JSON in up to three pieces (head, pid digits, tail), written one after another.
struct StatePieces {
    const char* data[3] = {};
    std::size_t size[3] = {};
};

struct Outcome {
    enum class Kind {
        Success,      // exited with status 0
        SetupFailed,  // hrun could not start or watch the hook: `what` and `err` say why
        ExecFailed,   // execve failed: `err`
        Exited,       // non-zero exit status: `code`
        Signaled,     // killed by signal `code`
        TimedOut,     // ran past its timeout and was killed
    };
    Kind kind = Kind::Success;
    int err = 0;
    int code = 0;
    const char* what = "";
};

// Runs `hook` to completion. The hook's stdout and stderr go to `out` and `err`.
Outcome run_hook(const PreparedHook& hook, const StatePieces& state, Tail& out,
                 Tail& err) noexcept;

}  // namespace hrun::hooks::detail
