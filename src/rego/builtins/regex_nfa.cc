#include "rego/builtins/regex_nfa.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

// A pattern is parsed into a small tree (anything outside the subset, or doubtful, is refused),
// compiled into a Thompson program (char, set, split, jmp, assertion and match instructions) and
// cached per thread. Matching never backtracks:
// - a program with at most 255 character instructions keeps its threads as a bitmask and steps
//   by ORing the precomputed closures of the threads that accept the character (filled lazily,
//   one table per assertion context); once a pattern is in steady use (32 matches), these masks become the
//   states of a lazily built DFA, so that a known transition costs one lookup;
// - larger programs (long counted repeats) run a Pike VM.
// Either way the work per character of text is bounded by the program size (closures and DFA
// states are computed at most once per program).

namespace confidant::rego {

namespace {

// Longer patterns go straight to RE2: they cannot be common, and a cache key that size is not
// worth keeping per thread.
constexpr size_t kMaxPatternBytes = 8192;
// Counted repetition is expanded; past this the pattern is left to RE2's compiler.
constexpr int32_t kMaxInsts = 5000;
// Matches of a pattern before its DFA is built (tests lower it to reach the DFA quickly).
constexpr uint8_t kDfaAfterRuns = 32;
thread_local uint8_t dfa_after_runs = kDfaAfterRuns;
// Bounds the parser's recursion (groups nest).
constexpr int kMaxDepth = 100;
// Go's and RE2's limit for a repeat count, and (RE2) for the product of nested counts.
constexpr int kMaxRepeat = 1000;
// Duplicate group names are an error in Go; checking them is quadratic, so keep few.
constexpr int kMaxNames = 32;
// Programs whose character instructions, plus a bit for Match, fit in this many 64-bit words run
// bit-parallel; larger ones run the Pike VM.
constexpr int kMaxBitWords = 4;
// Minimum match lengths saturate here rather than overflow.
constexpr int32_t kLenCap = int32_t{1} << 30;

// Every rune >= U+0080 (and every invalid UTF-8 byte, which Go reads as U+FFFD) is matched as
// this one pseudo-character: an ASCII-only pattern can tell such a rune from ASCII, never from
// another non-ASCII rune.
constexpr unsigned kNonAscii = 0x80;

constexpr std::array<bool, 256> kWordBytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  return t;
}();

bool is_word_byte(unsigned char c) { return kWordBytes[c]; }
bool is_alnum(unsigned char c) { return kWordBytes[c] && c != '_'; }

// A set of characters 0..0x7F plus kNonAscii.
struct CharSet {
  uint64_t w[3] = {0, 0, 0};

  bool has(unsigned c) const { return (w[c >> 6] >> (c & 63)) & 1; }
  void add(unsigned c) { w[c >> 6] |= uint64_t{1} << (c & 63); }
  void add_range(unsigned lo, unsigned hi) {  // lo <= hi <= kNonAscii
    for (unsigned i = lo >> 6; i <= hi >> 6; ++i) {
      unsigned a = std::max(lo, i * 64) - i * 64, b = std::min(hi, i * 64 + 63) - i * 64;
      w[i] |= (~uint64_t{0} >> (63 - b)) & (~uint64_t{0} << a);
    }
  }
  void add_set(const CharSet& o) {
    for (int i = 0; i < 3; ++i) w[i] |= o.w[i];
  }
  void negate() {
    w[0] = ~w[0];
    w[1] = ~w[1];
    w[2] = ~w[2] & 1;
  }
  // Exactly one member (without a popcount instruction, which the baseline x86-64 lacks).
  bool single() const {
    if ((w[0] != 0) + (w[1] != 0) + (w[2] != 0) != 1) return false;
    uint64_t x = w[0] | w[1] | w[2];
    return (x & (x - 1)) == 0;
  }
  int lowest() const { return w[0] ? std::countr_zero(w[0]) : w[1] ? 64 + std::countr_zero(w[1]) : 128; }
};

bool is_perl_class_letter(char c) { return c == 'd' || c == 'D' || c == 'w' || c == 'W' || c == 's' || c == 'S'; }

// RE2's and Go's ASCII Perl classes; the negated ones match every non-ASCII rune (and `\n`).
CharSet perl_class(char c) {
  CharSet s;
  switch (c | 0x20) {
    case 'd': s.add_range('0', '9'); break;
    case 'w':
      s.add_range('0', '9');
      s.add_range('A', 'Z');
      s.add_range('a', 'z');
      s.add('_');
      break;
    default:  // 's'
      s.add('\t');
      s.add('\n');
      s.add('\f');
      s.add('\r');
      s.add(' ');
      break;
  }
  if (c >= 'A' && c <= 'Z') s.negate();
  return s;
}

// The character an escape stands for when it is one character, else -1.
int simple_escape(unsigned char e) {
  switch (e) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'a': return '\a';
    default: break;
  }
  // Escaped ASCII punctuation (and space) is itself in Go and RE2; letters and digits mean
  // something else (octal, \x, \p, \Q...) and are refused.
  if (e >= 0x20 && e < 0x7f && !is_alnum(e)) return e;
  return -1;
}

// How many bytes Go's utf8.DecodeRune reads at s[0] >= 0x80: the length of a valid sequence, or
// 1 for an invalid byte (one U+FFFD).
size_t rune_width(const unsigned char* s, size_t n) {
  unsigned c = s[0];
  auto cont = [&](size_t i, unsigned lo, unsigned hi) { return i < n && s[i] >= lo && s[i] <= hi; };
  if (c < 0xC2) return 1;
  if (c < 0xE0) return cont(1, 0x80, 0xBF) ? 2 : 1;
  if (c < 0xF0) {
    // E0 would be overlong below A0; ED above 9F encodes surrogates.
    if (!cont(1, c == 0xE0 ? 0xA0 : 0x80, c == 0xED ? 0x9F : 0xBF)) return 1;
    return cont(2, 0x80, 0xBF) ? 3 : 1;
  }
  if (c < 0xF5) {
    // F0 would be overlong below 90; F4 above 8F is past U+10FFFF.
    if (!cont(1, c == 0xF0 ? 0x90 : 0x80, c == 0xF4 ? 0x8F : 0xBF)) return 1;
    if (!cont(2, 0x80, 0xBF)) return 1;
    return cont(3, 0x80, 0xBF) ? 4 : 1;
  }
  return 1;
}

// ---------------------------------------------------------------- program

enum class Op : uint8_t { kChar, kSet, kSplit, kJmp, kAssert, kMatch };
enum Assertion : uint8_t { kBeginText, kEndText, kWordBoundary, kNotWordBoundary };

struct Inst {
  Op op;
  uint8_t arg;  // kChar: the byte; kAssert: the Assertion
  int32_t x;    // kSet: index in Program::sets; kSplit, kJmp: target
  int32_t y;    // kSplit: second target; kChar, kSet: state number (bit-parallel simulation)
};

