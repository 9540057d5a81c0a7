#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <sstream>

#include "integrity/image_sinks.h"
#include "integrity/integrity.h"
#include "integrity/tar2ext4.h"
#include "test_util.h"

namespace confidant::integrity {
namespace {

using testing::Compression;
using testing::EntrySpec;
using testing::have_tool;
using testing::random_bytes;
using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;
using testing::write_tar;

// tar -> bare ext4 image file (no verity), as the hash is computed over it.
bool to_ext4(const std::string& tar, const std::string& image, std::string& error, uint64_t max_disk = 128ull << 30) {
  int fd = open(image.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  FileImageSink sink(fd, (1 + ext4_gd_blocks(max_disk)) * 4096ull);
  Ext4Result res;
  bool ok = convert_tar_to_ext4(tar, sink, max_disk, nullptr, res, error) && sink.finish();
  close(fd);
  return ok;
}

std::string debugfs(const std::string& image, const std::string& request) {
  return run("debugfs -R '" + request + "' " + image);
}

std::string long_name(size_t n) {
  std::string s;
  while (s.size() < n) s += "abcdefghij";
  return s.substr(0, n);
}

// Every kind of entry a layer can carry.
std::vector<EntrySpec> rich_layer() {
  std::vector<EntrySpec> v;
  auto dir = [](std::string name, unsigned perm = 0755, int64_t uid = 0) {
    EntrySpec e;
    e.name = std::move(name);
    e.type = AE_IFDIR;
    e.perm = perm;
    e.uid = uid;
    return e;
  };
  auto file = [](std::string name, std::string data, unsigned perm = 0644) {
    EntrySpec e;
    e.name = std::move(name);
    e.data = std::move(data);
    e.perm = perm;
    return e;
  };
  v.push_back(dir("etc/"));
  v.push_back(file("etc/hostname", "layer\n"));
  EntrySpec owned = file("etc/owned", "x", 04755);
  owned.uid = 70000;  // needs the high 16 bits
  owned.gid = 1234;
  owned.mtime_nsec = 123456789;
  v.push_back(owned);
  v.push_back(file("etc/empty", ""));
  v.push_back(file("etc/block", random_bytes(4096, 1)));
  v.push_back(file("etc/blockplus", random_bytes(4097, 2)));
  v.push_back(file("etc/big", random_bytes(3 * 1024 * 1024 + 17, 3)));
  v.push_back(dir("usr/", 0755, 0));
  v.push_back(dir("usr/bin/"));
  v.push_back(file("usr/bin/tool", "#!/bin/sh\necho hi\n", 0755));
  EntrySpec sl;
  sl.name = "usr/bin/short";
  sl.type = AE_IFLNK;
  sl.link = "tool";
  v.push_back(sl);
  EntrySpec ll = sl;
  ll.name = "usr/bin/longlink";
  ll.link = "/" + long_name(150);  // > 59 (data block) and > 100 (PAX linkpath)
  v.push_back(ll);
  EntrySpec hl;
  hl.name = "usr/bin/hard";
  hl.hardlink = true;
  hl.link = "usr/bin/tool";
  v.push_back(hl);
  EntrySpec chr;
  chr.name = "dev/null";  // implicit parent "dev"
  chr.type = AE_IFCHR;
  chr.perm = 0666;
  chr.major = 1;
  chr.minor = 3;
  v.push_back(chr);
  EntrySpec blk = chr;
  blk.name = "dev/sda";
  blk.type = AE_IFBLK;
  blk.major = 8;
  blk.minor = 300;  // > 255: the new-style encoding
  v.push_back(blk);
  EntrySpec fifo;
  fifo.name = "run/fifo";
  fifo.type = AE_IFIFO;
  v.push_back(fifo);
  v.push_back(file("deep/a/b/c/" + long_name(120) + "/file", "deep"));  // implicit parents, long name
  v.push_back(file("usr/share/\xc3\xa9t\xc3\xa9/caf\xc3\xa9.txt", "utf-8 name"));
  EntrySpec xa = file("usr/xattrs", "attrs");
  xa.xattrs = {{"user.small", "v"},
               {"security.capability", std::string("\x01\x00\x00\x02\x00\x30\x00\x00", 8)},
               {"user.big", std::string(300, 'B')},
               {"trusted.t", "trust"}};
  v.push_back(xa);
  v.push_back(dir("opaque/"));
  v.push_back(file("opaque/.wh..wh..opq", ""));
  v.push_back(file("usr/bin/.wh.gone", ""));
  EntrySpec sparse;
  sparse.name = "sparse";
  sparse.sparse = {{0, 4096}, {1 << 20, 4096}};
  sparse.sparse_size = 3 << 20;
  sparse.data = random_bytes(8192, 9);
  v.push_back(sparse);
  return v;
}

class Ext4Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_tool("e2fsck") || !have_tool("debugfs")) GTEST_SKIP() << "e2fsprogs not installed";
  }
  TempDir dir;
};

