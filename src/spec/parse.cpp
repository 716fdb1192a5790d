// config.json -> hrun::spec::Spec.
//
// nlohmann's SAX parser feeds events straight into the typed model: no DOM is built, strings are
// moved from the tokenizer into their fields, and unknown members are skipped by counting
// brackets. Where each value goes follows the tables in fields.hpp. Nothing throws: a type error
// stops the parse with its JSON path, and malformed JSON arrives through parse_error() with the
// byte offset. The path of the current value is the stack of open containers; it is turned into
// a string only when an error is reported, so a valid config pays nothing for it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <concepts>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "hrun/fd.hpp"
#include "spec/fields.hpp"
#include "spec/spec_io.hpp"
#include "spec/validate_internal.hpp"

namespace hrun::spec {
namespace {

using Json = nlohmann::json;

// How a value was reached from its container.
struct Step {
    enum class Kind : unsigned char { Root, Member, Index, MapKey };
    Kind kind = Kind::Root;
    std::string_view key;  // a field name (static) or a map key (owned by the map node)
    std::size_t index = 0;
};

// A scalar event from the tokenizer.
struct Scalar {
    enum class Kind : unsigned char { Null, Boolean, Signed, Unsigned, Float, String };
    Kind kind = Kind::Null;
    bool boolean = false;
    int64_t signed_value = 0;
    uint64_t unsigned_value = 0;
    std::string_view raw;          // the number as written, for floats
    std::string* text = nullptr;   // for strings: the tokenizer's buffer, ours to move from

