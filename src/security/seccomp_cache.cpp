#include "security/seccomp_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "hrun/fd.hpp"
#include "linux/sealed_exe.hpp"

namespace hrun::security {

namespace {

constexpr std::string_view kMagic = "hrun-seccomp-bpf 1\n";
constexpr std::size_t kMaxInsns = BPF_MAXINSNS;
constexpr std::size_t kMaxKey = 1 << 20;

void put_u32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

bool take_u32(std::string_view& in, uint32_t& v) {
    if (in.size() < sizeof v) return false;
    std::memcpy(&v, in.data(), sizeof v);
    in.remove_prefix(sizeof v);
    return true;
}

// The identity of the running binary: a rebuilt or replaced hrun gets other keys. A sealed
// copy (linux/sealed_exe.hpp) is a new inode at every start but keeps the original's size and
// mtime: those alone name it, or every `exec` would miss and add an entry.
std::string binary_identity() {
    struct stat st {};
    UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe || ::fstat(exe.get(), &st) != 0) return "exe unknown";
    const std::string times = " size " + std::to_string(st.st_size) + " mtime " +
                              std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (os::fd_is_sealed(exe.get())) return "sealed exe" + times;
    return "exe " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + times;
}

std::string libseccomp_identity() {
    const scmp_version* v = seccomp_version();
    if (!v) return "libseccomp unknown";
    return "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro);
}

bool read_all(int fd, std::string& out, std::size_t limit) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) return false;
    }
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Empties the directory once it holds too many entries: profiles seen once are not worth
// keeping, and the next starts refill it with the ones in use.
void evict_if_full(int dirfd) {
    int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return;
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
    if (names.size() < SeccompCache::kMaxEntries) return;
    for (const std::string& name : names) ::unlinkat(dirfd, name.c_str(), 0);
}

// "<length>:<bytes>": no string can be mistaken for the end of another or for a separator.
void put_text(std::string& out, std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
}

void put_list(std::string& out, const std::vector<std::string>& list) {
    out += std::to_string(list.size());
    out += '[';
    for (const std::string& s : list) put_text(out, s);
    out += ']';
}

void put_number(std::string& out, uint64_t v) {
    out += std::to_string(v);
    out += ';';
}

void put_errno(std::string& out, const std::optional<uint32_t>& v) {
    if (v) put_number(out, *v);
    else out += "-;";
}

}  // namespace

std::string seccomp_cache_key(const spec::Seccomp& profile) {
    std::string key = libseccomp_identity();
    key += '\n';
    key += binary_identity();
    key += "\nprofile ";
    put_text(key, profile.defaultAction);
    put_errno(key, profile.defaultErrnoRet);
    put_list(key, profile.architectures);
    put_list(key, profile.flags);
    put_text(key, profile.listenerPath);
    put_text(key, profile.listenerMetadata);
    put_number(key, profile.syscalls.size());
    for (const spec::SeccompSyscall& rule : profile.syscalls) {
        key += '\n';
        put_list(key, rule.names);
        put_text(key, rule.action);
        put_errno(key, rule.errnoRet);
        put_number(key, rule.args.size());
        for (const spec::SeccompArg& arg : rule.args) {
            put_number(key, arg.index);
            put_number(key, arg.value);
            put_number(key, arg.valueTwo);
            put_text(key, arg.op);
        }
    }
    return key;
}

std::string SeccompCache::entry_name(std::string_view key) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char c : key) {
        h ^= c;
        h *= 1099511628211ull;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string name(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) name[static_cast<std::size_t>(i)] = kHex[h & 0xf];
    return name + ".bpf";
}

std::string SeccompCache::format_entry(std::string_view key, const SeccompProgram& program) {
    std::string out(kMagic);
    put_u32(out, static_cast<uint32_t>(key.size()));
    out += key;
    put_u32(out, program.flags);
    put_u32(out, static_cast<uint32_t>(program.filter.size()));
    out.append(reinterpret_cast<const char*>(program.filter.data()), program.filter.size() * sizeof(sock_filter));
    return out;
}

std::optional<SeccompProgram> SeccompCache::parse_entry(std::string_view text, std::string_view key) {
    if (!text.starts_with(kMagic)) return std::nullopt;
    text.remove_prefix(kMagic.size());
    uint32_t key_size = 0, flags = 0, count = 0;
    if (!take_u32(text, key_size) || key_size != key.size() || text.size() < key_size) return std::nullopt;
    if (text.substr(0, key_size) != key) return std::nullopt;
    text.remove_prefix(key_size);
    if (!take_u32(text, flags) || !take_u32(text, count)) return std::nullopt;
    if (count == 0 || count > kMaxInsns || text.size() != count * sizeof(sock_filter)) return std::nullopt;
    SeccompProgram program;
    program.flags = flags;
    program.filter.resize(count);
    std::memcpy(program.filter.data(), text.data(), text.size());
    return program;
}

SeccompCache SeccompCache::open(std::string dir) noexcept { return SeccompCache(std::move(dir)); }

std::string SeccompCache::default_dir() {
    if (::geteuid() == 0) return "/var/cache/hrun/seccomp";
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/') return std::string(xdg) + "/hrun/seccomp";
    if (const char* home = std::getenv("HOME"); home && home[0] == '/') return std::string(home) + "/.cache/hrun/seccomp";
    return {};
}

UniqueFd SeccompCache::open_dir(bool create) const noexcept {
    if (path_.empty() || path_[0] != '/') return UniqueFd();
    if (create) {
        // Each missing component is made private; existing ones are left as they are.
        for (std::size_t slash = path_.find('/', 1);; slash = path_.find('/', slash + 1)) {
            const std::string prefix = path_.substr(0, slash);
            if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return UniqueFd();
            if (slash == std::string::npos) break;
        }
    }
    UniqueFd dir(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!dir || ::fstat(dir.get(), &st) != 0) return UniqueFd();
    // Only a directory that is ours and closed to everyone else can hand us programs to load.
    if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) return UniqueFd();
    return dir;
}

std::optional<SeccompProgram> SeccompCache::find(std::string_view key) const {
    if (key.size() > kMaxKey) return std::nullopt;
    const UniqueFd dir = open_dir(false);
    if (!dir) return std::nullopt;
    UniqueFd fd(::openat(dir.get(), entry_name(key).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) return std::nullopt;
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) return std::nullopt;
    std::string text;
    text.reserve(static_cast<std::size_t>(st.st_size));
    if (!read_all(fd.get(), text, kMagic.size() + kMaxKey + 12 + kMaxInsns * sizeof(sock_filter)))
        return std::nullopt;
    return parse_entry(text, key);
}

void SeccompCache::store(std::string_view key, const SeccompProgram& program) const noexcept {
    if (key.size() > kMaxKey || program.filter.empty() || program.filter.size() > kMaxInsns) return;
    try {
        const UniqueFd dir_fd = open_dir(true);
        if (!dir_fd) return;
        const int dir = dir_fd.get();
        evict_if_full(dir);
        const std::string name = entry_name(key);
        const std::string tmp = ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
        UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) return;
        const bool written = write_all(fd.get(), format_entry(key, program));
        fd.reset();
        if (!written || ::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) ::unlinkat(dir, tmp.c_str(), 0);
    } catch (...) {
        // Out of memory while caching: the container starts anyway, uncached.
    }
}

}  // namespace hrun::security
