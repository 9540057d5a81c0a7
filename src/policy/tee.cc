#include "policy/tee.h"

#include <fcntl.h>
#include <linux/sev-guest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace confidant::policy {

namespace {

// SEV-SNP ABI: the report is 1184 bytes (versions 2 to 5); HOST_DATA sits at 0xC0.
constexpr size_t kHostDataOffset = 0xC0;
constexpr size_t kReportMinSize = 0x2A0;
// The driver's response: a 32-byte header (status, report size, reserved), then the report.
constexpr size_t kResponseHeader = 32;

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }

}  // namespace

bool host_data_from_report(std::span<const uint8_t> report, HostData& out, std::string& error) {
  if (report.size() < kReportMinSize) {
    error = "attestation report too short (" + std::to_string(report.size()) + " bytes)";
    return false;
  }
  std::memcpy(out.data(), report.data() + kHostDataOffset, out.size());
  return true;
}

bool ReportTee::host_data(HostData& out, std::string& error) {
  std::vector<uint8_t> report;
  if (!fetch_(report, error)) return false;
  return host_data_from_report(report, out, error);
}

bool read_sev_guest_report(const std::string& device, std::vector<uint8_t>& report, std::string& error) {
  std::array<uint8_t, 64> zero{};
  return read_sev_guest_report(device, zero, 0, report, error);
}

bool read_sev_guest_report(const std::string& device, std::span<const uint8_t, 64> report_data, uint32_t vmpl,
                           std::vector<uint8_t>& report, std::string& error) {
  int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + device + ": " + std::strerror(errno);
    return false;
  }
  snp_report_req req{};
  std::memcpy(req.user_data, report_data.data(), sizeof(req.user_data));
  req.vmpl = vmpl;
  snp_report_resp resp{};
  snp_guest_request_ioctl io{};
  io.msg_version = 1;
  io.req_data = reinterpret_cast<uint64_t>(&req);
  io.resp_data = reinterpret_cast<uint64_t>(&resp);
  int rc = ::ioctl(fd, SNP_GET_REPORT, &io);
  int saved = errno;
  ::close(fd);
  if (rc < 0) {
    error = device + ": SNP_GET_REPORT failed: " + std::strerror(saved) + " (firmware error " +
            std::to_string(io.exitinfo2) + ")";
    return false;
  }
  uint32_t status = le32(resp.data);
  uint32_t size = le32(resp.data + 4);
  if (status != 0 || size < kReportMinSize || size > sizeof(resp.data) - kResponseHeader) {
    error = device + ": report request returned status " + std::to_string(status) + ", size " + std::to_string(size);
    return false;
  }
  report.assign(resp.data + kResponseHeader, resp.data + kResponseHeader + size);
  return true;
}

std::unique_ptr<Tee> detect_tee(const std::string& device) {
  std::error_code ec;
  if (!std::filesystem::exists(device, ec)) return nullptr;
  return std::make_unique<ReportTee>(device, [device](std::vector<uint8_t>& report, std::string& error) {
    return read_sev_guest_report(device, report, error);
  });
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

bool parse_host_data(std::string_view hex, HostData& out) {
  if (hex.size() != out.size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace confidant::policy
