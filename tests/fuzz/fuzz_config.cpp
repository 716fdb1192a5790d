// Fuzz target: config.json bytes through everything hrun does with a config before clone.
//
//   parse_spec -> to_json round trip -> audit -> validate_spec -> policy (oci, hardened or
//   strict; userns-remap) -> validate again -> namespaces, cgroup placement and writes (for the
//   host's layout and for synthetic v2 and v1 layouts), rootfs, process, seccomp BPF, terminal,
//   hooks. Also the `update --resources` document parser on the same bytes.
//
// A finding is anything that aborts: a sanitizer report, an exception escaping (hrun returns
// typed errors; nlohmann::json throws on misuse), an error without a message, or a config that
// does not read back the same after to_json (spec_io.hpp promises parse_spec(to_json(x)) == x).
//
// Nothing on the host is changed and no host path from the input is opened: namespace paths
// are dropped (opening them is a join, not a plan) and root.path is replaced by a fake bundle's
// rootfs made once. Mount sources and device paths are only stat(2)ed, as the planner does.
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "audit/audit.hpp"
#include "cgroups/cgroups.hpp"
#include "console/console.hpp"
#include "create/namespaces.hpp"
#include "hooks/hooks.hpp"
#include "lifecycle/lifecycle.hpp"
#include "linux/host.hpp"
#include "policy/policy.hpp"
#include "policy/userns_remap.hpp"
#include "process/process.hpp"
#include "rootfs/rootfs.hpp"
#include "security/seccomp.hpp"
#include "spec/spec_io.hpp"

using namespace hrun;

namespace {

struct Fixture {
    os::HostContext host;
    std::vector<cgroups::Layout> layouts;
    std::string bundle;  // <bundle>/rootfs/etc/passwd exists
};

Fixture* fixture = nullptr;

[[noreturn]] void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz_config: %s\n", what.c_str());
    std::abort();
}

void check_error(const Error& e, const char* stage) {
    if (e.message.empty() && e.err == 0) finding(std::string(stage) + ": an error without a message");
}

void write_file(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        finding("cannot write " + path);
    ::close(fd);
}