// What the assertions of a program can see at a position, as bits.
constexpr unsigned kAtBegin = 1, kAtEnd = 2, kWordBefore = 4, kWordAfter = 8;
constexpr size_t kNumContexts = 16;

bool holds(uint8_t a, unsigned ctx) {
  switch (a) {
    case kBeginText: return ctx & kAtBegin;
    case kEndText: return ctx & kAtEnd;
    default: return (((ctx & kWordBefore) != 0) != ((ctx & kWordAfter) != 0)) == (a == kWordBoundary);
  }
}

struct Program {
  std::string key;
  size_t hash = 0;
  bool valid = false;      // key and hash describe the rest (false while compiling)
  bool supported = false;  // false: refused, cached so that refusing again is cheap
  bool anchored = false;   // every match starts at the start of the text
  // Some set holds kNonAscii: a non-ASCII rune must be stepped over whole, as Go decodes it.
  bool rune_steps = false;
  // `\B` holds between two bytes of one rune in RE2, which matches bytes; Go never looks there.
  // Texts with non-ASCII bytes are left to the caller rather than pick one answer.
  bool ascii_text_only = false;
  // Unanchored and every match consumes a first character from `first`: positions whose
  // character is not in it are skipped without running the NFA.
  bool can_skip = false;
  int skip_byte = -1;  // `first` is this one byte: memchr
  CharSet first;
  // `^` then literal bytes, checked with memcmp; the program starts after them.
  std::string prefix;
  // Literal bytes then a final `$` at top level: every match ends with them.
  std::string suffix;
  int32_t min_len = 0;    // characters in the shortest match
  unsigned ctx_mask = 0;  // the context bits the program's assertions look at
  std::vector<Inst> insts;
  std::vector<CharSet> sets;

  // Bit-parallel simulation (words > 0): threads are a bitmask over the character instructions
  // ("states"), bit `nstates` standing for Match. Each context the assertions can tell apart has
  // a table whose row k is the closure, in that context, of what follows state k (row nstates:
  // of the start). Rows are filled on first use, so a pattern matched once pays only for the
  // states its text reaches, and a pattern matched often soon only ORs rows.
  int words = 0;
  int nstates = 0;
  std::vector<CharSet> state_sets;                // what each state accepts
  std::vector<int32_t> state_next;                // where its closure starts
  std::array<uint8_t, kNumContexts> ctx_table{};  // context -> its table
  std::array<uint8_t, kNumContexts> table_ctx{};  // table -> its context
  // Allocated on the first match; not zeroed, as no row is read before it is filled.
  std::unique_ptr<uint64_t[]> rows;
  size_t rows_capacity = 0;
  bool rows_ready = false;
  std::vector<uint8_t> row_done;
  uint8_t runs = 0;  // matches so far, up to dfa_after_runs

  // A DFA over those thread sets, built once the program has been matched dfa_after_runs times: then a
  // transition seen before costs one table lookup per character. Characters that no state and
  // no assertion tell apart share a class; a transition also depends on whether the text ends
  // after the character and, when `\b` or `\B` is used, whether a word character follows.
  struct Dfa {
    bool ready = false;
    int width = 0;  // transitions per state
    // Offset of a character's transitions within a state's, and of the following byte's kind
    // (0 is kept for the end of the text).
    std::array<uint16_t, kNonAscii + 1> class_offset{};
    std::array<uint8_t, 256> next_kind{};
    int states = 0;
    int max_states = 0;
    std::vector<uint64_t> masks;  // per state: its threads
    // Per state, `width` transitions: the next state's offset (its number times `width`),
    // kUnknown, kMatched or kFailed.
    std::vector<int32_t> next;
    std::vector<int16_t> index;                 // open addressing over masks: state numbers
    std::array<int32_t, kNumContexts> start{};  // per table: the state at a start position
  } dfa;

  void reset() {
    valid = supported = anchored = rune_steps = ascii_text_only = can_skip = false;
    skip_byte = -1;
    first = CharSet{};
    prefix.clear();
    suffix.clear();
    min_len = 0;
    ctx_mask = 0;
    insts.clear();
    sets.clear();
    words = nstates = 0;
    state_sets.clear();
    state_next.clear();
    rows_ready = false;
    row_done.clear();
    runs = 0;
    dfa.ready = false;
    dfa.states = 0;
    dfa.masks.clear();
    dfa.next.clear();
    dfa.index.clear();
  }
};

// ---------------------------------------------------------------- parser

enum class Kind : uint8_t { kEmpty, kChar, kLiteral, kSet, kAssert, kConcat, kAlt, kRepeat };

struct Node {
  Kind kind = Kind::kEmpty;
  uint8_t arg = 0;        // kChar: the byte; kAssert: the Assertion
  bool consumes = false;  // some match of it is not empty
  bool anchored = false;  // every match of it starts at the start of the text
  int32_t a = 0;          // kSet: set index; kLiteral: offset in Scratch::literals; kRepeat: min
  int32_t b = 0;          // kLiteral: length; kRepeat: max (-1: unbounded)
  int32_t child = -1;     // kConcat, kAlt: first child; kRepeat: the repeated node
  int32_t next = -1;      // next sibling in a kConcat or kAlt
  int32_t size = 0;       // instructions it compiles to (at most kMaxInsts once accepted)
  int32_t min_len = 0;    // characters in its shortest match (capped)
  // Largest product of counted-repeat bounds on a path inside it (capped): RE2 rejects a nested
  // count whose product passes kMaxRepeat, so such patterns must be refused here.
  int32_t product = 1;
};

// Per-thread buffers, grown to the largest program seen and then reused.
struct Scratch {
  std::vector<Node> nodes;
  std::string literals;
  std::vector<uint32_t> mark;  // == gen: visited in the current closure
  std::vector<int32_t> list0, list1, stack;
  uint32_t gen = 0;

  void fit(size_t n) {
    if (mark.size() >= n) return;
    mark.resize(n, 0);
    list0.resize(n);
    list1.resize(n);
    stack.resize(n);
  }
  uint32_t next_gen() {
    if (++gen == 0) {
      std::fill(mark.begin(), mark.end(), 0);
      gen = 1;
    }
    return gen;
  }
};

bool is_quantifier(char c) { return c == '*' || c == '+' || c == '?' || c == '{'; }

// Pattern bytes that stand for themselves outside a class.
constexpr std::array<bool, 256> kPlainBytes = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x7f; ++c) t[c] = true;
  for (char c : std::string_view("\\.+*?()|[{^$")) t[static_cast<unsigned char>(c)] = false;
  return t;
}();

// Recursive descent over Go's syntax. Each method returns a node index, or -1 to refuse.
class Parser {
 public:
  Parser(std::string_view p, Scratch& scratch, Program& prog)
      : p_(p), nodes_(scratch.nodes), literals_(scratch.literals), prog_(prog) {}

  int parse() {
    int root = alt(0);
    if (root < 0 || i_ != p_.size()) return -1;  // a stray `)` is an error
    return root;
  }

