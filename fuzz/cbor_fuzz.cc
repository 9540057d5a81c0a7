// libFuzzer target: the strict CBOR decoder and COSE_Sign1 decoding.
//
// Checked on each input: no crash or hang; whatever decodes re-encodes to
// bytes that decode to an equal value, and with the default (deterministic)
// limits the re-encoding is byte-identical unless floats are involved
// (floats are always re-encoded as 64-bit).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cose/cbor.h"
#include "cose/cose_sign1.h"

using namespace confidant::cose;

namespace {
bool has_float(const CborValue& v) {
  switch (v.type()) {
    case CborType::kFloat: return true;
    case CborType::kArray:
      for (const auto& x : v.items())
        if (has_float(x)) return true;
      return false;
    case CborType::kMap:
      for (const auto& [k, x] : v.entries())
        if (has_float(k) || has_float(x)) return true;
      return false;
    case CborType::kTag: return has_float(v.content());
    default: return false;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CborValue v;
  std::string error;
  if (cbor_decode(in, v, error)) {
    std::string again = cbor_encode(v);
    CborValue w;
    if (!cbor_decode(again, w, error) || !(v == w)) abort();
    if (!has_float(v) && again != in) abort();
  }
  CborLimits lax;
  lax.allow_indefinite = true;
  lax.require_shortest = false;
  if (cbor_decode(in, v, error, lax)) {
    CborValue w;
    if (!cbor_decode(cbor_encode(v), w, error, lax) || !(v == w)) abort();
  }
  CoseSign1 m;
  if (decode_cose_sign1(in, m, error)) {
    (void)protected_headers_json(m);
    (void)m.headers.issuer();
  }
  return 0;
}
