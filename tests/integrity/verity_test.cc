#include "integrity/verity.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "integrity/integrity.h"
#include "test_util.h"

namespace confidant::integrity {
namespace {

using testing::have_tool;
using testing::random_bytes;
using testing::read_file;
using testing::run;
using testing::TempDir;
using testing::write_file;

const std::string kZeroSalt(64, '0');

std::string veritysetup_root(const std::string& data, const std::string& hash, int* status) {
  std::string out = run("veritysetup format --no-superblock --salt=" + kZeroSalt + " " + data + " " + hash, status);
  size_t at = out.find("Root hash:");
  if (at == std::string::npos) return out;
  size_t start = out.find_first_not_of(" \t", at + 10);
  return out.substr(start, 64);
}

class VerityVsVeritysetup : public ::testing::TestWithParam<uint64_t> {};

TEST_P(VerityVsVeritysetup, RootAndTreeMatch) {
  if (!have_tool("veritysetup")) GTEST_SKIP() << "veritysetup not installed";
  const uint64_t blocks = GetParam();
  TempDir dir;
  std::string data = random_bytes(blocks * kBlockSize, static_cast<uint32_t>(blocks));
  // Some all-zero blocks exercise the zero-block shortcut.
  std::memset(data.data() + kBlockSize, 0, kBlockSize);
  write_file(dir.file("data"), data);
  int status = 0;
  std::string expected = veritysetup_root(dir.file("data"), dir.file("hash"), &status);
  ASSERT_EQ(status, 0) << expected;

  RootHash root{};
  std::string error;
  int fd = open(dir.file("data").c_str(), O_RDONLY);
  int tfd = open(dir.file("tree").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  ASSERT_TRUE(verity_hash_fd(fd, 0, data.size(), tfd, 0, root, error)) << error;
  close(fd);
  close(tfd);
  EXPECT_EQ(to_hex(root), expected);
  EXPECT_EQ(read_file(dir.file("tree")), read_file(dir.file("hash")));
  EXPECT_EQ(verity_tree_blocks(blocks) * kBlockSize, read_file(dir.file("hash")).size());

  // Same root when the first blocks arrive last (the ext4 writer's order).
  for (uint64_t deferred : {uint64_t{1}, uint64_t{9}}) {
    if (deferred >= blocks) continue;
    VerityHasher h(deferred);
    h.add_blocks(reinterpret_cast<const uint8_t*>(data.data()) + deferred * kBlockSize, blocks - deferred);
    for (uint64_t i = deferred; i-- > 0;)
      h.set_leading_block(i, reinterpret_cast<const uint8_t*>(data.data()) + i * kBlockSize);
    RootHash r2{};
    ASSERT_TRUE(h.finish(r2, error)) << error;
    EXPECT_EQ(to_hex(r2), expected) << "deferred " << deferred;
  }

  // Byte-granular streaming gives the same root.
  VerityHasher h;
  VerityStream s(h);
  size_t off = 0, step = 1;
  while (off < data.size()) {
    size_t n = std::min(step, data.size() - off);
    s.write(reinterpret_cast<const uint8_t*>(data.data()) + off, n);
    off += n;
    step = step * 3 + 1;
  }
  RootHash r3{};
  ASSERT_TRUE(s.finish(r3, error)) << error;
  EXPECT_EQ(to_hex(r3), expected);
}

INSTANTIATE_TEST_SUITE_P(Sizes, VerityVsVeritysetup, ::testing::Values(2, 3, 127, 128, 129, 255, 16384, 16385));

TEST(Verity, SingleBlockIsRejected) {
  VerityHasher h;
  std::string block(kBlockSize, 'x');
  h.add_blocks(reinterpret_cast<const uint8_t*>(block.data()), 1);
  RootHash r{};
  std::string error;
  EXPECT_FALSE(h.finish(r, error));
  EXPECT_NE(error.find("at least 2"), std::string::npos);
}

TEST(Verity, PartialBlockIsRejected) {
  VerityHasher h;
  VerityStream s(h);
  std::string data(3 * kBlockSize + 1, 'y');
  s.write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  RootHash r{};
  std::string error;
  EXPECT_FALSE(s.finish(r, error));
  EXPECT_NE(error.find("multiple of 4096"), std::string::npos);
}

TEST(Verity, ZeroRunsMatchExplicitZeros) {
  std::string zeros(300 * kBlockSize, '\0');
  std::string head = random_bytes(5 * kBlockSize, 7);
  VerityHasher a, b;
  a.add_blocks(reinterpret_cast<const uint8_t*>(head.data()), 5);
  a.add_blocks(reinterpret_cast<const uint8_t*>(zeros.data()), 300);
  b.add_blocks(reinterpret_cast<const uint8_t*>(head.data()), 5);
  b.add_zero_blocks(300);
  RootHash ra{}, rb{};
  std::string error;
  ASSERT_TRUE(a.finish(ra, error));
  ASSERT_TRUE(b.finish(rb, error));
  EXPECT_EQ(ra, rb);
}

TEST(Verity, SuperblockMatchesVeritysetup) {
  if (!have_tool("veritysetup")) GTEST_SKIP() << "veritysetup not installed";
  TempDir dir;
  std::string data = random_bytes(20 * kBlockSize, 3);
  write_file(dir.file("data"), data);
  const std::string uuid = "12345678-9abc-4def-8123-456789abcdef";
  int status = 0;
  std::string out = run(
      "veritysetup format --salt=" + kZeroSalt + " --uuid=" + uuid + " " + dir.file("data") + " " + dir.file("hash"),
      &status);
  ASSERT_EQ(status, 0) << out;
  std::string hash = read_file(dir.file("hash"));
  ASSERT_GE(hash.size(), 512u);
  VeritySuperblock sb;
  sb.data_blocks = 20;
  const uint8_t u[16] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef,
                         0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  std::memcpy(sb.uuid.data(), u, 16);
  auto bytes = encode_verity_superblock(sb);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 512), hash.substr(0, 512));
  VeritySuperblock back;
  std::string error;
  ASSERT_TRUE(decode_verity_superblock(reinterpret_cast<const uint8_t*>(hash.data()), back, error)) << error;
  EXPECT_EQ(back.data_blocks, 20u);
  // The tree after the superblock block is the same as without a superblock.
  VerityHasher h;
  int tfd = open(dir.file("tree").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  int fd = open(dir.file("data").c_str(), O_RDONLY);
  RootHash root{};
  ASSERT_TRUE(verity_hash_fd(fd, 0, data.size(), tfd, 0, root, error)) << error;
  close(fd);
  close(tfd);
  EXPECT_EQ(hash.substr(kBlockSize), read_file(dir.file("tree")));
}

TEST(Verity, HexRoundTrip) {
  RootHash r{};
  for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<uint8_t>(i * 7);
  RootHash back{};
  ASSERT_TRUE(parse_hex(to_hex(r), back));
  EXPECT_EQ(r, back);
  EXPECT_FALSE(parse_hex("zz", back));
}

}  // namespace
}  // namespace confidant::integrity
