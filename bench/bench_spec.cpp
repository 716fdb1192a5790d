// Cost of reading config.json: parse + validate of the shipped default config, and the whole
// load from disk.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "spec/spec_io.hpp"

namespace hrun::bench {
namespace {

const std::string kDefaultConfig = std::string(HRUN_SOURCE_DIR) + "/specs/default.json";

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return std::move(text).str();
}

// The shipped default config, or the same document as `hrun spec` writes it when the source
// tree has no specs/default.json.
struct ConfigText {
    std::string text;
    std::string label;
};

ConfigText default_config_text() {
    if (auto text = read_file(kDefaultConfig)) return {std::move(*text), "specs/default.json"};
    return {spec::to_json(spec::default_spec({})), "default_spec() (no specs/default.json)"};
}

// A config file on disk for the load benchmark; removes what it created.
class ConfigFile {
public:
    ConfigFile() {
        if (::access(kDefaultConfig.c_str(), R_OK) == 0) {
            path_ = kDefaultConfig;
            label_ = "specs/default.json";
            return;
        }
        char tmpl[] = "/tmp/hrun-bench-config-XXXXXX";
        int fd = ::mkstemp(tmpl);
        if (fd < 0) return;
        const std::string text = spec::to_json(spec::default_spec({}));
        bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
        ::close(fd);
        path_ = tmpl;
        owned_ = true;
        if (!written) path_.clear();
        label_ = "default_spec() written to a temporary file";
    }
    ~ConfigFile() {
        if (owned_) ::unlink(path_.c_str());
    }
    ConfigFile(const ConfigFile&) = delete;
    ConfigFile& operator=(const ConfigFile&) = delete;

    const std::string& path() const { return path_; }
    const std::string& label() const { return label_; }

private:
    std::string path_;
    std::string label_;
    bool owned_ = false;
};

void BM_ParseValidateDefault(benchmark::State& state) {
    const ConfigText config = default_config_text();
    for (auto _ : state) {
        auto parsed = spec::parse_spec(config.text);
        if (!parsed) {
            state.SkipWithError(parsed.error().what().c_str());
            return;
        }
        auto valid = spec::validate_spec(*parsed);
        if (!valid) {
            state.SkipWithError(valid.error().what().c_str());
            return;
        }
        benchmark::DoNotOptimize(parsed);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(config.text.size()));
    state.SetLabel(config.label);
}
BENCHMARK(BM_ParseValidateDefault)->Unit(benchmark::kMicrosecond);

void BM_LoadConfigFile(benchmark::State& state) {
    const ConfigFile file;
    if (file.path().empty()) {
        state.SkipWithError("cannot write a temporary config file");
        return;
    }
    for (auto _ : state) {
        auto loaded = spec::load_spec(file.path());
        if (!loaded) {
            state.SkipWithError(loaded.error().what().c_str());
            return;
        }
        benchmark::DoNotOptimize(loaded);
    }
    state.SetLabel(file.label());
}
BENCHMARK(BM_LoadConfigFile)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hrun::bench
