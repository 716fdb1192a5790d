// OCI lifecycle hooks: programs named in config.json's "hooks" that hrun runs at fixed points
// of a container's life, each fed the container's state JSON on its stdin.
//
// Where each kind runs, and what its failure does:
//
//   kind             where                                  on failure
//   prestart         runtime namespaces, once the container's create fails; the container is
//   createRuntime    mounts are made, before pivot_root        destroyed (run_hooks)
//   createContainer  same moment, in the container's          create fails, as above
//                    namespaces: the container process forks
//                    it, as runc's init does (run_prepared_
//                    hooks; paths still resolve on the host)
//   startContainer   inside the container process, after      start fails with the hook's error
//                    pivot_root, once `start` has released it, (the container sends it through
//                    right before the user's exec              the exec fifo) and the container
//                    (run_prepared_hooks; paths resolve in     process exits instead of exec'ing
//                    the container's root)
//   poststart        runtime namespaces, after the user's      the runtime-spec asks for a warning
//                    process was started                       only; runc instead kills the
//                                                              container and fails `start`, and
//                                                              hrun follows runc: run_hooks, then
//                                                              the caller kills the container
//   poststop         runtime namespaces, in `delete`           warning only, deletion goes on
//                                                              (run_hooks_best_effort)
//
// Every hook gets exactly its own "env" (nothing of hrun's environment), its "args" as argv
// (args[0] is argv[0], as for execv; the path when args is empty), stdin carrying the state,
// stdout and stderr captured (shown in the error when the hook fails, otherwise dropped), no
// other file descriptor, an empty signal mask and default signal dispositions. A hook with a
// "timeout" is killed with SIGKILL, together with its process group, when it runs longer.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/child_error.hpp"
#include "hrun/error.hpp"
#include "hrun/spec.hpp"

namespace hrun::hooks {

// ---------------------------------------------------------------------------------------------
// State JSON
// ---------------------------------------------------------------------------------------------

// The runtime-spec state as text, cut where the value of "pid" goes: the state for pid P is
// head + decimal(P) + tail. A process that learns its pid late (the container process, for
// startContainer hooks) can so complete the state without allocating.
struct StateText {
    std::string head;  // ends with `"pid":`
    std::string tail;  // `}`
};

// {"ociVersion","id","status","bundle","annotations" (left out when empty),"pid"}, built with
// nlohmann::json (strings escaped, UTF-8 checked: invalid bytes become U+FFFD).
StateText hook_state_text(std::string_view id, std::string_view status, std::string_view bundle,
                          const std::map<std::string, std::string>& annotations);

// The complete state JSON for one pid.
std::string hook_state_json(std::string_view id, std::string_view status, pid_t pid,
                            std::string_view bundle,
                            const std::map<std::string, std::string>& annotations);

// ---------------------------------------------------------------------------------------------
// Runtime side: prestart, createRuntime, createContainer, poststart, poststop
// ---------------------------------------------------------------------------------------------

// Runs `hooks` in order, each to completion, and stops at the first failure. `kind` is the
// config.json name of the list ("createRuntime"); it names the failing hook in the error:
//   hooks.createRuntime[1].path: cannot execute "/x": No such file or directory
//   hooks.createRuntime[1]: "/x" exited with status 3: <last KiB of its stderr>
//   hooks.createRuntime[1]: "/x" killed by signal 9
//   hooks.createRuntime[1]: timed out after 5 s
// Waits through a pidfd, so it works with every signal blocked. The caller must not reap
// children it did not start with waitpid(-1) while this runs.
Status run_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                 std::string_view state_json);

// For the kinds whose failure must not stop the lifecycle (poststop; poststart per the
// runtime-spec): runs every hook even after one failed and returns all failures in one error
// (their messages joined by "; "), which the caller logs as a warning.
Status run_hooks_best_effort(const std::vector<spec::Hook>& hooks, std::string_view kind,
                             std::string_view state_json);

// ---------------------------------------------------------------------------------------------
// Container side: startContainer
// ---------------------------------------------------------------------------------------------

// Strings plus the NULL-terminated char* array execve wants, pointing into those strings.
// Copies rebuild the pointers, so a copy never points into its source.
class ExecStrings {
public:
    ExecStrings() { rebuild(); }
    explicit ExecStrings(std::vector<std::string> strings);
    ExecStrings(const ExecStrings& other);
    ExecStrings& operator=(const ExecStrings& other);
    // A vector move hands over its element buffer: the pointers stay valid as they are.
    ExecStrings(ExecStrings&&) noexcept = default;
    ExecStrings& operator=(ExecStrings&&) noexcept = default;

    const std::vector<std::string>& strings() const noexcept { return strings_; }
    // NULL-terminated. Child-safe.
    char* const* data() const noexcept {
        static char* const empty[] = {nullptr};
        return pointers_.empty() ? empty : pointers_.data();  // empty only once moved from
    }

private:
    void rebuild();

    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

// One hook, ready for execve.
struct PreparedHook {
    std::string path;
    ExecStrings argv;          // args, or {path} when args is empty
    ExecStrings envp;          // env, exactly
    int timeout_seconds = 0;   // 0: no timeout
    std::string field;         // "hooks.startContainer[0]"
    std::string path_field;    // "hooks.startContainer[0].path"
};

// Everything run_prepared_hooks needs, computed in the parent before clone.
struct PreparedHooks {
    std::vector<PreparedHook> hooks;
    // The state: head, then (when pid_slot) the decimal pid given to run_prepared_hooks, then
    // tail. Without pid_slot, head is the whole state.
    std::string state_head;
    std::string state_tail;
    bool pid_slot = false;
};

// With a complete state JSON, written to the hooks as it is.
PreparedHooks prepare_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                            std::string state_json);

// With a state whose pid is filled in by run_prepared_hooks.
PreparedHooks prepare_hooks(const std::vector<spec::Hook>& hooks, std::string_view kind,
                            StateText state);

// Child side (no allocation, no exceptions): runs the prepared hooks in order, as run_hooks does,
// and fails on the first that fails, naming it ("hooks.startContainer[0]"). Each hook is forked
// from the calling process, so paths and the hook's view of the system are the container's.
// `pid` completes a state prepared with a pid slot; 0 means getpid(), the pid as seen in the
// container's pid namespace (what runc reports). The hook's output is captured; the tail of it
// that fits appears in the error.
ChildStatus run_prepared_hooks(const PreparedHooks& prepared, pid_t pid = 0) noexcept;

}  // namespace hrun::hooks