    std::string_view type_name() const {
        switch (kind) {
        case Kind::Null: return "null";
        case Kind::Boolean: return "boolean";
        case Kind::String: return "string";
        default: return "number";
        }
    }
};

class SpecSax;

// How to read one C++ type. `open_*` start a container for a value of this type (or report a
// type error); `key` and `element` route the next value inside an open container of this type.
struct Ops {
    bool (*scalar)(SpecSax&, void* target, Scalar& value);
    bool (*open_object)(SpecSax&, void* target);
    bool (*open_array)(SpecSax&, void* target);
    void (*key)(SpecSax&, void* target, std::string& key);
    void (*element)(SpecSax&, void* target);
    std::string_view expected;  // "an unsigned 32-bit integer", for messages
};

template <class T>
struct Reader;  // per type: static functions matching Ops

template <class T>
constexpr Ops ops_for() {
    return Ops{&Reader<T>::scalar, &Reader<T>::open_object, &Reader<T>::open_array,
               Reader<T>::key,     Reader<T>::element,      Reader<T>::expected};
}

template <class T>
inline constexpr Ops kOps = ops_for<T>();

// Where the next value goes; ops == nullptr means "skip it".
struct Target {
    void* object = nullptr;
    const Ops* ops = nullptr;
    Step step;
};

struct Frame {
    Target target;
    bool is_array = false;
};

// "line 3, column 7" from a byte count as the tokenizer reports it (bytes read so far).
std::string position_of(std::string_view text, std::size_t bytes_read) {
    std::size_t line = 1;
    std::size_t column = 1;
    const std::size_t end = std::min(bytes_read > 0 ? bytes_read - 1 : 0, text.size());
    for (std::size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// nlohmann's message is "[json.exception.parse_error.101] parse error at line 1, column 5: why";
// keep only "why", the position is computed by position_of.
std::string_view reason_of(std::string_view what) {
    auto at = what.find(", column ");
    if (at != std::string_view::npos) {
        auto colon = what.find(": ", at);
        if (colon != std::string_view::npos) return what.substr(colon + 2);
    }
    auto bracket = what.find("] ");
    return bracket == std::string_view::npos ? what : what.substr(bracket + 2);
}

class SpecSax {
public:
    using number_integer_t = Json::number_integer_t;
    using number_unsigned_t = Json::number_unsigned_t;
    using number_float_t = Json::number_float_t;
    using string_t = Json::string_t;
    using binary_t = Json::binary_t;

    explicit SpecSax(std::string_view text) : text_(text) { stack_.reserve(8); }

    // ---- SAX interface ----
    bool null() { return scalar(Scalar{}); }
    bool boolean(bool v) { return scalar(Scalar{.kind = Scalar::Kind::Boolean, .boolean = v}); }
    bool number_integer(number_integer_t v) { return scalar(Scalar{.kind = Scalar::Kind::Signed, .signed_value = v}); }
    bool number_unsigned(number_unsigned_t v) {
        return scalar(Scalar{.kind = Scalar::Kind::Unsigned, .unsigned_value = v});
    }
    bool number_float(number_float_t, const string_t& raw) {
        return scalar(Scalar{.kind = Scalar::Kind::Float, .raw = raw});
    }
    bool string(string_t& v) { return scalar(Scalar{.kind = Scalar::Kind::String, .text = &v}); }
    bool binary(binary_t&) { return true; }  // not produced by the JSON tokenizer

    bool start_object(std::size_t) {
        if (failed_) return true;
        if (skip_depth_ > 0 || !begin_value()) return ++skip_depth_, true;
        return next_.ops->open_object(*this, next_.object);
    }
    bool start_array(std::size_t) {
        if (failed_) return true;
        if (skip_depth_ > 0 || !begin_value()) return ++skip_depth_, true;
        return next_.ops->open_array(*this, next_.object);
    }
    bool key(string_t& k) {
        if (failed_ || skip_depth_ > 0) return true;
        const Frame& top = stack_.back();
        top.target.ops->key(*this, top.target.object, k);
        return true;
    }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool parse_error(std::size_t bytes_read, const std::string&, const nlohmann::detail::exception& e) {
        error_ = Error{0, "config.json",
                       "invalid JSON at " + position_of(text_, bytes_read) + ": " + std::string(reason_of(e.what()))};
        return false;
    }

    // ---- used by the readers ----
    void set_next(void* object, const Ops* ops, Step step) { next_ = Target{object, ops, step}; }
    void skip_next() { next_ = Target{nullptr, nullptr, {}}; }
    // The value being read is a container: later keys or elements go into `object`.
    void open(void* object, const Ops* ops, bool is_array) {
        stack_.push_back(Frame{Target{object, ops, next_.step}, is_array});
    }

    // "process.user.uid: expected an unsigned 32-bit integer, got string". The tokenizer goes
    // on to the end, so that malformed JSON is reported as such even after a type error.
    bool mismatch(std::string_view got) {
        std::string message = "expected ";
        message += next_.ops->expected;
        message += ", got ";
        message += got;
        error_ = Error{0, current_path(), std::move(message)};
        failed_ = true;
        return true;
    }

    bool failed() const { return failed_; }
    Error take_error() { return std::move(error_); }

private:
    // Routes the coming value: an array element is created here; a member or map value was
    // routed by key(). Returns false when the value is to be skipped.
    bool begin_value() {
        if (!stack_.empty() && stack_.back().is_array) {
            const Frame& top = stack_.back();
            top.target.ops->element(*this, top.target.object);
        }
        return next_.ops != nullptr;
    }

    bool scalar(Scalar v) {
        if (failed_ || skip_depth_ > 0 || !begin_value()) return true;
        return next_.ops->scalar(*this, next_.object, v);
    }

    bool close() {
        if (failed_) return true;
        if (skip_depth_ > 0) {
            --skip_depth_;
        } else {
            stack_.pop_back();
        }
        return true;
    }

    std::string current_path() const {
        std::string out;
        auto append = [&out](const Step& s) {
            switch (s.kind) {
            case Step::Kind::Root:
                break;
            case Step::Kind::Member:
                if (!out.empty()) out += '.';
                out += s.key;
                break;
            case Step::Kind::Index:
                out += '[';
                out += std::to_string(s.index);
                out += ']';
                break;
            case Step::Kind::MapKey:
                out += '[';
                out += check::quote(s.key);
                out += ']';
                break;
            }
        };
        for (const Frame& f : stack_) append(f.target.step);
        append(next_.step);
        return out.empty() ? std::string("config.json") : out;
    }

    std::string_view text_;
    Target next_;
    std::vector<Frame> stack_;
    std::size_t skip_depth_ = 0;
    bool failed_ = false;  // a type error was found; the rest is only checked for syntax
    Error error_;
};

// ---- readers ----

// Defaults for types that are not containers.
struct NotAContainer {
    static void key(SpecSax&, void*, std::string&) {}
    static void element(SpecSax&, void*) {}
    static bool open_object(SpecSax& sax, void*) { return sax.mismatch("object"); }
    static bool open_array(SpecSax& sax, void*) { return sax.mismatch("array"); }
};

template <>
struct Reader<bool> : NotAContainer {
    static constexpr std::string_view expected = "a boolean";
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        if (v.kind == Scalar::Kind::Null) return true;  // null stands for absent, as in Go runtimes
        if (v.kind != Scalar::Kind::Boolean) return sax.mismatch(v.type_name());
        *static_cast<bool*>(target) = v.boolean;
        return true;
    }
};

template <>
struct Reader<std::string> : NotAContainer {
    static constexpr std::string_view expected = "a string";
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        if (v.kind == Scalar::Kind::Null) return true;
        if (v.kind != Scalar::Kind::String) return sax.mismatch(v.type_name());
        *static_cast<std::string*>(target) = std::move(*v.text);
        return true;
    }
};

template <class T>
constexpr std::string_view integer_name() {
    constexpr bool is_signed = std::numeric_limits<T>::is_signed;
    constexpr int bits = std::numeric_limits<T>::digits + (is_signed ? 1 : 0);
    if constexpr (bits == 16) return is_signed ? "a 16-bit integer" : "an unsigned 16-bit integer";
    if constexpr (bits == 32) return is_signed ? "a 32-bit integer" : "an unsigned 32-bit integer";
    if constexpr (bits == 64) return is_signed ? "a 64-bit integer" : "an unsigned 64-bit integer";
    return "an integer";
}

template <class T>
    requires(std::integral<T> && !std::same_as<T, bool>)
struct Reader<T> : NotAContainer {
    static constexpr std::string_view expected = integer_name<T>();
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        switch (v.kind) {
        case Scalar::Kind::Null:
            return true;
        case Scalar::Kind::Unsigned:
            if (!std::in_range<T>(v.unsigned_value))
                return sax.mismatch(std::to_string(v.unsigned_value) + " (out of range)");
            *static_cast<T*>(target) = static_cast<T>(v.unsigned_value);
            return true;
        case Scalar::Kind::Signed:
            if (!std::in_range<T>(v.signed_value))
                return sax.mismatch(std::to_string(v.signed_value) + " (out of range)");
            *static_cast<T*>(target) = static_cast<T>(v.signed_value);
            return true;
        case Scalar::Kind::Float:
            // As with Go's encoding/json, which engines use to write configs: 1.0 and 1e3 are
            // not integers.
            return sax.mismatch("number " + std::string(v.raw) + " (not an integer)");
        default:
            return sax.mismatch(v.type_name());
        }
    }
};

template <class T>
struct Reader<std::optional<T>> {
    static constexpr std::string_view expected = Reader<T>::expected;
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        auto& opt = *static_cast<std::optional<T>*>(target);
        if (v.kind == Scalar::Kind::Null) {
            opt.reset();
            return true;
        }
        return Reader<T>::scalar(sax, &opt.emplace(), v);
    }
    static bool open_object(SpecSax& sax, void* target) {
        auto& opt = *static_cast<std::optional<T>*>(target);
        return Reader<T>::open_object(sax, &opt.emplace());
    }
    static bool open_array(SpecSax& sax, void* target) {
        auto& opt = *static_cast<std::optional<T>*>(target);
        return Reader<T>::open_array(sax, &opt.emplace());
    }
    // An optional is never an open container itself: open_* hand over to T's frame.
    static void key(SpecSax&, void*, std::string&) {}
    static void element(SpecSax&, void*) {}
};

