// base64*, hex.*, urlquery.*, json.{marshal,unmarshal,...} and yaml.*
// builtins, called directly through a local registry. Expected values are
// OPA's (conformance cases) and Go's standard library behaviour.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/value.h"

using namespace confidant::rego;

namespace confidant::rego {
static void PrintTo(const Value& v, std::ostream* os) { *os << to_rego(v); }
}  // namespace confidant::rego

namespace {

const BuiltinRegistry& registry() {
  static const BuiltinRegistry r = [] {
    BuiltinRegistry reg;
    register_encoding(reg);
    return reg;
  }();
  return r;
}

Value J(const char* s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err;
  return v;
}

Value S(std::string_view s) { return Value::string(s); }

Value call(const char* name, std::vector<Value> args) {
  const BuiltinInfo* b = registry().find(name);
  EXPECT_NE(b, nullptr) << name;
  BuiltinContext ctx;
  return b->fn(ctx, args);
}

std::string error_of(const char* name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const BuiltinError& e) {
    return e.code + ": " + e.what();
  }
  return "";
}

Value T() { return Value::boolean(true); }
Value F() { return Value::boolean(false); }

}  // namespace

// ---------------------------------------------------------------- base64

TEST(Base64, Conformance) {
  EXPECT_EQ(call("base64.encode", {S("there")}), S("dGhlcmU="));
  EXPECT_EQ(call("base64.decode", {S("aGVsbG8=")}), S("hello"));
  EXPECT_EQ(call("base64.encode", {S("subjects?_d")}), S("c3ViamVjdHM/X2Q="));
  EXPECT_EQ(call("base64.decode", {S("c3ViamVjdHM/X2Q=")}), S("subjects?_d"));
  EXPECT_EQ(call("base64url.encode", {S("hello")}), S("aGVsbG8="));
  EXPECT_EQ(call("base64url.encode", {S("there")}), S("dGhlcmU="));
  EXPECT_EQ(call("base64url.decode", {S("aGVsbG8=")}), S("hello"));
  EXPECT_EQ(call("base64url.decode", {S("aGVsbG8")}), S("hello"));
  EXPECT_EQ(call("base64url.encode_no_pad", {S("hello")}), S("aGVsbG8"));
  EXPECT_EQ(call("base64url.encode_no_pad", {S("there")}), S("dGhlcmU"));
}

TEST(Base64, EncodeEdges) {
  EXPECT_EQ(call("base64.encode", {S("")}), S(""));
  EXPECT_EQ(call("base64.encode", {S("a")}), S("YQ=="));
  EXPECT_EQ(call("base64.encode", {S("ab")}), S("YWI="));
  EXPECT_EQ(call("base64.encode", {S(std::string("\x00\xff\xfe", 3))}), S("AP/+"));
  EXPECT_EQ(call("base64url.encode", {S(std::string("\x00\xff\xfe", 3))}), S("AP_-"));
  EXPECT_EQ(call("base64url.encode_no_pad", {S("a")}), S("YQ"));
  EXPECT_EQ(call("base64url.encode_no_pad", {S("")}), S(""));
  EXPECT_EQ(call("base64.decode", {S("AP/+")}), S(std::string("\x00\xff\xfe", 3)));  // binary results are kept
}

TEST(Base64, DecodeAsGo) {
  EXPECT_EQ(call("base64.decode", {S("")}), S(""));
  EXPECT_EQ(call("base64.decode", {S("YQ==")}), S("a"));
  EXPECT_EQ(call("base64.decode", {S("aGVs\nbG8=\r\n")}), S("hello"));  // newlines are ignored
  EXPECT_EQ(call("base64.decode", {S("\n")}), S(""));
  auto err = [](const char* s) { return error_of("base64.decode", {S(s)}); };
  EXPECT_EQ(err("aGVsbG8"), "eval_builtin_error: base64.decode: illegal base64 data at input byte 4");
  EXPECT_EQ(err("a"), "eval_builtin_error: base64.decode: illegal base64 data at input byte 0");
  EXPECT_EQ(err("aGk=x"), "eval_builtin_error: base64.decode: illegal base64 data at input byte 4");
  EXPECT_EQ(err("a==="), "eval_builtin_error: base64.decode: illegal base64 data at input byte 1");
  EXPECT_EQ(err("aG=a"), "eval_builtin_error: base64.decode: illegal base64 data at input byte 2");
  EXPECT_EQ(err("aG="), "eval_builtin_error: base64.decode: illegal base64 data at input byte 3");
  EXPECT_EQ(err("aGVs*G8="), "eval_builtin_error: base64.decode: illegal base64 data at input byte 4");
  EXPECT_EQ(err("AP_-"), "eval_builtin_error: base64.decode: illegal base64 data at input byte 2");
  EXPECT_EQ(error_of("base64.decode", {Value::integer(1)}),
            "eval_type_error: base64.decode: operand 1 must be string but got number");
}

