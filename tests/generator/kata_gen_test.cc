// Kubernetes YAML -> Kata agent policy, end to end: policies generated for images built here are
// loaded into the enforcer (Kata dialect, HOST_DATA bound) and the requests the Kata agent saw
// for real pods (shared/corpus/kata/<pod>/trace.jsonl, with the image layers swapped for ours)
// are replayed against them: the genuine sequence is allowed as recorded, tampered requests are
// denied with a reason.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "generator/generator.h"
#include "image/image.h"
#include "integrity/integrity.h"
#include "policy/policy.h"
#include "rego/value.h"
#include "test_images.h"

namespace fs = std::filesystem;
using namespace confidant;
using nlohmann::json;
using namespace confidant::testing;

namespace {

const char* kPauseRef = "mcr.microsoft.com/oss/kubernetes/pause:3.6";
const char* kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct LayerSpec {
  std::vector<Entry> entries;
  bool gzip = false;
};

struct BuiltImage {
  fs::path layout;
  std::vector<std::string> blobs;     // base first
  std::vector<std::string> diff_ids;  // base first
};

// An OCI layout with the given layers (base first) and config section.
BuiltImage build_image(const fs::path& dir, const std::vector<LayerSpec>& layers, const json& config_section) {
  BuiltImage img;
  img.layout = dir;
  spit(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"layers", json::array()}};
  json diff_ids = json::array();
  for (const auto& l : layers) {
    std::string plain = make_tar(l.entries, false);
    std::string blob = l.gzip ? make_tar(l.entries, true) : plain;
    img.diff_ids.push_back("sha256:" + sha256_hex(plain));
    diff_ids.push_back(img.diff_ids.back());
    std::string d = sha256_hex(blob);
    spit(dir / "blobs/sha256" / d, blob);
    img.blobs.push_back((dir / "blobs/sha256" / d).string());
    manifest["layers"].push_back({{"mediaType", l.gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                                       : "application/vnd.oci.image.layer.v1.tar"},
                                  {"digest", "sha256:" + d},
                                  {"size", blob.size()}});
  }
  json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config", config_section},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  std::string config_text = config.dump();
  std::string cd = sha256_hex(config_text);
  spit(dir / "blobs/sha256" / cd, config_text);
  manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", "sha256:" + cd},
                        {"size", config_text.size()}};
  std::string manifest_text = manifest.dump();
  std::string md = sha256_hex(manifest_text);
  spit(dir / "blobs/sha256" / md, manifest_text);
  json index = {{"schemaVersion", 2},
                {"manifests",
                 {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"digest", "sha256:" + md},
                   {"size", manifest_text.size()}}}}};
  spit(dir / "index.json", index.dump());
  return img;
}

// Layer names and root hashes as the agent's requests carry them, computed here independently:
// name = sha256 of the OCI chain ID string, top layer first.
struct Layers {
  std::vector<std::string> names, hashes;
};

Layers layers_of(const BuiltImage& img) {
  std::vector<std::string> chain;
  for (size_t i = 0; i < img.diff_ids.size(); ++i)
    chain.push_back(i == 0 ? img.diff_ids[0] : "sha256:" + sha256_hex(chain.back() + " " + img.diff_ids[i]));
  Layers out;
  for (size_t i = img.diff_ids.size(); i-- > 0;) {
    out.names.push_back(sha256_hex(chain[i]));
    integrity::RootHash h;
    std::string error;
    EXPECT_TRUE(integrity::layer_root_hash(integrity::LayerFormat::kKata, img.blobs[i], h, error)) << error;
    out.hashes.push_back(integrity::to_hex(h));
  }
  return out;
}

// The storages of a CreateContainerRequest for a container of these layers (the tarfs snapshotter
// of the AKS lineage: one blk layer device each, then the overlay).
json storages_of(const Layers& l, const std::string& container_id, int& pci) {
  json out = json::array();
  std::string lower;
  std::vector<std::string> layer_options;
  for (size_t i = 0; i < l.names.size(); ++i) {
    char source[32];
    snprintf(source, sizeof source, "0001:00:%02x.0", ++pci);
    out.push_back({{"driver", "blk"},
                   {"driver_options", json::array()},
                   {"source", source},
                   {"fstype", "tar"},
                   {"options",
                    {"ro", "io.katacontainers.fs-opt.block_device=file", "io.katacontainers.fs-opt.is-layer",
                     "io.katacontainers.fs-opt.root-hash=" + l.hashes[i]}},
                   {"mount_point", "/run/kata-containers/sandbox/layers/" + l.names[i]},
                   {"fs_group", nullptr}});
    lower += (i ? ":" : "") + l.names[i];
    layer_options.push_back(
        "io.katacontainers.fs-opt.layer=" +
        generator::base64(l.names[i] +
                          ",tar,ro,io.katacontainers.fs-opt.block_device=file,io.katacontainers.fs-opt.is-layer,"
                          "io.katacontainers.fs-opt.root-hash=" +
                          l.hashes[i]));
  }
  json options = json::array(
      {"io.katacontainers.fs-opt.layer-src-prefix=/var/lib/containerd/io.containerd.snapshotter.v1.tardev/layers"});
  for (auto& o : layer_options) options.push_back(o);
  options.push_back("io.katacontainers.fs-opt.overlay-rw");
  options.push_back("lowerdir=" + lower);
  out.push_back({{"driver", "overlayfs"},
                 {"driver_options", json::array()},
                 {"source", "none"},
                 {"fstype", "fuse3.kata-overlay"},
                 {"options", options},
                 {"mount_point", "/run/kata-containers/shared/containers/" + container_id},
                 {"fs_group", nullptr}});
  return out;
}

rego::Value to_value(const json& j) {
  rego::Value v;
  std::string error;
  EXPECT_TRUE(rego::parse_json(j.dump(), v, error)) << error;
  return v;
}

std::unique_ptr<policy::Enforcer> enforcer_for(const std::string& policy_text) {
  policy::HostData hd;
  EXPECT_TRUE(policy::parse_host_data(sha256_hex(policy_text), hd));
  auto e = std::make_unique<policy::Enforcer>(std::make_shared<policy::FixedTee>(hd));
  std::string error;
  EXPECT_TRUE(e->load(policy_text, error)) << error;
  EXPECT_EQ(e->dialect(), policy::Dialect::kKata);
  return e;
}

json policy_data_of(const std::string& policy_text) {
  size_t at = policy_text.find("\npolicy_data := ");
  EXPECT_NE(at, std::string::npos);
  return json::parse(policy_text.substr(at + 16));
}

