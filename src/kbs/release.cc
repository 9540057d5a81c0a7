#include "kbs/release.h"

#include "kbs/encoding.h"

namespace confidant::kbs {

using json = nlohmann::json;

Result<Jwk> SelectRuntimeKey(const json& claims, std::string_view kid) {
  try {
    const json* runtime = GetMember(claims, "x-ms-runtime");
    if (runtime == nullptr || !runtime->is_object()) return Err("token has no \"x-ms-runtime\" claim object");
    const json* keys = GetMember(*runtime, "keys");
    if (keys == nullptr || !keys->is_array() || keys->empty()) {
      return Err("token has no runtime keys (\"x-ms-runtime\".\"keys\")");
    }
    if (keys->size() > 16) return Err("token has more than 16 runtime keys");
    std::string last_error;
    for (size_t i = 0; i < keys->size(); ++i) {
      const json& k = (*keys)[i];
      const std::string* k_kid = GetString(k, "kid");
      if (!kid.empty()) {
        if (k_kid == nullptr || *k_kid != kid) continue;
      }
      const std::string* kty = GetString(k, "kty");
      if (kty == nullptr || *kty != "RSA") {
        last_error = "runtime key " + std::to_string(i) + " is not an RSA key";
        if (!kid.empty()) return Err(last_error);
        continue;
      }
      auto jwk = ParseJwk(k);
      if (!jwk) {
        last_error = "runtime key " + std::to_string(i) + ": " + jwk.error();
        if (!kid.empty()) return Err(last_error);
        continue;
      }
      if (!jwk->HasKeyOp("encrypt") && !jwk->HasKeyOp("wrapKey")) {
        last_error = "runtime key " + std::to_string(i) + " does not allow \"encrypt\" or \"wrapKey\"";
        if (!kid.empty()) return Err(last_error);
        continue;
      }
      jwk->key = jwk->key.PublicOnly();
      return jwk;
    }
    if (!kid.empty()) return Err("token has no runtime key with kid \"" + std::string(kid) + "\"");
    return Err("no usable runtime key in the token: " + last_error);
  } catch (const std::exception& e) {
    return Err(std::string("runtime key: ") + e.what());
  }
}

Result<std::string> BuildReleaseJws(const ReleasedKey& key, const Jwk& runtime_key, const Jwk& signer) {
  try {
    auto wrapped = RsaAesWrap(runtime_key.key, key.material.secret, key.enc);
    if (!wrapped) return wrapped.take_error();
    json key_hsm = {{"schema_version", "1.0"},
                    {"header", {{"kid", runtime_key.kid}, {"alg", "dir"}, {"enc", WrapAlgName(key.enc)}}},
                    {"ciphertext", Base64UrlEncode(*wrapped)}};
    json payload = {{"request", {{"api-version", "7.4"}, {"enc", WrapAlgName(key.enc)}, {"kid", key.key_id}}},
                    {"response",
                     {{"key",
                       {{"attributes",
                         {{"enabled", true},
                          {"exportable", key.material.spec.exportable},
                          {"created", key.created},
                          {"updated", key.created},
                          {"recoveryLevel", "Purgeable"}}},
                        {"key",
                         {{"kid", key.key_id},
                          {"kty", KeyKindName(key.material.spec.kind)},
                          {"key_ops", DefaultKeyOps(key.material.spec.kind)},
                          {"key_hsm", Base64UrlEncode(DumpJson(key_hsm))}}},
                        {"release_policy",
                         {{"contentType", "application/json; charset=utf-8"},
                          {"data", Base64UrlEncode(key.release_policy_json)},
                          {"immutable", false}}}}}}}};
    json header = json::object();
    if (!signer.x5c.empty()) {
      header["x5c"] = signer.x5c;
      auto der = Base64Decode(signer.x5c[0]);
      if (der) header["x5t#S256"] = Base64UrlEncode(Sha256(*der));
    }
    return SignJws(DumpJson(payload), signer, DefaultAlgFor(signer.key), header);
  } catch (const std::exception& e) {
    return Err(std::string("release response: ") + e.what());
  }
}

Result<UnwrappedKey> UnwrapReleaseResponse(std::string_view response, const PKey& runtime_private,
                                           const Jwks* trusted_signers) {
  try {
    std::string jws(response);
    if (!response.empty() && response.front() == '{') {
      auto body = ParseJson(response, JsonLimits{1 << 20, 8});
      if (!body) return Err("release response: " + body.error());
      const std::string* value = GetString(*body, "value");
      if (value == nullptr) return Err("release response has no \"value\"");
      jws = *value;
    }
    JwsVerifyOptions vopt;
    vopt.max_bytes = 1 << 20;
    Jwks self_signed;
    if (trusted_signers == nullptr) {
      auto peek = PeekJws(jws, vopt);
      if (!peek) return peek.take_error();
      const json* x5c = GetMember(peek->header, "x5c");
      if (x5c == nullptr) return Err("release response JWS has no x5c and no trusted signer was given");
      json jwk_json = {{"x5c", *x5c}};
      auto leaf_der = x5c->is_array() && !x5c->empty() && (*x5c)[0].is_string()
                          ? Base64Decode((*x5c)[0].get<std::string>())
                          : Result<std::string>(Err("x5c is not an array of strings"));
      if (!leaf_der) return Err("release response x5c: " + leaf_der.error());
      auto leaf_key = PKey::FromCertificateDer(*leaf_der);
      if (!leaf_key) return Err("release response x5c: " + leaf_key.error());
      jwk_json["kty"] = leaf_key->type() == KeyType::kRsa ? "RSA" : "EC";
      if (const std::string* kid = GetString(peek->header, "kid")) jwk_json["kid"] = *kid;
      auto jwk = ParseJwk(jwk_json);
      if (!jwk) return jwk.take_error();
      self_signed.keys.push_back(std::move(*jwk));
      trusted_signers = &self_signed;
    }
    auto verified = VerifyJws(jws, *trusted_signers, vopt);
    if (!verified) return Err("release response: " + verified.error());
    auto payload = ParseJson(verified->payload, JsonLimits{1 << 20, 16});
    if (!payload) return Err("release response payload: " + payload.error());
    const json* resp = GetMember(*payload, "response");
    const json* key_obj = resp ? GetMember(*resp, "key") : nullptr;
    const json* inner = key_obj ? GetMember(*key_obj, "key") : nullptr;
    if (inner == nullptr) return Err("release response payload has no response.key.key");
    const std::string* key_hsm = GetString(*inner, "key_hsm");
    const std::string* kty = GetString(*inner, "kty");
    if (key_hsm == nullptr || kty == nullptr) return Err("release response key has no key_hsm or kty");
    auto hsm_bytes = Base64UrlDecode(*key_hsm);
    if (!hsm_bytes) return Err("key_hsm: " + hsm_bytes.error());
    auto hsm = ParseJson(*hsm_bytes, JsonLimits{1 << 20, 8});
    if (!hsm) return Err("key_hsm: " + hsm.error());
    const std::string* ct = GetString(*hsm, "ciphertext");
    if (ct == nullptr) return Err("key_hsm has no ciphertext");
    WrapAlg enc = WrapAlg::kRsaAesKeyWrap;
    const json* header = GetMember(*hsm, "header");
    if (header != nullptr) {
      if (const std::string* e = GetString(*header, "enc")) {
        auto parsed = ParseWrapAlg(*e);
        if (!parsed) return Err("key_hsm: unsupported enc \"" + *e + "\"");
        enc = *parsed;
      }
    }
    auto ciphertext = Base64UrlDecode(*ct);
    if (!ciphertext) return Err("key_hsm ciphertext: " + ciphertext.error());
    auto material = RsaAesUnwrap(runtime_private, *ciphertext, enc);
    if (!material) return material.take_error();

    UnwrappedKey out;
    out.material = std::move(*material);
    if (const std::string* kid = GetString(*inner, "kid")) out.kid = *kid;
    if (const json* ops = GetMember(*inner, "key_ops"); ops && ops->is_array()) {
      for (const auto& o : *ops) {
        if (o.is_string()) out.key_ops.push_back(o.get<std::string>());
      }
    }
    if (*kty == "oct" || *kty == "oct-HSM") {
      out.kind = KeyKind::kOct;
      out.jwk = {{"kty", "oct"}, {"k", Base64UrlEncode(out.material)}};
    } else if (*kty == "RSA" || *kty == "RSA-HSM" || *kty == "EC" || *kty == "EC-HSM") {
      auto pk = PKey::FromPkcs8Der(out.material);
      if (!pk) return Err("released key: " + pk.error());
      out.kind = pk->type() == KeyType::kRsa ? KeyKind::kRsa : KeyKind::kEc;
      if ((out.kind == KeyKind::kRsa) != (kty->rfind("RSA", 0) == 0)) return Err("released key does not match its kty");
      Jwk jwk;
      jwk.key = *pk;
      auto j = JwkToJson(jwk, true);
      if (!j) return j.take_error();
      out.jwk = std::move(*j);
    } else {
      return Err("released key has unsupported kty \"" + *kty + "\"");
    }
    if (!out.kid.empty()) out.jwk["kid"] = out.kid;
    if (!out.key_ops.empty()) out.jwk["key_ops"] = out.key_ops;
    return out;
  } catch (const std::exception& e) {
    return Err(std::string("release response: ") + e.what());
  }
}

}  // namespace confidant::kbs
