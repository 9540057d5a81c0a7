// libFuzzer target: arbitrary bytes as an Azure Key Vault release policy; a
// policy that parses is evaluated against fixed MAA-shaped claims and must
// survive a round trip through its JSON form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kbs/release_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using confidant::kbs::EvaluateReleasePolicy;
  using confidant::kbs::ParseReleasePolicy;
  using confidant::kbs::ParseReleasePolicyJson;
  using confidant::kbs::ReleasePolicyToJson;
  static const nlohmann::json claims = nlohmann::json::parse(R"({
    "iss": "https://maa.example", "x-ms-attestation-type": "sevsnpvm",
    "x-ms-sevsnpvm-hostdata": "00ff", "x-ms-sevsnpvm-is-debuggable": false,
    "x-ms-sevsnpvm-vmpl": 0, "x-ms-sevsnpvm-guestsvn": 2.5, "big": 18446744073709551615,
    "x-ms-runtime": {"keys": [{"kid": "a", "kty": "RSA"}], "nested": {"a": {"b": [1, "x", true]}}}})");
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = ParseReleasePolicy(text);
  if (!policy.ok()) return 0;
  for (const auto& a : policy->authorities) {
    (void)EvaluateReleasePolicy(*policy, claims, a.authority);
  }
  (void)EvaluateReleasePolicy(*policy, claims, "https://maa.example");
  auto again = ParseReleasePolicyJson(ReleasePolicyToJson(*policy));
  if (!again.ok() || ReleasePolicyToJson(*again) != ReleasePolicyToJson(*policy)) std::abort();
  return 0;
}
