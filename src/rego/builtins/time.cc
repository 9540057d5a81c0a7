// time.*: OPA's time builtins, which are thin wrappers over Go's time package.
//
// To reproduce them exactly this file carries small ports of the Go pieces
// they expose: layout-driven Parse and Format (reference time "Mon Jan 2
// 15:04:05 MST 2006"), ParseDuration, Date normalisation, and time zones
// loaded from the system TZif files under /usr/share/zoneinfo, including the
// POSIX TZ rule in the file footer that Go applies after the last transition.
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/number.h"

namespace confidant::rego {
namespace {

constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kNanos = 1000000000;

// ----------------------------------------------------------------- calendar

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t floor_mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;
}

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int kDaysBefore[13] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

int days_in(int month, int64_t year) {
  if (month == 2 && is_leap(year)) return 29;
  return kDaysBefore[month] - kDaysBefore[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int month, day;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

// ---------------------------------------------------------------- locations

struct Zone {
  std::string name;
  int offset = 0;
  bool is_dst = false;
};
struct Transition {
  int64_t when;
  uint8_t index;
};
struct Location {
  std::string name;
  std::vector<Zone> zones;  // empty: UTC
  std::vector<Transition> tx;
  std::string extend;  // POSIX TZ rule for times after the last transition
};

constexpr int64_t kAlpha = INT64_MIN;  // Go's "beginning of time"
constexpr int64_t kOmega = INT64_MAX;

struct ZoneAt {
  std::string name;
  int offset = 0;
  int64_t start = kAlpha, end = kOmega;
  bool is_dst = false;
};

const Location& utc_location() {
  static const Location utc{"UTC", {}, {}, {}};
  return utc;
}

// --- POSIX TZ strings (Go's tzset and helpers) ---

struct Rule {
  enum Kind { kJulian, kDOY, kMonthWeekDay } kind = kJulian;
  int day = 0, week = 0, mon = 0, time = 0;
};

// A zone abbreviation: "EST" (3+ letters) or "<-03>".
bool tzset_name(std::string_view& s, std::string& name) {
  if (s.empty()) return false;
  if (s[0] != '<') {
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      if ((c >= '0' && c <= '9') || c == ',' || c == '-' || c == '+') {
        if (i < 3) return false;
        name = std::string(s.substr(0, i));
        s = s.substr(i);
        return true;
      }
    }
    if (s.size() < 3) return false;
    name = std::string(s);
    s = {};
    return true;
  }
  const size_t gt = s.find('>');
  if (gt == std::string_view::npos) return false;
  name = std::string(s.substr(1, gt - 1));
  s = s.substr(gt + 1);
  return true;
}

bool tzset_num(std::string_view& s, int min, int max, int& num) {
  if (s.empty()) return false;
  num = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    num = num * 10 + (s[i] - '0');
    if (num > max) return false;
  }
  if (i == 0 || num < min) return false;
  s = s.substr(i);
  return true;
}

// [+-]hh[:mm[:ss]] in seconds.
bool tzset_offset(std::string_view& s, int& off) {
  if (s.empty()) return false;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  int hours, mins = 0, secs = 0;
  if (!tzset_num(s, 0, 24 * 7, hours)) return false;
  if (!s.empty() && s[0] == ':') {
    s = s.substr(1);
    if (!tzset_num(s, 0, 59, mins)) return false;
    if (!s.empty() && s[0] == ':') {
      s = s.substr(1);
      if (!tzset_num(s, 0, 59, secs)) return false;
    }
  }
  off = hours * 3600 + mins * 60 + secs;
  if (neg) off = -off;
  return true;
}

bool tzset_rule(std::string_view& s, Rule& r) {
  if (s.empty()) return false;
  if (s[0] == 'J') {
    s = s.substr(1);
    if (!tzset_num(s, 1, 365, r.day)) return false;
    r.kind = Rule::kJulian;
  } else if (s[0] == 'M') {
    s = s.substr(1);
    if (!tzset_num(s, 1, 12, r.mon) || s.empty() || s[0] != '.') return false;
    s = s.substr(1);
    if (!tzset_num(s, 1, 5, r.week) || s.empty() || s[0] != '.') return false;
    s = s.substr(1);
    if (!tzset_num(s, 0, 6, r.day)) return false;
    r.kind = Rule::kMonthWeekDay;
  } else {
    if (!tzset_num(s, 0, 365, r.day)) return false;
    r.kind = Rule::kDOY;
  }
  if (s.empty() || s[0] != '/') {
    r.time = 2 * 3600;  // 2am is the default
    return true;
  }
  s = s.substr(1);
  return tzset_offset(s, r.time);
}

// Seconds after the start of `year` (UTC) at which rule r fires, given the
// offset in effect before it.
int64_t tzrule_time(int64_t year, const Rule& r, int off) {
  int64_t s = 0;
  switch (r.kind) {
    case Rule::kJulian:
      s = static_cast<int64_t>(r.day - 1) * kSecondsPerDay;
      if (is_leap(year) && r.day >= 60) s += kSecondsPerDay;
      break;
    case Rule::kDOY: s = static_cast<int64_t>(r.day) * kSecondsPerDay; break;
    case Rule::kMonthWeekDay: {
      // Zeller's congruence: day of week of the first of the month.
      const int64_t m1 = (r.mon + 9) % 12 + 1;
      int64_t yy0 = year;
      if (r.mon <= 2) --yy0;
      const int64_t yy1 = yy0 / 100, yy2 = yy0 % 100;
      int64_t dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
      if (dow < 0) dow += 7;
      int64_t d = r.day - dow;
      if (d < 0) d += 7;
      for (int i = 1; i < r.week; ++i) {
        if (d + 7 >= days_in(r.mon, year)) break;
        d += 7;
      }
      d += kDaysBefore[r.mon - 1];
      if (is_leap(year) && r.mon > 2) ++d;
      s = d * kSecondsPerDay;
      break;
    }
  }
  return s + r.time - off;
}

std::optional<ZoneAt> tzset(std::string_view s, int64_t last_tx_sec, int64_t sec) {
  std::string std_name, dst_name;
  int std_offset = 0, dst_offset = 0;
  if (!tzset_name(s, std_name) || !tzset_offset(s, std_offset)) return std::nullopt;
  // TZ offsets are added to local time to get UTC; Go's are the opposite.
  std_offset = -std_offset;
  if (s.empty() || s[0] == ',') return ZoneAt{std_name, std_offset, last_tx_sec, kOmega, false};
  if (!tzset_name(s, dst_name)) return std::nullopt;
  if (s.empty() || s[0] == ',') {
    dst_offset = std_offset + 3600;
  } else {
    if (!tzset_offset(s, dst_offset)) return std::nullopt;
    dst_offset = -dst_offset;
  }
  if (s.empty()) s = ",M3.2.0,M11.1.0";  // default DST rules per tzcode
  if (s[0] != ',' && s[0] != ';') return std::nullopt;
  s = s.substr(1);
  Rule start_rule, end_rule;
  if (!tzset_rule(s, start_rule) || s.empty() || s[0] != ',') return std::nullopt;
  s = s.substr(1);
  if (!tzset_rule(s, end_rule) || !s.empty()) return std::nullopt;

  const int64_t days = floor_div(sec, kSecondsPerDay);
  const int64_t year = civil_from_days(days).year;
  const int64_t year_start = days_from_civil(year, 1, 1) * kSecondsPerDay;  // "abs" in Go
  const int64_t ysec = (days - days_from_civil(year, 1, 1)) * kSecondsPerDay + sec % kSecondsPerDay;
  int64_t start_sec = tzrule_time(year, start_rule, std_offset);
  int64_t end_sec = tzrule_time(year, end_rule, dst_offset);
  bool dst_is_dst = true, std_is_dst = false;
  // Southern hemisphere: the labels flip, as in Go.
  if (end_sec < start_sec) {
    std::swap(start_sec, end_sec);
    std::swap(std_name, dst_name);
    std::swap(std_offset, dst_offset);
    std::swap(std_is_dst, dst_is_dst);
  }
  if (ysec < start_sec) return ZoneAt{std_name, std_offset, year_start, start_sec + year_start, std_is_dst};
  if (ysec >= end_sec)
    return ZoneAt{std_name, std_offset, end_sec + year_start, year_start + 365 * kSecondsPerDay, std_is_dst};
  return ZoneAt{dst_name, dst_offset, start_sec + year_start, end_sec + year_start, dst_is_dst};
}

// Location.lookupFirstZone: the zone in effect before the first transition.
size_t first_zone(const Location& l) {
  bool used = false;
  for (const Transition& t : l.tx) used = used || t.index == 0;
  if (!used) return 0;
  if (!l.tx.empty() && l.zones[l.tx[0].index].is_dst) {
    for (int zi = static_cast<int>(l.tx[0].index) - 1; zi >= 0; --zi)
      if (!l.zones[static_cast<size_t>(zi)].is_dst) return static_cast<size_t>(zi);
  }
  for (size_t zi = 0; zi < l.zones.size(); ++zi)
    if (!l.zones[zi].is_dst) return zi;
  return 0;
}

// Location.lookup: the zone in effect at unix time `sec`.
ZoneAt lookup(const Location& l, int64_t sec) {
  if (l.zones.empty()) return ZoneAt{"UTC", 0, kAlpha, kOmega, false};
  if (l.tx.empty() || sec < l.tx[0].when) {
    const Zone& z = l.zones[first_zone(l)];
    return ZoneAt{z.name, z.offset, kAlpha, l.tx.empty() ? kOmega : l.tx[0].when, z.is_dst};
  }
  // Binary search for the last transition at or before sec.
  size_t lo = 0, hi = l.tx.size();
  int64_t end = kOmega;
  while (hi - lo > 1) {
    const size_t m = (lo + hi) / 2;
    if (sec < l.tx[m].when) {
      end = l.tx[m].when;
      hi = m;
    } else {
      lo = m;
    }
  }
  const Zone& z = l.zones[l.tx[lo].index];
  ZoneAt out{z.name, z.offset, l.tx[lo].when, end, z.is_dst};
  if (lo == l.tx.size() - 1 && !l.extend.empty()) {
    if (auto e = tzset(l.extend, out.start, sec)) return *e;
  }
  return out;
}

// Location.lookupName: the offset of a zone abbreviation around unix time.
std::optional<int> lookup_name(const Location& l, const std::string& name, int64_t unix) {
  for (const Zone& z : l.zones) {
    if (z.name != name) continue;
    const ZoneAt at = lookup(l, unix - z.offset);
    if (at.name == z.name) return at.offset;
  }
  for (const Zone& z : l.zones)
    if (z.name == name) return z.offset;
  return std::nullopt;
}

// Go's LoadLocationFromTZData. nullopt for malformed data.
std::optional<Location> parse_tzif(const std::string& name, std::string_view data) {
  size_t pos = 0;
  bool bad = false;
  auto read = [&](size_t n) {
    if (n > data.size() - pos) {
      bad = true;
      pos = data.size();
      return std::string_view();
    }
    std::string_view r = data.substr(pos, n);
    pos += n;
    return r;
  };
  auto be = [](std::string_view b) {
    uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  };
  if (read(4) != "TZif") return std::nullopt;
  const std::string_view hdr = read(16);
  if (bad || (hdr[0] != 0 && hdr[0] != '2' && hdr[0] != '3')) return std::nullopt;
  const int version = hdr[0] == 0 ? 1 : hdr[0] - '0';
  enum { kUTCLocal, kStdWall, kLeap, kTime, kZone, kChar };
  size_t n[6];
  auto read_counts = [&] {
    for (size_t& c : n) {
      c = static_cast<size_t>(be(read(4)));
      if (c > data.size()) bad = true;  // cannot possibly fit
    }
  };
  read_counts();
  if (bad) return std::nullopt;
  bool is64 = false;
  if (version > 1) {
    // Skip the 32-bit block and the second header: the 64-bit data follows.
    read(n[kTime] * 5 + n[kZone] * 6 + n[kChar] + n[kLeap] * 8 + n[kStdWall] + n[kUTCLocal] + 20);
    is64 = true;
    read_counts();
    if (bad) return std::nullopt;
  }
  const size_t size = is64 ? 8 : 4;
  const std::string_view txtimes = read(n[kTime] * size);
  const std::string_view txzones = read(n[kTime]);
  const std::string_view zonedata = read(n[kZone] * 6);
  const std::string_view abbrev = read(n[kChar]);
  read(n[kLeap] * (size + 4));
  read(n[kStdWall]);
  read(n[kUTCLocal]);
  if (bad) return std::nullopt;
  Location loc;
  loc.name = name;
  const std::string_view rest = data.substr(pos);
  if (rest.size() > 2 && rest.front() == '\n' && rest.back() == '\n') loc.extend = rest.substr(1, rest.size() - 2);
  if (n[kZone] == 0) return std::nullopt;
  for (size_t i = 0; i < n[kZone]; ++i) {
    const std::string_view z = zonedata.substr(i * 6, 6);
    const size_t ni = static_cast<unsigned char>(z[5]);
    if (ni >= abbrev.size()) return std::nullopt;
    std::string_view nm = abbrev.substr(ni);
    nm = nm.substr(0, nm.find('\0'));
    loc.zones.push_back(
        Zone{std::string(nm), static_cast<int32_t>(static_cast<uint32_t>(be(z.substr(0, 4)))), z[4] != 0});
  }
  for (size_t i = 0; i < n[kTime]; ++i) {
    const uint64_t raw = be(txtimes.substr(i * size, size));
    const int64_t when = is64 ? static_cast<int64_t>(raw) : static_cast<int32_t>(static_cast<uint32_t>(raw));
    const auto idx = static_cast<uint8_t>(txzones[i]);
    if (idx >= loc.zones.size()) return std::nullopt;
    loc.tx.push_back(Transition{when, idx});
  }
  if (loc.tx.empty()) loc.tx.push_back(Transition{kAlpha, 0});  // fixed zones such as Etc/GMT+5
  return loc;
}

// Reads a zone file. Returns "" on success, else Go's error text for it.
std::string read_zone_file(const std::string& path, std::string& out, bool& missing) {
  struct stat st;
  missing = false;
  if (stat(path.c_str(), &st) != 0) {
    missing = true;
    return "open " + path + ": no such file or directory";
  }
  if (S_ISDIR(st.st_mode)) return "read " + path + ": is a directory";
  std::ifstream f(path, std::ios::binary);
  if (!f) return "open " + path + ": permission denied";
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return "";
}

// loadLocation over Go's platform zone directories.
std::optional<Location> load_from_sources(const std::string& name, const std::vector<std::string>& dirs,
                                          std::string& err) {
  std::string first_err;
  for (const std::string& dir : dirs) {
    const std::string path = dir.empty() ? name : dir + "/" + name;
    std::string data;
    bool missing;
    std::string e = read_zone_file(path, data, missing);
    if (e.empty()) {
      if (auto loc = parse_tzif(name, data)) return loc;
      e = "malformed time zone information";
    }
    if (first_err.empty() && !missing) first_err = e;
  }
  err = first_err.empty() ? "unknown time zone " + name : first_err;
  return std::nullopt;
}

const std::vector<std::string>& zone_dirs() {
  static const std::vector<std::string> dirs = {"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ",
                                                "/etc/zoneinfo"};
  return dirs;
}

// time.Local as Go initialises it from $TZ or /etc/localtime.
const Location& local_location() {
  static const Location local = [] {
    std::string err;
    const char* tz = std::getenv("TZ");
    if (tz == nullptr) {
      if (auto l = load_from_sources("localtime", {"/etc"}, err)) {
        l->name = "Local";
        return *l;
      }
    } else if (*tz != '\0') {
      std::string name = tz[0] == ':' ? tz + 1 : tz;
      if (!name.empty() && name[0] == '/') {
        if (auto l = load_from_sources(name, {""}, err)) {
          l->name = name == "/etc/localtime" ? "Local" : name;
          return *l;
        }
      } else if (!name.empty() && name != "UTC") {
        if (auto l = load_from_sources(name, zone_dirs(), err)) return *l;
      }
    }
    return utc_location();
  }();
  return local;
}

// time.LoadLocation, cached for the process (zone files do not change under us).
const Location* load_location(const std::string& name, std::string& err) {
  if (name.empty() || name == "UTC") return &utc_location();
  if (name == "Local") return &local_location();
  if (name.find("..") != std::string::npos || name[0] == '/' || name[0] == '\\') {
    err = "time: invalid location name";
    return nullptr;
  }
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Location>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  auto loc = load_from_sources(name, zone_dirs(), err);
  if (!loc) return nullptr;
  return cache.emplace(name, std::make_unique<Location>(std::move(*loc))).first->second.get();
}

// -------------------------------------------------------------------- times

struct Time {
  int64_t sec = 0;   // unix seconds
  int64_t nsec = 0;  // 0 <= nsec < 1e9
  const Location* loc = &utc_location();
};

Time from_unix_nano(int64_t ns) { return Time{floor_div(ns, kNanos), floor_mod(ns, kNanos), &utc_location()}; }

// The broken-down time in the time's location.
struct Fields {
  int64_t year;
  int month, day, yday, hour, min, sec, wday;
  ZoneAt zone;
};
Fields fields(const Time& t) {
  Fields f;
  f.zone = lookup(*t.loc, t.sec);
  const int64_t local = t.sec + f.zone.offset;
  const int64_t days = floor_div(local, kSecondsPerDay);
  const int64_t secs = local - days * kSecondsPerDay;
  const Civil c = civil_from_days(days);
  f.year = c.year;
  f.month = c.month;
  f.day = c.day;
  f.yday = static_cast<int>(days - days_from_civil(c.year, 1, 1)) + 1;
  f.hour = static_cast<int>(secs / 3600);
  f.min = static_cast<int>(secs / 60 % 60);
  f.sec = static_cast<int>(secs % 60);
  f.wday = static_cast<int>(floor_mod(days + 4, 7));  // 1970-01-01 was a Thursday
  return f;
}

// Go's norm: moves whole multiples of base from lo into hi.
void norm(__int128& hi, __int128& lo, int64_t base) {
  if (lo < 0) {
    const __int128 n = (-lo - 1) / base + 1;
    hi -= n;
    lo += n * base;
  }
  if (lo >= base) {
    const __int128 n = lo / base;
    hi += n;
    lo -= n * base;
  }
}

// time.Date. nullopt when the result is far outside anything representable
// (Go would overflow silently; every caller reports those as out of range).
std::optional<Time> make_date(__int128 year, __int128 month, __int128 day, __int128 hour, __int128 min, __int128 sec,
                              __int128 nsec, const Location& loc) {
  __int128 m = month - 1;
  norm(year, m, 12);
  norm(sec, nsec, kNanos);
  norm(min, sec, 60);
  norm(hour, min, 60);
  norm(day, hour, 24);
  constexpr __int128 kLimit = 1000000000000;  // years and days beyond this are way out of range
  if (year > kLimit || year < -kLimit || day > kLimit * 400 || day < -kLimit * 400) return std::nullopt;
  __int128 unix =
      static_cast<__int128>(days_from_civil(static_cast<int64_t>(year), static_cast<int>(m) + 1, 1)) + day - 1;
  unix = unix * kSecondsPerDay + hour * 3600 + min * 60 + sec;
  if (unix > (static_cast<__int128>(1) << 62) || unix < -(static_cast<__int128>(1) << 62)) return std::nullopt;
  auto u = static_cast<int64_t>(unix);
  // Look up the offset for the local time, then adjust if that lands across
  // a zone transition (exactly as Go does).
  const ZoneAt z = lookup(loc, u);
  if (z.offset != 0) {
    const int64_t utc = u - z.offset;
    int offset = z.offset;
    if (utc < z.start || utc >= z.end) offset = lookup(loc, utc).offset;
    u -= offset;
  }
  return Time{u, static_cast<int64_t>(nsec), &loc};
}

// OPA's toSafeUnixNano: the time as int64 nanoseconds, or an error.
Value unix_nano_value(std::string_view builtin, const std::optional<Time>& t) {
  if (t) {
    const __int128 ns = static_cast<__int128>(t->sec) * kNanos + t->nsec;
    if (ns >= INT64_MIN && ns <= INT64_MAX) return Value::integer(static_cast<int64_t>(ns));
  }
  builtin_error(builtin, "time outside of valid range");
}

// ------------------------------------------------------------------- layouts

constexpr const char* kLongMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kShortMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr const char* kLongDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kShortDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

// The layout names OPA accepts in place of a layout.
std::string_view named_layout(std::string_view layout) {
  static const std::pair<std::string_view, std::string_view> kNamed[] = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},          {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"}, {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},           {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},   {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},       {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
  };
  for (const auto& [name, value] : kNamed)
    if (layout == name) return value;
  return layout;
}
constexpr std::string_view kRFC3339 = "2006-01-02T15:04:05Z07:00";
constexpr std::string_view kRFC3339Nano = "2006-01-02T15:04:05.999999999Z07:00";

