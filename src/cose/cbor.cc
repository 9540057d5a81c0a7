#include "cose/cbor.h"

#include <cmath>
#include <cstring>
#include <set>

namespace confidant::cose {

CborValue CborValue::integer(int64_t v) {
  if (v >= 0) return uinteger(static_cast<uint64_t>(v));
  return negative(static_cast<uint64_t>(-(v + 1)));
}
CborValue CborValue::uinteger(uint64_t v) {
  CborValue c(CborType::kUnsigned);
  c.u_ = v;
  return c;
}
CborValue CborValue::negative(uint64_t arg) {
  CborValue c(CborType::kNegative);
  c.u_ = arg;
  return c;
}
CborValue CborValue::bytes(std::string_view b) {
  CborValue c(CborType::kBytes);
  c.s_ = b;
  return c;
}
CborValue CborValue::text(std::string_view s) {
  CborValue c(CborType::kText);
  c.s_ = s;
  return c;
}
CborValue CborValue::array(CborArray items) {
  CborValue c(CborType::kArray);
  c.a_ = std::move(items);
  return c;
}
CborValue CborValue::map(CborMap entries) {
  CborValue c(CborType::kMap);
  c.m_ = std::move(entries);
  return c;
}
CborValue CborValue::tag(uint64_t number, CborValue content) {
  CborValue c(CborType::kTag);
  c.u_ = number;
  c.a_.push_back(std::move(content));
  return c;
}
CborValue CborValue::simple(uint64_t v) {
  CborValue c(CborType::kSimple);
  c.u_ = v;
  return c;
}
CborValue CborValue::floating(double d) {
  CborValue c(CborType::kFloat);
  c.d_ = d;
  return c;
}

std::optional<int64_t> CborValue::as_int64() const {
  if (type_ == CborType::kUnsigned && u_ <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u_);
  if (type_ == CborType::kNegative && u_ <= static_cast<uint64_t>(INT64_MAX)) return -static_cast<int64_t>(u_) - 1;
  return std::nullopt;
}

const CborValue* CborValue::find(const CborValue& key) const {
  if (type_ != CborType::kMap) return nullptr;
  for (const auto& kv : m_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}
const CborValue* CborValue::find(int64_t key) const { return find(integer(key)); }
const CborValue* CborValue::find(std::string_view text_key) const { return find(text(text_key)); }

bool CborValue::operator==(const CborValue& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case CborType::kUnsigned:
    case CborType::kNegative:
    case CborType::kSimple: return u_ == o.u_;
    case CborType::kBytes:
    case CborType::kText: return s_ == o.s_;
    case CborType::kArray: return a_ == o.a_;
    case CborType::kMap: return m_ == o.m_;
    case CborType::kTag: return u_ == o.u_ && a_ == o.a_;
    case CborType::kFloat: return d_ == o.d_ || (std::isnan(d_) && std::isnan(o.d_));
  }
  return false;
}

// --- decoding -------------------------------------------------------------------

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

double half_to_double(uint16_t h) {
  int exp = (h >> 10) & 0x1F;
  int mant = h & 0x3FF;
  double v;
  if (exp == 0)
    v = std::ldexp(mant, -24);
  else if (exp != 31)
    v = std::ldexp(mant + 1024, exp - 25);
  else
    v = mant == 0 ? INFINITY : NAN;
  return (h & 0x8000) ? -v : v;
}

class Decoder {
 public:
  Decoder(std::string_view in, const CborLimits& limits, std::string& error)
      : in_(in), limits_(limits), error_(error) {}

