// Attestation service: token issuance for genuine Confidential ACI evidence (SNP report, VCEK
// chain, UVM endorsement), i.e. what one POST /attest/SevSnpVm costs without the HTTP layer:
// request parsing, report and chain verification, COSE endorsement check, RS256 token signing.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "attest_service/service.h"

using namespace confidant;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void BM_IssueToken(benchmark::State& state) {
  const char* env = std::getenv("CONFIDANT_SHARED");
  std::string d = std::string(env ? env : "../shared") + "/vectors/microsoft-confidential-sidecar-containers/";
  std::string report = slurp(d + "snp_report.bin"), chain = slurp(d + "uvm_host_amd_certificate.pem"),
              uvm = slurp(d + "body.uvm_reference_info.bin");
  if (report.empty() || chain.empty() || uvm.empty()) return state.SkipWithError("vectors not found (set CONFIDANT_SHARED)");
  using attest_service::b64url_encode;
  nlohmann::json evidence = {
      {"SnpReport", b64url_encode(report, true)},
      {"VcekCertChain", b64url_encode(chain, true)},
      {"Endorsements", b64url_encode(nlohmann::json{{"Uvm", {b64url_encode(uvm, true)}}}.dump(), true)}};
  std::string body = nlohmann::json{{"report", b64url_encode(evidence.dump(), true)}, {"nonce", 1}}.dump();

  attest_service::Config c;
  auto key = kbs::PKey::GenerateRsa(2048);
  if (!key.ok()) return state.SkipWithError("no RSA key");
  c.signing_key.key = *key;
  c.signing_key.kid = *kbs::JwkThumbprint(*key);
  c.issuer = "http://attest.bench";
  c.at = 1700000000;  // inside the certificates' validity
  c.uvm_issuers.push_back({"did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.2",
                           "ContainerPlat-AMD-UVM", 0});
  attest_service::AttestationService svc(c);
  for (auto _ : state) {
    auto r = svc.attest(body);
    if (r.status != 200) return state.SkipWithError(r.body.c_str());
    benchmark::DoNotOptimize(r.body);
  }
}
BENCHMARK(BM_IssueToken)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
