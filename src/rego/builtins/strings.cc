// String builtins (OPA's "strings" category plus to_number), with Go semantics.
//
// OPA implements these with Go's strings, strconv and fmt packages, so the
// behaviour to match is Go's: strings are UTF-8 byte strings where an invalid
// byte decodes as U+FFFD with width 1, rune-level operations (indexof,
// substring, lower/upper, trim with a cutset) work on code points, and
// sprintf is fmt.Sprintf applied to the operands as OPA converts them (int,
// *big.Int, float64, string). The Go fmt engine below is a port of the parts
// of fmt/strconv those operand types reach, including their error forms
// (%!d(string=x), %!v(MISSING), %!(EXTRA ...)).
#include <gmpxx.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <forward_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {

namespace {

// --- Unicode (tables at the end of the file, generated from Go's unicode package) ---

char32_t to_upper_rune(char32_t r);
char32_t to_lower_rune(char32_t r);
bool is_print_rune(char32_t r);  // strconv.IsPrint

bool is_space_rune(char32_t r) {  // unicode.IsSpace
  return (r >= '\t' && r <= '\r') || r == ' ' || r == 0x85 || r == 0xA0 || r == 0x1680 ||
         (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000;
}

// --- UTF-8 with Go's decoding rules -------------------------------------------

constexpr char32_t kRuneError = 0xFFFD;

struct Rune {
  char32_t r;
  size_t n;  // bytes consumed (1 for an invalid byte)
};

// utf8.DecodeRuneInString: rejects overlongs, surrogates and values past U+10FFFF.
Rune decode_rune(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  const size_t avail = s.size() - i;
  const unsigned char c = p[0];
  if (c < 0x80) return {c, 1};
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < avail && p[k] >= lo && p[k] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) {
    if (cont(1)) return {static_cast<char32_t>((c & 0x1F) << 6 | (p[1] & 0x3F)), 2};
  } else if (c >= 0xE0 && c <= 0xEF) {
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2))
      return {static_cast<char32_t>((c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F)), 3};
  } else if (c >= 0xF0 && c <= 0xF4) {
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2) && cont(3))
      return {static_cast<char32_t>((c & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 | (p[3] & 0x3F)), 4};
  }
  return {kRuneError, 1};
}

// utf8.DecodeLastRuneInString.
Rune decode_last_rune(std::string_view s) {
  const size_t end = s.size();
  if (static_cast<unsigned char>(s[end - 1]) < 0x80) return {static_cast<unsigned char>(s[end - 1]), 1};
  const size_t lim = end >= 4 ? end - 4 : 0;
  size_t start = end - 1;
  while (start > lim && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  Rune r = decode_rune(s, start);
  if (start + r.n != end) return {kRuneError, 1};
  return r;
}

// utf8.EncodeRune: surrogates and out-of-range values become U+FFFD.
void append_rune(std::string& out, char32_t r) {
  if (r < 0x80) {
    out.push_back(static_cast<char>(r));
    return;
  }
  if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) r = kRuneError;
  if (r < 0x800) {
    out.push_back(static_cast<char>(0xC0 | r >> 6));
  } else if (r < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | r >> 12));
    out.push_back(static_cast<char>(0x80 | (r >> 6 & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | r >> 18));
    out.push_back(static_cast<char>(0x80 | (r >> 12 & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (r >> 6 & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
}

bool is_ascii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

size_t rune_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) i += decode_rune(s, i).n;
  return n;
}

// []rune(s): invalid bytes become U+FFFD.
std::u32string to_runes(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    out.push_back(r.r);
    i += r.n;
  }
  return out;
}

std::string from_runes(std::u32string_view rs) {
  std::string out;
  out.reserve(rs.size());
  for (char32_t r : rs) append_rune(out, r);
  return out;
}

// --- operand errors, worded as OPA's topdown/builtins package does -----------

[[noreturn]] void operand_error(std::string_view builtin, int pos, std::string_view msg) {
  std::string m(builtin);
  m += ": operand ";
  m += std::to_string(pos);
  m += ' ';
  m += msg;
  throw BuiltinError("eval_type_error", m);
}

// NewOperandElementErr: "operand 2 must be array of strings but got array containing number".
[[noreturn]] void element_error(std::string_view builtin, int pos, const Value& coll, const Value& elem,
                                std::string_view expected) {
  std::string tpe = kind_name(coll.kind());
  operand_error(
      builtin, pos,
      "must be " + tpe + " of " + std::string(expected) + "s but got " + tpe + " containing " + kind_name(elem.kind()));
}

// builtins.IntOperand: an integer that fits Go's int.
int64_t int_operand(std::string_view builtin, std::span<const Value> args, int i) {
  const Value& v = args[static_cast<size_t>(i)];
  if (!v.is_number()) type_error(builtin, i + 1, "number", v);
  int64_t out;
  if (!v.to_int64(out)) operand_error(builtin, i + 1, "must be integer number but got floating-point number");
  return out;
}

const ValueVec& items_of(const Value& v) { return v.is_array() ? v.array_items() : v.set_items(); }

// An array or set operand whose members must all be strings.
void check_strings(std::string_view builtin, std::span<const Value> args, int i) {
  const Value& v = args[static_cast<size_t>(i)];
  for (const Value& x : items_of(v))
    if (!x.is_string()) element_error(builtin, i + 1, v, x, "string");
}

const Value& empty_string() {
  static const Value v = Value::string("");
  return v;
}

// --- Go's fmt.Sprintf ----------------------------------------------------------

// One fmt operand. OPA hands sprintf Go ints, *big.Ints, float64s and strings;
// the template engine adds bools and nil.
struct GoArg {
  enum class T : uint8_t { Int, Big, Float, Str, Bool, Nil } t = T::Nil;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string_view s;
  std::shared_ptr<const mpz_class> big;
  std::string_view type = "string";  // Go type name, for %T and error forms
};

constexpr std::string_view kLowerDigits = "0123456789abcdefx";
constexpr std::string_view kUpperDigits = "0123456789ABCDEFX";

// strconv.AppendQuote / QuoteToASCII (quote '"') and QuoteRune (quote '\'').
void append_escaped_rune(std::string& out, char32_t r, char quote, bool ascii_only) {
  static constexpr std::string_view hex = "0123456789abcdef";
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(r));
    return;
  }
  if (ascii_only ? (r < 0x80 && is_print_rune(r)) : is_print_rune(r)) {
    append_rune(out, r);
    return;
  }
  switch (r) {
    case '\a': out += "\\a"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\v': out += "\\v"; return;
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    out.push_back(hex[r >> 4]);
    out.push_back(hex[r & 0xF]);
    return;
  }
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  const int digits = r < 0x10000 ? 4 : 8;
  out += r < 0x10000 ? "\\u" : "\\U";
  for (int sh = (digits - 1) * 4; sh >= 0; sh -= 4) out.push_back(hex[(r >> sh) & 0xF]);
}

void append_go_quoted(std::string& out, std::string_view s, bool ascii_only) {
  static constexpr std::string_view hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    if (r.n == 1 && r.r == kRuneError) {
      const auto c = static_cast<unsigned char>(s[i]);
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    } else {
      append_escaped_rune(out, r.r, '"', ascii_only);
    }
    i += r.n;
  }
  out.push_back('"');
}

bool can_backquote(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    i += r.n;
    if (r.n > 1) {
      if (r.r == 0xFEFF) return false;
      continue;
    }
    if (r.r == kRuneError) return false;
    if ((r.r < ' ' && r.r != '\t') || r.r == '`' || r.r == 0x7F) return false;
  }
  return true;
}

// Decimal digits of a double as strconv's decimalSlice: value = 0.d1d2... * 10^dp.
struct DecDigits {
  std::string d;
  int dp = 0;
};

// digits < 0: shortest round-trip digits; otherwise exactly rounded to that many significant digits.
DecDigits float_digits(double v, int digits) {
  std::string buf(static_cast<size_t>(std::max(digits, 0)) + 64, '\0');
  v = std::fabs(v);
  char* b = buf.data();
  auto r = digits < 0 ? std::to_chars(b, b + buf.size(), v, std::chars_format::scientific)
                      : std::to_chars(b, b + buf.size(), v, std::chars_format::scientific, digits - 1);
  std::string_view t(b, static_cast<size_t>(r.ptr - b));
  const size_t e = t.find('e');
  DecDigits out;
  for (char c : t.substr(0, e))
    if (c != '.') out.d.push_back(c);
  int exp = 0;
  std::from_chars(t.data() + e + (t[e + 1] == '+' ? 2 : 1), t.data() + t.size(), exp);
  while (!out.d.empty() && out.d.back() == '0') out.d.pop_back();
  out.dp = out.d.empty() ? 0 : exp + 1;
  return out;
}

void fmt_e(std::string& dst, bool neg, const DecDigits& d, int prec, char fmt) {
  if (neg) dst.push_back('-');
  dst.push_back(d.d.empty() ? '0' : d.d[0]);
  if (prec > 0) {
    dst.push_back('.');
    size_t i = 1;
    const size_t m = std::min(d.d.size(), static_cast<size_t>(prec) + 1);
    if (i < m) {
      dst.append(d.d, i, m - i);
      i = m;
    }
    for (; i <= static_cast<size_t>(prec); ++i) dst.push_back('0');
  }
  dst.push_back(fmt);
  int exp = d.d.empty() ? 0 : d.dp - 1;
  dst.push_back(exp < 0 ? '-' : '+');
  exp = std::abs(exp);
  if (exp < 10) dst.push_back('0');
  dst += std::to_string(exp);
}

void fmt_f(std::string& dst, bool neg, const DecDigits& d, int prec) {
  if (neg) dst.push_back('-');
  const int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    const int m = std::min(nd, d.dp);
    dst.append(d.d, 0, static_cast<size_t>(m));
    dst.append(static_cast<size_t>(d.dp - m), '0');
  } else {
    dst.push_back('0');
  }
  if (prec > 0) {
    dst.push_back('.');
    for (int i = 0; i < prec; ++i) {
      const int j = d.dp + i;
      dst.push_back(j >= 0 && j < nd ? d.d[static_cast<size_t>(j)] : '0');
    }
  }
}

// strconv.AppendFloat(dst, v, fmt, prec, 64).
void append_go_float(std::string& dst, double v, char fmt, int prec) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const bool neg = bits >> 63;
  int exp = static_cast<int>(bits >> 52 & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0x7FF) {
    dst += mant ? "NaN" : neg ? "-Inf" : "+Inf";
    return;
  }
  if (exp == 0) {
    ++exp;
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp -= 1023;
  if (fmt == 'b') {  // mantissa 'p' binary exponent
    if (neg) dst.push_back('-');
    dst += std::to_string(mant);
    dst.push_back('p');
    exp -= 52;
    if (exp >= 0) dst.push_back('+');
    dst += std::to_string(exp);
    return;
  }
  if (fmt == 'x' || fmt == 'X') {  // -0x1.yyyyp±dd
    if (mant == 0) exp = 0;
    mant <<= 60 - 52;
    while (mant != 0 && (mant & (uint64_t{1} << 60)) == 0) {
      mant <<= 1;
      --exp;
    }
    if (prec >= 0 && prec < 15) {
      const unsigned shift = static_cast<unsigned>(prec * 4);
      const uint64_t extra = (mant << shift) & ((uint64_t{1} << 60) - 1);
      mant >>= 60 - shift;
      if ((extra | (mant & 1)) > (uint64_t{1} << 59)) ++mant;
      mant <<= 60 - shift;
      if (mant & (uint64_t{1} << 61)) {
        mant >>= 1;
        ++exp;
      }
    }
    const std::string_view hex = fmt == 'X' ? kUpperDigits : kLowerDigits;
    if (neg) dst.push_back('-');
    dst.push_back('0');
    dst.push_back(fmt);
    dst.push_back(static_cast<char>('0' + ((mant >> 60) & 1)));
    mant <<= 4;
    if (prec < 0 && mant != 0) {
      dst.push_back('.');
      for (; mant != 0; mant <<= 4) dst.push_back(hex[(mant >> 60) & 15]);
    } else if (prec > 0) {
      dst.push_back('.');
      for (int i = 0; i < prec; ++i, mant <<= 4) dst.push_back(hex[(mant >> 60) & 15]);
    }
    dst.push_back(fmt == 'X' ? 'P' : 'p');
    dst.push_back(exp < 0 ? '-' : '+');
    exp = std::abs(exp);
    if (exp < 10) dst.push_back('0');
    dst += std::to_string(exp);
    return;
  }
  const bool shortest = prec < 0;
  if (!shortest && (fmt == 'e' || fmt == 'E' || fmt == 'f')) {
    // Exactly rounded fixed precision: to_chars produces Go's text for these.
    std::string buf(static_cast<size_t>(prec) + 400, '\0');
    const auto cf = fmt == 'f' ? std::chars_format::fixed : std::chars_format::scientific;
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v, cf, prec);
    const size_t at = dst.size();
    dst.append(buf.data(), static_cast<size_t>(r.ptr - buf.data()));
    if (fmt == 'E') std::replace(dst.begin() + static_cast<ptrdiff_t>(at), dst.end(), 'e', 'E');
    return;
  }
  DecDigits d;
  if (shortest) {
    d = float_digits(v, -1);
    const int nd = static_cast<int>(d.d.size());
    if (fmt == 'e' || fmt == 'E') prec = std::max(nd - 1, 0);
    if (fmt == 'f') prec = std::max(nd - d.dp, 0);
    if (fmt == 'g' || fmt == 'G') prec = nd;
  } else {
    if (prec == 0) prec = 1;
    d = float_digits(v, prec);
  }
  switch (fmt) {
    case 'e':
    case 'E': fmt_e(dst, neg, d, prec, fmt); return;
    case 'f': fmt_f(dst, neg, d, prec); return;
    case 'g':
    case 'G': {
      const int nd = static_cast<int>(d.d.size());
      int eprec = prec;
      if (eprec > nd && nd >= d.dp) eprec = nd;
      if (shortest) eprec = 6;
      const int x = d.dp - 1;
      if (x < -4 || x >= eprec) {
        if (prec > nd) prec = nd;
        fmt_e(dst, neg, d, prec - 1, fmt == 'g' ? 'e' : 'E');
        return;
      }
      if (prec > d.dp) prec = nd;
      fmt_f(dst, neg, d, std::max(prec - d.dp, 0));
      return;
    }
  }
  dst.push_back('%');
  dst.push_back(fmt);
}

// The printer: fmt's pp and fmt structs folded together.
class GoPrinter {
 public:
  explicit GoPrinter(std::string& out) : buf_(out) {}
  void printf(std::string_view format, std::span<const GoArg> a);

 private:
  void clear_flags() {
    wid_present_ = prec_present_ = minus_ = plus_ = sharp_ = space_ = zero_ = plus_v_ = sharp_v_ = false;
    wid_ = prec_ = 0;
  }
  void write_padding(int n) {
    if (n > 0) buf_.append(static_cast<size_t>(n), zero_ ? '0' : ' ');
  }
  // Pads to the width counted in runes, on the left unless '-'.
  void pad(std::string_view s) {
    if (!wid_present_ || wid_ == 0) {
      buf_ += s;
      return;
    }
    const int width = wid_ - static_cast<int>(rune_count(s));
    if (!minus_) write_padding(width);
    buf_ += s;
    if (minus_) write_padding(width);
  }
  void fmt_boolean(bool v) { pad(v ? "true" : "false"); }
  void fmt_integer(uint64_t u, int base, bool is_signed, char32_t verb, std::string_view digits);
  void fmt_unicode(uint64_t u);
  void fmt_c(uint64_t c) {
    std::string t;
    append_rune(t, c > 0x10FFFF ? kRuneError : static_cast<char32_t>(c));
    pad(t);
  }
  void fmt_qc(uint64_t c) {
    std::string t = "'";
    const bool valid = c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF);
    append_escaped_rune(t, valid ? static_cast<char32_t>(c) : kRuneError, '\'', plus_);
    t.push_back('\'');
    pad(t);
  }
  std::string_view truncate(std::string_view s) const {
    if (!prec_present_) return s;
    int n = prec_;
    for (size_t i = 0; i < s.size(); i += decode_rune(s, i).n)
      if (--n < 0) return s.substr(0, i);
    return s;
  }
  void fmt_s(std::string_view s) { pad(truncate(s)); }
  void fmt_sx(std::string_view s, std::string_view digits);
  void fmt_q(std::string_view s) {
    s = truncate(s);
    std::string t;
    if (sharp_ && can_backquote(s)) {
      t.reserve(s.size() + 2);
      t.push_back('`');
      t += s;
      t.push_back('`');
    } else {
      append_go_quoted(t, s, plus_);
    }
    pad(t);
  }
  void fmt_float(double v, char32_t verb, int prec);
  void fmt_big(const mpz_class& x, char32_t verb);
  void print_arg(const GoArg& a, char32_t verb);
  void bad_verb(char32_t verb);
  int arg_number(int arg_num, std::string_view format, size_t& i, size_t num_args, bool& found);

  std::string& buf_;
  const GoArg* arg_ = nullptr;
  bool wid_present_ = false, prec_present_ = false, minus_ = false, plus_ = false, sharp_ = false, space_ = false,
       zero_ = false, plus_v_ = false, sharp_v_ = false;
  int wid_ = 0, prec_ = 0;
  bool reordered_ = false, good_arg_num_ = true;
};

