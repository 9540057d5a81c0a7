#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "integrity/bytes.h"
#include "integrity/integrity.h"
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

std::vector<EntrySpec> small_layer(uint32_t seed = 1) {
  std::vector<EntrySpec> v(3);
  v[0].name = "bin/";
  v[0].type = AE_IFDIR;
  v[0].perm = 0755;
  v[1].name = "bin/app";
  v[1].data = random_bytes(70000, seed);
  v[1].perm = 0755;
  v[2].name = "bin/sh";
  v[2].type = AE_IFLNK;
  v[2].link = "app";
  return v;
}

void corrupt(const std::string& path, uint64_t offset) {
  int fd = open(path.c_str(), O_RDWR);
  uint8_t b = 0;
  ASSERT_TRUE(pread_all(fd, &b, 1, offset));
  b ^= 0x5a;
  ASSERT_TRUE(pwrite_all(fd, &b, 1, offset));
  close(fd);
}

class LayerImage : public ::testing::TestWithParam<LayerFormat> {};

TEST_P(LayerImage, BuildThenVerifyRoundTrips) {
  TempDir dir;
  write_tar(dir.file("l.tar.zst"), small_layer(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, Compression::kZstd);
  RootHash hashed{};
  std::string error;
  ASSERT_TRUE(layer_root_hash(GetParam(), dir.file("l.tar.zst"), hashed, error)) << error;
  LayerImageInfo built, verified;
  ASSERT_TRUE(build_layer_image(GetParam(), dir.file("l.tar.zst"), dir.file("img"), built, error)) << error;
  EXPECT_EQ(built.root_hash, hashed);
  ASSERT_TRUE(verify_layer_image(dir.file("img"), verified, error)) << error;
  EXPECT_EQ(verified.root_hash, hashed);
  EXPECT_EQ(verified.data_size, built.data_size);
  EXPECT_EQ(verified.hash_offset, built.hash_offset);
  // Same input, same bytes (the reference's random UUIDs are derived from the root here).
  LayerImageInfo again;
  ASSERT_TRUE(build_layer_image(GetParam(), dir.file("l.tar.zst"), dir.file("img2"), again, error)) << error;
  EXPECT_EQ(read_file(dir.file("img")), read_file(dir.file("img2")));
}

TEST_P(LayerImage, TamperedDataOrTreeIsDetected) {
  TempDir dir;
  write_tar(dir.file("l.tar"), small_layer());
  LayerImageInfo built, verified;
  std::string error;
  ASSERT_TRUE(build_layer_image(GetParam(), dir.file("l.tar"), dir.file("img"), built, error)) << error;
  std::string pristine = read_file(dir.file("img"));
  for (uint64_t offset : {uint64_t{5000}, built.data_size / 2, built.data_size - 4096, built.hash_offset,
                          built.hash_offset + 100, built.hash_offset + 4096}) {
    write_file(dir.file("img"), pristine);
    corrupt(dir.file("img"), offset);
    EXPECT_FALSE(verify_layer_image(dir.file("img"), verified, error)) << "offset " << offset;
    EXPECT_TRUE(error.find("does not match") != std::string::npos || error.find("padding") != std::string::npos ||
                error.find("VHD footer") != std::string::npos)
        << error;
  }
  write_file(dir.file("img"), pristine.substr(0, pristine.size() - 4096));
  EXPECT_FALSE(verify_layer_image(dir.file("img"), verified, error));
}

INSTANTIATE_TEST_SUITE_P(Formats, LayerImage, ::testing::Values(LayerFormat::kAci, LayerFormat::kKata),
                         [](const auto& info) { return info.param == LayerFormat::kAci ? "Aci" : "Kata"; });

TEST(AciImage, LayoutMatchesTheGuestsExpectations) {
  if (!have_tool("veritysetup")) GTEST_SKIP() << "veritysetup not installed";
  TempDir dir;
  write_tar(dir.file("l.tar"), small_layer());
  LayerImageInfo info;
  std::string error;
  ASSERT_TRUE(build_layer_image(LayerFormat::kAci, dir.file("l.tar"), dir.file("img"), info, error)) << error;
  std::string img = read_file(dir.file("img"));
  // ext4 size from its superblock, the verity superblock right after it, the VHD footer last.
  uint64_t blocks =
      static_cast<uint8_t>(img[1028]) | static_cast<uint8_t>(img[1029]) << 8 | static_cast<uint8_t>(img[1030]) << 16;
  EXPECT_EQ(blocks * 4096, info.data_size);
  EXPECT_EQ(img.substr(info.data_size, 8), std::string("verity\0\0", 8));
  EXPECT_EQ(img.substr(img.size() - 512, 8), "conectix");
  // The guest's device hash: SHA256(salt || first block after the verity superblock).
  // veritysetup reads the superblock and verifies the whole image against our root.
  int status = 0;
  std::string out = run("veritysetup verify --hash-offset=" + std::to_string(info.data_size) + " " + dir.file("img") +
                            " " + dir.file("img") + " " + to_hex(info.root_hash),
                        &status);
  EXPECT_EQ(status, 0) << out;
}

TEST(LayerErrors, BadInputsGiveOneClearError) {
  TempDir dir;
  RootHash r{};
  std::string error;
  for (LayerFormat f : {LayerFormat::kAci, LayerFormat::kKata}) {
    EXPECT_FALSE(layer_root_hash(f, dir.file("missing.tar"), r, error));
    EXPECT_NE(error.find("missing.tar"), std::string::npos) << error;
    EXPECT_NE(error.find("No such file"), std::string::npos) << error;

    write_file(dir.file("junk.tar"), random_bytes(5000, 3));
    EXPECT_FALSE(layer_root_hash(f, dir.file("junk.tar"), r, error));
    EXPECT_NE(error.find("junk.tar"), std::string::npos) << error;

    write_tar(dir.file("l.tar.gz"), small_layer(), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, Compression::kGzip);
    std::string gz = read_file(dir.file("l.tar.gz"));
    write_file(dir.file("cut.tar.gz"), gz.substr(0, gz.size() / 2));
    EXPECT_FALSE(layer_root_hash(f, dir.file("cut.tar.gz"), r, error));
    EXPECT_NE(error.find("cut.tar.gz"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;

    write_file(dir.file("empty.tar"), "");
    EXPECT_FALSE(layer_root_hash(f, dir.file("empty.tar"), r, error)) << "format " << static_cast<int>(f);
  }
  LayerImageInfo info;
  write_file(dir.file("notimage"), random_bytes(40000, 5));
  EXPECT_FALSE(verify_layer_image(dir.file("notimage"), info, error));
  EXPECT_NE(error.find("notimage"), std::string::npos) << error;
}

TEST(LayerHashes, ParallelMatchesSequentialAndCompressionDoesNotMatter) {
  TempDir dir;
  std::vector<std::string> paths;
  for (int i = 0; i < 4; ++i) {
    Compression c = i % 3 == 0 ? Compression::kNone : (i % 3 == 1 ? Compression::kGzip : Compression::kZstd);
    paths.push_back(dir.file("l" + std::to_string(i) + ".tar"));
    write_tar(paths.back(), small_layer(static_cast<uint32_t>(i + 1)), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, c);
  }
  for (LayerFormat f : {LayerFormat::kAci, LayerFormat::kKata}) {
    std::vector<RootHash> results;
    std::vector<std::string> errors;
    ASSERT_TRUE(layer_root_hashes(f, paths, 3, results, errors));
    for (size_t i = 0; i < paths.size(); ++i) {
      RootHash one{};
      std::string error;
      ASSERT_TRUE(layer_root_hash(f, paths[i], one, error)) << error;
      EXPECT_EQ(results[i], one);
    }
    EXPECT_NE(results[0], results[1]);
  }
  // The ACI hash is of the ext4 image: compression of the blob is irrelevant.
  write_tar(dir.file("a.tar"), small_layer(9));
  write_tar(dir.file("a.tar.gz"), small_layer(9), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, Compression::kGzip);
  RootHash a{}, b{};
  std::string error;
  ASSERT_TRUE(layer_root_hash(LayerFormat::kAci, dir.file("a.tar"), a, error));
  ASSERT_TRUE(layer_root_hash(LayerFormat::kAci, dir.file("a.tar.gz"), b, error));
  EXPECT_EQ(a, b);
}

TEST(LayerHashes, InMemoryAndStreamingGzipAgree) {
  // A compressible layer: small enough when gzipped for the libdeflate path, while the same
  // bytes behind a multi-member gzip prefix or uncompressed go through other readers.
  TempDir dir;
  std::vector<EntrySpec> v(2);
  v[0].name = "text";
  for (int i = 0; v[0].data.size() < (30 << 20); ++i) v[0].data += "line " + std::to_string(i) + " of the layer\n";
  v[1].name = "bin";
  v[1].data = random_bytes(1 << 20, 8);
  write_tar(dir.file("l.tar"), v);
  write_tar(dir.file("l.tar.gz"), v, ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE, Compression::kGzip);
  ASSERT_LT(read_file(dir.file("l.tar.gz")).size(), 24u << 20);
  // Two gzip members: libdeflate inflates member by member.
  int status = 0;
  run("head -c 1000000 " + dir.file("l.tar") + " | gzip -n > " + dir.file("two.tar.gz") + " && tail -c +1000001 " +
          dir.file("l.tar") + " | gzip -n >> " + dir.file("two.tar.gz"),
      &status);
  ASSERT_EQ(status, 0);
  for (LayerFormat f : {LayerFormat::kAci, LayerFormat::kKata}) {
    RootHash plain{}, gzipped{}, two{};
    std::string error;
    ASSERT_TRUE(layer_root_hash(f, dir.file("l.tar"), plain, error)) << error;
    ASSERT_TRUE(layer_root_hash(f, dir.file("l.tar.gz"), gzipped, error)) << error;
    ASSERT_TRUE(layer_root_hash(f, dir.file("two.tar.gz"), two, error)) << error;
    EXPECT_EQ(plain, gzipped);
    EXPECT_EQ(plain, two);
  }
}

TEST(LayerHashes, ProgressIsReported) {
  TempDir dir;
  std::vector<EntrySpec> v(1);
  v[0].name = "big";
  v[0].data = random_bytes(40 << 20, 2);
  write_tar(dir.file("l.tar"), v);
  for (LayerFormat f : {LayerFormat::kAci, LayerFormat::kKata}) {
    LayerOptions o;
    std::atomic<uint64_t> calls{0}, last{0}, total{0};
    o.progress = [&](uint64_t done, uint64_t t) {
      ++calls;
      last = done;
      total = t;
    };
    RootHash r{};
    std::string error;
    ASSERT_TRUE(layer_root_hash(f, dir.file("l.tar"), o, r, error)) << error;
    EXPECT_GE(calls.load(), 1u);
    EXPECT_EQ(last.load(), total.load());
    EXPECT_EQ(total.load(), read_file(dir.file("l.tar")).size());
  }
}

TEST(LayerHashes, XattrBlockRewriteFallsBackToAFile) {
  // Re-creating a directory whose xattrs live in an xattr block rewrites that block in place;
  // the streaming hash must then agree with hashing the written image.
  TempDir dir;
  std::vector<EntrySpec> v(3);
  v[0].name = "d/";
  v[0].type = AE_IFDIR;
  v[0].xattrs = {{"user.big", std::string(200, 'x')}};
  v[1].name = "d/f";
  v[1].data = "data";
  v[2] = v[0];
  v[2].xattrs = {{"user.big", std::string(200, 'y')}};
  write_tar(dir.file("l.tar"), v);
  RootHash streamed{};
  LayerImageInfo built;
  std::string error;
  ASSERT_TRUE(layer_root_hash(LayerFormat::kAci, dir.file("l.tar"), streamed, error)) << error;
  ASSERT_TRUE(build_layer_image(LayerFormat::kAci, dir.file("l.tar"), dir.file("img"), built, error)) << error;
  EXPECT_EQ(streamed, built.root_hash);
  if (have_tool("debugfs")) {
    std::string ea = run("debugfs -R 'ea_get /d user.big' " + dir.file("img"));
    EXPECT_NE(ea.find("yyyy"), std::string::npos) << ea;
  }
}

}  // namespace
}  // namespace confidant::integrity

namespace confidant::integrity {
namespace {
TEST(LayerImageCoverage, EveryDataBlockIsCovered) {
  TempDir dir;
  write_tar(dir.file("l.tar"), small_layer());
  for (LayerFormat f : {LayerFormat::kAci, LayerFormat::kKata}) {
    LayerImageInfo built, verified;
    std::string error;
    ASSERT_TRUE(build_layer_image(f, dir.file("l.tar"), dir.file("img"), built, error)) << error;
    std::string pristine = read_file(dir.file("img"));
    for (uint64_t offset = 0; offset < built.data_size; offset += 4096) {
      write_file(dir.file("img"), pristine);
      corrupt(dir.file("img"), offset + 1100);
      EXPECT_FALSE(verify_layer_image(dir.file("img"), verified, error))
          << "offset " << offset << " of " << built.data_size;
    }
  }
}
}  // namespace
}  // namespace confidant::integrity
