#include "security/seccomp_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

namespace hrun::security {
namespace {

SeccompProgram sample_program(uint32_t k = 7) {
    SeccompProgram p;
    p.flags = 3;
    p.filter = {sock_filter{0x20, 0, 0, 4}, sock_filter{0x06, 0, 0, k}};
    return p;
}

bool same(const SeccompProgram& a, const SeccompProgram& b) {
    if (a.flags != b.flags || a.filter.size() != b.filter.size()) return false;
    for (std::size_t i = 0; i < a.filter.size(); ++i)
        if (a.filter[i].code != b.filter[i].code || a.filter[i].jt != b.filter[i].jt ||
            a.filter[i].jf != b.filter[i].jf || a.filter[i].k != b.filter[i].k)
            return false;
    return true;
}

TEST(SeccompCacheEntry, RoundTripsForItsOwnKey) {
    const std::string text = SeccompCache::format_entry("key-a", sample_program());
    auto back = SeccompCache::parse_entry(text, "key-a");
    ASSERT_TRUE(back);
    EXPECT_TRUE(same(*back, sample_program()));
}

TEST(SeccompCacheEntry, AnotherKeyWithTheSameHashIsAMiss) {
    // The file name is only a hash: the entry must still refuse a different key.
    const std::string text = SeccompCache::format_entry("key-a", sample_program());
    EXPECT_FALSE(SeccompCache::parse_entry(text, "key-b"));
    EXPECT_FALSE(SeccompCache::parse_entry(text, "key-"));
    EXPECT_FALSE(SeccompCache::parse_entry(text, "key-aa"));
}

TEST(SeccompCacheEntry, DamagedEntriesAreMisses) {
    const std::string text = SeccompCache::format_entry("key-a", sample_program());
    EXPECT_FALSE(SeccompCache::parse_entry(text.substr(0, text.size() - 1), "key-a"));  // truncated
    EXPECT_FALSE(SeccompCache::parse_entry(text + "x", "key-a"));                       // trailing bytes
    EXPECT_FALSE(SeccompCache::parse_entry("", "key-a"));
    std::string bad_magic = text;
    bad_magic[0] = 'H';
    EXPECT_FALSE(SeccompCache::parse_entry(bad_magic, "key-a"));
    SeccompProgram empty;
    EXPECT_FALSE(SeccompCache::parse_entry(SeccompCache::format_entry("key-a", empty), "key-a"));
}

TEST(SeccompCacheEntry, NamesAreStableHexHashes) {
    EXPECT_EQ(SeccompCache::entry_name("key-a"), SeccompCache::entry_name("key-a"));
    EXPECT_NE(SeccompCache::entry_name("key-a"), SeccompCache::entry_name("key-b"));
    EXPECT_EQ(SeccompCache::entry_name("").size(), 16u + 4u);
    // FNV-1a 64 of the empty string is its offset basis.
    EXPECT_EQ(SeccompCache::entry_name(""), "cbf29ce484222325.bpf");
}

spec::Seccomp key_test_profile() {
    spec::Seccomp p;
    p.defaultAction = "SCMP_ACT_ERRNO";
    p.defaultErrnoRet = 1;
    p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
    p.flags = {"SECCOMP_FILTER_FLAG_LOG"};
    p.syscalls = {{{"read", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
                  {{"personality"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 8, 0, "SCMP_CMP_EQ"}}}};
    return p;
}

TEST(SeccompCacheKey, CoversTheProfileTheLibraryAndTheBinary) {
    const std::string key = seccomp_cache_key(key_test_profile());
    EXPECT_EQ(key, seccomp_cache_key(key_test_profile())) << "the same profile, the same key";
    EXPECT_NE(key.find("libseccomp "), std::string::npos);
    EXPECT_NE(key.find("exe "), std::string::npos);
}

// Every field the compiled program depends on changes the key: a field left out would hand one
// profile another's cached program.
TEST(SeccompCacheKey, EveryFieldChangesTheKey) {
    using Change = std::function<void(spec::Seccomp&)>;
    const std::vector<std::pair<const char*, Change>> changes{
        {"defaultAction", [](spec::Seccomp& p) { p.defaultAction = "SCMP_ACT_KILL"; }},
        {"defaultErrnoRet value", [](spec::Seccomp& p) { p.defaultErrnoRet = 38; }},
        {"defaultErrnoRet unset", [](spec::Seccomp& p) { p.defaultErrnoRet.reset(); }},
        {"architectures", [](spec::Seccomp& p) { p.architectures.pop_back(); }},
        {"flags", [](spec::Seccomp& p) { p.flags.clear(); }},
        {"listenerPath", [](spec::Seccomp& p) { p.listenerPath = "/run/notify.sock"; }},
        {"listenerMetadata", [](spec::Seccomp& p) { p.listenerMetadata = "x"; }},
        {"syscalls order", [](spec::Seccomp& p) { std::swap(p.syscalls[0], p.syscalls[1]); }},
        {"names", [](spec::Seccomp& p) { p.syscalls[0].names[1] = "close"; }},
        {"names split", [](spec::Seccomp& p) { p.syscalls[0].names = {"readwrite"}; }},
        {"action", [](spec::Seccomp& p) { p.syscalls[0].action = "SCMP_ACT_LOG"; }},
        {"errnoRet", [](spec::Seccomp& p) { p.syscalls[0].errnoRet = 0; }},
        {"args.index", [](spec::Seccomp& p) { p.syscalls[1].args[0].index = 1; }},
        {"args.value", [](spec::Seccomp& p) { p.syscalls[1].args[0].value = 9; }},
        {"args.valueTwo", [](spec::Seccomp& p) { p.syscalls[1].args[0].valueTwo = 8; }},
        {"args.op", [](spec::Seccomp& p) { p.syscalls[1].args[0].op = "SCMP_CMP_NE"; }},
        {"args added", [](spec::Seccomp& p) { p.syscalls[0].args.push_back({0, 0, 0, "SCMP_CMP_EQ"}); }},
        {"a rule moved its name", [](spec::Seccomp& p) {
             p.syscalls[0].names.pop_back();
             p.syscalls[1].names.insert(p.syscalls[1].names.begin(), "write");
         }},
    };
    const std::string base = seccomp_cache_key(key_test_profile());
    for (const auto& [what, change] : changes) {
        spec::Seccomp p = key_test_profile();
        change(p);
        EXPECT_NE(seccomp_cache_key(p), base) << what;
    }
}

class SeccompCacheDir : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hrun-seccomp-cache-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        base_ = tmpl;
        dir_ = base_ + "/cache/seccomp";  // missing parents are created on the first store
    }
    void TearDown() override { std::filesystem::remove_all(base_); }
    std::string entry_path(std::string_view key) const { return dir_ + "/" + SeccompCache::entry_name(key); }
    std::string base_;
    std::string dir_;
};

TEST_F(SeccompCacheDir, StoresAndFinds) {
    const SeccompCache cache = SeccompCache::open(dir_);
    EXPECT_FALSE(cache.find("k1"));
    EXPECT_FALSE(std::filesystem::exists(dir_)) << "a lookup creates nothing";
    cache.store("k1", sample_program(1));
    auto hit = cache.find("k1");
    ASSERT_TRUE(hit);
    EXPECT_TRUE(same(*hit, sample_program(1)));
    EXPECT_FALSE(cache.find("k2"));
    for (const std::string& d : {base_ + "/cache", dir_}) {
        struct stat st {};
        ASSERT_EQ(::stat(d.c_str(), &st), 0) << d;
        EXPECT_EQ(st.st_mode & 0777, 0700u) << d;
    }
}

TEST_F(SeccompCacheDir, IgnoresEntriesOthersCouldHaveWritten) {
    const SeccompCache cache = SeccompCache::open(dir_);
    cache.store("k1", sample_program(1));
    ASSERT_TRUE(cache.find("k1"));
    ASSERT_EQ(::chmod(entry_path("k1").c_str(), 0622), 0);
    EXPECT_FALSE(cache.find("k1")) << "a group- or world-writable entry is not trusted";
}

TEST_F(SeccompCacheDir, RefusesADirectoryOpenToOthers) {
    std::filesystem::create_directories(dir_);
    ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
    const SeccompCache cache = SeccompCache::open(dir_);
    cache.store("k1", sample_program(1));  // a no-op, not a failure
    EXPECT_FALSE(std::filesystem::exists(entry_path("k1")));
    EXPECT_FALSE(cache.find("k1"));
}

TEST_F(SeccompCacheDir, ASymlinkedEntryIsNotFollowed) {
    const SeccompCache cache = SeccompCache::open(dir_);
    cache.store("k1", sample_program(1));
    const std::string target = base_ + "/elsewhere.bpf";
    std::filesystem::rename(entry_path("k1"), target);
    std::filesystem::create_symlink(target, entry_path("k1"));
    EXPECT_FALSE(cache.find("k1"));
}

TEST_F(SeccompCacheDir, EmptiesItselfWhenFull) {
    const SeccompCache cache = SeccompCache::open(dir_);
    for (std::size_t i = 0; i < SeccompCache::kMaxEntries; ++i)
        cache.store("key" + std::to_string(i), sample_program(static_cast<uint32_t>(i)));
    EXPECT_TRUE(cache.find("key0"));
    cache.store("one more", sample_program(99));
    EXPECT_FALSE(cache.find("key0")) << "the full directory was emptied";
    EXPECT_TRUE(cache.find("one more"));
}

TEST(SeccompCacheOpen, NoDirectoryMeansNoCache) {
    const SeccompCache cache = SeccompCache::open("");
    cache.store("k", sample_program());
    EXPECT_FALSE(cache.find("k"));
    EXPECT_FALSE(SeccompCache::open("relative/dir").find("k"));
}

}  // namespace
}  // namespace hrun::security