void GoPrinter::fmt_integer(uint64_t u, int base, bool is_signed, char32_t verb, std::string_view digits) {
  const bool negative = is_signed && static_cast<int64_t>(u) < 0;
  if (negative) u = ~u + 1;
  size_t cap = 68;
  if (wid_present_ || prec_present_) cap = std::max(cap, static_cast<size_t>(3 + wid_ + prec_));
  std::string b(cap, '\0');
  size_t i = cap;
  int prec = 0;
  if (prec_present_) {
    prec = prec_;
    if (prec == 0 && u == 0) {  // "%.0d" of 0 prints nothing but the padding
      const bool z = zero_;
      zero_ = false;
      write_padding(wid_);
      zero_ = z;
      return;
    }
  } else if (zero_ && wid_present_) {
    prec = wid_;
    if (negative || plus_ || space_) --prec;
  }
  const unsigned shift = base == 16 ? 4 : base == 8 ? 3 : 1;
  if (base == 10) {
    for (; u >= 10; u /= 10) b[--i] = static_cast<char>('0' + u % 10);
  } else {
    for (; u >= static_cast<uint64_t>(base); u >>= shift) b[--i] = digits[u & static_cast<uint64_t>(base - 1)];
  }
  b[--i] = digits[u];
  while (i > 0 && prec > static_cast<int>(cap - i)) b[--i] = '0';
  if (sharp_) {
    if (base == 2) {
      b[--i] = 'b';
      b[--i] = '0';
    } else if (base == 8 && b[i] != '0') {
      b[--i] = '0';
    } else if (base == 16) {
      b[--i] = digits[16];
      b[--i] = '0';
    }
  }
  if (verb == 'O') {
    b[--i] = 'o';
    b[--i] = '0';
  }
  if (negative) {
    b[--i] = '-';
  } else if (plus_) {
    b[--i] = '+';
  } else if (space_) {
    b[--i] = ' ';
  }
  const bool z = zero_;  // zero padding was already applied as precision
  zero_ = false;
  pad(std::string_view(b).substr(i));
  zero_ = z;
}

void GoPrinter::fmt_unicode(uint64_t u) {
  std::string num;
  for (uint64_t x = u;; x >>= 4) {
    num.push_back(kUpperDigits[x & 0xF]);
    if (x < 16) break;
  }
  const int prec = prec_present_ && prec_ > 4 ? prec_ : 4;
  if (static_cast<int>(num.size()) < prec) num.append(static_cast<size_t>(prec) - num.size(), '0');
  std::reverse(num.begin(), num.end());
  std::string t = "U+" + num;
  if (sharp_ && u <= 0x10FFFF && is_print_rune(static_cast<char32_t>(u))) {
    t += " '";
    append_rune(t, static_cast<char32_t>(u));
    t.push_back('\'');
  }
  const bool z = zero_;
  zero_ = false;
  pad(t);
  zero_ = z;
}

// Hex encoding of a string's bytes (%x, % x, %#x).
void GoPrinter::fmt_sx(std::string_view s, std::string_view digits) {
  size_t length = s.size();
  if (prec_present_ && static_cast<size_t>(prec_) < length) length = static_cast<size_t>(prec_);
  int width = static_cast<int>(2 * length);
  if (width > 0) {
    if (space_) {
      if (sharp_) width *= 2;
      width += static_cast<int>(length) - 1;
    } else if (sharp_) {
      width += 2;
    }
  } else {
    if (wid_present_) write_padding(wid_);
    return;
  }
  if (wid_present_ && wid_ > width && !minus_) write_padding(wid_ - width);
  if (sharp_) {
    buf_.push_back('0');
    buf_.push_back(digits[16]);
  }
  for (size_t i = 0; i < length; ++i) {
    if (space_ && i > 0) {
      buf_.push_back(' ');
      if (sharp_) {
        buf_.push_back('0');
        buf_.push_back(digits[16]);
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    buf_.push_back(digits[c >> 4]);
    buf_.push_back(digits[c & 0xF]);
  }
  if (wid_present_ && wid_ > width && minus_) write_padding(wid_ - width);
}

void GoPrinter::fmt_float(double v, char32_t verb, int prec) {
  if (prec_present_) prec = prec_;
  std::string num = "+";  // sign placeholder, as in Go
  append_go_float(num, v, static_cast<char>(verb), prec);
  if (num[1] == '-' || num[1] == '+') {
    num.erase(0, 1);
  }
  if (space_ && num[0] == '+' && !plus_) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {  // infinities and NaN are never zero padded
    const bool z = zero_;
    zero_ = false;
    if (num[1] == 'N' && !space_ && !plus_) num.erase(0, 1);
    pad(num);
    zero_ = z;
    return;
  }
  if (sharp_ && verb != 'b') {  // keep the decimal point and trailing zeros
    int digits = 0;
    if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') digits = prec == -1 ? 6 : prec;
    std::string tail;
    bool has_point = false, saw_nonzero = false;
    for (size_t i = 1; i < num.size(); ++i) {
      const char c = num[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        tail = num.substr(i);
        num.resize(i);
        break;
      } else {
        if (c != '0') saw_nonzero = true;
        if (saw_nonzero) --digits;
      }
    }
    if (!has_point) {
      if (num.size() == 2 && num[1] == '0') --digits;
      num.push_back('.');
    }
    if (digits > 0) num.append(static_cast<size_t>(digits), '0');
    num += tail;
  }
  if (plus_ || num[0] != '+') {
    if (zero_ && wid_present_ && wid_ > static_cast<int>(num.size())) {
      buf_.push_back(num[0]);  // sign before the zero padding
      write_padding(wid_ - static_cast<int>(num.size()));
      buf_.append(num, 1);
      return;
    }
    pad(num);
    return;
  }
  pad(std::string_view(num).substr(1));
}

// (*big.Int).Format.
void GoPrinter::fmt_big(const mpz_class& x, char32_t verb) {
  int base;
  switch (verb) {
    case 'b': base = 2; break;
    case 'o':
    case 'O': base = 8; break;
    case 'd':
    case 's':
    case 'v': base = 10; break;
    case 'x':
    case 'X': base = 16; break;
    default:
      buf_ += "%!";
      append_rune(buf_, verb);
      buf_ += "(big.Int=" + x.get_str() + ")";
      return;
  }
  const bool neg = sgn(x) < 0;
  std::string sign = neg ? "-" : (plus_ || plus_v_) ? "+" : space_ ? " " : "";
  std::string prefix;
  if (sharp_ || sharp_v_) {
    if (verb == 'b') prefix = "0b";
    if (verb == 'o') prefix = "0";
    if (verb == 'x') prefix = "0x";
    if (verb == 'X') prefix = "0X";
  }
  if (verb == 'O') prefix = "0o";
  mpz_class a = abs(x);
  std::string digits = a.get_str(base);
  if (verb == 'X') std::transform(digits.begin(), digits.end(), digits.begin(), [](char c) { return std::toupper(c); });
  int left = 0, zeros = 0, right = 0;
  if (prec_present_) {
    if (static_cast<int>(digits.size()) < prec_) {
      zeros = prec_ - static_cast<int>(digits.size());
    } else if (digits == "0" && prec_ == 0) {
      return;
    }
  }
  const int length = static_cast<int>(sign.size() + prefix.size() + digits.size()) + zeros;
  if (wid_present_ && length < wid_) {
    const int d = wid_ - length;
    if (minus_) {
      right = d;
    } else if (zero_ && !prec_present_) {
      zeros = d;
    } else {
      left = d;
    }
  }
  buf_.append(static_cast<size_t>(left), ' ');
  buf_ += sign;
  buf_ += prefix;
  buf_.append(static_cast<size_t>(zeros), '0');
  buf_ += digits;
  buf_.append(static_cast<size_t>(right), ' ');
}

void GoPrinter::bad_verb(char32_t verb) {
  buf_ += "%!";
  append_rune(buf_, verb);
  buf_.push_back('(');
  if (arg_->t == GoArg::T::Nil) {
    buf_ += "<nil>";
  } else if (arg_->t == GoArg::T::Big) {
    // Only %w gets here: fmt then prints the struct behind the pointer,
    // &{neg [64-bit words, least significant first]}.
    const mpz_class& x = *arg_->big;
    buf_ += "*big.Int=&{";
    fmt_boolean(sgn(x) < 0);
    buf_ += " [";
    std::vector<uint64_t> words((mpz_sizeinbase(x.get_mpz_t(), 2) + 63) / 64);
    size_t count = 0;
    mpz_export(words.data(), &count, -1, sizeof(uint64_t), 0, 0, x.get_mpz_t());
    for (size_t i = 0; i < count; ++i) {
      if (i) buf_.push_back(' ');
      fmt_integer(words[i], 10, false, 'v', kLowerDigits);
    }
    buf_ += "]}";
  } else {
    buf_ += arg_->type;
    buf_.push_back('=');
    print_arg(*arg_, 'v');
  }
  buf_.push_back(')');
}

void GoPrinter::print_arg(const GoArg& a, char32_t verb) {
  arg_ = &a;
  if (a.t == GoArg::T::Nil) {
    if (verb == 'T' || verb == 'v') {
      pad("<nil>");
    } else {
      bad_verb(verb);
    }
    return;
  }
  if (verb == 'T') {
    fmt_s(a.type);
    return;
  }
  if (verb == 'p') {  // none of these operands is a pointer Go would print (a *big.Int's address is arbitrary)
    bad_verb(verb);
    return;
  }
  switch (a.t) {
    case GoArg::T::Bool:
      if (verb == 't' || verb == 'v') {
        fmt_boolean(a.b);
      } else {
        bad_verb(verb);
      }
      return;
    case GoArg::T::Int: {
      const auto u = static_cast<uint64_t>(a.i);
      switch (verb) {
        case 'v':
        case 'd': fmt_integer(u, 10, true, verb, kLowerDigits); return;
        case 'b': fmt_integer(u, 2, true, verb, kLowerDigits); return;
        case 'o':
        case 'O': fmt_integer(u, 8, true, verb, kLowerDigits); return;
        case 'x': fmt_integer(u, 16, true, verb, kLowerDigits); return;
        case 'X': fmt_integer(u, 16, true, verb, kUpperDigits); return;
        case 'c': fmt_c(u); return;
        case 'q': fmt_qc(u); return;
        case 'U': fmt_unicode(u); return;
      }
      bad_verb(verb);
      return;
    }
    case GoArg::T::Float:
      switch (verb) {
        case 'v': fmt_float(a.f, 'g', -1); return;
        case 'b':
        case 'g':
        case 'G':
        case 'x':
        case 'X': fmt_float(a.f, verb, -1); return;
        case 'f':
        case 'e':
        case 'E': fmt_float(a.f, verb, 6); return;
        case 'F': fmt_float(a.f, 'f', 6); return;
      }
      bad_verb(verb);
      return;
    case GoArg::T::Str:
      switch (verb) {
        case 'v':
          if (sharp_v_) {
            fmt_q(a.s);
          } else {
            fmt_s(a.s);
          }
          return;
        case 's': fmt_s(a.s); return;
        case 'x': fmt_sx(a.s, kLowerDigits); return;
        case 'X': fmt_sx(a.s, kUpperDigits); return;
        case 'q': fmt_q(a.s); return;
      }
      bad_verb(verb);
      return;
    case GoArg::T::Big:
      if (verb == 'w') {  // %w wants an error; fmt then reports the operand's underlying struct
        bad_verb(verb);
      } else {
        fmt_big(*a.big, verb);
      }
      return;
    case GoArg::T::Nil: return;
  }
}

// "[n]" argument index at format[i]; returns the new argument number.
int GoPrinter::arg_number(int arg_num, std::string_view format, size_t& i, size_t num_args, bool& found) {
  found = false;
  if (i >= format.size() || format[i] != '[') return arg_num;
  reordered_ = true;
  // parseArgNumber: at least "[n]", digits up to the closing bracket.
  std::string_view f = format.substr(i);
  int index = 0;
  size_t wid = 1;
  bool ok = false;
  if (f.size() >= 3) {
    for (size_t j = 1; j < f.size(); ++j) {
      if (f[j] != ']') continue;
      size_t k = 1;
      int64_t n = 0;
      bool isnum = false;
      for (; k < j && f[k] >= '0' && f[k] <= '9'; ++k) {
        if (n > 1000000) break;  // Go's tooLarge: treated as not a number
        n = n * 10 + (f[k] - '0');
        isnum = true;
      }
      wid = j + 1;
      if (isnum && k == j && n <= 1000000) {
        ok = true;
        index = static_cast<int>(n) - 1;
      }
      break;
    }
  }
  i += wid;
  if (ok && index >= 0 && static_cast<size_t>(index) < num_args) {
    found = true;
    return index;
  }
  good_arg_num_ = false;
  found = ok;
  return arg_num;
}

// Go's parsenum: a decimal number at s[i..end); absurdly long numbers consume the rest.
bool parse_num(std::string_view s, size_t& i, int& num) {
  num = 0;
  if (i >= s.size()) return false;
  bool isnum = false;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (num > 1000000 || num < -1000000) {
      num = 0;
      i = s.size();
      return false;
    }
    num = num * 10 + (s[i] - '0');
    isnum = true;
  }
  return isnum;
}

void GoPrinter::printf(std::string_view format, std::span<const GoArg> a) {
  const size_t end = format.size();
  int arg_num = 0;
  bool after_index = false;
  reordered_ = false;
  // intFromArg: only Go ints are accepted for '*' widths and precisions.
  auto int_from_arg = [&](int& num) {
    bool ok = false;
    num = 0;
    if (static_cast<size_t>(arg_num) < a.size()) {
      const GoArg& x = a[static_cast<size_t>(arg_num)];
      if (x.t == GoArg::T::Int && x.i >= -1000000 && x.i <= 1000000) {
        num = static_cast<int>(x.i);
        ok = true;
      }
      ++arg_num;
    }
    return ok;
  };
  for (size_t i = 0; i < end;) {
    good_arg_num_ = true;
    const size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    if (i > lasti) buf_.append(format, lasti, i - lasti);
    if (i >= end) break;
    ++i;  // skip '%'
    clear_flags();
    bool simple_done = false;
    for (; i < end; ++i) {
      const char c = format[i];
      if (c == '#') {
        sharp_ = true;
      } else if (c == '0') {
        zero_ = !minus_;
      } else if (c == '+') {
        plus_ = true;
      } else if (c == '-') {
        minus_ = true;
        zero_ = false;
      } else if (c == ' ') {
        space_ = true;
      } else {
        // Fast path: a lower-case verb with flags only.
        if (c >= 'a' && c <= 'z' && static_cast<size_t>(arg_num) < a.size()) {
          if (c == 'v') {
            sharp_v_ = sharp_;
            sharp_ = false;
            plus_v_ = plus_;
            plus_ = false;
          }
          print_arg(a[static_cast<size_t>(arg_num)], static_cast<char32_t>(c));
          ++arg_num;
          ++i;
          simple_done = true;
        }
        break;
      }
    }
    if (simple_done) continue;

    arg_num = arg_number(arg_num, format, i, a.size(), after_index);
    if (i < end && format[i] == '*') {
      ++i;
      wid_present_ = int_from_arg(wid_);
      if (!wid_present_) buf_ += "%!(BADWIDTH)";
      if (wid_ < 0) {
        wid_ = -wid_;
        minus_ = true;
        zero_ = false;
      }
      after_index = false;
    } else {
      wid_present_ = parse_num(format, i, wid_);
      if (after_index && wid_present_) good_arg_num_ = false;  // "%[3]2d"
    }
    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num_ = false;  // "%[3].2d"
      arg_num = arg_number(arg_num, format, i, a.size(), after_index);
      if (i < end && format[i] == '*') {
        ++i;
        prec_present_ = int_from_arg(prec_);
        if (prec_ < 0) {
          prec_ = 0;
          prec_present_ = false;
        }
        if (!prec_present_) buf_ += "%!(BADPREC)";
        after_index = false;
      } else {
        prec_present_ = parse_num(format, i, prec_);
        if (!prec_present_) {
          prec_ = 0;
          prec_present_ = true;
        }
      }
    }
    if (!after_index) arg_num = arg_number(arg_num, format, i, a.size(), after_index);
    if (i >= end) {
      buf_ += "%!(NOVERB)";
      break;
    }
    Rune vr = decode_rune(format, i);
    const char32_t verb = vr.r;
    i += vr.n;
    if (verb == '%') {
      buf_.push_back('%');
    } else if (!good_arg_num_) {
      buf_ += "%!";
      append_rune(buf_, verb);
      buf_ += "(BADINDEX)";
    } else if (static_cast<size_t>(arg_num) >= a.size()) {
      buf_ += "%!";
      append_rune(buf_, verb);
      buf_ += "(MISSING)";
    } else {
      if (verb == 'v') {
        sharp_v_ = sharp_;
        sharp_ = false;
        plus_v_ = plus_;
        plus_ = false;
      }
      print_arg(a[static_cast<size_t>(arg_num)], verb);
      ++arg_num;
    }
  }
  if (!reordered_ && static_cast<size_t>(arg_num) < a.size()) {
    clear_flags();
    buf_ += "%!(EXTRA ";
    for (size_t k = static_cast<size_t>(arg_num); k < a.size(); ++k) {
      if (k > static_cast<size_t>(arg_num)) buf_ += ", ";
      if (a[k].t == GoArg::T::Nil) {
        buf_ += "<nil>";
      } else {
        buf_ += a[k].type;
        buf_.push_back('=');
        print_arg(a[k], 'v');
      }
    }
    buf_.push_back(')');
  }
}

