// GraphQL lexer and parser (gqlparser's lexer/, parser/query.go,
// parser/schema.go), and the AST <-> Rego value conversions OPA performs.
// See graphql_parser.h for why the details follow gqlparser so closely.
#include "rego/builtins/graphql_parser.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>
#include <utility>

namespace confidant::rego::graphql {

// ============================================================== errors, misc

std::string Error::str() const {
  std::string out = file.empty() ? "input" : file;
  if (has_location) {
    out += ':';
    out += std::to_string(line);
    out += ':';
    out += std::to_string(column);
  }
  out += ": ";
  out += message;
  return out;
}

Error error_at(const Position& pos, std::string message) {
  Error e;
  e.message = std::move(message);
  if (pos.valid()) {
    e.has_location = true;
    e.line = pos.line;
    e.column = pos.column;
    e.file = pos.file;
  }
  return e;
}

std::string list_str(const std::vector<Error>& errors) {
  std::string out;
  for (const Error& e : errors) {
    out += e.str();
    out += '\n';
  }
  return out;
}

namespace {

// utf8.DecodeRuneInString: (U+FFFD, 1) for an invalid sequence.
struct Rune {
  uint32_t cp;
  size_t width;
  bool valid;
};
Rune decode_rune(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const size_t n = s.size() - i;
  if (n == 0) return {0xFFFD, 0, false};
  const unsigned char c = b(0);
  if (c < 0x80) return {c, 1, true};
  auto cont = [&](size_t k) { return k < n && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return {((c & 0x1Fu) << 6) | (b(1) & 0x3Fu), 2, true};
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    const uint32_t cp = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {cp, 3, true};
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t cp = ((c & 0x07u) << 18) | ((b(1) & 0x3Fu) << 12) | ((b(2) & 0x3Fu) << 6) | (b(3) & 0x3Fu);
    if (cp >= 0x10000 && cp <= 0x10FFFF) return {cp, 4, true};
  }
  return {0xFFFD, 1, false};
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;  // what Go's WriteRune does
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// unicode.IsPrint, approximated: controls, the C1 range, soft hyphen,
// surrogates and the Unicode separators are not printable.
bool is_print(uint32_t r) {
  if (r < 0x20 || (r >= 0x7F && r < 0xA0) || r == 0xAD) return false;
  if (r == 0x2028 || r == 0x2029 || (r >= 0xD800 && r <= 0xDFFF) || r == 0xFEFF) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  return true;
}

}  // namespace

std::string go_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (!r.valid) {
      out += "\\x";
      out.push_back(hex[static_cast<unsigned char>(s[i]) >> 4]);
      out.push_back(hex[static_cast<unsigned char>(s[i]) & 15]);
      i += 1;
      continue;
    }
    switch (r.cp) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (is_print(r.cp)) {
          out.append(s.substr(i, r.width));
        } else if (r.cp < 0x80) {
          out += "\\x";
          out.push_back(hex[r.cp >> 4]);
          out.push_back(hex[r.cp & 15]);
        } else if (r.cp < 0x10000) {
          out += "\\u";
          for (int sh = 12; sh >= 0; sh -= 4) out.push_back(hex[(r.cp >> sh) & 15]);
        } else {
          out += "\\U";
          for (int sh = 28; sh >= 0; sh -= 4) out.push_back(hex[(r.cp >> sh) & 15]);
        }
    }
    i += r.width;
  }
  out += '"';
  return out;
}

std::string Type::str() const {
  const std::string nn = non_null ? "!" : "";
  if (!named_type.empty() || !elem) return named_type + nn;
  return "[" + elem->str() + "]" + nn;
}

bool Type::is_compatible(const Type& other) const {
  if (named_type != other.named_type) return false;
  if (elem && !other.elem) return false;
  if (elem && !elem->is_compatible(*other.elem)) return false;
  if (other.non_null) return non_null;
  return true;
}

namespace {

// graphql-js printString, as gqlparser's ast.Value.String() quotes strings.
std::string quote_graphql_string(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
          const unsigned char n = static_cast<unsigned char>(s[++i]);
          out += "\\u00";
          out.push_back(hex[n >> 4]);
          out.push_back(hex[n & 15]);
        } else if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string GqlValue::str() const {
  switch (kind) {
    case ValueKind::Variable: return "$" + raw;
    case ValueKind::Int:
    case ValueKind::Float:
    case ValueKind::Enum:
    case ValueKind::Boolean:
    case ValueKind::Null: return raw;
    case ValueKind::String:
    case ValueKind::Block: return quote_graphql_string(raw);
    case ValueKind::List: {
      std::string out = "[";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i) out += ',';
        out += children[i].value ? children[i].value->str() : "<nil>";
      }
      return out + "]";
    }
    case ValueKind::Object: {
      std::string out = "{";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i) out += ',';
        out += children[i].name + ":" + (children[i].value ? children[i].value->str() : "<nil>");
      }
      return out + "}";
    }
  }
  return raw;
}

const ArgumentDefinition* FieldDefinition::argument(std::string_view n) const {
  for (const auto& a : arguments)
    if (a && a->name == n) return a.get();
  return nullptr;
}
const ArgumentDefinition* DirectiveDefinition::argument(std::string_view n) const {
  for (const auto& a : arguments)
    if (a && a->name == n) return a.get();
  return nullptr;
}
const FieldDefinition* Definition::field(std::string_view n) const {
  for (const auto& f : fields)
    if (f && f->name == n) return f.get();
  return nullptr;
}
const Definition* Schema::type(std::string_view name) const {
  auto it = types.find(std::string(name));
  return it == types.end() ? nullptr : it->second;
}

// ==================================================================== lexer

namespace {

enum class Tok {
  Invalid, EOF_, Bang, Dollar, Amp, ParenL, ParenR, Spread, Colon, Equals, At, BracketL, BracketR, BraceL, Pipe,
  BraceR, Name, Int, Float, String, BlockString, Comment
};

// lexer.Type.String(): how token kinds appear in messages.
const char* tok_str(Tok t) {
  switch (t) {
    case Tok::Invalid: return "<Invalid>";
    case Tok::EOF_: return "<EOF>";
    case Tok::Bang: return "!";
    case Tok::Dollar: return "$";
    case Tok::Amp: return "&";
    case Tok::ParenL: return "(";
    case Tok::ParenR: return ")";
    case Tok::Spread: return "...";
    case Tok::Colon: return ":";
    case Tok::Equals: return "=";
    case Tok::At: return "@";
    case Tok::BracketL: return "[";
    case Tok::BracketR: return "]";
    case Tok::BraceL: return "{";
    case Tok::Pipe: return "|";
    case Tok::BraceR: return "}";
    case Tok::Name: return "Name";
    case Tok::Int: return "Int";
    case Tok::Float: return "Float";
    case Tok::String: return "String";
    case Tok::BlockString: return "BlockString";
    case Tok::Comment: return "Comment";
  }
  return "<Invalid>";
}

struct Token {
  Tok kind = Tok::Invalid;
  std::string value;
  Position pos;
  // lexer.Token.String(): the kind, then the quoted value when there is one.
  std::string str() const { return value.empty() ? tok_str(kind) : std::string(tok_str(kind)) + " " + go_quote(value); }
};

// leadingWhitespace: the byte index of the first non-blank character, or
// INT_MAX for a blank line (which does not count towards the indent).
int leading_whitespace(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i)
    if (line[i] != ' ' && line[i] != '\t') return static_cast<int>(i);
  return INT_MAX;
}