 private:
  bool at(char c) const { return i_ < p_.size() && p_[i_] == c; }

  int add(const Node& n) {
    nodes_.push_back(n);
    return static_cast<int>(nodes_.size()) - 1;
  }

  int leaf_char(unsigned char c) {
    Node n;
    n.kind = Kind::kChar;
    n.arg = c;
    n.consumes = true;
    n.size = n.min_len = 1;
    return add(n);
  }

  int leaf_set(const CharSet& s) {
    if (s.single() && !s.has(kNonAscii)) return leaf_char(static_cast<unsigned char>(s.lowest()));
    if (s.has(kNonAscii)) prog_.rune_steps = true;
    prog_.sets.push_back(s);
    Node n;
    n.kind = Kind::kSet;
    n.a = static_cast<int32_t>(prog_.sets.size()) - 1;
    n.consumes = true;
    n.size = n.min_len = 1;
    return add(n);
  }

  int leaf_assert(Assertion a) {
    Node n;
    n.kind = Kind::kAssert;
    n.arg = a;
    n.anchored = a == kBeginText;
    n.size = 1;
    return add(n);
  }

  int alt(int depth) {
    int first = concat(depth);
    if (first < 0 || !at('|')) return first;
    Node n = nodes_[first];
    n.kind = Kind::kAlt;
    n.child = first;
    n.next = -1;
    for (int last = first; at('|');) {
      ++i_;
      int b = concat(depth);
      if (b < 0) return -1;
      nodes_[last].next = b;
      last = b;
      const Node& bn = nodes_[b];
      n.consumes |= bn.consumes;
      n.anchored &= bn.anchored;
      n.min_len = std::min(n.min_len, bn.min_len);
      n.product = std::max(n.product, bn.product);
      n.size += bn.size + 2;  // a split before the previous branch, a jmp after it
      if (n.size > kMaxInsts) return -1;
    }
    return add(n);
  }

  // The byte a plain literal at j stands for (setting its length in the pattern), or -1.
  int literal_at(size_t j, size_t& len) const {
    if (j >= p_.size()) return -1;
    auto c = static_cast<unsigned char>(p_[j]);
    if (c == '\\') {
      if (j + 1 >= p_.size()) return -1;
      len = 2;
      return simple_escape(static_cast<unsigned char>(p_[j + 1]));
    }
    if (!kPlainBytes[c]) return -1;
    len = 1;
    return c;
  }

  int concat(int depth) {
    Node n;
    n.kind = Kind::kConcat;
    int count = 0;
    for (int last = -1; i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')';) {
      int a;
      size_t len = 0;
      int c = literal_at(i_, len);
      if (c >= 0 && !(i_ + len < p_.size() && is_quantifier(p_[i_ + len]))) {
        // A run of literals, none quantified (a quantifier binds to one character only).
        Node lit;
        lit.kind = Kind::kLiteral;
        lit.a = static_cast<int32_t>(literals_.size());
        lit.consumes = true;
        for (;;) {
          // Plain bytes are copied in one go (long literal paths are common); the last one stays
          // out if a quantifier follows it.
          size_t j = i_;
          while (j < p_.size() && kPlainBytes[static_cast<unsigned char>(p_[j])]) ++j;
          if (j < p_.size() && j > i_ && is_quantifier(p_[j])) --j;
          literals_.append(p_.data() + i_, j - i_);
          i_ = j;
          c = literal_at(i_, len);
          if (c < 0 || (i_ + len < p_.size() && is_quantifier(p_[i_ + len]))) break;
          literals_.push_back(static_cast<char>(c));
          i_ += len;
        }
        lit.b = lit.size = lit.min_len = static_cast<int32_t>(literals_.size()) - lit.a;
        if (lit.size > kMaxInsts) return -1;
        a = add(lit);
      } else {
        a = atom(depth);
        if (a >= 0) a = quantify(a);
        if (a < 0) return -1;
      }
      const Node& an = nodes_[a];
      n.consumes |= an.consumes;
      n.anchored |= an.anchored;  // the whole match starts where this part does: at 0
      n.min_len = std::min(n.min_len + an.min_len, kLenCap);
      n.product = std::max(n.product, an.product);
      n.size += an.size;
      if (n.size > kMaxInsts) return -1;
      // Parts that compile to nothing (`x{0}`, `()`) match the empty string: dropping them
      // keeps the work of expanding an enclosing repeat proportional to the code it emits.
      if (an.size == 0) continue;
      if (last < 0) {
        n.child = a;
      } else {
        nodes_[last].next = a;
      }
      last = a;
      ++count;
    }
    if (count == 0) {
      Node empty;
      empty.product = n.product;
      return add(empty);
    }
    if (count == 1) {
      nodes_[n.child].product = n.product;  // a dropped part may have had the largest
      return n.child;
    }
    return add(n);
  }

  // Parses a repetition operator after `atom`, if any.
  int quantify(int atom) {
    if (i_ >= p_.size()) return atom;
    int min = 0, max = 0;
    switch (p_[i_]) {
      case '*': min = 0, max = -1, ++i_; break;
      case '+': min = 1, max = -1, ++i_; break;
      case '?': min = 0, max = 1, ++i_; break;
      case '{':
        if (!counts(min, max)) return -1;
        break;
      default: return atom;
    }
    if (at('?')) ++i_;  // non-greedy: the same matches, in another order
    // `a**`, `a{2}*`... are errors in Go and RE2; a `{` that is no repeat is a literal there, but
    // refusing it is simpler than mirroring that.
    if (i_ < p_.size() && is_quantifier(p_[i_])) return -1;
    // Repeating an empty-width operand (`^*`, `\b+`, `()*`) is legal but odd; RE2 may have it.
    const Node& a = nodes_[atom];
    if (!a.consumes) return -1;
    Node n;
    n.kind = Kind::kRepeat;
    n.child = atom;
    n.a = min;
    n.b = max;
    n.consumes = max != 0;
    n.anchored = min >= 1 && a.anchored;
    n.min_len = static_cast<int32_t>(std::min<int64_t>(int64_t{min} * a.min_len, kLenCap));
    int32_t bound = max >= 0 ? max : min;
    n.product = std::min(a.product * std::max(bound, 1), kMaxRepeat + 1);
    if ((min >= 2 || max >= 2) && n.product > kMaxRepeat) return -1;
    int64_t size = max < 0 ? (min == 0 ? a.size + 2 : int64_t{min} * a.size + 1)
                           : int64_t{min} * a.size + int64_t{max - min} * (a.size + 1);
    if (size > kMaxInsts) return -1;
    n.size = static_cast<int32_t>(size);
    return add(n);
  }

