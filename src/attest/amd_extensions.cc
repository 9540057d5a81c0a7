// The AMD KDS extensions of VCEK/VLEK certificates (reference: attestation.md 3.2).
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "attest/attest.h"

namespace confidant::attest {

namespace {

constexpr std::string_view kAmdPrefix = "1.3.6.1.4.1.3704.1.";

// One DER TLV at the start of `in`: tag, content; false when malformed.
bool read_tlv(std::span<const uint8_t> in, uint8_t& tag, std::span<const uint8_t>& content, size_t& total) {
  if (in.size() < 2) return false;
  tag = in[0];
  size_t len = in[1], header = 2;
  if (len & 0x80) {
    size_t n = len & 0x7F;
    if (n == 0 || n > 2 || in.size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = len << 8 | in[2 + i];
    if (len < 0x80 || (n == 2 && len < 0x100)) return false;  // not minimal (DER)
    header += n;
  }
  if (in.size() - header < len) return false;
  content = in.subspan(header, len);
  total = header + len;
  return true;
}

bool der_integer(std::span<const uint8_t> value, int64_t& out, std::string& why) {
  uint8_t tag;
  std::span<const uint8_t> c;
  size_t total;
  if (!read_tlv(value, tag, c, total) || tag != 0x02 || total != value.size()) {
    why = "not a DER INTEGER";
    return false;
  }
  if (c.empty() || c.size() > 8) {
    why = "INTEGER of " + std::to_string(c.size()) + " bytes";
    return false;
  }
  if (c[0] & 0x80) {
    why = "negative INTEGER";
    return false;
  }
  if (c.size() > 1 && c[0] == 0 && !(c[1] & 0x80)) {
    why = "INTEGER not minimally encoded";
    return false;
  }
  uint64_t v = 0;
  for (uint8_t b : c) v = v << 8 | b;
  out = static_cast<int64_t>(v);
  return true;
}

bool der_ia5(std::span<const uint8_t> value, std::string& out, std::string& why) {
  uint8_t tag;
  std::span<const uint8_t> c;
  size_t total;
  if (!read_tlv(value, tag, c, total) || tag != 0x16 || total != value.size()) {
    why = "not a DER IA5String";
    return false;
  }
  if (c.size() > 256) {
    why = "IA5String longer than 256 bytes";
    return false;
  }
  for (uint8_t b : c) {
    if (b < 0x20 || b > 0x7E) {
      why = "IA5String with a non-printable byte";
      return false;
    }
  }
  out.assign(c.begin(), c.end());
  return true;
}

template <typename T>
bool set_once(std::optional<T>& slot, T value, std::string_view name, std::string& error) {
  if (slot) {
    error = "duplicate AMD extension " + std::string(name);
    return false;
  }
  slot = std::move(value);
  return true;
}

}  // namespace

bool parse_amd_extension(std::string_view oid, std::span<const uint8_t> value, AmdExtensions& out, std::string& error) {
  if (!oid.starts_with(kAmdPrefix)) return true;
  std::string_view id = oid.substr(kAmdPrefix.size());
  std::string why;
  auto integer = [&](std::string_view name, std::optional<int64_t>* slot) {
    int64_t v = 0;
    if (!der_integer(value, v, why)) {
      error = "AMD extension " + std::string(name) + " (" + std::string(oid) + "): " + why;
      return false;
    }
    if (!slot) return true;  // reserved SPLs: well-formed, value unused
    return set_once(*slot, v, name, error);
  };
  if (id == "1") return integer("structVersion", &out.struct_version);
  if (id == "3.1") return integer("blSPL", &out.bl_spl);
  if (id == "3.2") return integer("teeSPL", &out.tee_spl);
  if (id == "3.3") return integer("snpSPL", &out.snp_spl);
  if (id == "3.4" || id == "3.5" || id == "3.6" || id == "3.7")
    return integer("spl_" + std::string(id.substr(2)), nullptr);
  if (id == "3.8") return integer("ucodeSPL", &out.ucode_spl);
  if (id == "3.9") return integer("fmcSPL", &out.fmc_spl);
  if (id == "2" || id == "5") {
    std::string s;
    if (!der_ia5(value, s, why)) {
      error = std::string("AMD extension ") + (id == "2" ? "productName" : "cspID") + ": " + why;
      return false;
    }
    return id == "2" ? set_once(out.product_name, s, "productName", error) : set_once(out.csp_id, s, "cspID", error);
  }
  if (id == "4") {
    // Raw bytes in older certificates, an inner OCTET STRING in newer ones.
    // The two cannot be confused: a raw hwID is 8 or 64 bytes, a wrapped one 10 or 66.
    std::span<const uint8_t> hw = value;
    uint8_t tag;
    std::span<const uint8_t> c;
    size_t total;
    if (read_tlv(value, tag, c, total) && tag == 0x04 && total == value.size() && (c.size() == 8 || c.size() == 64))
      hw = c;
    if (hw.size() != 8 && hw.size() != 64) {
      error = "AMD extension hwID has " + std::to_string(hw.size()) + " bytes (8 or 64 expected)";
      return false;
    }
    return set_once(out.hw_id, std::vector<uint8_t>(hw.begin(), hw.end()), "hwID", error);
  }
  error = "unknown AMD extension " + std::string(oid);
  return false;
}

bool parse_amd_extensions(const Certificate& cert, AmdExtensions& out, std::string& error) {
  out = AmdExtensions{};
  X509* x = cert.x509();
  if (!x) {
    error = "no certificate";
    return false;
  }
  int n = X509_get_ext_count(x);
  if (n > 64) {
    error = "certificate has " + std::to_string(n) + " extensions";
    return false;
  }
  for (int i = 0; i < n; ++i) {
    X509_EXTENSION* ext = X509_get_ext(x, i);
    char oid[128];
    int len = OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(ext), 1);
    if (len <= 0 || len >= static_cast<int>(sizeof oid)) {
      error = "certificate extension with an unreadable OID";
      return false;
    }
    ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    std::span<const uint8_t> value(ASN1_STRING_get0_data(data), static_cast<size_t>(ASN1_STRING_length(data)));
    if (!std::string_view(oid).starts_with(kAmdPrefix)) {
      // A critical extension we do not understand makes the certificate unusable (RFC 5280 4.2).
      int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
      if (X509_EXTENSION_get_critical(ext) && nid != NID_basic_constraints && nid != NID_key_usage) {
        error = std::string("unsupported critical extension ") + oid;
        return false;
      }
      continue;
    }
    if (!parse_amd_extension(oid, value, out, error)) return false;
  }
  return true;
}

nlohmann::ordered_json extensions_to_json(const AmdExtensions& e) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  auto put = [&](const char* k, const std::optional<int64_t>& v) {
    if (v) j[k] = *v;
  };
  put("struct_version", e.struct_version);
  if (e.product_name) j["product_name"] = *e.product_name;
  put("bl_spl", e.bl_spl);
  put("tee_spl", e.tee_spl);
  put("snp_spl", e.snp_spl);
  put("ucode_spl", e.ucode_spl);
  put("fmc_spl", e.fmc_spl);
  if (e.hw_id) j["hw_id"] = hex(*e.hw_id);
  if (e.csp_id) j["csp_id"] = *e.csp_id;
  return j;
}

}  // namespace confidant::attest
