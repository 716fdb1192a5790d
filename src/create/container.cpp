#include "create/container.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cgroups/cgroups.hpp"
#include "create/pipeline.hpp"
#include "create/prepare.hpp"
#include "create/spawn.hpp"
#include "create/supervise.hpp"
#include "create/teardown.hpp"
#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "linux/sealed_exe.hpp"
#include "policy/userns_remap.hpp"
#include "security/seccomp_cache.hpp"
#include "spec/spec_io.hpp"
#include "state/state.hpp"

namespace hrun::create {

// Written as runc does, to a temporary file renamed over the target, so an engine polling for
// the pid file never reads half of it. The directory may be writable by others: the temporary
// name is random and created exclusively without following links (a planted symlink or file
// makes the attempt fail, never redirects the write), and rename(2) replaces a symlink at the
// target itself instead of writing where it points.
Status write_pid_file(const std::string& path, pid_t pid) {
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name.empty() || name == "." || name == "..")
        return fail("--pid-file", "\"" + path + "\" does not name a file", EINVAL);
    UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd) return fail_errno("cannot open the directory of \"" + path + "\"", "--pid-file");

    std::string tmp;
    UniqueFd fd;
    for (int attempt = 0; !fd && attempt < 16; ++attempt) {
        uint64_t random = 0;
        if (::getrandom(&random, sizeof random, 0) != sizeof random)
            return fail_errno("cannot pick a temporary name", "--pid-file");
        char suffix[17];
        std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random));
        tmp = "." + name + ".hrun-" + suffix;
        fd.reset(::openat(dirfd.get(), tmp.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (!fd && errno != EEXIST) break;
    }
    if (!fd) return fail_errno("cannot create a temporary file next to \"" + path + "\"", "--pid-file");
    std::string text = std::to_string(pid);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        int err = errno;
        ::unlinkat(dirfd.get(), tmp.c_str(), 0);
        return fail("--pid-file", "cannot write \"" + path + "\"", err);
    }
    fd.reset();
    if (::renameat(dirfd.get(), tmp.c_str(), dirfd.get(), name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(dirfd.get(), tmp.c_str(), 0);
        return fail("--pid-file", "cannot write \"" + path + "\"", err);
    }
    return ok();
}

bool shares_a_pid_namespace(const spec::Spec& spec) {
    if (!spec.linux) return true;
    for (const spec::Namespace& ns : spec.linux->namespaces)
        if (ns.type == "pid") return !ns.path.empty();
    return true;
}