TEST_F(Ext4Test, RichLayerPassesE2fsckAndMatchesTheTar) {
  write_tar(dir.file("l.tar"), rich_layer());
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
  std::string fsck;
  EXPECT_TRUE(testing::e2fsck_clean(dir.file("l.ext4"), fsck)) << fsck;
  const std::string img = dir.file("l.ext4");

  std::string st = debugfs(img, "stat /etc/owned");
  EXPECT_NE(st.find("Type: regular"), std::string::npos) << st;
  EXPECT_NE(st.find("Mode:  04755"), std::string::npos) << st;
  EXPECT_NE(st.find("User: 70000"), std::string::npos) << st;
  EXPECT_NE(st.find("Group:  1234"), std::string::npos) << st;
  EXPECT_NE(st.find("mtime: 0x6553f100:1d6f3454"), std::string::npos) << st;  // 123456789 ns << 2

  st = debugfs(img, "stat /etc/big");
  EXPECT_NE(st.find("Size: 3145745"), std::string::npos) << st;

  st = debugfs(img, "stat /usr/bin/short");
  EXPECT_NE(st.find("Type: symlink"), std::string::npos) << st;
  EXPECT_NE(st.find("Fast link dest: \"tool\""), std::string::npos) << st;
  st = debugfs(img, "stat /usr/bin/longlink");
  EXPECT_NE(st.find("Size: 151"), std::string::npos) << st;

  st = debugfs(img, "stat /usr/bin/hard");
  EXPECT_NE(st.find("Links: 2"), std::string::npos) << st;
  EXPECT_EQ(debugfs(img, "stat /usr/bin/hard").substr(0, 40), debugfs(img, "stat /usr/bin/tool").substr(0, 40));

  st = debugfs(img, "stat /dev/null");
  EXPECT_NE(st.find("Type: character special"), std::string::npos) << st;
  EXPECT_NE(st.find("Device major/minor number: 01:03"), std::string::npos) << st;
  st = debugfs(img, "stat /dev/sda");
  EXPECT_NE(st.find("Type: block special"), std::string::npos) << st;
  EXPECT_NE(st.find("Device major/minor number: 08:300"), std::string::npos) << st;
  st = debugfs(img, "stat /run/fifo");
  EXPECT_NE(st.find("Type: FIFO"), std::string::npos) << st;

  // Whiteouts: a 0:0 character device with no permissions, and an opaque directory.
  st = debugfs(img, "stat /usr/bin/gone");
  EXPECT_NE(st.find("Type: character special"), std::string::npos) << st;
  EXPECT_NE(st.find("Mode:  0000"), std::string::npos) << st;
  EXPECT_NE(st.find("Device major/minor number: 00:00"), std::string::npos) << st;
  EXPECT_EQ(debugfs(img, "stat /usr/bin/.wh.gone").find("Type:"), std::string::npos);
  std::string ea = debugfs(img, "ea_list /opaque");
  EXPECT_NE(ea.find("trusted.overlay.opaque (1) = \"y\""), std::string::npos) << ea;

  ea = debugfs(img, "ea_list /usr/xattrs");
  EXPECT_NE(ea.find("user.small (1) = \"v\""), std::string::npos) << ea;
  EXPECT_NE(ea.find("trusted.t (5) = \"trust\""), std::string::npos) << ea;
  EXPECT_NE(ea.find("user.big (300)"), std::string::npos) << ea;
  EXPECT_NE(ea.find("security.capability (8)"), std::string::npos) << ea;
  st = debugfs(img, "stat /usr/xattrs");
  EXPECT_NE(st.find("File ACL: "), std::string::npos) << st;
  EXPECT_EQ(st.find("File ACL: 0"), std::string::npos) << "the 300-byte value needs the xattr block\n" << st;

  std::string ls = debugfs(img, "ls -l /usr/share/\xc3\xa9t\xc3\xa9");
  EXPECT_NE(ls.find("caf\\xc3\\xa9.txt"), std::string::npos) << ls;  // debugfs escapes non-ASCII
  ls = debugfs(img, "ls -l /deep/a/b/c");
  EXPECT_NE(ls.find(long_name(120)), std::string::npos) << ls;

  // Contents, including the sparse file's holes.
  for (const EntrySpec& e : rich_layer()) {
    if (e.type != AE_IFREG || e.hardlink || e.name.find(".wh.") != std::string::npos) continue;
    std::string out = dir.file("dump");
    debugfs(img, "dump \"/" + e.name + "\" " + out);
    std::string expect = e.data;
    if (!e.sparse.empty()) {
      expect.assign(static_cast<size_t>(e.sparse_size), '\0');
      size_t at = 0;
      for (auto [off, len] : e.sparse) {
        expect.replace(static_cast<size_t>(off), static_cast<size_t>(len), e.data.substr(at, static_cast<size_t>(len)));
        at += static_cast<size_t>(len);
      }
    }
    EXPECT_EQ(read_file(out), expect) << e.name;
  }
}

