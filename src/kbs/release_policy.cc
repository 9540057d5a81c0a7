#include "kbs/release_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "kbs/encoding.h"

namespace confidant::kbs {

namespace {

using json = nlohmann::json;

struct OpName {
  const char* name;
  ClaimOp op;
};
constexpr OpName kOps[] = {{"equals", ClaimOp::kEquals},   {"notEquals", ClaimOp::kNotEquals},
                           {"less", ClaimOp::kLess},       {"lessOrEquals", ClaimOp::kLessOrEquals},
                           {"greater", ClaimOp::kGreater}, {"greaterOrEquals", ClaimOp::kGreaterOrEquals},
                           {"exists", ClaimOp::kExists}};

bool IsOrdering(ClaimOp op) {
  return op == ClaimOp::kLess || op == ClaimOp::kLessOrEquals || op == ClaimOp::kGreater ||
         op == ClaimOp::kGreaterOrEquals;
}

// The published EBNF spells the selectors in lower case; policies in the wild
// use camelCase. Both are accepted.
bool IsAnyOf(const std::string& k) { return k == "anyOf" || k == "anyof"; }
bool IsAllOf(const std::string& k) { return k == "allOf" || k == "allof"; }

class Parser {
 public:
  explicit Parser(const PolicyLimits& limits) : limits_(limits) {}

  Result<ReleasePolicy> Policy(const json& j) {
    if (!j.is_object()) return Err("release policy is not a JSON object");
    ReleasePolicy p;
    const json* list = nullptr;
    std::string list_name;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k == "version") {
        if (!it->is_string()) return Err("\"version\" is not a string");
        p.version = it->get<std::string>();
        // "0.2" appears in an older published example with the same grammar.
        if (p.version != "1.0.0" && p.version != "0.2") {
          return Err("unsupported policy version \"" + p.version + "\" (expected \"1.0.0\")");
        }
      } else if (IsAnyOf(k) || IsAllOf(k)) {
        if (list != nullptr) return Err("policy has both \"" + list_name + "\" and \"" + k + "\"");
        list = &*it;
        list_name = k;
        p.any_of = IsAnyOf(k);
      } else {
        return Err("unknown policy member \"" + k + "\"");
      }
    }
    if (p.version.empty()) return Err("policy has no \"version\"");
    if (list == nullptr) return Err("policy has no \"anyOf\" or \"allOf\" list of authorities");
    if (!list->is_array() || list->empty()) return Err("\"" + list_name + "\" must be a non-empty array");
    if (list->size() > limits_.max_authorities) {
      return Err("more than " + std::to_string(limits_.max_authorities) + " authorities");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      std::string path = list_name + "[" + std::to_string(i) + "]";
      auto a = Authority((*list)[i], path);
      if (!a) return a.take_error();
      p.authorities.push_back(std::move(*a));
    }
    return p;
  }