std::vector<json> read_trace(const std::string& pod) {
  fs::path p = fs::path(CONFIDANT_SHARED_DIR) / "corpus" / "kata" / pod / "trace.jsonl";
  std::ifstream f(p);
  EXPECT_TRUE(f.good()) << "missing fixture " << p;
  std::vector<json> out;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string source_file(const std::string& rel) {
  return slurp(fs::path(__FILE__).parent_path().parent_path().parent_path() / rel);
}

class KataGen : public ::testing::Test {
 protected:
  void SetUp() override {
    pause_ = build_image(tmp_.path() / "pause", {{{{"pause", "\x7f" "ELF pause"}}, true}},
                         {{"Entrypoint", {"/pause"}}, {"Env", {kPath}}, {"User", "65535:65535"}});
    // A busybox-like image: /etc/passwd and /etc/group in the gzip base layer.
    busybox_ = build_image(tmp_.path() / "busybox",
                           {{{{"bin", "", true},
                              {"bin/sh", "#!shell"},
                              {"etc", "", true},
                              {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"},
                              {"etc/group", "root:x:0:\nwheel:x:10:root\nnogroup:x:65534:\n"}},
                             true},
                            {{{"srv", "", true}, {"srv/data.txt", "hello"}}, false}},
                           {{"Cmd", {"sh"}}, {"Env", {kPath}}});
    images_[kPauseRef] = pause_.layout;
    images_["registry.example/busybox:1"] = busybox_.layout;
  }

  generator::ImageResolver resolver() {
    return [this](const std::string& ref, image::Image& out, std::string& error) {
      auto it = images_.find(ref);
      if (it == images_.end()) {
        error = "not in the test's images";
        return false;
      }
      return image::open_image(it->second.string(), "", out, error);
    };
  }

  generator::KataGenerated generate(const std::string& yaml, generator::KataOptions options = {}) {
    generator::KataGenerated out;
    std::string error;
    EXPECT_TRUE(generator::generate_kata(yaml, resolver(), options, out, error)) << error;
    return out;
  }

  std::string generate_error(const std::string& yaml, generator::KataOptions options = {}) {
    generator::KataGenerated out;
    std::string error;
    EXPECT_FALSE(generator::generate_kata(yaml, resolver(), options, out, error)) << yaml;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;  // one line
    return error;
  }

  // The recorded requests of a corpus pod, with the image layers of the recording replaced by
  // those of our images (the pause image for the sandbox, busybox for the others).
  std::vector<json> trace_for_our_images(const std::string& pod) {
    std::vector<json> lines = read_trace(pod);
    Layers pause = layers_of(pause_), busybox = layers_of(busybox_);
    int pci = 0;
    for (auto& l : lines) {
      if (l["ep"] != "CreateContainerRequest") continue;
      json& in = l["input"];
      bool sandbox = in["OCI"]["Annotations"]["io.kubernetes.cri.container-type"] == "sandbox";
      in["storages"] = storages_of(sandbox ? pause : busybox, in["container_id"], pci);
    }
    return lines;
  }

  // Replays `lines` in order; every decision must be the recorded one.
  void replay(policy::Enforcer& e, const std::vector<json>& lines) {
    for (size_t i = 0; i < lines.size(); ++i) {
      const json& l = lines[i];
      SCOPED_TRACE("request " + std::to_string(i + 1) + " " + l["ep"].get<std::string>());
      policy::Decision d = e.enforce(l["ep"].get<std::string>(), to_value(l["input"]));
      EXPECT_EQ(d.allowed, l["want"].get<bool>()) << d.message;
      if (d.allowed) EXPECT_TRUE(d.prints.empty()) << d.prints.front();  // prints explain denials only
    }
  }

  TempDir tmp_;
  BuiltImage pause_, busybox_;
  std::map<std::string, fs::path> images_;
};

const char* kCm2Yaml = R"Y(apiVersion: v1
kind: Pod
metadata:
  name: cm2
  namespace: default
spec:
  shareProcessNamespace: true
  containers:
  - name: busybox
    image: registry.example/busybox:1
    command: ["/bin/sh", "-c", "while true; do echo hello; sleep 10; done"]
    securityContext:
      runAsUser: 123
    volumeMounts:
    - name: cm2
      mountPath: /cm2
    - name: cm3
      mountPath: /cm3
  - name: busybox2
    image: registry.example/busybox:1
    command: ["/bin/sh", "-c", "while true; do echo hello; sleep 10; done"]
    securityContext:
      runAsUser: 321
    volumeMounts:
    - name: cm2
      mountPath: /cm2
    - name: cm3
      mountPath: /cm3
  volumes:
  - name: cm2
    configMap:
      name: my-keys
  - name: cm3
    configMap:
      name: ro-keys
)Y";

const char* kExecYaml = R"Y(apiVersion: v1
kind: Pod
metadata:
  name: exec-test
spec:
  containers:
  - name: busybox
    image: registry.example/busybox:1
    command: ["/bin/sh", "-c", "while true; do echo Kubernetes; sleep 10; done"]
    securityContext:
      privileged: true
    env:
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    - name: SERVICE_ACCOUNT
      valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NAMESPACE
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: PROXY_CONFIG
      value: "{}\n"
    - name: ISTIO_META_POD_PORTS
      value: "[\n]"
    - name: ISTIO_META_APP_CONTAINERS
      value: serviceaclient
    - name: ISTIO_META_CLUSTER_ID
      value: Kubernetes
    - name: ISTIO_META_NODE_NAME
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    startupProbe:
      exec:
        command: ["echo", "${ISTIO_META_NODE_NAME} startup"]
    readinessProbe:
      exec:
        command: ["echo", "Ready ${POD_IP}!"]
    livenessProbe:
      exec:
        command: ["echo", "${ISTIO_META_APP_CONTAINERS}"]
)Y";

json find_request(const std::vector<json>& lines, const std::string& ep, size_t nth = 0) {
  for (const auto& l : lines)
    if (l["ep"] == ep && nth-- == 0) return l["input"];
  ADD_FAILURE() << "no " << ep << " in the trace";
  return json::object();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// A CreateContainerRequest for the same container under another container id (a restart): the
// id appears in the root, the overlay, the shared-file mounts and the bundle path.
json with_container_id(json in, const std::string& id) {
  const std::string shared = "/run/kata-containers/shared/containers/";
  const std::string old = in["container_id"];
  in["container_id"] = id;
  in["exec_id"] = id;
  for (auto& s : in["storages"])
    if (s["driver"] == "overlayfs") s["mount_point"] = shared + id;
  in["OCI"]["Root"]["Path"] = shared + id;
  for (auto& m : in["OCI"]["Mounts"]) {
    std::string src = m["source"];
    if (src.starts_with(shared + old)) m["source"] = shared + id + src.substr(shared.size() + old.size());
  }
  in["OCI"]["Annotations"]["io.katacontainers.pkg.oci.bundle_path"] =
      "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + id;
  return in;
}

}  // namespace

TEST_F(KataGen, EmbeddedRulesAndSettingsAreTheSourceFiles) {
  EXPECT_EQ(generator::kata_rules(), source_file("src/generator/kata_rules.rego"));
  EXPECT_EQ(generator::kata_default_settings(), source_file("src/generator/kata_settings.json"));
  json settings = json::parse(generator::kata_default_settings());
  EXPECT_EQ(settings["cluster_config"]["pause_container_image"], kPauseRef);
  // Every request message of the agent API has a default.
  const std::string rules(generator::kata_rules());
  for (const char* r : {"AddARPNeighborsRequest", "AddSwapRequest", "AddSwapPathRequest", "CloseStdinRequest",
                        "CopyFileRequest", "CreateContainerRequest", "CreateSandboxRequest", "DestroySandboxRequest",
                        "ExecProcessRequest", "GetDiagnosticDataRequest", "GetIPTablesRequest", "GetMetricsRequest",
                        "GetOOMEventRequest", "GuestDetailsRequest", "ListInterfacesRequest", "ListRoutesRequest",
                        "MemAgentCompactConfig", "MemAgentMemcgConfig", "MemHotplugByProbeRequest",
                        "OnlineCPUMemRequest", "PauseContainerRequest", "ReadStreamRequest", "RemoveContainerRequest",
                        "RemoveStaleVirtiofsShareMountsRequest", "ReseedRandomDevRequest", "ResizeVolumeRequest",
                        "ResumeContainerRequest", "SetGuestDateTimeRequest", "SetIPTablesRequest", "SetPolicyRequest",
                        "SignalProcessRequest", "StartContainerRequest", "StartTracingRequest",
                        "StatsContainerRequest", "StopTracingRequest", "TtyWinResizeRequest", "UpdateContainerRequest",
                        "UpdateEphemeralMountsRequest", "UpdateInterfaceRequest", "UpdateRoutesRequest",
                        "VolumeStatsRequest", "WaitProcessRequest", "WriteStreamRequest",
                        "AllowRequestsFailingPolicy"})
    EXPECT_TRUE(contains(rules, std::string("\ndefault ") + r + " := ")) << r;
}