// How OPA's sprintf converts an operand: integers that fit int become int,
// other integers *big.Int, other numbers float64 (or their text when out of
// float64 range), strings stay strings, anything else is its Rego text.
// OPA decides by the number's literal text, which we do not keep: an integer
// with 21 or more trailing zeros is taken to have been written in e-notation
// (1e21), which OPA formats as a float64 ("1e+21"); any other integer prints
// all its digits, as OPA does for digit literals and arithmetic results.
void to_go_arg(const Value& v, GoArg& out, std::forward_list<std::string>& owned) {
  switch (v.kind()) {
    case Kind::String:
      out.t = GoArg::T::Str;
      out.s = v.str();
      out.type = "string";
      return;
    case Kind::Number: {
      if (v.is_small_int()) {
        out.t = GoArg::T::Int;
        out.i = v.small_int();
        out.type = "int";
        return;
      }
      Decimal d = v.to_decimal();
      if (d.exp >= 0 && d.exp < 21) {
        mpz_class n = d.coef, p10;
        mpz_ui_pow_ui(p10.get_mpz_t(), 10, static_cast<unsigned long>(d.exp));
        n *= p10;
        out.t = GoArg::T::Big;
        out.big = std::make_shared<const mpz_class>(std::move(n));
        out.type = "*big.Int";
        return;
      }
      const double f = v.to_double();
      if (std::isfinite(f)) {
        out.t = GoArg::T::Float;
        out.f = f;
        out.type = "float64";
        return;
      }
      owned.push_front(v.number_text());
      break;
    }
    default: owned.push_front(to_rego(v));
  }
  out.t = GoArg::T::Str;
  out.s = owned.front();
  out.type = "string";
}

std::string go_sprintf(std::string_view format, std::span<const GoArg> args) {
  std::string out;
  out.reserve(format.size() + 8 * args.size());
  GoPrinter(out).printf(format, args);
  return out;
}

// --- Go strings helpers ----------------------------------------------------------

// A cutset for strings.Trim*: its runes, with an ASCII bitmap fast path.
class Cutset {
 public:
  explicit Cutset(std::string_view cut) {
    for (size_t i = 0; i < cut.size();) {
      Rune r = decode_rune(cut, i);
      i += r.n;
      if (r.r < 0x80) {
        ascii_[r.r] = true;
      } else {
        runes_.push_back(r.r);
      }
    }
  }
  bool has(char32_t r) const {
    return r < 0x80 ? ascii_[r] : std::find(runes_.begin(), runes_.end(), r) != runes_.end();
  }

 private:
  std::array<bool, 128> ascii_{};
  std::u32string runes_;
};

template <typename Pred>
std::string_view trim_left_func(std::string_view s, Pred in_set) {
  size_t i = 0;
  while (i < s.size()) {
    Rune r = decode_rune(s, i);
    if (!in_set(r.r)) break;
    i += r.n;
  }
  return s.substr(i);
}

template <typename Pred>
std::string_view trim_right_func(std::string_view s, Pred in_set) {
  while (!s.empty()) {
    Rune r = decode_last_rune(s);
    if (!in_set(r.r)) break;
    s.remove_suffix(r.n);
  }
  return s;
}

// Returns the operand itself when nothing changed: no allocation, shared node.
Value string_result(const Value& original, std::string_view result) {
  if (result.size() == original.str().size()) return original;
  if (result.empty()) return empty_string();
  return Value::string(result);
}

// strings.Replacer's generic algorithm, which OPA uses for replace and
// replace_n: at each byte position the first pair (in priority order) whose
// old string matches wins; an empty old string matches everywhere, but not
// twice in a row at the same position.
struct ReplacePair {
  std::string_view old_s, new_s;
};

std::string generic_replace(std::string_view s, std::span<const ReplacePair> pairs) {
  std::array<bool, 256> first{};
  bool has_empty = false;
  for (const auto& p : pairs) {
    if (p.old_s.empty()) {
      has_empty = true;
    } else {
      first[static_cast<unsigned char>(p.old_s[0])] = true;
    }
  }
  std::string out;
  out.reserve(s.size());
  size_t last = 0;
  bool prev_match_empty = false;
  for (size_t i = 0; i <= s.size();) {
    if (i != s.size() && !has_empty && !first[static_cast<unsigned char>(s[i])]) {
      ++i;
      continue;
    }
    const ReplacePair* match = nullptr;
    for (const auto& p : pairs) {
      if (p.old_s.empty() && prev_match_empty) continue;
      if (s.substr(i).starts_with(p.old_s)) {
        match = &p;
        break;
      }
    }
    prev_match_empty = match && match->old_s.empty();
    if (match) {
      out.append(s, last, i - last);
      out += match->new_s;
      i += match->old_s.size();
      last = i;
      continue;
    }
    ++i;
  }
  if (last != s.size()) out.append(s, last);
  return out;
}

// strings.Split semantics; an empty separator splits into UTF-8 sequences
// (an invalid byte stays a one-byte string). At most `limit` parts are
// returned: the first ones, without the unsplit remainder (strings.split_n).
std::vector<std::string_view> split_parts(std::string_view s, std::string_view sep, size_t limit = SIZE_MAX) {
  std::vector<std::string_view> parts;
  if (sep.empty()) {
    for (size_t i = 0; i < s.size() && parts.size() < limit;) {
      const size_t n = decode_rune(s, i).n;
      parts.push_back(s.substr(i, n));
      i += n;
    }
    return parts;
  }
  for (size_t start = 0; parts.size() < limit;) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + sep.size();
  }
  return parts;
}

Value strings_array(std::span<const std::string_view> parts) {
  ValueVec out;
  out.reserve(parts.size());
  for (std::string_view p : parts) out.push_back(Value::string(p));
  return Value::array(std::move(out));
}

// --- builtins ------------------------------------------------------------------

Value bi_concat(BuiltinContext&, std::span<const Value> a) {
  const std::string& sep = arg_string("concat", a, 0);
  const Value& coll = a[1];
  if (!coll.is_array() && !coll.is_set()) type_error("concat", 2, "one of {set, array}", coll);
  const ValueVec& items = items_of(coll);
  size_t n = items.empty() ? 0 : sep.size() * (items.size() - 1);
  for (const Value& x : items) {
    if (!x.is_string()) element_error("concat", 2, coll, x, "string");
    n += x.str().size();
  }
  if (items.empty()) return empty_string();
  if (items.size() == 1) return items[0];
  std::string out;
  out.reserve(n);
  out += items[0].str();
  for (size_t i = 1; i < items.size(); ++i) {
    out += sep;
    out += items[i].str();
  }
  return Value::string(std::move(out));
}

Value bi_contains(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("contains", a, 0);
  const std::string& sub = arg_string("contains", a, 1);
  return Value::boolean(s.find(sub) != std::string::npos);
}

Value bi_startswith(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("startswith", a, 0);
  const std::string& p = arg_string("startswith", a, 1);
  return Value::boolean(std::string_view(s).starts_with(p));
}

Value bi_endswith(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("endswith", a, 0);
  const std::string& p = arg_string("endswith", a, 1);
  return Value::boolean(std::string_view(s).ends_with(p));
}

Value bi_count(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("strings.count", a, 0);
  const std::string& sub = arg_string("strings.count", a, 1);
  if (sub.empty()) return Value::integer(static_cast<int64_t>(rune_count(s)) + 1);
  int64_t n = 0;
  for (size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
  return Value::integer(n);
}

Value bi_indexof(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("indexof", a, 0);
  const std::string& sub = arg_string("indexof", a, 1);
  if (sub.empty()) builtin_error("indexof", "empty search character");
  if (is_ascii(s) && is_ascii(sub)) {
    const size_t at = s.find(sub);
    return Value::integer(at == std::string::npos ? -1 : static_cast<int64_t>(at));
  }
  const std::u32string rs = to_runes(s), rsub = to_runes(sub);  // code point index, as OPA
  const size_t at = rs.find(rsub);
  return Value::integer(at == std::u32string::npos ? -1 : static_cast<int64_t>(at));
}

Value bi_indexof_n(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("indexof_n", a, 0);
  const std::string& sub = arg_string("indexof_n", a, 1);
  if (sub.empty()) builtin_error("indexof_n", "empty search character");
  const std::u32string rs = to_runes(s), rsub = to_runes(sub);
  ValueVec out;
  for (size_t at = rs.find(rsub); at != std::u32string::npos; at = rs.find(rsub, at + 1))
    out.push_back(Value::integer(static_cast<int64_t>(at)));  // overlapping matches count
  return Value::array(std::move(out));
}

Value bi_substring(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("substring", a, 0);
  const int64_t start = int_operand("substring", a, 1);
  const int64_t length = int_operand("substring", a, 2);
  if (start < 0) builtin_error("substring", "negative offset");
  if (s.empty()) return empty_string();
  const auto ustart = static_cast<uint64_t>(start);
  if (is_ascii(s)) {
    if (ustart >= s.size()) return empty_string();
    if (length < 0) return string_result(a[0], std::string_view(s).substr(ustart));
    return string_result(a[0], std::string_view(s).substr(ustart, static_cast<uint64_t>(length)));
  }
  // Code points; the selected runes are re-encoded, so invalid bytes become U+FFFD.
  const std::u32string rs = to_runes(s);
  if (start == 0 && length >= static_cast<int64_t>(rs.size())) return a[0];
  if (ustart >= rs.size()) return empty_string();
  const size_t n = length < 0 ? std::u32string::npos : static_cast<uint64_t>(length);
  return Value::string(from_runes(std::u32string_view(rs).substr(ustart, n)));
}

// strings.ToLower / ToUpper: ASCII fast path, otherwise per code point.
Value map_case(const Value& v, bool upper) {
  const std::string& s = v.str();
  std::string out;
  if (is_ascii(s)) {
    const char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    size_t i = 0;
    while (i < s.size() && (s[i] < lo || s[i] > hi)) ++i;
    if (i == s.size()) return v;
    out = s;
    for (; i < out.size(); ++i)
      if (out[i] >= lo && out[i] <= hi) out[i] = static_cast<char>(out[i] ^ 0x20);
    return Value::string(std::move(out));
  }
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = decode_rune(s, i);
    append_rune(out, upper ? to_upper_rune(r.r) : to_lower_rune(r.r));
    i += r.n;
  }
  if (out == s) return v;
  return Value::string(std::move(out));
}

Value bi_lower(BuiltinContext&, std::span<const Value> a) {
  arg_string("lower", a, 0);
  return map_case(a[0], false);
}

Value bi_upper(BuiltinContext&, std::span<const Value> a) {
  arg_string("upper", a, 0);
  return map_case(a[0], true);
}

Value bi_split(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("split", a, 0);
  const std::string& sep = arg_string("split", a, 1);
  if (!sep.empty() && s.find(sep) == std::string::npos) return Value::array({a[0]});
  return strings_array(split_parts(s, sep));
}

// strings.split_n: the first n parts for n > 0, the last -n parts for n < 0.
Value bi_split_n(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("strings.split_n", a, 0);
  const std::string& sep = arg_string("strings.split_n", a, 1);
  const int64_t n = int_operand("strings.split_n", a, 2);
  if (n == 0) return Value::empty_array();
  if (n > 0) return strings_array(split_parts(s, sep, static_cast<uint64_t>(n)));
  std::vector<std::string_view> parts = split_parts(s, sep);
  const uint64_t keep = std::min<uint64_t>(parts.size(), static_cast<uint64_t>(-(n + 1)) + 1);
  return strings_array(std::span(parts).subspan(parts.size() - keep));
}

Value bi_replace(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("replace", a, 0);
  const std::string& old_s = arg_string("replace", a, 1);
  const std::string& new_s = arg_string("replace", a, 2);
  if (old_s.empty()) {
    const ReplacePair p{old_s, new_s};
    return Value::string(generic_replace(s, std::span(&p, 1)));
  }
  size_t at = s.find(old_s);
  if (at == std::string::npos) return a[0];
  std::string out;
  out.reserve(s.size());
  size_t last = 0;
  for (; at != std::string::npos; at = s.find(old_s, last)) {
    out.append(s, last, at - last);
    out += new_s;
    last = at + old_s.size();
  }
  out.append(s, last);
  return Value::string(std::move(out));
}

Value bi_replace_n(BuiltinContext&, std::span<const Value> a) {
  const Value& patterns = arg_object("strings.replace_n", a, 0);
  const std::string& s = arg_string("strings.replace_n", a, 1);
  // Object members are in OPA's key order, which is also the replacer's priority order.
  std::vector<ReplacePair> pairs;
  pairs.reserve(patterns.size());
  for (const auto& [k, v] : patterns.object_items()) {
    if (!k.is_string()) operand_error("strings.replace_n", 1, "non-string key found in pattern object");
    if (!v.is_string()) operand_error("strings.replace_n", 1, "non-string value found in pattern object");
    pairs.push_back({k.str(), v.str()});
  }
  return Value::string(generic_replace(s, pairs));
}

Value bi_reverse(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("strings.reverse", a, 0);
  std::u32string rs = to_runes(s);
  std::reverse(rs.begin(), rs.end());
  return Value::string(from_runes(rs));
}

Value bi_trim(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim", a, 0);
  const Cutset cut(arg_string("trim", a, 1));
  auto in = [&](char32_t r) { return cut.has(r); };
  return string_result(a[0], trim_left_func(trim_right_func(s, in), in));
}

Value bi_trim_left(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim_left", a, 0);
  const Cutset cut(arg_string("trim_left", a, 1));
  return string_result(a[0], trim_left_func(s, [&](char32_t r) { return cut.has(r); }));
}

Value bi_trim_right(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim_right", a, 0);
  const Cutset cut(arg_string("trim_right", a, 1));
  return string_result(a[0], trim_right_func(s, [&](char32_t r) { return cut.has(r); }));
}

Value bi_trim_prefix(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim_prefix", a, 0);
  const std::string& p = arg_string("trim_prefix", a, 1);
  if (!std::string_view(s).starts_with(p)) return a[0];
  return string_result(a[0], std::string_view(s).substr(p.size()));
}

Value bi_trim_suffix(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim_suffix", a, 0);
  const std::string& p = arg_string("trim_suffix", a, 1);
  if (!std::string_view(s).ends_with(p)) return a[0];
  return string_result(a[0], std::string_view(s).substr(0, s.size() - p.size()));
}

Value bi_trim_space(BuiltinContext&, std::span<const Value> a) {
  const std::string& s = arg_string("trim_space", a, 0);
  return string_result(a[0], trim_left_func(trim_right_func(s, is_space_rune), is_space_rune));
}

// any_prefix_match / any_suffix_match operands: a string, or an array or set of strings.
std::vector<std::string_view> string_list(std::string_view builtin, std::span<const Value> a, int i) {
  const Value& v = a[static_cast<size_t>(i)];
  if (v.is_string()) return {v.str()};
  if (!v.is_array() && !v.is_set()) type_error(builtin, i + 1, "one of {string, set, array}", v);
  check_strings(builtin, a, i);
  std::vector<std::string_view> out;
  out.reserve(v.size());
  for (const Value& x : items_of(v)) out.push_back(x.str());
  return out;
}

template <bool kSuffix>
Value any_match(std::string_view builtin, std::span<const Value> a) {
  const auto strs = string_list(builtin, a, 0);
  const auto fixes = string_list(builtin, a, 1);
  for (std::string_view s : strs)
    for (std::string_view f : fixes)
      if (kSuffix ? s.ends_with(f) : s.starts_with(f)) return Value::true_value();
  return Value::false_value();
}

