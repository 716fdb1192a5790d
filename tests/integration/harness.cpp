#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace hrun::itest {

namespace fs = std::filesystem;

std::string hrun_binary() { return HRUN_BINARY; }
std::string probe_binary() { return HRUN_PROBE; }
std::string source_dir() { return HRUN_SOURCE_DIR; }

std::string unique_id() {
    static int counter = 0;
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::ostringstream id;
    id << "hrun-it-" << ::getpid() << '-' << ++counter << '-' << std::hex << (now & 0xffffff);
    return id.str();
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// ---------------------------------------------------------------------------------------------
// RunResult

std::map<std::string, std::string> RunResult::facts() const {
    std::map<std::string, std::string> facts;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        facts[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return facts;
}

std::string RunResult::fact(const std::string& key) const {
    auto all = facts();
    auto it = all.find(key);
    return it == all.end() ? "<absent>" : it->second;
}

std::set<std::string> RunResult::keys_with_prefix(const std::string& prefix) const {
    std::set<std::string> keys;
    for (const auto& [k, v] : facts())
        if (k.rfind(prefix, 0) == 0) keys.insert(k);
    return keys;
}

std::vector<std::string> with_open_fds(const std::map<int, std::string>& fds, const std::vector<std::string>& argv) {
    std::string script = "exec";
    std::vector<std::string> out{"/bin/sh", "-c", "", "sh"};
    int n = 0;
    for (const auto& [fd, path] : fds) {
        script += " " + std::to_string(fd) + "<\"$" + std::to_string(++n) + "\"";
        out.push_back(path);
    }
    script += " || exit 99; shift " + std::to_string(n) + "; exec \"$@\"";
    out[2] = script;
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

std::string RunResult::describe() const {
    std::ostringstream s;
    s << "exit status " << status << (timed_out ? " (timed out, killed)" : "") << "\n--- stdout ---\n"
      << out << "--- stderr ---\n"
      << err << "--------------";
    return s.str();
}

// ---------------------------------------------------------------------------------------------
// Processes

namespace {

std::vector<std::string> environment_with(const std::vector<std::string>& add) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        std::string key = entry.substr(0, entry.find('='));
        bool overridden = std::any_of(add.begin(), add.end(), [&](const std::string& a) {
            return a.compare(0, key.size() + 1, key + "=") == 0;
        });
        if (!overridden) env.push_back(entry);
    }
    env.insert(env.end(), add.begin(), add.end());
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

int decode_status(int wstatus) {
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return -1;
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const RunOptions& options) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));

    // Everything the child needs is built before fork: it only dup2s and execs.
    std::vector<std::string> args = argv;
    std::vector<std::string> env = environment_with(options.env_add);
    auto c_args = c_strings(args);
    auto c_env = c_strings(env);

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        // Only stdio, as from a clean shell: what the test runner itself holds open (ctest's
        // log file on fd 3) must not reach hrun, or --preserve-fds checks would see it.
        // Tests that pass fds open them after this exec (a shell's redirections).
        ::syscall(SYS_close_range, 3U, ~0U, 0U);
        ::execve(c_args[0], c_args.data(), c_env.data());
        const char msg[] = "harness: execve failed\n";
        (void)!::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
    if (!options.stdin_data.empty()) {
        // Small inputs only: they fit the pipe buffer, so this cannot block on the child.
        (void)!::write(in[1], options.stdin_data.data(), options.stdin_data.size());
    }
    ::close(in[1]);
}