TEST_F(KataGen, PolicyDataAndAnnotation) {
  generator::KataGenerated out = generate(kCm2Yaml);
  ASSERT_EQ(out.workloads.size(), 1u);
  const auto& w = out.workloads[0];
  EXPECT_EQ(w.kind, "Pod");
  EXPECT_EQ(w.name, "cm2");
  EXPECT_TRUE(w.policy.policy.starts_with(std::string(generator::kata_rules()) + "\npolicy_data := {"));
  EXPECT_EQ(w.policy.sha256, sha256_hex(w.policy.policy));

  json pd = policy_data_of(w.policy.policy);
  ASSERT_EQ(pd["containers"].size(), 3u);  // pause first
  const json& pause = pd["containers"][0];
  EXPECT_EQ(pause["OCI"]["Annotations"]["io.kubernetes.cri.container-type"], "sandbox");
  EXPECT_EQ(pause["OCI"]["Process"]["Args"], json::array({"/pause"}));
  EXPECT_EQ(pause["OCI"]["Process"]["User"], (json{{"UID", 65535}, {"GID", 65535}, {"AdditionalGids", {65535}},
                                                   {"Username", ""}}));
  Layers pl = layers_of(pause_), bl = layers_of(busybox_);
  EXPECT_EQ(pause["storages"][0]["options"], json::array({"$(hash0)"}));
  EXPECT_EQ(pause["storages"][1]["options"], json::array({pl.names[0], pl.hashes[0]}));
  const json& app = pd["containers"][1];
  EXPECT_EQ(app["OCI"]["Annotations"]["io.kubernetes.cri.container-name"], "busybox");
  EXPECT_EQ(app["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"], "^cm2$");
  EXPECT_EQ(app["OCI"]["Process"]["User"], (json{{"UID", 123}, {"GID", 0}, {"AdditionalGids", {0}}, {"Username", ""}}));
  EXPECT_EQ(app["OCI"]["Process"]["Env"], json::array({kPath, "HOSTNAME=$(host-name)"}));
  EXPECT_EQ(app["OCI"]["Process"]["Capabilities"]["Bounding"], json::array({"$(default_caps)"}));
  EXPECT_EQ(app["sandbox_pidns"], true);  // shareProcessNamespace
  EXPECT_EQ(pause["sandbox_pidns"], false);
  ASSERT_EQ(app["storages"].size(), 3u);
  EXPECT_EQ(app["storages"][2]["options"],
            json::array({bl.names[0] + ":" + bl.names[1], bl.hashes[0] + ":" + bl.hashes[1]}));
  for (const char* key : {"common", "sandbox", "request_defaults", "cluster_config"}) EXPECT_TRUE(pd.contains(key));

  // The YAML carries base64(policy) in the pod's annotation.
  YAML::Node doc = YAML::Load(out.yaml);
  EXPECT_EQ(doc["metadata"]["annotations"][generator::kKataPolicyAnnotation].as<std::string>(),
            generator::base64(w.policy.policy));
  EXPECT_EQ(doc["spec"]["containers"][0]["securityContext"]["runAsUser"].as<int>(), 123);
}