 private:
  Result<AuthorityRule> Authority(const json& j, const std::string& path) {
    if (!j.is_object()) return Err(path + ": authority rule is not an object");
    AuthorityRule rule;
    const json* list = nullptr;
    std::string list_name;
    bool has_authority = false;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (k == "authority") {
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
          return Err(path + ": \"authority\" must be a non-empty string");
        }
        rule.authority = it->get<std::string>();
        if (rule.authority.size() > 2048) return Err(path + ": \"authority\" is too long");
        has_authority = true;
      } else if (IsAnyOf(k) || IsAllOf(k)) {
        if (list != nullptr) return Err(path + ": both \"" + list_name + "\" and \"" + k + "\"");
        list = &*it;
        list_name = k;
        rule.any_of = IsAnyOf(k);
      } else if (k == "claim" || OpFor(k)) {
        return Err(path + ": a claim condition must sit inside the authority's \"anyOf\"/\"allOf\" list");
      } else {
        return Err(path + ": unknown member \"" + k + "\"");
      }
    }
    if (!has_authority) return Err(path + ": missing \"authority\"");
    if (list == nullptr) return Err(path + ": missing \"anyOf\" or \"allOf\"");
    auto children = List(*list, path + "." + list_name, 1);
    if (!children) return children.take_error();
    rule.conditions = std::move(*children);
    return rule;
  }

  Result<std::vector<PolicyCondition>> List(const json& j, const std::string& path, int depth) {
    if (depth > limits_.max_depth) return Err(path + ": nesting deeper than " + std::to_string(limits_.max_depth));
    if (!j.is_array() || j.empty()) return Err(path + ": must be a non-empty array of conditions");
    std::vector<PolicyCondition> out;
    for (size_t i = 0; i < j.size(); ++i) {
      auto c = Condition(j[i], path + "[" + std::to_string(i) + "]", depth);
      if (!c) return c.take_error();
      out.push_back(std::move(*c));
    }
    return out;
  }

  static const ClaimOp* OpFor(const std::string& name) {
    for (const auto& o : kOps) {
      if (name == o.name) return &o.op;
    }
    return nullptr;
  }

  Result<PolicyCondition> Condition(const json& j, const std::string& path, int depth) {
    if (!j.is_object()) return Err(path + ": condition is not an object");
    PolicyCondition c;
    const json* list = nullptr;
    std::string list_name;
    const json* claim = nullptr;
    const json* value = nullptr;
    std::string op_name;
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      if (IsAnyOf(k) || IsAllOf(k)) {
        if (list != nullptr) return Err(path + ": both \"" + list_name + "\" and \"" + k + "\"");
        list = &*it;
        list_name = k;
        c.kind = IsAnyOf(k) ? PolicyCondition::Kind::kAnyOf : PolicyCondition::Kind::kAllOf;
      } else if (k == "claim") {
        claim = &*it;
      } else if (const ClaimOp* op = OpFor(k)) {
        if (value != nullptr) return Err(path + ": more than one operator (\"" + op_name + "\" and \"" + k + "\")");
        value = &*it;
        op_name = k;
        c.op = *op;
      } else if (k == "authority") {
        return Err(path + ": \"authority\" is only allowed at the top level of the policy");
      } else {
        return Err(path + ": unknown operator or member \"" + k + "\"");
      }
    }
    if (list != nullptr) {
      if (claim != nullptr || value != nullptr)
        return Err(path + ": a condition is either a claim test or a list, not both");
      auto children = List(*list, path + "." + list_name, depth + 1);
      if (!children) return children.take_error();
      c.children = std::move(*children);
      return c;
    }
    c.kind = PolicyCondition::Kind::kClaim;
    if (claim == nullptr) return Err(path + ": condition has no \"claim\"");
    if (!claim->is_string() || claim->get_ref<const std::string&>().empty()) {
      return Err(path + ": \"claim\" must be a non-empty string");
    }
    c.claim = claim->get<std::string>();
    if (c.claim.size() > limits_.max_claim_name) return Err(path + ": claim name is too long");
    if (value == nullptr) return Err(path + ": claim \"" + c.claim + "\" has no operator");
    if (++conditions_ > limits_.max_conditions) {
      return Err(path + ": more than " + std::to_string(limits_.max_conditions) + " claim conditions");
    }
    if (c.op == ClaimOp::kExists) {
      if (!value->is_boolean()) return Err(path + ": \"exists\" takes true or false");
    } else if (IsOrdering(c.op)) {
      if (!value->is_number()) return Err(path + ": \"" + op_name + "\" takes a number");
    } else if (!value->is_string() && !value->is_number() && !value->is_boolean()) {
      return Err(path + ": \"" + op_name + "\" takes a string, number or boolean");
    }
    if (value->is_number_float() && !std::isfinite(value->get<double>())) return Err(path + ": value is not finite");
    if (value->is_string() && value->get_ref<const std::string&>().size() > limits_.max_string_value) {
      return Err(path + ": value is too long");
    }
    c.value = *value;
    return c;
  }

  const PolicyLimits& limits_;
  size_t conditions_ = 0;
};

