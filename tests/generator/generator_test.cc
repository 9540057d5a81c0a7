// Images on disk and policy generation, end to end through the enforcer: a policy generated
// for local images admits exactly those layers and containers.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "generator/generator.h"
#include "test_images.h"
#include "image/image.h"
#include "integrity/integrity.h"
#include "policy/policy.h"
#include "rego/value.h"

namespace fs = std::filesystem;
using namespace confidant;
using nlohmann::json;

namespace {

using namespace confidant::testing;

std::string layer_hash(const std::string& path) {
  integrity::RootHash h;
  std::string error;
  EXPECT_TRUE(integrity::layer_root_hash(integrity::LayerFormat::kAci, path, h, error)) << error;
  return integrity::to_hex(h);
}

policy::HostData host_data_of(const std::string& hex) {
  policy::HostData hd;
  EXPECT_TRUE(policy::parse_host_data(hex, hd));
  return hd;
}

rego::Value parse(const std::string& text) {
  rego::Value v;
  std::string error;
  EXPECT_TRUE(rego::parse_json(text, v, error)) << error;
  return v;
}

}  // namespace

TEST(Image, ReferenceParsing) {
  image::Reference r;
  std::string e;
  ASSERT_TRUE(image::parse_reference("busybox", r, e));
  EXPECT_EQ(r.registry, "docker.io");
  EXPECT_EQ(r.repository, "library/busybox");
  EXPECT_EQ(r.tag, "latest");
  ASSERT_TRUE(image::parse_reference("localhost:5000/team/app:v2", r, e));
  EXPECT_EQ(r.registry, "localhost:5000");
  EXPECT_EQ(r.repository, "team/app");
  EXPECT_EQ(r.tag, "v2");
  ASSERT_TRUE(image::parse_reference(
      "mcr.microsoft.com/azurelinux/distroless/base@sha256:1e77d97e1e39f22ed9c52f49b3508b4c1044cec23743df9098ac44e025f654f2",
      r, e));
  EXPECT_EQ(r.registry, "mcr.microsoft.com");
  EXPECT_TRUE(r.tag.empty());
  EXPECT_FALSE(image::parse_reference("Bad/UPPER", r, e));
  EXPECT_FALSE(image::parse_reference("app@sha256:short", r, e));
}

TEST(Image, OpensOciLayoutAndVerifiesBlobs) {
  TempDir tmp;
  TestImage t = make_layout(tmp.path() / "layout");
  image::Image img;
  std::string error;
  ASSERT_TRUE(image::open_image(t.layout.string(), "", img, error)) << error;
  EXPECT_EQ(img.config.entrypoint, std::vector<std::string>{"/bin/app"});
  EXPECT_EQ(img.config.cmd, std::vector<std::string>{"--serve"});
  EXPECT_EQ(img.config.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "MODE=prod"}));
  EXPECT_EQ(img.config.working_dir, "/srv");
  ASSERT_EQ(img.layers.size(), 2u);
  EXPECT_EQ(img.layers[0].path, t.layer_blobs[0]);
  EXPECT_EQ(img.config_digest, t.config_digest);

  // By name, and a name that is not there.
  EXPECT_TRUE(image::open_image(t.layout.string(), "app:1", img, error)) << error;
  EXPECT_FALSE(image::open_image(t.layout.string(), "other:2", img, error));
  EXPECT_NE(error.find("no image named 'other:2'"), std::string::npos) << error;

  // A layer blob whose content no longer matches its digest is refused, naming the digest.
  {
    std::ofstream f(t.layer_blobs[1], std::ios::binary | std::ios::app);
    f << "x";
  }
  EXPECT_FALSE(image::open_image(t.layout.string(), "", img, error));
  EXPECT_NE(error.find("does not match its digest"), std::string::npos) << error;
}

