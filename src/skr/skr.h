// The secure key release sidecar: the HTTP API of Microsoft's confidential-sidecar-containers
// `skr` (shared/reference/attestation.md 9.7), run next to the workload inside the guest.
//
//   GET  /status            {"message": "Status OK"}
//   POST /attest/raw        {"runtime_data": b64}                 -> {"report": hex}
//   POST /attest/combined   {"runtime_data": b64}                 -> {"evidence", "endorsements", "uvm_endorsements", "endorsed_tcb"}
//   POST /attest/maa        {"maa_endpoint", "runtime_data": b64} -> {"token"}
//   POST /key/release       {"maa_endpoint", "akv_endpoint", "kid", "access_token"?} -> {"key": "<JWK as a string>"}
//
// REPORT_DATA = SHA-256(runtime data) || 32 zero bytes in every attest route. Errors are
// {"error": "..."} with 400 (malformed request), 403 (attestation or release refused), 500.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kbs/jwt.h"

namespace confidant::skr {

struct Config {
  // Asks the TEE for a report binding `report_data` (the virtual SNP device, or
  // /dev/sev-guest through policy::read_sev_guest_report).
  std::function<bool(const std::array<uint8_t, 64>& report_data, std::vector<uint8_t>& report, std::string& error)>
      get_report;
  std::string cert_chain_pem;   // VCEK (or VLEK), ASK, ARK
  std::string uvm_endorsement;  // COSE_Sign1 bytes of the UVM reference info; may be empty
  std::string endorsed_tcb;     // THIM tcbm, reported by /attest/combined
  // Key broker response signers to trust; empty: the response's own x5c key (integrity only).
  std::optional<kbs::Jwks> kbs_signers;
  size_t max_request_bytes = 64 * 1024;
};

struct Reply {
  int status = 200;
  std::string body;
};

class Sidecar {
 public:
  explicit Sidecar(Config config) : config_(std::move(config)) {}
  Reply status() const;
  Reply attest_raw(std::string_view body) const;
  Reply attest_combined(std::string_view body) const;
  Reply attest_maa(std::string_view body) const;
  Reply key_release(std::string_view body) const;

  // The MAA request for runtime data (shared by /attest/maa and /key/release).
  bool maa_token(const std::string& endpoint, const std::string& runtime, std::string& token, int& status,
                 std::string& error) const;

 private:
  bool report_for(const std::string& runtime, std::vector<uint8_t>& report, std::string& error) const;
  bool report_for_request(std::string_view body, std::vector<uint8_t>& report, Reply& failure) const;
  Config config_;
};

// Endpoints are "host[:port]" (HTTPS, as the sidecar does) or a full "http(s)://host:port".
std::string endpoint_url(const std::string& endpoint);

bool serve(const Sidecar& sidecar, const std::string& host, int port, const std::atomic<bool>& stop,
           std::function<void(int bound_port)> on_listening, std::string& error);

}  // namespace confidant::skr
