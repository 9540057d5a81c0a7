// The enforcement inputs the agent derives from OCI documents, the seccomp
// profile digest, guest path checks, and layer image verification errors.
#include "agent/oci_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "agent/guest_path.h"
#include "agent/layer.h"
#include "policy/digest.h"

namespace confidant::agent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json parse(const std::string& text) {
  json j;
  std::string error;
  EXPECT_TRUE(parse_json_object(text, "test", j, error)) << error;
  return j;
}

TEST(Seccomp, GoEncodingDigest) {
  // Keys out of order, empty/zero omitempty fields present: the digest is of
  // Go's encoding of the LinuxSeccomp struct.
  json s = parse(R"({"syscalls":[{"action":"SCMP_ACT_ALLOW","names":["read","write"],"args":[]},
                                 {"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
                                  "args":[{"op":"SCMP_CMP_EQ","value":9,"index":1,"valueTwo":0}]}],
                     "flags":[],"listenerPath":"","architectures":["SCMP_ARCH_X86_64"],
                     "defaultAction":"SCMP_ACT_ERRNO"})");
  std::string expected =
      R"({"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[)"
      R"({"names":["read","write"],"action":"SCMP_ACT_ALLOW"},)"
      R"({"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":1,"value":9,"op":"SCMP_CMP_EQ"}]}]})";
  std::string got, error;
  ASSERT_TRUE(seccomp_profile_sha256(s, got, error)) << error;
  EXPECT_EQ(got, policy::to_hex(policy::sha256(expected)));
  ASSERT_TRUE(seccomp_profile_sha256(json(nullptr), got, error));
  EXPECT_EQ(got, "");
  // Go escapes HTML characters.
  ASSERT_TRUE(seccomp_profile_sha256(parse(R"({"defaultAction":"a<b>&"})"), got, error));
  EXPECT_EQ(got, policy::to_hex(policy::sha256(R"({"defaultAction":"a\u003cb\u003e\u0026"})")));
  EXPECT_FALSE(
      seccomp_profile_sha256(parse(R"({"defaultAction":"x","syscalls":[{"names":["a"],"errnoRet":-1}]})"), got, error));
}

class SpecInput : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("spec-input-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "etc");
    std::ofstream(root_ / "etc/passwd") << "root:x:0:0::/:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
    std::ofstream(root_ / "etc/group") << "root:x:0:\napp:x:1000:\nvideo:x:44:app\n";
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(SpecInput, CreateInputComesFromTheSpec) {
  json spec = parse(R"({"process":{"args":["/app","-v"],"env":["A=1"],"cwd":"/srv","noNewPrivileges":true,
      "user":{"uid":1000,"gid":1000,"additionalGids":[44,7],"umask":63},
      "capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"]}},
    "mounts":[{"destination":"/data","source":"/run/gcs/c/s/sandboxMounts/x","type":"bind","options":["rbind","ro"]},
              {"destination":"/tmp","type":"tmpfs","source":"tmpfs"}],
    "linux":{"devices":[{"path":"/dev/kvm","type":"c","major":10,"minor":232}],
             "seccomp":{"defaultAction":"SCMP_ACT_ALLOW"}},
    "annotations":{"io.microsoft.virtualmachine.lcow.privileged":"true"}})");
  rego::Value in;
  std::string error;
  ASSERT_TRUE(create_container_input(spec, {"c1", "s", root_.string()}, in, error)) << error;
  json got = json::parse(rego::to_json(in));
  EXPECT_EQ(got["containerID"], "c1");
  EXPECT_EQ(got["argList"], json({"/app", "-v"}));
  EXPECT_EQ(got["envList"], json({"A=1"}));
  EXPECT_EQ(got["workingDir"], "/srv");
  EXPECT_EQ(got["noNewPrivileges"], true);
  EXPECT_EQ(got["user"], json({{"id", "1000"}, {"name", "app"}}));
  EXPECT_EQ(got["groups"],
            json::parse(R"([{"id":"1000","name":"app"},{"id":"44","name":"video"},{"id":"7","name":""}])"));
  EXPECT_EQ(got["umask"], "0077");
  EXPECT_EQ(got["capabilities"]["bounding"], json({"CAP_KILL"}));
  EXPECT_EQ(got["capabilities"]["ambient"], json::array());
  EXPECT_EQ(got["sandboxDir"], "/run/gcs/c/s/sandboxMounts");
  EXPECT_EQ(got["mounts"][1], json::parse(R"({"destination":"/tmp","source":"tmpfs","options":[],"type":"tmpfs"})"));
  EXPECT_EQ(got["devices"][0]["path"], "/dev/kvm");
  EXPECT_EQ(got["privileged"], true);
  EXPECT_EQ(got["seccompProfileSHA256"], policy::to_hex(policy::sha256(R"({"defaultAction":"SCMP_ACT_ALLOW"})")));
  EXPECT_EQ(got["isSandboxContainer"], false);
}

