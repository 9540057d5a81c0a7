#include "integrity/tarfs.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>

#include "integrity/integrity.h"
#include "integrity/verity.h"
#include "test_util.h"

namespace confidant::integrity {
namespace {

using testing::EntrySpec;
using testing::have_tool;
using testing::random_bytes;
using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;
using testing::write_tar;

uint64_t le(const std::string& s, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s.at(at + i));
  return v;
}

// An independent reader of the tarfs format (layer-integrity.md 3.2), as the guest's tarfs
// driver reads it: superblock in the last 512 bytes of the last 4 KiB block, inode n at
// table + 32 (n - 1), directory entries and names by absolute offset.
struct TarfsReader {
  const std::string& f;
  uint64_t table = 0, count = 0;
  struct Inode {
    uint16_t mode;
    uint8_t flags;
    uint32_t owner, group;
    uint64_t mtime, size, offset;
  };
  explicit TarfsReader(const std::string& file) : f(file) {
    table = le(f, f.size() - 512, 8);
    count = le(f, f.size() - 504, 8);
  }
  Inode inode(uint64_t n) const {
    uint64_t at = table + 32 * (n - 1);
    return {static_cast<uint16_t>(le(f, at, 2)),
            static_cast<uint8_t>(f.at(at + 2)),
            static_cast<uint32_t>(le(f, at + 4, 4)),
            static_cast<uint32_t>(le(f, at + 8, 4)),
            (le(f, at + 3, 1) & 0xf) << 32 | le(f, at + 12, 4),
            le(f, at + 16, 8),
            le(f, at + 24, 8)};
  }
  // name -> (ino, etype)
  std::map<std::string, std::pair<uint64_t, uint8_t>> dir(uint64_t n) const {
    std::map<std::string, std::pair<uint64_t, uint8_t>> out;
    Inode d = inode(n);
    for (uint64_t i = 0; i < d.size / 32; ++i) {
      uint64_t at = d.offset + 32 * i;
      std::string name = f.substr(le(f, at + 8, 8), le(f, at + 16, 8));
      out[name] = {le(f, at, 8), static_cast<uint8_t>(f.at(at + 24))};
    }
    return out;
  }
  uint64_t lookup(const std::string& path) const {
    uint64_t cur = 1;
    size_t i = 0;
    while (i < path.size()) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      auto d = dir(cur);
      auto it = d.find(path.substr(i, j - i));
      if (it == d.end()) return 0;
      cur = it->second.first;
      i = j + 1;
    }
    return cur;
  }
};

std::string build_index(const std::string& tar) {
  TarfsIndexBuilder b;
  std::string error;
  EXPECT_TRUE(b.feed(reinterpret_cast<const uint8_t*>(tar.data()), tar.size(), error)) << error;
  std::string out = tar;
  uint64_t size = 0;
  EXPECT_TRUE(b.finish(
      [&](const uint8_t* p, size_t n) {
        out.append(reinterpret_cast<const char*>(p), n);
        return true;
      },
      size, error))
      << error;
  EXPECT_EQ(out.size(), tar.size() + size);
  return out;
}

std::vector<EntrySpec> kata_layer() {
  std::vector<EntrySpec> v;
  auto add = [&](std::string name, mode_t type, std::string data = "", unsigned perm = 0644) {
    EntrySpec e;
    e.name = std::move(name);
    e.type = type;
    e.data = std::move(data);
    e.perm = perm;
    v.push_back(e);
    return &v.back();
  };
  add("etc/", AE_IFDIR, "", 0755);
  add("etc/passwd", AE_IFREG, "root:x:0:0::/root:/bin/sh\n")->uid = 5;
  add("etc/big", AE_IFREG, random_bytes(10000, 4), 04755);
  add("etc/link", AE_IFLNK)->link = "passwd";
  add("etc/longlink", AE_IFLNK)->link = std::string(150, 'L');
  add("etc/null", AE_IFCHR, "", 0666)->major = 1;
  v.back().minor = 3;
  add("etc/fifo", AE_IFIFO);
  EntrySpec h;
  h.name = "etc/hard";
  h.hardlink = true;
  h.link = "etc/passwd";
  v.push_back(h);
  add("opq/", AE_IFDIR, "", 0700);
  add("opq/.wh..wh..opq", AE_IFREG);
  add("etc/.wh.shadow", AE_IFREG);
  add("d\xc3\xa9j\xc3\xa0/", AE_IFDIR, "", 0755);  // without it: a mode-0 placeholder
  add("d\xc3\xa9j\xc3\xa0/" + std::string(130, 'n'), AE_IFREG, "long utf-8 name");
  return v;
}