namespace {

std::string absolute_path(const std::string& path) {
    std::error_code ec;
    std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (abs.size() > 1 && abs.back() == '/') abs.pop_back();
    return ec ? path : abs;
}

state::ContainerState initial_state(const spec::Spec& spec, const CreateOptions& options) {
    state::ContainerState st;
    st.oci_version = spec.ociVersion;
    st.id = options.id;
    st.bundle = options.bundle;
    const std::string& root = spec.root ? spec.root->path : std::string();
    st.rootfs = !root.empty() && root[0] == '/' ? root : absolute_path(options.bundle + "/" + root);
    st.created = state::rfc3339_now();
    st.owner = state::user_name(::geteuid());
    st.annotations = spec.annotations;
    st.config_path = options.bundle + "/config.json";
    st.systemd_cgroup = options.systemd_cgroup;
    st.rootless = ::geteuid() != 0;
    auto doc = nlohmann::json::parse(spec::to_json(spec, -1), nullptr, false);
    if (doc.is_object() && doc.contains("process")) st.init_process = doc["process"];
    return st;
}

std::string hook_state(const state::ContainerState& st, std::string_view status, pid_t pid) {
    return hooks::hook_state_json(st.id, status, pid, st.bundle, st.annotations);
}

// --userns-remap: resolved (and refused when the user has no range) before anything exists.
Result<std::vector<policy::AppliedDefault>> apply_remap(spec::Spec& spec, const std::string& value) {
    if (value.empty()) return std::vector<policy::AppliedDefault>{};
    policy::UsernsRemap remap = HRUN_TRY(policy::resolve_userns_remap(value));
    policy::RemapOutcome outcome = policy::apply_userns_remap(spec, remap);
    if (outcome.left_alone) {
        log::info("userns-remap: the config has its own user namespace; left as it is");
        return std::move(outcome.applied);
    }
    for (const policy::AppliedDefault& d : outcome.applied)
        log::info("userns-remap: " + d.field + " set to " + d.value);
    HRUN_TRY(spec::validate_spec(spec));
    return std::move(outcome.applied);
}

// Everything `create` and `run` share: from the request to a container process that is set
// up, recorded in state.json and (with an exec fifo) waiting for `start`.
struct Launched {
    state::ContainerState state;
    spec::Spec spec;
    ContainerProcess process;
    std::optional<console::TerminalProxy> terminal;
    // Kept for a foreground `run`'s own teardown (finish_run): the state root it reopens the
    // container from, and the cgroup (released: dropping it removes nothing).
    state::StateRoot root;
    std::optional<cgroups::Cgroup> cgroup;
};

Result<Launched> launch(const ContainerRequest& request, bool exec_fifo, bool foreground) {
    CreateOptions options;
    options.id = request.id.empty() ? generate_container_id() : request.id;
    HRUN_TRY(validate_container_id(options.id));
    options.bundle = absolute_path(request.bundle);
    options.no_pivot = request.no_pivot;
    options.preserve_fds = request.preserve_fds;
    options.systemd_cgroup = request.systemd_cgroup;

    spec::Spec spec = HRUN_TRY(spec::load_spec(options.bundle + "/config.json"));  // 1. parse
    HRUN_TRY(spec::validate_spec(spec));                                             // 2. validate
    // Before anything exists or is logged: the sealed copy starts the same command afresh.
    if (shares_a_pid_namespace(spec)) HRUN_TRY(os::ensure_sealed_exe(exec_fifo ? "create" : "run"));
    log::debug("container " + options.id + ": " + options.bundle + "/config.json loaded and valid");
    const policy::PolicyChoice policy = policy::choose_policy(request.policy, spec);  //    policy
    const std::vector<policy::AppliedDefault> defaults =
        HRUN_TRY(policy::apply_policy(spec, policy.policy, policy::detect_host_security()));
    if (!defaults.empty()) HRUN_TRY(spec::validate_spec(spec));
    const std::vector<policy::AppliedDefault> remapped = HRUN_TRY(apply_remap(spec, request.userns_remap));
    bool terminal = spec.process && spec.process->terminal;
    if (terminal && request.console_socket.empty() && !foreground)
        return fail("process.terminal", "a detached container with a terminal needs --console-socket");

    state::StateRoot root = HRUN_TRY(state::StateRoot::open(request.root));
    state::ContainerDir dir = HRUN_TRY(root.create(options.id));
    options.seccomp_cache_dir = security::SeccompCache::default_dir();
    // Until the create succeeds, any failure removes the state directory again (the plan's
    // own owners remove the cgroup and kill the process).
    struct RemoveUnlessKept {
        state::ContainerDir& dir;
        bool keep = false;
        ~RemoveUnlessKept() {
            if (!keep) (void)dir.remove();
        }
    } guard{dir};

    state::ContainerState st = initial_state(spec, options);
    st.policy = std::string(policy::policy_name(policy.policy));  // exec applies it too
    st.policy_reason = policy.reason;
    if (policy.policy != policy::Policy::Hardened || policy.reason != "default")
        log::info("policy " + st.policy + " (" + policy.reason + ")");
    for (const policy::AppliedDefault& d : defaults) {
        st.applied_defaults.push_back(d.field + ": " + d.value);
        log::info("policy " + st.policy + ": " + d.field + " set to " + d.value);
    }
    for (const policy::AppliedDefault& d : remapped) st.applied_defaults.push_back(d.field + ": " + d.value);
    // state.json (pid 0) is first written once there is something for `delete --force` to
    // clean: the cgroup, recorded before its directories are made; or, without one, before
    // the process exists. Until then the directory alone is all there is, and `delete` removes
    // a directory without state.json as it is.
    bool saved = false;
    options.on_cgroup_placed = [&](const cgroups::Placement& where, cgroups::Mode mode) -> Status {
        st.cgroup = {where.directories, std::string(cgroups::mode_name(mode))};
        HRUN_TRY(dir.save(st));
        saved = true;
        return ok();
    };
    ContainerPlan plan = HRUN_TRY(prepare_container(spec, options));  // 3. prepare
    {
        std::string cgroup = "none";
        for (std::size_t i = 0; i < st.cgroup.directories.size(); ++i)
            cgroup = (i ? cgroup + " " : std::string()) + st.cgroup.directories[i];
        log::debug("container " + options.id + ": prepared (policy " + st.policy + ", cgroup " + cgroup + ")");
    }
    if (!saved) HRUN_TRY(dir.save(st));
    plan.state_dir_fd = dir.fd();
    if (exec_fifo) {
        st.exec_fifo = HRUN_TRY(dir.create_exec_fifo(::geteuid(), ::getegid()));
        plan.exec_fifo.reset(::open(st.exec_fifo.c_str(), O_PATH | O_CLOEXEC));
        if (!plan.exec_fifo) return fail_errno("cannot open the exec fifo");
    }

    std::optional<console::TerminalProxy> proxy;
    SpawnSteps steps;
    steps.run_hooks = [&](pid_t pid) -> Status {
        std::string text = hook_state(st, "creating", pid);
        // createContainer is the container process's own (ContainerPlan::container_hooks).
        for (auto [list, kind] : {std::pair{&spec.hooks->prestart, "prestart"},
                                  {&spec.hooks->createRuntime, "createRuntime"}})
            HRUN_TRY(hooks::run_hooks(*list, kind, text));
        return ok();
    };
    steps.terminal = [&](UniqueFd master) -> Status {
        if (!request.console_socket.empty())
            return console::send_to_console_socket(request.console_socket, master.get(),
                                                   console::kMasterName);
        proxy.emplace(HRUN_TRY(console::TerminalProxy::start(std::move(master))));
        return ok();
    };
    steps.ready = [&](pid_t pid) -> Status {
        log::debug("container " + options.id + ": process " + std::to_string(pid) + " set up, " +
                   (exec_fifo ? "waiting for start" : "starting"));
        st.pid = pid;
        st.pid_start_time = HRUN_TRY(state::process_start_time(pid, plan.host.proc.get()));
        HRUN_TRY(dir.save(st));
        if (!request.pid_file.empty()) HRUN_TRY(write_pid_file(request.pid_file, pid));
        return ok();
    };
    block_all_signals();
    ContainerProcess process = HRUN_TRY(spawn_container(plan, steps));  // 4-6. clone, child, exec

    if (plan.cgroup) plan.cgroup->release();  // the container lives there now
    guard.keep = true;
    return Launched{std::move(st), std::move(plan.spec), std::move(process), std::move(proxy), std::move(root),
                    std::move(plan.cgroup)};
}

// What the container wrote to its exec fifo once its startContainer hooks ran: "0" to go on to
// exec, or "1" and the ChildError of the hook that failed (it then exits).
Status start_verdict(int fifo, char first) {
    if (first == '0') return ok();
    ChildError ce;
    if (first != '1' || ::read(fifo, &ce, sizeof ce) != static_cast<ssize_t>(sizeof ce))
        return fail("", "unexpected data in the exec fifo", EPROTO);
    ce.field[sizeof ce.field - 1] = '\0';
    ce.message[sizeof ce.message - 1] = '\0';
    return std::unexpected(Error{ce.err, ce.field, ce.message});
}

// The container blocks opening its exec fifo for writing until someone opens it for reading;
// it then runs its startContainer hooks, writes its verdict (start_verdict) and goes on to
// exec. Waits for that verdict, or for its death.
Status release_exec_fifo(const state::ContainerState& st) {
    // The pidfd first: once the fifo is open the process may exec, finish and be reaped at once
    // (`sh -c 'exit 3'`); the pidfd keeps telling about it, and its byte stays in the fifo.
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0)));
    if (!pidfd) return fail("", "the container process is gone", errno);
    UniqueFd fifo(::open(st.exec_fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) return fail_errno("cannot open the exec fifo \"" + st.exec_fifo + "\"");
    // Opening for reading lets the container's open for writing return; it then writes one
    // byte. The pidfd turns readable if it dies instead.
    for (;;) {
        pollfd fds[2] = {{fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return fail_errno("cannot wait on the exec fifo");
        }
        if (fds[0].revents & POLLIN) {
            char byte;
            if (::read(fifo.get(), &byte, 1) == 1) return start_verdict(fifo.get(), byte);
        }
        if (fds[1].revents & POLLIN) {
            // It exited: after writing its verdict (a quick program), or before (it failed).
            char byte;
            if (::read(fifo.get(), &byte, 1) == 1) return start_verdict(fifo.get(), byte);
            return fail("", "the container process exited before start");
        }
        if (fds[0].revents & POLLHUP) {
            // The writer came and went without writing: it died. Wait for the pidfd to say so.
            ::usleep(1000);
        }
    }
}

}  // namespace

