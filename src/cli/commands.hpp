// The command line, runc-compatible: one file per command, each registering itself on the app.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "hrun/error.hpp"

namespace hrun::cli {

struct GlobalOptions {
    std::string root;        // state directory root
    std::string log_path;
    std::string log_format = "text";
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
    std::string policy;  // --policy: oci | hardened | strict; empty: policy::choose_policy's default
    std::string userns_remap;  // --userns-remap=USER[:GROUP] (policy/userns_remap.hpp)
    // How many fds from 3 up the caller left open, counted first thing in main, before hrun
    // opens anything: all that --preserve-fds may hand over.
    int inherited_fds = 0;
    // Commands stop once argv is turned into their request, before anything that reads or
    // changes the host (log file, state, bundle, containers): the command-line fuzzer's seam
    // (tests/fuzz/). Never set by hrun itself.
    bool parse_only = false;
};

// Set by the command that ran: the process exit code.
struct Outcome {
    int exit_code = 0;
};

void add_run_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_spec_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_create_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_start_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_delete_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_state_commands(CLI::App& app, const GlobalOptions& global, Outcome& outcome);  // state list ps
void add_exec_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_update_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_events_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_features_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_signal_commands(CLI::App& app, const GlobalOptions& global, Outcome& outcome);  // kill pause resume
void add_audit_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_inspect_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);
void add_stats_command(CLI::App& app, const GlobalOptions& global, Outcome& outcome);

// --preserve-fds N: fds 3..3+N-1 must have been open in the caller (global.inherited_fds), or the
// container would receive whatever hrun itself opened there (its state directory, a way out).
// Since they are open, none of hrun's own fds can land in that range.
Status check_preserved_fds(int n, const GlobalOptions& global);
// The fds from 3 up that are open, stopping at the first closed one (for inherited_fds).
int count_inherited_fds();
// The whole command line on `app`: global options, every command, the log set up once parsed.
void build_app(CLI::App& app, GlobalOptions& global, Outcome& outcome);

// Prints "hrun: <error>" on stderr (and to the log file when one is set); returns exit code 1.
int report(const Error& error);

}  // namespace hrun::cli
