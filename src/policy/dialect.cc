#include "policy/dialect.h"

namespace confidant::policy {

std::string package_name(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') continue;  // blank or comment
    line.remove_prefix(b);
    if (!line.starts_with("package") || line.size() < 8 || (line[7] != ' ' && line[7] != '\t')) return "";
    line.remove_prefix(7);
    size_t s = line.find_first_not_of(" \t");
    if (s == std::string_view::npos) return "";
    size_t e = line.find_first_of(" \t\r#", s);
    return std::string(line.substr(s, e == std::string_view::npos ? std::string_view::npos : e - s));
  }
  return "";
}

std::optional<Dialect> detect_dialect(std::string_view policy_text) {
  std::string pkg = package_name(policy_text);
  if (pkg == "policy") return Dialect::kAci;
  if (pkg == "agent_policy") return Dialect::kKata;
  return std::nullopt;
}

const char* dialect_name(Dialect d) { return d == Dialect::kAci ? "aci" : "kata"; }

rego::EvalOptions eval_options(const EnforcerOptions& options, rego::Value input, std::vector<std::string>* prints) {
  rego::EvalOptions o;
  o.input = std::move(input);
  o.limits = options.limits;
  if (prints) o.print = [prints](const std::string& line) { prints->push_back(line); };
  return o;
}

}  // namespace confidant::policy
