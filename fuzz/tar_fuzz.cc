// libFuzzer target: untrusted layer blobs through both layer-hash pipelines (tar -> ext4 ->
// dm-verity, and the tarfs index parser). Must never crash or hang; errors are fine.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "integrity/image_sinks.h"
#include "integrity/tar2ext4.h"
#include "integrity/tarfs.h"

using namespace confidant::integrity;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    TarfsIndexBuilder b;
    std::string error;
    if (b.feed(data, size, error)) {
      uint64_t n = 0;
      b.finish([](const uint8_t*, size_t) { return true; }, n, error);
    }
  }
  int fd = memfd_create("layer", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    // A small maximum disk size keeps each run fast and exercises the size limit.
    const uint64_t max_disk = 64ull << 20;
    HashImageSink sink(1 + ext4_gd_blocks(max_disk));
    Ext4Result res;
    std::string error;
    if (convert_tar_to_ext4(path, sink, max_disk, nullptr, res, error) && !sink.rewritten()) {
      RootHash root{};
      sink.finish(root, error);
    }
  }
  close(fd);
  return 0;
}