enum Std {
  kNone,
  kLongMonth,
  kMonth,
  kNumMonth,
  kZeroMonth,
  kLongWeekDay,
  kWeekDay,
  kDay,
  kUnderDay,
  kZeroDay,
  kUnderYearDay,
  kZeroYearDay,
  kHour,
  kHour12,
  kZeroHour12,
  kMinute,
  kZeroMinute,
  kSecond,
  kZeroSecond,
  kLongYear,
  kYear,
  kPM,
  kpm,
  kTZ,
  kISO8601TZ,
  kISO8601SecondsTZ,
  kISO8601ShortTZ,
  kISO8601ColonTZ,
  kISO8601ColonSecondsTZ,
  kNumTZ,
  kNumSecondsTz,
  kNumShortTZ,
  kNumColonTZ,
  kNumColonSecondsTZ,
  kFracSecond0,
  kFracSecond9,
};

struct Chunk {
  std::string_view prefix;  // literal text before the element
  Std std = kNone;
  std::string_view elem;    // the element's layout text
  std::string_view suffix;  // layout after the element
  int digits = 0;           // fractional seconds: number of digits
  char sep = '.';           // fractional seconds: separator
};

bool is_digit_at(std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }
bool starts_lower(std::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }

// Go's nextStdChunk: finds the first layout element.
Chunk next_chunk(std::string_view layout) {
  auto at = [&](size_t i, std::string_view w) { return layout.substr(i, w.size()) == w; };
  for (size_t i = 0; i < layout.size(); ++i) {
    auto make = [&](Std std, size_t len, size_t prefix_len) {
      return Chunk{layout.substr(0, prefix_len), std, layout.substr(prefix_len, i + len - prefix_len),
                   layout.substr(i + len)};
    };
    auto chunk = [&](Std std, size_t len) { return make(std, len, i); };
    switch (layout[i]) {
      case 'J':
        if (at(i, "January")) return chunk(kLongMonth, 7);
        if (at(i, "Jan") && !starts_lower(layout.substr(i + 3))) return chunk(kMonth, 3);
        break;
      case 'M':
        if (at(i, "Monday")) return chunk(kLongWeekDay, 6);
        if (at(i, "Mon") && !starts_lower(layout.substr(i + 3))) return chunk(kWeekDay, 3);
        if (at(i, "MST")) return chunk(kTZ, 3);
        break;
      case '0':
        if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
          static constexpr Std k0x[] = {kZeroMonth, kZeroDay, kZeroHour12, kZeroMinute, kZeroSecond, kYear};
          return chunk(k0x[layout[i + 1] - '1'], 2);
        }
        if (at(i, "002")) return chunk(kZeroYearDay, 3);
        break;
      case '1':
        if (at(i, "15")) return chunk(kHour, 2);
        return chunk(kNumMonth, 1);
      case '2':
        if (at(i, "2006")) return chunk(kLongYear, 4);
        return chunk(kDay, 1);
      case '_':
        if (at(i, "_2")) {
          if (at(i, "_2006")) return make(kLongYear, 5, i + 1);  // a literal "_" then the year
          return chunk(kUnderDay, 2);
        }
        if (at(i, "__2")) return chunk(kUnderYearDay, 3);
        break;
      case '3': return chunk(kHour12, 1);
      case '4': return chunk(kMinute, 1);
      case '5': return chunk(kSecond, 1);
      case 'P':
        if (at(i, "PM")) return chunk(kPM, 2);
        break;
      case 'p':
        if (at(i, "pm")) return chunk(kpm, 2);
        break;
      case '-':
        if (at(i, "-070000")) return chunk(kNumSecondsTz, 7);
        if (at(i, "-07:00:00")) return chunk(kNumColonSecondsTZ, 9);
        if (at(i, "-0700")) return chunk(kNumTZ, 5);
        if (at(i, "-07:00")) return chunk(kNumColonTZ, 6);
        if (at(i, "-07")) return chunk(kNumShortTZ, 3);
        break;
      case 'Z':
        if (at(i, "Z070000")) return chunk(kISO8601SecondsTZ, 7);
        if (at(i, "Z07:00:00")) return chunk(kISO8601ColonSecondsTZ, 9);
        if (at(i, "Z0700")) return chunk(kISO8601TZ, 5);
        if (at(i, "Z07:00")) return chunk(kISO8601ColonTZ, 6);
        if (at(i, "Z07")) return chunk(kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        // ".000" or ",999": fractional seconds, only if no digit follows the run.
        if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
          const char ch = layout[i + 1];
          size_t j = i + 1;
          while (j < layout.size() && layout[j] == ch) ++j;
          if (!is_digit_at(layout, j)) {
            Chunk c = chunk(ch == '0' ? kFracSecond0 : kFracSecond9, j - i);
            c.digits = static_cast<int>(j - (i + 1));
            c.sep = layout[i];
            return c;
          }
        }
        break;
      default: break;
    }
  }
  return Chunk{layout, kNone, {}, {}};
}

