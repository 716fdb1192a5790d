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
    if (err != 0) append(std::strerror(err));
    return out;
}

Error& Error::context(std::string_view ctx) {
    message = std::string(ctx) + (message.empty() ? "" : ": ") + message;
    return *this;
}

}  // namespace hrun
