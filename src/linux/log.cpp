#include "linux/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace hrun::log {

namespace {

struct Sink {
    int fd = STDERR_FILENO;
    bool json = false;
    bool file = false;
    Level min = Level::Warn;
};
Sink sink;

const char* level_name(Level level) {
    switch (level) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warn: return "warning";
        case Level::Error: return "error";
    }
    return "info";
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

std::string timestamp() {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    ::gmtime_r(&ts.tv_sec, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

}  // namespace

Status configure(const std::string& path, bool json, bool debug) {
    sink.json = json;
    sink.min = debug ? Level::Debug : Level::Warn;
    if (!path.empty()) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) return fail_errno("cannot open the log file \"" + path + "\"", "--log");
        sink.fd = fd;
        sink.file = true;
    }
    return ok();
}

bool to_file() { return sink.file; }

void write(Level level, std::string_view message) {
    if (level < sink.min) return;
    std::string line;
    if (sink.json) {
        line = "{\"level\":\"";
        line += level_name(level);
        line += "\",\"msg\":";
        append_json_string(line, message);
        line += ",\"time\":\"" + timestamp() + "\"}\n";
    } else if (sink.file) {
        line = timestamp() + ' ' + level_name(level) + ": " + std::string(message) + '\n';
    } else {
        line = "hrun: " + std::string(level_name(level)) + ": " + std::string(message) + '\n';
    }
    // One write per line so concurrent writers to an O_APPEND file never interleave.
    (void)!::write(sink.fd, line.data(), line.size());
}

}  // namespace hrun::log
