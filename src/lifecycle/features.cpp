// `hrun features`: what this build of hrun supports, in the runtime-spec features format.
#include <seccomp.h>
#include <sys/capability.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "lifecycle/lifecycle.hpp"
#include "rootfs/mount_options.hpp"
#include "hrun/spec.hpp"

namespace hrun::lifecycle {

std::string features_json() {
    using nlohmann::ordered_json;
    // Every capability libcap can name, as the spec spells them.
    ordered_json caps = ordered_json::array();
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        char* name = ::cap_to_name(static_cast<cap_value_t>(cap));
        if (!name) continue;
        std::string upper = name;
        ::cap_free(name);
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (upper.rfind("CAP_", 0) == 0) caps.push_back(upper);
    }
    ordered_json j;
    j["ociVersionMin"] = "1.0.0";
    j["ociVersionMax"] = spec::kSpecVersion;
    j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
    j["mountOptions"] = rootfs::known_mount_options();
    ordered_json linux;
    linux["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
    linux["capabilities"] = caps;
    linux["cgroup"] = {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}};
    linux["seccomp"] = {
        {"enabled", true},
        {"actions", {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                     "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
        {"operators", {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
                       "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
        {"archs", {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64",
                   "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
                   "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE",
                   "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_X32",
                   "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"}},
        {"knownFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                        "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}},
        {"supportedFlags", {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                            "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}};
    linux["apparmor"] = {{"enabled", true}};
    linux["selinux"] = {{"enabled", true}};
    linux["intelRdt"] = {{"enabled", false}};
    linux["mountExtensions"] = {{"idmap", {{"enabled", true}}}};
    j["linux"] = linux;
    const scmp_version* v = seccomp_version();
    j["annotations"] = {{"io.github.seccomp.libseccomp.version",
                         std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                             std::to_string(v->micro)},
                        {"org.opencontainers.runc.checkpoint.enabled", "false"}};
    return j.dump(4);
}

}  // namespace hrun::lifecycle
