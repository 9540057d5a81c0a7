#include "rego/rego_c.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "rego/rego.h"

TEST(CApi, CompileEvalAndErrors) {
  const char* files[] = {"p.rego"};
  const char* texts[] = {"package p\nallow if input.x > data.min\nmsg := sprintf(\"x=%v\", [input.x]) if print(\"hi\")\n"};
  confidant_policy* p = nullptr;
  char* err = nullptr;
  ASSERT_EQ(confidant_policy_compile(files, texts, 1, R"({"min": 1})", 0, &p, &err), 0) << (err ? err : "");
  char* out = nullptr;
  char* prints = nullptr;
  ASSERT_EQ(confidant_policy_eval(p, "data.p.allow", R"({"x": 5})", &out, nullptr, &err), 0);
  EXPECT_STREQ(out, "true");
  confidant_free(out);
  ASSERT_EQ(confidant_policy_eval(p, "data.p.allow", R"({"x": 0})", &out, nullptr, &err), 0);
  EXPECT_STREQ(out, "");  // undefined
  confidant_free(out);
  ASSERT_EQ(confidant_policy_eval(p, "data.p.msg", R"({"x": 2})", &out, &prints, &err), 0);
  EXPECT_STREQ(out, "\"x=2\"");
  EXPECT_STREQ(prints, "p.rego:3: hi\n");
  confidant_free(out);
  confidant_free(prints);
  // Malformed input JSON and a bad query are errors with messages, not crashes.
  EXPECT_EQ(confidant_policy_eval(p, "data.p.allow", "{", &out, nullptr, &err), 1);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("input"), std::string::npos);
  confidant_free(err);
  EXPECT_EQ(confidant_policy_eval(p, "data.p.allow ==", nullptr, &out, nullptr, &err), 1);
  EXPECT_NE(std::string(err).find("rego_parse_error"), std::string::npos);
  confidant_free(err);
  confidant_policy_free(p);

  const char* bad[] = {"package p\nallow if {"};
  EXPECT_EQ(confidant_policy_compile(files, bad, 1, nullptr, 0, &p, &err), 1);
  EXPECT_EQ(p, nullptr);
  EXPECT_NE(std::string(err).find("rego_parse_error"), std::string::npos);
  confidant_free(err);
  EXPECT_EQ(confidant_policy_compile(nullptr, nullptr, 1, nullptr, 0, &p, &err), 1);
  confidant_free(err);
}

TEST(Engine, ConcurrentEvaluationsShareOnePolicy) {
  using namespace confidant::rego;
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("t.rego", R"(package t
s contains y if { some x in input.xs; y := x * 2 }
n := count(s)
)", errs));
  auto policy = eng.compile(errs);
  ASSERT_TRUE(policy);
  auto q = Query::prepare(policy, "data.t.n", errs);
  ASSERT_TRUE(q);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        EvalOptions o;
        ValueVec xs;
        for (int j = 0; j <= (i + t) % 20; ++j) xs.push_back(Value::integer(j));
        o.input = Value::object({{Value::string("xs"), Value::array(xs)}});
        Value v;
        Errors e;
        if (q->eval_value(o, v, e) && v == Value::integer(static_cast<int64_t>(xs.size()))) ++ok[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 300);
}