TEST_F(Ext4Test, LayoutFollowsTheReference) {
  std::vector<EntrySpec> v(1);
  v[0].name = "hello";
  v[0].data = "hello world\n";
  write_tar(dir.file("l.tar"), v);
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
  std::string img = read_file(dir.file("l.ext4"));
  ASSERT_GE(img.size(), 12u * 4096);
  const auto* sb = reinterpret_cast<const uint8_t*>(img.data()) + 1024;
  auto le32 = [](const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24; };
  EXPECT_EQ(le32(sb + 92), 0x208u);
  EXPECT_EQ(le32(sb + 96), 0x242u);
  EXPECT_EQ(le32(sb + 100), 0x104Au);
  EXPECT_EQ(le32(sb + 4) * 4096ull, img.size());
  // 128 GiB reserves 8 descriptor blocks: the file data is the first thing at block 9.
  EXPECT_EQ(img.substr(9 * 4096, 12), "hello world\n");
  // The first 1024 bytes are zero and there is no UUID.
  EXPECT_EQ(img.substr(0, 1024), std::string(1024, '\0'));
  EXPECT_EQ(img.substr(1024 + 104, 16), std::string(16, '\0'));
  std::string st = debugfs(dir.file("l.ext4"), "stat /hello");
  EXPECT_NE(st.find("Inode: 12"), std::string::npos) << st;
  EXPECT_NE(st.find("(0):9"), std::string::npos) << st;
}

TEST_F(Ext4Test, DeterministicAndDependsOnMaximumDiskSize) {
  write_tar(dir.file("l.tar"), rich_layer());
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("a.ext4"), error)) << error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("b.ext4"), error)) << error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("c.ext4"), error, 16ull << 30)) << error;
  EXPECT_EQ(read_file(dir.file("a.ext4")), read_file(dir.file("b.ext4")));
  RootHash a{}, c{};
  ASSERT_TRUE(verity_root_of_file(dir.file("a.ext4"), 0, a, error)) << error;
  ASSERT_TRUE(verity_root_of_file(dir.file("c.ext4"), 0, c, error)) << error;
  EXPECT_NE(a, c);
  std::string fsck;
  EXPECT_TRUE(testing::e2fsck_clean(dir.file("c.ext4"), fsck)) << fsck;
}

TEST_F(Ext4Test, StreamingHashEqualsVeritysetupOnTheImage) {
  if (!have_tool("veritysetup")) GTEST_SKIP() << "veritysetup not installed";
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    write_tar(dir.file("l.tar"), rich_layer(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, c);
    std::string error;
    ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
    RootHash root{};
    ASSERT_TRUE(layer_root_hash(LayerFormat::kAci, dir.file("l.tar"), root, error)) << error;
    std::string out = run("veritysetup format --no-superblock --salt=" + std::string(64, '0') + " " +
                          dir.file("l.ext4") + " " + dir.file("hash"));
    EXPECT_NE(out.find(to_hex(root)), std::string::npos) << out;
  }
}

TEST_F(Ext4Test, GnuAndUstarFormats) {
  for (int format : {ARCHIVE_FORMAT_TAR_GNUTAR, ARCHIVE_FORMAT_TAR_USTAR}) {
    std::vector<EntrySpec> v(2);
    v[0].name = "d/" + long_name(format == ARCHIVE_FORMAT_TAR_GNUTAR ? 200 : 90);
    v[0].data = "x";
    v[1].name = "d/link";
    v[1].type = AE_IFLNK;
    v[1].link = "target";
    write_tar(dir.file("l.tar"), v, format);
    std::string error;
    ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
    std::string fsck;
    EXPECT_TRUE(testing::e2fsck_clean(dir.file("l.ext4"), fsck)) << fsck;
    EXPECT_NE(debugfs(dir.file("l.ext4"), "ls /d").find(v[0].name.substr(2)), std::string::npos);
  }
}

