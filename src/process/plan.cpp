// plan_process: process.* turned into ready-made values before clone.
#include <cerrno>

#include "process/process_internal.hpp"

namespace hrun::process {

void CStringArray::rebuild() {
    pointers_.clear();
    pointers_.reserve(strings_.size() + 1);
    // execve's prototype takes char* const[] for C compatibility; it never writes through them.
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
}

namespace {

// execve cuts a string at its first NUL byte: "a\u0000b" in config.json would silently run
// something else than what was written.
bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

Status plan_command(const spec::Process& process, ProcessPlan& plan) {
    if (process.args.empty()) return fail("process.args", "must name the program to run");
    for (std::size_t i = 0; i < process.args.size(); ++i) {
        if (has_nul(process.args[i]))
            return fail("process.args[" + std::to_string(i) + "]", "must not contain a NUL byte");
    }
    if (process.args[0].empty()) return fail("process.args[0]", "must not be empty");
    plan.args = CStringArray(process.args);

    if (process.cwd.empty() || process.cwd[0] != '/')
        return fail("process.cwd", "must be an absolute path");
    if (has_nul(process.cwd)) return fail("process.cwd", "must not contain a NUL byte");
    plan.cwd = process.cwd;
    return ok();
}

Result<ProcessPlan> plan_process(const spec::Spec& spec, const ProcessOptions& options,
                                 const os::HostContext& host) {
    if (!spec.process) return fail("process", "is required to create a container");
    if (options.preserve_fds < 0)
        return fail("", "--preserve-fds must not be negative");

    ProcessPlan plan;
    plan.preserve_fds = options.preserve_fds;
    HRUN_TRY(plan_command(*spec.process, plan));
    HRUN_TRY(plan_credentials(spec, host, plan));
    HRUN_TRY(plan_environment(spec, options, host.proc.get(), plan));  // after credentials: HOME needs the uid
    HRUN_TRY(plan_capabilities(*spec.process, host, plan));
    HRUN_TRY(plan_limits(spec, plan));
    HRUN_TRY(plan_lsm(*spec.process, host, plan));
    return plan;
}

}  // namespace hrun::process