TEST(Image, OpensOciArchiveAndDockerArchive) {
  TempDir tmp;
  TestImage t = make_layout(tmp.path() / "layout");
  // oci-archive: the layout as a tar.
  std::vector<Entry> entries;
  for (auto& p : fs::recursive_directory_iterator(t.layout)) {
    std::string rel = fs::relative(p.path(), t.layout).string();
    if (p.is_directory())
      entries.push_back({rel, "", true});
    else
      entries.push_back({rel, slurp(p.path())});
  }
  spit(tmp.path() / "image.oci.tar", make_tar(entries, false));
  image::Image img;
  std::string error;
  ASSERT_TRUE(image::open_image((tmp.path() / "image.oci.tar").string(), "", img, error)) << error;
  ASSERT_EQ(img.layers.size(), 2u);
  EXPECT_EQ(layer_hash(img.layers[0].path), layer_hash(t.layer_blobs[0]));

  // docker-archive: manifest.json + config + uncompressed layer tars.
  std::string l1 = make_tar({{"bin", "", true}, {"bin/tool", "tool"}}, false);
  std::string config = json{{"config", {{"Cmd", {"/bin/tool"}}, {"Env", {"A=1"}}}},
                            {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + sha256_hex(l1)}}}}}
                           .dump();
  std::string manifest =
      json::array({{{"Config", "cfg.json"}, {"RepoTags", {"tool:latest"}}, {"Layers", {"abc/layer.tar"}}}}).dump();
  spit(tmp.path() / "docker.tar",
       make_tar({{"manifest.json", manifest}, {"cfg.json", config}, {"abc", "", true}, {"abc/layer.tar", l1}}, false));
  ASSERT_TRUE(image::open_image((tmp.path() / "docker.tar").string(), "tool:latest", img, error)) << error;
  EXPECT_EQ(img.config.cmd, std::vector<std::string>{"/bin/tool"});
  ASSERT_EQ(img.layers.size(), 1u);
  EXPECT_EQ(img.layers[0].diff_id, "sha256:" + sha256_hex(l1));

  // A member escaping the archive is refused.
  spit(tmp.path() / "evil.tar", make_tar({{"../escape", "x"}}, false));
  EXPECT_FALSE(image::open_image((tmp.path() / "evil.tar").string(), "", img, error));
  EXPECT_NE(error.find("escapes"), std::string::npos) << error;
  // Not an image at all, and a truncated gzip.
  spit(tmp.path() / "junk.tar", "this is not a tar");
  EXPECT_FALSE(image::open_image((tmp.path() / "junk.tar").string(), "", img, error));
  EXPECT_NE(error.find("junk.tar"), std::string::npos) << error;
  std::string gz = make_tar({{"a", std::string(100000, 'a')}}, true);
  spit(tmp.path() / "trunc.tar.gz", gz.substr(0, gz.size() / 2));
  EXPECT_FALSE(image::open_image((tmp.path() / "trunc.tar.gz").string(), "", img, error));
  EXPECT_NE(error.find("trunc.tar.gz"), std::string::npos) << error;
  EXPECT_FALSE(image::open_image((tmp.path() / "missing").string(), "", img, error));
}

class Generator : public ::testing::Test {
 protected:
  void SetUp() override { t_ = make_layout(tmp_.path() / "layout"); }

  generator::ImageResolver resolver() {
    return [this](const std::string& ref, image::Image& out, std::string& error) {
      if (ref != "registry.example/app:1") {
        error = "unknown";
        return false;
      }
      return image::open_image(t_.layout.string(), "", out, error);
    };
  }

  TempDir tmp_;
  TestImage t_;
};

TEST_F(Generator, AciInputToPolicy) {
  generator::Group group;
  std::string error;
  ASSERT_TRUE(generator::parse_aci_input(R"({"version":"1.0","containers":[{"name":"web","properties":{
      "image":"registry.example/app:1",
      "environmentVariables":[{"name":"MODE","value":"test"},{"name":"LEVEL","value":"[0-9]+","strategy":"re2"}],
      "mounts":[{"mountType":"emptyDir","mountPath":"/cache","readonly":false}],
      "execProcesses":[{"command":["/bin/app","--health"]}],
      "securityContext":{"runAsUser":1000,"capabilities":{"drop":["NET_RAW"]}}}}]})",
                                         group, error))
      << error;
  generator::Generated out;
  ASSERT_TRUE(generator::generate_aci(group, resolver(), generator::Options{}, out, error)) << error;
  EXPECT_EQ(out.sha256, sha256_hex(out.policy));
  EXPECT_TRUE(out.policy.starts_with("package policy\n"));

  // The containers array, read back.
  size_t at = out.policy.find("containers := ");
  ASSERT_NE(at, std::string::npos);
  size_t end = out.policy.find('\n', at);
  json containers = json::parse(out.policy.substr(at + 14, end - at - 14));
  ASSERT_EQ(containers.size(), 2u);  // web + pause
  const json& web = containers[0];
  EXPECT_EQ(web["name"], "web");
  EXPECT_EQ(web["id"], "registry.example/app:1");
  EXPECT_EQ(web["layers"], json::array({layer_hash(t_.layer_blobs[0]), layer_hash(t_.layer_blobs[1])}));
  EXPECT_EQ(web["command"], json::array({"/bin/app", "--serve"}));
  EXPECT_EQ(web["working_dir"], "/srv");
  EXPECT_EQ(web["env_rules"][0]["pattern"], "PATH=/usr/bin:/bin");
  EXPECT_EQ(web["env_rules"][1]["pattern"], "MODE=test");  // the container's value replaces the image's
  EXPECT_EQ(web["env_rules"][2]["pattern"], "LEVEL=[0-9]+");
  EXPECT_EQ(web["env_rules"][2]["strategy"], "re2");
  EXPECT_EQ(web["user"]["user_idname"], (json{{"pattern", "1000"}, {"strategy", "id"}}));
  EXPECT_EQ(web["capabilities"]["bounding"].size(), 13u);
  EXPECT_EQ(web["mounts"][0]["source"], "sandbox:///tmp/atlas/emptydir/.+");
  EXPECT_EQ(web["exec_processes"][0]["command"], json::array({"/bin/app", "--health"}));
  EXPECT_EQ(containers[1]["name"], "pause-container");
  // Generating twice gives the same text (the hash is the group's identity).
  generator::Generated again;
  ASSERT_TRUE(generator::generate_aci(group, resolver(), generator::Options{}, again, error));
  EXPECT_EQ(again.policy, out.policy);
}

