// libFuzzer: the SEV-SNP report parser, its JSON rendering, the hex-text
// report decoder, and verification of arbitrary reports against a genuine
// chain (everything up to the signature check runs on fuzzed fields).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "attest/attest.h"

using namespace confidant::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  std::string error;
  Report r;
  if (parse_report(in, r, error)) {
    if (serialize_report(r) != std::vector<uint8_t>(data, data + size)) __builtin_trap();
    for (Product p : {Product::kUnknown, Product::kMilan, Product::kTurin}) (void)report_to_json(r, p).dump();
    static Verifier* verifier = new Verifier(TrustStore::amd());
    // The virtee VCEK when the fixtures are reachable (CONFIDANT_SHARED or
    // ../shared), so that fuzzed chip IDs and TCBs reach the VCEK checks.
    static CertBundle certs = [] {
      CertBundle b;
      std::string e;
      const char* env = std::getenv("CONFIDANT_SHARED");
      std::string dir = env ? env : "../shared";
      if (!load_certificates_file(dir + "/vectors/virtee-sev/vcek_milan.der", b, e))
        b.certs.push_back(builtin_amd_roots()[0].ask);
      return b;
    }();
    VerifiedReport out;
    VerifyOptions o;
    o.at = 1735689600;
    (void)verifier->verify(in, certs, o, out, error);
  }
  std::vector<uint8_t> decoded;
  if (decode_report_text_or_binary(in, decoded, error)) (void)parse_report(decoded, r, error);
  return 0;
}
