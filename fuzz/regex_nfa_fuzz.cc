// libFuzzer target: nfa_regex_match (regex.match's own matcher) against RE2, which regex.match
// falls back to.
//
// Input: the pattern, a `\n`, then the texts separated by the first NUL after it:
// `pattern \n text1 [\0 text2]` (no `\n`: the whole input is the pattern, the texts are empty).
// A pattern needs no raw `\n` (the matcher refuses control bytes; `\n` spelled as an escape is
// fine), and texts may hold any other byte, invalid UTF-8 included.
//
// Whenever the matcher answers (it may refuse any pattern, returning nullopt), RE2 must accept
// the pattern and give the same answer on the text as Go reads it (each invalid UTF-8 byte one
// U+FFFD, as regex.cc's Subject hands it to RE2). The pattern is matched against text1, text2,
// then text1 again: with the DFA threshold lowered to one run, the first match of a new pattern
// runs the bit-parallel NFA (or the Pike VM), the others run the per-thread cached program's
// DFA with the states earlier texts built. Anything else (a mismatch, a crash, a sanitizer
// report) is a bug; a mismatch prints the pattern and text before aborting.
#include <re2/re2.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rego/builtins/regex_nfa.h"

using confidant::rego::nfa_regex_match;

namespace {

// Each execution stays cheap: longer patterns and texts are cut.
constexpr size_t kMaxPattern = 200;
constexpr size_t kMaxText = 1000;

// Go's utf8.DecodeRune width of the valid sequence at s[i] (a byte >= 0x80), or 0 for an
// invalid byte.
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto in = [](unsigned b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  unsigned c = at(0);
  if (in(c, 0xC2, 0xDF)) return in(at(1), 0x80, 0xBF) ? 2 : 0;
  if (in(c, 0xE0, 0xEF)) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(c, 0xF0, 0xF4)) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return in(at(1), lo, hi) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// The text RE2 sees in regex.match: each invalid byte spelled as U+FFFD.
std::string go_runes(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t w = static_cast<unsigned char>(s[i]) < 0x80 ? 1 : utf8_length(s, i);
    if (w == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, w));
      i += w;
    }
  }
  return out;
}

// regex.cc's go_to_re2: Go 1.22's `(?<name>` spelled `(?P<name>` for this RE2, outside classes
// and \Q...\E quotes (a copy, so that the comparison sees the pattern production gives RE2).
std::string go_to_re2(std::string_view p) {
  if (p.find("(?<") == std::string_view::npos) return std::string(p);
  std::string out;
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
    if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') {
        if (p[j] == '\\') {
          ++j;
        } else if (p[j] == '[' && j + 1 < p.size() && p[j + 1] == ':') {
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

void print_escaped(const char* label, std::string_view s) {
  fprintf(stderr, "%s (%zu bytes): \"", label, s.size());
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (u >= 0x20 && u < 0x7f && ch != '\\' && ch != '"') {
      fputc(ch, stderr);
    } else {
      fprintf(stderr, "\\x%02x", u);
    }
  }
  fputs("\"\n", stderr);
}

[[noreturn]] void fail(const char* what, std::string_view pattern, std::string_view text) {
  fprintf(stderr, "regex_nfa_fuzz: %s\n", what);
  print_escaped("pattern", pattern);
  print_escaped("text", text);
  fflush(stderr);
  abort();
}

// RE2 for one pattern, with regex.cc's options, built on first need.
class Oracle {
 public:
  explicit Oracle(std::string_view pattern) : pattern_(pattern) {}

  void check(std::string_view text) {
    std::optional<bool> got = nfa_regex_match(pattern_, text);
    if (!got) return;
    if (!re_) {
      RE2::Options o;
      o.set_log_errors(false);
      o.set_max_mem(64 << 20);  // as regex.cc's re2_options()
      re_ = std::make_unique<RE2>(go_to_re2(pattern_), o);
    }
    if (!re_->ok()) fail("RE2 rejects a pattern the NFA accepted", pattern_, text);
    bool want = RE2::PartialMatch(go_runes(text), *re_);
    if (*got != want) fail(want ? "NFA: no match, RE2: match" : "NFA: match, RE2: no match", pattern_, text);
  }

 private:
  std::string_view pattern_;
  std::unique_ptr<RE2> re_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Build a pattern's DFA on its second match (production: after 32), so that every input
  // reaches it.
  confidant::rego::nfa_regex_set_dfa_after_runs_for_testing(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view pattern = in.substr(0, nl);
  std::string_view text1, text2;
  if (nl != std::string_view::npos) {
    std::string_view texts = in.substr(nl + 1);
    size_t nul = texts.find('\0');
    text1 = texts.substr(0, nul);
    if (nul != std::string_view::npos) text2 = texts.substr(nul + 1);
  }
  if (pattern.size() > kMaxPattern) return -1;  // not added to the corpus
  text1 = text1.substr(0, kMaxText);
  text2 = text2.substr(0, kMaxText);
  Oracle oracle(pattern);
  oracle.check(text1);
  oracle.check(text2);
  oracle.check(text1);
  return 0;
}