TEST_F(Generator, GeneratedPolicyIsEnforced) {
  generator::Group group;
  std::string error;
  ASSERT_TRUE(generator::parse_aci_input(
      R"({"containers":[{"name":"web","properties":{"image":"registry.example/app:1"}}]})", group, error));
  generator::Options opts;
  opts.include_pause_container = false;
  generator::Generated out;
  ASSERT_TRUE(generator::generate_aci(group, resolver(), opts, out, error)) << error;

  policy::Enforcer enforcer(std::make_shared<policy::FixedTee>(host_data_of(out.sha256)));
  ASSERT_TRUE(enforcer.load(out.policy, error)) << error;
  // A policy differing by one byte is refused by the HOST_DATA binding.
  policy::Enforcer other(std::make_shared<policy::FixedTee>(host_data_of(out.sha256)));
  EXPECT_FALSE(other.load(out.policy + " ", error));

  std::string base = layer_hash(t_.layer_blobs[0]), top = layer_hash(t_.layer_blobs[1]);
  auto mount = [&](const std::string& target, const std::string& hash) {
    return enforcer.enforce("mount_device", parse(R"({"target":")" + target + R"(","deviceHash":")" + hash +
                                              R"(","mountPathRegex":"/run/layers/[a-z0-9]+"})"));
  };
  EXPECT_FALSE(mount("/run/layers/x", std::string(64, 'a')).allowed);  // a layer the policy does not know
  EXPECT_TRUE(mount("/run/layers/p0", base).allowed);
  EXPECT_TRUE(mount("/run/layers/p1", top).allowed);
  auto overlay = enforcer.enforce(
      "mount_overlay",
      parse(R"({"containerID":"c1","layerPaths":["/run/layers/p1","/run/layers/p0"],"target":"/run/c1/rootfs"})"));
  EXPECT_TRUE(overlay.allowed) << overlay.message;

  auto create = [&](const std::string& args_json, const std::string& env_json) {
    return enforcer.enforce("create_container", parse(R"({"containerID":"c1","argList":)" + args_json +
                                                      R"(,"envList":)" + env_json + R"(,"workingDir":"/srv",
      "sandboxDir":"/run/gcs/c/sb/sandboxMounts","hugePagesDir":"/run/gcs/c/sb/hugepages","mounts":[],"devices":[],
      "privileged":false,"noNewPrivileges":false,"user":{"id":"0","name":"root"},
      "groups":[{"id":"0","name":"root"}],"umask":"0022","capabilities":{
      "bounding":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
      "effective":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
      "permitted":["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"],
      "inheritable":[],"ambient":[]},"seccompProfileSHA256":"","isSandboxContainer":false})"));
  };
  EXPECT_FALSE(create(R"(["/bin/sh"])", R"(["PATH=/usr/bin:/bin"])").allowed);  // another command
  auto ok = create(R"(["/bin/app","--serve"])", R"(["PATH=/usr/bin:/bin","MODE=prod","TERM=xterm"])");
  EXPECT_TRUE(ok.allowed) << ok.message;
}

