// The example bundle configs in specs/: every one parses and validates, and the generated ones
// are exactly what default_spec writes (so they cannot drift from the code).
#include <gtest/gtest.h>

#include <filesystem>

#include "spec/spec_io.hpp"
#include "spec_test_support.hpp"

namespace hrun::spec {
namespace {

namespace fs = std::filesystem;

TEST(SpecsDirectory, EveryExampleParsesAndValidates) {
    const fs::path dir = test::source_path("specs");
    std::size_t checked = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        SCOPED_TRACE(entry.path().string());
        auto spec = load_spec(entry.path().string());
        ASSERT_TRUE(spec) << spec.error().what();
        auto st = validate_spec(*spec);
        EXPECT_TRUE(st) << st.error().what();
        // Each file is written in the canonical form, so it round-trips unchanged.
        EXPECT_TRUE(*parse_spec(to_json(*spec)) == *spec);
        ++checked;
    }
    EXPECT_GE(checked, 5u);
}

TEST(SpecsDirectory, DefaultJsonIsWhatHrunSpecWrites) {
    EXPECT_EQ(test::read_text(test::source_path("specs/default.json")), to_json(default_spec({})));
}

TEST(SpecsDirectory, RootlessJsonIsWhatHrunSpecRootlessWrites) {
    EXPECT_EQ(test::read_text(test::source_path("specs/rootless.json")),
              to_json(default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1000})));
}

TEST(SpecsDirectory, UsernsRemapJsonIsWhatHrunSpecUsernsRemapWrites) {
    // `hrun spec --userns-remap USER` for a USER whose subordinate ranges are 100000-165535.
    const std::vector<IdMapping> range{IdMapping{0, 100000, 65536}};
    EXPECT_EQ(test::read_text(test::source_path("specs/userns-remap.json")),
              to_json(default_spec({.remap_uids = range, .remap_gids = range})));
}

TEST(SpecsDirectory, ExamplesShowWhatTheyClaim) {
    auto remap = load_spec(test::source_path("specs/userns-remap.json"));
    ASSERT_TRUE(remap) << remap.error().what();
    ASSERT_EQ(remap->linux->uidMappings.size(), 1u);
    EXPECT_EQ(remap->linux->uidMappings[0].size, 65536u);
    ASSERT_EQ(remap->linux->gidMappings.size(), 1u);
    EXPECT_EQ(remap->linux->gidMappings[0].size, 65536u);

    auto sec = load_spec(test::source_path("specs/seccomp-example.json"));
    ASSERT_TRUE(sec) << sec.error().what();
    ASSERT_TRUE(sec->linux->seccomp);
    bool errno_action = false, log_action = false, kill_action = false, with_args = false;
    for (const auto& rule : sec->linux->seccomp->syscalls) {
        errno_action |= rule.action == "SCMP_ACT_ERRNO";
        log_action |= rule.action == "SCMP_ACT_LOG";
        kill_action |= rule.action == "SCMP_ACT_KILL_PROCESS";
        with_args |= !rule.args.empty();
    }
    EXPECT_TRUE(errno_action && log_action && kill_action && with_args);

    auto joined = load_spec(test::source_path("specs/joined-namespaces.json"));
    ASSERT_TRUE(joined) << joined.error().what();
    bool has_joined = false;
    for (const auto& ns : joined->linux->namespaces) has_joined |= !ns.path.empty();
    EXPECT_TRUE(has_joined);
}

}  // namespace
}  // namespace hrun::spec
