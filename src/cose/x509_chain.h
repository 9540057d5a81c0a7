// X.509 certificate chains as COSE x5chain and did:x509 carry them: leaf
// first, the last certificate being the trust anchor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cose/crypto.h"

namespace confidant::cose {

struct ChainOptions {
  // Unix time at which every certificate must be valid; nullopt: validity
  // periods are not checked (did:x509 resolution, UVM endorsements).
  std::optional<int64_t> at;
  // The path OpenSSL builds must be exactly the supplied chain (did:x509):
  // no certificate may be skipped or left over.
  bool exact_path = false;
};

// RFC 5280 path validation of chain[0] up to chain.back() (trusted as given):
// signatures, CA flag, keyCertSign, pathLen, name constraints, unknown
// critical extensions. On failure `error` holds OpenSSL's reason (e.g.
// "certificate signature failure") and `code` the X509_V_ERR value.
inline constexpr int kChainNotExact = -1;  // `code` when exact_path fails
bool verify_chain(const std::vector<Cert>& chain, const ChainOptions& options, std::string& error, int* code = nullptr);

// Copies of DER certificates into owned handles.
bool parse_chain_der(const std::vector<std::string>& ders, std::vector<Cert>& out, std::string& error);

// Unix seconds from an RFC 3339 timestamp ("2024-05-01T12:00:00Z",
// fractional seconds and numeric offsets accepted).
bool parse_rfc3339(std::string_view text, int64_t& out);
std::string format_rfc3339(int64_t unix_seconds);

// Readable one-line subject ("CN=Leaf, O=Contoso").
std::string subject_line(X509* cert);

}  // namespace confidant::cose