TEST(Base64, IsValid) {
  EXPECT_EQ(call("base64.is_valid", {S("aGVsbG8=")}), T());
  EXPECT_EQ(call("base64.is_valid", {S("")}), T());
  EXPECT_EQ(call("base64.is_valid", {S("aGVsbG8")}), F());
  EXPECT_EQ(call("base64.is_valid", {S("AP_-")}), F());
  EXPECT_EQ(call("base64.is_valid", {Value::integer(1)}), F());  // not an error
}

TEST(Base64Url, Decode) {
  EXPECT_EQ(call("base64url.decode", {S("AP_-")}), S(std::string("\x00\xff\xfe", 3)));
  EXPECT_EQ(call("base64url.decode", {S("YQ")}), S("a"));
  EXPECT_EQ(call("base64url.decode", {S("YWI")}), S("ab"));
  EXPECT_EQ(call("base64url.decode", {S("")}), S(""));
  EXPECT_EQ(error_of("base64url.decode", {S("a")}),
            "eval_builtin_error: base64url.decode: illegal base64url string: a");
  EXPECT_EQ(error_of("base64url.decode", {S("AP/+")}),
            "eval_builtin_error: base64url.decode: illegal base64 data at input byte 2");
  EXPECT_EQ(error_of("base64url.decode", {S("Y=")}),  // not re-padded: ends with '='
            "eval_builtin_error: base64url.decode: illegal base64 data at input byte 1");
}

// ---------------------------------------------------------------- hex

TEST(Hex, Conformance) {
  EXPECT_EQ(error_of("hex.decode", {S("fghijkl")}),
            "eval_builtin_error: hex.decode: encoding/hex: invalid byte: U+0067 'g'");
}

TEST(Hex, EncodeDecode) {
  EXPECT_EQ(call("hex.encode", {S("Hello")}), S("48656c6c6f"));
  EXPECT_EQ(call("hex.encode", {S("")}), S(""));
  EXPECT_EQ(call("hex.encode", {S(std::string("\x00\xff", 2))}), S("00ff"));
  EXPECT_EQ(call("hex.decode", {S("48656C6c6f")}), S("Hello"));
  EXPECT_EQ(call("hex.decode", {S("")}), S(""));
  EXPECT_EQ(call("hex.decode", {S("00ff")}), S(std::string("\x00\xff", 2)));
  EXPECT_EQ(error_of("hex.decode", {S("abc")}), "eval_builtin_error: hex.decode: encoding/hex: odd length hex string");
  EXPECT_EQ(error_of("hex.decode", {S("abz")}),
            "eval_builtin_error: hex.decode: encoding/hex: invalid byte: U+007A 'z'");
  EXPECT_EQ(error_of("hex.decode", {S("0\x01")}), "eval_builtin_error: hex.decode: encoding/hex: invalid byte: U+0001");
  EXPECT_EQ(error_of("hex.decode", {S("0\xe9")}),
            "eval_builtin_error: hex.decode: encoding/hex: invalid byte: U+00E9 '\xc3\xa9'");
  EXPECT_EQ(error_of("hex.encode", {J("[]")}), "eval_type_error: hex.encode: operand 1 must be string but got array");
}

// ---------------------------------------------------------------- urlquery

