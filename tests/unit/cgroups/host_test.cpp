// Real cgroups on the machine running the tests (as root): limits are written where the plan
// says, hold against fork bombs, memory hogs and device access, and nothing is left behind.
//
// The tests name their cgroups "hrun-unit-<pid>-<test>", relative to the test process's own
// cgroups, and check after each test that no such directory remains in any hierarchy. They use
// whatever version enforces each controller, so the same tests run on v1, hybrid and v2 hosts;
// those that need a particular version skip elsewhere and say why.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "cgroups/cgroups.hpp"
#include "cgroups/fs.hpp"
#include "linux/procfs.hpp"

namespace hrun::cgroups {
namespace {

constexpr int64_t MiB = 1024 * 1024;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trimmed(const std::string& path) { return fs::trim(read_file(path)); }

bool exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

// A forked process that waits for go() before running its body, so the test can move it into
// a cgroup first. The body's return value is the exit code; it may report through report().
class Child {
public:
    explicit Child(const std::function<int(int report_fd)>& body) {
        int go[2], report[2];
        if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(report, O_CLOEXEC) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(go[1]);
            ::close(report[0]);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            char c;
            if (::read(go[0], &c, 1) != 1) ::_exit(120);
            ::_exit(body(report[1]));
        }
        ::close(go[0]);
        ::close(report[1]);
        go_.reset(go[1]);
        report_.reset(report[0]);
    }
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    bool go() { return ::write(go_.get(), "g", 1) == 1; }
    // Reads `size` bytes the child reported, waiting at most 10 s.
    bool report(void* data, std::size_t size) {
        pollfd p{report_.get(), POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) return false;
        return ::read(report_.get(), data, size) == static_cast<ssize_t>(size);
    }
    int wait() {
        int status = -1;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = 0;
        return status;
    }

private:
    pid_t pid_ = -1;
    UniqueFd go_, report_;
};

class HostCgroup : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
        auto proc = os::open_verified_procfs();
        ASSERT_TRUE(proc.has_value()) << proc.error().what();
        auto layout = detect_layout(proc->get());
        if (!layout) GTEST_SKIP() << "no usable cgroups: " << layout.error().what();
        layout_ = *layout;
        name_ = "hrun-unit-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name();
        // Grandchildren (fork bombs) are reparented to the test, which reaps them.
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    }

    void TearDown() override {
        if (layout_.hierarchies.empty()) return;
        for (const std::string& dir : leftovers()) {
            ADD_FAILURE() << "left behind: " << dir;
            if (auto cg = Cgroup::open(layout_, {dir})) cg->destroy();
        }
        reap_all();
    }

    // Skips the test unless every controller is available on this host.
    bool have(std::initializer_list<const char*> controllers) {
        for (const char* c : controllers)
            if (!layout_.find(c)) {
                missing_ = c;
                return false;
            }
        return true;
    }

    Placement placement(const Layout& layout) {
        PathOptions o;
        o.cgroups_path = name_;
        o.container_id = "unused";
        auto p = resolve_placement(layout, o);
        EXPECT_TRUE(p.has_value()) << p.error().what();
        return p ? *p : Placement{};
    }
    Placement placement() { return placement(layout_); }

    std::vector<std::string> leftovers() {
        std::vector<std::string> left;
        for (const std::string& dir : placement().directories)
            if (exists(dir)) left.push_back(dir);
        return left;
    }

    Result<Cgroup> make(const spec::Resources& resources) {
        auto plan = plan_resources(resources, layout_, PlanOptions{});
        if (!plan) return std::unexpected(plan.error());
        return Cgroup::create(layout_, placement(), *plan);
    }

    // The file `file` of the controller's leaf directory.
    std::string leaf_file(const Cgroup& cg, const char* controller, const std::string& file) {
        const auto i = layout_.find(controller);
        return i ? trimmed(cg.directories()[*i] + "/" + file) : std::string("<no ") + controller + ">";
    }
    int version(const char* controller) {
        const auto i = layout_.find(controller);
        return i ? layout_.hierarchies[*i].version : 0;
    }

    // This host's cgroup2 hierarchy alone, standing for a v2-only host. Its controllers are
    // left out so that nothing is enabled in the host's root cgroup.subtree_control.
    Layout v2_only() const {
        Layout v2;
        v2.mode = Mode::Unified;
        v2.hierarchies.push_back(layout_.hierarchies[*layout_.unified()]);
        v2.hierarchies[0].controllers.clear();
        return v2;
    }
    // This host's v1 hierarchies alone, standing for a legacy host.
    Layout without_v2() const {
        Layout v1;
        v1.mode = Mode::Legacy;
        for (const Hierarchy& h : layout_.hierarchies)
            if (h.version == 1) v1.hierarchies.push_back(h);
        return v1;
    }

    void freeze_and_thaw(const Layout& layout);
    void kill_everything(const Layout& layout, int n);

    static void reap_all() {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    }

    Layout layout_;
    std::string name_;
    std::string missing_;
};

