// String builtins. Expected values come from OPA's conformance cases
// (strings, sprintf, replacen, trim*, rendertemplate, casts) and from Go
// itself: OPA implements these with Go's strings/strconv/fmt/text/template,
// and the sprintf table at the end was produced by fmt.Sprintf with the
// operand types OPA passes (int, *big.Int, float64, string).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

Value S(std::string_view s) { return Value::string(s); }
Value N(std::string_view text) { return Value::number_from_text(text); }
Value I(int64_t i) { return Value::integer(i); }
Value J(std::string_view json) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(json, v, err)) << err;
  return v;
}
Value SetOf(std::vector<Value> xs) { return Value::set(std::move(xs)); }
Value Strs(std::initializer_list<std::string_view> xs) {
  ValueVec out;
  for (auto x : xs) out.push_back(S(x));
  return Value::array(std::move(out));
}

class StringsTest : public ::testing::Test {
 protected:
  StringsTest() { register_strings(reg_); }

  Value call(std::string_view name, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(name);
    if (!b) {
      ADD_FAILURE() << "not registered: " << name;
      return Value();
    }
    EXPECT_EQ(static_cast<size_t>(b->arity), args.size()) << name;
    return b->fn(ctx_, args);
  }
  std::string str(std::string_view name, std::vector<Value> args) {
    Value v = call(name, std::move(args));
    EXPECT_TRUE(v.is_string()) << name << " returned " << to_rego(v);
    return v.str();
  }
  // "code: message" of the BuiltinError thrown, or "no error".
  std::string error(std::string_view name, std::vector<Value> args) {
    try {
      Value v = call(name, std::move(args));
      return "no error: " + to_rego(v);
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
  }
  std::string sprintf(std::string_view format, std::vector<Value> args) {
    return str("sprintf", {S(format), Value::array(std::move(args))});
  }

  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

TEST_F(StringsTest, RegistersOpaNamesAndArities) {
  const std::vector<std::pair<const char*, int>> want = {
      {"concat", 2},
      {"contains", 2},
      {"endswith", 2},
      {"format_int", 2},
      {"indexof", 2},
      {"indexof_n", 2},
      {"lower", 1},
      {"replace", 3},
      {"split", 2},
      {"sprintf", 2},
      {"startswith", 2},
      {"substring", 3},
      {"trim", 2},
      {"trim_left", 2},
      {"trim_prefix", 2},
      {"trim_right", 2},
      {"trim_space", 1},
      {"trim_suffix", 2},
      {"upper", 1},
      {"strings.any_prefix_match", 2},
      {"strings.any_suffix_match", 2},
      {"strings.count", 2},
      {"strings.render_template", 2},
      {"strings.replace_n", 2},
      {"strings.reverse", 1},
      {"strings.split_n", 3},
      {"internal.template_string", 1},
      {"to_number", 1},
  };
  for (const auto& [name, arity] : want) {
    const BuiltinInfo* b = reg_.find(name);
    ASSERT_NE(b, nullptr) << name;
    EXPECT_EQ(b->arity, arity) << name;
    EXPECT_TRUE(b->deterministic) << name;
  }
  EXPECT_EQ(reg_.all().size(), want.size());
}

TEST_F(StringsTest, Concat) {
  EXPECT_EQ(str("concat", {S("/"), Strs({"", "foo", "bar", "0", "baz"})}), "/foo/bar/0/baz");
  EXPECT_EQ(str("concat", {S(","), SetOf({S("1"), S("2"), S("3")})}), "1,2,3");
  EXPECT_EQ(str("concat", {S(", "), Strs({})}), "");
  EXPECT_EQ(str("concat", {S(", "), Value::empty_set()}), "");
  EXPECT_EQ(str("concat", {S(", "), Strs({"only"})}), "only");
  EXPECT_EQ(str("concat", {S(""), Strs({"f", "o", "o"})}), "foo");
  EXPECT_EQ(str("concat", {S("—"), Strs({"a", "b"})}), "a—b");
  EXPECT_EQ(error("concat", {S("/"), S("ab")}),
            "eval_type_error: concat: operand 2 must be one of {set, array} but got string");
  EXPECT_EQ(error("concat", {I(1), Strs({})}), "eval_type_error: concat: operand 1 must be string but got number");
  EXPECT_EQ(error("concat", {S("/"), J(R"(["a", 1])")}),
            "eval_type_error: concat: operand 2 must be array of strings but got array containing number");
  EXPECT_EQ(error("concat", {S("/"), J("[null]")}),
            "eval_type_error: concat: operand 2 must be array of strings but got array containing null");
  EXPECT_EQ(error("concat", {S("/"), SetOf({S("a"), J("{}")})}),
            "eval_type_error: concat: operand 2 must be set of strings but got set containing object");
}

TEST_F(StringsTest, ConcatSharesASingleElement) {
  Value elem = S("shared string");
  Value out = call("concat", {S(","), Value::array({elem})});
  EXPECT_EQ(out.node(), elem.node());
}

TEST_F(StringsTest, ContainsStartsWithEndsWith) {
  EXPECT_TRUE(call("contains", {S("abcdefgh"), S("defg")}).is_true());
  EXPECT_TRUE(call("contains", {S("abc"), S("")}).is_true());
  EXPECT_TRUE(call("contains", {S("abc"), S("abcd")}).is_false());
  EXPECT_TRUE(call("startswith", {S("abcdefgh"), S("abcd")}).is_true());
  EXPECT_TRUE(call("startswith", {S("abc"), S("bc")}).is_false());
  EXPECT_TRUE(call("startswith", {S(""), S("")}).is_true());
  EXPECT_TRUE(call("endswith", {S("abcdefgh"), S("fgh")}).is_true());
  EXPECT_TRUE(call("endswith", {S("fgh"), S("efgh")}).is_false());
  EXPECT_TRUE(call("contains", {S("a\xff"
                                  "b"),
                                S("\xff")})
                  .is_true());  // bytes, like Go
  EXPECT_EQ(error("contains", {S("a"), I(1)}), "eval_type_error: contains: operand 2 must be string but got number");
  EXPECT_EQ(error("startswith", {J("[]"), S("a")}),
            "eval_type_error: startswith: operand 1 must be string but got array");
  EXPECT_EQ(error("endswith", {S("a"), Value::null()}),
            "eval_type_error: endswith: operand 2 must be string but got null");
}

TEST_F(StringsTest, Count) {
  EXPECT_TRUE(call("strings.count", {S("cheese"), S("e")}) == I(3));
  EXPECT_TRUE(call("strings.count", {S("hello hello hello world"), S("hello")}) == I(3));
  EXPECT_TRUE(call("strings.count", {S("dummy"), S("x")}) == I(0));
  EXPECT_TRUE(call("strings.count", {S("dummy"), S("")}) == I(6));
  EXPECT_TRUE(call("strings.count", {S(""), S("")}) == I(1));
  EXPECT_TRUE(call("strings.count", {S(""), S("x")}) == I(0));
  EXPECT_TRUE(call("strings.count", {S("11111"), S("11")}) == I(2));
  EXPECT_TRUE(call("strings.count", {S("11111"), S("11111")}) == I(1));
  EXPECT_TRUE(call("strings.count", {S("aéb"), S("")}) == I(4));  // code points + 1
  EXPECT_TRUE(call("strings.count", {S("\xff\xfe"), S("")}) == I(3));
}

TEST_F(StringsTest, IndexOf) {
  EXPECT_TRUE(call("indexof", {S("μx"), S("x")}) == I(1));
  EXPECT_TRUE(call("indexof", {S("μ"), S("μμ")}) == I(-1));
  EXPECT_TRUE(call("indexof", {S("skön var våren"), S("vår")}) == I(9));
  EXPECT_TRUE(call("indexof", {S("🍧🍨🧁🍰🍮"), S("🍮")}) == I(4));
  EXPECT_TRUE(call("indexof", {S("🍧🍨🧁🍰🍮"), S("🍧🍨🧁🍰🍮")}) == I(0));
  EXPECT_TRUE(call("indexof", {S("abcabc"), S("ca")}) == I(2));
  EXPECT_TRUE(call("indexof", {S("abc"), S("abcd")}) == I(-1));
  EXPECT_TRUE(call("indexof", {S("\xff"
                                 "ab"),
                               S("ab")}) == I(1));  // an invalid byte is one code point
  EXPECT_TRUE(call("indexof", {S("a\xff"
                                 "b"),
                               S("\xef\xbf\xbd")}) == I(1));  // ... which is U+FFFD
  EXPECT_EQ(error("indexof", {S("abc"), S("")}), "eval_builtin_error: indexof: empty search character");
  EXPECT_EQ(error("indexof", {I(1), S("")}), "eval_type_error: indexof: operand 1 must be string but got number");
}

TEST_F(StringsTest, IndexOfN) {
  EXPECT_TRUE(call("indexof_n", {S("dogcat"), S("cat")}) == J("[3]"));
  EXPECT_TRUE(call("indexof_n", {S("dogcatdogcat"), S("cat")}) == J("[3, 9]"));
  EXPECT_TRUE(call("indexof_n", {S("dogcat"), S("rabbit")}) == J("[]"));
  EXPECT_TRUE(call("indexof_n", {S("😇😀😇😀😇😀"), S("😀")}) == J("[1, 3, 5]"));
  EXPECT_TRUE(call("indexof_n", {S("😇😀😇😀😇😀"), S("😂")}) == J("[]"));
  EXPECT_TRUE(call("indexof_n", {S("aaaa"), S("aa")}) == J("[0, 1, 2]"));  // overlapping
  EXPECT_EQ(error("indexof_n", {S("abc"), S("")}), "eval_builtin_error: indexof_n: empty search character");
}

TEST_F(StringsTest, Substring) {
  EXPECT_EQ(str("substring", {S("abcdefgh"), I(2), I(3)}), "cde");
  EXPECT_EQ(str("substring", {S("abcdefgh"), I(2), I(-1)}), "cdefgh");
  EXPECT_EQ(str("substring", {S("aåäö"), I(2), I(-1)}), "äö");
  EXPECT_EQ(str("substring", {S("abcdefgh"), I(2), I(10000)}), "cdefgh");
  EXPECT_EQ(str("substring", {S("abcdefghåäö"), I(2), I(10000)}), "cdefghåäö");
  EXPECT_EQ(str("substring", {S("aaa"), I(4), I(-1)}), "");
  EXPECT_EQ(str("substring", {S("åäö"), I(4), I(-1)}), "");
  EXPECT_EQ(str("substring", {S("aaa"), I(3), I(1)}), "");
  EXPECT_EQ(str("substring", {S(""), I(0), I(5)}), "");
  EXPECT_EQ(str("substring", {S("abc"), I(1), I(0)}), "");
  EXPECT_EQ(str("substring", {S("abc"), I(0), N("9223372036854775807")}), "abc");
  EXPECT_EQ(str("substring", {S("a\xff"
                                "bc"),
                              I(1), I(2)}),
            "\xef\xbf\xbd"
            "b");  // re-encoded as Go does
  EXPECT_EQ(str("substring", {S("a\xff"
                                "bc"),
                              I(0), I(10)}),
            "a\xff"
            "bc");  // whole string: unchanged
  Value s = S("unchanged");
  EXPECT_EQ(call("substring", {s, I(0), I(100)}).node(), s.node());
  EXPECT_EQ(error("substring", {S("abc"), I(-1), I(1)}), "eval_builtin_error: substring: negative offset");
  EXPECT_EQ(error("substring", {S("abc"), N("1.5"), I(1)}),
            "eval_type_error: substring: operand 2 must be integer number but got floating-point number");
  EXPECT_EQ(error("substring", {S("abc"), I(1), N("123456789123456789123")}),
            "eval_type_error: substring: operand 3 must be integer number but got floating-point number");
  EXPECT_EQ(error("substring", {S("abc"), S("1"), I(1)}),
            "eval_type_error: substring: operand 2 must be number but got string");
}

TEST_F(StringsTest, LowerUpper) {
  EXPECT_EQ(str("lower", {S("AbCdEf")}), "abcdef");
  EXPECT_EQ(str("upper", {S("AbCdEf")}), "ABCDEF");
  EXPECT_EQ(str("lower", {S("ÅÄÖ ΣΑΣ İSTANBUL")}), "åäö σασ istanbul");
  EXPECT_EQ(str("upper", {S("straße ǆ ﬁ ÿ")}), "STRAßE Ǆ ﬁ Ÿ");  // Go maps code points one to one
  EXPECT_EQ(str("lower", {S("\xff"
                            "AB\xc3\x87")}),
            "\xef\xbf\xbd"
            "abç");  // invalid bytes become U+FFFD
  EXPECT_EQ(str("upper", {S("")}), "");
  Value same = S("already lower ü");
  EXPECT_EQ(call("lower", {same}).node(), same.node());
  EXPECT_EQ(error("upper", {I(1)}), "eval_type_error: upper: operand 1 must be string but got number");
}

TEST_F(StringsTest, Split) {
  EXPECT_TRUE(call("split", {S("foo"), S(".")}) == Strs({"foo"}));
  EXPECT_TRUE(call("split", {S("foo.bar.baz"), S(".")}) == Strs({"foo", "bar", "baz"}));
  EXPECT_TRUE(call("split", {S(""), S(".")}) == Strs({""}));
  EXPECT_TRUE(call("split", {S("test"), S("")}) == Strs({"t", "e", "s", "t"}));
  EXPECT_TRUE(call("split", {S(""), S("")}) == Strs({}));
  EXPECT_TRUE(call("split", {S(".a.."), S(".")}) == Strs({"", "a", "", ""}));
  EXPECT_TRUE(call("split", {S("a::b"), S("::")}) == Strs({"a", "b"}));
  EXPECT_TRUE(call("split", {S("aé😀"), S("")}) == Strs({"a", "é", "😀"}));
  EXPECT_TRUE(call("split", {S("a\xff"
                               "b"),
                             S("")}) == Strs({"a", "\xff", "b"}));
  EXPECT_EQ(error("split", {S("a"), I(1)}), "eval_type_error: split: operand 2 must be string but got number");
}

TEST_F(StringsTest, SplitN) {
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(2)}) == Strs({"a", "b"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(1)}) == Strs({"a"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(4)}) == Strs({"a", "b", "c", "d"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(10)}) == Strs({"a", "b", "c", "d"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(0)}) == Strs({}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(-2)}) == Strs({"c", "d"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(-1)}) == Strs({"d"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(-4)}) == Strs({"a", "b", "c", "d"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b.c.d"), S("."), I(-10)}) == Strs({"a", "b", "c", "d"}));
  EXPECT_TRUE(call("strings.split_n", {S("abc"), S("."), I(2)}) == Strs({"abc"}));
  EXPECT_TRUE(call("strings.split_n", {S("abc"), S("."), I(-2)}) == Strs({"abc"}));
  EXPECT_TRUE(call("strings.split_n", {S(""), S("."), I(2)}) == Strs({""}));
  EXPECT_TRUE(call("strings.split_n", {S("abc"), S(""), I(2)}) == Strs({"a", "b"}));
  EXPECT_TRUE(call("strings.split_n", {S("abc"), S(""), I(-2)}) == Strs({"b", "c"}));
  EXPECT_TRUE(call("strings.split_n", {S("alice;alice@example.com;admin;active"), S(";"), I(2)}) ==
              Strs({"alice", "alice@example.com"}));
  EXPECT_TRUE(call("strings.split_n", {S("admin;active;alice;alice@example.com"), S(";"), I(-2)}) ==
              Strs({"alice", "alice@example.com"}));
  EXPECT_TRUE(call("strings.split_n", {S("a.b"), S("."), N("-9223372036854775808")}) == Strs({"a", "b"}));
  EXPECT_EQ(error("strings.split_n", {S("a.b.c"), S("."), N("1.5")}),
            "eval_type_error: strings.split_n: operand 3 must be integer number but got floating-point number");
}

TEST_F(StringsTest, Replace) {
  EXPECT_EQ(str("replace", {S("foo.bar"), S("."), S(",")}), "foo,bar");
  EXPECT_EQ(str("replace", {S("foo.bar.baz"), S("."), S(",")}), "foo,bar,baz");
  EXPECT_EQ(str("replace", {S("foo...bar"), S(".."), S(",,")}), "foo,,.bar");
  EXPECT_EQ(str("replace", {S("aaa"), S("a"), S("")}), "");
  EXPECT_EQ(str("replace", {S("abc"), S("abc"), S("xyzw")}), "xyzw");
  // An empty old string inserts at every byte position (Go's strings.Replacer).
  EXPECT_EQ(str("replace", {S("ab"), S(""), S("-")}), "-a-b-");
  EXPECT_EQ(str("replace", {S("aé"), S(""), S("-")}), "-a-\xc3-\xa9-");
  EXPECT_EQ(str("replace", {S(""), S(""), S("-")}), "-");
  Value s = S("no match here");
  EXPECT_EQ(call("replace", {s, S("zz"), S("y")}).node(), s.node());
  EXPECT_EQ(error("replace", {S("a"), S("b"), I(1)}),
            "eval_type_error: replace: operand 3 must be string but got number");
}

TEST_F(StringsTest, ReplaceN) {
  auto rn = [&](std::string_view patterns, std::string_view s) {
    return str("strings.replace_n", {J(patterns), S(s)});
  };
  EXPECT_EQ(rn(R"({"info": "X", "anotherinfo": "Y"})", "anotherinfo"), "Y");
  EXPECT_EQ(rn(R"({"a": "YY", "bba": "bX"})", "bbab"), "bXb");
  EXPECT_EQ(rn(R"({"ab": "b", "b": "Y"})", "baaabbbba"), "YaabYYYa");
  EXPECT_EQ(rn(R"({"a": "b", "b": "a"})", "abba"), "baab");
  EXPECT_EQ(rn(R"({"a": "Xa", "ab": "X", "ba": "bYa", "aaa": "X"})", "aaaaab"), "XaXaXaXaXab");
  EXPECT_EQ(rn(R"({"aab": "Y", "a": "", "b": ""})", "bbaab"), "");
  EXPECT_EQ(rn(R"({"": "X"})", ""), "X");
  EXPECT_EQ(rn(R"({"": "X"})", "ab"), "XaXbX");
  EXPECT_EQ(rn(R"({"": "X", "a": "Y"})", "ab"), "XYXbX");
  EXPECT_EQ(rn(R"({"": "-", "é": "e"})", "aéb"), "-a-e-b-");
  EXPECT_EQ(rn(R"({"a": "1", "aa": "2"})", "aaa"), "111");  // the key sorting first wins
  EXPECT_EQ(rn("{}", "abc"), "abc");
  Value bad_key = Value::object({{I(2), S("x")}});
  EXPECT_EQ(error("strings.replace_n", {bad_key, S("foo")}),
            "eval_type_error: strings.replace_n: operand 1 non-string key found in pattern object");
  EXPECT_EQ(error("strings.replace_n", {J(R"({"f": 100})"), S("foo")}),
            "eval_type_error: strings.replace_n: operand 1 non-string value found in pattern object");
  EXPECT_EQ(error("strings.replace_n", {J(R"({"foo": "baz"})"), I(100)}),
            "eval_type_error: strings.replace_n: operand 2 must be string but got number");
  EXPECT_EQ(error("strings.replace_n", {S("x"), S("foo")}),
            "eval_type_error: strings.replace_n: operand 1 must be object but got string");
}

TEST_F(StringsTest, Reverse) {
  EXPECT_EQ(str("strings.reverse", {S("abc")}), "cba");
  EXPECT_EQ(str("strings.reverse", {S("")}), "");
  EXPECT_EQ(str("strings.reverse", {S("aé😀b")}), "b😀éa");
  EXPECT_EQ(error("strings.reverse", {I(1)}),
            "eval_type_error: strings.reverse: operand 1 must be string but got number");
}

TEST_F(StringsTest, Trim) {
  EXPECT_EQ(str("trim", {S(""), S(".")}), "");
  EXPECT_EQ(str("trim", {S("...foo.bar"), S(".")}), "foo.bar");
  EXPECT_EQ(str("trim", {S("...foo.bar..."), S(".")}), "foo.bar");
  EXPECT_EQ(str("trim", {S("...foo.bar..."), S(".o")}), "foo.bar");
  EXPECT_EQ(str("trim", {S("¡¡¡foo, bar!!!"), S("i")}), "¡¡¡foo, bar!!!");
  EXPECT_EQ(str("trim", {S("¡¡¡foo, bar!!!"), S("!¡")}), "foo, bar");
  EXPECT_EQ(str("trim", {S("  x "), S("")}), "  x ");
  EXPECT_EQ(str("trim", {S("aaa"), S("a")}), "");
  // Invalid bytes decode as U+FFFD on both sides, as in Go.
  EXPECT_EQ(str("trim", {S("\xff¡¡x¡\xff"), S("\xff¡")}), "x");
  EXPECT_EQ(str("trim", {S("\xff¡¡x¡\xff"), S("¡")}), "\xff¡¡x¡\xff");
  EXPECT_EQ(str("trim", {S("\xff¡x\xff"), S("\xef\xbf\xbd")}), "¡x");
  EXPECT_EQ(str("trim_left", {S("!!!foo, bar¡¡¡"), S("¡")}), "!!!foo, bar¡¡¡");
  EXPECT_EQ(str("trim_left", {S("aabcaa"), S("ab")}), "caa");
  EXPECT_EQ(str("trim_right", {S("aabcaa"), S("ab")}), "aabc");
  EXPECT_EQ(str("trim_right", {S("x¡¡"), S("¡")}), "x");
  EXPECT_EQ(str("trim_prefix", {S("¡¡¡foo, bar!!!"), S("¡¡¡foo")}), ", bar!!!");
  EXPECT_EQ(str("trim_prefix", {S("foo"), S("foobar")}), "foo");
  EXPECT_EQ(str("trim_suffix", {S("¡¡¡foo, bar!!!"), S(", bar!!!")}), "¡¡¡foo");
  EXPECT_EQ(str("trim_suffix", {S("¡¡¡foo, bar!!!"), S(", foo!!!")}), "¡¡¡foo, bar!!!");
  EXPECT_EQ(str("trim_space", {S("foo, bar")}), "foo, bar");
  EXPECT_EQ(str("trim_space", {S("\t\n x y \v\f\r")}), "x y");
  EXPECT_EQ(str("trim_space", {S(" \u3000\u0085x\u00a0\u2009")}), "x");  // Unicode White_Space
  EXPECT_EQ(str("trim_space", {S("\xff ")}), "\xff");
  EXPECT_EQ(str("trim_space", {S("   ")}), "");
  Value s = S("untouched");
  EXPECT_EQ(call("trim", {s, S("xyz")}).node(), s.node());
  EXPECT_EQ(call("trim_space", {s}).node(), s.node());
  EXPECT_EQ(error("trim", {S("a"), I(1)}), "eval_type_error: trim: operand 2 must be string but got number");
  EXPECT_EQ(error("trim_space", {I(1)}), "eval_type_error: trim_space: operand 1 must be string but got number");
}

TEST_F(StringsTest, AnyPrefixMatch) {
  auto m = [&](Value a, Value b) { return call("strings.any_prefix_match", {std::move(a), std::move(b)}); };
  const Value strs = Strs({"a/b/c", "a/b/d", "e/f/g"});
  EXPECT_TRUE(m(strs, Strs({"a/", "d/"})).is_true());
  EXPECT_TRUE(m(strs, Strs({"f/", "d/"})).is_false());
  EXPECT_TRUE(m(strs, Strs({"a/b/", "a/"})).is_true());
  EXPECT_TRUE(m(strs, Strs({"d/", "e/f/g"})).is_true());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"aa/b", "e/f"})).is_true());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"a/b", "e/f"})).is_false());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"b/cc"})).is_false());
  EXPECT_TRUE(m(Strs({}), Strs({"a/b", "e/f"})).is_false());
  EXPECT_TRUE(m(strs, Strs({})).is_false());
  EXPECT_TRUE(m(Strs({}), Strs({})).is_false());
  EXPECT_TRUE(m(strs, S("a/")).is_true());
  EXPECT_TRUE(m(strs, S("d/")).is_false());
  EXPECT_TRUE(m(S("a/b/c"), Strs({"a/", "d/"})).is_true());
  EXPECT_TRUE(m(S("a/b/c"), Strs({"g/", "d/"})).is_false());
  EXPECT_TRUE(m(SetOf({S("a/b/c"), S("a/b/d"), S("e/f/g")}), SetOf({S("a/"), S("d/")})).is_true());
  EXPECT_TRUE(m(SetOf({S("a/b/c"), S("a/b/d"), S("e/f/g")}), SetOf({S("f/"), S("d/")})).is_false());
  EXPECT_TRUE(m(Strs({"a/b/c", "", "e/f/g"}), Strs({"z/"})).is_false());
  EXPECT_TRUE(m(Strs({"a/b/c", "", "e/f/g"}), Strs({"z/", "e/f"})).is_true());
  EXPECT_TRUE(m(strs, Strs({"z/", ""})).is_true());
  EXPECT_TRUE(m(Strs({"", "a/b/c"}), Strs({"z/", ""})).is_true());
  EXPECT_EQ(error("strings.any_prefix_match", {J("[1, 2, 3]"), Strs({"f/"})}),
            "eval_type_error: strings.any_prefix_match: operand 1 must be array of strings but got array containing "
            "number");
  EXPECT_EQ(error("strings.any_prefix_match", {I(1), Strs({"f/"})}),
            "eval_type_error: strings.any_prefix_match: operand 1 must be one of {string, set, array} but got number");
  EXPECT_EQ(error("strings.any_prefix_match", {strs, J("[1, 2]")}),
            "eval_type_error: strings.any_prefix_match: operand 2 must be array of strings but got array containing "
            "number");
  EXPECT_EQ(error("strings.any_prefix_match", {strs, I(1)}),
            "eval_type_error: strings.any_prefix_match: operand 2 must be one of {string, set, array} but got number");
  EXPECT_EQ(
      error("strings.any_prefix_match", {SetOf({I(1)}), I(1)}),
      "eval_type_error: strings.any_prefix_match: operand 1 must be set of strings but got set containing number");
}

