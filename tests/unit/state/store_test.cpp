// The state root: creation of the root and of container directories (exclusive, also under
// concurrency), saving and loading state.json (atomic replacement), listing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <vector>

#include "state/state.hpp"
#include "state_test_util.hpp"

namespace hrun::state {
namespace {

using test::TempDir;

mode_t mode_of(const std::string& path) {
    struct stat st{};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// Names in `dir` starting with `prefix`.
std::vector<std::string> names_with_prefix(const std::string& dir, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0) out.push_back(name);
    }
    return out;
}

class StoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_FALSE(tmp.path().empty());
        auto r = StateRoot::open(tmp / "root");
        ASSERT_TRUE(r) << r.error().what();
        root.emplace(std::move(*r));
    }
    // A container with a saved state; the lock is released on return.
    void make_container(const std::string& id) {
        auto dir = root->create(id);
        ASSERT_TRUE(dir) << dir.error().what();
        ASSERT_TRUE(dir->save(test::sample_state(id)));
    }

    TempDir tmp;
    std::optional<StateRoot> root;
};

TEST(StateRootOpen, CreatesRootAndParentsWithTheirModes) {
    TempDir tmp;
    mode_t old = ::umask(077);  // the modes must not depend on the caller's umask
    auto root = StateRoot::open(tmp / "a/b/root");
    ::umask(old);
    ASSERT_TRUE(root) << root.error().what();
    EXPECT_EQ(root->path(), tmp / "a/b/root");
    EXPECT_EQ(mode_of(tmp / "a"), 0711u);
    EXPECT_EQ(mode_of(tmp / "a/b"), 0711u);
    EXPECT_EQ(mode_of(tmp / "a/b/root"), 0700u);
    EXPECT_EQ(root->container_path("x"), tmp / "a/b/root/x");
}

TEST(StateRootOpen, LeavesAnExistingRootAlone) {
    TempDir tmp;
    ASSERT_EQ(::mkdir((tmp / "r").c_str(), 0755), 0);
    ASSERT_EQ(::chmod((tmp / "r").c_str(), 0755), 0);
    auto root = StateRoot::open(tmp / "r/");
    ASSERT_TRUE(root) << root.error().what();
    EXPECT_EQ(root->path(), tmp / "r");
    EXPECT_EQ(mode_of(tmp / "r"), 0755u);
}

TEST(StateRootOpen, MustExistDoesNotCreate) {
    TempDir tmp;
    auto root = StateRoot::open(tmp / "missing", StateRoot::Create::MustExist);
    ASSERT_FALSE(root);
    EXPECT_EQ(root.error().err, ENOENT);
    EXPECT_FALSE(exists(tmp / "missing"));
}

TEST(StateRootOpen, MakesRelativePathsAbsolute) {
    TempDir tmp;
    std::string cwd = std::filesystem::current_path();
    ASSERT_EQ(::chdir(tmp.path().c_str()), 0);
    auto root = StateRoot::open("rel/root");
    ASSERT_EQ(::chdir(cwd.c_str()), 0);
    ASSERT_TRUE(root) << root.error().what();
    EXPECT_EQ(root->path(), tmp / "rel/root");
    EXPECT_TRUE(exists(tmp / "rel/root"));
}

TEST(StateRootOpen, DefaultRootDependsOnUser) {
    const char* saved = std::getenv("XDG_RUNTIME_DIR");
    std::string saved_value = saved ? saved : "";
    ASSERT_EQ(::setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1), 0);
    std::string with_xdg = default_root();
    ASSERT_EQ(::unsetenv("XDG_RUNTIME_DIR"), 0);
    std::string without_xdg = default_root();
    if (saved) ::setenv("XDG_RUNTIME_DIR", saved_value.c_str(), 1);
    // root always uses /run/hrun; other users their runtime directory when they have one.
    EXPECT_EQ(with_xdg, ::geteuid() == 0 ? "/run/hrun" : "/run/user/1234/hrun");
    EXPECT_EQ(without_xdg, "/run/hrun");
}