#define REQUIRE_CONTROLLERS(...)                                                                   \
    do {                                                                                           \
        if (!have({__VA_ARGS__}))                                                                  \
            GTEST_SKIP() << "the " << missing_ << " controller is not available on this host ("    \
                         << mode_name(layout_.mode) << ")";                                        \
    } while (0)

spec::Resources limits() {
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 32 * MiB;
    r.cpu = spec::CpuResources{};
    r.cpu->quota = 20000;
    r.cpu->period = 100000;
    r.cpu->shares = 512;
    r.pids = spec::PidsResources{32};
    r.devices.push_back({false, "a", std::nullopt, std::nullopt, "rwm"});
    r.devices.push_back({true, "c", 1, 11, "r"});
    return r;
}

TEST_F(HostCgroup, LimitsAreWrittenAndTheChildJoinsEveryHierarchy) {
    REQUIRE_CONTROLLERS("memory", "pids", "cpu");
    auto cg = make(limits());
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    const Placement where = placement();
    for (const std::string& dir : where.directories) EXPECT_TRUE(exists(dir)) << dir;

    // Memory used after joining is charged to the container (v1 does not move earlier charges).
    Child child([](int report) {
        const std::size_t size = 4 * MiB;
        auto* p = static_cast<char*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) return 2;
        std::memset(p, 1, size);
        if (::write(report, "r", 1) != 1) return 3;
        return ::pause();
    });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    char ready;
    ASSERT_TRUE(child.report(&ready, 1));
    // /proc/<pid>/cgroup shows the container's path in every hierarchy.
    auto entries = parse_proc_cgroup(read_file("/proc/" + std::to_string(child.pid()) + "/cgroup"));
    ASSERT_TRUE(entries.has_value());
    for (std::size_t i = 0; i < layout_.hierarchies.size(); ++i) {
        const Hierarchy& h = layout_.hierarchies[i];
        auto sorted = [](std::vector<std::string> v) {
            std::sort(v.begin(), v.end());
            return v;
        };
        const auto entry = std::find_if(entries->begin(), entries->end(), [&](const ProcCgroup& e) {
            return h.version == 2 ? e.id == 0 : sorted(e.controllers) == sorted(h.controllers);
        });
        ASSERT_NE(entry, entries->end()) << h.mount_point;
        EXPECT_EQ(entry->path, where.paths[i]) << h.mount_point;
    }

    if (version("memory") == 1) {
        EXPECT_EQ(leaf_file(*cg, "memory", "memory.limit_in_bytes"), "33554432");
    } else {
        EXPECT_EQ(leaf_file(*cg, "memory", "memory.max"), "33554432");
    }
    EXPECT_EQ(leaf_file(*cg, "pids", "pids.max"), "32");
    if (version("cpu") == 1) {
        EXPECT_EQ(leaf_file(*cg, "cpu", "cpu.cfs_quota_us"), "20000");
        EXPECT_EQ(leaf_file(*cg, "cpu", "cpu.cfs_period_us"), "100000");
        EXPECT_EQ(leaf_file(*cg, "cpu", "cpu.shares"), "512");
    } else {
        EXPECT_EQ(leaf_file(*cg, "cpu", "cpu.max"), "20000 100000");
        EXPECT_EQ(leaf_file(*cg, "cpu", "cpu.weight"), std::to_string(cpu_weight_from_shares(512)));  // 59
    }
    if (auto d = layout_.find("devices")) {
        const std::string list = read_file(cg->directories()[*d] + "/devices.list");
        EXPECT_NE(list.find("c 1:11 r\n"), std::string::npos) << list;
        EXPECT_NE(list.find("c 1:3 rwm\n"), std::string::npos) << list;
        EXPECT_NE(list.find("c 136:* rwm\n"), std::string::npos) << list;
        EXPECT_EQ(list.find("a *:* rwm"), std::string::npos) << list;
    }

    auto pids = cg->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
    auto stats = cg->stats();
    ASSERT_TRUE(stats.has_value()) << stats.error().what();
    EXPECT_EQ(stats->memory_limit, uint64_t(32 * MiB));
    EXPECT_EQ(stats->pids_limit, 32u);
    EXPECT_EQ(stats->pids_current, 1u);
    EXPECT_GE(stats->memory_usage.value_or(0), uint64_t(4 * MiB));
    EXPECT_GT(stats->cpu_usage_ns.value_or(0), 0u);

    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(WIFSIGNALED(child.wait()));
    EXPECT_TRUE(leftovers().empty());
}

