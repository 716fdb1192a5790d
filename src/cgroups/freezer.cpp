#include "cgroups/freezer.hpp"

#include <algorithm>
#include <cerrno>

#include "cgroups/fs.hpp"

namespace hrun::cgroups {

namespace {

constexpr const char* kField = "linux.cgroupsPath";

std::string_view request_text(int version, bool frozen) {
    if (version == 2) return frozen ? "1" : "0";
    return frozen ? "FROZEN" : "THAWED";
}

}  // namespace

Status drive_freezer(const FreezerFiles& files, bool frozen, std::chrono::milliseconds deadline) {
    using Clock = std::chrono::steady_clock;
    const char* what = frozen ? "freeze" : "thaw";
    const char* file = files.version == 2 ? "cgroup.freeze" : "freezer.state";
    if (int err = files.request(request_text(files.version, frozen)); err != 0)
        return fail(kField, std::string("cannot ") + what + " the container (" + file + ")", err);

    const auto end = Clock::now() + deadline;
    for (int step = 0;; ++step) {
        if (files.reached(frozen).value_or(false)) return ok();
        if (Clock::now() >= end) break;
        // A v1 freeze stalls in FREEZING on tasks it could not stop yet; asking again makes the
        // kernel retry them (as runc does).
        if (files.version == 1 && step > 0 && step % 20 == 0) (void)files.request(request_text(1, frozen));
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        fs::sleep_ms(static_cast<int>(std::max<long long>(0, std::min<long long>(step < 10 ? 1 : 10, left))));
    }
    std::string message = std::string("the container did not ") + what + " within " +
                          std::to_string(deadline.count()) + " ms";
    if (frozen) {
        // Never leave it half frozen: a process stopped mid-way would hang its peers.
        const bool thawed = files.request(request_text(files.version, false)) == 0;
        message += files.version == 1 ? " (freezer.state never read FROZEN: a process may be in an uninterruptible sleep)"
                                      : " (cgroup.events never said \"frozen 1\")";
        message += thawed ? "; thawed it again" : "; and it could not be thawed again";
    }
    return fail(kField, message, ETIMEDOUT);
}

}  // namespace hrun::cgroups
