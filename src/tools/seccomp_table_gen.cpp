// Build-time tool: turns profiles/seccomp/default.json into the C++ table of
// src/policy/seccomp_table.hpp. Every key is checked: one this tool does not know would be
// dropped from the table silently, so it is an error naming its JSON path instead.
//
//   seccomp_table_gen PROFILE.json OUTPUT.cpp
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

struct BadProfile {
    std::string path;
    std::string reason;
};

// The JSON path of `key` inside the object at `path` ("" is the top).
std::string member(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

void only_keys(const json& object, const std::string& path, const std::set<std::string>& known) {
    if (!object.is_object()) throw BadProfile{path, "must be an object"};
    for (const auto& [key, value] : object.items())
        if (!known.count(key)) throw BadProfile{member(path, key), "unknown key"};
}

std::string literal(const json& v, const std::string& path) {
    if (!v.is_string()) throw BadProfile{path, "must be a string"};
    std::string out = "\"";
    for (char c : v.get<std::string>()) {
        if (static_cast<unsigned char>(c) < 0x20) throw BadProfile{path, "control character in a string"};
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

uint64_t number(const json& v, const std::string& path, uint64_t max) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() > max)
        throw BadProfile{path, "must be a number from 0 to " + std::to_string(max)};
    return v.get<uint64_t>();
}


// A named array of string literals, or "{}" for an absent or empty list.
std::string string_array(std::ostream& decls, const json& parent, const char* key, const std::string& path,
                         const std::string& name) {
    if (!parent.contains(key)) return "{}";
    const json& list = parent.at(key);
    const std::string here = member(path, key);
    if (!list.is_array()) throw BadProfile{here, "must be an array"};
    if (list.empty()) return "{}";
    decls << "constexpr const char* " << name << "[] = {";
    for (std::size_t i = 0; i < list.size(); ++i)
        decls << (i ? ", " : "") << literal(list[i], here + "[" + std::to_string(i) + "]");
    decls << "};\n";
    return name;
}

std::string errno_fields(const json& parent, const char* key, const std::string& path) {
    if (!parent.contains(key)) return "false, 0";
    return "true, " + std::to_string(number(parent.at(key), member(path, key), UINT32_MAX));
}

std::string generate(const json& profile) {
    only_keys(profile, "", {"comment", "defaultAction", "defaultErrnoRet", "architectures", "flags", "syscalls"});
    if (!profile.contains("defaultAction")) throw BadProfile{"defaultAction", "missing"};
    if (!profile.contains("syscalls") || !profile["syscalls"].is_array())
        throw BadProfile{"syscalls", "must be an array"};

    std::ostringstream decls, rules;
    const json& syscalls = profile["syscalls"];
    for (std::size_t i = 0; i < syscalls.size(); ++i) {
        const std::string path = "syscalls[" + std::to_string(i) + "]";
        const std::string n = std::to_string(i);
        const json& rule = syscalls[i];
        only_keys(rule, path, {"comment", "names", "action", "errnoRet", "args", "whenCapability", "unlessCapability"});
        if (!rule.contains("names") || rule["names"].empty()) throw BadProfile{path + ".names", "missing or empty"};
        if (!rule.contains("action")) throw BadProfile{path + ".action", "missing"};
        std::string args = "{}";
        if (rule.contains("args") && !rule["args"].empty()) {
            const json& list = rule["args"];
            if (!list.is_array()) throw BadProfile{path + ".args", "must be an array"};
            args = "kArgs" + n;
            decls << "constexpr Arg " << args << "[] = {";
            for (std::size_t a = 0; a < list.size(); ++a) {
                const std::string ap = path + ".args[" + std::to_string(a) + "]";
                only_keys(list[a], ap, {"index", "value", "valueTwo", "op"});
                if (!list[a].contains("op")) throw BadProfile{ap + ".op", "missing"};
                decls << (a ? ", " : "") << "{" << number(list[a].value("index", json(0u)), ap + ".index", 5) << ", "
                      << number(list[a].value("value", json(0u)), ap + ".value", UINT64_MAX) << "u, "
                      << number(list[a].value("valueTwo", json(0u)), ap + ".valueTwo", UINT64_MAX) << "u, "
                      << literal(list[a]["op"], ap + ".op") << "}";
            }
            decls << "};\n";
        }
        rules << "    {" << string_array(decls, rule, "names", path, "kNames" + n) << ", "
              << literal(rule["action"], path + ".action") << ", " << errno_fields(rule, "errnoRet", path) << ", "
              << args << ", " << string_array(decls, rule, "whenCapability", path, "kWhen" + n) << ", "
              << string_array(decls, rule, "unlessCapability", path, "kUnless" + n) << "},\n";
    }

    std::ostringstream out;
    out << "// Generated from profiles/seccomp/default.json by src/tools/seccomp_table_gen.cpp.\n"
        << "#include \"policy/seccomp_table.hpp\"\n\n"
        << "namespace hrun::policy::table {\nnamespace {\n\n"
        << decls.str();
    const std::string arches = string_array(out, profile, "architectures", "", "kArchitectures");
    const std::string flags = string_array(out, profile, "flags", "", "kFlags");
    out << "\nconstexpr Rule kRules[] = {\n" << rules.str() << "};\n\n}  // namespace\n\n"
        << "const Profile kDefaultProfile{" << literal(profile["defaultAction"], "defaultAction") << ", "
        << errno_fields(profile, "defaultErrnoRet", "") << ", " << arches << ", " << flags << ", kRules};\n\n"
        << "}  // namespace hrun::policy::table\n";
    return out.str();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: seccomp_table_gen PROFILE.json OUTPUT.cpp\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    const json profile = json::parse(in, nullptr, false);
    if (profile.is_discarded()) {
        std::cerr << argv[1] << ": not valid JSON\n";
        return 1;
    }
    std::string text;
    try {
        text = generate(profile);
    } catch (const BadProfile& e) {
        std::cerr << argv[1] << ": " << (e.path.empty() ? "(top)" : e.path) << ": " << e.reason << "\n";
        return 1;
    }
    // Written whole to a temporary file and renamed: a failed build never leaves half a table.
    const std::string tmp = std::string(argv[2]) + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        if (!out.flush()) {
            std::cerr << tmp << ": cannot write\n";
            return 1;
        }
    }
    if (std::rename(tmp.c_str(), argv[2]) != 0) {
        std::perror(argv[2]);
        return 1;
    }
    return 0;
}
