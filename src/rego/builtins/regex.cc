// regex.*, glob.* builtins.
//
// OPA uses Go's regexp package; RE2 implements the same syntax and the same
// leftmost-first semantics, so patterns are compiled with RE2 and the Go
// iteration rules (FindAll, Split, ReplaceAll, Expand) are reproduced on top.
// glob.match follows gobwas/glob's grammar; a glob is translated to an RE2
// expression so matching stays linear in the subject. Compiled patterns live
// in process-wide caches because policies usually match the same handful of
// patterns on every request.
#include <re2/re2.h>

#include <algorithm>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/builtins/regex_nfa.h"
#include "rego/builtins/simple_regex.h"

namespace confidant::rego {
namespace {

// ---------------------------------------------------------------- helpers

struct Rune {
  uint32_t cp;
  size_t width;
};

// Go's utf8.DecodeRuneInString: invalid or truncated sequences decode as
// U+FFFD with width 1. `i` must be < s.size().
Rune decode_rune(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return k < n && (b(k) & 0xC0) == 0x80; };
  uint32_t c = b(0);
  if (c < 0x80) return {c, 1};
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return {((c & 0x1F) << 6) | (b(1) & 0x3F), 2};
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    uint32_t cp = ((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3};
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    uint32_t cp = ((c & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4};
  }
  return {0xFFFD, 1};
}

void append_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Go's strconv.Quote (used by %q in error messages). Printability is
// approximated: C0/C1 controls, DEL and invalid bytes are escaped.
std::string go_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (r.cp == 0xFFFD && r.width == 1) {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    } else if (r.cp == '"' || r.cp == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r.cp));
    } else if (r.cp < 0x20 || r.cp == 0x7F || (r.cp >= 0x80 && r.cp < 0xA0)) {
      switch (r.cp) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (r.cp < 0x80) {
            out += "\\x";
            out.push_back(hex[r.cp >> 4]);
            out.push_back(hex[r.cp & 15]);
          } else {
            out += "\\u00";
            out.push_back(hex[r.cp >> 4]);
            out.push_back(hex[r.cp & 15]);
          }
      }
    } else {
      out.append(s.substr(i, r.width));
    }
    i += r.width;
  }
  out.push_back('"');
  return out;
}

// Go's IntOperand (a number that is an integer fitting int64).
int64_t int_operand(std::string_view builtin, std::span<const Value> args, int i) {
  const Value& v = args[static_cast<size_t>(i)];
  if (!v.is_number()) type_error(builtin, i + 1, "number", v);
  int64_t out;
  if (!v.to_int64(out)) {
    throw BuiltinError("eval_type_error", std::string(builtin) + ": operand " + std::to_string(i + 1) +
                                              " must be integer number but got floating-point number");
  }
  return out;
}

[[noreturn]] void operand_error(std::string_view builtin, int pos, std::string_view msg) {
  throw BuiltinError("eval_type_error",
                     std::string(builtin) + ": operand " + std::to_string(pos) + " " + std::string(msg));
}

// Go's regexp reads invalid UTF-8 bytes as U+FFFD, RE2 matches nothing on
// them. A subject with invalid bytes is matched in a copy where each such
// byte is U+FFFD, and match positions are mapped back to the original bytes.
// Valid subjects (the normal case) are used in place.
class Subject {
 public:
  explicit Subject(std::string_view s) : orig_(s), text_(s) {
    size_t i = 0;
    while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
    bool valid = true;
    for (size_t j = i; j < s.size();) {
      Rune r = decode_rune(s, j);
      if (r.cp == 0xFFFD && r.width == 1 && static_cast<unsigned char>(s[j]) >= 0x80) {
        valid = false;
        break;
      }
      j += r.width;
    }
    if (valid) return;
    for (size_t j = 0; j < s.size();) {
      Rune r = decode_rune(s, j);
      bool bad = r.cp == 0xFFFD && r.width == 1 && static_cast<unsigned char>(s[j]) >= 0x80;
      std::string_view piece = bad ? std::string_view("\xEF\xBF\xBD") : s.substr(j, r.width);
      for (size_t k = 0; k < piece.size(); ++k) map_.push_back(j);
      storage_.append(piece);
      j += r.width;
    }
    map_.push_back(s.size());
    text_ = storage_;
  }
  Subject(const Subject&) = delete;
  Subject& operator=(const Subject&) = delete;