// Go's appendInt: optional '-' then at least `width` zero-padded digits.
void append_int(std::string& b, int64_t x, int width) {
  uint64_t u = static_cast<uint64_t>(x);
  if (x < 0) {
    b.push_back('-');
    u = 0 - u;
  }
  const std::string digits = std::to_string(u);
  if (static_cast<int>(digits.size()) < width) b.append(static_cast<size_t>(width) - digits.size(), '0');
  b += digits;
}

bool is_iso_tz(Std s) {
  return s == kISO8601TZ || s == kISO8601ColonTZ || s == kISO8601SecondsTZ || s == kISO8601ShortTZ ||
         s == kISO8601ColonSecondsTZ;
}

// Time.Format.
std::string format(const Time& t, std::string_view layout) {
  const Fields f = fields(t);
  std::string b;
  while (!layout.empty()) {
    const Chunk c = next_chunk(layout);
    b += c.prefix;
    if (c.std == kNone) break;
    layout = c.suffix;
    const int hr12 = f.hour % 12 == 0 ? 12 : f.hour % 12;
    switch (c.std) {
      case kYear: append_int(b, (f.year < 0 ? -f.year : f.year) % 100, 2); break;
      case kLongYear: append_int(b, f.year, 4); break;
      case kMonth: b += kShortMonths[f.month - 1]; break;
      case kLongMonth: b += kLongMonths[f.month - 1]; break;
      case kNumMonth: append_int(b, f.month, 0); break;
      case kZeroMonth: append_int(b, f.month, 2); break;
      case kWeekDay: b += kShortDays[f.wday]; break;
      case kLongWeekDay: b += kLongDays[f.wday]; break;
      case kDay: append_int(b, f.day, 0); break;
      case kUnderDay:
        if (f.day < 10) b.push_back(' ');
        append_int(b, f.day, 0);
        break;
      case kZeroDay: append_int(b, f.day, 2); break;
      case kUnderYearDay:
        if (f.yday < 100) b += f.yday < 10 ? "  " : " ";
        append_int(b, f.yday, 0);
        break;
      case kZeroYearDay: append_int(b, f.yday, 3); break;
      case kHour: append_int(b, f.hour, 2); break;
      case kHour12: append_int(b, hr12, 0); break;
      case kZeroHour12: append_int(b, hr12, 2); break;
      case kMinute: append_int(b, f.min, 0); break;
      case kZeroMinute: append_int(b, f.min, 2); break;
      case kSecond: append_int(b, f.sec, 0); break;
      case kZeroSecond: append_int(b, f.sec, 2); break;
      case kPM: b += f.hour >= 12 ? "PM" : "AM"; break;
      case kpm: b += f.hour >= 12 ? "pm" : "am"; break;
      case kTZ:
        if (!f.zone.name.empty()) {
          b += f.zone.name;
        } else {  // no name known: use the -0700 form
          int zone = f.zone.offset / 60;
          b.push_back(zone < 0 ? '-' : '+');
          if (zone < 0) zone = -zone;
          append_int(b, zone / 60, 2);
          append_int(b, zone % 60, 2);
        }
        break;
      case kFracSecond0:
      case kFracSecond9: {
        const bool trim = c.std == kFracSecond9;
        if (trim && (c.digits == 0 || t.nsec == 0)) break;
        std::string frac;
        append_int(frac, t.nsec, 9);
        if (c.digits < 9) frac.resize(static_cast<size_t>(c.digits));
        if (trim)
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
        if (!frac.empty() || !trim) {
          b.push_back(c.sep);
          b += frac;
        }
        break;
      }
      default: {  // numeric zone offsets
        const int offset = f.zone.offset;
        if (offset == 0 && is_iso_tz(c.std)) {
          b.push_back('Z');
          break;
        }
        int zone = offset / 60, abs_offset = offset;
        if (zone < 0) {
          b.push_back('-');
          zone = -zone;
          abs_offset = -abs_offset;
        } else {
          b.push_back('+');
        }
        append_int(b, zone / 60, 2);
        if (c.std == kISO8601ColonTZ || c.std == kNumColonTZ || c.std == kISO8601ColonSecondsTZ ||
            c.std == kNumColonSecondsTZ)
          b.push_back(':');
        if (c.std != kNumShortTZ && c.std != kISO8601ShortTZ) append_int(b, zone % 60, 2);
        if (c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz || c.std == kNumColonSecondsTZ ||
            c.std == kISO8601ColonSecondsTZ) {
          if (c.std == kNumColonSecondsTZ || c.std == kISO8601ColonSecondsTZ) b.push_back(':');
          append_int(b, abs_offset % 60, 2);
        }
        break;
      }
    }
  }
  return b;
}