template <class T>
struct Reader<std::vector<T>> {
    static constexpr std::string_view expected = "an array";
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        if (v.kind != Scalar::Kind::Null) return sax.mismatch(v.type_name());
        static_cast<std::vector<T>*>(target)->clear();
        return true;
    }
    static bool open_object(SpecSax& sax, void*) { return sax.mismatch("object"); }
    static bool open_array(SpecSax& sax, void* target) {
        static_cast<std::vector<T>*>(target)->clear();  // a repeated member: the last one wins
        sax.open(target, &kOps<std::vector<T>>, true);
        return true;
    }
    static void key(SpecSax&, void*, std::string&) {}
    static void element(SpecSax& sax, void* target) {
        auto& items = *static_cast<std::vector<T>*>(target);
        // The element's address stays valid while it is read: the vector grows only when its
        // own frame is on top again, after the element is complete.
        T& item = items.emplace_back();
        sax.set_next(&item, &kOps<T>, Step{Step::Kind::Index, {}, items.size() - 1});
    }
};

template <class T>
struct Reader<std::map<std::string, T>> {
    static constexpr std::string_view expected = "an object";
    static bool scalar(SpecSax& sax, void* target, Scalar& v) {
        if (v.kind != Scalar::Kind::Null) return sax.mismatch(v.type_name());
        static_cast<std::map<std::string, T>*>(target)->clear();
        return true;
    }
    static bool open_object(SpecSax& sax, void* target) {
        static_cast<std::map<std::string, T>*>(target)->clear();
        sax.open(target, &kOps<std::map<std::string, T>>, false);
        return true;
    }
    static bool open_array(SpecSax& sax, void*) { return sax.mismatch("array"); }
    static void key(SpecSax& sax, void* target, std::string& key) {
        auto& items = *static_cast<std::map<std::string, T>*>(target);
        auto [it, inserted] = items.try_emplace(std::move(key));
        if (!inserted) it->second = T{};  // a repeated key: the last one wins
        sax.set_next(&it->second, &kOps<T>, Step{Step::Kind::MapKey, it->first, 0});
    }
    static void element(SpecSax&, void*) {}
};