  std::string_view text() const { return text_; }
  re2::StringPiece piece() const { return re2::StringPiece(text_.data(), text_.size()); }
  // Offset in the original string of an offset in text().
  size_t original(size_t i) const { return map_.empty() ? i : map_[i]; }
  // The original bytes of a piece of text() (unmatched groups stay null).
  re2::StringPiece original(re2::StringPiece p) const {
    if (map_.empty() || !p.data()) return p;
    size_t b = original(static_cast<size_t>(p.data() - text_.data()));
    size_t e = original(static_cast<size_t>(p.data() - text_.data()) + p.size());
    return re2::StringPiece(orig_.data() + b, e - b);
  }

 private:
  std::string_view orig_, text_;
  std::string storage_;
  std::vector<size_t> map_;
};

// ---------------------------------------------------------------- caches

struct SvHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Compiled objects shared across queries and threads. Bounded: when full it
// is simply emptied, which keeps the hot path to one shared lock and one
// lookup; the patterns in active use are recompiled on their next call.
template <class T>
class CompiledCache {
 public:
  std::shared_ptr<const T> find(std::string_view key) {
    std::shared_lock lock(mu_);
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second;
  }
  void insert(std::string_view key, std::shared_ptr<const T> value) {
    std::unique_lock lock(mu_);
    if (map_.size() >= kMaxEntries) map_.clear();
    map_.emplace(std::string(key), std::move(value));
  }

 private:
  static constexpr size_t kMaxEntries = 1000;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const T>, SvHash, std::equal_to<>> map_;
};

// ---------------------------------------------------------------- RE2 with Go syntax

const RE2::Options& re2_options() {
  static const RE2::Options opts = [] {
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(64 << 20);  // Go has no program-size budget; stay well above RE2's 8MB default
    return o;
  }();
  return opts;
}

