// EvalOptions::base_documents: per-evaluation documents under data.
#include <gtest/gtest.h>

#include <string>

#include "rego/rego.h"

using namespace confidant::rego;

namespace {

// EvalOptions::base_documents: documents under data for one evaluation (the Kata dialect's
// state), refused where the policy has rules or base data of its own.
TEST(BaseDocuments, JoinDataForOneEvaluation) {
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("p.rego", "package x\nimport rego.v1\nseen := data.pstate.n\n", errs));
  auto p = eng.compile(errs);
  ASSERT_TRUE(p);
  auto q = Query::prepare(p, "[data.x.seen, object.keys(data)]", errs);
  ASSERT_TRUE(q);
  EvalOptions o;
  std::string err;
  ASSERT_TRUE(parse_json(R"({"pstate": {"n": 7}})", o.base_documents, err));
  Value v;
  ASSERT_TRUE(q->eval_value(o, v, errs));
  EXPECT_EQ(to_json(v), R"([7,["pstate","x"]])");
  // Not kept: the next evaluation without them sees no data.pstate.
  EXPECT_TRUE(q->eval_value(EvalOptions{}, v, errs));
  EXPECT_FALSE(v.is_defined());
  // A name the policy defines is refused.
  ASSERT_TRUE(parse_json(R"({"x": {}})", o.base_documents, err));
  errs.clear();
  EXPECT_FALSE(q->eval_value(o, v, errs));
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].message, "data.x is defined by the policy: it cannot be given as a base document");
}

}  // namespace
