// Runs OPA's YAML conformance cases (v1/<folder>/*.yaml run as Rego v1,
// v0/<folder>/*.yaml as Rego v0) with the semantics of OPA's top-down test
// harness; see docs in ../shared/reference/rego-engines.md section 5.
//
// Known failures are listed one case per line (v1 cases by note, v0 cases as
// "v0/<note>"), '#' lines are comments. The run fails on a failing case that
// is not listed, and on a listed case that now passes.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cli/load.h"
#include "rego/rego.h"

namespace confidant::conformance {

namespace fs = std::filesystem;
using cli::yaml_to_value;
using rego::Errors;
using rego::Value;

constexpr uint64_t kCaseTimeLimitNs = 5'000'000'000;

struct Case {
  std::string tree;    // "v1" or "v0"
  std::string folder;  // "v1/aggregates"
  std::string file;
  std::string note;
  YAML::Node node;  // never assign Cases: yaml-cpp's Node assignment rewrites the referenced node
  std::string key() const { return tree == "v1" ? note : tree + "/" + note; }
};

struct Outcome {
  bool pass = false;
  std::string reason;   // one line
  std::string detail;   // expected vs actual, for --verbose
  std::string missing;  // name of an undefined builtin, when that is the cause
};

// Sets the case's environment variables and restores the previous ones.
class EnvGuard {
 public:
  explicit EnvGuard(const YAML::Node& env) {
    if (!env || !env.IsMap()) return;
    for (const auto& kv : env) {
      std::string k = kv.first.Scalar();
      const char* old = std::getenv(k.c_str());
      saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
      setenv(k.c_str(), kv.second.IsNull() ? "" : kv.second.Scalar().c_str(), 1);
    }
  }
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        unsetenv(it->first.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Results are compared as OPA's harness does after ast.JSON(): sets become
// arrays, non-string object keys become their JSON text. Going through our
// canonical JSON text does exactly that and keeps numbers exact.
Value as_json(const Value& v) {
  Value out;
  std::string error;
  if (!rego::parse_json(rego::to_json(v), out, error)) return v;
  return out;
}

Value sorted_if_array(const Value& v) {
  if (!v.is_array()) return v;
  rego::ValueVec items = v.array_items();
  std::sort(items.begin(), items.end());
  return Value::array(std::move(items));
}

// The "undefined function NAME" of a compile error, for grouping known failures.
std::string missing_builtin(const Errors& errs) {
  for (const auto& e : errs) {
    size_t p = e.message.find("undefined function ");
    if (p == std::string::npos) continue;
    std::string name = e.message.substr(p + 19);
    return name.substr(0, name.find_first_of(" \t:("));
  }
  return "";
}

bool has_code(const Errors& errs, const std::string& code) { return !errs.empty() && errs.front().code == code; }

// A field that is present and not null (OPA's harness decodes into pointers, so null means absent).
YAML::Node field(const YAML::Node& n, const char* name) {
  YAML::Node f = n[name];
  return f && !f.IsNull() ? f : YAML::Node(YAML::NodeType::Undefined);
}

Outcome run_case(const Case& c) {
  const YAML::Node& n = c.node;
  Outcome o;
  auto fail = [&](std::string reason, std::string detail = "") {
    o.pass = false;
    o.reason = std::move(reason);
    o.detail = std::move(detail);
    return o;
  };
  YAML::Node want_result = field(n, "want_result"), want_error = field(n, "want_error"),
             want_code = field(n, "want_error_code");
  auto flag = [&](const char* name) { return n[name] && n[name].IsScalar() && n[name].as<bool>(false); };
  if (!want_result && !want_error && !want_code)
    return fail("case specifies none of want_result, want_error_code, want_error");
  bool v0 = c.tree == "v0";

  EnvGuard env(n["env"]);
  rego::Engine engine(rego::EngineOptions{.v0 = v0});
  Errors errs;
  if (YAML::Node mods = n["modules"]) {
    for (size_t i = 0; i < mods.size(); ++i)
      engine.add_module("test-" + std::to_string(i) + ".rego", mods[i].as<std::string>(), errs);
    if (!errs.empty()) return fail("module parse error: " + rego::to_string(errs));
  }
  if (YAML::Node data = field(n, "data")) {
    Value d = yaml_to_value(data);
    if (!d.is_object()) return fail("data is not an object");
    if (!engine.add_data(d, errs)) return fail("data error: " + rego::to_string(errs));
  }
  auto policy = engine.compile(errs);
  if (!policy) {
    o.missing = missing_builtin(errs);
    return fail("compile error: " + rego::to_string(errs));
  }
  // OPA's harness parses the query with the default (v1) syntax in both trees.
  std::string query = n["query"] ? n["query"].as<std::string>() : "";
  auto q = rego::Query::prepare(policy, query, errs, /*v0=*/false);
  if (!q) {
    o.missing = missing_builtin(errs);
    return fail("query compile error: " + rego::to_string(errs));
  }

  rego::EvalOptions opts;
  opts.strict_builtin_errors = flag("strict_error");
  opts.limits.max_time_ns = kCaseTimeLimitNs;
  // opa.runtime() stays unset ({}), as in OPA's harness; `env` is visible to builtins only.
  if (YAML::Node term = field(n, "input_term")) {
    if (!rego::parse_value_text(term.as<std::string>(), opts.input, errs))
      return fail("input_term parse error: " + rego::to_string(errs));
  } else if (YAML::Node input = field(n, "input")) {
    opts.input = yaml_to_value(input);
  }

  rego::QueryResult result;
  bool ok = q->eval(opts, result, errs);
  std::string err_text = ok ? "" : rego::to_string(errs);
  if (want_error) {
    std::string want = want_error.as<std::string>();
    if (ok) return fail("want error containing \"" + want + "\", got success");
    if (err_text.find(want) == std::string::npos)
      return fail("error text mismatch", "want error containing: " + want + "\ngot error: " + err_text);
  }
  if (want_code) {
    std::string want = want_code.as<std::string>();
    if (ok) return fail("want error code " + want + ", got success");
    if (!has_code(errs, want)) return fail("error code mismatch", "want code: " + want + "\ngot error: " + err_text);
  }
  if (!ok && !want_error && !want_code) {
    if (has_code(errs, rego::codes::kCancel)) return fail("evaluation stopped by limits: " + err_text);
    return fail("unexpected error: " + err_text);
  }
  if (want_result) {
    // With sort_bindings OPA sorts only the actual arrays (the expected ones are
    // written sorted); sorting both keeps us independent of Go's exact order.
    bool sort_bindings = flag("sort_bindings"), ignore_generated = flag("ignore_generated_vars");
    rego::ValueVec want_rows, got_rows;
    for (const auto& row : want_result) {
      rego::ObjectItems items;
      if (row.IsMap())
        for (const auto& kv : row) {
          Value v = yaml_to_value(kv.second);
          items.emplace_back(Value::string(kv.first.Scalar()), sort_bindings ? sorted_if_array(v) : v);
        }
      want_rows.push_back(Value::object(std::move(items)));
    }
    for (const auto& row : result.rows) {
      rego::ObjectItems items;
      for (const auto& [name, value] : row.bindings) {
        if (ignore_generated && name.starts_with("__localq")) continue;
        Value v = as_json(value);
        items.emplace_back(Value::string(name), sort_bindings ? sorted_if_array(v) : v);
      }
      got_rows.push_back(Value::object(std::move(items)));
    }
    Value want = Value::set(std::move(want_rows)), got = Value::set(std::move(got_rows));
    if (want != got) return fail("result mismatch", "want: " + rego::to_json(want) + "\ngot:  " + rego::to_json(got));
  }
  o.pass = true;
  return o;
}

// --- case discovery -----------------------------------------------------------

// Loads every file below root/v0 and root/v1 (in that order); `order` lists the
// cases as OPA runs them, each tree sorted by note.
bool load_cases(const fs::path& root, std::vector<Case>& cases, std::vector<const Case*>& order) {
  bool ok = true;
  for (const char* tree : {"v0", "v1"}) {
    fs::path dir = root / tree;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string folder = std::string(tree) + "/" + f.parent_path().lexically_relative(dir).string();
      try {
        YAML::Node doc = YAML::LoadFile(f.string());
        for (const auto& c : doc["cases"]) {
          std::string note = c["note"] ? c["note"].as<std::string>() : f.filename().string();
          cases.push_back(Case{tree, folder, f.string(), note, c});
        }
      } catch (const std::exception& e) {
        std::cerr << f.string() << ": cannot load: " << e.what() << "\n";
        ok = false;
      }
    }
  }
  for (const Case& c : cases) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const Case* a, const Case* b) {
    return std::tie(a->tree, a->note) < std::tie(b->tree, b->note);
  });
  return ok;
}