TEST_F(StoreTest, CreateMakesALockedPrivateDirectory) {
    mode_t old = ::umask(0);
    auto dir = root->create("web");
    ::umask(old);
    ASSERT_TRUE(dir) << dir.error().what();
    EXPECT_EQ(dir->id(), "web");
    EXPECT_EQ(dir->path(), root->path() + "/web");
    EXPECT_EQ(dir->lock(), Lock::Exclusive);
    EXPECT_EQ(mode_of(dir->path()), 0700u);
    EXPECT_TRUE(names_with_prefix(root->path(), "@").empty());  // no temporary left behind
    // Locked: another open file description cannot take the lock.
    auto other = root->open("web", Lock::Shared, Wait::Try);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().err, EWOULDBLOCK);
}

TEST_F(StoreTest, CreateOfAnExistingIdFails) {
    make_container("web");
    auto again = root->create("web");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().err, EEXIST);
    EXPECT_EQ(again.error().message, "container \"web\" already exists");
    // Also while the first is still being created (no state.json yet).
    auto pending = root->create("new");
    ASSERT_TRUE(pending);
    auto clash = root->create("new");
    ASSERT_FALSE(clash);
    EXPECT_EQ(clash.error().err, EEXIST);
    EXPECT_TRUE(names_with_prefix(root->path(), "@").empty());
}

TEST_F(StoreTest, RefusesPathLikeIds) {
    for (const char* bad : {"", ".", "..", "a/b", "../root", "@hrun-creating-0"}) {
        EXPECT_FALSE(root->create(bad)) << bad;
        EXPECT_FALSE(root->open(bad, Lock::None)) << bad;
    }
    EXPECT_FALSE(exists(tmp / "a"));
}

TEST_F(StoreTest, ConcurrentCreatesOfOneIdHaveExactlyOneWinner) {
    constexpr int kRacers = 20;
    for (int round = 0; round < 5; ++round) {
        const std::string id = "race" + std::to_string(round);
        test::Pipe gate;
        std::vector<pid_t> racers;
        for (int i = 0; i < kRacers; ++i) {
            pid_t pid = test::fork_child([&] {
                gate.close_write();
                char c;
                (void)!::read(gate.r, &c, 1);  // released all at once when the gate closes
                auto dir = root->create(id);
                if (dir) {
                    // Hold it a little, so that losers race against a locked directory too.
                    ::usleep(2000);
                    return dir->save(test::sample_state(id)) ? 0 : 3;
                }
                if (dir.error().err == EEXIST && dir.error().message == "container \"" + id + "\" already exists")
                    return 1;
                return 2;
            });
            ASSERT_GT(pid, 0);
            racers.push_back(pid);
        }
        gate.close_write();
        int winners = 0, losers = 0;
        for (pid_t pid : racers) {
            int code = test::wait_exit(pid);
            if (code == 0) ++winners;
            else if (code == 1) ++losers;
            else ADD_FAILURE() << "racer exited with " << code;
        }
        EXPECT_EQ(winners, 1) << id;
        EXPECT_EQ(losers, kRacers - 1) << id;
        auto dir = root->open(id, Lock::Shared);
        ASSERT_TRUE(dir) << dir.error().what();
        auto st = dir->load();
        ASSERT_TRUE(st) << st.error().what();
        EXPECT_EQ(st->id, id);
    }
    EXPECT_TRUE(names_with_prefix(root->path(), "@").empty());
}

TEST_F(StoreTest, SaveThenLoad) {
    auto dir = root->create("web");
    ASSERT_TRUE(dir);
    auto missing = dir->load();
    ASSERT_FALSE(missing);  // being created: no state yet
    EXPECT_EQ(missing.error().err, ENOENT);
    EXPECT_EQ(missing.error().message, "container \"web\" does not exist");

    ContainerState s = test::sample_state("web");
    mode_t old = ::umask(0);
    auto saved = dir->save(s);
    ::umask(old);
    ASSERT_TRUE(saved) << saved.error().what();
    EXPECT_EQ(mode_of(dir->path() + "/state.json"), 0600u);
    EXPECT_EQ(*dir->load(), s);
    s.pid = 99;
    ASSERT_TRUE(dir->save(s));
    EXPECT_EQ(dir->load()->pid, 99);
    EXPECT_TRUE(names_with_prefix(dir->path(), "state.json.tmp").empty());
    dir->release();
    EXPECT_EQ(dir->fd(), -1);

    auto reader = root->open("web", Lock::None);
    ASSERT_TRUE(reader);
    EXPECT_EQ(reader->load()->pid, 99);
}

