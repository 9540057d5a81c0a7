// The attestation service: SEV-SNP evidence in, a signed token out, in the shape relying
// parties already consume (Microsoft Azure Attestation, shared/reference/attestation.md 9.3,
// 9.4). The evidence is a report, its VCEK/VLEK chain, UVM endorsements and runtime data; the
// token's claims say what was proven: HOST_DATA (the policy digest), the launch measurement,
// whether the guest image is an endorsed one (x-ms-compliance-status), debuggability, TCB, and
// the runtime data (the guest's key for secure key release).
//
//   AttestationService svc(config);                 // trust: AMD roots, UVM issuers, signing key
//   auto reply = svc.attest(request_body_json);      // {status, body}: 200 {"token"} or 4xx {"error"}
//   svc.jwks();                                      // GET /certs
//   serve(svc, "127.0.0.1", 8443, stop_flag);        // the HTTP front end
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attest/attest.h"
#include "kbs/jwt.h"

namespace confidant::attest_service {

// A UVM endorsement issuer the service trusts: the did:x509 of its signing chain, the feed,
// and the lowest svn accepted.
struct UvmIssuer {
  std::string did;
  std::string feed;
  uint64_t min_svn = 0;
};

struct Config {
  attest::TrustStore trust = attest::TrustStore::amd();
  std::vector<UvmIssuer> uvm_issuers;
  kbs::Jwk signing_key;             // RSA private key; kid set
  std::string issuer;               // "iss" and the base of jku, e.g. "http://127.0.0.1:8443"
  int64_t token_lifetime = 8 * 3600;  // seconds
  // Time at which certificates are checked (tests and recorded evidence); default now.
  std::optional<int64_t> at;
  size_t max_request_bytes = 1u << 20;
};

struct Reply {
  int status = 200;
  std::string body;  // JSON
};

class AttestationService {
 public:
  explicit AttestationService(Config config);
  ~AttestationService();

  // POST /attest/SevSnpVm: the MAA request body. Never throws; errors are 400 (malformed)
  // or 403 (evidence that does not verify) with {"error": "..."}.
  Reply attest(std::string_view request_body) const;
  std::string jwks() const;                    // GET /certs
  std::string openid_configuration() const;    // GET /.well-known/openid-configuration
  const Config& config() const { return config_; }

 private:
  Config config_;
  std::unique_ptr<attest::Verifier> verifier_;
};

// Creates (or loads) the service's RSA-2048 signing key from a PEM file (created 0600 when
// absent); the kid is the key's RFC 7638 thumbprint.
bool load_or_create_signing_key(const std::string& path, kbs::Jwk& out, std::string& error);

// Serves the routes on host:port until `stop` becomes true; `bound_port` receives the port
// (useful with port 0). Returns false with a message when the port cannot be bound.
bool serve(const AttestationService& service, const std::string& host, int port, const std::atomic<bool>& stop,
           std::function<void(int bound_port)> on_listening, std::string& error);

// Base64url with padding accepted or not (MAA's clients pad; JOSE does not).
bool b64url_decode(std::string_view in, std::string& out);
std::string b64url_encode(std::string_view in, bool pad);

}  // namespace confidant::attest_service
