// What `hrun state` and `hrun list` print, matching runc's output byte for byte (Go's
// encoding/json and text/tabwriter), since scripts and engines compare or parse it.
#include <string>
#include <vector>

#include "state/state.hpp"
#include "state/state_internal.hpp"

namespace hrun::state {

namespace {

using ordered = nlohmann::ordered_json;

// Invalid UTF-8 (possible in paths) becomes U+FFFD instead of an exception, as in Go.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

ordered annotations_json(const std::map<std::string, std::string>& annotations) {
    ordered out = ordered::object();
    for (const auto& [k, v] : annotations) out[k] = v;  // std::map order = Go's sorted keys
    return out;
}

int shown_pid(const ContainerState& state, ContainerStatus status) {
    return status == ContainerStatus::Stopped ? 0 : state.pid;
}

// The element of runc's list JSON (its containerState type): same keys as `state`, but with
// the directory's owner.
ordered list_item(const ListRow& row) {
    const ContainerState& s = row.state;
    ordered j = ordered::object();
    j["ociVersion"] = s.oci_version;
    j["id"] = s.id;
    j["pid"] = shown_pid(s, row.status);
    j["status"] = std::string(status_name(row.status));
    j["bundle"] = s.bundle;
    j["rootfs"] = s.rootfs;
    j["created"] = s.created;
    if (!s.annotations.empty()) j["annotations"] = annotations_json(s.annotations);  // omitempty
    j["owner"] = row.owner;
    return j;
}

// Width in terminal columns as tabwriter counts it: one per UTF-8 code point.
std::size_t text_width(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace

nlohmann::ordered_json runtime_state(const ContainerState& state, ContainerStatus status) {
    ListRow row{state, status, ""};
    return list_item(row);
}

std::string format_state(const ContainerState& state, ContainerStatus status) {
    ordered j = runtime_state(state, status);
    // After runc's keys, which engines parse (they ignore keys they do not know): what hrun's
    // policy filled in that the config left unset, so `state` shows what confines the container.
    if (!state.policy.empty()) j["policy"] = state.policy;
    if (!state.policy_reason.empty()) j["policyReason"] = state.policy_reason;
    if (!state.applied_defaults.empty()) j["appliedDefaults"] = state.applied_defaults;
    return detail::go_json_escapes(j.dump(2, ' ', false, kReplace));
}

std::string format_list_table(const std::vector<ListRow>& rows) {
    // runc: tabwriter.NewWriter(out, minwidth 12, tabwidth 1, padding 3, ' ', 0). Every cell but
    // the last of a line is padded to its column's widest cell + padding, at least minwidth.
    constexpr std::size_t kMinWidth = 12, kPadding = 3, kColumns = 5;
    std::vector<std::vector<std::string>> lines;
    lines.push_back({"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
    for (const ListRow& r : rows)
        lines.push_back({r.state.id, std::to_string(shown_pid(r.state, r.status)), std::string(status_name(r.status)),
                         r.state.bundle, r.state.created, r.owner});
    std::size_t width[kColumns];
    for (std::size_t c = 0; c < kColumns; ++c) {
        width[c] = kMinWidth;
        for (const auto& line : lines) width[c] = std::max(width[c], text_width(line[c]) + kPadding);
    }
    std::string out;
    for (const auto& line : lines) {
        for (std::size_t c = 0; c < kColumns; ++c) {
            out += line[c];
            out.append(width[c] - text_width(line[c]), ' ');
        }
        out += line[kColumns];
        out += '\n';
    }
    return out;
}

std::string format_list_json(const std::vector<ListRow>& rows) {
    // runc encodes a nil slice when there are no containers: "null".
    if (rows.empty()) return "null\n";
    ordered array = ordered::array();
    for (const ListRow& r : rows) array.push_back(list_item(r));
    return detail::go_json_escapes(array.dump(-1, ' ', false, kReplace)) + "\n";
}

std::string format_list_quiet(const std::vector<ListRow>& rows) {
    std::string out;
    for (const ListRow& r : rows) {
        out += r.state.id;
        out += '\n';
    }
    return out;
}

}  // namespace hrun::state