// Go's time-package quote(): printable ASCII as is (with \" and \\), every
// byte of a control character or of a non-ASCII rune as \xNN.
std::string go_quote(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x80) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  out.push_back('"');
  return out;
}

// A time.Parse failure, rendered as Go's ParseError.Error().
struct ParseFailure {
  std::string message;
};
ParseFailure parse_error(std::string_view layout, std::string_view value, std::string_view layout_elem,
                         std::string_view value_elem, std::string_view message) {
  if (message.empty()) {
    return {"parsing time " + go_quote(value) + " as " + go_quote(layout) + ": cannot parse " + go_quote(value_elem) +
            " as " + go_quote(layout_elem)};
  }
  return {"parsing time " + go_quote(value) + std::string(message)};
}

// Go's leadingInt: leading decimal digits as uint64, failing past 2^63.
bool leading_int(std::string_view& s, uint64_t& x) {
  x = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (x > (uint64_t{1} << 63) / 10) return false;
    x = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (x > uint64_t{1} << 63) return false;
  }
  s = s.substr(i);
  return true;
}

// Go's time.atoi: optional sign, then digits only.
bool go_atoi(std::string_view s, int64_t& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  uint64_t q;
  if (!leading_int(s, q) || !s.empty()) return false;
  out = neg ? -static_cast<int64_t>(q) : static_cast<int64_t>(q);
  return true;
}

