// linux.seccomp -> classic BPF, in the parent. libseccomp does the compiling; the result is a
// plain sock_filter array so the container side needs nothing but seccomp(2).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "hrun/fd.hpp"
#include "security/seccomp.hpp"
#include "security/seccomp_names.hpp"

namespace hrun::security {

namespace {

struct FilterContextRelease {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
// scmp_filter_ctx is an opaque void*.
using FilterContext = std::unique_ptr<void, FilterContextRelease>;

// Syscalls take at most six arguments.
constexpr std::size_t kMaxSyscallArgs = 6;

const std::string kSeccompField = "linux.seccomp";

std::string syscall_field(std::size_t i) {
    return kSeccompField + ".syscalls[" + std::to_string(i) + "]";
}

std::string indexed(const std::string& base, std::string_view member, std::size_t i) {
    std::string out = base;
    out += '.';
    out += member;
    out += '[';
    out += std::to_string(i);
    out += ']';
    return out;
}

// Prefixes a relative error field ("action") with the path of the object it belongs to.
Error under(Error e, const std::string& prefix) {
    e.field = e.field.empty() ? prefix : prefix + "." + e.field;
    return e;
}

// One architecture the filter covers, with the architectures[] index it came from (none for the
// native one, which is always covered).
struct Arch {
    uint32_t token = 0;
    std::optional<std::size_t> index;
};

Result<std::vector<Arch>> filter_architectures(const spec::Seccomp& config) {
    std::vector<Arch> arches{{seccomp_arch_native(), std::nullopt}};
    for (std::size_t i = 0; i < config.architectures.size(); ++i) {
        const std::string& name = config.architectures[i];
        auto token = seccomp_arch_from_name(name);
        if (!token)
            return fail(indexed(kSeccompField, "architectures", i),
                        "unknown architecture \"" + name + "\"");
        bool listed = false;
        for (const Arch& a : arches) listed = listed || a.token == *token;
        if (!listed) arches.push_back({*token, i});
    }
    return arches;
}

Result<unsigned int> filter_flags(const spec::Seccomp& config) {
    unsigned int flags = 0;
    for (std::size_t i = 0; i < config.flags.size(); ++i) {
        auto bit = seccomp_flag_from_name(config.flags[i]);
        if (!bit)
            return fail(indexed(kSeccompField, "flags", i),
                        "unknown seccomp flag \"" + config.flags[i] + "\"");
        flags |= *bit;
    }
    return flags;
}

struct ArgConditions {
    std::vector<scmp_arg_cmp> cmp;
    // libseccomp ANDs the conditions of one rule and refuses two on the same argument; the
    // runtime spec's answer (as runc reads it) is one rule per condition, i.e. an OR.
    bool one_rule_per_condition = false;
};

Result<ArgConditions> arg_conditions(const spec::SeccompSyscall& call, std::size_t call_index) {
    ArgConditions out;
    out.cmp.reserve(call.args.size());
    unsigned int seen = 0;
    for (std::size_t j = 0; j < call.args.size(); ++j) {
        const spec::SeccompArg& arg = call.args[j];
        if (arg.index >= kMaxSyscallArgs)
            return fail(indexed(syscall_field(call_index), "args", j) + ".index",
                        "argument index " + std::to_string(arg.index) + " is not below " +
                            std::to_string(kMaxSyscallArgs));
        auto op = seccomp_op_from_name(arg.op);
        if (!op)
            return fail(indexed(syscall_field(call_index), "args", j) + ".op",
                        "unknown comparison operator \"" + arg.op + "\"");
        if (seen & (1u << arg.index)) out.one_rule_per_condition = true;
        seen |= 1u << arg.index;
        // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected masked value;
        // the other operators ignore valueTwo.
        out.cmp.push_back(scmp_arg_cmp{arg.index, *op, arg.value, arg.valueTwo});
    }
    return out;
}

// One syscalls[] entry, checked and resolved once, then added to each architecture's context.
struct PreparedRule {
    std::size_t call_index = 0;
    uint32_t action = 0;
    ArgConditions conds;
    std::vector<int> numbers;  // numbers[k] is names[k] resolved for the native architecture
};

// Checks one syscalls[] entry. Entries whose action is the default are checked and dropped: they
// change nothing, and libseccomp refuses them.
Result<std::optional<PreparedRule>> prepare_rule(const spec::SeccompSyscall& call,
                                                 std::size_t call_index, uint32_t default_action) {
    auto action = seccomp_action_from_name(call.action, call.errnoRet, "action", "errnoRet");
    if (!action) return std::unexpected(under(std::move(action.error()), syscall_field(call_index)));
    if (call.names.empty())
        return fail(syscall_field(call_index) + ".names", "must list at least one syscall");

    PreparedRule rule;
    rule.call_index = call_index;
    rule.action = *action;
    rule.conds = HRUN_TRY(arg_conditions(call, call_index));
    rule.numbers.reserve(call.names.size());
    for (std::size_t k = 0; k < call.names.size(); ++k) {
        const std::string& name = call.names[k];
        // libseccomp's table spans every architecture it knows: a syscall missing on the native
        // one still resolves (to a negative pseudo number) and rules for it apply only where it
        // exists, as runc does. __NR_SCMP_ERROR therefore means no architecture has it: a typo.
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR)
            return fail(indexed(syscall_field(call_index), "names", k),
                        "unknown syscall \"" + name + "\"");
        rule.numbers.push_back(nr);
    }
    if (*action == default_action) return std::nullopt;
    return rule;
}

Status add_rule(scmp_filter_ctx ctx, const PreparedRule& rule, const spec::Seccomp& config) {
    const ArgConditions& conds = rule.conds;
    for (std::size_t k = 0; k < rule.numbers.size(); ++k) {
        const int nr = rule.numbers[k];
        int rc = 0;
        if (conds.one_rule_per_condition) {
            for (std::size_t j = 0; j < conds.cmp.size() && rc == 0; ++j)
                rc = seccomp_rule_add_array(ctx, rule.action, nr, 1, &conds.cmp[j]);
        } else {
            rc = seccomp_rule_add_array(ctx, rule.action, nr,
                                        static_cast<unsigned int>(conds.cmp.size()),
                                        conds.cmp.empty() ? nullptr : conds.cmp.data());
        }
        if (rc < 0)
            return fail(indexed(syscall_field(rule.call_index), "names", k),
                        "cannot add a seccomp rule for \"" +
                            config.syscalls[rule.call_index].names[k] + "\"",
                        -rc);
    }
    return ok();
}

// The filter is built one architecture at a time and the programs are chained: libseccomp's
// export cost grows much faster than linearly with the size of a multi-architecture filter
// (three x86 ABIs with a default-sized allowlist take several times longer as one context than
// as three). In every program but the last, the "wrong architecture" action is a placeholder
// return that is rewritten into a jump to the next program, so a syscall is judged by the
// program of its own architecture, and one of no listed architecture reaches the last
// program's real bad-architecture action. The placeholder is an action no rule uses, so only
// architecture checks are rewritten.
Result<uint32_t> placeholder_action(uint32_t default_action, const std::vector<PreparedRule>& rules) {
    for (uint32_t data = 0xffff; data > 0; --data) {
        const uint32_t candidate = SCMP_ACT_TRACE(data);
        bool used = candidate == default_action;
        for (const PreparedRule& r : rules) used = used || r.action == candidate;
        if (!used) return candidate;
    }
    return fail(kSeccompField, "no free action value left to link the architectures' programs");
}

// Turns each placeholder return of `part` into a jump past its end, where the next program starts.
Status link_to_next(std::vector<sock_filter>& part, uint32_t placeholder) {
    bool linked = false;
    for (std::size_t pc = 0; pc < part.size(); ++pc) {
        sock_filter& insn = part[pc];
        if (insn.code != (BPF_RET | BPF_K) || insn.k != placeholder) continue;
        insn = sock_filter{static_cast<uint16_t>(BPF_JMP | BPF_JA), 0, 0,
                           static_cast<uint32_t>(part.size() - (pc + 1))};
        linked = true;
    }
    // Every program starts by checking the architecture, so the placeholder must be there.
    if (!linked) return fail(kSeccompField, "the per-architecture seccomp program has no architecture check");
    return ok();
}

Result<std::vector<sock_filter>> export_bpf(scmp_filter_ctx ctx) {
    // libseccomp 2.5 exports only to a file descriptor; an anonymous memory file has no size
    // limit (unlike a pipe) and never touches a filesystem.
    UniqueFd fd(::memfd_create("hrun-seccomp-bpf", MFD_CLOEXEC));
    if (!fd) return fail_errno("cannot create a memory file for the seccomp filter", kSeccompField);
    int rc = seccomp_export_bpf(ctx, fd.get());
    if (rc < 0) return fail(kSeccompField, "cannot export the seccomp filter", -rc);

    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return fail_errno("cannot stat the exported seccomp filter", kSeccompField);
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0 || size % sizeof(sock_filter) != 0)
        return fail(kSeccompField, "libseccomp exported a malformed filter of " +
                                       std::to_string(size) + " bytes");
    const std::size_t count = size / sizeof(sock_filter);

