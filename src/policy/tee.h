// Where the guest learns HOST_DATA: the 32 bytes the host fixed at launch
// and the hardware reports in every attestation report. A policy is installed
// only when its SHA-256 equals this value, which binds the policy the guest
// enforces to the one a verifier sees in attestation evidence.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace confidant::policy {

using HostData = std::array<uint8_t, 32>;

class Tee {
 public:
  virtual ~Tee() = default;
  // The launch-time HOST_DATA; false with a message when it cannot be read.
  virtual bool host_data(HostData& out, std::string& error) = 0;
  // For messages: "fixed", "/dev/sev-guest", ...
  virtual std::string name() const = 0;
};

// A value given up front: tests, trace replays, and hosts without a TEE that
// were told the expected digest out of band.
class FixedTee : public Tee {
 public:
  explicit FixedTee(const HostData& value) : value_(value) {}
  bool host_data(HostData& out, std::string&) override {
    out = value_;
    return true;
  }
  std::string name() const override { return "fixed"; }

 private:
  HostData value_;
};

// Any source of raw SEV-SNP attestation reports (the kernel device, a
// virtual SNP device, a recorded report): HOST_DATA is read from the report.
class ReportTee : public Tee {
 public:
  using Fetch = std::function<bool(std::vector<uint8_t>& report, std::string& error)>;
  ReportTee(std::string name, Fetch fetch) : name_(std::move(name)), fetch_(std::move(fetch)) {}
  bool host_data(HostData& out, std::string& error) override;
  std::string name() const override { return name_; }

 private:
  std::string name_;
  Fetch fetch_;
};

// HOST_DATA from an SEV-SNP attestation report (offset 0xC0, 32 bytes).
bool host_data_from_report(std::span<const uint8_t> report, HostData& out, std::string& error);

// Requests a report from the Linux SEV guest driver (SNP_GET_REPORT, VMPL 0,
// zero report data), as the Kata agent and the ACI guest do.
bool read_sev_guest_report(const std::string& device, std::vector<uint8_t>& report, std::string& error);
// The same with the caller's REPORT_DATA (bound into the signed report) and VMPL.
bool read_sev_guest_report(const std::string& device, std::span<const uint8_t, 64> report_data, uint32_t vmpl,
                           std::vector<uint8_t>& report, std::string& error);

// /dev/sev-guest when the device exists, else null: without a TEE there is
// no HOST_DATA, and the enforcer then refuses every policy.
std::unique_ptr<Tee> detect_tee(const std::string& device = "/dev/sev-guest");

// "a1b2..." (lowercase) and back; parse accepts either case and refuses
// anything but exactly 64 hex digits.
std::string to_hex(std::span<const uint8_t> bytes);
bool parse_host_data(std::string_view hex, HostData& out);

}  // namespace confidant::policy
