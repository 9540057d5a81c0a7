// Secure key release end to end, everything real and in process: policy -> HOST_DATA -> a
// guest launched on the virtual SNP device -> report -> the attestation service's token -> the
// key broker's release policy -> the key unwrapped by the SKR sidecar. And each way it must
// fail: a policy one byte different, a debuggable guest, a missing or untrusted UVM
// endorsement, an expired or forged token.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <atomic>
#include <future>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "../cose/test_pki.h"
#include "attest/attest.h"
#include "attest_service/service.h"
#include "cose/cose_sign1.h"
#include "cose/didx509.h"
#include "cose/x509_chain.h"
#include "kbs/server.h"
#include "skr/skr.h"

namespace fs = std::filesystem;
using namespace confidant;
using nlohmann::json;

namespace {

const char* kPolicy = "package policy\n\napi_version := \"0.10.0\"\n# the group's policy\n";
const char* kFeed = "ConfidantTest-UVM";
const char* kAdmin = "admin-token-for-the-e2e-test";

std::string sha256(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string hexs(std::string_view s) { return cose::to_hex(s); }

// A hash-envelope UVM endorsement of `measurement`, signed by `chain`'s leaf.
std::string endorse(const cose::testing::TestChain& chain, const std::string& did, const std::string& measurement) {
  cose::SignRequest r;
  r.alg = cose::Alg::kES384;
  r.x5chain = chain.der();
  cose::CborMap cwt;
  cwt.emplace_back(cose::CborValue::integer(1), cose::CborValue::text(did));
  cwt.emplace_back(cose::CborValue::integer(2), cose::CborValue::text(kFeed));
  cwt.emplace_back(cose::CborValue::integer(6), cose::CborValue::tag(1, cose::CborValue::integer(std::time(nullptr))));
  cwt.emplace_back(cose::CborValue::text("svn"), cose::CborValue::integer(3));
  r.extra_protected.emplace_back(cose::CborValue::integer(cose::kHeaderCwtClaims), cose::CborValue::map(cwt));
  r.extra_protected.emplace_back(cose::CborValue::integer(cose::kHeaderPayloadHashAlg), cose::CborValue::integer(-43));
  r.extra_protected.emplace_back(cose::CborValue::integer(cose::kHeaderPreimageContentType),
                                 cose::CborValue::text("application/octet-stream"));
  r.payload = measurement;
  std::string out, error;
  EXPECT_TRUE(cose::sign_cose_sign1(r, chain.leaf.key.get(), out, error)) << error;
  return out;
}

// A background HTTP server for a serve() function with the (stop, on_listening, error) shape.
class Background {
 public:
  template <class Serve>
  explicit Background(Serve serve) {
    std::promise<int> bound;
    auto f = bound.get_future();
    thread_ = std::thread([this, serve, &bound]() mutable {
      std::string error;
      bool told = false;
      serve(stop_, [&](int p) { told = true; bound.set_value(p); }, error);
      if (!told) bound.set_value(-1);
    });
    port_ = f.get();
  }
  ~Background() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  int port_ = -1;
};

struct Guest {
  std::unique_ptr<attest::VirtualSnp> device;
  skr::Config skr;
};

class KeyRelease : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new Shared;
    s_->dir = fs::temp_directory_path() / ("confidant-skr-e2e-" + std::to_string(getpid()));
    fs::remove_all(s_->dir);
    fs::create_directories(s_->dir);
    s_->uvm_chain = cose::testing::make_chain("P-384", "Confidant Test UVM Signer");
    s_->rogue_chain = cose::testing::make_chain("P-384", "Rogue Signer");
    std::string error;
    std::vector<cose::Cert> certs;
    ASSERT_TRUE(cose::parse_chain_der(s_->uvm_chain.der(), certs, error)) << error;
    ASSERT_TRUE(cose::derive_did_x509(certs, "subject", s_->uvm_did, error)) << error;
    certs.clear();
    ASSERT_TRUE(cose::parse_chain_der(s_->rogue_chain.der(), certs, error)) << error;
    ASSERT_TRUE(cose::derive_did_x509(certs, "subject", s_->rogue_did, error)) << error;
  }
  static void TearDownTestSuite() {
    fs::remove_all(s_->dir);
    delete s_;
  }