// The recorded requests of pod-cm2 (two containers, configMap volumes, runAsUser; CopyFile
// requests with directories and symlinks) against the policy generated for the same pod.
TEST_F(KataGen, RecordedPodIsAllowedAndTamperingDenied) {
  generator::KataGenerated out = generate(kCm2Yaml);
  ASSERT_EQ(out.workloads.size(), 1u);
  auto e = enforcer_for(out.workloads[0].policy.policy);
  std::vector<json> lines = trace_for_our_images("pod-cm2");
  replay(*e, lines);
  rego::Value state = e->state();
  std::string state_json = rego::to_json(state);
  EXPECT_TRUE(contains(state_json, R"("sandbox_name":"cm2")")) << state_json;
  EXPECT_TRUE(contains(state_json, R"("namespace":"default")")) << state_json;

  const json app = find_request(lines, "CreateContainerRequest", 1);
  auto create = [&](const json& in) { return e->enforce("CreateContainerRequest", to_value(in)); };
  // A restart: the same policy container under a new container id.
  {
    policy::Decision d = create(with_container_id(app, std::string(64, 'a')));
    EXPECT_TRUE(d.allowed) << d.message;
  }
  const std::string state_before = rego::to_json(e->state());

  struct Tamper {
    const char* what;
    std::function<void(json&)> change;
    const char* reason;  // expected in the denial message
  };
  const std::vector<Tamper> tampers = {
      {"wrong layer root hash",
       [](json& in) {
         std::string& o = in["storages"][0]["options"][3].get_ref<std::string&>();
         o.replace(o.size() - 4, 4, "0000");
       },
       "matches no policy storage"},
      {"overlay of other layers",
       [](json& in) {
         json& opts = in["storages"][2]["options"];
         opts[opts.size() - 1] = "lowerdir=" + std::string(64, 'b');
       },
       "matches no policy storage"},
      {"layer storage dropped", [](json& in) { in["storages"].erase(1); }, "storages, the policy has"},
      {"extra environment variable",
       [](json& in) { in["OCI"]["Process"]["Env"].push_back("LD_PRELOAD=/tmp/evil.so"); },
       R"(environment variable "LD_PRELOAD=/tmp/evil.so" is not allowed)"},
      {"dropped environment variable", [](json& in) { in["OCI"]["Process"]["Env"].erase(0); },
       R"(environment variable "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" of the policy is missing)"},
      {"other args", [](json& in) { in["OCI"]["Process"]["Args"][2] = "cat /etc/shadow"; }, "Args"},
      {"extra arg", [](json& in) { in["OCI"]["Process"]["Args"].push_back("x"); }, "Args"},
      {"privileged capabilities",
       [](json& in) {
         for (const char* set : {"Bounding", "Effective", "Permitted"})
           in["OCI"]["Process"]["Capabilities"][set].push_back("CAP_SYS_ADMIN");
       },
       "Capabilities differ"},
      {"seccomp profile",
       [](json& in) { in["OCI"]["Linux"]["Seccomp"] = {{"DefaultAction", "SCMP_ACT_ALLOW"}, {"Syscalls", json::array()}}; },
       "OCI.Linux.Seccomp is set"},
      {"other user", [](json& in) { in["OCI"]["Process"]["User"]["UID"] = 0; }, "User"},
      {"extra mount",
       [](json& in) {
         in["OCI"]["Mounts"].push_back(
             {{"destination", "/host"}, {"source", "/"}, {"type_", "bind"}, {"options", {"rbind", "rw"}}});
       },
       "mount of /host"},
      {"writable configMap",
       [](json& in) {
         for (auto& m : in["OCI"]["Mounts"])
           if (m["destination"] == "/cm2") m["options"][2] = "rw";
       },
       "mount of /cm2"},
      {"no masked paths", [](json& in) { in["OCI"]["Linux"]["MaskedPaths"] = json::array(); }, "masked path"},
      {"hooks", [](json& in) { in["OCI"]["Hooks"] = {{"Prestart", json::array()}}; }, "OCI.Hooks is set"},
      {"unknown annotation", [](json& in) { in["OCI"]["Annotations"]["io.katacontainers.config.x"] = "1"; },
       "annotation io.katacontainers.config.x"},
      {"other container name",
       [](json& in) { in["OCI"]["Annotations"]["io.kubernetes.cri.container-name"] = "intruder"; },
       "no policy container of type"},
      {"other sandbox name", [](json& in) { in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"] = "cm3"; },
       "no policy container"},
  };
  for (const auto& t : tampers) {
    SCOPED_TRACE(t.what);
    json in = app;
    t.change(in);
    policy::Decision d = create(in);
    EXPECT_FALSE(d.allowed);
    EXPECT_TRUE(d.message.starts_with("CreateContainerRequest is blocked by policy: ")) << d.message;
    EXPECT_TRUE(contains(d.message, t.reason)) << d.message;
  }
  // Denials leave the state as it was.
  EXPECT_EQ(rego::to_json(e->state()), state_before);

  // CopyFile: not through "..", symlinks relative and below a shared directory.
  json copy = find_request(lines, "CopyFileRequest", 1);
  auto copy_with = [&](const std::function<void(json&)>& change) {
    json in = copy;
    change(in);
    return e->enforce("CopyFileRequest", to_value(in));
  };
  EXPECT_TRUE(copy_with([](json&) {}).allowed);
  policy::Decision d = copy_with([](json& in) { in["path"] = in["path"].get<std::string>() + "/../../../etc/x"; });
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(contains(d.message, "..")) << d.message;
  EXPECT_FALSE(copy_with([](json& in) { in["path"] = "/etc/passwd"; }).allowed);
  EXPECT_FALSE(copy_with([](json& in) {
                 in["path"] = in["path"].get<std::string>() + "/x";
                 in["file_mode"] = 0120777;
                 in["symlink_src"] = "/etc/shadow";
               }).allowed);
  EXPECT_TRUE(copy_with([](json& in) {
                in["path"] = in["path"].get<std::string>() + "/x";
                in["file_mode"] = 0120777;
                in["symlink_src"] = "..data/x";
              }).allowed);
  // The agent's converted form (file_type, symlink_target) is understood too.
  EXPECT_FALSE(copy_with([](json& in) {
                 in["file_type"] = "Symlink";
                 in["symlink_target"] = "x";
               }).allowed);  // a symlink at the top of the shared directory

  // Sandbox: only the shm storage, no hooks, the pinned sandbox id.
  json sandbox = find_request(lines, "CreateSandboxRequest");
  EXPECT_TRUE(e->enforce("CreateSandboxRequest", to_value(sandbox)).allowed);
  json other = sandbox;
  other["guest_hook_path"] = "/tmp/hooks";
  EXPECT_FALSE(e->enforce("CreateSandboxRequest", to_value(other)).allowed);
  other = sandbox;
  other["sandbox_id"] = std::string(64, 'c');
  EXPECT_FALSE(e->enforce("CreateSandboxRequest", to_value(other)).allowed);
  other = sandbox;
  other["storages"][0]["options"].push_back("exec");
  EXPECT_FALSE(e->enforce("CreateSandboxRequest", to_value(other)).allowed);

  // Removing a container forgets it; an unknown one is allowed and changes nothing.
  std::string cid = app["container_id"];
  policy::Decision removed = e->enforce("RemoveContainerRequest", to_value({{"container_id", cid}}));
  EXPECT_TRUE(removed.allowed);
  EXPECT_FALSE(contains(rego::to_json(e->state()), cid));
  EXPECT_TRUE(e->enforce("RemoveContainerRequest", to_value({{"container_id", std::string(64, 'f')}})).allowed);
  // Pinned values cannot be removed through it.
  EXPECT_TRUE(e->enforce("RemoveContainerRequest", to_value({{"container_id", "sandbox_name"}})).allowed);
  EXPECT_TRUE(contains(rego::to_json(e->state()), R"("sandbox_name":"cm2")"));
  // The policy never lets the host replace it.
  EXPECT_FALSE(e->enforce("SetPolicyRequest", to_value({{"policy", "package agent_policy"}})).allowed);
}

// pod-exec: a privileged container with downward-API environment variables and exec probes; the
// kubelet runs the probes through ExecProcessRequest.
TEST_F(KataGen, RecordedExecProbesAreAllowedOthersDenied) {
  generator::KataGenerated out = generate(kExecYaml);
  ASSERT_EQ(out.workloads.size(), 1u);
  json pd = policy_data_of(out.workloads[0].policy.policy);
  const json& app = pd["containers"][1];
  EXPECT_EQ(app["exec_commands"].size(), 3u);
  EXPECT_EQ(app["OCI"]["Process"]["Capabilities"]["Bounding"], json::array({"$(privileged_caps)"}));
  EXPECT_EQ(app["OCI"]["Process"]["User"]["AdditionalGids"], json::array({0, 10}));  // root is in wheel
  const json env = app["OCI"]["Process"]["Env"];
  for (const char* v : {"POD_IP=$(pod-ip)", "POD_NAME=$(sandbox-name)", "POD_NAMESPACE=$(sandbox-namespace)",
                        "SERVICE_ACCOUNT=default", "ISTIO_META_NODE_NAME=$(node-name)", "PROXY_CONFIG={}\n"})
    EXPECT_NE(std::find(env.begin(), env.end(), v), env.end()) << v;

  auto e = enforcer_for(out.workloads[0].policy.policy);
  std::vector<json> lines = trace_for_our_images("pod-exec");
  replay(*e, lines);

  json exec = find_request(lines, "ExecProcessRequest");
  auto run = [&](const std::function<void(json&)>& change) {
    json in = exec;
    change(in);
    return e->enforce("ExecProcessRequest", to_value(in));
  };
  EXPECT_TRUE(run([](json&) {}).allowed);
  policy::Decision d = run([](json& in) { in["process"]["Args"] = {"/bin/sh"}; });
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(contains(d.message, "command [\"/bin/sh\"] is not allowed")) << d.message;
  EXPECT_FALSE(run([](json& in) { in["process"]["Args"] = {"echo", "Ready ${POD_IP}!", "x"}; }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Env"].push_back("LD_PRELOAD=/x.so"); }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Env"][2] = "POD_IP=not-an-ip"; }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Env"][4] = "POD_NAME=other-pod"; }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Env"].erase(in["process"]["Env"].begin() + 2); }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["User"]["UID"] = 1000; }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Capabilities"] = {{"Bounding", json::array()}}; }).allowed);
  EXPECT_FALSE(run([](json& in) { in["process"]["Terminal"] = true; }).allowed);
  d = run([](json& in) { in["container_id"] = std::string(64, 'e'); });
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(contains(d.message, "was not created under this policy")) << d.message;
  // Once the container is removed its commands are refused too.
  EXPECT_TRUE(e->enforce("RemoveContainerRequest", to_value({{"container_id", exec["container_id"]}})).allowed);
  EXPECT_FALSE(run([](json&) {}).allowed);

  // Network settings from the host.
  json iface = find_request(lines, "UpdateInterfaceRequest");
  EXPECT_TRUE(e->enforce("UpdateInterfaceRequest", to_value(iface)).allowed);
  json bad = iface;
  bad["interface"]["raw_flags"] = 1;
  EXPECT_FALSE(e->enforce("UpdateInterfaceRequest", to_value(bad)).allowed);
  bad = iface;
  bad["interface"]["raw_flags"] = 128;  // IFF_NOARP is allowed
  EXPECT_TRUE(e->enforce("UpdateInterfaceRequest", to_value(bad)).allowed);
  bad["interface"]["name"] = "lo";
  EXPECT_FALSE(e->enforce("UpdateInterfaceRequest", to_value(bad)).allowed);
  json routes = find_request(lines, "UpdateRoutesRequest");
  EXPECT_TRUE(e->enforce("UpdateRoutesRequest", to_value(routes)).allowed);
  bad = routes;
  bad["routes"]["Routes"][0]["device"] = "lo";
  EXPECT_FALSE(e->enforce("UpdateRoutesRequest", to_value(bad)).allowed);
  bad = routes;
  bad["routes"]["Routes"][0]["source"] = "127.0.0.1";
  EXPECT_FALSE(e->enforce("UpdateRoutesRequest", to_value(bad)).allowed);
  json arp = {{"neighbors",
               {{"ARPNeighbors",
                 {{{"toIPAddress", {{"family", 0}, {"address", "10.244.0.1"}, {"mask", ""}}},
                   {"device", "eth0"},
                   {"lladdr", "12:34:56:78:9a:bc"},
                   {"state", 128},
                   {"flags", 0}}}}}}};
  EXPECT_TRUE(e->enforce("AddARPNeighborsRequest", to_value(arp)).allowed);
  arp["neighbors"]["ARPNeighbors"][0]["toIPAddress"]["address"] = "127.0.0.2";
  EXPECT_FALSE(e->enforce("AddARPNeighborsRequest", to_value(arp)).allowed);
  // Settings switches: logs readable, stdin closed to the host.
  EXPECT_TRUE(e->enforce("ReadStreamRequest", to_value({{"container_id", "x"}})).allowed);
  EXPECT_FALSE(e->enforce("WriteStreamRequest", to_value({{"container_id", "x"}})).allowed);
}

