// `confidant eval`: evaluates a query like `opa eval`, with the same output formats.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load.h"
#include "rego/rego.h"

namespace confidant::cli {

namespace {

using rego::Errors;
using rego::QueryResult;
using rego::RegoError;

constexpr const char* kUsage =
    "usage: confidant eval [-d PATH]... [-i FILE | -I] [-f json|pretty|raw] [--v0-compatible]\n"
    "                      [--strict-builtin-errors] [--fail | --fail-defined]\n"
    "                      [--profile [--profile-limit N]] [--explain fails|notes] QUERY\n"
    "  -d, --data PATH             policy (.rego) or data (.json/.yaml) file or directory; repeatable\n"
    "  -i, --input FILE            input document (JSON or YAML)\n"
    "  -I, --stdin-input           read the input document from stdin\n"
    "  -f, --format FORMAT         json (default), pretty or raw\n"
    "      --v0-compatible         parse modules and the query as Rego v0\n"
    "      --strict-builtin-errors treat builtin errors as evaluation errors\n"
    "      --fail                  exit 1 when the query is undefined\n"
    "      --fail-defined          exit 1 when the query is defined\n"
    "      --profile               time and evaluation counts per rule definition, by self time\n"
    "      --profile-limit N       rows of the profile to show (default 10, 0: all)\n"
    "      --explain MODE          fails: every expression that failed, in its rule, with its source;\n"
    "                              notes: the trace(msg) calls\n";

// Go's encoding/json (which opa's output goes through) escapes <, > and &
// and the JavaScript line separators inside strings; these bytes only occur
// inside strings in our JSON, so a byte-level rewrite is exact.
std::string go_json(const Value& v, bool pretty) {
  std::string s = rego::to_json(v, pretty), out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < s.size() && s[i + 1] == '\x80' && (s[i + 2] == '\xA8' || s[i + 2] == '\xA9')) {
      out += s[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string json_string(std::string_view s) { return go_json(Value::string(s), false); }

// Pretty JSON of a value nested `level` indentation steps deep in the envelope.
std::string nested(const Value& v, int level) {
  std::string s = go_json(v, true), out;
  std::string pad(static_cast<size_t>(level) * 2, ' ');
  for (char c : s) {
    out.push_back(c);
    if (c == '\n') out += pad;
  }
  return out;
}

// opa's JSON output: {"result": [...]} with two-space indentation, {} when undefined.
std::string json_result(const QueryResult& r) {
  if (!r.defined()) return "{}\n";
  std::string out = "{\n  \"result\": [\n";
  for (size_t ri = 0; ri < r.rows.size(); ++ri) {
    const auto& row = r.rows[ri];
    out += "    {\n      \"expressions\": [\n";
    for (size_t ei = 0; ei < row.expressions.size(); ++ei) {
      QueryResult::ExprInfo info = ei < r.exprs.size() ? r.exprs[ei] : QueryResult::ExprInfo{};
      out += "        {\n          \"value\": " + nested(row.expressions[ei], 5) + ",\n";
      out += "          \"text\": " + json_string(info.text) + ",\n";
      out += "          \"location\": {\n            \"row\": " + std::to_string(info.row) +
             ",\n            \"col\": " + std::to_string(info.col) + "\n          }\n        }";
      out += ei + 1 < row.expressions.size() ? ",\n" : "\n";
    }
    out += "      ]";
    if (!row.bindings.empty()) {
      out += ",\n      \"bindings\": {\n";
      for (size_t bi = 0; bi < row.bindings.size(); ++bi) {
        out += "        " + json_string(row.bindings[bi].first) + ": " + nested(row.bindings[bi].second, 4);
        out += bi + 1 < row.bindings.size() ? ",\n" : "\n";
      }
      out += "      }";
    }
    out += ri + 1 < r.rows.size() ? "\n    },\n" : "\n    }\n";
  }
  out += "  ]\n}\n";
  return out;
}

// opa's JSON errors: {"errors": [{"message", "code", "location"}]} (Go's field order).
std::string json_errors(const Errors& errs) {
  std::string out = "{\n  \"errors\": [\n";
  for (size_t i = 0; i < errs.size(); ++i) {
    const RegoError& e = errs[i];
    out += "    {\n      \"message\": " + json_string(e.message);
    if (!e.code.empty()) out += ",\n      \"code\": " + json_string(e.code);
    if (e.row) {  // loader errors have a file but no position; opa prints no location for them
      out += ",\n      \"location\": {\n        \"file\": " + json_string(e.file) +
             ",\n        \"row\": " + std::to_string(e.row) + ",\n        \"col\": " + std::to_string(e.col) +
             "\n      }";
    }
    out += i + 1 < errs.size() ? "\n    },\n" : "\n    }\n";
  }
  out += "  ]\n}\n";
  return out;
}

// opa's text form of errors (pretty and raw formats).
std::string text_errors(const Errors& errs) {
  auto one = [](const RegoError& e) { return e.code.empty() ? e.message : e.to_string(); };
  std::string out = errs.size() == 1 ? "1 error occurred: " : std::to_string(errs.size()) + " errors occurred:\n";
  for (size_t i = 0; i < errs.size(); ++i) out += (i ? "\n" : "") + one(errs[i]);
  return out + "\n";
}

std::string raw_result(const QueryResult& r) {
  std::string out;
  for (const auto& row : r.rows) {
    for (size_t i = 0; i < row.expressions.size(); ++i) {
      const Value& v = row.expressions[i];
      out += v.is_string() ? v.str() : go_json(v, false);
      out += i + 1 < row.expressions.size() ? " " : "\n";
    }
  }
  return out;
}

// A table as github.com/olekukonko/tablewriter draws it for opa's pretty format.
std::string table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string rule = "+";
  for (size_t w : width) rule += std::string(w + 2, '-') + "+";
  rule += "\n";
  auto line = [&](const std::vector<std::string>& cells, bool center) {
    std::string s = "|";
    for (size_t c = 0; c < cells.size(); ++c) {
      size_t gap = width[c] - cells[c].size(), left = center ? gap / 2 : 0;
      s += " " + std::string(left, ' ') + cells[c] + std::string(gap - left, ' ') + " |";
    }
    return s + "\n";
  };
  std::string out = rule + line(header, true) + rule;
  for (const auto& row : rows) out += line(row, false);
  return out + rule;
}

std::string pretty_result(const QueryResult& r) {
  if (!r.defined()) return "undefined\n";
  const auto& first = r.rows[0];
  auto all_bool = [](const std::vector<Value>& xs) {
    return std::all_of(xs.begin(), xs.end(), [](const Value& v) { return v.is_bool(); });
  };
  if (r.rows.size() == 1 && first.bindings.empty() && !first.expressions.empty() &&
      (first.expressions.size() == 1 || all_bool(first.expressions)))
    return go_json(first.expressions[0], true) + "\n";
  // Columns: variables by name, then the non-boolean expressions (all of them without variables).
  std::vector<std::string> header;
  std::vector<size_t> expr_cols;
  for (const auto& b : first.bindings) header.push_back(b.first);
  for (size_t i = 0; i < first.expressions.size(); ++i) {
    if (!first.expressions[i].is_bool() || first.bindings.empty()) {
      header.push_back(i < r.exprs.size() ? r.exprs[i].text : "");
      expr_cols.push_back(i);
    }
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (const auto& name : first.bindings) {
      auto it =
          std::find_if(row.bindings.begin(), row.bindings.end(), [&](const auto& b) { return b.first == name.first; });
      cells.push_back(it == row.bindings.end() ? "null" : go_json(it->second, false));
    }
    for (size_t i : expr_cols) cells.push_back(i < row.expressions.size() ? go_json(row.expressions[i], false) : "");
    rows.push_back(std::move(cells));
  }
  return table(header, rows);
}

// The profile as JSON values (at most `limit` rows, 0: all).
Value profile_value(const QueryResult& r, size_t limit) {
  rego::ValueVec rows;
  for (size_t i = 0; i < r.profile.size() && (limit == 0 || i < limit); ++i) {
    const auto& p = r.profile[i];
    rows.push_back(Value::object({
        {Value::string("rule"), Value::string(p.rule)},
        {Value::string("location"), Value::object({{Value::string("file"), Value::string(p.file)},
                                                   {Value::string("row"), Value::integer(p.row)},
                                                   {Value::string("col"), Value::integer(p.col)}})},
        {Value::string("num_eval"), Value::integer(static_cast<int64_t>(p.num_eval))},
        {Value::string("num_success"), Value::integer(static_cast<int64_t>(p.num_success))},
        {Value::string("self_time_ns"), Value::integer(static_cast<int64_t>(p.self_ns))},
        {Value::string("total_time_ns"), Value::integer(static_cast<int64_t>(p.total_ns))},
    }));
  }
  return Value::array(std::move(rows));
}

Value explanation_value(const QueryResult& r) {
  rego::ValueVec rows;
  for (const auto& t : r.trace) {
    rows.push_back(Value::object({
        {Value::string("op"), Value::string(t.kind == rego::TraceLine::Kind::kFail ? "Fail" : "Note")},
        {Value::string("rule"), Value::string(t.rule)},
        {Value::string("location"), Value::object({{Value::string("file"), Value::string(t.file)},
                                                   {Value::string("row"), Value::integer(t.row)},
                                                   {Value::string("col"), Value::integer(t.col)}})},
        {Value::string("depth"), Value::integer(t.depth)},
        {Value::string("text"), Value::string(t.text)},
    }));
  }
  return Value::array(std::move(rows));
}

// Adds members to opa's JSON result envelope (`{}` when undefined).
std::string with_members(std::string envelope, const std::vector<std::pair<std::string, Value>>& members) {
  if (members.empty()) return envelope;
  bool empty = envelope == "{}\n";
  std::string out = empty ? "{\n" : envelope.substr(0, envelope.size() - 2);  // drop "}\n"
  if (!empty) out.insert(out.size() - 1, ",");                                // after the last member
  for (size_t i = 0; i < members.size(); ++i) {
    out += "  " + json_string(members[i].first) + ": " + nested(members[i].second, 1);
    out += i + 1 < members.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

std::string ms(uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string pretty_profile(const QueryResult& r, size_t limit) {
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < r.profile.size() && (limit == 0 || i < limit); ++i) {
    const auto& p = r.profile[i];
    rows.push_back({ms(p.self_ns), ms(p.total_ns), std::to_string(p.num_eval), std::to_string(p.num_success), p.rule,
                    p.file + ":" + std::to_string(p.row)});
  }
  return table({"SELF TIME", "TOTAL TIME", "NUM EVAL", "NUM SUCCESS", "RULE", "LOCATION"}, rows);
}

// One line per event, indented by rule depth as opa's pretty traces are:
// "policy.rego:12  | | Fail input.user == \"admin\"  (data.x.allow)".
std::string pretty_explanation(const QueryResult& r) {
  size_t width = 0;
  std::vector<std::string> where;
  for (const auto& t : r.trace) {
    where.push_back((t.file.empty() ? "query" : t.file) + ":" + std::to_string(t.row));
    width = std::max(width, where.back().size());
  }
  std::string out;
  for (size_t i = 0; i < r.trace.size(); ++i) {
    const auto& t = r.trace[i];
    out += where[i] + std::string(width - where[i].size() + 1, ' ');
    for (uint32_t d = 0; d < t.depth; ++d) out += "| ";
    out += t.kind == rego::TraceLine::Kind::kFail ? "Fail " : "Note ";
    std::string text = t.text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    out += text;
    if (!t.rule.empty()) out += "  (" + t.rule + ")";
    out += "\n";
  }
  return out;
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
  std::vector<std::string> data_paths;
  std::string input_path, format = "json", query;
  bool stdin_input = false, v0 = false, strict = false, fail = false, fail_defined = false, have_query = false;
  bool profile = false;
  size_t profile_limit = 10;
  std::string explain;
  ArgCursor a(args);
  while (a.next()) {
    if (!a.is_flag()) {
      if (have_query) {
        std::cerr << "confidant eval: more than one query given\n" << kUsage;
        return 2;
      }
      query = a.positional();
      have_query = true;
      continue;
    }
    const std::string& f = a.flag();
    std::string v;
    auto need = [&] {
      if (a.value(v)) return true;
      std::cerr << "confidant eval: " << f << " needs a value\n";
      return false;
    };
    if (f == "-d" || f == "--data") {
      if (!need()) return 2;
      data_paths.push_back(v);
    } else if (f == "-i" || f == "--input") {
      if (!need()) return 2;
      input_path = v;
    } else if (f == "-I" || f == "--stdin-input") {
      stdin_input = true;
    } else if (f == "-f" || f == "--format") {
      if (!need()) return 2;
      format = v;
      if (format != "json" && format != "pretty" && format != "raw") {
        std::cerr << "confidant eval: unknown format '" << format << "' (json, pretty, raw)\n";
        return 2;
      }
    } else if (f == "--v0-compatible") {
      v0 = true;
    } else if (f == "--strict-builtin-errors") {
      strict = true;
    } else if (f == "--fail") {
      fail = true;
    } else if (f == "--fail-defined") {
      fail_defined = true;
    } else if (f == "--profile") {
      profile = true;
    } else if (f == "--profile-limit") {
      if (!need()) return 2;
      char* end = nullptr;
      unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') {
        std::cerr << "confidant eval: --profile-limit needs a number\n";
        return 2;
      }
      profile_limit = n;
    } else if (f == "--explain") {
      if (!need()) return 2;
      explain = v;
      if (explain != "fails" && explain != "notes") {
        std::cerr << "confidant eval: unknown --explain mode '" << explain << "' (fails, notes)\n";
        return 2;
      }
    } else if (f == "-h" || f == "--help") {
      std::cout << kUsage;
      return 0;
    } else {
      std::cerr << "confidant eval: unknown flag " << f << "\n" << kUsage;
      return 2;
    }
  }
  if (!have_query) {
    std::cerr << "confidant eval: no query given\n" << kUsage;
    return 2;
  }

  Errors errs;
  auto report_errors = [&] {
    std::cout << (format == "json" ? json_errors(errs) : text_errors(errs)) << std::flush;
    return 1;
  };

  rego::Engine engine(rego::EngineOptions{.v0 = v0});
  if (!load_paths(engine, data_paths, errs)) return report_errors();

  rego::EvalOptions opts;
  opts.strict_builtin_errors = strict;
  opts.trace.profile = profile;
  opts.trace.fails = explain == "fails";
  opts.trace.notes = explain == "notes";
  opts.print = [](const std::string& line) { std::cerr << line << '\n'; };
  if (!input_path.empty() || stdin_input) {
    std::string text, error, name = stdin_input ? "stdin" : input_path;
    if (stdin_input) {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else if (!read_file(input_path, text, error)) {
      errs.push_back(RegoError{.code = "", .message = error, .file = input_path});
      return report_errors();
    }
    if (!parse_document(name, text, opts.input, error)) {
      errs.push_back(RegoError{.code = "", .message = error, .file = name});
      return report_errors();
    }
  }

  auto policy = engine.compile(errs);
  if (!policy) return report_errors();
  auto q = rego::Query::prepare(policy, query, errs, v0);
  if (!q) return report_errors();
  QueryResult result;
  if (!q->eval(opts, result, errs)) {
    // What led to the error is often the question: show the trace gathered so far.
    if (!explain.empty() && format != "json") std::cerr << pretty_explanation(result);
    return report_errors();
  }

  if (format == "json") {
    std::vector<std::pair<std::string, Value>> members;
    if (!explain.empty()) members.emplace_back("explanation", explanation_value(result));
    if (profile) members.emplace_back("profile", profile_value(result, profile_limit));
    std::cout << with_members(json_result(result), members);
  } else {
    if (!explain.empty()) std::cout << pretty_explanation(result);
    std::cout << (format == "raw" ? raw_result(result) : pretty_result(result));
    if (profile) std::cout << pretty_profile(result, profile_limit);
  }
  std::cout << std::flush;
  if ((fail && !result.defined()) || (fail_defined && result.defined())) return 1;
  return 0;
}

}  // namespace confidant::cli
