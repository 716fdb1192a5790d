// Small file helpers for cgroup directories, all relative to an open directory fd so that a
// path is resolved once, when the directory is opened and checked to be on a cgroup filesystem.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"
#include "hrun/fd.hpp"

namespace hrun::cgroups::fs {

// Reads the whole file `name` under `dirfd`; 0 or an errno.
int read_at(int dirfd, const char* name, std::string& out);
// Writes `value` to the file `name` under `dirfd` in one write(2); 0 or an errno.
int write_at(int dirfd, const char* name, std::string_view value);
// Reads a whole file by path; 0 or an errno.
int read_path(const std::string& path, std::string& out);

// Opens a directory (O_PATH is not enough: cgroup.procs writes and BPF need a real fd) and
// checks that it is on cgroupfs or cgroup2fs; -errno on failure (-EXDEV when not a cgroup).
int open_cgroup_dir(const std::string& path);
int open_cgroup_dir_at(int dirfd, const char* name);

// Names of the sub-directories (child cgroups) of `dirfd`.
std::vector<std::string> subdirectories(int dirfd);

// The pids in cgroup.procs of `dirfd` and, when `recursive`, of every cgroup below it.
// 0 or an errno (ENOENT of a sub-cgroup removed meanwhile is not an error).
int read_procs(int dirfd, std::vector<pid_t>& out, bool recursive);

// Splits on any of `separators`, dropping empty pieces.
std::vector<std::string_view> split(std::string_view text, std::string_view separators);

// Parses a decimal unsigned number (the whole text, surrounding whitespace allowed).
bool parse_u64(std::string_view text, uint64_t& out);

// Without leading and trailing blanks and newlines.
std::string trim(std::string_view text);

void sleep_ms(int ms);

}  // namespace hrun::cgroups::fs
