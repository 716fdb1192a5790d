// Helpers shared by the files of the state module.
#pragma once

#include <dirent.h>

#include <memory>
#include <string>
#include <string_view>

#include "hrun/error.hpp"

namespace hrun::state::detail {

// Prefix of the temporary directories create() makes before renaming them to the id. check_id
// refuses ids starting with '@', so these never collide with a container.
inline constexpr std::string_view kCreatingPrefix = "@hrun-creating-";
// Prefix of the temporary files save() writes before renaming them to state.json.
inline constexpr std::string_view kStateTempPrefix = "state.json.tmp-";

inline std::string quoted(std::string_view id) { return "\"" + std::string(id) + "\""; }

inline std::unexpected<Error> does_not_exist(std::string_view id, int err = ENOENT) {
    return fail("", "container " + quoted(id) + " does not exist", err);
}

// `n` random lowercase hex digits for temporary names.
std::string random_hex(std::size_t n);

struct DirCloser {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

// A directory stream over `dirfd` with its own offset (a fresh open of "."), so that listings
// do not disturb, or depend on, the offset of `dirfd`.
Result<DirStream> open_listing(int dirfd);

// Reads a whole file below `dirfd` without following a symlink in its name; refuses anything
// but a regular file and anything larger than `limit` bytes (EFBIG).
Result<std::string> read_file_at(int dirfd, const char* name, std::size_t limit);

// Go's encoding/json writes '<', '>', '&', U+2028 and U+2029 escaped even inside strings;
// nlohmann's dump does not. Those characters only ever occur inside JSON strings, so replacing
// them in the dumped text is exact.
std::string go_json_escapes(std::string text);

}  // namespace hrun::state::detail