TEST(UrlQuery, Conformance) {
  EXPECT_EQ(call("urlquery.encode", {S("a=b+1")}), S("a%3Db%2B1"));
  EXPECT_EQ(call("urlquery.encode", {S("")}), S(""));
  EXPECT_EQ(call("urlquery.encode_object", {J(R"({"a": "b", "c": "d"})")}), S("a=b&c=d"));
  EXPECT_EQ(call("urlquery.encode_object", {J(R"({"a": ["b+1", "c+2"]})")}), S("a=b%2B1&a=c%2B2"));
  EXPECT_EQ(call("urlquery.encode_object", {Value::object({{S("a"), Value::set({S("b+1")})}})}), S("a=b%2B1"));
  EXPECT_EQ(call("urlquery.decode_object", {S("a=value_a1&b=value_b&a=value_a2")}),
            J(R"({"a": ["value_a1", "value_a2"], "b": ["value_b"]})"));
  EXPECT_EQ(call("urlquery.decode_object", {S("a=value_a1&b")}), J(R"({"a": ["value_a1"], "b": [""]})"));
  EXPECT_EQ(call("urlquery.decode_object", {S("")}), J("{}"));
}

TEST(UrlQuery, EncodeDecode) {
  EXPECT_EQ(call("urlquery.encode", {S("a b&c/d?é~-_.")}), S("a+b%26c%2Fd%3F%C3%A9~-_."));
  EXPECT_EQ(call("urlquery.decode", {S("a+b%26c%2fd%3F%C3%A9")}), S("a b&c/d?é"));
  EXPECT_EQ(call("urlquery.decode", {S("")}), S(""));
  EXPECT_EQ(error_of("urlquery.decode", {S("a%zzb")}),
            "eval_builtin_error: urlquery.decode: invalid URL escape \"%zz\"");
  EXPECT_EQ(error_of("urlquery.decode", {S("a%4")}), "eval_builtin_error: urlquery.decode: invalid URL escape \"%4\"");
  EXPECT_EQ(error_of("urlquery.decode", {S("%")}), "eval_builtin_error: urlquery.decode: invalid URL escape \"%\"");
  EXPECT_EQ(error_of("urlquery.decode", {S("%\xff")}),
            "eval_builtin_error: urlquery.decode: invalid URL escape \"%\\xff\"");
}

TEST(UrlQuery, EncodeObject) {
  EXPECT_EQ(call("urlquery.encode_object", {J("{}")}), S(""));
  EXPECT_EQ(call("urlquery.encode_object", {J(R"({"b": "2", "a b": "1", "c": []})")}), S("a+b=1&b=2"));
  EXPECT_EQ(call("urlquery.encode_object", {Value::object({{Value::integer(1), S("x")}})}), S("1=x"));
  std::string msg =
      "eval_type_error: urlquery.encode_object: operand 1 values must be string, array[string], or set[string]";
  EXPECT_EQ(error_of("urlquery.encode_object", {J(R"({"a": 1})")}), msg);
  EXPECT_EQ(error_of("urlquery.encode_object", {J(R"({"a": [1]})")}), msg);
  EXPECT_EQ(error_of("urlquery.encode_object", {J(R"({"a": {"b": "c"}})")}), msg);
  EXPECT_EQ(error_of("urlquery.encode_object", {S("a")}),
            "eval_type_error: urlquery.encode_object: operand 1 must be object but got string");
}

TEST(UrlQuery, DecodeObject) {
  EXPECT_EQ(call("urlquery.decode_object", {S("a=1&&b=%20x+y&a")}), J(R"({"a": ["1", ""], "b": [" x y"]})"));
  EXPECT_EQ(call("urlquery.decode_object", {S("=x")}), J(R"({"": ["x"]})"));
  EXPECT_EQ(error_of("urlquery.decode_object", {S("a=1;b=2")}),
            "eval_builtin_error: urlquery.decode_object: invalid semicolon separator in query");
  EXPECT_EQ(error_of("urlquery.decode_object", {S("a=%zz&b=%yy")}),
            "eval_builtin_error: urlquery.decode_object: invalid URL escape \"%zz\"");
}

// ---------------------------------------------------------------- json

TEST(Json, MarshalConformance) {
  Value v = Value::array(
      {Value::object({{S("foo"), Value::set({Value::integer(1), Value::integer(2), Value::integer(3)})}})});
  EXPECT_EQ(call("json.marshal", {v}), S(R"([{"foo":[1,2,3]}])"));
}