TEST_F(StoreTest, SaveNeedsTheExclusiveLockAndTheRightId) {
    make_container("web");
    auto shared = root->open("web", Lock::Shared);
    ASSERT_TRUE(shared);
    auto st = shared->save(test::sample_state("web"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().err, EINVAL);
    shared->release();

    auto dir = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(dir);
    EXPECT_FALSE(dir->save(test::sample_state("other")));
    ContainerState bad = test::sample_state("web");
    bad.bundle = "/not-utf8-\xff";
    auto enc = dir->save(bad);
    ASSERT_FALSE(enc);
    EXPECT_EQ(enc.error().err, EILSEQ);
    EXPECT_EQ(dir->load()->bundle, "/srv/bundles/web");  // untouched
    EXPECT_TRUE(names_with_prefix(dir->path(), "state.json.tmp").empty());
}

TEST_F(StoreTest, LoadRejectsBrokenOrForeignState) {
    make_container("web");
    auto dir = root->open("web", Lock::Exclusive);
    ASSERT_TRUE(dir);
    test::write_text(dir->path() + "/state.json", "{\"id\": \"web\", \"pid\": ");
    auto broken = dir->load();
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().err, EINVAL);
    EXPECT_NE(broken.error().message.find("invalid state.json"), std::string::npos) << broken.error().what();

    test::write_text(dir->path() + "/state.json", nlohmann::json(test::sample_state("db")).dump());
    auto foreign = dir->load();
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.error().message.find("belongs to \"db\""), std::string::npos);

    ASSERT_EQ(::unlink((dir->path() + "/state.json").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/hostname", (dir->path() + "/state.json").c_str()), 0);
    EXPECT_FALSE(dir->load());  // never read through a symlink
}

TEST_F(StoreTest, OpenOfAMissingContainer) {
    auto dir = root->open("nope", Lock::Exclusive);
    ASSERT_FALSE(dir);
    EXPECT_EQ(dir.error().err, ENOENT);
    EXPECT_EQ(dir.error().message, "container \"nope\" does not exist");
    EXPECT_EQ(dir.error().what(), "container \"nope\" does not exist: no such file or directory");
    // A symlink in the root is not a container.
    make_container("real");
    ASSERT_EQ(::symlink("real", (root->path() + "/alias").c_str()), 0);
    EXPECT_FALSE(root->open("alias", Lock::None));
}

TEST_F(StoreTest, ExecFifo) {
    auto dir = root->create("web");
    ASSERT_TRUE(dir);
    auto fifo = dir->create_exec_fifo(::geteuid(), ::getegid());
    ASSERT_TRUE(fifo) << fifo.error().what();
    EXPECT_EQ(*fifo, dir->path() + "/exec.fifo");
    struct stat st{};
    ASSERT_EQ(::lstat(fifo->c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0622u);
    auto again = dir->create_exec_fifo(::geteuid(), ::getegid());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().err, EEXIST);
    if (::geteuid() == 0) {
        ASSERT_EQ(::unlink(fifo->c_str()), 0);
        ASSERT_TRUE(dir->create_exec_fifo(1000, 1001));
        ASSERT_EQ(::lstat(fifo->c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 1000u);
        EXPECT_EQ(st.st_gid, 1001u);
    }
}

// A reader that never locks must never see a partial state.json while a writer (holding the
// exclusive lock) replaces it 1000 times with contents of varying size.
TEST_F(StoreTest, ReadersNeverSeeAPartialStateFile) {
    make_container("web");
    constexpr int kWrites = 1000;
    pid_t writer = test::fork_child([&] {
        auto dir = root->open("web", Lock::Exclusive);
        if (!dir) return 2;
        for (int i = 0; i < kWrites; ++i) {
            ContainerState s = test::sample_state("web");
            const int pad = (i * 7919) % 20000;  // sizes from 0 to ~20 KB, in no order
            s.annotations["pad"] = std::string(static_cast<std::size_t>(pad), 'x');
            s.extra = {{"n", i}, {"pad", pad}};
            if (!dir->save(s)) return 3;
        }
        return 0;
    });
    ASSERT_GT(writer, 0);
    test::Reaper reaper{writer};

    auto reader = root->open("web", Lock::None);
    ASSERT_TRUE(reader);
    const std::string path = reader->path() + "/state.json";
    int reads = 0, raw_reads = 0;
    std::set<int> versions;
    int status = 0;
    for (;;) {
        pid_t done = ::waitpid(writer, &status, WNOHANG);
        ASSERT_GE(done, 0);
        if (done == writer) {
            reaper.pid = -1;
            break;
        }
        auto s = reader->load();
        ASSERT_TRUE(s) << "read " << reads << ": " << s.error().what();
        ++reads;
        if (s->extra.contains("n")) {
            versions.insert(s->extra["n"].get<int>());
            ASSERT_EQ(s->annotations.at("pad").size(), s->extra["pad"].get<std::size_t>());
        }
        // Also by path, as a tool reading the file directly would.
        std::string text = test::read_text(path);
        ASSERT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << text.size() << " bytes";
        ++raw_reads;
    }
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    auto last = reader->load();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->extra["n"], kWrites - 1);
    // The reads overlapped the writes (else the test proves nothing).
    EXPECT_GE(reads, 20);
    EXPECT_GE(versions.size(), 5u);
    EXPECT_TRUE(names_with_prefix(reader->path(), "state.json.tmp").empty());
}

TEST_F(StoreTest, ListIsSortedAndSkipsJunk) {
    for (const char* id : {"charlie", "alpha", "bravo"}) make_container(id);
    const std::string r = root->path();
    // Junk that list must skip.
    test::write_text(r + "/file", "not a container");
    ASSERT_EQ(::mkdir((r + "/nostate").c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((r + "/broken").c_str(), 0700), 0);
    test::write_text(r + "/broken/state.json", "{\"id\":");
    ASSERT_EQ(::mkdir((r + "/wrongid").c_str(), 0700), 0);
    test::write_text(r + "/wrongid/state.json", nlohmann::json(test::sample_state("alpha")).dump());
    ASSERT_EQ(::mkdir((r + "/badtype").c_str(), 0700), 0);
    test::write_text(r + "/badtype/state.json", R"({"id":"badtype","pid":"1"})");
    ASSERT_EQ(::symlink("alpha", (r + "/alias").c_str()), 0);
    ASSERT_EQ(::mkdir((r + "/@hrun-creating-abc").c_str(), 0700), 0);
    test::write_text(r + "/@hrun-creating-abc/state.json",
                     nlohmann::json(test::sample_state("@hrun-creating-abc")).dump());
    auto creating = root->create("delta");  // still being created: locked, no state.json
    ASSERT_TRUE(creating);

    auto list = root->list();
    ASSERT_TRUE(list) << list.error().what();
    std::vector<std::string> ids;
    for (const auto& c : *list) {
        ids.push_back(c.state.id);
        EXPECT_EQ(c.owner_uid, ::geteuid());
        EXPECT_EQ(c.state, test::sample_state(c.state.id));
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"alpha", "bravo", "charlie"}));
}

