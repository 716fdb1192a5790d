#include "hrun/error.hpp"

#include <cstring>

namespace hrun {

std::string Error::what() const {
    std::string out = field;
    auto append = [&out](std::string_view part) {
        if (part.empty()) return;
        if (!out.empty()) out += ": ";
        out += part;
    };
    append(message);
    if (err != 0) {
        // Lower case, as runc (Go) prints errno texts: engines match on them, e.g. the docker CLI
        // turns "no such file or directory" from the runtime into exit status 127.
        std::string text = std::strerror(err);
        if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
        append(text);
    }
    return out;
}

Error& Error::context(std::string_view ctx) {
    message = std::string(ctx) + (message.empty() ? "" : ": ") + message;
    return *this;
}

}  // namespace hrun
