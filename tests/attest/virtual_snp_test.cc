#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "attest/attest.h"
#include "policy/policy.h"
#include "test_support.h"

namespace confidant::attest::testing {
namespace {

namespace fs = std::filesystem;

const char* kPolicy = R"(package policy

api_version := "0.10.0"

mount_device := {"allowed": true}
mount_overlay := {"allowed": true}
create_container := {"allowed": true, "allow_stdio_access": true}
unmount_device := {"allowed": true}
unmount_overlay := {"allowed": true}
exec_in_container := {"allowed": true}
exec_external := {"allowed": true, "allow_stdio_access": true}
shutdown_container := {"allowed": true}
signal_container_process := {"allowed": true}
plan9_mount := {"allowed": true}
plan9_unmount := {"allowed": true}
get_properties := {"allowed": true}
dump_stacks := {"allowed": true}
runtime_logging := {"allowed": true}
load_fragment := {"allowed": true}
scratch_mount := {"allowed": true}
scratch_unmount := {"allowed": true}
)";

policy::HostData sha256(std::string_view text) {
  policy::HostData out;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

std::string temp_dir(const char* name) {
  std::string templ = (fs::temp_directory_path() / (std::string("confidant-") + name + "-XXXXXX")).string();
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr);
  return templ;
}

// Key generation (two RSA-4096 keys) is slow: one device for the suite.
class VirtualSnpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(temp_dir("vsnp"));
    params_.host_data = sha256(kPolicy);
    for (size_t i = 0; i < params_.measurement.size(); ++i) params_.measurement[i] = static_cast<uint8_t>(i);
    params_.guest_svn = 7;
    std::string error;
    device_ = VirtualSnp::launch(*dir_ + "/state", params_, error).release();
    ASSERT_NE(device_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete device_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }
  static CertBundle chain() {
    CertBundle b;
    std::string error, pem = device_->certificate_chain_pem();
    EXPECT_TRUE(load_certificates({reinterpret_cast<const uint8_t*>(pem.data()), pem.size()}, b, error)) << error;
    return b;
  }
  static TrustStore trusting() {
    TrustStore t = TrustStore::amd();
    std::string error;
    EXPECT_TRUE(t.add_ark(device_->ark(), error)) << error;
    return t;
  }
  static std::string* dir_;
  static LaunchParams params_;
  static VirtualSnp* device_;
};
std::string* VirtualSnpTest::dir_ = nullptr;
LaunchParams VirtualSnpTest::params_;
VirtualSnp* VirtualSnpTest::device_ = nullptr;

TEST_F(VirtualSnpTest, ReportVerifiesWhenTrusted) {
  std::array<uint8_t, 64> rd{};
  rd[0] = 0xAA;
  rd[63] = 0x55;
  std::vector<uint8_t> raw;
  std::string error;
  ASSERT_TRUE(device_->get_report(rd, 0, raw, error)) << error;
  Verifier verifier(trusting());
  VerifyOptions o;
  o.report_data = rd;
  o.host_data = params_.host_data;
  o.measurement = params_.measurement;
  o.vmpl = 0;
  o.min_tcb = params_.tcb;
  VerifiedReport out;
  ASSERT_TRUE(verifier.verify(raw, chain(), o, out, error)) << error;
  EXPECT_FALSE(out.builtin_root);
  EXPECT_EQ(out.chain[2], "Confidant TEST ARK - NOT TRUSTED");
  EXPECT_EQ(out.report.version, 3u);
  EXPECT_EQ(out.report.guest_svn, 7u);
  EXPECT_EQ(out.report.host_data, params_.host_data);
  EXPECT_EQ(out.report.reported_tcb, params_.tcb);
  EXPECT_EQ(out.product, Product::kMilan);
  for (uint8_t b : out.report.report_id_ma) EXPECT_EQ(b, 0xFF);
}

TEST_F(VirtualSnpTest, RefusedWithoutExplicitTrust) {
  std::array<uint8_t, 64> rd{};
  std::vector<uint8_t> raw;
  std::string error;
  ASSERT_TRUE(device_->get_report(rd, 0, raw, error)) << error;
  Verifier verifier(TrustStore::amd());
  VerifiedReport out;
  EXPECT_FALSE(verifier.verify(raw, chain(), {}, out, error));
  EXPECT_NE(error.find("untrusted root 'Confidant TEST ARK - NOT TRUSTED'"), std::string::npos) << error;
  // Without the ARK in the bundle the ASK leads nowhere.
  CertBundle no_root = chain();
  no_root.certs.pop_back();
  EXPECT_FALSE(verifier.verify(raw, no_root, {}, out, error));
  EXPECT_NE(error.find("does not chain to a trusted ARK"), std::string::npos) << error;
}

TEST_F(VirtualSnpTest, BitFlipsFail) {
  std::array<uint8_t, 64> rd{};
  std::vector<uint8_t> raw;
  std::string error;
  ASSERT_TRUE(device_->get_report(rd, 1, raw, error)) << error;
  Verifier verifier(trusting());
  VerifiedReport out;
  ASSERT_TRUE(verifier.verify(raw, chain(), {}, out, error)) << error;
  EXPECT_EQ(out.report.vmpl, 1u);
  for (size_t byte = 0; byte < 0x330; byte += 7) {
    raw[byte] ^= 0x10;
    EXPECT_FALSE(verifier.verify(raw, chain(), {}, out, error)) << byte;
    raw[byte] ^= 0x10;
  }
}

