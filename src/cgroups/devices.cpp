// Device rules: from the config to a rule list, the decision it makes, the v1 file lines and
// the BPF program that makes the same decision in the kernel on cgroup v2.
#include "cgroups/devices.hpp"

#include <string_view>

namespace hrun::cgroups {
namespace {

std::string rule_field(std::size_t i, std::string_view member) {
    return "linux.resources.devices[" + std::to_string(i) + "]." + std::string(member);
}

Result<uint32_t> access_bits(std::string_view access, std::size_t i) {
    if (access.empty()) return fail(rule_field(i, "access"), "must not be empty (use \"rwm\" for all access)");
    uint32_t bits = 0;
    for (char c : access) {
        switch (c) {
            case 'r': bits |= kAccessRead; break;
            case 'w': bits |= kAccessWrite; break;
            case 'm': bits |= kAccessMknod; break;
            default:
                return fail(rule_field(i, "access"), "\"" + std::string(access) + "\" is not a combination of r, w and m");
        }
    }
    return bits;
}

Result<int64_t> device_number(const std::optional<int64_t>& value, std::size_t i, std::string_view member) {
    if (!value || *value == kAnyNumber) return kAnyNumber;
    if (*value < 0) return fail(rule_field(i, member), std::to_string(*value) + " is below -1");
    // The kernel's dev_t holds 12-bit majors and 20-bit minors.
    const int64_t max = member == "major" ? 0xfff : 0xfffff;
    if (*value > max) return fail(rule_field(i, member), std::to_string(*value) + " exceeds " + std::to_string(max));
    return *value;
}

bool matches(const DeviceRule& rule, char type, int64_t major, int64_t minor) {
    return (rule.type == 'a' || rule.type == type) && (rule.major == kAnyNumber || rule.major == major) &&
           (rule.minor == kAnyNumber || rule.minor == minor);
}

// ---- BPF encoding ----

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
}
bpf_insn load_u32(uint8_t dst, uint8_t src, int16_t off) { return insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn alu_imm(uint8_t op, uint8_t dst, int32_t imm) { return insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm); }
bpf_insn mov_reg(uint8_t dst, uint8_t src) { return insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn jump_imm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) { return insn(BPF_JMP | op | BPF_K, dst, 0, off, imm); }
bpf_insn exit_insn() { return insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers: the context is struct bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor;}.
constexpr uint8_t kCtx = BPF_REG_1;        // then scratch
constexpr uint8_t kType = BPF_REG_2;       // BPF_DEVCG_DEV_BLOCK or _CHAR
constexpr uint8_t kRemaining = BPF_REG_3;  // access bits not yet allowed
constexpr uint8_t kMajor = BPF_REG_4;
constexpr uint8_t kMinor = BPF_REG_5;
constexpr uint8_t kScratch = BPF_REG_1;

int32_t devcg_type(char type) { return type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR; }

// One rule; every "does not match" jump lands on the first instruction after the block.
void emit_rule(const DeviceRule& rule, std::vector<bpf_insn>& out) {
    std::vector<bpf_insn> conditions;  // offsets are patched once the block size is known
    if (rule.type != 'a') conditions.push_back(jump_imm(BPF_JNE, kType, devcg_type(rule.type), 0));
    if (rule.major != kAnyNumber) conditions.push_back(jump_imm(BPF_JNE, kMajor, static_cast<int32_t>(rule.major), 0));
    if (rule.minor != kAnyNumber) conditions.push_back(jump_imm(BPF_JNE, kMinor, static_cast<int32_t>(rule.minor), 0));

    std::vector<bpf_insn> action;
    if (rule.allow) {
        // These bits are granted; the request is allowed once nothing remains.
        action.push_back(alu_imm(BPF_AND, kRemaining, static_cast<int32_t>(kAccessAll & ~rule.access)));
        action.push_back(jump_imm(BPF_JNE, kRemaining, 0, 2));
        action.push_back(alu_imm(BPF_MOV, BPF_REG_0, 1));
    } else {
        // A still undecided bit that this rule denies denies the request.
        action.push_back(mov_reg(kScratch, kRemaining));
        action.push_back(alu_imm(BPF_AND, kScratch, static_cast<int32_t>(rule.access)));
        action.push_back(jump_imm(BPF_JEQ, kScratch, 0, 2));
        action.push_back(alu_imm(BPF_MOV, BPF_REG_0, 0));
    }
    action.push_back(exit_insn());

    const std::size_t size = conditions.size() + action.size();
    for (std::size_t i = 0; i < conditions.size(); ++i) {
        conditions[i].off = static_cast<int16_t>(size - i - 1);
        out.push_back(conditions[i]);
    }
    out.insert(out.end(), action.begin(), action.end());
}

}  // namespace

