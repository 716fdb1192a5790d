// Ids from flags and configs, the container's passwd and group files, and `exec --user`.
#include "process/users.hpp"

#include <gtest/gtest.h>

#include <map>

namespace hrun::process {
namespace {

constexpr std::string_view kPasswd =
    "# the image's users\n"
    "root:x:0:0:root:/root:/bin/sh\n"
    "\n"
    "broken line\n"
    "minus:x:4294967295:4294967295::/minus:/bin/sh\n"
    "wide:x:4294967296:1::/wide:/bin/sh\n"
    "signed:x:-1:1::/signed:/bin/sh\n"
    "app:x:1000:1001:App,,,:/home/app:/bin/sh\r\n"
    "app:x:2000:2000::/second:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false";

constexpr std::string_view kGroup =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "staff:x:50:other, app\n"
    "audio:x:29:app\n"
    "bad:x:-1:app\n"
    "minus:x:4294967295:app\n"
    "dev:x:300:";

TEST(Ids, ParseAcceptsOnlyDecimalIdsUpToTheLastUsableOne) {
    EXPECT_EQ(parse_id("0"), 0u);
    EXPECT_EQ(parse_id("1000"), 1000u);
    EXPECT_EQ(parse_id("4294967294"), 4294967294u);
    EXPECT_EQ(parse_id("007"), 7u);
    for (std::string_view bad : {"", "4294967295", "4294967296", "18446744073709551615", "-1", "+1", " 1",
                                 "1 ", "0x10", "1e3", "1:2", "root", "99999999999999999999999999"})
        EXPECT_EQ(parse_id(bad), std::nullopt) << bad;
}

TEST(Passwd, FindsTheFirstValidEntryByNameOrUid) {
    auto app = find_user(kPasswd, std::string_view("app"));
    ASSERT_TRUE(app);
    EXPECT_EQ(app->uid, 1000u);
    EXPECT_EQ(app->gid, 1001u);
    EXPECT_EQ(app->home, "/home/app");
    auto by_uid = find_user(kPasswd, uint32_t{65534});
    ASSERT_TRUE(by_uid);
    EXPECT_EQ(by_uid->name, "nobody");
    EXPECT_EQ(by_uid->home, "/nonexistent");  // the last line has no newline
    // Entries whose ids are not usable ids are no one's: a name cannot smuggle in (uid_t)-1.
    EXPECT_FALSE(find_user(kPasswd, std::string_view("minus")));
    EXPECT_FALSE(find_user(kPasswd, std::string_view("wide")));
    EXPECT_FALSE(find_user(kPasswd, std::string_view("signed")));
    EXPECT_FALSE(find_user(kPasswd, std::string_view("broken line")));
    EXPECT_FALSE(find_user(kPasswd, std::string_view("# the image's users")));
    EXPECT_FALSE(find_user(kPasswd, uint32_t{0xffffffff}));
    EXPECT_FALSE(find_user("", std::string_view("root")));
}

TEST(Group, FindsGroupsByNameAndMembership) {
    auto wheel = find_group(kGroup, "wheel");
    ASSERT_TRUE(wheel);
    EXPECT_EQ(wheel->gid, 10u);
    EXPECT_EQ(wheel->members, (std::vector<std::string>{"root", "app"}));
    EXPECT_TRUE(find_group(kGroup, "dev"));
    EXPECT_FALSE(find_group(kGroup, "bad"));
    EXPECT_FALSE(find_group(kGroup, "minus"));
    // " app" is not "app": member lists have no blanks.
    EXPECT_EQ(groups_listing(kGroup, "app"), (std::vector<uint32_t>{10, 29}));
    EXPECT_EQ(groups_listing(kGroup, "nobody"), std::vector<uint32_t>{});
}

// A reader over an in-memory rootfs that records what was read.
struct FakeFiles {
    std::map<std::string, Result<std::string>> files;
    std::vector<std::string> reads;
    ContainerFileReader reader() {
        return [this](const char* relpath) -> Result<std::string> {
            reads.emplace_back(relpath);
            auto it = files.find(relpath);
            if (it == files.end()) return fail("", std::string("/") + relpath + " does not exist", ENOENT);
            return it->second;
        };
    }
};

spec::User process_user() {
    spec::User u;
    u.uid = 0;
    u.gid = 7;
    u.additionalGids = {4, 5};
    return u;
}

TEST(UserFlag, NumericFormsAsRuncReadsNoFile) {
    FakeFiles fs;
    spec::User u = process_user();
    ASSERT_TRUE(apply_user_flag("1000", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 1000u);
    EXPECT_EQ(u.gid, 7u);  // the process's gid stays
    EXPECT_TRUE(u.additionalGids.empty());

    u = process_user();
    ASSERT_TRUE(apply_user_flag("1000:1001", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 1000u);
    EXPECT_EQ(u.gid, 1001u);
    u = process_user();
    ASSERT_TRUE(apply_user_flag("4294967294:0", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 4294967294u);
    EXPECT_EQ(u.gid, 0u);
    EXPECT_TRUE(fs.reads.empty());
}

TEST(UserFlag, OutOfRangeAndMalformedValuesAreRefusedNamingTheFlag) {
    FakeFiles fs;
    fs.files["etc/passwd"] = std::string(kPasswd);
    fs.files["etc/group"] = std::string(kGroup);
    // Every one of these ran as root before: -1 and 4294967295 are "unchanged", 4294967296 was
    // truncated to 0.
    for (std::string_view bad : {"-1", "4294967295", "4294967296", "4294967295:4294967295", "0:-1", "1000:4294967295",
                                 "1000:4294967296", "18446744073709551616", "+0", ":", ":0", "1000:", "minus",
                                 "wide", "app:minus", "app:bad"}) {
        spec::User u = process_user();
        auto st = apply_user_flag(bad, "--user", u, fs.reader());
        ASSERT_FALSE(st) << bad << " accepted as " << u.uid << ":" << u.gid;
        EXPECT_EQ(st.error().field, "--user") << bad;
        EXPECT_EQ(u.uid, 0u) << bad << ": changed although refused";
        EXPECT_EQ(u.gid, 7u) << bad;
    }
    spec::User u = process_user();
    auto st = apply_user_flag("-1", "--user", u, fs.reader());
    EXPECT_EQ(st.error().what(), "--user: \"-1\" is not a valid uid (ids are 0 to 4294967294)");
    st = apply_user_flag("1000:4294967295", "--user", u, fs.reader());
    EXPECT_EQ(st.error().what(), "--user: \"4294967295\" is not a valid gid (ids are 0 to 4294967294)");
}

TEST(UserFlag, AUserNameTakesItsEntryAndItsGroups) {
    FakeFiles fs;
    fs.files["etc/passwd"] = std::string(kPasswd);
    fs.files["etc/group"] = std::string(kGroup);
    spec::User u = process_user();
    ASSERT_TRUE(apply_user_flag("app", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 1000u);  // the first "app" entry
    EXPECT_EQ(u.gid, 1001u);
    EXPECT_EQ(u.additionalGids, (std::vector<uint32_t>{10, 29}));

    // An explicit group: no supplementary groups from membership.
    u = process_user();
    ASSERT_TRUE(apply_user_flag("app:dev", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 1000u);
    EXPECT_EQ(u.gid, 300u);
    EXPECT_TRUE(u.additionalGids.empty());

    u = process_user();
    ASSERT_TRUE(apply_user_flag("nobody:0", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 65534u);
    EXPECT_EQ(u.gid, 0u);

    u = process_user();
    ASSERT_TRUE(apply_user_flag("1000:audio", "--user", u, fs.reader()));
    EXPECT_EQ(u.uid, 1000u);
    EXPECT_EQ(u.gid, 29u);
}

TEST(UserFlag, UnknownNamesAreRefused) {
    FakeFiles fs;
    fs.files["etc/passwd"] = std::string(kPasswd);
    fs.files["etc/group"] = std::string(kGroup);
    spec::User u = process_user();
    auto st = apply_user_flag("ghost", "--user", u, fs.reader());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().what(), "--user: no user \"ghost\" in the container's /etc/passwd");
    st = apply_user_flag("0:ghosts", "--user", u, fs.reader());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().what(), "--user: no group \"ghosts\" in the container's /etc/group");
    EXPECT_EQ(u.uid, 0u);
    EXPECT_EQ(u.gid, 7u);
}

TEST(UserFlag, AnUnreadablePasswdIsAnErrorOfTheFlag) {
    FakeFiles fs;
    fs.files["etc/passwd"] = fail("", "/etc/passwd in the container is a character device, not a regular file", EINVAL);
    spec::User u = process_user();
    auto st = apply_user_flag("app", "--user", u, fs.reader());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "--user");
    EXPECT_NE(st.error().message.find("character device"), std::string::npos) << st.error().what();
    EXPECT_EQ(st.error().err, EINVAL);

    // No /etc/passwd at all: a name cannot be resolved.
    FakeFiles empty;
    st = apply_user_flag("app", "--user", u, empty.reader());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, ENOENT);
}

TEST(UserFlag, GroupFileMissingMeansNoGroupsButAHostileOneIsRefused) {
    FakeFiles fs;
    fs.files["etc/passwd"] = std::string(kPasswd);
    spec::User u = process_user();
    ASSERT_TRUE(apply_user_flag("app", "--user", u, fs.reader()));
    EXPECT_EQ(u.gid, 1001u);
    EXPECT_TRUE(u.additionalGids.empty());

    fs.files["etc/group"] = fail("", "/etc/group in the container is a FIFO, not a regular file", EINVAL);
    u = process_user();
    auto st = apply_user_flag("app", "--user", u, fs.reader());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().field, "--user");
    EXPECT_EQ(u.uid, 0u);
}

}  // namespace
}  // namespace hrun::process
