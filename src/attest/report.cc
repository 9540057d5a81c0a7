// The SEV-SNP ATTESTATION_REPORT structure (reference: attestation.md 1.1).
#include <cstring>
#include <fstream>

#include "attest/attest.h"

namespace confidant::attest {

namespace {

// Field offsets; the signed region and the signature never move.
constexpr size_t kVersion = 0x000, kGuestSvn = 0x004, kPolicy = 0x008, kFamilyId = 0x010, kImageId = 0x020,
                 kVmpl = 0x030, kSigAlgo = 0x034, kCurrentTcb = 0x038, kPlatformInfo = 0x040, kSignerInfo = 0x048,
                 kReserved1 = 0x04C, kReportData = 0x050, kMeasurement = 0x090, kHostData = 0x0C0, kIdKeyDigest = 0x0E0,
                 kAuthorKeyDigest = 0x110, kReportId = 0x140, kReportIdMa = 0x160, kReportedTcb = 0x180,
                 kCpuidFam = 0x188, kCpuidMod = 0x189, kCpuidStep = 0x18A, kReserved2 = 0x18B, kChipId = 0x1A0,
                 kCommittedTcb = 0x1E0, kCurrentBuild = 0x1E8, kCurrentMinor = 0x1E9, kCurrentMajor = 0x1EA,
                 kReserved3 = 0x1EB, kCommittedBuild = 0x1EC, kCommittedMinor = 0x1ED, kCommittedMajor = 0x1EE,
                 kReserved4 = 0x1EF, kLaunchTcb = 0x1F0, kLaunchMit = 0x1F8, kCurrentMit = 0x200, kReserved5 = 0x208,
                 kSignatureR = 0x2A0, kSignatureS = 0x2E8, kReserved6 = 0x330;

uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
uint64_t rd64(const uint8_t* p) { return rd32(p) | static_cast<uint64_t>(rd32(p + 4)) << 32; }
void wr32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void wr64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
template <size_t N>
void rdarr(const uint8_t* p, std::array<uint8_t, N>& a) {
  std::memcpy(a.data(), p, N);
}
template <size_t N>
void wrarr(uint8_t* p, const std::array<uint8_t, N>& a) {
  std::memcpy(p, a.data(), N);
}

bool zero(std::span<const uint8_t> raw, size_t begin, size_t end, const char* what, std::string& error) {
  for (size_t i = begin; i < end; ++i) {
    if (raw[i] != 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "report byte 0x%03zx (%s) must be zero, is 0x%02x", i, what, raw[i]);
      error = buf;
      return false;
    }
  }
  return true;
}

std::string hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Product Report::product() const {
  if (version < 3) return Product::kUnknown;
  return product_from_cpuid(cpuid_fam_id, cpuid_mod_id);
}

bool parse_report(std::span<const uint8_t> raw, Report& r, std::string& error) {
  if (raw.size() != kReportSize) {
    error = "attestation report must be " + std::to_string(kReportSize) + " bytes, got " + std::to_string(raw.size());
    return false;
  }
  const uint8_t* p = raw.data();
  r = Report{};
  r.version = rd32(p + kVersion);
  if (r.version < 2 || r.version > 5) {
    error = "unsupported attestation report version " + std::to_string(r.version) + " (2 to 5 are known)";
    return false;
  }
  r.guest_svn = rd32(p + kGuestSvn);
  r.policy = rd64(p + kPolicy);
  rdarr(p + kFamilyId, r.family_id);
  rdarr(p + kImageId, r.image_id);
  r.vmpl = rd32(p + kVmpl);
  r.signature_algo = rd32(p + kSigAlgo);
  r.current_tcb = rd64(p + kCurrentTcb);
  r.platform_info = rd64(p + kPlatformInfo);
  r.signer_info = rd32(p + kSignerInfo);
  rdarr(p + kReportData, r.report_data);
  rdarr(p + kMeasurement, r.measurement);
  rdarr(p + kHostData, r.host_data);
  rdarr(p + kIdKeyDigest, r.id_key_digest);
  rdarr(p + kAuthorKeyDigest, r.author_key_digest);
  rdarr(p + kReportId, r.report_id);
  rdarr(p + kReportIdMa, r.report_id_ma);
  r.reported_tcb = rd64(p + kReportedTcb);
  rdarr(p + kChipId, r.chip_id);
  r.committed_tcb = rd64(p + kCommittedTcb);
  r.current_build = p[kCurrentBuild];
  r.current_minor = p[kCurrentMinor];
  r.current_major = p[kCurrentMajor];
  r.committed_build = p[kCommittedBuild];
  r.committed_minor = p[kCommittedMinor];
  r.committed_major = p[kCommittedMajor];
  r.launch_tcb = rd64(p + kLaunchTcb);
  rdarr(p + kSignatureR, r.signature_r);
  rdarr(p + kSignatureS, r.signature_s);

  if (r.signer_info >> 5 != 0) {
    error = "report signer info has reserved bits set (0x" + hex64(r.signer_info) + ")";
    return false;
  }
  if (!zero(raw, kReserved1, kReportData, "reserved", error)) return false;
  if (r.version >= 3) {
    r.cpuid_fam_id = p[kCpuidFam];
    r.cpuid_mod_id = p[kCpuidMod];
    r.cpuid_step = p[kCpuidStep];
    if (!zero(raw, kReserved2, kChipId, "reserved", error)) return false;
  } else if (!zero(raw, kCpuidFam, kChipId, "reserved in version 2", error)) {
    return false;
  }
  if (!zero(raw, kReserved3, kReserved3 + 1, "reserved", error)) return false;
  if (!zero(raw, kReserved4, kReserved4 + 1, "reserved", error)) return false;
  if (r.version >= 5) {
    r.launch_mit_vector = rd64(p + kLaunchMit);
    r.current_mit_vector = rd64(p + kCurrentMit);
  } else if (!zero(raw, kLaunchMit, kReserved5, "mitigation vectors, reserved before version 5", error)) {
    return false;
  }
  if (!zero(raw, kReserved5, kSignatureR, "reserved", error)) return false;
  if (!zero(raw, kReserved6, kReportSize, "reserved after the signature", error)) return false;
  return true;
}

std::vector<uint8_t> serialize_report(const Report& r) {
  std::vector<uint8_t> out(kReportSize, 0);
  uint8_t* p = out.data();
  wr32(p + kVersion, r.version);
  wr32(p + kGuestSvn, r.guest_svn);
  wr64(p + kPolicy, r.policy);
  wrarr(p + kFamilyId, r.family_id);
  wrarr(p + kImageId, r.image_id);
  wr32(p + kVmpl, r.vmpl);
  wr32(p + kSigAlgo, r.signature_algo);
  wr64(p + kCurrentTcb, r.current_tcb);
  wr64(p + kPlatformInfo, r.platform_info);
  wr32(p + kSignerInfo, r.signer_info);
  wrarr(p + kReportData, r.report_data);
  wrarr(p + kMeasurement, r.measurement);
  wrarr(p + kHostData, r.host_data);
  wrarr(p + kIdKeyDigest, r.id_key_digest);
  wrarr(p + kAuthorKeyDigest, r.author_key_digest);
  wrarr(p + kReportId, r.report_id);
  wrarr(p + kReportIdMa, r.report_id_ma);
  wr64(p + kReportedTcb, r.reported_tcb);
  p[kCpuidFam] = r.cpuid_fam_id;
  p[kCpuidMod] = r.cpuid_mod_id;
  p[kCpuidStep] = r.cpuid_step;
  wrarr(p + kChipId, r.chip_id);
  wr64(p + kCommittedTcb, r.committed_tcb);
  p[kCurrentBuild] = r.current_build;
  p[kCurrentMinor] = r.current_minor;
  p[kCurrentMajor] = r.current_major;
  p[kCommittedBuild] = r.committed_build;
  p[kCommittedMinor] = r.committed_minor;
  p[kCommittedMajor] = r.committed_major;
  wr64(p + kLaunchTcb, r.launch_tcb);
  wr64(p + kLaunchMit, r.launch_mit_vector);
  wr64(p + kCurrentMit, r.current_mit_vector);
  wrarr(p + kSignatureR, r.signature_r);
  wrarr(p + kSignatureS, r.signature_s);
  return out;
}

nlohmann::ordered_json report_to_json(const Report& r, Product product) {
  if (r.product() != Product::kUnknown) product = r.product();
  auto h64 = [](uint64_t v) { return "0x" + hex64(v); };
  auto fw = [](uint8_t major, uint8_t minor, uint8_t build) {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build);
  };
  nlohmann::ordered_json j;
  j["version"] = r.version;
  j["guest_svn"] = r.guest_svn;
  j["policy"] = {{"raw", h64(r.policy)},
                 {"abi_minor", r.policy & 0xFF},
                 {"abi_major", r.policy >> 8 & 0xFF},
                 {"smt", (r.policy >> 16 & 1) != 0},
                 {"migrate_ma", (r.policy >> 18 & 1) != 0},
                 {"debug", r.debug()},
                 {"single_socket", (r.policy >> 20 & 1) != 0},
                 {"cxl_allow", (r.policy >> 21 & 1) != 0},
                 {"mem_aes_256_xts", (r.policy >> 22 & 1) != 0},
                 {"rapl_dis", (r.policy >> 23 & 1) != 0},
                 {"ciphertext_hiding_dram", (r.policy >> 24 & 1) != 0},
                 {"page_swap_disable", (r.policy >> 25 & 1) != 0}};
  j["family_id"] = hex(r.family_id);
  j["image_id"] = hex(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["current_tcb"] = tcb_to_json(r.current_tcb, product);
  j["platform_info"] = {{"raw", h64(r.platform_info)},
                        {"smt_en", (r.platform_info & 1) != 0},
                        {"tsme_en", (r.platform_info >> 1 & 1) != 0},
                        {"ecc_en", (r.platform_info >> 2 & 1) != 0},
                        {"rapl_dis", (r.platform_info >> 3 & 1) != 0},
                        {"ciphertext_hiding_dram_en", (r.platform_info >> 4 & 1) != 0},
                        {"alias_check_complete", (r.platform_info >> 5 & 1) != 0},
                        {"tio_en", (r.platform_info >> 7 & 1) != 0}};
  const char* key = r.signing_key() == 0   ? "vcek"
                    : r.signing_key() == 1 ? "vlek"
                    : r.signing_key() == 7 ? "none"
                                           : "reserved";
  j["signer_info"] = {{"raw", r.signer_info},
                      {"author_key_en", r.author_key_en()},
                      {"mask_chip_key", r.mask_chip_key()},
                      {"signing_key", key}};
  j["report_data"] = hex(r.report_data);
  j["measurement"] = hex(r.measurement);
  j["host_data"] = hex(r.host_data);
  j["id_key_digest"] = hex(r.id_key_digest);
  j["author_key_digest"] = hex(r.author_key_digest);
  j["report_id"] = hex(r.report_id);
  j["report_id_ma"] = hex(r.report_id_ma);
  j["reported_tcb"] = tcb_to_json(r.reported_tcb, product);
  if (r.version >= 3) {
    j["cpuid_fam_id"] = r.cpuid_fam_id;
    j["cpuid_mod_id"] = r.cpuid_mod_id;
    j["cpuid_step"] = r.cpuid_step;
  }
  j["chip_id"] = hex(r.chip_id);
  j["committed_tcb"] = tcb_to_json(r.committed_tcb, product);
  j["current_version"] = fw(r.current_major, r.current_minor, r.current_build);
  j["committed_version"] = fw(r.committed_major, r.committed_minor, r.committed_build);
  j["launch_tcb"] = tcb_to_json(r.launch_tcb, product);
  if (r.version >= 5) {
    j["launch_mit_vector"] = h64(r.launch_mit_vector);
    j["current_mit_vector"] = h64(r.current_mit_vector);
  }
  j["signature"] = {{"r", hex(r.signature_r)}, {"s", hex(r.signature_s)}};
  j["product"] = product_name(product);
  return j;
}

bool decode_report_text_or_binary(std::span<const uint8_t> data, std::vector<uint8_t>& out, std::string& error) {
  if (data.size() == kReportSize) {
    out.assign(data.begin(), data.end());
    return true;
  }
  // Hex text: twice the size plus whitespace; anything far larger is not a report.
  if (data.size() > 4 * kReportSize) {
    error = "report file too large (" + std::to_string(data.size()) + " bytes)";
    return false;
  }
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  if (!parse_hex_loose(text, out)) {
    error = "report is neither " + std::to_string(kReportSize) + " raw bytes (" + std::to_string(data.size()) +
            " given) nor hex text";
    return false;
  }
  if (out.size() != kReportSize) {
    error = "hex report decodes to " + std::to_string(out.size()) + " bytes, expected " + std::to_string(kReportSize);
    return false;
  }
  return true;
}

bool load_report_file(const std::string& path, std::vector<uint8_t>& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open " + path;
    return false;
  }
  std::vector<uint8_t> data;
  char buf[4096];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    data.insert(data.end(), buf, buf + f.gcount());
    if (data.size() > 4 * kReportSize) {
      error = path + ": report file too large";
      return false;
    }
  }
  if (!decode_report_text_or_binary(data, out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

}  // namespace confidant::attest
