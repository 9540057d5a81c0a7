// libFuzzer: the AMD VCEK/VLEK extension parser (per OID and through whole
// DER certificates) and the certificate bundle loader (PEM, DER, THIM JSON).
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/attest.h"

using namespace confidant::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* kOids[] = {"1.3.6.1.4.1.3704.1.1",   "1.3.6.1.4.1.3704.1.2",   "1.3.6.1.4.1.3704.1.3.1",
                                "1.3.6.1.4.1.3704.1.3.2", "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.4",
                                "1.3.6.1.4.1.3704.1.3.8", "1.3.6.1.4.1.3704.1.3.9", "1.3.6.1.4.1.3704.1.4",
                                "1.3.6.1.4.1.3704.1.5",   "1.3.6.1.4.1.3704.1.6",   "2.5.29.19"};
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::string error;
  AmdExtensions e;
  (void)parse_amd_extension(kOids[data[0] % (sizeof kOids / sizeof kOids[0])], rest, e, error);
  (void)extensions_to_json(e).dump();

  CertBundle bundle;
  if (load_certificates(rest, bundle, error)) {
    for (const Certificate& c : bundle.certs) {
      AmdExtensions ce;
      (void)parse_amd_extensions(c, ce, error);
      (void)c.subject_cn();
    }
  }
  return 0;
}
