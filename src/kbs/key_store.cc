#include "kbs/key_store.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kbs/encoding.h"
#include "kbs/jwt.h"
#include "kbs/key_wrap.h"

namespace confidant::kbs {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS keys(
  name TEXT PRIMARY KEY,
  policy_sealed BLOB,
  updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS key_versions(
  name TEXT NOT NULL REFERENCES keys(name),
  seq INTEGER NOT NULL,
  version TEXT NOT NULL UNIQUE,
  kty TEXT NOT NULL,
  key_size INTEGER NOT NULL,
  curve TEXT NOT NULL,
  exportable INTEGER NOT NULL,
  created INTEGER NOT NULL,
  sealed BLOB NOT NULL,
  PRIMARY KEY(name, seq));
CREATE TABLE IF NOT EXISTS audit(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  key_name TEXT, key_version TEXT, outcome TEXT NOT NULL,
  reason TEXT, issuer TEXT, remote TEXT);
CREATE TABLE IF NOT EXISTS secrets(name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
)sql";

// A prepared statement that finalises itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  std::string ColText(int i) {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, i))) : "";
  }
  std::string ColBlob(int i) {
    const void* b = sqlite3_column_blob(s_, i);
    return b ? std::string(static_cast<const char*>(b), static_cast<size_t>(sqlite3_column_bytes(s_, i))) : "";
  }
  bool ColNull(int i) { return sqlite3_column_type(s_, i) == SQLITE_NULL; }
  int64_t ColInt(int i) { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

std::string Aad(std::string_view kind, std::initializer_list<std::string_view> parts) {
  std::string aad = "confidant-kbs/v1/";
  aad += kind;
  for (auto p : parts) {
    aad += '\0';
    aad += p;
  }
  return aad;
}

std::string KindTag(KeyKind k) { return k == KeyKind::kRsa ? "RSA" : k == KeyKind::kEc ? "EC" : "oct"; }

std::string VersionAad(std::string_view name, std::string_view version, const KeySpec& spec) {
  return Aad("key", {name, version, KindTag(spec.kind), std::to_string(spec.size_bits), CurveName(spec.curve),
                     spec.exportable ? "1" : "0"});
}

// RAII transaction: BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Transaction() {
    if (ok_ && !done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool ok() const { return ok_; }
  bool Commit() {
    done_ = true;
    return sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool done_ = false;
};

Error DbError(sqlite3* db, const char* what) { return Err(std::string(what) + ": " + sqlite3_errmsg(db)); }

}  // namespace

bool ValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return false;
  }
  return true;
}

Result<std::string> LoadOrCreateMasterKey(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    auto key = RandomBytes(32);
    if (!key) return key.take_error();
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return Err("cannot create master key file " + path + ": " + std::strerror(errno));
    bool ok = write(fd, key->data(), key->size()) == static_cast<ssize_t>(key->size()) && fsync(fd) == 0;
    close(fd);
    if (!ok) {
      unlink(path.c_str());
      return Err("cannot write master key file " + path);
    }
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    return key;
  }
  if (fd < 0) return Err("cannot open master key file " + path + ": " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Err("master key " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    return Err("master key file " + path + " is accessible by group or others (needs mode 0600)");
  }
  if (st.st_size != 32) {
    close(fd);
    return Err("master key file " + path + " must hold exactly 32 bytes");
  }
  std::string key(32, '\0');
  ssize_t n = read(fd, key.data(), key.size());
  close(fd);
  if (n != 32) return Err("cannot read master key file " + path);
  return key;
}

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& db_path, std::string master_key) {
  if (master_key.size() != 32) return Err("master key must be 32 bytes");
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Err("cannot open database " + db_path + ": " + msg);
  }
  std::unique_ptr<KeyStore> store(new KeyStore(db, std::move(master_key)));
  sqlite3_busy_timeout(db, 10000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", kSchema}) {
    Status s = store->Exec(sql);
    if (!s) return Err("database " + db_path + ": " + s.error());
  }
  // A wrong master key must fail at start-up, not at the first release.
  Stmt probe(db, "SELECT name, version, kty, key_size, curve, exportable, sealed FROM key_versions LIMIT 1");
  if (probe.ok() && probe.Step() == SQLITE_ROW) {
    KeySpec spec;
    std::string kty = probe.ColText(2);
    spec.kind = kty == "RSA" ? KeyKind::kRsa : kty == "EC" ? KeyKind::kEc : KeyKind::kOct;
    spec.size_bits = static_cast<int>(probe.ColInt(3));
    spec.curve = ParseCurve(probe.ColText(4));
    spec.exportable = probe.ColInt(5) != 0;
    auto opened = AeadOpen(store->master_key_, probe.ColBlob(6), VersionAad(probe.ColText(0), probe.ColText(1), spec));
    if (!opened) return Err("database " + db_path + " was not written with this master key (" + opened.error() + ")");
  }
  return store;
}