Process::~Process() {
    if (!reaped_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int ws;
        ::waitpid(pid_, &ws, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

void Process::pump(int timeout_ms) {
    pollfd fds[2];
    int n = 0;
    if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
    if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
    if (n == 0) {
        if (timeout_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
        return;
    }
    if (::poll(fds, n, timeout_ms) <= 0) return;
    for (int i = 0; i < n; ++i) {
        if (fds[i].revents == 0) continue;
        char buf[8192];
        ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
        bool is_out = fds[i].fd == out_fd_;
        if (got > 0) {
            (is_out ? result_.out : result_.err).append(buf, static_cast<size_t>(got));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
            ::close(fds[i].fd);
            (is_out ? out_fd_ : err_fd_) = -1;
        }
    }
}

bool Process::wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (result_.out.find(needle) == std::string::npos) {
        if (out_fd_ < 0) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) return false;
        pump(static_cast<int>(std::min<long>(left.count(), 100)));
    }
    return true;
}

RunResult Process::wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int wstatus = 0;
    while (!reaped_) {
        pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &wstatus, 0);
            reaped_ = true;
            result_.timed_out = true;
            break;
        }
        pump(20);
    }
    // Drain what is left. A leaked container process could hold the pipes open: don't wait
    // for its EOF beyond a short grace period.
    auto drain_until = std::chrono::steady_clock::now() + 500ms;
    while ((out_fd_ >= 0 || err_fd_ >= 0) && std::chrono::steady_clock::now() < drain_until) pump(20);
    result_.status = decode_status(wstatus);
    return result_;
}

RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options) {
    Process p(argv, options);
    return p.wait(options.timeout);
}

// ---------------------------------------------------------------------------------------------
// Host state

std::map<std::string, std::string> host_namespaces() {
    std::map<std::string, std::string> ns;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/ns", ec)) {
        struct stat st;
        if (::stat(entry.path().c_str(), &st) == 0)
            ns[entry.path().filename()] = std::to_string(st.st_ino);
    }
    return ns;
}

namespace {

// mountinfo escapes space, tab, newline and backslash as octal.
std::string unescape_mount_path(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::vector<std::string>> mountinfo_rows() {
    std::vector<std::vector<std::string>> rows;
    auto text = read_file("/proc/self/mountinfo").value_or("");
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::vector<std::string> row;
        std::string w;
        while (words >> w) row.push_back(w);
        if (row.size() >= 5) rows.push_back(std::move(row));
    }
    return rows;
}

bool path_under(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           path[dir.size()] == '/');
}

}  // namespace

std::set<std::string> host_mounts() {
    std::set<std::string> mounts;
    for (const auto& row : mountinfo_rows()) {
        // Fields 0 and 1 are mount ids; the rest (device, root, mount point, options,
        // propagation, type, source, super options) is what a leak or a change would alter.
        std::string key;
        for (size_t i = 2; i < row.size(); ++i) key += (i > 2 ? " " : "") + row[i];
        mounts.insert(key);
    }
    return mounts;
}

std::vector<ProcessInfo> find_processes(const std::string& needle) {
    std::vector<ProcessInfo> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        pid_t pid = std::stoi(name);
        if (pid == ::getpid()) continue;
        ProcessInfo info;
        info.pid = pid;
        auto cmdline = read_file("/proc/" + name + "/cmdline").value_or("");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        info.cmdline = cmdline;
        char root[4096];
        ssize_t n = ::readlink(("/proc/" + name + "/root").c_str(), root, sizeof root - 1);
        if (n > 0) info.root.assign(root, static_cast<size_t>(n));
        bool rooted_there = !info.root.empty() && info.root != "/" &&
                            info.root.find(needle) != std::string::npos;
        if (info.cmdline.find(needle) != std::string::npos || rooted_there) found.push_back(info);
    }
    return found;
}

std::vector<pid_t> descendants(pid_t pid) {
    std::multimap<pid_t, pid_t> children;  // ppid -> pid
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        auto stat = read_file("/proc/" + name + "/stat");
        if (!stat) continue;
        // "pid (comm) state ppid ...": comm may contain spaces, so parse after the last ')'.
        auto close = stat->rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(stat->substr(close + 1));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        children.emplace(ppid, std::stoi(name));
    }
    std::vector<pid_t> out;
    std::vector<pid_t> todo{pid};
    while (!todo.empty()) {
        pid_t p = todo.back();
        todo.pop_back();
        auto [b, e] = children.equal_range(p);
        for (auto it = b; it != e; ++it) {
            out.push_back(it->second);
            todo.push_back(it->second);
        }
    }
    return out;
}

std::string process_comm(pid_t pid) {
    auto comm = read_file("/proc/" + std::to_string(pid) + "/comm").value_or("");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    return comm;
}

