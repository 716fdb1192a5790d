#include "create/exec.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "create/container.hpp"
#include "create/prepare.hpp"
#include "create/spawn.hpp"
#include "create/supervise.hpp"
#include "linux/log.hpp"
#include "linux/procfs.hpp"
#include "linux/root_file.hpp"
#include "policy/policy.hpp"
#include "process/users.hpp"
#include "security/seccomp_cache.hpp"
#include "spec/spec_io.hpp"
#include "state/state.hpp"

namespace hrun::create {

namespace {

const char* proc_ns_name(const std::string& type) {
    if (type == "network") return "net";
    if (type == "mount") return "mnt";
    return type.c_str();
}

// A runtime-spec process object, parsed with the config's rules (its errors name the fields).
Result<spec::Process> parse_process(const std::string& text) {
    spec::Spec s = HRUN_TRY(spec::parse_spec("{\"ociVersion\":\"1.2.0\",\"process\":" + text + "}"));
    if (!s.process) return fail("process", "missing");
    return *s.process;
}

Result<std::string> read_all(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail("--process", "cannot read \"" + path + "\"", errno);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void set_env(std::vector<std::string>& env, const std::string& entry) {
    std::string key = entry.substr(0, entry.find('='));
    for (auto& e : env)
        if (e.compare(0, key.size() + 1, key + "=") == 0) {
            e = entry;
            return;
        }
    env.push_back(entry);
}

// --additional-gids values, each an id in 0..4294967294.
Result<std::vector<uint32_t>> parse_additional_gids(const std::vector<std::string>& values) {
    std::vector<uint32_t> gids;
    for (const auto& value : values) {
        auto gid = process::parse_id(value);
        if (!gid)
            return fail("--additional-gids", "\"" + value + "\" is not a valid gid (ids are 0 to " +
                                                 std::to_string(process::kMaxId) + ")");
        gids.push_back(*gid);
    }
    return gids;
}

// The process to exec: --process as given, else the container's own process with the flags'
// changes (runc's rules). Names in --user are looked up through `read` in the container's files.
Result<spec::Process> exec_process_spec(const ExecRequest& r, const state::ContainerState& st,
                                        const process::ContainerFileReader& read) {
    if (!r.process_file.empty()) return parse_process(HRUN_TRY(read_all(r.process_file)));
    spec::Process p = st.init_process.is_object() ? HRUN_TRY(parse_process(st.init_process.dump()))
                                                  : spec::Process{};
    if (r.args.empty()) return fail("args", "exec needs a command or --process");
    p.args = r.args;
    p.terminal = r.tty.value_or(false);
    p.consoleSize.reset();
    if (!r.cwd.empty()) p.cwd = r.cwd;
    for (const auto& e : r.env) set_env(p.env, e);
    if (!r.user.empty()) HRUN_TRY(process::apply_user_flag(r.user, "--user", p.user, read));
    // Added to the groups of a --user name (or the process's own when --user is not given), as
    // runc appends them.
    for (uint32_t gid : HRUN_TRY(parse_additional_gids(r.additional_gids))) p.user.additionalGids.push_back(gid);
    if (!r.caps.empty()) {
        auto& c = p.capabilities ? *p.capabilities : p.capabilities.emplace();
        for (const auto& cap : r.caps)
            for (auto* set : {&c.bounding, &c.effective, &c.permitted}) set->push_back(cap);
    }
    if (r.no_new_privs) p.noNewPrivileges = true;
    if (!r.apparmor.empty()) p.apparmorProfile = r.apparmor;
    if (!r.process_label.empty()) p.selinuxLabel = r.process_label;
    return p;
}

// A container created with --userns-remap is in a user namespace its config.json does not list:
// the exec'd process must join it too, or it would be host root among the container's other
// namespaces.
Status add_unlisted_user_namespace(spec::Spec& spec, pid_t init, int procfd) {
    if (!spec.linux) return ok();
    for (const auto& ns : spec.linux->namespaces)
        if (ns.type == "user") return ok();
    struct stat ours, theirs;
    std::string path = std::to_string(init) + "/ns/user";
    if (::fstatat(procfd, "self/ns/user", &ours, 0) != 0 || ::fstatat(procfd, path.c_str(), &theirs, 0) != 0)
        return fail_errno("cannot compare the container's user namespace with ours", "linux.namespaces");
    if (ours.st_dev != theirs.st_dev || ours.st_ino != theirs.st_ino) spec.linux->namespaces.push_back({"user", ""});
    return ok();
}

}  // namespace

Result<int> exec_in_container(const ExecRequest& request) {
    auto root = state::StateRoot::open(request.root, state::StateRoot::Create::MustExist);
    if (!root) return fail("", "container \"" + request.id + "\" does not exist", ENOENT);
    // Shared: exec must not run while `delete` tears the container down.
    state::ContainerDir dir = HRUN_TRY(root->open(request.id, state::Lock::Shared));
    state::ContainerState st = HRUN_TRY(dir.load());
    UniqueFd procfd = HRUN_TRY(os::open_verified_procfs());
    std::optional<cgroups::Cgroup> cgroup;
    if (!st.cgroup.directories.empty()) {
        cgroups::Layout layout = HRUN_TRY(cgroups::detect_layout(procfd.get()));
        cgroup.emplace(HRUN_TRY(cgroups::Cgroup::open(layout, st.cgroup.directories)));
    }
    state::PausedCheck paused = [&cgroup](const state::ContainerState&) -> Result<bool> {
        return cgroup ? cgroup->frozen() : Result<bool>(false);
    };
    auto status = HRUN_TRY(state::container_status(st, paused, procfd.get()));
    if (status != state::ContainerStatus::Running && status != state::ContainerStatus::Created)
        return fail("", "cannot exec in container \"" + request.id + "\" that is " +
                            std::string(state::status_name(status)));

    // The container's files (/etc/passwd for --user NAME and HOME) are read in its own root, as
    // its init sees it: /proc/<pid>/root, resolved in that root and in its mount namespace.
    UniqueFd container_root = HRUN_TRY(os::open_process_root(procfd.get(), st.pid));
    const process::ContainerFileReader read_container_file = [&](const char* relpath) {
        return os::read_file_in_root(procfd.get(), container_root.get(), relpath);
    };

    spec::Spec spec = HRUN_TRY(spec::load_spec(st.config_path));
    spec.process = HRUN_TRY(exec_process_spec(request, st, read_container_file));
    // The config passed validation at create; the process may be new (--process, flags): it is
    // held to the same rules, ids in 0..4294967294 first of all.
    HRUN_TRY(spec::validate_spec(spec));
    // The container's policy fills the same defaults in (the default seccomp profile above all),
    // or an exec'd process would escape what confines the container's init.
    policy::Policy container_policy = policy::Policy::Oci;
    if (!st.policy.empty())
        container_policy = policy::policy_from_name(st.policy).value_or(policy::Policy::Hardened);
    HRUN_TRY(policy::apply_policy(spec, container_policy, policy::detect_host_security()));
    if (spec.process->terminal && request.console_socket.empty() && request.detach)
        return fail("process.terminal", "a detached exec with a terminal needs --console-socket");
    // Join exactly the namespaces the container's init is in.
    const std::string ns_dir = "/proc/" + std::to_string(st.pid) + "/ns/";
    HRUN_TRY(add_unlisted_user_namespace(spec, st.pid, procfd.get()));
    if (spec.linux)
        for (auto& ns : spec.linux->namespaces) ns.path = ns_dir + proc_ns_name(ns.type);

    CreateOptions options;
    options.id = st.id;
    options.bundle = st.bundle;
    options.preserve_fds = request.preserve_fds;
    options.root_fd = container_root.get();
    options.seccomp_cache_dir = security::SeccompCache::default_dir();
    log::debug("exec in container " + st.id + ": joining the namespaces of process " + std::to_string(st.pid));
    ContainerPlan plan = HRUN_TRY(prepare_joining(std::move(spec), options, std::move(cgroup)));
    dir.release();  // the namespaces are pinned by their fds now

    std::optional<console::TerminalProxy> proxy;
    SpawnSteps steps;
    steps.terminal = [&](UniqueFd master) -> Status {
        if (!request.console_socket.empty())
            return console::send_to_console_socket(request.console_socket, master.get(),
                                                   console::kMasterName);
        proxy.emplace(HRUN_TRY(console::TerminalProxy::start(std::move(master))));
        return ok();
    };
    steps.ready = [&](pid_t pid) -> Status {
        log::debug("exec in container " + request.id + ": process " + std::to_string(pid) + " set up");
        return request.pid_file.empty() ? ok() : write_pid_file(request.pid_file, pid);
    };
    block_all_signals();
    ContainerProcess process = HRUN_TRY(spawn_container(plan, steps));
    if (plan.cgroup) plan.cgroup->release();
    if (request.detach) {
        process.release();
        return 0;
    }
    int code = HRUN_TRY(supervise(process, proxy ? &*proxy : nullptr));
    log::debug("exec in container " + request.id + ": process exited with status " + std::to_string(code));
    return code;
}

}  // namespace hrun::create
