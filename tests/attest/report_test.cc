#include <gtest/gtest.h>

#include "attest/attest.h"
#include "test_support.h"

namespace confidant::attest::testing {
namespace {

TEST(Report, GoSevGuestVectorFields) {
  auto raw = read_vector("google-go-sev-guest/attestation.bin");
  Report r;
  std::string error;
  ASSERT_TRUE(parse_report(raw, r, error)) << error;
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.guest_svn, 0u);
  EXPECT_EQ(r.policy, 0xB0000u);
  EXPECT_TRUE(r.debug());
  EXPECT_EQ(r.vmpl, 0u);
  EXPECT_EQ(r.signature_algo, 1u);
  EXPECT_EQ(r.signer_info, 0u);
  std::array<uint8_t, 64> rd{1, 2, 3, 4, 5};
  EXPECT_EQ(r.report_data, rd);
  EXPECT_EQ(hex(r.measurement),
            "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01");
  EXPECT_EQ(r.host_data, (std::array<uint8_t, 32>{}));
  for (uint8_t b : r.report_id_ma) EXPECT_EQ(b, 0xFF);
  EXPECT_EQ(r.current_tcb, 0x4405000000000002u);
  EXPECT_EQ(r.reported_tcb, 0x4405000000000002u);
  EXPECT_EQ(r.committed_tcb, 0x4405000000000002u);
  EXPECT_EQ(r.launch_tcb, 0x4405000000000002u);
  EXPECT_EQ(r.current_major, 1);
  EXPECT_EQ(r.current_minor, 49);
  EXPECT_EQ(r.current_build, 3);
  EXPECT_EQ(r.product(), Product::kUnknown);  // v2: no CPUID
  TcbParts t = decode_tcb(r.reported_tcb, Product::kMilan);
  EXPECT_EQ(t.bl, 2);
  EXPECT_EQ(t.tee, 0);
  EXPECT_EQ(t.snp, 5);
  EXPECT_EQ(t.ucode, 0x44);
}

TEST(Report, VirteeHexEqualsBinary) {
  std::vector<uint8_t> from_hex, from_bin;
  std::string error;
  ASSERT_TRUE(load_report_file(vector_path("virtee-sev/report_milan.hex"), from_hex, error)) << error;
  ASSERT_TRUE(load_report_file(vector_path("virtee-sev/report_milan.bin"), from_bin, error)) << error;
  EXPECT_EQ(from_hex, from_bin);
  Report r;
  ASSERT_TRUE(parse_report(from_bin, r, error)) << error;
  EXPECT_EQ(r.policy, 0x30000u);
  EXPECT_EQ(hex(r.measurement),
            "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f");
  EXPECT_EQ(r.reported_tcb, 0x7308000000000003u);
  EXPECT_EQ(r.current_major, 1);
  EXPECT_EQ(r.current_minor, 52);
  EXPECT_EQ(r.current_build, 4);
}

TEST(Report, AciVectorFields) {
  auto raw = read_vector("microsoft-confidential-sidecar-containers/snp_report.bin");
  Report r;
  std::string error;
  ASSERT_TRUE(parse_report(raw, r, error)) << error;
  EXPECT_EQ(r.version, 2u);
  EXPECT_EQ(r.guest_svn, 2u);
  EXPECT_EQ(r.policy, 0x3001Fu);
  EXPECT_EQ(hex(r.host_data), "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");
  EXPECT_EQ(r.reported_tcb, 0x7308000000000003u);
  EXPECT_EQ(hex(r.report_data).substr(0, 4), "ee98");
  EXPECT_EQ(hex(r.report_data).substr(64), std::string(64, '0'));
}

TEST(Report, RoundTripsEveryVector) {
  for (const char* rel : {"google-go-sev-guest/attestation.bin", "virtee-sev/report_milan.bin",
                          "microsoft-confidential-sidecar-containers/snp_report.bin"}) {
    auto raw = read_vector(rel);
    Report r;
    std::string error;
    ASSERT_TRUE(parse_report(raw, r, error)) << rel << ": " << error;
    EXPECT_EQ(serialize_report(r), raw) << rel;
  }
}

Report sample(uint32_t version) {
  Report r;
  r.version = version;
  r.policy = 0x30000;
  r.cpuid_fam_id = version >= 3 ? 0x1A : 0;
  r.cpuid_mod_id = version >= 3 ? 0x02 : 0;
  r.cpuid_step = version >= 3 ? 1 : 0;
  r.reported_tcb = 0x1100000004030201ull;
  r.chip_id[0] = 0xAB;
  if (version >= 5) {
    r.launch_mit_vector = 0x1234;
    r.current_mit_vector = 0x5678;
  }
  return r;
}

TEST(Report, Versions2To5RoundTrip) {
  for (uint32_t v : {2u, 3u, 4u, 5u}) {
    Report r = sample(v), back;
    std::string error;
    auto raw = serialize_report(r);
    ASSERT_EQ(raw.size(), kReportSize);
    ASSERT_TRUE(parse_report(raw, back, error)) << v << ": " << error;
    EXPECT_EQ(serialize_report(back), raw);
    EXPECT_EQ(back.launch_mit_vector, v >= 5 ? 0x1234u : 0u);
    EXPECT_EQ(back.product(), v >= 3 ? Product::kTurin : Product::kUnknown);
  }
}

TEST(Report, RefusesUnknownVersionsAndSizes) {
  std::string error;
  Report r;
  for (uint32_t v : {0u, 1u, 6u, 0xFFFFFFFFu}) {
    auto raw = serialize_report(sample(2));
    raw[0] = static_cast<uint8_t>(v);
    raw[1] = raw[2] = raw[3] = static_cast<uint8_t>(v >> 8);
    EXPECT_FALSE(parse_report(raw, r, error));
    EXPECT_NE(error.find("version"), std::string::npos) << error;
  }
  auto raw = serialize_report(sample(3));
  for (size_t n : {size_t{0}, size_t{0x2A0}, kReportSize - 1, kReportSize + 1}) {
    std::vector<uint8_t> cut(n, 0);
    std::copy_n(raw.begin(), std::min(n, raw.size()), cut.begin());
    EXPECT_FALSE(parse_report(cut, r, error));
    EXPECT_NE(error.find("1184"), std::string::npos) << error;
  }
}

TEST(Report, MustBeZeroDependsOnVersion) {
  std::string error;
  Report r;
  // CPUID bytes are reserved in v2, fields from v3 on.
  auto v2 = serialize_report(sample(2));
  v2[0x188] = 0x19;
  EXPECT_FALSE(parse_report(v2, r, error));
  EXPECT_NE(error.find("0x188"), std::string::npos) << error;
  // Mitigation vectors are reserved before v5.
  auto v3 = serialize_report(sample(3));
  v3[0x1F8] = 1;
  EXPECT_FALSE(parse_report(v3, r, error));
  auto v5 = serialize_report(sample(5));
  EXPECT_TRUE(parse_report(v5, r, error)) << error;
  for (size_t off :
       {size_t{0x04C}, size_t{0x18B}, size_t{0x1EB}, size_t{0x1EF}, size_t{0x208}, size_t{0x330}, kReportSize - 1}) {
    auto bad = serialize_report(sample(5));
    bad[off] = 1;
    EXPECT_FALSE(parse_report(bad, r, error)) << off;
  }
  auto bad_signer = serialize_report(sample(3));
  bad_signer[0x048] = 0x20;
  EXPECT_FALSE(parse_report(bad_signer, r, error));
}

TEST(Tcb, DecodesPerProduct) {
  TcbParts m = decode_tcb(0x7308000000000003ull, Product::kMilan);
  EXPECT_EQ(m.bl, 3);
  EXPECT_EQ(m.tee, 0);
  EXPECT_EQ(m.snp, 8);
  EXPECT_EQ(m.ucode, 0x73);
  EXPECT_EQ(encode_tcb(m, Product::kMilan), 0x7308000000000003ull);
  TcbParts t = decode_tcb(0x1100000004030201ull, Product::kTurin);
  EXPECT_EQ(t.fmc, 1);
  EXPECT_EQ(t.bl, 2);
  EXPECT_EQ(t.tee, 3);
  EXPECT_EQ(t.snp, 4);
  EXPECT_EQ(t.ucode, 0x11);
  EXPECT_EQ(encode_tcb(t, Product::kTurin), 0x1100000004030201ull);
  EXPECT_EQ(product_from_cpuid(0x19, 0x01), Product::kMilan);
  EXPECT_EQ(product_from_cpuid(0x19, 0x11), Product::kGenoa);
  EXPECT_EQ(product_from_cpuid(0x1A, 0x02), Product::kTurin);
  EXPECT_EQ(product_from_cpuid(0x17, 0x01), Product::kUnknown);
  EXPECT_EQ(parse_product("Milan-B0"), Product::kMilan);
  EXPECT_EQ(parse_product("Genoa"), Product::kGenoa);
  EXPECT_EQ(parse_product("Bergamo"), Product::kUnknown);
}

TEST(Tcb, MinimumIsComponentWise) {
  // SNP 8 > 5 but BL 1 < 2: as one integer it would pass.
  uint64_t value = encode_tcb({.bl = 1, .tee = 0, .snp = 8, .ucode = 0x73}, Product::kMilan);
  uint64_t min = encode_tcb({.bl = 2, .tee = 0, .snp = 5, .ucode = 0x44}, Product::kMilan);
  EXPECT_GT(value, min);
  EXPECT_FALSE(tcb_at_least(value, min, Product::kMilan));
  EXPECT_TRUE(tcb_at_least(0x7308000000000003ull, 0x4405000000000002ull, Product::kMilan));
  uint64_t v = 0;
  EXPECT_TRUE(parse_tcb_hex("7308000000000003", v));
  EXPECT_EQ(v, 0x7308000000000003ull);
  EXPECT_TRUE(parse_tcb_hex("0x44", v));
  EXPECT_EQ(v, 0x44u);
  EXPECT_FALSE(parse_tcb_hex("73080000000000031", v));
  EXPECT_FALSE(parse_tcb_hex("zz", v));
}

TEST(ReportJson, EveryFieldPresentWithHexBytes) {
  auto raw = read_vector("google-go-sev-guest/attestation.bin");
  Report r;
  std::string error;
  ASSERT_TRUE(parse_report(raw, r, error));
  nlohmann::ordered_json j = report_to_json(r, Product::kMilan);
  for (const char* k : {"version",           "guest_svn",     "policy",
                        "family_id",         "image_id",      "vmpl",
                        "signature_algo",    "current_tcb",   "platform_info",
                        "signer_info",       "report_data",   "measurement",
                        "host_data",         "id_key_digest", "author_key_digest",
                        "report_id",         "report_id_ma",  "reported_tcb",
                        "chip_id",           "committed_tcb", "current_version",
                        "committed_version", "launch_tcb",    "signature"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["measurement"], hex(r.measurement));
  EXPECT_EQ(j["report_data"].get<std::string>().substr(0, 10), "0102030405");
  EXPECT_EQ(j["reported_tcb"]["raw"], "4405000000000002");
  EXPECT_EQ(j["reported_tcb"]["ucode_spl"], 0x44);
  EXPECT_EQ(j["policy"]["debug"], true);
  EXPECT_EQ(j["current_version"], "1.49.3");
  nlohmann::ordered_json t = report_to_json(sample(5));
  EXPECT_EQ(t["product"], "Turin");
  EXPECT_EQ(t["reported_tcb"]["fmc_spl"], 1);
  EXPECT_TRUE(t.contains("launch_mit_vector"));
}

TEST(ReportFile, RefusesGarbage) {
  std::vector<uint8_t> out;
  std::string error;
  std::string junk = "not hex at all";
  EXPECT_FALSE(decode_report_text_or_binary({reinterpret_cast<const uint8_t*>(junk.data()), junk.size()}, out, error));
  std::string short_hex = "0200";
  EXPECT_FALSE(
      decode_report_text_or_binary({reinterpret_cast<const uint8_t*>(short_hex.data()), short_hex.size()}, out, error));
  EXPECT_NE(error.find("2 bytes"), std::string::npos) << error;
}

}  // namespace
}  // namespace confidant::attest::testing
