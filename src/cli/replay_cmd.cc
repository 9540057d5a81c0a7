// `confidant replay`: evaluates a recorded request trace against a policy and
// compares each decision (and the print() output) with the recording.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "rego/rego.h"

namespace confidant::cli {

namespace {

using rego::Errors;

constexpr const char* kUsage =
    "usage: confidant replay --policy FILE [--data FILE] [--v0-compatible] TRACE.jsonl\n"
    "  Each trace line is {\"ep\": RULE, \"input\": {...}, \"want\": BOOL?, \"prints\": [LINE...]?}.\n"
    "  Queries data.<package of FILE>.<ep> per line and prints {\"ep\",\"allowed\",\"prints\",\"ns\"},\n"
    "  then a summary; exits 1 when a decision or the print output differs from the recording.\n";

// The package path of the (first) package declaration, e.g. "agent_policy".
std::string package_of(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view l(text.data() + pos, end - pos);
    pos = end + 1;
    size_t b = l.find_first_not_of(" \t");
    if (b == std::string_view::npos || !l.substr(b).starts_with("package")) continue;
    l.remove_prefix(b + 7);
    if (l.empty() || (l[0] != ' ' && l[0] != '\t')) continue;
    size_t s = l.find_first_not_of(" \t");
    if (s == std::string_view::npos) continue;
    size_t e = l.find_first_of(" \t\r#", s);
    return std::string(l.substr(s, e == std::string_view::npos ? e : e - s));
  }
  return "";
}

// A decision: undefined is a deny; non-boolean values are allowed when
// defined and not false, objects by their "allowed" member when present.
bool allowed(const Value& v) {
  if (v.is_object())
    if (const Value* a = v.get("allowed")) return allowed(*a);
  return v.is_defined() && !v.is_false();
}

// Print lines start with the policy's path, which differs between the
// recording and this run: compare from the file's base name on.
std::string strip_dir(const std::string& line) {
  size_t ext = line.find(".rego:");
  if (ext == std::string::npos) return line;
  size_t slash = line.rfind('/', ext);
  return slash == std::string::npos ? line : line.substr(slash + 1);
}

std::string json_line(const std::string& ep, bool allow, const std::vector<std::string>& prints, int64_t ns,
                      const std::string& error) {
  std::string out = "{\"ep\":";
  rego::append_json_string(out, ep);
  out += allow ? ",\"allowed\":true,\"prints\":[" : ",\"allowed\":false,\"prints\":[";
  for (size_t i = 0; i < prints.size(); ++i) {
    if (i) out += ',';
    rego::append_json_string(out, prints[i]);
  }
  out += "],\"ns\":" + std::to_string(ns);
  if (!error.empty()) {
    out += ",\"error\":";
    rego::append_json_string(out, error);
  }
  return out + "}";
}

}  // namespace

