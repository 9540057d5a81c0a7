// The policyDecision envelope (Go JSON, redaction, truncation), metadata
// operations, digests and HOST_DATA helpers.
#include "policy/decision_envelope.h"
#include "policy/guest_data.h"
#include "policy/metadata.h"
#include "test_support.h"

namespace confidant::policy::testing {
namespace {

using rego::Value;

Value with_caps(const Value& input, const Value& caps) {
  rego::ObjectItems items;
  for (const auto& kv : input.object_items())
    if (kv.first.str() != "capabilities") items.push_back(kv);
  items.emplace_back(Value::string("capabilities"), caps);
  return Value::object(std::move(items));
}

// The unprivileged defaults with the bounding set in another order.
Value reordered_unprivileged() {
  rego::ObjectItems items = default_unprivileged_capabilities().object_items();
  for (auto& [name, list] : items) {
    if (name.str() != "bounding") continue;
    rego::ValueVec v = list.array_items();
    std::reverse(v.begin(), v.end());
    list = Value::array(std::move(v));
  }
  return Value::object(std::move(items));
}

TEST(GoJson, EscapesAsGoDoes) {
  EXPECT_EQ(go_json(json(R"({"b": [1, 2.5, null, true], "a": "x<y>&z"})")),
            R"({"a":"x\u003cy\u003e\u0026z","b":[1,2.5,null,true]})");
  EXPECT_EQ(go_json(Value::string("tab\tnl\nquote\"bs\\\x01")), R"("tab\tnl\nquote\"bs\\\u0001")");
  EXPECT_EQ(go_json(Value::string("\xe2\x80\xa8")), R"("\u2028")");
  EXPECT_EQ(go_json(Value::string("bad\xff")), R"("bad\ufffd")");
  EXPECT_EQ(go_json(Value::string("ok é")), "\"ok é\"");
  EXPECT_EQ(go_json(json(R"([["s"], {}])")), R"([["s"],{}])");
}

TEST(Envelope, RoundTripAndRedaction) {
  Value input = json(R"({"rule":"create_container","envList":["SECRET=hunter2","NOVALUE"],"capabilities":)" +
                     rego::to_json(default_privileged_capabilities()) + "}");
  Value reason = json(R"({"errors":["invalid command"],"error_objects":[{"capabilities":)" +
                      rego::to_json(default_unprivileged_capabilities()) + R"(,"name":"c"}]})");
  std::string message = policy_decision_message(input, reason, "");
  ASSERT_TRUE(message.starts_with("policyDecision< ") && message.ends_with(" >policyDecision"));
  EXPECT_EQ(message.find("hunter2"), std::string::npos);
  Value d = decode_policy_decision(message);
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(rego::to_json(*d.get("input")->get("envList")), R"(["SECRET=<<redacted>>","NOVALUE=<<redacted>>"])");
  EXPECT_EQ(*d.get("input")->get("capabilities"), Value::string("[privileged]"));
  EXPECT_EQ(*d.get("reason")->get("error_objects")->array_items()[0].get("capabilities"),
            Value::string("[unprivileged]"));
  EXPECT_FALSE(d.get("truncated"));
  // A set that differs in order is not the default set.
  Value reordered = reordered_unprivileged();
  EXPECT_EQ(*decode_policy_decision(policy_decision_message(with_caps(input, reordered), reason, ""))
                 .get("input")
                 ->get("capabilities"),
            reordered);
}

TEST(Envelope, PolicyErrorVariant) {
  Value d = decode_policy_decision(policy_decision_message(json(R"({"a":1})"), Value::string("fixed"), "boom"));
  EXPECT_EQ(*d.get("policyError"), Value::string("boom"));
  EXPECT_EQ(*d.get("reason"), Value::string("fixed"));
  EXPECT_EQ(decode_policy_decision("policyDecision< !!! >policyDecision"), Value());
  EXPECT_EQ(decode_policy_decision("plain error"), Value());
}

TEST(Envelope, TruncationDropsPartsInOrder) {
  std::string big(600, 'x');
  Value reason = json(R"({"errors":["e"],"error_objects":[")" + big + R"("]})");
  Value input = json(R"({"argList":[")" + big + R"("]})");
  // Fits: nothing dropped.
  Value d = decode_policy_decision(policy_decision_message(input, reason, "", 100000));
  EXPECT_FALSE(d.get("truncated"));
  // Too long with both: the error objects go first...
  std::string full = policy_decision_message(input, reason, "", 0);
  d = decode_policy_decision(policy_decision_message(input, reason, "", full.size() - 10));
  EXPECT_EQ(rego::to_json(*d.get("truncated")), R"(["reason.error_objects"])");
  EXPECT_TRUE(d.get("input"));
  EXPECT_EQ(rego::to_json(*d.get("reason")), R"({"errors":["e"]})");
  // ...then the input...
  d = decode_policy_decision(policy_decision_message(input, reason, "", 400));
  EXPECT_EQ(rego::to_json(*d.get("truncated")), R"(["reason.error_objects","input"])");
  EXPECT_FALSE(d.get("input"));
  // ...then the reason; if even that does not fit, the message is returned anyway.
  Value long_reason = json(R"({"errors":[")" + big + R"("]})");
  std::string m = policy_decision_message(input, long_reason, "", 60);
  d = decode_policy_decision(m);
  EXPECT_EQ(rego::to_json(*d.get("truncated")), R"(["input","reason"])");
  EXPECT_EQ(*d.get("decision"), Value::string("deny"));
  EXPECT_GT(m.size(), 60u);
}

TEST(Metadata, MapAndSetOperations) {
  Value md = initial_metadata();
  std::string error;
  ASSERT_TRUE(apply_metadata_ops(json(R"([{"name":"m","action":"add","key":"b","value":2},
                                          {"name":"m","action":"add","key":"a","value":1},
                                          {"name":"m","action":"update","key":"b","value":3},
                                          {"name":"s","type":"set","action":"add","value":{"x":1}},
                                          {"name":"s","type":"set","action":"add","value":{"x":1}},
                                          {"name":"s","type":"set","action":"add","value":[2]}])"),
                                 md, error))
      << error;
  EXPECT_EQ(rego::to_json(md), R"({"m":{"a":1,"b":3},"operatingsystem":{"ostype":"linux"},"s":[{"x":1},[2]]})");
  ASSERT_TRUE(apply_metadata_ops(json(R"([{"name":"m","action":"remove","key":"a"},
                                          {"name":"m","action":"remove","key":"zz"},
                                          {"name":"s","type":"set","action":"remove","value":{"x":1}}])"),
                                 md, error));
  EXPECT_EQ(rego::to_json(md), R"({"m":{"b":3},"operatingsystem":{"ostype":"linux"},"s":[[2]]})");
}

