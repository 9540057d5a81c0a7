// net.cidr_* and net.lookup_ip_addr.
//
// OPA implements these with Go's net package, so this file models its data:
// an IP is 4 or 16 bytes (IPv4 addresses parsed from text are 16 bytes,
// v4-in-v6), a network is an IP plus a 4- or 16-byte mask, and text forms
// follow net.ParseIP / ParseCIDR (netip's strict grammar) and IP.String /
// IPNet.String (RFC 5952, IPv4-mapped addresses printed dotted).
#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

using Bytes = std::vector<uint8_t>;
using u128 = unsigned __int128;

constexpr uint8_t kV4InV6Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct IPNet {
  Bytes ip, mask;
};

// ------------------------------------------------------------------ parsing

// parseIPv4Fields: four decimal octets, no leading zeros.
bool parse_ipv4(std::string_view s, uint8_t* out) {
  int val = 0, pos = 0, dig = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      if (dig == 1 && val == 0) return false;  // leading zero
      val = val * 10 + (c - '0');
      ++dig;
      if (val > 255) return false;
    } else if (c == '.') {
      if (i == 0 || i == s.size() - 1 || s[i - 1] == '.' || pos == 3) return false;
      out[pos++] = static_cast<uint8_t>(val);
      val = dig = 0;
    } else {
      return false;
    }
  }
  if (pos < 3) return false;
  out[3] = static_cast<uint8_t>(val);
  return true;
}

// netip.parseIPv6 without zone support (a zone makes ParseIP/ParseCIDR fail).
bool parse_ipv6(std::string_view s, std::array<uint8_t, 16>& ip) {
  if (s.find('%') != std::string_view::npos) return false;
  ip.fill(0);
  int ellipsis = -1;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = 0;
    s = s.substr(2);
    if (s.empty()) return true;
  }
  int i = 0;
  while (i < 16) {
    size_t off = 0;
    uint32_t acc = 0;
    for (; off < s.size(); ++off) {
      const char c = s[off];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        break;
      }
      if (off > 3) return false;  // more than 4 digits in a group
      acc = (acc << 4) + static_cast<uint32_t>(d);
    }
    if (off == 0) return false;
    if (off < s.size() && s[off] == '.') {  // trailing embedded IPv4
      if ((ellipsis < 0 && i != 12) || i + 4 > 16) return false;
      if (!parse_ipv4(s, ip.data() + i)) return false;
      s = {};
      i += 4;
      break;
    }
    ip[static_cast<size_t>(i)] = static_cast<uint8_t>(acc >> 8);
    ip[static_cast<size_t>(i) + 1] = static_cast<uint8_t>(acc);
    i += 2;
    s = s.substr(off);
    if (s.empty()) break;
    if (s[0] != ':' || s.size() == 1) return false;
    s = s.substr(1);
    if (s[0] == ':') {
      if (ellipsis >= 0) return false;  // multiple ::
      ellipsis = i;
      s = s.substr(1);
      if (s.empty()) break;
    }
  }
  if (!s.empty()) return false;
  if (i < 16) {
    if (ellipsis < 0) return false;
    const int n = 16 - i;
    for (int j = i - 1; j >= ellipsis; --j) ip[static_cast<size_t>(j + n)] = ip[static_cast<size_t>(j)];
    for (int j = ellipsis; j < ellipsis + n; ++j) ip[static_cast<size_t>(j)] = 0;
  } else if (ellipsis >= 0) {
    return false;  // :: must stand for at least one group
  }
  return true;
}

// netip.ParseAddr (zones refused): 16 bytes plus whether it was IPv4 text.
struct Addr {
  std::array<uint8_t, 16> b{};
  bool is4 = false;
};
std::optional<Addr> parse_addr(std::string_view s) {
  for (char c : s) {
    Addr a;
    if (c == '.') {
      std::copy(std::begin(kV4InV6Prefix), std::end(kV4InV6Prefix), a.b.begin());
      if (!parse_ipv4(s, a.b.data() + 12)) return std::nullopt;
      a.is4 = true;
      return a;
    }
    if (c == ':') {
      if (!parse_ipv6(s, a.b)) return std::nullopt;
      return a;
    }
    if (c == '%') return std::nullopt;
  }
  return std::nullopt;
}