std::set<std::string> cgroups_matching(const std::string& needle) {
    std::set<std::string> found;
    std::error_code ec;
    fs::recursive_directory_iterator it("/sys/fs/cgroup", fs::directory_options::skip_permission_denied,
                                        ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it.depth() > 5) {
            it.disable_recursion_pending();
            continue;
        }
        std::error_code type_ec;
        if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
        if (it->path().filename().string().find(needle) != std::string::npos)
            found.insert(it->path().string());
    }
    return found;
}

HostSnapshot HostSnapshot::take() { return {host_mounts(), cgroups_matching("hrun")}; }

std::vector<std::string> HostSnapshot::leaks_since(const HostSnapshot& before, const Bundle& bundle) const {
    std::vector<std::string> leaks;
    std::string ours = fs::path(bundle.dir()).parent_path();
    // Other programs (concurrent tests) may mount under their own /tmp directories; a change
    // there is theirs. Everything else, and anything under this test's directory, counts.
    auto relevant = [&](const std::string& key) {
        std::istringstream words(key);
        std::string device, root, mount_point;
        words >> device >> root >> mount_point;
        mount_point = unescape_mount_path(mount_point);
        return !path_under(mount_point, "/tmp") || path_under(mount_point, ours);
    };
    auto now = host_mounts();
    for (const auto& m : now)
        if (!before.mounts.count(m) && relevant(m)) leaks.push_back("new or changed mount: " + m);
    for (const auto& m : before.mounts)
        if (!now.count(m) && relevant(m)) leaks.push_back("mount gone or changed: " + m);

    // A dying container may need a moment to be reaped by whoever inherited it.
    std::vector<ProcessInfo> procs;
    for (int attempt = 0; attempt < 25; ++attempt) {
        procs = find_processes(bundle.dir());
        auto by_id = find_processes(bundle.id());
        procs.insert(procs.end(), by_id.begin(), by_id.end());
        if (procs.empty()) break;
        std::this_thread::sleep_for(40ms);
    }
    for (const auto& p : procs)
        leaks.push_back("process left: pid " + std::to_string(p.pid) + " [" + process_comm(p.pid) +
                        "] cmdline '" + p.cmdline + "' root '" + p.root + "'");

    std::error_code ec;
    if (fs::exists(bundle.state_root(), ec)) {
        for (const auto& e : fs::directory_iterator(bundle.state_root(), ec))
            leaks.push_back("state left: " + e.path().string());
    }

    // A cgroup named after this container is a leak. Another new hrun-named cgroup is one too,
    // unless it goes away on its own: this hrun has exited, so what it left stays, while other
    // hrun tests running at the same time create and remove their own.
    for (const auto& cg : cgroups_matching(bundle.id())) leaks.push_back("cgroup left: " + cg);
    std::set<std::string> strangers;
    for (int attempt = 0; attempt < 20; ++attempt) {
        strangers.clear();
        for (const auto& cg : cgroups_matching("hrun"))
            if (!before.hrun_cgroups.count(cg) && cg.find(bundle.id()) == std::string::npos)
                strangers.insert(cg);
        if (strangers.empty()) break;
        std::this_thread::sleep_for(50ms);
    }
    for (const auto& cg : strangers) leaks.push_back("cgroup left: " + cg);
    return leaks;
}

// ---------------------------------------------------------------------------------------------
// Temporary directories and bundles

TempDir::TempDir() {
    char tmpl[] = "/tmp/hrun-it-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = tmpl;
    // A container root mapped to another host uid must still be able to reach its rootfs.
    ::chmod(path_.c_str(), 0755);
}

namespace {

int remove_entry(const char* path, const struct stat*, int type, struct FTW*) {
    if (type == FTW_DP)
        ::rmdir(path);
    else
        ::unlink(path);
    return 0;
}

}  // namespace