KeyStore::~KeyStore() {
  sqlite3_close_v2(db_);
  OPENSSL_cleanse(master_key_.data(), master_key_.size());
}

Status KeyStore::Exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return Err(m);
  }
  return Status::Ok();
}

Result<KeyVersionRecord> KeyStore::CreateVersion(std::string_view name, const KeyMaterial& material,
                                                 const std::optional<std::string>& policy_json) {
  if (!ValidKeyName(name)) return Err("invalid key name (1-127 characters of 0-9, a-z, A-Z, -)");
  auto rand = RandomBytes(16);
  if (!rand) return rand.take_error();
  KeyVersionRecord rec;
  rec.name = std::string(name);
  rec.version = HexEncode(*rand);
  rec.created = NowSeconds();
  rec.material = material;
  auto sealed = AeadSeal(master_key_, material.secret, VersionAad(name, rec.version, material.spec));
  if (!sealed) return sealed.take_error();
  std::optional<std::string> policy_sealed;
  if (policy_json) {
    auto p = AeadSeal(master_key_, *policy_json, Aad("policy", {name}));
    if (!p) return p.take_error();
    policy_sealed = std::move(*p);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Transaction tx(db_);
  if (!tx.ok()) return DbError(db_, "begin");
  {
    Stmt up(db_, policy_sealed ? "INSERT INTO keys(name, policy_sealed, updated) VALUES(?1, ?2, ?3) "
                                 "ON CONFLICT(name) DO UPDATE SET policy_sealed = ?2, updated = ?3"
                               : "INSERT INTO keys(name, policy_sealed, updated) VALUES(?1, NULL, ?3) "
                                 "ON CONFLICT(name) DO UPDATE SET updated = ?3");
    if (!up.ok()) return DbError(db_, "prepare");
    up.Text(1, name).Int(3, rec.created);
    if (policy_sealed) up.Blob(2, *policy_sealed);
    if (up.Step() != SQLITE_DONE) return DbError(db_, "insert key");
  }
  {
    Stmt seq(db_, "SELECT COALESCE(MAX(seq), 0) + 1 FROM key_versions WHERE name = ?1");
    seq.Text(1, name);
    if (seq.Step() != SQLITE_ROW) return DbError(db_, "next version");
    rec.seq = seq.ColInt(0);
  }
  {
    Stmt ins(db_,
             "INSERT INTO key_versions(name, seq, version, kty, key_size, curve, exportable, created, sealed) "
             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    ins.Text(1, name)
        .Int(2, rec.seq)
        .Text(3, rec.version)
        .Text(4, KindTag(material.spec.kind))
        .Int(5, material.spec.size_bits)
        .Text(6, CurveName(material.spec.curve))
        .Int(7, material.spec.exportable ? 1 : 0)
        .Int(8, rec.created)
        .Blob(9, *sealed);
    if (ins.Step() != SQLITE_DONE) return DbError(db_, "insert key version");
  }
  if (!tx.Commit()) return DbError(db_, "commit");
  return rec;
}

Status KeyStore::SetPolicy(std::string_view name, std::string_view policy_json) {
  auto sealed = AeadSeal(master_key_, policy_json, Aad("policy", {name}));
  if (!sealed) return sealed.take_error();
  std::lock_guard<std::mutex> lock(mu_);
  Stmt up(db_, "UPDATE keys SET policy_sealed = ?2, updated = ?3 WHERE name = ?1");
  up.Text(1, name).Blob(2, *sealed).Int(3, NowSeconds());
  if (up.Step() != SQLITE_DONE) return DbError(db_, "update policy");
  if (sqlite3_changes(db_) == 0) return Err("key \"" + std::string(name) + "\" does not exist");
  return Status::Ok();
}

Result<KeyVersionRecord> KeyStore::Get(std::string_view name, std::string_view version) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, version.empty()
                  ? "SELECT seq, version, kty, key_size, curve, exportable, created, sealed FROM key_versions "
                    "WHERE name = ?1 ORDER BY seq DESC LIMIT 1"
                  : "SELECT seq, version, kty, key_size, curve, exportable, created, sealed FROM key_versions "
                    "WHERE name = ?1 AND version = ?2");
  q.Text(1, name);
  if (!version.empty()) q.Text(2, version);
  int rc = q.Step();
  if (rc == SQLITE_DONE) {
    return Err(version.empty() ? "key \"" + std::string(name) + "\" does not exist"
                               : "key \"" + std::string(name) + "\" has no version \"" + std::string(version) + "\"");
  }
  if (rc != SQLITE_ROW) return DbError(db_, "read key");
  KeyVersionRecord rec;
  rec.name = std::string(name);
  rec.seq = q.ColInt(0);
  rec.version = q.ColText(1);
  std::string kty = q.ColText(2);
  KeySpec& spec = rec.material.spec;
  spec.kind = kty == "RSA" ? KeyKind::kRsa : kty == "EC" ? KeyKind::kEc : KeyKind::kOct;
  spec.size_bits = static_cast<int>(q.ColInt(3));
  spec.curve = ParseCurve(q.ColText(4));
  spec.exportable = q.ColInt(5) != 0;
  rec.created = q.ColInt(6);
  auto secret = AeadOpen(master_key_, q.ColBlob(7), VersionAad(name, rec.version, spec));
  if (!secret) return Err("key \"" + std::string(name) + "\": " + secret.error());
  rec.material.secret = std::move(*secret);
  return rec;
}

