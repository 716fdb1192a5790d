// ContainerState <-> state.json.
#include "state/state.hpp"

namespace hrun::state {

namespace {

// Reads `key` into `out` when present and not null; the default stays otherwise, so state
// files written by an older hrun still load.
template <class T>
void optional_field(const nlohmann::json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) it->get_to(out);
}

}  // namespace

void to_json(nlohmann::json& j, const ContainerState& s) {
    j = nlohmann::json{
        {"ociVersion", s.oci_version},
        {"id", s.id},
        {"pid", s.pid},
        {"pid_start_time", s.pid_start_time},
        {"bundle", s.bundle},
        {"rootfs", s.rootfs},
        {"created", s.created},
        {"owner", s.owner},
        {"annotations", s.annotations},
        {"config_path", s.config_path},
        {"cgroup", {{"directories", s.cgroup.directories}, {"mode", s.cgroup.mode}}},
        {"systemd_cgroup", s.systemd_cgroup},
        {"rootless", s.rootless},
        {"exec_fifo", s.exec_fifo},
        {"init_process", s.init_process},
        {"policy", s.policy},
        {"policy_reason", s.policy_reason},
        {"applied_defaults", s.applied_defaults},
        {"extra", s.extra.is_null() ? nlohmann::json::object() : s.extra},
    };
}

void from_json(const nlohmann::json& j, ContainerState& out) {
    if (!j.is_object())
        throw nlohmann::json::type_error::create(302, "state must be an object", &j);
    // Read into a fresh state: nothing of what `out` held survives, and a throw leaves it as it was.
    ContainerState s;
    j.at("id").get_to(s.id);
    j.at("pid").get_to(s.pid);
    optional_field(j, "ociVersion", s.oci_version);
    optional_field(j, "pid_start_time", s.pid_start_time);
    optional_field(j, "bundle", s.bundle);
    optional_field(j, "rootfs", s.rootfs);
    optional_field(j, "created", s.created);
    optional_field(j, "owner", s.owner);
    optional_field(j, "annotations", s.annotations);
    optional_field(j, "config_path", s.config_path);
    if (auto it = j.find("cgroup"); it != j.end() && !it->is_null()) {
        optional_field(*it, "directories", s.cgroup.directories);
        optional_field(*it, "mode", s.cgroup.mode);
    }
    optional_field(j, "systemd_cgroup", s.systemd_cgroup);
    optional_field(j, "rootless", s.rootless);
    optional_field(j, "exec_fifo", s.exec_fifo);
    if (auto it = j.find("init_process"); it != j.end()) s.init_process = *it;
    if (auto it = j.find("applied_defaults"); it != j.end() && !it->is_null()) it->get_to(s.applied_defaults);
    if (auto it = j.find("extra"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            throw nlohmann::json::type_error::create(302, "extra must be an object", &*it);
        s.extra = *it;
    }
    optional_field(j, "policy", s.policy);
    optional_field(j, "policy_reason", s.policy_reason);
    out = std::move(s);
}

}  // namespace hrun::state