TEST(Tarfs, IndexDescribesTheTar) {
  TempDir dir;
  write_tar(dir.file("l.tar"), kata_layer());
  const std::string tar = read_file(dir.file("l.tar"));
  const std::string f = build_index(tar);
  ASSERT_EQ(f.size() % 4096, 0u);
  TarfsReader r(f);
  EXPECT_EQ(r.table, tar.size());
  ASSERT_LE(r.table + 32 * r.count, f.size());

  auto root = r.inode(1);
  EXPECT_EQ(root.mode, 040555);
  auto top = r.dir(1);
  ASSERT_EQ(top.size(), 3u);  // "etc", "opq", then the UTF-8 name (byte order)
  EXPECT_EQ(top.begin()->first, "d\xc3\xa9j\xc3\xa0");
  EXPECT_EQ(top["etc"].second, 4);  // DT_DIR

  uint64_t passwd = r.lookup("etc/passwd");
  ASSERT_NE(passwd, 0u);
  auto p = r.inode(passwd);
  EXPECT_EQ(p.mode, 0100644);
  EXPECT_EQ(p.owner, 5u);
  EXPECT_EQ(p.mtime, 1700000000u);
  EXPECT_EQ(tar.substr(p.offset, p.size), "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(r.lookup("etc/hard"), passwd);  // one inode, two entries

  auto big = r.inode(r.lookup("etc/big"));
  EXPECT_EQ(big.mode, 0100755);  // setuid dropped
  EXPECT_EQ(tar.substr(big.offset, big.size), random_bytes(10000, 4));

  auto link = r.inode(r.lookup("etc/link"));
  EXPECT_EQ(link.mode & 0170000, 0120000);
  EXPECT_EQ(f.substr(link.offset, link.size), "passwd");
  EXPECT_EQ((link.offset - 157) % 512, 0u);  // inside the tar header's linkname field
  auto longlink = r.inode(r.lookup("etc/longlink"));
  EXPECT_EQ(f.substr(longlink.offset, longlink.size), std::string(150, 'L'));
  EXPECT_GT(longlink.offset, r.table);  // stored after the directory entries (AKS fork)

  auto null = r.inode(r.lookup("etc/null"));
  EXPECT_EQ(null.mode, 020666);
  EXPECT_EQ(null.offset, (uint64_t{1} << 32) | 3);
  EXPECT_EQ(r.inode(r.lookup("etc/fifo")).mode, 010644);

  uint64_t shadow = r.lookup("etc/shadow");
  ASSERT_NE(shadow, 0u);
  EXPECT_EQ(r.inode(shadow).mode, 020000);  // whiteout: 0:0 character device
  EXPECT_EQ(r.inode(shadow).offset, 0u);
  EXPECT_EQ(r.dir(r.lookup("etc")).count(".wh.shadow"), 0u);
  EXPECT_EQ(r.inode(r.lookup("opq")).flags, 1);
  EXPECT_EQ(r.dir(r.lookup("opq")).size(), 0u);
  EXPECT_EQ(tar.substr(r.inode(r.lookup("d\xc3\xa9j\xc3\xa0/" + std::string(130, 'n'))).offset, 15), "long utf-8 name");

  // Inode numbers are breadth-first: root, then the top-level names in byte order.
  EXPECT_EQ(top.begin()->second.first, 2u);
  EXPECT_EQ(top["etc"].first, 3u);
  EXPECT_EQ(top["opq"].first, 4u);
  // The superblock sits in the last 512 bytes; the index ends 4096-aligned.
  EXPECT_EQ(f.substr(f.size() - 496), std::string(496, '\0'));
}

TEST(Tarfs, ReferenceTreeQuirks) {
  TempDir dir;
  std::vector<EntrySpec> v(3);
  v[0].name = "a/child";
  v[0].data = "c";
  v[1].name = "a/";  // a directory header after its contents drops them
  v[1].type = AE_IFDIR;
  v[2].name = "b/c/file";  // "b" and "b/c" never get headers: mode-0 placeholders
  v[2].data = "x";
  write_tar(dir.file("q.tar"), v);
  const std::string f = build_index(read_file(dir.file("q.tar")));
  TarfsReader r(f);
  auto top = r.dir(1);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(r.dir(top["a"].first).size(), 0u);
  EXPECT_EQ(r.inode(top["b"].first).mode, 0);
  EXPECT_EQ(top["b"].second, 0);  // DT_UNKNOWN
  // The placeholder still owns inodes (b, c, file) but no directory entries.
  EXPECT_EQ(r.count, 5u);
}

TEST(Tarfs, MalformedInputIsRejected) {
  std::string error;
  {
    TarfsIndexBuilder b;
    std::string junk(1024, 'j');
    EXPECT_FALSE(b.feed(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(), error));
    EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  }
  {
    TempDir dir;
    std::vector<EntrySpec> v(1);
    v[0].name = "f";
    v[0].data = random_bytes(5000, 1);
    write_tar(dir.file("t.tar"), v);
    std::string tar = read_file(dir.file("t.tar")).substr(0, 2048);  // cut inside the data
    TarfsIndexBuilder b;
    ASSERT_TRUE(b.feed(reinterpret_cast<const uint8_t*>(tar.data()), tar.size(), error)) << error;
    uint64_t n = 0;
    EXPECT_FALSE(b.finish([](const uint8_t*, size_t) { return true; }, n, error));
    EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  }
}

TEST(Tarfs, HardLinkCycleDoesNotHang) {
  TempDir dir;
  std::vector<EntrySpec> v(3);
  v[0].name = "f";
  v[0].data = "x";
  v[1].name = "f/g/x";  // creates placeholders under the regular file
  v[1].data = "y";
  v[2].name = "f/g/h";  // links "f" below itself
  v[2].hardlink = true;
  v[2].link = "f";
  write_tar(dir.file("c.tar"), v);
  std::string tar = read_file(dir.file("c.tar"));
  TarfsIndexBuilder b;
  std::string error;
  ASSERT_TRUE(b.feed(reinterpret_cast<const uint8_t*>(tar.data()), tar.size(), error)) << error;
  uint64_t n = 0;
  EXPECT_FALSE(b.finish([](const uint8_t*, size_t) { return true; }, n, error));
  EXPECT_NE(error.find("cyclic"), std::string::npos) << error;
}

TEST(Tarfs, RootHashMatchesVeritysetupAndTheBuiltImage) {
  if (!have_tool("veritysetup")) GTEST_SKIP() << "veritysetup not installed";
  TempDir dir;
  write_tar(dir.file("l.tar"), kata_layer(), ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, testing::Compression::kGzip);
  RootHash root{};
  std::string error;
  ASSERT_TRUE(layer_root_hash(LayerFormat::kKata, dir.file("l.tar"), root, error)) << error;

  // The data region is the decompressed tar plus the index.
  write_tar(dir.file("plain.tar"), kata_layer());
  std::string data = build_index(read_file(dir.file("plain.tar")));
  write_file(dir.file("data"), data);
  std::string out = run("veritysetup format --no-superblock --salt=" + std::string(64, '0') + " " + dir.file("data") +
                        " " + dir.file("hash"));
  EXPECT_NE(out.find(to_hex(root)), std::string::npos) << out;

  LayerImageInfo info;
  ASSERT_TRUE(build_layer_image(LayerFormat::kKata, dir.file("l.tar"), dir.file("img"), info, error)) << error;
  EXPECT_EQ(info.root_hash, root);
  EXPECT_EQ(info.data_size, data.size());
  std::string img = read_file(dir.file("img"));
  EXPECT_EQ(img.substr(0, data.size()), data);
  // Snapshotter layout: tree at data_size, then a block ending with the Kata verity superblock.
  EXPECT_EQ(img.substr(data.size(), img.size() - data.size() - 4096), read_file(dir.file("hash")));
  EXPECT_EQ(le(img, img.size() - 512, 4), 4096u);
  EXPECT_EQ(le(img, img.size() - 508, 4), 4096u);
  EXPECT_EQ(le(img, img.size() - 504, 8), data.size() / 4096);
  int status = 0;
  out = run("veritysetup verify --no-superblock --salt=" + std::string(64, '0') + " --data-block-size=4096 " +
                "--hash-block-size=4096 --data-blocks=" + std::to_string(data.size() / 4096) + " --hash-offset=" +
                std::to_string(data.size()) + " " + dir.file("img") + " " + dir.file("img") + " " + to_hex(root),
            &status);
  EXPECT_EQ(status, 0) << out;
}

}  // namespace
}  // namespace confidant::integrity
