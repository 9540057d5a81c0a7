// `confidant policy gen`: container group (az confcom -i JSON, ARM template, or one image)
// + local images -> Confidential ACI execution policy, and the HOST_DATA to launch it with;
// with --kata, Kubernetes YAML + images -> Kata agent policies, written into the YAML as the
// io.katacontainers.config.agent.policy annotation (genpolicy's flags where they exist).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "generator/generator.h"
#include "image/registry.h"

namespace confidant::cli {

namespace {

constexpr const char* kUsage =
    "usage: confidant policy gen (-i GROUP.json | -a TEMPLATE.json [-p PARAMETERS.json] | --image REF)\n"
    "                            [--tar REF=PATH ...] [options]\n"
    "       confidant policy gen --kata -y POD.yaml [--config-file CM.yaml ...] [-j SETTINGS ...]\n"
    "                            [--tar REF=PATH ...] [-r] [-b] [options]\n"
    "  Generates a Confidential ACI execution policy for a container group and prints the\n"
    "  SHA-256 of its text: the HOST_DATA the group must be launched with.\n"
    "  Inputs:\n"
    "    -i FILE              container group JSON (the az confcom acipolicygen -i format)\n"
    "    -a FILE              ARM template: the policy of each container group is written into\n"
    "                         properties.confidentialComputeProperties.ccePolicy (in place, or\n"
    "                         to --template-out FILE)\n"
    "    -p FILE              ARM deployment parameters\n"
    "    --image REF          a single container running REF\n"
    "  Images (layers are hashed from local copies):\n"
    "    --tar REF=PATH       the image REF is the OCI layout directory, oci-archive or\n"
    "                         docker-archive at PATH (repeatable); a REF that is itself an\n"
    "                         existing path is opened directly; any other REF is pulled\n"
    "    --cache DIR          pulled blobs and layer hashes (default ~/.cache/confidant)\n"
    "    --plain-http         talk HTTP to the registry (a registry on loopback)\n"
    "    --username U         registry credentials; the password comes from the\n"
    "                         CONFIDANT_REGISTRY_PASSWORD environment variable\n"
    "  Output:\n"
    "    -o FILE              write the policy text to FILE\n"
    "    --outraw             print the policy text\n"
    "    --print-policy       print the policy base64-encoded\n"
    "  Policy options:\n"
    "    --debug-mode         allow shells, logs, stack dumps and any environment variable\n"
    "    --disable-stdio      containers get no stdio access\n"
    "    --exclude-default-fragments   no import of the ACI infrastructure fragment\n"
    "    --infrastructure-svn N        minimum svn of that fragment (default 1)\n"
    "    --no-pause           no pause container\n"
    "    --omit-id            no image references (id) in the policy\n"
    "    --api-version V, --framework-version V\n"
    "  Kata (Kubernetes YAML -> Kata agent policy, one per pod template):\n"
    "    --kata               generate Kata agent policies (implied by -y)\n"
    "    -y, --yaml-file FILE Pod, Deployment, ReplicaSet, ReplicationController, StatefulSet,\n"
    "                         DaemonSet, Job, CronJob documents (ConfigMaps, Secrets and other\n"
    "                         kinds without pods may sit alongside); every pod template gets the\n"
    "                         annotation io.katacontainers.config.agent.policy = base64(policy),\n"
    "                         written back to FILE (or to --yaml-out FILE)\n"
    "    --config-file FILE   ConfigMaps / Secrets that envFrom and valueFrom refer to (repeatable;\n"
    "                         -c is an alias)\n"
    "    -j PATH              settings: a JSON object replaces the built-in settings, a JSON array\n"
    "                         is an RFC 6902 patch applied to them, a directory holds such files\n"
    "                         (applied in name order); repeatable\n"
    "    --print-kata-settings  print the built-in settings and exit\n"
    "    -r, --raw-out        print the policy text\n"
    "    -b, --base64-out     print the policy base64-encoded (the annotation's value)\n"
    "    -o FILE              write the policy text to FILE (FILE.1, FILE.2, ... for several)\n"
    "    The pause image (settings cluster_config.pause_container_image) is resolved like the\n"
    "    others: give it with --tar or let it be pulled.\n";

bool read_text(const std::string& path, std::string& out) {
  std::string error;
  if (read_file(path, out, error)) return true;
  std::cerr << "confidant policy gen: " << error << "\n";
  return false;
}

}  // namespace

int policy_gen_command(const std::vector<std::string>& args) {
  std::string input_path, template_path, params_path, single_image, out_path, template_out;
  bool outraw = false, print_policy = false;
  // Kata mode.
  bool kata = false, print_kata_settings = false;
  std::string yaml_path, yaml_out;
  std::vector<std::string> config_files, settings_paths;
  std::vector<std::string> aci_only;  // ACI flags given (refused with --kata)
  std::map<std::string, std::string> tars;
  generator::Options opts;
  image::PullOptions pull;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    opts.cache_dir = std::string(xdg) + "/confidant";
  else if (const char* home = std::getenv("HOME"); home && *home)
    opts.cache_dir = std::string(home) + "/.cache/confidant";
  if (const char* pw = std::getenv("CONFIDANT_REGISTRY_PASSWORD")) pull.password = pw;
  ArgCursor a(args);
  auto need = [&](std::string& v) {
    if (a.value(v)) return true;
    std::cerr << "confidant policy gen: " << a.flag() << " needs a value\n";
    return false;
  };
  while (a.next()) {
    if (!a.is_flag()) {
      std::cerr << "confidant policy gen: unexpected argument " << a.positional() << "\n" << kUsage;
      return 2;
    }
    const std::string f = a.flag();
    std::string v;
    if (f == "-h" || f == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (f == "--kata") {
      kata = true;
    } else if (f == "-y" || f == "--yaml-file") {
      if (!need(yaml_path)) return 2;
      kata = true;
    } else if (f == "--yaml-out") {
      if (!need(yaml_out)) return 2;
    } else if (f == "--config-file" || f == "-c" || f == "--config-map-file") {
      if (!need(v)) return 2;
      config_files.push_back(v);
    } else if (f == "-j" || f == "--json-settings-path") {
      if (!need(v)) return 2;
      settings_paths.push_back(v);
    } else if (f == "--print-kata-settings") {
      print_kata_settings = true;
    } else if (f == "-r" || f == "--raw-out") {
      outraw = true;
    } else if (f == "-b" || f == "--base64-out") {
      print_policy = true;
    } else if (f == "-i" || f == "--input") {
      if (!need(input_path)) return 2;
    } else if (f == "-a" || f == "--template-file") {
      if (!need(template_path)) return 2;
    } else if (f == "-p" || f == "--parameters") {
      if (!need(params_path)) return 2;
    } else if (f == "--image") {
      if (!need(single_image)) return 2;
    } else if (f == "--tar") {
      if (!need(v)) return 2;
      size_t eq = v.rfind('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "confidant policy gen: --tar wants REF=PATH, got '" << v << "'\n";
        return 2;
      }
      tars[v.substr(0, eq)] = v.substr(eq + 1);
    } else if (f == "--cache") {
      if (!need(opts.cache_dir)) return 2;
    } else if (f == "--plain-http") {
      pull.plain_http = true;
    } else if (f == "--username") {
      if (!need(pull.username)) return 2;
    } else if (f == "-o") {
      if (!need(out_path)) return 2;
    } else if (f == "--template-out") {
      if (!need(template_out)) return 2;
    } else if (f == "--outraw") {
      outraw = true;
    } else if (f == "--print-policy") {
      print_policy = true;
    } else if (f == "--debug-mode") {
      opts.debug_mode = true;
    } else if (f == "--disable-stdio") {
      opts.disable_stdio = true;
    } else if (f == "--exclude-default-fragments" || f == "-e") {
      opts.include_default_fragment = false;
    } else if (f == "--infrastructure-svn") {
      if (!need(opts.infrastructure_svn)) return 2;
    } else if (f == "--no-pause") {
      opts.include_pause_container = false;
    } else if (f == "--omit-id") {
      opts.omit_id = true;
    } else if (f == "--api-version") {
      if (!need(opts.api_version)) return 2;
    } else if (f == "--framework-version") {
      if (!need(opts.framework_version)) return 2;
    } else {
      std::cerr << "confidant policy gen: unknown flag " << f << "\n" << kUsage;
      return 2;
    }
    static const char* const kAciOnly[] = {"-i", "--input", "-a", "--template-file", "-p", "--parameters", "--image",
                                           "--template-out", "--outraw", "--print-policy", "--debug-mode",
                                           "--disable-stdio", "--exclude-default-fragments", "-e",
                                           "--infrastructure-svn", "--no-pause", "--omit-id", "--api-version",
                                           "--framework-version"};
    if (std::find(std::begin(kAciOnly), std::end(kAciOnly), f) != std::end(kAciOnly)) aci_only.push_back(f);
  }
  if (print_kata_settings) {
    std::cout << generator::kata_default_settings();
    return 0;
  }
  if (!kata && (!yaml_out.empty() || !config_files.empty() || !settings_paths.empty())) {
    std::cerr << "confidant policy gen: --yaml-out, --config-file and -j need --kata -y FILE\n";
    return 2;
  }
  if (kata && !aci_only.empty()) {
    std::cerr << "confidant policy gen: " << aci_only.front() << " is for ACI policies, not --kata\n";
    return 2;
  }
  if (kata && yaml_path.empty()) {
    std::cerr << "confidant policy gen: --kata needs -y FILE\n" << kUsage;
    return 2;
  }
  int inputs = !input_path.empty() + !template_path.empty() + !single_image.empty();
  if (!kata && inputs != 1) {
    std::cerr << "confidant policy gen: give exactly one of -i, -a, --image\n" << kUsage;
    return 2;
  }

  std::vector<generator::Group> groups;
  std::string error, template_text;
  if (kata) {
    // Parsed below, once the image resolver exists.
  } else if (!input_path.empty()) {
    std::string text;
    if (!read_text(input_path, text)) return 1;
    generator::Group g;
    if (!generator::parse_aci_input(text, g, error)) {
      std::cerr << "confidant policy gen: " << input_path << ": " << error << "\n";
      return 1;
    }
    groups.push_back(std::move(g));
  } else if (!template_path.empty()) {
    std::string params;
    if (!read_text(template_path, template_text)) return 1;
    if (!params_path.empty() && !read_text(params_path, params)) return 1;
    if (!generator::parse_arm_template(template_text, params, groups, error)) {
      std::cerr << "confidant policy gen: " << template_path << ": " << error << "\n";
      return 1;
    }
  } else {
    generator::Group g;
    generator::Container c;
    c.name = "container1";
    c.image = single_image;
    g.containers.push_back(c);
    groups.push_back(std::move(g));
  }

  generator::ImageResolver resolve = [&](const std::string& ref, image::Image& img, std::string& err) {
    std::string location;
    std::string name;
    if (auto it = tars.find(ref); it != tars.end()) {
      location = it->second;
    } else if (std::filesystem::exists(ref)) {
      location = ref;
    } else {
      if (opts.cache_dir.empty()) {
        err = "no cache directory for pulled images (give --cache DIR)";
        return false;
      }
      pull.cache_dir = opts.cache_dir;
      return image::pull_image(ref, pull, img, err);
    }
    return image::open_image(location, name, img, err);
  };
  const bool tty = isatty(STDERR_FILENO);
  generator::ProgressFn progress = [&](const std::string& line) {
    if (tty) std::cerr << "confidant policy gen: " << line << "\n";
  };
  pull.progress = [&](const std::string& what, uint64_t done, uint64_t total) {
    if (!tty) return;
    std::cerr << "\rconfidant policy gen: pulling " << what.substr(0, 19) << "  " << (done >> 20) << " MiB";
    if (total) std::cerr << " of " << (total >> 20) << " MiB";
    if (total && done >= total) std::cerr << "\n";
  };

  if (kata) {
    generator::KataOptions kopts;
    kopts.cache_dir = opts.cache_dir;
    for (const auto& path : settings_paths)
      if (!generator::load_kata_settings(path, kopts, error)) {
        std::cerr << "confidant policy gen: -j " << error << "\n";
        return 1;
      }
    for (const auto& path : config_files) {
      std::string text;
      if (!read_text(path, text)) return 1;
      kopts.config_documents.push_back(std::move(text));
    }
    std::string yaml;
    if (!read_text(yaml_path, yaml)) return 1;
    generator::KataGenerated out;
    if (!generator::generate_kata(yaml, resolve, kopts, out, error, progress)) {
      std::cerr << "confidant policy gen: " << yaml_path << ": " << error << "\n";
      return 1;
    }
    for (size_t i = 0; i < out.workloads.size(); ++i) {
      const auto& w = out.workloads[i];
      if (!out_path.empty()) {
        std::string path = out.workloads.size() == 1 ? out_path : out_path + "." + std::to_string(i + 1);
        std::ofstream f(path, std::ios::binary);
        if (!(f << w.policy.policy)) {
          std::cerr << "confidant policy gen: cannot write " << path << "\n";
          return 1;
        }
      }
      if (outraw) std::cout << w.policy.policy;
      if (print_policy) std::cout << generator::base64(w.policy.policy) << "\n";
    }
    std::string dest = yaml_out.empty() ? yaml_path : yaml_out;
    {
      std::ofstream f(dest, std::ios::binary | std::ios::trunc);
      if (!(f << out.yaml)) {
        std::cerr << "confidant policy gen: cannot write " << dest << "\n";
        return 1;
      }
    }
    // The HOST_DATA of each pod template: on stdout unless stdout carries the policies.
    for (const auto& w : out.workloads) {
      std::ostream& os = outraw || print_policy ? std::cerr : std::cout;
      os << w.policy.sha256;
      if (out.workloads.size() > 1) os << " " << w.kind << "/" << w.name;
      os << "\n";
    }
    return 0;
  }

  std::vector<std::string> policies;
  for (const auto& g : groups) {
    generator::Generated out;
    if (!generator::generate_aci(g, resolve, opts, out, error, progress)) {
      std::cerr << "confidant policy gen: " << error << "\n";
      return 1;
    }
    policies.push_back(out.policy);
    if (!out_path.empty()) {
      std::string path = groups.size() == 1 ? out_path : out_path + "." + std::to_string(policies.size());
      std::ofstream f(path, std::ios::binary);
      if (!(f << out.policy)) {
        std::cerr << "confidant policy gen: cannot write " << path << "\n";
        return 1;
      }
    }
    if (outraw) std::cout << out.policy;
    if (print_policy) std::cout << generator::base64(out.policy) << "\n";
    // The HOST_DATA value: on stdout unless stdout carries the policy itself.
    (outraw || print_policy ? std::cerr : std::cout) << out.sha256 << "\n";
  }
  if (!template_path.empty()) {
    std::string updated;
    if (!generator::update_arm_template(template_text, policies, updated, error)) {
      std::cerr << "confidant policy gen: " << error << "\n";
      return 1;
    }
    std::string dest = template_out.empty() ? template_path : template_out;
    std::ofstream f(dest, std::ios::binary);
    if (!(f << updated)) {
      std::cerr << "confidant policy gen: cannot write " << dest << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace confidant::cli