// --- known failures -----------------------------------------------------------

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

struct KnownFailures {
  std::vector<std::string> lines;  // the file as read, to preserve grouping when rewriting
  std::set<std::string> keys;
  bool load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return false;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(line);
      std::string t = trim(line);
      if (!t.empty() && t[0] != '#') keys.insert(t);
    }
    return true;
  }
};

// Rewrites the known-failures list: keeps comments and entries that still fail
// (or did not run), drops entries that pass, appends new failures grouped by cause.
bool write_known_failures(const std::string& path, const KnownFailures& known, const std::set<std::string>& ran,
                          const std::map<std::string, Outcome>& failures) {
  std::ofstream out(path);
  if (!out) return false;
  for (const auto& line : known.lines) {
    std::string t = trim(line);
    if (!t.empty() && t[0] != '#' && ran.count(t) && !failures.count(t)) continue;
    out << line << "\n";
  }
  std::map<std::string, std::vector<std::string>> groups;  // comment -> keys
  for (const auto& [key, o] : failures) {
    if (known.keys.count(key)) continue;
    groups[o.missing.empty() ? "# unclassified" : "# missing builtin: " + o.missing].push_back(key);
  }
  for (const auto& [comment, keys] : groups) {
    out << comment << "\n";
    for (const auto& k : keys) out << k << "\n";
  }
  return static_cast<bool>(out);
}

