// What the lifecycle-level tests (robustness, exec hygiene, hooks, console, capabilities) share: a
// ContainerTest that drives hrun subcommands against its own state root and force-deletes
// whatever a failed assertion left, plus readers of a host process's namespaces, cgroups and
// status fields.
#pragma once

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace hrun::itest {

// Polls `done` every 10 ms until it holds or `timeout` passes; returns its last answer.
template <class Condition>
bool eventually(Condition done, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
}

// The nsfs inode of a process's namespace ("mnt", "pid", "net", ...), or "" when unreadable.
inline std::string ns_inode(pid_t pid, const std::string& type) {
    struct stat st;
    std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
    if (::stat(path.c_str(), &st) != 0) return "";
    return std::to_string(st.st_ino);
}

// One field of /proc/<pid>/status ("CapEff"), without the label; "" when absent.
inline std::string status_field(pid_t pid, const std::string& field) {
    std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/status").value_or(""));
    for (std::string line; std::getline(lines, line);) {
        if (line.compare(0, field.size() + 1, field + ":") != 0) continue;
        auto value = line.substr(field.size() + 1);
        auto start = value.find_first_not_of(" \t");
        return start == std::string::npos ? "" : value.substr(start);
    }
    return "";
}

// Live (not zombie) processes whose namespace of `type` has the nsfs inode `inode`.
inline std::vector<pid_t> processes_in_ns(const std::string& type, const std::string& inode) {
    std::vector<pid_t> found;
    if (inode.empty()) return found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t p = std::stoi(name);
        if (ns_inode(p, type) != inode) continue;
        if (status_field(p, "State").rfind("Z", 0) == 0) continue;
        found.push_back(p);
    }
    return found;
}

// Whether `pid` is exiting (PF_EXITING in /proc/<pid>/stat): it runs no user code any more, and
// on cgroup v1 the kernel reports it in every v1 hierarchy's root cgroup ("/") from then on,
// while its namespaces are still readable until it becomes a zombie.
inline bool exiting(pid_t pid) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat").value_or("");
    const auto comm_end = stat.rfind(')');
    if (comm_end == std::string::npos) return true;  // gone
    std::istringstream fields(stat.substr(comm_end + 2));
    std::string field;
    // state ppid pgrp session tty_nr tpgid flags
    for (int i = 0; i < 7 && fields >> field; ++i) {
    }
    constexpr unsigned long kPfExiting = 0x4;
    return !field.empty() && (std::stoul(field) & kPfExiting) != 0;
}

// Live processes whose /proc/<pid>/cgroup names `needle` (a container's cgroups carry its id).
// Complements find_processes, which cannot see a pivoted container process by its root: the
// kernel shows that root as "/".
inline std::vector<pid_t> processes_in_cgroups_named(const std::string& needle) {
    std::vector<pid_t> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = entry.path().filename();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        pid_t p = std::stoi(name);
        if (p == ::getpid()) continue;
        auto cgroups = read_file("/proc/" + name + "/cgroup");
        if (!cgroups || cgroups->find(needle) == std::string::npos) continue;
        if (status_field(p, "State").rfind("Z", 0) == 0) continue;
        found.push_back(p);
    }
    return found;
}

// The /proc/self/status hex form of a set of capability names (the kernel's own numbers).
inline std::string capability_mask(const json& names) {
    static const std::map<std::string, int> numbers = {
        {"CAP_CHOWN", CAP_CHOWN},
        {"CAP_DAC_OVERRIDE", CAP_DAC_OVERRIDE},
        {"CAP_DAC_READ_SEARCH", CAP_DAC_READ_SEARCH},
        {"CAP_FOWNER", CAP_FOWNER},
        {"CAP_FSETID", CAP_FSETID},
        {"CAP_KILL", CAP_KILL},
        {"CAP_SETGID", CAP_SETGID},
        {"CAP_SETUID", CAP_SETUID},
        {"CAP_SETPCAP", CAP_SETPCAP},
        {"CAP_NET_BIND_SERVICE", CAP_NET_BIND_SERVICE},
        {"CAP_NET_RAW", CAP_NET_RAW},
        {"CAP_SYS_CHROOT", CAP_SYS_CHROOT},
        {"CAP_SYS_ADMIN", CAP_SYS_ADMIN},
        {"CAP_SYS_PTRACE", CAP_SYS_PTRACE},
        {"CAP_MKNOD", CAP_MKNOD},
        {"CAP_AUDIT_WRITE", CAP_AUDIT_WRITE},
    };
    uint64_t mask = 0;
    for (const auto& n : names) {
        auto it = numbers.find(n.get<std::string>());
        if (it == numbers.end()) {
            ADD_FAILURE() << "the test's capability table lacks " << n;
            continue;
        }
        mask |= uint64_t{1} << it->second;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(mask));
    return hex;
}

inline std::string joined(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

// Writes an executable file (hook scripts, helper programs).
inline void write_executable(const std::string& path, const std::string& text) {
    {
        std::ofstream out(path, std::ios::trunc);
        out << text;
    }
    ::chmod(path.c_str(), 0755);
}

class RuntimeTest : public ContainerTest {
protected:
    // A failed assertion must not leave a container behind: every id is deleted by force.
    void TearDown() override { delete_all_containers(); }

    pid_t pid_of(const std::string& id) {
        json st = state_of(id);
        return st.is_object() ? st.value("pid", 0) : 0;
    }

    // `hrun run --detach` of a sleeping container; returns its init pid (0 on failure, with the
    // failure recorded).
    pid_t run_sleeper(const std::string& id) {
        bundle().set_args({"/bin/sleep", "1000"});
        bundle().save();
        RunResult r = hrun({"run", "--detach", "--bundle", bundle().dir(), id});
        EXPECT_EQ(r.status, 0) << r.describe();
        return r.status == 0 ? pid_of(id) : 0;
    }

    // After `delete --force ID`, none of the container is left: no process that shares a
    // namespace with it or names it, no cgroup, no state. `label` says which case failed.
    void expect_gone_after_delete_force(const std::string& id, const std::string& label) {
        RunResult del = hrun({"delete", "--force", id});
        if (del.status != 0) {  // fine when hrun died before the id was reserved
            EXPECT_NE(del.err.find("does not exist"), std::string::npos) << label << ": " << del.describe();
        }
        EXPECT_TRUE(eventually([&] { return find_processes(id).empty(); }, 3s))
            << label << ": a process naming the container is left";
        EXPECT_TRUE(eventually([&] { return processes_in_cgroups_named(id).empty(); }, 3s))
            << label << ": a process is left in the container's cgroup";
        EXPECT_TRUE(eventually([&] { return cgroups_matching(id).empty(); }, 3s))
            << label << ": cgroups left: " << joined(cgroups_matching(id));
        EXPECT_NE(hrun({"state", id}).status, 0) << label << ": state left";
        std::error_code ec;
        EXPECT_FALSE(std::filesystem::exists(bundle().state_root() + "/" + id, ec))
            << label << ": state directory left";
    }

    void expect_no_host_leaks(const HostSnapshot& before) {
        for (const std::string& leak : HostSnapshot::take().leaks_since(before, bundle())) ADD_FAILURE() << leak;
    }
};

}  // namespace hrun::itest