// A Deployment's pods get generated names: the policy accepts any of them, and the first request
// pins the name, so a container of the policy cannot be started in another pod of the same VM.
TEST_F(KataGen, DeploymentPinsTheSandboxName) {
  std::string yaml = R"Y(apiVersion: apps/v1
kind: Deployment
metadata:
  name: cm2
spec:
  replicas: 2
  selector: {matchLabels: {app: cm2}}
  template:
    metadata:
      labels: {app: cm2}
    spec:
)Y";
  // The pod spec of kCm2Yaml, indented under the template.
  std::string spec = kCm2Yaml;
  spec = spec.substr(spec.find("spec:\n") + 6);
  std::string indented;
  for (size_t at = 0; at < spec.size();) {
    size_t nl = spec.find('\n', at);
    indented += "    " + spec.substr(at, nl - at + 1);
    at = nl + 1;
  }
  generator::KataGenerated out = generate(yaml + indented);
  ASSERT_EQ(out.workloads.size(), 1u);
  EXPECT_EQ(out.workloads[0].kind, "Deployment");
  json pd = policy_data_of(out.workloads[0].policy.policy);
  EXPECT_EQ(pd["containers"][0]["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"],
            "^cm2-[a-z0-9]{1,10}-[a-z0-9]{5}$");
  YAML::Node doc = YAML::Load(out.yaml);
  EXPECT_EQ(doc["spec"]["template"]["metadata"]["annotations"][generator::kKataPolicyAnnotation].as<std::string>(),
            generator::base64(out.workloads[0].policy.policy));
  EXPECT_EQ(doc["spec"]["template"]["metadata"]["labels"]["app"].as<std::string>(), "cm2");

  auto e = enforcer_for(out.workloads[0].policy.policy);
  std::vector<json> lines = trace_for_our_images("pod-cm2");
  const std::string pod_name = "cm2-5d4f8b7c9-x7k2p";
  for (auto& l : lines) {
    if (l["ep"] != "CreateContainerRequest") continue;
    json& annos = l["input"]["OCI"]["Annotations"];
    annos["io.kubernetes.cri.sandbox-name"] = pod_name;
    if (annos.contains("io.kubernetes.cri.sandbox-log-directory")) {
      std::string dir = annos["io.kubernetes.cri.sandbox-log-directory"];
      annos["io.kubernetes.cri.sandbox-log-directory"] =
          "/var/log/pods/default_" + pod_name + dir.substr(dir.rfind('_'));
    }
  }
  replay(*e, lines);
  EXPECT_TRUE(contains(rego::to_json(e->state()), R"("sandbox_name":")" + pod_name + "\""));

  // The second container again, under a new id, claiming another pod of the Deployment.
  json in = with_container_id(find_request(lines, "CreateContainerRequest", 2), std::string(64, 'f'));
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"] = "cm2-5d4f8b7c9-zzzzz";
  policy::Decision d = e->enforce("CreateContainerRequest", to_value(in));
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(contains(d.message, "sandbox_name \"cm2-5d4f8b7c9-zzzzz\" differs from \"" + pod_name)) << d.message;
  // A name the Deployment never gives.
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"] = "cm2";
  EXPECT_FALSE(e->enforce("CreateContainerRequest", to_value(in)).allowed);
  // Another namespace.
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"] = pod_name;
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-namespace"] = "kube-system";
  d = e->enforce("CreateContainerRequest", to_value(in));
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(contains(d.message, "namespace")) << d.message;
  // Another sandbox id.
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-namespace"] = "default";
  in["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-id"] = std::string(64, '1');
  EXPECT_FALSE(e->enforce("CreateContainerRequest", to_value(in)).allowed);
}

TEST_F(KataGen, WorkloadKinds) {
  std::string yaml = R"Y(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: pi, namespace: jobs}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: pi
        image: registry.example/busybox:1
        args: ["-c", "echo 3.14"]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: hello}