TEST_F(VirtualSnpTest, VmplBounds) {
  std::array<uint8_t, 64> rd{};
  std::vector<uint8_t> raw;
  std::string error;
  EXPECT_FALSE(device_->get_report(rd, 4, raw, error));
  EXPECT_NE(error.find("VMPL"), std::string::npos);
  LaunchParams p = params_;
  p.vmpl = 2;
  std::string dir = temp_dir("vsnp-vmpl");
  // Launching is slow; only the parameter checks are exercised here.
  p.vmpl = 4;
  EXPECT_EQ(VirtualSnp::launch(dir + "/x", p, error), nullptr);
  EXPECT_NE(error.find("VMPL"), std::string::npos) << error;
  p.vmpl = 0;
  p.policy = 0;  // bit 17 clear
  EXPECT_EQ(VirtualSnp::launch(dir + "/x", p, error), nullptr);
  EXPECT_NE(error.find("bit 17"), std::string::npos) << error;
  fs::remove_all(dir);
}

TEST_F(VirtualSnpTest, StateDirectory) {
  std::string error;
  fs::path state = *dir_ + "/state";
  for (const char* f : {"vcek_key.pem", "vcek.pem", "ask.pem", "ark.pem", "launch.json"}) {
    struct stat st {};
    ASSERT_EQ(::stat((state / f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  EXPECT_FALSE(fs::exists(state / "ark_key.pem"));
  // Launch parameters are immutable: a second launch in the same directory is refused.
  EXPECT_EQ(VirtualSnp::launch(state.string(), params_, error), nullptr);
  EXPECT_NE(error.find("already holds"), std::string::npos) << error;

  auto opened = VirtualSnp::open(state.string(), error);
  ASSERT_NE(opened, nullptr) << error;
  EXPECT_EQ(opened->params().host_data, params_.host_data);
  EXPECT_EQ(opened->params().measurement, params_.measurement);
  EXPECT_EQ(opened->chip_id(), device_->chip_id());
  EXPECT_EQ(opened->certificate_chain_pem(), device_->certificate_chain_pem());
  std::array<uint8_t, 64> rd{};
  std::vector<uint8_t> raw;
  ASSERT_TRUE(opened->get_report(rd, 0, raw, error)) << error;
  Verifier verifier(trusting());
  VerifiedReport out;
  EXPECT_TRUE(verifier.verify(raw, chain(), {}, out, error)) << error;
}

TEST_F(VirtualSnpTest, EditedLaunchRecordIsDetected) {
  std::string error;
  fs::path copy = *dir_ + "/edited";
  fs::copy(*dir_ + "/state", copy);
  std::string text;
  {
    std::ifstream f(copy / "launch.json");
    text.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::string old_hd = hex(params_.host_data);
  size_t at = text.find(old_hd);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, old_hd.size(), std::string(64, '0'));
  {
    std::ofstream f(copy / "launch.json", std::ios::trunc);
    f << text;
  }
  EXPECT_EQ(VirtualSnp::open(copy.string(), error), nullptr);
  EXPECT_NE(error.find("does not match the launch record"), std::string::npos) << error;
  fs::permissions(copy / "vcek_key.pem", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(VirtualSnp::open(copy.string(), error), nullptr);
  EXPECT_EQ(VirtualSnp::open(*dir_ + "/missing", error), nullptr);
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST_F(VirtualSnpTest, EnforcerBindsPolicyThroughTheDevice) {
  std::string error;
  auto shared = std::shared_ptr<const VirtualSnp>(VirtualSnp::open(*dir_ + "/state", error));
  ASSERT_NE(shared, nullptr) << error;
  auto tee = std::make_shared<policy::ReportTee>("virtual-snp", virtual_snp_fetcher(shared));
  policy::HostData hd;
  ASSERT_TRUE(tee->host_data(hd, error)) << error;
  EXPECT_EQ(hd, params_.host_data);

  policy::Enforcer accepts(tee);
  EXPECT_TRUE(accepts.load(kPolicy, error)) << error;
  EXPECT_TRUE(accepts.enforce("get_properties", rego::Value::empty_object()).allowed);

  policy::Enforcer refuses(tee);
  std::string other = std::string(kPolicy) + "\n# another policy\n";
  EXPECT_FALSE(refuses.load(other, error));
  EXPECT_NE(error.find("does not match HOST_DATA"), std::string::npos) << error;
  EXPECT_FALSE(refuses.loaded());
}

TEST(SevGuest, FetcherOnlyWhenTheDeviceExists) {
  EXPECT_FALSE(sev_guest_fetcher("/nonexistent/sev-guest").has_value());
  if (!fs::exists("/dev/sev-guest")) GTEST_SKIP() << "no /dev/sev-guest on this machine";
  EXPECT_TRUE(sev_guest_fetcher().has_value());
}

}  // namespace
}  // namespace confidant::attest::testing