int replay_command(const std::vector<std::string>& args) {
  std::string policy_path, data_path, trace_path;
  bool v0 = false;
  auto usage_error = [](const std::string& msg) {
    std::cerr << "confidant replay: " << msg << "\n" << kUsage;
    return 2;
  };
  auto setup_error = [](const std::string& msg) {
    std::cerr << "confidant replay: " << msg << "\n";
    return 2;
  };
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (!trace_path.empty()) return usage_error("more than one trace given");
      trace_path = a.positional();
      continue;
    }
    const std::string& f = a.flag();
    if (f == "--policy" || f == "-p") {
      if (!a.value(policy_path)) return usage_error("--policy needs a value");
    } else if (f == "--data" || f == "-d") {
      if (!a.value(data_path)) return usage_error("--data needs a value");
    } else if (f == "--v0-compatible") {
      v0 = true;
    } else if (f == "-h" || f == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      return usage_error("unknown flag " + f);
    }
  }
  if (policy_path.empty() || trace_path.empty()) return usage_error("--policy and a trace file are required");

  // Load and compile the policy (and optional data) once.
  std::string text, error;
  if (!read_file(policy_path, text, error)) return setup_error(error);
  std::string pkg = package_of(text);
  if (pkg.empty()) return setup_error("no package declaration in " + policy_path);
  Errors errs;
  rego::Engine engine(rego::EngineOptions{.v0 = v0});
  engine.add_module(policy_path, std::move(text), errs);
  if (!data_path.empty()) load_paths(engine, {data_path}, errs);
  std::shared_ptr<const rego::Policy> policy;
  if (errs.empty()) policy = engine.compile(errs);
  if (!policy || !errs.empty()) return setup_error(rego::to_string(errs));

  std::ifstream trace(trace_path);
  if (!trace) return setup_error("cannot open " + trace_path);

  std::map<std::string, std::unique_ptr<rego::Query>> queries;  // one prepared query per entry point
  size_t requests = 0, allowed_count = 0, mismatches = 0, lineno = 0;
  std::string line;
  while (std::getline(trace, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    bool bad = false;  // several reasons may be reported; the line counts once
    auto mismatch = [&](const std::string& why) {
      bad = true;
      std::cerr << trace_path << ":" << lineno << ": mismatch: " << why << "\n";
    };
    Value req;
    error.clear();
    if (!rego::parse_json(line, req, error) || !req.is_object()) {
      mismatch("not a JSON object: " + error);
      ++mismatches;
      continue;
    }
    const Value* ep = req.get("ep");
    if (!ep || !ep->is_string()) {
      mismatch("no \"ep\" string");
      ++mismatches;
      continue;
    }
    ++requests;

    std::string failure;  // an error (preparing or evaluating) is a deny and always a mismatch
    auto& q = queries[ep->str()];
    if (!q) {
      Errors qerrs;
      q = rego::Query::prepare(policy, "data." + pkg + "." + ep->str(), qerrs, v0);
      if (!q) failure = rego::to_string(qerrs);
    }
    rego::EvalOptions opts;
    if (const Value* in = req.get("input")) opts.input = *in;
    std::vector<std::string> prints;
    opts.print = [&prints](const std::string& p) { prints.push_back(p); };
    Value decision;
    int64_t ns = 0;
    if (q) {
      Errors eerrs;
      auto start = std::chrono::steady_clock::now();
      bool ok = q->eval_value(opts, decision, eerrs);
      ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
      if (!ok) {
        failure = rego::to_string(eerrs);
        decision = Value();
      }
    }
    bool allow = allowed(decision);
    allowed_count += allow;
    std::cout << json_line(ep->str(), allow, prints, ns, failure) << "\n";

    if (!failure.empty()) mismatch(ep->str() + ": error: " + failure);
    const Value* want = req.get("want");
    if (want && want->is_bool() && want->as_bool() != allow)
      mismatch(ep->str() + ": want " + (want->as_bool() ? "allow" : "deny") + ", got " + (allow ? "allow" : "deny"));
    const Value* want_prints = req.get("prints");
    if (want_prints && want_prints->is_array()) {
      const auto& wp = want_prints->array_items();
      size_t n = std::max(wp.size(), prints.size());
      for (size_t i = 0; i < n; ++i) {
        std::string w = i < wp.size() ? strip_dir(wp[i].is_string() ? wp[i].str() : rego::to_json(wp[i])) : "<none>";
        std::string g = i < prints.size() ? strip_dir(prints[i]) : "<none>";
        if (w != g) {
          mismatch(ep->str() + ": print output differs at line " + std::to_string(i + 1) + " (want " +
                   std::to_string(wp.size()) + " lines, got " + std::to_string(prints.size()) + "):\n  want: " + w +
                   "\n  got:  " + g);
          break;
        }
      }
    }
    mismatches += bad;
  }
  std::cout << "replay: " << requests << " requests, " << allowed_count << " allowed, " << requests - allowed_count
            << " denied, " << mismatches << " mismatches\n"
            << std::flush;
  return mismatches ? 1 : 0;
}

}  // namespace confidant::cli