Value bi_any_prefix_match(BuiltinContext&, std::span<const Value> a) {
  return any_match<false>("strings.any_prefix_match", a);
}

Value bi_any_suffix_match(BuiltinContext&, std::span<const Value> a) {
  return any_match<true>("strings.any_suffix_match", a);
}

Value bi_sprintf(BuiltinContext&, std::span<const Value> a) {
  const std::string& format = arg_string("sprintf", a, 0);
  if (!a[1].is_array()) type_error("sprintf", 2, "array", a[1]);
  const ValueVec& items = a[1].array_items();
  // sprintf("%d", [n]) is the common to-string idiom.
  if (format == "%d" && items.size() == 1 && items[0].is_small_int())
    return Value::string(std::to_string(items[0].small_int()));
  std::vector<GoArg> args(items.size());
  std::forward_list<std::string> owned;  // texts of non-string operands: stable, allocated on demand
  for (size_t i = 0; i < items.size(); ++i) to_go_arg(items[i], args[i], owned);
  return Value::string(go_sprintf(format, args));
}

// big.Float.SetString (64-bit mantissa, round half to even) followed by
// Int(): how format_int obtains the integer to print.
mpz_class go_float_int(const Value& v) {
  Decimal d = v.to_decimal();
  if (d.coef == 0) return 0;
  mpz_class num = abs(d.coef), den = 1, p10;
  mpz_ui_pow_ui(p10.get_mpz_t(), 10, static_cast<unsigned long>(std::abs(d.exp)));
  if (d.exp >= 0) {
    num *= p10;
  } else {
    den = p10;
  }
  // Scale by 2^s so that the quotient has exactly 64 bits, then round.
  long s = 64 - (static_cast<long>(mpz_sizeinbase(num.get_mpz_t(), 2)) -
                 static_cast<long>(mpz_sizeinbase(den.get_mpz_t(), 2)));
  mpz_class q, r;
  for (;;) {
    mpz_class n2 = num, d2 = den;
    if (s >= 0) {
      n2 <<= static_cast<mp_bitcnt_t>(s);
    } else {
      d2 <<= static_cast<mp_bitcnt_t>(-s);
    }
    mpz_tdiv_qr(q.get_mpz_t(), r.get_mpz_t(), n2.get_mpz_t(), d2.get_mpz_t());
    const size_t bits = mpz_sizeinbase(q.get_mpz_t(), 2);
    if (bits > 64) {
      --s;
    } else if (bits < 64) {
      ++s;
    } else {
      const int c = cmp(mpz_class(r * 2), d2);
      if (c > 0 || (c == 0 && mpz_odd_p(q.get_mpz_t()))) ++q;
      break;
    }
  }
  if (s >= 0) {
    q >>= static_cast<mp_bitcnt_t>(s);  // q is positive: truncation toward zero
  } else {
    q <<= static_cast<mp_bitcnt_t>(-s);
  }
  return d.coef < 0 ? mpz_class(-q) : q;
}

Value bi_format_int(BuiltinContext&, std::span<const Value> a) {
  const Value& n = arg_number("format_int", a, 0);
  const Value& base = arg_number("format_int", a, 1);
  int64_t b = 0;
  if (!base.to_int64(b) || (b != 2 && b != 8 && b != 10 && b != 16))
    operand_error("format_int", 2, "must be one of {2, 8, 10, 16}");
  if (b == 10 && n.is_small_int()) return Value::string(std::to_string(n.small_int()));
  return Value::string(go_float_int(n).get_str(static_cast<int>(b)));
}

// strconv.ParseFloat's accepted syntax (decimal or hex-with-p-exponent,
// underscores between digits). Returns the digits without underscores.
std::optional<std::string> go_float_syntax(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = false;
  if (i + 1 < s.size() && s[i] == '0' && (s[i + 1] | 0x20) == 'x') {
    hex = true;
    i += 2;
  }
  bool saw_dot = false, saw_digits = false, underscores = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
    } else if ((c >= '0' && c <= '9') || (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits) return std::nullopt;
  if (i < s.size() && (s[i] | 0x20) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    for (; i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); ++i)
      if (s[i] == '_') underscores = true;
  } else if (hex) {
    return std::nullopt;  // a hex mantissa needs a 'p' exponent
  }
  if (i != s.size()) return std::nullopt;
  std::string out;
  if (!underscores) return std::string(s);
  // underscoreOK: each '_' must sit between digits (or after the base prefix).
  size_t j = s[0] == '+' || s[0] == '-' ? 1 : 0;
  char saw = '^';
  if (hex) {
    j += 2;
    saw = '0';
  }
  for (; j < s.size(); ++j) {
    const char c = s[j];
    if ((c >= '0' && c <= '9') || (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
      saw = '0';
    } else if (c == '_') {
      if (saw != '0') return std::nullopt;
      saw = '_';
    } else {
      if (saw == '_') return std::nullopt;
      saw = '!';
    }
  }
  if (saw == '_') return std::nullopt;
  for (char c : s)
    if (c != '_') out.push_back(c);
  return out;
}

Value bi_to_number(BuiltinContext&, std::span<const Value> a) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::Null: return Value::integer(0);
    case Kind::Bool: return Value::integer(v.as_bool() ? 1 : 0);
    case Kind::Number: return v;
    case Kind::String: break;
    default: type_error("to_number", 1, "one of {null, boolean, number, string}", v);
  }
  const std::string& s = v.str();
  // Fast path: a canonical integer ("0", "42", "-7"; no sign "+", no leading zeros, no "-0")
  // of up to 18 digits, the common case (uids, ports) and exactly what the full path gives.
  {
    size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
    size_t digits = s.size() - i;
    if (digits >= 1 && digits <= 18 && !(s[i] == '0' && (digits > 1 || i == 1))) {
      int64_t n = 0;
      bool ok = true;
      for (size_t j = i; j < s.size() && ok; ++j) {
        ok = s[j] >= '0' && s[j] <= '9';
        n = n * 10 + (s[j] - '0');
      }
      if (ok) return Value::integer(i ? -n : n);
    }
  }
  // OPA refuses the special values ParseFloat would accept.
  std::string low;
  for (size_t i = s.find_first_not_of("+-") == std::string::npos ? s.size() : s.find_first_not_of("+-");
       i < s.size();) {
    Rune r = decode_rune(s, i);
    append_rune(low, to_lower_rune(r.r));
    i += r.n;
  }
  if (low == "inf" || low == "infinity" || low == "nan") type_error("to_number", 1, "valid number string", v);
  auto fail = [&](std::string_view why) {
    std::string msg = "strconv.ParseFloat: parsing ";
    append_go_quoted(msg, s, false);
    msg += ": ";
    msg += why;
    builtin_error("to_number", msg);
  };
  const std::optional<std::string> text = go_float_syntax(s);
  if (!text) fail("invalid syntax");
  const double f = std::strtod(text->c_str(), nullptr);
  if (std::isinf(f)) fail("value out of range");
  const bool hex = text->find_first_of("xX") != std::string::npos;
  if (!hex) {
    Value out = Value::number_from_text(*text);
    if (out.is_defined()) return out;
  }
  return Value::real(f);  // hex floats are binary fractions; absurd exponents underflow to 0
}

// --- template strings ------------------------------------------------------------

// internal.template_string: the compiled form of $"..." template strings. Each
// part is a set holding the value of one embedded expression (empty when it is
// undefined), or a primitive.
Value bi_template_string(BuiltinContext&, std::span<const Value> a) {
  const Value& parts = arg_array("internal.template_string", a, 0);
  std::string out;
  auto append_part = [&](const Value& x) {
    if (x.is_string()) {
      out += x.str();
    } else {
      append_rego(out, x);
    }
  };
  for (const Value& p : parts.array_items()) {
    if (!p.is_set()) {
      append_part(p);
    } else if (p.set_items().empty()) {
      out += "<undefined>";
    } else if (p.set_items().size() > 1) {
      throw BuiltinError("eval_conflict_error", "template-strings must not produce multiple outputs");
    } else {
      append_part(p.set_items()[0]);
    }
  }
  return Value::string(std::move(out));
}

// --- strings.render_template: a Go text/template subset ----------------------------
//
// Supported: text, {{pipeline}}, trim markers, comments, fields (.a.b), $vars
// (:= and =), literals, parenthesised pipelines, `|` chaining, if/else if/else,
// range (arrays, objects, ints; with $i, $v), with/else, break/continue and
// the functions and, or, not, len, index, print, printf, println, eq, ne, lt,
// le, gt, ge. Data follows OPA's conversion of the variables to Go values
// (numbers are json.Number, a string type); a missing key (or null) renders
// as "<undefined>", as OPA does.
namespace tmpl {

struct Val {
  enum class K : uint8_t { Missing, Nil, Bool, Int, Float, Str, Num, Data } k = K::Missing;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // Str, Num (json.Number text)
  Value v;        // Data: an array, set or object
  bool is_map() const { return k == K::Data && v.is_object(); }
  bool is_list() const { return k == K::Data && !v.is_object(); }
};

Val from_value(const Value& v) {
  Val out;
  switch (v.kind()) {
    case Kind::Undefined: break;
    case Kind::Null: out.k = Val::K::Nil; break;
    case Kind::Bool:
      out.k = Val::K::Bool;
      out.b = v.as_bool();
      break;
    case Kind::Number:
      out.k = Val::K::Num;
      out.s = v.number_text();
      break;
    case Kind::String:
      out.k = Val::K::Str;
      out.s = v.str();
      break;
    default: out.k = Val::K::Data; out.v = v;
  }
  return out;
}

bool truth(const Val& v) {
  switch (v.k) {
    case Val::K::Missing:
    case Val::K::Nil: return false;
    case Val::K::Bool: return v.b;
    case Val::K::Int: return v.i != 0;
    case Val::K::Float: return v.f != 0;
    case Val::K::Str:
    case Val::K::Num: return !v.s.empty();
    case Val::K::Data: return v.v.size() > 0;
  }
  return false;
}

const char* go_type(const Val& v) {
  switch (v.k) {
    case Val::K::Missing:
    case Val::K::Nil: return "interface {}";
    case Val::K::Bool: return "bool";
    case Val::K::Int: return "int";
    case Val::K::Float: return "float64";
    case Val::K::Str: return "string";
    case Val::K::Num: return "json.Number";
    case Val::K::Data: return v.is_map() ? "map[string]interface {}" : "[]interface {}";
  }
  return "";
}

std::string map_key(const Value& k) { return k.is_string() ? k.str() : to_json(k); }

// fmt's %v of a Go value built from JSON ([a b], map[k:v], <nil>).
void print_v(std::string& out, const Val& v) {
  switch (v.k) {
    case Val::K::Missing: out += "<undefined>"; return;
    case Val::K::Nil: out += "<nil>"; return;
    case Val::K::Bool: out += v.b ? "true" : "false"; return;
    case Val::K::Int: out += std::to_string(v.i); return;
    case Val::K::Float: append_go_float(out, v.f, 'g', -1); return;
    case Val::K::Str:
    case Val::K::Num: out += v.s; return;
    case Val::K::Data: break;
  }
  if (v.is_map()) {
    std::vector<std::pair<std::string, const Value*>> items;
    for (const auto& [k, x] : v.v.object_items()) items.emplace_back(map_key(k), &x);
    std::sort(items.begin(), items.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
    out += "map[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(' ');
      out += items[i].first;
      out.push_back(':');
      print_v(out, from_value(*items[i].second));
    }
    out.push_back(']');
    return;
  }
  out.push_back('[');
  const ValueVec& xs = items_of(v.v);
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i) out.push_back(' ');
    print_v(out, from_value(xs[i]));
  }
  out.push_back(']');
}

// --- syntax ---

struct Pipe;
struct Operand {
  enum class K : uint8_t { Dot, Var, Func, Str, Int, Float, Bool, Nil, Paren } k = K::Dot;
  std::string name;                 // Var ("$x"), Func, Str value
  std::vector<std::string> fields;  // field chain after the operand
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::shared_ptr<Pipe> pipe;
};
struct Cmd {
  std::vector<Operand> args;
};
struct Pipe {
  std::vector<std::string> decl;
  bool assign = false;  // "=" rather than ":="
  std::vector<Cmd> cmds;
};
struct Node {
  enum class K : uint8_t { Text, Action, If, Range, With, Break, Continue } k = K::Text;
  std::string text;
  Pipe pipe;
  std::vector<Node> list, else_list;
  int line = 0;
};

[[noreturn]] void fail(const std::string& msg) { builtin_error("strings.render_template", "template: " + msg); }

struct Tok {
  enum class K : uint8_t { Field, Dot, Var, Ident, Str, Num, Char, LParen, RParen, Pipe, Comma, Declare, Assign } k;
  std::string text;
  bool space_before = false;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  std::vector<Node> parse() {
    std::vector<Node> list;
    std::string_view end_kw = parse_list(list, true);
    if (!end_kw.empty()) error("unexpected {{" + std::string(end_kw) + "}}");
    return list;
  }

 private:
  [[noreturn]] void error(const std::string& msg) const { fail("template:" + std::to_string(line_) + ": " + msg); }