struct Counts {
  size_t passed = 0, failed = 0, skipped = 0;
};

constexpr const char* kUsage =
    "usage: conformance_runner --root DIR [--known-failures FILE] [--filter SUBSTR] [--verbose]\n"
    "                          [--write-known-failures FILE]\n"
    "  --root DIR                  conformance directory holding v1/ (and v0/)\n"
    "  --known-failures FILE       cases expected to fail (one note a line, v0 cases as v0/<note>)\n"
    "  --filter SUBSTR             run only cases whose note contains SUBSTR\n"
    "  --verbose                   show expected and actual values of failures (known ones too)\n"
    "  --write-known-failures FILE write the failing cases as a known-failures list (exit 0)\n";

int run(int argc, char** argv) {
  std::string root, known_path, filter, write_path;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "--root") {
      ok = value(root);
    } else if (a == "--known-failures") {
      ok = value(known_path);
    } else if (a == "--filter") {
      ok = value(filter);
    } else if (a == "--write-known-failures") {
      ok = value(write_path);
    } else if (a == "--verbose" || a == "-v") {
      verbose = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "conformance_runner: bad argument " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (root.empty()) {
    std::cerr << kUsage;
    return 2;
  }

  KnownFailures known;
  if (!known_path.empty() && !known.load(known_path)) {
    std::cerr << "conformance_runner: cannot read " << known_path << "\n";
    return 2;
  }
  std::vector<Case> cases;
  std::vector<const Case*> order;
  bool loaded = load_cases(root, cases, order);
  if (cases.empty()) {
    std::cerr << "conformance_runner: no cases under " << root << "\n";
    return 2;
  }

  std::map<std::string, Counts> folders;
  std::map<std::string, Outcome> failures;  // key -> outcome, every failing case
  std::set<std::string> ran;
  std::vector<std::string> newly_passing;
  size_t regressions = 0;
  for (const Case* cp : order) {
    const Case& c = *cp;
    if (!filter.empty() && c.note.find(filter) == std::string::npos) continue;
    std::string key = c.key();
    ran.insert(key);
    Outcome o;
    try {
      o = run_case(c);
    } catch (const std::exception& e) {
      o.pass = false;
      o.reason = std::string("exception: ") + e.what();
    }
    bool listed = known.keys.count(key) > 0;
    Counts& counts = folders[c.folder];
    if (o.pass) {
      ++counts.passed;
      if (listed) newly_passing.push_back(key);
      continue;
    }
    failures[key] = o;
    if (listed) {
      ++counts.skipped;
      if (verbose) std::cout << "known failure " << key << ": " << o.reason << "\n";
    } else {
      ++counts.failed;
      ++regressions;
      std::cout << "FAIL " << key << " (" << c.file << "): " << o.reason << "\n";
    }
    if (verbose && !o.detail.empty()) {
      std::string d = "  " + o.detail;
      for (size_t p = d.find('\n'); p != std::string::npos; p = d.find('\n', p + 1)) d.insert(p + 1, "  ");
      std::cout << d << "\n";
    }
  }

  Counts total;
  for (const auto& [folder, n] : folders) {
    std::cout << folder << ": " << n.passed << " passed, " << n.failed << " failed, " << n.skipped << " skipped\n";
    total.passed += n.passed;
    total.failed += n.failed;
    total.skipped += n.skipped;
  }
  if (filter.empty()) {
    for (const auto& k : known.keys)
      if (!ran.count(k)) std::cout << "warning: known failure not found in the suite: " << k << "\n";
  }
  for (const auto& k : newly_passing) std::cout << "newly passing case still listed: " << k << "\n";
  if (!known_path.empty()) std::cout << "known failures: " << total.skipped << " (listed in " << known_path << ")\n";

  bool wrote = false;
  if (!write_path.empty()) {
    if (!write_known_failures(write_path, known, ran, failures)) {
      std::cerr << "conformance_runner: cannot write " << write_path << "\n";
      return 2;
    }
    std::cout << "wrote " << failures.size() << " failing cases to " << write_path << "\n";
    wrote = true;
  }
  std::cout << total.passed << " passed, " << total.failed << " failed, " << total.skipped << " skipped" << std::endl;
  if (!loaded) return 1;
  if (wrote) return 0;
  return regressions || !newly_passing.empty() ? 1 : 0;
}

}  // namespace confidant::conformance

int main(int argc, char** argv) { return confidant::conformance::run(argc, argv); }
