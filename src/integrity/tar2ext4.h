// tar -> compact ext4, following hcsshim tar2ext4's rules (whiteouts converted, 128 GiB maximum
// disk size for layer hashing).
#pragma once

#include <cstdint>
#include <string>

#include "integrity/ext4_writer.h"
#include "integrity/integrity.h"

namespace confidant::integrity {

// Number of group-descriptor blocks reserved for max_disk_size (the image's data starts at
// block 1 + this).
uint32_t ext4_gd_blocks(uint64_t max_disk_size);

struct Ext4Result {
  uint64_t blocks = 0;   // image size / 4096
  uint64_t entries = 0;  // tar entries processed
};

bool convert_tar_to_ext4(const std::string& tar_path, ImageSink& sink, uint64_t max_disk_size,
                         const ProgressFn& progress, Ext4Result& result, std::string& error);

}  // namespace confidant::integrity
