// --userns-remap: resolving USER[:GROUP] to subordinate ranges, and what it does to a config.
#include "policy/userns_remap.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "spec/spec_io.hpp"

namespace hrun::policy {
namespace {

// /etc/subuid and /etc/subgid stand-ins in a temporary directory.
class SubidFilesFixture : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hrun-remap-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        subuid_ = dir_ + "/subuid";
        subgid_ = dir_ + "/subgid";
        files_ = {subuid_.c_str(), subgid_.c_str()};
    }
    void TearDown() override {
        ::unlink(subuid_.c_str());
        ::unlink(subgid_.c_str());
        ::rmdir(dir_.c_str());
    }
    void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

    std::string dir_, subuid_, subgid_;
    SubidFiles files_;
};

TEST_F(SubidFilesFixture, FirstRangeOfTheUser) {
    // "root" exists everywhere; ranges by name or by uid, first one wins.
    write(subuid_, "other:100000:65536\nroot:300000:65536\n0:500000:10\n");
    write(subgid_, "0:310000:1000\nroot:320000:65536\n");
    auto r = resolve_userns_remap("root", files_);
    ASSERT_TRUE(r.has_value()) << r.error().what();
    EXPECT_EQ(r->user, "root");
    EXPECT_EQ(r->group, "root");
    EXPECT_EQ(r->uids.start, 300000u);
    EXPECT_EQ(r->uids.count, 65536u);
    EXPECT_EQ(r->gids.start, 310000u);
    EXPECT_EQ(r->gids.count, 1000u);
    // A numeric uid names the same user.
    auto by_uid = resolve_userns_remap("0", files_);
    ASSERT_TRUE(by_uid.has_value()) << by_uid.error().what();
    EXPECT_EQ(by_uid->user, "root");
    EXPECT_EQ(by_uid->uids.start, 300000u);
}

TEST_F(SubidFilesFixture, GroupRangeComesFromTheGroup) {
    write(subuid_, "root:300000:65536\n");
    write(subgid_, "root:310000:65536\n0:330000:5\n");
    auto r = resolve_userns_remap("root:0", files_);
    ASSERT_TRUE(r.has_value()) << r.error().what();
    EXPECT_EQ(r->group, "root");  // gid 0's name
    EXPECT_EQ(r->gids.start, 310000u);
}

TEST_F(SubidFilesFixture, ErrorsNameTheFlag) {
    write(subuid_, "root:300000:65536\n");
    write(subgid_, "nobody:310000:65536\n");
    for (const char* bad : {"", ":", "root:", ":root", "root:0:1", "hrun-no-such-user-x", "root:hrun-no-such-group-x",
                            "root"}) {
        auto r = resolve_userns_remap(bad, files_);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().field, "--userns-remap") << bad;
    }
    auto unknown = resolve_userns_remap("hrun-no-such-user-x", files_);
    EXPECT_NE(unknown.error().message.find("unknown user"), std::string::npos) << unknown.error().what();
    auto no_gids = resolve_userns_remap("root", files_);
    EXPECT_NE(no_gids.error().message.find("no subordinate range"), std::string::npos) << no_gids.error().what();
    write(subuid_, "");
    auto no_uids = resolve_userns_remap("root", files_);
    ASSERT_FALSE(no_uids.has_value());
    EXPECT_NE(no_uids.error().message.find(subuid_), std::string::npos) << no_uids.error().what();
}

UsernsRemap sample_remap() {
    UsernsRemap r;
    r.user = "hrun-remap";
    r.group = "hrun-remap";
    r.uids = {300000, 65536};
    r.gids = {310000, 1000};
    return r;
}

TEST(UsernsRemap, AddsTheNamespaceMapsAndIdmap) {
    spec::Spec s = spec::default_spec({});
    auto out = apply_userns_remap(s, sample_remap());
    EXPECT_FALSE(out.left_alone);
    ASSERT_TRUE(s.linux.has_value());
    EXPECT_EQ(std::count_if(s.linux->namespaces.begin(), s.linux->namespaces.end(),
                            [](const spec::Namespace& n) { return n.type == "user" && n.path.empty(); }),
              1);
    EXPECT_EQ(s.linux->uidMappings, (std::vector<spec::IdMapping>{{0, 300000, 65536}}));
    EXPECT_EQ(s.linux->gidMappings, (std::vector<spec::IdMapping>{{0, 310000, 1000}}));
    EXPECT_EQ(s.annotations[spec::kRootfsIdmapAnnotation], "true");
    ASSERT_EQ(out.applied.size(), 4u);
    EXPECT_EQ(out.applied[0].field, "linux.namespaces");
    EXPECT_NE(out.applied[0].value.find("hrun-remap"), std::string::npos);
    EXPECT_EQ(out.applied[1].field, "linux.uidMappings");
    EXPECT_EQ(out.applied[1].value, "0 300000 65536");
    auto valid = spec::validate_spec(s);
    EXPECT_TRUE(valid) << valid.error().what();
}

TEST(UsernsRemap, ConfigWithItsOwnUserNamespaceIsLeftAlone) {
    spec::Spec s = spec::default_spec({.rootless = true, .host_uid = 1000, .host_gid = 1000});
    const spec::Spec before = s;
    auto out = apply_userns_remap(s, sample_remap());
    EXPECT_TRUE(out.left_alone);
    EXPECT_TRUE(out.applied.empty());
    EXPECT_EQ(s, before);
}

TEST(UsernsRemap, MappingsFromARange) {
    EXPECT_EQ(remap_mappings({200000, 5}), (std::vector<spec::IdMapping>{{0, 200000, 5}}));
}

}  // namespace
}  // namespace hrun::policy
