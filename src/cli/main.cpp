// hrun's entry point: argv parsed and the command run (app.cpp), with nothing thrown past main.
#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

#include "cli/commands.hpp"
#include "linux/sealed_exe.hpp"

namespace hrun::cli {

namespace {

// "std::invalid_argument" rather than "St16invalid_argument".
std::string type_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                std::free);
    return status == 0 && name ? name.get() : type.name();
}

// The command that was running, to say where the error came from ("exec: ").
std::string command_prefix(const CLI::App& app) {
    std::string out;
    for (const CLI::App* sub : app.get_subcommands()) out += sub->get_name() + ": ";
    return out;
}

}  // namespace

}  // namespace hrun::cli

int main(int argc, char** argv) {
    using namespace hrun::cli;
    GlobalOptions global;
    global.inherited_fds = count_inherited_fds();  // before anything is opened
    hrun::os::remember_invocation(argv);  // `exec`, and `run` in a shared pid namespace, re-exec sealed

    CLI::App app{"hrun: a minimal, hardened OCI container runtime", "hrun"};
    Outcome outcome;
    // An exception escaping a command is a bug, but it must not abort (exit 134, a core dump,
    // nothing said about what was wrong): it is reported like any error, with a non-zero exit.
    try {
        build_app(app, global, outcome);
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        return report(hrun::Error{0, "", command_prefix(app) + "internal error: " +
                                              type_name(typeid(e)) + ": " + e.what()});
    } catch (...) {
        return report(hrun::Error{0, "", command_prefix(app) + "internal error: unknown exception"});
    }
    return outcome.exit_code;
}
