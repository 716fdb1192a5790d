// run_hooks: the hooks that run in hrun's own namespaces (prestart, createRuntime, poststart,
// poststop).
#include <string>

#include "hooks/engine.hpp"
#include "hooks/hooks.hpp"
#include "linux/log.hpp"

namespace hrun::hooks {

namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ": <last KiB of stderr>", or of stdout when the hook said nothing on stderr; empty when it
// said nothing at all.
std::string output_tail(const detail::Tail& out, const detail::Tail& err) {
    char buf[detail::Tail::kSize + 1];
    bool cut = false;
    std::size_t len = err.copy_to(buf, sizeof buf, &cut);
    if (len == 0) len = out.copy_to(buf, sizeof buf, &cut);
    if (len == 0) return {};
    std::size_t start = 0;
    if (cut)  // do not begin inside a UTF-8 sequence
        while (start < len && (static_cast<unsigned char>(buf[start]) & 0xC0) == 0x80) ++start;
    return std::string(": ") + (cut ? "..." : "") + std::string(buf + start, len - start);
}

Status run_one(const PreparedHook& hook, std::string_view state_json) {
    detail::StatePieces pieces;
    pieces.data[0] = state_json.data();
    pieces.size[0] = state_json.size();
    detail::Tail out, err;
    detail::Outcome o = detail::run_hook(hook, pieces, out, err);
    using Kind = detail::Outcome::Kind;
    switch (o.kind) {
        case Kind::Success:
            return ok();
        case Kind::SetupFailed:
            return fail(hook.field, o.what, o.err);
        case Kind::ExecFailed:
            return fail(hook.path_field, "cannot execute " + quoted(hook.path), o.err);
        case Kind::Exited:
            return fail(hook.field, quoted(hook.path) + " exited with status " +
                                        std::to_string(o.code) + output_tail(out, err));
        case Kind::Signaled:
            return fail(hook.field, quoted(hook.path) + " killed by signal " +
                                        std::to_string(o.code) + output_tail(out, err));
        case Kind::TimedOut:
            return fail(hook.field,
                        "timed out after " + std::to_string(hook.timeout_seconds) + " s");
    }
    return fail(hook.field, "failed");
}

}  // namespace

Status run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                 std::string_view state_json) {
    PreparedHooks prepared = prepare_hooks(hooks, kind, std::string());
    for (const PreparedHook& hook : prepared.hooks) {
        log::debug("running " + hook.field + ": " + hook.path);
        HRUN_TRY(run_one(hook, state_json));
    }
    return ok();
}

Status run_hooks_best_effort(const std::vector<spec::Hook>& hooks, std::string_view kind,
                             std::string_view state_json) {
    PreparedHooks prepared = prepare_hooks(hooks, kind, std::string());
    std::vector<Error> errors;
    for (const PreparedHook& hook : prepared.hooks) {
        log::debug("running " + hook.field + ": " + hook.path);
        Status s = run_one(hook, state_json);
        if (!s) errors.push_back(std::move(s.error()));
    }
    if (errors.empty()) return ok();
    if (errors.size() == 1) return std::unexpected(std::move(errors.front()));
    std::string joined;
    for (const Error& e : errors) joined += (joined.empty() ? "" : "; ") + e.what();
    return fail("", std::move(joined));
}

}  // namespace hrun::hooks
