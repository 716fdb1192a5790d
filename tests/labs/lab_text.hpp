// The lab format: the commands of docs/labs/*.md and the output they must print, and how
// actual output is matched against it. The convention (also stated in docs/labs/README.md):
//
//   ```console                 only blocks fenced as "console" are run, in file order
//   $ hrun run bundle lab1     "$ " starts a command
//   > continued line           "> " right after it continues it (a new line of the same command)
//   expected output            every other line until the next "$ " is expected output,
//   ...                        stdout and stderr together, as a terminal shows them
//   [1]                        a last line "[N]" expects exit status N (default 0)
//   ```
//
// Expected lines: "..." alone matches any number of lines (none included); "..." inside a line
// matches any text; a line ending in " (re)" is an ECMAScript regular expression for the whole
// line. Actual output is compared with its tabs expanded to 8-column stops and its trailing
// blanks removed, which is what a terminal shows and what a reader copies into the lab.
//
// A comment `<!-- lab-requires: hrun audit -->` skips the lab unless `hrun audit --help`
// succeeds (a command being written elsewhere).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hrun::labs {

struct Step {
    int line = 0;                        // line number of the "$ " in the markdown
    std::string command;                 // lines joined with '\n'
    std::vector<std::string> expected;   // expected output lines (without the status line)
    int status = 0;                      // expected exit status
};

struct Lab {
    std::string title;                     // the first "# " heading
    std::vector<std::string> requires_;    // hrun subcommands it needs ("audit")
    std::vector<Step> steps;
};

Lab parse_lab(std::string_view markdown);

// Tabs expanded to 8-column stops, trailing blanks and a final "\r" removed.
std::string normalize_line(std::string_view line);
std::vector<std::string> output_lines(std::string_view text);

// Whether `actual` (normalized lines) matches the expected lines.
bool matches(const std::vector<std::string>& expected, const std::vector<std::string>& actual);
bool line_matches(const std::string& expected, const std::string& actual);

}  // namespace hrun::labs
