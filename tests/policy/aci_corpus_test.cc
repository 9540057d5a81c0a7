// Replays every enforcement trace of shared/corpus/aci-traces against its
// policy: each decision and each reason must be the reference framework's.
#include <set>

#include "test_support.h"

namespace confidant::policy::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> trace_names() {
  std::vector<std::string> out;
  // A missing fixture checkout becomes one failing case rather than an abort at start-up.
  if (!fs::is_directory(shared_dir() / "corpus" / "aci-traces")) return {"fixtures_missing"};
  for (const auto& e : fs::directory_iterator(shared_dir() / "corpus" / "aci-traces"))
    if (e.path().extension() == ".jsonl") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

class AciCorpus : public ::testing::TestWithParam<std::string> {};

TEST_P(AciCorpus, AgreesWithTheReferenceFramework) {
  std::string policy = read_file(shared_dir() / "corpus" / "aci" / (GetParam() + ".rego"));
  auto enforcer = bound_enforcer(policy);
  ASSERT_EQ(enforcer->dialect(), Dialect::kAci);
  auto lines = read_jsonl(shared_dir() / "corpus" / "aci-traces" / (GetParam() + ".jsonl"));
  ASSERT_FALSE(lines.empty());
  size_t allowed = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const rego::Value& l = lines[i];
    std::string ep = l.get("ep")->str();
    Decision d = enforcer->enforce(ep, *l.get("input"));
    SCOPED_TRACE(GetParam() + ".jsonl:" + std::to_string(i + 1) + " " + ep);
    EXPECT_EQ(d.allowed, l.get("want")->as_bool()) << ::testing::PrintToString(d.reasons);
    EXPECT_EQ(sorted(d.reasons), sorted(strings_of(*l.get("reasons"))));
    const rego::Value* want_env = l.get("env_list");
    if (d.allowed && want_env && !want_env->is_null()) {
      const rego::Value* got = d.result.get("env_list");
      ASSERT_NE(got, nullptr);
      EXPECT_EQ(rego::to_json(*got), rego::to_json(*want_env));
    }
    allowed += d.allowed;
  }
  EXPECT_GT(allowed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Traces, AciCorpus, ::testing::ValuesIn(trace_names()), [](const auto& info) {
  std::string n = info.param;
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(c); }, '_');
  return n;
});

}  // namespace
}  // namespace confidant::policy::testing
