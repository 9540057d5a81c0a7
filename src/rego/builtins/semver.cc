// semver.is_valid and semver.compare: strict Semantic Versioning 2.0.0.
//
// OPA's own parser is lenient (it accepts leading zeros, a "v" prefix and
// empty pre-release sections); the conformance suite pins the strict grammar
// of https://semver.org, so that is what this implements. Like OPA, the
// major, minor and patch numbers must fit int64.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

struct Version {
  int64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string_view> pre;  // pre-release identifiers; build metadata is dropped
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view s) {
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}
bool is_ident_char(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'; }

// "0" or a digit string without leading zero that fits int64.
std::optional<int64_t> numeric(std::string_view s) {
  if (s.empty() || !all_digits(s) || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// Dot-separated non-empty identifiers of [0-9A-Za-z-]; numeric ones in a
// pre-release may not have leading zeros.
bool split_identifiers(std::string_view s, bool pre_release, std::vector<std::string_view>* out) {
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view id = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (id.empty()) return false;
    for (char c : id)
      if (!is_ident_char(c)) return false;
    if (pre_release && all_digits(id) && id.size() > 1 && id[0] == '0') return false;
    if (out) out->push_back(id);
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<Version> parse(std::string_view s) {
  Version v;
  if (const size_t plus = s.find('+'); plus != std::string_view::npos) {
    if (!split_identifiers(s.substr(plus + 1), false, nullptr)) return std::nullopt;
    s = s.substr(0, plus);
  }
  if (const size_t dash = s.find('-'); dash != std::string_view::npos) {
    if (!split_identifiers(s.substr(dash + 1), true, &v.pre)) return std::nullopt;
    s = s.substr(0, dash);
  }
  const size_t d1 = s.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : s.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  auto major = numeric(s.substr(0, d1)), minor = numeric(s.substr(d1 + 1, d2 - d1 - 1)),
       patch = numeric(s.substr(d2 + 1));
  if (!major || !minor || !patch) return std::nullopt;
  v.major = *major;
  v.minor = *minor;
  v.patch = *patch;
  return v;
}

int sign(int64_t a, int64_t b) { return a < b ? -1 : a > b ? 1 : 0; }

// Precedence (spec item 11): numbers, then pre-release (a version without one
// ranks higher); identifiers compare numerically when numeric, numeric below
// alphanumeric, otherwise in ASCII order; a longer list wins a tie.
int compare_versions(const Version& a, const Version& b) {
  if (int c = sign(a.major, b.major)) return c;
  if (int c = sign(a.minor, b.minor)) return c;
  if (int c = sign(a.patch, b.patch)) return c;
  if (a.pre.empty() || b.pre.empty()) return a.pre.empty() == b.pre.empty() ? 0 : a.pre.empty() ? 1 : -1;
  for (size_t i = 0; i < a.pre.size() && i < b.pre.size(); ++i) {
    const std::string_view x = a.pre[i], y = b.pre[i];
    const bool xn = all_digits(x), yn = all_digits(y);
    if (xn != yn) return xn ? -1 : 1;
    // No leading zeros: a longer number is larger, equal lengths compare as text.
    if (xn && x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
    if (int c = x.compare(y)) return c < 0 ? -1 : 1;
  }
  return sign(static_cast<int64_t>(a.pre.size()), static_cast<int64_t>(b.pre.size()));
}

Value semver_is_valid(BuiltinContext&, std::span<const Value> args) {
  // Any non-string is simply not a valid version.
  return Value::boolean(args[0].is_string() && parse(args[0].str()).has_value());
}

Value semver_compare(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "semver.compare";
  const std::string& a = arg_string(kName, args, 0);
  const std::string& b = arg_string(kName, args, 1);
  auto va = parse(a);
  if (!va) builtin_error(kName, "operand 1: string " + to_rego(args[0]) + " is not a valid SemVer");
  auto vb = parse(b);
  if (!vb) builtin_error(kName, "operand 2: string " + to_rego(args[1]) + " is not a valid SemVer");
  return Value::integer(compare_versions(*va, *vb));
}

}  // namespace

void register_semver(BuiltinRegistry& r) {
  r.add("semver.is_valid", 1, semver_is_valid);
  r.add("semver.compare", 2, semver_compare);
}

}  // namespace confidant::rego
