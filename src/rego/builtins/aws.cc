// providers.aws.sign_req(request, aws_config, time_ns): AWS Signature
// Version 4, exactly as OPA's topdown/providers.go and
// internal/providers/aws/signing_v4.go compute it.
//
// OPA's signer differs from AWS's reference in ways a policy can observe, and
// they are kept: the method is used as given (not upper-cased), the query
// string is the raw one (not re-encoded or sorted), header values are not
// trimmed, the payload hash is always the last line of the canonical request
// but only S3 and Glacier get an x-amz-content-sha256 header, and a request
// header overrides the signer's own value in the canonical request while the
// returned headers carry the signer's value.
//
// The URL is parsed the way Go's net/url.Parse does (its host, escaped path
// and raw query are what get signed), errors included.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

constexpr std::string_view kName = "providers.aws.sign_req";

// builtins.NewOperandErr: an operand error, reported as a type error.
[[noreturn]] void operand_error(int pos, const std::string& message) {
  throw BuiltinError("eval_type_error", std::string(kName) + ": operand " + std::to_string(pos) + " " + message);
}

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr) != 1) builtin_error(kName, "sha256 failed");
  return hex(out, len);
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  static const unsigned char empty = 0;
  const auto* k = key.empty() ? &empty : reinterpret_cast<const unsigned char*>(key.data());
  const auto* m = message.empty() ? &empty : reinterpret_cast<const unsigned char*>(message.data());
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), m, message.size(), out, &len) == nullptr)
    builtin_error(kName, "hmac failed");
  return std::string(reinterpret_cast<const char*>(out), len);
}

// strconv.Quote for the ASCII-ish text of URLs in error messages.
std::string go_quote(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(digits[c >> 4]);
          out.push_back(digits[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

// ------------------------------------------------------------ Go's net/url

enum class Enc { Path, Host, UserPassword, Fragment };

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int unhex(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

bool should_escape(unsigned char c, Enc mode) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return false;
  if (mode == Enc::Host) {
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      case ':': case '[': case ']': case '<': case '>': case '"': return false;
      default: break;
    }
  }
  switch (c) {
    case '-': case '_': case '.': case '~': return false;
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '?': case '@':
      switch (mode) {
        case Enc::Path: return c == '?';
        case Enc::UserPassword: return c == '@' || c == '/' || c == '?' || c == ':';
        case Enc::Fragment: return false;
        case Enc::Host: break;
      }
      break;
    default: break;
  }
  if (mode == Enc::Fragment && (c == '!' || c == '(' || c == ')' || c == '*')) return false;
  return true;
}

struct UrlError {
  std::string message;
};

// url.unescape: percent-decoding with net/url's per-component checks.
std::string unescape(std::string_view s, Enc mode) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2]))
        throw UrlError{"invalid URL escape " + go_quote(s.substr(i, std::min<size_t>(3, s.size() - i)))};
      if (mode == Enc::Host && unhex(s[i + 1]) < 8 && s.substr(i, 3) != "%25")
        throw UrlError{"invalid URL escape " + go_quote(s.substr(i, 3))};
      i += 3;
      continue;
    }
    if (mode == Enc::Host && c < 0x80 && should_escape(c, mode))
      throw UrlError{"invalid character " + go_quote(s.substr(i, 1)) + " in host name"};
    ++i;
  }
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '%') {
      out.push_back(static_cast<char>(unhex(s[i + 1]) << 4 | unhex(s[i + 2])));
      i += 3;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

std::string escape(std::string_view s, Enc mode) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (should_escape(c, mode)) {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

bool valid_encoded(std::string_view s, Enc mode) {
  for (unsigned char c : s) {
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      case ':': case '@': case '[': case ']': case '%': break;
      default:
        if (should_escape(c, mode)) return false;
    }
  }
  return true;
}

struct GoUrl {
  std::string scheme, opaque, host, path, raw_path, raw_query;

  // URL.EscapedPath.
  std::string escaped_path() const {
    if (!raw_path.empty() && valid_encoded(raw_path, Enc::Path)) {
      try {
        if (unescape(raw_path, Enc::Path) == path) return raw_path;
      } catch (const UrlError&) {
      }
    }
    if (path == "*") return "*";
    return escape(path, Enc::Path);
  }
};

bool valid_optional_port(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  for (char c : port.substr(1))
    if (c < '0' || c > '9') return false;
  return true;
}

std::string parse_host(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.rfind(']');
    if (close == std::string_view::npos) throw UrlError{"missing ']' in host"};
    const std::string_view port = host.substr(close + 1);
    if (!valid_optional_port(port)) throw UrlError{"invalid port " + go_quote(port) + " after host"};
    const size_t zone = host.substr(0, close).find("%25");
    if (zone != std::string_view::npos) {
      // RFC 6874 zone identifiers: the zone itself may hold any escaped bytes.
      return unescape(host.substr(0, zone), Enc::Host) + unescape(host.substr(zone, close - zone), Enc::Fragment) +
             unescape(host.substr(close), Enc::Host);
    }
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon);
    if (!valid_optional_port(port)) throw UrlError{"invalid port " + go_quote(port) + " after host"};
  }
  return unescape(host, Enc::Host);
}