// lexer.blockStringValue: the block string dedent of the GraphQL spec.
std::string block_string_value(const std::string& raw) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t nl = raw.find('\n', start);
    lines.push_back(raw.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  int common = 99999;
  for (size_t i = 1; i < lines.size(); ++i) {
    const int indent = leading_whitespace(lines[i]);
    if (indent < static_cast<int>(lines[i].size()) && indent < common) {
      common = indent;
      if (common == 0) break;
    }
  }
  if (common != 99999) {
    for (size_t i = 1; i < lines.size(); ++i)
      lines[i] = lines[i].size() < static_cast<size_t>(common) ? "" : lines[i].substr(static_cast<size_t>(common));
  }
  size_t b = 0, e = lines.size();
  while (b < e && leading_whitespace(lines[b]) == INT_MAX) ++b;
  while (b < e && leading_whitespace(lines[e - 1]) == INT_MAX) --e;
  std::string out;
  for (size_t i = b; i < e; ++i) {
    if (i > b) out += '\n';
    out += lines[i];
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view input, std::string file) : in_(input), file_(std::move(file)) {}

  // ReadToken; on a lexical error `err` is set and an Invalid token returned.
  Token read(std::optional<Error>& err) {
    ws();
    start_ = end_;
    start_runes_ = end_runes_;
    if (end_ >= in_.size()) return make(Tok::EOF_);
    const unsigned char r = static_cast<unsigned char>(in_[start_]);
    ++end_;
    ++end_runes_;
    switch (r) {
      case '!': return make_value(Tok::Bang, "");
      case '$': return make_value(Tok::Dollar, "");
      case '&': return make_value(Tok::Amp, "");
      case '(': return make_value(Tok::ParenL, "");
      case ')': return make_value(Tok::ParenR, "");
      case '.':
        if (in_.size() > start_ + 2 && in_.substr(start_, 3) == "...") {
          end_ += 2;
          end_runes_ += 2;
          return make_value(Tok::Spread, "");
        }
        break;
      case ':': return make_value(Tok::Colon, "");
      case '=': return make_value(Tok::Equals, "");
      case '@': return make_value(Tok::At, "");
      case '[': return make_value(Tok::BracketL, "");
      case ']': return make_value(Tok::BracketR, "");
      case '{': return make_value(Tok::BraceL, "");
      case '}': return make_value(Tok::BraceR, "");
      case '|': return make_value(Tok::Pipe, "");
      case '#': return read_comment();
      case '"':
        if (in_.size() > start_ + 2 && in_.substr(start_, 3) == "\"\"\"") return read_block_string(err);
        return read_string(err);
      default:
        if (r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) return read_name();
        if (r == '-' || (r >= '0' && r <= '9')) return read_number(err);
    }
    --end_;
    --end_runes_;
    if (r < 0x20 && r != 0x09 && r != 0x0A && r != 0x0D)
      // gqlparser formats the code point with %04d (decimal), and so do we.
      return make_error(err, "Cannot contain the invalid character \"\\u" + pad4(std::to_string(r)) + "\"");
    if (r == '\'')
      return make_error(err, "Unexpected single quote character ('), did you mean to use a double quote (\")?");
    // string(r) of the first byte: a rune for ASCII, U+0080..U+00FF otherwise.
    std::string ch;
    append_utf8(ch, r);
    return make_error(err, "Cannot parse the unexpected character \"" + ch + "\".");
  }

 private:
  static std::string pad4(std::string s) { return s.size() >= 4 ? s : std::string(4 - s.size(), '0') + s; }

  Token make(Tok kind) { return make_value(kind, std::string(in_.substr(start_, end_ - start_))); }
  Token make_value(Tok kind, std::string value) {
    Token t;
    t.kind = kind;
    t.value = std::move(value);
    t.pos.line = line_;
    t.pos.column = static_cast<int>(start_runes_ - line_start_runes_ + 1);
    t.pos.file = file_;
    return t;
  }
  Token make_error(std::optional<Error>& err, std::string message) {
    Token t;
    t.kind = Tok::Invalid;
    t.pos.line = line_;
    t.pos.column = static_cast<int>(end_runes_ - line_start_runes_ + 1);
    t.pos.file = file_;
    Error e;
    e.message = std::move(message);
    e.has_location = true;
    e.line = t.pos.line;
    e.column = t.pos.column;
    e.file = file_;
    err = std::move(e);
    return t;
  }

  void ws() {
    while (end_ < in_.size()) {
      const unsigned char c = static_cast<unsigned char>(in_[end_]);
      if (c == '\t' || c == ' ' || c == ',') {
        ++end_;
        ++end_runes_;
      } else if (c == '\n') {
        ++end_;
        ++end_runes_;
        ++line_;
        line_start_runes_ = end_runes_;
      } else if (c == '\r') {
        ++end_;
        ++end_runes_;
        ++line_;
        line_start_runes_ = end_runes_;
        if (end_ < in_.size() && in_[end_] == '\n') {
          ++end_;
          ++end_runes_;
        }
      } else if (c == 0xEF && end_ + 2 < in_.size() && static_cast<unsigned char>(in_[end_ + 1]) == 0xBB &&
                 static_cast<unsigned char>(in_[end_ + 2]) == 0xBF) {
        end_ += 3;
        ++end_runes_;  // the byte order mark is one rune
      } else {
        return;
      }
    }
  }

  Token read_comment() {
    while (end_ < in_.size()) {
      Rune r = decode_rune(in_, end_);
      if (r.cp > 0x1F || r.cp == '\t') {
        end_ += r.width;
        ++end_runes_;
      } else {
        break;
      }
    }
    return make(Tok::Comment);
  }

  bool accept_byte(char a, char b = 0) {
    if (end_ >= in_.size()) return false;
    if (in_[end_] == a || (b && in_[end_] == b)) {
      ++end_;
      ++end_runes_;
      return true;
    }
    return false;
  }
  size_t accept_digits() {
    size_t n = 0;
    while (end_ < in_.size() && in_[end_] >= '0' && in_[end_] <= '9') {
      ++end_;
      ++end_runes_;
      ++n;
    }
    return n;
  }
  std::string describe_next() const {
    if (end_ < in_.size()) return "\"" + std::string(1, in_[end_]) + "\"";
    return "<EOF>";
  }

  Token read_number(std::optional<Error>& err) {
    bool is_float = false;
    --end_;
    --end_runes_;
    accept_byte('-');
    if (accept_byte('0')) {
      if (size_t consumed = accept_digits(); consumed != 0) {
        end_ -= consumed;
        end_runes_ -= consumed;
        return make_error(err, "Invalid number, unexpected digit after 0: " + describe_next() + ".");
      }
    } else if (accept_digits() == 0) {
      return make_error(err, "Invalid number, expected digit but got: " + describe_next() + ".");
    }
    if (accept_byte('.')) {
      is_float = true;
      if (accept_digits() == 0) return make_error(err, "Invalid number, expected digit but got: " + describe_next() + ".");
    }
    if (accept_byte('e', 'E')) {
      is_float = true;
      accept_byte('-', '+');
      if (accept_digits() == 0) return make_error(err, "Invalid number, expected digit but got: " + describe_next() + ".");
    }
    return make(is_float ? Tok::Float : Tok::Int);
  }

  static bool unhex(std::string_view b, uint32_t& v) {
    v = 0;
    for (char c : b) {
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

  Token read_string(std::optional<Error>& err) {
    const size_t n = in_.size();
    bool have_buf = false;  // the decoded value is only built once an escape appears
    std::string buf;
    ++start_;
    ++start_runes_;
    while (end_ < n) {
      const unsigned char r = static_cast<unsigned char>(in_[end_]);
      if (r == '\n' || r == '\r') break;
      if (r < 0x20 && r != '\t') return make_error(err, "Invalid character within String: \"\\u" + pad4(std::to_string(r)) + "\".");
      if (r == '"') {
        Token t = make(Tok::String);
        if (have_buf) t.value = std::move(buf);
        ++end_;
        ++end_runes_;
        return t;
      }
      if (r == '\\') {
        if (end_ + 1 >= n) {
          ++end_;
          ++end_runes_;
          return make_error(err, "Invalid character escape sequence.");
        }
        if (!have_buf) {
          buf.assign(in_.substr(start_, end_ - start_));
          have_buf = true;
        }
        const char esc = in_[end_ + 1];
        if (esc == 'u') {
          if (end_ + 6 >= n) {
            ++end_;
            ++end_runes_;
            return make_error(err, "Invalid character escape sequence: \\" + std::string(in_.substr(end_)) + ".");
          }
          uint32_t cp;
          if (!unhex(in_.substr(end_ + 2, 4), cp)) {
            ++end_;
            ++end_runes_;
            return make_error(err, "Invalid character escape sequence: \\" + std::string(in_.substr(end_, 5)) + ".");
          }
          append_utf8(buf, cp);
          end_ += 6;
          end_runes_ += 6;
        } else {
          switch (esc) {
            case '"':
            case '/':
            case '\\': buf.push_back(esc); break;
            case 'b': buf.push_back('\b'); break;
            case 'f': buf.push_back('\f'); break;
            case 'n': buf.push_back('\n'); break;
            case 'r': buf.push_back('\r'); break;
            case 't': buf.push_back('\t'); break;
            default: {
              ++end_;
              ++end_runes_;
              std::string e;
              append_utf8(e, static_cast<unsigned char>(esc));
              return make_error(err, "Invalid character escape sequence: \\" + e + ".");
            }
          }
          end_ += 2;
          end_runes_ += 2;
        }
        continue;
      }
      size_t w = 1;
      uint32_t cp = r;
      if (r >= 127) {
        Rune d = decode_rune(in_, end_);
        cp = d.cp;
        w = d.width;
      }
      end_ += w;
      ++end_runes_;
      if (have_buf) append_utf8(buf, cp);
    }
    return make_error(err, "Unterminated string.");
  }

  Token read_block_string(std::optional<Error>& err) {
    const size_t n = in_.size();
    std::string buf;
    start_ += 3;
    start_runes_ += 3;
    end_ += 2;
    end_runes_ += 2;
    while (end_ < n) {
      const unsigned char r = static_cast<unsigned char>(in_[end_]);
      if (r == '"' && end_ + 3 <= n && in_.substr(end_, 3) == "\"\"\"") {
        Token t = make_value(Tok::BlockString, block_string_value(buf));
        end_ += 3;
        end_runes_ += 3;
        return t;
      }
      if (r < 0x20 && r != '\t' && r != '\n' && r != '\r')
        return make_error(err, "Invalid character within String: \"\\u" + pad4(std::to_string(r)) + "\".");
      if (r == '\\' && end_ + 4 <= n && in_.substr(end_, 4) == "\\\"\"\"") {
        buf += "\"\"\"";
        end_ += 4;
        end_runes_ += 4;
      } else if (r == '\r') {
        if (end_ + 1 < n && in_[end_ + 1] == '\n') {
          ++end_;
          ++end_runes_;
        }
        buf.push_back('\n');
        ++end_;
        ++end_runes_;
        ++line_;
        line_start_runes_ = end_runes_;
      } else {
        size_t w = 1;
        uint32_t cp = r;
        if (r >= 127) {
          Rune d = decode_rune(in_, end_);
          cp = d.cp;
          w = d.width;
        }
        end_ += w;
        ++end_runes_;
        append_utf8(buf, cp);
        if (r == '\n') {
          ++line_;
          line_start_runes_ = end_runes_;
        }
      }
    }
    return make_error(err, "Unterminated string.");
  }

  Token read_name() {
    while (end_ < in_.size()) {
      const char c = in_[end_];
      if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
        ++end_;
        ++end_runes_;
      } else {
        break;
      }
    }
    return make(Tok::Name);
  }

  std::string_view in_;
  std::string file_;
  size_t start_ = 0, end_ = 0;
  size_t start_runes_ = 0, end_runes_ = 0;
  int line_ = 1;
  size_t line_start_runes_ = 0;
};

// =================================================================== parser

class Parser {
 public:
  Parser(std::string_view src, std::string file) : lexer_(src, std::move(file)) {}

  std::optional<Error> err;

  // ----------------------------------------------------------- token plumbing
  // Comments become tokens; a run of them is gathered into `comment_` for the
  // next node that records it (gqlparser's consumeCommentGroup).
  const Token& peek() {
    if (err) return prev_;
    if (!peeked_) {
      peek_error_.reset();
      peek_token_ = lexer_.read(peek_error_);
      peeked_ = true;
      if (peek_token_.kind == Tok::Comment) consume_comment_group();
    }
    return peek_token_;
  }
  Position peek_pos() {
    if (err) return {};
    return peek().pos;
  }
  Token next() {
    if (err) return prev_;
    if (peeked_) {
      peeked_ = false;
      comment_.reset();
      prev_ = peek_token_;
      if (peek_error_) err = peek_error_;
    } else {
      std::optional<Error> e;
      prev_ = lexer_.read(e);
      if (e) err = e;
      if (prev_.kind == Tok::Comment) consume_comment_group();
    }
    return prev_;
  }
  void error(const Token& tok, std::string message) {
    if (err) return;
    Error e;
    e.message = std::move(message);
    e.has_location = true;
    e.line = tok.pos.line;
    e.column = tok.pos.column;
    e.file = tok.pos.file;
    err = std::move(e);
  }
  std::pair<Token, Comments> expect_keyword(std::string_view value) {
    Token tok = peek();
    Comments c = comment_;
    if (tok.kind == Tok::Name && tok.value == value) return {next(), c};
    error(tok, "Expected " + go_quote(value) + ", found " + tok.str());
    return {tok, c};
  }
  std::pair<Token, Comments> expect(Tok kind) {
    Token tok = peek();
    Comments c = comment_;
    if (tok.kind == kind) return {next(), c};
    error(tok, std::string("Expected ") + tok_str(kind) + ", found " + tok_str(tok.kind));
    return {tok, c};
  }
  bool skip(Tok kind) {
    if (err) return false;
    if (peek().kind != kind) return false;
    next();
    return true;
  }
  void unexpected_error() { unexpected_token(peek()); }
  void unexpected_token(const Token& tok) { error(tok, "Unexpected " + tok.str()); }

  template <class F>
  void many(Tok start, Tok end, F cb) {
    if (!skip(start)) return;
    while (peek().kind != end && !err) cb();
    next();
  }
  template <class F>
  Comments some(Tok start, Tok end, F cb) {
    if (!skip(start)) return nullptr;
    bool called = false;
    while (peek().kind != end && !err) {
      called = true;
      cb();
    }
    if (!called) {
      error(peek(), std::string("expected at least one definition, found ") + tok_str(peek().kind));
      return nullptr;
    }
    Comments c = comment_;
    next();
    return c;
  }

  // Bounds recursion: deeper documents fail with a parse error instead of
  // exhausting the native stack.
  struct Nest {
    Parser& p;
    bool ok;
    explicit Nest(Parser& parser) : p(parser), ok(++parser.depth_ <= kMaxNesting) {
      if (!ok) p.error(p.peek(), "Exceeded maximum nesting depth of " + std::to_string(kMaxNesting));
    }
    ~Nest() { --p.depth_; }
  };

  // ------------------------------------------------------------------ query
  std::shared_ptr<QueryDocument> parse_query_document() {
    auto doc = std::make_shared<QueryDocument>();
    while (peek().kind != Tok::EOF_) {
      if (err) return doc;
      const Token& t = peek();
      if (t.kind == Tok::Name) {
        if (t.value == "query" || t.value == "mutation" || t.value == "subscription")
          doc->operations.push_back(parse_operation_definition());
        else if (t.value == "fragment")
          doc->fragments.push_back(parse_fragment_definition());
        else
          unexpected_error();
      } else if (t.kind == Tok::BraceL) {
        doc->operations.push_back(parse_operation_definition());
      } else {
        unexpected_error();
      }
    }
    return doc;
  }

  std::shared_ptr<OperationDefinition> parse_operation_definition() {
    auto od = std::make_shared<OperationDefinition>();
    if (peek().kind == Tok::BraceL) {
      od->pos = peek_pos();
      od->comment = comment_;
      od->operation = "query";
      od->selection_set = parse_required_selection_set();
      return od;
    }
    od->pos = peek_pos();
    od->comment = comment_;
    od->operation = parse_operation_type();
    if (peek().kind == Tok::Name) od->name = next().value;
    od->variable_definitions = parse_variable_definitions();
    od->directives = parse_directives(false);
    od->selection_set = parse_required_selection_set();
    return od;
  }

  std::string parse_operation_type() {
    Token tok = next();
    if (tok.value == "query" || tok.value == "mutation" || tok.value == "subscription") return tok.value;
    unexpected_token(tok);
    return "";
  }

  std::vector<VariableDefinitionPtr> parse_variable_definitions() {
    std::vector<VariableDefinitionPtr> defs;
    many(Tok::ParenL, Tok::ParenR, [&] { defs.push_back(parse_variable_definition()); });
    return defs;
  }

  VariableDefinitionPtr parse_variable_definition() {
    auto def = std::make_shared<VariableDefinition>();
    def->pos = peek_pos();
    def->comment = comment_;
    def->variable = parse_variable();
    expect(Tok::Colon);
    def->type = parse_type_reference();
    if (skip(Tok::Equals)) def->default_value = parse_value_literal(true);
    def->directives = parse_directives(false);
    return def;
  }

  std::string parse_variable() {
    expect(Tok::Dollar);
    return parse_name();
  }

  SelectionSet parse_optional_selection_set() {
    Nest nest(*this);
    SelectionSet sel;
    if (!nest.ok) return sel;
    some(Tok::BraceL, Tok::BraceR, [&] { sel.push_back(parse_selection()); });
    return sel;
  }

  SelectionSet parse_required_selection_set() {
    if (peek().kind != Tok::BraceL) {
      error(peek(), std::string("Expected {, found ") + tok_str(peek().kind));
      return {};
    }
    return parse_optional_selection_set();
  }

  SelectionPtr parse_selection() {
    if (peek().kind == Tok::Spread) return parse_fragment();
    return parse_field();
  }

  SelectionPtr parse_field() {
    auto f = std::make_shared<Selection>();
    f->kind = SelectionKind::Field;
    f->pos = peek_pos();
    f->comment = comment_;
    f->alias = parse_name();
    if (skip(Tok::Colon))
      f->name = parse_name();
    else
      f->name = f->alias;
    f->arguments = parse_arguments(false);
    f->directives = parse_directives(false);
    if (peek().kind == Tok::BraceL) f->selection_set = parse_optional_selection_set();
    return f;
  }

  std::vector<Argument> parse_arguments(bool is_const) {
    std::vector<Argument> args;
    many(Tok::ParenL, Tok::ParenR, [&] {
      Argument a;
      a.pos = peek_pos();
      a.comment = comment_;
      a.name = parse_name();
      expect(Tok::Colon);
      a.value = parse_value_literal(is_const);
      args.push_back(std::move(a));
    });
    return args;
  }

  SelectionPtr parse_fragment() {
    auto [tok, comment] = expect(Tok::Spread);
    (void)tok;
    const Token& pk = peek();
    if (pk.kind == Tok::Name && pk.value != "on") {
      auto s = std::make_shared<Selection>();
      s->kind = SelectionKind::FragmentSpread;
      s->pos = peek_pos();
      s->comment = comment;
      s->name = parse_fragment_name();
      s->directives = parse_directives(false);
      return s;
    }
    auto s = std::make_shared<Selection>();
    s->kind = SelectionKind::InlineFragment;
    s->pos = peek_pos();
    s->comment = comment;
    if (peek().value == "on") {
      next();
      s->type_condition = parse_name();
    }
    s->directives = parse_directives(false);
    s->selection_set = parse_required_selection_set();
    return s;
  }

  std::shared_ptr<FragmentDefinition> parse_fragment_definition() {
    auto def = std::make_shared<FragmentDefinition>();
    def->pos = peek_pos();
    def->comment = comment_;
    expect_keyword("fragment");
    def->name = parse_fragment_name();
    def->variable_definition = parse_variable_definitions();
    expect_keyword("on");
    def->type_condition = parse_name();
    def->directives = parse_directives(false);
    def->selection_set = parse_required_selection_set();
    return def;
  }

  std::string parse_fragment_name() {
    if (peek().value == "on") {
      unexpected_error();
      return "";
    }
    return parse_name();
  }

  GqlValuePtr parse_value_literal(bool is_const) {
    Nest nest(*this);
    if (!nest.ok) return nullptr;
    const Token token = peek();
    ValueKind kind;
    switch (token.kind) {
      case Tok::BracketL: return parse_list(is_const);
      case Tok::BraceL: return parse_object(is_const);
      case Tok::Dollar: {
        if (is_const) {
          unexpected_error();
          return nullptr;
        }
        auto v = std::make_shared<GqlValue>();
        v->pos = token.pos;
        v->comment = comment_;
        v->raw = parse_variable();
        v->kind = ValueKind::Variable;
        return v;
      }
      case Tok::Int: kind = ValueKind::Int; break;
      case Tok::Float: kind = ValueKind::Float; break;
      case Tok::String: kind = ValueKind::String; break;
      case Tok::BlockString: kind = ValueKind::Block; break;
      case Tok::Name:
        if (token.value == "true" || token.value == "false")
          kind = ValueKind::Boolean;
        else if (token.value == "null")
          kind = ValueKind::Null;
        else
          kind = ValueKind::Enum;
        break;
      default: unexpected_error(); return nullptr;
    }
    // gqlparser reads p.comment after consuming the token (which clears it).
    next();
    auto v = std::make_shared<GqlValue>();
    v->pos = token.pos;
    v->comment = comment_;
    v->raw = token.value;
    v->kind = kind;
    return v;
  }

  GqlValuePtr parse_list(bool is_const) {
    auto v = std::make_shared<GqlValue>();
    v->pos = peek_pos();
    v->comment = comment_;
    v->kind = ValueKind::List;
    many(Tok::BracketL, Tok::BracketR, [&] {
      ChildValue c;
      c.value = parse_value_literal(is_const);
      v->children.push_back(std::move(c));
    });
    return v;
  }

  GqlValuePtr parse_object(bool is_const) {
    auto v = std::make_shared<GqlValue>();
    v->pos = peek_pos();
    v->comment = comment_;
    v->kind = ValueKind::Object;
    many(Tok::BraceL, Tok::BraceR, [&] {
      ChildValue c;
      c.pos = peek_pos();
      c.comment = comment_;
      c.name = parse_name();
      expect(Tok::Colon);
      c.value = parse_value_literal(is_const);
      v->children.push_back(std::move(c));
    });
    return v;
  }

  std::vector<Directive> parse_directives(bool is_const) {
    std::vector<Directive> dirs;
    while (peek().kind == Tok::At) {
      if (err) break;
      expect(Tok::At);
      Directive d;
      d.pos = peek_pos();
      d.name = parse_name();
      d.arguments = parse_arguments(is_const);
      dirs.push_back(std::move(d));
    }
    return dirs;
  }

  TypePtr parse_type_reference() {
    Nest nest(*this);
    auto t = std::make_shared<Type>();
    if (!nest.ok) return t;
    if (skip(Tok::BracketL)) {
      t->pos = peek_pos();
      t->elem = parse_type_reference();
      expect(Tok::BracketR);
    } else {
      t->pos = peek_pos();
      t->named_type = parse_name();
    }
    if (skip(Tok::Bang)) t->non_null = true;
    return t;
  }

  std::string parse_name() { return expect(Tok::Name).first.value; }

  // ----------------------------------------------------------------- schema
  struct Description {
    std::string text;
    Comments comment;
  };

  std::shared_ptr<SchemaDocument> parse_schema_document() {
    auto doc = std::make_shared<SchemaDocument>();
    while (peek().kind != Tok::EOF_) {
      if (err) return nullptr;
      Description description;
      if (peek().kind == Tok::BlockString || peek().kind == Tok::String) description = parse_description();
      if (peek().kind != Tok::Name) {
        unexpected_error();
        break;
      }
      const std::string v = peek().value;
      if (v == "scalar" || v == "type" || v == "interface" || v == "union" || v == "enum" || v == "input") {
        doc->definitions.push_back(parse_type_system_definition(description));
      } else if (v == "schema") {
        doc->schema.push_back(parse_schema_definition(description));
      } else if (v == "directive") {
        doc->directives.push_back(parse_directive_definition(description));
      } else if (v == "extend") {
        if (!description.text.empty()) unexpected_token(prev_);
        parse_type_system_extension(*doc);
      } else {
        unexpected_error();
        return nullptr;
      }
    }
    doc->comment = comment_;  // comments at the end of the file
    return doc;
  }

  Description parse_description() {
    Description d;
    const Token& t = peek();
    if (t.kind != Tok::BlockString && t.kind != Tok::String) return d;
    d.comment = comment_;
    d.text = next().value;
    return d;
  }

  DefinitionPtr parse_type_system_definition(const Description& description) {
    const Token& t = peek();
    if (t.kind != Tok::Name) {
      unexpected_error();
      return nullptr;
    }
    if (t.value == "scalar") return parse_scalar_type_definition(description);
    if (t.value == "type") return parse_object_like_definition(description, "type", "OBJECT");
    if (t.value == "interface") return parse_object_like_definition(description, "interface", "INTERFACE");
    if (t.value == "union") return parse_union_type_definition(description);
    if (t.value == "enum") return parse_enum_type_definition(description);
    if (t.value == "input") return parse_input_object_type_definition(description);
    unexpected_error();
    return nullptr;
  }

  SchemaDefinitionPtr parse_schema_definition(const Description& description) {
    auto [tok, comment] = expect_keyword("schema");
    (void)tok;
    auto def = std::make_shared<SchemaDefinition>();
    def->pos = peek_pos();
    def->before_description = description.comment;
    def->description = description.text;
    def->after_description = comment;
    def->directives = parse_directives(true);
    def->end_of_definition =
        some(Tok::BraceL, Tok::BraceR, [&] { def->operation_types.push_back(parse_operation_type_definition()); });
    return def;
  }

  OperationTypeDefinition parse_operation_type_definition() {
    OperationTypeDefinition op;
    op.pos = peek_pos();
    op.comment = comment_;
    op.operation = parse_operation_type();
    expect(Tok::Colon);
    op.type = parse_name();
    return op;
  }

  DefinitionPtr new_definition(const Description& d, Comments after, const char* kind) {
    auto def = std::make_shared<Definition>();
    def->pos = peek_pos();
    def->kind = kind;
    def->before_description = d.comment;
    def->description = d.text;
    def->after_description = std::move(after);
    return def;
  }

  DefinitionPtr parse_scalar_type_definition(const Description& d) {
    auto c = expect_keyword("scalar").second;
    auto def = new_definition(d, c, "SCALAR");
    def->name = parse_name();
    def->directives = parse_directives(true);
    return def;
  }

  // "type" and "interface" definitions share one grammar.
  DefinitionPtr parse_object_like_definition(const Description& d, const char* keyword, const char* kind) {
    auto c = expect_keyword(keyword).second;
    auto def = new_definition(d, c, kind);
    def->name = parse_name();
    def->interfaces = parse_implements_interfaces();
    def->directives = parse_directives(true);
    def->end_of_definition = parse_fields_definition(def->fields);
    return def;
  }

  std::vector<std::string> parse_implements_interfaces() {
    std::vector<std::string> types;
    if (peek().value == "implements") {
      next();
      skip(Tok::Amp);
      types.push_back(parse_name());
      while (skip(Tok::Amp) && !err) types.push_back(parse_name());
    }
    return types;
  }

  Comments parse_fields_definition(std::vector<FieldDefinitionPtr>& out) {
    return some(Tok::BraceL, Tok::BraceR, [&] { out.push_back(parse_field_definition()); });
  }

  FieldDefinitionPtr parse_field_definition() {
    auto def = std::make_shared<FieldDefinition>();
    def->pos = peek_pos();
    Description desc = parse_description();
    if (!desc.text.empty()) {
      def->before_description = desc.comment;
      def->description = desc.text;
    }
    peek();
    def->after_description = comment_;
    def->name = parse_name();
    def->arguments = parse_argument_defs();
    expect(Tok::Colon);
    def->type = parse_type_reference();
    def->directives = parse_directives(true);
    return def;
  }

  std::vector<ArgumentDefinitionPtr> parse_argument_defs() {
    std::vector<ArgumentDefinitionPtr> args;
    some(Tok::ParenL, Tok::ParenR, [&] { args.push_back(parse_argument_def()); });
    return args;
  }

  ArgumentDefinitionPtr parse_argument_def() {
    auto def = std::make_shared<ArgumentDefinition>();
    def->pos = peek_pos();
    Description desc = parse_description();
    if (!desc.text.empty()) {
      def->before_description = desc.comment;
      def->description = desc.text;
    }
    peek();
    def->after_description = comment_;
    def->name = parse_name();
    expect(Tok::Colon);
    def->type = parse_type_reference();
    if (skip(Tok::Equals)) def->default_value = parse_value_literal(true);
    def->directives = parse_directives(true);
    return def;
  }

  FieldDefinitionPtr parse_input_value_def() {
    auto def = std::make_shared<FieldDefinition>();
    def->pos = peek_pos();
    Description desc = parse_description();
    if (!desc.text.empty()) {
      def->before_description = desc.comment;
      def->description = desc.text;
    }
    peek();
    def->after_description = comment_;
    def->name = parse_name();
    expect(Tok::Colon);
    def->type = parse_type_reference();
    if (skip(Tok::Equals)) def->default_value = parse_value_literal(true);
    def->directives = parse_directives(true);
    return def;
  }

  DefinitionPtr parse_union_type_definition(const Description& d) {
    auto c = expect_keyword("union").second;
    auto def = new_definition(d, c, "UNION");
    def->name = parse_name();
    def->directives = parse_directives(true);
    def->types = parse_union_member_types();
    return def;
  }

  std::vector<std::string> parse_union_member_types() {
    std::vector<std::string> types;
    if (skip(Tok::Equals)) {
      skip(Tok::Pipe);
      types.push_back(parse_name());
      while (skip(Tok::Pipe) && !err) types.push_back(parse_name());
    }
    return types;
  }

  DefinitionPtr parse_enum_type_definition(const Description& d) {
    auto c = expect_keyword("enum").second;
    auto def = new_definition(d, c, "ENUM");
    def->name = parse_name();
    def->directives = parse_directives(true);
    def->end_of_definition = parse_enum_values_definition(def->enum_values);
    return def;
  }

  Comments parse_enum_values_definition(std::vector<std::shared_ptr<EnumValueDefinition>>& out) {
    return some(Tok::BraceL, Tok::BraceR, [&] {
      auto def = std::make_shared<EnumValueDefinition>();
      def->pos = peek_pos();
      Description desc = parse_description();
      if (!desc.text.empty()) {
        def->before_description = desc.comment;
        def->description = desc.text;
      }
      peek();
      def->after_description = comment_;
      def->name = parse_name();
      def->directives = parse_directives(true);
      out.push_back(std::move(def));
    });
  }

  DefinitionPtr parse_input_object_type_definition(const Description& d) {
    auto c = expect_keyword("input").second;
    auto def = new_definition(d, c, "INPUT_OBJECT");
    def->name = parse_name();
    def->directives = parse_directives(true);
    def->end_of_definition = parse_input_fields_definition(def->fields);
    return def;
  }

  Comments parse_input_fields_definition(std::vector<FieldDefinitionPtr>& out) {
    return some(Tok::BraceL, Tok::BraceR, [&] { out.push_back(parse_input_value_def()); });
  }

  void parse_type_system_extension(SchemaDocument& doc) {
    auto comment = expect_keyword("extend").second;
    // gqlparser switches on the token's text whatever its kind.
    const std::string v = peek().value;
    if (v == "schema") {
      doc.schema_extension.push_back(parse_schema_extension(comment));
    } else if (v == "scalar") {
      expect_keyword("scalar");
      auto def = extension(comment, "SCALAR");
      def->name = parse_name();
      def->directives = parse_directives(true);
      if (def->directives.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else if (v == "type") {
      expect_keyword("type");
      auto def = extension(comment, "OBJECT");
      def->name = parse_name();
      def->interfaces = parse_implements_interfaces();
      def->directives = parse_directives(true);
      def->end_of_definition = parse_fields_definition(def->fields);
      if (def->interfaces.empty() && def->directives.empty() && def->fields.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else if (v == "interface") {
      expect_keyword("interface");
      auto def = extension(comment, "INTERFACE");
      def->name = parse_name();
      def->directives = parse_directives(true);
      def->end_of_definition = parse_fields_definition(def->fields);
      if (def->directives.empty() && def->fields.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else if (v == "union") {
      expect_keyword("union");
      auto def = extension(comment, "UNION");
      def->name = parse_name();
      def->directives = parse_directives(true);
      def->types = parse_union_member_types();
      if (def->directives.empty() && def->types.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else if (v == "enum") {
      expect_keyword("enum");
      auto def = extension(comment, "ENUM");
      def->name = parse_name();
      def->directives = parse_directives(true);
      def->end_of_definition = parse_enum_values_definition(def->enum_values);
      if (def->directives.empty() && def->enum_values.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else if (v == "input") {
      expect_keyword("input");
      auto def = extension(comment, "INPUT_OBJECT");
      def->name = parse_name();
      def->directives = parse_directives(false);
      def->end_of_definition = parse_input_fields_definition(def->fields);
      if (def->directives.empty() && def->fields.empty()) unexpected_error();
      doc.extensions.push_back(def);
    } else {
      unexpected_error();
    }
  }

  DefinitionPtr extension(Comments comment, const char* kind) {
    auto def = std::make_shared<Definition>();
    def->pos = peek_pos();
    def->after_description = std::move(comment);
    def->kind = kind;
    return def;
  }

  SchemaDefinitionPtr parse_schema_extension(Comments comment) {
    expect_keyword("schema");
    auto def = std::make_shared<SchemaDefinition>();
    def->pos = peek_pos();
    def->after_description = std::move(comment);
    def->directives = parse_directives(true);
    def->end_of_definition =
        some(Tok::BraceL, Tok::BraceR, [&] { def->operation_types.push_back(parse_operation_type_definition()); });
    if (def->directives.empty() && def->operation_types.empty()) unexpected_error();
    return def;
  }

  DirectiveDefinitionPtr parse_directive_definition(const Description& description) {
    auto comment = expect_keyword("directive").second;
    expect(Tok::At);
    auto def = std::make_shared<DirectiveDefinition>();
    def->pos = peek_pos();
    def->before_description = description.comment;
    def->description = description.text;
    def->after_description = comment;
    def->name = parse_name();
    def->arguments = parse_argument_defs();
    if (const Token& pk = peek(); pk.kind == Tok::Name && pk.value == "repeatable") {
      def->is_repeatable = true;
      skip(Tok::Name);
    }
    expect_keyword("on");
    skip(Tok::Pipe);
    def->locations.push_back(parse_directive_location());
    while (skip(Tok::Pipe) && !err) def->locations.push_back(parse_directive_location());
    return def;
  }

  std::string parse_directive_location() {
    Token name = expect(Tok::Name).first;
    static const char* kLocations[] = {"QUERY",         "MUTATION",         "SUBSCRIPTION",          "FIELD",
                                       "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD", "INLINE_FRAGMENT",
                                       "VARIABLE_DEFINITION", "SCHEMA",         "SCALAR",                "OBJECT",
                                       "FIELD_DEFINITION",    "ARGUMENT_DEFINITION", "INTERFACE",         "UNION",
                                       "ENUM",                "ENUM_VALUE",     "INPUT_OBJECT",          "INPUT_FIELD_DEFINITION"};
    for (const char* l : kLocations)
      if (name.value == l) return l;
    unexpected_token(name);
    return "";
  }

 private:
  void consume_comment_group() {
    if (err || comment_consuming_) return;
    comment_consuming_ = true;
    auto group = std::make_shared<CommentGroup>();
    while (!err) {
      const Token& t = peek();
      if (t.kind != Tok::Comment) break;
      Comment c;
      c.value = t.value;
      next();
      group->list.push_back(std::move(c));
    }
    comment_ = std::move(group);
    comment_consuming_ = false;
  }

  Lexer lexer_;
  bool peeked_ = false;
  Token peek_token_;
  std::optional<Error> peek_error_;
  Token prev_;
  Comments comment_;
  bool comment_consuming_ = false;
  int depth_ = 0;
};

}  // namespace

std::shared_ptr<QueryDocument> parse_query(std::string_view source, Error& err) {
  Parser p(source, "");
  auto doc = p.parse_query_document();
  if (p.err) {
    err = *p.err;
    return nullptr;
  }
  return doc;
}

std::shared_ptr<SchemaDocument> parse_schema(std::string_view source, Error& err, bool builtin, std::string_view file) {
  Parser p(source, std::string(file));
  auto doc = p.parse_schema_document();
  if (p.err || !doc) {
    err = p.err ? *p.err : Error{};
    return nullptr;
  }
  for (auto& d : doc->definitions) d->builtin = builtin;
  for (auto& d : doc->extensions) d->builtin = builtin;
  return doc;
}

// =========================================================== AST -> Value
//
// The JSON gqlparser's structs marshal to (Go field names, nil pointers as
// null), then OPA's pruning: "Position" keys, nulls and empty arrays/objects
// are dropped, recursively. Building the full form and pruning it keeps the
// result exactly OPA's, whatever combination of empty fields a node has.

namespace {

Value S(const std::string& s) { return Value::string(s); }

struct Obj {
  ObjectItems items;
  Obj& put(const char* k, Value v) {
    items.emplace_back(Value::string(k), v.is_defined() ? std::move(v) : Value::null());
    return *this;
  }
  Value done() { return Value::object(std::move(items)); }
};

template <class T, class F>
Value list(const std::vector<T>& xs, F f) {
  ValueVec out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(f(x));
  return Value::array(std::move(out));
}

Value strings(const std::vector<std::string>& xs) {
  return list(xs, [](const std::string& s) { return S(s); });
}

Value comments_v(const Comments& c) {
  if (!c) return Value::null();
  return Obj().put("List", list(c->list, [](const Comment& x) { return Obj().put("Value", S(x.value)).done(); })).done();
}

Value type_v(const TypePtr& t) {
  if (!t) return Value::null();
  return Obj().put("NamedType", S(t->named_type)).put("Elem", type_v(t->elem)).put("NonNull", Value::boolean(t->non_null)).done();
}

Value value_v(const GqlValuePtr& v) {
  if (!v) return Value::null();
  Value children = list(v->children, [](const ChildValue& c) {
    return Obj().put("Name", S(c.name)).put("Value", value_v(c.value)).put("Comment", comments_v(c.comment)).done();
  });
  return Obj()
      .put("Raw", S(v->raw))
      .put("Children", v->children.empty() ? Value::null() : children)
      .put("Kind", Value::integer(static_cast<int>(v->kind)))
      .put("Comment", comments_v(v->comment))
      .put("Definition", Value::null())
      .put("VariableDefinition", Value::null())
      .put("ExpectedType", Value::null())
      .put("ExpectedTypeHasDefault", Value::boolean(v->expected_type_has_default))
      .done();
}

Value arguments_v(const std::vector<Argument>& args) {
  return list(args, [](const Argument& a) {
    return Obj().put("Name", S(a.name)).put("Value", value_v(a.value)).put("Comment", comments_v(a.comment)).done();
  });
}

Value directives_v(const std::vector<Directive>& ds) {
  return list(ds, [](const Directive& d) {
    return Obj()
        .put("Name", S(d.name))
        .put("Arguments", arguments_v(d.arguments))
        .put("ParentDefinition", Value::null())
        .put("Definition", Value::null())
        .put("Location", S(d.location))
        .done();
  });
}

Value selection_set_v(const SelectionSet& ss);

Value selection_v(const SelectionPtr& s) {
  if (!s) return Value::null();
  switch (s->kind) {
    case SelectionKind::Field:
      return Obj()
          .put("Alias", S(s->alias))
          .put("Name", S(s->name))
          .put("Arguments", arguments_v(s->arguments))
          .put("Directives", directives_v(s->directives))
          .put("SelectionSet", selection_set_v(s->selection_set))
          .put("Comment", comments_v(s->comment))
          .put("Definition", Value::null())
          .put("ObjectDefinition", Value::null())
          .done();
    case SelectionKind::FragmentSpread:
      return Obj()
          .put("Name", S(s->name))
          .put("Directives", directives_v(s->directives))
          .put("ObjectDefinition", Value::null())
          .put("Definition", Value::null())
          .put("Comment", comments_v(s->comment))
          .done();
    case SelectionKind::InlineFragment:
      return Obj()
          .put("TypeCondition", S(s->type_condition))
          .put("Directives", directives_v(s->directives))
          .put("SelectionSet", selection_set_v(s->selection_set))
          .put("ObjectDefinition", Value::null())
          .put("Comment", comments_v(s->comment))
          .done();
  }
  return Value::null();
}

Value selection_set_v(const SelectionSet& ss) { return list(ss, selection_v); }

Value variable_definitions_v(const std::vector<VariableDefinitionPtr>& vs) {
  return list(vs, [](const VariableDefinitionPtr& v) {
    if (!v) return Value::null();
    return Obj()
        .put("Variable", S(v->variable))
        .put("Type", type_v(v->type))
        .put("DefaultValue", value_v(v->default_value))
        .put("Directives", directives_v(v->directives))
        .put("Comment", comments_v(v->comment))
        .put("Definition", Value::null())
        .put("Used", Value::boolean(v->used))
        .done();
  });
}

Value argument_definitions_v(const std::vector<ArgumentDefinitionPtr>& as) {
  return list(as, [](const ArgumentDefinitionPtr& a) {
    if (!a) return Value::null();
    return Obj()
        .put("Description", S(a->description))
        .put("Name", S(a->name))
        .put("DefaultValue", value_v(a->default_value))
        .put("Type", type_v(a->type))
        .put("Directives", directives_v(a->directives))
        .put("BeforeDescriptionComment", comments_v(a->before_description))
        .put("AfterDescriptionComment", comments_v(a->after_description))
        .done();
  });
}

Value field_definitions_v(const std::vector<FieldDefinitionPtr>& fs) {
  return list(fs, [](const FieldDefinitionPtr& f) {
    if (!f) return Value::null();
    return Obj()
        .put("Description", S(f->description))
        .put("Name", S(f->name))
        .put("Arguments", argument_definitions_v(f->arguments))
        .put("DefaultValue", value_v(f->default_value))
        .put("Type", type_v(f->type))
        .put("Directives", directives_v(f->directives))
        .put("BeforeDescriptionComment", comments_v(f->before_description))
        .put("AfterDescriptionComment", comments_v(f->after_description))
        .done();
  });
}

Value definitions_v(const std::vector<DefinitionPtr>& ds) {
  return list(ds, [](const DefinitionPtr& d) {
    if (!d) return Value::null();
    return Obj()
        .put("Kind", S(d->kind))
        .put("Description", S(d->description))
        .put("Name", S(d->name))
        .put("Directives", directives_v(d->directives))
        .put("Interfaces", strings(d->interfaces))
        .put("Fields", field_definitions_v(d->fields))
        .put("Types", strings(d->types))
        .put("EnumValues", list(d->enum_values,
                                [](const std::shared_ptr<EnumValueDefinition>& e) {
                                  if (!e) return Value::null();
                                  return Obj()
                                      .put("Description", S(e->description))
                                      .put("Name", S(e->name))
                                      .put("Directives", directives_v(e->directives))
                                      .put("BeforeDescriptionComment", comments_v(e->before_description))
                                      .put("AfterDescriptionComment", comments_v(e->after_description))
                                      .done();
                                }))
        .put("BuiltIn", Value::boolean(d->builtin))
        .put("BeforeDescriptionComment", comments_v(d->before_description))
        .put("AfterDescriptionComment", comments_v(d->after_description))
        .put("EndOfDefinitionComment", comments_v(d->end_of_definition))
        .done();
  });
}

Value schema_definitions_v(const std::vector<SchemaDefinitionPtr>& ss) {
  return list(ss, [](const SchemaDefinitionPtr& s) {
    if (!s) return Value::null();
    return Obj()
        .put("Description", S(s->description))
        .put("Directives", directives_v(s->directives))
        .put("OperationTypes", list(s->operation_types,
                                    [](const OperationTypeDefinition& o) {
                                      return Obj()
                                          .put("Operation", S(o.operation))
                                          .put("Type", S(o.type))
                                          .put("Comment", comments_v(o.comment))
                                          .done();
                                    }))
        .put("BeforeDescriptionComment", comments_v(s->before_description))
        .put("AfterDescriptionComment", comments_v(s->after_description))
        .put("EndOfDefinitionComment", comments_v(s->end_of_definition))
        .done();
  });
}

// OPA's pruneIrrelevantGraphQLASTNodes.
Value prune(const Value& v) {
  if (v.is_array()) {
    ValueVec out;
    for (const Value& e : v.array_items()) {
      if (e.is_null()) continue;
      if (e.is_array() || e.is_object()) {
        Value p = prune(e);
        if (p.size() > 0) out.push_back(std::move(p));
        continue;
      }
      out.push_back(e);
    }
    return Value::array(std::move(out));
  }
  if (v.is_object()) {
    ObjectItems out;
    for (const auto& [k, e] : v.object_items()) {
      if (k.is_string() && k.str() == "Position") continue;
      if (e.is_null()) continue;
      if (e.is_array() || e.is_object()) {
        Value p = prune(e);
        if (p.size() > 0) out.emplace_back(k, std::move(p));
        continue;
      }
      out.emplace_back(k, e);
    }
    return Value::object_sorted(std::move(out));
  }
  return v;
}

}  // namespace

Value query_to_value(const QueryDocument& doc) {
  Value full = Obj()
                   .put("Operations", list(doc.operations,
                                           [](const std::shared_ptr<OperationDefinition>& o) {
                                             if (!o) return Value::null();
                                             return Obj()
                                                 .put("Operation", S(o->operation))
                                                 .put("Name", S(o->name))
                                                 .put("VariableDefinitions", variable_definitions_v(o->variable_definitions))
                                                 .put("Directives", directives_v(o->directives))
                                                 .put("SelectionSet", selection_set_v(o->selection_set))
                                                 .put("Comment", comments_v(o->comment))
                                                 .done();
                                           }))
                   .put("Fragments", list(doc.fragments,
                                          [](const std::shared_ptr<FragmentDefinition>& f) {
                                            if (!f) return Value::null();
                                            return Obj()
                                                .put("Name", S(f->name))
                                                .put("VariableDefinition", variable_definitions_v(f->variable_definition))
                                                .put("TypeCondition", S(f->type_condition))
                                                .put("Directives", directives_v(f->directives))
                                                .put("SelectionSet", selection_set_v(f->selection_set))
                                                .put("Definition", Value::null())
                                                .put("Comment", comments_v(f->comment))
                                                .done();
                                          }))
                   .put("Comment", comments_v(doc.comment))
                   .done();
  return prune(full);
}

Value schema_to_value(const SchemaDocument& doc) {
  Value full = Obj()
                   .put("Schema", schema_definitions_v(doc.schema))
                   .put("SchemaExtension", schema_definitions_v(doc.schema_extension))
                   .put("Directives", list(doc.directives,
                                           [](const DirectiveDefinitionPtr& d) {
                                             if (!d) return Value::null();
                                             return Obj()
                                                 .put("Description", S(d->description))
                                                 .put("Name", S(d->name))
                                                 .put("Arguments", argument_definitions_v(d->arguments))
                                                 .put("Locations", strings(d->locations))
                                                 .put("IsRepeatable", Value::boolean(d->is_repeatable))
                                                 .put("BeforeDescriptionComment", comments_v(d->before_description))
                                                 .put("AfterDescriptionComment", comments_v(d->after_description))
                                                 .done();
                                           }))
                   .put("Definitions", definitions_v(doc.definitions))
                   .put("Extensions", definitions_v(doc.extensions))
                   .put("Comment", comments_v(doc.comment))
                   .done();
  return prune(full);
}

// =========================================================== Value -> AST
//
// OPA turns the object into JSON and json.Unmarshals it into gqlparser's
// structs. Go's decoder matches object keys to field names exactly or, failing
// that, case-insensitively, applying keys in (sorted) order so a later match
// wins; it ignores unknown keys, leaves fields alone for null, and fails on a
// type mismatch. gqlparser's own UnmarshalJSON methods (OperationDefinition,
// FragmentDefinition, Field, InlineFragment) match keys exactly, and its
// selection-set decoder tries Field first, which accepts any object: every
// selection of a decoded AST is a Field unless a Field key has the wrong type.
// Validation-time fields (Definition, ObjectDefinition, ...) are type-checked
// but not kept.

namespace {

struct DecodeError {
  std::string message;
};

const char* json_kind(const Value& v) {
  switch (v.kind()) {
    case Kind::Null: return "null";
    case Kind::Bool: return "bool";
    case Kind::Number: return "number";
    case Kind::String: return "string";
    case Kind::Array:
    case Kind::Set: return "array";
    case Kind::Object: return "object";
    default: return "value";
  }
}

[[noreturn]] void type_mismatch(const Value& v, std::string_view go_type, std::string_view where) {
  std::string m = "json: cannot unmarshal ";
  m += json_kind(v);
  m += " into Go ";
  m += where.empty() ? "value" : "struct field " + std::string(where);
  m += " of type ";
  m += go_type;
  throw DecodeError{m};
}

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// ast.JSON of a Rego value only has string keys; anything else cannot be
// marshalled and the conversion fails.
void require_string_keys(const Value& obj) {
  for (const auto& [k, v] : obj.object_items()) {
    (void)v;
    if (!k.is_string()) throw DecodeError{"json: unsupported type: non-string object key"};
  }
}

struct Decoder {
  int depth = 0;
  struct Nest {
    Decoder& d;
    explicit Nest(Decoder& dec) : d(dec) {
      if (++d.depth > kMaxNesting) {
        --d.depth;
        throw DecodeError{"GraphQL AST nested too deeply"};
      }
    }
    ~Nest() { --d.depth; }
  };

  // Standard decoding of a struct: calls `set(field_index, value)` for each
  // key that matches one of `fields` (exactly, else case-insensitively).
  template <class F>
  void each_field(const Value& obj, std::initializer_list<const char*> fields, F set) {
    require_string_keys(obj);
    for (const auto& [k, v] : obj.object_items()) {
      const std::string& key = k.str();
      int idx = -1, i = 0;
      for (const char* f : fields) {
        if (key == f) {
          idx = i;
          break;
        }
        ++i;
      }
      if (idx < 0) {
        i = 0;
        for (const char* f : fields) {
          if (ascii_iequal(key, f)) {
            idx = i;
            break;
          }
          ++i;
        }
      }
      if (idx >= 0) set(idx, v);
    }
  }
  // gqlparser's UnmarshalJSON methods: exact key matches only.
  template <class F>
  void each_exact(const Value& obj, std::initializer_list<const char*> fields, F set) {
    require_string_keys(obj);
    for (const auto& [k, v] : obj.object_items()) {
      int i = 0;
      for (const char* f : fields) {
        if (k.str() == f) {
          set(i, v);
          break;
        }
        ++i;
      }
    }
  }

  std::string str(const Value& v, const char* where) {
    if (v.is_null()) return "";
    if (!v.is_string()) type_mismatch(v, "string", where);
    return v.str();
  }
  bool boolean(const Value& v, const char* where) {
    if (v.is_null()) return false;
    if (!v.is_bool()) type_mismatch(v, "bool", where);
    return v.as_bool();
  }
  const ValueVec* array(const Value& v, const char* go_type, const char* where) {
    if (v.is_null()) return nullptr;
    if (v.is_array()) return &v.array_items();
    if (v.is_set()) return &v.set_items();
    type_mismatch(v, go_type, where);
  }
  bool object(const Value& v, const char* go_type, const char* where) {
    if (v.is_null()) return false;
    if (!v.is_object()) type_mismatch(v, go_type, where);
    return true;
  }
  std::vector<std::string> string_list(const Value& v, const char* where) {
    std::vector<std::string> out;
    if (const ValueVec* xs = array(v, "[]string", where))
      for (const Value& x : *xs) out.push_back(str(x, where));
    return out;
  }
  // A pointer-to-struct field we do not keep (validation annotations): only
  // its JSON type is checked, deeper mismatches go unnoticed.
  void ignored_struct(const Value& v, const char* go_type, const char* where) { object(v, go_type, where); }

  Position position(const Value& v, const char* where) {
    Position p;
    if (!object(v, "ast.Position", where)) return p;
    each_field(v, {"Start", "End", "Line", "Column", "Src"}, [&](int i, const Value& x) {
      if (i == 4) {
        if (object(x, "ast.Source", "Position.Src"))
          each_field(x, {"Name", "Input", "BuiltIn"}, [&](int j, const Value& y) {
            if (j == 0) p.file = str(y, "Source.Name");
            if (j == 1) str(y, "Source.Input");
            if (j == 2) boolean(y, "Source.BuiltIn");
          });
        return;
      }
      int64_t n = 0;
      if (!x.is_null() && (!x.is_number() || !x.to_int64(n) || n < INT_MIN || n > INT_MAX))
        type_mismatch(x, "int", "Position.Line");
      if (i == 2) p.line = static_cast<int>(n);
      if (i == 3) p.column = static_cast<int>(n);
    });
    return p;
  }

  Comments comments(const Value& v, const char* where) {
    if (!object(v, "ast.CommentGroup", where)) return nullptr;
    auto g = std::make_shared<CommentGroup>();
    each_field(v, {"List"}, [&](int, const Value& x) {
      g->list.clear();
      if (const ValueVec* xs = array(x, "[]*ast.Comment", "CommentGroup.List")) {
        for (const Value& c : *xs) {
          Comment cm;
          if (object(c, "ast.Comment", "CommentGroup.List"))
            each_field(c, {"Value", "Position"}, [&](int i, const Value& y) {
              if (i == 0) cm.value = str(y, "Comment.Value");
              if (i == 1) position(y, "Comment.Position");
            });
          g->list.push_back(std::move(cm));
        }
      }
    });
    return g;
  }

  TypePtr type(const Value& v, const char* where) {
    Nest n(*this);
    if (!object(v, "ast.Type", where)) return nullptr;
    auto t = std::make_shared<Type>();
    each_field(v, {"NamedType", "Elem", "NonNull"}, [&](int i, const Value& x) {
      if (i == 0) t->named_type = str(x, "Type.NamedType");
      if (i == 1) t->elem = type(x, "Type.Elem");
      if (i == 2) t->non_null = boolean(x, "Type.NonNull");
    });
    return t;
  }

  GqlValuePtr value(const Value& v, const char* where) {
    Nest n(*this);
    if (!object(v, "ast.Value", where)) return nullptr;
    auto out = std::make_shared<GqlValue>();
    each_field(v,
               {"Raw", "Children", "Kind", "Comment", "Definition", "VariableDefinition", "ExpectedType",
                "ExpectedTypeHasDefault"},
               [&](int i, const Value& x) {
                 switch (i) {
                   case 0: out->raw = str(x, "Value.Raw"); break;
                   case 1:
                     out->children.clear();
                     if (const ValueVec* xs = array(x, "ast.ChildValueList", "Value.Children")) {
                       for (const Value& c : *xs) {
                         if (c.is_null()) throw DecodeError{"GraphQL AST: null child value"};
                         ChildValue cv;
                         object(c, "ast.ChildValue", "Value.Children");
                         each_field(c, {"Name", "Value", "Comment"}, [&](int j, const Value& y) {
                           if (j == 0) cv.name = str(y, "ChildValue.Name");
                           if (j == 1) cv.value = value(y, "ChildValue.Value");
                           if (j == 2) cv.comment = comments(y, "ChildValue.Comment");
                         });
                         out->children.push_back(std::move(cv));
                       }
                     }
                     break;
                   case 2: {
                     int64_t k = 0;
                     if (!x.is_null() && (!x.is_number() || !x.to_int64(k))) type_mismatch(x, "ast.ValueKind", "Value.Kind");
                     // gqlparser panics on kinds it does not know; refuse them here.
                     if (k < 0 || k > 9) throw DecodeError{"GraphQL AST: unknown value kind " + std::to_string(k)};
                     out->kind = static_cast<ValueKind>(k);
                     break;
                   }
                   case 3: out->comment = comments(x, "Value.Comment"); break;
                   case 4: ignored_struct(x, "ast.Definition", "Value.Definition"); break;
                   case 5: ignored_struct(x, "ast.VariableDefinition", "Value.VariableDefinition"); break;
                   case 6: ignored_struct(x, "ast.Type", "Value.ExpectedType"); break;
                   case 7: out->expected_type_has_default = boolean(x, "Value.ExpectedTypeHasDefault"); break;
                 }
               });
    return out;
  }

  std::vector<Argument> arguments(const Value& v, const char* where) {
    std::vector<Argument> out;
    if (const ValueVec* xs = array(v, "ast.ArgumentList", where)) {
      for (const Value& a : *xs) {
        if (a.is_null()) throw DecodeError{"GraphQL AST: null argument"};
        Argument arg;
        object(a, "ast.Argument", where);
        each_field(a, {"Name", "Value", "Comment"}, [&](int i, const Value& x) {
          if (i == 0) arg.name = str(x, "Argument.Name");
          if (i == 1) arg.value = value(x, "Argument.Value");
          if (i == 2) arg.comment = comments(x, "Argument.Comment");
        });
        out.push_back(std::move(arg));
      }
    }
    return out;
  }

  std::vector<Directive> directives(const Value& v, const char* where) {
    std::vector<Directive> out;
    if (const ValueVec* xs = array(v, "ast.DirectiveList", where)) {
      for (const Value& d : *xs) {
        if (d.is_null()) throw DecodeError{"GraphQL AST: null directive"};
        Directive dir;
        object(d, "ast.Directive", where);
        each_field(d, {"Name", "Arguments", "ParentDefinition", "Definition", "Location"}, [&](int i, const Value& x) {
          if (i == 0) dir.name = str(x, "Directive.Name");
          if (i == 1) dir.arguments = arguments(x, "Directive.Arguments");
          if (i == 2) ignored_struct(x, "ast.Definition", "Directive.ParentDefinition");
          if (i == 3) ignored_struct(x, "ast.DirectiveDefinition", "Directive.Definition");
          if (i == 4) dir.location = str(x, "Directive.Location");
        });
        out.push_back(std::move(dir));
      }
    }
    return out;
  }

  // ast.UnmarshalSelectionSet: each item as a Field, else a FragmentSpread,
  // else an InlineFragment, else silently dropped.
  SelectionSet selection_set(const Value& v) {
    Nest n(*this);
    SelectionSet out;
    if (v.is_null()) return out;
    if (!v.is_array() && !v.is_set()) type_mismatch(v, "[]json.RawMessage", "");
    const ValueVec& items = v.is_array() ? v.array_items() : v.set_items();
    for (const Value& item : items) {
      try {
        out.push_back(field(item));
        continue;
      } catch (const DecodeError&) {
      }
      try {
        out.push_back(fragment_spread(item));
        continue;
      } catch (const DecodeError&) {
      }
      try {
        out.push_back(inline_fragment(item));
      } catch (const DecodeError&) {
      }
    }
    return out;
  }

  SelectionPtr field(const Value& v) {
    auto f = std::make_shared<Selection>();
    f->kind = SelectionKind::Field;
    if (v.is_null()) return f;  // json.Unmarshal of null into a map: an empty Field
    if (!v.is_object()) type_mismatch(v, "map[string]json.RawMessage", "");
    each_exact(v, {"Alias", "Name", "Arguments", "Directives", "SelectionSet", "Position", "Definition", "ObjectDefinition"},
               [&](int i, const Value& x) {
                 switch (i) {
                   case 0: f->alias = str(x, "Field.Alias"); break;
                   case 1: f->name = str(x, "Field.Name"); break;
                   case 2: f->arguments = arguments(x, "Field.Arguments"); break;
                   case 3: f->directives = directives(x, "Field.Directives"); break;
                   case 4: f->selection_set = selection_set(x); break;
                   case 5: f->pos = position(x, "Field.Position"); break;
                   case 6: ignored_struct(x, "ast.FieldDefinition", "Field.Definition"); break;
                   case 7: ignored_struct(x, "ast.Definition", "Field.ObjectDefinition"); break;
                 }
               });
    return f;
  }

  SelectionPtr fragment_spread(const Value& v) {
    auto s = std::make_shared<Selection>();
    s->kind = SelectionKind::FragmentSpread;
    object(v, "ast.FragmentSpread", "");
    if (v.is_null()) return s;
    each_field(v, {"Name", "Directives", "ObjectDefinition", "Definition", "Comment"}, [&](int i, const Value& x) {
      if (i == 0) s->name = str(x, "FragmentSpread.Name");
      if (i == 1) s->directives = directives(x, "FragmentSpread.Directives");
      if (i == 2) ignored_struct(x, "ast.Definition", "FragmentSpread.ObjectDefinition");
      if (i == 3) ignored_struct(x, "ast.FragmentDefinition", "FragmentSpread.Definition");
      if (i == 4) s->comment = comments(x, "FragmentSpread.Comment");
    });
    return s;
  }

  SelectionPtr inline_fragment(const Value& v) {
    auto s = std::make_shared<Selection>();
    s->kind = SelectionKind::InlineFragment;
    if (v.is_null()) return s;
    if (!v.is_object()) type_mismatch(v, "map[string]json.RawMessage", "");
    each_exact(v, {"TypeCondition", "Directives", "SelectionSet", "ObjectDefinition", "Position"}, [&](int i, const Value& x) {
      if (i == 0) s->type_condition = str(x, "InlineFragment.TypeCondition");
      if (i == 1) s->directives = directives(x, "InlineFragment.Directives");
      if (i == 2) s->selection_set = selection_set(x);
      if (i == 3) ignored_struct(x, "ast.Definition", "InlineFragment.ObjectDefinition");
      if (i == 4) s->pos = position(x, "InlineFragment.Position");
    });
    return s;
  }

  std::vector<VariableDefinitionPtr> variable_definitions(const Value& v, const char* where) {
    std::vector<VariableDefinitionPtr> out;
    if (const ValueVec* xs = array(v, "ast.VariableDefinitionList", where)) {
      for (const Value& d : *xs) {
        if (d.is_null()) throw DecodeError{"GraphQL AST: null variable definition"};
        auto vd = std::make_shared<VariableDefinition>();
        object(d, "ast.VariableDefinition", where);
        each_field(d, {"Variable", "Type", "DefaultValue", "Directives", "Comment", "Definition", "Used"},
                   [&](int i, const Value& x) {
                     switch (i) {
                       case 0: vd->variable = str(x, "VariableDefinition.Variable"); break;
                       case 1: vd->type = type(x, "VariableDefinition.Type"); break;
                       case 2: vd->default_value = value(x, "VariableDefinition.DefaultValue"); break;
                       case 3: vd->directives = directives(x, "VariableDefinition.Directives"); break;
                       case 4: vd->comment = comments(x, "VariableDefinition.Comment"); break;
                       case 5: ignored_struct(x, "ast.Definition", "VariableDefinition.Definition"); break;
                       case 6: vd->used = boolean(x, "VariableDefinition.Used"); break;
                     }
                   });
        out.push_back(std::move(vd));
      }
    }
    return out;
  }

  std::shared_ptr<QueryDocument> query_document(const Value& v) {
    auto doc = std::make_shared<QueryDocument>();
    if (!object(v, "ast.QueryDocument", "")) return doc;
    each_field(v, {"Operations", "Fragments", "Comment"}, [&](int i, const Value& x) {
      if (i == 0) {
        doc->operations.clear();
        if (const ValueVec* xs = array(x, "ast.OperationList", "QueryDocument.Operations"))
          for (const Value& o : *xs) doc->operations.push_back(operation(o));
      } else if (i == 1) {
        doc->fragments.clear();
        if (const ValueVec* xs = array(x, "ast.FragmentDefinitionList", "QueryDocument.Fragments"))
          for (const Value& f : *xs) doc->fragments.push_back(fragment_definition(f));
      } else {
        doc->comment = comments(x, "QueryDocument.Comment");
      }
    });
    return doc;
  }

  std::shared_ptr<OperationDefinition> operation(const Value& v) {
    if (v.is_null()) throw DecodeError{"GraphQL AST: null operation"};
    auto od = std::make_shared<OperationDefinition>();
    if (!v.is_object()) type_mismatch(v, "map[string]json.RawMessage", "");
    each_exact(v, {"Operation", "Name", "VariableDefinitions", "Directives", "SelectionSet", "Position"},
               [&](int i, const Value& x) {
                 switch (i) {
                   case 0: od->operation = str(x, "OperationDefinition.Operation"); break;
                   case 1: od->name = str(x, "OperationDefinition.Name"); break;
                   case 2: od->variable_definitions = variable_definitions(x, "OperationDefinition.VariableDefinitions"); break;
                   case 3: od->directives = directives(x, "OperationDefinition.Directives"); break;
                   case 4: od->selection_set = selection_set(x); break;
                   case 5: od->pos = position(x, "OperationDefinition.Position"); break;
                 }
               });
    return od;
  }

  std::shared_ptr<FragmentDefinition> fragment_definition(const Value& v) {
    if (v.is_null()) throw DecodeError{"GraphQL AST: null fragment"};
    auto fd = std::make_shared<FragmentDefinition>();
    if (!v.is_object()) type_mismatch(v, "map[string]json.RawMessage", "");
    each_exact(v, {"Name", "VariableDefinition", "TypeCondition", "Directives", "SelectionSet", "Definition", "Position"},
               [&](int i, const Value& x) {
                 switch (i) {
                   case 0: fd->name = str(x, "FragmentDefinition.Name"); break;
                   case 1: fd->variable_definition = variable_definitions(x, "FragmentDefinition.VariableDefinition"); break;
                   case 2: fd->type_condition = str(x, "FragmentDefinition.TypeCondition"); break;
                   case 3: fd->directives = directives(x, "FragmentDefinition.Directives"); break;
                   case 4: fd->selection_set = selection_set(x); break;
                   case 5: ignored_struct(x, "ast.Definition", "FragmentDefinition.Definition"); break;
                   case 6: fd->pos = position(x, "FragmentDefinition.Position"); break;
                 }
               });
    return fd;
  }

  // ------------------------------------------------------------ schema side
  std::vector<ArgumentDefinitionPtr> argument_definitions(const Value& v, const char* where) {
    std::vector<ArgumentDefinitionPtr> out;
    if (const ValueVec* xs = array(v, "ast.ArgumentDefinitionList", where)) {
      for (const Value& a : *xs) {
        if (a.is_null()) throw DecodeError{"GraphQL AST: null argument definition"};
        auto ad = std::make_shared<ArgumentDefinition>();
        object(a, "ast.ArgumentDefinition", where);
        each_field(a,
                   {"Description", "Name", "DefaultValue", "Type", "Directives", "BeforeDescriptionComment",
                    "AfterDescriptionComment"},
                   [&](int i, const Value& x) {
                     switch (i) {
                       case 0: ad->description = str(x, "ArgumentDefinition.Description"); break;
                       case 1: ad->name = str(x, "ArgumentDefinition.Name"); break;
                       case 2: ad->default_value = value(x, "ArgumentDefinition.DefaultValue"); break;
                       case 3: ad->type = type(x, "ArgumentDefinition.Type"); break;
                       case 4: ad->directives = directives(x, "ArgumentDefinition.Directives"); break;
                       case 5: ad->before_description = comments(x, "ArgumentDefinition.BeforeDescriptionComment"); break;
                       case 6: ad->after_description = comments(x, "ArgumentDefinition.AfterDescriptionComment"); break;
                     }
                   });
        // gqlparser dereferences a definition's type unconditionally.
        if (!ad->type) throw DecodeError{"GraphQL AST: argument definition without a type"};
        out.push_back(std::move(ad));
      }
    }
    return out;
  }

  std::vector<FieldDefinitionPtr> field_definitions(const Value& v, const char* where) {
    std::vector<FieldDefinitionPtr> out;
    if (const ValueVec* xs = array(v, "ast.FieldList", where)) {
      for (const Value& f : *xs) {
        if (f.is_null()) throw DecodeError{"GraphQL AST: null field definition"};
        auto fd = std::make_shared<FieldDefinition>();
        object(f, "ast.FieldDefinition", where);
        each_field(f,
                   {"Description", "Name", "Arguments", "DefaultValue", "Type", "Directives",
                    "BeforeDescriptionComment", "AfterDescriptionComment"},
                   [&](int i, const Value& x) {
                     switch (i) {
                       case 0: fd->description = str(x, "FieldDefinition.Description"); break;
                       case 1: fd->name = str(x, "FieldDefinition.Name"); break;
                       case 2: fd->arguments = argument_definitions(x, "FieldDefinition.Arguments"); break;
                       case 3: fd->default_value = value(x, "FieldDefinition.DefaultValue"); break;
                       case 4: fd->type = type(x, "FieldDefinition.Type"); break;
                       case 5: fd->directives = directives(x, "FieldDefinition.Directives"); break;
                       case 6: fd->before_description = comments(x, "FieldDefinition.BeforeDescriptionComment"); break;
                       case 7: fd->after_description = comments(x, "FieldDefinition.AfterDescriptionComment"); break;
                     }
                   });
        if (!fd->type) throw DecodeError{"GraphQL AST: field definition without a type"};
        out.push_back(std::move(fd));
      }
    }
    return out;
  }

  std::vector<DefinitionPtr> definitions(const Value& v, const char* where) {
    std::vector<DefinitionPtr> out;
    if (const ValueVec* xs = array(v, "ast.DefinitionList", where)) {
      for (const Value& d : *xs) {
        if (d.is_null()) throw DecodeError{"GraphQL AST: null definition"};
        auto def = std::make_shared<Definition>();
        object(d, "ast.Definition", where);
        each_field(d,
                   {"Kind", "Description", "Name", "Directives", "Interfaces", "Fields", "Types", "EnumValues", "BuiltIn",
                    "BeforeDescriptionComment", "AfterDescriptionComment", "EndOfDefinitionComment"},
                   [&](int i, const Value& x) {
                     switch (i) {
                       case 0: def->kind = str(x, "Definition.Kind"); break;
                       case 1: def->description = str(x, "Definition.Description"); break;
                       case 2: def->name = str(x, "Definition.Name"); break;
                       case 3: def->directives = directives(x, "Definition.Directives"); break;
                       case 4: def->interfaces = string_list(x, "Definition.Interfaces"); break;
                       case 5: def->fields = field_definitions(x, "Definition.Fields"); break;
                       case 6: def->types = string_list(x, "Definition.Types"); break;
                       case 7:
                         def->enum_values.clear();
                         if (const ValueVec* es = array(x, "ast.EnumValueList", "Definition.EnumValues")) {
                           for (const Value& e : *es) {
                             if (e.is_null()) throw DecodeError{"GraphQL AST: null enum value"};
                             auto ev = std::make_shared<EnumValueDefinition>();
                             object(e, "ast.EnumValueDefinition", "Definition.EnumValues");
                             each_field(e,
                                        {"Description", "Name", "Directives", "BeforeDescriptionComment",
                                         "AfterDescriptionComment"},
                                        [&](int j, const Value& y) {
                                          if (j == 0) ev->description = str(y, "EnumValueDefinition.Description");
                                          if (j == 1) ev->name = str(y, "EnumValueDefinition.Name");
                                          if (j == 2) ev->directives = directives(y, "EnumValueDefinition.Directives");
                                          if (j == 3) ev->before_description = comments(y, "EnumValueDefinition.BeforeDescriptionComment");
                                          if (j == 4) ev->after_description = comments(y, "EnumValueDefinition.AfterDescriptionComment");
                                        });
                             def->enum_values.push_back(std::move(ev));
                           }
                         }
                         break;
                       case 8: def->builtin = boolean(x, "Definition.BuiltIn"); break;
                       case 9: def->before_description = comments(x, "Definition.BeforeDescriptionComment"); break;
                       case 10: def->after_description = comments(x, "Definition.AfterDescriptionComment"); break;
                       case 11: def->end_of_definition = comments(x, "Definition.EndOfDefinitionComment"); break;
                     }
                   });
        out.push_back(std::move(def));
      }
    }
    return out;
  }

  std::vector<SchemaDefinitionPtr> schema_definitions(const Value& v, const char* where) {
    std::vector<SchemaDefinitionPtr> out;
    if (const ValueVec* xs = array(v, "ast.SchemaDefinitionList", where)) {
      for (const Value& s : *xs) {
        if (s.is_null()) throw DecodeError{"GraphQL AST: null schema definition"};
        auto sd = std::make_shared<SchemaDefinition>();
        object(s, "ast.SchemaDefinition", where);
        each_field(s,
                   {"Description", "Directives", "OperationTypes", "BeforeDescriptionComment", "AfterDescriptionComment",
                    "EndOfDefinitionComment"},
                   [&](int i, const Value& x) {
                     switch (i) {
                       case 0: sd->description = str(x, "SchemaDefinition.Description"); break;
                       case 1: sd->directives = directives(x, "SchemaDefinition.Directives"); break;
                       case 2:
                         sd->operation_types.clear();
                         if (const ValueVec* os = array(x, "ast.OperationTypeDefinitionList", "SchemaDefinition.OperationTypes")) {
                           for (const Value& o : *os) {
                             if (o.is_null()) throw DecodeError{"GraphQL AST: null operation type"};
                             OperationTypeDefinition op;
                             object(o, "ast.OperationTypeDefinition", "SchemaDefinition.OperationTypes");
                             each_field(o, {"Operation", "Type", "Comment"}, [&](int j, const Value& y) {
                               if (j == 0) op.operation = str(y, "OperationTypeDefinition.Operation");
                               if (j == 1) op.type = str(y, "OperationTypeDefinition.Type");
                               if (j == 2) op.comment = comments(y, "OperationTypeDefinition.Comment");
                             });
                             sd->operation_types.push_back(std::move(op));
                           }
                         }
                         break;
                       case 3: sd->before_description = comments(x, "SchemaDefinition.BeforeDescriptionComment"); break;
                       case 4: sd->after_description = comments(x, "SchemaDefinition.AfterDescriptionComment"); break;
                       case 5: sd->end_of_definition = comments(x, "SchemaDefinition.EndOfDefinitionComment"); break;
                     }
                   });
        out.push_back(std::move(sd));
      }
    }
    return out;
  }

  std::shared_ptr<SchemaDocument> schema_document(const Value& v) {
    auto doc = std::make_shared<SchemaDocument>();
    if (!object(v, "ast.SchemaDocument", "")) return doc;
    each_field(v, {"Schema", "SchemaExtension", "Directives", "Definitions", "Extensions", "Comment"},
               [&](int i, const Value& x) {
                 switch (i) {
                   case 0: doc->schema = schema_definitions(x, "SchemaDocument.Schema"); break;
                   case 1: doc->schema_extension = schema_definitions(x, "SchemaDocument.SchemaExtension"); break;
                   case 2:
                     doc->directives.clear();
                     if (const ValueVec* ds = array(x, "ast.DirectiveDefinitionList", "SchemaDocument.Directives")) {
                       for (const Value& d : *ds) {
                         if (d.is_null()) throw DecodeError{"GraphQL AST: null directive definition"};
                         auto dd = std::make_shared<DirectiveDefinition>();
                         object(d, "ast.DirectiveDefinition", "SchemaDocument.Directives");
                         each_field(d,
                                    {"Description", "Name", "Arguments", "Locations", "IsRepeatable",
                                     "BeforeDescriptionComment", "AfterDescriptionComment"},
                                    [&](int j, const Value& y) {
                                      switch (j) {
                                        case 0: dd->description = str(y, "DirectiveDefinition.Description"); break;
                                        case 1: dd->name = str(y, "DirectiveDefinition.Name"); break;
                                        case 2: dd->arguments = argument_definitions(y, "DirectiveDefinition.Arguments"); break;
                                        case 3: dd->locations = string_list(y, "DirectiveDefinition.Locations"); break;
                                        case 4: dd->is_repeatable = boolean(y, "DirectiveDefinition.IsRepeatable"); break;
                                        case 5: dd->before_description = comments(y, "DirectiveDefinition.BeforeDescriptionComment"); break;
                                        case 6: dd->after_description = comments(y, "DirectiveDefinition.AfterDescriptionComment"); break;
                                      }
                                    });
                         doc->directives.push_back(std::move(dd));
                       }
                     }
                     break;
                   case 3: doc->definitions = definitions(x, "SchemaDocument.Definitions"); break;
                   case 4: doc->extensions = definitions(x, "SchemaDocument.Extensions"); break;
                   case 5: doc->comment = comments(x, "SchemaDocument.Comment"); break;
                 }
               });
    return doc;
  }
};

// A selection decoded as a Field may still hold nulls that gqlparser would
// dereference during validation (an argument without a value); those are
// refused here rather than crashing later.
void check_selection_set(const SelectionSet& ss);
void check_arguments(const std::vector<Argument>& args) {
  for (const Argument& a : args)
    if (!a.value) throw DecodeError{"GraphQL AST: argument \"" + a.name + "\" has no value"};
}
void check_directives(const std::vector<Directive>& ds) {
  for (const Directive& d : ds) check_arguments(d.arguments);
}
void check_value(const GqlValuePtr& v) {
  if (!v) return;
  for (const ChildValue& c : v->children) {
    if (!c.value) throw DecodeError{"GraphQL AST: child value missing"};
    check_value(c.value);
  }
}
void check_selection_set(const SelectionSet& ss) {
  for (const SelectionPtr& s : ss) {
    check_arguments(s->arguments);
    for (const Argument& a : s->arguments) check_value(a.value);
    check_directives(s->directives);
    check_selection_set(s->selection_set);
  }
}
void check_variables(const std::vector<VariableDefinitionPtr>& vs) {
  for (const auto& v : vs) {
    if (!v->type) throw DecodeError{"GraphQL AST: variable \"" + v->variable + "\" has no type"};
    check_value(v->default_value);
    check_directives(v->directives);
  }
}

}  // namespace

std::shared_ptr<QueryDocument> query_from_value(const Value& v, std::string& err) {
  try {
    Decoder d;
    auto doc = d.query_document(v);
    for (const auto& op : doc->operations) {
      check_variables(op->variable_definitions);
      check_directives(op->directives);
      check_selection_set(op->selection_set);
    }
    for (const auto& f : doc->fragments) {
      check_variables(f->variable_definition);
      check_directives(f->directives);
      check_selection_set(f->selection_set);
    }
    return doc;
  } catch (const DecodeError& e) {
    err = e.message;
    return nullptr;
  }
}

std::shared_ptr<SchemaDocument> schema_from_value(const Value& v, std::string& err) {
  try {
    Decoder d;
    auto doc = d.schema_document(v);
    auto check_defs = [](const std::vector<DefinitionPtr>& defs) {
      for (const auto& def : defs) {
        check_directives(def->directives);
        for (const auto& f : def->fields) {
          check_directives(f->directives);
          check_value(f->default_value);
          for (const auto& a : f->arguments) {
            check_directives(a->directives);
            check_value(a->default_value);
          }
        }
        for (const auto& e : def->enum_values) check_directives(e->directives);
      }
    };
    check_defs(doc->definitions);
    check_defs(doc->extensions);
    for (const auto& s : doc->schema) check_directives(s->directives);
    for (const auto& s : doc->schema_extension) check_directives(s->directives);
    for (const auto& dd : doc->directives)
      for (const auto& a : dd->arguments) {
        check_directives(a->directives);
        check_value(a->default_value);
      }
    return doc;
  } catch (const DecodeError& e) {
    err = e.message;
    return nullptr;
  }
}

}  // namespace confidant::rego::graphql
