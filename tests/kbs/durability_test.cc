// Crash durability and load: the server runs in a forked child that is
// SIGKILLed while clients are creating keys; every creation that was
// acknowledged (HTTP 200) must survive the restart and be releasable.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "kbs/release.h"
#include "kbs_test_support.h"

namespace confidant::kbs {
namespace {

using namespace confidant::kbs::testing;

// A `kbs serve` in a child process; the port comes back through a pipe.
class ServerChild {
 public:
  ServerChild(const BrokerOptions& opt) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[0]);
      int port = -1;
      auto broker = KeyBroker::Create(opt);
      std::unique_ptr<KbsServer> server;
      if (broker.ok()) {
        server = std::make_unique<KbsServer>(**broker, opt.max_body_bytes);
        auto p = server->Start("127.0.0.1", 0);
        if (p.ok()) port = *p;
      }
      (void)!write(fds[1], &port, sizeof(port));
      close(fds[1]);
      if (port < 0) _exit(3);
      for (;;) pause();
    }
    close(fds[1]);
    if (read(fds[0], &port_, sizeof(port_)) != sizeof(port_)) port_ = -1;
    close(fds[0]);
  }
  ~ServerChild() { Kill(); }
  int port() const { return port_; }
  void Kill() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  int port_ = -1;
};

TEST(KbsDurability, AcknowledgedKeysSurviveSigkill) {
  TempDir dir;
  Authority maa(kAuthority);
  RuntimeKey runtime;
  BrokerOptions opt;
  opt.db_path = dir / "kbs.db";
  opt.master_key_path = dir / "master.key";
  opt.admin_token = kAdminToken;
  opt.authorities = {*ParseTrustedAuthority(std::string(kAuthority) + "=" + maa.WriteJwks(dir / "maa.jwks"))};

  std::mutex mu;
  std::vector<std::string> acknowledged;
  {
    ServerChild child(opt);
    ASSERT_GT(child.port(), 0);
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        httplib::Client cli("127.0.0.1", child.port());
        cli.set_read_timeout(10, 0);
        for (int i = 0; !stop; ++i) {
          std::string name = "dur-" + std::to_string(t) + "-" + std::to_string(i);
          json spec = {{"kty", i % 5 == 0 ? "EC" : "oct-HSM"}, {"exportable", true}, {"release_policy", AciPolicy()}};
          auto res = cli.Put(("/keys/" + name + "/create").c_str(), Admin(), spec.dump(), "application/json");
          if (!res) break;  // the server is gone
          if (res->status == 200) {
            std::lock_guard<std::mutex> lock(mu);
            acknowledged.push_back(name);
          }
        }
      });
    }
    // Kill once enough creations are acknowledged, while the clients are still writing.
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (acknowledged.size() >= 60) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    child.Kill();
    stop = true;
    for (auto& c : clients) c.join();
  }
  ASSERT_GE(acknowledged.size(), 60u);

  ServerChild restarted(opt);
  ASSERT_GT(restarted.port(), 0);
  httplib::Client cli("127.0.0.1", restarted.port());
  std::string token = maa.Sign(MaaClaims(kAuthority, runtime));
  for (const auto& name : acknowledged) {
    auto get = cli.Get(("/keys/" + name).c_str());
    ASSERT_TRUE(get);
    EXPECT_EQ(get->status, 200) << name << " lost after SIGKILL";
    auto rel = cli.Post(("/keys/" + name + "/release").c_str(), json{{"target", token}}.dump(), "application/json");
    ASSERT_TRUE(rel);
    ASSERT_EQ(rel->status, 200) << name << ": " << rel->body;
    EXPECT_TRUE(UnwrapReleaseResponse(rel->body, runtime.key).ok()) << name;
  }
}

// 8 concurrent clients release keys for 30 s; every request must succeed.
// Registered as the separate ctest `kbs_load` (LABELS load).
TEST(KbsLoad, EightClientsReleaseForThirtySeconds) {
  TempDir dir;
  Authority maa(kAuthority);
  BrokerOptions opt;
  opt.db_path = dir / "kbs.db";
  opt.master_key_path = dir / "master.key";
  opt.admin_token = kAdminToken;
  opt.authorities = {*ParseTrustedAuthority(std::string(kAuthority) + "=" + maa.WriteJwks(dir / "maa.jwks"))};
  auto broker = KeyBroker::Create(opt);
  ASSERT_TRUE(broker.ok()) << broker.error();
  KbsServer server(**broker, opt.max_body_bytes);
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  httplib::Client admin("127.0.0.1", *port);
  const char* kinds[] = {"oct-HSM", "EC", "RSA"};
  for (int k = 0; k < 3; ++k) {
    json spec = {{"kty", kinds[k]}, {"exportable", true}, {"release_policy", AciPolicy()}};
    ASSERT_EQ(
        admin.Put(("/keys/load-" + std::to_string(k) + "/create").c_str(), Admin(), spec.dump(), "application/json")
            ->status,
        200);
  }
  std::atomic<int64_t> ok{0}, errors{0};
  std::mutex err_mu;
  std::string first_error;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      RuntimeKey runtime(100 + t);
      std::string token = maa.Sign(MaaClaims(kAuthority, runtime));
      httplib::Client cli("127.0.0.1", *port);
      cli.set_keep_alive(true);
      cli.set_read_timeout(30, 0);
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        std::string name = "load-" + std::to_string((t + i) % 3);
        auto res = cli.Post(("/keys/" + name + "/release").c_str(), json{{"target", token}}.dump(), "application/json");
        bool good = res && res->status == 200 && UnwrapReleaseResponse(res->body, runtime.key).ok();
        if (good) {
          ++ok;
        } else {
          ++errors;
          std::lock_guard<std::mutex> lock(err_mu);
          if (first_error.empty()) first_error = res ? std::to_string(res->status) + " " + res->body : "no response";
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_GT(ok.load(), 0);
  std::printf("kbs load: %lld releases in 30 s by 8 clients (%.1f/s), %lld errors\n", static_cast<long long>(ok.load()),
              static_cast<double>(ok.load()) / 30.0, static_cast<long long>(errors.load()));
}

}  // namespace
}  // namespace confidant::kbs
