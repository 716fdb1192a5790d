// process.apparmorProfile and process.selinuxLabel: the LSM label the process gets at execve.
//
// The child writes the label to its own /proc/thread-self/attr files, and only through the
// verified procfs fd: a container that mounts a fake /proc over its rootfs cannot turn the write
// into a no-op and so run unconfined (CVE-2019-16884).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "linux/procfs.hpp"
#include "process/process_internal.hpp"

namespace hrun::process {

namespace {

constexpr const char* kAppArmorProfiles = "/sys/kernel/security/apparmor/profiles";

// nullopt when the list cannot be read (securityfs not mounted, no permission): the kernel
// will have the last word when the label is written and the process execs.
std::optional<std::string> read_apparmor_profiles() {
    int fd = ::open(kAppArmorProfiles, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    if (n < 0) return std::nullopt;
    return text;
}

}  // namespace

bool apparmor_profile_listed(std::string_view profiles, std::string_view profile) {
    // One "name (mode)" per line; a name may itself contain spaces, the mode never does.
    while (!profiles.empty()) {
        std::size_t eol = profiles.find('\n');
        std::string_view line = profiles.substr(0, eol);
        profiles = eol == std::string_view::npos ? std::string_view{} : profiles.substr(eol + 1);
        std::size_t paren = line.rfind(" (");
        if (paren != std::string_view::npos && line.substr(0, paren) == profile) return true;
    }
    return false;
}

Status plan_lsm(const spec::Process& process, const os::HostContext& host, ProcessPlan& plan) {
    if (!process.apparmorProfile.empty()) {
        const std::string& profile = process.apparmorProfile;
        if (!host.apparmor)
            return fail("process.apparmorProfile", "AppArmor is not enabled on this host");
        if (profile.find_first_of(std::string_view("\0\n", 2)) != std::string::npos)
            return fail("process.apparmorProfile", "must not contain a NUL byte or a newline");
        // "unconfined" is built in and never listed.
        if (profile != "unconfined") {
            auto profiles = read_apparmor_profiles();
            if (profiles && !apparmor_profile_listed(*profiles, profile))
                return fail("process.apparmorProfile",
                            "profile \"" + profile + "\" is not loaded");
        }
        plan.apparmor_exec = "exec " + profile;
    }
    if (!process.selinuxLabel.empty()) {
        if (!host.selinux)
            return fail("process.selinuxLabel", "SELinux is not enabled on this host");
        if (process.selinuxLabel.find('\0') != std::string::npos)
            return fail("process.selinuxLabel", "must not contain a NUL byte");
        plan.selinux_label = process.selinuxLabel;
    }
    return ok();
}

ChildStatus apply_lsm_labels(const ProcessPlan& plan, int procfd) noexcept {
    if (!plan.apparmor_exec.empty()) {
        const char* data = plan.apparmor_exec.c_str();
        const std::size_t len = plan.apparmor_exec.size();
        // The per-LSM file exists since Linux 5.8 and is right whichever LSM is listed first;
        // older kernels only have the shared one.
        int rc = os::procfs_write(procfd, "thread-self/attr/apparmor/exec", data, len);
        if (rc == -ENOENT) rc = os::procfs_write(procfd, "thread-self/attr/exec", data, len);
        if (rc < 0)
            return child_fail("process.apparmorProfile", "cannot set the AppArmor profile", -rc);
    }
    if (!plan.selinux_label.empty()) {
        int rc = os::procfs_write(procfd, "thread-self/attr/exec", plan.selinux_label.c_str(),
                                  plan.selinux_label.size());
        if (rc < 0) return child_fail("process.selinuxLabel", "cannot set the SELinux label", -rc);
    }
    return child_ok();
}

}  // namespace hrun::process
