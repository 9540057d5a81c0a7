// Fixtures for the attestation tests: the public vectors in shared/vectors.
#pragma once

#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "attest/attest.h"

namespace confidant::attest::testing {

inline std::string vector_path(const std::string& rel) { return std::string(CONFIDANT_SHARED_DIR) + "/vectors/" + rel; }

inline std::vector<uint8_t> read_vector(const std::string& rel) {
  std::ifstream f(vector_path(rel), std::ios::binary);
  // Thrown, not EXPECTed: callers index into the bytes, and gtest reports the exception as
  // this test's failure.
  if (!f.good()) throw std::runtime_error("missing test vector " + vector_path(rel));
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline CertBundle certs_from(std::initializer_list<std::string> rels) {
  CertBundle b;
  for (const auto& rel : rels) {
    std::string error;
    if (!load_certificates_file(vector_path(rel), b, error)) throw std::runtime_error(rel + ": " + error);
  }
  return b;
}

// Vectors are verified at a fixed time inside every certificate's validity
// (several leaves expire, and "now" would make the tests date-dependent).
inline std::time_t fixed_time() { return 1735689600; }  // 2025-01-01T00:00:00Z

template <size_t N>
std::array<uint8_t, N> hex_array(std::string_view text) {
  std::array<uint8_t, N> out{};
  EXPECT_TRUE(parse_hex_exact(text, out)) << text;
  return out;
}

struct Vector {
  const char* name;
  const char* report;
  std::vector<std::string> certs;
};

inline std::vector<Vector> genuine_vectors() {
  return {
      {"go-sev-guest", "google-go-sev-guest/attestation.bin", {"google-go-sev-guest/vcek_milan.der"}},
      {"virtee", "virtee-sev/report_milan.bin", {"virtee-sev/vcek_milan.der", "virtee-sev/cert_chain_milan"}},
      {"aci-json",
       "microsoft-confidential-sidecar-containers/snp_report.bin",
       {"microsoft-confidential-sidecar-containers/uvm_host_amd_certificate.json"}},
      {"aci-pem",
       "microsoft-confidential-sidecar-containers/snp_report.bin",
       {"microsoft-confidential-sidecar-containers/uvm_host_amd_certificate.pem"}},
  };
}

inline CertBundle certs_of(const Vector& v) {
  CertBundle b;
  for (const auto& rel : v.certs) {
    std::string error;
    if (!load_certificates_file(vector_path(rel), b, error)) throw std::runtime_error(rel + ": " + error);
  }
  return b;
}

}  // namespace confidant::attest::testing