  // A guest launched with HOST_DATA = sha256(policy), its SKR configuration pointing at the device.
  Guest launch(const std::string& name, const std::string& policy, uint64_t snp_policy, bool endorsed,
               bool rogue = false) {
    Guest g;
    attest::LaunchParams p;
    std::string hd = sha256(policy);
    std::copy(hd.begin(), hd.end(), p.host_data.begin());
    p.measurement.fill(0x42);
    p.policy = snp_policy;
    std::string error;
    g.device = attest::VirtualSnp::launch((s_->dir / name).string(), p, error);
    EXPECT_TRUE(g.device) << error;
    if (!g.device) return g;
    const attest::VirtualSnp* dev = g.device.get();
    g.skr.cert_chain_pem = dev->certificate_chain_pem();
    g.skr.get_report = [dev](const std::array<uint8_t, 64>& rd, std::vector<uint8_t>& report, std::string& e) {
      return dev->get_report(rd, 0, report, e);
    };
    if (endorsed) {
      std::string m(reinterpret_cast<const char*>(p.measurement.data()), p.measurement.size());
      g.skr.uvm_endorsement = rogue ? endorse(s_->rogue_chain, s_->rogue_did, m) : endorse(s_->uvm_chain, s_->uvm_did, m);
    }
    return g;
  }

