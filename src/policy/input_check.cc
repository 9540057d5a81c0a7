#include "policy/input_check.h"

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace confidant::policy {

using rego::Value;

namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0, n = s.size();
  // Inputs are mostly ASCII: skip eight bytes at a time while no high bit is set.
  while (i + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > n) return false;
    uint32_t cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

struct ShapeWalk {
  const InputLimits& limits;
  size_t nodes = 0, bytes = 0;
  std::string error;

  bool string(const Value& v) {
    bytes += v.str().size();
    if (bytes > limits.max_bytes) {
      error = "invalid input: more than " + std::to_string(limits.max_bytes) + " bytes of strings";
      return false;
    }
    if (!valid_utf8(v.str())) {
      error = "invalid input: a string is not valid UTF-8";
      return false;
    }
    return true;
  }

  bool walk(const Value& v, size_t depth) {
    if (++nodes > limits.max_nodes) {
      error = "invalid input: more than " + std::to_string(limits.max_nodes) + " values";
      return false;
    }
    if (v.is_string()) return string(v);
    if (!v.is_collection()) return true;
    if (depth >= limits.max_depth) {
      error = "invalid input: nested deeper than " + std::to_string(limits.max_depth) + " levels";
      return false;
    }
    if (v.is_object()) {
      for (const auto& [k, item] : v.object_items())
        if (!walk(k, depth + 1) || !walk(item, depth + 1)) return false;
      return true;
    }
    for (const Value& item : v.is_array() ? v.array_items() : v.set_items())
      if (!walk(item, depth + 1)) return false;
    return true;
  }
};

enum class T { String, Bool, Integer, IntegerOrNull, Strings, Array, Object, Mounts, IdName, IdNames, Caps, Receipts };

struct Field {
  const char* name;
  T type;
};

struct Schema {
  const char* point;
  std::vector<Field> fields;
};

const std::vector<Schema>& schemas() {
  static const std::vector<Schema> s = {
      {"mount_device", {{"target", T::String}, {"deviceHash", T::String}, {"mountPathRegex", T::String}}},
      {"rw_mount_device",
       {{"target", T::String},
        {"encrypted", T::Bool},
        {"ensureFilesystem", T::Bool},
        {"filesystem", T::String},
        {"mountPathRegex", T::String}}},
      {"unmount_device", {{"unmountTarget", T::String}}},
      {"rw_unmount_device", {{"unmountTarget", T::String}}},
      {"mount_blockdev", {{"target", T::String}}},
      {"unmount_blockdev", {{"unmountTarget", T::String}}},
      {"mount_overlay", {{"containerID", T::String}, {"layerPaths", T::Strings}, {"target", T::String}}},
      {"unmount_overlay", {{"unmountTarget", T::String}}},
      {"mount_cims", {{"containerID", T::String}, {"layerHashes", T::Strings}, {"mountedCim", T::Strings}}},
      {"create_container",
       {{"containerID", T::String},
        {"argList", T::Strings},
        {"envList", T::Strings},
        {"workingDir", T::String},
        {"sandboxDir", T::String},
        {"hugePagesDir", T::String},
        {"mounts", T::Mounts},
        {"devices", T::Array},
        {"privileged", T::Bool},
        {"noNewPrivileges", T::Bool},
        {"user", T::IdName},
        {"groups", T::IdNames},
        {"umask", T::String},
        {"capabilities", T::Caps},
        {"seccompProfileSHA256", T::String},
        {"isSandboxContainer", T::Bool}}},
      {"exec_in_container",
       {{"containerID", T::String},
        {"argList", T::Strings},
        {"envList", T::Strings},
        {"workingDir", T::String},
        {"noNewPrivileges", T::Bool},
        {"user", T::IdName},
        {"groups", T::IdNames},
        {"umask", T::String},
        {"capabilities", T::Caps}}},
      {"exec_external", {{"argList", T::Strings}, {"envList", T::Strings}, {"workingDir", T::String}}},
      {"shutdown_container", {{"containerID", T::String}}},
      {"signal_container_process",
       {{"containerID", T::String}, {"signal", T::Integer}, {"isInitProcess", T::Bool}, {"argList", T::Strings}}},
      {"plan9_mount", {{"rootPrefix", T::String}, {"mountPathPrefix", T::String}, {"target", T::String}}},
      {"plan9_unmount", {{"unmountTarget", T::String}}},
      {"scratch_mount", {{"target", T::String}, {"encrypted", T::Bool}}},
      {"scratch_unmount", {{"unmountTarget", T::String}}},
      {"registry_changes", {{"containerID", T::String}, {"registryChanges", T::Object}}},
      {"log_provider", {{"providers", T::Strings}}},
      {"load_fragment",
       {{"issuer", T::String},
        {"feed", T::String},
        {"namespace", T::String},
        {"fragment_loaded", T::Bool},
        {"has_header_svn", T::Bool},
        {"header_svn", T::IntegerOrNull},
        {"receipts", T::Receipts}}},
      {"load_transparency_trust_list",
       {{"issuer", T::String}, {"subject", T::String}, {"svn", T::Integer}, {"ledgers", T::Strings}}},
  };
  return s;
}

const char* describe(T t) {
  switch (t) {
    case T::String: return "a string";
    case T::Bool: return "a boolean";
    case T::Integer: return "an integer";
    case T::IntegerOrNull: return "an integer or null";
    case T::Strings: return "an array of strings";
    case T::Array: return "an array";
    case T::Object: return "an object";
    case T::Mounts: return "an array of {destination, source, options, type}";
    case T::IdName: return "an object {id, name} of strings";
    case T::IdNames: return "an array of {id, name} objects of strings";
    case T::Caps: return "an object of five arrays of strings (ambient, bounding, effective, inheritable, permitted)";
    case T::Receipts: return "an array of {issuer, ttl_subjects} objects";
  }
  return "?";
}

bool is_strings(const Value& v) {
  if (!v.is_array()) return false;
  for (const Value& x : v.array_items())
    if (!x.is_string()) return false;
  return true;
}

bool has_string_fields(const Value& v, std::initializer_list<const char*> names) {
  if (!v.is_object()) return false;
  for (const char* n : names) {
    const Value* f = v.get(n);
    if (!f || !f->is_string()) return false;
  }
  return true;
}

bool conforms(const Value& v, T t) {
  switch (t) {
    case T::String: return v.is_string();
    case T::Bool: return v.is_bool();
    case T::Integer: return v.is_number() && v.is_integer();
    case T::IntegerOrNull: return v.is_null() || (v.is_number() && v.is_integer());
    case T::Strings: return is_strings(v);
    case T::Array: return v.is_array();
    case T::Object: return v.is_object();
    case T::Mounts:
      if (!v.is_array()) return false;
      for (const Value& m : v.array_items()) {
        if (!has_string_fields(m, {"destination", "source", "type"})) return false;
        const Value* o = m.get("options");
        if (!o || !is_strings(*o)) return false;
      }
      return true;
    case T::IdName: return has_string_fields(v, {"id", "name"});
    case T::IdNames:
      if (!v.is_array()) return false;
      for (const Value& g : v.array_items())
        if (!has_string_fields(g, {"id", "name"})) return false;
      return true;
    case T::Caps:
      if (!v.is_object()) return false;
      for (const char* set : {"ambient", "bounding", "effective", "inheritable", "permitted"}) {
        const Value* s = v.get(set);
        if (!s || !is_strings(*s)) return false;
      }
      return true;
    case T::Receipts:
      if (!v.is_array()) return false;
      for (const Value& r : v.array_items()) {
        if (!has_string_fields(r, {"issuer"})) return false;
        const Value* s = r.get("ttl_subjects");
        if (!s || !is_strings(*s)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

std::string check_input_shape(const Value& input, const InputLimits& limits) {
  ShapeWalk w{limits, 0, 0, ""};
  if (!w.walk(input, 0)) return w.error;
  return "";
}

std::string check_aci_input(std::string_view point, const Value& input) {
  if (!input.is_object()) return "invalid input: " + std::string(point) + " input must be an object";
  for (const Schema& s : schemas()) {
    if (point != s.point) continue;
    for (const Field& f : s.fields) {
      const Value* v = input.get(f.name);
      if (!v) return "invalid input: " + std::string(point) + " needs " + f.name;
      if (!conforms(*v, f.type)) return "invalid input: " + std::string(f.name) + " must be " + describe(f.type);
    }
    break;
  }
  return "";
}

}  // namespace confidant::policy