// getnum: one or two digits (exactly two when fixed).
bool getnum(std::string_view& s, bool fixed, int& out) {
  if (!is_digit_at(s, 0)) return false;
  if (!is_digit_at(s, 1)) {
    if (fixed) return false;
    out = s[0] - '0';
    s = s.substr(1);
    return true;
  }
  out = (s[0] - '0') * 10 + (s[1] - '0');
  s = s.substr(2);
  return true;
}

bool getnum3(std::string_view& s, bool fixed, int& out) {
  int n = 0, i = 0;
  for (; i < 3 && is_digit_at(s, static_cast<size_t>(i)); ++i) n = n * 10 + (s[static_cast<size_t>(i)] - '0');
  if (i == 0 || (fixed && i != 3)) return false;
  out = n;
  s = s.substr(static_cast<size_t>(i));
  return true;
}

// Case-insensitive prefix match against a table of names.
bool lookup_name_table(const char* const* tab, size_t n, std::string_view& val, int& idx) {
  for (size_t i = 0; i < n; ++i) {
    const std::string_view v = tab[i];
    if (val.size() < v.size()) continue;
    bool ok = true;
    for (size_t k = 0; ok && k < v.size(); ++k) {
      char c1 = val[k], c2 = v[k];
      if (c1 != c2) {
        c1 |= 0x20;
        c2 |= 0x20;
        ok = c1 == c2 && c1 >= 'a' && c1 <= 'z';
      }
    }
    if (ok) {
      idx = static_cast<int>(i);
      val = val.substr(v.size());
      return true;
    }
  }
  return false;
}

bool comma_or_period(char c) { return c == '.' || c == ','; }

