// The lab convention: what counts as a command, its expected output and status, and how
// "...", inline "..." and "(re)" lines match.
#include <gtest/gtest.h>

#include "lab_text.hpp"

namespace hrun::labs {
namespace {

constexpr std::string_view kLab = R"(# Lab 0: a sample
<!-- lab-requires: hrun audit -->

Text, and a block that is not run:

```sh
$ rm -rf /
```

```console
$ echo one
one
$ printf 'a\tb\n'; false
a       b
[1]
$ cat <<EOF
> x
> EOF
x

$ true
```
)";

TEST(ParseLab, CommandsOutputsAndStatuses) {
    const Lab lab = parse_lab(kLab);
    EXPECT_EQ(lab.title, "Lab 0: a sample");
    EXPECT_EQ(lab.requires_, std::vector<std::string>{"audit"});
    ASSERT_EQ(lab.steps.size(), 4u);
    EXPECT_EQ(lab.steps[0].command, "echo one");
    EXPECT_EQ(lab.steps[0].expected, std::vector<std::string>{"one"});
    EXPECT_EQ(lab.steps[0].status, 0);
    EXPECT_EQ(lab.steps[0].line, 11);
    EXPECT_EQ(lab.steps[1].status, 1);
    EXPECT_EQ(lab.steps[1].expected, std::vector<std::string>{"a       b"});
    EXPECT_EQ(lab.steps[2].command, "cat <<EOF\nx\nEOF");
    EXPECT_EQ(lab.steps[2].expected, std::vector<std::string>{"x"});  // the blank line before "$ " dropped
    EXPECT_TRUE(lab.steps[3].expected.empty());
}

TEST(Output, TabsExpandLikeATerminal) {
    EXPECT_EQ(normalize_line("CapEff:\t0000"), "CapEff: 0000");
    EXPECT_EQ(normalize_line("a\tb  \r"), "a       b");
    EXPECT_EQ(output_lines("x\ny\n\n"), (std::vector<std::string>{"x", "y"}));
    EXPECT_TRUE(output_lines("").empty());
}

TEST(Match, EllipsisLinesAndInlineEllipsis) {
    const std::vector<std::string> actual{"header", "a 1", "b 2", "c 3", "footer"};
    EXPECT_TRUE(matches({"header", "...", "footer"}, actual));
    EXPECT_TRUE(matches({"...", "b 2", "..."}, actual));
    EXPECT_TRUE(matches({"header", "a ...", "...", "footer"}, actual));
    EXPECT_TRUE(matches({"..."}, {}));
    EXPECT_FALSE(matches({"header", "footer"}, actual));
    EXPECT_FALSE(matches({"...", "d 4", "..."}, actual));
    EXPECT_FALSE(matches({}, {"unexpected"}));
    EXPECT_TRUE(line_matches("pid ... on the host", "pid 4242 on the host"));
    EXPECT_FALSE(line_matches("pid ... on the host", "pid 4242 in the container"));
}

TEST(Match, RegularExpressionsMatchTheWholeLine) {
    EXPECT_TRUE(line_matches("net +[0-9]+ +- \\(its own\\) (re)", "net     4026532801  - (its own)"));
    EXPECT_FALSE(line_matches("[0-9]+ (re)", "12 and more"));
    EXPECT_FALSE(line_matches("( (re)", "("));  // a broken expression matches nothing
}

}  // namespace
}  // namespace hrun::labs
