#include "create/pipeline.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "create/prepare.hpp"
#include "create/spawn.hpp"
#include "create/supervise.hpp"
#include "spec/spec_io.hpp"

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

Result<int> run_container(const RunRequest& request) {
    CreateOptions options;
    options.id = request.id.empty() ? generate_container_id() : request.id;
    HRUN_TRY(validate_container_id(options.id));
    std::error_code ec;
    options.bundle = std::filesystem::absolute(request.bundle, ec).lexically_normal().string();
    if (ec) return fail("bundle", "cannot resolve \"" + request.bundle + "\"", ec.value());
    if (options.bundle.size() > 1 && options.bundle.back() == '/') options.bundle.pop_back();
    options.no_pivot = request.no_pivot;
    options.preserve_fds = request.preserve_fds;
    options.systemd_cgroup = request.systemd_cgroup;

    spec::Spec spec = HRUN_TRY(spec::load_spec(options.bundle + "/config.json"));  // 1. parse
    HRUN_TRY(spec::validate_spec(spec));                                             // 2. validate
    ContainerPlan plan = HRUN_TRY(prepare_container(std::move(spec), options));      // 3. prepare

    block_all_signals();
    ContainerProcess container = HRUN_TRY(spawn_container(plan, {}));  // 4-6. clone..exec
    int code = HRUN_TRY(supervise(container));                     // 7. supervise
    // The foreground container is gone: its leftovers and cgroup go with it.
    if (plan.cgroup) HRUN_TRY(plan.cgroup->destroy());
    return code;
}

}  // namespace hrun::create