TEST(Json, MarshalAsGo) {
  EXPECT_EQ(call("json.marshal", {J(R"({"b": 1, "a": [true, null, "x"], "c": {}})")}),
            S(R"({"a":[true,null,"x"],"b":1,"c":{}})"));
  // encoding/json escapes HTML characters and line separators.
  EXPECT_EQ(call("json.marshal", {S("<a&b>")}), S(R"("\u003ca\u0026b\u003e")"));
  EXPECT_EQ(call("json.marshal", {S("\xe2\x80\xa8")}), S(R"("\u2028")"));
  EXPECT_EQ(call("json.marshal", {S("q\"\\\n\r\t\b\f\x01\x7f")}), S("\"q\\\"\\\\\\n\\r\\t\\b\\f\\u0001\x7f\""));
  EXPECT_EQ(call("json.marshal", {S("a\xff")}), S(R"("a\ufffd")"));
  EXPECT_EQ(call("json.marshal", {S("é")}), S("\"é\""));
  // Non-string keys are written as their JSON text.
  EXPECT_EQ(call("json.marshal", {Value::object({{Value::integer(2), S("x")}, {S("1"), S("y")}})}),
            S(R"({"1":"y","2":"x"})"));
  EXPECT_EQ(call("json.marshal", {Value::object({{J("[1]"), S("x")}})}), S(R"({"[1]":"x"})"));
  EXPECT_EQ(call("json.marshal", {Value::real(2.5)}), S("2.5"));
  EXPECT_EQ(call("json.marshal", {Value::null()}), S("null"));
  EXPECT_EQ(call("json.marshal", {Value::set({})}), S("[]"));
}

TEST(Json, MarshalWithOptions) {
  const char* k = "json.marshal_with_options";
  Value v = J(R"({"a": [1, {}], "b": []})");
  EXPECT_EQ(call(k, {v, J(R"({"pretty": true})")}), S("{\n\t\"a\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"b\": []\n}"));
  EXPECT_EQ(call(k, {v, J(R"({"indent": "  ", "prefix": "--"})")}),
            S("--{\n--  \"a\": [\n--    1,\n--    {}\n--  ],\n--  \"b\": []\n--}"));
  EXPECT_EQ(call(k, {v, J(R"({"pretty": false, "indent": "  "})")}), S(R"({"a":[1,{}],"b":[]})"));
  EXPECT_EQ(call(k, {v, J("{}")}), S(R"({"a":[1,{}],"b":[]})"));
  EXPECT_EQ(call(k, {S("x"), J(R"({"prefix": ">"})")}), S(">\"x\""));
  EXPECT_EQ(error_of(k, {v, J(R"({"pretty": 1})")}),
            "eval_type_error: json.marshal_with_options: operand 2 key pretty failed cast to bool");
  EXPECT_EQ(error_of(k, {v, J(R"({"indent": 1})")}),
            "eval_type_error: json.marshal_with_options: operand 2 key indent failed cast to string: operand 0 must be "
            "string but got number");
  EXPECT_EQ(error_of(k, {v, J(R"({"foo": 1})")}),
            "eval_type_error: json.marshal_with_options: operand 2 object contained unknown key foo");
  EXPECT_EQ(error_of(k, {v, Value::object({{Value::integer(1), S("x")}})}),
            "eval_type_error: json.marshal_with_options: operand 2 failed to stringify key 1 at index 0: operand 0 "
            "must be string but got number");
  EXPECT_EQ(error_of(k, {v, J("[]")}),
            "eval_type_error: json.marshal_with_options: operand 2 must be object but got array");
}

TEST(Json, Unmarshal) {
  EXPECT_EQ(call("json.unmarshal", {S(R"({"a": [1, 2.50, "x", null, true], "b": {}})")}),
            J(R"({"a": [1, 2.5, "x", null, true], "b": {}})"));
  EXPECT_EQ(call("json.unmarshal", {S(" 12345678901234567890123 ")}),
            Value::number_from_text("12345678901234567890123"));
  EXPECT_EQ(call("json.unmarshal", {S(R"({"a": 1, "a": 2})")}), J(R"({"a": 2})"));  // last key wins
  EXPECT_EQ(call("json.unmarshal", {S("\"a\xff\"")}), S("a\xef\xbf\xbd"));          // invalid UTF-8 becomes U+FFFD
  EXPECT_EQ(call("json.unmarshal", {S(R"("\ud83d\ude00")")}), S("\xf0\x9f\x98\x80"));
  std::string deep = std::string(500, '[') + std::string(500, ']');
  EXPECT_EQ(call("json.unmarshal", {S(deep)}).size(), 1u);
}

