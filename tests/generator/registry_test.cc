// Registry pulls: against Debian's docker-registry (filled with skopeo) on loopback, and
// against an in-test registry that demands basic or bearer-token authentication.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <thread>

#include "image/registry.h"
#include "integrity/integrity.h"
#include "test_images.h"

extern char** environ;

using namespace confidant;
using namespace confidant::testing;

namespace {

bool have(const char* tool) {
  std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string layer_hash(const std::string& path) {
  integrity::RootHash h;
  std::string error;
  EXPECT_TRUE(integrity::layer_root_hash(integrity::LayerFormat::kAci, path, h, error)) << error;
  return integrity::to_hex(h);
}

// docker-registry on a loopback port, storage in a temporary directory.
class RealRegistry {
 public:
  bool start(const fs::path& dir, std::string& why) {
    std::mt19937 rng{std::random_device{}()};
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = 20000 + static_cast<int>(rng() % 20000);
      spit(dir / "config.yml", "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: " + (dir / "data").string() +
                                   "\nhttp:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\nlog:\n  level: error\n");
      std::string config = (dir / "config.yml").string();
      const char* argv[] = {"docker-registry", "serve", config.c_str(), nullptr};
      posix_spawn_file_actions_t fa;
      posix_spawn_file_actions_init(&fa);
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
      int rc = posix_spawnp(&pid_, "docker-registry", &fa, nullptr, const_cast<char**>(argv), environ);
      posix_spawn_file_actions_destroy(&fa);
      if (rc != 0) {
        why = "cannot start docker-registry";
        return false;
      }
      httplib::Client c("127.0.0.1", port_);
      for (int i = 0; i < 50; ++i) {
        if (auto r = c.Get("/v2/"); r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        int status;
        if (waitpid(pid_, &status, WNOHANG) == pid_) break;  // exited: port taken, try another
      }
      stop();
    }
    why = "docker-registry did not come up";
    return false;
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  ~RealRegistry() { stop(); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace

TEST(Registry, PullFromDockerRegistry) {
  if (!have("docker-registry") || !have("skopeo"))
    GTEST_SKIP() << "docker-registry and skopeo (Debian packages) are needed for this test";
  TempDir tmp;
  TestImage t = make_layout(tmp.path() / "layout");
  RealRegistry reg;
  std::string why;
  ASSERT_TRUE(reg.start(tmp.path() / "registry", why)) << why;
  std::string host = "127.0.0.1:" + std::to_string(reg.port());
  std::string push = "skopeo copy --quiet --insecure-policy --dest-tls-verify=false oci:" + t.layout.string() +
                     ":app:1 docker://" + host + "/team/app:1 >/dev/null 2>&1";
  ASSERT_EQ(std::system(push.c_str()), 0) << push;

  image::PullOptions o;
  o.cache_dir = (tmp.path() / "cache").string();
  o.plain_http = true;
  image::Image img;
  std::string error;
  ASSERT_TRUE(image::pull_image(host + "/team/app:1", o, img, error)) << error;
  EXPECT_EQ(img.config.entrypoint, std::vector<std::string>{"/bin/app"});
  ASSERT_EQ(img.layers.size(), 2u);
  // skopeo may recompress; what matters is the same file tree, hence the same root hashes.
  EXPECT_EQ(layer_hash(img.layers[0].path), layer_hash(t.layer_blobs[0]));
  EXPECT_EQ(layer_hash(img.layers[1].path), layer_hash(t.layer_blobs[1]));

  // By digest, from the cache; a corrupted cache entry is fetched again.
  std::string by_digest = host + "/team/app@" + img.manifest_digest;
  {
    std::ofstream f(img.layers[1].path, std::ios::binary | std::ios::trunc);
    f << "corrupt";
  }
  image::Image again;
  ASSERT_TRUE(image::pull_image(by_digest, o, again, error)) << error;
  EXPECT_EQ(layer_hash(again.layers[1].path), layer_hash(t.layer_blobs[1]));

  // Unknown repository and tag: one clear error naming what was asked.
  EXPECT_FALSE(image::pull_image(host + "/team/none:1", o, again, error));
  EXPECT_NE(error.find("team/none"), std::string::npos) << error;
  EXPECT_FALSE(image::pull_image(host + "/team/app:nope", o, again, error));
  EXPECT_NE(error.find("404"), std::string::npos) << error;
}

namespace {

// A registry serving one OCI layout, with basic or bearer authentication.
class AuthRegistry {
 public:
  AuthRegistry(const fs::path& layout, bool bearer) : layout_(layout), bearer_(bearer) {
    auto blob = [this](const std::string& digest, httplib::Response& res) {
      fs::path p = layout_ / "blobs" / "sha256" / digest.substr(7);
      if (digest.size() != 71 || !fs::exists(p)) {
        res.status = 404;
        return;
      }
      res.set_content(slurp(p), "application/octet-stream");
    };
    svr_.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != httplib::make_basic_authentication_header("user", "pass").second ||
          req.get_param_value("scope") != "repository:team/app:pull") {
        res.status = 401;
        return;
      }
      res.set_content(R"({"token":"tok123"})", "application/json");
    });
    svr_.Get(R"(/v2/team/app/(manifests|blobs)/(.+))", [this, blob](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req)) {
        res.status = 401;
        res.set_header("WWW-Authenticate",
                       bearer_ ? "Bearer realm=\"http://127.0.0.1:" + std::to_string(port_) +
                                     "/token\",service=\"test\",scope=\"repository:team/app:pull\""
                               : "Basic realm=\"test\"");
        return;
      }
      std::string kind = req.matches[1], ref = req.matches[2];
      if (kind == "blobs") return blob(ref, res);
      json index = json::parse(slurp(layout_ / "index.json"));
      std::string digest = index["manifests"][0]["digest"];
      if (ref != "1" && ref != digest) {
        res.status = 404;
        return;
      }
      res.set_content(slurp(layout_ / "blobs" / "sha256" / digest.substr(7)), "application/vnd.oci.image.manifest.v1+json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~AuthRegistry() {
    svr_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  bool authorized(const httplib::Request& req) const {
    std::string a = req.get_header_value("Authorization");
    return bearer_ ? a == "Bearer tok123" : a == httplib::make_basic_authentication_header("user", "pass").second;
  }
  fs::path layout_;
  bool bearer_;
  httplib::Server svr_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST(Registry, BasicAndBearerAuthentication) {
  TempDir tmp;
  TestImage t = make_layout(tmp.path() / "layout");
  for (bool bearer : {false, true}) {
    AuthRegistry reg(t.layout, bearer);
    std::string ref = "127.0.0.1:" + std::to_string(reg.port()) + "/team/app:1";
    image::PullOptions o;
    o.cache_dir = (tmp.path() / (bearer ? "cache-bearer" : "cache-basic")).string();
    o.plain_http = true;
    image::Image img;
    std::string error;
    EXPECT_FALSE(image::pull_image(ref, o, img, error)) << "anonymous pull must fail";
    EXPECT_FALSE(error.empty());
    o.username = "user";
    o.password = "wrong";
    EXPECT_FALSE(image::pull_image(ref, o, img, error));
    o.password = "pass";
    ASSERT_TRUE(image::pull_image(ref, o, img, error)) << (bearer ? "bearer: " : "basic: ") << error;
    ASSERT_EQ(img.layers.size(), 2u);
    EXPECT_EQ(img.layers[0].digest, "sha256:" + sha256_hex(slurp(t.layer_blobs[0])));
  }
}
