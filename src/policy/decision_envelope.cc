#include "policy/decision_envelope.h"

#include "policy/digest.h"
#include "policy/guest_data.h"

namespace confidant::policy {

using rego::Value;

namespace {

constexpr const char* kPrefix = "policyDecision< ";
constexpr const char* kSuffix = " >policyDecision";
constexpr int kMaxDepth = 2000;  // deeper values are cut (inputs are validated far below this)

// Go's encoding/json string escaping: HTML-significant characters and the
// JavaScript line separators as \u escapes, invalid UTF-8 as U+FFFD.
void append_go_string(std::string& out, const std::string& s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; anything malformed becomes U+FFFD.
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if (ok) {
      static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  out.push_back('"');
}

void append_go_json(std::string& out, const Value& v, int depth) {
  if (depth > kMaxDepth) {
    out += "null";
    return;
  }
  switch (v.kind()) {
    case rego::Kind::Undefined:
    case rego::Kind::Null: out += "null"; break;
    case rego::Kind::Bool: out += v.as_bool() ? "true" : "false"; break;
    case rego::Kind::Number: out += v.number_text(); break;
    case rego::Kind::String: append_go_string(out, v.str()); break;
    case rego::Kind::Array:
    case rego::Kind::Set: {
      const rego::ValueVec& items = v.is_array() ? v.array_items() : v.set_items();
      out.push_back('[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out.push_back(',');
        append_go_json(out, items[i], depth + 1);
      }
      out.push_back(']');
      break;
    }
    case rego::Kind::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.object_items()) {
        if (!first) out.push_back(',');
        first = false;
        append_go_string(out, k.is_string() ? k.str() : rego::to_json(k));
        out.push_back(':');
        append_go_json(out, item, depth + 1);
      }
      out.push_back('}');
      break;
    }
  }
}

bool same_sets(const Value& caps, const Value& defaults) {
  if (!caps.is_object() || caps.size() != defaults.size()) return false;
  for (const auto& [name, list] : defaults.object_items()) {
    const Value* got = caps.get(name);
    if (!got || *got != list) return false;
  }
  return true;
}

// "[privileged]" / "[unprivileged]" for the default sets, else the value itself.
Value redact_capabilities(const Value& caps) {
  if (same_sets(caps, default_privileged_capabilities())) return Value::string("[privileged]");
  if (same_sets(caps, default_unprivileged_capabilities())) return Value::string("[unprivileged]");
  return caps;
}

bool is_key(const Value& key, const char* name) { return key.is_string() && key.str() == name; }

// `object` with the member `name` set (replaced or added).
Value with_field(const Value& object, const char* name, const Value& value) {
  rego::ObjectItems items;
  for (const auto& kv : object.object_items())
    if (!is_key(kv.first, name)) items.push_back(kv);
  items.emplace_back(Value::string(name), value);
  return Value::object(std::move(items));
}

Value redact_input(const Value& input) {
  if (!input.is_object()) return input;
  Value out = input;
  if (const Value* envs = input.get("envList"); envs && envs->is_array()) {
    rego::ValueVec redacted;
    for (const Value& e : envs->array_items()) {
      if (!e.is_string()) {
        redacted.push_back(e);
        continue;
      }
      size_t eq = e.str().find('=');
      redacted.push_back(Value::string(e.str().substr(0, eq) + "=<<redacted>>"));
    }
    out = with_field(out, "envList", Value::array(std::move(redacted)));
  }
  if (const Value* caps = input.get("capabilities")) out = with_field(out, "capabilities", redact_capabilities(*caps));
  return out;
}

Value redact_reason(const Value& reason) {
  if (!reason.is_object()) return reason;
  const Value* objects = reason.get("error_objects");
  if (!objects || !objects->is_array()) return reason;
  rego::ValueVec out;
  for (const Value& o : objects->array_items()) {
    const Value* caps = o.is_object() ? o.get("capabilities") : nullptr;
    out.push_back(caps ? with_field(o, "capabilities", redact_capabilities(*caps)) : o);
  }
  return with_field(reason, "error_objects", Value::array(std::move(out)));
}

Value without_field(const Value& object, const char* name) {
  rego::ObjectItems items;
  for (const auto& kv : object.object_items())
    if (!is_key(kv.first, name)) items.push_back(kv);
  return Value::object_sorted(std::move(items));
}

std::string wrap(const Value& decision) { return std::string(kPrefix) + base64_encode(go_json(decision)) + kSuffix; }

}  // namespace

std::string go_json(const Value& v) {
  std::string out;
  append_go_json(out, v, 0);
  return out;
}

std::string policy_decision_message(const Value& input, const Value& reason, const std::string& policy_error,
                                    size_t max_length) {
  rego::ObjectItems items = {{Value::string("decision"), Value::string("deny")},
                             {Value::string("input"), redact_input(input)},
                             {Value::string("reason"), redact_reason(reason)}};
  if (!policy_error.empty()) items.emplace_back(Value::string("policyError"), Value::string(policy_error));
  Value decision = Value::object(std::move(items));
  std::string message = wrap(decision);
  if (max_length == 0 || message.size() <= max_length) return message;

  rego::ValueVec truncated;
  auto attempt = [&](const char* removed) {
    truncated.push_back(Value::string(removed));
    decision = with_field(decision, "truncated", Value::array(truncated));
    message = wrap(decision);
    return message.size() <= max_length;
  };
  const Value* r = decision.get("reason");
  if (r && r->is_object() && r->get("error_objects")) {
    decision = with_field(decision, "reason", without_field(*r, "error_objects"));
    if (attempt("reason.error_objects")) return message;
  }
  decision = without_field(decision, "input");
  if (attempt("input")) return message;
  decision = without_field(decision, "reason");
  attempt("reason");
  return message;  // may still be too long: the reference returns it anyway
}

Value decode_policy_decision(const std::string& message) {
  std::string prefix = kPrefix, suffix = kSuffix;
  if (message.size() < prefix.size() + suffix.size() || !message.starts_with(prefix) || !message.ends_with(suffix))
    return Value();
  std::string json;
  if (!base64_decode(message.substr(prefix.size(), message.size() - prefix.size() - suffix.size()), json))
    return Value();
  Value v;
  std::string error;
  if (!rego::parse_json(json, v, error)) return Value();
  return v;
}

}  // namespace confidant::policy