TEST_F(SpecInput, DefaultsAndRefusals) {
  rego::Value in;
  std::string error;
  ASSERT_TRUE(create_container_input(parse(R"({"process":{"args":["/x"]}})"), {"c", "", ""}, in, error)) << error;
  json got = json::parse(rego::to_json(in));
  EXPECT_EQ(got["workingDir"], "/");
  EXPECT_EQ(got["umask"], "0022");
  EXPECT_EQ(got["user"], json({{"id", "0"}, {"name", ""}}));
  EXPECT_EQ(got["envList"], json::array());
  EXPECT_EQ(got["sandboxDir"], "/run/gcs/c/c/sandboxMounts");
  EXPECT_FALSE(create_container_input(parse(R"({"process":{"args":[]}})"), {"c", "", ""}, in, error));
  EXPECT_FALSE(create_container_input(parse(R"({"process":{"args":["/x"],"env":[1]}})"), {"c", "", ""}, in, error));
  EXPECT_NE(error.find("process.env"), std::string::npos);
  EXPECT_FALSE(
      create_container_input(parse(R"({"process":{"args":["/x"],"user":{"uid":-1}}})"), {"c", "", ""}, in, error));
  EXPECT_FALSE(create_container_input(parse(R"({"process":{"args":["/x"],"user":{"username":"root"}}})"), {"c", "", ""},
                                      in, error));
  EXPECT_FALSE(create_container_input(parse(R"({"mounts":[]})"), {"c", "", ""}, in, error));
  EXPECT_NE(refused_spec_features(parse(R"({"hooks":{"prestart":[]}})")), "");
  EXPECT_NE(refused_spec_features(parse(R"({"linux":{"namespaces":[{"type":"network","path":"/proc/1/ns/net"}]}})")),
            "");
  EXPECT_NE(refused_spec_features(parse(R"({"process":{"terminal":true}})")), "");
  EXPECT_EQ(refused_spec_features(parse(R"({"linux":{"namespaces":[{"type":"network"}]}})")), "");
  EXPECT_TRUE(spec_host_network(parse(R"({"linux":{"namespaces":[{"type":"pid"}]}})")));
  EXPECT_FALSE(spec_host_network(parse(R"({"linux":{"namespaces":[{"type":"network"}]}})")));
}

TEST_F(SpecInput, PasswdSymlinkIsNotFollowed) {
  fs::remove(root_ / "etc/passwd");
  std::ofstream(root_ / "secret") << "leak:x:5:5::/:/bin/sh\n";
  fs::create_symlink(root_ / "secret", root_ / "etc/passwd");
  rego::Value in;
  std::string error;
  ASSERT_TRUE(create_container_input(parse(R"({"process":{"args":["/x"],"user":{"uid":5,"gid":5}}})"),
                                     {"c", "", root_.string()}, in, error));
  EXPECT_EQ(json::parse(rego::to_json(in))["user"]["name"], "");
}

TEST(Json, DepthAndType) {
  json j;
  std::string error;
  EXPECT_FALSE(parse_json_object(std::string(65, '[') + std::string(65, ']'), "x", j, error));
  EXPECT_NE(error.find("deeper than 64"), std::string::npos);
  EXPECT_FALSE(parse_json_object("[1]", "x", j, error));
  EXPECT_FALSE(parse_json_object("{\"a\":", "x", j, error));
  EXPECT_TRUE(parse_json_object(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", "x",
                                j, error));
}

TEST(GuestPath, Validation) {
  std::string error;
  EXPECT_TRUE(valid_guest_path("/run/mounts/scsi/m1", error, "t"));
  EXPECT_TRUE(valid_guest_path("/run/gcs/c/abc_1.x-y/rootfs", error, "t"));
  for (const char* bad : {"", "run/x", "/run//x", "/run/./x", "/run/../x", "/run/x/", "/run/x y", "/run/x,upperdir=/",
                          "/run/x:y", "/run/\xff"})
    EXPECT_FALSE(valid_guest_path(bad, error, "t")) << bad;
  EXPECT_FALSE(valid_guest_path("/" + std::string(600, 'a'), error, "t"));
  EXPECT_TRUE(valid_id("c0ffee-1.2_x", error, "id"));
  for (const char* bad : {"", "-x", ".x", "a/b", "a b", "..", "x\n"}) EXPECT_FALSE(valid_id(bad, error, "id")) << bad;
  EXPECT_FALSE(valid_id(std::string(129, 'a'), error, "id"));
}

TEST(LayerImage, VerityRootAndMalformedImages) {
  // 2 blocks of zeros: leaves hashed, one level, root over the top block.
  std::string data(8192, '\0');
  std::string r = verity_root_hex(data);
  EXPECT_EQ(r.size(), 64u);
  EXPECT_NE(r, verity_root_hex(std::string(8191, '\0') + "x"));

  fs::path dir = fs::temp_directory_path() / ("layer-image-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return (dir / name).string();
  };
  LayerInfo info;
  std::string error;
  EXPECT_FALSE(verify_layer_image(write("empty", ""), "", info, error));
  EXPECT_FALSE(verify_layer_image(write("zeros", std::string(65536, '\0')), "", info, error));
  EXPECT_NE(error.find("no ext4 superblock"), std::string::npos) << error;
  // An ext4 superblock claiming more blocks than the file holds.
  std::string sb(65536, '\0');
  sb[1024 + 56] = char(0x53);
  sb[1024 + 57] = char(0xEF);
  sb[1024 + 4] = char(0xff);
  sb[1024 + 5] = char(0xff);
  sb[1024 + 24] = 2;  // 4096-byte blocks
  EXPECT_FALSE(verify_layer_image(write("big", sb), "", info, error));
  EXPECT_NE(error.find("is not a multiple of 4096 followed by verity data"), std::string::npos) << error;
  // Right size, but no verity superblock after it.
  sb[1024 + 4] = 4;
  sb[1024 + 5] = 0;
  EXPECT_FALSE(verify_layer_image(write("noverity", sb), "", info, error));
  EXPECT_NE(error.find("no dm-verity superblock"), std::string::npos) << error;
  EXPECT_FALSE(verify_layer_image((dir / "missing").string(), "", info, error));
  EXPECT_FALSE(verify_layer_image(dir.string(), "", info, error));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace confidant::agent
