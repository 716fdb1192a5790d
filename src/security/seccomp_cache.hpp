// Compiled seccomp programs kept on disk (/var/cache/hrun/seccomp for root, the user's cache
// directory otherwise), so that starting a container
// with a profile seen before (engines pass the same default profile to every container) skips
// libseccomp: compiling a few hundred rules costs milliseconds, reading the program back
// microseconds.
//
// An entry is found by a hash of its key but trusted only after comparing the whole key, stored
// in the entry: a hash collision is a miss, never another profile's program. The key holds
// everything the program depends on: every field of the profile, the libseccomp version and
// the identity of the hrun binary (so a rebuilt hrun never reuses an older compiler's output).
// Entries are written to a temporary name and renamed, so a reader sees all of one or nothing.
// The directory must belong to the caller and be closed to everyone else (mode 0700), and so
// must each entry; anything else is ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "hrun/fd.hpp"
#include "security/seccomp.hpp"

namespace hrun::security {

// The full cache key of a profile: the libseccomp version, the binary's identity and every
// field of the profile, each string length-prefixed so that two different profiles never give
// the same key. Written directly from the struct: serialising the profile as JSON cost more
// than reading the cached program back.
std::string seccomp_cache_key(const spec::Seccomp& profile);

class SeccompCache {
public:
    // The cache in `dir` (created, with missing parents, when something is first stored). Any
    // problem gives a cache that finds nothing and stores nothing: it only ever saves time.
    static SeccompCache open(std::string dir) noexcept;

    // /var/cache/hrun/seccomp for root; $XDG_CACHE_HOME/hrun/seccomp (or ~/.cache/...) for
    // other users; empty when there is no such place.
    static std::string default_dir();

    std::optional<SeccompProgram> find(std::string_view key) const;
    void store(std::string_view key, const SeccompProgram& program) const noexcept;

    const std::string& dir() const { return path_; }

    // Entry file name for a key: the hex of a 64-bit FNV-1a hash.
    static std::string entry_name(std::string_view key);
    // Entry contents and their inverse (pure; unit-tested). parse_entry returns nothing unless
    // the text is a well-formed entry for exactly `key`.
    static std::string format_entry(std::string_view key, const SeccompProgram& program);
    static std::optional<SeccompProgram> parse_entry(std::string_view text, std::string_view key);

    static constexpr std::size_t kMaxEntries = 64;  // beyond that the directory is emptied

private:
    explicit SeccompCache(std::string path) : path_(std::move(path)) {}
    // The directory, checked: ours and mode 0700. `create` makes it (and its parents) first.
    UniqueFd open_dir(bool create) const noexcept;
    std::string path_;
};

}  // namespace hrun::security
