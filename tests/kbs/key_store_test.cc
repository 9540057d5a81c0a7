#include "kbs/key_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace confidant::kbs {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kbs-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KeyMaterial Oct(bool exportable) {
  KeySpec spec;
  spec.kind = KeyKind::kOct;
  spec.size_bits = 256;
  spec.exportable = exportable;
  return *GenerateKey(spec);
}

TEST(MasterKey, CreatedWithMode0600AndReloaded) {
  TempDir dir;
  auto k1 = LoadOrCreateMasterKey(dir / "master.key");
  ASSERT_TRUE(k1.ok()) << k1.error();
  EXPECT_EQ(k1->size(), 32u);
  struct stat st;
  ASSERT_EQ(stat((dir / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto k2 = LoadOrCreateMasterKey(dir / "master.key");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*k1, *k2);
  chmod((dir / "master.key").c_str(), 0644);
  auto bad = LoadOrCreateMasterKey(dir / "master.key");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("group or others"), std::string::npos) << bad.error();
  std::ofstream(dir / "short.key") << "short";
  chmod((dir / "short.key").c_str(), 0600);
  EXPECT_FALSE(LoadOrCreateMasterKey(dir / "short.key").ok());
  EXPECT_FALSE(LoadOrCreateMasterKey(dir / "missing-dir/master.key").ok());
}

TEST(KeyStore, VersionsLatestAndNamed) {
  TempDir dir;
  std::string master(32, 'm');
  auto store = KeyStore::Open(dir / "kbs.db", master);
  ASSERT_TRUE(store.ok()) << store.error();
  KeyMaterial m1 = Oct(true), m2 = Oct(true);
  auto v1 = (*store)->CreateVersion("key-1", m1, std::string(R"({"version":"1.0.0"})"));
  ASSERT_TRUE(v1.ok()) << v1.error();
  auto v2 = (*store)->CreateVersion("key-1", m2, std::nullopt);
  ASSERT_TRUE(v2.ok()) << v2.error();
  EXPECT_EQ(v1->seq, 1);
  EXPECT_EQ(v2->seq, 2);
  EXPECT_EQ(v1->version.size(), 32u);
  EXPECT_NE(v1->version, v2->version);
  auto latest = (*store)->Get("key-1");
  ASSERT_TRUE(latest.ok()) << latest.error();
  EXPECT_EQ(latest->version, v2->version);
  EXPECT_EQ(latest->material.secret, m2.secret);
  auto first = (*store)->Get("key-1", v1->version);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->material.secret, m1.secret);
  EXPECT_TRUE(first->material.spec.exportable);
  EXPECT_FALSE((*store)->Get("key-1", "nope").ok());
  EXPECT_FALSE((*store)->Get("absent").ok());
  // The policy survives a version created without one, and can be replaced.
  auto policy = (*store)->GetPolicy("key-1");
  ASSERT_TRUE(policy.ok() && policy->has_value());
  EXPECT_EQ(**policy, R"({"version":"1.0.0"})");
  ASSERT_TRUE((*store)->SetPolicy("key-1", "{}").ok());
  EXPECT_EQ(**(*store)->GetPolicy("key-1"), "{}");
  EXPECT_FALSE((*store)->SetPolicy("absent", "{}").ok());
  EXPECT_FALSE((*store)->GetPolicy("absent").ok());
  EXPECT_EQ((*store)->ListVersions("key-1")->size(), 2u);
  EXPECT_FALSE((*store)->CreateVersion("bad/name", m1, std::nullopt).ok());
  EXPECT_FALSE((*store)->CreateVersion(std::string(128, 'a'), m1, std::nullopt).ok());
}

TEST(KeyStore, PersistsAcrossReopenAndEncryptsAtRest) {
  TempDir dir;
  std::string master(32, 'm');
  KeyMaterial m = Oct(false);
  std::string version;
  {
    auto store = KeyStore::Open(dir / "kbs.db", master);
    ASSERT_TRUE(store.ok());
    auto v = (*store)->CreateVersion("persist", m, std::string("policy-text-marker"));
    ASSERT_TRUE(v.ok());
    version = v->version;
    // Before close: the raw key is neither in the database nor in the WAL.
    std::string db = ReadAll(dir / "kbs.db") + ReadAll(dir / "kbs.db-wal");
    EXPECT_EQ(db.find(m.secret), std::string::npos);
    EXPECT_EQ(db.find("policy-text-marker"), std::string::npos);
  }
  auto store = KeyStore::Open(dir / "kbs.db", master);
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("persist");
  ASSERT_TRUE(got.ok()) << got.error();
  EXPECT_EQ(got->material.secret, m.secret);
  EXPECT_EQ(got->version, version);
  EXPECT_FALSE(got->material.spec.exportable);
  store->reset();
  auto wrong = KeyStore::Open(dir / "kbs.db", std::string(32, 'x'));
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().find("master key"), std::string::npos) << wrong.error();
}

TEST(KeyStore, TamperedOrSwappedRecordsAreRejected) {
  TempDir dir;
  std::string master(32, 'm');
  auto store = KeyStore::Open(dir / "kbs.db", master);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateVersion("a", Oct(false), std::nullopt).ok());
  ASSERT_TRUE((*store)->CreateVersion("b", Oct(true), std::nullopt).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "kbs.db").c_str(), &db), SQLITE_OK);
  // Flip "exportable" on a non-exportable key: the AAD no longer matches.
  ASSERT_EQ(sqlite3_exec(db, "UPDATE key_versions SET exportable = 1 WHERE name = 'a'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto a = (*store)->Get("a");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().find("authentication failed"), std::string::npos) << a.error();
  // Copy b's sealed material into a's row.
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE key_versions SET exportable = 0, sealed = (SELECT sealed FROM key_versions WHERE "
                         "name = 'b') WHERE name = 'a'",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_FALSE((*store)->Get("a").ok());
  sqlite3_close(db);
  EXPECT_TRUE((*store)->Get("b").ok());
}

TEST(KeyStore, AuditAndSecrets) {
  TempDir dir;
  auto store = KeyStore::Open(dir / "kbs.db", std::string(32, 'm'));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Audit({0, 0, "k", "v", "refused", "claim mismatch", "https://maa", "127.0.0.1"}).ok());
  ASSERT_TRUE((*store)->Audit({0, 0, "k", "v", "released", "", "https://maa", "127.0.0.1"}).ok());
  auto log = (*store)->RecentAudit(10);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].outcome, "released");
  EXPECT_EQ((*log)[1].reason, "claim mismatch");
  EXPECT_GT((*log)[1].time, 0);
  EXPECT_FALSE((*store)->GetSecret("s")->has_value());
  ASSERT_TRUE((*store)->PutSecret("s", "value").ok());
  EXPECT_EQ(**(*store)->GetSecret("s"), "value");
}

}  // namespace
}  // namespace confidant::kbs
