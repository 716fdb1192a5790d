// The default seccomp profile: profiles/seccomp/default.json, built into the binary so a
// container never depends on a file outside the bundle at create time.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "policy/policy.hpp"
#include "spec/spec_io.hpp"

namespace hrun::policy {

namespace {

constexpr std::string_view kProfileText =
#include "policy/default_seccomp.inc"
    ;

const std::string kField = "linux.seccomp";

bool holds_any(const std::vector<std::string>& bounding, const nlohmann::json& caps) {
    for (const auto& cap : caps)
        if (cap.is_string() && std::find(bounding.begin(), bounding.end(), cap.get<std::string>()) != bounding.end())
            return true;
    return false;
}

}  // namespace

std::string_view default_seccomp_profile_text() { return kProfileText; }

Result<spec::Seccomp> default_seccomp_profile(const std::vector<std::string>& bounding) {
    nlohmann::json profile = nlohmann::json::parse(kProfileText, nullptr, false);
    if (!profile.is_object() || !profile.contains("syscalls") || !profile["syscalls"].is_array())
        return fail(kField, "the built-in default seccomp profile is malformed");

    nlohmann::json kept = nlohmann::json::array();
    for (auto& entry : profile["syscalls"]) {
        if (entry.contains("whenCapability") && !holds_any(bounding, entry["whenCapability"])) continue;
        if (entry.contains("unlessCapability") && holds_any(bounding, entry["unlessCapability"])) continue;
        // Only the OCI keys go on: the result is an ordinary linux.seccomp object.
        entry.erase("whenCapability");
        entry.erase("unlessCapability");
        entry.erase("comment");
        kept.push_back(std::move(entry));
    }
    profile["syscalls"] = std::move(kept);
    profile.erase("comment");

    const nlohmann::json wrapper = {{"ociVersion", "1.2.0"}, {"linux", {{"seccomp", profile}}}};
    auto parsed = spec::parse_spec(wrapper.dump());
    if (!parsed) return fail(kField, "the built-in default seccomp profile does not parse: " + parsed.error().message);
    if (!parsed->linux || !parsed->linux->seccomp) return fail(kField, "the built-in default seccomp profile is empty");
    return std::move(*parsed->linux->seccomp);
}

}  // namespace hrun::policy