  // Parses nodes until {{end}}, {{else}} or EOF; returns the terminating
  // keyword ("end", "else"; empty at EOF). After "else", ti_ indexes the
  // tokens following it.
  std::string_view parse_list(std::vector<Node>& list, bool top) {
    for (;;) {
      const size_t open = src_.find("{{", pos_);
      std::string text(src_.substr(pos_, open == std::string_view::npos ? std::string_view::npos : open - pos_));
      if (open == std::string_view::npos) {
        pos_ = src_.size();
        add_text(list, std::move(text));
        if (!top) error("unexpected EOF");
        return {};
      }
      size_t p = open + 2;
      const bool trim_left = p + 1 < src_.size() && src_[p] == '-' && is_space(src_[p + 1]);
      if (trim_left) {
        while (!text.empty() && is_space(text.back())) text.pop_back();
        p += 2;
      }
      line_ += static_cast<int>(
          std::count(src_.begin() + static_cast<ptrdiff_t>(pos_), src_.begin() + static_cast<ptrdiff_t>(open), '\n'));
      add_text(list, std::move(text));
      // Find the action's end, skipping quoted strings and comments.
      size_t q = p;
      bool comment = false;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.substr(q).starts_with("/*")) {
        const size_t ce = src_.find("*/", q + 2);
        if (ce == std::string_view::npos) error("unclosed comment");
        q = ce + 2;
        comment = true;
      }
      size_t close = find_close(q);
      bool trim_right = close >= 2 && src_[close - 1] == '-' && is_space(src_[close - 2]) && close - 1 >= p;
      std::string_view body = src_.substr(p, (trim_right ? close - 2 : close) - p);
      line_ += static_cast<int>(std::count(body.begin(), body.end(), '\n'));
      pos_ = close + 2;
      if (trim_right) {
        while (pos_ < src_.size() && is_space(src_[pos_])) {
          if (src_[pos_] == '\n') ++line_;
          ++pos_;
        }
      }
      if (comment) {
        if (src_.substr(q, close - q).find_first_not_of(" \t\r\n-") != std::string_view::npos)
          error("comment ends before closing delimiter");
        continue;
      }
      toks_ = lex(body);
      ti_ = 0;
      if (toks_.empty()) error("missing value for command");
      const Tok& t0 = toks_[0];
      if (t0.k == Tok::K::Ident) {
        const std::string& kw = t0.text;
        if (kw == "end") {
          expect_end(1);
          return "end";
        }
        if (kw == "else") {
          ti_ = 1;
          return "else";
        }
        if (kw == "if" || kw == "range" || kw == "with") {
          ti_ = 1;
          list.push_back(parse_control(kw));
          continue;
        }
        if (kw == "break" || kw == "continue") {
          if (range_depth_ == 0) error("{{" + kw + "}} outside {{range}}");
          expect_end(1);
          Node n;
          n.k = kw == "break" ? Node::K::Break : Node::K::Continue;
          list.push_back(std::move(n));
          continue;
        }
        if (kw == "define" || kw == "template" || kw == "block") error("{{" + kw + "}} is not supported");
      }
      Node n;
      n.k = Node::K::Action;
      n.line = line_;
      n.pipe = parse_pipe(true);
      list.push_back(std::move(n));
    }
  }

  Node parse_control(const std::string& kw) {
    Node n;
    n.k = kw == "if" ? Node::K::If : kw == "range" ? Node::K::Range : Node::K::With;
    n.line = line_;
    n.pipe = parse_pipe(true, kw == "range");
    if (n.k == Node::K::Range) ++range_depth_;
    std::string_view term = parse_list(n.list, false);
    if (n.k == Node::K::Range) --range_depth_;
    if (term == "else") {
      // "else if" / "else with" chain into a nested node sharing the {{end}}.
      if (ti_ < toks_.size() && toks_[ti_].k == Tok::K::Ident &&
          ((n.k == Node::K::If && toks_[ti_].text == "if") || (n.k == Node::K::With && toks_[ti_].text == "with"))) {
        ++ti_;
        n.else_list.push_back(parse_control(n.k == Node::K::If ? "if" : "with"));
        return n;
      }
      expect_end(ti_);
      term = parse_list(n.else_list, false);
      if (term != "end") error("expected end; found {{else}}");
    }
    return n;
  }

  void expect_end(size_t at) {
    if (toks_.size() > at) error("unexpected \"" + toks_[at].text + "\" in action");
  }

  Pipe parse_pipe(bool top, bool range = false) {
    Pipe p;
    // Declarations: $x := / $x = / $i, $v := (range only).
    if (ti_ < toks_.size() && toks_[ti_].k == Tok::K::Var) {
      size_t j = ti_;
      std::vector<std::string> names{toks_[j].text};
      if (range && j + 2 < toks_.size() && toks_[j + 1].k == Tok::K::Comma && toks_[j + 2].k == Tok::K::Var) {
        names.push_back(toks_[j + 2].text);
        j += 2;
      }
      if (j + 1 < toks_.size() && (toks_[j + 1].k == Tok::K::Declare || toks_[j + 1].k == Tok::K::Assign)) {
        p.assign = toks_[j + 1].k == Tok::K::Assign;
        if (p.assign) {
          for (const auto& nm : names)
            if (!has_var(nm)) error("undefined variable \"" + nm + "\"");
        }
        p.decl = names;
        ti_ = j + 2;
      }
    }
    for (;;) {
      Cmd c;
      while (ti_ < toks_.size() && toks_[ti_].k != Tok::K::Pipe && toks_[ti_].k != Tok::K::RParen)
        c.args.push_back(parse_operand());
      if (c.args.empty()) error("missing value for command");
      p.cmds.push_back(std::move(c));
      if (ti_ < toks_.size() && toks_[ti_].k == Tok::K::Pipe) {
        ++ti_;
        continue;
      }
      break;
    }
    if (top && ti_ < toks_.size()) error("unexpected \")\" in command");
    if (!p.assign)
      for (const auto& nm : p.decl) vars_.push_back(nm);  // visible for the rest of the template (approximation)
    return p;
  }

  Operand parse_operand() {
    const Tok& t = toks_[ti_++];
    Operand o;
    switch (t.k) {
      case Tok::K::Dot: o.k = Operand::K::Dot; break;
      case Tok::K::Field:
        o.k = Operand::K::Dot;
        o.fields.push_back(t.text);
        break;
      case Tok::K::Var:
        if (!has_var(t.text)) error("undefined variable \"" + t.text + "\"");
        o.k = Operand::K::Var;
        o.name = t.text;
        break;
      case Tok::K::Str:
        o.k = Operand::K::Str;
        o.name = t.text;
        break;
      case Tok::K::Char:
        if (t.text.empty()) error("empty character constant");
        o.k = Operand::K::Int;
        o.i = decode_rune(t.text, 0).r;
        break;
      case Tok::K::Num: number(t.text, o); break;
      case Tok::K::LParen: {
        o.k = Operand::K::Paren;
        o.pipe = std::make_shared<Pipe>(parse_pipe(false));
        if (ti_ >= toks_.size() || toks_[ti_].k != Tok::K::RParen) error("unclosed left paren");
        ++ti_;
        break;
      }
      case Tok::K::Ident:
        if (t.text == "true" || t.text == "false") {
          o.k = Operand::K::Bool;
          o.b = t.text == "true";
        } else if (t.text == "nil") {
          o.k = Operand::K::Nil;
        } else if (is_func(t.text)) {
          o.k = Operand::K::Func;
          o.name = t.text;
        } else {
          error("function \"" + t.text + "\" not defined");
        }
        break;
      default: error("unexpected \"" + t.text + "\" in operand");
    }
    // A field chain directly attached: $x.a, (pipe).a, .a.b
    while (ti_ < toks_.size() && toks_[ti_].k == Tok::K::Field && !toks_[ti_].space_before &&
           (o.k == Operand::K::Dot || o.k == Operand::K::Var || o.k == Operand::K::Paren)) {
      o.fields.push_back(toks_[ti_++].text);
    }
    return o;
  }

  void number(const std::string& text, Operand& o) {
    std::string t;
    for (char c : text)
      if (c != '_') t.push_back(c);
    const bool is_hex = t.find("0x") != std::string::npos || t.find("0X") != std::string::npos;
    if (!is_hex && t.find_first_of(".eE") != std::string::npos) {
      o.k = Operand::K::Float;
      o.f = std::strtod(t.c_str(), nullptr);
      return;
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 0);
    if (errno != 0 || *end != '\0') error("illegal number syntax: \"" + text + "\"");
    o.k = Operand::K::Int;
    o.i = v;
  }

  static bool is_func(const std::string& n) {
    static constexpr std::string_view kFuncs[] = {"and",     "or", "not", "len", "index", "print", "printf",
                                                  "println", "eq", "ne",  "lt",  "le",    "gt",    "ge"};
    return std::find(std::begin(kFuncs), std::end(kFuncs), n) != std::end(kFuncs);
  }
  bool has_var(const std::string& n) const {
    return n == "$" || std::find(vars_.begin(), vars_.end(), n) != vars_.end();
  }
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  }

  void add_text(std::vector<Node>& list, std::string text) {
    if (text.empty()) return;
    Node n;
    n.k = Node::K::Text;
    n.text = std::move(text);
    list.push_back(std::move(n));
  }

  // Position of the "}}" closing the action starting at p, skipping string literals.
  size_t find_close(size_t p) {
    while (p < src_.size()) {
      const char c = src_[p];
      if (c == '}' && p + 1 < src_.size() && src_[p + 1] == '}') return p;
      if (c == '"' || c == '`' || c == '\'') {
        for (++p; p < src_.size() && src_[p] != c; ++p)
          if (c != '`' && src_[p] == '\\') ++p;
      }
      ++p;
    }
    error("unclosed action");
  }

  std::vector<Tok> lex(std::string_view s) {
    std::vector<Tok> out;
    size_t i = 0;
    bool space = false;
    auto push = [&](Tok::K k, std::string text) {
      out.push_back({k, std::move(text), space});
      space = false;
    };
    while (i < s.size()) {
      const char c = s[i];
      if (is_space(c)) {
        space = true;
        ++i;
      } else if (c == '.' && (i + 1 >= s.size() || !(s[i + 1] >= '0' && s[i + 1] <= '9'))) {
        size_t j = i + 1;
        while (j < s.size() && is_alnum(s[j])) ++j;
        if (j == i + 1) {
          push(Tok::K::Dot, ".");
        } else {
          push(Tok::K::Field, std::string(s.substr(i + 1, j - i - 1)));
        }
        i = j;
      } else if (c == '$') {
        size_t j = i + 1;
        while (j < s.size() && is_alnum(s[j])) ++j;
        push(Tok::K::Var, std::string(s.substr(i, j - i)));
        i = j;
      } else if (c == '"' || c == '`') {
        std::string v;
        size_t j = i + 1;
        for (; j < s.size() && s[j] != c; ++j) {
          if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
            ++j;
            switch (s[j]) {
              case 'n': v.push_back('\n'); break;
              case 't': v.push_back('\t'); break;
              case 'r': v.push_back('\r'); break;
              case '\\': v.push_back('\\'); break;
              case '"': v.push_back('"'); break;
              case 'x':
                if (j + 2 < s.size()) {
                  v.push_back(static_cast<char>(std::stoi(std::string(s.substr(j + 1, 2)), nullptr, 16)));
                  j += 2;
                }
                break;
              default: error("invalid syntax in string escape");
            }
          } else {
            v.push_back(s[j]);
          }
        }
        if (j >= s.size()) error("unterminated quoted string");
        push(Tok::K::Str, std::move(v));
        i = j + 1;
      } else if (c == '\'') {
        const size_t j = s.find('\'', i + 1);
        if (j == std::string_view::npos) error("unterminated character constant");
        push(Tok::K::Char, std::string(s.substr(i + 1, j - i - 1)));
        i = j + 1;
      } else if ((c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && i + 1 < s.size() &&
                                            ((s[i + 1] >= '0' && s[i + 1] <= '9') || s[i + 1] == '.'))) {
        size_t j = i + 1;
        while (j < s.size() &&
               (is_alnum(s[j]) || s[j] == '.' || ((s[j] == '+' || s[j] == '-') && (s[j - 1] | 0x20) == 'e')))
          ++j;
        push(Tok::K::Num, std::string(s.substr(i, j - i)));
        i = j;
      } else if (is_alnum(c)) {
        size_t j = i;
        while (j < s.size() && is_alnum(s[j])) ++j;
        push(Tok::K::Ident, std::string(s.substr(i, j - i)));
        i = j;
      } else if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
        push(Tok::K::Declare, ":=");
        i += 2;
      } else if (c == '=' || c == '(' || c == ')' || c == '|' || c == ',') {
        push(c == '='   ? Tok::K::Assign
             : c == '(' ? Tok::K::LParen
             : c == ')' ? Tok::K::RParen
             : c == '|' ? Tok::K::Pipe
                        : Tok::K::Comma,
             std::string(1, c));
        ++i;
      } else {
        error("unexpected \"" + std::string(1, c) + "\" in command");
      }
    }
    return out;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Tok> toks_;
  size_t ti_ = 0;
  int range_depth_ = 0;
  std::vector<std::string> vars_;
};

// --- execution ---

struct BreakSignal {};
struct ContinueSignal {};

class Exec {
 public:
  Exec(const Value& data, std::string& out) : out_(out) { vars_.emplace_back("$", from_value(data)); }

  void walk(const Val& dot, const std::vector<Node>& list) {
    for (const Node& n : list) walk_node(dot, n);
  }

 private:
  [[noreturn]] void error(const std::string& msg) {
    fail("template:" + std::to_string(line_) + ": executing \"template\": " + msg);
  }

  void walk_node(const Val& dot, const Node& n) {
    line_ = n.line;
    switch (n.k) {
      case Node::K::Text: out_ += n.text; return;
      case Node::K::Action: {
        Val v = eval_pipe(dot, n.pipe);
        if (!n.pipe.decl.empty()) return;
        // Go prints a missing key or a null as "<no value>", which OPA reports as "<undefined>".
        if (v.k == Val::K::Missing || v.k == Val::K::Nil) {
          out_ += "<undefined>";
        } else {
          print_v(out_, v);
        }
        return;
      }
      case Node::K::If:
      case Node::K::With: {
        const size_t mark = vars_.size();
        Val v = eval_pipe(dot, n.pipe);
        if (truth(v)) {
          walk(n.k == Node::K::With ? v : dot, n.list);
        } else {
          walk(dot, n.else_list);
        }
        vars_.resize(mark);
        return;
      }
      case Node::K::Range: walk_range(dot, n); return;
      case Node::K::Break: throw BreakSignal{};
      case Node::K::Continue: throw ContinueSignal{};
    }
  }

  void walk_range(const Val& dot, const Node& n) {
    const size_t mark = vars_.size();
    Pipe p = n.pipe;
    std::vector<std::string> decl = std::move(p.decl);
    p.decl.clear();
    Val v = eval_pipe(dot, p);
    bool any = false;
    auto one = [&](Val key, Val elem) {
      any = true;
      const size_t m = vars_.size();
      if (decl.size() == 1) vars_.emplace_back(decl[0], elem);
      if (decl.size() == 2) {
        vars_.emplace_back(decl[0], std::move(key));
        vars_.emplace_back(decl[1], elem);
      }
      try {
        walk(elem, n.list);
      } catch (const ContinueSignal&) {
      }
      vars_.resize(m);
    };
    try {
      if (v.k == Val::K::Data && v.is_map()) {
        std::vector<std::pair<std::string, const Value*>> items;
        for (const auto& [k, x] : v.v.object_items()) items.emplace_back(map_key(k), &x);
        std::sort(items.begin(), items.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
        for (const auto& [k, x] : items) {
          Val key;
          key.k = Val::K::Str;
          key.s = k;
          one(std::move(key), from_value(*x));
        }
      } else if (v.k == Val::K::Data) {
        const ValueVec& xs = items_of(v.v);
        for (size_t i = 0; i < xs.size(); ++i) {
          Val key;
          key.k = Val::K::Int;
          key.i = static_cast<int64_t>(i);
          one(std::move(key), from_value(xs[i]));
        }
      } else if (v.k == Val::K::Int) {
        for (int64_t i = 0; i < v.i; ++i) {
          Val x;
          x.k = Val::K::Int;
          x.i = i;
          one(x, x);
        }
      } else if (v.k != Val::K::Missing && v.k != Val::K::Nil) {
        std::string t;
        print_v(t, v);
        error("range can't iterate over " + t);
      }
    } catch (const BreakSignal&) {
    }
    if (!any) walk(dot, n.else_list);
    vars_.resize(mark);
  }

  Val* lookup_var(const std::string& name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if (it->first == name) return &it->second;
    error("undefined variable: " + name);
  }

  Val eval_pipe(const Val& dot, const Pipe& p) {
    Val v;
    bool have = false;
    for (const Cmd& c : p.cmds) {
      v = eval_cmd(dot, c, have ? &v : nullptr);
      have = true;
    }
    for (const std::string& name : p.decl) {
      if (p.assign) {
        *lookup_var(name) = v;
      } else {
        vars_.emplace_back(name, v);
      }
    }
    return v;
  }

  Val field_chain(Val v, const std::vector<std::string>& fields) {
    for (const std::string& f : fields) {
      if (v.k == Val::K::Missing) return v;  // a missing key's fields are missing too
      if (!v.is_map()) error("can't evaluate field " + f + " in type " + go_type(v));
      const Value* x = v.v.get(f);
      v = x ? from_value(*x) : Val{};
    }
    return v;
  }

  Val eval_operand(const Val& dot, const Operand& o) {
    Val v;
    switch (o.k) {
      case Operand::K::Dot: v = dot; break;
      case Operand::K::Var: v = *lookup_var(o.name); break;
      case Operand::K::Str:
        v.k = Val::K::Str;
        v.s = o.name;
        break;
      case Operand::K::Int:
        v.k = Val::K::Int;
        v.i = o.i;
        break;
      case Operand::K::Float:
        v.k = Val::K::Float;
        v.f = o.f;
        break;
      case Operand::K::Bool:
        v.k = Val::K::Bool;
        v.b = o.b;
        break;
      case Operand::K::Nil: v.k = Val::K::Nil; break;
      case Operand::K::Paren: v = eval_pipe(dot, *o.pipe); break;
      case Operand::K::Func: return call(dot, o.name, {}, nullptr);
    }
    return field_chain(std::move(v), o.fields);
  }

  Val eval_cmd(const Val& dot, const Cmd& c, const Val* piped) {
    const Operand& first = c.args[0];
    if (first.k == Operand::K::Func) return call(dot, first.name, std::span(c.args).subspan(1), piped);
    if (first.k == Operand::K::Nil) error("nil is not a command");
    if (c.args.size() > 1 || piped) error("can't give argument to non-function " + describe(first));
    return eval_operand(dot, first);
  }

  static std::string describe(const Operand& o) {
    std::string s = o.k == Operand::K::Var ? o.name : o.k == Operand::K::Str ? "\"" + o.name + "\"" : "";
    for (const auto& f : o.fields) s += "." + f;
    return s.empty() ? "." : s;
  }

  // Comparison in text/template's basic kinds; json.Number is a string kind.
  int basic_kind(const Val& v) {
    switch (v.k) {
      case Val::K::Bool: return 1;
      case Val::K::Int: return 2;
      case Val::K::Float: return 3;
      case Val::K::Str:
      case Val::K::Num: return 4;
      default: return 0;
    }
  }

  bool equal(const Val& a, const Val& b) {
    const int ka = basic_kind(a), kb = basic_kind(b);
    if (ka != kb || ka == 0) {
      if (ka == 0 && kb == 0 && (a.k == Val::K::Nil || a.k == Val::K::Missing) &&
          (b.k == Val::K::Nil || b.k == Val::K::Missing))
        return true;
      error("error calling eq: incompatible types for comparison");
    }
    switch (ka) {
      case 1: return a.b == b.b;
      case 2: return a.i == b.i;
      case 3: return a.f == b.f;
      default: return a.s == b.s;
    }
  }

  bool less(const std::string& fn, const Val& a, const Val& b) {
    const int ka = basic_kind(a), kb = basic_kind(b);
    if (ka == 0 || kb == 0 || ka == 1) error("error calling " + fn + ": invalid type for comparison");
    if (ka != kb) error("error calling " + fn + ": incompatible types for comparison");
    switch (ka) {
      case 2: return a.i < b.i;
      case 3: return a.f < b.f;
      default: return a.s < b.s;
    }
  }

  static Val boolean(bool b) {
    Val v;
    v.k = Val::K::Bool;
    v.b = b;
    return v;
  }

  GoArg go_arg(const Val& v, std::forward_list<std::string>& owned) {
    GoArg g;
    g.type = go_type(v);
    switch (v.k) {
      case Val::K::Missing:
      case Val::K::Nil: g.t = GoArg::T::Nil; break;
      case Val::K::Bool:
        g.t = GoArg::T::Bool;
        g.b = v.b;
        break;
      case Val::K::Int:
        g.t = GoArg::T::Int;
        g.i = v.i;
        break;
      case Val::K::Float:
        g.t = GoArg::T::Float;
        g.f = v.f;
        break;
      case Val::K::Str:
      case Val::K::Num:
        g.t = GoArg::T::Str;
        g.s = v.s;
        break;
      case Val::K::Data:
        owned.emplace_front();
        print_v(owned.front(), v);
        g.t = GoArg::T::Str;
        g.s = owned.front();
        break;
    }
    return g;
  }

  Val call(const Val& dot, const std::string& fn, std::span<const Operand> args, const Val* piped) {
    // and/or evaluate lazily and return the deciding operand.
    const size_t argc = args.size() + (piped ? 1 : 0);
    auto arg = [&](size_t i) { return i < args.size() ? eval_operand(dot, args[i]) : *piped; };
    auto need = [&](size_t n, bool at_least = false) {
      if (at_least ? argc < n : argc != n)
        error("wrong number of args for " + fn + ": want " + (at_least ? "at least " : "") + std::to_string(n) +
              " got " + std::to_string(argc));
    };
    if (fn == "and" || fn == "or") {
      need(1, true);
      Val v;
      for (size_t i = 0; i < argc; ++i) {
        v = arg(i);
        if (truth(v) == (fn == "or")) return v;
      }
      return v;
    }
    std::vector<Val> vs;
    for (size_t i = 0; i < argc; ++i) vs.push_back(arg(i));
    if (fn == "not") {
      need(1);
      return boolean(!truth(vs[0]));
    }
    if (fn == "len") {
      need(1);
      Val r;
      r.k = Val::K::Int;
      if (vs[0].k == Val::K::Str || vs[0].k == Val::K::Num) {
        r.i = static_cast<int64_t>(vs[0].s.size());
      } else if (vs[0].k == Val::K::Data) {
        r.i = static_cast<int64_t>(vs[0].v.size());
      } else {
        error(std::string("error calling len: len of type ") + go_type(vs[0]));
      }
      return r;
    }
    if (fn == "index") {
      need(1, true);
      Val v = vs[0];
      for (size_t i = 1; i < vs.size(); ++i) {
        const Val& k = vs[i];
        if (v.is_map()) {
          if (k.k != Val::K::Str)
            error("error calling index: value has type " + std::string(go_type(k)) + "; should be string");
          const Value* x = v.v.get(k.s);
          v = x ? from_value(*x) : Val{};
        } else if (v.is_list()) {
          if (k.k != Val::K::Int)
            error("error calling index: cannot index slice/array with type " + std::string(go_type(k)));
          const ValueVec& xs = items_of(v.v);
          if (k.i < 0 || static_cast<uint64_t>(k.i) >= xs.size())
            error("error calling index: index out of range: " + std::to_string(k.i));
          v = from_value(xs[static_cast<size_t>(k.i)]);
        } else if (v.k == Val::K::Missing || v.k == Val::K::Nil) {
          error("error calling index: index of untyped nil");
        } else {
          error(std::string("error calling index: can't index item of type ") + go_type(v));
        }
      }
      return v;
    }
    if (fn == "print" || fn == "println") {
      Val r;
      r.k = Val::K::Str;
      for (size_t i = 0; i < vs.size(); ++i) {
        // Sprint puts spaces between operands when neither is a string; Sprintln always.
        const bool str = vs[i].k == Val::K::Str || vs[i].k == Val::K::Num;
        const bool prev_str = i > 0 && (vs[i - 1].k == Val::K::Str || vs[i - 1].k == Val::K::Num);
        if (i > 0 && (fn == "println" || (!str && !prev_str))) r.s.push_back(' ');
        print_v(r.s, vs[i]);
      }
      if (fn == "println") r.s.push_back('\n');
      return r;
    }
    if (fn == "printf") {
      need(1, true);
      if (vs[0].k != Val::K::Str) error("wrong type for value; expected string; got " + std::string(go_type(vs[0])));
      std::forward_list<std::string> owned;
      std::vector<GoArg> gargs;
      for (size_t i = 1; i < vs.size(); ++i) gargs.push_back(go_arg(vs[i], owned));
      Val r;
      r.k = Val::K::Str;
      r.s = go_sprintf(vs[0].s, gargs);
      return r;
    }
    if (fn == "eq") {
      need(2, true);
      for (size_t i = 1; i < vs.size(); ++i)
        if (equal(vs[0], vs[i])) return boolean(true);
      return boolean(false);
    }
    need(2);
    if (fn == "ne") return boolean(!equal(vs[0], vs[1]));
    if (fn == "lt") return boolean(less(fn, vs[0], vs[1]));
    if (fn == "le") return boolean(less(fn, vs[0], vs[1]) || equal(vs[0], vs[1]));
    if (fn == "gt") return boolean(!less(fn, vs[0], vs[1]) && !equal(vs[0], vs[1]));
    return boolean(!less(fn, vs[0], vs[1]));  // ge
  }

  std::string& out_;
  std::vector<std::pair<std::string, Val>> vars_;
  int line_ = 1;
};

}  // namespace tmpl

