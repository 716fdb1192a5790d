// What prepare_process/exec_process do, computed before clone. (Filled in by the process module.)
#pragma once

namespace hrun::process {
struct ProcessPlan {};
}  // namespace hrun::process