TEST_F(Ext4Test, ReferenceConversionErrors) {
  // A regular file written twice with data cannot be replaced in place.
  std::vector<EntrySpec> v(2);
  v[0].name = "f";
  v[0].data = "one";
  v[1].name = "f";
  v[1].data = "two";
  write_tar(dir.file("dup.tar"), v);
  std::string error;
  EXPECT_FALSE(to_ext4(dir.file("dup.tar"), dir.file("x.ext4"), error));
  EXPECT_NE(error.find("cannot overwrite file"), std::string::npos) << error;
  // A directory cannot become a file.
  v[0] = EntrySpec();
  v[0].name = "d/";
  v[0].type = AE_IFDIR;
  v[1].name = "d";
  write_tar(dir.file("dir.tar"), v);
  EXPECT_FALSE(to_ext4(dir.file("dir.tar"), dir.file("x.ext4"), error));
  EXPECT_NE(error.find("cannot replace a directory with a file"), std::string::npos) << error;
  // Hard link to a missing file.
  v.resize(1);
  v[0] = EntrySpec();
  v[0].name = "h";
  v[0].hardlink = true;
  v[0].link = "missing";
  write_tar(dir.file("link.tar"), v);
  EXPECT_FALSE(to_ext4(dir.file("link.tar"), dir.file("x.ext4"), error));
  EXPECT_NE(error.find("file not found"), std::string::npos) << error;
}

TEST_F(Ext4Test, EmptyFileReplacedAndDirectoryReattributed) {
  std::vector<EntrySpec> v(4);
  v[0].name = "f";
  v[1].name = "f";
  v[1].data = "now with data";
  v[1].perm = 0600;
  v[2].name = "d/";
  v[2].type = AE_IFDIR;
  v[2].perm = 0700;
  v[2].xattrs = {{"user.a", "1"}};
  v[3] = v[2];
  v[3].perm = 0750;
  v[3].xattrs = {{"user.b", "2"}};
  write_tar(dir.file("l.tar"), v);
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
  std::string fsck;
  EXPECT_TRUE(testing::e2fsck_clean(dir.file("l.ext4"), fsck)) << fsck;
  std::string st = debugfs(dir.file("l.ext4"), "stat /f");
  EXPECT_NE(st.find("Inode: 12"), std::string::npos) << st;  // reused in place
  EXPECT_NE(st.find("Size: 13"), std::string::npos) << st;
  std::string ea = debugfs(dir.file("l.ext4"), "ea_list /d");
  EXPECT_NE(ea.find("user.a (1) = \"1\""), std::string::npos) << ea;  // merged
  EXPECT_NE(ea.find("user.b (1) = \"2\""), std::string::npos) << ea;
  EXPECT_NE(debugfs(dir.file("l.ext4"), "stat /d").find("Mode:  0750"), std::string::npos);
}

TEST_F(Ext4Test, LargeFileUsesAnExtentIndex) {
  // More than 4 extents of 32768 blocks: one level of extent index blocks.
  std::vector<EntrySpec> v(1);
  v[0].name = "large";
  v[0].sparse = {{0, 4096}, {(600ll << 20) - 4096, 4096}};
  v[0].sparse_size = 600ll << 20;
  v[0].data = random_bytes(8192, 11);
  write_tar(dir.file("l.tar"), v);
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
  std::string fsck;
  EXPECT_TRUE(testing::e2fsck_clean(dir.file("l.ext4"), fsck)) << fsck;
  std::string st = debugfs(dir.file("l.ext4"), "stat /large");
  EXPECT_NE(st.find("Size: 629145600"), std::string::npos) << st;
  // One index block (ETB0) right after the data, then five leaf extents.
  EXPECT_NE(st.find("(ETB0):153609"), std::string::npos) << st;
  EXPECT_NE(st.find("(131072-153599):131081-153608"), std::string::npos) << st;
  EXPECT_NE(st.find("Blockcount: 153601"), std::string::npos) << st;
}

// Mounting needs root and loop devices; compares every file through the kernel's ext4.
TEST_F(Ext4Test, MountedContentsMatch) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  write_tar(dir.file("l.tar"), rich_layer());
  std::string error;
  ASSERT_TRUE(to_ext4(dir.file("l.tar"), dir.file("l.ext4"), error)) << error;
  std::string mnt = dir.file("mnt");
  std::filesystem::create_directory(mnt);
  int status = 0;
  std::string out = run("mount -o loop,ro -t ext4 " + dir.file("l.ext4") + " " + mnt, &status);
  if (status != 0) GTEST_SKIP() << "cannot mount a loop device here: " << out;
  for (const EntrySpec& e : rich_layer()) {
    if (e.name.find(".wh.") != std::string::npos) continue;
    std::string p = mnt + "/" + e.name;
    if (e.type == AE_IFLNK) {
      EXPECT_EQ(std::filesystem::read_symlink(p).string(), e.link) << e.name;
    } else if (e.type == AE_IFREG && e.sparse.empty()) {
      EXPECT_EQ(read_file(p), e.hardlink ? read_file(mnt + "/" + e.link) : e.data) << e.name;
    }
  }
  std::string getfattr = run("getfattr -n trusted.overlay.opaque --only-values " + mnt + "/opaque");
  run("umount " + mnt);
  if (getfattr.find("not found") == std::string::npos) {
    EXPECT_EQ(getfattr, "y");
  }
}

}  // namespace
}  // namespace confidant::integrity
