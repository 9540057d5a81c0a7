// Kata/AKS tarfs index: a streaming tar parser over the raw (decompressed) tar bytes that builds
// the tree exactly as the AKS fork's tarindex does, and the index serialiser
// (docs/layer-integrity.md, "tarfs").
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace confidant::integrity {

class TarfsIndexBuilder {
 public:
  TarfsIndexBuilder();
  // Feeds the next bytes of the raw tar (any chunking).
  bool feed(const uint8_t* data, size_t size, std::string& error);
  // Emits the index that follows the tar (tar_size = total bytes fed) through `out`, which
  // receives consecutive chunks; returns the index size (ends 4096-aligned in the file).
  bool finish(const std::function<bool(const uint8_t*, size_t)>& out, uint64_t& index_size, std::string& error);

  uint64_t tar_size() const { return pos_; }
  uint64_t entries() const { return entries_; }

 private:
  struct Node {
    uint64_t offset = 0, size = 0;
    std::map<std::string, uint32_t> children;  // byte-wise name order
    uint16_t mode = 0;
    uint64_t ino = 0;
    bool emitted = false, opaque = false;
    uint64_t mtime = 0;
    uint32_t owner = 0, group = 0;
    std::string long_target;  // for symlinks whose target is not in the header field
  };
  struct Entry {
    std::string path, link;
    char type = 0;
    uint64_t size = 0, header_pos = 0, data_pos = 0;
    std::vector<uint8_t> header;
  };

  bool on_header(const uint8_t* h, std::string& error);
  bool on_extension_done(std::string& error);
  void on_entry(const Entry& e);
  uint32_t new_node();
  uint32_t traverse(const std::vector<std::string>& path);
  bool bfs(const std::function<bool(Node&, uint32_t)>& visit, std::string& error);

  enum class State { kHeader, kData, kSparseExt, kEnd };
  State state_ = State::kHeader;
  uint64_t pos_ = 0;
  uint64_t entries_ = 0;
  std::vector<uint8_t> hdr_;   // partial header block
  uint64_t skip_ = 0;          // data bytes left to skip (incl. padding)
  char capture_type_ = 0;      // 'L', 'K', 'x' while capturing extension data
  uint64_t capture_left_ = 0;  // meaningful data bytes left to capture
  std::string capture_;
  bool has_long_name_ = false, has_long_link_ = false;
  std::string long_name_, long_link_;
  bool has_pax_path_ = false, has_pax_link_ = false, has_pax_size_ = false, pax_seen_ = false;
  std::string pax_path_, pax_link_;
  uint64_t pax_size_ = 0;

  std::vector<Node> nodes_;
  uint32_t root_ = 0;
  std::vector<std::string> special_links_;  // long symlink targets in tar order
};

}  // namespace confidant::integrity