Value bi_render_template(BuiltinContext&, std::span<const Value> a) {
  const std::string& src = arg_string("strings.render_template", a, 0);
  const Value& vars = arg_object("strings.render_template", a, 1);
  std::vector<tmpl::Node> nodes = tmpl::Parser(src).parse();
  std::string out;
  tmpl::Exec exec(vars, out);
  exec.walk(tmpl::from_value(vars), nodes);
  return Value::string(std::move(out));
}

}  // namespace

void register_strings(BuiltinRegistry& r) {
  r.add("concat", 2, bi_concat);
  r.add("contains", 2, bi_contains);
  r.add("startswith", 2, bi_startswith);
  r.add("endswith", 2, bi_endswith);
  r.add("format_int", 2, bi_format_int);
  r.add("indexof", 2, bi_indexof);
  r.add("indexof_n", 2, bi_indexof_n);
  r.add("lower", 1, bi_lower);
  r.add("upper", 1, bi_upper);
  r.add("replace", 3, bi_replace);
  r.add("split", 2, bi_split);
  r.add("sprintf", 2, bi_sprintf);
  r.add("substring", 3, bi_substring);
  r.add("trim", 2, bi_trim);
  r.add("trim_left", 2, bi_trim_left);
  r.add("trim_prefix", 2, bi_trim_prefix);
  r.add("trim_right", 2, bi_trim_right);
  r.add("trim_space", 1, bi_trim_space);
  r.add("trim_suffix", 2, bi_trim_suffix);
  r.add("strings.any_prefix_match", 2, bi_any_prefix_match);
  r.add("strings.any_suffix_match", 2, bi_any_suffix_match);
  r.add("strings.count", 2, bi_count);
  r.add("strings.render_template", 2, bi_render_template);
  r.add("strings.replace_n", 2, bi_replace_n);
  r.add("strings.reverse", 1, bi_reverse);
  r.add("strings.split_n", 3, bi_split_n);
  r.add("internal.template_string", 1, bi_template_string);
  r.add("to_number", 1, bi_to_number);
}

// --- Unicode tables (generated from Go's unicode package, Unicode 13) --------------