    std::vector<sock_filter> filter(count);
    auto* dst = reinterpret_cast<char*>(filter.data());
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd.get(), dst + done, size - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_errno("cannot read the exported seccomp filter", kSeccompField);
        if (n == 0) return fail(kSeccompField, "the exported seccomp filter is truncated");
        done += static_cast<std::size_t>(n);
    }
    return filter;
}

// Syscalls newer than a profile must fail with ENOSYS, not with the default EPERM: a libc
// probing for a new syscall (clone3, faccessat2, fchmodat2, ...) falls back to an older one on
// ENOSYS but gives up on EPERM. "Newer" means numbered above every syscall the profile names
// for that architecture (runc and crun draw the line the same way). The check is a short
// prologue per architecture ahead of libseccomp's programs:
//
//   ld  [arch]; jeq AUDIT_ARCH ? next : skip block
//   ld  [nr];   jge X32_SYSCALL_BIT ? skip block    (x32 calls share x86_64's AUDIT_ARCH)
//               jgt highest ? ret ERRNO(ENOSYS) : skip block
//
// Profiles whose default already allows, logs or returns ENOSYS need none.
constexpr uint32_t kX32SyscallBit = 0x40000000;

bool wants_enosys_prologue(uint32_t default_action) {
    const uint32_t kind = default_action & SECCOMP_RET_ACTION_FULL;
    if (kind == SCMP_ACT_ALLOW || kind == SCMP_ACT_LOG) return false;
    return default_action != SCMP_ACT_ERRNO(ENOSYS);
}

