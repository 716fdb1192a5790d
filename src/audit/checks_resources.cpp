// linux.resources: memory, pids and CPU limits (CIS: containers share the host's capacity and
// must not be able to exhaust it), and protection from the OOM killer. Limits given through
// linux.resources.unified (cgroup v2 file names) count as well.
#include "audit/checks.hpp"

namespace hrun::audit::detail {
namespace {

// A unified entry that sets a limit: present and not "max" (cpu.max is "QUOTA PERIOD").
bool unified_limit(const spec::Resources* r, const std::string& file) {
    if (!r) return false;
    auto it = r->unified.find(file);
    if (it == r->unified.end()) return false;
    return !it->second.starts_with("max");
}

bool limits_memory(const spec::Resources* r) {
    if (r && r->memory && r->memory->limit && *r->memory->limit > 0) return true;
    return unified_limit(r, "memory.max");
}

bool limits_pids(const spec::Resources* r) {
    if (r && r->pids && r->pids->limit && *r->pids->limit > 0) return true;
    return unified_limit(r, "pids.max");
}

bool limits_cpu(const spec::Resources* r) {
    if (r && r->cpu) {
        const spec::CpuResources& c = *r->cpu;
        if ((c.quota && *c.quota > 0) || c.shares || !c.cpus.empty()) return true;
    }
    return unified_limit(r, "cpu.max") || (r && r->unified.contains("cpu.weight"));
}

}  // namespace

void check_resources(const Context& ctx, Findings& out) {
    const spec::Resources* r = ctx.linux && ctx.linux->resources ? &*ctx.linux->resources : nullptr;
    if (!limits_memory(r))
        out.add("HRUN-RES-001", Severity::medium, "linux.resources.memory.limit", "no memory limit is set");
    if (!limits_pids(r))
        out.add("HRUN-RES-002", Severity::medium, "linux.resources.pids.limit", "no pids limit is set");
    if (!limits_cpu(r))
        out.add("HRUN-RES-003", Severity::low, "linux.resources.cpu", "no CPU quota, shares or CPU set is set");

    if (ctx.process && ctx.process->oomScoreAdj && *ctx.process->oomScoreAdj < 0)
        out.add("HRUN-RES-004", Severity::low, "process.oomScoreAdj",
                "oomScoreAdj " + std::to_string(*ctx.process->oomScoreAdj) + " makes host processes die first");
    if (r && r->memory && r->memory->disableOOMKiller.value_or(false))
        out.add("HRUN-RES-004", Severity::low, "linux.resources.memory.disableOOMKiller",
                "the OOM killer is disabled for the container");
}

}  // namespace hrun::audit::detail