namespace {

// unicode.CaseRanges: {lo, hi, delta to upper, delta to lower}; kUL marks
// alternating Upper/Lower pairs.
constexpr int32_t kUL = 0x110000;
struct CaseRange {
  char32_t lo, hi;
  int32_t to_upper, to_lower;
};
// clang-format off
constexpr CaseRange kCaseRanges[] = {
    {0x41, 0x5A, 0, 32}, {0x61, 0x7A, -32, 0}, {0xB5, 0xB5, 743, 0}, {0xC0, 0xD6, 0, 32}, {0xD8, 0xDE, 0, 32},
    {0xE0, 0xF6, -32, 0}, {0xF8, 0xFE, -32, 0}, {0xFF, 0xFF, 121, 0}, {0x100, 0x12F, kUL, kUL},
    {0x130, 0x130, 0, -199}, {0x131, 0x131, -232, 0}, {0x132, 0x137, kUL, kUL}, {0x139, 0x148, kUL, kUL},
    {0x14A, 0x177, kUL, kUL}, {0x178, 0x178, 0, -121}, {0x179, 0x17E, kUL, kUL}, {0x17F, 0x17F, -300, 0},
    {0x180, 0x180, 195, 0}, {0x181, 0x181, 0, 210}, {0x182, 0x185, kUL, kUL}, {0x186, 0x186, 0, 206},
    {0x187, 0x188, kUL, kUL}, {0x189, 0x18A, 0, 205}, {0x18B, 0x18C, kUL, kUL}, {0x18E, 0x18E, 0, 79},
    {0x18F, 0x18F, 0, 202}, {0x190, 0x190, 0, 203}, {0x191, 0x192, kUL, kUL}, {0x193, 0x193, 0, 205},
    {0x194, 0x194, 0, 207}, {0x195, 0x195, 97, 0}, {0x196, 0x196, 0, 211}, {0x197, 0x197, 0, 209},
    {0x198, 0x199, kUL, kUL}, {0x19A, 0x19A, 163, 0}, {0x19C, 0x19C, 0, 211}, {0x19D, 0x19D, 0, 213},
    {0x19E, 0x19E, 130, 0}, {0x19F, 0x19F, 0, 214}, {0x1A0, 0x1A5, kUL, kUL}, {0x1A6, 0x1A6, 0, 218},
    {0x1A7, 0x1A8, kUL, kUL}, {0x1A9, 0x1A9, 0, 218}, {0x1AC, 0x1AD, kUL, kUL}, {0x1AE, 0x1AE, 0, 218},
    {0x1AF, 0x1B0, kUL, kUL}, {0x1B1, 0x1B2, 0, 217}, {0x1B3, 0x1B6, kUL, kUL}, {0x1B7, 0x1B7, 0, 219},
    {0x1B8, 0x1B9, kUL, kUL}, {0x1BC, 0x1BD, kUL, kUL}, {0x1BF, 0x1BF, 56, 0}, {0x1C4, 0x1C4, 0, 2},
    {0x1C5, 0x1C5, -1, 1}, {0x1C6, 0x1C6, -2, 0}, {0x1C7, 0x1C7, 0, 2}, {0x1C8, 0x1C8, -1, 1}, {0x1C9, 0x1C9, -2, 0},
    {0x1CA, 0x1CA, 0, 2}, {0x1CB, 0x1CB, -1, 1}, {0x1CC, 0x1CC, -2, 0}, {0x1CD, 0x1DC, kUL, kUL},
    {0x1DD, 0x1DD, -79, 0}, {0x1DE, 0x1EF, kUL, kUL}, {0x1F1, 0x1F1, 0, 2}, {0x1F2, 0x1F2, -1, 1},
    {0x1F3, 0x1F3, -2, 0}, {0x1F4, 0x1F5, kUL, kUL}, {0x1F6, 0x1F6, 0, -97}, {0x1F7, 0x1F7, 0, -56},
    {0x1F8, 0x21F, kUL, kUL}, {0x220, 0x220, 0, -130}, {0x222, 0x233, kUL, kUL}, {0x23A, 0x23A, 0, 10795},
    {0x23B, 0x23C, kUL, kUL}, {0x23D, 0x23D, 0, -163}, {0x23E, 0x23E, 0, 10792}, {0x23F, 0x240, 10815, 0},
    {0x241, 0x242, kUL, kUL}, {0x243, 0x243, 0, -195}, {0x244, 0x244, 0, 69}, {0x245, 0x245, 0, 71},
    {0x246, 0x24F, kUL, kUL}, {0x250, 0x250, 10783, 0}, {0x251, 0x251, 10780, 0}, {0x252, 0x252, 10782, 0},
    {0x253, 0x253, -210, 0}, {0x254, 0x254, -206, 0}, {0x256, 0x257, -205, 0}, {0x259, 0x259, -202, 0},
    {0x25B, 0x25B, -203, 0}, {0x25C, 0x25C, 42319, 0}, {0x260, 0x260, -205, 0}, {0x261, 0x261, 42315, 0},
    {0x263, 0x263, -207, 0}, {0x265, 0x265, 42280, 0}, {0x266, 0x266, 42308, 0}, {0x268, 0x268, -209, 0},
    {0x269, 0x269, -211, 0}, {0x26A, 0x26A, 42308, 0}, {0x26B, 0x26B, 10743, 0}, {0x26C, 0x26C, 42305, 0},
    {0x26F, 0x26F, -211, 0}, {0x271, 0x271, 10749, 0}, {0x272, 0x272, -213, 0}, {0x275, 0x275, -214, 0},
    {0x27D, 0x27D, 10727, 0}, {0x280, 0x280, -218, 0}, {0x282, 0x282, 42307, 0}, {0x283, 0x283, -218, 0},
    {0x287, 0x287, 42282, 0}, {0x288, 0x288, -218, 0}, {0x289, 0x289, -69, 0}, {0x28A, 0x28B, -217, 0},
    {0x28C, 0x28C, -71, 0}, {0x292, 0x292, -219, 0}, {0x29D, 0x29D, 42261, 0}, {0x29E, 0x29E, 42258, 0},
    {0x345, 0x345, 84, 0}, {0x370, 0x373, kUL, kUL}, {0x376, 0x377, kUL, kUL}, {0x37B, 0x37D, 130, 0},
    {0x37F, 0x37F, 0, 116}, {0x386, 0x386, 0, 38}, {0x388, 0x38A, 0, 37}, {0x38C, 0x38C, 0, 64},
    {0x38E, 0x38F, 0, 63}, {0x391, 0x3A1, 0, 32}, {0x3A3, 0x3AB, 0, 32}, {0x3AC, 0x3AC, -38, 0},
    {0x3AD, 0x3AF, -37, 0}, {0x3B1, 0x3C1, -32, 0}, {0x3C2, 0x3C2, -31, 0}, {0x3C3, 0x3CB, -32, 0},
    {0x3CC, 0x3CC, -64, 0}, {0x3CD, 0x3CE, -63, 0}, {0x3CF, 0x3CF, 0, 8}, {0x3D0, 0x3D0, -62, 0},
    {0x3D1, 0x3D1, -57, 0}, {0x3D5, 0x3D5, -47, 0}, {0x3D6, 0x3D6, -54, 0}, {0x3D7, 0x3D7, -8, 0},
    {0x3D8, 0x3EF, kUL, kUL}, {0x3F0, 0x3F0, -86, 0}, {0x3F1, 0x3F1, -80, 0}, {0x3F2, 0x3F2, 7, 0},
    {0x3F3, 0x3F3, -116, 0}, {0x3F4, 0x3F4, 0, -60}, {0x3F5, 0x3F5, -96, 0}, {0x3F7, 0x3F8, kUL, kUL},
    {0x3F9, 0x3F9, 0, -7}, {0x3FA, 0x3FB, kUL, kUL}, {0x3FD, 0x3FF, 0, -130}, {0x400, 0x40F, 0, 80},
    {0x410, 0x42F, 0, 32}, {0x430, 0x44F, -32, 0}, {0x450, 0x45F, -80, 0}, {0x460, 0x481, kUL, kUL},
    {0x48A, 0x4BF, kUL, kUL}, {0x4C0, 0x4C0, 0, 15}, {0x4C1, 0x4CE, kUL, kUL}, {0x4CF, 0x4CF, -15, 0},
    {0x4D0, 0x52F, kUL, kUL}, {0x531, 0x556, 0, 48}, {0x561, 0x586, -48, 0}, {0x10A0, 0x10C5, 0, 7264},
    {0x10C7, 0x10C7, 0, 7264}, {0x10CD, 0x10CD, 0, 7264}, {0x10D0, 0x10FA, 3008, 0}, {0x10FD, 0x10FF, 3008, 0},
    {0x13A0, 0x13EF, 0, 38864}, {0x13F0, 0x13F5, 0, 8}, {0x13F8, 0x13FD, -8, 0}, {0x1C80, 0x1C80, -6254, 0},
    {0x1C81, 0x1C81, -6253, 0}, {0x1C82, 0x1C82, -6244, 0}, {0x1C83, 0x1C84, -6242, 0}, {0x1C85, 0x1C85, -6243, 0},
    {0x1C86, 0x1C86, -6236, 0}, {0x1C87, 0x1C87, -6181, 0}, {0x1C88, 0x1C88, 35266, 0}, {0x1C90, 0x1CBA, 0, -3008},
    {0x1CBD, 0x1CBF, 0, -3008}, {0x1D79, 0x1D79, 35332, 0}, {0x1D7D, 0x1D7D, 3814, 0}, {0x1D8E, 0x1D8E, 35384, 0},
    {0x1E00, 0x1E95, kUL, kUL}, {0x1E9B, 0x1E9B, -59, 0}, {0x1E9E, 0x1E9E, 0, -7615}, {0x1EA0, 0x1EFF, kUL, kUL},
    {0x1F00, 0x1F07, 8, 0}, {0x1F08, 0x1F0F, 0, -8}, {0x1F10, 0x1F15, 8, 0}, {0x1F18, 0x1F1D, 0, -8},
    {0x1F20, 0x1F27, 8, 0}, {0x1F28, 0x1F2F, 0, -8}, {0x1F30, 0x1F37, 8, 0}, {0x1F38, 0x1F3F, 0, -8},
    {0x1F40, 0x1F45, 8, 0}, {0x1F48, 0x1F4D, 0, -8}, {0x1F51, 0x1F51, 8, 0}, {0x1F53, 0x1F53, 8, 0},
    {0x1F55, 0x1F55, 8, 0}, {0x1F57, 0x1F57, 8, 0}, {0x1F59, 0x1F59, 0, -8}, {0x1F5B, 0x1F5B, 0, -8},
    {0x1F5D, 0x1F5D, 0, -8}, {0x1F5F, 0x1F5F, 0, -8}, {0x1F60, 0x1F67, 8, 0}, {0x1F68, 0x1F6F, 0, -8},
    {0x1F70, 0x1F71, 74, 0}, {0x1F72, 0x1F75, 86, 0}, {0x1F76, 0x1F77, 100, 0}, {0x1F78, 0x1F79, 128, 0},
    {0x1F7A, 0x1F7B, 112, 0}, {0x1F7C, 0x1F7D, 126, 0}, {0x1F80, 0x1F87, 8, 0}, {0x1F88, 0x1F8F, 0, -8},
    {0x1F90, 0x1F97, 8, 0}, {0x1F98, 0x1F9F, 0, -8}, {0x1FA0, 0x1FA7, 8, 0}, {0x1FA8, 0x1FAF, 0, -8},
    {0x1FB0, 0x1FB1, 8, 0}, {0x1FB3, 0x1FB3, 9, 0}, {0x1FB8, 0x1FB9, 0, -8}, {0x1FBA, 0x1FBB, 0, -74},
    {0x1FBC, 0x1FBC, 0, -9}, {0x1FBE, 0x1FBE, -7205, 0}, {0x1FC3, 0x1FC3, 9, 0}, {0x1FC8, 0x1FCB, 0, -86},
    {0x1FCC, 0x1FCC, 0, -9}, {0x1FD0, 0x1FD1, 8, 0}, {0x1FD8, 0x1FD9, 0, -8}, {0x1FDA, 0x1FDB, 0, -100},
    {0x1FE0, 0x1FE1, 8, 0}, {0x1FE5, 0x1FE5, 7, 0}, {0x1FE8, 0x1FE9, 0, -8}, {0x1FEA, 0x1FEB, 0, -112},
    {0x1FEC, 0x1FEC, 0, -7}, {0x1FF3, 0x1FF3, 9, 0}, {0x1FF8, 0x1FF9, 0, -128}, {0x1FFA, 0x1FFB, 0, -126},
    {0x1FFC, 0x1FFC, 0, -9}, {0x2126, 0x2126, 0, -7517}, {0x212A, 0x212A, 0, -8383}, {0x212B, 0x212B, 0, -8262},
    {0x2132, 0x2132, 0, 28}, {0x214E, 0x214E, -28, 0}, {0x2160, 0x216F, 0, 16}, {0x2170, 0x217F, -16, 0},
    {0x2183, 0x2184, kUL, kUL}, {0x24B6, 0x24CF, 0, 26}, {0x24D0, 0x24E9, -26, 0}, {0x2C00, 0x2C2E, 0, 48},
    {0x2C30, 0x2C5E, -48, 0}, {0x2C60, 0x2C61, kUL, kUL}, {0x2C62, 0x2C62, 0, -10743}, {0x2C63, 0x2C63, 0, -3814},
    {0x2C64, 0x2C64, 0, -10727}, {0x2C65, 0x2C65, -10795, 0}, {0x2C66, 0x2C66, -10792, 0}, {0x2C67, 0x2C6C, kUL, kUL},
    {0x2C6D, 0x2C6D, 0, -10780}, {0x2C6E, 0x2C6E, 0, -10749}, {0x2C6F, 0x2C6F, 0, -10783},
    {0x2C70, 0x2C70, 0, -10782}, {0x2C72, 0x2C73, kUL, kUL}, {0x2C75, 0x2C76, kUL, kUL}, {0x2C7E, 0x2C7F, 0, -10815},
    {0x2C80, 0x2CE3, kUL, kUL}, {0x2CEB, 0x2CEE, kUL, kUL}, {0x2CF2, 0x2CF3, kUL, kUL}, {0x2D00, 0x2D25, -7264, 0},
    {0x2D27, 0x2D27, -7264, 0}, {0x2D2D, 0x2D2D, -7264, 0}, {0xA640, 0xA66D, kUL, kUL}, {0xA680, 0xA69B, kUL, kUL},
    {0xA722, 0xA72F, kUL, kUL}, {0xA732, 0xA76F, kUL, kUL}, {0xA779, 0xA77C, kUL, kUL}, {0xA77D, 0xA77D, 0, -35332},
    {0xA77E, 0xA787, kUL, kUL}, {0xA78B, 0xA78C, kUL, kUL}, {0xA78D, 0xA78D, 0, -42280}, {0xA790, 0xA793, kUL, kUL},
    {0xA794, 0xA794, 48, 0}, {0xA796, 0xA7A9, kUL, kUL}, {0xA7AA, 0xA7AA, 0, -42308}, {0xA7AB, 0xA7AB, 0, -42319},
    {0xA7AC, 0xA7AC, 0, -42315}, {0xA7AD, 0xA7AD, 0, -42305}, {0xA7AE, 0xA7AE, 0, -42308},
    {0xA7B0, 0xA7B0, 0, -42258}, {0xA7B1, 0xA7B1, 0, -42282}, {0xA7B2, 0xA7B2, 0, -42261}, {0xA7B3, 0xA7B3, 0, 928},
    {0xA7B4, 0xA7BF, kUL, kUL}, {0xA7C2, 0xA7C3, kUL, kUL}, {0xA7C4, 0xA7C4, 0, -48}, {0xA7C5, 0xA7C5, 0, -42307},
    {0xA7C6, 0xA7C6, 0, -35384}, {0xA7C7, 0xA7CA, kUL, kUL}, {0xA7F5, 0xA7F6, kUL, kUL}, {0xAB53, 0xAB53, -928, 0},
    {0xAB70, 0xABBF, -38864, 0}, {0xFF21, 0xFF3A, 0, 32}, {0xFF41, 0xFF5A, -32, 0}, {0x10400, 0x10427, 0, 40},
    {0x10428, 0x1044F, -40, 0}, {0x104B0, 0x104D3, 0, 40}, {0x104D8, 0x104FB, -40, 0}, {0x10C80, 0x10CB2, 0, 64},
    {0x10CC0, 0x10CF2, -64, 0}, {0x118A0, 0x118BF, 0, 32}, {0x118C0, 0x118DF, -32, 0}, {0x16E40, 0x16E5F, 0, 32},
    {0x16E60, 0x16E7F, -32, 0}, {0x1E900, 0x1E921, 0, 34}, {0x1E922, 0x1E943, -34, 0},
};
// clang-format on

// Ranges of code points strconv.IsPrint accepts (letters, marks, numbers,
// punctuation, symbols and U+0020).
// clang-format off
constexpr std::pair<char32_t, char32_t> kPrintRanges[] = {
    {0x20, 0x7E}, {0xA1, 0xAC}, {0xAE, 0x377}, {0x37A, 0x37F}, {0x384, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1},
    {0x3A3, 0x52F}, {0x531, 0x556}, {0x559, 0x58A}, {0x58D, 0x58F}, {0x591, 0x5C7}, {0x5D0, 0x5EA}, {0x5EF, 0x5F4},
    {0x606, 0x61B}, {0x61E, 0x6DC}, {0x6DE, 0x70D}, {0x710, 0x74A}, {0x74D, 0x7B1}, {0x7C0, 0x7FA}, {0x7FD, 0x82D},
    {0x830, 0x83E}, {0x840, 0x85B}, {0x85E, 0x85E}, {0x860, 0x86A}, {0x8A0, 0x8B4}, {0x8B6, 0x8C7}, {0x8D3, 0x8E1},
    {0x8E3, 0x983}, {0x985, 0x98C}, {0x98F, 0x990}, {0x993, 0x9A8}, {0x9AA, 0x9B0}, {0x9B2, 0x9B2}, {0x9B6, 0x9B9},
    {0x9BC, 0x9C4}, {0x9C7, 0x9C8}, {0x9CB, 0x9CE}, {0x9D7, 0x9D7}, {0x9DC, 0x9DD}, {0x9DF, 0x9E3}, {0x9E6, 0x9FE},
    {0xA01, 0xA03}, {0xA05, 0xA0A}, {0xA0F, 0xA10}, {0xA13, 0xA28}, {0xA2A, 0xA30}, {0xA32, 0xA33}, {0xA35, 0xA36},
    {0xA38, 0xA39}, {0xA3C, 0xA3C}, {0xA3E, 0xA42}, {0xA47, 0xA48}, {0xA4B, 0xA4D}, {0xA51, 0xA51}, {0xA59, 0xA5C},
    {0xA5E, 0xA5E}, {0xA66, 0xA76}, {0xA81, 0xA83}, {0xA85, 0xA8D}, {0xA8F, 0xA91}, {0xA93, 0xAA8}, {0xAAA, 0xAB0},
    {0xAB2, 0xAB3}, {0xAB5, 0xAB9}, {0xABC, 0xAC5}, {0xAC7, 0xAC9}, {0xACB, 0xACD}, {0xAD0, 0xAD0}, {0xAE0, 0xAE3},
    {0xAE6, 0xAF1}, {0xAF9, 0xAFF}, {0xB01, 0xB03}, {0xB05, 0xB0C}, {0xB0F, 0xB10}, {0xB13, 0xB28}, {0xB2A, 0xB30},
    {0xB32, 0xB33}, {0xB35, 0xB39}, {0xB3C, 0xB44}, {0xB47, 0xB48}, {0xB4B, 0xB4D}, {0xB55, 0xB57}, {0xB5C, 0xB5D},
    {0xB5F, 0xB63}, {0xB66, 0xB77}, {0xB82, 0xB83}, {0xB85, 0xB8A}, {0xB8E, 0xB90}, {0xB92, 0xB95}, {0xB99, 0xB9A},
    {0xB9C, 0xB9C}, {0xB9E, 0xB9F}, {0xBA3, 0xBA4}, {0xBA8, 0xBAA}, {0xBAE, 0xBB9}, {0xBBE, 0xBC2}, {0xBC6, 0xBC8},
    {0xBCA, 0xBCD}, {0xBD0, 0xBD0}, {0xBD7, 0xBD7}, {0xBE6, 0xBFA}, {0xC00, 0xC0C}, {0xC0E, 0xC10}, {0xC12, 0xC28},
    {0xC2A, 0xC39}, {0xC3D, 0xC44}, {0xC46, 0xC48}, {0xC4A, 0xC4D}, {0xC55, 0xC56}, {0xC58, 0xC5A}, {0xC60, 0xC63},
    {0xC66, 0xC6F}, {0xC77, 0xC8C}, {0xC8E, 0xC90}, {0xC92, 0xCA8}, {0xCAA, 0xCB3}, {0xCB5, 0xCB9}, {0xCBC, 0xCC4},
    {0xCC6, 0xCC8}, {0xCCA, 0xCCD}, {0xCD5, 0xCD6}, {0xCDE, 0xCDE}, {0xCE0, 0xCE3}, {0xCE6, 0xCEF}, {0xCF1, 0xCF2},
    {0xD00, 0xD0C}, {0xD0E, 0xD10}, {0xD12, 0xD44}, {0xD46, 0xD48}, {0xD4A, 0xD4F}, {0xD54, 0xD63}, {0xD66, 0xD7F},
    {0xD81, 0xD83}, {0xD85, 0xD96}, {0xD9A, 0xDB1}, {0xDB3, 0xDBB}, {0xDBD, 0xDBD}, {0xDC0, 0xDC6}, {0xDCA, 0xDCA},
    {0xDCF, 0xDD4}, {0xDD6, 0xDD6}, {0xDD8, 0xDDF}, {0xDE6, 0xDEF}, {0xDF2, 0xDF4}, {0xE01, 0xE3A}, {0xE3F, 0xE5B},
    {0xE81, 0xE82}, {0xE84, 0xE84}, {0xE86, 0xE8A}, {0xE8C, 0xEA3}, {0xEA5, 0xEA5}, {0xEA7, 0xEBD}, {0xEC0, 0xEC4},
    {0xEC6, 0xEC6}, {0xEC8, 0xECD}, {0xED0, 0xED9}, {0xEDC, 0xEDF}, {0xF00, 0xF47}, {0xF49, 0xF6C}, {0xF71, 0xF97},
    {0xF99, 0xFBC}, {0xFBE, 0xFCC}, {0xFCE, 0xFDA}, {0x1000, 0x10C5}, {0x10C7, 0x10C7}, {0x10CD, 0x10CD},
    {0x10D0, 0x1248}, {0x124A, 0x124D}, {0x1250, 0x1256}, {0x1258, 0x1258}, {0x125A, 0x125D}, {0x1260, 0x1288},
    {0x128A, 0x128D}, {0x1290, 0x12B0}, {0x12B2, 0x12B5}, {0x12B8, 0x12BE}, {0x12C0, 0x12C0}, {0x12C2, 0x12C5},
    {0x12C8, 0x12D6}, {0x12D8, 0x1310}, {0x1312, 0x1315}, {0x1318, 0x135A}, {0x135D, 0x137C}, {0x1380, 0x1399},
    {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1400, 0x167F}, {0x1681, 0x169C}, {0x16A0, 0x16F8}, {0x1700, 0x170C},
    {0x170E, 0x1714}, {0x1720, 0x1736}, {0x1740, 0x1753}, {0x1760, 0x176C}, {0x176E, 0x1770}, {0x1772, 0x1773},
    {0x1780, 0x17DD}, {0x17E0, 0x17E9}, {0x17F0, 0x17F9}, {0x1800, 0x180D}, {0x1810, 0x1819}, {0x1820, 0x1878},
    {0x1880, 0x18AA}, {0x18B0, 0x18F5}, {0x1900, 0x191E}, {0x1920, 0x192B}, {0x1930, 0x193B}, {0x1940, 0x1940},
    {0x1944, 0x196D}, {0x1970, 0x1974}, {0x1980, 0x19AB}, {0x19B0, 0x19C9}, {0x19D0, 0x19DA}, {0x19DE, 0x1A1B},
    {0x1A1E, 0x1A5E}, {0x1A60, 0x1A7C}, {0x1A7F, 0x1A89}, {0x1A90, 0x1A99}, {0x1AA0, 0x1AAD}, {0x1AB0, 0x1AC0},
    {0x1B00, 0x1B4B}, {0x1B50, 0x1B7C}, {0x1B80, 0x1BF3}, {0x1BFC, 0x1C37}, {0x1C3B, 0x1C49}, {0x1C4D, 0x1C88},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CC7}, {0x1CD0, 0x1CFA}, {0x1D00, 0x1DF9}, {0x1DFB, 0x1F15}, {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D},
    {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FC4}, {0x1FC6, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FDD, 0x1FEF},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFE}, {0x2010, 0x2027}, {0x2030, 0x205E}, {0x2070, 0x2071}, {0x2074, 0x208E},
    {0x2090, 0x209C}, {0x20A0, 0x20BF}, {0x20D0, 0x20F0}, {0x2100, 0x218B}, {0x2190, 0x2426}, {0x2440, 0x244A},
    {0x2460, 0x2B73}, {0x2B76, 0x2B95}, {0x2B97, 0x2C2E}, {0x2C30, 0x2C5E}, {0x2C60, 0x2CF3}, {0x2CF9, 0x2D25},
    {0x2D27, 0x2D27}, {0x2D2D, 0x2D2D}, {0x2D30, 0x2D67}, {0x2D6F, 0x2D70}, {0x2D7F, 0x2D96}, {0x2DA0, 0x2DA6},
    {0x2DA8, 0x2DAE}, {0x2DB0, 0x2DB6}, {0x2DB8, 0x2DBE}, {0x2DC0, 0x2DC6}, {0x2DC8, 0x2DCE}, {0x2DD0, 0x2DD6},
    {0x2DD8, 0x2DDE}, {0x2DE0, 0x2E52}, {0x2E80, 0x2E99}, {0x2E9B, 0x2EF3}, {0x2F00, 0x2FD5}, {0x2FF0, 0x2FFB},
    {0x3001, 0x303F}, {0x3041, 0x3096}, {0x3099, 0x30FF}, {0x3105, 0x312F}, {0x3131, 0x318E}, {0x3190, 0x31E3},
    {0x31F0, 0x321E}, {0x3220, 0x9FFC}, {0xA000, 0xA48C}, {0xA490, 0xA4C6}, {0xA4D0, 0xA62B}, {0xA640, 0xA6F7},
    {0xA700, 0xA7BF}, {0xA7C2, 0xA7CA}, {0xA7F5, 0xA82C}, {0xA830, 0xA839}, {0xA840, 0xA877}, {0xA880, 0xA8C5},
    {0xA8CE, 0xA8D9}, {0xA8E0, 0xA953}, {0xA95F, 0xA97C}, {0xA980, 0xA9CD}, {0xA9CF, 0xA9D9}, {0xA9DE, 0xA9FE},
    {0xAA00, 0xAA36}, {0xAA40, 0xAA4D}, {0xAA50, 0xAA59}, {0xAA5C, 0xAAC2}, {0xAADB, 0xAAF6}, {0xAB01, 0xAB06},
    {0xAB09, 0xAB0E}, {0xAB11, 0xAB16}, {0xAB20, 0xAB26}, {0xAB28, 0xAB2E}, {0xAB30, 0xAB6B}, {0xAB70, 0xABED},
    {0xABF0, 0xABF9}, {0xAC00, 0xD7A3}, {0xD7B0, 0xD7C6}, {0xD7CB, 0xD7FB}, {0xF900, 0xFA6D}, {0xFA70, 0xFAD9},
    {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFB1D, 0xFB36}, {0xFB38, 0xFB3C}, {0xFB3E, 0xFB3E}, {0xFB40, 0xFB41},
    {0xFB43, 0xFB44}, {0xFB46, 0xFBC1}, {0xFBD3, 0xFD3F}, {0xFD50, 0xFD8F}, {0xFD92, 0xFDC7}, {0xFDF0, 0xFDFD},
    {0xFE00, 0xFE19}, {0xFE20, 0xFE52}, {0xFE54, 0xFE66}, {0xFE68, 0xFE6B}, {0xFE70, 0xFE74}, {0xFE76, 0xFEFC},
    {0xFF01, 0xFFBE}, {0xFFC2, 0xFFC7}, {0xFFCA, 0xFFCF}, {0xFFD2, 0xFFD7}, {0xFFDA, 0xFFDC}, {0xFFE0, 0xFFE6},
    {0xFFE8, 0xFFEE}, {0xFFFC, 0xFFFD}, {0x10000, 0x1000B}, {0x1000D, 0x10026}, {0x10028, 0x1003A},
    {0x1003C, 0x1003D}, {0x1003F, 0x1004D}, {0x10050, 0x1005D}, {0x10080, 0x100FA}, {0x10100, 0x10102},
    {0x10107, 0x10133}, {0x10137, 0x1018E}, {0x10190, 0x1019C}, {0x101A0, 0x101A0}, {0x101D0, 0x101FD},
    {0x10280, 0x1029C}, {0x102A0, 0x102D0}, {0x102E0, 0x102FB}, {0x10300, 0x10323}, {0x1032D, 0x1034A},
    {0x10350, 0x1037A}, {0x10380, 0x1039D}, {0x1039F, 0x103C3}, {0x103C8, 0x103D5}, {0x10400, 0x1049D},
    {0x104A0, 0x104A9}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10500, 0x10527}, {0x10530, 0x10563},
    {0x1056F, 0x1056F}, {0x10600, 0x10736}, {0x10740, 0x10755}, {0x10760, 0x10767}, {0x10800, 0x10805},
    {0x10808, 0x10808}, {0x1080A, 0x10835}, {0x10837, 0x10838}, {0x1083C, 0x1083C}, {0x1083F, 0x10855},
    {0x10857, 0x1089E}, {0x108A7, 0x108AF}, {0x108E0, 0x108F2}, {0x108F4, 0x108F5}, {0x108FB, 0x1091B},
    {0x1091F, 0x10939}, {0x1093F, 0x1093F}, {0x10980, 0x109B7}, {0x109BC, 0x109CF}, {0x109D2, 0x10A03},
    {0x10A05, 0x10A06}, {0x10A0C, 0x10A13}, {0x10A15, 0x10A17}, {0x10A19, 0x10A35}, {0x10A38, 0x10A3A},
    {0x10A3F, 0x10A48}, {0x10A50, 0x10A58}, {0x10A60, 0x10A9F}, {0x10AC0, 0x10AE6}, {0x10AEB, 0x10AF6},
    {0x10B00, 0x10B35}, {0x10B39, 0x10B55}, {0x10B58, 0x10B72}, {0x10B78, 0x10B91}, {0x10B99, 0x10B9C},
    {0x10BA9, 0x10BAF}, {0x10C00, 0x10C48}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x10CFA, 0x10D27},
    {0x10D30, 0x10D39}, {0x10E60, 0x10E7E}, {0x10E80, 0x10EA9}, {0x10EAB, 0x10EAD}, {0x10EB0, 0x10EB1},
    {0x10F00, 0x10F27}, {0x10F30, 0x10F59}, {0x10FB0, 0x10FCB}, {0x10FE0, 0x10FF6}, {0x11000, 0x1104D},
    {0x11052, 0x1106F}, {0x1107F, 0x110BC}, {0x110BE, 0x110C1}, {0x110D0, 0x110E8}, {0x110F0, 0x110F9},
    {0x11100, 0x11134}, {0x11136, 0x11147}, {0x11150, 0x11176}, {0x11180, 0x111DF}, {0x111E1, 0x111F4},
    {0x11200, 0x11211}, {0x11213, 0x1123E}, {0x11280, 0x11286}, {0x11288, 0x11288}, {0x1128A, 0x1128D},
    {0x1128F, 0x1129D}, {0x1129F, 0x112A9}, {0x112B0, 0x112EA}, {0x112F0, 0x112F9}, {0x11300, 0x11303},
    {0x11305, 0x1130C}, {0x1130F, 0x11310}, {0x11313, 0x11328}, {0x1132A, 0x11330}, {0x11332, 0x11333},
    {0x11335, 0x11339}, {0x1133B, 0x11344}, {0x11347, 0x11348}, {0x1134B, 0x1134D}, {0x11350, 0x11350},
    {0x11357, 0x11357}, {0x1135D, 0x11363}, {0x11366, 0x1136C}, {0x11370, 0x11374}, {0x11400, 0x1145B},
    {0x1145D, 0x11461}, {0x11480, 0x114C7}, {0x114D0, 0x114D9}, {0x11580, 0x115B5}, {0x115B8, 0x115DD},
    {0x11600, 0x11644}, {0x11650, 0x11659}, {0x11660, 0x1166C}, {0x11680, 0x116B8}, {0x116C0, 0x116C9},
    {0x11700, 0x1171A}, {0x1171D, 0x1172B}, {0x11730, 0x1173F}, {0x11800, 0x1183B}, {0x118A0, 0x118F2},
    {0x118FF, 0x11906}, {0x11909, 0x11909}, {0x1190C, 0x11913}, {0x11915, 0x11916}, {0x11918, 0x11935},
    {0x11937, 0x11938}, {0x1193B, 0x11946}, {0x11950, 0x11959}, {0x119A0, 0x119A7}, {0x119AA, 0x119D7},
    {0x119DA, 0x119E4}, {0x11A00, 0x11A47}, {0x11A50, 0x11AA2}, {0x11AC0, 0x11AF8}, {0x11C00, 0x11C08},
    {0x11C0A, 0x11C36}, {0x11C38, 0x11C45}, {0x11C50, 0x11C6C}, {0x11C70, 0x11C8F}, {0x11C92, 0x11CA7},
    {0x11CA9, 0x11CB6}, {0x11D00, 0x11D06}, {0x11D08, 0x11D09}, {0x11D0B, 0x11D36}, {0x11D3A, 0x11D3A},
    {0x11D3C, 0x11D3D}, {0x11D3F, 0x11D47}, {0x11D50, 0x11D59}, {0x11D60, 0x11D65}, {0x11D67, 0x11D68},
    {0x11D6A, 0x11D8E}, {0x11D90, 0x11D91}, {0x11D93, 0x11D98}, {0x11DA0, 0x11DA9}, {0x11EE0, 0x11EF8},
    {0x11FB0, 0x11FB0}, {0x11FC0, 0x11FF1}, {0x11FFF, 0x12399}, {0x12400, 0x1246E}, {0x12470, 0x12474},
    {0x12480, 0x12543}, {0x13000, 0x1342E}, {0x14400, 0x14646}, {0x16800, 0x16A38}, {0x16A40, 0x16A5E},
    {0x16A60, 0x16A69}, {0x16A6E, 0x16A6F}, {0x16AD0, 0x16AED}, {0x16AF0, 0x16AF5}, {0x16B00, 0x16B45},
    {0x16B50, 0x16B59}, {0x16B5B, 0x16B61}, {0x16B63, 0x16B77}, {0x16B7D, 0x16B8F}, {0x16E40, 0x16E9A},
    {0x16F00, 0x16F4A}, {0x16F4F, 0x16F87}, {0x16F8F, 0x16F9F}, {0x16FE0, 0x16FE4}, {0x16FF0, 0x16FF1},
    {0x17000, 0x187F7}, {0x18800, 0x18CD5}, {0x18D00, 0x18D08}, {0x1B000, 0x1B11E}, {0x1B150, 0x1B152},
    {0x1B164, 0x1B167}, {0x1B170, 0x1B2FB}, {0x1BC00, 0x1BC6A}, {0x1BC70, 0x1BC7C}, {0x1BC80, 0x1BC88},
    {0x1BC90, 0x1BC99}, {0x1BC9C, 0x1BC9F}, {0x1D000, 0x1D0F5}, {0x1D100, 0x1D126}, {0x1D129, 0x1D172},
    {0x1D17B, 0x1D1E8}, {0x1D200, 0x1D245}, {0x1D2E0, 0x1D2F3}, {0x1D300, 0x1D356}, {0x1D360, 0x1D378},
    {0x1D400, 0x1D454}, {0x1D456, 0x1D49C}, {0x1D49E, 0x1D49F}, {0x1D4A2, 0x1D4A2}, {0x1D4A5, 0x1D4A6},
    {0x1D4A9, 0x1D4AC}, {0x1D4AE, 0x1D4B9}, {0x1D4BB, 0x1D4BB}, {0x1D4BD, 0x1D4C3}, {0x1D4C5, 0x1D505},
    {0x1D507, 0x1D50A}, {0x1D50D, 0x1D514}, {0x1D516, 0x1D51C}, {0x1D51E, 0x1D539}, {0x1D53B, 0x1D53E},
    {0x1D540, 0x1D544}, {0x1D546, 0x1D546}, {0x1D54A, 0x1D550}, {0x1D552, 0x1D6A5}, {0x1D6A8, 0x1D7CB},
    {0x1D7CE, 0x1DA8B}, {0x1DA9B, 0x1DA9F}, {0x1DAA1, 0x1DAAF}, {0x1E000, 0x1E006}, {0x1E008, 0x1E018},
    {0x1E01B, 0x1E021}, {0x1E023, 0x1E024}, {0x1E026, 0x1E02A}, {0x1E100, 0x1E12C}, {0x1E130, 0x1E13D},
    {0x1E140, 0x1E149}, {0x1E14E, 0x1E14F}, {0x1E2C0, 0x1E2F9}, {0x1E2FF, 0x1E2FF}, {0x1E800, 0x1E8C4},
    {0x1E8C7, 0x1E8D6}, {0x1E900, 0x1E94B}, {0x1E950, 0x1E959}, {0x1E95E, 0x1E95F}, {0x1EC71, 0x1ECB4},
    {0x1ED01, 0x1ED3D}, {0x1EE00, 0x1EE03}, {0x1EE05, 0x1EE1F}, {0x1EE21, 0x1EE22}, {0x1EE24, 0x1EE24},
    {0x1EE27, 0x1EE27}, {0x1EE29, 0x1EE32}, {0x1EE34, 0x1EE37}, {0x1EE39, 0x1EE39}, {0x1EE3B, 0x1EE3B},
    {0x1EE42, 0x1EE42}, {0x1EE47, 0x1EE47}, {0x1EE49, 0x1EE49}, {0x1EE4B, 0x1EE4B}, {0x1EE4D, 0x1EE4F},
    {0x1EE51, 0x1EE52}, {0x1EE54, 0x1EE54}, {0x1EE57, 0x1EE57}, {0x1EE59, 0x1EE59}, {0x1EE5B, 0x1EE5B},
    {0x1EE5D, 0x1EE5D}, {0x1EE5F, 0x1EE5F}, {0x1EE61, 0x1EE62}, {0x1EE64, 0x1EE64}, {0x1EE67, 0x1EE6A},
    {0x1EE6C, 0x1EE72}, {0x1EE74, 0x1EE77}, {0x1EE79, 0x1EE7C}, {0x1EE7E, 0x1EE7E}, {0x1EE80, 0x1EE89},
    {0x1EE8B, 0x1EE9B}, {0x1EEA1, 0x1EEA3}, {0x1EEA5, 0x1EEA9}, {0x1EEAB, 0x1EEBB}, {0x1EEF0, 0x1EEF1},
    {0x1F000, 0x1F02B}, {0x1F030, 0x1F093}, {0x1F0A0, 0x1F0AE}, {0x1F0B1, 0x1F0BF}, {0x1F0C1, 0x1F0CF},
    {0x1F0D1, 0x1F0F5}, {0x1F100, 0x1F1AD}, {0x1F1E6, 0x1F202}, {0x1F210, 0x1F23B}, {0x1F240, 0x1F248},
    {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F6D7}, {0x1F6E0, 0x1F6EC}, {0x1F6F0, 0x1F6FC},
    {0x1F700, 0x1F773}, {0x1F780, 0x1F7D8}, {0x1F7E0, 0x1F7EB}, {0x1F800, 0x1F80B}, {0x1F810, 0x1F847},
    {0x1F850, 0x1F859}, {0x1F860, 0x1F887}, {0x1F890, 0x1F8AD}, {0x1F8B0, 0x1F8B1}, {0x1F900, 0x1F978},
    {0x1F97A, 0x1F9CB}, {0x1F9CD, 0x1FA53}, {0x1FA60, 0x1FA6D}, {0x1FA70, 0x1FA74}, {0x1FA78, 0x1FA7A},
    {0x1FA80, 0x1FA86}, {0x1FA90, 0x1FAA8}, {0x1FAB0, 0x1FAB6}, {0x1FAC0, 0x1FAC2}, {0x1FAD0, 0x1FAD6},
    {0x1FB00, 0x1FB92}, {0x1FB94, 0x1FBCA}, {0x1FBF0, 0x1FBF9}, {0x20000, 0x2A6DD}, {0x2A700, 0x2B734},
    {0x2B740, 0x2B81D}, {0x2B820, 0x2CEA1}, {0x2CEB0, 0x2EBE0}, {0x2F800, 0x2FA1D}, {0x30000, 0x3134A},
    {0xE0100, 0xE01EF},
};
// clang-format on