// parseNanoseconds: value[0] is the separator, then nbytes-1 digits.
bool parse_nanoseconds(std::string_view value, size_t nbytes, int64_t& ns, std::string& range_err) {
  if (!comma_or_period(value[0])) return false;
  if (nbytes > 10) nbytes = 10;
  if (!go_atoi(value.substr(1, nbytes - 1), ns)) return false;
  if (ns < 0) {
    range_err = "fractional second";
    return true;
  }
  for (size_t i = 0; i < 10 - nbytes; ++i) ns *= 10;
  return true;
}

size_t parse_signed_offset(std::string_view value) {
  if (value.empty() || (value[0] != '-' && value[0] != '+')) return 0;
  std::string_view rest = value.substr(1);
  uint64_t x;
  if (!leading_int(rest, x) || rest.size() == value.size() - 1 || x > 23) return 0;
  return value.size() - rest.size();
}

// parseTimeZone: the length of a zone abbreviation at the start of value.
std::optional<size_t> parse_time_zone(std::string_view value) {
  if (value.size() < 3) return std::nullopt;
  if (value.substr(0, 4) == "ChST" || value.substr(0, 4) == "MeST") return 4;
  if (value.substr(0, 3) == "GMT") return 3 + (value.size() == 3 ? 0 : parse_signed_offset(value.substr(3)));
  if (value[0] == '+' || value[0] == '-') {
    const size_t n = parse_signed_offset(value);
    if (n == 0) return std::nullopt;
    return n;
  }
  size_t upper = 0;
  while (upper < 6 && upper < value.size() && value[upper] >= 'A' && value[upper] <= 'Z') ++upper;
  switch (upper) {
    case 5:
      if (value[4] == 'T') return 5;
      break;
    case 4:
      if (value[3] == 'T' || value.substr(0, 4) == "WITA") return 4;
      break;
    case 3: return 3;
    default: break;
  }
  return std::nullopt;
}

// skip: consumes the literal prefix, treating runs of spaces as equivalent.
bool skip(std::string_view& value, std::string_view prefix) {
  while (!prefix.empty()) {
    if (prefix[0] == ' ') {
      if (!value.empty() && value[0] != ' ') return false;
      while (!prefix.empty() && prefix[0] == ' ') prefix = prefix.substr(1);
      while (!value.empty() && value[0] == ' ') value = value.substr(1);
      continue;
    }
    if (value.empty() || value[0] != prefix[0]) return false;
    prefix = prefix.substr(1);
    value = value.substr(1);
  }
  return true;
}

