// regex.*, glob.* builtins, called directly through a local registry. The
// expected values are OPA's (conformance cases under regex*/glob*, Go regexp
// documentation examples).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
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
    register_regex(reg);
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

// "code: message" of the BuiltinError thrown, or "" if none.
std::string error_of(const char* name, std::vector<Value> args) {
  try {
    call(name, std::move(args));
  } catch (const BuiltinError& e) {
    return e.code + ": " + e.what();
  }
  return "";
}

}  // namespace

TEST(Regex, Registered) {
  for (const char* n :
       {"regex.is_valid", "regex.match", "regex.split", "regex.find_n", "regex.find_all_string_submatch_n",
        "regex.replace", "regex.template_match", "regex.globs_match", "glob.match", "glob.quote_meta"}) {
    EXPECT_NE(registry().find(n), nullptr) << n;
  }
  EXPECT_EQ(registry().find("regex.match")->arity, 2);
  EXPECT_EQ(registry().find("regex.template_match")->arity, 4);
}

TEST(Regex, MatchConformance) {
  EXPECT_EQ(call("regex.match", {S("^[a-z]+\\[[0-9]+\\]$"), S("foo[1]")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^$"), S("")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S(""), S("")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S(""), S("x")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^$"), S("something")}), Value::boolean(false));
  EXPECT_EQ(error_of("regex.match", {S("$^[[["), S("something")}),
            "eval_builtin_error: regex.match: error parsing regexp: missing closing ]: `[[[`");
}

