#include "rego/lexer.h"

#include <algorithm>
#include <limits>

#include "rego/ast.h"

namespace confidant::rego {

namespace {

constexpr bool is_letter(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
constexpr bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// Byte classes for the hot loops: identifier characters, and bytes that end
// the plain run of a quoted string.
struct Classes {
  bool ident[256] = {};
  bool string_stop[256] = {};
  constexpr Classes() {
    for (int c = 0; c < 256; ++c)
      ident[c] = is_letter(static_cast<unsigned char>(c)) || is_digit(static_cast<unsigned char>(c));
    string_stop[static_cast<unsigned char>('"')] = string_stop[static_cast<unsigned char>('\\')] =
        string_stop[static_cast<unsigned char>('\n')] = true;
  }
};
constexpr Classes kClasses;

Tok word_kind(std::string_view w, uint8_t& aux) {
  aux = 0;
  switch (w.size()) {
    case 2:
      if (w == "as") return Tok::As;
      if (w == "in") aux = static_cast<uint8_t>(Tok::In);
      if (w == "if") aux = static_cast<uint8_t>(Tok::If);
      break;
    case 3:
      if (w == "not") return Tok::Not;
      break;
    case 4:
      if (w == "else") return Tok::Else;
      if (w == "some") return Tok::Some;
      if (w == "with") return Tok::With;
      if (w == "null") return Tok::Null;
      if (w == "true") return Tok::True;
      break;
    case 5:
      if (w == "false") return Tok::False;
      if (w == "every") aux = static_cast<uint8_t>(Tok::Every);
      break;
    case 6:
      if (w == "import") return Tok::Import;
      break;
    case 7:
      if (w == "package") return Tok::Package;
      if (w == "default") return Tok::Default;
      break;
    case 8:
      if (w == "contains") aux = static_cast<uint8_t>(Tok::Contains);
      break;
  }
  return Tok::Ident;
}

class Lexer {
 public:
  Lexer(std::string_view src, std::vector<Token>& out, std::vector<MetadataBlock>* meta, std::vector<Comment>* comments)
      : s_(src), out_(out), meta_(meta), comments_(comments) {}

  void run() {
    out_.clear();
    // Policies run about one token per 8 bytes; reserving avoids most regrowth
    // (capped: huge inputs grow the vector as they go).
    out_.reserve(std::min<size_t>(s_.size() / 6, size_t{1} << 22) + 16);
    if (s_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
      Token t;
      t.kind = Tok::Illegal;
      t.aux = static_cast<uint8_t>(LexError::TooLarge);
      out_.push_back(t);
      Token eof;
      out_.push_back(eof);
      return;
    }
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") p_ = line_start_ = 3;
    for (;;) {
      skip_space();
      Token& t = out_.emplace_back();
      t.offset = static_cast<uint32_t>(p_);
      t.row = row_;
      t.col = static_cast<uint32_t>(p_ - line_start_ + 1);
      t.space_before = space_;
      t.nl_before = nl_;
      space_ = nl_ = false;
      if (p_ >= s_.size()) return;
      in_meta_ = false;  // a real token ends any metadata block
      scan(t);
      t.len = static_cast<uint32_t>(p_ - t.offset);
    }
  }

 private:
  void skip_space() {
    while (p_ < s_.size()) {
      char c = s_[p_];
      if (c == ' ' || c == '\t' || c == '\r') {
        // Indentation comes in runs.
        p_ = skip_while(p_ + 1, [](unsigned char ch) { return ch == ' '; });
        space_ = true;
      } else if (c == '\n') {
        ++p_;
        ++row_;
        line_start_ = p_;
        space_ = nl_ = true;
      } else if (c == '#') {
        comment();
        space_ = true;
      } else {
        return;
      }
    }
  }

  // Comments are skipped; only `# METADATA` blocks are kept (OPA's rule): a
  // comment at column 1 whose text starts with METADATA opens a block, each
  // comment at column 1 of the next line continues it (a METADATA line opens the next).
  void comment() {
    size_t start = p_ + 1;
    size_t col = p_ - line_start_ + 1;
    size_t nl = s_.find('\n', p_);
    p_ = nl == std::string_view::npos ? s_.size() : nl;
    if (!meta_ && !comments_) return;
    std::string_view text = s_.substr(start, p_ - start);
    while (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (comments_) comments_->push_back(Comment{row_, rune_col(start - 1), std::string(text)});
    if (!meta_) return;
    size_t i = 0;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    bool opens = col == 1 && text.substr(i, 8) == "METADATA";
    if (in_meta_ && row_ == meta_row_ + 1 && col == 1 && !opens) {
      if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
      auto& b = meta_->back();
      b.yaml.append(text);
      b.yaml.push_back('\n');
      b.end_offset = static_cast<uint32_t>(p_);
      ++b.lines;
      meta_row_ = row_;
      return;
    }
    in_meta_ = false;
    if (opens) {
      meta_->push_back(MetadataBlock{static_cast<uint32_t>(p_), row_, 1, 0, {}});
      in_meta_ = true;
      meta_row_ = row_;
    }
  }

  // 1-based column of byte `at` counted in characters, as OPA's scanner does.
  uint32_t rune_col(size_t at) const {
    uint32_t n = 1;
    for (size_t i = line_start_; i < at; ++i)
      if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++n;
    return n;
  }

  void error(Token& t, LexError e) {
    if (t.kind != Tok::Illegal) {
      t.kind = Tok::Illegal;
      t.aux = static_cast<uint8_t>(e);
    }
  }

  void scan(Token& t) {
    unsigned char c = static_cast<unsigned char>(s_[p_]);
    if (is_letter(c)) {
      size_t start = p_;
      p_ = skip_while(p_, [](unsigned char ch) { return kClasses.ident[ch]; });
      t.kind = word_kind(s_.substr(start, p_ - start), t.aux);
      return;
    }
    if (is_digit(c)) return number(t);
    ++p_;
    auto two = [&](char next, Tok yes, Tok no) {
      if (p_ < s_.size() && s_[p_] == next) {
        ++p_;
        t.kind = yes;
      } else {
        t.kind = no;
      }
    };
    switch (c) {
      case '"': return string(t);
      case '`': {
        t.kind = Tok::RawString;
        size_t end = std::min(s_.find('`', p_), s_.size());
        // Raw strings may span lines; keep row bookkeeping right.
        for (size_t i = p_; i < end; ++i)
          if (s_[i] == '\n') {
            ++row_;
            line_start_ = i + 1;
          }
        if (end == s_.size()) {
          p_ = end;
          return error(t, LexError::NonTerminatedString);
        }
        p_ = end + 1;
        return;
      }
      case '[': t.kind = Tok::LBrack; return;
      case ']': t.kind = Tok::RBrack; return;
      case '{': t.kind = Tok::LBrace; return;
      case '}': t.kind = Tok::RBrace; return;
      case '(': t.kind = Tok::LParen; return;
      case ')': t.kind = Tok::RParen; return;
      case ',': t.kind = Tok::Comma; return;
      case ';': t.kind = Tok::Semicolon; return;
      case '.': t.kind = Tok::Dot; return;
      case '+': t.kind = Tok::Add; return;
      case '-': t.kind = Tok::Sub; return;
      case '*': t.kind = Tok::Mul; return;
      case '/': t.kind = Tok::Quo; return;
      case '%': t.kind = Tok::Rem; return;
      case '&': t.kind = Tok::And; return;
      case '|': t.kind = Tok::Or; return;
      case ':': return two('=', Tok::Assign, Tok::Colon);
      case '=': return two('=', Tok::Equal, Tok::Unify);
      case '>': return two('=', Tok::Gte, Tok::Gt);
      case '<': return two('=', Tok::Lte, Tok::Lt);
      case '!':
        two('=', Tok::Neq, Tok::Illegal);
        if (t.kind == Tok::Illegal) t.aux = static_cast<uint8_t>(LexError::IllegalBang);
        return;
      case 0: return error(t, LexError::IllegalNull);
      default:
        // Skip the rest of a multi-byte character so the error is reported once.
        while (p_ < s_.size() && (static_cast<unsigned char>(s_[p_]) & 0xC0) == 0x80) ++p_;
        return error(t, LexError::IllegalToken);
    }
  }

  void digits() { p_ = skip_while(p_, is_digit); }

  // The first position from i whose byte fails `pred`. Local pointers keep
  // the hot loops in registers (members would be reloaded every byte).
  template <class Pred>
  size_t skip_while(size_t i, Pred pred) const {
    const char* b = s_.data();
    const char* p = b + i;
    const char* e = b + s_.size();
    while (p < e && pred(static_cast<unsigned char>(*p))) ++p;
    return static_cast<size_t>(p - b);
  }

  void number(Token& t) {
    t.kind = Tok::Number;
    digits();
    if (p_ < s_.size() && s_[p_] == '.') {
      size_t b = ++p_;
      digits();
      if (p_ == b) error(t, LexError::ExpectedFraction);
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < s_.size() && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      size_t b = p_;
      digits();
      if (p_ == b) error(t, LexError::ExpectedExponent);
    }
    // `0a2b` is one malformed number, not a number followed by a name.
    if (p_ < s_.size() && is_letter(s_[p_])) {
      error(t, LexError::IllegalNumber);
      while (p_ < s_.size() && (is_letter(s_[p_]) || is_digit(s_[p_]))) ++p_;
    }
  }

  void string(Token& t) {
    t.kind = Tok::String;
    for (;;) {
      // Fast scan to the next interesting byte.
      p_ = skip_while(p_, [](unsigned char ch) { return !kClasses.string_stop[ch]; });
      if (p_ >= s_.size() || s_[p_] == '\n') return error(t, LexError::NonTerminatedString);
      if (s_[p_++] == '"') return;
      if (t.kind == Tok::String) t.aux = 1;  // has escapes to decode
      if (p_ >= s_.size()) return error(t, LexError::NonTerminatedString);
      switch (s_[p_]) {
        case '\\':
        case '"':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': ++p_; break;
        case 'u':
          ++p_;
          // Hex digits are validated when decoding; never run past the closing quote.
          for (int i = 0; i < 4 && p_ < s_.size() && s_[p_] != '"' && s_[p_] != '\n'; ++i) ++p_;
          break;
        default: error(t, LexError::IllegalEscape);
      }
    }
  }

  std::string_view s_;
  std::vector<Token>& out_;
  std::vector<MetadataBlock>* meta_;
  std::vector<Comment>* comments_;
  size_t p_ = 0;
  size_t line_start_ = 0;
  uint32_t row_ = 1;
  bool space_ = false, nl_ = false;
  bool in_meta_ = false;
  uint32_t meta_row_ = 0;
};

void put_utf8(std::string& s, uint32_t cp) {
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

bool hex4(std::string_view s, size_t i, uint32_t& v) {
  if (i + 4 > s.size()) return false;
  v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<uint32_t>(c - 'A' + 10);
    else
      return false;
  }
  return true;
}

}  // namespace

void lex(std::string_view src, std::vector<Token>& out, std::vector<MetadataBlock>* metadata,
         std::vector<Comment>* comments) {
  Lexer(src, out, metadata, comments).run();
}

bool unescape_string(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find('\\', i);
    if (j == std::string_view::npos) j = s.size();
    out.append(s.substr(i, j - i));
    if (j == s.size()) break;
    if (j + 1 >= s.size()) return false;
    char c = s[j + 1];
    i = j + 2;
    switch (c) {
      case '"':
      case '\\':
      case '/': out.push_back(c); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp;
        if (!hex4(s, i, cp)) return false;
        i += 4;
        if (cp >= 0xD800 && cp < 0xE000) {
          uint32_t lo;
          if (cp < 0xDC00 && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u' && hex4(s, i + 2, lo) &&
              lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          } else {
            cp = 0xFFFD;
          }
        }
        put_utf8(out, cp);
        break;
      }
      default: return false;
    }
  }
  return true;
}

const char* token_name(Tok t) {
  switch (t) {
    case Tok::Eof: return "eof";
    case Tok::Illegal: return "illegal";
    case Tok::Ident: return "identifier";
    case Tok::Number: return "number";
    case Tok::String:
    case Tok::RawString: return "string";
    case Tok::LBrack: return "[";
    case Tok::RBrack: return "]";
    case Tok::LBrace: return "{";
    case Tok::RBrace: return "}";
    case Tok::LParen: return "(";
    case Tok::RParen: return ")";
    case Tok::Comma: return ",";
    case Tok::Colon: return ":";
    case Tok::Semicolon: return ";";
    case Tok::Dot: return ".";
    case Tok::Add: return "plus";
    case Tok::Sub: return "minus";
    case Tok::Mul: return "mul";
    case Tok::Quo: return "div";
    case Tok::Rem: return "rem";
    case Tok::And: return "and";
    case Tok::Or: return "or";
    case Tok::Unify: return "eq";
    case Tok::Equal: return "equal";
    case Tok::Assign: return "assign";
    case Tok::Neq: return "neq";
    case Tok::Gt: return "gt";
    case Tok::Lt: return "lt";
    case Tok::Gte: return "gte";
    case Tok::Lte: return "lte";
    case Tok::Package: return "package";
    case Tok::Import: return "import";
    case Tok::As: return "as";
    case Tok::Default: return "default";
    case Tok::Else: return "else";
    case Tok::Not: return "not";
    case Tok::Some: return "some";
    case Tok::With: return "with";
    case Tok::Null: return "null";
    case Tok::True: return "true";
    case Tok::False: return "false";
    case Tok::In: return "in";
    case Tok::Every: return "every";
    case Tok::Contains: return "contains";
    case Tok::If: return "if";
  }
  return "unknown";
}

bool is_keyword(Tok t) { return t >= Tok::Package; }

const char* lex_error_message(LexError e) {
  switch (e) {
    case LexError::None:
    case LexError::IllegalToken: return "illegal token";
    case LexError::NonTerminatedString: return "non-terminated string";
    case LexError::IllegalEscape: return "illegal escape sequence";
    case LexError::ExpectedFraction: return "expected fraction";
    case LexError::ExpectedExponent: return "expected exponent";
    case LexError::IllegalNumber: return "illegal number format";
    case LexError::IllegalBang: return "illegal ! character";
    case LexError::IllegalNull: return "illegal null character";
    case LexError::TooLarge: return "input too large";
  }
  return "illegal token";
}

}  // namespace confidant::rego