// Go accepts `(?<name>...)` for named groups (Go 1.22); this RE2 only knows
// `(?P<name>...)`. Rewrites outside character classes and \Q...\E quotes.
std::string go_to_re2(std::string_view p) {
  if (p.find("(?<") == std::string_view::npos) return std::string(p);
  std::string out;
  out.reserve(p.size() + 4);
  for (size_t i = 0; i < p.size();) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      if (p[i + 1] == 'Q') {
        size_t end = p.find("\\E", i + 2);
        end = end == std::string_view::npos ? p.size() : end + 2;
        out.append(p.substr(i, end - i));
        i = end;
      } else {
        out.append(p.substr(i, 2));
        i += 2;
      }
      continue;
    }
    if (c == '[') {  // skip a class: a leading ']' (after optional '^') is literal
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\')
          ++j;
        else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
          size_t e = p.find(":]", j + 2);
          if (e != std::string_view::npos) j = e + 1;
        }
        ++j;
      }
      j = std::min(j + 1, p.size());
      out.append(p.substr(i, j - i));
      i = j;
      continue;
    }
    if (p.compare(i, 3, "(?<") == 0 && i + 3 < p.size() && p[i + 3] != '=' && p[i + 3] != '!') {
      out += "(?P<";
      i += 3;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

// Go's regexp/syntax error text: "error parsing regexp: <code>: `<expr>`".
std::string go_regex_error(const RE2& re) {
  const char* code = "unexpected error";
  switch (re.error_code()) {
    case RE2::ErrorBadEscape: code = "invalid escape sequence"; break;
    case RE2::ErrorBadCharClass: code = "invalid character class"; break;
    case RE2::ErrorBadCharRange: code = "invalid character class range"; break;
    case RE2::ErrorMissingBracket: code = "missing closing ]"; break;
    case RE2::ErrorMissingParen: code = "missing closing )"; break;
    case RE2::ErrorUnexpectedParen: code = "unexpected )"; break;
    case RE2::ErrorTrailingBackslash: code = "trailing backslash at end of expression"; break;
    case RE2::ErrorRepeatArgument: code = "missing argument to repetition operator"; break;
    case RE2::ErrorRepeatSize: code = "invalid repeat count"; break;
    case RE2::ErrorRepeatOp: code = "invalid nested repetition operator"; break;
    case RE2::ErrorBadPerlOp: code = "invalid or unsupported Perl syntax"; break;
    case RE2::ErrorBadUTF8: code = "invalid UTF-8"; break;
    case RE2::ErrorBadNamedCapture: code = "invalid named capture"; break;
    case RE2::ErrorPatternTooLarge: code = "expression too large"; break;
    default: break;
  }
  return std::string("error parsing regexp: ") + code + ": `" + re.error_arg() + "`";
}

using RegexPtr = std::shared_ptr<const RE2>;

CompiledCache<RE2>& regex_cache() {
  static CompiledCache<RE2> cache;
  return cache;
}

// Returns nullptr with `error` set when the pattern does not compile.
RegexPtr try_compile(const std::string& pattern, std::string* error) {
  if (auto re = regex_cache().find(pattern)) return re;
  auto re = std::make_shared<const RE2>(go_to_re2(pattern), re2_options());
  if (!re->ok()) {
    if (error) *error = go_regex_error(*re);
    return nullptr;
  }
  regex_cache().insert(pattern, re);
  return re;
}

RegexPtr compile(std::string_view builtin, const std::string& pattern) {
  std::string err;
  RegexPtr re = try_compile(pattern, &err);
  if (!re) builtin_error(builtin, err);
  return re;
}

// Go's allMatches: successive leftmost-first matches, where an empty match
// right after the previous match is skipped and the search then advances one
// rune. `deliver` receives the submatches (unmatched groups have null data).
template <class F>
void for_each_match(const RE2& re, const Subject& subj, int64_t n, int ncap, F&& deliver) {
  std::string_view s = subj.text();
  std::vector<re2::StringPiece> m(static_cast<size_t>(ncap));
  size_t pos = 0;
  int64_t prev_end = -1;
  for (int64_t i = 0; (n < 0 || i < n) && pos <= s.size();) {
    if (!re.Match(subj.piece(), pos, s.size(), RE2::UNANCHORED, m.data(), ncap)) break;
    size_t b = static_cast<size_t>(m[0].data() - s.data());
    size_t e = b + m[0].size();
    bool accept = true;
    if (e == pos) {  // empty match
      if (static_cast<int64_t>(b) == prev_end) accept = false;
      pos += pos < s.size() ? decode_rune(s, pos).width : 1;
    } else {
      pos = e;
    }
    prev_end = static_cast<int64_t>(e);
    if (accept) {
      for (auto& g : m) g = subj.original(g);
      deliver(m);
      ++i;
    }
  }
}

Value regex_is_valid(BuiltinContext&, std::span<const Value> a) {
  if (!a[0].is_string()) return Value::false_value();
  return Value::boolean(try_compile(a[0].str(), nullptr) != nullptr);
}

Value regex_match(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.match";
  const std::string& pattern = arg_string(kName, a, 0);
  const std::string& s = arg_string(kName, a, 1);
  if (auto simple = simple_regex_match(pattern, s)) return Value::boolean(*simple);
  // The common subset without RE2's construction cost (~150-400k instructions a pattern,
  // paid by the first request that meets it); anything else, and every error, is RE2's.
  if (auto nfa = nfa_regex_match(pattern, s)) return Value::boolean(*nfa);
  RegexPtr re = compile(kName, pattern);
  Subject subj(s);
  return Value::boolean(re->Match(subj.piece(), 0, subj.text().size(), RE2::UNANCHORED, nullptr, 0));
}

Value regex_split(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.split";
  const std::string& pattern = arg_string(kName, a, 0);
  const std::string& s = arg_string(kName, a, 1);
  RegexPtr re = compile(kName, pattern);
  // Go's Regexp.Split(s, -1).
  if (!pattern.empty() && s.empty()) return Value::array({Value::string("")});
  ValueVec out;
  size_t beg = 0, end = 0;
  for_each_match(*re, Subject(s), -1, 1, [&](const std::vector<re2::StringPiece>& m) {
    size_t b = static_cast<size_t>(m[0].data() - s.data());
    end = b;
    if (b + m[0].size() != 0) out.push_back(Value::string(std::string_view(s).substr(beg, end - beg)));
    beg = b + m[0].size();
  });
  if (end != s.size()) out.push_back(Value::string(std::string_view(s).substr(beg)));
  return Value::array(std::move(out));
}

Value regex_find_n(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.find_n";
  const std::string& pattern = arg_string(kName, a, 0);
  const std::string& s = arg_string(kName, a, 1);
  int64_t n = int_operand(kName, a, 2);
  RegexPtr re = compile(kName, pattern);
  ValueVec out;
  for_each_match(*re, Subject(s), n, 1, [&](const std::vector<re2::StringPiece>& m) {
    out.push_back(Value::string(std::string_view(m[0].data(), m[0].size())));
  });
  return Value::array(std::move(out));
}

Value regex_find_all_string_submatch_n(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.find_all_string_submatch_n";
  const std::string& pattern = arg_string(kName, a, 0);
  const std::string& s = arg_string(kName, a, 1);
  int64_t n = int_operand(kName, a, 2);
  RegexPtr re = compile(kName, pattern);
  ValueVec out;
  for_each_match(*re, Subject(s), n, 1 + re->NumberOfCapturingGroups(), [&](const std::vector<re2::StringPiece>& m) {
    ValueVec groups;
    groups.reserve(m.size());
    for (const auto& g : m) groups.push_back(Value::string(g.data() ? std::string_view(g.data(), g.size()) : ""));
    out.push_back(Value::array(std::move(groups)));
  });
  return Value::array(std::move(out));
}

// Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups expand to
// nothing and a malformed reference leaves the '$' as text.
void expand(std::string& dst, std::string_view tmpl, const RE2& re, const std::vector<re2::StringPiece>& m) {
  // A name is a run of letters, digits and '_' (Unicode letters as in Go).
  static const RE2 name_re("[\\p{L}\\p{Nd}_]+", re2_options());
  const auto& names = re.CapturingGroupNames();
  while (!tmpl.empty()) {
    size_t d = tmpl.find('$');
    if (d == std::string_view::npos) break;
    dst.append(tmpl.substr(0, d));
    tmpl.remove_prefix(d + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      dst.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    bool brace = !tmpl.empty() && tmpl[0] == '{';
    std::string_view rest = brace ? tmpl.substr(1) : tmpl;
    re2::StringPiece name;
    bool ok = name_re.Match(re2::StringPiece(rest.data(), rest.size()), 0, rest.size(), RE2::ANCHOR_START, &name, 1);
    size_t used = ok ? name.size() : 0;
    if (ok && brace) {
      if (used >= rest.size() || rest[used] != '}')
        ok = false;
      else
        ++used;
    }
    if (!ok) {
      dst.push_back('$');
      continue;
    }
    std::string_view nm(name.data(), name.size());
    tmpl = rest.substr(used);
    // Numeric reference (no leading zeros, below 1e8), otherwise a group name.
    int64_t num = 0;
    for (char c : nm) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (nm.size() > 1 && nm[0] == '0') num = -1;
    auto append_group = [&](size_t i) {
      if (i < m.size() && m[i].data()) dst.append(m[i].data(), m[i].size());
    };
    if (num >= 0) {
      append_group(static_cast<size_t>(num));
    } else {
      for (const auto& [idx, gname] : names) {
        if (gname == nm && static_cast<size_t>(idx) < m.size() && m[static_cast<size_t>(idx)].data()) {
          append_group(static_cast<size_t>(idx));
          break;
        }
      }
    }
  }
  dst.append(tmpl);
}

Value regex_replace(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.replace";
  const std::string& s = arg_string(kName, a, 0);
  const std::string& pattern = arg_string(kName, a, 1);
  const std::string& value = arg_string(kName, a, 2);
  RegexPtr re = compile(kName, pattern);
  // Go's Regexp.ReplaceAllString (positions found in subj.text(), text copied from s).
  Subject subj(s);
  std::string_view t = subj.text();
  int ncap = 1 + re->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> m(static_cast<size_t>(ncap));
  std::string out;
  size_t last_end = 0, last_end_orig = 0, search = 0;
  bool changed = false;
  while (search <= t.size()) {
    if (!re->Match(subj.piece(), search, t.size(), RE2::UNANCHORED, m.data(), ncap)) break;
    size_t b = static_cast<size_t>(m[0].data() - t.data());
    size_t e = b + m[0].size();
    out.append(s, last_end_orig, subj.original(b) - last_end_orig);
    // No replacement for an empty match right after the previous match.
    if (e > last_end || b == 0) {
      for (auto& g : m) g = subj.original(g);
      expand(out, value, *re, m);
      changed = true;
    }
    last_end = e;
    last_end_orig = subj.original(e);
    size_t width = search < t.size() ? decode_rune(t, search).width : 0;
    if (search + width > e)
      search += width;
    else if (search + 1 > e)
      ++search;
    else
      search = e;
  }
  if (!changed) return a[0];
  out.append(s, last_end_orig);
  return Value::string(std::move(out));
}

// ---------------------------------------------------------------- regex.template_match

std::string go_quote_meta(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Value regex_template_match(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.template_match";
  const std::string& tpl = arg_string(kName, a, 0);
  const std::string& s = arg_string(kName, a, 1);
  const std::string& start = arg_string(kName, a, 2);
  const std::string& end = arg_string(kName, a, 3);
  if (start.size() != 1) {
    builtin_error(
        kName, "start delimiter has to be exactly one character long but is " + std::to_string(start.size()) + " long");
  }
  if (end.size() != 1) {  // OPA reports the start delimiter's length here
    builtin_error(
        kName, "end delimiter has to be exactly one character long but is " + std::to_string(start.size()) + " long");
  }
  static CompiledCache<RE2> cache;
  std::string key = start + end + tpl;
  RegexPtr re = cache.find(key);
  if (!re) {
    // gorilla/mux style: literal text between first-level delimiters, each
    // delimited part a regex group; the whole template is anchored.
    std::vector<size_t> idx;
    int level = 0;
    size_t open = 0;
    for (size_t i = 0; i < tpl.size(); ++i) {
      if (tpl[i] == start[0]) {
        if (++level == 1) open = i;
      } else if (tpl[i] == end[0]) {
        if (--level == 0) {
          idx.push_back(open);
          idx.push_back(i + 1);
        } else if (level < 0) {
          builtin_error(kName, "unbalanced braces in " + go_quote(tpl));
        }
      }
    }
    if (level != 0) builtin_error(kName, "unbalanced braces in " + go_quote(tpl));
    std::string pattern = "^";
    size_t last = 0;
    for (size_t i = 0; i < idx.size(); i += 2) {
      std::string part = tpl.substr(idx[i] + 1, idx[i + 1] - idx[i] - 2);
      pattern += go_quote_meta(std::string_view(tpl).substr(last, idx[i] - last)) + "(" + part + ")";
      last = idx[i + 1];
      RE2 var(go_to_re2("^" + part + "$"), re2_options());
      if (!var.ok()) builtin_error(kName, go_regex_error(var));
    }
    pattern += go_quote_meta(std::string_view(tpl).substr(last)) + "$";
    auto compiled = std::make_shared<const RE2>(go_to_re2(pattern), re2_options());
    if (!compiled->ok()) builtin_error(kName, go_regex_error(*compiled));
    cache.insert(key, compiled);
    re = compiled;
  }
  Subject subj(s);
  return Value::boolean(re->Match(subj.piece(), 0, subj.text().size(), RE2::UNANCHORED, nullptr, 0));
}

// ---------------------------------------------------------------- glob.match

// gobwas/glob (v0.2.3) lexer and parser, emitting an equivalent RE2 pattern:
//   *  any run of non-delimiters     **  any run          ?  one non-delimiter
//   [abc] [!abc] [a-z] [!a-z]  one character (delimiters included)
//   {a,b,...}  alternatives         \x  literal x
class GlobCompiler {
 public:
  GlobCompiler(std::string_view pattern, const std::vector<uint32_t>& delims) {
    for (size_t i = 0; i < pattern.size();) {
      Rune r = decode_rune(pattern, i);
      in_.push_back(r.cp);
      i += r.width;
    }
    for (uint32_t c : delims) not_delims_ += lit(c);
  }

  // The RE2 pattern, or false with error() set to gobwas's message.
  bool compile(std::string& re) {
    int terms = 0;
    while (pos_ < in_.size()) {
      if (bad(pos_)) return fail("could not read rune");
      uint32_t c = in_[pos_];
      if (c == '{') {
        ++terms;
        re += "(?:";
        ++pos_;
      } else if (c == ',' && terms > 0) {
        re += "|";
        ++pos_;
      } else if (c == '}' && terms > 0) {
        --terms;
        re += ")";
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        if (!range(re)) return false;
      } else if (c == '?') {
        re += not_delims_.empty() ? "." : "[^" + not_delims_ + "]";
        ++pos_;
      } else if (c == '*') {
        ++pos_;
        if (pos_ < in_.size() && in_[pos_] == '*') {
          ++pos_;
          re += ".*";
        } else {
          re += not_delims_.empty() ? ".*" : "[^" + not_delims_ + "]*";
        }
      } else {
        std::string text;
        if (!read_text(text, terms > 0 ? std::u32string_view(U"?*[{},") : std::u32string_view(U"?*[{"))) return false;
        re += RE2::QuoteMeta(text);
      }
    }
    re.append(static_cast<size_t>(terms), ')');  // an unclosed '{' is closed by the end of input
    return true;
  }

  const std::string& error() const { return err_; }

 private:
  static std::string lit(uint32_t cp) {
    char buf[16];
    snprintf(buf, sizeof buf, "\\x{%x}", cp);
    return buf;
  }

  bool fail(std::string msg) {
    err_ = std::move(msg);
    return false;
  }

  // gobwas's lexer reports U+FFFD (valid or not) as unreadable.
  bool bad(size_t i) const { return in_[i] == 0xFFFD; }

  // Text up to a breaker, with backslash escapes resolved (a trailing
  // backslash is dropped, as gobwas does).
  bool read_text(std::string& out, std::u32string_view breakers) {
    bool escaped = false;
    for (; pos_ < in_.size(); ++pos_) {
      if (bad(pos_)) return fail("could not read rune");
      uint32_t c = in_[pos_];
      if (!escaped) {
        if (c == '\\') {
          escaped = true;
          continue;
        }
        if (breakers.find(static_cast<char32_t>(c)) != std::u32string_view::npos) break;
      }
      escaped = false;
      append_utf8(out, c);
    }
    return true;
  }

  // After '[': "!"? then either "lo-hi" or a list of characters, then ']'.
  bool range(std::string& re) {
    auto next_ok = [&]() {
      if (pos_ >= in_.size()) return fail("unexpected end of input");
      if (bad(pos_)) return fail("could not read rune");
      return true;
    };
    bool negate = false;
    if (!next_ok()) return false;
    if (in_[pos_] == '!') {
      negate = true;
      ++pos_;
      if (!next_ok()) return false;
    }
    std::string body;
    if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '-') {
      uint32_t lo = in_[pos_];
      pos_ += 2;
      if (!next_ok()) return false;
      uint32_t hi = in_[pos_++];
      if (pos_ >= in_.size()) return fail("unexpected end of input");
      if (in_[pos_++] != ']') return fail("expected close range character");
      if (hi < lo) {
        std::string h, l;
        append_utf8(h, hi);
        append_utf8(l, lo);
        return fail("hi character '" + h + "' should be greater than lo '" + l + "'");
      }
      if (lo == 0 || hi == 0) return fail("could not parse range");
      body = lit(lo) + "-" + lit(hi);
    } else {
      std::string chars;
      if (!read_text(chars, U"]")) return false;
      if (pos_ >= in_.size()) return fail("unexpected end of input");
      ++pos_;  // ']'
      if (chars.empty()) return fail("could not parse range");
      for (size_t i = 0; i < chars.size();) {
        Rune r = decode_rune(chars, i);
        body += lit(r.cp);
        i += r.width;
      }
    }
    re += (negate ? "[^" : "[") + body + "]";
    return true;
  }

  std::vector<uint32_t> in_;
  size_t pos_ = 0;
  std::string not_delims_;  // class body of the delimiters; empty when there are none
  std::string err_;
};

Value glob_match(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "glob.match";
  const std::string& pattern = arg_string(kName, a, 0);
  std::vector<uint32_t> delims;
  const Value& d = a[1];
  if (d.is_array()) {
    for (const Value& item : d.array_items()) {
      if (!item.is_string()) {
        operand_error(kName, 2,
                      std::string("must be array of strings but got array containing ") + kind_name(item.kind()));
      }
      const std::string& s = item.str();
      if (s.empty() || decode_rune(s, 0).width != s.size()) {
        operand_error(kName, 2, "must be array of runes but got array containing string");
      }
      delims.push_back(decode_rune(s, 0).cp);
    }
    if (delims.empty()) delims.push_back('.');
  } else if (!d.is_null()) {
    operand_error(kName, 2, std::string("must be one of {array, null} but got ") + kind_name(d.kind()));
  }
  const std::string& subject = arg_string(kName, a, 2);

  static CompiledCache<RE2> cache;
  std::string key = std::to_string(pattern.size()) + ":" + pattern;
  for (uint32_t c : delims) append_utf8(key, c);
  RegexPtr g = cache.find(key);
  if (!g) {
    GlobCompiler gc(pattern, delims);
    std::string re;
    if (!gc.compile(re)) builtin_error(kName, gc.error());
    RE2::Options o = re2_options();
    o.set_dot_nl(true);
    auto compiled = std::make_shared<const RE2>(re, o);
    if (!compiled->ok()) builtin_error(kName, compiled->error());
    cache.insert(key, compiled);
    g = compiled;
  }
  Subject subj(subject);
  return Value::boolean(g->Match(subj.piece(), 0, subj.text().size(), RE2::ANCHOR_BOTH, nullptr, 0));
}

Value glob_quote_meta(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("glob.quote_meta", a, 0);
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    if (std::string_view("*?\\[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return Value::string(std::move(out));
}

// ---------------------------------------------------------------- regex.globs_match

// yashtewari/glob-intersection: each pattern is a sequence of tokens (a
// character, '.', or a [set] with ranges), each optionally followed by '*' or
// '+'. The question is whether some non-empty string matches both; OPA's
// library answers it with a heuristic walk, here it is decided exactly on the
// product automaton.
struct GToken {
  enum Kind { kChar, kDot, kSet } kind = kChar;
  uint32_t ch = 0;
  std::vector<uint32_t> set;  // sorted, unique
  bool star = false;
};

bool gtoken_overlap(const GToken& a, const GToken& b) {
  if (a.kind == GToken::kDot) return b.kind != GToken::kSet || !b.set.empty();
  if (b.kind == GToken::kDot) return a.kind != GToken::kSet || !a.set.empty();
  if (a.kind == GToken::kChar && b.kind == GToken::kChar) return a.ch == b.ch;
  if (a.kind == GToken::kChar) return std::binary_search(b.set.begin(), b.set.end(), a.ch);
  if (b.kind == GToken::kChar) return std::binary_search(a.set.begin(), a.set.end(), b.ch);
  std::vector<uint32_t> both;
  std::set_intersection(a.set.begin(), a.set.end(), b.set.begin(), b.set.end(), std::back_inserter(both));
  return !both.empty();
}

// Tokenizes like gintersect; on error sets `err` to its message.
std::vector<GToken> gtokenize(std::string_view s, std::string& err) {
  std::vector<uint32_t> in;
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    in.push_back(r.cp);
    i += r.width;
  }
  auto fail = [&](size_t pos, const std::string& msg) {
    err = "pos:" + std::to_string(pos) + ":" + msg + ": the input provided is invalid";
  };
  // Reads one rune at i, resolving a backslash escape.
  auto next = [&](size_t& i, uint32_t& r, bool& escaped) -> bool {
    if (in[i] == '\\') {
      if (i + 1 >= in.size()) {
        fail(i, "input ends with a \\ (escape) character");
        return false;
      }
      r = in[i + 1];
      escaped = true;
      i += 2;
    } else {
      r = in[i];
      escaped = false;
      i += 1;
    }
    return true;
  };
  std::vector<GToken> out;
  size_t i = 0;
  while (i < in.size()) {
    uint32_t r;
    bool esc;
    if (!next(i, r, esc)) return {};
    GToken t;
    if (!esc && r == '.') {
      t.kind = GToken::kDot;
    } else if (!esc && r == ']') {
      fail(i, "set-close ']' with no preceding '['");
      return {};
    } else if (!esc && (r == '*' || r == '+')) {
      std::string f;
      append_utf8(f, r);
      fail(i, "flag '" + f + "' must be preceded by a non-flag");
      return {};
    } else if (!esc && r == '[') {
      t.kind = GToken::kSet;
      bool complete = false, have_prev = false;
      uint32_t prev = 0;
      while (i < in.size() && !complete) {
        if (!next(i, r, esc)) return {};
        if (esc) {
          t.set.push_back(r);
          prev = r;
          have_prev = true;
        } else if (r == ']') {
          complete = true;
        } else if (r == '-') {
          if (!have_prev) {
            fail(i, "range character '-' must be preceded by a Unicode character");
            return {};
          }
          if (i + 1 >= in.size()) {  // the library wants the bound and a ']' to follow
            fail(i, "range character '-' must be followed by a Unicode character");
            return {};
          }
          if (!next(i, r, esc)) return {};
          if (!esc && (r == ']' || r == '-')) {
            fail(i, "range character '-' cannot be followed by a special symbol");
            return {};
          }
          // An inverted range adds nothing (the library drops that error).
          for (uint32_t x = prev; x <= r && t.set.size() < (1u << 20); ++x) t.set.push_back(x);
          have_prev = false;
        } else {
          t.set.push_back(r);
          prev = r;
          have_prev = true;
        }
      }
      if (!complete) {
        fail(0, "found [ without matching ]");  // the library reports position 0 here
        return {};
      }
      std::sort(t.set.begin(), t.set.end());
      t.set.erase(std::unique(t.set.begin(), t.set.end()), t.set.end());
    } else {
      t.ch = r;
    }
    // Optional flag; '+' is expanded to one required copy followed by a star.
    if (i < in.size() && (in[i] == '*' || in[i] == '+')) {
      bool plus = in[i] == '+';
      ++i;
      if (plus) out.push_back(t);
      t.star = true;
    }
    out.push_back(std::move(t));
  }
  return out;
}

Value regex_globs_match(BuiltinContext&, std::span<const Value> a) {
  static constexpr std::string_view kName = "regex.globs_match";
  const std::string& s1 = arg_string(kName, a, 0);
  const std::string& s2 = arg_string(kName, a, 1);
  std::string err;
  std::vector<GToken> g1 = gtokenize(s1, err);
  if (!err.empty()) builtin_error(kName, err);
  std::vector<GToken> g2 = gtokenize(s2, err);
  if (!err.empty()) builtin_error(kName, err);
  if (g1.empty() && g2.empty()) return Value::true_value();
  // BFS over (i, j, consumed-anything); accept at (end, end, true).
  size_t n1 = g1.size(), n2 = g2.size();
  std::vector<char> seen((n1 + 1) * (n2 + 1) * 2, 0);
  std::vector<std::tuple<size_t, size_t, int>> queue{{0, 0, 0}};
  auto push = [&](size_t i, size_t j, int c) {
    size_t k = (i * (n2 + 1) + j) * 2 + static_cast<size_t>(c);
    if (!seen[k]) {
      seen[k] = 1;
      queue.emplace_back(i, j, c);
    }
  };
  seen[0] = 1;
  for (size_t q = 0; q < queue.size(); ++q) {
    auto [i, j, c] = queue[q];
    if (i == n1 && j == n2 && c) return Value::true_value();
    if (i < n1 && g1[i].star) push(i + 1, j, c);
    if (j < n2 && g2[j].star) push(i, j + 1, c);
    if (i < n1 && j < n2 && gtoken_overlap(g1[i], g2[j])) push(g1[i].star ? i : i + 1, g2[j].star ? j : j + 1, 1);
  }
  return Value::false_value();
}

}  // namespace

void register_regex(BuiltinRegistry& r) {
  r.add("regex.is_valid", 1, regex_is_valid);
  r.add("regex.match", 2, regex_match);
  r.add("regex.split", 2, regex_split);
  r.add("regex.find_n", 3, regex_find_n);
  r.add("regex.find_all_string_submatch_n", 3, regex_find_all_string_submatch_n);
  r.add("regex.replace", 3, regex_replace);
  r.add("regex.template_match", 4, regex_template_match);
  r.add("regex.globs_match", 2, regex_globs_match);
  r.add("glob.match", 3, glob_match);
  r.add("glob.quote_meta", 1, glob_quote_meta);
}

}  // namespace confidant::rego
