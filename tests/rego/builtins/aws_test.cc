// providers.aws.sign_req. The conformance facts come from OPA's
// v1/test/cases/testdata/v1/providers-aws/aws-sign_req.yaml; the AWS
// Signature Version 4 test-suite vectors (aws-sig-v4-test-suite, credentials
// AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service "service") check the
// signing itself on the requests where OPA's canonical form and AWS's agree.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/rego.h"

using namespace confidant::rego;

namespace {

Value J(const std::string& s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err << " in " << s;
  return v;
}

constexpr int64_t kOpaTime = 1451311705000000000;   // 2015-12-28T14:08:25Z
constexpr int64_t kSuiteTime = 1440938160000000000;  // 2015-08-30T12:36:00Z

class AwsSignReq : public ::testing::Test {
 protected:
  void SetUp() override {
    register_aws(reg_);
    register_encoding(reg_);
  }
  Value sign(const Value& req, const Value& config, int64_t ns = kOpaTime) {
    return reg_.find("providers.aws.sign_req")->fn(ctx_, std::vector<Value>{req, config, Value::integer(ns)});
  }
  std::string error_of(const Value& req, const Value& config, const Value& ns) {
    try {
      reg_.find("providers.aws.sign_req")->fn(ctx_, std::vector<Value>{req, config, ns});
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  static Value opa_config(const char* extra = "") {
    return J(std::string(R"({"aws_access_key": "MYAWSACCESSKEYGOESHERE", "aws_secret_access_key": "MYAWSSECRETACCESSKEYGOESHERE",
                             "aws_service": "s3", "aws_region": "us-east-1")") + extra + "}");
  }
  static Value suite_config(const char* service = "service") {
    return J(std::string(R"({"aws_access_key": "AKIDEXAMPLE", "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                             "aws_region": "us-east-1", "aws_service": ")") + service + "\"}");
  }
  std::string signature_of(const Value& req, const Value& config, int64_t ns = kSuiteTime) {
    const std::string auth = sign(req, config, ns).get("headers")->get("Authorization")->str();
    return auth.substr(auth.find("Signature=") + 10);
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

const char* kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace

// ------------------------------------------------------------ OPA conformance

TEST_F(AwsSignReq, ConformanceNoBody) {
  EXPECT_EQ(sign(J(R"({"method": "get", "url": "http://example.com"})"), opa_config()),
            J(std::string(R"({"headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=0047a7016c81e5c7f29cd522f97e911e04fc472fced0aee7916cbc287ad6c8e3",
                 "host": "example.com", "x-amz-content-sha256": ")") + kEmptySha + R"(", "x-amz-date": "20151228T140825Z"},
                 "method": "get", "url": "http://example.com"})"));
}

TEST_F(AwsSignReq, ConformanceHeadersNoBody) {
  EXPECT_EQ(sign(J(R"({"method": "get", "url": "http://example.com", "headers": {"foo": "bar"}})"), opa_config()),
            J(std::string(R"({"headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=foo;host;x-amz-content-sha256;x-amz-date,Signature=8f1dc7c9b9978356a0d0989fd26a95307f4f8a4aa264d8220647b7097d839952",
                 "host": "example.com", "x-amz-content-sha256": ")") + kEmptySha + R"(", "x-amz-date": "20151228T140825Z",
                 "foo": "bar"}, "method": "get", "url": "http://example.com"})"));
}

TEST_F(AwsSignReq, ConformanceSessionToken) {
  EXPECT_EQ(sign(J(R"({"method": "get", "url": "http://example.com"})"),
                 opa_config(R"(, "aws_session_token": "MYAWSSECURITYTOKENGOESHERE")")),
            J(std::string(R"({"headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,Signature=23c31bda8a74630c0a94f6b82a3511e7e74728df98e6f54ed0840488dbbdc8d1",
                 "host": "example.com", "x-amz-content-sha256": ")") + kEmptySha + R"(", "x-amz-date": "20151228T140825Z",
                 "x-amz-security-token": "MYAWSSECURITYTOKENGOESHERE"}, "method": "get", "url": "http://example.com"})"));
}

TEST_F(AwsSignReq, ConformanceBodies) {
  // body is signed as Go's json.Marshal writes it: sets become arrays.
  Value req = Value::object({{Value::string("method"), Value::string("get")},
                             {Value::string("url"), Value::string("http://example.com")},
                             {Value::string("body"), Value::object({{Value::string("example"),
                                                                     Value::set({Value::integer(1), Value::integer(2),
                                                                                 Value::integer(3), Value::integer(4)})}})}});
  Value out = sign(req, opa_config());
  EXPECT_EQ(*out.get("headers"),
            J(R"({"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=5fb06ab1cfd74c8fcb3af95b8cce696708cf6155d971dac10f254d79799c6e88",
                 "host": "example.com", "x-amz-content-sha256": "bacff6243c850423883052ac3c336fd645994442933408dfd3f9e858e69bda07",
                 "x-amz-date": "20151228T140825Z"})"));
  EXPECT_EQ(*out.get("body"), *req.get("body"));

  const char* raw_headers = R"({"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=5bf26e169cb8b02330dba39d53932532438fc856c2f10537689a09ed807c7195",
      "host": "example.com", "x-amz-content-sha256": "22906461e2a98a3e780d0fd260e341bed5e544661e97c5936fc7f3af11aaad8b",
      "x-amz-date": "20151228T140825Z"})";
  Value raw = J(R"({"method": "get", "url": "http://example.com", "raw_body": "{\"example\": {1, 2, 3, 4}}"})");
  EXPECT_EQ(*sign(raw, opa_config()).get("headers"), J(raw_headers));
  // raw_body wins over body.
  ObjectItems both = raw.object_items();
  both.emplace_back(Value::string("body"), *req.get("body"));
  EXPECT_EQ(*sign(Value::object(both), opa_config()).get("headers"), J(raw_headers));
}

TEST_F(AwsSignReq, ConformancePayloadSigning) {
  Value req = J(R"({"method": "get", "url": "https://example.com", "headers": {"foo": "bar"}})");
  EXPECT_EQ(*sign(req, opa_config(R"(, "disable_payload_signing": false)")).get("headers"),
            J(std::string(R"({"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=foo;host;x-amz-content-sha256;x-amz-date,Signature=8f1dc7c9b9978356a0d0989fd26a95307f4f8a4aa264d8220647b7097d839952",
                 "foo": "bar", "host": "example.com", "x-amz-content-sha256": ")") + kEmptySha + R"(", "x-amz-date": "20151228T140825Z"})"));
  const char* unsigned_headers = R"({"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=foo;host;x-amz-content-sha256;x-amz-date,Signature=c6e6db654e92172f71e18c714c123711de069ac6fd7df1348e5b28fd05532028",
      "foo": "bar", "host": "example.com", "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": "20151228T140825Z"})";
  EXPECT_EQ(*sign(req, opa_config(R"(, "disable_payload_signing": true)")).get("headers"), J(unsigned_headers));
  // With a body: signed, or not (the body then does not matter).
  Value with_body = J(R"({"method": "get", "url": "https://example.com", "headers": {"foo": "bar"}, "body": {"example": [1, 2, 3, 4]}})");
  EXPECT_EQ(signature_of(with_body, opa_config(R"(, "disable_payload_signing": false)"), kOpaTime),
            "f6703a8727ec0a32f81b225a002f622e511e8a7d2ca8914894fcbb7a71d8d9d8");
  EXPECT_EQ(*sign(with_body, opa_config(R"(, "disable_payload_signing": true)")).get("headers"), J(unsigned_headers));
}

TEST_F(AwsSignReq, ConformanceExistingShaHeader) {
  // A request's own x-amz-content-sha256 is what gets signed, while the
  // returned header carries the computed one (OPA's quirk, kept).
  Value req = J(R"({"method": "get", "url": "https://example.com", "headers": {"foo": "bar", "x-amz-content-sha256": "existing-value"},
                    "body": {"example": [1, 2, 3, 4]}})");
  Value out = sign(req, opa_config(R"(, "disable_payload_signing": false)"));
  EXPECT_EQ(*out.get("headers"),
            J(R"({"Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=foo;host;x-amz-content-sha256;x-amz-date,Signature=42bcac7fc6d170e09be72fdf38b62e59361265bc59d5f9156f0d6faf889e98ba",
                 "foo": "bar", "host": "example.com", "x-amz-content-sha256": "bacff6243c850423883052ac3c336fd645994442933408dfd3f9e858e69bda07",
                 "x-amz-date": "20151228T140825Z"})"));
  EXPECT_EQ(signature_of(req, opa_config(R"(, "disable_payload_signing": true)"), kOpaTime),
            "edcd3ca3fd3acdfbcecad1a1d8062dbc6562d90352e294c336f9727397f9c383");
}

TEST(AwsSignReqEngine, ConformanceCaseAsPolicy) {
  Engine eng;
  Errors errs;
  ASSERT_TRUE(eng.add_module("t.rego", R"(package test
req := {"method": "get", "url": "http://example.com"}
aws_config := {"aws_access_key": "MYAWSACCESSKEYGOESHERE", "aws_secret_access_key": "MYAWSSECRETACCESSKEYGOESHERE",
               "aws_service": "s3", "aws_region": "us-east-1"}
expected := {"headers": {
  "Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20151228/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=0047a7016c81e5c7f29cd522f97e911e04fc472fced0aee7916cbc287ad6c8e3",
  "host": "example.com",
  "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "x-amz-date": "20151228T140825Z"}, "method": "get", "url": "http://example.com"}
p if { providers.aws.sign_req(req, aws_config, 1451311705000000000) == expected }
)",
                             errs));
  auto policy = eng.compile(errs);
  ASSERT_TRUE(policy);
  auto q = Query::prepare(policy, "data.test.p", errs);
  ASSERT_TRUE(q);
  Value v;
  EvalOptions o;
  ASSERT_TRUE(q->eval_value(o, v, errs));
  EXPECT_TRUE(v.is_true());
}

// ------------------------------------------------------ AWS test-suite vectors

TEST_F(AwsSignReq, AwsSuiteGetVanilla) {
  // get-vanilla: GET / with only Host and X-Amz-Date signed.
  Value out = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/"})"), suite_config(), kSuiteTime);
  EXPECT_EQ(*out.get("headers"),
            J(R"({"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
                 "host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"})"));
  // get-vanilla-query ("/?" is an empty query) signs the same.
  EXPECT_EQ(signature_of(J(R"({"method": "GET", "url": "https://example.amazonaws.com/?"})"), suite_config()),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_F(AwsSignReq, AwsSuitePostVanilla) {
  EXPECT_EQ(signature_of(J(R"({"method": "POST", "url": "https://example.amazonaws.com/"})"), suite_config()),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST_F(AwsSignReq, AwsSuiteQueries) {
  // get-vanilla-empty-query-key and get-vanilla-query-unreserved: queries
  // already in canonical form, which OPA signs as given.
  EXPECT_EQ(signature_of(J(R"({"method": "GET", "url": "https://example.amazonaws.com/?Param1=value1"})"), suite_config()),
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb");
  const std::string unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(signature_of(Value::object({{Value::string("method"), Value::string("GET")},
                                        {Value::string("url"), Value::string("https://example.amazonaws.com/?" + unreserved + "=" + unreserved)}}),
                         suite_config()),
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197");
}

TEST_F(AwsSignReq, AwsSuiteUtf8Path) {
  // get-utf8: the path is signed percent-encoded (Go's EscapedPath).
  EXPECT_EQ(signature_of(J(R"({"method": "GET", "url": "https://example.amazonaws.com/\u1234"})"), suite_config()),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST_F(AwsSignReq, AwsSuitePostFormBody) {
  // post-x-www-form-urlencoded: a signed Content-Type header and a body.
  Value out = sign(J(R"({"method": "POST", "url": "https://example.amazonaws.com/",
                         "headers": {"Content-Type": "application/x-www-form-urlencoded"}, "raw_body": "Param1=value1"})"),
                   suite_config(), kSuiteTime);
  EXPECT_EQ(out.get("headers")->get("Authorization")->str(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,"
            "SignedHeaders=content-type;host;x-amz-date,Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
  EXPECT_EQ(*out.get("headers")->get("Content-Type"), Value::string("application/x-www-form-urlencoded"));
}

// ------------------------------------------------------ OPA's signing rules

TEST_F(AwsSignReq, OnlyS3AndGlacierGetTheContentHeader) {
  for (const char* service : {"s3", "glacier"})
    EXPECT_NE(sign(J(R"({"method": "GET", "url": "https://h/"})"), suite_config(service)).get("headers")->get("x-amz-content-sha256"),
              nullptr)
        << service;
  Value out = sign(J(R"({"method": "GET", "url": "https://h/"})"), suite_config("execute-api"));
  EXPECT_EQ(out.get("headers")->get("x-amz-content-sha256"), nullptr);
  EXPECT_NE(out.get("headers")->get("Authorization")->str().find("SignedHeaders=host;x-amz-date,"), std::string::npos);
}

TEST_F(AwsSignReq, IgnoredHeadersAndCase) {
  // Authorization, User-Agent and X-Amzn-Trace-Id are not signed; names are
  // lower-cased for signing but returned as given.
  Value plain = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/"})"), suite_config(), kSuiteTime);
  Value with = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/",
                          "headers": {"User-Agent": "x", "X-Amzn-Trace-Id": "y", "authorization": "old"}})"),
                    suite_config(), kSuiteTime);
  EXPECT_EQ(*with.get("headers")->get("Authorization"), *plain.get("headers")->get("Authorization"));
  EXPECT_EQ(*with.get("headers")->get("User-Agent"), Value::string("x"));
  EXPECT_EQ(*with.get("headers")->get("authorization"), Value::string("old"));
  Value upper = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/", "headers": {"X-Foo": "1"}})"), suite_config(),
                     kSuiteTime);
  Value lower = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/", "headers": {"x-foo": "1"}})"), suite_config(),
                     kSuiteTime);
  EXPECT_EQ(*upper.get("headers")->get("Authorization"), *lower.get("headers")->get("Authorization"));
  EXPECT_NE(upper.get("headers")->get("X-Foo"), nullptr);
  // Non-string header values are signed and returned as "".
  Value odd = sign(J(R"({"method": "GET", "url": "https://example.amazonaws.com/", "headers": {"x-foo": 5}})"), suite_config(),
                   kSuiteTime);
  EXPECT_EQ(*odd.get("headers")->get("x-foo"), Value::string(""));
  // The signing time: nanoseconds, before 1970 too.
  Value old = sign(J(R"({"method": "GET", "url": "https://h/"})"), suite_config(), -1);
  EXPECT_EQ(*old.get("headers")->get("x-amz-date"), Value::string("19691231T235959Z"));
  // Ports stay in the host; the path is escaped as Go escapes it.
  Value port = sign(J(R"({"method": "GET", "url": "http://user:pw@example.com:8080/a%2Fb c?x=1#frag"})"), suite_config(), kSuiteTime);
  EXPECT_EQ(*port.get("headers")->get("host"), Value::string("example.com:8080"));
}

TEST_F(AwsSignReq, Errors) {
  const Value cfg = suite_config();
  const Value ts = Value::integer(kSuiteTime);
  const std::string n = "providers.aws.sign_req: ";
  EXPECT_EQ(error_of(Value::string("x"), cfg, ts), "eval_type_error: " + n + "operand 1 must be object but got string");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"), Value::integer(1), ts),
            "eval_type_error: " + n + "operand 1 must be object but got number");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"), J(R"({"aws_service": "s3", "aws_region": 1})"), ts),
            "eval_type_error: " + n + R"(operand 2 missing required AWS config parameters(s): {"aws_access_key", "aws_secret_access_key"})");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"),
                     J(R"({"aws_service": "s3", "aws_region": 1, "aws_access_key": "a", "aws_secret_access_key": true})"), ts),
            "eval_type_error: " + n + R"(operand 2 invalid values for required AWS config parameters(s): {"aws_region", "aws_secret_access_key"})");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"), cfg, Value::string("now")),
            "eval_type_error: " + n + "operand 1 must be number but got string");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"), cfg, J("1.5")),
            "eval_type_error: " + n + "operand 3 could not convert time_ns value into a unix timestamp");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/", "verb": 1})"), cfg, ts),
            "eval_type_error: " + n + R"(operand 1 invalid request parameters(s): {"verb"})");
  EXPECT_EQ(error_of(J(R"({"url": "https://h/"})"), cfg, ts),
            "eval_type_error: " + n + R"(operand 1 missing required request parameters(s): {"method"})");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/", "headers": []})"), cfg, ts),
            "eval_type_error: " + n + "operand 0 must be object but got array");
  EXPECT_EQ(error_of(J(R"({"method": 1, "url": 2})"), cfg, ts),
            "eval_type_error: " + n + R"(operand 1 invalid values for required request parameters(s): {"method", "url"})");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "https://h/"})"), J(R"({"aws_service": "s3", "aws_region": "r",
      "aws_access_key": "a", "aws_secret_access_key": "s", "disable_payload_signing": "yes"})"), ts),
            "eval_type_error: " + n + "operand 2 invalid value for 'disable_payload_signing' in AWS config");
  // URLs Go's url.Parse rejects.
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": ":nope"})"), cfg, ts),
            "eval_builtin_error: " + n + R"(parse ":nope": missing protocol scheme)");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "http://[::1/x"})"), cfg, ts),
            "eval_builtin_error: " + n + R"(parse "http://[::1/x": missing ']' in host)");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "http://h:port/"})"), cfg, ts),
            "eval_builtin_error: " + n + R"(parse "http://h:port/": invalid port ":port" after host)");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "http://h/%zz"})"), cfg, ts),
            "eval_builtin_error: " + n + R"(parse "http://h/%zz": invalid URL escape "%zz")");
  EXPECT_EQ(error_of(J(R"({"method": "GET", "url": "http://h/\u0001"})"), cfg, ts),
            "eval_builtin_error: " + n + R"(parse "http://h/\x01": net/url: invalid control character in URL)");
}