Status create_container(const ContainerRequest& request) {
    Launched launched = HRUN_TRY(launch(request, /*exec_fifo=*/true, /*foreground=*/false));
    launched.process.release();  // it waits for `start`; hrun's job here is done
    return ok();
}

Status start_container(const std::string& root_path, const std::string& id) {
    state::StateRoot root = HRUN_TRY(state::StateRoot::open(root_path, state::StateRoot::Create::MustExist));
    state::ContainerDir dir = HRUN_TRY(root.open(id, state::Lock::Exclusive));
    state::ContainerState st = HRUN_TRY(dir.load());
    state::ContainerStatus status = HRUN_TRY(state::container_status(st));
    if (status != state::ContainerStatus::Created)
        return fail("", "cannot start a container that is " +
                            std::string(state::status_name(status)) + " (not created)");
    log::debug("container " + id + ": starting process " + std::to_string(st.pid));
    HRUN_TRY(release_exec_fifo(st));
    log::debug("container " + id + ": process " + std::to_string(st.pid) + " runs its program");
    ::unlink(st.exec_fifo.c_str());
    st.exec_fifo.clear();
    HRUN_TRY(dir.save(st));

    auto spec = spec::load_spec(st.config_path);
    if (spec && spec->hooks && !spec->hooks->poststart.empty()) {
        // As runc: a failing poststart hook fails `start` and the container is killed.
        if (auto hooked = hooks::run_hooks(spec->hooks->poststart, "poststart",
                                           hook_state(st, "running", st.pid));
            !hooked) {
            ::kill(st.pid, SIGKILL);
            return hooked;
        }
    }
    return ok();
}

