// A classic-BPF interpreter for the instructions seccomp programs use, so tests can ask what a
// compiled program returns for a syscall without loading it into the kernel.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace hrun::security::test {

// The value the program returns for `data`, or nothing for a malformed program (a jump out of
// range, an unknown instruction, or running off the end).
inline std::optional<uint32_t> run_bpf(const std::vector<sock_filter>& prog, const seccomp_data& data) {
    uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
    unsigned char bytes[sizeof(seccomp_data)];
    std::memcpy(bytes, &data, sizeof data);
    for (std::size_t pc = 0; pc < prog.size(); ++pc) {
        const sock_filter& i = prog[pc];
        switch (i.code) {
            case BPF_LD | BPF_W | BPF_ABS:
                if (i.k + 4 > sizeof bytes || i.k % 4 != 0) return std::nullopt;
                std::memcpy(&a, bytes + i.k, 4);
                break;
            case BPF_LD | BPF_IMM: a = i.k; break;
            case BPF_LDX | BPF_IMM: x = i.k; break;
            case BPF_LD | BPF_MEM: if (i.k >= BPF_MEMWORDS) return std::nullopt; a = mem[i.k]; break;
            case BPF_LDX | BPF_MEM: if (i.k >= BPF_MEMWORDS) return std::nullopt; x = mem[i.k]; break;
            case BPF_ST: if (i.k >= BPF_MEMWORDS) return std::nullopt; mem[i.k] = a; break;
            case BPF_STX: if (i.k >= BPF_MEMWORDS) return std::nullopt; mem[i.k] = x; break;
            case BPF_ALU | BPF_AND | BPF_K: a &= i.k; break;
            case BPF_ALU | BPF_OR | BPF_K: a |= i.k; break;
            case BPF_ALU | BPF_ADD | BPF_K: a += i.k; break;
            case BPF_ALU | BPF_SUB | BPF_K: a -= i.k; break;
            case BPF_MISC | BPF_TAX: x = a; break;
            case BPF_MISC | BPF_TXA: a = x; break;
            case BPF_RET | BPF_K: return i.k;
            case BPF_RET | BPF_A: return a;
            case BPF_JMP | BPF_JA: pc += i.k; break;
            case BPF_JMP | BPF_JEQ | BPF_K: pc += (a == i.k) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JGT | BPF_K: pc += (a > i.k) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JGE | BPF_K: pc += (a >= i.k) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i.k) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JEQ | BPF_X: pc += (a == x) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JGT | BPF_X: pc += (a > x) ? i.jt : i.jf; break;
            case BPF_JMP | BPF_JGE | BPF_X: pc += (a >= x) ? i.jt : i.jf; break;
            default: return std::nullopt;
        }
        if (pc >= prog.size()) return std::nullopt;
    }
    return std::nullopt;
}

// seccomp_data for syscall `nr` on `arch` (an AUDIT_ARCH_* value) with the given arguments.
inline seccomp_data syscall_data(uint32_t arch, int nr, std::vector<uint64_t> args = {}) {
    seccomp_data d{};
    d.nr = nr;
    d.arch = arch;
    for (std::size_t i = 0; i < args.size() && i < 6; ++i) d.args[i] = args[i];
    return d;
}

}  // namespace hrun::security::test
