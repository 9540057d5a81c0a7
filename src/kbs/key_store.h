// Durable key storage on SQLite: WAL journal with synchronous=FULL, so a
// write has reached the disk before the call returns (and before the server
// acknowledges it). Key material and release policies are sealed with
// AES-256-GCM under the master key; the associated data binds a record to its
// key name, version and attributes, so records cannot be swapped or edited.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kbs/key_material.h"
#include "kbs/result.h"

struct sqlite3;

namespace confidant::kbs {

// Reads the 32-byte master key, or creates it (mode 0600, fsynced) when the
// file does not exist. Refuses files readable by group or others.
Result<std::string> LoadOrCreateMasterKey(const std::string& path);

struct KeyVersionRecord {
  std::string name;
  std::string version;  // 32 lowercase hex characters
  int64_t seq = 0;      // 1, 2, ... per name; the latest has the highest
  int64_t created = 0;  // seconds since the epoch
  KeyMaterial material;
};

struct AuditEntry {
  int64_t id = 0;
  int64_t time = 0;
  std::string key_name;
  std::string key_version;
  std::string outcome;  // "released", "refused", "created", "policy-updated"
  std::string reason;
  std::string issuer;
  std::string remote;
};

class KeyStore {
 public:
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& db_path, std::string master_key);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Adds a new version of `name` (creating the key on first use). When
  // policy_json is set it becomes the key's release policy.
  Result<KeyVersionRecord> CreateVersion(std::string_view name, const KeyMaterial& material,
                                         const std::optional<std::string>& policy_json);
  Status SetPolicy(std::string_view name, std::string_view policy_json);
  // The named version, or the latest when version is empty.
  Result<KeyVersionRecord> Get(std::string_view name, std::string_view version = {});
  // nullopt when the key has no policy; an error when the key does not exist.
  Result<std::optional<std::string>> GetPolicy(std::string_view name);
  Result<std::vector<std::string>> ListVersions(std::string_view name);
  Result<std::vector<std::string>> ListKeys();

  Status Audit(const AuditEntry& entry);
  Result<std::vector<AuditEntry>> RecentAudit(size_t limit);

  // Small sealed settings (the response-signing key).
  Result<std::optional<std::string>> GetSecret(std::string_view name);
  Status PutSecret(std::string_view name, std::string_view value);

 private:
  KeyStore(sqlite3* db, std::string master_key) : db_(db), master_key_(std::move(master_key)) {}
  Status Exec(const char* sql);

  sqlite3* db_;
  std::string master_key_;
  std::mutex mu_;
};

// Key Vault key names: 1-127 characters of [0-9a-zA-Z-].
bool ValidKeyName(std::string_view name);

}  // namespace confidant::kbs
