#include "agent/guest_path.h"

namespace confidant::agent {

namespace {
bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 80) out += "...";
  return out + "'";
}
}  // namespace

bool valid_guest_path(std::string_view path, std::string& error, std::string_view what) {
  auto fail = [&](const char* why) {
    error = std::string(what) + " " + quoted(path) + ": " + why;
    return false;
  };
  if (path.empty() || path[0] != '/') return fail("must be an absolute path");
  if (path.size() > 512) return fail("longer than 512 bytes");
  if (path.size() > 1 && path.back() == '/') return fail("must not end with '/'");
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (path.size() > 1) {
      if (comp.empty()) return fail("has an empty path component");
      if (comp == "." || comp == "..") return fail("has a '.' or '..' component");
    }
    for (char c : comp)
      if (!id_char(c)) return fail("has a character outside [A-Za-z0-9._-/]");
    start = end + 1;
  }
  return true;
}

bool valid_id(std::string_view id, std::string& error, std::string_view what) {
  bool ok = !id.empty() && id.size() <= 128 && id[0] != '.' && id[0] != '-' && id[0] != '_';
  for (char c : id) ok = ok && id_char(c);
  if (!ok) error = std::string(what) + " " + quoted(id) + " is not a valid id ([A-Za-z0-9][A-Za-z0-9_.-]{0,127})";
  return ok;
}

}  // namespace confidant::agent