TempDir::~TempDir() {
    if (path_.empty()) return;
    // Kill container processes that outlived a failed test (their root lies in here).
    for (const auto& p : find_processes(path_)) ::kill(p.pid, SIGKILL);
    // Never delete through a mount: detach anything mounted below first, deepest first.
    std::vector<std::string> mounted;
    for (const auto& row : mountinfo_rows()) {
        std::string mp = unescape_mount_path(row[4]);
        if (path_under(mp, path_)) mounted.push_back(mp);
    }
    std::sort(mounted.begin(), mounted.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& mp : mounted) ::umount2(mp.c_str(), MNT_DETACH);
    for (const auto& row : mountinfo_rows()) {
        if (path_under(unescape_mount_path(row[4]), path_)) {
            std::fprintf(stderr, "harness: %s still has mounts below it; not removing it\n", path_.c_str());
            return;
        }
    }
    // FTW_PHYS: never follow symlinks; FTW_MOUNT: never leave this filesystem.
    ::nftw(path_.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

Bundle::Bundle(const BundleOptions& options) : dir_(tmp_.path() + "/bundle"), id_(unique_id()) {
    std::vector<std::string> argv = {"/bin/bash", source_dir() + "/scripts/make-bundle.sh", dir_};
    if (options.probe) {
        argv.push_back("--probe");
        argv.push_back(probe_binary());
    }
    if (!options.chown.empty()) {
        argv.push_back("--chown");
        argv.push_back(options.chown);
    }
    if (options.rootless) argv.push_back("--rootless");
    RunOptions ro;
    ro.timeout = 60s;
    ro.env_add = {"HRUN=" + hrun_binary()};
    RunResult r = run_command(argv, ro);
    if (r.status != 0) {
        error_ = "make-bundle.sh failed (is `hrun spec` implemented?): " + r.describe();
        return;
    }
    auto text = read_file(dir_ + "/config.json");
    if (!text) {
        error_ = "make-bundle.sh wrote no config.json (hrun spec): " + r.describe();
        return;
    }
    try {
        config = json::parse(*text);
    } catch (const std::exception& e) {
        error_ = std::string("config.json from `hrun spec` is not JSON: ") + e.what();
    }
}

void Bundle::save() const {
    std::ofstream out(dir_ + "/config.json", std::ios::trunc);
    out << config.dump(2) << '\n';
}

void Bundle::set_args(const std::vector<std::string>& args) { config["process"]["args"] = args; }

void Bundle::add_namespace(const std::string& type) {
    auto& ns = config["linux"]["namespaces"];
    for (const auto& n : ns)
        if (n.value("type", "") == type) return;
    ns.push_back({{"type", type}});
}

void Bundle::remove_namespace(const std::string& type) {
    auto& ns = config["linux"]["namespaces"];
    json kept = json::array();
    for (const auto& n : ns)
        if (n.value("type", "") != type) kept.push_back(n);
    ns = kept;
}

std::vector<std::string> Bundle::run_argv() const {
    std::vector<std::string> argv = {hrun_binary(), "--root", state_root()};
    argv.insert(argv.end(), global_args.begin(), global_args.end());
    for (const char* arg : {"run", "--bundle"}) argv.emplace_back(arg);
    argv.push_back(dir_);
    argv.push_back(id_);
    return argv;
}

std::vector<std::string> Bundle::hrun_argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {hrun_binary(), "--root", state_root()};
    argv.insert(argv.end(), global_args.begin(), global_args.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

RunResult Bundle::hrun(const std::vector<std::string>& args, const RunOptions& options) const {
    return run_command(hrun_argv(args), options);
}

json ContainerTest::state_of(const std::string& id) const {
    RunResult r = hrun({"state", id});
    if (r.status != 0) return json();
    return json::parse(r.out, nullptr, false);
}

std::string ContainerTest::status_of(const std::string& id) const {
    json st = state_of(id);
    return st.is_object() ? st.value("status", "<none>") : "<no state>";
}

void ContainerTest::delete_all_containers(std::chrono::milliseconds timeout) const {
    if (!bundle_) return;
    RunResult ids = hrun({"list", "-q"});
    std::istringstream lines(ids.out);
    for (std::string id; std::getline(lines, id);)
        if (!id.empty()) hrun({"delete", "--force", id}, {.timeout = timeout});
}

RunResult Bundle::run(const RunOptions& options) const {
    save();
    return run_command(run_argv(), options);
}

RunResult Bundle::probe(const std::vector<std::string>& probe_args, const RunOptions& options) {
    std::vector<std::string> args = {"/bin/hrun-probe"};
    args.insert(args.end(), probe_args.begin(), probe_args.end());
    set_args(args);
    return run(options);
}

}  // namespace hrun::itest
