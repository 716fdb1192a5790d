// Cost of the hardened policy stage, which every `hrun run` pays unless --policy=oci: building
// the default seccomp profile for a bounding set, and the key under which its compiled program
// is cached (every field of the profile written out).
#include <benchmark/benchmark.h>

#include "policy/policy.hpp"
#include "security/seccomp_cache.hpp"
#include "spec/spec_io.hpp"

namespace hrun::bench {
namespace {

const std::vector<std::string>& default_bounding_set() {
    static const std::vector<std::string> caps = [] {
        spec::Spec s = spec::default_spec({});
        return s.process->capabilities->bounding;
    }();
    return caps;
}

void BM_DefaultSeccompProfile(benchmark::State& state) {
    for (auto _ : state) {
        auto profile = policy::default_seccomp_profile(default_bounding_set());
        if (!profile) {
            state.SkipWithError(profile.error().what().c_str());
            return;
        }
        benchmark::DoNotOptimize(profile);
    }
}
BENCHMARK(BM_DefaultSeccompProfile)->Unit(benchmark::kMicrosecond);

void BM_ApplyHardenedPolicy(benchmark::State& state) {
    const spec::Spec plain = [] {
        spec::Spec s = spec::default_spec({});
        s.linux->seccomp.reset();
        s.process->noNewPrivileges = false;
        return s;
    }();
    for (auto _ : state) {
        spec::Spec s = plain;
        auto applied = policy::apply_policy(s, policy::Policy::Hardened, policy::HostSecurity{});
        if (!applied) {
            state.SkipWithError(applied.error().what().c_str());
            return;
        }
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_ApplyHardenedPolicy)->Unit(benchmark::kMicrosecond);

void BM_SeccompCacheKeyOfDefaultProfile(benchmark::State& state) {
    auto profile = policy::default_seccomp_profile(default_bounding_set());
    if (!profile) {
        state.SkipWithError(profile.error().what().c_str());
        return;
    }
    for (auto _ : state) {
        std::string key = security::seccomp_cache_key(*profile);
        benchmark::DoNotOptimize(key);
    }
}
BENCHMARK(BM_SeccompCacheKeyOfDefaultProfile)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hrun::bench
