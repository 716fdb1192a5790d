// The strict policy: a config the audit rates critical is refused, unless its annotations accept
// that finding by id. The exception lives in the config itself, next to what it excuses, so a
// reviewer sees both in one place:
//
//   "annotations": {"org.hrun.policy.accept": "HRUN-CAP-001,HRUN-MNT-001"}
#include <algorithm>
#include <sstream>

#include "audit/audit.hpp"
#include "policy/policy.hpp"

namespace hrun::policy {

namespace {

std::vector<std::string> accepted_ids(const spec::Spec& spec) {
    std::vector<std::string> ids;
    auto it = spec.annotations.find(std::string(kAcceptAnnotation));
    if (it == spec.annotations.end()) return ids;
    std::stringstream list(it->second);
    std::string id;
    while (std::getline(list, id, ',')) {
        while (!id.empty() && id.front() == ' ') id.erase(id.begin());
        while (!id.empty() && id.back() == ' ') id.pop_back();
        if (!id.empty()) ids.push_back(id);
    }
    return ids;
}

}  // namespace

Status refuse_critical(const spec::Spec& spec) {
    const std::vector<std::string> accepted = accepted_ids(spec);
    for (const audit::Finding& f : audit::audit_spec(spec)) {
        if (f.severity != audit::Severity::critical) continue;
        if (std::find(accepted.begin(), accepted.end(), f.id) != accepted.end()) continue;
        return fail(f.path, "refused by the strict policy: " + f.message + " (" + f.id +
                                "; accept it with the annotation " + std::string(kAcceptAnnotation) +
                                "=" + f.id + ")");
    }
    return ok();
}

}  // namespace hrun::policy