spec:
  schedule: "*/1 * * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {keep: "yes"}
        spec:
          restartPolicy: OnFailure
          containers:
          - name: hello
            image: registry.example/busybox:1
            command: ["echo", "$(GREETING) world", "$$(GREETING)"]
            env:
            - {name: GREETING, value: hello}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      initContainers:
      - name: init
        image: registry.example/busybox:1
        command: ["true"]
      containers:
      - name: db
        image: registry.example/busybox:1
        tty: true
        workingDir: /data
        volumeMounts: [{name: data, mountPath: /data}, {name: scratch, mountPath: /scratch}]
      volumes:
      - {name: data, emptyDir: {}}
      - {name: scratch, emptyDir: {medium: Memory}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    spec:
      containers: [{name: agent, image: registry.example/busybox:1}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  template:
    spec:
      containers: [{name: c, image: registry.example/busybox:1}]
)Y";
  generator::KataGenerated out = generate(yaml);
  ASSERT_EQ(out.workloads.size(), 5u);
  const std::pair<const char*, const char*> expect[] = {
      {"Job", "^pi-(?:[0-9]+-)?[a-z0-9]{5}$"},
      {"CronJob", "^hello-[0-9]+-(?:[0-9]+-)?[a-z0-9]{5}$"},
      {"StatefulSet", "^db-[0-9]+$"},
      {"DaemonSet", "^agent-[a-z0-9]{5}$"},
      {"ReplicaSet", "^rs-[a-z0-9]{5}$"},
  };
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(out.workloads[i].kind, expect[i].first);
    json pd = policy_data_of(out.workloads[i].policy.policy);
    EXPECT_EQ(pd["containers"][0]["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-name"], expect[i].second);
    auto e = enforcer_for(out.workloads[i].policy.policy);  // each one loads
  }
  json job = policy_data_of(out.workloads[0].policy.policy);
  // args replace the image's Cmd (and the image has no Entrypoint).
  EXPECT_EQ(job["containers"][1]["OCI"]["Process"]["Args"], json::array({"-c", "echo 3.14"}));
  EXPECT_EQ(job["containers"][1]["OCI"]["Annotations"]["io.kubernetes.cri.sandbox-namespace"], "jobs");
  json cron = policy_data_of(out.workloads[1].policy.policy);
  EXPECT_EQ(cron["containers"][1]["OCI"]["Process"]["Args"], json::array({"echo", "hello world", "$$(GREETING)"}));
  json db = policy_data_of(out.workloads[2].policy.policy);
  ASSERT_EQ(db["containers"].size(), 3u);  // pause, init, db
  EXPECT_EQ(db["containers"][1]["OCI"]["Annotations"]["io.kubernetes.cri.container-name"], "init");
  const json& dbc = db["containers"][2];
  EXPECT_EQ(dbc["OCI"]["Process"]["Terminal"], true);
  EXPECT_EQ(dbc["OCI"]["Process"]["Cwd"], "/data");
  EXPECT_NE(std::find(dbc["OCI"]["Process"]["Env"].begin(), dbc["OCI"]["Process"]["Env"].end(), "TERM=xterm"),
            dbc["OCI"]["Process"]["Env"].end());
  ASSERT_EQ(dbc["storages"].size(), 5u);  // 2 layers, overlay, local emptyDir, tmpfs emptyDir
  EXPECT_EQ(dbc["storages"][3]["driver"], "local");
  EXPECT_EQ(dbc["storages"][3]["mount_point"], "^$(cpath)/$(sandbox-id)/local/data$");
  EXPECT_EQ(dbc["storages"][4]["driver"], "ephemeral");
  bool found = false;
  for (const auto& m : dbc["OCI"]["Mounts"])
    if (m["destination"] == "/data") {
      found = true;
      EXPECT_EQ(m["type_"], "local");
      EXPECT_EQ(m["options"], json::array({"rbind", "rprivate", "rw"}));
    }
  EXPECT_TRUE(found);

  // Annotations land on every pod template; the Service passes through; existing annotations stay.
  std::vector<YAML::Node> docs = YAML::LoadAll(out.yaml);
  ASSERT_EQ(docs.size(), 6u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "Service");
  EXPECT_FALSE(docs[0]["metadata"]["annotations"]);
  EXPECT_EQ(docs[1]["spec"]["template"]["metadata"]["annotations"][generator::kKataPolicyAnnotation].as<std::string>(),
            generator::base64(out.workloads[0].policy.policy));
  YAML::Node cron_annos = docs[2]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(cron_annos[generator::kKataPolicyAnnotation].as<std::string>(),
            generator::base64(out.workloads[1].policy.policy));
  EXPECT_EQ(cron_annos["keep"].as<std::string>(), "yes");
  EXPECT_TRUE(contains(out.yaml, "keep: \"yes\""));  // still a string for Kubernetes' YAML 1.1
  EXPECT_EQ(docs[2]["spec"]["schedule"].as<std::string>(), "*/1 * * * *");
}

TEST_F(KataGen, ConfigMapAndSecretReferences) {
  std::string yaml = R"Y(apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  MODE: prod
  LEVEL: "3"
  bad key: ignored
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
data:
  TOKEN: czNjcmV0
stringData:
  PLAIN: text
---
apiVersion: v1
kind: Pod
metadata: {name: cfg}
spec:
  containers:
  - name: app
    image: registry.example/busybox:1
    args: ["$(CFG_MODE)", "$(UNDEFINED)"]
    envFrom:
    - configMapRef: {name: app-config}
      prefix: CFG_
    - secretRef: {name: app-secret}
    - configMapRef: {name: absent, optional: true}
    env:
    - name: TOKEN2
      valueFrom: {secretKeyRef: {name: app-secret, key: TOKEN}}
    - name: FROM_FILE
      valueFrom: {configMapKeyRef: {name: extra, key: url}}
    - name: OPTIONAL
      valueFrom: {configMapKeyRef: {name: extra, key: nothing, optional: true}}
    - name: REF
      value: "$(CFG_MODE)-x"
    - name: PRICE
      value: "$5 and $$(LITERAL)"
    - name: CFG_LEVEL
      value: "4"
)Y";
  generator::KataOptions options;
  options.config_documents.push_back("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata:\n  url: https://x.example/$path\n");
  generator::KataGenerated out = generate(yaml, options);
  ASSERT_EQ(out.workloads.size(), 1u);
  json pd = policy_data_of(out.workloads[0].policy.policy);
  const json& proc = pd["containers"][1]["OCI"]["Process"];
  std::vector<std::string> env = proc["Env"];
  auto has = [&](const std::string& v) { return std::find(env.begin(), env.end(), v) != env.end(); };
  EXPECT_TRUE(has("CFG_MODE=prod"));
  EXPECT_TRUE(has("CFG_LEVEL=4"));  // env overrides envFrom
  EXPECT_FALSE(has("CFG_LEVEL=3"));
  EXPECT_TRUE(has("TOKEN=s3cret"));
  EXPECT_TRUE(has("PLAIN=text"));
  EXPECT_TRUE(has("TOKEN2=s3cret"));
  EXPECT_TRUE(has("FROM_FILE=https://x.example/$$path"));  // a literal $ in the policy's syntax
  EXPECT_TRUE(has("REF=prod-x"));
  EXPECT_TRUE(has("PRICE=$$5 and $$(LITERAL)"));
  for (const auto& v : env) {
    EXPECT_FALSE(v.starts_with("OPTIONAL=")) << v;
    EXPECT_FALSE(v.starts_with("CFG_bad")) << v;
  }
  EXPECT_EQ(proc["Args"], json::array({"prod", "$$(UNDEFINED)"}));  // an undefined reference stays as written

  // Without the ConfigMap the reference cannot be resolved.
  std::string error = generate_error(yaml);
  EXPECT_TRUE(contains(error, "ConfigMap 'extra' not found")) << error;
  EXPECT_TRUE(contains(error, "--config-file")) << error;
}