  // `{n}`, `{n,}` or `{n,m}` at i_, with Go's number syntax (no leading zeros).
  bool counts(int& min, int& max) {
    size_t j = i_ + 1;
    auto number = [&](int& out) {
      size_t start = j;
      while (j < p_.size() && p_[j] >= '0' && p_[j] <= '9') ++j;
      size_t len = j - start;
      if (len == 0 || len > 4 || (len > 1 && p_[start] == '0')) return false;
      out = 0;
      for (size_t k = start; k < j; ++k) out = out * 10 + (p_[k] - '0');
      return true;
    };
    if (!number(min)) return false;
    if (j < p_.size() && p_[j] == ',') {
      ++j;
      if (j < p_.size() && p_[j] == '}') {
        max = -1;
      } else if (!number(max)) {
        return false;
      }
    } else {
      max = min;
    }
    if (j >= p_.size() || p_[j] != '}') return false;
    i_ = j + 1;
    return min <= kMaxRepeat && max <= kMaxRepeat && (max < 0 || max >= min);
  }

  int atom(int depth) {
    auto c = static_cast<unsigned char>(p_[i_]);
    switch (c) {
      case '(': return group(depth);
      case '[': return char_class();
      case '\\': return escape();
      case '.': {
        ++i_;
        CharSet s;
        s.add('\n');
        s.negate();
        return leaf_set(s);
      }
      case '^': ++i_; return leaf_assert(kBeginText);
      case '$': ++i_; return leaf_assert(kEndText);  // no (?m): end of text only, as \z
      case '*':
      case '+':
      case '?':
      case '{': return -1;  // missing argument (or a literal `{`)
      default: break;
    }
    if (c < 0x20 || c >= 0x7f) return -1;
    ++i_;
    return leaf_char(c);
  }

  int group(int depth) {
    if (depth >= kMaxDepth) return -1;
    ++i_;  // (
    if (at('?')) {
      std::string_view rest = p_.substr(i_);
      if (rest.starts_with("?:")) {
        i_ += 2;
      } else {
        if (rest.starts_with("?P<")) {
          i_ += 3;
        } else if (rest.starts_with("?<")) {  // Go 1.22's spelling
          i_ += 2;
        } else {
          return -1;  // flags, lookarounds, (?P=...): not here
        }
        size_t start = i_;
        while (i_ < p_.size() && is_word_byte(static_cast<unsigned char>(p_[i_]))) ++i_;
        if (i_ == start || !at('>')) return -1;
        std::string_view name = p_.substr(start, i_ - start);
        ++i_;
        if (names_ == kMaxNames) return -1;
        for (int k = 0; k < names_; ++k) {
          if (name_list_[k] == name) return -1;
        }
        name_list_[names_++] = name;
      }
    }
    int inner = alt(depth + 1);
    if (inner < 0 || !at(')')) return -1;
    ++i_;
    return inner;
  }

  int escape() {
    if (i_ + 1 >= p_.size()) return -1;
    auto e = static_cast<unsigned char>(p_[i_ + 1]);
    i_ += 2;
    switch (e) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S': return leaf_set(perl_class(static_cast<char>(e)));
      case 'b': return leaf_assert(kWordBoundary);
      case 'B': prog_.ascii_text_only = true; return leaf_assert(kNotWordBoundary);
      case 'A': return leaf_assert(kBeginText);
      case 'z': return leaf_assert(kEndText);
      default: break;
    }
    int c = simple_escape(e);
    return c < 0 ? -1 : leaf_char(static_cast<unsigned char>(c));
  }

  // One character of a class at i_, or -1.
  int class_char() {
    if (i_ >= p_.size()) return -1;
    auto c = static_cast<unsigned char>(p_[i_]);
    if (c == '\\') {
      if (i_ + 1 >= p_.size()) return -1;
      int r = simple_escape(static_cast<unsigned char>(p_[i_ + 1]));
      if (r >= 0) i_ += 2;
      return r;
    }
    if (c < 0x20 || c >= 0x7f) return -1;
    ++i_;
    return c;
  }

  // Mirrors Go's parseClass in Perl mode: `]` first is a literal, `-` is a literal unless it
  // sits between two characters, Perl classes may appear (not as range ends). With ClassNL (Go's
  // Perl flags, RE2's default), `[^a]` matches `\n`.
  int char_class() {
    ++i_;  // [
    CharSet set;
    bool negated = at('^');
    if (negated) ++i_;
    for (bool first = true;; first = false) {
      if (i_ >= p_.size()) return -1;
      char c = p_[i_];
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      // `[:alpha:]` (or a `[:` that is not one): left to RE2.
      if (c == '[' && i_ + 1 < p_.size() && p_[i_ + 1] == ':') return -1;
      if (c == '\\' && i_ + 1 < p_.size() && is_perl_class_letter(p_[i_ + 1])) {
        set.add_set(perl_class(p_[i_ + 1]));
        i_ += 2;
        continue;
      }
      int lo = class_char();
      if (lo < 0) return -1;
      int hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        hi = class_char();
        if (hi < lo) return -1;
      }
      set.add_range(static_cast<unsigned>(lo), static_cast<unsigned>(hi));
    }
    if (negated) set.negate();
    return leaf_set(set);
  }

  std::string_view p_;
  size_t i_ = 0;
  std::vector<Node>& nodes_;
  std::string& literals_;
  Program& prog_;
  std::array<std::string_view, kMaxNames> name_list_;
  int names_ = 0;
};

// ---------------------------------------------------------------- compiler

// Writes a node's code into a buffer sized for the whole program (no capacity checks per
// instruction). A node's exit is the instruction right after its code.
class Emitter {
 public:
  Emitter(const std::vector<Node>& nodes, const std::string& literals, Program& prog, int32_t capacity)
      : nodes_(nodes), literals_(literals), prog_(prog) {
    prog.insts.resize(static_cast<size_t>(capacity));
    out_ = prog.insts.data();
  }

  void finish() {
    push(Op::kMatch, 0);
    prog_.insts.resize(static_cast<size_t>(pc_));
  }

