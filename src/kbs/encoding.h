// Strict base64 / base64url codecs and bounded JSON parsing shared by the KBS code.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "kbs/result.h"

namespace confidant::kbs {

// RFC 4648 section 5 without padding (as JWS uses it).
std::string Base64UrlEncode(std::string_view data);
// Strict: only the URL-safe alphabet, no padding, no whitespace, no length of
// the form 4k+1, and unused trailing bits must be zero (so each value has
// exactly one encoding).
Result<std::string> Base64UrlDecode(std::string_view text);
// Standard alphabet with padding (x5c certificates, the SKR sidecar).
std::string Base64Encode(std::string_view data);
// Strict: standard alphabet, padding required to a multiple of four.
Result<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view data);

struct JsonLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 32;
};

// Parses attacker-controlled JSON: size and nesting depth are checked before
// the parser sees the text; never throws.
Result<nlohmann::json> ParseJson(std::string_view text, const JsonLimits& limits = {});
// Serialises without throwing (invalid UTF-8 in strings is replaced).
std::string DumpJson(const nlohmann::json& j);

// Field accessors that do not throw on absent or mistyped members.
const std::string* GetString(const nlohmann::json& obj, std::string_view key);
const nlohmann::json* GetMember(const nlohmann::json& obj, std::string_view key);

// Constant-time comparison for secrets (admin tokens).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace confidant::kbs
