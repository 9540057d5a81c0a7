// Key broker benchmarks (src/kbs):
//   BM_ReleaseHttp/<kty>     POST /keys/<name>/release on loopback, keep-alive: HTTP round trip,
//                            token verification (RS256), policy evaluation, RSA-OAEP + AES-KWP
//                            wrapping, response signing (RS256) and the audit write (SQLite, FULL sync)
//   BM_ReleaseInProcess      the same without HTTP (KeyBroker::Release)
//   BM_VerifyJwt/<alg>       signature + time-claim checks of an MAA-sized token
//   BM_PolicyEvaluate        a typical ACI release policy (5 conditions) against MAA claims
//   BM_PolicyParse           parsing that policy
//   BM_UnwrapResponse        client side: verify the response JWS and unwrap (RSA-2048 private op)
#include <benchmark/benchmark.h>
#include <httplib.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kbs/jwt.h"
#include "kbs/release.h"
#include "kbs/release_policy.h"
#include "kbs/server.h"

using namespace confidant::kbs;
using json = nlohmann::json;

namespace {

constexpr const char* kAuthority = "https://maa.bench.test";
constexpr const char* kHostData = "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c";

json Policy() {
  return json{
      {"version", "1.0.0"},
      {"anyOf",
       json::array({{{"authority", kAuthority},
                     {"allOf", json::array({{{"claim", "x-ms-sevsnpvm-hostdata"}, {"equals", kHostData}},
                                            {{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-uvm"}},
                                            {{"claim", "x-ms-sevsnpvm-is-debuggable"}, {"equals", false}},
                                            {{"claim", "x-ms-sevsnpvm-vmpl"}, {"equals", 0}},
                                            {{"claim", "x-ms-attestation-type"}, {"equals", "sevsnpvm"}}})}}})}};
}

struct Fixture {
  std::string dir;
  Jwk maa;
  PKey runtime = *PKey::GenerateRsa(2048);
  json claims;
  std::string token;
  std::unique_ptr<KeyBroker> broker;
  std::unique_ptr<KbsServer> server;
  int port = 0;

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kbs-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
    maa.key = *PKey::GenerateRsa(2048);
    maa.kid = "maa-1";
    Jwks set;
    Jwk pub = maa;
    pub.key = maa.key.PublicOnly();
    set.keys.push_back(pub);
    std::ofstream(dir + "/maa.jwks") << *SerializeJwks(set);
    Jwk rt;
    rt.key = runtime.PublicOnly();
    rt.kid = "rt";
    rt.key_ops = {"encrypt"};
    int64_t now = NowSeconds();
    claims = {{"iss", kAuthority},
              {"iat", now},
              {"nbf", now},
              {"exp", now + 86400},
              {"x-ms-attestation-type", "sevsnpvm"},
              {"x-ms-compliance-status", "azure-compliant-uvm"},
              {"x-ms-sevsnpvm-hostdata", kHostData},
              {"x-ms-sevsnpvm-is-debuggable", false},
              {"x-ms-sevsnpvm-vmpl", 0},
              {"x-ms-sevsnpvm-launchmeasurement", std::string(96, 'a')},
              {"x-ms-runtime", {{"keys", json::array({*JwkToJson(rt)})}}}};
    token = *SignJwt(claims, maa, JwsAlg::kRS256);
    BrokerOptions opt;
    opt.db_path = dir + "/kbs.db";
    opt.master_key_path = dir + "/master.key";
    opt.admin_token = "bench-admin-token-0123456789";
    opt.authorities = {*ParseTrustedAuthority(std::string(kAuthority) + "=" + dir + "/maa.jwks")};
    auto created = KeyBroker::Create(opt);
    if (!created) {
      std::fprintf(stderr, "kbs_bench: %s\n", created.error().c_str());
      std::abort();
    }
    broker = std::move(*created);
    for (const char* kty : {"oct-HSM", "EC-HSM", "RSA-HSM"}) {
      json spec = {{"kty", kty}, {"exportable", true}, {"release_policy", Policy()}};
      broker->CreateKey(std::string("bench-") + (kty[0] == 'o' ? "oct" : kty[0] == 'E' ? "ec" : "rsa"), spec.dump());
    }
    server = std::make_unique<KbsServer>(*broker, 64 * 1024);
    port = *server->Start("127.0.0.1", 0);
  }
  ~Fixture() {
    server.reset();
    broker.reset();
    std::filesystem::remove_all(dir);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void BM_ReleaseHttp(benchmark::State& state) {
  const char* names[] = {"bench-oct", "bench-ec", "bench-rsa"};
  std::string path = std::string("/keys/") + names[state.range(0)] + "/release";
  httplib::Client cli("127.0.0.1", F().port);
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  std::string body = json{{"target", F().token}}.dump();
  for (auto _ : state) {
    auto res = cli.Post(path.c_str(), body, "application/json");
    if (!res || res->status != 200) state.SkipWithError("release failed");
  }
  state.SetLabel(names[state.range(0)]);
}
BENCHMARK(BM_ReleaseHttp)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

void BM_ReleaseInProcess(benchmark::State& state) {
  std::string body = json{{"target", F().token}}.dump();
  for (auto _ : state) {
    HttpReply r = F().broker->Release("bench-oct", "", body, "bench");
    if (r.status != 200) state.SkipWithError("release failed");
  }
}
BENCHMARK(BM_ReleaseInProcess)->Unit(benchmark::kMicrosecond);

void BM_VerifyJwt(benchmark::State& state) {
  JwsAlg alg = static_cast<JwsAlg>(state.range(0));
  Jwk signer;
  signer.key = alg == JwsAlg::kES256   ? *PKey::GenerateEc(Curve::kP256)
               : alg == JwsAlg::kES384 ? *PKey::GenerateEc(Curve::kP384)
                                       : *PKey::GenerateRsa(2048);
  signer.kid = "k";
  Jwks set;
  Jwk pub = signer;
  pub.key = signer.key.PublicOnly();
  set.keys.push_back(pub);
  std::string token = *SignJwt(F().claims, signer, alg);
  for (auto _ : state) {
    auto v = VerifyJwt(token, set);
    if (!v.ok()) state.SkipWithError("verify failed");
    benchmark::DoNotOptimize(v);
  }
  state.SetLabel(JwsAlgName(alg));
}
BENCHMARK(BM_VerifyJwt)->DenseRange(0, 3)->Unit(benchmark::kMicrosecond);

void BM_PolicyEvaluate(benchmark::State& state) {
  auto policy = *ParseReleasePolicyJson(Policy());
  for (auto _ : state) {
    auto d = EvaluateReleasePolicy(policy, F().claims, kAuthority);
    if (!d.allowed) state.SkipWithError("refused");
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_PolicyEvaluate);

void BM_PolicyParse(benchmark::State& state) {
  std::string text = Policy().dump();
  for (auto _ : state) {
    auto p = ParseReleasePolicy(text);
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_PolicyParse);

void BM_UnwrapResponse(benchmark::State& state) {
  HttpReply r = F().broker->Release("bench-oct", "", json{{"target", F().token}}.dump(), "bench");
  for (auto _ : state) {
    auto k = UnwrapReleaseResponse(r.body, F().runtime);
    if (!k.ok()) state.SkipWithError("unwrap failed");
    benchmark::DoNotOptimize(k);
  }
}
BENCHMARK(BM_UnwrapResponse)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