  void emit(int id) {
    const Node& n = nodes_[id];
    switch (n.kind) {
      case Kind::kEmpty: break;
      case Kind::kChar: push(Op::kChar, n.arg); break;
      case Kind::kLiteral:
        for (int32_t k = 0; k < n.b; ++k) push(Op::kChar, static_cast<uint8_t>(literals_[n.a + k]));
        break;
      case Kind::kSet: push(Op::kSet, 0, n.a); break;
      case Kind::kAssert:
        prog_.ctx_mask |= n.arg == kBeginText ? kAtBegin : n.arg == kEndText ? kAtEnd : kWordBefore | kWordAfter;
        push(Op::kAssert, n.arg);
        break;
      case Kind::kConcat:
        for (int c = n.child; c >= 0; c = nodes_[c].next) emit(c);
        break;
      case Kind::kAlt: {
        int32_t to_end = -1;  // jmps to patch, chained through their targets
        for (int c = n.child;; c = nodes_[c].next) {
          if (nodes_[c].next < 0) {
            emit(c);
            break;
          }
          int32_t split = push(Op::kSplit, 0, pc_ + 1);
          emit(c);
          to_end = push(Op::kJmp, 0, to_end);
          out_[split].y = pc_;
        }
        while (to_end >= 0) {
          int32_t prev = out_[to_end].x;
          out_[to_end].x = pc_;
          to_end = prev;
        }
        break;
      }
      case Kind::kRepeat: {
        const int32_t min = n.a, max = n.b;
        // The child is compiled once; further copies are relocated copies of that code.
        int32_t first = -1, len = 0;
        auto child = [&] {
          if (first >= 0) return copy(first, len);
          first = pc_;
          emit(n.child);
          len = pc_ - first;
        };
        if (max < 0) {
          if (min == 0) {
            int32_t loop = push(Op::kSplit, 0, pc_ + 1);
            child();
            push(Op::kJmp, 0, loop);
            out_[loop].y = pc_;
          } else {
            for (int k = 1; k < min; ++k) child();
            int32_t body = pc_;
            child();
            push(Op::kSplit, 0, body, pc_ + 1);
          }
          break;
        }
        for (int k = 0; k < min; ++k) child();
        // x{n,m} as x^n (x(x(...)?)?)?: every optional copy may skip to the same end.
        int32_t to_end = -1;
        for (int k = min; k < max; ++k) {
          to_end = push(Op::kSplit, 0, pc_ + 1, to_end);
          child();
        }
        while (to_end >= 0) {
          int32_t prev = out_[to_end].y;
          out_[to_end].y = pc_;
          to_end = prev;
        }
        break;
      }
    }
  }

 private:
  int32_t push(Op op, uint8_t arg, int32_t x = 0, int32_t y = 0) {
    out_[pc_] = Inst{op, arg, x, y};
    return pc_++;
  }

  // Appends a copy of the code at [from, from + len). A node's code jumps only within itself or
  // to its exit, so exactly the targets in [from, from + len] move with it.
  void copy(int32_t from, int32_t len) {
    const int32_t delta = pc_ - from;
    auto moved = [&](int32_t t) { return t >= from && t <= from + len ? t + delta : t; };
    for (int32_t i = 0; i < len; ++i) {
      Inst in = out_[from + i];
      if (in.op == Op::kJmp || in.op == Op::kSplit) in.x = moved(in.x);
      if (in.op == Op::kSplit) in.y = moved(in.y);
      out_[pc_++] = in;
    }
  }

  const std::vector<Node>& nodes_;
  const std::string& literals_;
  Program& prog_;
  Inst* out_;
  int32_t pc_ = 0;
};

bool is_char_node(const Node& n) { return n.kind == Kind::kChar || n.kind == Kind::kLiteral; }

void append_chars(const Node& n, const std::string& literals, std::string& out) {
  if (n.kind == Kind::kChar) {
    out.push_back(static_cast<char>(n.arg));
  } else {
    out.append(literals, static_cast<size_t>(n.a), static_cast<size_t>(n.b));
  }
}

// Compiles the parsed pattern, taking a leading `^literal` out of the program (it becomes a
// memcmp and a start position) and noting a literal before a final `$`.
void emit_program(int root, Scratch& scratch, Program& prog) {
  const std::vector<Node>& nodes = scratch.nodes;
  const Node& r = nodes[root];
  Emitter em(nodes, scratch.literals, prog, r.size + 1);
  prog.anchored = r.anchored;
  prog.min_len = r.min_len;
  if (r.kind != Kind::kConcat) {
    em.emit(root);
    em.finish();
    return;
  }
  int c = r.child;
  if (nodes[c].kind == Kind::kAssert && nodes[c].arg == kBeginText) {
    // Matching starts only at the start (after the prefix), where `^` holds: it need not be
    // checked, nor make the program tell the start from other positions.
    for (c = nodes[c].next; c >= 0 && is_char_node(nodes[c]); c = nodes[c].next) {
      append_chars(nodes[c], scratch.literals, prog.prefix);
    }
  }
  int last = c;
  for (; c >= 0; c = nodes[c].next) {
    em.emit(c);
    last = c;
  }
  em.finish();
  // The characters right before a final `$`, wherever the prefix ended.
  if (last >= 0 && nodes[last].kind == Kind::kAssert && nodes[last].arg == kEndText) {
    int run = -1;  // first node of the run of character nodes before `last`
    for (c = r.child; c != last; c = nodes[c].next) {
      if (!is_char_node(nodes[c])) {
        run = -1;
      } else if (run < 0) {
        run = c;
      }
    }
    for (c = run; c >= 0 && c != last; c = nodes[c].next) append_chars(nodes[c], scratch.literals, prog.suffix);
  }
}

// The characters a match can start with, assertions taken as passable. Reaching Match means
// some match may be empty, and then no position can be skipped.
void find_first(Program& prog, Scratch& scratch) {
  const auto& insts = prog.insts;
  uint32_t gen = scratch.next_gen();
  uint32_t* mark = scratch.mark.data();
  int32_t* stack = scratch.stack.data();
  int sp = 0;
  stack[sp++] = 0;
  mark[0] = gen;
  while (sp > 0) {
    int32_t pc = stack[--sp];
    const Inst& in = insts[pc];
    int32_t next[2] = {-1, -1};
    switch (in.op) {
      case Op::kChar: prog.first.add(in.arg); break;
      case Op::kSet: prog.first.add_set(prog.sets[in.x]); break;
      case Op::kMatch: return;
      case Op::kJmp: next[0] = in.x; break;
      case Op::kSplit: next[0] = in.x, next[1] = in.y; break;
      case Op::kAssert: next[0] = pc + 1; break;
    }
    for (int32_t t : next) {
      if (t >= 0 && mark[t] != gen) {
        mark[t] = gen;
        stack[sp++] = t;
      }
    }
  }
  prog.can_skip = true;
  if (prog.first.single() && !prog.first.has(kNonAscii)) prog.skip_byte = prog.first.lowest();
}

// Numbers the character instructions for the bit-parallel simulation, if there are few enough.
void number_states(Program& prog) {
  int n = 0;
  for (const Inst& in : prog.insts) n += in.op == Op::kChar || in.op == Op::kSet;
  if (n + 1 > 64 * kMaxBitWords) return;
  prog.nstates = n;
  prog.words = n + 1 <= 64 ? 1 : n + 1 <= 128 ? 2 : 4;
  prog.state_sets.resize(static_cast<size_t>(n));
  prog.state_next.resize(static_cast<size_t>(n) + 1);
  int k = 0;
  for (int32_t pc = 0; pc < static_cast<int32_t>(prog.insts.size()); ++pc) {
    Inst& in = prog.insts[pc];
    if (in.op == Op::kChar) {
      prog.state_sets[k] = CharSet{};
      prog.state_sets[k].add(in.arg);
    } else if (in.op == Op::kSet) {
      prog.state_sets[k] = prog.sets[in.x];
    } else {
      continue;
    }
    in.y = k;
    prog.state_next[k++] = pc + 1;
  }
  prog.state_next[n] = 0;  // the start
  // One table per combination of the context bits the program looks at.
  uint8_t tables = 0;
  for (unsigned ctx = 0; ctx < kNumContexts; ++ctx) {
    if (ctx & ~prog.ctx_mask) continue;
    prog.ctx_table[ctx] = tables;
    prog.table_ctx[tables++] = static_cast<uint8_t>(ctx);
  }
}