TEST(Json, UnmarshalErrorsAsGo) {
  auto err = [](const char* s) { return error_of("json.unmarshal", {S(s)}); };
  EXPECT_EQ(err(""), "eval_builtin_error: json.unmarshal: EOF");
  EXPECT_EQ(err("  "), "eval_builtin_error: json.unmarshal: EOF");
  EXPECT_EQ(err("{"), "eval_builtin_error: json.unmarshal: unexpected EOF");
  EXPECT_EQ(err("plainstring"),
            "eval_builtin_error: json.unmarshal: invalid character 'p' looking for beginning of value");
  EXPECT_EQ(err("[1,]"), "eval_builtin_error: json.unmarshal: invalid character ']' looking for beginning of value");
  EXPECT_EQ(err(R"({"a" 1})"), "eval_builtin_error: json.unmarshal: invalid character '1' after object key");
  EXPECT_EQ(err(R"({"a": 1 "b"})"),
            "eval_builtin_error: json.unmarshal: invalid character '\"' after object key:value pair");
  EXPECT_EQ(err("[1 2]"), "eval_builtin_error: json.unmarshal: invalid character '2' after array element");
  EXPECT_EQ(err("tru"), "eval_builtin_error: json.unmarshal: unexpected EOF");
  EXPECT_EQ(err("trux"), "eval_builtin_error: json.unmarshal: invalid character 'x' in literal true (expecting 'e')");
  EXPECT_EQ(err("01"), "eval_builtin_error: json.unmarshal: error: invalid character '1' after top-level value");
  EXPECT_EQ(err("1 2"), "eval_builtin_error: json.unmarshal: error: invalid character '2' after top-level value");
  EXPECT_EQ(err("-x"), "eval_builtin_error: json.unmarshal: invalid character 'x' in numeric literal");
  EXPECT_EQ(err("1.x"),
            "eval_builtin_error: json.unmarshal: invalid character 'x' after decimal point in numeric literal");
  EXPECT_EQ(err("\"\t\""), "eval_builtin_error: json.unmarshal: invalid character '\\t' in string literal");
  EXPECT_EQ(err("\"\\x\""), "eval_builtin_error: json.unmarshal: invalid character 'x' in string escape code");
  EXPECT_EQ(err("'a'"), "eval_builtin_error: json.unmarshal: invalid character '\\'' looking for beginning of value");
  EXPECT_EQ(error_of("json.unmarshal", {Value::integer(1)}),
            "eval_type_error: json.unmarshal: operand 1 must be string but got number");
  // Nesting beyond the parser's limit is an error, not a crash.
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_NE(error_of("json.unmarshal", {S(deep)}), "");
}

TEST(Json, IsValidConformance) {
  EXPECT_EQ(call("json.is_valid", {S("plainstring")}), F());
  EXPECT_EQ(call("json.is_valid", {S("{")}), F());
  EXPECT_EQ(call("json.is_valid", {S(R"({"json": "ok"})")}), T());
  EXPECT_EQ(call("json.is_valid", {Value::integer(1)}), F());
}

TEST(Json, IsValidMore) {
  EXPECT_EQ(call("json.is_valid", {S("")}), F());
  EXPECT_EQ(call("json.is_valid", {S(" 1 ")}), T());
  EXPECT_EQ(call("json.is_valid", {S("1 2")}), F());
  EXPECT_EQ(call("json.is_valid", {S("\"\xff\"")}), T());  // Go accepts invalid UTF-8 in strings
  EXPECT_EQ(call("json.is_valid", {S("[1e5, -0.5E-3, 0]")}), T());
  EXPECT_EQ(call("json.is_valid", {S("[01]")}), F());
  EXPECT_EQ(call("json.is_valid", {S("{\"a\":}")}), F());
  EXPECT_EQ(call("json.is_valid", {S(std::string(100000, '['))}), F());
}