template <fields::Described S>
struct Reader<S> {
    static constexpr std::string_view expected = "an object";
    static bool scalar(SpecSax& sax, void*, Scalar& v) {
        if (v.kind == Scalar::Kind::Null) return true;
        return sax.mismatch(v.type_name());
    }
    static bool open_object(SpecSax& sax, void* target) {
        *static_cast<S*>(target) = S{};  // a repeated member: the last one wins
        sax.open(target, &kOps<S>, false);
        return true;
    }
    static bool open_array(SpecSax& sax, void*) { return sax.mismatch("array"); }
    static void key(SpecSax& sax, void* target, std::string& key) {
        S& s = *static_cast<S*>(target);
        const bool known = std::apply(
            [&](const auto&... field) {
                auto route = [&](const auto& f) {
                    if (f.name != key) return false;
                    using Member = std::remove_reference_t<decltype(s.*(f.member))>;
                    sax.set_next(&(s.*(f.member)), &kOps<Member>, Step{Step::Kind::Member, f.name, 0});
                    return true;
                };
                return (route(field) || ...);
            },
            fields::Table<S>::list);
        if (!known) sax.skip_next();  // unknown members are ignored, as the runtime-spec requires
    }
    static void element(SpecSax&, void*) {}
};

}  // namespace

Result<Spec> parse_spec(std::string_view json_text) {
    Spec spec;
    SpecSax sax(json_text);
    sax.set_next(&spec, &kOps<Spec>, Step{});
    if (!Json::sax_parse(json_text.begin(), json_text.end(), &sax) || sax.failed())
        return std::unexpected(sax.take_error());
    return spec;
}

Result<Spec> load_spec(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail_errno("cannot open", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_errno("cannot stat", path);
    if (S_ISDIR(st.st_mode)) return fail(path, "cannot read", EISDIR);
    // A FIFO or a device could block or never end.
    if (!S_ISREG(st.st_mode)) return fail(path, "not a regular file");

    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    for (;;) {
        if (done == text.size()) text.resize(text.size() + 4096);  // the file may have grown
        ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail_errno("cannot read", path);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    text.resize(done);

    auto spec = parse_spec(text);
    if (!spec && spec.error().field == "config.json") spec.error().field = path;
    return spec;
}

}  // namespace hrun::spec