TEST_F(StringsTest, AnySuffixMatch) {
  auto m = [&](Value a, Value b) { return call("strings.any_suffix_match", {std::move(a), std::move(b)}); };
  const Value strs = Strs({"a/b/c", "a/b/d", "e/f/g"});
  EXPECT_TRUE(m(strs, Strs({"/c", "/a"})).is_true());
  EXPECT_TRUE(m(strs, Strs({"/f", "/a"})).is_false());
  EXPECT_TRUE(m(strs, Strs({"/b/c", "/d"})).is_true());
  EXPECT_TRUE(m(strs, Strs({"/a", "e/f/g"})).is_true());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"b/cc", "f/g"})).is_true());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"b/c", "f/g"})).is_false());
  EXPECT_TRUE(m(Strs({"aa/bb/cc", "aa/bb/dd", "ee/ff/gg"}), Strs({"aa/b"})).is_false());
  EXPECT_TRUE(m(Strs({}), Strs({"a/b"})).is_false());
  EXPECT_TRUE(m(strs, Strs({})).is_false());
  EXPECT_TRUE(m(strs, S("/c")).is_true());
  EXPECT_TRUE(m(strs, S("/h")).is_false());
  EXPECT_TRUE(m(S("a/b/c"), Strs({"/c", "/a"})).is_true());
  EXPECT_TRUE(m(S("a/b/g"), Strs({"/c", "/a"})).is_false());
  EXPECT_TRUE(m(SetOf({S("a/b/c"), S("e/f/g")}), SetOf({S("/c"), S("/a")})).is_true());
  EXPECT_TRUE(m(S("héllo"), S("llo")).is_true());
  EXPECT_EQ(error("strings.any_suffix_match", {J("[1, 2, 3]"), Strs({"f/"})}),
            "eval_type_error: strings.any_suffix_match: operand 1 must be array of strings but got array containing "
            "number");
  EXPECT_EQ(error("strings.any_suffix_match", {I(1), Strs({"f/"})}),
            "eval_type_error: strings.any_suffix_match: operand 1 must be one of {string, set, array} but got number");
  EXPECT_EQ(error("strings.any_suffix_match", {strs, J("[1, 2]")}),
            "eval_type_error: strings.any_suffix_match: operand 2 must be array of strings but got array containing "
            "number");
  EXPECT_EQ(error("strings.any_suffix_match", {strs, I(1)}),
            "eval_type_error: strings.any_suffix_match: operand 2 must be one of {string, set, array} but got number");
}