TEST_F(HostCgroup, ForkBombIsContainedByPidsMax) {
    REQUIRE_CONTROLLERS("pids");
    spec::Resources r;
    r.pids = spec::PidsResources{16};
    auto cg = make(r);
    ASSERT_TRUE(cg.has_value()) << cg.error().what();

    struct Report {
        int forked;
        int err;
    };
    Child child([](int report) {
        Report rep{0, 0};
        for (int i = 0; i < 200; ++i) {
            const pid_t p = ::fork();
            if (p == 0) {
                ::pause();
                ::_exit(0);
            }
            if (p < 0) {
                rep.err = errno;
                break;
            }
            ++rep.forked;
        }
        if (::write(report, &rep, sizeof rep) != sizeof rep) return 1;
        return ::pause();
    });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    Report rep{};
    ASSERT_TRUE(child.report(&rep, sizeof rep));
    EXPECT_EQ(rep.err, EAGAIN);
    EXPECT_EQ(rep.forked, 15);  // the bomb itself is the 16th task

    auto pids = cg->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(pids->size(), 16u);
    ASSERT_TRUE(cg->kill_all().has_value());
    pids = cg->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_TRUE(pids->empty());
    EXPECT_TRUE(WIFSIGNALED(child.wait()));
    reap_all();
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

TEST_F(HostCgroup, MemoryHogIsOomKilled) {
    REQUIRE_CONTROLLERS("memory");
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 32 * MiB;
    r.memory->swap = 32 * MiB;  // no swap either, where swap is accounted
    auto cg = make(r);
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    auto before = cg->oom_kills();
    ASSERT_TRUE(before.has_value()) << before.error().what();
    EXPECT_EQ(*before, 0u);

    Child child([](int) {
        const std::size_t size = 128 * MiB;
        auto* p = static_cast<volatile char*>(::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) return 2;
        for (std::size_t i = 0; i < size; i += 4096) p[i] = 1;
        return 0;  // survived: the limit did not hold
    });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status;
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    auto after = cg->oom_kills();
    ASSERT_TRUE(after.has_value());
    EXPECT_GE(*after, 1u);
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

// Freezes a spinning child in a cgroup made with `layout` and checks it stops, then resumes.
void HostCgroup::freeze_and_thaw(const Layout& layout) {
    auto plan = plan_resources(spec::Resources{}, layout, PlanOptions{});
    ASSERT_TRUE(plan.has_value()) << plan.error().what();
    auto cg = Cgroup::create(layout, placement(layout), *plan);
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    auto* counter = static_cast<volatile uint64_t*>(
        ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(counter, MAP_FAILED);
    Child child([counter](int) {
        for (;;) *counter = *counter + 1;
        return 0;
    });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    while (*counter == 0) fs::sleep_ms(1);

    auto frozen = cg->freeze();
    ASSERT_TRUE(frozen.has_value()) << frozen.error().what();
    if (auto f = layout.find("freezer"); f && layout.hierarchies[*f].version == 1) {
        EXPECT_EQ(trimmed(cg->directories()[*f] + "/freezer.state"), "FROZEN");
    } else if (auto u = layout.unified()) {
        EXPECT_NE(read_file(cg->directories()[*u] + "/cgroup.events").find("frozen 1"), std::string::npos);
    }
    const uint64_t stopped = *counter;
    fs::sleep_ms(100);
    EXPECT_EQ(*counter, stopped);

    ASSERT_TRUE(cg->thaw().has_value());
    fs::sleep_ms(100);
    EXPECT_GT(*counter, stopped);
    auto stats = cg->stats();
    ASSERT_TRUE(stats.has_value());
    if (layout.find("cpuacct") || layout.mode == Mode::Unified) {
        EXPECT_GT(stats->cpu_usage_ns.value_or(0), 10'000'000u);  // it spun for 100 ms (on a shared CPU)
    }

    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(WIFSIGNALED(child.wait()));
    ::munmap(const_cast<uint64_t*>(counter), 4096);
    EXPECT_TRUE(leftovers().empty());
}

// Forks `n` sleeping children into a cgroup made with `layout`, then kill_all() must leave it
// empty (through cgroup.kill on v2, through freeze + SIGKILL + thaw otherwise).
void HostCgroup::kill_everything(const Layout& layout, int n) {
    auto plan = plan_resources(spec::Resources{}, layout, PlanOptions{});
    ASSERT_TRUE(plan.has_value()) << plan.error().what();
    auto cg = Cgroup::create(layout, placement(layout), *plan);
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    Child child([n](int report) {
        for (int i = 0; i < n; ++i)
            if (::fork() == 0) {
                ::pause();
                ::_exit(0);
            }
        if (::write(report, "r", 1) != 1) return 1;
        return ::pause();
    });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    char ready;
    ASSERT_TRUE(child.report(&ready, 1));
    auto pids = cg->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(pids->size(), static_cast<std::size_t>(n + 1));

    auto killed = cg->kill_all();
    ASSERT_TRUE(killed.has_value()) << killed.error().what();
    pids = cg->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_TRUE(pids->empty());
    EXPECT_TRUE(WIFSIGNALED(child.wait()));
    reap_all();
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

TEST_F(HostCgroup, FreezeStopsTheProcessesAndThawResumesThem) {
    if (!layout_.find("freezer") && !layout_.unified()) GTEST_SKIP() << "no freezer on this host";
    freeze_and_thaw(layout_);
}

TEST_F(HostCgroup, FreezeAndThawThroughCgroupFreezeOnCgroup2) {
    if (!layout_.unified()) GTEST_SKIP() << "no cgroup2 mount on this host";
    freeze_and_thaw(v2_only());
}

TEST_F(HostCgroup, KillAllThroughCgroupKillOnCgroup2) {
    if (!layout_.unified()) GTEST_SKIP() << "no cgroup2 mount on this host";
    kill_everything(v2_only(), 6);
}

TEST_F(HostCgroup, KillAllByFreezingAndSignallingOnV1) {
    const Layout v1 = without_v2();
    if (v1.hierarchies.empty()) GTEST_SKIP() << "no cgroup v1 hierarchy on this host";
    if (!v1.find("freezer")) GTEST_SKIP() << "no v1 freezer on this host";
    kill_everything(v1, 6);
}

TEST_F(HostCgroup, UpdateRaisesAndLowersLimits) {
    REQUIRE_CONTROLLERS("memory", "pids");
    spec::Resources r;
    r.memory = spec::MemoryResources{};
    r.memory->limit = 32 * MiB;
    r.memory->swap = 32 * MiB;
    r.pids = spec::PidsResources{32};
    auto cg = make(r);
    ASSERT_TRUE(cg.has_value()) << cg.error().what();

    // Raising memory+swap requires writing memsw before the limit on v1; lowering, the reverse.
    for (int64_t mib : {64, 16}) {
        spec::Resources u;
        u.memory = spec::MemoryResources{};
        u.memory->limit = mib * MiB;
        u.memory->swap = mib * MiB;
        u.pids = spec::PidsResources{mib};
        auto updated = cg->update(u);
        ASSERT_TRUE(updated.has_value()) << updated.error().what();
        auto stats = cg->stats();
        ASSERT_TRUE(stats.has_value());
        EXPECT_EQ(stats->memory_limit, uint64_t(mib * MiB));
        EXPECT_EQ(stats->pids_limit, uint64_t(mib));
        const bool memsw = exists(cg->directories()[*layout_.find("memory")] + "/memory.memsw.limit_in_bytes");
        if (version("memory") == 1 && memsw) {
            EXPECT_EQ(leaf_file(*cg, "memory", "memory.memsw.limit_in_bytes"), std::to_string(mib * MiB));
        }
    }
    // Device rules are left alone by an update without rules.
    if (auto d = layout_.find("devices"); d && layout_.hierarchies[*d].version == 1) {
        const std::string before = read_file(cg->directories()[*d] + "/devices.list");
        spec::Resources u;
        u.pids = spec::PidsResources{8};
        ASSERT_TRUE(cg->update(u).has_value());
        EXPECT_EQ(read_file(cg->directories()[*d] + "/devices.list"), before);
    }
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

// Makes character device nodes in a temporary directory and removes them again.
class DeviceNodes {
public:
    // Under /dev: /tmp is often a nodev tmpfs (systemd's tmp.mount, the VM lane), where every
    // device node fails to open whatever the cgroup says; devtmpfs never is.
    DeviceNodes() {
        char tmpl[] = "/dev/hrun-unit-dev-XXXXXX";
        if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
    }
    ~DeviceNodes() {
        for (const std::string& n : nodes_) ::unlink(n.c_str());
        ::unlink((dir_ + "/made-inside").c_str());
        if (!dir_.empty()) ::rmdir(dir_.c_str());
    }
    std::string make(const char* name, unsigned major, unsigned minor) {
        const std::string path = dir_ + "/" + name;
        if (::mknod(path.c_str(), S_IFCHR | 0666, makedev(major, minor)) != 0) return {};
        nodes_.push_back(path);
        return path;
    }
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    std::vector<std::string> nodes_;
};

// Exit codes of the device probe child: 0 = as expected.
// `unlisted` is a node no rule names (240:0, a major without a driver: ENXIO when allowed).
int probe_devices(const char* denied, const char* allowed, const char* made_inside, const char* unlisted) {
    int fd = ::open(denied, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EPERM) return 10;
    fd = ::open(unlisted, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd >= 0 || errno != EPERM) return 14;
    fd = ::open(allowed, O_RDWR | O_CLOEXEC);
    if (fd < 0) return 11;
    ::close(fd);
    // mknod of any device stays allowed (a default rule), opening it does not.
    if (::mknod(made_inside, S_IFCHR | 0600, makedev(1, 11)) != 0) return 12;
    fd = ::open(made_inside, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EPERM) return 13;
    return 0;
}

spec::Resources device_denials() {
    spec::Resources r;
    // /dev/kmsg (1:11) denied and not among the defaults; /dev/null (1:3) denied too, but the
    // default rules come after the config's and allow it again, as with runc.
    r.devices.push_back({false, "c", 1, 11, "rw"});
    r.devices.push_back({false, "c", 1, 3, "rw"});
    return r;
}

TEST_F(HostCgroup, DeniedDeviceCannotBeOpened) {
    if (!layout_.find("devices") && !layout_.unified())
        GTEST_SKIP() << "neither a devices controller nor cgroup v2 on this host";
    DeviceNodes nodes;
    const std::string kmsg = nodes.make("kmsg", 1, 11), null = nodes.make("null", 1, 3);
    const std::string unlisted = nodes.make("unlisted", 240, 0);
    ASSERT_FALSE(kmsg.empty() || null.empty() || unlisted.empty())
        << "mknod in " << nodes.dir() << ": " << std::strerror(errno);
    const std::string inside = nodes.dir() + "/made-inside";

    // Outside the cgroup the denied device opens and the unlisted one has no driver.
    int fd = ::open(kmsg.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    ::close(fd);
    fd = ::open(unlisted.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ASSERT_TRUE(fd >= 0 || err != EPERM);

    auto cg = make(device_denials());
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    Child child([&](int) { return probe_devices(kmsg.c_str(), null.c_str(), inside.c_str(), unlisted.c_str()); });
    ASSERT_TRUE(cg->attach(child.pid()).has_value());
    ASSERT_TRUE(child.go());
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

// The v2 device filter (a BPF program) and CLONE_INTO_CGROUP work on any cgroup2 hierarchy, so
// they are tested on this host's even when it carries no controllers: a layout made of the
// cgroup2 hierarchy alone, with no controller to enable, stands for a v2-only host.
TEST_F(HostCgroup, BpfDeviceFilterAndCloneIntoCgroupOnCgroup2) {
    const auto u = layout_.unified();
    if (!u) GTEST_SKIP() << "no cgroup2 mount on this host";
    const Layout v2 = v2_only();
    auto plan = plan_resources(device_denials(), v2, PlanOptions{});
    ASSERT_TRUE(plan.has_value()) << plan.error().what();
    ASSERT_TRUE(plan->bpf_devices.has_value());
    const Placement where = placement(v2);
    auto cg = Cgroup::create(v2, where, *plan);
    if (!cg && cg.error().err == EPERM) GTEST_SKIP() << "BPF is not permitted here: " << cg.error().what();
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    ASSERT_GE(cg->clone_into_fd(), 0);

    DeviceNodes nodes;
    const std::string kmsg = nodes.make("kmsg", 1, 11), null = nodes.make("null", 1, 3);
    const std::string unlisted = nodes.make("unlisted", 240, 0);
    ASSERT_FALSE(kmsg.empty() || null.empty() || unlisted.empty());
    const std::string inside = nodes.dir() + "/made-inside";
    const std::string expected_line = "0::" + where.paths[0] + "\n";

    clone_args args;
    std::memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cg->clone_into_fd());
    const long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        // In the cgroup from the first instruction: no attach step.
        char buf[512] = {};
        int fd = ::open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
        const ssize_t n = fd >= 0 ? ::read(fd, buf, sizeof buf - 1) : -1;
        if (n <= 0 || std::strstr(buf, expected_line.c_str()) == nullptr) ::_exit(20);
        ::_exit(probe_devices(kmsg.c_str(), null.c_str(), inside.c_str(), unlisted.c_str()));
    }
    ASSERT_GT(pid, 0) << std::strerror(errno);
    int status = 0;
    ::waitpid(static_cast<pid_t>(pid), &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);

    // The program can be replaced (update with new rules): now kmsg may be read.
    spec::Resources allow;
    allow.devices.push_back({true, "c", 1, 11, "r"});
    ASSERT_TRUE(cg->update(allow).has_value());
    Child reader([&](int) {
        int fd = ::open(kmsg.c_str(), O_RDONLY | O_CLOEXEC);
        return fd >= 0 ? 0 : 30;
    });
    ASSERT_TRUE(cg->attach(reader.pid()).has_value());
    ASSERT_TRUE(reader.go());
    status = reader.wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);

    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_FALSE(exists(where.directories[0]));
}

TEST_F(HostCgroup, FailedCreationLeavesNothingBehind) {
    REQUIRE_CONTROLLERS("memory");
    Plan plan;
    Write w;
    w.hierarchy = *layout_.find("memory");
    w.controller = "memory";
    w.file = "memory.no_such_file";
    w.value = "1";
    w.field = "linux.resources.memory.limit";
    plan.writes.push_back(w);
    auto cg = Cgroup::create(layout_, placement(), plan);
    ASSERT_FALSE(cg.has_value());
    EXPECT_EQ(cg.error().field, "linux.resources.memory.limit");
    EXPECT_NE(cg.error().message.find("memory.no_such_file"), std::string::npos);
    EXPECT_TRUE(leftovers().empty());
}

TEST_F(HostCgroup, AnOccupiedCgroupIsNotTakenOverAndReopeningFindsTheProcesses) {
    REQUIRE_CONTROLLERS("pids");
    auto first = make(spec::Resources{});
    ASSERT_TRUE(first.has_value()) << first.error().what();
    Child child([](int) { return ::pause(); });
    ASSERT_TRUE(first->attach(child.pid()).has_value());

    auto second = make(spec::Resources{});
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error().err, EBUSY);
    for (const std::string& dir : first->directories()) EXPECT_TRUE(exists(dir)) << dir;

    // A later command reopens the cgroup from the saved directories.
    first->release();
    auto again = Cgroup::open(layout_, first->directories());
    ASSERT_TRUE(again.has_value()) << again.error().what();
    auto pids = again->pids();
    ASSERT_TRUE(pids.has_value());
    EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});
    ASSERT_TRUE(again->destroy().has_value());
    EXPECT_TRUE(WIFSIGNALED(child.wait()));
    EXPECT_TRUE(leftovers().empty());
    EXPECT_FALSE(Cgroup::open(layout_, first->directories()).has_value());
}

TEST_F(HostCgroup, V2ControllersEnforceMemoryAndPids) {
    const auto m = layout_.find("memory"), p = layout_.find("pids");
    if (!m || !p || layout_.hierarchies[*m].version != 2 || layout_.hierarchies[*p].version != 2)
        GTEST_SKIP() << "memory and pids are not cgroup v2 controllers on this host ("
                     << mode_name(layout_.mode) << "); the cgroup v2 lane runs this test";
    auto cg = make(limits());
    ASSERT_TRUE(cg.has_value()) << cg.error().what();
    EXPECT_EQ(leaf_file(*cg, "memory", "memory.max"), "33554432");
    EXPECT_EQ(leaf_file(*cg, "pids", "pids.max"), "32");
    const std::string parent = cg->directories()[*m].substr(0, cg->directories()[*m].rfind('/'));
    const std::string enabled = read_file(parent + "/cgroup.subtree_control");
    EXPECT_NE(enabled.find("memory"), std::string::npos) << enabled;
    EXPECT_NE(enabled.find("pids"), std::string::npos) << enabled;
    if (layout_.mode == Mode::Unified) {
        EXPECT_GE(cg->clone_into_fd(), 0);
    }
    ASSERT_TRUE(cg->destroy().has_value());
    EXPECT_TRUE(leftovers().empty());
}

}  // namespace
}  // namespace hrun::cgroups
