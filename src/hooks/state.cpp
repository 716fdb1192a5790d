// The runtime-spec state that hooks read on their stdin.
#include <nlohmann/json.hpp>

#include "hooks/hooks.hpp"
#include "hrun/spec.hpp"

namespace hrun::hooks {

StateText hook_state_text(std::string_view id, std::string_view status, std::string_view bundle,
                          const std::map<std::string, std::string>& annotations) {
    nlohmann::json state = {
        {"ociVersion", spec::kSpecVersion},
        {"id", std::string(id)},
        {"status", std::string(status)},
        {"bundle", std::string(bundle)},
    };
    if (!annotations.empty()) state["annotations"] = annotations;
    // Config values are not checked for UTF-8 anywhere; a hook still gets valid JSON.
    std::string text = state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // The object is never empty, so the text ends with the closing brace: "pid" goes last.
    text.pop_back();
    text += ",\"pid\":";
    return StateText{std::move(text), "}"};
}

std::string hook_state_json(std::string_view id, std::string_view status, pid_t pid,
                            std::string_view bundle,
                            const std::map<std::string, std::string>& annotations) {
    StateText text = hook_state_text(id, status, bundle, annotations);
    return text.head + std::to_string(pid) + text.tail;
}

}  // namespace hrun::hooks