// time.Parse(layout, value): the instant, or Go's error message.
std::variant<Time, ParseFailure> parse_time(const std::string_view alayout, const std::string_view avalue) {
  std::string_view layout = alayout, value = avalue;
  bool am_set = false, pm_set = false, utc_zone = false;
  int64_t year = 0;
  int month = -1, day = -1, yday = -1, hour = 0, min = 0, sec = 0;
  int64_t nsec = 0;
  int zone_offset = -1;  // -1 means none, as in Go (so an offset of -00:00:01 is lost too)
  std::string zone_name;

  while (true) {
    const Chunk c = next_chunk(layout);
    if (!skip(value, c.prefix)) return parse_error(alayout, avalue, c.prefix, value, "");
    if (c.std == kNone) {
      if (!value.empty()) return parse_error(alayout, avalue, "", value, ": extra text: " + go_quote(value));
      break;
    }
    layout = c.suffix;
    const std::string_view hold = value;
    bool ok = true;
    std::string range_err;
    switch (c.std) {
      case kYear: {
        int64_t y;
        if (value.size() < 2 || !go_atoi(value.substr(0, 2), y)) {
          ok = false;
          break;
        }
        value = value.substr(2);
        year = y >= 69 ? y + 1900 : y + 2000;
        break;
      }
      case kLongYear:
        if (value.size() < 4 || !is_digit_at(value, 0) || !go_atoi(value.substr(0, 4), year)) {
          ok = false;
          break;
        }
        value = value.substr(4);
        break;
      case kMonth:
      case kLongMonth:
        ok = lookup_name_table(c.std == kMonth ? kShortMonths : kLongMonths, 12, value, month);
        ++month;
        break;
      case kNumMonth:
      case kZeroMonth:
        ok = getnum(value, c.std == kZeroMonth, month);
        if (ok && (month <= 0 || month > 12)) range_err = "month";
        break;
      case kWeekDay:
      case kLongWeekDay: {
        int ignored;  // the weekday is only checked for syntax
        ok = lookup_name_table(c.std == kWeekDay ? kShortDays : kLongDays, 7, value, ignored);
        break;
      }
      case kDay:
      case kUnderDay:
      case kZeroDay:
        if (c.std == kUnderDay && !value.empty() && value[0] == ' ') value = value.substr(1);
        ok = getnum(value, c.std == kZeroDay, day);
        break;
      case kUnderYearDay:
      case kZeroYearDay:
        for (int i = 0; i < 2; ++i)
          if (c.std == kUnderYearDay && !value.empty() && value[0] == ' ') value = value.substr(1);
        ok = getnum3(value, c.std == kZeroYearDay, yday);
        break;
      case kHour:
        ok = getnum(value, false, hour);
        if (hour < 0 || hour >= 24) range_err = "hour";
        break;
      case kHour12:
      case kZeroHour12:
        ok = getnum(value, c.std == kZeroHour12, hour);
        if (hour < 0 || hour > 12) range_err = "hour";
        break;
      case kMinute:
      case kZeroMinute:
        ok = getnum(value, c.std == kZeroMinute, min);
        if (min < 0 || min >= 60) range_err = "minute";
        break;
      case kSecond:
      case kZeroSecond: {
        ok = getnum(value, c.std == kZeroSecond, sec);
        if (!ok) break;
        if (sec < 0 || sec >= 60) {
          range_err = "second";
          break;
        }
        // A fractional second in the value that the layout does not mention
        // is accepted here, unless the layout has one next.
        if (value.size() >= 2 && comma_or_period(value[0]) && is_digit_at(value, 1)) {
          const Std next = next_chunk(layout).std;
          if (next == kFracSecond0 || next == kFracSecond9) break;
          size_t n = 2;
          while (n < value.size() && is_digit_at(value, n)) ++n;
          ok = parse_nanoseconds(value, n, nsec, range_err);
          value = value.substr(n);
        }
        break;
      }
      case kPM:
      case kpm: {
        if (value.size() < 2) {
          ok = false;
          break;
        }
        const std::string_view p = value.substr(0, 2);
        value = value.substr(2);
        if (p == (c.std == kPM ? "PM" : "pm")) {
          pm_set = true;
        } else if (p == (c.std == kPM ? "AM" : "am")) {
          am_set = true;
        } else {
          ok = false;
        }
        break;
      }
      case kTZ: {
        if (value.substr(0, 3) == "UTC" && value.size() >= 3) {
          utc_zone = true;
          value = value.substr(3);
          break;
        }
        auto n = parse_time_zone(value);
        if (!n) {
          ok = false;
          break;
        }
        zone_name = std::string(value.substr(0, *n));
        value = value.substr(*n);
        break;
      }
      case kFracSecond0: {
        const size_t ndigit = 1 + static_cast<size_t>(c.digits);
        if (value.size() < ndigit) {
          ok = false;
          break;
        }
        ok = parse_nanoseconds(value, ndigit, nsec, range_err);
        value = value.substr(ndigit);
        break;
      }
      case kFracSecond9: {
        if (value.size() < 2 || !comma_or_period(value[0]) || !is_digit_at(value, 1)) break;  // omitted
        size_t i = 0;
        while (i + 1 < value.size() && is_digit_at(value, i + 1)) ++i;
        ok = parse_nanoseconds(value, 1 + i, nsec, range_err);
        value = value.substr(1 + i);
        break;
      }
      default: {  // numeric zone offsets
        if (is_iso_tz(c.std) && !value.empty() && value[0] == 'Z') {
          value = value.substr(1);
          utc_zone = true;
          break;
        }
        // -07, -0700, -070000, -07:00 or -07:00:00: Go checks the length and
        // colons first, then that each field is two digits.
        const bool colons = c.std == kISO8601ColonTZ || c.std == kNumColonTZ || c.std == kISO8601ColonSecondsTZ ||
                            c.std == kNumColonSecondsTZ;
        const bool seconds = c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz || c.std == kISO8601ColonSecondsTZ ||
                             c.std == kNumColonSecondsTZ;
        const bool hours_only = c.std == kISO8601ShortTZ || c.std == kNumShortTZ;
        const size_t len = hours_only ? 3 : 5 + (seconds ? 2 : 0) + (colons ? (seconds ? 2 : 1) : 0);
        if (value.size() < len || (colons && (value[3] != ':' || (seconds && value[6] != ':')))) {
          ok = false;
          break;
        }
        const size_t step = colons ? 3 : 2;
        const char sign = value[0];
        std::string_view hh = value.substr(1, 2);
        std::string_view mm = hours_only ? "00" : value.substr(1 + step, 2);
        std::string_view ss = seconds ? value.substr(1 + 2 * step, 2) : "00";
        value = value.substr(len);
        int h = 0, m = 0, s = 0;
        ok = getnum(hh, true, h) && getnum(mm, true, m) && getnum(ss, true, s);
        // Offsets of 24 hours or 60 minutes do occur in the wild: > not >=.
        if (h > 24) range_err = "time zone offset hour";
        if (m > 60) range_err = "time zone offset minute";
        if (s > 60) range_err = "time zone offset second";
        zone_offset = (h * 60 + m) * 60 + s;
        if (sign == '-') {
          zone_offset = -zone_offset;
        } else if (sign != '+') {
          ok = false;
        }
        break;
      }
    }
    if (!range_err.empty()) return parse_error(alayout, avalue, c.elem, value, ": " + range_err + " out of range");
    if (!ok) return parse_error(alayout, avalue, c.elem, hold, "");
  }
  if (pm_set && hour < 12) {
    hour += 12;
  } else if (am_set && hour == 12) {
    hour = 0;
  }
  // A day of the year gives the month and day (which must agree if also given).
  if (yday >= 0) {
    int d = 0, m = 0;
    if (is_leap(year)) {
      if (yday == 31 + 29) {
        m = 2;
        d = 29;
      } else if (yday > 31 + 29) {
        --yday;
      }
    }
    if (yday < 1 || yday > 365) return parse_error(alayout, avalue, "", value, ": day-of-year out of range");
    if (m == 0) {
      m = (yday - 1) / 31 + 1;
      if (kDaysBefore[m] < yday) ++m;
      d = yday - kDaysBefore[m - 1];
    }
    if (month >= 0 && month != m) return parse_error(alayout, avalue, "", value, ": day-of-year does not match month");
    month = m;
    if (day >= 0 && day != d) return parse_error(alayout, avalue, "", value, ": day-of-year does not match day");
    day = d;
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > days_in(month, year)) return parse_error(alayout, avalue, "", value, ": day out of range");

  // Only the instant matters to OPA, so the location Go would attach is not
  // modelled; what matters is which offset gets applied.
  std::optional<Time> t = make_date(year, month, day, hour, min, sec, nsec, utc_location());
  if (!t) return parse_error(alayout, avalue, "", value, ": day out of range");  // unreachable: 4-digit years
  if (utc_zone) return *t;
  if (zone_offset != -1) {
    t->sec -= zone_offset;
  } else if (!zone_name.empty()) {
    // An abbreviation counts only if the local zone knows it.
    if (auto off = lookup_name(local_location(), zone_name, t->sec)) t->sec -= *off;
  }
  return *t;
}

// time.ParseDuration: nanoseconds, or Go's error message.
std::variant<int64_t, std::string> parse_duration(std::string_view orig) {
  std::string_view s = orig;
  const std::string invalid = "time: invalid duration " + go_quote(orig);
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid;
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit_at(s, 0))) return invalid;
    const size_t pl = s.size();
    uint64_t v;
    if (!leading_int(s, v)) return invalid;
    const bool pre = pl != s.size();
    // Fraction digits accumulate until they would overflow (then are ignored).
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s = s.substr(1);
      size_t i = 0;
      bool overflow = false;
      for (; i < s.size() && is_digit_at(s, i); ++i) {
        if (overflow) continue;
        if (f > static_cast<uint64_t>(INT64_MAX) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t y = f * 10 + static_cast<uint64_t>(s[i] - '0');
        if (y > uint64_t{1} << 63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = i > 0;
      s = s.substr(i);
    }
    if (!pre && !post) return invalid;
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !is_digit_at(s, i)) ++i;
    if (i == 0) return "time: missing unit in duration " + go_quote(orig);
    const std::string_view u = s.substr(0, i);
    s = s.substr(i);
    uint64_t unit;
    if (u == "ns") {
      unit = 1;
    } else if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") {  // µ (micro sign) and μ (Greek mu)
      unit = 1000;
    } else if (u == "ms") {
      unit = 1000000;
    } else if (u == "s") {
      unit = 1000000000;
    } else if (u == "m") {
      unit = 60000000000;
    } else if (u == "h") {
      unit = 3600000000000;
    } else {
      return "time: unknown unit " + go_quote(u) + " in duration " + go_quote(orig);
    }
    if (v > (uint64_t{1} << 63) / unit) return invalid;
    v *= unit;
    if (f > 0) {
      // float64 keeps fractions of hours nanosecond accurate, as in Go.
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > uint64_t{1} << 63) return invalid;
    }
    d += v;
    if (d > uint64_t{1} << 63) return invalid;
  }
  if (neg) return static_cast<int64_t>(0 - d);
  if (d > static_cast<uint64_t>(INT64_MAX)) return invalid;
  return static_cast<int64_t>(d);
}