// net.ParseIP: always 16 bytes.
std::optional<Bytes> parse_ip(std::string_view s) {
  auto a = parse_addr(s);
  if (!a) return std::nullopt;
  return Bytes(a->b.begin(), a->b.end());
}

Bytes cidr_mask(int ones, int bits) {
  Bytes m(static_cast<size_t>(bits / 8), 0);
  for (int i = 0; i < ones; ++i) m[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
  return m;
}

bool is_v4_in_v6(const Bytes& ip) {
  return ip.size() == 16 && std::equal(std::begin(kV4InV6Prefix), std::end(kV4InV6Prefix), ip.begin());
}

// IP.To4: the 4-byte form of an IPv4 address, or empty.
Bytes to4(const Bytes& ip) {
  if (ip.size() == 4) return ip;
  if (is_v4_in_v6(ip)) return Bytes(ip.begin() + 12, ip.end());
  return {};
}

// IP.Mask.
Bytes ip_mask(Bytes ip, Bytes mask) {
  if (mask.size() == 16 && ip.size() == 4 &&
      std::all_of(mask.begin(), mask.begin() + 12, [](uint8_t b) { return b == 0xff; }))
    mask.erase(mask.begin(), mask.begin() + 12);
  if (mask.size() == 4 && is_v4_in_v6(ip)) ip.erase(ip.begin(), ip.begin() + 12);
  if (ip.size() != mask.size()) return {};
  for (size_t i = 0; i < ip.size(); ++i) ip[i] &= mask[i];
  return ip;
}

// net.ParseCIDR: the network (masked address and mask).
std::optional<IPNet> parse_cidr(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto a = parse_addr(s.substr(0, slash));
  if (!a) return std::nullopt;
  const std::string_view m = s.substr(slash + 1);
  int n = 0;
  size_t i = 0;
  for (; i < m.size() && m[i] >= '0' && m[i] <= '9'; ++i) {
    n = n * 10 + (m[i] - '0');
    if (n >= 0xFFFFFF) return std::nullopt;
  }
  const int bits = a->is4 ? 32 : 128;
  if (i == 0 || i != m.size() || n > bits) return std::nullopt;
  IPNet net;
  net.mask = cidr_mask(n, bits);
  net.ip = ip_mask(Bytes(a->b.begin(), a->b.end()), net.mask);
  return net;
}

// ---------------------------------------------------------------- rendering

std::string ip_string(const Bytes& ip) {
  if (ip.empty()) return "<nil>";
  if (ip.size() != 4 && ip.size() != 16) {
    static const char* hex = "0123456789abcdef";
    std::string out = "?";
    for (uint8_t b : ip) out += {hex[b >> 4], hex[b & 15]};
    return out;
  }
  const Bytes v4 = to4(ip);
  if (!v4.empty()) {
    return std::to_string(v4[0]) + "." + std::to_string(v4[1]) + "." + std::to_string(v4[2]) + "." +
           std::to_string(v4[3]);
  }
  // RFC 5952: the first longest run of two or more zero groups becomes "::".
  uint16_t g[8];
  for (int i = 0; i < 8; ++i)
    g[i] = static_cast<uint16_t>(ip[static_cast<size_t>(2 * i)] << 8 | ip[static_cast<size_t>(2 * i + 1)]);
  int zs = -1, ze = -1;
  for (int i = 0; i < 8; ++i) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i >= 2 && j - i > ze - zs) zs = i, ze = j;
  }
  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == zs) {
      out += "::";
      i = ze - 1;
      continue;
    }
    if (i > 0 && i != ze) out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[i]);
    out += buf;
  }
  return out;
}