// ---------------------------------------------------------------- yaml

TEST(Yaml, IsValidConformance) {
  EXPECT_EQ(call("yaml.is_valid", {S("foo:\n   - qux: bar\n   - baz: 2")}), T());
  EXPECT_EQ(call("yaml.is_valid", {S("foo:\n   - qux: bar\n   - baz: {")}), F());
  EXPECT_EQ(call("yaml.is_valid", {S(R"({"json": "ok"})")}), T());
  EXPECT_EQ(call("yaml.is_valid", {Value::integer(1)}), F());
  EXPECT_EQ(call("yaml.is_valid", {S("  test:\ntest1: hello\n")}), F());
  EXPECT_EQ(call("yaml.is_valid", {S("a: 1\n---\n\tb: 2\n")}), F());
  EXPECT_EQ(call("yaml.is_valid", {S("a: 1\n---\nb: 2\n")}), T());
}

// Float map keys become JSON keys through float32 (sigs.k8s.io/yaml): beyond its range they
// are infinities, not a crash (found by builtin_fuzz).
TEST(Yaml, FloatKeysBeyondFloat32) {
  EXPECT_EQ(call("yaml.unmarshal", {S("{-1e300: 1, 1e39: 2, 1.5: 3}")}), J(R"({"-.inf": 1, ".inf": 2, "1.5": 3})"));
  // The fuzzer's input (a huge negative float key, then trailing text): go-yaml's error.
  try {
    call("yaml.unmarshal", {S("{022Z,  -" + std::string(120, '8') + ",/R}}}FC")});
    ADD_FAILURE() << "expected an error";
  } catch (const BuiltinError& e) {
    EXPECT_EQ(std::string(e.what()), "yaml.unmarshal: yaml: did not find expected <document start>");
  }
  EXPECT_EQ(call("yaml.unmarshal", {S("{-" + std::string(120, '8') + ": 1}")}), J(R"({"-.inf": 1})"));
}

TEST(Yaml, RoundTripConformance) {
  Value v = Value::array(
      {Value::object({{S("foo"), Value::set({Value::integer(1), Value::integer(2), Value::integer(3)})}})});
  Value y = call("yaml.marshal", {v});
  EXPECT_EQ(y, S("- foo:\n  - 1\n  - 2\n  - 3\n"));
  EXPECT_EQ(call("yaml.unmarshal", {y}), J(R"([{"foo": [1, 2, 3]}])"));
}

