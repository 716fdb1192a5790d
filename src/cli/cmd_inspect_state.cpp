// hrun state ID, hrun list, hrun ps ID, hrun kill, hrun pause/resume.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.hpp"
#include "lifecycle/lifecycle.hpp"

namespace hrun::cli {

namespace {

void print(const std::string& text, bool newline = true) {
    if (text.empty()) return;
    std::cout << text;
    if (newline && (text.empty() || text.back() != '\n')) std::cout << '\n';
    std::cout.flush();
}

// `ps` with runc's behaviour: the host's `ps` output (default -ef), only the container's rows.
Result<std::string> ps_table(const std::vector<pid_t>& pids, std::vector<std::string> ps_args) {
    if (ps_args.empty()) ps_args = {"-ef"};
    std::string cmd = "ps";
    for (const auto& a : ps_args) {
        if (a.find_first_of("'\\") != std::string::npos) return fail("", "unsupported ps argument");
        cmd += " '" + a + "'";
    }
    FILE* p = ::popen(cmd.c_str(), "re");
    if (!p) return fail_errno("cannot run ps");
    std::string out, line;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    if (status != 0) return fail("", "ps failed: " + out);
    std::istringstream lines(out);
    std::string result;
    std::getline(lines, line);
    std::istringstream header(line);
    int pid_column = -1;
    std::string word;
    for (int i = 0; header >> word; ++i)
        if (word == "PID") pid_column = i;
    if (pid_column < 0) return fail("", "ps output has no PID column");
    result = line + "\n";
    std::set<pid_t> wanted(pids.begin(), pids.end());
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        for (int i = 0; fields >> word; ++i) {
            if (i != pid_column) continue;
            if (wanted.count(std::atoi(word.c_str()))) result += line + "\n";
            break;
        }
    }
    return result;
}

}  // namespace

void add_state_commands(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    auto id = std::make_shared<std::string>();
    CLI::App* state = app.add_subcommand("state", "print a container's state as JSON");
    state->add_option("id", *id, "container id")->required();
    state->callback([id, &global, &outcome] {
        if (global.parse_only) return;
        auto text = lifecycle::state_json(global.root, *id);
        if (text) print(*text);
        outcome.exit_code = text ? 0 : report(text.error());
    });

    struct ListArgs {
        std::string format = "table";
        bool quiet = false;
    };
    auto largs = std::make_shared<ListArgs>();
    CLI::App* list = app.add_subcommand("list", "list containers");
    list->alias("ls");
    list->add_option("-f,--format", largs->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    list->add_flag("-q,--quiet", largs->quiet, "ids only");
    list->callback([largs, &global, &outcome] {
        auto format = largs->quiet ? lifecycle::ListFormat::Quiet
                      : largs->format == "json" ? lifecycle::ListFormat::Json
                                                : lifecycle::ListFormat::Table;
        if (global.parse_only) return;
        auto text = lifecycle::list(global.root, format);
        if (text) print(*text, format != lifecycle::ListFormat::Table || !text->empty());
        outcome.exit_code = text ? 0 : report(text.error());
    });

    struct PsArgs {
        std::string id;
        std::string format = "table";
        std::vector<std::string> ps_args;
    };
    auto pargs = std::make_shared<PsArgs>();
    CLI::App* ps = app.add_subcommand("ps", "list the processes of a container");
    ps->add_option("id", pargs->id, "container id")->required();
    ps->add_option("-f,--format", pargs->format, "table or json")
        ->check(CLI::IsMember({"table", "json"}));
    // As runc: what follows the id is ps's (`hrun ps ID -e -x`, `-o pid,comm`; default -ef),
    // handed over in order. Options hrun does not know are kept for ps; from the first word that
    // is not an option on, everything is ps's.
    ps->prefix_command();
    ps->footer("After the id: arguments for ps (default -ef), e.g. hrun ps ID -e -x");
    ps->callback([pargs, ps, &global, &outcome] {
        pargs->ps_args = ps->remaining();
        if (global.parse_only) return;
        auto pids = lifecycle::processes(global.root, pargs->id);
        if (!pids) {
            outcome.exit_code = report(pids.error());
            return;
        }
        if (pargs->format == "json") {
            std::string out = "[";
            for (std::size_t i = 0; i < pids->size(); ++i)
                out += (i ? "," : "") + std::to_string((*pids)[i]);
            print(out + "]");
            return;
        }
        auto table = ps_table(*pids, pargs->ps_args);
        if (table) print(*table, false);
        outcome.exit_code = table ? 0 : report(table.error());
    });
}

void add_signal_commands(CLI::App& app, const GlobalOptions& global, Outcome& outcome) {
    struct KillArgs {
        std::string id;
        std::string signal = "SIGTERM";
        bool all = false;
    };
    auto kargs = std::make_shared<KillArgs>();
    CLI::App* kill = app.add_subcommand("kill", "send a signal to a container's process");
    kill->add_option("id", kargs->id, "container id")->required();
    kill->add_option("signal", kargs->signal, "signal name or number (default SIGTERM)");
    kill->add_flag("-a,--all", kargs->all, "signal every process in the container");
    kill->callback([kargs, &global, &outcome] {
        auto sig = lifecycle::parse_signal(kargs->signal);
        if (global.parse_only) return;
        auto st = sig ? lifecycle::kill(global.root, kargs->id, *sig, kargs->all)
                      : Status(std::unexpected(sig.error()));
        outcome.exit_code = st ? 0 : report(st.error());
    });

    for (bool pausing : {true, false}) {
        auto id = std::make_shared<std::string>();
        CLI::App* cmd = app.add_subcommand(pausing ? "pause" : "resume",
                                           pausing ? "freeze every process of a container"
                                                   : "thaw a paused container");
        cmd->add_option("id", *id, "container id")->required();
        cmd->callback([id, pausing, &global, &outcome] {
            if (global.parse_only) return;
            auto st = pausing ? lifecycle::pause(global.root, *id) : lifecycle::resume(global.root, *id);
            outcome.exit_code = st ? 0 : report(st.error());
        });
    }
}

}  // namespace hrun::cli