// Leading ones of a canonical mask, or -1.
int mask_length(const Bytes& m) {
  int ones = 0;
  size_t i = 0;
  for (; i < m.size() && m[i] == 0xff; ++i) ones += 8;
  if (i < m.size()) {
    uint8_t b = m[i];
    while (b & 0x80) ++ones, b = static_cast<uint8_t>(b << 1);
    if (b != 0) return -1;
    for (++i; i < m.size(); ++i)
      if (m[i] != 0) return -1;
  }
  return ones;
}

// networkNumberAndMask: the comparable forms of a network (empty when odd).
bool network_and_mask(const IPNet& n, Bytes& ip, Bytes& m) {
  ip = to4(n.ip);
  if (ip.empty()) {
    ip = n.ip;
    if (ip.size() != 16) return false;
  }
  m = n.mask;
  if (m.size() == 4) return ip.size() == 4;
  if (m.size() == 16) {
    if (ip.size() == 4) m.erase(m.begin(), m.begin() + 12);
    return true;
  }
  return false;
}

std::string ipnet_string(const IPNet& n) {
  Bytes ip, m;
  if (!network_and_mask(n, ip, m)) return "<nil>";
  const int l = mask_length(m);
  if (l < 0) {
    static const char* hex = "0123456789abcdef";
    std::string ms;
    for (uint8_t b : m) ms += {hex[b >> 4], hex[b & 15]};
    return ip_string(ip) + "/" + ms;
  }
  return ip_string(ip) + "/" + std::to_string(l);
}

// IPNet.Contains.
bool contains(const IPNet& n, const Bytes& addr) {
  Bytes nn, m;
  if (!network_and_mask(n, nn, m)) return false;
  Bytes ip = to4(addr);
  if (ip.empty()) ip = addr;
  if (ip.size() != nn.size()) return false;
  for (size_t i = 0; i < ip.size(); ++i)
    if ((nn[i] & m[i]) != (ip[i] & m[i])) return false;
  return true;
}

u128 to_u128(const Bytes& b) {
  u128 v = 0;
  for (uint8_t x : b) v = v << 8 | x;
  return v;
}
Bytes from_u128(u128 v, size_t len) {
  Bytes b(len);
  for (size_t i = len; i-- > 0; v >>= 8) b[i] = static_cast<uint8_t>(v);
  return b;
}

// ---------------------------------------------------------------- builtins

// OPA reads every CIDR operand as "operand 1", whatever its position.
IPNet net_operand(std::string_view builtin, const Value& v) {
  if (!v.is_string()) type_error(builtin, 1, "string", v);
  auto n = parse_cidr(v.str());
  if (!n) builtin_error(builtin, "invalid CIDR address: " + v.str());
  return *n;
}

// net.cidr_contains on two terms; also the inner step of cidr_contains_matches.
bool cidr_contains(std::string_view builtin, const Value& a, const Value& b) {
  const IPNet na = net_operand(builtin, a);
  if (!b.is_string()) type_error(builtin, 1, "string", b);
  if (auto ip = parse_ip(b.str())) return contains(na, *ip);
  auto nb = parse_cidr(b.str());
  if (!nb) builtin_error(builtin, "not a valid textual representation of an IP address or CIDR: " + b.str());
  if (!contains(na, nb->ip)) return false;
  // B is inside A when both its first and last addresses are.
  const size_t bits = nb->mask.size() * 8;
  const int ones = mask_length(nb->mask);
  const u128 host =
      bits - static_cast<size_t>(ones) >= 128 ? ~u128{0} : (u128{1} << (bits - static_cast<size_t>(ones))) - 1;
  return contains(na, from_u128(to_u128(nb->ip) | host, bits / 8));
}

Value net_cidr_contains(BuiltinContext&, std::span<const Value> args) {
  return Value::boolean(cidr_contains("net.cidr_contains", args[0], args[1]));
}

