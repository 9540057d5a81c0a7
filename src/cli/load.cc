#include "cli/load.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace confidant::cli {

namespace fs = std::filesystem;
using rego::Errors;
using rego::RegoError;

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open file";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = path + ": read error";
    return false;
  }
  out = std::move(ss).str();
  return true;
}

namespace {

bool ends_with(const std::string& s, std::string_view suffix) { return s.ends_with(suffix); }

bool parse_yaml(const std::string& text, Value& out, std::string& error) {
  try {
    YAML::Node n = YAML::Load(text);
    out = yaml_to_value(n);
    if (out.is_undefined()) out = Value::null();
    return true;
  } catch (const YAML::Exception& e) {
    error = e.what();
    return false;
  }
}

RegoError loader_error(const std::string& file, std::string message) {
  RegoError e;
  e.message = std::move(message);
  e.file = file;
  return e;
}

// Merges one data file at `keys` (nested objects are built around the value,
// so a non-object file below the root is fine, as with opa's loader).
void load_data_file(rego::Engine& engine, const std::string& path, const std::vector<std::string>& keys,
                    Errors& errors) {
  std::string text, error;
  Value doc;
  if (!read_file(path, text, error)) {
    errors.push_back(loader_error(path, error));
    return;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return;  // empty file: no data
  if (!parse_document(path, text, doc, error)) {
    errors.push_back(loader_error(path, error));
    return;
  }
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) doc = Value::object({{Value::string(*it), doc}});
  if (!doc.is_object()) {
    errors.push_back(loader_error(path, path + ": root document must be an object"));
    return;
  }
  engine.add_data(doc, errors);
}

void load_file(rego::Engine& engine, const std::string& path, const std::vector<std::string>& keys, bool named_directly,
               Errors& errors) {
  if (ends_with(path, ".rego")) {
    std::string text, error;
    if (!read_file(path, text, error)) {
      errors.push_back(loader_error(path, error));
      return;
    }
    engine.add_module(path, std::move(text), errors);
  } else if (ends_with(path, ".json") || ends_with(path, ".yaml") || ends_with(path, ".yml")) {
    load_data_file(engine, path, keys, errors);
  } else if (named_directly) {
    // opa accepts other files named on the command line as JSON/YAML data.
    load_data_file(engine, path, keys, errors);
  }
}

}  // namespace

bool parse_document(const std::string& path, const std::string& text, Value& out, std::string& error) {
  if (ends_with(path, ".yaml") || ends_with(path, ".yml")) {
    if (parse_yaml(text, out, error)) return true;
    error = path + ": " + error;
    return false;
  }
  std::string json_error;
  if (rego::parse_json(text, out, json_error)) return true;
  if (!ends_with(path, ".json")) {
    std::string yaml_error;
    if (parse_yaml(text, out, yaml_error)) return true;
  }
  error = path + ": " + json_error;
  return false;
}

bool load_paths(rego::Engine& engine, const std::vector<std::string>& paths, Errors& errors) {
  size_t before = errors.size();
  for (const std::string& root : paths) {
    std::error_code ec;
    fs::file_status st = fs::status(root, ec);
    if (ec || !fs::exists(st)) {
      errors.push_back(loader_error(root, root + ": no such file or directory"));
      continue;
    }
    if (!fs::is_directory(st)) {
      load_file(engine, root, {}, true, errors);
      continue;
    }
    // Sorted so module order and data merge order do not depend on the file system.
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) errors.push_back(loader_error(root, root + ": " + ec.message()));
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      fs::path rel = f.lexically_relative(root);
      std::vector<std::string> keys;
      for (const auto& part : rel.parent_path())
        if (!part.empty() && part != ".") keys.push_back(part.string());
      load_file(engine, (fs::path(root) / rel).lexically_normal().string(), keys, false, errors);
    }
  }
  return errors.size() == before;
}

}  // namespace confidant::cli