// -1, 0, 1; both must be numbers. Integers compare exactly, otherwise as doubles.
int CompareNumbers(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    bool a_neg = a.is_number_unsigned() ? false : a.get<int64_t>() < 0;
    bool b_neg = b.is_number_unsigned() ? false : b.get<int64_t>() < 0;
    if (a_neg != b_neg) return a_neg ? -1 : 1;
    if (a_neg) {
      int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    uint64_t x = a.get<uint64_t>(), y = b.get<uint64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y ? 1 : 0;
}

enum class Match { kTrue, kFalse };

struct Evaluator {
  const json& claims;
  const EvalOptions& options;
  std::string first_failure;

  void Fail(std::string why) {
    if (first_failure.empty()) first_failure = std::move(why);
  }

  // Equality of a claim with a policy value of the same JSON type.
  bool SameTypeEquals(const json& claim, const json& value, bool& type_ok) {
    type_ok = true;
    if (claim.is_number() && value.is_number()) return CompareNumbers(claim, value) == 0;
    if (claim.is_string() && value.is_string())
      return claim.get_ref<const std::string&>() == value.get_ref<const std::string&>();
    if (claim.is_boolean() && value.is_boolean()) return claim.get<bool>() == value.get<bool>();
    if (options.boolean_strings && claim.is_boolean() && value.is_string()) {
      const std::string& s = value.get_ref<const std::string&>();
      if (s == "true" || s == "false") return claim.get<bool>() == (s == "true");
    }
    type_ok = false;
    return false;
  }

  bool Claim(const PolicyCondition& c) {
    const json* v = LookupClaim(claims, c.claim);
    if (c.op == ClaimOp::kExists) {
      bool want = c.value.get<bool>();
      bool has = v != nullptr;
      if (has != want) Fail("claim \"" + c.claim + (want ? "\" is absent" : "\" is present"));
      return has == want;
    }
    if (v == nullptr) {
      Fail("claim \"" + c.claim + "\" is absent");
      return false;
    }
    bool result = false;
    bool type_ok = true;
    switch (c.op) {
      case ClaimOp::kEquals: result = SameTypeEquals(*v, c.value, type_ok); break;
      case ClaimOp::kNotEquals: result = !SameTypeEquals(*v, c.value, type_ok) && type_ok; break;
      default: {
        if (!v->is_number()) {
          type_ok = false;
          break;
        }
        if (v->is_number_float() && !std::isfinite(v->get<double>())) {
          type_ok = false;
          break;
        }
        int cmp = CompareNumbers(*v, c.value);
        result = c.op == ClaimOp::kLess           ? cmp < 0
                 : c.op == ClaimOp::kLessOrEquals ? cmp <= 0
                 : c.op == ClaimOp::kGreater      ? cmp > 0
                                                  : cmp >= 0;
      }
    }
    if (!type_ok) {
      Fail("claim \"" + c.claim + "\" has the wrong type for " + ClaimOpName(c.op) + " " + DumpJson(c.value));
    } else if (!result) {
      std::string shown = DumpJson(*v);
      if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
      Fail("claim \"" + c.claim + "\" = " + shown + " fails " + ClaimOpName(c.op) + " " + DumpJson(c.value));
    }
    return result;
  }

  bool Condition(const PolicyCondition& c) {
    switch (c.kind) {
      case PolicyCondition::Kind::kClaim: return Claim(c);
      case PolicyCondition::Kind::kAnyOf: return List(c.children, true);
      case PolicyCondition::Kind::kAllOf: return List(c.children, false);
    }
    return false;
  }

  bool List(const std::vector<PolicyCondition>& list, bool any_of) {
    // A failed branch of an anyOf that holds is not the reason for a refusal.
    std::string saved = first_failure;
    for (const auto& c : list) {
      bool r = Condition(c);
      if (any_of && r) {
        first_failure = std::move(saved);
        return true;
      }
      if (!any_of && !r) return false;
    }
    return !any_of;
  }
};

}  // namespace

const char* ClaimOpName(ClaimOp op) {
  for (const auto& o : kOps) {
    if (o.op == op) return o.name;
  }
  return "";
}

Result<ReleasePolicy> ParseReleasePolicyJson(const json& j, const PolicyLimits& limits) {
  try {
    Parser p(limits);
    return p.Policy(j);
  } catch (const std::exception& e) {
    return Err(std::string("release policy: ") + e.what());
  }
}

