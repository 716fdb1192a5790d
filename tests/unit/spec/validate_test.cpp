// validate_spec, table-driven: the base config (spec_test_support.hpp) is valid; each case applies
// a JSON Patch and expects either success (message empty) or exactly the given error.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "spec/spec_io.hpp"
#include "spec_test_support.hpp"

namespace hrun::spec {
namespace {

struct Case {
    const char* name;
    const char* patch;    // RFC 6902 JSON Patch applied to the base config
    const char* message;  // "" when the patched config is valid
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

class Validation : public ::testing::TestWithParam<Case> {};

TEST(ValidationBase, BaseConfigIsValid) {
    auto parsed = parse_spec(test::kBaseConfig);
    ASSERT_TRUE(parsed) << parsed.error().what();
    auto st = validate_spec(*parsed);
    EXPECT_TRUE(st) << st.error().what();
}

TEST_P(Validation, Rule) {
    const Case& c = GetParam();
    auto parsed = parse_spec(test::patched_base(c.patch));
    ASSERT_TRUE(parsed) << parsed.error().what();
    auto st = validate_spec(*parsed);
    if (std::string(c.message).empty()) {
        EXPECT_TRUE(st) << st.error().what();
    } else {
        ASSERT_FALSE(st) << "accepted; expected: " << c.message;
        EXPECT_EQ(st.error().what(), c.message);
        EXPECT_EQ(st.error().err, 0);
        EXPECT_FALSE(st.error().field.empty());
    }
}

// clang-format off
const Case kCases[] = {
    // ---- ociVersion ----
    {"version_missing", R"([{"op":"remove","path":"/ociVersion"}])", "ociVersion: missing"},
    {"version_major_2", R"([{"op":"replace","path":"/ociVersion","value":"2.0.0"}])",
     "ociVersion: \"2.0.0\" is not supported (expected 1.0.0 to 1.2.x)"},
    {"version_minor_3", R"([{"op":"replace","path":"/ociVersion","value":"1.3.0"}])",
     "ociVersion: \"1.3.0\" is not supported (expected 1.0.0 to 1.2.x)"},
    {"version_garbage", R"([{"op":"replace","path":"/ociVersion","value":"v1"}])",
     "ociVersion: \"v1\" is not a version of the form 1.x.y"},
    {"version_two_parts", R"([{"op":"replace","path":"/ociVersion","value":"1.2"}])",
     "ociVersion: \"1.2\" is not a version of the form 1.x.y"},
    {"version_1_0_0_ok", R"([{"op":"replace","path":"/ociVersion","value":"1.0.0"}])", ""},
    {"version_prerelease_ok", R"([{"op":"replace","path":"/ociVersion","value":"1.0.2-dev"}])", ""},
    {"version_1_2_9_ok", R"([{"op":"replace","path":"/ociVersion","value":"1.2.9"}])", ""},

    // ---- root / process basics ----
    {"root_missing", R"([{"op":"remove","path":"/root"}])", "root: missing"},
    {"root_path_empty", R"([{"op":"replace","path":"/root/path","value":""}])", "root.path: must not be empty"},
    {"root_path_relative_ok", R"([{"op":"replace","path":"/root/path","value":"../shared/rootfs"}])", ""},
    {"process_missing", R"([{"op":"remove","path":"/process"}])", "process: missing"},
    {"args_empty", R"([{"op":"replace","path":"/process/args","value":[]}])", "process.args: must not be empty"},
    {"args_first_empty", R"([{"op":"replace","path":"/process/args","value":[""]}])", "process.args[0]: must not be empty"},
    {"args_nul", R"([{"op":"replace","path":"/process/args","value":["sh","a\u0000b"]}])", "process.args[1]: contains a NUL byte"},
    {"cwd_relative", R"([{"op":"replace","path":"/process/cwd","value":"home"}])", "process.cwd: must be absolute"},
    {"cwd_empty", R"([{"op":"replace","path":"/process/cwd","value":""}])", "process.cwd: must be absolute"},
    {"cwd_nul", R"([{"op":"replace","path":"/process/cwd","value":"/a\u0000b"}])", "process.cwd: contains a NUL byte"},
    {"cwd_nested_ok", R"([{"op":"replace","path":"/process/cwd","value":"/home/user"}])", ""},
    {"env_no_equals", R"([{"op":"replace","path":"/process/env","value":["A=1","FOO"]}])",
     "process.env[1]: \"FOO\" is not of the form KEY=VALUE"},
    {"env_empty_key", R"([{"op":"replace","path":"/process/env","value":["=x"]}])", "process.env[0]: \"=x\" has an empty key"},
    {"env_empty_value_ok", R"([{"op":"replace","path":"/process/env","value":["A=","B=c=d"]}])", ""},

    // ---- capabilities ----
    {"cap_unknown", R"([{"op":"replace","path":"/process/capabilities/bounding","value":["CAP_CHOWN","CAP_KILL","CAP_SETUID","CAP_FOO"]}])",
     "process.capabilities.bounding[3]: unknown capability \"CAP_FOO\""},
    {"cap_lower_case", R"([{"op":"add","path":"/process/capabilities/ambient","value":["cap_chown"]}])",
     "process.capabilities.ambient[0]: unknown capability \"cap_chown\""},
    {"cap_no_prefix", R"([{"op":"add","path":"/process/capabilities/inheritable","value":["CHOWN"]}])",
     "process.capabilities.inheritable[0]: unknown capability \"CHOWN\""},
    {"cap_number", R"([{"op":"replace","path":"/process/capabilities/effective","value":["CAP_0"]}])",
     "process.capabilities.effective[0]: unknown capability \"CAP_0\""},
    {"cap_duplicate_ok", R"([{"op":"replace","path":"/process/capabilities/permitted","value":["CAP_CHOWN","CAP_CHOWN","CAP_BPF"]}])", ""},

    // ---- rlimits ----
    {"rlimit_unknown", R"([{"op":"add","path":"/process/rlimits/0","value":{"type":"RLIMIT_FOO","hard":1,"soft":1}}])",
     "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\""},
    {"rlimit_lower_case", R"([{"op":"replace","path":"/process/rlimits/0/type","value":"rlimit_nofile"}])",
     "process.rlimits[0].type: unknown rlimit \"rlimit_nofile\""},
    {"rlimit_duplicate", R"([{"op":"add","path":"/process/rlimits/-","value":{"type":"RLIMIT_NOFILE","hard":10,"soft":10}}])",
     "process.rlimits: \"RLIMIT_NOFILE\" listed twice"},
    {"rlimit_soft_above_hard", R"([{"op":"replace","path":"/process/rlimits/0/soft","value":2048}])",
     "process.rlimits[0]: soft limit 2048 exceeds hard limit 1024"},
    {"rlimit_several_ok", R"([{"op":"add","path":"/process/rlimits/-","value":{"type":"RLIMIT_CORE","hard":0,"soft":0}},
                              {"op":"add","path":"/process/rlimits/-","value":{"type":"RLIMIT_RTTIME","hard":18446744073709551615,"soft":5}}])", ""},

