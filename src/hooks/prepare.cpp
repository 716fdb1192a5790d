// From config.json's hooks to execve-ready arrays, computed before any fork.
#include "hooks/hooks.hpp"

namespace hrun::hooks {

ExecStrings::ExecStrings(std::vector<std::string> strings) : strings_(std::move(strings)) {
    rebuild();
}

ExecStrings::ExecStrings(const ExecStrings& other) : strings_(other.strings_) { rebuild(); }

ExecStrings& ExecStrings::operator=(const ExecStrings& other) {
    if (this != &other) {
        strings_ = other.strings_;
        rebuild();
    }
    return *this;
}

void ExecStrings::rebuild() {
    pointers_.clear();
    pointers_.reserve(strings_.size() + 1);
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
}

namespace {

std::vector<PreparedHook> prepare_list(const std::vector<spec::Hook>& hooks,
                                       std::string_view kind) {
    std::vector<PreparedHook> prepared;
    prepared.reserve(hooks.size());
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        const spec::Hook& h = hooks[i];
        PreparedHook p;
        p.path = h.path;
        // The spec gives args execv's argv semantics: args[0] is argv[0]. With no args at all,
        // the program still needs an argv[0], and its path is the conventional one.
        p.argv = ExecStrings(h.args.empty() ? std::vector<std::string>{h.path} : h.args);
        p.envp = ExecStrings(h.env);
        p.timeout_seconds = h.timeout && *h.timeout > 0 ? *h.timeout : 0;
        p.field = "hooks." + std::string(kind) + "[" + std::to_string(i) + "]";
        p.path_field = p.field + ".path";
        prepared.push_back(std::move(p));
    }
    return prepared;
}

}  // namespace

PreparedHooks prepare_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                            std::string state_json) {
    PreparedHooks prepared;
    prepared.hooks = prepare_list(hooks, kind);
    prepared.state_head = std::move(state_json);
    return prepared;
}

PreparedHooks prepare_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                            StateText state) {
    PreparedHooks prepared;
    prepared.hooks = prepare_list(hooks, kind);
    prepared.state_head = std::move(state.head);
    prepared.state_tail = std::move(state.tail);
    prepared.pid_slot = true;
    return prepared;
}

}  // namespace hrun::hooks
