// Runs the commands of one lab (docs/labs/*.md) and checks their output, so the labs keep
// saying what hrun really does.
//
//   lab_runner --hrun BUILD/hrun --source REPO LAB.md
//
// The commands run in order in one bash process (so `cd`, variables and functions carry over),
// as root, in a fresh temporary directory, with stdin from /dev/null. `hrun` on PATH is a small
// wrapper that adds `--root <tmp>/state` when root runs it: the lab's containers never meet the
// host's (another user's hrun keeps its $XDG_RUNTIME_DIR/hrun, which the lab cleans). $HRUN_SRC
// is the repository (for scripts/make-bundle.sh). Afterwards every container left in that root
// is deleted and the directory removed.
//
// Exit status: 0 when every command printed what the lab shows, 1 otherwise, 77 when the lab
// cannot run here (not root, or it needs an hrun command this build does not have).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lab_text.hpp"

namespace fs = std::filesystem;
using hrun::labs::Lab;
using hrun::labs::Step;

namespace {

constexpr int kSkip = 77;
constexpr auto kLabTimeout = std::chrono::minutes(4);

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, const std::string& text, fs::perms perms = fs::perms::owner_read | fs::perms::owner_write) {
    std::ofstream(path) << text;
    fs::permissions(path, perms);
}

// Single quotes for the shell.
std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs argv, returns its exit status (stdout and stderr to /dev/null unless `show`).
int run_quiet(const std::vector<std::string>& argv, bool show = false) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (!show) {
            const int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 1);
            ::dup2(null, 2);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The script: each step's output and status go to files named after its index.
std::string make_script(const Lab& lab, const fs::path& out_dir) {
    std::string script = "exec </dev/null\n";
    for (std::size_t i = 0; i < lab.steps.size(); ++i) {
        const std::string base = quote((out_dir / std::to_string(i)).string());
        script += "{\n" + lab.steps[i].command + "\n} >" + base + ".out 2>&1\necho $? >" + base + ".rc\n";
    }
    return script;
}

// Runs bash on the script in its own process group; kills the group after the timeout.
bool run_script(const fs::path& script, const fs::path& work, const std::vector<std::string>& env) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::setpgid(0, 0);
        if (::chdir(work.c_str()) != 0) ::_exit(126);
        std::vector<char*> envp;
        for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
        const char* argv[] = {"/bin/bash", "--noprofile", "--norc", script.c_str(), nullptr};
        ::execve(argv[0], const_cast<char**>(argv), envp.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);
    const auto deadline = std::chrono::steady_clock::now() + kLabTimeout;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Whatever the lab left running in the background goes with it.
    ::kill(-pid, SIGKILL);
    return true;
}

void print_lines(const char* heading, const std::vector<std::string>& lines) {
    std::cout << "  " << heading << "\n";
    if (lines.empty()) std::cout << "    (nothing)\n";
    for (const auto& l : lines) std::cout << "    | " << l << "\n";
}

std::string first_line(const std::string& command) { return command.substr(0, command.find('\n')); }

}  // namespace

