#include <algorithm>
#include "rootfs/mount_options.hpp"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <array>
#include <cerrno>

namespace hrun::rootfs {

namespace {

// statvfs's ST_NOSYMFOLLOW (Linux 5.10), missing from older libc headers.
constexpr unsigned long kStNoSymFollow = 0x2000;

// Options that turn one mount attribute on or off.
struct AttrOption {
    std::string_view name;
    uint64_t bit;
    bool on;
};
constexpr std::array kAttrOptions{
    AttrOption{"ro", MOUNT_ATTR_RDONLY, true},          AttrOption{"rw", MOUNT_ATTR_RDONLY, false},
    AttrOption{"nosuid", MOUNT_ATTR_NOSUID, true},      AttrOption{"suid", MOUNT_ATTR_NOSUID, false},
    AttrOption{"nodev", MOUNT_ATTR_NODEV, true},        AttrOption{"dev", MOUNT_ATTR_NODEV, false},
    AttrOption{"noexec", MOUNT_ATTR_NOEXEC, true},      AttrOption{"exec", MOUNT_ATTR_NOEXEC, false},
    AttrOption{"nodiratime", MOUNT_ATTR_NODIRATIME, true},
    AttrOption{"diratime", MOUNT_ATTR_NODIRATIME, false},
    AttrOption{"nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, true},
    AttrOption{"symfollow", MOUNT_ATTR_NOSYMFOLLOW, false},
};

// Options that choose the atime mode. The kernel keeps one mode per mount, so the negations
// pick the mode mount(8) would end up with: "norelatime" means strict atime updates, "atime"
// and "nostrictatime" mean the kernel default (relatime).
struct AtimeOption {
    std::string_view name;
    uint64_t mode;
};
constexpr std::array kAtimeOptions{
    AtimeOption{"noatime", MOUNT_ATTR_NOATIME},         AtimeOption{"atime", MOUNT_ATTR_RELATIME},
    AtimeOption{"relatime", MOUNT_ATTR_RELATIME},       AtimeOption{"norelatime", MOUNT_ATTR_STRICTATIME},
    AtimeOption{"strictatime", MOUNT_ATTR_STRICTATIME}, AtimeOption{"nostrictatime", MOUNT_ATTR_RELATIME},
};

// Superblock flags the VFS parses itself for every filesystem (fs_context's common flags).
struct SbOption {
    std::string_view name;
    unsigned long ms_bit;
    bool on;
};
constexpr std::array kSbOptions{
    SbOption{"sync", MS_SYNCHRONOUS, true},  SbOption{"async", MS_SYNCHRONOUS, false},
    SbOption{"dirsync", MS_DIRSYNC, true},   SbOption{"lazytime", MS_LAZYTIME, true},
    SbOption{"nolazytime", MS_LAZYTIME, false}, SbOption{"mand", MS_MANDLOCK, true},
    SbOption{"nomand", MS_MANDLOCK, false},
};

// Options hrun knows but cannot honour yet; refusing them beats producing a different mount.
constexpr std::array<std::string_view, 2> kUnsupported{"iversion", "noiversion"};

void change_bit(AttrChange& c, uint64_t bit, bool on) {
    if (on) {
        c.set |= bit;
        c.clear &= ~bit;
    } else {
        c.clear |= bit;
        c.set &= ~bit;
    }
}

void change_atime(AttrChange& c, uint64_t mode) {
    c.clear |= MOUNT_ATTR__ATIME;
    c.set = (c.set & ~uint64_t{MOUNT_ATTR__ATIME}) | mode;
}

// Applies `name` as an attribute option to `c`; false if it is not one.
bool apply_attr_option(std::string_view name, AttrChange& c) {
    for (const auto& o : kAttrOptions)
        if (o.name == name) {
            change_bit(c, o.bit, o.on);
            return true;
        }
    for (const auto& o : kAtimeOptions)
        if (o.name == name) {
            change_atime(c, o.mode);
            return true;
        }
    return false;
}

std::vector<std::string_view> split_commas(std::string_view s) {
    std::vector<std::string_view> parts;
    while (true) {
        auto comma = s.find(',');
        parts.push_back(s.substr(0, comma));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return parts;
}

}  // namespace

std::optional<unsigned long> parse_propagation(std::string_view name) {
    bool rec = false;
    std::string_view base = name;
    if (base.size() > 1 && base.front() == 'r') {
        base.remove_prefix(1);
        rec = true;
    }
    unsigned long flag = 0;
    if (base == "private") flag = MS_PRIVATE;
    else if (base == "shared") flag = MS_SHARED;
    else if (base == "slave") flag = MS_SLAVE;
    else if (base == "unbindable") flag = MS_UNBINDABLE;
    else return std::nullopt;
    return flag | (rec ? static_cast<unsigned long>(MS_REC) : 0UL);
}

FsParam split_fs_param(std::string_view option) {
    auto eq = option.find('=');
    if (eq == std::string_view::npos) return FsParam{std::string(option), {}, false};
    return FsParam{std::string(option.substr(0, eq)), std::string(option.substr(eq + 1)), true};
}

Result<MountOptions> parse_mount_options(const std::vector<std::string>& options,
                                         const std::string& field) {
    MountOptions out;
    bool remount = false;
    std::string first_data_field;
    std::string first_sb_field;
    for (std::size_t i = 0; i < options.size(); ++i) {
        std::string entry_field = field + "[" + std::to_string(i) + "]";
        for (std::string_view opt : split_commas(options[i])) {
            if (opt.empty() || opt == "defaults") continue;
            // Userspace-only hints by mount(8)'s convention; never meant for the kernel.
            if (opt.starts_with("x-")) continue;
            // Only change kernel log verbosity on errors.
            if (opt == "silent" || opt == "loud") continue;
            if (opt == "bind" || opt == "rbind") {
                out.bind = true;
                out.recursive = out.recursive || opt == "rbind";
                continue;
            }
            if (opt == "remount") {
                remount = true;
                continue;
            }
            if (auto prop = parse_propagation(opt)) {
                out.propagation.push_back(*prop);
                continue;
            }
            if (apply_attr_option(opt, out.attrs)) continue;
            if (opt.size() > 1 && opt.front() == 'r' && apply_attr_option(opt.substr(1), out.rec_attrs))
                continue;
            bool sb = false;
            for (const auto& o : kSbOptions)
                if (o.name == opt) {
                    out.sb_flags.emplace_back(opt);
                    if (o.on) out.sb_ms_flags |= o.ms_bit;
                    else out.sb_ms_flags &= ~o.ms_bit;
                    sb = true;
                }
            if (sb) {
                if (first_sb_field.empty()) first_sb_field = entry_field;
                continue;
            }
            if (opt == "tmpcopyup") {
                out.tmpcopyup = true;
                continue;
            }
            if (opt == "idmap" || opt == "ridmap") {
                out.idmap = true;
                out.idmap_recursive = out.idmap_recursive || opt == "ridmap";
                if (out.idmap_field.empty()) out.idmap_field = entry_field;
                continue;
            }
            for (auto u : kUnsupported)
                if (u == opt)
                    return fail(entry_field, "\"" + std::string(opt) + "\" is not supported", EOPNOTSUPP);
            if (first_data_field.empty()) first_data_field = entry_field;
            out.data.push_back(split_fs_param(opt));
        }
    }
    if (out.bind) {
        // A bind mount creates no superblock: there is nothing to give filesystem options to.
        if (!out.data.empty())
            return fail(first_data_field,
                        "\"" + join_fs_params({out.data.front()}) + "\" is not a bind mount option", EINVAL);
        if (!out.sb_flags.empty())
            return fail(first_sb_field, "\"" + out.sb_flags.front() + "\" cannot be changed on a bind mount",
                        EINVAL);
    } else if (remount) {
        return fail(field, "\"remount\" only applies to bind mounts", EINVAL);
    } else if (!out.rec_attrs.empty()) {
        // A fresh filesystem has nothing below it yet: the recursive form equals the plain one.
        out.attrs.set = (out.attrs.set & ~out.rec_attrs.clear) | out.rec_attrs.set;
        out.attrs.clear = (out.attrs.clear & ~out.rec_attrs.set) | out.rec_attrs.clear;
        out.rec_attrs = {};
    }
    return out;
}

unsigned long attrs_to_ms_flags(const AttrChange& attrs) {
    unsigned long ms = 0;
    if (attrs.set & MOUNT_ATTR_RDONLY) ms |= MS_RDONLY;
    if (attrs.set & MOUNT_ATTR_NOSUID) ms |= MS_NOSUID;
    if (attrs.set & MOUNT_ATTR_NODEV) ms |= MS_NODEV;
    if (attrs.set & MOUNT_ATTR_NOEXEC) ms |= MS_NOEXEC;
    if (attrs.set & MOUNT_ATTR_NODIRATIME) ms |= MS_NODIRATIME;
    if (attrs.set & MOUNT_ATTR_NOSYMFOLLOW) ms |= MS_NOSYMFOLLOW;
    if (attrs.clear & MOUNT_ATTR__ATIME) {
        switch (attrs.set & MOUNT_ATTR__ATIME) {
            case MOUNT_ATTR_NOATIME: ms |= MS_NOATIME; break;
            case MOUNT_ATTR_STRICTATIME: ms |= MS_STRICTATIME; break;
            default: ms |= MS_RELATIME; break;
        }
    }
    return ms;
}

unsigned long statfs_to_ms_flags(unsigned long st) {
    unsigned long ms = 0;
    if (st & ST_RDONLY) ms |= MS_RDONLY;
    if (st & ST_NOSUID) ms |= MS_NOSUID;
    if (st & ST_NODEV) ms |= MS_NODEV;
    if (st & ST_NOEXEC) ms |= MS_NOEXEC;
    if (st & ST_NOATIME) ms |= MS_NOATIME;
    if (st & ST_NODIRATIME) ms |= MS_NODIRATIME;
    if (st & ST_RELATIME) ms |= MS_RELATIME;
    if (st & kStNoSymFollow) ms |= MS_NOSYMFOLLOW;
    // MS_STRICTATIME is not stored: a mount with neither noatime nor relatime is strictatime.
    if (!(ms & (MS_NOATIME | MS_RELATIME))) ms |= MS_STRICTATIME;
    return ms;
}

unsigned long apply_change_to_ms_flags(unsigned long ms, const AttrChange& change) {
    constexpr unsigned long kAtime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
    AttrChange cleared{change.clear & ~uint64_t{MOUNT_ATTR__ATIME}, 0};
    ms &= ~attrs_to_ms_flags(cleared);
    if (change.clear & MOUNT_ATTR__ATIME) ms &= ~kAtime;
    return ms | attrs_to_ms_flags(change);
}

std::string join_fs_params(const std::vector<FsParam>& params) {
    std::string out;
    for (const auto& p : params) {
        if (!out.empty()) out += ',';
        out += p.key;
        if (p.has_value) out += "=" + p.value;
    }
    return out;
}

std::vector<std::string> known_mount_options() {
    std::vector<std::string> names;
    for (const auto& o : kAttrOptions) {
        names.emplace_back(o.name);
        names.push_back("r" + std::string(o.name));  // recursive variant
    }
    for (const auto& o : kAtimeOptions) names.emplace_back(o.name);
    for (const auto& o : kSbOptions) names.emplace_back(o.name);
    for (const char* p : {"bind", "rbind", "idmap", "ridmap", "private", "rprivate", "shared", "rshared", "slave",
                          "rslave", "unbindable", "runbindable"})
        names.emplace_back(p);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace hrun::rootfs
