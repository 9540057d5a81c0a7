// Evidence verification and token issuance (see service.h).
#include "attest_service/service.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cose/uvm_endorsement.h"

namespace confidant::attest_service {

using nlohmann::json;

namespace {

Reply error_reply(int status, const std::string& message) {
  return Reply{status, json{{"error", message}}.dump()};
}

std::string sha256(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

template <size_t N>
std::string hex(const std::array<uint8_t, N>& a) {
  return attest::hex(std::span<const uint8_t>(a.data(), a.size()));
}

int64_t now_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

// A string field holding base64url, decoded.
bool b64_field(const json& obj, const char* key, std::string& out, std::string& error, bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) error = std::string("missing ") + key;
    return !required;
  }
  if (!it->is_string() || !b64url_decode(it->get<std::string>(), out)) {
    error = std::string(key) + " is not base64url";
    return false;
  }
  return true;
}

}  // namespace

bool b64url_decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;
    else if (c == '_' || c == '/') v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else {
      return false;
    }
    if (pad) return false;  // data after padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return pad <= 2 && bits < 6;
}

std::string b64url_encode(std::string_view in, bool pad) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += t[v >> 18];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

AttestationService::AttestationService(Config config)
    : config_(std::move(config)), verifier_(std::make_unique<attest::Verifier>(config_.trust)) {}

AttestationService::~AttestationService() = default;

Reply AttestationService::attest(std::string_view body) const {
  if (body.size() > config_.max_request_bytes) return error_reply(413, "request larger than the limit");
  json req = json::parse(body.begin(), body.end(), nullptr, false);
  if (req.is_discarded() || !req.is_object()) return error_reply(400, "request body is not a JSON object");

  // report: base64url(JSON {SnpReport, VcekCertChain, Endorsements})
  std::string error, report_json_text;
  if (!b64_field(req, "report", report_json_text, error, true)) return error_reply(400, error);
  json evidence = json::parse(report_json_text, nullptr, false);
  if (evidence.is_discarded() || !evidence.is_object()) return error_reply(400, "report is not base64url of a JSON object");
  std::string report_bytes, chain_pem, endorsements_text;
  if (!b64_field(evidence, "SnpReport", report_bytes, error, true) ||
      !b64_field(evidence, "VcekCertChain", chain_pem, error, true) ||
      !b64_field(evidence, "Endorsements", endorsements_text, error, false))
    return error_reply(400, "report: " + error);

  // runtimeData: {"data": b64url, "dataType": "JSON"|"Binary"}
  std::optional<std::string> runtime;
  if (auto rd = req.find("runtimeData"); rd != req.end() && !rd->is_null()) {
    if (!rd->is_object()) return error_reply(400, "runtimeData must be an object");
    std::string data;
    if (!b64_field(*rd, "data", data, error, true)) return error_reply(400, "runtimeData: " + error);
    runtime = std::move(data);
  }

  // The report: signature, chain to a trusted ARK, VCEK extensions against the report.
  attest::CertBundle certs;
  if (!attest::load_certificates(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(chain_pem.data()), chain_pem.size()), certs, error))
    return error_reply(400, "VcekCertChain: " + error);
  attest::VerifyOptions vo;
  vo.allow_debug = true;  // reported as a claim; the relying party's policy decides
  if (config_.at) vo.at = static_cast<std::time_t>(*config_.at);
  if (runtime) {
    std::array<uint8_t, 64> expected{};
    std::string digest = sha256(*runtime);
    std::copy(digest.begin(), digest.end(), expected.begin());
    vo.report_data = expected;
  }
  attest::VerifiedReport verified;
  const auto* raw = reinterpret_cast<const uint8_t*>(report_bytes.data());
  if (!verifier_->verify(std::span<const uint8_t>(raw, report_bytes.size()), certs, vo, verified, error))
    return error_reply(403, "report: " + error);
  const attest::Report& r = verified.report;

  // UVM endorsements: the guest image is a genuine, endorsed one when an endorsement from a
  // trusted issuer and feed, at or above its minimum svn, names this report's measurement.
  std::optional<std::string> compliance;
  std::string endorsement_note;
  if (!endorsements_text.empty()) {
    json endorsements = json::parse(endorsements_text, nullptr, false);
    if (!endorsements.is_object()) return error_reply(400, "Endorsements is not a JSON object");
    auto uvm = endorsements.find("Uvm");
    if (uvm != endorsements.end() && uvm->is_array()) {
      for (const auto& e : *uvm) {
        std::string cose_bytes;
        if (!e.is_string() || !b64url_decode(e.get<std::string>(), cose_bytes))
          return error_reply(400, "Endorsements.Uvm holds a non-base64url entry");
        for (const UvmIssuer& issuer : config_.uvm_issuers) {
          cose::UvmCheck check;
          check.report = report_bytes;
          check.issuer = issuer.did;
          check.feed = issuer.feed;
          check.min_svn = issuer.min_svn;
          cose::UvmEndorsement info;
          std::string why;
          if (cose::verify_uvm_endorsement(cose_bytes, check, info, why)) {
            compliance = "azure-compliant-uvm";
            break;
          }
          endorsement_note = why;
        }
        if (compliance) break;
      }
    }
  }

  const attest::Product product = verified.product;
  const attest::TcbParts tcb = attest::decode_tcb(r.reported_tcb, product);
  const int64_t now = config_.at ? *config_.at : now_seconds();
  unsigned char jti[16];
  RAND_bytes(jti, sizeof jti);
  json claims = {
      {"iss", config_.issuer},
      {"iat", now},
      {"nbf", now},
      {"exp", now + config_.token_lifetime},
      {"jti", attest::hex(std::span<const uint8_t>(jti, sizeof jti))},
      {"x-ms-ver", "1.0"},
      {"x-ms-attestation-type", "sevsnpvm"},
      {"x-ms-sevsnpvm-hostdata", hex(r.host_data)},
      {"x-ms-sevsnpvm-launchmeasurement", hex(r.measurement)},
      {"x-ms-sevsnpvm-reportdata", hex(r.report_data)},
      {"x-ms-sevsnpvm-reportid", hex(r.report_id)},
      {"x-ms-sevsnpvm-familyId", hex(r.family_id)},
      {"x-ms-sevsnpvm-imageId", hex(r.image_id)},
      {"x-ms-sevsnpvm-idkeydigest", hex(r.id_key_digest)},
      {"x-ms-sevsnpvm-authorkeydigest", hex(r.author_key_digest)},
      {"x-ms-sevsnpvm-guestsvn", r.guest_svn},
      {"x-ms-sevsnpvm-vmpl", r.vmpl},
      {"x-ms-sevsnpvm-is-debuggable", r.debug()},
      {"x-ms-sevsnpvm-migration-allowed", static_cast<bool>(r.policy >> 18 & 1)},
      {"x-ms-sevsnpvm-smt-allowed", static_cast<bool>(r.policy >> 16 & 1)},
      {"x-ms-sevsnpvm-bootloader-svn", tcb.bl},
      {"x-ms-sevsnpvm-tee-svn", tcb.tee},
      {"x-ms-sevsnpvm-snpfw-svn", tcb.snp},
      {"x-ms-sevsnpvm-microcode-svn", tcb.ucode},
  };
  if (compliance) claims["x-ms-compliance-status"] = *compliance;
  if (runtime) {
    json rt = json::parse(*runtime, nullptr, false);
    if (rt.is_discarded() || !rt.is_object()) return error_reply(400, "runtimeData is not a JSON object");
    claims["x-ms-runtime"] = rt;
  }
  auto token = kbs::SignJwt(claims, config_.signing_key, kbs::JwsAlg::kRS256,
                            json{{"jku", config_.issuer + "/certs"}, {"typ", "JWT"}});
  if (!token) return error_reply(500, "signing failed: " + token.error());
  return Reply{200, json{{"token", *token}}.dump()};
}

