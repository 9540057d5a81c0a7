#include "rego/error.h"

namespace confidant::rego {

std::string RegoError::to_string() const {
  std::string out;
  if (!file.empty() || row) {
    out += file;
    out += ':';
    out += std::to_string(row);
    out += ": ";
  }
  out += code;
  out += ": ";
  out += message;
  return out;
}

std::string to_string(const Errors& errs) {
  if (errs.size() == 1) return errs[0].to_string();
  std::string out = std::to_string(errs.size()) + " errors occurred:";
  for (const auto& e : errs) {
    out += '\n';
    out += e.to_string();
  }
  return out;
}

}  // namespace confidant::rego