  bool item(CborValue& out, size_t depth) {
    if (depth > limits_.max_depth) return fail(pos_, "nesting deeper than " + std::to_string(limits_.max_depth));
    size_t start = pos_;
    if (pos_ >= in_.size()) return fail(pos_, "unexpected end of input");
    auto ib = static_cast<uint8_t>(in_[pos_++]);
    int major = ib >> 5;
    int info = ib & 0x1F;
    if (major == 7) return simple_or_float(out, info, start);
    if (info == 31) {
      if (major == 0 || major == 1 || major == 6) return fail(start, "indefinite length not allowed for this type");
      if (!limits_.allow_indefinite) return fail(start, "indefinite length not allowed");
      return indefinite(out, major, depth, start);
    }
    uint64_t arg;
    if (!argument(info, start, arg)) return false;
    switch (major) {
      case 0: out = CborValue::uinteger(arg); return true;
      case 1: out = CborValue::negative(arg); return true;
      case 2:
      case 3: {
        if (arg > in_.size() - pos_) return fail(start, "string length " + std::to_string(arg) + " exceeds input");
        std::string_view s = in_.substr(pos_, static_cast<size_t>(arg));
        if (major == 3 && !valid_utf8(s)) return fail(start, "text string is not valid UTF-8");
        pos_ += static_cast<size_t>(arg);
        out = major == 2 ? CborValue::bytes(s) : CborValue::text(s);
        return true;
      }
      case 4: {
        // Each element takes at least one byte: a larger count cannot be real.
        if (arg > in_.size() - pos_) return fail(start, "array length " + std::to_string(arg) + " exceeds input");
        if (!count(start, arg)) return false;
        CborArray items(static_cast<size_t>(arg));
        for (auto& x : items)
          if (!item(x, depth + 1)) return false;
        out = CborValue::array(std::move(items));
        return true;
      }
      case 5: {
        if (arg > (in_.size() - pos_) / 2) return fail(start, "map length " + std::to_string(arg) + " exceeds input");
        if (!count(start, arg)) return false;
        CborMap entries;
        entries.reserve(static_cast<size_t>(arg));
        std::set<std::string> keys;
        for (uint64_t i = 0; i < arg; ++i) {
          size_t key_at = pos_;
          CborValue k, v;
          if (!item(k, depth + 1)) return false;
          if (!keys.insert(cbor_encode(k)).second) return fail(key_at, "duplicate map key");
          if (!item(v, depth + 1)) return false;
          entries.emplace_back(std::move(k), std::move(v));
        }
        out = CborValue::map(std::move(entries));
        return true;
      }
      case 6: {
        if (!count(start, 1)) return false;
        CborValue content;
        if (!item(content, depth + 1)) return false;
        out = CborValue::tag(arg, std::move(content));
        return true;
      }
    }
    return fail(start, "unreachable major type");
  }

  size_t pos() const { return pos_; }
  bool fail(size_t at, const std::string& why) {
    error_ = "CBOR: offset " + std::to_string(at) + ": " + why;
    return false;
  }

 private:
  bool count(size_t at, uint64_t n) {
    if (n > limits_.max_items || items_ + n > limits_.max_items)
      return fail(at, "more than " + std::to_string(limits_.max_items) + " items");
    items_ += static_cast<size_t>(n);
    return true;
  }

  bool argument(int info, size_t start, uint64_t& arg) {
    if (info < 24) {
      arg = static_cast<uint64_t>(info);
      return true;
    }
    if (info > 27) return fail(start, "reserved additional information value " + std::to_string(info));
    size_t len = size_t{1} << (info - 24);
    if (in_.size() - pos_ < len) return fail(start, "unexpected end of input in item head");
    arg = 0;
    for (size_t i = 0; i < len; ++i) arg = (arg << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    pos_ += len;
    if (limits_.require_shortest) {
      uint64_t min = info == 24 ? 24 : (uint64_t{1} << (8 * (len / 2)));
      if (arg < min) return fail(start, "integer or length not in shortest form");
    }
    return true;
  }

  bool simple_or_float(CborValue& out, int info, size_t start) {
    if (info < 24) {
      out = CborValue::simple(static_cast<uint64_t>(info));
      return true;
    }
    if (info == 24) {
      if (pos_ >= in_.size()) return fail(start, "unexpected end of input in simple value");
      auto v = static_cast<uint8_t>(in_[pos_++]);
      if (v < 32) return fail(start, "simple value " + std::to_string(v) + " in two-byte form");
      out = CborValue::simple(v);
      return true;
    }
    if (info >= 25 && info <= 27) {
      size_t len = size_t{1} << (info - 24);
      if (in_.size() - pos_ < len) return fail(start, "unexpected end of input in float");
      uint64_t bits = 0;
      for (size_t i = 0; i < len; ++i) bits = (bits << 8) | static_cast<uint8_t>(in_[pos_ + i]);
      pos_ += len;
      double d;
      if (len == 2) {
        d = half_to_double(static_cast<uint16_t>(bits));
      } else if (len == 4) {
        float f;
        auto b32 = static_cast<uint32_t>(bits);
        std::memcpy(&f, &b32, 4);
        d = f;
      } else {
        std::memcpy(&d, &bits, 8);
      }
      out = CborValue::floating(d);
      return true;
    }
    if (info == 31) return fail(start, "unexpected break");
    return fail(start, "reserved additional information value " + std::to_string(info));
  }

  bool at_break() { return pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) == 0xFF; }