  // Attestation service trusting the given devices' roots and the test UVM issuer; a key
  // broker trusting that service; key "k1" released only to an endorsed, non-debuggable guest
  // running kPolicy.
  void start_services(const std::vector<const attest::VirtualSnp*>& devices, int64_t token_lifetime = 3600) {
    attest_service::Config c;
    std::string error;
    auto key = kbs::PKey::GenerateRsa(2048);
    ASSERT_TRUE(key.ok());
    c.signing_key.key = *key;
    c.signing_key.kid = *kbs::JwkThumbprint(*key);
    for (auto* d : devices) ASSERT_TRUE(c.trust.add_ark(d->ark(), error)) << error;
    c.uvm_issuers.push_back({s_->uvm_did, kFeed, 1});
    c.token_lifetime = token_lifetime;
    // The issuer URL must be known before the server runs: bind first via a placeholder.
    service_ = std::make_unique<attest_service::AttestationService>(c);
    as_ = std::make_unique<Background>([this](const std::atomic<bool>& stop, auto on, std::string& e) {
      return attest_service::serve(*service_, "127.0.0.1", 0, stop, on, e);
    });
    // Re-create with the bound URL as issuer (tokens name it; the broker fetches its /certs).
    c.issuer = as_->url();
    as_.reset();
    service_ = std::make_unique<attest_service::AttestationService>(c);
    int port = std::stoi(c.issuer.substr(c.issuer.rfind(':') + 1));
    as_ = std::make_unique<Background>([this, port](const std::atomic<bool>& stop, auto on, std::string& e) {
      return attest_service::serve(*service_, "127.0.0.1", port, stop, on, e);
    });
    ASSERT_EQ(as_->url(), c.issuer);

    kbs::BrokerOptions opt;
    opt.db_path = (s_->dir / ("kbs-" + std::to_string(++s_->brokers) + ".db")).string();
    opt.master_key_path = (s_->dir / "master.key").string();
    opt.admin_token = kAdmin;
    opt.authorities = {*kbs::ParseTrustedAuthority(c.issuer)};
    auto broker = kbs::KeyBroker::Create(opt);
    ASSERT_TRUE(broker.ok()) << broker.error();
    broker_ = std::move(*broker);
    kbs_ = std::make_unique<kbs::KbsServer>(*broker_, opt.max_body_bytes);
    auto kport = kbs_->Start("127.0.0.1", 0);
    ASSERT_TRUE(kport.ok()) << kport.error();
    kbs_url_ = "http://127.0.0.1:" + std::to_string(*kport);
    broker_->set_public_base_url(kbs_url_);
    json policy = {{"version", "1.0.0"},
                   {"anyOf", json::array({{{"authority", c.issuer},
                                           {"allOf", json::array({
                                                         {{"claim", "x-ms-sevsnpvm-hostdata"}, {"equals", hexs(sha256(kPolicy))}},
                                                         {{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-uvm"}},
                                                         {{"claim", "x-ms-sevsnpvm-is-debuggable"}, {"equals", false}},
                                                     })}}})}};
    httplib::Client admin("127.0.0.1", *kport);
    auto res = admin.Put("/keys/k1/create", {{"Authorization", std::string("Bearer ") + kAdmin}},
                         json{{"kty", "oct-HSM"}, {"exportable", true}, {"release_policy", policy}}.dump(),
                         "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
  }

  skr::Reply release(const Guest& g) {
    skr::Sidecar sidecar(g.skr);
    return sidecar.key_release(json{{"maa_endpoint", as_->url()}, {"akv_endpoint", kbs_url_}, {"kid", "k1"}}.dump());
  }

  void TearDown() override {
    kbs_.reset();
    broker_.reset();
    as_.reset();
    service_.reset();
  }

  struct Shared {
    fs::path dir;
    cose::testing::TestChain uvm_chain, rogue_chain;
    std::string uvm_did, rogue_did;
    int brokers = 0;
  };
  static Shared* s_;
  std::unique_ptr<attest_service::AttestationService> service_;
  std::unique_ptr<Background> as_;
  std::unique_ptr<kbs::KeyBroker> broker_;
  std::unique_ptr<kbs::KbsServer> kbs_;
  std::string kbs_url_;
};

KeyRelease::Shared* KeyRelease::s_ = nullptr;

}  // namespace

TEST_F(KeyRelease, ReleasedOnlyToTheGuestThePolicyNames) {
  Guest good = launch("good", kPolicy, 0x30000, true);
  Guest other_policy = launch("other-policy", std::string(kPolicy) + " ", 0x30000, true);
  Guest debuggable = launch("debug", kPolicy, 0x30000 | (1ull << 19), true);
  Guest unendorsed = launch("unendorsed", kPolicy, 0x30000, false);
  Guest rogue = launch("rogue", kPolicy, 0x30000, true, /*rogue=*/true);
  ASSERT_TRUE(good.device && other_policy.device && debuggable.device && unendorsed.device && rogue.device);
  start_services({good.device.get(), other_policy.device.get(), debuggable.device.get(), unendorsed.device.get(),
                  rogue.device.get()});

  // The sidecar's other routes on the good guest.
  skr::Sidecar sidecar(good.skr);
  EXPECT_EQ(json::parse(sidecar.status().body)["message"], "Status OK");
  auto raw = sidecar.attest_raw(R"({"runtime_data":"eyJrZXlzIjpbXX0="})");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(json::parse(raw.body)["report"].get<std::string>().size(), 2u * 1184);
  EXPECT_EQ(sidecar.attest_raw(R"({"runtime_data":"%%%"})").status, 400);
  EXPECT_EQ(sidecar.attest_raw(R"({})").status, 400);
  auto maa = sidecar.attest_maa(json{{"maa_endpoint", as_->url()}, {"runtime_data", "eyJrZXlzIjpbXX0="}}.dump());
  ASSERT_EQ(maa.status, 200) << maa.body;

  // The key goes to the guest running the policy, on an endorsed image, not debuggable.
  auto ok = release(good);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json key = json::parse(json::parse(ok.body)["key"].get<std::string>());
  EXPECT_EQ(key["kty"], "oct");
  EXPECT_FALSE(key["k"].get<std::string>().empty());

  // And to no one else, each refusal with the broker's reason.
  for (auto* g : {&other_policy, &debuggable, &unendorsed, &rogue}) {
    auto r = release(*g);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_NE(r.body.find("refused"), std::string::npos) << r.body;
    if (std::getenv("SKR_TEST_VERBOSE")) std::cerr << r.body << "\n";
  }
}

TEST_F(KeyRelease, ExpiredAndForgedTokensAreRefused) {
  Guest good = launch("good2", kPolicy, 0x30000, true);
  ASSERT_TRUE(good.device);
  // A service whose tokens expire two hours before they are issued: every token is stale.
  start_services({good.device.get()}, -7200);
  auto r = release(good);
  EXPECT_EQ(r.status, 403) << r.body;

  // A token the broker's authority never signed: same claims, another key.
  TearDown();
  start_services({good.device.get()});
  skr::Sidecar sidecar(good.skr);
  auto maa = sidecar.attest_maa(json{{"maa_endpoint", as_->url()}, {"runtime_data", "eyJrZXlzIjpbXX0="}}.dump());
  ASSERT_EQ(maa.status, 200) << maa.body;
  std::string token = json::parse(maa.body)["token"];
  auto peek = kbs::PeekJws(token);
  ASSERT_TRUE(peek.ok());
  auto forger = kbs::PKey::GenerateRsa(2048);
  kbs::Jwk fk;
  fk.key = *forger;
  fk.kid = peek->header.value("kid", "");
  auto forged = kbs::SignJwt(json::parse(peek->payload), fk, kbs::JwsAlg::kRS256, peek->header);
  ASSERT_TRUE(forged.ok());
  httplib::Client c(kbs_url_);
  auto res = c.Post("/keys/k1/release", json{{"target", *forged}}.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
}