TEST_F(Generator, ArmTemplateWithParameters) {
  const std::string tmpl = R"({
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "parameters": {"image": {"type": "string", "defaultValue": "registry.example/none:0"}},
    "variables": {"volname": "cache"},
    "resources": [{
      "type": "Microsoft.ContainerInstance/containerGroups", "name": "group1",
      "properties": {
        "containers": [{"name": "web", "properties": {
          "image": "[parameters('image')]",
          "environmentVariables": [{"name": "TOKEN", "secureValue": "s3cret"}],
          "volumeMounts": [{"name": "[variables('volname')]", "mountPath": "/cache", "readOnly": true}],
          "livenessProbe": {"exec": {"command": ["/bin/app", "--alive"]}}}}],
        "volumes": [{"name": "cache", "emptyDir": {}}]}}]})";
  const std::string params = R"({"parameters": {"image": {"value": "registry.example/app:1"}}})";
  std::vector<generator::Group> groups;
  std::string error;
  ASSERT_TRUE(generator::parse_arm_template(tmpl, params, groups, error)) << error;
  ASSERT_EQ(groups.size(), 1u);
  const auto& c = groups[0].containers.at(0);
  EXPECT_EQ(c.image, "registry.example/app:1");
  ASSERT_EQ(c.mounts.size(), 1u);
  EXPECT_EQ(c.mounts[0].kind, "emptyDir");
  EXPECT_TRUE(c.mounts[0].readonly);
  ASSERT_EQ(c.exec_processes.size(), 1u);
  EXPECT_EQ(c.env.at(0).strategy, "re2");  // a secure value is not known in advance

  generator::Generated out;
  ASSERT_TRUE(generator::generate_aci(groups[0], resolver(), generator::Options{}, out, error)) << error;
  std::string updated;
  ASSERT_TRUE(generator::update_arm_template(tmpl, {out.policy}, updated, error)) << error;
  json u = json::parse(updated);
  EXPECT_EQ(u["resources"][0]["properties"]["confidentialComputeProperties"]["ccePolicy"], generator::base64(out.policy));
  // Key order of the user's template is kept.
  EXPECT_LT(updated.find("$schema"), updated.find("resources"));

  // Without the parameters file the default is used, and an unsupported expression is refused.
  ASSERT_TRUE(generator::parse_arm_template(tmpl, "", groups, error));
  EXPECT_EQ(groups[0].containers[0].image, "registry.example/none:0");
  std::string bad = tmpl;
  bad.replace(bad.find("[parameters('image')]"), 21, "[concat('a','b')]");
  EXPECT_FALSE(generator::parse_arm_template(bad, "", groups, error));
  EXPECT_NE(error.find("unsupported ARM expression"), std::string::npos) << error;
}

TEST_F(Generator, ClearErrors) {
  generator::Group group;
  std::string error;
  EXPECT_FALSE(generator::parse_aci_input("{", group, error));
  EXPECT_FALSE(generator::parse_aci_input(R"({"containers":[{"properties":{"image":"x"}}]})", group, error));
  EXPECT_NE(error.find("name"), std::string::npos) << error;
  ASSERT_TRUE(generator::parse_aci_input(R"({"containers":[{"name":"a","properties":{"image":"nope:1"}}]})", group,
                                         error));
  generator::Generated out;
  EXPECT_FALSE(generator::generate_aci(group, resolver(), generator::Options{}, out, error));
  EXPECT_NE(error.find("nope:1"), std::string::npos) << error;
  ASSERT_TRUE(generator::parse_aci_input(
      R"({"containers":[{"name":"a","properties":{"image":"registry.example/app:1",
         "securityContext":{"capabilities":{"add":["NOT_A_CAP"]}}}}]})",
      group, error));
  EXPECT_FALSE(generator::generate_aci(group, resolver(), generator::Options{}, out, error));
  EXPECT_NE(error.find("NOT_A_CAP"), std::string::npos) << error;
}

TEST(Base64, Standard) {
  EXPECT_EQ(generator::base64(""), "");
  EXPECT_EQ(generator::base64("f"), "Zg==");
  EXPECT_EQ(generator::base64("fo"), "Zm8=");
  EXPECT_EQ(generator::base64("foo"), "Zm9v");
  EXPECT_EQ(generator::base64("foobar"), "Zm9vYmFy");
}

TEST_F(Generator, LayerHashCache) {
  generator::Group group;
  std::string error;
  ASSERT_TRUE(generator::parse_aci_input(
      R"({"containers":[{"name":"web","properties":{"image":"registry.example/app:1"}}]})", group, error));
  generator::Options opts;
  opts.cache_dir = (tmp_.path() / "cache").string();
  generator::Generated first, second, third;
  ASSERT_TRUE(generator::generate_aci(group, resolver(), opts, first, error)) << error;
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(tmp_.path() / "cache" / "verity-aci")) {
    ++entries;
    EXPECT_EQ(e.path().extension(), ".json");
  }
  EXPECT_EQ(entries, 2u);
  ASSERT_TRUE(generator::generate_aci(group, resolver(), opts, second, error)) << error;
  EXPECT_EQ(first.policy, second.policy);
  // Damage every entry: one to garbage, one to a plausible but wrong hash. Both are recomputed.
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(tmp_.path() / "cache" / "verity-aci")) files.push_back(e.path());
  spit(files[0], "garbage");
  json j = json::parse(slurp(files[1]));
  j["root_hash"] = std::string(64, 'a');
  spit(files[1], j.dump());
  ASSERT_TRUE(generator::generate_aci(group, resolver(), opts, third, error)) << error;
  EXPECT_EQ(first.policy, third.policy);
}
