// hrun update [--resources FILE|-] [flags] ID, and hrun features.
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "cli/commands.hpp"
#include "lifecycle/lifecycle.hpp"
#include "linux/units.hpp"

namespace hrun::cli {

namespace {

struct UpdateArgs {
    std::string id;
    std::string resources_file;
    // Sizes as runc takes them: bytes with an optional unit (50M, 1.5GiB), or -1 for no limit.
    std::string memory, memory_swap, memory_reservation;
    std::optional<int64_t> cpu_quota, pids_limit;
    std::optional<uint64_t> cpu_shares, cpu_period;
    std::optional<uint16_t> blkio_weight;
    std::string cpuset_cpus, cpuset_mems;
};

// `parse_only`: the file (or stdin) is not read; the flags still make the request.
Result<spec::Resources> resources_from(const UpdateArgs& a, bool parse_only) {
    spec::Resources r;
    if (!a.resources_file.empty() && !parse_only) {
        std::stringstream text;
        if (a.resources_file == "-") {
            text << std::cin.rdbuf();
        } else {
            std::ifstream in(a.resources_file);
            if (!in) return fail("--resources", "cannot read \"" + a.resources_file + "\"", errno);
            text << in.rdbuf();
        }
        r = HRUN_TRY(lifecycle::parse_resources(text.str()));
    }
    // Flags override the file, as with runc.
    for (const auto& [text, flag, field] : {std::tuple{&a.memory, "--memory", &spec::MemoryResources::limit},
                                             std::tuple{&a.memory_swap, "--memory-swap", &spec::MemoryResources::swap},
                                             std::tuple{&a.memory_reservation, "--memory-reservation",
                                                        &spec::MemoryResources::reservation}}) {
        if (text->empty()) continue;
        auto& mem = r.memory ? *r.memory : r.memory.emplace();
        mem.*field = *text == "-1" ? -1 : HRUN_TRY(units::parse_ram_bytes(*text, flag));
    }
    if (a.cpu_shares || a.cpu_quota || a.cpu_period || !a.cpuset_cpus.empty() || !a.cpuset_mems.empty()) {
        auto& cpu = r.cpu ? *r.cpu : r.cpu.emplace();
        if (a.cpu_shares) cpu.shares = a.cpu_shares;
        if (a.cpu_quota) cpu.quota = a.cpu_quota;
        if (a.cpu_period) cpu.period = a.cpu_period;
        if (!a.cpuset_cpus.empty()) cpu.cpus = a.cpuset_cpus;
        if (!a.cpuset_mems.empty()) cpu.mems = a.cpuset_mems;
    }
    if (a.pids_limit) (r.pids ? *r.pids : r.pids.emplace()).limit = a.pids_limit;
    if (a.blkio_weight) (r.blockIO ? *r.blockIO : r.blockIO.emplace()).weight = a.blkio_weight;
    return r;
}

}  // namespace

void add_update_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto a = std::make_shared<UpdateArgs>();
    CLI::App* cmd = app.add_subcommand("update", "change the resource limits of a running container");
    cmd->add_option("id", a->id, "container id")->required();
    cmd->add_option("-r,--resources", a->resources_file, "linux.resources JSON file, or - for stdin");
    cmd->add_option("--memory", a->memory, "memory limit: bytes, or with a unit (k, m, g, t: 50M), -1 for none");
    cmd->add_option("--memory-swap", a->memory_swap, "memory plus swap limit, as --memory");
    cmd->add_option("--memory-reservation", a->memory_reservation, "memory soft limit, as --memory");
    cmd->add_option("--cpu-share,--cpu-shares", a->cpu_shares, "CPU shares (relative weight)");
    cmd->add_option("--cpu-quota", a->cpu_quota, "CPU CFS quota in microseconds");
    cmd->add_option("--cpu-period", a->cpu_period, "CPU CFS period in microseconds");
    cmd->add_option("--cpuset-cpus", a->cpuset_cpus, "CPUs the container may use");
    cmd->add_option("--cpuset-mems", a->cpuset_mems, "memory nodes the container may use");
    cmd->add_option("--pids-limit", a->pids_limit, "maximum number of processes");
    cmd->add_option("--blkio-weight", a->blkio_weight, "block IO weight (10-1000)");
    cmd->callback([a, &global, &outcome] {
        auto resources = resources_from(*a, global.parse_only);
        if (global.parse_only) return;
        auto st = resources ? lifecycle::update(global.root, a->id, *resources)
                            : Status(std::unexpected(resources.error()));
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

namespace {

// The stats interval: a Go duration as runc takes it ("5s", "100ms"; containerd passes
// --interval=Ns), or a bare number of seconds as hrun took it before.
Result<std::chrono::nanoseconds> events_interval(const std::string& text) {
    const bool seconds = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    const auto interval = HRUN_TRY(units::parse_duration(seconds ? text + "s" : text, "--interval"));
    if (interval <= std::chrono::nanoseconds(0))
        return fail("--interval", "must be greater than 0, got \"" + text + "\"");
    return interval;
}

}  // namespace

void add_events_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct Args {
        std::string id;
        bool stats = false;
        std::string interval = "5s";
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = app.add_subcommand("events", "resource usage and OOM events as JSON lines");
    cmd->add_option("id", a->id, "container id")->required();
    cmd->add_flag("--stats", a->stats, "print one stats event and exit");
    cmd->add_option("--interval", a->interval,
                    "time between stats events: a duration (1s, 100ms, 1m30s) or whole seconds")
        ->capture_default_str();
    cmd->callback([a, &global, &outcome] {
        auto interval = events_interval(a->interval);  // checked before parse_only returns: fuzzed
        if (!interval) {
            outcome.exit_code = report(interval.error());
            return;
        }
        if (global.parse_only) return;
        auto st = lifecycle::events(global.root, a->id, a->stats, *interval,
                                    [](const std::string& line) { std::cout << line << std::endl; });
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

void add_features_command(CLI::App& app, const GlobalOptions& global, Outcome&) {
    CLI::App* cmd = app.add_subcommand("features", "print what this hrun supports (JSON)");
    cmd->callback([&global] {
        if (global.parse_only) return;
        std::cout << lifecycle::features_json() << '\n';
    });
}

}  // namespace hrun::cli