namespace {

// Exit status 137 says only "SIGKILL". When the container's cgroup counted an OOM kill, the
// limit is what killed it: say so while the cgroup still exists (delete removes it).
void report_oom_kill(const state::ContainerState& st, const cgroups::Cgroup* cgroup, int code) {
    if (code != 128 + SIGKILL || cgroup == nullptr || st.cgroup.directories.empty()) return;
    auto kills = cgroup->oom_kills();
    if (!kills || *kills == 0) return;
    log::warn("container \"" + st.id + "\" was killed by the kernel's OOM killer (" + std::to_string(*kills) +
              " OOM kill" + (*kills == 1 ? "" : "s") + " in its cgroup): it reached its memory limit, " +
              "linux.resources.memory.limit");
}

}  // namespace

Result<int> run_container(const ContainerRequest& request, const RunOptions& options) {
    Launched launched = HRUN_TRY(launch(request, /*exec_fifo=*/false, !options.detach));
    const state::ContainerState& st = launched.state;
    if (launched.spec.hooks && !launched.spec.hooks->poststart.empty()) {
        if (auto hooked = hooks::run_hooks(launched.spec.hooks->poststart, "poststart",
                                           hook_state(st, "running", st.pid));
            !hooked) {
            launched.process.kill_and_reap();
            (void)delete_container(request.root, st.id, true);
            return std::unexpected(hooked.error());
        }
    }
    if (options.detach) {
        launched.process.release();
        return 0;
    }
    int code = HRUN_TRY(supervise(launched.process, launched.terminal ? &*launched.terminal : nullptr));
    launched.terminal.reset();  // the caller's terminal back to normal before any message
    log::debug("container " + st.id + ": process " + std::to_string(st.pid) + " exited with status " +
               std::to_string(code));
    report_oom_kill(st, launched.cgroup ? &*launched.cgroup : nullptr, code);
    if (!options.keep)
        HRUN_TRY(finish_run(launched.root, st, launched.spec, launched.cgroup ? &*launched.cgroup : nullptr));
    return code;
}

}  // namespace hrun::create