Value net_cidr_intersects(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "net.cidr_intersects";
  const IPNet a = net_operand(kName, args[0]), b = net_operand(kName, args[1]);
  return Value::boolean(contains(a, b.ip) || contains(b, a.ip));
}

// Visits the (cidr, key) pairs of a cidr_contains_matches operand: a string,
// or a collection whose elements are strings or [cidr, ...] arrays (the key
// is the index, the element itself, or the object key). Anything else has no
// pairs. Elements are checked as they are reached, as in OPA.
template <typename F>
void for_each_match_term(const Value& v, int operand, F&& f) {
  auto cidr_of = [&](const Value& e) -> const Value& {
    if (e.is_string()) return e;
    if (e.is_array() && !e.array_items().empty()) return e.array_items()[0];
    builtin_error("net.cidr_contains_matches",
                  "operand " + std::to_string(operand) + ": element must be string or non-empty array");
  };
  if (v.is_string()) {
    f(v, v);
  } else if (v.is_array()) {
    const ValueVec& items = v.array_items();
    for (size_t i = 0; i < items.size(); ++i) f(cidr_of(items[i]), Value::integer(static_cast<int64_t>(i)));
  } else if (v.is_set()) {
    for (const Value& e : v.set_items()) f(cidr_of(e), e);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.object_items()) f(cidr_of(e), k);
  }
}

Value net_cidr_contains_matches(BuiltinContext&, std::span<const Value> args) {
  ValueVec result;
  for_each_match_term(args[0], 1, [&](const Value& cidr1, const Value& key1) {
    for_each_match_term(args[1], 2, [&](const Value& cidr2, const Value& key2) {
      if (cidr_contains("net.cidr_contains_matches", cidr1, cidr2)) result.push_back(Value::array({key1, key2}));
    });
  });
  return Value::set(std::move(result));
}

// Expanding more than this many addresses is refused: OPA would grind until
// its query is cancelled, we have no such deadline.
constexpr u128 kMaxExpand = u128{1} << 20;

Value net_cidr_expand(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "net.cidr_expand";
  const IPNet n = net_operand(kName, args[0]);
  const size_t host_bits = n.mask.size() * 8 - static_cast<size_t>(mask_length(n.mask));
  if (host_bits > 20) {
    builtin_error(kName, "CIDR too large to expand (more than " + std::to_string(static_cast<uint64_t>(kMaxExpand)) +
                             " addresses)");
  }
  ValueVec out;
  const u128 first = to_u128(n.ip);
  for (u128 i = 0; i < (u128{1} << host_bits); ++i)
    out.push_back(Value::string(ip_string(from_u128(first + i, n.ip.size()))));
  return Value::set(std::move(out));
}

Value net_cidr_is_valid(BuiltinContext&, std::span<const Value> args) {
  return Value::boolean(args[0].is_string() && parse_cidr(args[0].str()).has_value());
}

// --- net.cidr_merge ---

constexpr u128 kV4Mapped = u128{0xffff} << 32;

struct Range {
  u128 first = 0, last = 0;
  IPNet network;  // the input network, printed as is when not merged
  bool merged = false;
};

// Decomposes [first, last] into the fewest aligned CIDR blocks (what OPA's
// RangeToCIDRs produces), in IPv4 terms when both ends are IPv4-mapped.
void range_to_cidrs(u128 first, u128 last, std::vector<std::string>& out) {
  const bool v4 = (first >> 32) == (kV4Mapped >> 32) && (last >> 32) == (kV4Mapped >> 32);
  const int width = v4 ? 32 : 128;
  const u128 base = v4 ? kV4Mapped : 0;
  auto low_mask = [](int k) { return k >= 128 ? ~u128{0} : (u128{1} << k) - 1; };  // 2^k - 1
  u128 a = first - base;
  const u128 b = last - base;
  while (true) {
    // The largest block of 2^k addresses aligned at a that ends by b.
    int k = 0;
    while (k < width && (a & low_mask(k + 1)) == 0 && b - a >= low_mask(k + 1)) ++k;
    out.push_back(ipnet_string(IPNet{from_u128(a, v4 ? 4 : 16), cidr_mask(width - k, width)}));
    if (b - a == low_mask(k)) return;
    a += low_mask(k) + 1;
  }
}