// Templates in action: $(VAR) expansion of downward-API values and literal dollars, through the
// enforcer with requests shaped like pod-cm2's.
TEST_F(KataGen, TemplatesMatchRuntimeValues) {
  std::string yaml = kCm2Yaml;
  std::string extra = R"Y(    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: WHO
      value: "$(POD_NAME)-x"
    - name: PRICE
      value: "$5"
    - name: DB_SERVICE_HOST
      value: 10.1.1.1
    args: ["echo $(POD_NAME)"]
)Y";
  size_t at = yaml.find("    securityContext:\n      runAsUser: 123\n");
  yaml.insert(at, extra);
  const std::string command = "command: [\"/bin/sh\", \"-c\", \"while true; do echo hello; sleep 10; done\"]";
  yaml.replace(yaml.find(command), command.size(), "command: [\"/bin/sh\", \"-c\"]");
  generator::KataGenerated out = generate(yaml);
  json pd = policy_data_of(out.workloads[0].policy.policy);
  EXPECT_EQ(pd["containers"][1]["OCI"]["Process"]["Args"],
            json::array({"/bin/sh", "-c", "echo $(sandbox-name)"}));
  auto e = enforcer_for(out.workloads[0].policy.policy);
  std::vector<json> lines = trace_for_our_images("pod-cm2");
  size_t creates = 0;
  for (auto& l : lines) {
    if (l["ep"] != "CreateContainerRequest" || creates++ != 1) continue;
    json& p = l["input"]["OCI"]["Process"];
    p["Args"] = {"/bin/sh", "-c", "echo cm2"};
    p["Env"].push_back("POD_NAME=cm2");
    p["Env"].push_back("WHO=cm2-x");
    p["Env"].push_back("PRICE=$5");
    p["Env"].push_back("DB_SERVICE_HOST=10.1.1.1");
  }
  replay(*e, lines);
  json app = find_request(lines, "CreateContainerRequest", 1);
  auto denied = [&](const std::function<void(json&)>& change) {
    json in = with_container_id(app, std::string(64, 'f'));
    change(in);
    return !e->enforce("CreateContainerRequest", to_value(in)).allowed;
  };
  EXPECT_FALSE(denied([](json&) {}));
  EXPECT_TRUE(denied([](json& in) { in["OCI"]["Process"]["Args"][2] = "echo other"; }));
  EXPECT_TRUE(denied([](json& in) { in["OCI"]["Process"]["Args"][2] = "echo $(sandbox-name)"; }));
  EXPECT_TRUE(denied([](json& in) { in["OCI"]["Process"]["Env"].push_back("WHO=evil-x"); }));
  EXPECT_TRUE(denied([](json& in) { in["OCI"]["Process"]["Env"].push_back("PRICE=$$5"); }));
  EXPECT_TRUE(denied([](json& in) { in["OCI"]["Process"]["Env"].push_back("POD_NAME=cm3"); }));
  // Service-link variables are let in by pattern, but not as a second definition of a pod variable.
  EXPECT_FALSE(denied([](json& in) { in["OCI"]["Process"]["Env"].push_back("OTHER_SERVICE_HOST=10.0.0.1"); }));
  EXPECT_TRUE(denied([](json& in) {
    auto& env = in["OCI"]["Process"]["Env"];
    env.insert(env.begin(), "DB_SERVICE_HOST=10.6.6.6");
  }));
}

// Users from /etc/passwd and /etc/group as containerd resolves them, through the layers.
TEST_F(KataGen, UsersFromPasswdAndGroupThroughLayers) {
  std::vector<Entry> base = {{"etc", "", true},
                             {"etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
                                            "# comment\nbroken line\n"},
                             {"etc/group", "root:x:0:\napp:x:1000:\ndev:x:2000:app,other\nops:x:3000:root\n"},
                             {"bin", "", true},
                             {"bin/app", "app"}};
  json config = {{"Entrypoint", {"/bin/app"}}, {"Env", {kPath}}, {"User", "app"}};
  auto add = [&](const std::string& ref, std::vector<LayerSpec> layers, json cfg) {
    images_[ref] = build_image(tmp_.path() / ref.substr(ref.find('/') + 1, ref.find(':') - ref.find('/') - 1),
                               layers, cfg)
                       .layout;
  };
  add("registry.example/users:1", {{base, true}, {{{"srv", "", true}}, false}}, config);
  add("registry.example/whiteout:1", {{base, true}, {{{"etc", "", true}, {"etc/.wh.group", ""}}, false}}, config);
  add("registry.example/opaque:1",
      {{base, true}, {{{"etc", "", true}, {"etc/.wh..wh..opq", ""}, {"etc/passwd", "app:x:1500:1500::/:/bin/sh\n"}}, false}},
      config);
  add("registry.example/replaced:1", {{base, true}, {{{"etc", "", true}, {"etc/group", "dev:x:2500:app\n"}}, false}},
      config);
  add("registry.example/named:1", {{base, true}}, {{"Entrypoint", {"/bin/app"}}, {"User", "app:ops"}});
  add("registry.example/ghost:1", {{base, true}}, {{"Entrypoint", {"/bin/app"}}, {"User", "ghost"}});

  std::string yaml = R"Y(apiVersion: v1
kind: Pod
metadata: {name: users}
spec:
  securityContext:
    supplementalGroups: [7000]
    fsGroup: 8000
  containers:
  - {name: a, image: registry.example/users:1}
  - {name: b, image: registry.example/users:1, securityContext: {runAsUser: 0}}
  - {name: c, image: registry.example/users:1, securityContext: {runAsUser: 1000, runAsGroup: 4000}}
  - {name: d, image: registry.example/users:1, securityContext: {runAsUser: 5000}}
  - {name: e, image: registry.example/whiteout:1}
  - {name: f, image: registry.example/opaque:1}
  - {name: g, image: registry.example/replaced:1}
  - {name: h, image: registry.example/named:1}
)Y";
  generator::KataGenerated out = generate(yaml);
  ASSERT_EQ(out.workloads.size(), 1u);
  json pd = policy_data_of(out.workloads[0].policy.policy);
  auto user = [&](size_t i) { return pd["containers"][i]["OCI"]["Process"]["User"]; };
  auto expect_user = [&](size_t i, int uid, int gid, std::vector<int> gids) {
    SCOPED_TRACE("container " + std::to_string(i));
    EXPECT_EQ(user(i)["UID"], uid);
    EXPECT_EQ(user(i)["GID"], gid);
    EXPECT_EQ(user(i)["AdditionalGids"], json(gids));
  };
  expect_user(0, 65535, 65535, {65535, 7000, 8000});  // pause: the pod's groups too
  expect_user(1, 1000, 1000, {1000, 2000, 7000, 8000});  // the image's user "app", member of dev
  expect_user(2, 0, 0, {0, 3000, 7000, 8000});           // root, member of ops
  expect_user(3, 1000, 4000, {4000, 2000, 7000, 8000});
  expect_user(4, 5000, 0, {0, 7000, 8000});              // not in /etc/passwd
  expect_user(5, 1000, 1000, {1000, 7000, 8000});        // /etc/group whited out: no groups
  expect_user(6, 1500, 1500, {1500, 7000, 8000});        // opaque /etc: the top layer's passwd only
  expect_user(7, 1000, 1000, {1000, 2500, 7000, 8000});  // /etc/group replaced by the top layer
  expect_user(8, 1000, 1000, {1000, 2000, 7000, 8000});  // image USER "app:ops": the kubelet passes "app" only

  // Pod-level runAsUser also applies to the pause container.
  std::string pod_user = R"Y(apiVersion: v1
kind: Pod
metadata: {name: u}
spec:
  securityContext: {runAsUser: 2000}
  containers: [{name: a, image: registry.example/users:1}]
)Y";
  pd = policy_data_of(generate(pod_user).workloads[0].policy.policy);
  expect_user(0, 2000, 0, {0});
  expect_user(1, 2000, 0, {0});

  std::string error = generate_error(
      "kind: Pod\nmetadata: {name: g}\nspec:\n  containers: [{name: a, image: registry.example/ghost:1}]\n");
  EXPECT_TRUE(contains(error, "user 'ghost' is not in the image's /etc/passwd")) << error;
  error = generate_error(
      "kind: Pod\nmetadata: {name: g}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: a, "
      "image: registry.example/users:1, securityContext: {runAsUser: 0}}]\n");
  EXPECT_TRUE(contains(error, "runAsNonRoot")) << error;
}