TEST_F(StringsTest, FormatInt) {
  EXPECT_EQ(str("format_int", {N("15.5"), I(16)}), "f");
  EXPECT_EQ(str("format_int", {N("3.1"), I(10)}), "3");
  EXPECT_EQ(str("format_int", {N("4.1"), I(10)}), "4");
  EXPECT_EQ(str("format_int", {I(255), I(2)}), "11111111");
  EXPECT_EQ(str("format_int", {I(8), I(8)}), "10");
  EXPECT_EQ(str("format_int", {I(-255), I(16)}), "-ff");
  EXPECT_EQ(str("format_int", {N("-15.9"), I(16)}), "-f");  // truncated toward zero
  EXPECT_EQ(str("format_int", {N("-0.5"), I(10)}), "0");
  EXPECT_EQ(str("format_int", {I(0), I(2)}), "0");
  EXPECT_EQ(str("format_int", {N("-9223372036854775808"), I(10)}), "-9223372036854775808");
  // Beyond 64 bits OPA goes through a 64-bit-mantissa big.Float first.
  EXPECT_EQ(str("format_int", {N("123456789123456789123"), I(10)}), "123456789123456789120");
  EXPECT_EQ(str("format_int", {N("18446744073709551615"), I(16)}), "ffffffffffffffff");
  EXPECT_EQ(str("format_int", {N("36893488147419103231"), I(16)}), "20000000000000000");
  EXPECT_EQ(str("format_int", {N("1e30"), I(10)}), "1000000000000000000024696061952");
  EXPECT_EQ(str("format_int", {N("1208925819614629174706175"), I(10)}), "1208925819614629174706176");
  EXPECT_EQ(str("format_int", {N("9007199254740993.7"), I(16)}), "20000000000001");
  EXPECT_EQ(str("format_int", {N("0.99999999999999999999999"), I(10)}), "1");
  EXPECT_EQ(error("format_int", {I(1), I(3)}), "eval_type_error: format_int: operand 2 must be one of {2, 8, 10, 16}");
  EXPECT_EQ(error("format_int", {S("1"), I(10)}),
            "eval_type_error: format_int: operand 1 must be number but got string");
  EXPECT_EQ(error("format_int", {I(1), S("10")}),
            "eval_type_error: format_int: operand 2 must be number but got string");
}

