// run_prepared_hooks: startContainer hooks, run by the container process right before it
// execs the user's program. No allocation here: messages are built in fixed buffers.
#include <unistd.h>

#include <cstring>

#include "hooks/engine.hpp"
#include "hooks/hooks.hpp"

namespace hrun::hooks {

namespace {

// A ChildError message under construction; everything past its capacity is dropped.
class Message {
public:
    static constexpr std::size_t kSize = sizeof(ChildError::message);

    std::size_t room() const noexcept { return kSize - 1 - len_; }

    void append(const char* s) noexcept {
        while (*s != '\0' && room() > 0) buf_[len_++] = *s++;
        buf_[len_] = '\0';
    }

    void append_decimal(long long value) noexcept {
        char digits[24];
        std::size_t n = 0;
        unsigned long long v = value < 0 ? 0ULL - static_cast<unsigned long long>(value)
                                         : static_cast<unsigned long long>(value);
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        if (value < 0) digits[n++] = '-';
        while (n > 0 && room() > 0) buf_[len_++] = digits[--n];
        buf_[len_] = '\0';
    }

    // "value", cut to at most `max` characters of the value (ending in "...").
    void append_quoted(const char* value, std::size_t max) noexcept {
        append("\"");
        std::size_t n = ::strnlen(value, max + 1);
        if (n <= max) {
            while (n-- > 0 && room() > 0) buf_[len_++] = *value++;
        } else {
            for (std::size_t i = 0; i + 3 < max && room() > 0; ++i) buf_[len_++] = value[i];
            buf_[len_] = '\0';
            append("...");
        }
        buf_[len_] = '\0';
        append("\"");
    }

    // ": <the last bytes of the hook's stderr (or stdout) that fit>".
    void append_tail(const detail::Tail& out, const detail::Tail& err) noexcept {
        if (room() <= 2 + 3) return;
        char tail[kSize];
        const std::size_t cap = room() - 2 + 1;
        bool cut = false;
        std::size_t n = err.copy_to(tail, cap, &cut);
        if (n == 0) n = out.copy_to(tail, cap, &cut);
        if (n == 0) return;
        append(": ");
        if (cut) {
            append("...");
            const char* rest = tail + 3;  // the first 3 bytes make room for the ellipsis
            while (*rest != '\0' && (static_cast<unsigned char>(*rest) & 0xC0) == 0x80) ++rest;
            append(rest);
        } else {
            append(tail);
        }
    }

    const char* text() const noexcept { return buf_; }

private:
    char buf_[kSize] = {};
    std::size_t len_ = 0;
};

// Room left for the path in a message: enough to recognise it, leaving space for the output.
constexpr std::size_t kPathInMessage = 56;

ChildStatus report(const PreparedHook& hook, const detail::Outcome& o,
                   const detail::Tail& out, const detail::Tail& err) noexcept {
    using Kind = detail::Outcome::Kind;
    Message m;
    switch (o.kind) {
        case Kind::Success:
            return child_ok();
        case Kind::SetupFailed:
            return child_fail(hook.field.c_str(), o.what, o.err);
        case Kind::ExecFailed:
            m.append("cannot execute ");
            m.append_quoted(hook.path.c_str(), Message::kSize - 20);
            return child_fail(hook.path_field.c_str(), m.text(), o.err);
        case Kind::Exited:
        case Kind::Signaled:
            m.append_quoted(hook.path.c_str(), kPathInMessage);
            m.append(o.kind == Kind::Exited ? " exited with status " : " killed by signal ");
            m.append_decimal(o.code);
            m.append_tail(out, err);
            return child_fail(hook.field.c_str(), m.text(), 0);
        case Kind::TimedOut:
            m.append("timed out after ");
            m.append_decimal(hook.timeout_seconds);
            m.append(" s");
            return child_fail(hook.field.c_str(), m.text(), 0);
    }
    return child_fail(hook.field.c_str(), "failed", 0);
}

}  // namespace

ChildStatus run_prepared_hooks(const PreparedHooks& prepared, pid_t pid) noexcept {
    if (prepared.hooks.empty()) return child_ok();
    char pid_text[24] = {};
    detail::StatePieces pieces;
    pieces.data[0] = prepared.state_head.data();
    pieces.size[0] = prepared.state_head.size();
    if (prepared.pid_slot) {
        long long value = pid > 0 ? pid : ::getpid();
        char digits[24];
        std::size_t n = 0;
        do {
            digits[n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        std::size_t len = 0;
        while (n > 0) pid_text[len++] = digits[--n];
        pieces.data[1] = pid_text;
        pieces.size[1] = len;
        pieces.data[2] = prepared.state_tail.data();
        pieces.size[2] = prepared.state_tail.size();
    }
    for (const PreparedHook& hook : prepared.hooks) {
        detail::Tail out, err;
        detail::Outcome o = detail::run_hook(hook, pieces, out, err);
        HRUN_CHILD_TRY(report(hook, o, out, err));
    }
    return child_ok();
}

}  // namespace hrun::hooks
