// Small builders for linux.seccomp configurations used by the seccomp tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hrun/spec.hpp"

namespace hrun::security::test {

inline spec::SeccompSyscall rule(std::vector<std::string> names, std::string action,
                                 std::optional<uint32_t> errno_ret = std::nullopt,
                                 std::vector<spec::SeccompArg> args = {}) {
    spec::SeccompSyscall s;
    s.names = std::move(names);
    s.action = std::move(action);
    s.errnoRet = errno_ret;
    s.args = std::move(args);
    return s;
}

inline spec::SeccompArg arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
    return spec::SeccompArg{index, value, value_two, std::move(op)};
}

inline spec::Seccomp profile(std::string default_action, std::vector<spec::SeccompSyscall> rules = {},
                             std::vector<std::string> arches = {}) {
    spec::Seccomp s;
    s.defaultAction = std::move(default_action);
    s.syscalls = std::move(rules);
    s.architectures = std::move(arches);
    return s;
}

}  // namespace hrun::security::test
