// Fuzz target: hrun's whole command line (src/cli/) with fuzzed argv, every command parsed into
// its request (GlobalOptions::parse_only), stopping before anything that touches the host.
//
// Input: the arguments after "hrun", separated by newlines or NUL bytes (a corpus file is one
// argument per line). Help and usage errors are formatted as `hrun` would print them, into a
// buffer. A finding is an exception other than CLI11's ParseError escaping the parse (main()
// would report it as an internal error, but it is a bug all the same) or a sanitizer report.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "cli/commands.hpp"

namespace {

[[noreturn]] void finding(const std::string& what, const std::vector<std::string>& args) {
    std::string line = "hrun";
    for (const auto& a : args) line += " '" + a + "'";
    std::fprintf(stderr, "fuzz_cli: %s\n  argv: %s\n", what.c_str(), line.c_str());
    std::abort();
}

std::vector<std::string> split_args(const uint8_t* data, size_t size) {
    std::vector<std::string> args;
    std::string current;
    for (size_t i = 0; i < size; ++i) {
        const char c = static_cast<char>(data[i]);
        if (c == '\n' || c == '\0') {
            args.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) args.push_back(std::move(current));
    return args;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Options that CLI11 also reads from the environment: the input alone decides.
    ::unsetenv("HRUN_POLICY");
    ::unsetenv("HRUN_USERNS_REMAP");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<std::string> args = split_args(data, size);
    std::vector<char*> argv;
    std::string program = "hrun";
    argv.push_back(program.data());
    std::vector<std::string> storage = args;  // CLI11 takes char**; keep `args` for reports
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);

    using namespace hrun::cli;
    try {
        CLI::App app{"hrun: a minimal, hardened OCI container runtime", "hrun"};
        GlobalOptions global;
        global.parse_only = true;
        Outcome outcome;
        build_app(app, global, outcome);
        try {
            app.parse(static_cast<int>(argv.size() - 1), argv.data());
        } catch (const CLI::ParseError& e) {
            std::ostringstream out, err;
            (void)app.exit(e, out, err);
        }
    } catch (const std::exception& e) {
        finding(std::string("uncaught ") + typeid(e).name() + ": " + e.what(), args);
    } catch (...) {
        finding("uncaught exception of unknown type", args);
    }
    return 0;
}
