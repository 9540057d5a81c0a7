// Shared fixtures for the server tests: a stand-in attestation authority that
// signs MAA-shaped tokens, a runtime key, temp directories and HTTP helpers.
#pragma once

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "kbs/encoding.h"
#include "kbs/jwt.h"
#include "kbs/server.h"

namespace confidant::kbs::testing {

using json = nlohmann::json;

inline constexpr const char* kAuthority = "https://maa.confidant.test";
inline constexpr const char* kAdminToken = "admin-token-0123456789abcdef";
inline constexpr const char* kHostData = "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kbs-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// RSA key generation dominates the test time on a loaded machine: the tests
// share a few keys. Distinct slots are distinct keys.
inline const PKey& TestRsaKey(size_t slot) {
  static std::mutex mu;
  static std::map<size_t, PKey> keys;
  std::lock_guard<std::mutex> lock(mu);
  auto it = keys.find(slot);
  if (it == keys.end()) it = keys.emplace(slot, *PKey::GenerateRsa(2048)).first;
  return it->second;
}

// Signs tokens the way MAA does (RS256, kid, jku) for an authority URL.
struct Authority {
  std::string url;
  Jwk signer;

  explicit Authority(std::string u, std::string kid = "maa-signing-1", size_t key_slot = 0) : url(std::move(u)) {
    signer.key = TestRsaKey(key_slot);
    signer.kid = std::move(kid);
  }
  std::string JwksText() const {
    Jwks set;
    Jwk pub = signer;
    pub.key = signer.key.PublicOnly();
    set.keys.push_back(pub);
    return *SerializeJwks(set);
  }
  std::string WriteJwks(const std::string& path) const {
    std::ofstream(path) << JwksText();
    return path;
  }
  std::string Sign(const json& claims) const {
    return *SignJwt(claims, signer, JwsAlg::kRS256, json{{"jku", url + "/certs"}});
  }
};

struct RuntimeKey {
  explicit RuntimeKey(size_t key_slot = 100) : key(TestRsaKey(key_slot)) {}
  PKey key;
  json JwkSet(std::string kid = "runtime-1") const {
    Jwk pub;
    pub.key = key.PublicOnly();
    pub.kid = std::move(kid);
    pub.key_ops = {"encrypt"};
    return json{{"keys", json::array({*JwkToJson(pub)})}};
  }
};

inline json MaaClaims(const std::string& iss, const RuntimeKey& runtime) {
  int64_t now = NowSeconds();
  return json{{"iss", iss},
              {"iat", now},
              {"nbf", now},
              {"exp", now + 600},
              {"x-ms-attestation-type", "sevsnpvm"},
              {"x-ms-compliance-status", "azure-compliant-uvm"},
              {"x-ms-sevsnpvm-hostdata", kHostData},
              {"x-ms-sevsnpvm-is-debuggable", false},
              {"x-ms-sevsnpvm-vmpl", 0},
              {"x-ms-runtime", runtime.JwkSet()}};
}

inline json AciPolicy(const std::string& authority = kAuthority, const std::string& hostdata = kHostData) {
  return json{
      {"version", "1.0.0"},
      {"anyOf",
       json::array({{{"authority", authority},
                     {"allOf", json::array({{{"claim", "x-ms-sevsnpvm-hostdata"}, {"equals", hostdata}},
                                            {{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-uvm"}},
                                            {{"claim", "x-ms-sevsnpvm-is-debuggable"}, {"equals", false}},
                                            {{"claim", "x-ms-attestation-type"}, {"equals", "sevsnpvm"}}})}}})}};
}

inline httplib::Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

}  // namespace confidant::kbs::testing
