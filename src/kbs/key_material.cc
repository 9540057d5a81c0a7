#include "kbs/key_material.h"

#include "kbs/encoding.h"
#include "kbs/jwt.h"

namespace confidant::kbs {

using json = nlohmann::json;

const char* KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kRsa: return "RSA-HSM";
    case KeyKind::kEc: return "EC-HSM";
    case KeyKind::kOct: return "oct-HSM";
  }
  return "";
}

std::vector<std::string> DefaultKeyOps(KeyKind kind) {
  switch (kind) {
    case KeyKind::kRsa: return {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"};
    case KeyKind::kEc: return {"sign", "verify"};
    case KeyKind::kOct: return {"encrypt", "decrypt", "wrapKey", "unwrapKey"};
  }
  return {};
}

Result<KeySpec> ParseKeySpec(const json& body) {
  if (!body.is_object()) return Err("key specification is not a JSON object");
  const std::string* kty = GetString(body, "kty");
  if (kty == nullptr) return Err("missing \"kty\" (RSA, EC or oct)");
  KeySpec spec;
  if (*kty == "RSA" || *kty == "RSA-HSM") {
    spec.kind = KeyKind::kRsa;
  } else if (*kty == "EC" || *kty == "EC-HSM") {
    spec.kind = KeyKind::kEc;
  } else if (*kty == "oct" || *kty == "oct-HSM") {
    spec.kind = KeyKind::kOct;
  } else {
    return Err("unsupported kty \"" + *kty + "\" (RSA, EC or oct)");
  }
  const json* size = GetMember(body, "key_size");
  if (size != nullptr && !size->is_number_integer()) return Err("\"key_size\" is not an integer");
  int bits = size != nullptr && size->get<int64_t>() > 0 && size->get<int64_t>() < 100000
                 ? static_cast<int>(size->get<int64_t>())
                 : (size != nullptr ? -1 : 0);
  if (bits < 0) return Err("\"key_size\" is out of range");
  const std::string* crv = GetString(body, "crv");
  if (crv == nullptr) crv = GetString(body, "curve");
  switch (spec.kind) {
    case KeyKind::kRsa:
      spec.size_bits = bits ? bits : 2048;
      if (spec.size_bits != 2048 && spec.size_bits != 3072 && spec.size_bits != 4096) {
        return Err("RSA \"key_size\" must be 2048, 3072 or 4096");
      }
      if (crv != nullptr) return Err("\"crv\" is only for EC keys");
      break;
    case KeyKind::kEc:
      spec.curve = crv ? ParseCurve(*crv) : Curve::kP256;
      if (spec.curve == Curve::kNone) return Err("EC curve must be P-256 or P-384");
      spec.size_bits = spec.curve == Curve::kP256 ? 256 : 384;
      if (bits && bits != spec.size_bits) return Err("\"key_size\" does not match the curve");
      break;
    case KeyKind::kOct:
      spec.size_bits = bits ? bits : 256;
      if (spec.size_bits != 128 && spec.size_bits != 192 && spec.size_bits != 256) {
        return Err("oct \"key_size\" must be 128, 192 or 256");
      }
      if (crv != nullptr) return Err("\"crv\" is only for EC keys");
      break;
  }
  if (const json* e = GetMember(body, "exportable")) {
    if (!e->is_boolean()) return Err("\"exportable\" is not a boolean");
    spec.exportable = e->get<bool>();
  }
  return spec;
}

Result<KeyMaterial> GenerateKey(const KeySpec& spec) {
  KeyMaterial m{spec, {}};
  if (spec.kind == KeyKind::kOct) {
    auto bytes = RandomBytes(static_cast<size_t>(spec.size_bits / 8));
    if (!bytes) return bytes.take_error();
    m.secret = std::move(*bytes);
    return m;
  }
  auto key = spec.kind == KeyKind::kRsa ? PKey::GenerateRsa(spec.size_bits) : PKey::GenerateEc(spec.curve);
  if (!key) return key.take_error();
  auto der = key->Pkcs8Der();
  if (!der) return der.take_error();
  m.secret = std::move(*der);
  return m;
}

Result<json> PublicJwkFor(const KeyMaterial& material) {
  if (material.spec.kind == KeyKind::kOct) {
    return json{{"kty", KeyKindName(KeyKind::kOct)}, {"key_ops", DefaultKeyOps(KeyKind::kOct)}};
  }
  auto key = PKey::FromPkcs8Der(material.secret);
  if (!key) return key.take_error();
  Jwk jwk;
  jwk.key = *key;
  jwk.key_ops = DefaultKeyOps(material.spec.kind);
  auto j = JwkToJson(jwk, false);
  if (!j) return j.take_error();
  (*j)["kty"] = KeyKindName(material.spec.kind);
  return j;
}

}  // namespace confidant::kbs