  bool indefinite(CborValue& out, int major, size_t depth, size_t start) {
    if (major == 2 || major == 3) {
      std::string s;
      while (!at_break()) {
        size_t chunk_at = pos_;
        CborValue chunk;
        if (pos_ >= in_.size()) return fail(pos_, "unexpected end of input in indefinite string");
        if ((static_cast<uint8_t>(in_[pos_]) >> 5) != major || (static_cast<uint8_t>(in_[pos_]) & 0x1F) == 31)
          return fail(chunk_at, "indefinite string chunk of the wrong type");
        if (!item(chunk, depth + 1)) return false;
        s += chunk.str();
      }
      ++pos_;
      out = major == 2 ? CborValue::bytes(s) : CborValue::text(s);
      return true;
    }
    if (major == 4) {
      CborArray items;
      while (!at_break()) {
        if (pos_ >= in_.size()) return fail(pos_, "unexpected end of input in indefinite array");
        if (!count(pos_, 1)) return false;
        items.emplace_back();
        if (!item(items.back(), depth + 1)) return false;
      }
      ++pos_;
      out = CborValue::array(std::move(items));
      return true;
    }
    if (major == 5) {
      CborMap entries;
      std::set<std::string> keys;
      while (!at_break()) {
        if (pos_ >= in_.size()) return fail(pos_, "unexpected end of input in indefinite map");
        if (!count(pos_, 1)) return false;
        size_t key_at = pos_;
        CborValue k, v;
        if (!item(k, depth + 1)) return false;
        if (!keys.insert(cbor_encode(k)).second) return fail(key_at, "duplicate map key");
        if (!item(v, depth + 1)) return false;
        entries.emplace_back(std::move(k), std::move(v));
      }
      ++pos_;
      out = CborValue::map(std::move(entries));
      return true;
    }
    return fail(start, "indefinite length not allowed for this type");
  }

