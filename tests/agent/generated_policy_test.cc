// Generator → agent, end to end: `policy gen` turns an image on disk (an OCI layout holding
// a busybox layer) into a policy; the agent, bound to that policy's digest, starts exactly
// that container from layer images built on the host side, and refuses anything else.
// Needs what agent_test.cc needs (root, runc, overlayfs, busybox-static); skipped otherwise.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "agent/host.h"
#include "agent/layer.h"
#include "generator/generator.h"
#include "policy/digest.h"
#include "policy/guest_data.h"

namespace confidant::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string needs() {
  if (::geteuid() != 0) return "needs root";
  for (const char* f : {"/bin/busybox", "/dev/loop-control"})
    if (!fs::exists(f)) return std::string("needs ") + f;
  if (std::system("command -v runc >/dev/null 2>&1") != 0) return "needs runc";
  return "";
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, std::string_view data) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string sha256_hex(std::string_view s) { return policy::policy_digest_hex(s); }

// An uncompressed tar: directories, regular files (mode 0755) and symlinks ("->target").
std::string make_tar(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<char> buf(16 << 20);
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  for (const auto& [path, content] : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_mtime(e, 1700000000, 0);
    if (path.back() == '/') {
      archive_entry_set_filetype(e, AE_IFDIR);
      archive_entry_set_perm(e, 0755);
    } else if (content.rfind("->", 0) == 0) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_perm(e, 0777);
      archive_entry_set_symlink(e, content.c_str() + 2);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0755);
      archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    }
    archive_write_header(a, e);
    if (archive_entry_filetype(e) == AE_IFREG) archive_write_data(a, content.data(), content.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

// An OCI layout with one layer and this config; returns the layer tar's path.
std::string make_layout(const fs::path& dir, const std::string& layer, const json& config_section) {
  spit(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  std::string ld = sha256_hex(layer);
  spit(dir / "blobs/sha256" / ld, layer);
  json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config", config_section},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + ld}}}}};
  std::string ct = config.dump(), cd = sha256_hex(ct);
  spit(dir / "blobs/sha256" / cd, ct);
  json manifest = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", "sha256:" + cd},
                               {"size", ct.size()}}},
                   {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                                {"digest", "sha256:" + ld},
                                {"size", layer.size()}}}}};
  std::string mt = manifest.dump(), md = sha256_hex(mt);
  spit(dir / "blobs/sha256" / md, mt);
  json index = {{"schemaVersion", 2},
                {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", "sha256:" + md},
                                {"size", mt.size()},
                                {"annotations", {{"org.opencontainers.image.ref.name", "1"}}}}}}};
  spit(dir / "index.json", index.dump());
  return (dir / "blobs/sha256" / ld).string();
}

class GeneratedPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = needs(); !why.empty()) GTEST_SKIP() << why;
    dir_ = fs::temp_directory_path() / ("gen-agent-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    std::string busybox = slurp("/bin/busybox");
    std::vector<std::pair<std::string, std::string>> files = {
        {"bin/", ""}, {"bin/busybox", busybox}, {"bin/sh", "->busybox"}, {"bin/echo", "->busybox"},
        {"etc/", ""}, {"etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"}, {"etc/group", "root:x:0:\n"},
        {"proc/", ""}, {"sys/", ""}, {"dev/", ""}, {"tmp/", ""}};
    layer_tar_ = make_layout(dir_ / "layout", make_tar(files),
                             {{"Entrypoint", {"/bin/sh", "-c"}},
                              {"Cmd", {"echo generated policy works ${LD_PRELOAD:-clean}"}},
                              {"Env", {"PATH=/bin"}},
                              {"WorkingDir", "/tmp"}});
    // The policy, as `confidant policy gen -i group.json` makes it (pause container and
    // default fragment included).
    generator::Group group;
    std::string error;
    ASSERT_TRUE(generator::parse_aci_input(
        R"({"version":"1.0","containers":[{"name":"web","properties":{"image":"local/app:1"}}]})", group, error))
        << error;
    generator::ImageResolver resolve = [&](const std::string& ref, image::Image& out, std::string& e) {
      if (ref != "local/app:1") {
        e = "unknown image " + ref;
        return false;
      }
      return image::open_image((dir_ / "layout").string(), "", out, e);
    };
    generator::Generated gen;
    ASSERT_TRUE(generator::generate_aci(group, resolve, generator::Options{}, gen, error)) << error;
    policy_ = gen.policy;
    EXPECT_EQ(gen.sha256, sha256_hex(policy_));
    // The host builds the layer image the agent mounts from the same tar.
    LayerInfo info;
    image_ = (dir_ / "web.img").string();
    ASSERT_TRUE(build_layer_image(layer_tar_, image_, info, error)) << error;
    root_hash_ = info.root_hash;
    EXPECT_NE(policy_.find(root_hash_), std::string::npos) << "the generator and the host disagree on the layer";
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
      thread_.join();
      agent_->shutdown();
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  void start_agent() {
    fs::path state = dir_ / "state";
    AgentOptions o;
    o.state_dir = state.string();
    o.tee = std::make_shared<policy::FixedTee>(policy::sha256(policy_));
    agent_ = std::make_unique<Agent>(std::move(o));
    server_ = std::make_unique<ttrpc::Server>(agent_->router());
    std::string socket = (state / "agent.sock").string(), error;
    ttrpc::Address a;
    ASSERT_TRUE(ttrpc::parse_address(socket, a, error)) << error;
    ASSERT_TRUE(server_->listen(a, error)) << error;
    thread_ = std::thread([this] { server_->serve(); });
    ASSERT_TRUE(client_.connect(socket, error)) << error;
  }

  host::ContainerSpec web() {
    host::ContainerSpec c;
    c.id = "web";
    c.layers = {image_};
    c.command = {"/bin/sh", "-c", "echo generated policy works ${LD_PRELOAD:-clean}"};
    c.env = {"PATH=/bin", "TERM=xterm"};
    c.working_dir = "/tmp";
    return c;
  }

  bool start(const host::ContainerSpec& c, std::string& error) {
    host::Group g;
    g.containers = {c};
    host::PreparedLayers layers;
    layers.images = {{image_}};
    layers.hashes = {{root_hash_}};
    host::GroupState state;
    host::StartTimings t;
    return host::start_group(client_, g, layers, policy_, state, t, {}, error);
  }

  std::string output(const std::string& id) {
    v1::WaitProcessRequest w;
    w.set_container_id(id);
    w.set_timeout_ms(30'000);
    v1::WaitProcessResponse wr;
    EXPECT_TRUE(client_.call("WaitProcess", w, &wr).ok());
    v1::ReadOutputRequest r;
    r.set_container_id(id);
    v1::ReadOutputResponse resp;
    EXPECT_TRUE(client_.call("ReadOutput", r, &resp).ok());
    return resp.data();
  }

  fs::path dir_;
  std::string layer_tar_, image_, root_hash_, policy_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<ttrpc::Server> server_;
  std::thread thread_;
  AgentClient client_;
};

TEST_F(GeneratedPolicy, TheImagesContainerRuns) {
  start_agent();
  std::string error;
  ASSERT_TRUE(start(web(), error)) << error;
  EXPECT_EQ(output("web"), "generated policy works clean\n");
}

TEST_F(GeneratedPolicy, AnotherCommandIsRefused) {
  start_agent();
  host::ContainerSpec c = web();
  c.command = {"/bin/sh", "-c", "echo something else"};
  std::string error;
  EXPECT_FALSE(start(c, error));
  EXPECT_NE(error.find("create_container"), std::string::npos) << error;
}

// Generated policies allow environment variable dropping (as az confcom's do): a variable
// no rule allows is removed before the container starts, not passed through.
TEST_F(GeneratedPolicy, AnUnlistedVariableIsDropped) {
  start_agent();
  host::ContainerSpec c = web();
  c.env.push_back("LD_PRELOAD=/tmp/evil.so");
  std::string error;
  ASSERT_TRUE(start(c, error)) << error;
  EXPECT_EQ(output("web"), "generated policy works clean\n");
}

TEST_F(GeneratedPolicy, ALayerNotFromTheImageIsRefused) {
  start_agent();
  // Same files plus one more: another root hash than the one the policy lists.
  std::string other_tar = (dir_ / "other.tar").string();
  spit(other_tar, make_tar({{"bin/", ""}, {"bin/busybox", slurp("/bin/busybox")}, {"bin/sh", "->busybox"},
                            {"evil", "payload"}}));
  LayerInfo info;
  std::string other = (dir_ / "other.img").string(), error;
  ASSERT_TRUE(build_layer_image(other_tar, other, info, error)) << error;
  image_ = other;
  root_hash_ = info.root_hash;
  EXPECT_FALSE(start(web(), error));
  EXPECT_NE(error.find("mount_device"), std::string::npos) << error;
}

}  // namespace
}  // namespace confidant::agent
