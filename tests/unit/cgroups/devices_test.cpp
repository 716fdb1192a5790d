// Device rules: their meaning (last matching rule wins, per access bit), the v1 lines, and the
// BPF program, run through a small interpreter of the instructions it uses and compared with
// an independent statement of the semantics.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "cgroups/devices.hpp"

namespace hrun::cgroups {
namespace {

constexpr uint32_t R = kAccessRead, W = kAccessWrite, M = kAccessMknod;

std::vector<DeviceRule> with_defaults(std::vector<DeviceRule> rules) {
    rules.insert(rules.end(), default_device_rules().begin(), default_device_rules().end());
    return rules;
}

// The semantics stated bit by bit: each requested bit is decided by the last rule that matches
// the device and covers that bit; a bit no rule covers is denied.
bool reference(const std::vector<DeviceRule>& rules, char type, int64_t major, int64_t minor, uint32_t access) {
    for (uint32_t bit : {M, R, W}) {
        if (!(access & bit)) continue;
        bool allowed = false;
        for (const DeviceRule& r : rules) {
            const bool match = (r.type == 'a' || r.type == type) && (r.major == kAnyNumber || r.major == major) &&
                               (r.minor == kAnyNumber || r.minor == minor) && (r.access & bit);
            if (match) allowed = r.allow;
        }
        if (!allowed) return false;
    }
    return true;
}

// Runs a cgroup device program on one request. Supports exactly the instruction classes a
// device program needs; anything else fails the test.
int run(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor, uint32_t access) {
    struct bpf_cgroup_dev_ctx ctx;
    ctx.access_type = (access << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
    ctx.major = major;
    ctx.minor = minor;
    uint64_t reg[11] = {};
    bool is_ctx[11] = {};
    is_ctx[BPF_REG_1] = true;
    for (std::size_t pc = 0, steps = 0; pc < prog.size(); ++pc) {
        if (++steps > 100000) {
            ADD_FAILURE() << "program does not terminate";
            return -1;
        }
        const bpf_insn& i = prog[pc];
        const uint8_t cls = BPF_CLASS(i.code);
        if (cls == BPF_LDX && BPF_MODE(i.code) == BPF_MEM && BPF_SIZE(i.code) == BPF_W) {
            if (!is_ctx[i.src_reg] || i.off < 0 || i.off + 4 > static_cast<int>(sizeof ctx) || i.off % 4) {
                ADD_FAILURE() << "bad load at " << pc;
                return -1;
            }
            uint32_t v;
            std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
            reg[i.dst_reg] = v;
            is_ctx[i.dst_reg] = false;
        } else if (cls == BPF_ALU64) {
            const uint64_t src = BPF_SRC(i.code) == BPF_X ? reg[i.src_reg] : static_cast<uint64_t>(static_cast<int64_t>(i.imm));
            is_ctx[i.dst_reg] = false;
            switch (BPF_OP(i.code)) {
                case BPF_MOV: reg[i.dst_reg] = src; break;
                case BPF_AND: reg[i.dst_reg] &= src; break;
                case BPF_RSH: reg[i.dst_reg] >>= src; break;
                default: ADD_FAILURE() << "unexpected ALU op at " << pc; return -1;
            }
        } else if (cls == BPF_JMP && BPF_OP(i.code) == BPF_EXIT) {
            return static_cast<int>(reg[BPF_REG_0]);
        } else if (cls == BPF_JMP && BPF_SRC(i.code) == BPF_K) {
            const uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
            bool taken;
            switch (BPF_OP(i.code)) {
                case BPF_JEQ: taken = reg[i.dst_reg] == imm; break;
                case BPF_JNE: taken = reg[i.dst_reg] != imm; break;
                default: ADD_FAILURE() << "unexpected jump at " << pc; return -1;
            }
            if (taken) {
                if (i.off < 0 || pc + 1 + i.off >= prog.size()) {
                    ADD_FAILURE() << "jump out of the program at " << pc;
                    return -1;
                }
                pc += i.off;
            }
        } else {
            ADD_FAILURE() << "unexpected instruction class at " << pc;
            return -1;
        }
    }
    ADD_FAILURE() << "fell off the end of the program";
    return -1;
}

// Every combination of a small universe of devices and all non-empty access sets.
void expect_program_matches(const std::vector<DeviceRule>& rules) {
    const auto prog = device_program(rules);
    for (char type : {'c', 'b'})
        for (int64_t major : {1, 5, 8, 136, 4095})
            for (int64_t minor : {0, 1, 2, 3, 11, 1048575})
                for (uint32_t access = 1; access <= kAccessAll; ++access) {
                    const bool expected = reference(rules, type, major, minor, access);
                    ASSERT_EQ(device_allowed(rules, type, major, minor, access), expected)
                        << type << " " << major << ":" << minor << " access " << access;
                    ASSERT_EQ(run(prog, type, static_cast<uint32_t>(major), static_cast<uint32_t>(minor), access),
                              expected ? 1 : 0)
                        << type << " " << major << ":" << minor << " access " << access;
                }
}

TEST(DeviceRules, ConfigThenDefaults) {
    std::vector<spec::DeviceRule> config = {{false, "", std::nullopt, std::nullopt, "rwm"},
                                            {true, "c", 10, -1, "mr"}};
    auto rules = device_rules(config);
    ASSERT_TRUE(rules.has_value()) << rules.error().what();
    ASSERT_EQ(rules->size(), 2 + default_device_rules().size());
    EXPECT_EQ((*rules)[0], (DeviceRule{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}));
    EXPECT_EQ((*rules)[1], (DeviceRule{true, 'c', 10, kAnyNumber, R | M}));
    EXPECT_TRUE(std::equal(default_device_rules().begin(), default_device_rules().end(), rules->begin() + 2));
    // Under a deny-all, a device such as /dev/kmsg (c 1:11) may be made but not opened.
    EXPECT_TRUE(device_allowed(*rules, 'c', 1, 11, M));
    EXPECT_FALSE(device_allowed(*rules, 'c', 1, 11, R));
    EXPECT_FALSE(device_allowed(*rules, 'c', 1, 11, kAccessWrite));
}

TEST(DeviceRules, Errors) {
    auto bad = [](spec::DeviceRule r) { return device_rules({r}); };
    auto e = bad({true, "c", 1, 3, ""});
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().field, "linux.resources.devices[0].access");
    EXPECT_EQ(bad({true, "c", 1, 3, "rx"}).error().field, "linux.resources.devices[0].access");
    EXPECT_EQ(bad({true, "u", 1, 3, "r"}).error().field, "linux.resources.devices[0].type");
    EXPECT_EQ(bad({true, "c", -2, 3, "r"}).error().field, "linux.resources.devices[0].major");
    EXPECT_EQ(bad({true, "c", 1, 1 << 20, "r"}).error().field, "linux.resources.devices[0].minor");
}

TEST(DeviceAllowed, DefaultsAfterDenyAll) {
    const auto rules = with_defaults({{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}});
    EXPECT_TRUE(device_allowed(rules, 'c', 1, 3, R | W));      // /dev/null
    EXPECT_TRUE(device_allowed(rules, 'c', 136, 7, R | W));    // a pty
    EXPECT_TRUE(device_allowed(rules, 'c', 5, 2, R | W));      // ptmx
    EXPECT_FALSE(device_allowed(rules, 'c', 5, 1, R | W));     // console is not a default
    EXPECT_FALSE(device_allowed(rules, 'c', 1, 11, R));        // /dev/kmsg
    EXPECT_TRUE(device_allowed(rules, 'b', 8, 0, M));          // mknod of anything
    EXPECT_FALSE(device_allowed(rules, 'b', 8, 0, R));         // but not opening it
    EXPECT_FALSE(device_allowed(rules, 'b', 8, 0, R | M));
}

TEST(DeviceAllowed, LastMatchingRuleWinsPerBit) {
    std::vector<DeviceRule> rules = {{true, 'c', 1, 3, kAccessAll}, {false, 'c', 1, 3, kAccessAll}};
    EXPECT_FALSE(device_allowed(rules, 'c', 1, 3, R));
    std::swap(rules[0], rules[1]);
    EXPECT_TRUE(device_allowed(rules, 'c', 1, 3, R));

    rules = {{true, 'a', kAnyNumber, kAnyNumber, kAccessAll}, {false, 'c', 1, 3, W}};
    EXPECT_TRUE(device_allowed(rules, 'c', 1, 3, R));
    EXPECT_FALSE(device_allowed(rules, 'c', 1, 3, W));
    EXPECT_FALSE(device_allowed(rules, 'c', 1, 3, R | W));
    EXPECT_TRUE(device_allowed(rules, 'c', 1, 5, R | W));

    // Split grants add up.
    rules = {{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}, {true, 'c', 1, 3, R}, {true, 'c', 1, 3, W}};
    EXPECT_TRUE(device_allowed(rules, 'c', 1, 3, R | W));
    EXPECT_FALSE(device_allowed(rules, 'c', 1, 3, R | W | M));
    EXPECT_FALSE(device_allowed({}, 'c', 1, 3, R));  // nothing allows: denied
}

TEST(V1DeviceLine, Format) {
    EXPECT_EQ(v1_device_line({true, 'c', 1, 3, kAccessAll}), "c 1:3 rwm");
    EXPECT_EQ(v1_device_line({false, 'a', kAnyNumber, kAnyNumber, kAccessAll}), "a *:* rwm");
    EXPECT_EQ(v1_device_line({true, 'b', 8, kAnyNumber, R}), "b 8:* r");
    EXPECT_EQ(v1_device_line({true, 'c', kAnyNumber, 0, W | M}), "c *:0 wm");
}

TEST(DeviceProgram, InstructionCounts) {
    // 6 to load the context, 2 for the final deny; per rule one compare per non-wildcard field,
    // plus 4 instructions for an allow and 5 for a deny.
    EXPECT_EQ(device_program({}).size(), 8u);
    EXPECT_EQ(device_program({{true, 'c', 1, 3, kAccessAll}}).size(), 8u + 3 + 4);
    EXPECT_EQ(device_program({{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}}).size(), 8u + 5);
    EXPECT_EQ(device_program({{true, 'c', 136, kAnyNumber, kAccessAll}}).size(), 8u + 2 + 4);
    std::size_t defaults = 8;
    for (const DeviceRule& r : default_device_rules())
        defaults += (r.type != 'a') + (r.major != kAnyNumber) + (r.minor != kAnyNumber) + (r.allow ? 4 : 5);
    EXPECT_EQ(device_program(default_device_rules()).size(), defaults);
    const auto prog = device_program(default_device_rules());
    EXPECT_EQ(prog.back().code, BPF_JMP | BPF_EXIT);
}

TEST(DeviceProgram, MatchesTheSemanticsOnTypicalRuleSets) {
    expect_program_matches({});
    expect_program_matches(with_defaults({{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}}));
    expect_program_matches(with_defaults({{false, 'a', kAnyNumber, kAnyNumber, kAccessAll},
                                          {false, 'c', 1, 3, R | W},
                                          {true, 'b', 8, kAnyNumber, R}}));
    expect_program_matches({{true, 'a', kAnyNumber, kAnyNumber, kAccessAll}, {false, 'c', 1, 3, W}});
    expect_program_matches({{false, 'a', kAnyNumber, kAnyNumber, kAccessAll}, {true, 'c', 1, 3, R},
                            {true, 'c', 1, 3, W}, {false, 'c', kAnyNumber, 3, M}});
}

TEST(DeviceProgram, MatchesTheSemanticsOnRandomRuleSets) {
    std::mt19937 rng(20240601);
    const int64_t majors[] = {kAnyNumber, 1, 5, 8, 136};
    const int64_t minors[] = {kAnyNumber, 0, 3, 11};
    const char types[] = {'a', 'c', 'b'};
    for (int round = 0; round < 150; ++round) {
        std::vector<DeviceRule> rules(rng() % 8);
        for (DeviceRule& r : rules) {
            r.allow = rng() % 2;
            r.type = types[rng() % 3];
            r.major = majors[rng() % 5];
            r.minor = minors[rng() % 4];
            r.access = 1 + rng() % kAccessAll;
        }
        SCOPED_TRACE("round " + std::to_string(round));
        expect_program_matches(rules);
        if (HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace hrun::cgroups