const std::vector<DeviceRule>& default_device_rules() {
    static const std::vector<DeviceRule> rules = {
        {true, 'c', kAnyNumber, kAnyNumber, kAccessMknod},  // mknod of any device; open stays ruled
        {true, 'b', kAnyNumber, kAnyNumber, kAccessMknod},
        {true, 'c', 1, 3, kAccessAll},           // /dev/null
        {true, 'c', 1, 5, kAccessAll},           // /dev/zero
        {true, 'c', 1, 7, kAccessAll},           // /dev/full
        {true, 'c', 1, 8, kAccessAll},           // /dev/random
        {true, 'c', 1, 9, kAccessAll},           // /dev/urandom
        {true, 'c', 5, 0, kAccessAll},           // /dev/tty
        {true, 'c', 5, 2, kAccessAll},           // /dev/ptmx
        {true, 'c', 136, kAnyNumber, kAccessAll},  // /dev/pts/*
    };
    return rules;
}

Result<std::vector<DeviceRule>> device_rules(const std::vector<spec::DeviceRule>& config) {
    std::vector<DeviceRule> rules;
    rules.reserve(config.size() + default_device_rules().size());
    for (std::size_t i = 0; i < config.size(); ++i) {
        const spec::DeviceRule& c = config[i];
        DeviceRule r;
        r.allow = c.allow;
        if (c.type.empty() || c.type == "a") r.type = 'a';
        else if (c.type == "c" || c.type == "b") r.type = c.type[0];
        else return fail(rule_field(i, "type"), "unknown device type \"" + c.type + "\" (expected a, c or b)");
        r.major = HRUN_TRY(device_number(c.major, i, "major"));
        r.minor = HRUN_TRY(device_number(c.minor, i, "minor"));
        r.access = HRUN_TRY(access_bits(c.access, i));
        rules.push_back(r);
    }
    rules.insert(rules.end(), default_device_rules().begin(), default_device_rules().end());
    return rules;
}

bool device_allowed(const std::vector<DeviceRule>& rules, char type, int64_t major, int64_t minor, uint32_t access) {
    uint32_t remaining = access & kAccessAll;
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
        if (!matches(*it, type, major, minor)) continue;
        if (!it->allow) {
            if ((remaining & it->access) != 0) return false;
        } else {
            remaining &= ~it->access;
            if (remaining == 0) return true;
        }
    }
    return false;
}

std::string v1_device_line(const DeviceRule& rule) {
    auto number = [](int64_t n) { return n == kAnyNumber ? std::string("*") : std::to_string(n); };
    std::string line(1, rule.type);
    line += ' ' + number(rule.major) + ':' + number(rule.minor) + ' ';
    if (rule.access & kAccessRead) line += 'r';
    if (rule.access & kAccessWrite) line += 'w';
    if (rule.access & kAccessMknod) line += 'm';
    return line;
}

std::vector<bpf_insn> device_program(const std::vector<DeviceRule>& rules) {
    std::vector<bpf_insn> prog;
    prog.push_back(load_u32(kType, kCtx, 0));  // access_type
    prog.push_back(alu_imm(BPF_AND, kType, 0xffff));
    prog.push_back(load_u32(kRemaining, kCtx, 0));
    prog.push_back(alu_imm(BPF_RSH, kRemaining, 16));
    prog.push_back(load_u32(kMajor, kCtx, 4));
    prog.push_back(load_u32(kMinor, kCtx, 8));
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) emit_rule(*it, prog);
    prog.push_back(alu_imm(BPF_MOV, BPF_REG_0, 0));  // nothing allowed every requested bit
    prog.push_back(exit_insn());
    return prog;
}

}  // namespace hrun::cgroups
