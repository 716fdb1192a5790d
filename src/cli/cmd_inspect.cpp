// hrun inspect [--format table|json] [--pid PID] ID, hrun inspect --diff ID (ID|host),
// and hrun stats [--watch] [--interval S] [--format table|json] [ID...].
#include <cmath>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "inspect/inspect.hpp"
#include "inspect/stats.hpp"

namespace hrun::cli {

namespace {

struct InspectArgs {
    std::vector<std::string> ids;
    std::string format = "table";
    std::optional<pid_t> pid;
    bool diff = false;
};

// "host" names the host (pid 1) on the right of --diff.
Result<inspect::Report> report_of(const GlobalOptions& global, const std::string& id) {
    if (id == "host") return inspect::inspect_host();
    return inspect::inspect_container(global.root, id, std::nullopt);
}

Status run_inspect(const InspectArgs& a, const GlobalOptions& global) {
    const bool json = a.format == "json";
    if (a.diff) {
        if (a.ids.size() != 2) return fail("--diff", "needs two containers, or a container and \"host\"");
        if (a.pid) return fail("--pid", "cannot be used with --diff");
        const auto left = HRUN_TRY(report_of(global, a.ids[0]));
        const auto right = HRUN_TRY(report_of(global, a.ids[1]));
        const auto rows = inspect::diff_reports(left, right);
        if (json) std::cout << inspect::diff_json(left, right, rows).dump(2) << "\n";
        else std::cout << inspect::format_diff(left, right, rows);
        return ok();
    }
    if (a.ids.size() != 1) return fail("id", "inspect takes one container id (two with --diff)");
    if (a.ids[0] == "host") return fail("id", "\"host\" is only a name on the right of --diff");
    const auto report = HRUN_TRY(inspect::inspect_container(global.root, a.ids[0], a.pid));
    if (json) std::cout << inspect::report_json(report).dump(2) << "\n";
    else std::cout << inspect::format_report(report);
    return ok();
}

struct StatsArgs {
    std::vector<std::string> ids;
    std::string format = "table";
    bool watch = false;
    double interval_s = 1.0;
};

// One round: CPU % needs two readings `interval` apart. With --watch the screen is cleared and
// the table drawn again at the top (ANSI "erase display" then "cursor home"), as docker stats
// does; JSON is one array per line instead.
Status run_stats(const StatsArgs& a, std::chrono::milliseconds interval, const GlobalOptions& global) {
    do {
        const auto rows = HRUN_TRY(inspect::sample_stats(global.root, a.ids, interval));
        if (a.format == "json") {
            std::cout << inspect::stats_rows_json(rows).dump(a.watch ? -1 : 2) << std::endl;
        } else {
            if (a.watch) std::cout << "\033[2J\033[H";
            std::cout << inspect::format_stats_table(rows) << std::flush;
        }
        // Nothing to sample takes no time; wait between rounds anyway.
        if (a.watch && rows.empty()) std::this_thread::sleep_for(interval);
    } while (a.watch);
    return ok();
}

}  // namespace

void add_inspect_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto a = std::make_shared<InspectArgs>();
    CLI::App* cmd = app.add_subcommand("inspect", "show what isolates a running container, read from the kernel");
    cmd->add_option("id", a->ids, "container id (with --diff: two ids, or an id and \"host\")")->required();
    cmd->add_option("-f,--format", a->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_option("--pid", a->pid, "a process of the container, as a host pid (default: its init)");
    cmd->add_flag("--diff", a->diff, "compare namespaces, privileges and limits of two containers");
    cmd->callback([a, &global, &outcome] {
        if (global.parse_only) return;
        auto st = run_inspect(*a, global);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

void add_stats_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto a = std::make_shared<StatsArgs>();
    CLI::App* cmd = app.add_subcommand("stats", "resource usage of containers (memory, CPU %, pids, block I/O)");
    cmd->add_option("id", a->ids, "container ids (default: every container that is not stopped)");
    cmd->add_option("-f,--format", a->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    cmd->add_flag("-w,--watch", a->watch, "refresh in place until interrupted");
    cmd->add_option("-i,--interval", a->interval_s, "seconds between the two readings of CPU time, and between refreshes")
        ->check(CLI::Range(0.1, 3600.0))
        ->capture_default_str();
    cmd->callback([a, &global, &outcome] {
        // CLI::Range lets NaN through (no comparison with NaN is true), and converting NaN to
        // an integer is undefined: "--interval nan" would poll without pause.
        if (!(a->interval_s >= 0.1 && a->interval_s <= 3600.0)) {
            outcome.exit_code = report(Error{0, "--interval", "must be a number of seconds from 0.1 to 3600"});
            return;
        }
        const auto interval = std::chrono::milliseconds(std::lround(a->interval_s * 1000));
        if (global.parse_only) return;
        auto st = run_stats(*a, interval, global);
        outcome.exit_code = st ? 0 : report(st.error());
    });
}

}  // namespace hrun::cli