std::string parse_authority(std::string_view authority) {
  const size_t at = authority.rfind('@');
  std::string host = parse_host(at == std::string_view::npos ? authority : authority.substr(at + 1));
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    for (unsigned char c : userinfo) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      std::string_view("-._:~!$&'()*+,;=%@").find(static_cast<char>(c)) != std::string_view::npos;
      if (!ok) throw UrlError{"net/url: invalid userinfo"};
    }
    const size_t colon = userinfo.find(':');
    unescape(userinfo.substr(0, colon), Enc::UserPassword);
    if (colon != std::string_view::npos) unescape(userinfo.substr(colon + 1), Enc::UserPassword);
  }
  return host;
}

// url.Parse. On failure the message is Go's *url.Error text.
bool parse_url(const std::string& raw, GoUrl& u, std::string& error) {
  const size_t hash = raw.find('#');
  const std::string rest_url = raw.substr(0, hash);
  try {
    for (unsigned char c : rest_url)
      if (c < 0x20 || c == 0x7f) throw UrlError{"net/url: invalid control character in URL"};
    if (rest_url == "*") {
      u.path = "*";
    } else {
      std::string rest = rest_url;
      for (size_t i = 0; i < rest_url.size(); ++i) {
        const char c = rest_url[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
          if (i == 0) break;
          continue;
        }
        if (c == ':') {
          if (i == 0) throw UrlError{"missing protocol scheme"};
          u.scheme = rest_url.substr(0, i);
          std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                         [](unsigned char x) { return static_cast<char>(x >= 'A' && x <= 'Z' ? x + 32 : x); });
          rest = rest_url.substr(i + 1);
        }
        break;
      }
      if (!rest.empty() && rest.back() == '?' && std::count(rest.begin(), rest.end(), '?') == 1) {
        rest.pop_back();  // ForceQuery: an empty query
      } else if (const size_t q = rest.find('?'); q != std::string::npos) {
        u.raw_query = rest.substr(q + 1);
        rest = rest.substr(0, q);
      }
      bool done = false;
      if (rest.empty() || rest[0] != '/') {
        if (!u.scheme.empty()) {
          u.opaque = rest;  // rootless path: opaque
          done = true;
        } else if (rest.substr(0, rest.find('/')).find(':') != std::string::npos) {
          throw UrlError{"first path segment in URL cannot contain colon"};
        }
      }
      if (!done) {
        if ((!u.scheme.empty() || rest.rfind("///", 0) != 0) && rest.rfind("//", 0) == 0) {
          std::string authority = rest.substr(2);
          rest.clear();
          if (const size_t slash = authority.find('/'); slash != std::string::npos) {
            rest = authority.substr(slash);
            authority.resize(slash);
          }
          u.host = parse_authority(authority);
        }
        u.path = unescape(rest, Enc::Path);
        u.raw_path = escape(u.path, Enc::Path) == rest ? "" : rest;
      }
    }
  } catch (const UrlError& e) {
    error = "parse " + go_quote(rest_url) + ": " + e.message;
    return false;
  }
  if (hash != std::string::npos) {
    try {
      unescape(std::string_view(raw).substr(hash + 1), Enc::Fragment);
    } catch (const UrlError& e) {
      error = "parse " + go_quote(raw) + ": " + e.message;
      return false;
    }
  }
  return true;
}

