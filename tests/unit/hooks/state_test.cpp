// The state JSON and the prepared (execve-ready) hooks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hooks/hooks.hpp"

namespace hrun::hooks {
namespace {

TEST(HookState, HasTheRuntimeSpecFields) {
    const std::string text =
        hook_state_json("c1", "creating", 1234, "/srv/bundle", {{"k", "v \"quoted\"\n"}});
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["ociVersion"], spec::kSpecVersion);
    EXPECT_EQ(j["id"], "c1");
    EXPECT_EQ(j["status"], "creating");
    EXPECT_EQ(j["pid"], 1234);
    EXPECT_EQ(j["bundle"], "/srv/bundle");
    EXPECT_EQ(j["annotations"]["k"], "v \"quoted\"\n");
    EXPECT_EQ(j.size(), 6u);
}

TEST(HookState, NoAnnotationsLeavesTheMemberOut) {
    auto j = nlohmann::json::parse(hook_state_json("c1", "stopped", 0, "/b", {}));
    EXPECT_FALSE(j.contains("annotations"));
    EXPECT_EQ(j["pid"], 0);
}

TEST(HookState, TextSplitsAtThePid) {
    StateText t = hook_state_text("c1", "created", "/b", {{"x", "y"}});
    ASSERT_GE(t.head.size(), 7u);
    EXPECT_EQ(t.head.substr(t.head.size() - 7), ",\"pid\":");
    EXPECT_EQ(t.tail, "}");
    EXPECT_EQ(t.head + "99" + t.tail, hook_state_json("c1", "created", 99, "/b", {{"x", "y"}}));
}

TEST(HookState, InvalidUtf8StillMakesValidJson) {
    const std::string text = hook_state_json("c1", "created", 1, "/b\xff", {});
    auto j = nlohmann::json::parse(text);
    EXPECT_EQ(j["bundle"], "/b\xEF\xBF\xBD");  // U+FFFD
}

TEST(PrepareHooks, ArgvEnvAndFieldNames) {
    spec::Hook a;
    a.path = "/usr/bin/hook";
    a.args = {"hook-name", "--flag"};
    a.env = {"A=1"};
    a.timeout = 7;
    spec::Hook b;
    b.path = "/bin/other";
    PreparedHooks p = prepare_hooks({a, b}, "startContainer", std::string("{}"));
    ASSERT_EQ(p.hooks.size(), 2u);
    EXPECT_STREQ(p.hooks[0].argv.data()[0], "hook-name");
    EXPECT_STREQ(p.hooks[0].argv.data()[1], "--flag");
    EXPECT_EQ(p.hooks[0].argv.data()[2], nullptr);
    EXPECT_STREQ(p.hooks[0].envp.data()[0], "A=1");
    EXPECT_EQ(p.hooks[0].envp.data()[1], nullptr);
    EXPECT_EQ(p.hooks[0].timeout_seconds, 7);
    EXPECT_EQ(p.hooks[0].field, "hooks.startContainer[0]");
    EXPECT_EQ(p.hooks[1].path_field, "hooks.startContainer[1].path");
    // No args: argv[0] is the path, as execv callers conventionally pass.
    EXPECT_STREQ(p.hooks[1].argv.data()[0], "/bin/other");
    EXPECT_EQ(p.hooks[1].argv.data()[1], nullptr);
    EXPECT_EQ(p.hooks[1].envp.data()[0], nullptr);
    EXPECT_EQ(p.hooks[1].timeout_seconds, 0);
    EXPECT_EQ(p.state_head, "{}");
    EXPECT_FALSE(p.pid_slot);
}

TEST(PrepareHooks, CopiesPointIntoTheirOwnStrings) {
    spec::Hook a;
    a.path = "/h";
    a.args = {"short", std::string(100, 'L')};  // one in the small-string buffer, one on the heap
    PreparedHooks original = prepare_hooks({a}, "startContainer", std::string("{}"));
    PreparedHooks copy = original;
    const auto& strings = copy.hooks[0].argv.strings();
    for (std::size_t i = 0; i < strings.size(); ++i) {
        EXPECT_EQ(copy.hooks[0].argv.data()[i], strings[i].data());
        EXPECT_NE(copy.hooks[0].argv.data()[i], original.hooks[0].argv.data()[i]);
    }
    PreparedHooks moved = std::move(copy);
    EXPECT_STREQ(moved.hooks[0].argv.data()[0], "short");
    EXPECT_EQ(moved.hooks[0].argv.data()[1], moved.hooks[0].argv.strings()[1].data());
}

TEST(PrepareHooks, StateWithAPidSlot) {
    StateText t = hook_state_text("c1", "created", "/b", {});
    PreparedHooks p = prepare_hooks({}, "startContainer", t);
    EXPECT_TRUE(p.pid_slot);
    EXPECT_EQ(p.state_head, t.head);
    EXPECT_EQ(p.state_tail, t.tail);
}

}  // namespace
}  // namespace hrun::hooks