TEST_F(KataGen, DeterministicAndCached) {
  generator::KataGenerated a = generate(kExecYaml), b = generate(kExecYaml);
  EXPECT_EQ(a.workloads[0].policy.policy, b.workloads[0].policy.policy);
  EXPECT_EQ(a.yaml, b.yaml);

  generator::KataOptions cached;
  cached.cache_dir = (tmp_.path() / "cache").string();
  generator::KataGenerated c = generate(kExecYaml, cached);
  EXPECT_EQ(c.workloads[0].policy.policy, a.workloads[0].policy.policy);
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(tmp_.path() / "cache" / "verity-kata")) entries.push_back(e.path());
  EXPECT_EQ(entries.size(), 3u);  // the pause layer and busybox's two
  // Served from the cache, then damaged entries are recomputed.
  generator::KataGenerated d = generate(kExecYaml, cached);
  EXPECT_EQ(d.workloads[0].policy.policy, a.workloads[0].policy.policy);
  for (const auto& p : entries) {
    json j = json::parse(slurp(p));
    j["root_hash"] = std::string(64, 'a');
    spit(p, j.dump());
  }
  spit(entries[0], "garbage");
  generator::KataGenerated f = generate(kExecYaml, cached);
  EXPECT_EQ(f.workloads[0].policy.policy, a.workloads[0].policy.policy);
}

TEST_F(KataGen, Settings) {
  // -j DIR: a whole settings file and a patch, applied in name order.
  fs::path dir = tmp_.path() / "settings";
  spit(dir / "10-base.json", generator::kata_default_settings());
  spit(dir / "20-patch.json", R"([
    {"op": "replace", "path": "/cluster_config/pause_container_image", "value": "registry.example/pause:2"},
    {"op": "add", "path": "/request_defaults/ExecProcessRequest/allowed_commands/-", "value": ["/bin/sh"]}])");
  spit(dir / "notes.txt", "ignored");
  generator::KataOptions options;
  std::string error;
  ASSERT_TRUE(generator::load_kata_settings(dir.string(), options, error)) << error;
  EXPECT_FALSE(options.settings.empty());
  ASSERT_EQ(options.settings_patches.size(), 1u);
  images_["registry.example/pause:2"] = pause_.layout;
  images_.erase(kPauseRef);
  generator::KataGenerated out = generate(kCm2Yaml, options);
  json pd = policy_data_of(out.workloads[0].policy.policy);
  EXPECT_EQ(pd["cluster_config"]["pause_container_image"], "registry.example/pause:2");
  EXPECT_EQ(pd["request_defaults"]["ExecProcessRequest"]["allowed_commands"], json::array({json::array({"/bin/sh"})}));

  generator::KataOptions bad;
  bad.settings_patches.push_back(R"([{"op": "remove", "path": "/common/cpath"}])");
  error = generate_error(kCm2Yaml, bad);
  EXPECT_TRUE(contains(error, "settings: common.cpath is missing")) << error;
  bad.settings_patches = {R"([{"op": "remove", "path": "/no/such"}])"};
  error = generate_error(kCm2Yaml, bad);
  EXPECT_TRUE(contains(error, "settings patch 1")) << error;
  bad.settings_patches = {"{"};
  EXPECT_TRUE(contains(generate_error(kCm2Yaml, bad), "settings patch 1"));
  spit(dir / "30-bad.json", "42");
  EXPECT_FALSE(generator::load_kata_settings(dir.string(), options, error));
  EXPECT_TRUE(contains(error, "30-bad.json")) << error;
  EXPECT_FALSE(generator::load_kata_settings((tmp_.path() / "missing.json").string(), options, error));
}

TEST_F(KataGen, BadInputsGiveClearErrors) {
  const std::string pod = "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: registry.example/busybox:1\n";
  struct Case {
    std::string yaml;
    const char* expect;
  };
  std::string deep = "kind: Pod\nmetadata: {name: p}\nspec: " + std::string(20000, '[') + std::string(20000, ']') + "\n";
  const std::vector<Case> cases = {
      {"kind: Pod\nmetadata: {name: p}\nspec: {containers: [", "invalid YAML at line"},
      {"", "no documents"},
      {"- a\n- b\n", "document 1: expected a mapping"},
      {"kind: Gadget\nmetadata: {name: g}\n", "unsupported kind 'Gadget'"},
      {"metadata: {name: g}\n", "kind is missing"},
      {"kind: Service\nmetadata: {name: s}\n", "no workload with a pod template"},
      {"kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n", "the pod has no containers"},
      {"kind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: []}\n", "is not a valid name"},
      {"kind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1}\n", "spec.template is missing"},
      {"kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: registry.example/none:1}]\n",
       "image registry.example/none:1: not in the test's images"},
      {"kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a}]\n", "containers[0].image: missing"},
      {pod + "    securityContext: {runAsUser: abc}\n", "runAsUser: expected an integer, got 'abc'"},
      {pod + "    securityContext: {runAsUser: -1}\n", "out of range"},
      {pod + "    securityContext: {seccompProfile: {type: RuntimeDefault}}\n", "seccomp"},
      {pod + "    securityContext: {capabilities: {add: [NOT_A_CAP]}}\n", "unknown capability 'NOT_A_CAP'"},
      {pod + "    securityContext: {privileged: true, allowPrivilegeEscalation: false}\n", "allowPrivilegeEscalation"},
      {pod + "  hostNetwork: true\n", "hostNetwork: not supported"},
      {pod + "    envFrom: [{configMapRef: {name: nope}}]\n", "ConfigMap 'nope' not found"},
      {pod + "    env: [{name: X, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}]\n", "unsupported fieldPath"},
      {pod + "    env: [{name: '1X', value: a}]\n", "invalid environment variable name"},
      {pod + "    env: {X: a}\n", "env: expected a list"},
      {pod + "    volumeMounts: [{name: v, mountPath: /v}]\n", "no volume named 'v'"},
      {pod + "    volumeMounts: [{name: v, mountPath: /v, subPath: x}]\n  volumes: [{name: v, emptyDir: {}}]\n",
       "subPath"},
      {pod + "  volumes: [{name: v, awsElasticBlockStore: {volumeID: x}}]\n", "unsupported volume type"},
      {pod + "  - name: a\n    image: registry.example/busybox:1\n", "two containers are named 'a'"},
      {pod + "    livenessProbe: {exec: {command: []}}\n", "empty command"},
      {"kind: Secret\nmetadata: {name: s}\ndata: {K: '!!!'}\n---\n" + pod, "not valid base64"},
      {deep, "invalid YAML"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml.substr(0, 120));
    std::string error = generate_error(c.yaml);
    EXPECT_TRUE(contains(error, c.expect)) << error;
  }
  // YAML aliases: an expansion bomb and a cycle in a document passed through.
  std::string bomb = "kind: Service\nmetadata: {name: s}\nspec:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    bomb += "  a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev;
    for (int k = 0; k < 9; ++k) bomb += ", " + prev;
    bomb += "]\n";
  }
  std::string error = generate_error(bomb + "---\n" + pod);
  EXPECT_TRUE(contains(error, "too large once their YAML aliases are expanded")) << error;
  error = generate_error("kind: Service\nmetadata: {name: s}\nspec: &c {self: *c}\n---\n" + pod);
  EXPECT_FALSE(error.empty());

  // An image without a command.
  images_["registry.example/empty:1"] =
      build_image(tmp_.path() / "empty", {{{{"x", "y"}}, false}}, {{"Env", {kPath}}}).layout;
  error = generate_error(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: registry.example/empty:1}]\n");
  EXPECT_TRUE(contains(error, "no command")) << error;
  error = generate_error("kind: List\n");
  EXPECT_TRUE(contains(error, "unsupported kind 'List'")) << error;
}