// unicode.To: binary search of the case ranges.
char32_t to_case(char32_t r, bool upper) {
  const auto* end = std::end(kCaseRanges);
  const auto* it =
      std::upper_bound(std::begin(kCaseRanges), end, r, [](char32_t x, const CaseRange& cr) { return x < cr.lo; });
  if (it == std::begin(kCaseRanges)) return r;
  --it;
  if (r > it->hi) return r;
  const int32_t delta = upper ? it->to_upper : it->to_lower;
  if (delta == kUL) return it->lo + (((r - it->lo) & ~char32_t{1}) | (upper ? 0 : 1));
  return static_cast<char32_t>(static_cast<int32_t>(r) + delta);
}

char32_t to_upper_rune(char32_t r) {
  if (r < 0x80) return r >= 'a' && r <= 'z' ? r - 32 : r;
  return to_case(r, true);
}

char32_t to_lower_rune(char32_t r) {
  if (r < 0x80) return r >= 'A' && r <= 'Z' ? r + 32 : r;
  return to_case(r, false);
}

bool is_print_rune(char32_t r) {
  const auto* it = std::upper_bound(std::begin(kPrintRanges), std::end(kPrintRanges), r,
                                    [](char32_t x, const auto& range) { return x < range.first; });
  return it != std::begin(kPrintRanges) && r <= (it - 1)->second;
}

}  // namespace

}  // namespace confidant::rego
