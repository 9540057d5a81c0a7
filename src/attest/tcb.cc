// TCB_VERSION layouts and product detection (reference: attestation.md 1.3, 2).
#include <cctype>

#include "attest/attest.h"

namespace confidant::attest {

const char* product_name(Product p) {
  switch (p) {
    case Product::kMilan: return "Milan";
    case Product::kGenoa: return "Genoa";
    case Product::kTurin: return "Turin";
    case Product::kUnknown: break;
  }
  return "unknown";
}

Product parse_product(std::string_view name) {
  std::string_view gen = name.substr(0, name.find('-'));
  std::string lower;
  for (char c : gen) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "milan") return Product::kMilan;
  if (lower == "genoa") return Product::kGenoa;
  if (lower == "turin") return Product::kTurin;
  return Product::kUnknown;
}

Product product_from_cpuid(uint8_t family, uint8_t model) {
  if (family == 0x19 && model == 0x01) return Product::kMilan;
  if (family == 0x19 && model == 0x11) return Product::kGenoa;
  if (family == 0x1A && model == 0x02) return Product::kTurin;
  return Product::kUnknown;
}

bool has_fmc(Product p) { return p == Product::kTurin; }

TcbParts decode_tcb(uint64_t raw, Product p) {
  auto byte = [raw](int i) { return static_cast<uint8_t>(raw >> (8 * i)); };
  TcbParts t;
  if (has_fmc(p)) {
    t.fmc = byte(0);
    t.bl = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.bl = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.ucode = byte(7);
  return t;
}

uint64_t encode_tcb(const TcbParts& t, Product p) {
  auto at = [](uint8_t v, int i) { return static_cast<uint64_t>(v) << (8 * i); };
  if (has_fmc(p)) return at(t.fmc, 0) | at(t.bl, 1) | at(t.tee, 2) | at(t.snp, 3) | at(t.ucode, 7);
  return at(t.bl, 0) | at(t.tee, 1) | at(t.snp, 6) | at(t.ucode, 7);
}

bool tcb_at_least(uint64_t value, uint64_t minimum, Product p) {
  TcbParts v = decode_tcb(value, p), m = decode_tcb(minimum, p);
  return v.bl >= m.bl && v.tee >= m.tee && v.snp >= m.snp && v.ucode >= m.ucode && v.fmc >= m.fmc;
}

nlohmann::ordered_json tcb_to_json(uint64_t raw, Product p) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(raw));
  TcbParts t = decode_tcb(raw, p);
  nlohmann::ordered_json j = {
      {"raw", buf}, {"bl_spl", t.bl}, {"tee_spl", t.tee}, {"snp_spl", t.snp}, {"ucode_spl", t.ucode}};
  if (has_fmc(p)) j["fmc_spl"] = t.fmc;
  return j;
}

bool parse_tcb_hex(std::string_view text, uint64_t& out) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

}  // namespace confidant::attest