std::vector<sock_filter> enosys_prologue(const std::vector<Arch>& arches, const spec::Seccomp& config) {
    std::vector<sock_filter> out;
    for (const Arch& arch : arches) {
        if (arch.token == SCMP_ARCH_X32) continue;  // covered by the x86_64 block's range check
        int highest = -1;
        for (const spec::SeccompSyscall& call : config.syscalls)
            for (const std::string& name : call.names)
                highest = std::max(highest, seccomp_syscall_resolve_name_arch(arch.token, name.c_str()));
        // A profile that names nothing on this architecture gives no line to draw: its default
        // action stands for every syscall there.
        if (highest < 0) continue;
        const sock_filter block[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch.token, 0, 4),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 2, 0),
            BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, static_cast<uint32_t>(highest), 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        };
        out.insert(out.end(), std::begin(block), std::end(block));
    }
    return out;
}

}  // namespace

Result<SeccompProgram> compile_seccomp(const spec::Seccomp& config) {
    if (!config.listenerPath.empty())
        return fail(kSeccompField + ".listenerPath",
                    "seccomp notify listeners are not supported");

    auto default_action = seccomp_action_from_name(config.defaultAction, config.defaultErrnoRet,
                                                   "defaultAction", "defaultErrnoRet");
    if (!default_action)
        return std::unexpected(under(std::move(default_action.error()), kSeccompField));

    SeccompProgram program;
    program.flags = HRUN_TRY(filter_flags(config));
    const std::vector<Arch> arches = HRUN_TRY(filter_architectures(config));

    // Check the whole configuration before building anything.
    std::vector<PreparedRule> rules;
    rules.reserve(config.syscalls.size());
    for (std::size_t i = 0; i < config.syscalls.size(); ++i) {
        auto rule = HRUN_TRY(prepare_rule(config.syscalls[i], i, *default_action));
        if (rule) rules.push_back(std::move(*rule));
    }
    const uint32_t placeholder = HRUN_TRY(placeholder_action(*default_action, rules));

    // The native architecture comes first, so the container's own syscalls take no detour.
    for (std::size_t a = 0; a < arches.size(); ++a) {
        const Arch& arch = arches[a];
        const bool last = a + 1 == arches.size();
        const std::string arch_field = arch.index ? indexed(kSeccompField, "architectures", *arch.index)
                                                  : kSeccompField;

        FilterContext ctx(seccomp_init(*default_action));
        if (!ctx)
            return fail(kSeccompField + ".defaultAction", "libseccomp refused the default action");
        // hrun sets no_new_privs itself, where the process configuration asks for it; the filter
        // must not force it (a privileged container may run a filter without it).
        int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
        if (rc < 0) return fail(kSeccompField, "cannot clear the no_new_privs filter attribute", -rc);
        if (arch.token != seccomp_arch_native()) {
            // Add before removing: a context must never be left without an architecture.
            rc = seccomp_arch_add(ctx.get(), arch.token);
            if (rc == 0) rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE);
            if (rc < 0) return fail(arch_field, "cannot filter for this architecture", -rc);
        }
        if (!last) {
            rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, placeholder);
            if (rc < 0) return fail(arch_field, "cannot set the bad-architecture action", -rc);
        }

        for (const PreparedRule& rule : rules) HRUN_TRY(add_rule(ctx.get(), rule, config));

        std::vector<sock_filter> part = HRUN_TRY(export_bpf(ctx.get()));
        if (!last) HRUN_TRY(link_to_next(part, placeholder));
        program.filter.insert(program.filter.end(), part.begin(), part.end());
    }

    if (wants_enosys_prologue(*default_action)) {
        std::vector<sock_filter> prologue = enosys_prologue(arches, config);
        program.filter.insert(program.filter.begin(), prologue.begin(), prologue.end());
    }

    // Refuse here, with a clear message, what the kernel would refuse later with a bare EINVAL.
    if (program.filter.size() > BPF_MAXINSNS)
        return fail(kSeccompField, "the filter compiles to " + std::to_string(program.filter.size()) +
                                       " instructions, more than the kernel's limit of " +
                                       std::to_string(BPF_MAXINSNS));
    return program;
}

}  // namespace hrun::security
