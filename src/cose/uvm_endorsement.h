// UVM endorsements (reference info, attestation.md section 7): a COSE_Sign1
// by the utility-VM publisher binding an SNP launch MEASUREMENT and an svn.
// Both forms are read: legacy (JSON payload with
// x-ms-sevsnpvm-launchmeasurement / x-ms-sevsnpvm-guestsvn, string labels iss
// and feed) and hash-envelope (CWT claims iss/sub/svn, raw 48-byte payload).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confidant::cose {

inline constexpr size_t kSnpReportMinSize = 0x4A0;
inline constexpr size_t kSnpMeasurementOffset = 0x90;
inline constexpr size_t kSnpMeasurementSize = 48;

struct UvmCheck {
  // SNP report whose MEASUREMENT must equal the endorsed one.
  std::optional<std::string> report;
  std::optional<uint64_t> min_svn;    // svn >= this, compared as numbers
  std::optional<std::string> feed;    // required feed
  std::optional<std::string> issuer;  // required issuer DID (pinning)
  // Chain validity time; default: the endorsement's own signing time.
  std::optional<int64_t> at;
  bool check_validity = true;
};

struct UvmEndorsement {
  std::string format;  // "legacy" or "hash-envelope"
  std::string issuer;  // did:x509, resolved against x5chain
  std::string feed;
  uint64_t svn = 0;
  std::string measurement;  // 48 raw bytes
  std::optional<int64_t> signed_at;
  std::optional<int64_t> checked_at;  // time the chain was validated at
};

// Verifies signature and chain, resolves the issuer DID against x5chain
// (validity ignored for resolution), reads measurement and svn, then applies
// the checks asked for. False with one line saying why.
bool verify_uvm_endorsement(std::string_view cose, const UvmCheck& check, UvmEndorsement& out, std::string& error);

// MEASUREMENT (48 bytes at 0x90) of an SNP attestation report.
bool snp_report_measurement(std::string_view report, std::string& measurement, std::string& error);

}  // namespace confidant::cose