void compile(std::string_view pattern, size_t hash, Program& prog, Scratch& scratch) {
  prog.reset();
  scratch.nodes.clear();
  scratch.literals.clear();
  int root = Parser(pattern, scratch, prog).parse();
  if (root >= 0 && scratch.nodes[root].size < kMaxInsts) {
    emit_program(root, scratch, prog);
    scratch.fit(prog.insts.size());
    if (!prog.anchored) find_first(prog, scratch);
    number_states(prog);
    prog.supported = true;
  }
  prog.key.assign(pattern);
  prog.hash = hash;
  prog.valid = true;
}

// ---------------------------------------------------------------- matching

// The text as the simulations read it: characters, the context of a position, skipping.
class Text {
 public:
  Text(const Program& prog, std::string_view text)
      : prog_(prog), s_(reinterpret_cast<const unsigned char*>(text.data())), n_(text.size()) {}

  // The context bits the program looks at, at position `p` (a rune boundary). Bytes >= 0x80 are
  // never word characters, so looking at bytes is exact there.
  unsigned context(size_t p) const {
    unsigned c = static_cast<unsigned>(p == 0) * kAtBegin | static_cast<unsigned>(p == n_) * kAtEnd;
    if (prog_.ctx_mask & (kWordBefore | kWordAfter)) {
      c |= static_cast<unsigned>(p > 0 && is_word_byte(s_[p - 1])) * kWordBefore |
           static_cast<unsigned>(p < n_ && is_word_byte(s_[p])) * kWordAfter;
    }
    return c & prog_.ctx_mask;
  }

  // The character at `p` as the program sees it; advances `p` past it.
  unsigned next_char(size_t& p) const {
    unsigned c = s_[p];
    if (c < 0x80) {
      ++p;
      return c;
    }
    p += prog_.rune_steps ? rune_width(s_ + p, n_ - p) : 1;
    return kNonAscii;
  }

  // The next position from `p` (a rune boundary) whose character may start a match.
  size_t skip(size_t p) const {
    if (p >= n_) return n_;
    if (prog_.skip_byte >= 0) {
      const void* hit = std::memchr(s_ + p, prog_.skip_byte, n_ - p);
      return hit ? static_cast<size_t>(static_cast<const unsigned char*>(hit) - s_) : n_;
    }
    // Only ASCII bytes are passed over unless `first` excludes non-ASCII runes, so this stops
    // on a rune boundary either way.
    while (p < n_ && !prog_.first.has(s_[p] < 0x80 ? s_[p] : kNonAscii)) ++p;
    return p;
  }

  size_t size() const { return n_; }
  const unsigned char* data() const { return s_; }

 private:
  const Program& prog_;
  const unsigned char* s_;
  size_t n_;
};

// Fills row `r` of the table for `ctx`: the states reachable from state_next[r] without
// consuming text, and the Match bit.
void fill_row(const Program& prog, unsigned ctx, int r, uint64_t* row, Scratch& scratch) {
  std::fill(row, row + prog.words, 0);
  uint32_t gen = scratch.next_gen();
  uint32_t* mark = scratch.mark.data();
  int32_t* stack = scratch.stack.data();
  const Inst* insts = prog.insts.data();
  int32_t pc = prog.state_next[r];
  int sp = 0;
  mark[pc] = gen;
  stack[sp++] = pc;
  while (sp > 0) {
    pc = stack[--sp];
    for (;;) {
      const Inst& in = insts[pc];
      int32_t next = -1;
      switch (in.op) {
        case Op::kChar:
        case Op::kSet: row[in.y >> 6] |= uint64_t{1} << (in.y & 63); break;
        case Op::kMatch: row[prog.nstates >> 6] |= uint64_t{1} << (prog.nstates & 63); break;
        case Op::kJmp: next = in.x; break;
        case Op::kSplit:
          if (mark[in.y] != gen) {
            mark[in.y] = gen;
            stack[sp++] = in.y;
          }
          next = in.x;
          break;
        case Op::kAssert:
          if (holds(in.arg, ctx)) next = pc + 1;
          break;
      }
      if (next < 0 || mark[next] == gen) break;
      mark[next] = gen;
      pc = next;
    }
  }
}

// The NFA as bitmasks of W words: a step ORs the rows of the states that accept the character.
template <int W>
class BitSim {
 public:
  BitSim(Program& prog, const Text& text, Scratch& scratch)
      : prog_(prog),
        text_(text),
        scratch_(scratch),
        n_(text.size()),
        nrows_(static_cast<size_t>(prog.nstates) + 1),
        start_(prog.nstates),
        sets_(prog.state_sets.data()) {
    if (!prog.rows_ready) {
      size_t tables = size_t{1} << ((prog.ctx_mask & 1) + (prog.ctx_mask >> 1 & 1) + (prog.ctx_mask >> 2 & 1) +
                                    (prog.ctx_mask >> 3 & 1));
      if (prog.rows_capacity < tables * nrows_ * W) {
        prog.rows.reset(new uint64_t[tables * nrows_ * W]);
        prog.rows_capacity = tables * nrows_ * W;
      }
      prog.row_done.assign(tables * nrows_, 0);
      prog.rows_ready = true;
    }
    rows_ = prog.rows.get();
    done_ = prog.row_done.data();
  }

  bool run(size_t pos) {
    if (prog_.can_skip) {
      pos = text_.skip(pos);
      if (pos >= n_) return false;
    }
    uint64_t cur[W] = {};
    if (add_row(table(pos), start_, cur)) return true;
    return run_from(pos, cur);
  }

  // Runs on from `pos` with threads `cur` (which have not reached Match).
  bool run_from(size_t pos, uint64_t* cur) {
    const bool anchored = prog_.anchored, can_skip = prog_.can_skip;
    uint64_t nxt[W];
    while (pos < n_) {
      unsigned c = text_.next_char(pos);
      size_t t = table(pos);
      if (step(cur, c, t, nxt)) return true;
      if (!anchored) {
        if (can_skip && empty(nxt)) {
          size_t to = text_.skip(pos);
          if (to >= n_) return false;
          if (to != pos) t = table(pos = to);
        }
        if (add_row(t, start_, nxt)) return true;
      } else if (empty(nxt)) {
        return false;
      }
      for (int i = 0; i < W; ++i) cur[i] = nxt[i];
    }
    return false;
  }

  // The table for the context at `pos`.
  size_t table(size_t pos) const { return prog_.ctx_mask ? prog_.ctx_table[text_.context(pos)] : 0; }

