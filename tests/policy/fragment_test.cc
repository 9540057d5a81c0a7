// load_fragment: the policy's imports decide whether a (verified) fragment is
// accepted, and what it contributes to later decisions.
#include "aci_fixture.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;

const char* kContosoIssuer = "did:x509:0:sha256:8OhuTqQPbrbDMXV9QentXIIRWqcmU_B88n8jPr1WsBc::subject:CN:Contoso";
const char* kContosoFeed = "mcr.microsoft.com/acc/samples/aci/helloworld";
const char* kInfraIssuer =
    "did:x509:0:sha256:I__iuL25oXEVFdTP_aBLx_eT1RPHbCQ_ECBQfYZpt9s::eku:1.3.6.1.4.1.311.76.59.1.3";
const char* kInfraFeed = "mcr.microsoft.com/aci/aci-cc-infra-fragment";
const char* kFirstLayer = "4e74440c7b0e6e6c1cc9e6eb9b779e1ffde807122ed8a16bb0422a1d64fd5aa8";

class Fragments : public ::testing::Test {
 protected:
  void SetUp() override {
    e_ = bound_enforcer(read_file(shared_dir() / "corpus/aci/confcom-user-fragment-api0.11.rego"));
    contoso_ = read_file(shared_dir() / "corpus/aci/fragment-confcom-contoso.rego");
  }
  FragmentRequest contoso(std::string text = "") {
    FragmentRequest f;
    f.issuer = kContosoIssuer;
    f.feed = kContosoFeed;
    f.text = text.empty() ? contoso_ : text;
    return f;
  }
  std::unique_ptr<Enforcer> e_;
  std::string contoso_;
};

TEST_F(Fragments, AcceptedFragmentContributesContainers) {
  // Before the fragment, its layers are unknown.
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(1), kFirstLayer)), "deviceHash not found");
  Decision d = e_->load_fragment(contoso());
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_EQ(d.result.get("add_module")->as_bool(), false);
  const Value* feeds = e_->state().get("issuers")->get(kContosoIssuer)->get("feeds");
  ASSERT_TRUE(feeds);
  const Value& included = feeds->get(kContosoFeed)->array_items()[0];
  EXPECT_EQ(included.get("containers")->size(), 1u);
  EXPECT_EQ(included.get("fragments")->size(), 1u);
  // Normalised to this framework version: only the fields it uses, signals plus SIGKILL/SIGTERM.
  EXPECT_FALSE(included.get("containers")->array_items()[0].get("name"));
  EXPECT_EQ(rego::to_json(*included.get("containers")->array_items()[0].get("signals")), "[9,15]");
  EXPECT_ALLOWED(e_->enforce("mount_device", mount_device(scsi(1), kFirstLayer)));
}

TEST_F(Fragments, FragmentContainersStartLikePolicyContainers) {
  ASSERT_TRUE(e_->load_fragment(contoso()).allowed);
  const std::vector<std::string> layers = {kFirstLayer,
                                           "4cf856bcde8e1fa71f57d2218e21dd7c1a6a12c6d930d2bdb4bdb13a46fed9e4",
                                           "41a52f45506177737caec5d57fe6160b6c8942dcac1bc7834fc0e94e62ff6b4d",
                                           "b8ea8eae7795453b5e3dcfafe3f11fb2d68efb1062308e4d2411d44dd19fa97c",
                                           "a0df1939f552483286c45204e7f583c9a6146963a79556fe22578d7b7e63e7a1",
                                           "3ccbd6b119e951f3f2586339e9d10168b064a5852fd87cfae94af47a89f4d6c6",
                                           "8348c9d4357db6a600aa4c5116ed9755a230d274096706a7d214c02105d0b256"};
  std::vector<std::string> paths;
  for (size_t i = 0; i < layers.size(); ++i) {
    ASSERT_TRUE(e_->enforce("mount_device", mount_device(scsi(static_cast<int>(i) + 1), layers[i])).allowed);
    paths.insert(paths.begin(), scsi(static_cast<int>(i) + 1));
  }
  ASSERT_TRUE(e_->enforce("mount_overlay", mount_overlay(kApp, paths)).allowed);
  std::string caps =
      R"(["CAP_AUDIT_WRITE","CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_MKNOD",)"
      R"("CAP_NET_BIND_SERVICE","CAP_NET_RAW","CAP_SETFCAP","CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_CHROOT"])";
  Value create = json(R"({"containerID":")" + kApp + R"(","argList":["python3","main.py"],
      "envList":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","PYTHONUNBUFFERED=1","TERM=xterm"],
      "workingDir":"/app","sandboxDir":")" +
                      sandbox_dir() + R"(","hugePagesDir":"/h",
      "mounts":[{"destination":"/etc/resolv.conf","source":")" +
                      sandbox_dir() +
                      R"(/tmp/atlas/resolvconf/r","options":["rbind","rshared","rw"],"type":"bind"}],
      "devices":[],"privileged":false,"noNewPrivileges":false,"user":{"id":"0","name":"root"},
      "groups":[{"id":"0","name":"root"}],"umask":"0022",
      "capabilities":{"ambient":[],"bounding":)" +
                      caps + R"(,"effective":)" + caps + R"(,"inheritable":[],"permitted":)" + caps +
                      R"(},"seccompProfileSHA256":"","isSandboxContainer":false})");
  EXPECT_DENIED(e_->enforce("create_container", with(create, "workingDir", Value::string("/"))),
                "invalid working directory");
  EXPECT_ALLOWED(e_->enforce("create_container", create));
}

