// Small pieces shared by the state module: time stamps, user names, ids, file reading.
#include <fcntl.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

std::string rfc3339_nano(const struct timespec& ts) {
    struct tm tm{};
    time_t secs = ts.tv_sec;
    gmtime_r(&secs, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    long nsec = ts.tv_nsec;
    if (nsec > 0 && nsec < 1000000000L) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09ld", nsec);
        std::string f(frac);
        while (f.back() == '0') f.pop_back();  // Go's ".999999999" layout drops trailing zeros
        out += f;
    }
    out += 'Z';
    return out;
}

std::string rfc3339_now() {
    struct timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return rfc3339_nano(ts);
}

std::string user_name(uid_t uid) {
    long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
    for (;;) {
        struct passwd pw{};
        struct passwd* found = nullptr;
        int rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc == 0 && found != nullptr && found->pw_name != nullptr) return found->pw_name;
        return "#" + std::to_string(uid);
    }
}

std::string default_root() {
    if (::geteuid() != 0) {
        const char* xdg = std::getenv("XDG_RUNTIME_DIR");
        if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/hrun";
    }
    return "/run/hrun";
}

Status check_id(std::string_view id) {
    if (id.empty() || id == "." || id == ".." || id.find('/') != std::string_view::npos ||
        id.find('\0') != std::string_view::npos || id.front() == '@')
        return fail("id", "\"" + std::string(id) + "\" is not a valid container id", EINVAL);
    return ok();
}

namespace detail {

std::string random_hex(std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::vector<unsigned char> bytes((n + 1) / 2);
    std::size_t got = 0;
    while (got < bytes.size()) {
        ssize_t r = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        got += static_cast<std::size_t>(r);
    }
    if (got < bytes.size()) {
        // Uniqueness, not secrecy, is what matters: O_EXCL/RENAME_NOREPLACE catch collisions.
        struct timespec ts{};
        ::clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long mix = static_cast<unsigned long>(ts.tv_nsec) ^ (static_cast<unsigned long>(::getpid()) << 20);
        for (auto& b : bytes) {
            mix = mix * 6364136223846793005UL + 1442695040888963407UL;
            b = static_cast<unsigned char>(mix >> 56);
        }
    }
    std::string out;
    for (unsigned char b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    out.resize(n);
    return out;
}

Result<DirStream> open_listing(int dirfd) {
    UniqueFd listing(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing) return fail_errno("cannot read directory");
    DirStream d(::fdopendir(listing.get()));
    if (!d) return fail_errno("cannot read directory");
    listing.release();  // now owned by the stream
    return d;
}

Result<std::string> read_file_at(int dirfd, const char* name, std::size_t limit) {
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) return fail_errno(std::string("cannot open ") + name);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return fail_errno(std::string("cannot stat ") + name);
    if (!S_ISREG(st.st_mode)) return fail("", std::string(name) + " is not a regular file", EINVAL);
    if (static_cast<std::size_t>(st.st_size) > limit) return fail("", std::string(name) + " is too large", EFBIG);
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno(std::string("cannot read ") + name);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) return fail("", std::string(name) + " is too large", EFBIG);
    }
    return out;
}

std::string go_json_escapes(std::string text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '<') out += "\\u003c";
        else if (c == '>') out += "\\u003e";
        else if (c == '&') out += "\\u0026";
        else if (c == '\xe2' && i + 2 < text.size() && text[i + 1] == '\x80' &&
                 (text[i + 2] == '\xa8' || text[i + 2] == '\xa9')) {
            out += text[i + 2] == '\xa8' ? "\\u2028" : "\\u2029";
            i += 2;
        } else out += c;
    }
    return out;
}

}  // namespace detail
}  // namespace hrun::state
