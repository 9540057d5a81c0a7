#include "cose/x509_chain.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace confidant::cose {

namespace {
struct StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
}  // namespace

bool verify_chain(const std::vector<Cert>& chain, const ChainOptions& options, std::string& error, int* code) {
  if (code) *code = 0;
  if (chain.empty()) {
    error = "empty certificate chain";
    return false;
  }
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  if (!store || !ctx || !untrusted || !X509_STORE_add_cert(store.get(), chain.back().get())) {
    error = "cannot set up chain verification: " + openssl_error();
    return false;
  }
  for (size_t i = 1; i + 1 < chain.size(); ++i) sk_X509_push(untrusted.get(), chain[i].get());
  if (!X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(), untrusted.get())) {
    error = "cannot set up chain verification: " + openssl_error();
    return false;
  }
  // The anchor is trusted as given, whether or not it is self-signed.
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (options.at) {
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(*options.at));
  } else {
    flags |= X509_V_FLAG_NO_CHECK_TIME;
  }
  X509_STORE_CTX_set_flags(ctx.get(), flags);
  int rc = X509_verify_cert(ctx.get());
  if (rc != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    if (code) *code = err;
    error = X509_verify_cert_error_string(err);
    ERR_clear_error();
    return false;
  }
  if (options.exact_path) {
    STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
    bool same = built && static_cast<size_t>(sk_X509_num(built)) == chain.size();
    for (size_t i = 0; same && i < chain.size(); ++i)
      same = X509_cmp(sk_X509_value(built, static_cast<int>(i)), chain[i].get()) == 0;
    if (!same) {
      if (code) *code = kChainNotExact;
      error = "the supplied chain is not the verified path";
      return false;
    }
  }
  return true;
}

bool parse_chain_der(const std::vector<std::string>& ders, std::vector<Cert>& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < ders.size(); ++i) {
    Cert c;
    if (!parse_cert_der(ders[i], c, error)) {
      error = "certificate " + std::to_string(i) + ": " + error;
      return false;
    }
    out.push_back(std::move(c));
  }
  return true;
}

namespace {
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}
}  // namespace

bool parse_rfc3339(std::string_view t, int64_t& out) {
  auto num = [&](size_t at, size_t len, int& v) {
    if (at + len > t.size()) return false;
    v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    return true;
  };
  int Y, M, D, h, m, s;
  if (t.size() < 20 || !num(0, 4, Y) || t[4] != '-' || !num(5, 2, M) || t[7] != '-' || !num(8, 2, D) ||
      (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !num(11, 2, h) || t[13] != ':' || !num(14, 2, m) ||
      t[16] != ':' || !num(17, 2, s))
    return false;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60) return false;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    ++i;
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == start) return false;
  }
  int64_t offset = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, oh) || i + 3 >= t.size() || t[i + 3] != ':' || !num(i + 4, 2, om)) return false;
    offset = (oh * 3600 + om * 60) * (t[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return false;
  }
  if (i != t.size()) return false;
  out = days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D)) * 86400 + h * 3600 + m * 60 + s - offset;
  return true;
}

std::string format_rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  if (!gmtime_r(&t, &tm)) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string subject_line(X509* cert) {
  BIO* b = BIO_new(BIO_s_mem());
  if (!b) return {};
  X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  std::string s = len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
  BIO_free(b);
  return s;
}

}  // namespace confidant::cose