TEST_F(Fragments, LoadFragmentCanBeRolledBack) {
  Decision d = e_->load_fragment(contoso());
  ASSERT_TRUE(d.allowed);
  std::string error;
  ASSERT_TRUE(e_->rollback(d, error)) << error;
  EXPECT_DENIED(e_->enforce("mount_device", mount_device(scsi(1), kFirstLayer)), "deviceHash not found");
}

TEST_F(Fragments, IssuerFeedAndSvnChecks) {
  FragmentRequest f = contoso();
  f.issuer = "did:x509:0:sha256:someone::subject:CN:Else";
  EXPECT_DENIED(e_->load_fragment(f), "invalid fragment issuer");
  f = contoso();
  f.feed = "mcr.microsoft.com/other";
  EXPECT_DENIED(e_->load_fragment(f), "invalid fragment feed");
  f = contoso();
  f.header_svn = 0;  // the signed header says 0, the import wants 1
  EXPECT_DENIED(e_->load_fragment(f), "fragment svn is below the specified minimum");
  f = contoso();
  f.header_svn = 2;  // header and text disagree
  EXPECT_DENIED(e_->load_fragment(f), "svn in header 2 does not match svn in fragment rego 1");
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "svn := \"1\"", "svn := \"0\""))),
                "fragment svn is below the specified minimum");
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "svn := \"1\"", "svn := \"1.0.0\""))),
                "fragment svn and the specified minimum are different types");
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "svn := \"1\"\n", ""))),
                "missing fragment svn in either header or rego payload");
  f = contoso(replaced(contoso_, "svn := \"1\"\n", ""));
  f.header_svn = 1;  // then the header alone decides
  EXPECT_ALLOWED(e_->load_fragment(f));
}

TEST_F(Fragments, FrameworkVersionOfTheFragment) {
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "framework_version := \"0.2.3\"\n", ""))),
                "fragment framework_version is missing. Current version: 0.5.0");
  EXPECT_DENIED(e_->load_fragment(
                    contoso(replaced(contoso_, "framework_version := \"0.2.3\"", "framework_version := \"0.7.0\""))),
                "fragment framework_version is ahead of the current version: 0.7.0 is greater than 0.5.0");
}

TEST_F(Fragments, NamespaceRules) {
  EXPECT_DENIED(e_->load_fragment(contoso("\npackage contoso\n")), "Fragment Rego is empty");
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "package contoso", "package policy"))),
                "fragment namespace policy is reserved");
  EXPECT_DENIED(e_->load_fragment(contoso(replaced(contoso_, "package contoso", "package contoso.sub"))),
                "fragment must start with `package <name>`");
  Decision d = e_->load_fragment(contoso(contoso_ + "\nbroken := {\n"));
  EXPECT_FALSE(d.allowed);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_TRUE(d.reasons[0].starts_with("fragment does not compile")) << d.reasons[0];
}