TEST_F(StoreTest, ListOfAnEmptyRoot) {
    auto list = root->list();
    ASSERT_TRUE(list);
    EXPECT_TRUE(list->empty());
    auto rows = list_rows(*root);
    ASSERT_TRUE(rows);
    EXPECT_TRUE(rows->empty());
}

TEST_F(StoreTest, ListRowsCarryStatusAndOwner) {
    ContainerState live = test::sample_state("live");
    live.pid = ::getpid();
    live.pid_start_time = *process_start_time(::getpid());
    live.exec_fifo.clear();
    auto dir = root->create("live");
    ASSERT_TRUE(dir);
    ASSERT_TRUE(dir->save(live));
    dir->release();
    ContainerState dead = test::sample_state("dead");
    dead.pid = 0;
    auto dd = root->create("dead");
    ASSERT_TRUE(dd);
    ASSERT_TRUE(dd->save(dead));
    dd->release();

    auto rows = list_rows(*root, [](const ContainerState&) -> Result<bool> { return false; });
    ASSERT_TRUE(rows) << rows.error().what();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].state.id, "dead");
    EXPECT_EQ((*rows)[0].status, ContainerStatus::Stopped);
    EXPECT_EQ((*rows)[1].state.id, "live");
    EXPECT_EQ((*rows)[1].status, ContainerStatus::Running);
    EXPECT_EQ((*rows)[1].owner, user_name(::geteuid()));

    // A container whose status cannot be read is left out, not fatal.
    auto failing = list_rows(*root, [](const ContainerState&) -> Result<bool> { return fail("", "no freezer", EIO); });
    ASSERT_TRUE(failing);
    ASSERT_EQ(failing->size(), 1u);
    EXPECT_EQ((*failing)[0].state.id, "dead");
}

}  // namespace
}  // namespace hrun::state