TEST(Yaml, MarshalAsGoYaml) {
  auto m = [](const char* json) { return call("yaml.marshal", {J(json)}); };
  EXPECT_EQ(m(R"({"b": [1, 2], "a": 1, "c": {"d": "x", "e": {}}, "f": []})"),
            S("a: 1\nb:\n- 1\n- 2\nc:\n  d: x\n  e: {}\nf: []\n"));
  EXPECT_EQ(m(R"("foo")"), S("foo\n"));
  EXPECT_EQ(m("null"), S("null\n"));
  EXPECT_EQ(m("{}"), S("{}\n"));
  EXPECT_EQ(m("[[1], []]"), S("- - 1\n- []\n"));
  // Strings that would read back as another type are quoted.
  EXPECT_EQ(
      m(R"(["true", "1", "", "null", "yes", "1.5", "0x1F", "2001-12-14", "1:20", "~"])"),
      S("- \"true\"\n- \"1\"\n- \"\"\n- \"null\"\n- \"yes\"\n- \"1.5\"\n- \"0x1F\"\n- \"2001-12-14\"\n- \"1:20\"\n"
        "- \"~\"\n"));
  EXPECT_EQ(m(R"(["a: b", "- x", "#c", " lead", "x\ny", "it's"])"),
            S("- 'a: b'\n- '- x'\n- '#c'\n- ' lead'\n- |-\n  x\n  y\n- it's\n"));
  EXPECT_EQ(m(R"([1.5, 1e-7, 0.0001, 123456789.5, true, false])"),
            S("- 1.5\n- 1e-07\n- 0.0001\n- 1.234567895e+08\n- true\n- false\n"));
  // go-yaml's natural key order: digit runs compare as numbers.
  EXPECT_EQ(m(R"({"a10": 1, "a2": 2, "B": 3, "a": 4})"), S("B: 3\na: 4\na2: 2\na10: 1\n"));
  EXPECT_EQ(m(R"({"é": "ü"})"), S("é: ü\n"));
  // Long plain strings are folded at a space past column 80, as go-yaml does.
  std::string words;
  for (int i = 0; i < 10; ++i) words += (i ? " " : "") + std::string("abcdefghi");
  Value folded = call("yaml.marshal", {Value::object({{S("k"), S(words)}})});
  EXPECT_EQ(folded, S("k: " + words.substr(0, 79) + "\n  " + words.substr(80) + "\n"));
  EXPECT_EQ(call("yaml.unmarshal", {folded}), Value::object({{S("k"), S(words)}}));
}

TEST(Yaml, UnmarshalResolvesLikeGoYamlV2) {
  auto u = [](const char* y) { return call("yaml.unmarshal", {S(y)}); };
  EXPECT_EQ(u("a: yes\nb: No\nc: on\nd: y\ne: TRUE\nf: False"),
            J(R"({"a": true, "b": false, "c": true, "d": true, "e": true, "f": false})"));
  EXPECT_EQ(u("a: 0x10\nb: 010\nc: 0o17\nd: 0b101\ne: 1_000\nf: -12\ng: +7\nh: 08"),
            J(R"({"a": 16, "b": 8, "c": 15, "d": 5, "e": 1000, "f": -12, "g": 7, "h": 8})"));
  EXPECT_EQ(u("a: 1.5\nb: .5\nc: 1e3\nd: -2.5E-2\ne: 1.\nf: 12345678901234567890"),
            J(R"({"a": 1.5, "b": 0.5, "c": 1000, "d": -0.025, "e": 1, "f": 12345678901234567890})"));
  EXPECT_EQ(u("a: ~\nb: null\nc:\nd: ''\ne: 'yes'\nf: !!str 12\ng: 2001-12-14\nh: 1e400\ni: 0x"),
            J(R"({"a": null, "b": null, "c": null, "d": "", "e": "yes", "f": "12", "g": "2001-12-14", "h": "1e400",
                 "i": "0x"})"));
  EXPECT_EQ(u("1: a\ntrue: b\n1.5: c\n0x10: d\nnull_: e"),
            J(R"({"1": "a", "true": "b", "1.5": "c", "16": "d", "null_": "e"})"));
  EXPECT_EQ(u("a: |\n  x\n  y\nb: >\n  p\n  q\n"), J(R"({"a": "x\ny\n", "b": "p q\n"})"));
  EXPECT_EQ(u("a: !!float 1\nb: !custom 5\nc: !!int \"7\""), J(R"({"a": 1, "b": "5", "c": 7})"));
  EXPECT_EQ(u(""), Value::null());
  EXPECT_EQ(u("# only a comment\n"), Value::null());
  EXPECT_EQ(u("---\n"), Value::null());
  EXPECT_EQ(u("plain text"), S("plain text"));
  EXPECT_EQ(u("a: 1\n---\nb: 2\n"), J(R"({"a": 1})"));  // the first document
  EXPECT_EQ(u("{a: [1, 2], b: {c: d}}"), J(R"({"a": [1, 2], "b": {"c": "d"}})"));
  EXPECT_EQ(u("a: 1\na: 2"), J(R"({"a": 2})"));
  // go-yaml v2 reads y/n as booleans, keys included (a well-known Kubernetes quirk).
  EXPECT_EQ(u("y: 1\nn: 2\nx: y"), J(R"({"true": 1, "false": 2, "x": true})"));
}

TEST(Yaml, AnchorsAndMerges) {
  auto u = [](const char* y) { return call("yaml.unmarshal", {S(y)}); };
  EXPECT_EQ(u("a: &x [1, 2]\nb: *x"), J(R"({"a": [1, 2], "b": [1, 2]})"));
  EXPECT_EQ(u("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n"),
            J(R"({"base": {"x": 1, "z": 2}, "d": {"x": 1, "z": 3}})"));
  EXPECT_EQ(u("p: &p {x: 1}\nq: &q {x: 2, z: 3}\nd:\n  <<: [*p, *q]\n"),
            J(R"({"p": {"x": 1}, "q": {"x": 2, "z": 3}, "d": {"x": 1, "z": 3}})"));
  EXPECT_EQ(u("d:\n  '<<': {x: 1}\n"), J(R"({"d": {"<<": {"x": 1}}})"));  // quoted: an ordinary key
  EXPECT_EQ(error_of("yaml.unmarshal", {S("a: *nope")}),
            "eval_builtin_error: yaml.unmarshal: yaml: unknown anchor 'nope' referenced");
  EXPECT_EQ(error_of("yaml.unmarshal", {S("a: &a [*a]")}),
            "eval_builtin_error: yaml.unmarshal: yaml: anchor 'a' value contains itself");
  EXPECT_EQ(error_of("yaml.unmarshal", {S("d:\n  <<: 1\n")}),
            "eval_builtin_error: yaml.unmarshal: yaml: map merge requires map or sequence of maps as the value");
  // Exponential alias expansion is refused, as go-yaml does.
  std::string laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    laughs += std::string(1, c) + ": &" + c + " [*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev +
              ",*" + prev + ",*" + prev + ",*" + prev + ",*" + prev + "]\n";
  }
  EXPECT_EQ(error_of("yaml.unmarshal", {S(laughs)}),
            "eval_builtin_error: yaml.unmarshal: yaml: document contains excessive aliasing");
  EXPECT_EQ(call("yaml.is_valid", {S(laughs)}), F());
}