  // The threads of `cur` that accept `c`, moved on in table `t`, in `out` (without new starts);
  // true when they reach Match.
  bool step(const uint64_t* cur, unsigned c, size_t t, uint64_t* out) {
    for (int i = 0; i < W; ++i) out[i] = 0;
    for (int i = 0; i < W; ++i) {
      for (uint64_t m = cur[i]; m; m &= m - 1) {
        int k = i * 64 + std::countr_zero(m);
        if (sets_[k].has(c) && add_row(t, k, out)) return true;
      }
    }
    return false;
  }

  // ORs row `r` of table `t` into `out`; true when that reaches Match.
  bool add_row(size_t t, int r, uint64_t* out) {
    size_t at = t * nrows_ + static_cast<size_t>(r);
    if (!done_[at]) [[unlikely]] {
      fill(t, r, at);
    }
    const uint64_t* row = rows_ + at * W;
    for (int i = 0; i < W; ++i) out[i] |= row[i];
    return (out[start_ >> 6] >> (start_ & 63)) & 1;
  }

  static bool empty(const uint64_t* m) {
    uint64_t any = 0;
    for (int i = 0; i < W; ++i) any |= m[i];
    return any == 0;
  }

  int start_row() const { return start_; }

 private:
  [[gnu::noinline]] void fill(size_t t, int r, size_t at) {
    fill_row(prog_, prog_.table_ctx[t], r, rows_ + at * W, scratch_);
    done_[at] = 1;
  }

  Program& prog_;
  const Text& text_;
  Scratch& scratch_;
  const size_t n_;
  const size_t nrows_;
  const int start_;  // the start's row, and Match's bit
  const CharSet* const sets_;
  uint64_t* rows_;
  uint8_t* done_;
};

// Bounds a DFA's states, and the memory of its transitions.
constexpr int kMaxDfaStates = 256;
constexpr int kMaxDfaTransitions = 16384;
constexpr int32_t kUnknown = -1, kMatched = -2, kFailed = -3;

// Prepares the DFA of a program that runs bit-parallel: character classes and an empty index.
void build_dfa(Program& prog) {
  auto& d = prog.dfa;
  const bool word_ctx = prog.ctx_mask & (kWordBefore | kWordAfter);
  // Each character's signature: the states accepting it (and whether it is a word character,
  // which decides the context after it).
  std::array<std::array<uint64_t, kMaxBitWords + 1>, kNonAscii + 1> sig{};
  for (int k = 0; k < prog.nstates; ++k) {
    const CharSet& cs = prog.state_sets[k];
    for (int i = 0; i < 3; ++i) {
      for (uint64_t m = cs.w[i]; m; m &= m - 1) sig[i * 64 + std::countr_zero(m)][k >> 6] |= uint64_t{1} << (k & 63);
    }
  }
  const int kinds = word_ctx ? 3 : 2;
  std::array<uint8_t, kNonAscii + 1> rep{};  // a character of each class
  int classes = 0;
  for (unsigned c = 0; c <= kNonAscii; ++c) {
    if (word_ctx) sig[c][kMaxBitWords] = is_word_byte(static_cast<unsigned char>(c));
    int cls = 0;
    while (cls < classes && sig[rep[cls]] != sig[c]) ++cls;
    if (cls == classes) rep[classes++] = static_cast<uint8_t>(c);
    d.class_offset[c] = static_cast<uint16_t>(cls * kinds);
  }
  for (unsigned b = 0; b < 256; ++b) d.next_kind[b] = word_ctx && is_word_byte(static_cast<unsigned char>(b)) ? 2 : 1;
  d.width = classes * kinds;
  d.max_states = std::min(kMaxDfaStates, kMaxDfaTransitions / d.width);
  d.states = 0;
  d.masks.clear();
  d.next.clear();
  d.index.assign(2 * kMaxDfaStates, -1);
  d.start.fill(kUnknown);
  d.ready = true;
}

// Runs the DFA, adding states and transitions as the text needs them; once it is full, the
// rest of the text is left to the bit-parallel simulation.
template <int W>
[[gnu::noinline]] bool run_dfa(Program& prog, BitSim<W>& sim, const Text& text, size_t pos) {
  auto& d = prog.dfa;
  if (!d.ready) build_dfa(prog);
  const unsigned char* s = text.data();
  const size_t n = text.size();
  const bool anchored = prog.anchored;
  const int32_t width = d.width;

  // The state (as an offset) of threads `m`, or kUnknown when the DFA is full.
  auto intern = [&](const uint64_t* m) -> int32_t {
    uint64_t h = 0;
    for (int i = 0; i < W; ++i) h = (h ^ m[i]) * 0x9E3779B97F4A7C15ull;
    for (size_t b = (h >> 32) & (2 * kMaxDfaStates - 1);; b = (b + 1) & (2 * kMaxDfaStates - 1)) {
      int32_t id = d.index[b];
      if (id < 0) {
        if (d.states == d.max_states) return kUnknown;
        id = d.states++;
        d.index[b] = static_cast<int16_t>(id);
        d.masks.insert(d.masks.end(), m, m + W);
        d.next.resize(d.next.size() + static_cast<size_t>(width), kUnknown);
        return id * width;
      }
      if (std::equal(m, m + W, d.masks.data() + static_cast<size_t>(id) * W)) return id * width;
    }
  };

  if (prog.can_skip) {
    pos = text.skip(pos);
    if (pos >= n) return false;
  }
  size_t t0 = sim.table(pos);
  int32_t st = d.start[t0];
  if (st == kUnknown) {
    uint64_t m[W] = {};
    if (sim.add_row(t0, sim.start_row(), m)) {
      st = kMatched;
    } else if (anchored && BitSim<W>::empty(m)) {  // not `pos == n`: the table may be shared
      st = kFailed;
    } else {
      st = intern(m);
      if (st == kUnknown) return sim.run_from(pos, m);
    }
    d.start[t0] = st;
  }
  if (st < 0) return st == kMatched;
  // The hot loop reads only locals; `next` is reloaded after a transition is added.
  const bool rune_steps = prog.rune_steps;
  const uint16_t* const class_offset = d.class_offset.data();
  const uint8_t* const next_kind = d.next_kind.data();
  const int32_t* next = d.next.data();
  while (pos < n) {
    size_t np = pos + 1;
    unsigned c = s[pos];
    if (c >= 0x80) {
      c = kNonAscii;
      if (rune_steps) np = pos + rune_width(s + pos, n - pos);
    }
    size_t slot = static_cast<size_t>(st) + class_offset[c] + (np < n ? next_kind[s[np]] : 0);
    int32_t v = next[slot];
    if (v < 0) {
      if (v != kUnknown) return v == kMatched;
      uint64_t m[W];
      size_t t = sim.table(np);
      if (sim.step(d.masks.data() + static_cast<size_t>(st / width) * W, c, t, m) ||
          (!anchored && sim.add_row(t, sim.start_row(), m))) {
        v = kMatched;
      } else if (np == n || (anchored && BitSim<W>::empty(m))) {
        v = kFailed;
      } else {
        v = intern(m);
        if (v == kUnknown) return sim.run_from(np, m);
      }
      d.next[slot] = v;
      next = d.next.data();
      if (v < 0) return v == kMatched;
    }
    st = v;
    pos = np;
  }
  return false;
}