TEST(Regex, MatchSemantics) {
  // Unanchored search; ^/$ are text anchors unless (?m).
  EXPECT_EQ(call("regex.match", {S("b"), S("abc")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^b"), S("a\nb")}), Value::boolean(false));
  EXPECT_EQ(call("regex.match", {S("(?m)^b"), S("a\nb")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("a$"), S("a\n")}), Value::boolean(false));
  EXPECT_EQ(call("regex.match", {S("(?i)ÄB"), S("äb")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^\\p{Greek}+$"), S("αβγ")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^.$"), S("é")}), Value::boolean(true));  // runes, not bytes
  // Go 1.22 named groups (?<name>...) are accepted.
  EXPECT_EQ(call("regex.match", {S("^(?<x>a)b$"), S("ab")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("[(?<x>]"), S("<")}), Value::boolean(true));
}

TEST(Regex, InvalidUtf8SubjectAsGo) {
  // Go reads each invalid byte as U+FFFD; results keep the original bytes.
  EXPECT_EQ(call("regex.match", {S("abc"), S("\xff\xfe")}), Value::boolean(false));
  EXPECT_EQ(call("regex.match", {S("b"), S("a\xff"
                                           "b")}),
            Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^.$"), S("\xff")}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("^\\x{FFFD}{2}$"), S("\xff\xfe")}), Value::boolean(true));
  EXPECT_EQ(call("regex.find_n", {S("."),
                                  S("a\xff"
                                    "b"),
                                  Value::integer(-1)}),
            Value::array({S("a"), S("\xff"), S("b")}));
  EXPECT_EQ(call("regex.split", {S("x"), S("\xffx\xfe")}), Value::array({S("\xff"), S("\xfe")}));
  EXPECT_EQ(call("regex.replace", {S("a\xff"
                                     "b"),
                                   S("(.)"), S("<$1>")}),
            S("<a><\xff><b>"));
  EXPECT_EQ(call("regex.find_all_string_submatch_n", {S("(.)b"),
                                                      S("\xff"
                                                        "b"),
                                                      Value::integer(-1)}),
            Value::array({Value::array({S("\xff"
                                          "b"),
                                        S("\xff")})}));
  EXPECT_EQ(call("glob.match", {S("a?c"), Value::null(),
                                S("a\xff"
                                  "c")}),
            Value::boolean(true));
}

TEST(Regex, CompileErrorsAsGo) {
  auto err = [](const char* p) { return error_of("regex.match", {S(p), S("")}); };
  EXPECT_EQ(err("["), "eval_builtin_error: regex.match: error parsing regexp: missing closing ]: `[`");
  EXPECT_EQ(err("a**"),
            "eval_builtin_error: regex.match: error parsing regexp: invalid nested repetition operator: `**`");
  EXPECT_EQ(err("(a"), "eval_builtin_error: regex.match: error parsing regexp: missing closing ): `(a`");
  EXPECT_EQ(err("a)"), "eval_builtin_error: regex.match: error parsing regexp: unexpected ): `a)`");
  EXPECT_EQ(err("x{1001}"), "eval_builtin_error: regex.match: error parsing regexp: invalid repeat count: `{1001}`");
  EXPECT_EQ(err("[z-a]"),
            "eval_builtin_error: regex.match: error parsing regexp: invalid character class range: `z-a`");
  EXPECT_EQ(err("\\8"), "eval_builtin_error: regex.match: error parsing regexp: invalid escape sequence: `\\8`");
  EXPECT_EQ(err("(?<=a)b"),
            "eval_builtin_error: regex.match: error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
  EXPECT_EQ(err("*"),
            "eval_builtin_error: regex.match: error parsing regexp: missing argument to repetition operator: `*`");
  EXPECT_NE(err("\xff"), "");  // invalid UTF-8 in the pattern
}

TEST(Regex, TypeErrors) {
  EXPECT_EQ(error_of("regex.match", {Value::integer(1), S("a")}),
            "eval_type_error: regex.match: operand 1 must be string but got number");
  EXPECT_EQ(error_of("regex.match", {S("a"), Value::null()}),
            "eval_type_error: regex.match: operand 2 must be string but got null");
  EXPECT_EQ(error_of("regex.find_n", {S("a"), S("a"), Value::real(1.5)}),
            "eval_type_error: regex.find_n: operand 3 must be integer number but got floating-point number");
  EXPECT_EQ(error_of("regex.find_n", {S("a"), S("a"), S("1")}),
            "eval_type_error: regex.find_n: operand 3 must be number but got string");
  EXPECT_EQ(error_of("regex.replace", {S("a"), S("a"), J("[]")}),
            "eval_type_error: regex.replace: operand 3 must be string but got array");
  EXPECT_EQ(error_of("regex.split", {J("{}"), S("a")}),
            "eval_type_error: regex.split: operand 1 must be string but got object");
}

TEST(Regex, IsValid) {
  EXPECT_EQ(call("regex.is_valid", {S(".*")}), Value::boolean(true));
  EXPECT_EQ(call("regex.is_valid", {S("[a-")}), Value::boolean(false));
  EXPECT_EQ(call("regex.is_valid", {Value::integer(1)}), Value::boolean(false));  // not an error
  EXPECT_EQ(call("regex.is_valid", {S("")}), Value::boolean(true));
}

TEST(Regex, SplitConformance) {
  EXPECT_EQ(call("regex.split", {S("^[a-z]+\\[[0-9]+\\]$"), S("")}), J(R"([""])"));
  EXPECT_EQ(call("regex.split", {S("^[a-z]+"), S("foobar baz")}), J(R"(["", " baz"])"));
  EXPECT_EQ(call("regex.split", {S("[a-z]+$"), S("foobar baz")}), J(R"(["foobar ", ""])"));
  EXPECT_EQ(call("regex.split", {S("^[a-z]+$"), S("foobar baz")}), J(R"(["foobar baz"])"));
  EXPECT_EQ(call("regex.split", {S("^[a-z ]+$"), S("foobar baz")}), J(R"(["", ""])"));
  EXPECT_EQ(call("regex.split", {S("a"), S("banana")}), J(R"(["b", "n", "n", ""])"));
  EXPECT_EQ(call("regex.split", {S("z+"), S("pizza")}), J(R"(["pi", "a"])"));
}

TEST(Regex, SplitEmptyMatchesAsGo) {
  // Go: regexp.MustCompile("a*").Split("abaabaccadaaae", -1)
  EXPECT_EQ(call("regex.split", {S("a*"), S("abaabaccadaaae")}), J(R"(["", "b", "b", "c", "c", "d", "e"])"));
  EXPECT_EQ(call("regex.split", {S(""), S("abc")}), J(R"(["a", "b", "c"])"));
  EXPECT_EQ(call("regex.split", {S(""), S("")}), J("[]"));
  EXPECT_EQ(call("regex.split", {S("x*"), S("")}), J(R"([""])"));
  EXPECT_EQ(call("regex.split", {S(","), S("é,ü")}), J(R"(["é", "ü"])"));
}

TEST(Regex, FindConformance) {
  EXPECT_EQ(call("regex.find_n", {S("a."), S("paranormal"), Value::integer(-1)}), J(R"(["ar", "an", "al"])"));
  EXPECT_EQ(call("regex.find_n", {S("a."), S("paranormal"), Value::integer(2)}), J(R"(["ar", "an"])"));
  EXPECT_EQ(call("regex.find_n", {S("a."), S("paranormal"), Value::integer(0)}), J("[]"));
  EXPECT_EQ(call("regex.find_n", {S("x"), S("paranormal"), Value::integer(-1)}), J("[]"));
  // Empty matches: none right after a previous match; advance by runes.
  EXPECT_EQ(call("regex.find_n", {S("a*"), S("baaac"), Value::integer(-1)}), J(R"(["", "aaa", ""])"));
  EXPECT_EQ(call("regex.find_n", {S(""), S("é"), Value::integer(-1)}), J(R"(["", ""])"));
  // ^ only matches at the start of the whole text.
  EXPECT_EQ(call("regex.find_n", {S("^a"), S("aaa"), Value::integer(-1)}), J(R"(["a"])"));
  EXPECT_EQ(call("regex.find_n", {S("\\ba"), S("a a"), Value::integer(-1)}), J(R"(["a", "a"])"));
}

TEST(Regex, FindAllStringSubmatchConformance) {
  const char* k = "regex.find_all_string_submatch_n";
  EXPECT_EQ(call(k, {S("a(x*)b"), S("-"), Value::integer(-1)}), J("[]"));
  EXPECT_EQ(call(k, {S("a(x*)b"), S("-ab-"), Value::integer(-1)}), J(R"([["ab", ""]])"));
  EXPECT_EQ(call(k, {S("a(x*)b"), S("-axxb-"), Value::integer(-1)}), J(R"([["axxb", "xx"]])"));
  EXPECT_EQ(call(k, {S("a(x*)b"), S("-ab-axb-"), Value::integer(-1)}), J(R"([["ab", ""], ["axb", "x"]])"));
  EXPECT_EQ(call(k, {S("[^aouiye]([aouiye])([^aouiye])?"), S("somestri"), Value::integer(-1)}),
            J(R"([["som", "o", "m"], ["ri", "i", ""]])"));
  EXPECT_EQ(call(k, {S("[^aouiye]([aouiye])([^aouiye])?"), S("somestri"), Value::integer(1)}),
            J(R"([["som", "o", "m"]])"));
  EXPECT_EQ(call(k, {S("(a)|(b)"), S("ab"), Value::integer(-1)}), J(R"([["a", "a", ""], ["b", "", "b"]])"));
}

TEST(Regex, ReplaceConformance) {
  EXPECT_EQ(call("regex.replace", {S("-wy-wxxy-"), S("w(x*)y"), S("0")}), S("-0-0-"));
  EXPECT_EQ(call("regex.replace", {S("foo"), S("(foo)"), S("$1$1")}), S("foofoo"));
  EXPECT_EQ(error_of("regex.replace", {S("foo"), S("["), S("$1")}),
            "eval_builtin_error: regex.replace: error parsing regexp: missing closing ]: `[`");
}

TEST(Regex, ReplaceExpandAsGo) {
  // Go regexp ReplaceAllString documentation examples.
  EXPECT_EQ(call("regex.replace", {S("-ab-axxb-"), S("a(x*)b"), S("T")}), S("-T-T-"));
  EXPECT_EQ(call("regex.replace", {S("-ab-axxb-"), S("a(x*)b"), S("$1")}), S("--xx-"));
  EXPECT_EQ(call("regex.replace", {S("-ab-axxb-"), S("a(x*)b"), S("$1W")}), S("---"));  // $1W is a group name
  EXPECT_EQ(call("regex.replace", {S("-ab-axxb-"), S("a(x*)b"), S("${1}W")}), S("-W-xxW-"));
  EXPECT_EQ(call("regex.replace", {S("-ab-axxb-"), S("a(?P<x>x*)b"), S("[${x}]")}), S("-[]-[xx]-"));
  EXPECT_EQ(call("regex.replace", {S("ab"), S("a"), S("$$")}), S("$b"));
  EXPECT_EQ(call("regex.replace", {S("ab"), S("a"), S("${")}), S("${b"));  // malformed: '$' kept
  EXPECT_EQ(call("regex.replace", {S("ab"), S("a"), S("$9")}), S("b"));    // missing group: empty
  EXPECT_EQ(call("regex.replace", {S("baaac"), S("a*"), S("X")}), S("XbXcX"));
  EXPECT_EQ(call("regex.replace", {S("aaa"), S("^a"), S("b")}), S("baa"));
  EXPECT_EQ(call("regex.replace", {S("héllo"), S(""), S("-")}), S("-h-é-l-l-o-"));
  EXPECT_EQ(call("regex.replace", {S("abc"), S("x"), S("y")}), S("abc"));
  EXPECT_EQ(call("regex.replace", {S(""), S(""), S("y")}), S("y"));
}

TEST(Regex, TemplateMatch) {
  const char* k = "regex.template_match";
  EXPECT_EQ(call(k, {S("urn:foo:{.*}"), S("urn:foo:bar:baz"), S("{"), S("}")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("urn:foo.bar.com:{.*}"), S("urn:foo.bar.com:bar:baz"), S("{"), S("}")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("urn:foo.bar.com:{.*}"), S("urn:fooXbarXcom:bar:baz"), S("{"), S("}")}), Value::boolean(false));
  EXPECT_EQ(call(k, {S("urn:foo:<[0-9]{2}>"), S("urn:foo:42"), S("<"), S(">")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("urn:foo:<[0-9]{2}>"), S("urn:foo:4"), S("<"), S(">")}), Value::boolean(false));
  EXPECT_EQ(call(k, {S("a{b{c}d}e"), S("abcde"), S("{"), S("}")}), Value::boolean(false));  // group "b{c}d"
  EXPECT_EQ(error_of(k, {S("urn:foo:{.*"), S("x"), S("{"), S("}")}),
            "eval_builtin_error: regex.template_match: unbalanced braces in \"urn:foo:{.*\"");
  EXPECT_EQ(error_of(k, {S("urn:}"), S("x"), S("{"), S("}")}),
            "eval_builtin_error: regex.template_match: unbalanced braces in \"urn:}\"");
  EXPECT_EQ(error_of(k, {S("a"), S("x"), S("{{"), S("}")}),
            "eval_builtin_error: regex.template_match: start delimiter has to be exactly one character long but is 2 "
            "long");
  // OPA reports the start delimiter's length for a bad end delimiter.
  EXPECT_EQ(
      error_of(k, {S("a"), S("x"), S("{"), S("")}),
      "eval_builtin_error: regex.template_match: end delimiter has to be exactly one character long but is 1 long");
  EXPECT_EQ(error_of(k, {S("{[}"), S("x"), S("{"), S("}")}),
            "eval_builtin_error: regex.template_match: error parsing regexp: missing closing ]: `[$`");
}

TEST(Regex, GlobsMatch) {
  const char* k = "regex.globs_match";
  // Cases from OPA's regex.globs_match tests (glob-intersection's suite).
  std::vector<std::pair<const char*, std::vector<const char*>>> non_empty = {
      {"abcd", {"abcd", "....", "[a-d]*"}},
      {"pqrs", {".qrs", "p.rs", "pq.s", "pqr."}},
      {".*", {"asdklfj", "jasdfh", "asdhfajfh", "asdflkasdfjl"}},
      {"d*", {"[abcd][abcd]", "d[a-z]+", ".....", "[d]*"}},
      {"[a-p]+", {"[p-z]+", "apapapaapapapap", ".*", "abcdefgh*"}},
      {"abcd[a-c]z+", {"abcd[b-d][yz]*", "abcdazzzz", "abcdbzzz", "abcdcz"}},
      {".*\\\\", {".*", "asdfasdf\\\\"}},
      {".a.a", {"b.b.", "c.c.", "d.d.", "e.e."}},
      {".*.*.*.*.*.*.*.*.*.*.*.*.*.*.*", {".*.*.*.*.*.*.*.*.*.*.*"}},
      {"foo.*bar", {"foobar", "fooalkdsjfbar"}},
  };
  std::vector<std::pair<const char*, std::vector<const char*>>> empty = {
      {"abcd", {"lsdfhda", "abcdla", "asdlfk", "ksdfj"}},
      {"[a-d]+", {"xyz", "p+", "[e-f]+"}},
      {"[0-9]*", {"[a-z]", ".\\*"}},
      {"mamama.*", {"dadada.*", "nanana.*"}},
      {".xyz.", {"paaap", ".*pqr.*"}},
      {"ab+", {"a", "b", "abc"}},
      {".*.*.*.*f", {".*.*.*.*g"}},
  };
  for (const auto& [lhs, rhss] : non_empty) {
    for (const char* rhs : rhss) {
      EXPECT_EQ(call(k, {S(lhs), S(rhs)}), Value::boolean(true)) << lhs << " " << rhs;
      EXPECT_EQ(call(k, {S(rhs), S(lhs)}), Value::boolean(true)) << rhs << " " << lhs;
    }
  }
  for (const auto& [lhs, rhss] : empty) {
    for (const char* rhs : rhss) {
      EXPECT_EQ(call(k, {S(lhs), S(rhs)}), Value::boolean(false)) << lhs << " " << rhs;
      EXPECT_EQ(call(k, {S(rhs), S(lhs)}), Value::boolean(false)) << rhs << " " << lhs;
    }
  }
  EXPECT_EQ(call(k, {S("a.a."), S(".b.b")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("[a-z]+"), S("[0-9]*")}), Value::boolean(false));
  EXPECT_EQ(call(k, {S("a*"), S("b*")}), Value::boolean(false));  // only the empty string is common
  EXPECT_EQ(call(k, {S("a*"), S("a+")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("abc"), S("a.c")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("abc"), S("abcd")}), Value::boolean(false));
  EXPECT_EQ(call(k, {S(".*x"), S("y.*")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("x.*"), S(".*y")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("\\.a"), S("[.]a")}), Value::boolean(true));
  EXPECT_EQ(call(k, {S("\\.a"), S("ba")}), Value::boolean(false));
  EXPECT_EQ(call(k, {S(""), S("")}), Value::boolean(true));
  EXPECT_EQ(error_of(k, {S("]"), S("a")}),
            "eval_builtin_error: regex.globs_match: pos:1:set-close ']' with no preceding '[': the input provided is "
            "invalid");
  EXPECT_EQ(error_of(k, {S("a"), S("*a")}),
            "eval_builtin_error: regex.globs_match: pos:1:flag '*' must be preceded by a non-flag: the input provided "
            "is invalid");
  EXPECT_EQ(error_of(k, {S("a**"), S("a")}),
            "eval_builtin_error: regex.globs_match: pos:3:flag '*' must be preceded by a non-flag: the input provided "
            "is invalid");
  EXPECT_EQ(error_of(k, {S("a\\"), S("a")}),
            "eval_builtin_error: regex.globs_match: pos:1:input ends with a \\ (escape) character: the input provided "
            "is invalid");
  EXPECT_EQ(error_of(k, {S("[ab"), S("a")}),
            "eval_builtin_error: regex.globs_match: pos:0:found [ without matching ]: the input provided is invalid");
  EXPECT_EQ(error_of(k, {S("[-a]"), S("a")}),
            "eval_builtin_error: regex.globs_match: pos:2:range character '-' must be preceded by a Unicode character: "
            "the input provided is invalid");
}

TEST(Glob, MatchConformance) {
  auto m = [](const char* p, Value d, const char* s) { return call("glob.match", {S(p), std::move(d), S(s)}); };
  Value t = Value::boolean(true), f = Value::boolean(false);
  EXPECT_EQ(m("*:github:com", J(R"([":"])"), "api:github:com"), t);
  EXPECT_EQ(m("*.github.com", J(R"(["."])"), "api.not-github.com"), f);
  EXPECT_EQ(m("[abc]at", J("[]"), "fat"), f);
  EXPECT_EQ(m("[!abc]at", J("[]"), "fat"), t);
  EXPECT_EQ(m("[!abc]at", J("[]"), "cat"), f);
  EXPECT_EQ(m("[a-c]at", J("[]"), "bat"), t);
  EXPECT_EQ(m("[!a-c]at", J("[]"), "bat"), f);
  EXPECT_EQ(m("?at", J(R"(["f"])"), "fat"), f);
  for (const char* s : {"cat", "bat", "fat", "rat"}) EXPECT_EQ(m("{cat,bat,[fr]at}", J("[]"), s), t) << s;
  EXPECT_EQ(m("{cat,bat,[fr]at}", J("[]"), "at"), f);
  EXPECT_EQ(m("*", J("[]"), "foo.bar"), f);  // [] means the default delimiter "."
  EXPECT_EQ(m("*", Value::null(), "foo.bar"), t);
  EXPECT_EQ(m("foo*", Value::null(), "foo.bar"), t);
}

TEST(Glob, MatchWildcardsConformance) {
  auto m = [](const char* p, Value d, const char* s) { return call("glob.match", {S(p), std::move(d), S(s)}); };
  Value t = Value::boolean(true), f = Value::boolean(false);
  EXPECT_EQ(m("?", Value::null(), ""), f);
  EXPECT_EQ(m("[!0-9]", Value::null(), ""), f);
  EXPECT_EQ(m("a/*/b", Value::null(), "a/b"), f);
  EXPECT_EQ(m("a/*/b", Value::null(), "a/x/b"), t);
  EXPECT_EQ(m("a/**/b", Value::null(), "a/b"), f);
  EXPECT_EQ(m("a/**/b", Value::null(), "a//b"), t);
  EXPECT_EQ(m("**/x", Value::null(), "x"), f);
  EXPECT_EQ(m("{**/,}x", Value::null(), "x"), t);
  EXPECT_EQ(m("***", J(R"(["."])"), ""), t);
  EXPECT_EQ(m("*?*", J(R"([".", "/"])"), "api.github.com"), f);
  EXPECT_EQ(m("*?*", J(R"([".", "/"])"), "abc"), t);
  EXPECT_EQ(m("*", J(R"([".", "/"])"), "a/b"), f);
  EXPECT_EQ(m("\\*", Value::null(), "*"), t);
  EXPECT_EQ(m("\\*", Value::null(), "a"), f);
}

TEST(Glob, MatchMore) {
  auto m = [](const char* p, Value d, const char* s) { return call("glob.match", {S(p), std::move(d), S(s)}); };
  Value t = Value::boolean(true), f = Value::boolean(false);
  EXPECT_EQ(m("**.github.com", J(R"(["."])"), "a.b.github.com"), t);
  EXPECT_EQ(m("*.github.com", J(R"(["."])"), "a.b.github.com"), f);
  EXPECT_EQ(m("", Value::null(), ""), t);
  EXPECT_EQ(m("", Value::null(), "a"), f);
  EXPECT_EQ(m("a.b", Value::null(), "aXb"), f);  // '.' is literal in globs
  EXPECT_EQ(m("a+b(c)|d^$", Value::null(), "a+b(c)|d^$"), t);
  EXPECT_EQ(m("?", Value::null(), "é"), t);  // one rune
  EXPECT_EQ(m("??", Value::null(), "é"), f);
  EXPECT_EQ(m("?", Value::null(), "\n"), t);
  EXPECT_EQ(m("[!a]", J(R"(["."])"), "."), t);         // classes ignore delimiters
  EXPECT_EQ(m("a}b,c]", Value::null(), "a}b,c]"), t);  // literal outside groups
  EXPECT_EQ(m("{a,{b,c}d}", Value::null(), "cd"), t);
  EXPECT_EQ(m("{a,b", Value::null(), "b"), t);  // an unclosed group ends with the pattern (gobwas v0.2.3)
  EXPECT_EQ(m("{}", Value::null(), ""), t);
  EXPECT_EQ(m("[\\]]", Value::null(), "]"), t);
  EXPECT_EQ(m("*", J(R"(["é"])"), "aéb"), f);
  EXPECT_EQ(m("a*", J(R"(["."])"), "a\xff"), t);  // an invalid byte is one rune, as in Go
}

TEST(Glob, MatchErrors) {
  auto e = [](const char* p, Value d) { return error_of("glob.match", {S(p), std::move(d), S("x")}); };
  EXPECT_EQ(e("[abc", Value::null()), "eval_builtin_error: glob.match: unexpected end of input");
  EXPECT_EQ(e("[a-cd]", Value::null()), "eval_builtin_error: glob.match: expected close range character");
  EXPECT_EQ(e("[]", Value::null()), "eval_builtin_error: glob.match: could not parse range");
  EXPECT_EQ(e("[z-a]", Value::null()),
            "eval_builtin_error: glob.match: hi character 'a' should be greater than lo 'z'");
  EXPECT_EQ(e("a\xff", Value::null()), "eval_builtin_error: glob.match: could not read rune");
  EXPECT_EQ(e("*", S(".")), "eval_type_error: glob.match: operand 2 must be one of {array, null} but got string");
  EXPECT_EQ(e("*", J("[1]")),
            "eval_type_error: glob.match: operand 2 must be array of strings but got array containing number");
  EXPECT_EQ(e("*", J(R"(["ab"])")),
            "eval_type_error: glob.match: operand 2 must be array of runes but got array containing string");
  EXPECT_EQ(e("*", J(R"([""])")),
            "eval_type_error: glob.match: operand 2 must be array of runes but got array containing string");
  EXPECT_EQ(error_of("glob.match", {Value::integer(1), Value::null(), S("x")}),
            "eval_type_error: glob.match: operand 1 must be string but got number");
  EXPECT_EQ(error_of("glob.match", {S("*"), Value::null(), Value::integer(1)}),
            "eval_type_error: glob.match: operand 3 must be string but got number");
}

TEST(Glob, QuoteMeta) {
  EXPECT_EQ(call("glob.quote_meta", {S("*.github.com")}), S("\\*.github.com"));
  EXPECT_EQ(call("glob.quote_meta", {S("[a]{b}?\\,!-")}), S("\\[a\\]\\{b\\}\\?\\\\,!-"));
  EXPECT_EQ(call("glob.quote_meta", {S("")}), S(""));
  // A quoted pattern matches itself.
  EXPECT_EQ(call("glob.match", {call("glob.quote_meta", {S("a*[b]{c}?")}), Value::null(), S("a*[b]{c}?")}),
            Value::boolean(true));
}

TEST(Regex, LargeInputs) {
  std::string big(1 << 20, 'a');
  EXPECT_EQ(call("regex.match", {S("^a+$"), S(big)}), Value::boolean(true));
  EXPECT_EQ(call("regex.match", {S("(a|aa)*b"), S(big)}), Value::boolean(false));  // linear time, no backtracking
  EXPECT_EQ(call("regex.find_n", {S("a"), S(big), Value::integer(-1)}).size(), big.size());
  EXPECT_EQ(call("regex.replace", {S(big), S("a"), S("bb")}).size(), 2 * big.size());
  EXPECT_EQ(call("glob.match", {S("*a*a*a*a*a*a*b"), Value::null(), S(big)}), Value::boolean(false));
  std::string deep(5000, '(');
  EXPECT_NE(error_of("regex.match", {S(deep), S("")}), "");
}

TEST(Regex, CacheEvictionAndThreads) {
  // More distinct patterns than the cache holds, from several threads.
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 700; ++i) {
        std::string p = "^x" + std::to_string(t * 1000 + i) + "$";
        std::string s = "x" + std::to_string(t * 1000 + i);
        if (call("regex.match", {S(p), S(s)}) != Value::boolean(true)) ++wrong;
        std::string prefix = "x" + std::to_string(i);
        if (call("glob.match", {S(prefix + "*"), Value::null(), S(s)}) != Value::boolean(s.rfind(prefix, 0) == 0)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// The fixed-width fast path (simple_regex.cc) must agree with RE2 on everything it takes:
// each pattern is also matched wrapped in `(?:...)`, which the fast path refuses.
TEST(Regex, SimplePatternsAgreeWithRe2) {
  const std::vector<std::string> patterns = {
      "^/run/kata-containers/shared/containers/0730592335b050edf5109d389763447a6771aaced62161efe5ce466b278cab87-"
      "[a-z0-9]{16}-hosts$",
      "^[a-z0-9]{64}$", "[a-z0-9]{4}", "abc", "^abc", "abc$", "^$", "^", "$", "", "a\\.b", "a\\$", "a\\\\$",
      "^[\\.\\-_]{2}$", "[a-]x", "[-a]x", "[a^]", "x[0-9]{0}y", "^proc$", "^/etc/hosts$", "cgroup", "[A-Z0-9_]{3}=",
      "^a b$", "[ab][cd]{2}", "\\(x\\)", "\\[", "-", "=", "^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}$",
      // `.`: one rune but a newline; non-ASCII text goes to RE2
      ".", "^.$", "a.c", "^a.c$", "^..$", "b.$", "^[a-z]{2}-resolv.conf$", "s.c"};
  const std::vector<std::string> texts = {
      "/run/kata-containers/shared/containers/0730592335b050edf5109d389763447a6771aaced62161efe5ce466b278cab87-"
      "5ac80405797363af-hosts",
      "/run/kata-containers/shared/containers/0730592335b050edf5109d389763447a6771aaced62161efe5ce466b278cab87-"
      "5ac80405797363af-hosts\n",
      "/run/kata-containers/shared/containers/0730592335b050edf5109d389763447a6771aaced62161efe5ce466b278cab87-"
      "5AC80405797363af-hosts",
      std::string(64, 'a'), std::string(63, 'a'), std::string(65, 'a'), "", "abc", "xabcx", "a.b", "axb", "a$",
      "a\\", "._", "x", "-x", "ax", "^", "xy", "proc", " proc", "/etc/hosts", "cgroup2", "KUBERNETES_PORT=1",
      "a b", "acd", "bdc", "(x)", "[", "=", "\xc3\xa9abc", "ab\xff" "c", "ab\xe9", "0a1B:ff", "0a1B:fff",
      "a\nc", "a\xc3\xa9" "c", "\xc3\xa9", "xy-resolv.conf", "xy-resolvXconf", "xy-resolv\nconf", "ab", "\n"};
  for (const auto& p : patterns) {
    for (const auto& t : texts) {
      Value fast = call("regex.match", {S(p), S(t)});
      Value re2 = call("regex.match", {S("(?:" + p + ")"), S(t)});
      EXPECT_EQ(fast, re2) << "pattern " << p << " text " << t;
    }
  }
}

TEST(Regex, PatternsOutsideTheFastPathStillWork) {
  EXPECT_EQ(call("regex.match", {S("^[a-z]+$"), S("abc")}), Value::true_value());
  EXPECT_EQ(call("regex.match", {S("^a.c$"), S("a\xc3\xa9" "c")}), Value::true_value());  // one rune
  EXPECT_EQ(call("regex.match", {S("[^a]"), S("a")}), Value::false_value());
  EXPECT_EQ(call("regex.match", {S("(?i)ABC"), S("abc")}), Value::true_value());
  EXPECT_NE(error_of("regex.match", {S("[a-z]{1001}"), S("a")}), "");
  EXPECT_NE(error_of("regex.match", {S("[z-a]"), S("a")}), "");
  EXPECT_NE(error_of("regex.match", {S("a\\"), S("a")}), "");
}