int main(int argc, char** argv) {
    std::string hrun, source, lab_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--hrun" && i + 1 < argc) hrun = argv[++i];
        else if (arg == "--source" && i + 1 < argc) source = argv[++i];
        else lab_path = arg;
    }
    if (hrun.empty() || source.empty() || lab_path.empty()) {
        std::cerr << "usage: lab_runner --hrun HRUN --source REPO LAB.md\n";
        return 2;
    }
    const std::string name = fs::path(lab_path).stem().string();
    const Lab lab = hrun::labs::parse_lab(read_file(lab_path));
    if (lab.steps.empty()) {
        std::cout << name << ": no ```console commands found\n";
        return 1;
    }
    if (::geteuid() != 0) {
        std::cout << name << ": SKIPPED: the labs run containers as root\n";
        return kSkip;
    }
    for (const std::string& command : lab.requires_) {
        if (run_quiet({hrun, command, "--help"}) != 0) {
            std::cout << name << ": SKIPPED: needs `hrun " << command << "`, which this hrun does not know yet\n";
            return kSkip;
        }
    }

    char tmpl[] = "/tmp/hrun-lab-XXXXXX";
    if (!::mkdtemp(tmpl)) {
        std::perror("mkdtemp");
        return 1;
    }
    const fs::path tmp = tmpl;
    // Traversable by everyone: a user-namespaced container's root walks down to its rootfs.
    fs::permissions(tmp, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    const fs::path bin = tmp / "bin", work = tmp / "work", out = tmp / "out", state = tmp / "state";
    for (const auto& d : {bin, work, out}) fs::create_directory(d);
    fs::permissions(bin, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(work, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    const std::string real_hrun = fs::absolute(hrun).string();
    // Root's hrun gets the lab's state directory; another user's (a rootless lab runs hrun
    // through runuser) keeps its own default, $XDG_RUNTIME_DIR/hrun, as a real hrun would.
    write_file(bin / "hrun",
               "#!/bin/sh\nif [ \"$(id -u)\" = 0 ]; then exec " + quote(real_hrun) + " --root " + quote(state.string()) +
                   " \"$@\"; fi\nexec " + quote(real_hrun) + " \"$@\"\n",
               fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                   fs::perms::others_exec);
    write_file(tmp / "lab.sh", make_script(lab, out));

    const char* path = std::getenv("PATH");
    const std::vector<std::string> env{
        "PATH=" + bin.string() + ":" + (path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HOME=" + work.string(),
        "HRUN_SRC=" + fs::absolute(source).string(),
        "LC_ALL=C",
        "TERM=dumb",
        "USER=root",
    };
    std::cout << "== " << name << ": " << lab.title << " (" << lab.steps.size() << " commands, in " << work << ")\n";
    const bool finished = run_script(tmp / "lab.sh", work, env);

    int failed = 0;
    bool stopped = false;
    for (std::size_t i = 0; i < lab.steps.size(); ++i) {
        const Step& step = lab.steps[i];
        const fs::path rc_file = out / (std::to_string(i) + ".rc");
        const std::string where = lab_path + ":" + std::to_string(step.line);
        if (!fs::exists(rc_file)) {
            if (!stopped)
                std::cout << "FAIL " << where << ": $ " << first_line(step.command)
                          << (finished ? "\n  the script stopped before this command (an `exit`, or a syntax error above)\n"
                                       : "\n  did not finish within the lab's time limit\n");
            stopped = true;
            ++failed;
            continue;
        }
        const int status = std::atoi(read_file(rc_file).c_str());
        const auto actual = hrun::labs::output_lines(read_file(out / (std::to_string(i) + ".out")));
        const bool ok = status == step.status && hrun::labs::matches(step.expected, actual);
        std::cout << (ok ? "ok   " : "FAIL ") << where << ": $ " << first_line(step.command) << "\n";
        if (ok) continue;
        ++failed;
        if (status != step.status)
            std::cout << "  exit status " << status << ", the lab expects " << step.status << "\n";
        print_lines("expected:", step.expected);
        print_lines("actual:", actual);
    }

    // Clean up: every container of the lab's root, then the directory (never across a mount).
    std::string ids;
    {
        const std::string list = "'" + real_hrun + "' --root '" + state.string() + "' list -q 2>/dev/null";
        if (FILE* p = ::popen(list.c_str(), "r")) {
            char buf[256];
            while (std::fgets(buf, sizeof buf, p)) ids += buf;
            ::pclose(p);
        }
    }
    std::istringstream id_lines(ids);
    for (std::string id; std::getline(id_lines, id);)
        if (!id.empty()) run_quiet({real_hrun, "--root", state.string(), "delete", "--force", id});
    if (run_quiet({"rm", "-rf", "--one-file-system", tmp.string()}) != 0)
        std::cout << "warning: could not remove " << tmp << "\n";

    std::cout << "== " << name << ": " << (lab.steps.size() - failed) << " of " << lab.steps.size()
              << " commands as shown" << (failed ? ", " + std::to_string(failed) + " not" : std::string()) << "\n";
    return failed ? 1 : 0;
}
