// Helpers for the integration tests: bundles in temporary directories, running the hrun binary
// with a timeout, and snapshots of host state (namespaces, mounts, processes, cgroups) so a test
// can check that a container was isolated and that nothing was left behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <memory>

namespace hrun::itest {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Paths fixed at build time (tests/CMakeLists.txt).
std::string hrun_binary();
std::string probe_binary();
std::string source_dir();

// A fresh, unique container id: "hrun-it-<pid>-<n>".
std::string unique_id();

struct RunResult {
    int status = -1;         // exit status, or 128+N when killed by signal N
    bool timed_out = false;  // the harness killed it after the timeout
    std::string out;
    std::string err;

    // key=value lines of stdout (hrun-probe output). A key printed twice keeps its last value.
    std::map<std::string, std::string> facts() const;
    // One fact; "<absent>" when the probe did not print it (keeps assertions readable).
    std::string fact(const std::string& key) const;
    // The keys of the facts that start with `prefix` ("fd." -> fd.0, fd.1, ...).
    std::set<std::string> keys_with_prefix(const std::string& prefix) const;
    // Everything a failing assertion needs to show.
    std::string describe() const;
};

struct RunOptions {
    std::chrono::milliseconds timeout = 30s;
    std::string stdin_data;             // fed to the process, then its stdin is closed
    std::vector<std::string> env_add;   // KEY=VALUE entries added to the inherited environment
};

// argv run through /bin/sh with extra fds open on `fds` (fd -> path, read-only, not
// close-on-exec), as a careless caller of hrun would leave them. The shell opens them after
// the harness's exec, which passes on nothing but stdio.
std::vector<std::string> with_open_fds(const std::map<int, std::string>& fds, const std::vector<std::string>& argv);

// Runs argv to completion (or the timeout, after which it is killed with SIGKILL).
RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options = {});

// A process started in the background, for tests that act on it while it runs.
class Process {
public:
    Process(const std::vector<std::string>& argv, const RunOptions& options = {});
    ~Process();  // kills and reaps it if still running
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    // Reads stdout until it contains needle; false on EOF or timeout.
    bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout);
    // Waits for exit, reading the rest of stdout/stderr; kills it after the timeout.
    RunResult wait(std::chrono::milliseconds timeout = 30s);

private:
    void pump(int timeout_ms);  // one poll round over the open pipes

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool reaped_ = false;
    RunResult result_;
    std::chrono::steady_clock::time_point deadline_;
};

// A directory from mkdtemp, removed with its contents on destruction. Removal never crosses a
// mount point: mounts left under it are detached first (and reported by the tests that care).
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct BundleOptions {
    bool probe = true;      // copy hrun-probe to rootfs/bin/hrun-probe
    std::string chown;      // "UID:GID" to give the rootfs to (user namespace tests)
    bool rootless = false;  // `hrun spec --rootless`
};

// An OCI bundle made by scripts/make-bundle.sh, its config loaded for patching.
class Bundle {
public:
    explicit Bundle(const BundleOptions& options = {});

    const std::string& dir() const { return dir_; }
    std::string rootfs() const { return dir_ + "/rootfs"; }
    std::string state_root() const { return tmp_.path() + "/state"; }
    const std::string& id() const { return id_; }
    // Empty when the bundle is usable; otherwise why not (script or `hrun spec` failed).
    const std::string& error() const { return error_; }

    json config;
    // Global hrun options put before the command by run()/probe(), e.g. {"--policy=oci"}.
    std::vector<std::string> global_args;

    void save() const;  // writes config to config.json
    void set_args(const std::vector<std::string>& args);
    // Adds a namespace entry unless one of that type is present.
    void add_namespace(const std::string& type);
    void remove_namespace(const std::string& type);

    // hrun --root <state_root> run --bundle <dir> <id>, after saving the config.
    std::vector<std::string> run_argv() const;
    // hrun --root <state_root> <global_args> <args...>: any other command on this state root.
    std::vector<std::string> hrun_argv(const std::vector<std::string>& args) const;
    RunResult hrun(const std::vector<std::string>& args, const RunOptions& options = {}) const;
    RunResult run(const RunOptions& options = {}) const;
    // Shorthand: set args to hrun-probe + probe_args, run, return the result.
    RunResult probe(const std::vector<std::string>& probe_args, const RunOptions& options = {});

private:
    TempDir tmp_;
    std::string dir_;
    std::string id_;
    std::string error_;
};

// ---- host state ----

// Namespace inode of this process for each type in /proc/self/ns ("mnt" -> 4026531841).
std::map<std::string, std::string> host_namespaces();

// Lines of /proc/self/mountinfo reduced to what identifies a mount: mount point, root,
// filesystem type and source (mount ids are left out so a snapshot compares by meaning).
std::set<std::string> host_mounts();

struct ProcessInfo {
    pid_t pid = 0;
    std::string cmdline;  // arguments joined with spaces
    std::string root;     // readlink /proc/<pid>/root
};

// Processes whose command line contains needle or whose root directory lies under it.
std::vector<ProcessInfo> find_processes(const std::string& needle);
// All descendants of pid (children, grandchildren, ...).
std::vector<pid_t> descendants(pid_t pid);
std::string process_comm(pid_t pid);

// Cgroup directories (any hierarchy under /sys/fs/cgroup, a few levels deep) whose name
// contains needle.
std::set<std::string> cgroups_matching(const std::string& needle);

// Everything that must come back to how it was after a failed run, and a way to compare.
struct HostSnapshot {
    std::set<std::string> mounts;
    std::set<std::string> hrun_cgroups;

    static HostSnapshot take();
    // Differences since `before` that concern this test (see harness.cpp), one per line.
    std::vector<std::string> leaks_since(const HostSnapshot& before, const Bundle& bundle) const;
};

// A test that runs containers from a fresh bundle with the hrun-probe in it.
class ContainerTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0)
            GTEST_SKIP() << "needs root: the default config creates namespaces without a user namespace";
        bundle_ = std::make_unique<Bundle>(bundle_options());
        ASSERT_TRUE(bundle_->error().empty()) << bundle_->error();
    }
    virtual BundleOptions bundle_options() const { return {}; }
    Bundle& bundle() { return *bundle_; }

    // hrun on the bundle's state root, with its global_args.
    std::vector<std::string> hrun_argv(const std::vector<std::string>& args) const { return bundle_->hrun_argv(args); }
    RunResult hrun(const std::vector<std::string>& args, const RunOptions& options = {}) const {
        return bundle_->hrun(args, options);
    }
    // `hrun state ID` parsed; a null json when it fails.
    nlohmann::json state_of(const std::string& id) const;
    // Its "status", or "<no state>" when `state` fails.
    std::string status_of(const std::string& id) const;
    // `delete --force` of every container `list` shows: no failed assertion leaves one behind.
    void delete_all_containers(std::chrono::milliseconds timeout = 30s) const;

    std::unique_ptr<Bundle> bundle_;
};

// Reads a whole (small) file; empty optional when it cannot be read.
std::optional<std::string> read_file(const std::string& path);

}  // namespace hrun::itest