// A Pike VM without captures, for programs too large for BitSim: only whether some thread
// reaches Match matters, so threads carry no priority and reaching Match ends the search.
class PikeVm {
 public:
  PikeVm(const Program& prog, const Text& text, Scratch& scratch)
      : prog_(prog),
        text_(text),
        scratch_(scratch),
        insts_(prog.insts.data()),
        sets_(prog.sets.data()),
        mark_(scratch.mark.data()),
        stack_(scratch.stack.data()) {}

  bool run(size_t pos) {
    const size_t n = text_.size();
    int32_t* clist = scratch_.list0.data();
    int32_t* nlist = scratch_.list1.data();
    int clen = 0;
    if (prog_.can_skip) {
      pos = text_.skip(pos);
      if (pos >= n) return false;
    }
    gen_ = scratch_.next_gen();
    if (add(clist, clen, 0, pos)) return true;
    while (pos < n) {
      size_t np = pos;
      unsigned c = text_.next_char(np);
      gen_ = scratch_.next_gen();
      int nlen = 0;
      for (int k = 0; k < clen; ++k) {
        const Inst& in = insts_[clist[k]];
        bool ok = in.op == Op::kChar ? in.arg == c : sets_[in.x].has(c);
        if (ok && add(nlist, nlen, clist[k] + 1, np)) return true;
      }
      pos = np;
      if (!prog_.anchored) {
        if (nlen == 0 && prog_.can_skip) {
          size_t to = text_.skip(pos);
          if (to >= n) return false;
          // Marks from this step were made at the old position, where assertions may differ.
          if (to != pos) gen_ = scratch_.next_gen();
          pos = to;
        }
        if (add(nlist, nlen, 0, pos)) return true;
      } else if (nlen == 0) {
        return false;
      }
      std::swap(clist, nlist);
      clen = nlen;
    }
    return false;
  }

 private:
  // Appends to `list` the character instructions reachable from `pc` at `pos` without consuming
  // text; true when Match is reachable. Marking on push bounds the stack by the program size.
  bool add(int32_t* list, int& len, int32_t pc, size_t pos) {
    if (mark_[pc] == gen_) return false;
    mark_[pc] = gen_;
    const unsigned ctx = text_.context(pos);
    int sp = 0;
    for (;;) {
      const Inst& in = insts_[pc];
      int32_t next = -1;
      switch (in.op) {
        case Op::kChar:
        case Op::kSet: list[len++] = pc; break;
        case Op::kMatch: return true;
        case Op::kJmp: next = in.x; break;
        case Op::kSplit:
          if (mark_[in.y] != gen_) {
            mark_[in.y] = gen_;
            stack_[sp++] = in.y;
          }
          next = in.x;
          break;
        case Op::kAssert:
          if (holds(in.arg, ctx)) next = pc + 1;
          break;
      }
      if (next >= 0 && mark_[next] != gen_) {
        mark_[next] = gen_;
        pc = next;
        continue;
      }
      if (sp == 0) return false;
      pc = stack_[--sp];
    }
  }

  const Program& prog_;
  const Text& text_;
  Scratch& scratch_;
  const Inst* insts_;
  const CharSet* sets_;
  uint32_t* mark_;
  int32_t* stack_;
  uint32_t gen_ = 0;
};

template <int W>
bool run_bits(Program& prog, const Text& text, Scratch& scratch, size_t pos, bool dfa) {
  BitSim<W> sim(prog, text, scratch);
  return dfa ? run_dfa<W>(prog, sim, text, pos) : sim.run(pos);
}

std::optional<bool> run(Program& prog, std::string_view text, Scratch& scratch) {
  const size_t n = text.size();
  if (static_cast<int64_t>(n) < prog.min_len) return false;  // a rune is at least a byte
  // min_len counts the prefix and suffix bytes, so the text is long enough for both.
  if (!prog.prefix.empty() && std::memcmp(text.data(), prog.prefix.data(), prog.prefix.size()) != 0) return false;
  if (!prog.suffix.empty() &&
      std::memcmp(text.data() + n - prog.suffix.size(), prog.suffix.data(), prog.suffix.size()) != 0) {
    return false;
  }
  if (prog.ascii_text_only) {
    for (char c : text) {
      if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    }
  }
  scratch.fit(prog.insts.size());
  Text t(prog, text);
  const size_t start = prog.prefix.size();
  // DFA states cost more to build than a bit-parallel run (~9k instructions for the class
  // table alone): they pay off only for a pattern in steady use, not for per-request patterns
  // nor within the first request that meets a pattern (which must stay fast: issue 2).
  const bool dfa = prog.runs >= dfa_after_runs;
  if (prog.runs < dfa_after_runs) ++prog.runs;
  switch (prog.words) {
    case 1: return run_bits<1>(prog, t, scratch, start, dfa);
    case 2: return run_bits<2>(prog, t, scratch, start, dfa);
    case 4: return run_bits<4>(prog, t, scratch, start, dfa);
    default: return PikeVm(prog, t, scratch).run(start);
  }
}

// ---------------------------------------------------------------- cache

// Set-associative (a miss costs only a recompile); within a set, most recently used first.
class Cache {
 public:
  Program& get(std::string_view pattern, Scratch& scratch) {
    size_t h = std::hash<std::string_view>{}(pattern);
    auto* set = &slots_[(h % kSets) * kWays];
    for (size_t w = 0; w < kWays; ++w) {
      Program* p = set[w].get();
      if (p && p->valid && p->hash == h && p->key == pattern) {
        std::rotate(set, set + w, set + w + 1);
        return *set[0];
      }
    }
    std::rotate(set, set + kWays - 1, set + kWays);
    if (!set[0]) set[0] = std::make_unique<Program>();
    compile(pattern, h, *set[0], scratch);
    return *set[0];
  }

 private:
  static constexpr size_t kSets = 64;
  static constexpr size_t kWays = 4;
  std::array<std::unique_ptr<Program>, kSets * kWays> slots_;
};

struct ThreadState {
  Cache cache;
  Scratch scratch;
};

}  // namespace

std::optional<bool> nfa_regex_match(std::string_view pattern, std::string_view text) {
  if (pattern.size() > kMaxPatternBytes) return std::nullopt;
  try {
    thread_local ThreadState state;
    Program& prog = state.cache.get(pattern, state.scratch);
    if (!prog.supported) return std::nullopt;
    return run(prog, text, state.scratch);
  } catch (...) {  // only allocation can fail; RE2 may fare better
    return std::nullopt;
  }
}

void nfa_regex_set_dfa_after_runs_for_testing(unsigned runs) {
  dfa_after_runs = static_cast<uint8_t>(std::min(runs, 255u));
}

}  // namespace confidant::rego