Value net_cidr_merge(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "net.cidr_merge";
  const Value& v = args[0];
  if (!v.is_array() && !v.is_set()) builtin_error(kName, "operand must be an array");
  std::vector<Range> ranges;
  std::vector<std::string> out;
  for (const Value& e : v.is_array() ? v.array_items() : v.set_items()) {
    if (!e.is_string()) builtin_error(kName, "element must be string");
    IPNet n;
    if (auto ip = parse_ip(e.str())) {
      // A bare IPv4 address stands for its classful network (but keeps its
      // host bits when printed unmerged, as in OPA).
      const Bytes v4 = to4(*ip);
      if (v4.empty()) builtin_error(kName, "IPv6 invalid: needs prefix length");
      n.ip = *ip;
      n.mask = v4[0] < 0x80   ? cidr_mask(8, 32)
               : v4[0] < 0xC0 ? cidr_mask(16, 32)
               : v4[0] < 0xE0 ? cidr_mask(24, 32)
                              : Bytes{};
      if (n.mask.empty()) {  // class D/E: Go has no default mask and prints "<nil>"
        out.push_back("<nil>");
        continue;
      }
    } else if (auto c = parse_cidr(e.str())) {
      n = *c;
    } else {
      builtin_error(kName, "invalid CIDR address: " + e.str());
    }
    // The range in 16-byte space, IPv4 mapped into ::ffff:0:0/96.
    const Bytes first = ip_mask(n.ip, n.mask);
    const bool v4 = !to4(first).empty();
    const u128 lo = v4 ? (kV4Mapped | to_u128(to4(first))) : to_u128(first);
    const int host = static_cast<int>(n.mask.size()) * 8 - mask_length(n.mask);
    const u128 span = host >= 128 ? ~u128{0} : (u128{1} << host) - 1;
    ranges.push_back(Range{lo, lo | span, std::move(n), false});
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.last != b.last ? a.last < b.last : a.first < b.first; });
  // From the end, fold each range into its predecessor when they touch.
  for (size_t i = ranges.size(); i-- > 1;) {
    const u128 f = ranges[i].first;
    const u128 prev = f == 0 || f == kV4Mapped ? f : f - 1;
    if (prev <= ranges[i - 1].last) {
      ranges[i - 1] = Range{std::min(ranges[i - 1].first, f), ranges[i].last, {}, true};
      ranges.erase(ranges.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  for (const Range& r : ranges) {
    if (r.merged) {
      range_to_cidrs(r.first, r.last, out);
    } else {
      out.push_back(ipnet_string(r.network));
    }
  }
  ValueVec items;
  for (std::string& s : out) items.push_back(Value::string(std::move(s)));
  return Value::set(std::move(items));
}

Value net_lookup_ip_addr(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "net.lookup_ip_addr";
  arg_string(kName, args, 0);
  // Evaluation runs without network access; refuse rather than hang.
  builtin_error(kName, "lookups are not available");
}

}  // namespace

void register_net(BuiltinRegistry& r) {
  r.add("net.cidr_contains", 2, net_cidr_contains);
  r.add("net.cidr_intersects", 2, net_cidr_intersects);
  r.add("net.cidr_contains_matches", 2, net_cidr_contains_matches);
  r.add("net.cidr_expand", 1, net_cidr_expand);
  r.add("net.cidr_merge", 1, net_cidr_merge);
  r.add("net.cidr_is_valid", 1, net_cidr_is_valid);
  r.add("net.lookup_ip_addr", 1, net_lookup_ip_addr, /*deterministic=*/false);
}

}  // namespace confidant::rego