TEST(Metadata, ErrorsLeaveTheStateUnchanged) {
  Value md = initial_metadata();
  std::string error;
  ASSERT_TRUE(apply_metadata_ops(json(R"([{"name":"m","action":"add","key":"k","value":1}])"), md, error));
  Value before = md;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([{"name":"m","action":"add","key":"n","value":2},{"name":"m","action":"add","key":"k","value":1}])",
       "cannot add metadata value, key m[k] already exists"},
      {R"([{"name":"m","action":"upsert","key":"k","value":1}])", "unrecognized metadata action: upsert"},
      {R"([{"name":"s","type":"set","action":"update","value":1}])", "unrecognized metadata action for set s: update"},
      {R"([{"name":"m","action":"add","key":5,"value":1}])", "metadata operation on map m has no string key"},
      {R"([{"name":"m","action":"add","key":"z"}])", "metadata operation on m[z] has no value"},
      {R"([{"name":"m","type":"set","action":"add","value":1}])", "metadata m is not a set"},
      {R"([{"name":"m","type":"list","action":"add","value":1}])", "metadata m: unknown collection type \"list\""},
      {R"([{"action":"add"}])", "metadata operation needs string fields name and action: {\"action\":\"add\"}"},
      {R"({"name":"m"})", "metadata must be an array of operations"},
  };
  for (const auto& [ops, message] : cases) {
    error.clear();
    EXPECT_FALSE(apply_metadata_ops(json(ops), md, error)) << ops;
    EXPECT_EQ(error, message);
    EXPECT_EQ(md, before);
  }
}

TEST(Digest, Base64AndHostData) {
  std::string decoded;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    ASSERT_TRUE(base64_decode(base64_encode(s), decoded)) << s;
    EXPECT_EQ(decoded, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_TRUE(base64_decode("Zm9v\nYmE=\n", decoded));
  EXPECT_EQ(decoded, "fooba");
  EXPECT_FALSE(base64_decode("Zm9v!", decoded));
  EXPECT_FALSE(base64_decode("Zm9vY", decoded));
  EXPECT_FALSE(base64_decode("Zg==Zg==", decoded));
  EXPECT_EQ(policy_digest_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  HostData h;
  EXPECT_TRUE(parse_host_data("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", h));
  EXPECT_EQ(h, sha256("abc"));
  EXPECT_FALSE(parse_host_data("ba78", h));
  EXPECT_FALSE(parse_host_data(std::string(63, '0') + "g", h));
}

TEST(Digest, HostDataFromReports) {
  std::string report = read_file(shared_dir() / "vectors/microsoft-confidential-sidecar-containers/snp_report.bin");
  HostData h;
  std::string error;
  ASSERT_TRUE(
      host_data_from_report(std::span(reinterpret_cast<const uint8_t*>(report.data()), report.size()), h, error));
  EXPECT_EQ(to_hex(h), "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");
  std::string zero = read_file(shared_dir() / "vectors/google-go-sev-guest/attestation.bin");
  ASSERT_TRUE(host_data_from_report(std::span(reinterpret_cast<const uint8_t*>(zero.data()), zero.size()), h, error));
  EXPECT_EQ(to_hex(h), std::string(64, '0'));
  EXPECT_FALSE(host_data_from_report(std::span<const uint8_t>(), h, error));
  EXPECT_NE(error.find("too short"), std::string::npos);
}

}  // namespace
}  // namespace confidant::policy::testing
