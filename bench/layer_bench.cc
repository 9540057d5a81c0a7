// Layer integrity benchmarks: `layer hash` of an uncompressed layer (default 1 GiB, override with
// CONFIDANT_LAYER_BENCH_MIB) against `veritysetup format --no-superblock` over the image that
// hash covers (the ext4 image for ACI, tar + tarfs index for Kata), measured in the same run.
//   BM_LayerHash/aci, BM_LayerHash/kata      tar -> (ext4 | index) -> dm-verity root, streaming
//   BM_Veritysetup/aci, BM_Veritysetup/kata  veritysetup over the already-built data region
// The target is BM_LayerHash <= 1.2x BM_Veritysetup. Scratch files go to $TMPDIR (default /tmp).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "integrity/integrity.h"

namespace fs = std::filesystem;
using namespace confidant::integrity;

namespace {

struct Fixture {
  std::string dir, tar, images[2];
  uint64_t data_size[2] = {0, 0};
  bool ok = false;
};

void octal(char* field, size_t width, uint64_t v) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1), static_cast<unsigned long long>(v));
}

// A plain ustar writer: the benchmark must not depend on the tar library under test.
void write_header(std::ofstream& out, const std::string& name, char type, uint64_t size, unsigned mode) {
  char h[512] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
  octal(h + 100, 8, mode);
  octal(h + 108, 8, 0);
  octal(h + 116, 8, 0);
  octal(h + 124, 12, size);
  octal(h + 136, 12, 1700000000);
  h[156] = type;
  std::memcpy(h + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  out.write(h, 512);
}

const Fixture& fixture() {
  static Fixture f = [] {
    Fixture f;
    uint64_t mib = 1024;
    if (const char* s = std::getenv("CONFIDANT_LAYER_BENCH_MIB")) mib = std::strtoull(s, nullptr, 10);
    const char* tmp = std::getenv("TMPDIR");
    f.dir = std::string(tmp ? tmp : "/tmp") + "/confidant-layer-bench-" + std::to_string(getpid());
    fs::create_directories(f.dir);
    f.tar = f.dir + "/layer.tar";
    std::ofstream out(f.tar, std::ios::binary);
    const uint64_t total = mib << 20;
    uint64_t written = 0, x = 0x9e3779b97f4a7c15ull;
    std::vector<char> buf(8 << 20);
    const uint64_t sizes[] = {700, 5000, 40000, 300000, 2 << 20, 8 << 20};
    for (int d = 0; written < total; ++d) {
      std::string dirname = "dir" + std::to_string(d) + "/";
      write_header(out, dirname, '5', 0, 0755);
      for (int i = 0; i < 64 && written < total; ++i) {
        uint64_t size = std::min<uint64_t>(sizes[(d * 64 + i) % 6], total - written);
        for (size_t k = 0; k + 8 <= size + 8 && k < buf.size(); k += 8) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          std::memcpy(buf.data() + k, &x, 8);
        }
        write_header(out, dirname + "file" + std::to_string(i), '0', size, 0644);
        out.write(buf.data(), static_cast<std::streamsize>(size));
        static const char zeros[512] = {};
        out.write(zeros, static_cast<std::streamsize>((512 - size % 512) % 512));
        written += size;
      }
    }
    static const char end[1024] = {};
    out.write(end, sizeof end);
    out.close();
    for (int k = 0; k < 2; ++k) {
      f.images[k] = f.dir + (k == 0 ? "/aci.img" : "/kata.img");
      LayerOptions o;
      o.vhd_footer = false;
      LayerImageInfo info;
      std::string error;
      if (!build_layer_image(k == 0 ? LayerFormat::kAci : LayerFormat::kKata, f.tar, f.images[k], o, info, error)) {
        std::fprintf(stderr, "layer_bench: %s\n", error.c_str());
        return f;
      }
      f.data_size[k] = info.data_size;
    }
    f.ok = true;
    return f;
  }();
  return f;
}

void BM_LayerHash(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.ok) return state.SkipWithError("fixture failed");
  const LayerFormat format = state.range(0) == 0 ? LayerFormat::kAci : LayerFormat::kKata;
  for (auto _ : state) {
    RootHash root{};
    std::string error;
    if (!layer_root_hash(format, f.tar, root, error)) return state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(root);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * fs::file_size(f.tar)));
  state.SetLabel(state.range(0) == 0 ? "aci" : "kata");
}

void BM_Veritysetup(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.ok) return state.SkipWithError("fixture failed");
  const int k = static_cast<int>(state.range(0));
  const std::string cmd = "veritysetup format --no-superblock --salt=" + std::string(64, '0') +
                          " --data-blocks=" + std::to_string(f.data_size[k] / 4096) + " " + f.images[k] + " " + f.dir +
                          "/hash >/dev/null";
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) return state.SkipWithError("veritysetup failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.data_size[k]));
  state.SetLabel(k == 0 ? "aci" : "kata");
}

BENCHMARK(BM_LayerHash)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Veritysetup)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    if (!fixture().dir.empty()) fs::remove_all(fixture().dir, ec);
  }
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  Cleanup cleanup;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
