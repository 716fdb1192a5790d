// mounts[].options as the kernel wants them: mount attributes (MOUNT_ATTR_*), propagation
// changes, superblock flags and filesystem parameters for fsconfig(2).
//
// Pure functions of the option strings, run in the parent and unit-tested without root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hrun/error.hpp"

namespace hrun::rootfs {

// A change of mount attributes as mount_setattr(2) expresses it: bits to set, bits to clear.
// The atime mode is an enumeration inside MOUNT_ATTR__ATIME: choosing one puts the whole mask in
// `clear` and the chosen value (possibly 0 for relatime) in `set`.
struct AttrChange {
    uint64_t set = 0;
    uint64_t clear = 0;

    bool empty() const { return set == 0 && clear == 0; }
    bool operator==(const AttrChange&) const = default;
};

// One fsconfig(2) parameter: "size=64k" -> {"size", "64k", true}; "newinstance" -> flag.
struct FsParam {
    std::string key;
    std::string value;
    bool has_value = false;

    bool operator==(const FsParam&) const = default;
};

struct MountOptions {
    bool bind = false;       // "bind" or "rbind"
    bool recursive = false;  // "rbind"
    AttrChange attrs;        // on the mount itself: ro, nosuid, noatime, ...
    AttrChange rec_attrs;    // on the mount and everything below it: rro, rnosuid, ...
    // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, with MS_REC for the r-variants, in the order given.
    std::vector<unsigned long> propagation;
    // Superblock flags ("sync", "dirsync", "lazytime", "mand" and their negations): names for
    // fsconfig(FSCONFIG_SET_FLAG) and the MS_* bits for mount(2).
    std::vector<std::string> sb_flags;
    unsigned long sb_ms_flags = 0;
    // Everything else belongs to the filesystem ("size=65536k", "mode=755", "newinstance").
    std::vector<FsParam> data;
    // "tmpcopyup" (tmpfs only): the new tmpfs starts with a copy of what the directory it
    // covers holds, as podman asks for --read-only containers' writable dirs.
    bool tmpcopyup = false;
    // "idmap"/"ridmap" (bind mounts only): the mount shows file owners through an id mapping
    // (mount_setattr MOUNT_ATTR_IDMAP); "ridmap" maps every mount of an rbind, "idmap" the top one.
    // `idmap_field` is the option's entry, for errors ("mounts[3].options[1]").
    bool idmap = false;
    bool idmap_recursive = false;
    std::string idmap_field;
};

// Parses mounts[i].options. `field` is "mounts[i].options"; errors name the entry:
// `mounts[2].options[4]: "rbind" conflicts with a recursive option`. Options containing commas
// are split like mount(8) does ("size=1m,mode=755" is two options).
// Every option name parse_mount_options accepts as a flag (for `hrun features`).
std::vector<std::string> known_mount_options();

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         const std::string& field);

// "rshared" -> MS_SHARED|MS_REC, "private" -> MS_PRIVATE; nullopt for anything else.
std::optional<unsigned long> parse_propagation(std::string_view name);

// MOUNT_ATTR_* bits of a fresh mount -> the MS_* flags mount(2) takes for the same result.
unsigned long attrs_to_ms_flags(const AttrChange& attrs);

// statfs(2) f_flags (ST_*) -> MS_* flags, to keep a mount's current flags on an MS_REMOUNT.
unsigned long statfs_to_ms_flags(unsigned long st_flags);

// Applies an attribute change to MS_* flags (for the mount(2) remount fallback).
unsigned long apply_change_to_ms_flags(unsigned long ms_flags, const AttrChange& change);

// Joins filesystem parameters back into a mount(2) data string: "size=64k,mode=755".
std::string join_fs_params(const std::vector<FsParam>& params);

// Splits "key=value" (or a bare flag) into an FsParam.
FsParam split_fs_param(std::string_view option);

}  // namespace hrun::rootfs
