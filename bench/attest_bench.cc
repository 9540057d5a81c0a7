// SEV-SNP report verification and virtual report generation.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "attest/attest.h"

namespace {

using namespace confidant::attest;

std::string shared_dir() {
  const char* env = std::getenv("CONFIDANT_SHARED");
  return env ? env : "../shared";
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct AciVector {
  std::vector<uint8_t> report;
  CertBundle certs;
  bool ok = false;
  AciVector() {
    std::string dir = shared_dir() + "/vectors/microsoft-confidential-sidecar-containers/", error;
    report = read_all(dir + "snp_report.bin");
    ok = load_certificates_file(dir + "uvm_host_amd_certificate.json", certs, error) && report.size() == kReportSize;
  }
};

VerifyOptions options() {
  VerifyOptions o;
  o.at = 1735689600;
  return o;
}

void BM_VerifyChainCached(benchmark::State& state) {
  AciVector v;
  if (!v.ok) return state.SkipWithError("vectors not found (set CONFIDANT_SHARED)");
  Verifier verifier(TrustStore::amd());
  VerifiedReport out;
  std::string error;
  for (auto _ : state) {
    if (!verifier.verify(v.report, v.certs, options(), out, error)) return state.SkipWithError(error.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyChainCached);

void BM_VerifyChainUncached(benchmark::State& state) {
  AciVector v;
  if (!v.ok) return state.SkipWithError("vectors not found (set CONFIDANT_SHARED)");
  Verifier verifier(TrustStore::amd());
  VerifiedReport out;
  std::string error;
  for (auto _ : state) {
    verifier.clear_cache();
    if (!verifier.verify(v.report, v.certs, options(), out, error)) return state.SkipWithError(error.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyChainUncached);

void BM_VirtualReport(benchmark::State& state) {
  std::string dir = (std::filesystem::temp_directory_path() / "confidant-attest-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) return state.SkipWithError("mkdtemp failed");
  std::string error;
  auto dev = VirtualSnp::launch(dir + "/state", LaunchParams{}, error);
  if (!dev) return state.SkipWithError(error.c_str());
  std::array<uint8_t, 64> rd{};
  std::vector<uint8_t> raw;
  for (auto _ : state) {
    rd[0]++;
    if (!dev->get_report(rd, 0, raw, error)) return state.SkipWithError(error.c_str());
  }
  state.SetItemsProcessed(state.iterations());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_VirtualReport);

}  // namespace

BENCHMARK_MAIN();