Result<ReleasePolicy> ParseReleasePolicy(std::string_view text, const PolicyLimits& limits) {
  // Depth allowance: policy, authority list, authority, then two levels per nesting.
  auto j = ParseJson(text, JsonLimits{limits.max_bytes, 2 * limits.max_depth + 6});
  if (!j) return Err("release policy: " + j.error());
  return ParseReleasePolicyJson(*j, limits);
}

namespace {
json ConditionToJson(const PolicyCondition& c) {
  if (c.kind == PolicyCondition::Kind::kClaim) return json{{"claim", c.claim}, {ClaimOpName(c.op), c.value}};
  json list = json::array();
  for (const auto& ch : c.children) list.push_back(ConditionToJson(ch));
  return json{{c.kind == PolicyCondition::Kind::kAnyOf ? "anyOf" : "allOf", std::move(list)}};
}
}  // namespace

json ReleasePolicyToJson(const ReleasePolicy& policy) {
  json rules = json::array();
  for (const auto& a : policy.authorities) {
    json list = json::array();
    for (const auto& c : a.conditions) list.push_back(ConditionToJson(c));
    rules.push_back(json{{"authority", a.authority}, {a.any_of ? "anyOf" : "allOf", std::move(list)}});
  }
  return json{{"version", policy.version}, {policy.any_of ? "anyOf" : "allOf", std::move(rules)}};
}

std::string NormalizeAuthority(std::string_view url) {
  std::string s(url);
  size_t scheme_end = s.find("://");
  if (scheme_end == std::string::npos) {
    s = "https://" + s;
    scheme_end = 5;
  }
  size_t host_end = s.find('/', scheme_end + 3);
  if (host_end == std::string::npos) host_end = s.size();
  for (size_t i = 0; i < host_end; ++i) s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  while (s.size() > scheme_end + 3 && s.back() == '/') s.pop_back();
  return s;
}

const json* LookupClaim(const json& claims, std::string_view name) {
  if (!claims.is_object()) return nullptr;
  if (const json* whole = GetMember(claims, name)) return whole;
  const json* cur = &claims;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view seg = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return nullptr;
    if (cur->is_object()) {
      cur = GetMember(*cur, seg);
    } else if (cur->is_array()) {
      if (seg.size() > 9 || !std::all_of(seg.begin(), seg.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return nullptr;
      }
      size_t idx = std::stoul(std::string(seg));
      cur = idx < cur->size() ? &(*cur)[idx] : nullptr;
    } else {
      return nullptr;
    }
    if (cur == nullptr) return nullptr;
    if (dot == std::string_view::npos) return cur;
    start = dot + 1;
  }
}

PolicyDecision EvaluateReleasePolicy(const ReleasePolicy& policy, const json& claims, std::string_view authority,
                                     const EvalOptions& options) {
  try {
    std::string issuer = NormalizeAuthority(authority);
    std::vector<std::string> failures;
    bool any_authority_matched = false;
    for (size_t i = 0; i < policy.authorities.size(); ++i) {
      const AuthorityRule& rule = policy.authorities[i];
      bool holds = false;
      if (NormalizeAuthority(rule.authority) != issuer) {
        failures.push_back("authority \"" + rule.authority + "\" is not the token issuer");
      } else {
        any_authority_matched = true;
        Evaluator ev{claims, options, {}};
        holds = ev.List(rule.conditions, rule.any_of);
        if (!holds) failures.push_back("authority \"" + rule.authority + "\": " + ev.first_failure);
      }
      if (policy.any_of && holds) return PolicyDecision{true, "authority \"" + rule.authority + "\" conditions hold"};
      if (!policy.any_of && !holds) return PolicyDecision{false, failures.back()};
    }
    if (!policy.any_of) return PolicyDecision{true, "all authority rules hold"};
    if (!any_authority_matched) {
      return PolicyDecision{false, "token issuer \"" + std::string(authority) + "\" is not an authority of the policy"};
    }
    // Report the first failure of a matching authority.
    for (const auto& f : failures) {
      if (f.find("is not the token issuer") == std::string::npos) return PolicyDecision{false, f};
    }
    return PolicyDecision{false, failures.empty() ? "no authority rule holds" : failures.front()};
  } catch (const std::exception& e) {
    return PolicyDecision{false, std::string("policy evaluation error: ") + e.what()};
  }
}

}  // namespace confidant::kbs