Result<std::optional<std::string>> KeyStore::GetPolicy(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT policy_sealed FROM keys WHERE name = ?1");
  q.Text(1, name);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return Err("key \"" + std::string(name) + "\" does not exist");
  if (rc != SQLITE_ROW) return DbError(db_, "read policy");
  if (q.ColNull(0)) return std::optional<std::string>();
  auto policy = AeadOpen(master_key_, q.ColBlob(0), Aad("policy", {name}));
  if (!policy) return Err("release policy of \"" + std::string(name) + "\": " + policy.error());
  return std::optional<std::string>(std::move(*policy));
}

Result<std::vector<std::string>> KeyStore::ListVersions(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT version FROM key_versions WHERE name = ?1 ORDER BY seq");
  q.Text(1, name);
  std::vector<std::string> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.ColText(0));
  if (rc != SQLITE_DONE) return DbError(db_, "list versions");
  return out;
}

Result<std::vector<std::string>> KeyStore::ListKeys() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT name FROM keys ORDER BY name");
  std::vector<std::string> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.ColText(0));
  if (rc != SQLITE_DONE) return DbError(db_, "list keys");
  return out;
}

Status KeyStore::Audit(const AuditEntry& e) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt ins(db_,
           "INSERT INTO audit(time, key_name, key_version, outcome, reason, issuer, remote) "
           "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  auto clip = [](const std::string& s) { return std::string_view(s).substr(0, 2048); };
  ins.Int(1, e.time ? e.time : NowSeconds())
      .Text(2, clip(e.key_name))
      .Text(3, clip(e.key_version))
      .Text(4, clip(e.outcome))
      .Text(5, clip(e.reason))
      .Text(6, clip(e.issuer))
      .Text(7, clip(e.remote));
  if (ins.Step() != SQLITE_DONE) return DbError(db_, "audit");
  return Status::Ok();
}

Result<std::vector<AuditEntry>> KeyStore::RecentAudit(size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_,
         "SELECT id, time, key_name, key_version, outcome, reason, issuer, remote FROM audit "
         "ORDER BY id DESC LIMIT ?1");
  q.Int(1, static_cast<int64_t>(limit));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(AuditEntry{q.ColInt(0), q.ColInt(1), q.ColText(2), q.ColText(3), q.ColText(4), q.ColText(5),
                             q.ColText(6), q.ColText(7)});
  }
  if (rc != SQLITE_DONE) return DbError(db_, "read audit");
  return out;
}

Result<std::optional<std::string>> KeyStore::GetSecret(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT sealed FROM secrets WHERE name = ?1");
  q.Text(1, name);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return DbError(db_, "read secret");
  auto v = AeadOpen(master_key_, q.ColBlob(0), Aad("secret", {name}));
  if (!v) return Err("secret \"" + std::string(name) + "\": " + v.error());
  return std::optional<std::string>(std::move(*v));
}

Status KeyStore::PutSecret(std::string_view name, std::string_view value) {
  auto sealed = AeadSeal(master_key_, value, Aad("secret", {name}));
  if (!sealed) return sealed.take_error();
  std::lock_guard<std::mutex> lock(mu_);
  Stmt ins(db_, "INSERT INTO secrets(name, sealed) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET sealed = ?2");
  ins.Text(1, name).Blob(2, *sealed);
  if (ins.Step() != SQLITE_DONE) return DbError(db_, "write secret");
  return Status::Ok();
}

}  // namespace confidant::kbs
