// Loading policies, data and input documents from files, as `opa eval -d/-i`
// does, plus the YAML -> Value conversion shared with the conformance runner
// (header-only so the runner, which links only the engine, can use it too).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rego/error.h"
#include "rego/rego.h"
#include "rego/value.h"

namespace confidant::cli {

using rego::Value;

namespace yaml_detail {

inline bool all_of(std::string_view s, std::string_view chars) {
  return !s.empty() && s.find_first_not_of(chars) == std::string_view::npos;
}

// YAML 1.1 resolution of a plain (unquoted) scalar, as go-yaml v2 (used by
// OPA's loaders through sigs.k8s.io/yaml) does it: booleans include yes/no/on/off,
// integers may carry 0x/0o/0b prefixes or underscores, and floats follow the
// YAML float pattern. Numbers are kept exact rather than going through float64.
inline Value resolve_plain(const std::string& s) {
  static const char* kTrue[] = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static const char* kFalse[] = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) return Value::boolean(true);
  for (const char* f : kFalse)
    if (s == f) return Value::boolean(false);
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Value::null();
  char c0 = s[0];
  if (!(c0 == '-' || c0 == '+' || c0 == '.' || (c0 >= '0' && c0 <= '9'))) return Value::string(s);

  std::string t;  // without underscores and a leading '+'
  for (char c : s)
    if (c != '_') t.push_back(c);
  bool neg = false;
  std::string_view body = t;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  // Base-prefixed or leading-zero (octal) integers.
  auto based = [&](std::string_view digits, int base) -> Value {
    unsigned __int128 v = 0;
    for (char c : digits) {
      int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      v = v * base + d;
      if (v > static_cast<unsigned __int128>(INT64_MAX) + 1) return Value::string(s);
    }
    if (!neg && v > static_cast<unsigned __int128>(INT64_MAX)) return Value::string(s);
    return Value::integer(neg ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v));
  };
  if (body.size() > 2 && body[0] == '0') {
    std::string_view rest = body.substr(2);
    if (body[1] == 'x' && all_of(rest, "0123456789abcdefABCDEF")) return based(rest, 16);
    if (body[1] == 'o' && all_of(rest, "01234567")) return based(rest, 8);
    if (body[1] == 'b' && all_of(rest, "01")) return based(rest, 2);
  }
  if (body.size() > 1 && body[0] == '0' && all_of(body, "01234567")) return based(body.substr(1), 8);

  // Decimal integers and floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0, n = body.size();
  auto digits = [&] {
    size_t start = i;
    while (i < n && body[i] >= '0' && body[i] <= '9') ++i;
    return i - start;
  };
  std::string norm = neg ? "-" : "";
  size_t int_digits = digits();
  if (int_digits == 0 && (i >= n || body[i] != '.')) return Value::string(s);
  norm += int_digits ? std::string(body.substr(0, i)) : "0";
  if (i < n && body[i] == '.') {
    ++i;
    size_t start = i;
    size_t frac = digits();
    if (int_digits == 0 && frac == 0) return Value::string(s);
    if (frac) norm += "." + std::string(body.substr(start, frac));
  }
  if (i < n && (body[i] == 'e' || body[i] == 'E')) {
    size_t start = i++;
    if (i < n && (body[i] == '+' || body[i] == '-')) ++i;
    if (digits() == 0) return Value::string(s);
    norm += body.substr(start, i - start);
  }
  if (i != n) return Value::string(s);
  // Strip leading zeros of the integer part ("09" is a float 9 for go-yaml).
  size_t lead = neg ? 1 : 0;
  while (norm.size() > lead + 1 && norm[lead] == '0' && norm[lead + 1] >= '0' && norm[lead + 1] <= '9')
    norm.erase(lead, 1);
  Value v = Value::number_from_text(norm);
  return v.is_defined() ? v : Value::string(s);
}

inline Value scalar(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  // "!" marks quoted and block scalars; they are always strings.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return Value::string(n.Scalar());
  return resolve_plain(n.Scalar());
}

}  // namespace yaml_detail

// Converts a YAML node to a JSON-like Value: maps -> objects (keys are
// strings; non-string scalar keys become their JSON text, as OPA's YAML
// loader does), sequences -> arrays, scalars resolved as YAML 1.1.
inline Value yaml_to_value(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined: return Value();
    case YAML::NodeType::Null: return Value::null();
    case YAML::NodeType::Scalar: return yaml_detail::scalar(n);
    case YAML::NodeType::Sequence: {
      rego::ValueVec items;
      for (const auto& x : n) items.push_back(yaml_to_value(x));
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      rego::ObjectItems items;
      for (const auto& kv : n) {
        Value k = yaml_to_value(kv.first);
        if (!k.is_string()) k = Value::string(k.is_defined() ? rego::to_json(k) : "null");
        items.emplace_back(std::move(k), yaml_to_value(kv.second));
      }
      return Value::object(std::move(items));
    }
  }
  return Value();
}

// Reads a whole file. False with a message on failure.
bool read_file(const std::string& path, std::string& out, std::string& error);

// Parses a document: YAML for *.yaml/*.yml, JSON for *.json, otherwise JSON
// with a YAML fallback (YAML is a superset of JSON; OPA's loader does the same).
bool parse_document(const std::string& path, const std::string& text, Value& out, std::string& error);

// Loads `-d` arguments like opa: *.rego files become modules (named by their
// path as given, or root/relative for files found in directories), *.json,
// *.yaml and *.yml files are merged into data at the path of their directory
// relative to the `-d` root (a file named directly merges at the root).
bool load_paths(rego::Engine& engine, const std::vector<std::string>& paths, rego::Errors& errors);

}  // namespace confidant::cli
