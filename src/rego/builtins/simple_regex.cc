#include "rego/builtins/simple_regex.h"

#include <array>
#include <bitset>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace confidant::rego {

namespace {

constexpr size_t kMaxTokens = 512;   // longer patterns go to RE2 (and its cache)
constexpr size_t kMaxCount = 1000;   // Go's repeat limit

bool is_meta(char c) {
  switch (c) {
    case '\\': case '.': case '+': case '*': case '?': case '(': case ')': case '|':
    case '[': case ']': case '{': case '}': case '^': case '$':
      return true;
    default:
      return false;
  }
}

bool is_ascii_punct(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x21 && u < 0x7f && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

bool is_plain_ascii(char c) {
  auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x7f;
}

// One fixed-width step: a set of accepted bytes, `count` times in a row.
struct Token {
  std::bitset<128> accept;  // unused for a literal
  size_t count = 1;
  int literal = -1;  // the byte, when the token is one literal byte
  bool dot = false;  // `.`: any character but a newline (one rune: see Program::matches_at)
};

// `[...]`: literals, ranges and escaped punctuation; no negation, no named classes.
bool parse_class(std::string_view p, size_t& i, Token& t) {
  ++i;  // '['
  if (i < p.size() && (p[i] == '^' || p[i] == ']')) return false;
  bool any = false;
  auto member = [&](char& out) -> bool {
    if (i >= p.size()) return false;
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size() || !is_ascii_punct(p[i + 1])) return false;
      out = p[i + 1];
      i += 2;
      return true;
    }
    if (!is_plain_ascii(c) || c == '[' || c == ']') return false;
    out = c;
    ++i;
    return true;
  };
  while (i < p.size() && p[i] != ']') {
    char lo;
    if (!member(lo)) return false;
    char hi = lo;
    if (i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
      ++i;
      if (!member(hi) || hi < lo) return false;
    }
    for (int c = lo; c <= hi; ++c) t.accept.set(static_cast<size_t>(c));
    any = true;
  }
  if (i >= p.size() || !any) return false;
  ++i;  // ']'
  return true;
}

// `{n}` after a class (n without leading zeros is not required by Go; any decimal).
bool parse_count(std::string_view p, size_t& i, Token& t) {
  size_t j = i + 1, n = 0;
  if (j >= p.size() || p[j] < '0' || p[j] > '9') return false;
  while (j < p.size() && p[j] >= '0' && p[j] <= '9') {
    n = n * 10 + static_cast<size_t>(p[j] - '0');
    if (n > kMaxCount) return false;
    ++j;
  }
  if (j >= p.size() || p[j] != '}') return false;
  t.count = n;
  i = j + 1;
  return true;
}