  std::string_view in_;
  const CborLimits& limits_;
  std::string& error_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

bool cbor_decode_prefix(std::string_view in, CborValue& out, size_t& used, std::string& error,
                        const CborLimits& limits) {
  if (in.size() > limits.max_input) {
    error = "CBOR: input of " + std::to_string(in.size()) + " bytes exceeds the limit of " +
            std::to_string(limits.max_input);
    return false;
  }
  Decoder d(in, limits, error);
  if (!d.item(out, 0)) return false;
  used = d.pos();
  return true;
}

bool cbor_decode(std::string_view in, CborValue& out, std::string& error, const CborLimits& limits) {
  size_t used = 0;
  if (!cbor_decode_prefix(in, out, used, error, limits)) return false;
  if (used != in.size()) {
    error = "CBOR: offset " + std::to_string(used) + ": " + std::to_string(in.size() - used) +
            " trailing bytes after the item";
    return false;
  }
  return true;
}

// --- encoding -------------------------------------------------------------------

void cbor_append_head(std::string& out, int major, uint64_t arg) {
  auto m = static_cast<uint8_t>(major << 5);
  auto put = [&](int info, int len) {
    out.push_back(static_cast<char>(m | info));
    for (int i = len - 1; i >= 0; --i) out.push_back(static_cast<char>((arg >> (8 * i)) & 0xFF));
  };
  if (arg < 24)
    out.push_back(static_cast<char>(m | arg));
  else if (arg <= 0xFF)
    put(24, 1);
  else if (arg <= 0xFFFF)
    put(25, 2);
  else if (arg <= 0xFFFFFFFFull)
    put(26, 4);
  else
    put(27, 8);
}

namespace {
void encode_into(std::string& out, const CborValue& v) {
  switch (v.type()) {
    case CborType::kUnsigned: cbor_append_head(out, 0, v.arg()); return;
    case CborType::kNegative: cbor_append_head(out, 1, v.arg()); return;
    case CborType::kBytes:
      cbor_append_head(out, 2, v.str().size());
      out += v.str();
      return;
    case CborType::kText:
      cbor_append_head(out, 3, v.str().size());
      out += v.str();
      return;
    case CborType::kArray:
      cbor_append_head(out, 4, v.items().size());
      for (const auto& x : v.items()) encode_into(out, x);
      return;
    case CborType::kMap:
      cbor_append_head(out, 5, v.entries().size());
      for (const auto& kv : v.entries()) {
        encode_into(out, kv.first);
        encode_into(out, kv.second);
      }
      return;
    case CborType::kTag:
      cbor_append_head(out, 6, v.arg());
      encode_into(out, v.content());
      return;
    case CborType::kSimple:
      if (v.arg() < 24) {
        out.push_back(static_cast<char>(0xE0 | v.arg()));
      } else {
        out.push_back(static_cast<char>(0xF8));
        out.push_back(static_cast<char>(v.arg()));
      }
      return;
    case CborType::kFloat: {
      double d = v.as_double();
      uint64_t bits;
      std::memcpy(&bits, &d, 8);
      out.push_back(static_cast<char>(0xFB));
      for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
      return;
    }
  }
}

std::string hex(std::string_view b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s.push_back(d[c >> 4]);
    s.push_back(d[c & 15]);
  }
  return s;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

void diag_into(std::string& out, const CborValue& v, size_t max_bytes) {
  switch (v.type()) {
    case CborType::kUnsigned: out += std::to_string(v.arg()); return;
    case CborType::kNegative:
      if (auto i = v.as_int64())
        out += std::to_string(*i);
      else
        out += "-1-" + std::to_string(v.arg());
      return;
    case CborType::kBytes:
      if (v.str().size() > max_bytes)
        out += "h'" + hex(v.str().substr(0, max_bytes)) + "...' (" + std::to_string(v.str().size()) + " bytes)";
      else
        out += "h'" + hex(v.str()) + "'";
      return;
    case CborType::kText: out += quoted(v.str()); return;
    case CborType::kArray: {
      out += "[";
      bool first = true;
      for (const auto& x : v.items()) {
        if (!first) out += ", ";
        first = false;
        diag_into(out, x, max_bytes);
      }
      out += "]";
      return;
    }
    case CborType::kMap: {
      out += "{";
      bool first = true;
      for (const auto& kv : v.entries()) {
        if (!first) out += ", ";
        first = false;
        diag_into(out, kv.first, max_bytes);
        out += ": ";
        diag_into(out, kv.second, max_bytes);
      }
      out += "}";
      return;
    }
    case CborType::kTag:
      out += std::to_string(v.arg()) + "(";
      diag_into(out, v.content(), max_bytes);
      out += ")";
      return;
    case CborType::kSimple:
      switch (v.arg()) {
        case CborValue::kFalse: out += "false"; return;
        case CborValue::kTrue: out += "true"; return;
        case CborValue::kNull: out += "null"; return;
        case CborValue::kUndefined: out += "undefined"; return;
        default: out += "simple(" + std::to_string(v.arg()) + ")"; return;
      }
    case CborType::kFloat: out += std::to_string(v.as_double()); return;
  }
}
}  // namespace

std::string cbor_encode(const CborValue& v) {
  std::string out;
  encode_into(out, v);
  return out;
}

std::string cbor_diagnostic(const CborValue& v, size_t max_bytes) {
  std::string out;
  diag_into(out, v, max_bytes);
  return out;
}

}  // namespace confidant::cose