std::string AttestationService::jwks() const {
  kbs::Jwks set;
  kbs::Jwk pub = config_.signing_key;
  pub.key = pub.key.PublicOnly();
  pub.alg = "RS256";
  pub.use = "sig";
  set.keys.push_back(pub);
  auto s = kbs::SerializeJwks(set);
  return s ? *s : "{\"keys\":[]}";
}

std::string AttestationService::openid_configuration() const {
  return json{{"issuer", config_.issuer},
              {"jwks_uri", config_.issuer + "/certs"},
              {"id_token_signing_alg_values_supported", json::array({"RS256"})},
              {"response_types_supported", json::array({"token"})},
              {"claims_supported", json::array({"x-ms-attestation-type", "x-ms-compliance-status",
                                                "x-ms-sevsnpvm-hostdata", "x-ms-sevsnpvm-launchmeasurement",
                                                "x-ms-sevsnpvm-is-debuggable", "x-ms-runtime"})}}
      .dump();
}

bool load_or_create_signing_key(const std::string& path, kbs::Jwk& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  kbs::PKey key;
  if (f) {
    std::stringstream ss;
    ss << f.rdbuf();
    auto k = kbs::PKey::FromPem(ss.str());
    if (!k || !k->has_private()) {
      error = path + ": not a PEM private key" + (k ? "" : " (" + k.error() + ")");
      return false;
    }
    key = *k;
  } else {
    auto k = kbs::PKey::GenerateRsa(2048);
    if (!k) {
      error = "key generation failed: " + k.error();
      return false;
    }
    key = *k;
    std::unique_ptr<FILE, int (*)(FILE*)> out_file(std::fopen(path.c_str(), "wx"), std::fclose);
    if (!out_file || chmod(path.c_str(), 0600) != 0 ||
        PEM_write_PrivateKey(out_file.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      error = path + ": cannot write the signing key";
      return false;
    }
  }
  auto kid = kbs::JwkThumbprint(key);
  if (!kid) {
    error = kid.error();
    return false;
  }
  out = kbs::Jwk{};
  out.key = key;
  out.kid = *kid;
  return true;
}

}  // namespace confidant::attest_service