std::string make_bundle() {
    char tmpl[] = "/tmp/hrun-fuzz-bundle-XXXXXX";
    if (!::mkdtemp(tmpl)) finding("mkdtemp failed");
    const std::string bundle = tmpl;
    for (const char* dir : {"/rootfs", "/rootfs/etc", "/rootfs/root", "/rootfs/home"})
        if (::mkdir((bundle + dir).c_str(), 0755) != 0) finding("mkdir failed");
    write_file(bundle + "/rootfs/etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
    write_file(bundle + "/rootfs/etc/group", "root:x:0:\nusers:x:100:user\n");
    return bundle;
}

void remove_bundle() {
    if (!fixture || fixture->bundle.empty()) return;
    ::nftw(fixture->bundle.c_str(),
           [](const char* path, const struct stat*, int, struct FTW*) { return ::remove(path); }, 16,
           FTW_DEPTH | FTW_PHYS);
}

cgroups::Layout synthetic_layout(bool v2) {
    std::vector<cgroups::CgroupMount> mounts;
    std::vector<cgroups::ProcCgroup> own;
    if (v2) {
        mounts.push_back({2, "/sys/fs/cgroup", "/", {}});
        own.push_back({0, {}, "/user.slice/fuzz"});
    } else {
        int id = 1;
        for (auto c : {"cpu,cpuacct", "memory", "pids", "blkio", "cpuset", "devices", "freezer",
                       "hugetlb", "net_cls,net_prio", "rdma", "misc"}) {
            std::vector<std::string> controllers;
            std::string list = c;
            for (std::size_t at = 0; at <= list.size();) {
                std::size_t comma = list.find(',', at);
                if (comma == std::string::npos) comma = list.size();
                controllers.push_back(list.substr(at, comma - at));
                at = comma + 1;
            }
            mounts.push_back({1, std::string("/sys/fs/cgroup/") + c, "/", controllers});
            own.push_back({id++, controllers, "/fuzz"});
        }
    }
    auto layout = cgroups::build_layout(mounts, own, v2 ? "cpuset cpu io memory hugetlb pids rdma misc" : "");
    if (!layout) finding("synthetic layout: " + layout.error().what());
    return *layout;
}

// A small deterministic choice from the input, so that one corpus file always takes one path.
uint64_t choice_of(std::string_view text) { return std::hash<std::string_view>{}(text); }

void plan(spec::Spec spec, uint64_t choice) {
    const Fixture& f = *fixture;
    if (spec.linux)
        for (auto& ns : spec.linux->namespaces) ns.path.clear();
    if (spec.root) spec.root->path = "rootfs";

    auto ns = create::plan_namespaces(spec, f.host.euid);
    if (!ns) return check_error(ns.error(), "plan_namespaces");

    static const spec::Linux kNoLinux;
    const spec::Linux& linux = spec.linux ? *spec.linux : kNoLinux;
    for (const cgroups::Layout& layout : f.layouts) {
        cgroups::PathOptions where{linux.cgroupsPath, "fuzz", (choice & 8) != 0, false};
        auto placement = cgroups::resolve_placement(layout, where);
        if (!placement) check_error(placement.error(), "resolve_placement");
        cgroups::PlanOptions options;
        options.devices = (choice & 16) == 0;
        auto writes = cgroups::plan_resources(linux.resources ? *linux.resources : spec::Resources{}, layout, options);
        if (!writes) check_error(writes.error(), "plan_resources");
    }

    rootfs::RootfsOptions rootfs_options{f.bundle, (choice & 32) != 0};
    auto rootfs = rootfs::plan_rootfs(spec, rootfs_options, ns->summary, f.host);
    if (!rootfs) check_error(rootfs.error(), "plan_rootfs");

    process::ProcessOptions process_options{static_cast<int>((choice >> 6) & 3), f.bundle};
    auto process = process::plan_process(spec, process_options, f.host);
    if (!process) check_error(process.error(), "plan_process");

    if (spec.linux && spec.linux->seccomp) {
        auto program = security::compile_seccomp(*spec.linux->seccomp);
        if (!program) check_error(program.error(), "compile_seccomp");
        else if (program->filter.empty()) finding("compile_seccomp: an empty program");
    }
    if (spec.process) (void)console::plan_terminal(*spec.process);
    if (spec.hooks) {
        const auto state = hooks::hook_state_text("fuzz", "creating", f.bundle, spec.annotations);
        (void)hooks::prepare_hooks(spec.hooks->createContainer, "createContainer", state);
        (void)hooks::prepare_hooks(spec.hooks->startContainer, "startContainer", state);
    }
}

void run(std::string_view text) {
    const uint64_t choice = choice_of(text);

    if (auto resources = lifecycle::parse_resources(text); !resources)
        check_error(resources.error(), "parse_resources");

    auto parsed = spec::parse_spec(text);
    if (!parsed) return check_error(parsed.error(), "parse_spec");

    const std::string json = spec::to_json(*parsed, (choice & 1) ? 2 : -1);
    auto again = spec::parse_spec(json);
    if (!again) finding("to_json wrote what parse_spec refuses: " + again.error().what() + "\n" + json);
    if (!(*again == *parsed)) finding("parse_spec(to_json(x)) != x for\n" + json);

    const audit::Report report = audit::make_report("config.json", audit::audit_spec(*parsed));
    (void)audit::format_json(report);
    (void)audit::format_table(report, (choice & 2) != 0);

    spec::Spec spec = std::move(*parsed);
    if (auto st = spec::validate_spec(spec); !st) return check_error(st.error(), "validate_spec");

    const policy::Policy policies[] = {policy::Policy::Oci, policy::Policy::Hardened, policy::Policy::Strict};
    const policy::Policy chosen = policies[(choice >> 2) % 3];
    auto defaults = policy::apply_policy(spec, chosen, policy::HostSecurity{(choice & 4) != 0});
    if (!defaults) return check_error(defaults.error(), "apply_policy");
    if ((choice >> 10) & 1) {
        const policy::UsernsRemap remap{"hrun-remap", "hrun-remap", {100000, 65536}, {100000, 65536}};
        (void)policy::apply_userns_remap(spec, remap);
    }
    if (auto st = spec::validate_spec(spec); !st) return check_error(st.error(), "validate_spec after policy");

    plan(std::move(spec), choice);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fixture = new Fixture;
    auto host = os::probe_host();
    if (!host) finding("probe_host: " + host.error().what());
    fixture->host = std::move(*host);
    // Root's paths (no map helpers, device rules) whatever the fuzzer runs as.
    fixture->host.euid = 0;
    fixture->host.egid = 0;
    if (auto layout = cgroups::detect_layout(fixture->host.proc.get())) fixture->layouts.push_back(*layout);
    fixture->layouts.push_back(synthetic_layout(true));
    fixture->layouts.push_back(synthetic_layout(false));
    fixture->bundle = make_bundle();
    std::atexit(remove_bundle);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        run(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const std::exception& e) {
        finding(std::string("uncaught ") + typeid(e).name() + ": " + e.what());
    } catch (...) {
        finding("uncaught exception of unknown type");
    }
    return 0;
}