TEST_F(Fragments, NestedImportsBecomeCandidates) {
  // The infra fragment is imported by the policy (minimum 4) and by contoso (minimum 4).
  std::string infra = "package infra\n\nsvn := \"4\"\nframework_version := \"0.2.3\"\n\ncontainers := []\n";
  FragmentRequest f;
  f.issuer = kInfraIssuer;
  f.feed = kInfraFeed;
  f.text = infra;
  EXPECT_ALLOWED(e_->load_fragment(f));
  f.text = replaced(infra, "svn := \"4\"", "svn := \"3\"");
  EXPECT_DENIED(e_->load_fragment(f), "fragment svn is below the specified minimum");
}

// A policy of the current framework version with receipts, parameters and a kept namespace.
std::string policy_with_imports(const std::string& imports) {
  std::string text = replaced(fixture_policy(), "host_network := data.framework.host_network",
                              "host_network := {\"allowed\": data.param.flavour == \"plain\"}");
  size_t at = text.find("fragments := [");
  size_t end = text.find("]\n", at);
  return text.substr(0, at) + "fragments := [" + imports + text.substr(end);
}

TEST(FragmentImports, RequiredReceipts) {
  auto e = bound_enforcer(policy_with_imports(
      R"({"issuer":"did:x509:0:sha256:x","feed":"f","minimum_svn":"1","includes":["containers"],"required_receipts":["TTL:ledgers","ledger-a"]})"));
  FragmentRequest f;
  f.issuer = "did:x509:0:sha256:x";
  f.feed = "f";
  f.text = "package signed\n\nsvn := 1\nframework_version := \"0.5.0\"\ncontainers := []\n";
  EXPECT_DENIED(e->load_fragment(f), "missing receipt from TTL:ledgers", "missing receipt from ledger-a");
  f.receipts = json(R"([{"issuer":"ledger-a","ttl_subjects":["other"]}])");
  EXPECT_DENIED(e->load_fragment(f), "missing receipt from TTL:ledgers");
  f.receipts = json(R"([{"issuer":"ledger-a","ttl_subjects":["ledgers"]}])");
  EXPECT_ALLOWED(e->load_fragment(f));
}

TEST(FragmentImports, ParametersAndKeptNamespace) {
  auto e = bound_enforcer(policy_with_imports(
      R"({"issuer":"did:x509:0:sha256:p","feed":"f","minimum_svn":"1","includes":["containers","namespace"],"parameters":{"layer":")" +
      std::string(64, '7') + R"("}})"));
  // Reads the fragment's package, which exists only once the fragment is loaded with "namespace".
  EXPECT_DENIED(e->enforce("host_network", Value::empty_object()), "rule for host_network is missing from policy");
  FragmentRequest f;
  f.issuer = "did:x509:0:sha256:p";
  f.feed = "f";
  f.text = R"(package param
svn := 1
framework_version := "0.5.0"
parameters_api := {"layer": {"default": "none"}, "flavour": {"default": "plain"}}
flavour := parameter("flavour")
containers := [{"command":["/p"],"env_rules":[],"layers":[parameter("layer")],"mounts":[],"exec_processes":[],
  "signals":[],"user":{"user_idname":{"pattern":"","strategy":"any"},"group_idnames":[],"umask":"0022"},
  "capabilities":null,"seccomp_profile_sha256":"","allow_elevated":false,"working_dir":"/",
  "allow_stdio_access":false,"no_new_privileges":false}]
)";
  Decision d = e->load_fragment(f);
  ASSERT_TRUE(d.allowed) << ::testing::PrintToString(d.reasons);
  EXPECT_TRUE(d.result.get("add_module")->as_bool());
  // The parameter reached the container, and the default filled the other one.
  EXPECT_ALLOWED(e->enforce("mount_device", mount_device(scsi(1), std::string(64, '7'))));
  // The namespace stays loaded: the policy now reads data.param.
  EXPECT_ALLOWED(e->enforce("host_network", Value::empty_object()));
}

}  // namespace
}  // namespace confidant::policy::testing