TEST_F(StringsTest, ToNumber) {
  EXPECT_TRUE(call("to_number", {S("3")}) == I(3));
  // Around the integer fast path.
  EXPECT_TRUE(call("to_number", {S("0")}) == I(0));
  EXPECT_TRUE(call("to_number", {S("-5")}) == I(-5));
  EXPECT_TRUE(call("to_number", {S("-0")}) == I(0));
  EXPECT_TRUE(call("to_number", {S("007")}) == I(7));
  EXPECT_TRUE(call("to_number", {S("999999999999999999")}) == I(999999999999999999));
  EXPECT_TRUE(call("to_number", {S("-999999999999999999")}) == I(-999999999999999999));
  EXPECT_TRUE(call("to_number", {S("1234567890123456789")}) == N("1234567890123456789"));
  EXPECT_NE(error("to_number", {S("-")}).find("invalid syntax"), std::string::npos);
  EXPECT_NE(error("to_number", {S("1-")}).find("invalid syntax"), std::string::npos);
  EXPECT_TRUE(call("to_number", {S("-1.5")}) == N("-1.5"));
  EXPECT_TRUE(call("to_number", {S("1e3")}) == I(1000));
  EXPECT_TRUE(call("to_number", {S("+5")}) == I(5));
  EXPECT_TRUE(call("to_number", {S(".5")}) == N("0.5"));
  EXPECT_TRUE(call("to_number", {S("5.")}) == I(5));
  EXPECT_TRUE(call("to_number", {S("1_000")}) == I(1000));
  EXPECT_TRUE(call("to_number", {S("0x1p-2")}) == N("0.25"));  // Go hex floats
  EXPECT_TRUE(call("to_number", {S("123456789123456789123456789")}) == N("123456789123456789123456789"));
  EXPECT_TRUE(call("to_number", {S("0.1")}) == N("0.1"));  // exact, not the nearest double
  EXPECT_TRUE(call("to_number", {S("1e-400")}) == N("1e-400"));
  EXPECT_TRUE(call("to_number", {Value::null()}) == I(0));
  EXPECT_TRUE(call("to_number", {Value::boolean(true)}) == I(1));
  EXPECT_TRUE(call("to_number", {Value::boolean(false)}) == I(0));
  EXPECT_TRUE(call("to_number", {N("2.5")}) == N("2.5"));
  EXPECT_EQ(error("to_number", {S("broken")}),
            "eval_builtin_error: to_number: strconv.ParseFloat: parsing \"broken\": invalid syntax");
  for (const char* bad : {"", " 5", "5 ", "0x10", "1e", "1__0", "_1", "1_", "0b101", "--1", "1.2.3", "١"})
    EXPECT_NE(error("to_number", {S(bad)}).find("invalid syntax"), std::string::npos) << bad;
  EXPECT_EQ(error("to_number", {S("1e400")}),
            "eval_builtin_error: to_number: strconv.ParseFloat: parsing \"1e400\": value out of range");
  for (const char* special : {"inf", "-Inf", "+INFINITY", "NaN", "--nan"})
    EXPECT_EQ(error("to_number", {S(special)}),
              "eval_type_error: to_number: operand 1 must be valid number string but got string")
        << special;
  EXPECT_EQ(error("to_number", {J("[]")}),
            "eval_type_error: to_number: operand 1 must be one of {null, boolean, number, string} but got array");
  EXPECT_EQ(error("to_number", {S("a\nb")}),
            "eval_builtin_error: to_number: strconv.ParseFloat: parsing \"a\\nb\": invalid syntax");
}

TEST_F(StringsTest, TemplateString) {
  auto ts = [&](std::vector<Value> parts) { return str("internal.template_string", {Value::array(std::move(parts))}); };
  EXPECT_EQ(ts({}), "");
  EXPECT_EQ(ts({N("10")}), "10");
  EXPECT_EQ(ts({S("scope")}), "scope");
  EXPECT_EQ(ts({Value::empty_set()}), "<undefined>");
  EXPECT_EQ(ts({S("foo"), N("42"), Value::boolean(false), Value::null()}), "foo42falsenull");
  EXPECT_EQ(ts({SetOf({J("[]")}), S(" "), SetOf({J(R"(["a", "b"])")}), S(" "), SetOf({Value::empty_set()}), S(" "),
                SetOf({SetOf({S("c")})}), S(" "), SetOf({J("{}")}), S(" "), SetOf({J(R"({"d": "e"})")})}),
            R"([] ["a", "b"] set() {"c"} {} {"d": "e"})");
  EXPECT_EQ(ts({S("user "), SetOf({S("alice")}), S(" has "), SetOf({I(3)})}), "user alice has 3");
  EXPECT_EQ(error("internal.template_string", {Value::array({SetOf({Value::boolean(true), Value::boolean(false)})})}),
            "eval_conflict_error: template-strings must not produce multiple outputs");
}

TEST_F(StringsTest, RenderTemplateConformance) {
  auto rt = [&](std::string_view t, std::string_view vars) { return str("strings.render_template", {S(t), J(vars)}); };
  EXPECT_EQ(rt("{{.test}}", R"({"test": "hello world"})"), "hello world");
  EXPECT_EQ(rt("{{.test}}", R"({"test": 2023})"), "2023");
  EXPECT_EQ(rt("{{range $i, $name := .hellonames}}{{if $i}},{{end}}hello {{$name}}{{end}}",
               R"({"hellonames": ["rohan", "john doe"]})"),
            "hello rohan,hello john doe");
  EXPECT_EQ(rt("{{.testvarnotprovided}}", R"({"test": "hello world"})"), "<undefined>");
  EXPECT_EQ(rt("test {{.foo}} {{.bar}} {{.baz}}", R"({"baz": 1})"), "test <undefined> <undefined> 1");
}

