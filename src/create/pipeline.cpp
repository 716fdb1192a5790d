#include "create/pipeline.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>


namespace hrun::create {

Status validate_container_id(const std::string& id) {
    if (id.empty() || id.size() > 1024)
        return fail("id", "must be 1 to 1024 characters long");
    if (id == "." || id == "..") return fail("id", "\"" + id + "\" is not a valid container id");
    for (char c : id) {
        bool good = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-' || c == '.';
        if (!good)
            return fail("id", "\"" + id + "\" may only contain letters, digits and _ + - .");
    }
    return ok();
}

std::string generate_container_id() {
    unsigned char bytes[6] = {};
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
        // getrandom does not fail for 6 bytes on Linux >= 3.17; still, never return a fixed id.
        unsigned long mix = static_cast<unsigned long>(::getpid()) * 2654435761UL ^
                            static_cast<unsigned long>(::time(nullptr));
        for (auto& b : bytes) b = static_cast<unsigned char>(mix >>= 5);
    }
    char out[5 + 12 + 1];
    std::snprintf(out, sizeof out, "hrun-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2],
                  bytes[3], bytes[4], bytes[5]);
    return out;
}

}  // namespace hrun::create
