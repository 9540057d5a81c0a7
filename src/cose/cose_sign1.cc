#include "cose/cose_sign1.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "cose/x509_chain.h"

namespace confidant::cose {

std::string CoseHeaders::issuer() const {
  if (cwt) return cwt->iss.value_or("");
  return iss.value_or("");
}

std::string CoseHeaders::feed_name() const {
  if (cwt) return cwt->sub.value_or("");
  return feed.value_or("");
}

std::optional<int64_t> CoseHeaders::signed_at() const {
  if (cwt && cwt->iat) return cwt->iat;
  return signing_time;
}

namespace {

// Epoch seconds, plain or as tag 1 (integer only: fractional times are not
// used by the signers we read).
bool epoch(const CborValue& v, int64_t& out) {
  const CborValue* x = &v;
  if (x->is_tag()) {
    if (x->arg() != 1) return false;
    x = &x->content();
  }
  auto i = x->as_int64();
  if (!i) return false;
  out = *i;
  return true;
}

bool header_text(const CborValue& v, const char* name, std::optional<std::string>& out, std::string& error) {
  if (!v.is_text()) {
    error = std::string("COSE header ") + name + " is not a text string";
    return false;
  }
  out = v.str();
  return true;
}

bool parse_cwt(const CborValue& m, CwtClaims& out, std::string& error) {
  if (!m.is_map()) {
    error = "COSE header CWT claims (15) is not a map";
    return false;
  }
  for (const auto& [k, v] : m.entries()) {
    auto label = k.as_int64();
    if (label == 1) {
      if (!header_text(v, "CWT iss", out.iss, error)) return false;
    } else if (label == 2) {
      if (!header_text(v, "CWT sub", out.sub, error)) return false;
    } else if (label == 6) {
      int64_t t;
      if (!epoch(v, t)) {
        error = "COSE header CWT iat is not an epoch time";
        return false;
      }
      out.iat = t;
    } else if (k.is_text() && k.str() == "svn") {
      out.svn = v;
    }
  }
  return true;
}

bool parse_headers(const CborValue& p, CoseHeaders& h, std::string& error) {
  bool have_alg = false;
  for (const auto& [k, v] : p.entries()) {
    if (k.is_text()) {
      const std::string& name = k.str();
      if (name == "iss") {
        if (!header_text(v, "iss", h.iss, error)) return false;
      } else if (name == "feed") {
        if (!header_text(v, "feed", h.feed, error)) return false;
      } else if (name == "signingtime") {
        int64_t t;
        if (!epoch(v, t)) {
          error = "COSE header signingtime is not an epoch time";
          return false;
        }
        h.signing_time = t;
      }
      continue;
    }
    auto label = k.as_int64();
    if (!label) {
      error = "COSE header label is neither an integer nor a text string";
      return false;
    }
    switch (*label) {
      case kHeaderAlg: {
        auto a = v.as_int64();
        if (!a) {
          error = "COSE header alg is not an integer";
          return false;
        }
        h.alg = *a;
        have_alg = true;
        break;
      }
      case kHeaderContentType:
        if (v.is_text()) {
          h.content_type = v.str();
        } else if (v.type() == CborType::kUnsigned && v.arg() <= 65535) {
          h.content_type = std::to_string(v.arg());
        } else {
          error = "COSE header content type is neither text nor a CoAP content format";
          return false;
        }
        break;
      case kHeaderKid:
        if (!v.is_bytes()) {
          error = "COSE header kid is not a byte string";
          return false;
        }
        h.kid = v.str();
        break;
      case kHeaderCwtClaims: {
        CwtClaims c;
        if (!parse_cwt(v, c, error)) return false;
        h.cwt = std::move(c);
        break;
      }
      case kHeaderX5Chain:
        if (v.is_bytes()) {
          h.x5chain.push_back(v.str());
        } else if (v.is_array() && !v.items().empty()) {
          for (const auto& c : v.items()) {
            if (!c.is_bytes()) {
              error = "COSE header x5chain holds a non-bytes element";
              return false;
            }
            h.x5chain.push_back(c.str());
          }
        } else {
          error = "COSE header x5chain is neither a byte string nor a non-empty array";
          return false;
        }
        break;
      case kHeaderX5t: {
        if (!v.is_array() || v.items().size() != 2 || !v.items()[1].is_bytes()) {
          error = "COSE header x5t is not [alg, hash]";
          return false;
        }
        auto a = v.items()[0].as_int64();
        if (!a) {
          error = "COSE header x5t algorithm is not an integer";
          return false;
        }
        h.x5t_alg = *a;
        h.x5t_hash = v.items()[1].str();
        break;
      }
      case kHeaderPayloadHashAlg: {
        auto a = v.as_int64();
        if (!a) {
          error = "COSE header payload hash algorithm (258) is not an integer";
          return false;
        }
        h.payload_hash_alg = *a;
        break;
      }
      case kHeaderPreimageContentType:
        if (!v.is_text()) {
          error = "COSE header preimage content type (259) is not text";
          return false;
        }
        h.preimage_content_type = v.str();
        break;
      case kHeaderPayloadLocation:
        if (!v.is_text()) {
          error = "COSE header payload location (260) is not text";
          return false;
        }
        h.payload_location = v.str();
        break;
      case kHeaderCrit: {
        // We process every label we interpret; anything else marked critical
        // must make the message unacceptable (RFC 9052 3.1).
        if (!v.is_array() || v.items().empty()) {
          error = "COSE header crit is not a non-empty array";
          return false;
        }
        for (const auto& c : v.items()) {
          auto l = c.as_int64();
          bool known = (c.is_text() && (c.str() == "iss" || c.str() == "feed" || c.str() == "signingtime")) ||
                       (l && (*l == kHeaderAlg || *l == kHeaderContentType || *l == kHeaderKid ||
                              *l == kHeaderCwtClaims || *l == kHeaderX5Chain || *l == kHeaderX5t ||
                              *l == kHeaderPayloadHashAlg || *l == kHeaderPreimageContentType));
          if (!known) {
            error = "COSE header crit lists a label this verifier does not process: " + cbor_diagnostic(c);
            return false;
          }
          if (!p.find(c)) {
            error = "COSE header crit lists a label that is absent: " + cbor_diagnostic(c);
            return false;
          }
        }
        break;
      }
      default: break;
    }
  }
  if (!have_alg) {
    error = "COSE protected header has no alg";
    return false;
  }
  return true;
}

}  // namespace

bool decode_cose_sign1(std::string_view bytes, CoseSign1& out, std::string& error, const CoseLimits& limits) {
  if (bytes.size() > limits.max_message) {
    error = "COSE message of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
            std::to_string(limits.max_message);
    return false;
  }
  CborValue top;
  if (!cbor_decode(bytes, top, error, limits.cbor)) return false;
  out = CoseSign1();
  const CborValue* arr = &top;
  if (top.is_tag()) {
    if (top.arg() != 18) {
      error = "COSE: tag " + std::to_string(top.arg()) + " is not COSE_Sign1 (18)";
      return false;
    }
    out.tagged = true;
    arr = &top.content();
  }
  if (!arr->is_array() || arr->items().size() != 4) {
    error = "COSE_Sign1 is not an array of four elements";
    return false;
  }
  const auto& it = arr->items();
  if (!it[0].is_bytes()) {
    error = "COSE_Sign1 protected header is not a byte string";
    return false;
  }
  if (!it[1].is_map()) {
    error = "COSE_Sign1 unprotected header is not a map";
    return false;
  }
  if (!it[2].is_bytes() && !it[2].is_null()) {
    error = "COSE_Sign1 payload is neither a byte string nor nil";
    return false;
  }
  if (!it[3].is_bytes()) {
    error = "COSE_Sign1 signature is not a byte string";
    return false;
  }
  out.protected_bytes = it[0].str();
  if (out.protected_bytes.empty()) {
    out.protected_map = CborValue::map({});
  } else {
    std::string e;
    if (!cbor_decode(out.protected_bytes, out.protected_map, e, limits.cbor)) {
      error = "COSE_Sign1 protected header: " + e;
      return false;
    }
    if (!out.protected_map.is_map()) {
      error = "COSE_Sign1 protected header is not a map";
      return false;
    }
  }
  out.unprotected = it[1];
  for (const auto& kv : out.unprotected.entries()) {
    if (out.protected_map.find(kv.first)) {
      error = "COSE header label " + cbor_diagnostic(kv.first) + " is both protected and unprotected";
      return false;
    }
  }
  if (it[2].is_bytes()) out.payload = it[2].str();
  out.signature = it[3].str();
  if (!parse_headers(out.protected_map, out.headers, error)) return false;
  return true;
}

std::string sig_structure(std::string_view protected_bytes, std::string_view external_aad, std::string_view payload) {
  std::string out;
  cbor_append_head(out, 4, 4);
  const std::string_view ctx = "Signature1";
  cbor_append_head(out, 3, ctx.size());
  out += ctx;
  cbor_append_head(out, 2, protected_bytes.size());
  out += protected_bytes;
  cbor_append_head(out, 2, external_aad.size());
  out += external_aad;
  cbor_append_head(out, 2, payload.size());
  out += payload;
  return out;
}

bool verify_signature(const CoseSign1& msg, EVP_PKEY* key, std::string& error, std::string_view external_aad,
                      std::optional<std::string_view> detached_payload) {
  auto alg = alg_from_id(msg.headers.alg);
  if (!alg) {
    error = "unsupported COSE algorithm " + std::to_string(msg.headers.alg);
    return false;
  }
  std::string_view payload;
  if (msg.payload) {
    if (detached_payload) {
      error = "a detached payload was given but the message carries one";
      return false;
    }
    payload = *msg.payload;
  } else if (detached_payload) {
    payload = *detached_payload;
  } else {
    error = "the payload is detached and was not supplied";
    return false;
  }
  std::string e;
  if (!cose_verify(*alg, key, sig_structure(msg.protected_bytes, external_aad, payload), msg.signature, e)) {
    error = "COSE signature: " + e;
    return false;
  }
  return true;
}

bool verify_cose_x5chain(std::string_view bytes, const VerifyOptions& options, VerifiedCose& out, std::string& error) {
  out = VerifiedCose();
  if (!decode_cose_sign1(bytes, out.msg, error)) return false;
  const CoseHeaders& h = out.msg.headers;
  if (h.x5chain.empty()) {
    error = "COSE protected header has no x5chain";
    return false;
  }
  if (!parse_chain_der(h.x5chain, out.chain, error)) {
    error = "x5chain " + error;
    return false;
  }
  if (h.x5t_hash) {
    // x5t must name the leaf; only the hashes we can compute are checked.
    std::string d = h.x5t_alg == -16   ? sha256(h.x5chain[0])
                    : h.x5t_alg == -43 ? sha384(h.x5chain[0])
                    : h.x5t_alg == -44 ? sha512(h.x5chain[0])
                                       : std::string();
    if (!d.empty() && d != *h.x5t_hash) {
      error = "x5t does not match the x5chain leaf";
      return false;
    }
  }
  // The signature is checked before the chain: it is the cheaper test, so a document forged
  // or damaged anywhere in its signed bytes is refused without building a certificate path.
  EVP_PKEY* leaf_key = X509_get0_pubkey(out.chain[0].get());
  if (!leaf_key) {
    error = "cannot read the x5chain leaf public key";
    return false;
  }
  if (!verify_signature(out.msg, leaf_key, error, options.external_aad, options.detached_payload)) return false;
  ChainOptions chain_options;
  if (options.check_validity) {
    chain_options.at = options.at ? options.at : h.signed_at();
    if (!chain_options.at) chain_options.at = static_cast<int64_t>(std::time(nullptr));
    out.checked_at = chain_options.at;
  }
  std::string e;
  if (!verify_chain(out.chain, chain_options, e)) {
    error = "x5chain does not verify" + (out.checked_at ? " at " + format_rfc3339(*out.checked_at) : std::string()) +
            ": " + e;
    return false;
  }
  return true;
}

bool sign_cose_sign1(const SignRequest& r, EVP_PKEY* key, std::string& out, std::string& error) {
  CborMap prot;
  prot.emplace_back(CborValue::integer(kHeaderAlg), CborValue::integer(static_cast<int64_t>(r.alg)));
  if (r.content_type) prot.emplace_back(CborValue::integer(kHeaderContentType), CborValue::text(*r.content_type));
  if (r.x5chain.size() == 1) {
    prot.emplace_back(CborValue::integer(kHeaderX5Chain), CborValue::bytes(r.x5chain[0]));
  } else if (!r.x5chain.empty()) {
    CborArray certs;
    for (const auto& c : r.x5chain) certs.push_back(CborValue::bytes(c));
    prot.emplace_back(CborValue::integer(kHeaderX5Chain), CborValue::array(std::move(certs)));
  }
  for (const auto& kv : r.extra_protected) {
    for (const auto& existing : prot)
      if (existing.first == kv.first) {
        error = "protected header label " + cbor_diagnostic(kv.first) + " given twice";
        return false;
      }
    prot.push_back(kv);
  }
  std::string prot_bytes = cbor_encode(CborValue::map(prot));
  std::string sig;
  if (!cose_sign(r.alg, key, sig_structure(prot_bytes, r.external_aad, r.payload), sig, error)) return false;
  CborArray msg;
  msg.push_back(CborValue::bytes(prot_bytes));
  msg.push_back(CborValue::map(r.unprotected));
  msg.push_back(r.detached ? CborValue::null() : CborValue::bytes(r.payload));
  msg.push_back(CborValue::bytes(sig));
  CborValue top = CborValue::array(std::move(msg));
  out = cbor_encode(r.tagged ? CborValue::tag(18, std::move(top)) : top);
  return true;
}

namespace {

nlohmann::json to_json(const CborValue& v) {
  switch (v.type()) {
    case CborType::kUnsigned: return v.arg();
    case CborType::kNegative:
      if (auto i = v.as_int64()) return *i;
      return cbor_diagnostic(v);
    case CborType::kBytes: return to_hex(v.str());
    case CborType::kText: return v.str();
    case CborType::kArray: {
      auto a = nlohmann::json::array();
      for (const auto& x : v.items()) a.push_back(to_json(x));
      return a;
    }
    case CborType::kMap: {
      auto o = nlohmann::json::object();
      for (const auto& [k, x] : v.entries()) o[k.is_text() ? k.str() : cbor_diagnostic(k)] = to_json(x);
      return o;
    }
    case CborType::kTag: return to_json(v.content());
    case CborType::kSimple:
      if (v.is_bool()) return v.as_bool();
      return nullptr;
    case CborType::kFloat: return v.as_double();
  }
  return nullptr;
}

nlohmann::json cert_summary(const std::string& der) {
  nlohmann::json j;
  Cert c;
  std::string e;
  if (parse_cert_der(der, c, e))
    j["subject"] = subject_line(c.get());
  else
    j["error"] = e;
  j["sha256"] = to_hex(sha256(der));
  j["size"] = der.size();
  return j;
}

}  // namespace

std::string protected_headers_json(const CoseSign1& msg, int indent) {
  nlohmann::ordered_json j;
  const CoseHeaders& h = msg.headers;
  for (const auto& [k, v] : msg.protected_map.entries()) {
    auto label = k.as_int64();
    if (k.is_text()) {
      if (k.str() == "signingtime" && h.signing_time)
        j["signingtime"] = format_rfc3339(*h.signing_time);
      else
        j[k.str()] = to_json(v);
    } else if (label == kHeaderAlg) {
      auto a = alg_from_id(h.alg);
      j["alg"] = a ? nlohmann::json(alg_name(*a)) : nlohmann::json(h.alg);
    } else if (label == kHeaderContentType) {
      j["cty"] = h.content_type.value_or("");
    } else if (label == kHeaderKid) {
      j["kid"] = to_hex(h.kid.value_or(""));
    } else if (label == kHeaderX5Chain) {
      auto a = nlohmann::json::array();
      for (const auto& c : h.x5chain) a.push_back(cert_summary(c));
      j["x5chain"] = a;
    } else if (label == kHeaderX5t) {
      j["x5t"] = {h.x5t_alg.value_or(0), to_hex(h.x5t_hash.value_or(""))};
    } else if (label == kHeaderCwtClaims && h.cwt) {
      nlohmann::ordered_json c;
      for (const auto& [ck, cv] : v.entries()) {
        auto cl = ck.as_int64();
        if (cl == 1)
          c["iss"] = h.cwt->iss.value_or("");
        else if (cl == 2)
          c["sub"] = h.cwt->sub.value_or("");
        else if (cl == 6 && h.cwt->iat)
          c["iat"] = format_rfc3339(*h.cwt->iat);
        else
          c[ck.is_text() ? ck.str() : cbor_diagnostic(ck)] = to_json(cv);
      }
      j["cwt_claims"] = c;
    } else if (label == kHeaderPayloadHashAlg) {
      j["payload_hash_alg"] = h.payload_hash_alg.value_or(0);
    } else if (label == kHeaderPreimageContentType) {
      j["preimage_content_type"] = h.preimage_content_type.value_or("");
    } else {
      j[cbor_diagnostic(k)] = to_json(v);
    }
  }
  // Certificate subjects are attacker-controlled bytes: never let invalid
  // UTF-8 turn into an exception.
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace confidant::cose