    // ---- oomScoreAdj, umask, terminal ----
    {"oom_too_high", R"([{"op":"add","path":"/process/oomScoreAdj","value":1001}])",
     "process.oomScoreAdj: 1001 is out of range [-1000, 1000]"},
    {"oom_too_low", R"([{"op":"add","path":"/process/oomScoreAdj","value":-1001}])",
     "process.oomScoreAdj: -1001 is out of range [-1000, 1000]"},
    {"oom_limits_ok", R"([{"op":"add","path":"/process/oomScoreAdj","value":-1000}])", ""},
    {"umask_too_big", R"([{"op":"add","path":"/process/user/umask","value":512}])", "process.user.umask: 01000 exceeds 0777"},
    {"umask_ok", R"([{"op":"add","path":"/process/user/umask","value":511}])", ""},
    {"console_without_terminal", R"([{"op":"add","path":"/process/consoleSize","value":{"height":24,"width":80}}])",
     "process.consoleSize: needs process.terminal to be true"},
    {"console_too_wide", R"([{"op":"replace","path":"/process/terminal","value":true},
                             {"op":"add","path":"/process/consoleSize","value":{"height":24,"width":70000}}])",
     "process.consoleSize.width: 70000 exceeds 65535"},
    {"console_ok", R"([{"op":"replace","path":"/process/terminal","value":true},
                       {"op":"add","path":"/process/consoleSize","value":{"height":24,"width":80}}])", ""},

    // ---- scheduler, ioPriority ----
    {"sched_unknown_policy", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_FOO"}}])",
     "process.scheduler.policy: unknown policy \"SCHED_FOO\""},
    {"sched_missing_policy", R"([{"op":"add","path":"/process/scheduler","value":{"nice":1}}])",
     "process.scheduler.policy: missing"},
    {"sched_unknown_flag", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_OTHER","flags":["SCHED_FLAG_FOO"]}}])",
     "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_FOO\""},
    {"sched_fifo_priority_zero", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_FIFO"}}])",
     "process.scheduler.priority: 0 is out of range [1, 99] for SCHED_FIFO"},
    {"sched_other_priority", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_OTHER","priority":5}}])",
     "process.scheduler.priority: must be 0 for SCHED_OTHER"},
    {"sched_nice_range", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_BATCH","nice":20}}])",
     "process.scheduler.nice: 20 is out of range [-20, 19]"},
    {"sched_deadline_fields_need_deadline", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_OTHER","runtime":10}}])",
     "process.scheduler: runtime, deadline and period need SCHED_DEADLINE"},
    {"sched_deadline_order", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_DEADLINE","runtime":3000,"deadline":2000,"period":4000}}])",
     "process.scheduler.runtime: 3000 exceeds the deadline 2000"},
    {"sched_fifo_ok", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_FIFO","priority":10,"flags":["SCHED_FLAG_RESET_ON_FORK"]}}])", ""},
    {"sched_deadline_ok", R"([{"op":"add","path":"/process/scheduler","value":{"policy":"SCHED_DEADLINE","runtime":1000000,"deadline":2000000,"period":2000000}}])", ""},
    {"ioprio_unknown_class", R"([{"op":"add","path":"/process/ioPriority","value":{"class":"IOPRIO_CLASS_FOO","priority":0}}])",
     "process.ioPriority.class: unknown class \"IOPRIO_CLASS_FOO\""},
    {"ioprio_priority_range", R"([{"op":"add","path":"/process/ioPriority","value":{"class":"IOPRIO_CLASS_BE","priority":8}}])",
     "process.ioPriority.priority: 8 is out of range [0, 7]"},
    {"ioprio_ok", R"([{"op":"add","path":"/process/ioPriority","value":{"class":"IOPRIO_CLASS_RT","priority":7}}])", ""},

    // ---- LSM labels ----
    {"apparmor_newline", R"([{"op":"add","path":"/process/apparmorProfile","value":"a\nb"}])",
     "process.apparmorProfile: \"a\\nb\" must be a single line"},
    {"apparmor_ok", R"([{"op":"add","path":"/process/apparmorProfile","value":"hrun-default"}])", ""},
    {"selinux_malformed", R"([{"op":"add","path":"/process/selinuxLabel","value":"container_t"}])",
     "process.selinuxLabel: \"container_t\" is not of the form user:role:type[:level]"},
    {"selinux_empty_type", R"([{"op":"add","path":"/process/selinuxLabel","value":"u:r::s0"}])",
     "process.selinuxLabel: \"u:r::s0\" is not of the form user:role:type[:level]"},
    {"selinux_ok", R"([{"op":"add","path":"/process/selinuxLabel","value":"system_u:system_r:container_t:s0:c1,c2"}])", ""},
    {"mount_label_bad", R"([{"op":"add","path":"/linux/mountLabel","value":"x:y"}])",
     "linux.mountLabel: \"x:y\" is not of the form user:role:type[:level]"},

    // ---- user ids against the maps ----
    {"uid_unmapped", R"([{"op":"replace","path":"/process/user/uid","value":70000}])",
     "process.user.uid: 70000 is not mapped by linux.uidMappings"},
    {"gid_unmapped", R"([{"op":"replace","path":"/process/user/gid","value":65536}])",
     "process.user.gid: 65536 is not mapped by linux.gidMappings"},
    {"additional_gid_unmapped", R"([{"op":"add","path":"/process/user/additionalGids","value":[5, 4000000000]}])",
     "process.user.additionalGids[1]: 4000000000 is not mapped by linux.gidMappings"},
    // (uid_t)-1 is "leave unchanged" to setresuid/setresgid: it would keep the process root.
    {"uid_minus_one", R"([{"op":"replace","path":"/process/user/uid","value":4294967295}])",
     "process.user.uid: 4294967295 is (uid_t)-1, which the kernel reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"gid_minus_one", R"([{"op":"replace","path":"/process/user/gid","value":4294967295}])",
     "process.user.gid: 4294967295 is (gid_t)-1, which the kernel reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"additional_gid_minus_one", R"([{"op":"add","path":"/process/user/additionalGids","value":[5, 4294967295]}])",
     "process.user.additionalGids[1]: 4294967295 is (gid_t)-1, which the kernel reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"uid_minus_one_without_userns", R"([{"op":"remove","path":"/linux/uidMappings"},{"op":"remove","path":"/linux/gidMappings"},
                                         {"op":"remove","path":"/linux/namespaces/5"},
                                         {"op":"replace","path":"/process/user/uid","value":4294967295}])",
     "process.user.uid: 4294967295 is (uid_t)-1, which the kernel reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"ids_mapped_ok", R"([{"op":"replace","path":"/process/user/uid","value":65535},
                          {"op":"add","path":"/process/user/additionalGids","value":[5, 100]}])", ""},

    // ---- mounts ----
    {"mount_dest_relative", R"([{"op":"replace","path":"/mounts/2/destination","value":"data"}])",
     "mounts[2].destination: must be absolute"},
    {"mount_dest_climbs", R"([{"op":"replace","path":"/mounts/2/destination","value":"/data/../../etc"}])",
     "mounts[2].destination: \"/data/../../etc\" climbs above \"/\" with \"..\""},
    {"mount_dest_nul", R"([{"op":"replace","path":"/mounts/0/destination","value":"/pr\u0000oc"}])",
     "mounts[0].destination: contains a NUL byte"},
    {"mount_dest_dotdot_inside_ok", R"([{"op":"replace","path":"/mounts/2/destination","value":"/a/../data"}])", ""},
    {"mount_type_missing", R"([{"op":"remove","path":"/mounts/0/type"}])",
     "mounts[0].type: missing (needed unless the mount is a bind mount)"},
    {"mount_type_garbage", R"([{"op":"replace","path":"/mounts/0/type","value":"proc,ro"}])",
     "mounts[0].type: \"proc,ro\" is not a filesystem type"},
    {"bind_needs_source", R"([{"op":"remove","path":"/mounts/2/source"}])",
     "mounts[2].source: missing (a bind mount needs a source)"},
    {"bind_type_needs_source", R"([{"op":"add","path":"/mounts/-","value":{"destination":"/x","type":"bind"}}])",
     "mounts[3].source: missing (a bind mount needs a source)"},
    {"mount_option_comma", R"([{"op":"replace","path":"/mounts/1/options","value":["nosuid","mode=755,size=1k"]}])",
     "mounts[1].options[1]: \"mode=755,size=1k\" contains a comma (one option per entry)"},
    {"mount_option_empty", R"([{"op":"replace","path":"/mounts/1/options","value":[""]}])",
     "mounts[1].options[0]: must not be empty"},
    {"mount_options_ok", R"([{"op":"add","path":"/mounts/-","value":{"destination":"/dev/pts","type":"devpts","source":"devpts",
        "options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5","rro","nosymfollow","idmap"]}}])", ""},
    {"mount_idmap_half", R"([{"op":"add","path":"/mounts/2/uidMappings","value":[{"containerID":0,"hostID":1,"size":1}]}])",
     "mounts[2].gidMappings: missing (uidMappings and gidMappings go together)"},
    {"mount_idmap_overlap", R"([{"op":"add","path":"/mounts/2/uidMappings","value":[{"containerID":0,"hostID":1,"size":10},{"containerID":5,"hostID":100,"size":1}]},
                                {"op":"add","path":"/mounts/2/gidMappings","value":[{"containerID":0,"hostID":1,"size":1}]}])",
     "mounts[2].uidMappings[1]: overlaps mounts[2].uidMappings[0] (container ids 0-9)"},

    // ---- namespaces ----
    {"ns_unknown", R"([{"op":"add","path":"/linux/namespaces/-","value":{"type":"foo"}}])",
     "linux.namespaces[6].type: unknown namespace type \"foo\""},
    {"ns_duplicate", R"([{"op":"add","path":"/linux/namespaces/-","value":{"type":"pid","path":"/proc/1/ns/pid"}}])",
     "linux.namespaces: \"pid\" listed twice"},
    {"ns_relative_path", R"([{"op":"replace","path":"/linux/namespaces/1","value":{"type":"network","path":"netns"}}])",
     "linux.namespaces[1].path: must be absolute"},
    {"ns_join_ok", R"([{"op":"replace","path":"/linux/namespaces/1","value":{"type":"network","path":"/proc/1/ns/net"}}])", ""},

    // ---- id mappings ----
    {"uidmap_without_userns", R"([{"op":"remove","path":"/linux/namespaces/5"}])",
     "linux.uidMappings: needs a user namespace in linux.namespaces"},
    {"uidmap_size_zero", R"([{"op":"replace","path":"/linux/uidMappings/0/size","value":0}])",
     "linux.uidMappings[0].size: must be greater than 0"},
    {"uidmap_container_overlap", R"([{"op":"add","path":"/linux/uidMappings/-","value":{"containerID":1000,"hostID":300000,"size":10}}])",
     "linux.uidMappings[1]: overlaps linux.uidMappings[0] (container ids 0-65535)"},
    {"gidmap_host_overlap", R"([{"op":"add","path":"/linux/gidMappings/-","value":{"containerID":70000,"hostID":165535,"size":5}}])",
     "linux.gidMappings[1]: overlaps linux.gidMappings[0] (host ids 100000-165535)"},
    {"uidmap_overflow", R"([{"op":"add","path":"/linux/uidMappings/-","value":{"containerID":4294967295,"hostID":1,"size":2}}])",
     "linux.uidMappings[1]: container ids 4294967295+2 go past 4294967294"},
    // The kernel refuses an extent holding 4294967295 ((uid_t)-1): a map ends at 4294967294.
    {"uidmap_holds_minus_one", R"([{"op":"add","path":"/linux/uidMappings/-","value":{"containerID":4294967295,"hostID":1,"size":1}}])",
     "linux.uidMappings[1]: container ids 4294967295+1 go past 4294967294"},
    {"gidmap_host_holds_minus_one", R"([{"op":"add","path":"/linux/gidMappings/-","value":{"containerID":70000,"hostID":4294967290,"size":6}}])",
     "linux.gidMappings[1]: host ids 4294967290+6 go past 4294967294"},
    {"uidmap_host_overflow", R"([{"op":"replace","path":"/linux/uidMappings/0/hostID","value":4294967000}])",
     "linux.uidMappings[0]: host ids 4294967000+65536 go past 4294967294"},
    {"uidmap_adjacent_ok", R"([{"op":"add","path":"/linux/uidMappings/-","value":{"containerID":65536,"hostID":165536,"size":10}}])", ""},
    {"uidmap_last_id_ok", R"([{"op":"add","path":"/linux/uidMappings/-","value":{"containerID":4294967294,"hostID":1,"size":1}}])", ""},
    {"new_userns_needs_gidmap", R"([{"op":"remove","path":"/linux/gidMappings"}])",
     "linux.gidMappings: a new user namespace needs at least one mapping"},
    {"new_userns_needs_uidmap", R"([{"op":"remove","path":"/linux/uidMappings"}])",
     "linux.uidMappings: a new user namespace needs at least one mapping"},
    {"joined_userns_without_maps_ok", R"([{"op":"replace","path":"/linux/namespaces/5","value":{"type":"user","path":"/proc/1/ns/user"}},
                                          {"op":"remove","path":"/linux/uidMappings"},{"op":"remove","path":"/linux/gidMappings"}])", ""},

    // ---- time offsets ----
    {"time_offsets_need_timens", R"([{"op":"add","path":"/linux/timeOffsets","value":{"monotonic":{"secs":1,"nanosecs":0}}}])",
     "linux.timeOffsets: needs a new time namespace"},
    {"time_offsets_unknown_clock", R"([{"op":"add","path":"/linux/namespaces/-","value":{"type":"time"}},
                                       {"op":"add","path":"/linux/timeOffsets","value":{"realtime":{"secs":1}}}])",
     "linux.timeOffsets[\"realtime\"]: unknown clock (expected \"monotonic\" or \"boottime\")"},
    {"time_offsets_nanosecs", R"([{"op":"add","path":"/linux/namespaces/-","value":{"type":"time"}},
                                  {"op":"add","path":"/linux/timeOffsets","value":{"boottime":{"secs":1,"nanosecs":1000000000}}}])",
     "linux.timeOffsets[\"boottime\"].nanosecs: 1000000000 is not below 1000000000"},
    {"time_offsets_ok", R"([{"op":"add","path":"/linux/namespaces/-","value":{"type":"time"}},
                            {"op":"add","path":"/linux/timeOffsets","value":{"monotonic":{"secs":-86400,"nanosecs":999999999},"boottime":{"secs":5}}}])", ""},

    // ---- devices ----
    {"device_uid_minus_one", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/x","major":1,"minor":3,"uid":4294967295}]}])",
     "linux.devices[0].uid: 4294967295 is (uid_t)-1, which chown reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"device_gid_minus_one", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/x","major":1,"minor":3,"gid":4294967295}]}])",
     "linux.devices[0].gid: 4294967295 is (gid_t)-1, which chown reads as \"unchanged\"; ids are 0 to 4294967294"},
    {"device_ids_ok", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/x","major":1,"minor":3,"uid":4294967294,"gid":0}]}])", ""},
    {"device_type", R"([{"op":"add","path":"/linux/devices","value":[{"type":"x","path":"/dev/x"}]}])",
     "linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)"},
    {"device_outside_dev", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/etc/foo","major":1,"minor":3}]}])",
     "linux.devices[0].path: \"/etc/foo\" is not under /dev"},
    {"device_climbs_out_of_dev", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/../etc/x","major":1,"minor":3}]}])",
     "linux.devices[0].path: \"/dev/../etc/x\" is not under /dev"},
    {"device_relative", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"dev/null","major":1,"minor":3}]}])",
     "linux.devices[0].path: must be absolute"},
    {"device_negative_major", R"([{"op":"add","path":"/linux/devices","value":[{"type":"b","path":"/dev/sda","major":-1,"minor":0}]}])",
     "linux.devices[0].major: -1 is out of range [0, 4095]"},
    {"device_mode", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/null","major":1,"minor":3,"fileMode":4096}]}])",
     "linux.devices[0].fileMode: 010000 exceeds 07777"},
    {"device_ok", R"([{"op":"add","path":"/linux/devices","value":[{"type":"c","path":"/dev/fuse","major":10,"minor":229,"fileMode":438},
                                                                 {"type":"p","path":"/dev/fifo","major":-1,"minor":-1},
                                                                 {"type":"u","path":"/dev/net/tun","major":10,"minor":200}]}])", ""},

    // ---- sysctl ----
    {"sysctl_host_wide", R"([{"op":"add","path":"/linux/sysctl","value":{"kernel.core_pattern":"|/bin/false"}}])",
     "linux.sysctl[\"kernel.core_pattern\"]: not namespaced; would change the host"},
    {"sysctl_net_without_netns", R"([{"op":"remove","path":"/linux/namespaces/1"},
                                     {"op":"add","path":"/linux/sysctl","value":{"net.ipv4.ip_forward":"1"}}])",
     "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a network namespace"},
    // Joined by path: accepted here, as in runc; whether it is hrun's own is known only once open.
    {"sysctl_net_joined_netns", R"([{"op":"replace","path":"/linux/namespaces/1","value":{"type":"network","path":"/proc/1/ns/net"}},
                                    {"op":"add","path":"/linux/sysctl","value":{"net.ipv4.ip_forward":"1"}}])", ""},
    {"sysctl_ipc_without_ipcns", R"([{"op":"remove","path":"/linux/namespaces/2"},
                                     {"op":"add","path":"/linux/sysctl","value":{"kernel.shmmax":"1024"}}])",
     "linux.sysctl[\"kernel.shmmax\"]: needs an ipc namespace"},
    {"sysctl_slash", R"([{"op":"add","path":"/linux/sysctl","value":{"net/ipv4/ip_forward":"1"}}])",
     "linux.sysctl[\"net/ipv4/ip_forward\"]: must be a dotted name without \"/\""},
    {"sysctl_empty_component", R"([{"op":"add","path":"/linux/sysctl","value":{"net..ipv4":"1"}}])",
     "linux.sysctl[\"net..ipv4\"]: has an empty component"},
    {"sysctl_ok", R"([{"op":"add","path":"/linux/sysctl","value":{"net.ipv4.ip_forward":"1","kernel.shmmax":"1024","kernel.msgmax":"8192",
                                                                 "kernel.sem":"250 32000 100 128","fs.mqueue.msg_max":"10","kernel.domainname":"x"}}])", ""},

    // ---- propagation, masked/readonly paths, personality, cgroupsPath ----
    {"propagation_unknown", R"([{"op":"add","path":"/linux/rootfsPropagation","value":"rshared-ish"}])",
     "linux.rootfsPropagation: unknown propagation \"rshared-ish\""},
    {"propagation_ok", R"([{"op":"add","path":"/linux/rootfsPropagation","value":"runbindable"}])", ""},
    {"masked_relative", R"([{"op":"add","path":"/linux/maskedPaths/-","value":"proc/keys"}])",
     "linux.maskedPaths[1]: must be absolute"},
    {"readonly_relative", R"([{"op":"add","path":"/linux/readonlyPaths/0","value":"sys"}])",
     "linux.readonlyPaths[0]: must be absolute"},
    {"personality_unknown", R"([{"op":"add","path":"/linux/personality","value":{"domain":"LINUX64"}}])",
     "linux.personality.domain: unknown domain \"LINUX64\""},
    {"personality_ok", R"([{"op":"add","path":"/linux/personality","value":{"domain":"LINUX32"}}])", ""},
    {"cgroups_path_escape", R"([{"op":"add","path":"/linux/cgroupsPath","value":"/hrun/../../etc"}])",
     "linux.cgroupsPath: \"/hrun/../../etc\" has a \"..\" component that would leave the cgroup root"},
    {"cgroups_path_systemd_escape", R"([{"op":"add","path":"/linux/cgroupsPath","value":"system.slice:hrun:.."}])",
     "linux.cgroupsPath: \"system.slice:hrun:..\" has a \"..\" component that would leave the cgroup root"},
    {"cgroups_path_ok", R"([{"op":"add","path":"/linux/cgroupsPath","value":"system.slice:hrun:..abc"}])", ""},

    // ---- resources ----
    {"memory_below_minus_one", R"([{"op":"add","path":"/linux/resources/memory","value":{"limit":-2}}])",
     "linux.resources.memory.limit: -2 is below -1 (-1 means unlimited)"},
    {"memory_swap_below_limit", R"([{"op":"add","path":"/linux/resources/memory","value":{"limit":2000000,"swap":1000000}}])",
     "linux.resources.memory.swap: 1000000 is below linux.resources.memory.limit 2000000 (swap counts memory plus swap)"},
    {"memory_swappiness", R"([{"op":"add","path":"/linux/resources/memory","value":{"swappiness":101}}])",
     "linux.resources.memory.swappiness: 101 exceeds 100"},
    {"memory_ok", R"([{"op":"add","path":"/linux/resources/memory","value":{"limit":2000000,"swap":-1,"reservation":-1,"swappiness":0}}])", ""},
    {"memory_swap_equal_ok", R"([{"op":"add","path":"/linux/resources/memory","value":{"limit":2000000,"swap":2000000}}])", ""},
    // docker writes shares 0 for "unset"; runc accepts it.
    {"cpu_shares_zero_is_unset_ok", R"([{"op":"add","path":"/linux/resources/cpu","value":{"shares":0}}])", ""},
    {"cpu_quota_tiny", R"([{"op":"add","path":"/linux/resources/cpu","value":{"quota":500}}])",
     "linux.resources.cpu.quota: 500 is below the minimum of 1000"},
    {"cpu_period_range", R"([{"op":"add","path":"/linux/resources/cpu","value":{"period":100}}])",
     "linux.resources.cpu.period: 100 is out of range [1000, 1000000]"},
    {"cpu_cpus_syntax", R"([{"op":"add","path":"/linux/resources/cpu","value":{"cpus":"0-a"}}])",
     "linux.resources.cpu.cpus: \"0-a\" is not a list like \"0-3,5\""},
    {"cpu_ok", R"([{"op":"add","path":"/linux/resources/cpu","value":{"shares":2,"quota":-1,"period":100000,"cpus":"0-3,5","mems":"0"}}])", ""},
    {"pids_below_minus_one", R"([{"op":"add","path":"/linux/resources/pids","value":{"limit":-2}}])",
     "linux.resources.pids.limit: -2 is below -1 (-1 means unlimited)"},
    {"pids_zero_and_unlimited_ok", R"([{"op":"add","path":"/linux/resources/pids","value":{"limit":0}}])", ""},
    {"blkio_weight_low", R"([{"op":"add","path":"/linux/resources/blockIO","value":{"weight":5}}])",
     "linux.resources.blockIO.weight: 5 is out of range [10, 1000]"},
    {"blkio_device_weight_high", R"([{"op":"add","path":"/linux/resources/blockIO","value":{"weightDevice":[{"major":8,"minor":0,"weight":1001}]}}])",
     "linux.resources.blockIO.weightDevice[0].weight: 1001 is out of range [10, 1000]"},
    {"blkio_throttle_negative", R"([{"op":"add","path":"/linux/resources/blockIO","value":{"throttleReadBpsDevice":[{"major":-8,"minor":0,"rate":1}]}}])",
     "linux.resources.blockIO.throttleReadBpsDevice[0].major: must not be negative"},
    {"blkio_weight_zero_is_unset_ok", R"([{"op":"add","path":"/linux/resources/blockIO","value":{"weight":0}}])", ""},
    {"blkio_ok", R"([{"op":"add","path":"/linux/resources/blockIO","value":{"weight":10,"leafWeight":1000,"weightDevice":[{"major":8,"minor":0,"weight":500}]}}])", ""},
    {"device_rule_type", R"([{"op":"add","path":"/linux/resources/devices/-","value":{"allow":true,"type":"x","access":"r"}}])",
     "linux.resources.devices[1].type: unknown device type \"x\" (expected a, c or b)"},
    {"device_rule_access", R"([{"op":"replace","path":"/linux/resources/devices/0/access","value":"rwx"}])",
     "linux.resources.devices[0].access: \"rwx\" is not a combination of r, w and m"},
    {"device_rule_ok", R"([{"op":"add","path":"/linux/resources/devices/-","value":{"allow":true,"type":"c","major":1,"minor":3,"access":"rm"}}])", ""},
    {"hugepage_size", R"([{"op":"add","path":"/linux/resources/hugepageLimits","value":[{"pageSize":"2M","limit":1}]}])",
     "linux.resources.hugepageLimits[0].pageSize: \"2M\" is not a page size like \"2MB\""},
    {"hugepage_ok", R"([{"op":"add","path":"/linux/resources/hugepageLimits","value":[{"pageSize":"2MB","limit":1},{"pageSize":"1GB","limit":0}]}])", ""},
    {"unified_path", R"([{"op":"add","path":"/linux/resources/unified","value":{"../memory.max":"1"}}])",
     "linux.resources.unified[\"../memory.max\"]: not of the form controller.file"},
    {"unified_no_dot", R"([{"op":"add","path":"/linux/resources/unified","value":{"memory":"1"}}])",
     "linux.resources.unified[\"memory\"]: not of the form controller.file"},
    {"unified_slash", R"([{"op":"add","path":"/linux/resources/unified","value":{"memory.max/x":"1"}}])",
     "linux.resources.unified[\"memory.max/x\"]: not of the form controller.file"},
    {"unified_ok", R"([{"op":"add","path":"/linux/resources/unified","value":{"memory.high":"1G","cpu.weight.nice":"1"}}])", ""},

    // ---- seccomp ----
    {"seccomp_default_unknown", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_FOO"}}])",
     "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
    {"seccomp_default_missing", R"([{"op":"add","path":"/linux/seccomp","value":{"syscalls":[]}}])",
     "linux.seccomp.defaultAction: missing"},
    {"seccomp_default_notify", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/s.sock"}}])",
     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
    {"seccomp_action_unknown", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW",
        "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["mount"],"action":"SCMP_ACT_DENY"}]}}])",
     "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_DENY\""},
    {"seccomp_notify_needs_listener", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW",
        "syscalls":[{"names":["mount"],"action":"SCMP_ACT_NOTIFY"}]}}])",
     "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
    {"seccomp_notify_ok", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/s.sock",
        "syscalls":[{"names":["mount"],"action":"SCMP_ACT_NOTIFY"}]}}])", ""},
    {"seccomp_arch_unknown", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_Z80"]}}])",
     "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\""},
    {"seccomp_flag_unknown", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NEW_LISTENER"]}}])",
     "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\""},
    {"seccomp_arg_index", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW",
        "syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":0,"op":"SCMP_CMP_EQ"}]}]}}])",
     "linux.seccomp.syscalls[0].args[0].index: 6 is not below 6"},
    {"seccomp_arg_op", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW",
        "syscalls":[{"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":1,"value":0,"op":"EQ"}]}]}}])",
     "linux.seccomp.syscalls[0].args[1].op: unknown operator \"EQ\""},
    {"seccomp_names_empty", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_LOG"}]}}])",
     "linux.seccomp.syscalls[0].names: must not be empty"},
    {"seccomp_name_empty", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read",""],"action":"SCMP_ACT_LOG"}]}}])",
     "linux.seccomp.syscalls[0].names[1]: must not be empty"},
    {"seccomp_errno_on_allow", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_KILL","errnoRet":1}]}}])",
     "linux.seccomp.syscalls[0].errnoRet: only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE"},
    {"seccomp_ok", R"([{"op":"add","path":"/linux/seccomp","value":{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
        "architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X32"],"flags":["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls":[{"names":["read","write","no_such_syscall_is_checked_later"],"action":"SCMP_ACT_ALLOW"},
                    {"names":["ptrace"],"action":"SCMP_ACT_KILL_PROCESS"},{"names":["chmod"],"action":"SCMP_ACT_LOG"},
                    {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":4294967295,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}}])", ""},

    // ---- hostname / domainname ----
    {"hostname_without_utsns", R"([{"op":"remove","path":"/linux/namespaces/3"}])", "hostname: needs a uts namespace"},
    {"hostname_joined_utsns", R"([{"op":"replace","path":"/linux/namespaces/3","value":{"type":"uts","path":"/proc/1/ns/uts"}}])", ""},
    {"hostname_too_long", R"([{"op":"replace","path":"/hostname","value":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}])",
     "hostname: longer than 64 characters"},
    {"domainname_without_utsns", R"([{"op":"remove","path":"/hostname"},{"op":"remove","path":"/linux/namespaces/3"},
                                     {"op":"add","path":"/domainname","value":"example.org"}])",
     "domainname: needs a uts namespace"},
    {"no_hostname_no_utsns_ok", R"([{"op":"remove","path":"/hostname"},{"op":"remove","path":"/linux/namespaces/3"}])", ""},
    {"hostname_64_ok", R"([{"op":"replace","path":"/hostname","value":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}])", ""},

    // ---- hooks, annotations ----
    {"hook_relative", R"([{"op":"add","path":"/hooks","value":{"createRuntime":[{"path":"/bin/true"}],"poststart":[{"path":"bin/hook"}]}}])",
     "hooks.poststart[0].path: must be absolute"},
    {"hook_timeout_zero", R"([{"op":"add","path":"/hooks","value":{"prestart":[{"path":"/bin/true","timeout":0}]}}])",
     "hooks.prestart[0].timeout: must be greater than 0, got 0"},
    {"hook_env", R"([{"op":"add","path":"/hooks","value":{"poststop":[{"path":"/bin/true","env":["NOVALUE"]}]}}])",
     "hooks.poststop[0].env[0]: \"NOVALUE\" is not of the form KEY=VALUE"},
    {"hooks_ok", R"([{"op":"add","path":"/hooks","value":{"createContainer":[{"path":"/bin/true","args":["true"],"env":["A=b"],"timeout":10}]}}])", ""},
    {"annotation_empty_key", R"([{"op":"add","path":"/annotations","value":{"":"x"}}])", "annotations: has an empty key"},
    {"annotations_ok", R"([{"op":"add","path":"/annotations","value":{"org.opencontainers.image.ref.name":"busybox"}}])", ""},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Spec, Validation, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ValidationCount, EnoughRulesAreCovered) {
    std::size_t failing = 0;
    for (const Case& c : kCases)
        if (std::string(c.message).size() > 0) ++failing;
    EXPECT_GE(failing, 40u);
    EXPECT_GE(std::size(kCases) - failing, 30u);
}

}  // namespace
}  // namespace hrun::spec
