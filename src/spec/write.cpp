// hrun::spec::Spec -> config.json text, in the order of the runtime-spec (fields.hpp).
//
// Members the tables mark IfSet are left out when they hold what an absent member parses to, so
// parse_spec(to_json(x)) == x for every x.
#include <concepts>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "spec/fields.hpp"
#include "spec/spec_io.hpp"

namespace hrun::spec {
namespace {

using Out = nlohmann::ordered_json;

Out write(const std::string& v) { return v; }
Out write(bool v) { return v; }

template <std::integral T>
    requires(!std::same_as<T, bool>)
Out write(T v) {
    return v;
}

template <fields::Described S>
Out write(const S& s);

template <class T>
Out write(const std::optional<T>& v) {
    return write(*v);  // only called when set
}

template <class T>
Out write(const std::vector<T>& items) {
    Out out = Out::array();
    for (const auto& item : items) out.push_back(write(item));
    return out;
}

template <class T>
Out write(const std::map<std::string, T>& items) {
    Out out = Out::object();
    for (const auto& [key, item] : items) out[key] = write(item);
    return out;
}

// Whether a member equals what parsing an absent member yields.
template <class T>
bool is_default(const T& v) {
    if constexpr (requires { v.has_value(); }) {
        return !v.has_value();
    } else if constexpr (requires { v.empty(); }) {
        return v.empty();
    } else if constexpr (std::integral<T>) {
        return v == T{};
    } else {
        return false;  // a nested struct member is always written
    }
}

template <fields::Described S>
Out write(const S& s) {
    Out out = Out::object();
    std::apply(
        [&](const auto&... field) {
            auto one = [&](const auto& f) {
                const auto& v = s.*(f.member);
                if (f.emit == fields::Emit::IfSet && is_default(v)) return;
                out[std::string(f.name)] = write(v);
            };
            (one(field), ...);
        },
        fields::Table<S>::list);
    return out;
}

}  // namespace

std::string to_json(const Spec& spec, int indent) {
    // Invalid UTF-8 (possible only in a model built in code) is replaced rather than thrown on.
    std::string text = write(spec).dump(indent < 0 ? -1 : indent, ' ', false, Out::error_handler_t::replace);
    if (indent >= 0) text += '\n';  // a text file ends with a newline
    return text;
}

}  // namespace hrun::spec
