// Cost of turning linux.seccomp into BPF in the parent, for a small and a default-sized profile.
#include <benchmark/benchmark.h>

#include <string>

#include "hrun/spec.hpp"
#include "security/seccomp.hpp"
#include "x86_64_syscalls.hpp"

namespace hrun::bench {
namespace {

spec::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                          std::vector<spec::SeccompArg> args = {}) {
    spec::SeccompSyscall s;
    s.names = std::move(names);
    s.action = std::move(action);
    s.args = std::move(args);
    return s;
}

spec::SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
    return spec::SeccompArg{index, value, value_two, std::move(op)};
}

// Ten rules: a denylist on top of an allow default.
spec::Seccomp small_profile() {
    spec::Seccomp s;
    s.defaultAction = "SCMP_ACT_ALLOW";
    s.architectures = {"SCMP_ARCH_X86_64"};
    s.syscalls = {
        rule({"mount"}, "SCMP_ACT_ERRNO"),
        rule({"umount2"}, "SCMP_ACT_ERRNO"),
        rule({"reboot"}, "SCMP_ACT_ERRNO"),
        rule({"kexec_load"}, "SCMP_ACT_ERRNO"),
        rule({"init_module"}, "SCMP_ACT_ERRNO"),
        rule({"delete_module"}, "SCMP_ACT_ERRNO"),
        rule({"ptrace"}, "SCMP_ACT_KILL_PROCESS"),
        rule({"bpf"}, "SCMP_ACT_ERRNO"),
        rule({"personality"}, "SCMP_ACT_ERRNO", {arg(0, "SCMP_CMP_NE", 0)}),
        rule({"socket"}, "SCMP_ACT_ERRNO", {arg(0, "SCMP_CMP_EQ", 40)}),  // AF_VSOCK
    };
    return s;
}

// A default-style allowlist: one big allow rule for ~300 syscalls on the three x86 ABIs, plus the
// argument-filtered exceptions such profiles carry.
spec::Seccomp large_profile() {
    spec::Seccomp s;
    s.defaultAction = "SCMP_ACT_ERRNO";
    s.defaultErrnoRet = 1;
    s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
    std::vector<std::string> allowed(kX86_64Allowlist.begin(), kX86_64Allowlist.end());
    s.syscalls.push_back(rule(std::move(allowed), "SCMP_ACT_ALLOW"));
    for (uint64_t persona : {0x0ull, 0x8ull, 0x20000ull, 0x20008ull, 0xffffffffull})
        s.syscalls.push_back(rule({"personality"}, "SCMP_ACT_ALLOW", {arg(0, "SCMP_CMP_EQ", persona)}));
    // clone without namespace flags.
    s.syscalls.push_back(
        rule({"clone"}, "SCMP_ACT_ALLOW", {arg(0, "SCMP_CMP_MASKED_EQ", 0x7e020000, 0)}));
    s.syscalls.push_back(rule({"clone3"}, "SCMP_ACT_ERRNO"));
    s.syscalls.back().errnoRet = 38;  // ENOSYS, so libc falls back to clone
    return s;
}

void BM_CompileSeccompSmall(benchmark::State& state) {
    const spec::Seccomp profile = small_profile();
    std::size_t insns = 0;
    for (auto _ : state) {
        auto program = security::compile_seccomp(profile);
        if (!program) {
            state.SkipWithError(program.error().what().c_str());
            return;
        }
        insns = program->filter.size();
        benchmark::DoNotOptimize(program);
    }
    state.counters["bpf_insns"] = static_cast<double>(insns);
}
BENCHMARK(BM_CompileSeccompSmall)->Unit(benchmark::kMicrosecond);

void BM_CompileSeccompLarge(benchmark::State& state) {
    const spec::Seccomp profile = large_profile();
    std::size_t insns = 0;
    for (auto _ : state) {
        auto program = security::compile_seccomp(profile);
        if (!program) {
            state.SkipWithError(program.error().what().c_str());
            return;
        }
        insns = program->filter.size();
        benchmark::DoNotOptimize(program);
    }
    state.counters["bpf_insns"] = static_cast<double>(insns);
    state.counters["syscalls"] = static_cast<double>(kX86_64Allowlist.size());
}
BENCHMARK(BM_CompileSeccompLarge)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hrun::bench
