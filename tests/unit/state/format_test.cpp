// `state` and `list` output, compared byte for byte with what runc 1.1.5 printed for the same
// container (recorded from `runc state`, `runc list` and `runc list --format json`).
#include <gtest/gtest.h>

#include "state/state.hpp"

namespace hrun::state {
namespace {

ContainerState recorded_container() {
    ContainerState s;
    s.oci_version = "1.0.2-dev";
    s.id = "c1";
    s.pid = 3700;
    s.bundle = "/tmp/runcchk.mR7a/b";
    s.rootfs = "/tmp/runcchk.mR7a/b/rootfs";
    s.created = "2026-11-24T04:02:26.362615447Z";
    s.owner = "someone";  // `state` prints "" whatever was recorded, as runc
    s.annotations = {{"z", "1"}, {"a", "b<&>"}};
    return s;
}

TEST(StateOutput, MatchesRuncFieldOrderIndentAndEscapes) {
    const std::string expected = R"({
  "ociVersion": "1.0.2-dev",
  "id": "c1",
  "pid": 3700,
  "status": "created",
  "bundle": "/tmp/runcchk.mR7a/b",
  "rootfs": "/tmp/runcchk.mR7a/b/rootfs",
  "created": "2026-11-24T04:02:26.362615447Z",
  "annotations": {
    "a": "b\u003c\u0026\u003e",
    "z": "1"
  },
  "owner": ""
})";
    EXPECT_EQ(format_state(recorded_container(), ContainerStatus::Created), expected);
}

TEST(StateOutput, PolicyAndAppliedDefaultsFollowRuncsKeys) {
    ContainerState s = recorded_container();
    s.annotations.clear();
    s.policy = "hardened";
    s.applied_defaults = {"process.noNewPrivileges: true", "linux.seccomp: profiles/seccomp/default.json"};
    const std::string expected = R"({
  "ociVersion": "1.0.2-dev",
  "id": "c1",
  "pid": 3700,
  "status": "running",
  "bundle": "/tmp/runcchk.mR7a/b",
  "rootfs": "/tmp/runcchk.mR7a/b/rootfs",
  "created": "2026-11-24T04:02:26.362615447Z",
  "owner": "",
  "policy": "hardened",
  "appliedDefaults": [
    "process.noNewPrivileges: true",
    "linux.seccomp: profiles/seccomp/default.json"
  ]
})";
    EXPECT_EQ(format_state(s, ContainerStatus::Running), expected);
    // The hook state and the list stay exactly runc's.
    EXPECT_FALSE(runtime_state(s, ContainerStatus::Running).contains("policy"));
}

TEST(StateOutput, StoppedShowsPidZeroAndEmptyAnnotationsAreLeftOut) {
    ContainerState s = recorded_container();
    s.annotations.clear();
    const std::string expected = R"({
  "ociVersion": "1.0.2-dev",
  "id": "c1",
  "pid": 0,
  "status": "stopped",
  "bundle": "/tmp/runcchk.mR7a/b",
  "rootfs": "/tmp/runcchk.mR7a/b/rootfs",
  "created": "2026-11-24T04:02:26.362615447Z",
  "owner": ""
})";
    EXPECT_EQ(format_state(s, ContainerStatus::Stopped), expected);
    EXPECT_EQ(runtime_state(s, ContainerStatus::Running)["pid"], 3700);
    EXPECT_EQ(runtime_state(s, ContainerStatus::Paused)["status"], "paused");
}

TEST(StateOutput, LineSeparatorsAreEscapedAndBadUtf8Replaced) {
    ContainerState s = recorded_container();
    s.bundle = "/a\xe2\x80\xa8" "b\xff";
    std::string out = format_state(s, ContainerStatus::Running);
    EXPECT_NE(out.find(R"("bundle": "/a\u2028b)" "\xef\xbf\xbd\""), std::string::npos) << out;
}

TEST(StatusNames, AreTheRuntimeSpecWords) {
    EXPECT_EQ(status_name(ContainerStatus::Created), "created");
    EXPECT_EQ(status_name(ContainerStatus::Running), "running");
    EXPECT_EQ(status_name(ContainerStatus::Paused), "paused");
    EXPECT_EQ(status_name(ContainerStatus::Stopped), "stopped");
}

TEST(ListOutput, TableMatchesRuncTabwriter) {
    std::vector<ListRow> rows{{recorded_container(), ContainerStatus::Created, "root"}};
    EXPECT_EQ(format_list_table(rows),
              "ID          PID         STATUS      BUNDLE                CREATED                          OWNER\n"
              "c1          3700        created     /tmp/runcchk.mR7a/b   2026-11-24T04:02:26.362615447Z   root\n");
    rows[0].status = ContainerStatus::Stopped;
    EXPECT_EQ(format_list_table(rows),
              "ID          PID         STATUS      BUNDLE                CREATED                          OWNER\n"
              "c1          0           stopped     /tmp/runcchk.mR7a/b   2026-11-24T04:02:26.362615447Z   root\n");
}

TEST(ListOutput, EmptyTableIsTheHeaderAtMinimumWidth) {
    EXPECT_EQ(format_list_table({}), "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
}

TEST(ListOutput, ColumnsWidenForEveryRowAndCountCharactersNotBytes) {
    ContainerState a = recorded_container(), b = recorded_container();
    a.id = "a-rather-long-id";
    a.bundle = "/\xc3\xbc";  // "/ü": two columns wide, three bytes
    a.created = "x";
    b.id = "b";
    b.bundle = "/b";
    b.created = "y";
    std::vector<ListRow> rows{{a, ContainerStatus::Running, "root"}, {b, ContainerStatus::Paused, "#1000"}};
    EXPECT_EQ(format_list_table(rows),
              "ID                 PID         STATUS      BUNDLE      CREATED     OWNER\n"
              "a-rather-long-id   3700        running     /\xc3\xbc          x           root\n"
              "b                  3700        paused      /b          y           #1000\n");
}

TEST(ListOutput, JsonMatchesRunc) {
    std::vector<ListRow> rows{{recorded_container(), ContainerStatus::Created, "root"}};
    EXPECT_EQ(format_list_json(rows),
              R"([{"ociVersion":"1.0.2-dev","id":"c1","pid":3700,"status":"created","bundle":"/tmp/runcchk.mR7a/b",)"
              R"("rootfs":"/tmp/runcchk.mR7a/b/rootfs","created":"2026-11-24T04:02:26.362615447Z",)"
              R"("annotations":{"a":"b\u003c\u0026\u003e","z":"1"},"owner":"root"}])"
              "\n");
    EXPECT_EQ(format_list_json({}), "null\n");
}

TEST(ListOutput, QuietIsOneIdPerLine) {
    ContainerState a = recorded_container(), b = recorded_container();
    b.id = "c2";
    EXPECT_EQ(format_list_quiet({{a, ContainerStatus::Running, ""}, {b, ContainerStatus::Stopped, ""}}), "c1\nc2\n");
    EXPECT_EQ(format_list_quiet({}), "");
}

}  // namespace
}  // namespace hrun::state
