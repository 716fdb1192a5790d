// hrun's log: text for people, JSON lines ({"level","msg","time"}) for engines that parse
// runc's --log-format json.
#pragma once

#include <string>
#include <string_view>

#include "hrun/error.hpp"

namespace hrun::log {

enum class Level { Debug, Info, Warn, Error };

// path empty: stderr. Called once by the CLI before any command runs.
Status configure(const std::string& path, bool json, bool debug);

void write(Level level, std::string_view message);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warn, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

// True when a log file was configured (errors then go there as well as to stderr).
bool to_file();

}  // namespace hrun::log