bool is_quantifier(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

// Parses the token at `i` (advancing it); false when it is outside the simple subset.
bool next_token(std::string_view p, size_t& i, Token& t) {
  char c = p[i];
  if (c == '[') {
    if (!parse_class(p, i, t)) return false;
    if (i < p.size() && p[i] == '{' && !parse_count(p, i, t)) return false;
  } else if (c == '\\') {
    if (i + 1 >= p.size() || !is_ascii_punct(p[i + 1])) return false;
    t.literal = p[i + 1];
    i += 2;
  } else if (is_plain_ascii(c) && !is_meta(c)) {
    t.literal = c;
    ++i;
  } else if (c == '.') {
    t.accept.set();
    t.accept.reset('\n');
    t.dot = true;
    ++i;
  } else {
    return false;
  }
  return !(i < p.size() && is_quantifier(p[i]));
}

// A validated pattern as runs of literal bytes and counted classes, matched with memcmp
// and bitset tests: each pattern is parsed once per call, not once per candidate position.
struct Program {
  struct Piece {
    uint32_t lit_begin = 0, lit_len = 0;  // a literal run in `lits`, or
    uint32_t cls = 0, count = 0;          // classes[cls], `count` times (lit_len == 0)
    bool dot = false;
  };
  std::string lits;
  std::vector<std::bitset<128>> classes;
  std::vector<Piece> pieces;
  size_t width = 0;
  bool has_dot = false;

  bool parse(std::string_view p) {
    size_t n = 0;
    for (size_t i = 0; i < p.size();) {
      if (++n > kMaxTokens) return false;
      Token t;
      if (!next_token(p, i, t)) return false;
      width += t.count;
      if (t.literal >= 0) {  // extend the literal run
        if (pieces.empty() || pieces.back().lit_len == 0) {
          Piece piece;
          piece.lit_begin = static_cast<uint32_t>(lits.size());
          pieces.push_back(piece);
        }
        lits.push_back(static_cast<char>(t.literal));
        ++pieces.back().lit_len;
      } else {
        Piece piece;
        piece.cls = static_cast<uint32_t>(classes.size());
        piece.count = static_cast<uint32_t>(t.count);
        piece.dot = t.dot;
        has_dot = has_dot || t.dot;
        classes.push_back(t.accept);
        pieces.push_back(piece);
      }
    }
    return true;
  }

  // 1: matches at `at`; 0: does not; -1: undecidable here (a `.` meets a non-ASCII byte:
  // it would take a whole rune, so widths are no longer fixed; RE2 answers instead).
  int matches_at(std::string_view text, size_t at) const {
    for (const Piece& piece : pieces) {
      if (piece.lit_len) {
        if (text.compare(at, piece.lit_len, lits.data() + piece.lit_begin, piece.lit_len) != 0) return 0;
        at += piece.lit_len;
        continue;
      }
      const auto& accept = classes[piece.cls];
      for (uint32_t k = 0; k < piece.count; ++k, ++at) {
        auto u = static_cast<unsigned char>(text[at]);
        if (u >= 128) return piece.dot ? -1 : 0;
        if (!accept[u]) return 0;
      }
    }
    return 1;
  }
};

}  // namespace

std::optional<bool> simple_regex_match(std::string_view p, std::string_view text) {
  bool begin = false, end = false;
  if (!p.empty() && p.front() == '^') {
    begin = true;
    p.remove_prefix(1);
  }
  // A trailing `$` anchors unless it is escaped (`\$`): count the backslashes before it.
  if (!p.empty() && p.back() == '$') {
    size_t slashes = 0;
    while (slashes + 1 < p.size() && p[p.size() - 2 - slashes] == '\\') ++slashes;
    if (slashes % 2 == 0) {
      end = true;
      p.remove_suffix(1);
    }
  }
  // Per-request patterns recur across requests (a CopyFile pattern is the same for every
  // file): a small direct-mapped cache per thread keeps their parsed programs.
  struct Slot {
    std::string pattern;
    Program prog;
    bool simple = false;
    bool used = false;
  };
  thread_local std::array<Slot, 64> cache;
  // A cheap slot choice (length and a few bytes): a collision only costs a re-parse.
  size_t h = p.size() * 31;
  if (!p.empty()) h += static_cast<unsigned char>(p[p.size() / 2]) * 7 + static_cast<unsigned char>(p.back());
  Slot& slot = cache[h % cache.size()];
  if (!slot.used || slot.pattern != p) {
    slot.pattern.assign(p);
    slot.prog = Program();
    slot.simple = slot.prog.parse(p);
    slot.used = true;
  }
  if (!slot.simple) return std::nullopt;
  const Program& prog = slot.prog;
  // `.` takes one rune: against non-ASCII text the width in bytes is not fixed.
  if (prog.has_dot)
    for (char c : text)
      if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
  size_t width = prog.width;
  if (width > text.size()) return false;
  auto answer = [](int r) -> std::optional<bool> {
    if (r < 0) return std::nullopt;
    return r == 1;
  };
  if (begin && end) return width == text.size() ? answer(prog.matches_at(text, 0)) : std::optional<bool>(false);
  if (begin) return answer(prog.matches_at(text, 0));
  if (end) return answer(prog.matches_at(text, text.size() - width));
  for (size_t at = 0; at + width <= text.size(); ++at) {
    int r = prog.matches_at(text, at);
    if (r != 0) return answer(r);
  }
  return false;
}

}  // namespace confidant::rego
