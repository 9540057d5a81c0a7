#include "policy/api_table.h"

#include <array>
#include <string>
#include <vector>

namespace confidant::policy {

namespace {

constexpr std::array kPoints = {
    EnforcementPoint{"mount_device", "0.1.0", R"({"allowed": false})"},
    EnforcementPoint{"mount_overlay", "0.1.0", R"({"allowed": false})"},
    EnforcementPoint{"create_container", "0.1.0",
                     R"({"allowed": false, "env_list": null, "allow_stdio_access": false})"},
    EnforcementPoint{"unmount_device", "0.2.0", R"({"allowed": true})"},
    EnforcementPoint{"exec_in_container", "0.2.0", R"({"allowed": true, "env_list": null})"},
    EnforcementPoint{"exec_external", "0.3.0", R"({"allowed": true, "env_list": null, "allow_stdio_access": false})"},
    EnforcementPoint{"shutdown_container", "0.4.0", R"({"allowed": true})"},
    EnforcementPoint{"signal_container_process", "0.5.0", R"({"allowed": true})"},
    EnforcementPoint{"unmount_overlay", "0.6.0", R"({"allowed": true})"},
    EnforcementPoint{"plan9_mount", "0.6.0", R"({"allowed": true})"},
    EnforcementPoint{"plan9_unmount", "0.6.0", R"({"allowed": true})"},
    EnforcementPoint{"get_properties", "0.7.0", R"({"allowed": true})"},
    EnforcementPoint{"dump_stacks", "0.7.0", R"({"allowed": true})"},
    EnforcementPoint{"runtime_logging", "0.8.0", R"({"allowed": true})"},
    EnforcementPoint{"load_fragment", "0.9.0", R"({"allowed": false, "add_module": false})"},
    EnforcementPoint{"scratch_mount", "0.10.0", R"({"allowed": true})"},
    EnforcementPoint{"scratch_unmount", "0.10.0", R"({"allowed": true})"},
    EnforcementPoint{"registry_changes", "0.10.0", R"({"allowed": false})"},
    EnforcementPoint{"rw_mount_device", "0.11.0", R"({})", true},
    EnforcementPoint{"rw_unmount_device", "0.11.0", R"({})", true},
    EnforcementPoint{"mount_cims", "0.11.0", R"({"allowed": false})"},
    EnforcementPoint{"log_provider", "0.11.0", R"({"allowed": true, "providers_to_keep": null})"},
    EnforcementPoint{"mount_blockdev", "0.11.1", R"({"allowed": false})"},
    EnforcementPoint{"unmount_blockdev", "0.11.1", R"({"allowed": false})"},
    EnforcementPoint{"load_transparency_trust_list", "0.12.0", R"({"allowed": false})"},
    EnforcementPoint{"host_network", "0.12.0", R"({"allowed": false})"},
};

}  // namespace

std::span<const EnforcementPoint> enforcement_points() { return kPoints; }

const EnforcementPoint* find_enforcement_point(std::string_view name) {
  for (const auto& p : kPoints)
    if (p.name == name) return &p;
  return nullptr;
}

const rego::Value& default_result(const EnforcementPoint& point) {
  static const std::vector<rego::Value> parsed = [] {
    std::vector<rego::Value> out;
    for (const auto& p : kPoints) {
      rego::Value v;
      std::string error;
      rego::parse_json(p.defaults, v, error);  // the literals above are valid JSON
      out.push_back(v);
    }
    return out;
  }();
  return parsed[static_cast<size_t>(&point - kPoints.data())];
}

}  // namespace confidant::policy