TEST(Yaml, UnmarshalErrors) {
  auto err = [](const char* y) { return error_of("yaml.unmarshal", {S(y)}); };
  // go-yaml omits the line for problems on the first line (its lines are 0-based internally).
  EXPECT_EQ(err("a: b: c"), "eval_builtin_error: yaml.unmarshal: yaml: mapping values are not allowed in this context");
  EXPECT_EQ(err("x: 1\na: b: c"),
            "eval_builtin_error: yaml.unmarshal: yaml: line 2: mapping values are not allowed in this context");
  EXPECT_EQ(err("a: 1\n---\n\tb: 2\n"),
            "eval_builtin_error: yaml.unmarshal: yaml: line 3: found character that cannot start any token");
  EXPECT_EQ(err("  test:\ntest1: hello\n"),
            "eval_builtin_error: yaml.unmarshal: yaml: line 1: did not find expected <document start>");
  EXPECT_EQ(err("a: .nan"), "eval_builtin_error: yaml.unmarshal: json: unsupported value: NaN");
  EXPECT_EQ(err("a: -.inf"), "eval_builtin_error: yaml.unmarshal: json: unsupported value: -Inf");
  EXPECT_EQ(err("a: !!int abc"), "eval_builtin_error: yaml.unmarshal: yaml: cannot decode !!str `abc` as a !!int");
  EXPECT_EQ(err("[1, 2]: x"), "eval_builtin_error: yaml.unmarshal: yaml: invalid map key: [1,2]");
  EXPECT_EQ(err("~: x"), "eval_builtin_error: yaml.unmarshal: unsupported map key of type: <nil>, key: <nil>");
  EXPECT_EQ(error_of("yaml.unmarshal", {Value::null()}),
            "eval_type_error: yaml.unmarshal: operand 1 must be string but got null");
  EXPECT_NE(err("\xff\xfe\xfd"), "");  // not UTF-8/16
  std::string deep = std::string(3000, '[') + std::string(3000, ']');
  EXPECT_NE(error_of("yaml.unmarshal", {S(deep)}), "");
  EXPECT_EQ(call("yaml.is_valid", {S(deep)}), F());
}

TEST(Yaml, MarshalRoundTrips) {
  for (const char* json : {R"({"a": {"b": [1, "2", null, true, 1.25]}, "c": "multi\nline\n"})",
                           R"(["", " ", "a\tb", "\u0001", "'q'", "\"dq\"", "#", "- ", ": ", "{x}", "é"])",
                           R"({"key with spaces": {"nested": [[], {}, [[1]]]}})"}) {
    Value v = J(json);
    Value y = call("yaml.marshal", {v});
    EXPECT_EQ(call("yaml.unmarshal", {y}), v) << y.str();
  }
}
