#include "cose/uvm_endorsement.h"

#include <nlohmann/json.hpp>

#include "cose/cose_sign1.h"
#include "cose/didx509.h"

namespace confidant::cose {

namespace {

bool parse_decimal(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

bool legacy_payload(std::string_view payload, UvmEndorsement& out, std::string& error) {
  auto j = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    error = "UVM endorsement payload is not a JSON object";
    return false;
  }
  auto m = j.find("x-ms-sevsnpvm-launchmeasurement");
  if (m == j.end() || !m->is_string()) {
    error = "UVM endorsement payload has no x-ms-sevsnpvm-launchmeasurement string";
    return false;
  }
  std::string hex = m->get<std::string>();
  if (hex.size() != 2 * kSnpMeasurementSize || !from_hex(hex, out.measurement)) {
    error = "UVM endorsement launch measurement is not 96 hex digits";
    return false;
  }
  auto s = j.find("x-ms-sevsnpvm-guestsvn");
  if (s == j.end()) {
    error = "UVM endorsement payload has no x-ms-sevsnpvm-guestsvn";
    return false;
  }
  // A decimal string in the published endorsements; a JSON integer is read too.
  if (s->is_string()) {
    if (!parse_decimal(s->get<std::string>(), out.svn)) {
      error = "UVM endorsement guestsvn \"" + s->get<std::string>() + "\" is not a decimal number";
      return false;
    }
  } else if (s->is_number_unsigned()) {
    out.svn = s->get<uint64_t>();
  } else {
    error = "UVM endorsement guestsvn is neither a decimal string nor a non-negative integer";
    return false;
  }
  return true;
}

}  // namespace

bool snp_report_measurement(std::string_view report, std::string& measurement, std::string& error) {
  if (report.size() < kSnpReportMinSize) {
    error = "SNP report is " + std::to_string(report.size()) + " bytes, expected at least " +
            std::to_string(kSnpReportMinSize);
    return false;
  }
  measurement = report.substr(kSnpMeasurementOffset, kSnpMeasurementSize);
  return true;
}

bool verify_uvm_endorsement(std::string_view cose, const UvmCheck& check, UvmEndorsement& out, std::string& error) {
  out = UvmEndorsement();
  VerifyOptions vo;
  vo.at = check.at;
  vo.check_validity = check.check_validity;
  VerifiedCose v;
  if (!verify_cose_x5chain(cose, vo, v, error)) return false;
  const CoseHeaders& h = v.msg.headers;
  auto alg = alg_from_id(h.alg);
  if (!alg || *alg == Alg::kEdDSA) {
    error = "UVM endorsement algorithm " + std::to_string(h.alg) + " is not RSA-PSS or ECDSA";
    return false;
  }
  out.issuer = h.issuer();
  out.feed = h.feed_name();
  out.signed_at = h.signed_at();
  out.checked_at = v.checked_at;
  if (out.issuer.empty() || out.feed.empty()) {
    error = "UVM endorsement has no issuer or no feed";
    return false;
  }
  std::string doc;
  if (!resolve_did_x509(out.issuer, v.chain, doc, error)) {
    error = "UVM endorsement issuer does not resolve against x5chain: " + error;
    return false;
  }
  if (!v.msg.payload) {
    error = "UVM endorsement payload is detached";
    return false;
  }
  if (h.cwt || h.payload_hash_alg) {
    out.format = "hash-envelope";
    if (v.msg.payload->size() != kSnpMeasurementSize) {
      error = "UVM endorsement payload is " + std::to_string(v.msg.payload->size()) + " bytes, expected the " +
              std::to_string(kSnpMeasurementSize) + "-byte measurement";
      return false;
    }
    out.measurement = *v.msg.payload;
    const CborValue* svn = h.cwt && h.cwt->svn ? &*h.cwt->svn : nullptr;
    if (!svn || svn->type() != CborType::kUnsigned) {
      error = "UVM endorsement CWT claims have no non-negative integer svn";
      return false;
    }
    out.svn = svn->arg();
  } else {
    out.format = "legacy";
    if (h.content_type != "application/json") {
      error = "UVM endorsement content type is not application/json";
      return false;
    }
    if (!legacy_payload(*v.msg.payload, out, error)) return false;
  }
  if (check.issuer && out.issuer != *check.issuer) {
    error = "UVM endorsement issuer " + out.issuer + " is not the required " + *check.issuer;
    return false;
  }
  if (check.feed && out.feed != *check.feed) {
    error = "UVM endorsement feed " + out.feed + " is not the required " + *check.feed;
    return false;
  }
  if (check.min_svn && out.svn < *check.min_svn) {
    error =
        "UVM endorsement svn " + std::to_string(out.svn) + " is below the minimum " + std::to_string(*check.min_svn);
    return false;
  }
  if (check.report) {
    std::string m;
    if (!snp_report_measurement(*check.report, m, error)) return false;
    if (m != out.measurement) {
      error = "UVM endorsement measurement " + to_hex(out.measurement) + " differs from the report's " + to_hex(m);
      return false;
    }
  }
  return true;
}

}  // namespace confidant::cose