TEST_F(StringsTest, RenderTemplateFeatures) {
  auto rt = [&](std::string_view t, std::string_view vars) { return str("strings.render_template", {S(t), J(vars)}); };
  const char* data = R"({"m": {"b": 2, "a": "x"}, "l": ["p", "q", "r"], "n": 12, "s": "x", "e": [], "nul": null})";
  // Expected output from Go's text/template with the same (JSON-decoded) data.
  EXPECT_EQ(rt("{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}|{{len .l}}|{{index .l 1}}|{{.n}}|"
               "{{if eq .s \"x\"}}yes{{else}}no{{end}}|{{.l}}|{{.m}}|{{print 1 2 \"a\" \"b\" 3}}|"
               "{{printf \"%05d-%s\" 42 .s}}|{{with .s}}[{{.}}]{{end}}|{{- \"  trim  \" -}}  |{{/* c */}}|"
               "{{and 1 0 2}}|{{or 0 \"\" \"z\"}}|{{not .e}}|{{range .e}}x{{else}}empty{{end}}|{{$x := 5}}{{$x}}|"
               "{{range $i, $e := .l}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 2}}{{break}}{{end}}{{$e}}{{end}}|"
               "{{(index .l 0)}}|{{\"a\" | printf \"%s-%s\" \"b\"}}|{{lt 1 2}} {{ge \"b\" \"a\"}}",
               data),
            "a=x;b=2;|3|q|12|yes|[p q r]|map[a:x b:2]|1 2ab3|00042-x|[x]|  trim  ||0|z|true|empty|5|p|p|b-a|true true");
  EXPECT_EQ(rt("{{.nul}}|{{.m.a}}|{{.m.zz}}|{{.zz.yy}}", data), "<undefined>|x|<undefined>|<undefined>");
  EXPECT_EQ(rt("{{if .s}}A{{else if .n}}B{{else}}C{{end}}{{if .e}}A{{else if .n}}B{{else}}C{{end}}", data), "AB");
  EXPECT_EQ(rt("{{with .zz}}A{{else}}B{{end}}{{range .m}}{{.}},{{end}}{{range 3}}{{.}}{{end}}", data), "Bx,2,012");
  EXPECT_EQ(rt("a  {{- 1 -}}  b {{- /* gone */ -}} c\n{{\"\\n\"}}", "{}"), "a1bc\n\n");
  EXPECT_EQ(rt("{{$v := 1}}{{if true}}{{$v = 2}}{{end}}{{$v}}", "{}"), "2");
  EXPECT_EQ(rt("{{printf \"%d %v %s\" .n .l .s}}", data), "%!d(json.Number=12) [p q r] x");  // numbers are json.Number
  EXPECT_EQ(rt("{{index .m \"a\"}} {{len .m}} {{len .s}}", data), "x 2 1");
  EXPECT_EQ(rt("", "{}"), "");
  EXPECT_EQ(rt("plain text", "{}"), "plain text");
  EXPECT_EQ(rt("{{.a.b}}", R"({"a": {"b": [1, {"c": null}]}})"), "[1 map[c:<nil>]]");
  EXPECT_EQ(rt("{{println \"a\" 1}}", "{}"), "a 1\n");
  EXPECT_EQ(rt("{{3.5}} {{0x10}} {{'a'}} {{-2}}", "{}"), "3.5 16 97 -2");
}

TEST_F(StringsTest, RenderTemplateErrors) {
  auto err = [&](std::string_view t, std::string_view vars) {
    return error("strings.render_template", {S(t), J(vars)});
  };
  const std::string prefix = "eval_builtin_error: strings.render_template: template: ";
  EXPECT_EQ(err("{{.a", "{}").rfind(prefix, 0), 0u);
  EXPECT_EQ(err("{{if .a}}x", "{}").rfind(prefix, 0), 0u);
  EXPECT_EQ(err("{{end}}", "{}").rfind(prefix, 0), 0u);
  EXPECT_NE(err("{{nosuchfunc 1}}", "{}").find("function \"nosuchfunc\" not defined"), std::string::npos);
  EXPECT_NE(err("{{.a.b}}", R"({"a": "str"})").find("can't evaluate field b"), std::string::npos);
  EXPECT_NE(err("{{eq .n 1}}", R"({"n": 1})").find("incompatible types for comparison"), std::string::npos);
  EXPECT_NE(err("{{$undefined}}", "{}").find("undefined variable"), std::string::npos);
  EXPECT_NE(err("{{index .l 5}}", R"({"l": [1]})").find("index out of range"), std::string::npos);
  EXPECT_EQ(error("strings.render_template", {S("x"), S("y")}),
            "eval_type_error: strings.render_template: operand 2 must be object but got string");
  EXPECT_EQ(error("strings.render_template", {I(1), J("{}")}),
            "eval_type_error: strings.render_template: operand 1 must be string but got number");
}

// --- sprintf ------------------------------------------------------------------

TEST_F(StringsTest, SprintfConformance) {
  EXPECT_EQ(sprintf("hi %s", {S("there")}), "hi there");
  EXPECT_EQ(sprintf("hi %02X.%02X", {I(127), I(1)}), "hi 7F.01");
  EXPECT_EQ(sprintf("hi %.2f", {N("3.1415")}), "hi 3.14");
  EXPECT_EQ(sprintf("hi %s", {Value::boolean(true)}), "hi true");
  EXPECT_EQ(sprintf("hi %v", {J(R"(["there", 5, 3.14])")}), R"(hi ["there", 5, 3.14])");
  EXPECT_EQ(sprintf("%s", {N("123456789123456789123")}), "123456789123456789123");
  EXPECT_EQ(sprintf("%s", {N("1208925819614629174706175")}), "1208925819614629174706175");
}