// --------------------------------------------------------------- dates

// time.Unix(0, ns).UTC() formatted as "20060102" and "20060102T150405Z".
void format_times(int64_t ns, std::string& date, std::string& stamp) {
  int64_t secs = ns / 1'000'000'000;
  if (ns % 1'000'000'000 < 0) --secs;  // floor towards -inf, as Go does
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Howard Hinnant's civil_from_days.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld%02lld%02lld", static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day));
  date = buf;
  std::snprintf(buf, sizeof buf, "%sT%02lld%02lld%02lldZ", date.c_str(), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  stamp = buf;
}

// ------------------------------------------------------------ the builtin

std::string string_of(const Value* v) { return v && v->is_string() ? v->str() : ""; }

// http.send's request keys, which validateHTTPRequestOperand checks the
// request against.
const Value& allowed_request_keys() {
  static const Value keys = [] {
    ValueVec ks;
    for (const char* k :
         {"method", "url", "body", "enable_redirect", "force_json_decode", "force_yaml_decode", "headers", "raw_body",
          "tls_use_system_certs", "tls_ca_cert", "tls_ca_cert_file", "tls_ca_cert_env_variable", "tls_client_cert",
          "tls_client_cert_file", "tls_client_cert_env_variable", "tls_client_key", "tls_client_key_file",
          "tls_client_key_env_variable", "tls_insecure_skip_verify", "tls_server_name", "timeout", "cache",
          "force_cache", "force_cache_duration_seconds", "raise_error", "caching_mode", "max_retry_attempts",
          "cache_ignored_headers"})
      ks.push_back(Value::string(k));
    return Value::set(std::move(ks));
  }();
  return keys;
}

Value aws_sign_req(BuiltinContext& ctx, std::span<const Value> args) {
  const Value& req = args[0];
  if (!req.is_object()) type_error(kName, 1, "object", req);
  const Value& config = args[1];
  if (!config.is_object()) type_error(kName, 1, "object", config);  // OPA reports operand 1 here too

  // validateAWSAuthParameters.
  ValueVec missing, invalid;
  for (const char* k : {"aws_access_key", "aws_region", "aws_secret_access_key", "aws_service"}) {
    const Value* v = config.get(k);
    if (!v)
      missing.push_back(Value::string(k));
    else if (!v->is_string())
      invalid.push_back(Value::string(k));
  }
  if (!missing.empty())
    operand_error(2, "missing required AWS config parameters(s): " + to_rego(Value::set(std::move(missing))));
  if (!invalid.empty())
    operand_error(2, "invalid values for required AWS config parameters(s): " + to_rego(Value::set(std::move(invalid))));
  const std::string service = string_of(config.get("aws_service"));
  const std::string access_key = string_of(config.get("aws_access_key"));
  const std::string secret_key = string_of(config.get("aws_secret_access_key"));
  const std::string region = string_of(config.get("aws_region"));
  const std::string session_token = string_of(config.get("aws_session_token"));

  // The signing time: an integral number of nanoseconds (operand "1" is OPA's).
  if (!args[2].is_number()) type_error(kName, 1, "number", args[2]);
  int64_t ts = 0;
  if (!args[2].to_int64(ts)) operand_error(3, "could not convert time_ns value into a unix timestamp");

  // validateHTTPRequestOperand (as for http.send).
  ValueVec unknown;
  for (const auto& [k, v] : req.object_items()) {
    (void)v;
    if (!allowed_request_keys().has(k)) unknown.push_back(k);
  }
  if (!unknown.empty()) operand_error(1, "invalid request parameters(s): " + to_rego(Value::set(std::move(unknown))));
  ValueVec absent;
  for (const char* k : {"method", "url"})
    if (!req.get(k)) absent.push_back(Value::string(k));
  if (!absent.empty()) operand_error(1, "missing required request parameters(s): " + to_rego(Value::set(std::move(absent))));

  const Value* headers = req.get("headers");
  if (headers && !headers->is_object()) type_error(kName, 0, "object", *headers);
  ValueVec bad_params;
  if (!req.get("url")->is_string()) bad_params.push_back(Value::string("url"));
  if (!req.get("method")->is_string()) bad_params.push_back(Value::string("method"));
  if (!bad_params.empty())
    operand_error(1, "invalid values for required request parameters(s): " + to_rego(Value::set(std::move(bad_params))));

  GoUrl url;
  std::string url_error;
  if (!parse_url(req.get("url")->str(), url, url_error)) builtin_error(kName, url_error);
  const std::string method = req.get("method")->str();

  // The payload: raw_body as given (non-strings count as empty), else body as
  // Go's json.Marshal writes it, else nothing.
  std::string body;
  if (const Value* raw = req.get("raw_body")) {
    body = string_of(raw);
  } else if (const Value* b = req.get("body")) {
    const BuiltinInfo* marshal = BuiltinRegistry::global().find("json.marshal");
    Value json = marshal->fn(ctx, std::span<const Value>(b, 1));
    body = json.str();
  }

  bool disable_payload_signing = false;
  if (const Value* d = config.get("disable_payload_signing")) {
    if (!d->is_bool()) operand_error(2, "invalid value for 'disable_payload_signing' in AWS config");
    disable_payload_signing = d->as_bool();
  }

  // The request's headers as OPA's objectToMap sees them: keys and values
  // that are not strings become "".
  std::map<std::string, std::string> request_headers;
  if (headers)
    for (const auto& [k, v] : headers->object_items()) request_headers[string_of(&k)] = string_of(&v);

  // --- SignV4 ---
  const std::string content_sha256 = disable_payload_signing ? "UNSIGNED-PAYLOAD" : sha256_hex(body);
  std::string date, stamp;
  format_times(ts, date, stamp);
  std::map<std::string, std::string> aws_headers = {{"host", url.host}, {"x-amz-date", stamp}};
  if (service == "s3" || service == "glacier") aws_headers["x-amz-content-sha256"] = content_sha256;
  if (!session_token.empty()) aws_headers["x-amz-security-token"] = session_token;

  std::map<std::string, std::string> to_sign = aws_headers;
  for (const auto& [k, v] : request_headers) {
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    if (lower == "authorization" || lower == "user-agent" || lower == "x-amzn-trace-id") continue;
    to_sign[lower] = v;
  }

  std::string canonical = method + "\n" + url.escaped_path() + "\n" + url.raw_query + "\n";
  std::string signed_headers;
  for (const auto& [k, v] : to_sign) {
    canonical += k + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += k;
  }
  canonical += "\n" + signed_headers + "\n" + content_sha256;

  const std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  const std::string string_to_sign = "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + sha256_hex(canonical);
  std::string key = hmac_sha256("AWS4" + secret_key, date);
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  const std::string signature = hmac_sha256(key, string_to_sign);
  const std::string authorization = "AWS4-HMAC-SHA256 Credential=" + access_key + "/" + scope +
                                    ",SignedHeaders=" + signed_headers +
                                    ",Signature=" + hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());

  // The original headers, then Authorization, then the signer's headers.
  ObjectItems out_headers;
  for (const auto& [k, v] : request_headers) out_headers.emplace_back(Value::string(k), Value::string(v));
  out_headers.emplace_back(Value::string("Authorization"), Value::string(authorization));
  for (const auto& [k, v] : aws_headers) out_headers.emplace_back(Value::string(k), Value::string(v));

  ObjectItems out;
  for (const auto& [k, v] : req.object_items())
    if (!(k.is_string() && k.str() == "headers")) out.emplace_back(k, v);
  out.emplace_back(Value::string("headers"), Value::object(std::move(out_headers)));
  return Value::object(std::move(out));
}

}  // namespace

void register_aws(BuiltinRegistry& r) { r.add("providers.aws.sign_req", 3, aws_sign_req); }

}  // namespace confidant::rego