// ------------------------------------------------------------------ builtins

// Integer operand as OPA's builtins.IntOperand reports it.
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

// OPA's tzTime: a number of nanoseconds, or [ns, "zone"] or [ns, "zone", "layout"].
struct TzTime {
  Time t;
  std::string layout;
};
TzTime tz_time(std::string_view builtin, const Value& a) {
  static constexpr std::string_view kExpected = "either number (ns) or [number (ns), string (tz)]";
  const Location* loc = &utc_location();
  TzTime out;
  const Value* n = &a;
  if (a.is_array()) {
    const ValueVec& items = a.array_items();
    if (items.empty()) type_error(builtin, 1, kExpected, a);
    n = &items[0];
    if (!n->is_number()) type_error(builtin, 1, "number", *n);
    if (items.size() > 1) {
      if (!items[1].is_string()) type_error(builtin, 1, "string", items[1]);
      std::string err;
      loc = load_location(items[1].str(), err);
      if (!loc) builtin_error(builtin, err);
    }
    if (items.size() > 2) {
      if (!items[2].is_string()) type_error(builtin, 1, "string", items[2]);
      out.layout = items[2].str();
    }
  } else if (!a.is_number()) {
    type_error(builtin, 1, kExpected, a);
  }
  // OPA converts through a 64-bit big.Float and demands an exact int64, so a
  // fraction is refused unless that rounding makes it integral.
  int64_t ns;
  if (!n->to_int64(ns)) {
    auto f = binf_from_decimal(n->to_decimal());
    bool exact = false;
    if (f && f->mant != 0 && f->exp < 64 &&
        (f->exp >= 0 || mpz_scan1(f->mant.get_mpz_t(), 0) >= static_cast<mp_bitcnt_t>(-f->exp))) {
      const mpz_class i = binf_trunc(*f);
      exact = mpz_fits_slong_p(i.get_mpz_t());
      if (exact) ns = mpz_get_si(i.get_mpz_t());
    }
    if (!exact) builtin_error(builtin, "timestamp too big");
  }
  out.t = from_unix_nano(ns);
  out.t.loc = loc;
  return out;
}

Value time_now_ns(BuiltinContext& ctx, std::span<const Value>) { return Value::integer(ctx.now_ns); }

Value time_parse_ns(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "time.parse_ns";
  const std::string& layout = arg_string(kName, args, 0);
  const std::string& value = arg_string(kName, args, 1);
  auto r = parse_time(named_layout(layout), value);
  if (auto* f = std::get_if<ParseFailure>(&r)) builtin_error(kName, f->message);
  return unix_nano_value(kName, std::get<Time>(r));
}

Value time_parse_rfc3339_ns(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "time.parse_rfc3339_ns";
  auto r = parse_time(kRFC3339, arg_string(kName, args, 0));
  if (auto* f = std::get_if<ParseFailure>(&r)) builtin_error(kName, f->message);
  return unix_nano_value(kName, std::get<Time>(r));
}

Value time_parse_duration_ns(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "time.parse_duration_ns";
  auto r = parse_duration(arg_string(kName, args, 0));
  if (auto* e = std::get_if<std::string>(&r)) builtin_error(kName, *e);
  return Value::integer(std::get<int64_t>(r));
}

Value time_format(BuiltinContext&, std::span<const Value> args) {
  TzTime t = tz_time("time.format", args[0]);
  const std::string_view layout = t.layout.empty() ? kRFC3339Nano : named_layout(t.layout);
  return Value::string(format(t.t, layout));
}

Value time_date(BuiltinContext&, std::span<const Value> args) {
  const Fields f = fields(tz_time("time.date", args[0]).t);
  return Value::array({Value::integer(f.year), Value::integer(f.month), Value::integer(f.day)});
}

Value time_clock(BuiltinContext&, std::span<const Value> args) {
  const Fields f = fields(tz_time("time.clock", args[0]).t);
  return Value::array({Value::integer(f.hour), Value::integer(f.min), Value::integer(f.sec)});
}

Value time_weekday(BuiltinContext&, std::span<const Value> args) {
  return Value::string(kLongDays[fields(tz_time("time.weekday", args[0]).t).wday]);
}

Value time_add_date(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "time.add_date";
  const Time t = tz_time(kName, args[0]).t;
  const int64_t years = int_operand(kName, args, 1);
  const int64_t months = int_operand(kName, args, 2);
  const int64_t days = int_operand(kName, args, 3);
  const Fields f = fields(t);
  return unix_nano_value(kName,
                         make_date(static_cast<__int128>(f.year) + years, static_cast<__int128>(f.month) + months,
                                   static_cast<__int128>(f.day) + days, f.hour, f.min, f.sec, t.nsec, *t.loc));
}

// Calendar difference [years, months, days, hours, minutes, seconds]
// between two times, in the first one's location (OPA's port of icza/gox).
Value time_diff(BuiltinContext&, std::span<const Value> args) {
  Time t1 = tz_time("time.diff", args[0]).t;
  Time t2 = tz_time("time.diff", args[1]).t;
  t2.loc = t1.loc;
  if (t1.sec > t2.sec || (t1.sec == t2.sec && t1.nsec > t2.nsec)) std::swap(t1, t2);
  const Fields a = fields(t1), b = fields(t2);
  int64_t year = b.year - a.year;
  int64_t month = b.month - a.month, day = b.day - a.day, hour = b.hour - a.hour, min = b.min - a.min,
          sec = b.sec - a.sec;
  if (sec < 0) sec += 60, --min;
  if (min < 0) min += 60, --hour;
  if (hour < 0) hour += 24, --day;
  if (day < 0) day += days_in(a.month, a.year), --month;
  if (month < 0) month += 12, --year;
  return Value::array({Value::integer(year), Value::integer(month), Value::integer(day), Value::integer(hour),
                       Value::integer(min), Value::integer(sec)});
}

}  // namespace

void register_time(BuiltinRegistry& r) {
  r.add("time.now_ns", 0, time_now_ns, /*deterministic=*/false);
  r.add("time.parse_ns", 2, time_parse_ns);
  r.add("time.parse_rfc3339_ns", 1, time_parse_rfc3339_ns);
  r.add("time.parse_duration_ns", 1, time_parse_duration_ns);
  r.add("time.format", 1, time_format);
  r.add("time.date", 1, time_date);
  r.add("time.clock", 1, time_clock);
  r.add("time.weekday", 1, time_weekday);
  r.add("time.add_date", 4, time_add_date);
  r.add("time.diff", 2, time_diff);
}

}  // namespace confidant::rego