TEST_F(StringsTest, SprintfOperandConversion) {
  // Composite values print in Rego syntax; strings inside them are quoted.
  EXPECT_EQ(sprintf("%v", {J(R"({"a": [1, "x"], "b": null})")}), R"({"a": [1, "x"], "b": null})");
  EXPECT_EQ(sprintf("%v|%v", {SetOf({I(2), I(1)}), Value::empty_set()}), "{1, 2}|set()");
  EXPECT_EQ(sprintf("%v %v %s", {Value::null(), Value::boolean(false), Value::null()}), "null false null");
  EXPECT_EQ(sprintf("%d", {Value::boolean(true)}), "%!d(string=true)");
  EXPECT_EQ(sprintf("%q", {J(R"(["a"])")}), R"("[\"a\"]")");
  // Numbers: int, *big.Int, float64.
  EXPECT_EQ(sprintf("%d", {N("123456789123456789123")}), "123456789123456789123");
  EXPECT_EQ(sprintf("%d", {N("-98765432109876543210")}), "-98765432109876543210");
  EXPECT_EQ(sprintf("%x", {N("18446744073709551616")}), "10000000000000000");
  EXPECT_EQ(sprintf("%v %v %v", {N("1.5"), N("0.1"), N("-2.25")}), "1.5 0.1 -2.25");
  EXPECT_EQ(sprintf("%v %d", {N("1e21"), N("1e21")}), "1e+21 %!d(float64=1e+21)");
  EXPECT_EQ(sprintf("%v", {N("1e400")}), "1e+400");
  EXPECT_EQ(sprintf("%f", {I(5)}), "%!f(int=5)");  // as in OPA: integers are Go ints
  EXPECT_EQ(sprintf("%d", {N("2.5")}), "%!d(float64=2.5)");
  EXPECT_EQ(sprintf("%v", {N("0.1234567890123456789")}), "0.12345678901234568");
  EXPECT_EQ(sprintf("%d", {I(-42)}), "-42");
  EXPECT_EQ(sprintf("%d", {N("9223372036854775807")}), "9223372036854775807");
  EXPECT_EQ(sprintf("%d", {N("9223372036854775808")}), "9223372036854775808");
  EXPECT_EQ(sprintf("", {}), "");
  EXPECT_EQ(sprintf("no verbs", {}), "no verbs");
  EXPECT_EQ(sprintf("%s %s", {S("\xff"), S("")}), "\xff ");
}

TEST_F(StringsTest, SprintfErrors) {
  EXPECT_EQ(error("sprintf", {S("%d"), S("x")}), "eval_type_error: sprintf: operand 2 must be array but got string");
  EXPECT_EQ(error("sprintf", {S("%d"), SetOf({I(1)})}),
            "eval_type_error: sprintf: operand 2 must be array but got set");
  EXPECT_EQ(error("sprintf", {I(1), Value::empty_array()}),
            "eval_type_error: sprintf: operand 1 must be string but got number");
}

// Generated with Go's fmt.Sprintf: {format, operands ("i:" int, "b:" *big.Int,
// "f:" float64, "s:" string), expected output}.
struct GoCase {
  const char* format;
  std::vector<std::string> args;
  std::string_view want;
};

Value go_operand(const std::string& code) {
  const std::string body = code.substr(2);
  return code[0] == 's' ? S(body) : N(body);
}

const GoCase kGoCases[] = {
    {"%v", {"i:-42"}, {"-42", 3}},
    {"%-+# 9.3v", {"i:-42"}, {"-042     ", 9}},
    {"%d", {"i:-42"}, {"-42", 3}},
    {"%-+# 9.3d", {"i:-42"}, {"-042     ", 9}},
    {"%s", {"i:-42"}, {"%!s(int=-42)", 12}},
    {"%-+# 9.3s", {"i:-42"}, {"%!s(int=-042     )", 18}},
    {"%x", {"i:-42"}, {"-2a", 3}},
    {"%-+# 9.3x", {"i:-42"}, {"-0x02a   ", 9}},
    {"%X", {"i:-42"}, {"-2A", 3}},
    {"%-+# 9.3X", {"i:-42"}, {"-0X02A   ", 9}},
    {"%o", {"i:-42"}, {"-52", 3}},
    {"%-+# 9.3o", {"i:-42"}, {"-052     ", 9}},
    {"%b", {"i:-42"}, {"-101010", 7}},
    {"%-+# 9.3b", {"i:-42"}, {"-0b101010", 9}},
    {"%c",
     {"i:-42"},
     {"\xef"
      "\xbf"
      "\xbd"
      "",
      3}},
    {"%-+# 9.3c",
     {"i:-42"},
     {"\xef"
      "\xbf"
      "\xbd"
      "        ",
      11}},
    {"%q",
     {"i:-42"},
     {"'\xef"
      "\xbf"
      "\xbd"
      "'",
      5}},
    {"%-+# 9.3q", {"i:-42"}, {"'\\ufffd' ", 9}},
    {"%U", {"i:-42"}, {"U+FFFFFFFFFFFFFFD6", 18}},
    {"%-+# 9.3U", {"i:-42"}, {"U+FFFFFFFFFFFFFFD6", 18}},
    {"%e", {"i:-42"}, {"%!e(int=-42)", 12}},
    {"%-+# 9.3e", {"i:-42"}, {"%!e(int=-042     )", 18}},
    {"%E", {"i:-42"}, {"%!E(int=-42)", 12}},
    {"%-+# 9.3E", {"i:-42"}, {"%!E(int=-042     )", 18}},
    {"%f", {"i:-42"}, {"%!f(int=-42)", 12}},
    {"%-+# 9.3f", {"i:-42"}, {"%!f(int=-042     )", 18}},
    {"%F", {"i:-42"}, {"%!F(int=-42)", 12}},
    {"%-+# 9.3F", {"i:-42"}, {"%!F(int=-042     )", 18}},
    {"%g", {"i:-42"}, {"%!g(int=-42)", 12}},
    {"%-+# 9.3g", {"i:-42"}, {"%!g(int=-042     )", 18}},
    {"%G", {"i:-42"}, {"%!G(int=-42)", 12}},
    {"%-+# 9.3G", {"i:-42"}, {"%!G(int=-042     )", 18}},
    {"%t", {"i:-42"}, {"%!t(int=-42)", 12}},
    {"%-+# 9.3t", {"i:-42"}, {"%!t(int=-042     )", 18}},
    {"%T", {"i:-42"}, {"int", 3}},
    {"%-+# 9.3T", {"i:-42"}, {"int      ", 9}},
    {"%O", {"i:-42"}, {"-0o52", 5}},
    {"%-+# 9.3O", {"i:-42"}, {"-0o052   ", 9}},
    {"%v", {"i:19990"}, {"19990", 5}},
    {"%-+# 9.3v", {"i:19990"}, {" 19990   ", 9}},
    {"%d", {"i:19990"}, {"19990", 5}},
    {"%-+# 9.3d", {"i:19990"}, {"+19990   ", 9}},
    {"%s", {"i:19990"}, {"%!s(int=19990)", 14}},
    {"%-+# 9.3s", {"i:19990"}, {"%!s(int=+19990   )", 18}},
    {"%x", {"i:19990"}, {"4e16", 4}},
    {"%-+# 9.3x", {"i:19990"}, {"+0x4e16  ", 9}},
    {"%X", {"i:19990"}, {"4E16", 4}},
    {"%-+# 9.3X", {"i:19990"}, {"+0X4E16  ", 9}},
    {"%o", {"i:19990"}, {"47026", 5}},
    {"%-+# 9.3o", {"i:19990"}, {"+047026  ", 9}},
    {"%b", {"i:19990"}, {"100111000010110", 15}},
    {"%-+# 9.3b", {"i:19990"}, {"+0b100111000010110", 18}},
    {"%c",
     {"i:19990"},
     {"\xe4"
      "\xb8"
      "\x96"
      "",
      3}},
    {"%-+# 9.3c",
     {"i:19990"},
     {"\xe4"
      "\xb8"
      "\x96"
      "        ",
      11}},
    {"%q",
     {"i:19990"},
     {"'\xe4"
      "\xb8"
      "\x96"
      "'",
      5}},
    {"%-+# 9.3q", {"i:19990"}, {"'\\u4e16' ", 9}},
    {"%U", {"i:19990"}, {"U+4E16", 6}},
    {"%-+# 9.3U",
     {"i:19990"},
     {"U+4E16 '\xe4"
      "\xb8"
      "\x96"
      "'",
      12}},
    {"%e", {"i:19990"}, {"%!e(int=19990)", 14}},
    {"%-+# 9.3e", {"i:19990"}, {"%!e(int=+19990   )", 18}},
    {"%E", {"i:19990"}, {"%!E(int=19990)", 14}},
    {"%-+# 9.3E", {"i:19990"}, {"%!E(int=+19990   )", 18}},
    {"%f", {"i:19990"}, {"%!f(int=19990)", 14}},
    {"%-+# 9.3f", {"i:19990"}, {"%!f(int=+19990   )", 18}},
    {"%F", {"i:19990"}, {"%!F(int=19990)", 14}},
    {"%-+# 9.3F", {"i:19990"}, {"%!F(int=+19990   )", 18}},
    {"%g", {"i:19990"}, {"%!g(int=19990)", 14}},
    {"%-+# 9.3g", {"i:19990"}, {"%!g(int=+19990   )", 18}},
    {"%G", {"i:19990"}, {"%!G(int=19990)", 14}},
    {"%-+# 9.3G", {"i:19990"}, {"%!G(int=+19990   )", 18}},
    {"%t", {"i:19990"}, {"%!t(int=19990)", 14}},
    {"%-+# 9.3t", {"i:19990"}, {"%!t(int=+19990   )", 18}},
    {"%T", {"i:19990"}, {"int", 3}},
    {"%-+# 9.3T", {"i:19990"}, {"int      ", 9}},
    {"%O", {"i:19990"}, {"0o47026", 7}},
    {"%-+# 9.3O", {"i:19990"}, {"+0o047026", 9}},
    {"%v", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%-+# 9.3v", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%d", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%-+# 9.3d", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%s", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%-+# 9.3s", {"b:-98765432109876543210"}, {"-98765432109876543210", 21}},
    {"%x", {"b:-98765432109876543210"}, {"-55aa54d38e5267eea", 18}},
    {"%-+# 9.3x", {"b:-98765432109876543210"}, {"-0x55aa54d38e5267eea", 20}},
    {"%X", {"b:-98765432109876543210"}, {"-55AA54D38E5267EEA", 18}},
    {"%-+# 9.3X", {"b:-98765432109876543210"}, {"-0X55AA54D38E5267EEA", 20}},
    {"%o", {"b:-98765432109876543210"}, {"-12552452323434511477352", 24}},
    {"%-+# 9.3o", {"b:-98765432109876543210"}, {"-012552452323434511477352", 25}},
    {"%b", {"b:-98765432109876543210"}, {"-1010101101010100101010011010011100011100101001001100111111011101010", 68}},
    {"%-+# 9.3b",
     {"b:-98765432109876543210"},
     {"-0b1010101101010100101010011010011100011100101001001100111111011101010", 70}},
    {"%c", {"b:-98765432109876543210"}, {"%!c(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3c", {"b:-98765432109876543210"}, {"%!c(big.Int=-98765432109876543210)", 34}},
    {"%q", {"b:-98765432109876543210"}, {"%!q(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3q", {"b:-98765432109876543210"}, {"%!q(big.Int=-98765432109876543210)", 34}},
    {"%U", {"b:-98765432109876543210"}, {"%!U(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3U", {"b:-98765432109876543210"}, {"%!U(big.Int=-98765432109876543210)", 34}},
    {"%e", {"b:-98765432109876543210"}, {"%!e(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3e", {"b:-98765432109876543210"}, {"%!e(big.Int=-98765432109876543210)", 34}},
    {"%E", {"b:-98765432109876543210"}, {"%!E(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3E", {"b:-98765432109876543210"}, {"%!E(big.Int=-98765432109876543210)", 34}},
    {"%f", {"b:-98765432109876543210"}, {"%!f(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3f", {"b:-98765432109876543210"}, {"%!f(big.Int=-98765432109876543210)", 34}},
    {"%F", {"b:-98765432109876543210"}, {"%!F(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3F", {"b:-98765432109876543210"}, {"%!F(big.Int=-98765432109876543210)", 34}},
    {"%g", {"b:-98765432109876543210"}, {"%!g(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3g", {"b:-98765432109876543210"}, {"%!g(big.Int=-98765432109876543210)", 34}},
    {"%G", {"b:-98765432109876543210"}, {"%!G(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3G", {"b:-98765432109876543210"}, {"%!G(big.Int=-98765432109876543210)", 34}},
    {"%t", {"b:-98765432109876543210"}, {"%!t(big.Int=-98765432109876543210)", 34}},
    {"%-+# 9.3t", {"b:-98765432109876543210"}, {"%!t(big.Int=-98765432109876543210)", 34}},
    {"%T", {"b:-98765432109876543210"}, {"*big.Int", 8}},
    {"%-+# 9.3T", {"b:-98765432109876543210"}, {"*bi      ", 9}},
    {"%O", {"b:-98765432109876543210"}, {"-0o12552452323434511477352", 26}},
    {"%-+# 9.3O", {"b:-98765432109876543210"}, {"-0o12552452323434511477352", 26}},
    {"%v", {"f:3.14159"}, {"3.14159", 7}},
    {"%-+# 9.3v", {"f:3.14159"}, {" 3.14    ", 9}},
    {"%d", {"f:3.14159"}, {"%!d(float64=3.14159)", 20}},
    {"%-+# 9.3d", {"f:3.14159"}, {"%!d(float64=+3.14    )", 22}},
    {"%s", {"f:3.14159"}, {"%!s(float64=3.14159)", 20}},
    {"%-+# 9.3s", {"f:3.14159"}, {"%!s(float64=+3.14    )", 22}},
    {"%x", {"f:3.14159"}, {"0x1.921f9f01b866ep+01", 21}},
    {"%-+# 9.3x", {"f:3.14159"}, {"+0x1.922p+01", 12}},
    {"%X", {"f:3.14159"}, {"0X1.921F9F01B866EP+01", 21}},
    {"%-+# 9.3X", {"f:3.14159"}, {"+0X1.922P+01", 12}},
    {"%o", {"f:3.14159"}, {"%!o(float64=3.14159)", 20}},
    {"%-+# 9.3o", {"f:3.14159"}, {"%!o(float64=+3.14    )", 22}},
    {"%b", {"f:3.14159"}, {"7074231776675438p-51", 20}},
    {"%-+# 9.3b", {"f:3.14159"}, {"+7074231776675438p-51", 21}},
    {"%c", {"f:3.14159"}, {"%!c(float64=3.14159)", 20}},
    {"%-+# 9.3c", {"f:3.14159"}, {"%!c(float64=+3.14    )", 22}},
    {"%q", {"f:3.14159"}, {"%!q(float64=3.14159)", 20}},
    {"%-+# 9.3q", {"f:3.14159"}, {"%!q(float64=+3.14    )", 22}},
    {"%U", {"f:3.14159"}, {"%!U(float64=3.14159)", 20}},
    {"%-+# 9.3U", {"f:3.14159"}, {"%!U(float64=+3.14    )", 22}},
    {"%e", {"f:3.14159"}, {"3.141590e+00", 12}},
    {"%-+# 9.3e", {"f:3.14159"}, {"+3.142e+00", 10}},
    {"%E", {"f:3.14159"}, {"3.141590E+00", 12}},
    {"%-+# 9.3E", {"f:3.14159"}, {"+3.142E+00", 10}},
    {"%f", {"f:3.14159"}, {"3.141590", 8}},
    {"%-+# 9.3f", {"f:3.14159"}, {"+3.142   ", 9}},
    {"%F", {"f:3.14159"}, {"3.141590", 8}},
    {"%-+# 9.3F", {"f:3.14159"}, {"+3.142   ", 9}},
    {"%g", {"f:3.14159"}, {"3.14159", 7}},
    {"%-+# 9.3g", {"f:3.14159"}, {"+3.14    ", 9}},
    {"%G", {"f:3.14159"}, {"3.14159", 7}},
    {"%-+# 9.3G", {"f:3.14159"}, {"+3.14    ", 9}},
    {"%t", {"f:3.14159"}, {"%!t(float64=3.14159)", 20}},
    {"%-+# 9.3t", {"f:3.14159"}, {"%!t(float64=+3.14    )", 22}},
    {"%T", {"f:3.14159"}, {"float64", 7}},
    {"%-+# 9.3T", {"f:3.14159"}, {"flo      ", 9}},
    {"%O", {"f:3.14159"}, {"%!O(float64=3.14159)", 20}},
    {"%-+# 9.3O", {"f:3.14159"}, {"%!O(float64=+3.14    )", 22}},
    {"%v", {"f:1234567.5"}, {"1.2345675e+06", 13}},
    {"%-+# 9.3v", {"f:1234567.5"}, {" 1.23e+06", 9}},
    {"%d", {"f:1234567.5"}, {"%!d(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3d", {"f:1234567.5"}, {"%!d(float64=+1.23e+06)", 22}},
    {"%s", {"f:1234567.5"}, {"%!s(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3s", {"f:1234567.5"}, {"%!s(float64=+1.23e+06)", 22}},
    {"%x", {"f:1234567.5"}, {"0x1.2d6878p+20", 14}},
    {"%-+# 9.3x", {"f:1234567.5"}, {"+0x1.2d7p+20", 12}},
    {"%X", {"f:1234567.5"}, {"0X1.2D6878P+20", 14}},
    {"%-+# 9.3X", {"f:1234567.5"}, {"+0X1.2D7P+20", 12}},
    {"%o", {"f:1234567.5"}, {"%!o(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3o", {"f:1234567.5"}, {"%!o(float64=+1.23e+06)", 22}},
    {"%b", {"f:1234567.5"}, {"5302427037204480p-32", 20}},
    {"%-+# 9.3b", {"f:1234567.5"}, {"+5302427037204480p-32", 21}},
    {"%c", {"f:1234567.5"}, {"%!c(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3c", {"f:1234567.5"}, {"%!c(float64=+1.23e+06)", 22}},
    {"%q", {"f:1234567.5"}, {"%!q(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3q", {"f:1234567.5"}, {"%!q(float64=+1.23e+06)", 22}},
    {"%U", {"f:1234567.5"}, {"%!U(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3U", {"f:1234567.5"}, {"%!U(float64=+1.23e+06)", 22}},
    {"%e", {"f:1234567.5"}, {"1.234568e+06", 12}},
    {"%-+# 9.3e", {"f:1234567.5"}, {"+1.235e+06", 10}},
    {"%E", {"f:1234567.5"}, {"1.234568E+06", 12}},
    {"%-+# 9.3E", {"f:1234567.5"}, {"+1.235E+06", 10}},
    {"%f", {"f:1234567.5"}, {"1234567.500000", 14}},
    {"%-+# 9.3f", {"f:1234567.5"}, {"+1234567.500", 12}},
    {"%F", {"f:1234567.5"}, {"1234567.500000", 14}},
    {"%-+# 9.3F", {"f:1234567.5"}, {"+1234567.500", 12}},
    {"%g", {"f:1234567.5"}, {"1.2345675e+06", 13}},
    {"%-+# 9.3g", {"f:1234567.5"}, {"+1.23e+06", 9}},
    {"%G", {"f:1234567.5"}, {"1.2345675E+06", 13}},
    {"%-+# 9.3G", {"f:1234567.5"}, {"+1.23E+06", 9}},
    {"%t", {"f:1234567.5"}, {"%!t(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3t", {"f:1234567.5"}, {"%!t(float64=+1.23e+06)", 22}},
    {"%T", {"f:1234567.5"}, {"float64", 7}},
    {"%-+# 9.3T", {"f:1234567.5"}, {"flo      ", 9}},
    {"%O", {"f:1234567.5"}, {"%!O(float64=1.2345675e+06)", 26}},
    {"%-+# 9.3O", {"f:1234567.5"}, {"%!O(float64=+1.23e+06)", 22}},
    {"%v",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"h\xc3"
      "\xa9"
      "llo",
      6}},
    {"%-+# 9.3v",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"\"h\xc3"
      "\xa9"
      "l\"    ",
      10}},
    {"%d",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!d(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3d",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!d(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%s",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"h\xc3"
      "\xa9"
      "llo",
      6}},
    {"%-+# 9.3s",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"h\xc3"
      "\xa9"
      "l      ",
      10}},
    {"%x",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"68c3a96c6c6f", 12}},
    {"%-+# 9.3x",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"0x68 0xc3 0xa9", 14}},
    {"%X",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"68C3A96C6C6F", 12}},
    {"%-+# 9.3X",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"0X68 0XC3 0XA9", 14}},
    {"%o",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!o(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3o",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!o(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%b",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!b(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3b",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!b(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%c",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!c(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3c",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!c(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%q",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"\"h\xc3"
      "\xa9"
      "llo\"",
      8}},
    {"%-+# 9.3q",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"`h\xc3"
      "\xa9"
      "l`    ",
      10}},
    {"%U",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!U(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3U",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!U(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%e",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!e(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3e",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!e(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%E",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!E(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3E",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!E(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%f",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!f(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3f",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!f(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%F",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!F(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3F",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!F(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%g",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!g(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3g",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!g(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%G",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!G(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3G",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!G(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%t",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!t(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3t",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!t(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%T",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"string", 6}},
    {"%-+# 9.3T",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"str      ", 9}},
    {"%O",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!O(string=h\xc3"
      "\xa9"
      "llo)",
      18}},
    {"%-+# 9.3O",
     {"s:h\xc3"
      "\xa9"
      "llo"},
     {"%!O(string=h\xc3"
      "\xa9"
      "l      )",
      22}},
    {"%v",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"a\"b\n\x01"
      "\xff"
      "",
      6}},
    {"%-+# 9.3v",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"\"a\\\"b\"   ", 9}},
    {"%d",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!d(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3d",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!d(string=a\"b      )", 21}},
    {"%s",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"a\"b\n\x01"
      "\xff"
      "",
      6}},
    {"%-+# 9.3s",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"a\"b      ", 9}},
    {"%x",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"6122620a01ff", 12}},
    {"%-+# 9.3x",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"0x61 0x22 0x62", 14}},
    {"%X",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"6122620A01FF", 12}},
    {"%-+# 9.3X",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"0X61 0X22 0X62", 14}},
    {"%o",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!o(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3o",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!o(string=a\"b      )", 21}},
    {"%b",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!b(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3b",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!b(string=a\"b      )", 21}},
    {"%c",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!c(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3c",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!c(string=a\"b      )", 21}},
    {"%q",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"\"a\\\"b\\n\\x01\\xff\"", 16}},
    {"%-+# 9.3q",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"`a\"b`    ", 9}},
    {"%U",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!U(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3U",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!U(string=a\"b      )", 21}},
    {"%e",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!e(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3e",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!e(string=a\"b      )", 21}},
    {"%E",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!E(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3E",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!E(string=a\"b      )", 21}},
    {"%f",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!f(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3f",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!f(string=a\"b      )", 21}},
    {"%F",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!F(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3F",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!F(string=a\"b      )", 21}},
    {"%g",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!g(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3g",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!g(string=a\"b      )", 21}},
    {"%G",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!G(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3G",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!G(string=a\"b      )", 21}},
    {"%t",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!t(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3t",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!t(string=a\"b      )", 21}},
    {"%T",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"string", 6}},
    {"%-+# 9.3T",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"str      ", 9}},
    {"%O",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!O(string=a\"b\n\x01"
      "\xff"
      ")",
      18}},
    {"%-+# 9.3O",
     {"s:a\"b\n\x01"
      "\xff"
      ""},
     {"%!O(string=a\"b      )", 21}},
    {"%d", {}, {"%!d(MISSING)", 12}},
    {"%d %d", {"i:1"}, {"1 %!d(MISSING)", 14}},
    {"%d", {"i:1", "s:x", "f:2.5"}, {"1%!(EXTRA string=x, float64=2.5)", 32}},
    {"%[2]d %[1]d", {"i:1", "i:2"}, {"2 1", 3}},
    {"%[3]d", {"i:1"}, {"%!d(BADINDEX)", 13}},
    {"%[0]d", {"i:1"}, {"%!d(BADINDEX)", 13}},
    {"%[x]d", {"i:1"}, {"%!d(BADINDEX)", 13}},
    {"%[1]d %d %d", {"i:1", "i:2"}, {"1 2 %!d(MISSING)", 16}},
    {"%[2]*[1]d", {"i:12", "i:5"}, {"   12", 5}},
    {"%*d", {"i:5", "i:42"}, {"   42", 5}},
    {"%-*d|", {"i:5", "i:42"}, {"42   |", 6}},
    {"%*d|", {"i:-5", "i:42"}, {"42   |", 6}},
    {"%*d", {"s:x", "i:42"}, {"%!(BADWIDTH)42", 14}},
    {"%.*f", {"i:2", "f:3.14159"}, {"3.14", 4}},
    {"%.*f", {"i:-2", "f:3.14159"}, {"%!(BADPREC)3.141590", 19}},
    {"%.*f", {"f:2.5", "f:3.14159"}, {"%!(BADPREC)3.141590", 19}},
    {"%*d", {"i:10000000", "i:42"}, {"%!(BADWIDTH)42", 14}},
    {"100%%", {}, {"100%", 4}},
    {"%5%|", {}, {"%|", 2}},
    {"%", {}, {"%!(NOVERB)", 10}},
    {"abc%", {"i:1"}, {"abc%!(NOVERB)%!(EXTRA int=1)", 28}},
    {"%-", {"i:1"}, {"%!(NOVERB)%!(EXTRA int=1)", 25}},
    {"%.", {"i:1"}, {"%!.(int=1)", 10}},
    {"%!", {"i:1"}, {"%!!(int=1)", 10}},
    {"%z", {"s:x"}, {"%!z(string=x)", 13}},
    {"%\xc3"
     "\xa9"
     "",
     {"i:1"},
     {"%!\xc3"
      "\xa9"
      "(int=1)",
      11}},
    {"%[1]", {"i:1"}, {"%!(NOVERB)", 10}},
    {"%.d|%.0d|%5.0d|", {"i:0", "i:0", "i:0"}, {"||     |", 8}},
    {"%.f", {"f:2.5"}, {"2", 1}},
    {"%.f", {"f:3.5"}, {"4", 1}},
    {"%.1f", {"f:0.25"}, {"0.2", 3}},
    {"%.1f", {"f:0.35"}, {"0.3", 3}},
    {"%.20f", {"f:0.1"}, {"0.10000000000000000555", 22}},
    {"%.30g", {"f:0.1"}, {"0.100000000000000005551115123126", 32}},
    {"%.70e", {"f:0.1"}, {"1.0000000000000000555111512312578270211815834045410156250000000000000000e-01", 76}},
    {"%.3g", {"f:100000.5"}, {"1e+05", 5}},
    {"%g %G %e", {"f:1.5e-300", "f:2.5e+300", "f:5e-324"}, {"1.5e-300 2.5E+300 4.940656e-324", 31}},
    {"%v %v %v %v",
     {"f:0.0001", "f:0.00001", "f:123456.5", "f:1234567.25"},
     {"0.0001 1e-05 123456.5 1.23456725e+06", 36}},
    {"%x %X %#x %.2x %b",
     {"f:1.5", "f:-1234.5678", "f:0.1", "f:0.1", "f:0.1"},
     {"0x1.8p+00 -0X1.34A456D5CFAADP+10 0x1.999999999999ap-04 0x1.9ap-04 7205759403792794p-56", 86}},
    {"%#.0f %#.0e %#g %#.3g %#v", {"f:2.5", "f:2.5", "f:2.5", "f:2.5", "f:2.5"}, {"2. 2.e+00 2.50000 2.50 2.5", 26}},
    {"%+.3e|% .3f|%+v|%+d|% d", {"f:2.5", "f:2.5", "f:2.5", "i:5", "i:5"}, {"+2.500e+00| 2.500|2.5|+5| 5", 27}},
    {"%08.3f|%-08.3f|%+08.2f|%08v",
     {"f:-2.5", "f:-2.5", "f:2.5", "f:-2.5"},
     {"-002.500|-2.500  |+0002.50|-00002.5", 35}},
    {"%c|%c|%c|%q|%q|%U|%#U",
     {"i:65", "i:-1", "i:55296", "i:55296", "i:1114112", "i:-1", "i:9"},
     {"A|\xef"
      "\xbf"
      "\xbd"
      "|\xef"
      "\xbf"
      "\xbd"
      "|'\xef"
      "\xbf"
      "\xbd"
      "'|'\xef"
      "\xbf"
      "\xbd"
      "'|U+FFFFFFFFFFFFFFFF|U+0009",
      47}},
    {"%q|%+q|%#q|%#q|%#+q",
     {"s:\xc3"
      "\xa9"
      "\xc2"
      "\xa0"
      "\xe2"
      "\x80"
      "\x8b"
      "\xf0"
      "\x9f"
      "\x98"
      "\x80"
      "",
      "s:\xc3"
      "\xa9"
      "\xf0"
      "\x9f"
      "\x98"
      "\x80"
      "",
      "s:ab`c",
      "s:tab\x09"
      "here",
      "s:\xef"
      "\xbb"
      "\xbf"
      ""},
     {"\"\xc3"
      "\xa9"
      "\\u00a0\\u200b\xf0"
      "\x9f"
      "\x98"
      "\x80"
      "\"|\"\\u00e9\\U0001f600\"|\"ab`c\"|`tab\x09"
      "here`|\"\\ufeff\"",
      66}},
    {"% x|%# x|%#X|%-12x|%12.2x|",
     {"s:abc", "s:abc", "s:abc", "s:abc", "s:abc"},
     {"61 62 63|0x61 0x62 0x63|0X616263|616263      |        6162|", 59}},
    {"%5.2s|%-5.1s|%.1q|%05s",
     {"s:h\xc3"
      "\xa9"
      "llo",
      "s:\xc3"
      "\xa9"
      "x",
      "s:\xc3"
      "\xa9"
      "x",
      "s:ab"},
     {"   h\xc3"
      "\xa9"
      "|\xc3"
      "\xa9"
      "    |\"\xc3"
      "\xa9"
      "\"|000ab",
      24}},
    {"%5s|%-5d|%05q", {"i:5", "s:ab", "f:1.5"}, {"%!s(int=    5)|%!d(string=ab   )|%!q(float64=001.5)", 51}},
    {"%x %X %#x %#o %O %b %#b",
     {"b:-255", "b:123456789123456789123", "b:123456789123456789123", "b:123456789123456789123",
      "b:123456789123456789123", "b:123456789123456789123", "b:123456789123456789123"},
     {"-ff 6B14E9F9B0DF36A83 0x6b14e9f9b0df36a83 015305164771541574665203 0o15305164771541574665203 "
      "1101011000101001110100111111001101100001101111100110110101010000011 "
      "0b1101011000101001110100111111001101100001101111100110110101010000011",
      230}},
    {"%30d|%-30d|%030d|%+.25d|% d|%.0d",
     {"b:123456789123456789123", "b:123456789123456789123", "b:-123456789123456789123", "b:123456789123456789123",
      "b:123456789123456789123", "b:123456789123456789123"},
     {"         123456789123456789123|123456789123456789123         "
      "|-00000000123456789123456789123|+0000123456789123456789123| 123456789123456789123|123456789123456789123",
      164}},
    {"%T %T %T %T %10T|",
     {"i:1", "b:123456789123456789123", "f:1.5", "s:x", "i:1"},
     {"int *big.Int float64 string        int|", 39}},
    {"%d %s",
     {"b:123456789123456789123", "b:123456789123456789123"},
     {"123456789123456789123 123456789123456789123", 43}},
    {"%v|%d|%s",
     {"i:-9223372036854775808", "i:9223372036854775807", "i:7"},
     {"-9223372036854775808|9223372036854775807|%!s(int=7)", 51}},
    {"%068d|%#.68x|%.68d|%+.68d",
     {"i:1", "i:42", "i:-42", "i:42"},
     {"00000000000000000000000000000000000000000000000000000000000000000001|"
      "0x0000000000000000000000000000000000000000000000000000000000000000002a|-"
      "00000000000000000000000000000000000000000000000000000000000000000042|+"
      "00000000000000000000000000000000000000000000000000000000000000000042",
      279}},
    {"%-#20.8x|%020.8d|%-020d|%0-20d|",
     {"i:19088743", "i:-1234", "i:-1234", "i:-1234"},
     {"0x01234567          |           -00001234|-1234               |-1234               |", 84}},
    {"%t %v", {"s:true", "s:null"}, {"%!t(string=true) null", 21}},
    {"%d%%%d", {"i:1", "i:2"}, {"1%2", 3}},
    {"%3c|%-3c|%U|%#14.6U|",
     {"i:120", "i:120", "i:128512", "i:8984"},
     {"  x|x  |U+1F600|  U+002318 '\xe2"
      "\x8c"
      "\x98"
      "'|",
      33}},
    {"%w %p", {"i:1", "s:x"}, {"%!w(int=1) %!p(string=x)", 24}},
};

TEST_F(StringsTest, SprintfMatchesGo) {
  for (const GoCase& c : kGoCases) {
    ValueVec args;
    for (const std::string& a : c.args) args.push_back(go_operand(a));
    EXPECT_EQ(sprintf(c.format, std::move(args)), c.want) << "format " << c.format;
  }
}

}  // namespace
}  // namespace confidant::rego
