// graphql.* builtins. The conformance facts come from OPA's
// v1/test/cases/testdata/v1/graphql/*.yaml (ASTs, results, error messages),
// checked both through the engine (Rego policies as in the YAML cases) and by
// calling the builtins directly; the rest are our own: validation rules,
// AST-object round trips, and hostile input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/builtins/graphql_parser.h"
#include "rego/rego.h"

using namespace confidant::rego;

namespace {

Value J(const std::string& s) {
  Value v;
  std::string err;
  EXPECT_TRUE(parse_json(s, v, err)) << err << " in " << s;
  return v;
}

// The YAML cases written before OPA moved to gqlparser v2.5 lack the
// ExpectedTypeHasDefault flag every ast.Value now carries; add it.
Value with_value_flags(const Value& v) {
  if (v.is_array()) {
    ValueVec out;
    for (const Value& e : v.array_items()) out.push_back(with_value_flags(e));
    return Value::array(std::move(out));
  }
  if (!v.is_object()) return v;
  ObjectItems out;
  for (const auto& [k, e] : v.object_items()) out.emplace_back(k, with_value_flags(e));
  if (v.get("Kind") && v.get("Raw") && v.get("Kind")->is_number() && !v.get("ExpectedTypeHasDefault"))
    out.emplace_back(Value::string("ExpectedTypeHasDefault"), Value::false_value());
  return Value::object(std::move(out));
}

class GraphQL : public ::testing::Test {
 protected:
  void SetUp() override { register_graphql(reg_); }
  Value call(const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    return b->fn(ctx_, args);
  }
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  Value parse_query(const std::string& q) { return call("graphql.parse_query", {Value::string(q)}); }
  Value parse_schema(const std::string& s) { return call("graphql.parse_schema", {Value::string(s)}); }
  bool schema_is_valid(const std::string& s) { return call("graphql.schema_is_valid", {Value::string(s)}).is_true(); }
  bool is_valid(const std::string& q, const std::string& s) {
    return call("graphql.is_valid", {Value::string(q), Value::string(s)}).is_true();
  }
  // The message graphql.parse reports for a query the schema rejects ("" when it is valid).
  std::string validation_error(const std::string& q, const std::string& s) {
    std::string e = error_of("graphql.parse", {Value::string(q), Value::string(s)});
    const std::string prefix = "eval_builtin_error: graphql.parse: ";
    return e.rfind(prefix, 0) == 0 ? e.substr(prefix.size()) : e;
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

// Runs a Rego query against one module through the engine.
struct Run {
  bool ok = false;
  Value value;
  std::string error;
};
Run eval(const std::string& module, const std::string& query, bool strict = false) {
  Run r;
  Engine eng;
  Errors errs;
  if (!eng.add_module("test.rego", module, errs)) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  auto p = eng.compile(errs);
  if (!p) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  auto q = Query::prepare(p, query, errs);
  if (!q) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  EvalOptions o;
  o.strict_builtin_errors = strict;
  if (!q->eval_value(o, r.value, errs)) {
    r.error = errs[0].code + ": " + errs[0].message;
    return r;
  }
  r.ok = true;
  return r;
}
std::string result(const Run& r) { return r.ok ? (r.value.is_defined() ? to_json(r.value) : "undefined") : r.error; }

const char* kEntitySchema = R"(
  extend type User {
      id: ID!
  }
  extend type Product {
      upc: String!
  }
  union _Entity = Product | User
  extend type Query {
    entity: _Entity
  }
)";

const char* kLocaleSchema = R"(
  extend type Query {
      myAction(myEnum: Locale!): SomeResult!
  }
  type SomeResult {
      id: String
  }
  enum Locale {
      EN
      LT
      DE
  }
)";

const char* kEmployeeSchema = R"(
  type Employee {
    id: String!
    salary: Int!
  }

  schema {
    query: Query
  }

  type Query {
    employeeByID(id: String): Employee
  }
)";

// A Star Wars schema for the validation rules.
const char* kStarWars = R"(
  schema { query: Query mutation: Mutation subscription: Subscription }
  enum Episode { NEWHOPE EMPIRE JEDI }
  interface Character { id: ID! name: String! friends: [Character] appearsIn: [Episode]! }
  type Human implements Character { id: ID! name: String! friends: [Character] appearsIn: [Episode]! height(unit: Unit = METER): Float }
  type Droid implements Character { id: ID! name: String! friends: [Character] appearsIn: [Episode]! primaryFunction: String }
  type Starship { id: ID! name: String! length: Float }
  union SearchResult = Human | Droid | Starship
  enum Unit { METER FOOT }
  input ReviewInput { stars: Int! commentary: String }
  input Filter @oneOf { byId: ID byName: String }
  type Review { episode: Episode stars: Int! commentary: String }
  type Query {
    hero(episode: Episode): Character
    human(id: ID!): Human
    search(text: String): [SearchResult]
    find(filter: Filter): Character
    reviews(episode: Episode!, first: Int = 10): [Review]
    flags(values: [Boolean!]!): Boolean
  }
  type Mutation { createReview(episode: Episode, review: ReviewInput!): Review }
  type Subscription { reviewAdded(episode: Episode): Review  heroChanged: Character }
)";

}  // namespace

// ============================================================ parse_query ASTs

TEST_F(GraphQL, ConformanceBasicAst) {
  EXPECT_EQ(parse_query("{hero {name}}"),
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "hero", "Name": "hero",
                 "SelectionSet": [{"Alias": "name", "Name": "name"}]}]}]})"));
  EXPECT_EQ(parse_query(R"(query hero ($episode: Episode!) {
            hero (episode: $episode) {
                id
                name
                friends { id name friends { id name appearsIn } appearsIn }
                appearsIn
            }
        })"),
            J(R"({"Operations": [{"Name": "hero", "Operation": "query", "SelectionSet": [{"Alias": "hero",
                 "Arguments": [{"Name": "episode", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "episode"}}],
                 "Name": "hero", "SelectionSet": [{"Alias": "id", "Name": "id"}, {"Alias": "name", "Name": "name"},
                 {"Alias": "friends", "Name": "friends", "SelectionSet": [{"Alias": "id", "Name": "id"}, {"Alias": "name", "Name": "name"},
                 {"Alias": "friends", "Name": "friends", "SelectionSet": [{"Alias": "id", "Name": "id"}, {"Alias": "name", "Name": "name"},
                 {"Alias": "appearsIn", "Name": "appearsIn"}]}, {"Alias": "appearsIn", "Name": "appearsIn"}]},
                 {"Alias": "appearsIn", "Name": "appearsIn"}]}],
                 "VariableDefinitions": [{"Type": {"NamedType": "Episode", "NonNull": true}, "Used": false, "Variable": "episode"}]}]})"));
  EXPECT_EQ(parse_query(R"(query HeroForEpisode($ep: Episode!) {
          hero(episode: $ep) { name ... on Droid { primaryFunction } ... on Human { height } }
        })"),
            J(R"({"Operations": [{"Name": "HeroForEpisode", "Operation": "query", "SelectionSet": [{"Alias": "hero",
                 "Arguments": [{"Name": "episode", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "ep"}}], "Name": "hero",
                 "SelectionSet": [{"Alias": "name", "Name": "name"},
                 {"SelectionSet": [{"Alias": "primaryFunction", "Name": "primaryFunction"}], "TypeCondition": "Droid"},
                 {"SelectionSet": [{"Alias": "height", "Name": "height"}], "TypeCondition": "Human"}]}],
                 "VariableDefinitions": [{"Type": {"NamedType": "Episode", "NonNull": true}, "Used": false, "Variable": "ep"}]}]})"));
  EXPECT_EQ(parse_query(R"({ search(text: "an") { __typename ... on Human { name } ... on Droid { name } ... on Starship { name } } })"),
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "search",
                 "Arguments": [{"Name": "text", "Value": {"ExpectedTypeHasDefault": false, "Kind": 3, "Raw": "an"}}], "Name": "search",
                 "SelectionSet": [{"Alias": "__typename", "Name": "__typename"},
                 {"SelectionSet": [{"Alias": "name", "Name": "name"}], "TypeCondition": "Human"},
                 {"SelectionSet": [{"Alias": "name", "Name": "name"}], "TypeCondition": "Droid"},
                 {"SelectionSet": [{"Alias": "name", "Name": "name"}], "TypeCondition": "Starship"}]}]}]})"));
}

TEST_F(GraphQL, ConformanceParseQueryAsts) {
  EXPECT_EQ(parse_query("{ field(complex: { a: { b: [ $var ] } }) }"),
            with_value_flags(J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "field",
                 "Arguments": [{"Name": "complex", "Value": {"Children": [{"Name": "a", "Value": {"Children": [{"Name": "b",
                 "Value": {"Children": [{"Name": "", "Value": {"Kind": 0, "Raw": "var"}}], "Kind": 8, "Raw": ""}}], "Kind": 9,
                 "Raw": ""}}], "Kind": 9, "Raw": ""}}], "Name": "field"}]}]})")));
  EXPECT_EQ(parse_query("query ($withDirective: String @first @second, $withoutDirective: String) { f }"),
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f", "Name": "f"}],
                 "VariableDefinitions": [{"Directives": [{"Location": "", "Name": "first"}, {"Location": "", "Name": "second"}],
                 "Type": {"NamedType": "String", "NonNull": false}, "Used": false, "Variable": "withDirective"},
                 {"Type": {"NamedType": "String", "NonNull": false}, "Used": false, "Variable": "withoutDirective"}]}]})"));
  EXPECT_EQ(parse_query(R"(
          query on {
            ... a
            ... on on { field }
          }
          fragment a on Type {
            on(on: $on)
              @on(on: on)
          }
        )"),
            with_value_flags(J(R"({"Fragments": [{"Name": "a", "SelectionSet": [{"Alias": "on", "Arguments": [{"Name": "on",
                 "Value": {"Kind": 0, "Raw": "on"}}], "Directives": [{"Arguments": [{"Name": "on", "Value": {"Kind": 7, "Raw": "on"}}],
                 "Location": "", "Name": "on"}], "Name": "on"}], "TypeCondition": "Type"}], "Operations": [{"Name": "on",
                 "Operation": "query", "SelectionSet": [{"Name": "a"}, {"SelectionSet": [{"Alias": "field", "Name": "field"}],
                 "TypeCondition": "on"}]}]})")));
  EXPECT_EQ(parse_query(R"(
          query true {
            ... true
            ... on true { field }
          }
          fragment true on Type {
            true(true: $true)
              @true(true: true)
          }
        )"),
            with_value_flags(J(R"({"Fragments": [{"Name": "true", "SelectionSet": [{"Alias": "true", "Arguments": [{"Name": "true",
                 "Value": {"Kind": 0, "Raw": "true"}}], "Directives": [{"Arguments": [{"Name": "true", "Value": {"Kind": 5,
                 "Raw": "true"}}], "Location": "", "Name": "true"}], "Name": "true"}], "TypeCondition": "Type"}],
                 "Operations": [{"Name": "true", "Operation": "query", "SelectionSet": [{"Name": "true"}, {"SelectionSet":
                 [{"Alias": "field", "Name": "field"}], "TypeCondition": "true"}]}]})")));
  for (const char* op : {"mutation", "subscription"}) {
    const std::string field = std::string(op) + "Field";
    EXPECT_EQ(parse_query(std::string(op) + " { " + field + " }"),
              J(R"({"Operations": [{"Name": "", "Operation": ")" + std::string(op) + R"(", "SelectionSet": [{"Alias": ")" +
                field + R"(", "Name": ")" + field + R"("}]}]})"));
    EXPECT_EQ(parse_query(std::string(op) + " Foo { " + field + " }"),
              J(R"({"Operations": [{"Name": "Foo", "Operation": ")" + std::string(op) + R"(", "SelectionSet": [{"Alias": ")" +
                field + R"(", "Name": ")" + field + R"("}]}]})"));
  }
  EXPECT_EQ(parse_query("{ node(id: 4) { id, name } }"),
            with_value_flags(J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "node",
                 "Arguments": [{"Name": "id", "Value": {"Kind": 1, "Raw": "4"}}], "Name": "node", "SelectionSet":
                 [{"Alias": "id", "Name": "id"}, {"Alias": "name", "Name": "name"}]}]}]})")));
  EXPECT_EQ(parse_query("fragment a($v: Boolean = false) on t { f(v: $v) }"),
            with_value_flags(J(R"({"Fragments": [{"Name": "a", "SelectionSet": [{"Alias": "f", "Arguments": [{"Name": "v",
                 "Value": {"Kind": 0, "Raw": "v"}}], "Name": "f"}], "TypeCondition": "t", "VariableDefinition":
                 [{"DefaultValue": {"Kind": 5, "Raw": "false"}, "Type": {"NamedType": "Boolean", "NonNull": false},
                 "Used": false, "Variable": "v"}]}]})")));
  EXPECT_EQ(parse_query("{ f(id: null) }"),
            with_value_flags(J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f",
                 "Arguments": [{"Name": "id", "Value": {"Kind": 6, "Raw": "null"}}], "Name": "f"}]}]})")));
  EXPECT_EQ(parse_query(R"({ f(long: """long""", short: "short") })"),
            with_value_flags(J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f",
                 "Arguments": [{"Name": "long", "Value": {"Kind": 4, "Raw": "long"}}, {"Name": "short", "Value": {"Kind": 3,
                 "Raw": "short"}}], "Name": "f"}]}]})")));
  EXPECT_EQ(parse_query("{ f(id: [1,2]) }"),
            with_value_flags(J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f",
                 "Arguments": [{"Name": "id", "Value": {"Children": [{"Name": "", "Value": {"Kind": 1, "Raw": "1"}},
                 {"Name": "", "Value": {"Kind": 1, "Raw": "2"}}], "Kind": 8, "Raw": ""}}], "Name": "f"}]}]})")));
  EXPECT_EQ(parse_query("query ($string: String, $int: Int, $arr: [Arr], $notnull: [Arr!]!) { f }"),
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "f", "Name": "f"}],
                 "VariableDefinitions": [{"Type": {"NamedType": "String", "NonNull": false}, "Used": false, "Variable": "string"},
                 {"Type": {"NamedType": "Int", "NonNull": false}, "Used": false, "Variable": "int"},
                 {"Type": {"Elem": {"NamedType": "Arr", "NonNull": false}, "NamedType": "", "NonNull": false}, "Used": false,
                 "Variable": "arr"}, {"Type": {"Elem": {"NamedType": "Arr", "NonNull": true}, "NamedType": "", "NonNull": true},
                 "Used": false, "Variable": "notnull"}]}]})"));
  EXPECT_EQ(parse_query(""), Value::empty_object());
}

TEST_F(GraphQL, ConformanceKitchenSink) {
  const char* gql = R"(
          query queryName($foo: ComplexType, $site: Site = MOBILE) {
            whoever123is: node(id: [123, 456]) {
              id ,
              ... on User @defer {
                field2 {
                  id ,
                  alias: field1(first:10, after:$foo,) @include(if: $foo) {
                    id,
                    ...frag
                  }
                }
              }
              ... @skip(unless: $foo) {
                id
              }
              ... {
                id
              }
            }
          }
          mutation likeStory {
            like(story: 123) @defer {
              story {
                id
              }
            }
          }
          subscription StoryLikeSubscription($input: StoryLikeSubscribeInput) {
            storyLikeSubscribe(input: $input) {
              story {
                likers {
                  count
                }
                likeSentence {
                  text
                }
              }
            }
          }
          fragment frag on Friend {
            foo(size: $size, bar: $b, obj: {key: "value", block: """
                block string uses \"""
            """})
          }
          {
            unnamed(truthy: true, falsey: false, nullish: null),
            query
          }
        )";
  const char* want = R"({"Fragments": [{"Name": "frag", "SelectionSet": [{"Alias": "foo", "Arguments": [{"Name": "size",
    "Value": {"Kind": 0, "Raw": "size"}}, {"Name": "bar", "Value": {"Kind": 0, "Raw": "b"}}, {"Name": "obj", "Value":
    {"Children": [{"Name": "key", "Value": {"Kind": 3, "Raw": "value"}}, {"Name": "block", "Value": {"Kind": 4,
    "Raw": "block string uses \"\"\""}}], "Kind": 9, "Raw": ""}}], "Name": "foo"}], "TypeCondition": "Friend"}],
    "Operations": [{"Name": "queryName", "Operation": "query", "SelectionSet": [{"Alias": "whoever123is", "Arguments":
    [{"Name": "id", "Value": {"Children": [{"Name": "", "Value": {"Kind": 1, "Raw": "123"}}, {"Name": "", "Value":
    {"Kind": 1, "Raw": "456"}}], "Kind": 8, "Raw": ""}}], "Name": "node", "SelectionSet": [{"Alias": "id", "Name": "id"},
    {"Directives": [{"Location": "", "Name": "defer"}], "SelectionSet": [{"Alias": "field2", "Name": "field2",
    "SelectionSet": [{"Alias": "id", "Name": "id"}, {"Alias": "alias", "Arguments": [{"Name": "first", "Value":
    {"Kind": 1, "Raw": "10"}}, {"Name": "after", "Value": {"Kind": 0, "Raw": "foo"}}], "Directives": [{"Arguments":
    [{"Name": "if", "Value": {"Kind": 0, "Raw": "foo"}}], "Location": "", "Name": "include"}], "Name": "field1",
    "SelectionSet": [{"Alias": "id", "Name": "id"}, {"Name": "frag"}]}]}], "TypeCondition": "User"}, {"Directives":
    [{"Arguments": [{"Name": "unless", "Value": {"Kind": 0, "Raw": "foo"}}], "Location": "", "Name": "skip"}],
    "SelectionSet": [{"Alias": "id", "Name": "id"}], "TypeCondition": ""}, {"SelectionSet": [{"Alias": "id",
    "Name": "id"}], "TypeCondition": ""}]}], "VariableDefinitions": [{"Type": {"NamedType": "ComplexType",
    "NonNull": false}, "Used": false, "Variable": "foo"}, {"DefaultValue": {"Kind": 7, "Raw": "MOBILE"}, "Type":
    {"NamedType": "Site", "NonNull": false}, "Used": false, "Variable": "site"}]}, {"Name": "likeStory", "Operation":
    "mutation", "SelectionSet": [{"Alias": "like", "Arguments": [{"Name": "story", "Value": {"Kind": 1, "Raw": "123"}}],
    "Directives": [{"Location": "", "Name": "defer"}], "Name": "like", "SelectionSet": [{"Alias": "story", "Name":
    "story", "SelectionSet": [{"Alias": "id", "Name": "id"}]}]}]}, {"Name": "StoryLikeSubscription", "Operation":
    "subscription", "SelectionSet": [{"Alias": "storyLikeSubscribe", "Arguments": [{"Name": "input", "Value":
    {"Kind": 0, "Raw": "input"}}], "Name": "storyLikeSubscribe", "SelectionSet": [{"Alias": "story", "Name": "story",
    "SelectionSet": [{"Alias": "likers", "Name": "likers", "SelectionSet": [{"Alias": "count", "Name": "count"}]},
    {"Alias": "likeSentence", "Name": "likeSentence", "SelectionSet": [{"Alias": "text", "Name": "text"}]}]}]}],
    "VariableDefinitions": [{"Type": {"NamedType": "StoryLikeSubscribeInput", "NonNull": false}, "Used": false,
    "Variable": "input"}]}, {"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "unnamed", "Arguments":
    [{"Name": "truthy", "Value": {"Kind": 5, "Raw": "true"}}, {"Name": "falsey", "Value": {"Kind": 5, "Raw": "false"}},
    {"Name": "nullish", "Value": {"Kind": 6, "Raw": "null"}}], "Name": "unnamed"}, {"Alias": "query", "Name":
    "query"}]}]})";
  EXPECT_EQ(parse_query(gql), with_value_flags(J(want)));
}

TEST_F(GraphQL, CommentsAreKeptAsGqlparserAttachesThem) {
  // gqlparser >= 2.5.15 records comments; OPA's AST carries them.
  EXPECT_EQ(parse_query("# This comment has a \xe0\xa8\x8a multi-byte character.\n"
                        "{ field(arg: \"Has a \xe0\xa8\x8a multi-byte character.\") }"),
            J(R"({"Operations": [{"Comment": {"List": [{"Value": "# This comment has a )"
              "\xe0\xa8\x8a"
              R"( multi-byte character."}]}, "Name": "", "Operation": "query", "SelectionSet": [{"Alias": "field",
              "Arguments": [{"Name": "arg", "Value": {"ExpectedTypeHasDefault": false, "Kind": 3, "Raw": "Has a )"
              "\xe0\xa8\x8a"
              R"( multi-byte character."}}], "Name": "field"}]}]})"));
  EXPECT_EQ(parse_query("{\n  # one\n  # two\n  a\n}"),
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "a",
              "Comment": {"List": [{"Value": "# one"}, {"Value": "# two"}]}, "Name": "a"}]}]})"));
  EXPECT_EQ(parse_schema("type A { b: Int }\n# trailing"),
            J(R"({"Comment": {"List": [{"Value": "# trailing"}]}, "Definitions": [{"BuiltIn": false, "Description": "",
              "Fields": [{"Description": "", "Name": "b", "Type": {"NamedType": "Int", "NonNull": false}}], "Kind": "OBJECT",
              "Name": "A"}]})"));
}

TEST_F(GraphQL, ConformanceParseQueryErrors) {
  auto err = [&](const std::string& q) { return error_of("graphql.parse_query", {Value::string(q)}); };
  const std::string p = "eval_builtin_error: graphql.parse_query: ";
  EXPECT_EQ(err("{"), p + "Expected Name, found <EOF> in GraphQL string at location 1:2");
  EXPECT_EQ(err("\n  { ...MissingOn }\n  fragment MissingOn Type\n"),
            p + "Expected \"on\", found Name \"Type\" in GraphQL string at location 3:22");
  EXPECT_EQ(err("{ field: {} }"), p + "Expected Name, found { in GraphQL string at location 1:10");
  EXPECT_EQ(err("notanoperation Foo { field }"), p + "Unexpected Name \"notanoperation\" in GraphQL string at location 1:1");
  EXPECT_EQ(err("..."), p + "Unexpected ... in GraphQL string at location 1:1");
  EXPECT_EQ(err("query Foo($x: Complex = { a: { b: [ $var ] } }) { field }"),
            p + "Unexpected $ in GraphQL string at location 1:37");
  EXPECT_EQ(err("fragment on on on { on }"), p + "Unexpected Name \"on\" in GraphQL string at location 1:10");
  EXPECT_EQ(err("{ ...on }"), p + "Expected Name, found } in GraphQL string at location 1:9");
  EXPECT_EQ(err("{__typename{...}}"), p + "Expected {, found } in GraphQL string at location 1:16");
  EXPECT_EQ(err("{...{__typename{...{}}}}"), p + "expected at least one definition, found } in GraphQL string at location 1:21");
  EXPECT_EQ(error_of("graphql.parse_query", {Value::integer(1)}),
            "eval_type_error: graphql.parse_query: operand 1 must be string but got number");
}

// ============================================================ parse_schema ASTs

TEST_F(GraphQL, ConformanceParseSchemaAsts) {
  const std::string hello = R"({"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name": "world", "Type": {"NamedType": "String", "NonNull": false}}], "Kind": "OBJECT", "Name": "Hello"})";
  EXPECT_EQ(parse_schema("type Hello {\n  world: String\n}"), J(R"({"Definitions": [)" + hello + "]}"));
  EXPECT_EQ(parse_schema("\"Description\"\ntype Hello { world: String }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "Description", "Fields": [{"Description": "", "Name": "world",
                 "Type": {"NamedType": "String", "NonNull": false}}], "Kind": "OBJECT", "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("\n          \"\"\"\n          Description\n          \"\"\"\n          type Hello {\n            world: String\n"
                         "          }\n          type Query {\n            hello: Hello\n          }\n"),
            J(R"({"Definitions":[{"BuiltIn":false,"Description":"Description","Fields":[{"Description":"","Name":"world",
                 "Type":{"NamedType":"String","NonNull":false}}],"Kind":"OBJECT","Name":"Hello"},{"BuiltIn":false,"Description":"",
                 "Fields":[{"Description":"","Name":"hello","Type":{"NamedType":"Hello","NonNull":false}}],"Kind":"OBJECT",
                 "Name":"Query"}]})"));
  EXPECT_EQ(parse_schema("type Hello { world(flag: Boolean = true): String }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Arguments": [{"DefaultValue":
                 {"ExpectedTypeHasDefault": false, "Kind": 5, "Raw": "true"}, "Description": "", "Name": "flag", "Type":
                 {"NamedType": "Boolean", "NonNull": false}}], "Description": "", "Name": "world", "Type": {"NamedType": "String",
                 "NonNull": false}}], "Kind": "OBJECT", "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("type Hello { world(things: [String]): String }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Arguments": [{"Description": "", "Name":
                 "things", "Type": {"Elem": {"NamedType": "String", "NonNull": false}, "NamedType": "", "NonNull": false}}],
                 "Description": "", "Name": "world", "Type": {"NamedType": "String", "NonNull": false}}], "Kind": "OBJECT",
                 "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("extend type Hello { world: String }"), J(R"({"Extensions": [)" + hello + "]}"));
  EXPECT_EQ(parse_schema("extend type Hello implements Greeting\nextend type Hello implements SecondGreeting"),
            J(R"({"Extensions": [{"BuiltIn": false, "Description": "", "Interfaces": ["Greeting"], "Kind": "OBJECT",
                 "Name": "Hello"}, {"BuiltIn": false, "Description": "", "Interfaces": ["SecondGreeting"], "Kind": "OBJECT",
                 "Name": "Hello"}]})"));
  std::string all;
  for (const char* k : {"SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM", "INPUT_OBJECT"})
    all += std::string(all.empty() ? "" : ",") + R"({"BuiltIn": false, "Description": "", "Directives": [{"Location": "", "Name": "deprecated"}], "Kind": ")" + k + R"(", "Name": "Foo"})";
  EXPECT_EQ(parse_schema("extend scalar Foo @deprecated\nextend type Foo @deprecated\nextend interface Foo @deprecated\n"
                         "extend union Foo @deprecated\nextend enum Foo @deprecated\nextend input Foo @deprecated"),
            J(R"({"Extensions": [)" + all + "]}"));
  EXPECT_EQ(parse_schema("schema { query: Query }"),
            J(R"({"Schema": [{"Description": "", "OperationTypes": [{"Operation": "query", "Type": "Query"}]}]})"));
  EXPECT_EQ(parse_schema("extend schema { mutation: Mutation }"),
            J(R"({"SchemaExtension": [{"Description": "", "OperationTypes": [{"Operation": "mutation", "Type": "Mutation"}]}]})"));
  EXPECT_EQ(parse_schema("extend schema @directive"),
            J(R"({"SchemaExtension": [{"Description": "", "Directives": [{"Location": "", "Name": "directive"}]}]})"));
  EXPECT_EQ(parse_schema("type Hello implements & Wo & rld { field: String }").get("Definitions")->array_items()[0].get("Interfaces")
                ->array_items(),
            J(R"(["Wo", "rld"])").array_items());
  EXPECT_EQ(parse_schema("enum Hello { WO, RLD }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "EnumValues": [{"Description": "", "Name": "WO"},
                 {"Description": "", "Name": "RLD"}], "Kind": "ENUM", "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("interface IA { id: ID! }\ninterface IIA implements IA { id: ID! }\ntype A implements IIA { id: ID! }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name": "id", "Type":
                 {"NamedType": "ID", "NonNull": true}}], "Kind": "INTERFACE", "Name": "IA"}, {"BuiltIn": false, "Description": "",
                 "Fields": [{"Description": "", "Name": "id", "Type": {"NamedType": "ID", "NonNull": true}}], "Interfaces": ["IA"],
                 "Kind": "INTERFACE", "Name": "IIA"}, {"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name":
                 "id", "Type": {"NamedType": "ID", "NonNull": true}}], "Interfaces": ["IIA"], "Kind": "OBJECT", "Name": "A"}]})"));
  EXPECT_EQ(parse_schema("union Hello = | Wo | Rld"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Kind": "UNION", "Name": "Hello", "Types": ["Wo", "Rld"]}]})"));
  EXPECT_EQ(parse_schema("scalar Hello"), J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Kind": "SCALAR", "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("input Hello { world: String }"),
            J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name": "world", "Type":
                 {"NamedType": "String", "NonNull": false}}], "Kind": "INPUT_OBJECT", "Name": "Hello"}]})"));
  EXPECT_EQ(parse_schema("directive @foo repeatable on FIELD"),
            J(R"({"Directives": [{"Description": "", "IsRepeatable": true, "Locations": ["FIELD"], "Name": "foo"}]})"));
  EXPECT_EQ(parse_schema("directive @onQuery on QUERY\ndirective @onVariableDefinition on VARIABLE_DEFINITION"),
            J(R"({"Directives": [{"Description": "", "IsRepeatable": false, "Locations": ["QUERY"], "Name": "onQuery"},
                 {"Description": "", "IsRepeatable": false, "Locations": ["VARIABLE_DEFINITION"], "Name": "onVariableDefinition"}]})"));
  EXPECT_EQ(parse_schema(""), Value::empty_object());
}

TEST_F(GraphQL, ConformanceParseSchemaErrors) {
  auto err = [&](const std::string& s) { return error_of("graphql.parse_schema", {Value::string(s)}); };
  const std::string p = "eval_builtin_error: graphql.parse_schema: ";
  EXPECT_EQ(err("type Hello {}"), p + "expected at least one definition, found } in GraphQL string at location 1:13");
  EXPECT_EQ(err("extend type Hello"), p + "Unexpected <EOF> in GraphQL string at location 1:18");
  EXPECT_EQ(err("\n  \"Description\"\n  extend type Hello {\n    world: String\n  }\n"),
            p + "Unexpected String \"Description\" in GraphQL string at location 2:4");
  EXPECT_EQ(err("\n  extend \"Description\" type Hello {\n    world: String\n  }\n"),
            p + "Unexpected String \"Description\" in GraphQL string at location 2:11");
  EXPECT_EQ(err("extend schema"), p + "Unexpected <EOF> in GraphQL string at location 1:14");
  EXPECT_EQ(err("enum Hello {}"), p + "expected at least one definition, found } in GraphQL string at location 1:13");
  EXPECT_EQ(err("interface Hello {}"), p + "expected at least one definition, found } in GraphQL string at location 1:18");
  EXPECT_EQ(err("union Hello = || Wo | Rld"), p + "Expected Name, found | in GraphQL string at location 1:16");
  EXPECT_EQ(err("union Hello = Wo || Rld"), p + "Expected Name, found | in GraphQL string at location 1:19");
  EXPECT_EQ(err("union Hello = | Wo | Rld |"), p + "Expected Name, found <EOF> in GraphQL string at location 1:27");
  EXPECT_EQ(err("\n  input Hello {\n    world(foo: Int): String\n  }\n"), p + "Expected :, found ( in GraphQL string at location 3:10");
  EXPECT_EQ(err("input Hello {}"), p + "expected at least one definition, found } in GraphQL string at location 1:14");
  EXPECT_EQ(err("directive @foo on FIELD | INCORRECT_LOCATION"),
            p + "Unexpected Name \"INCORRECT_LOCATION\" in GraphQL string at location 1:27");
  EXPECT_EQ(err("type o{d(g:["), p + "Expected Name, found <EOF> in GraphQL string at location 1:13");
  EXPECT_EQ(err("\"\"\"\r"), p + "Unexpected <Invalid> in GraphQL string at location 2:1");
}

// ============================================================ schema_is_valid

TEST_F(GraphQL, ConformanceSchemaIsValid) {
  for (const char* valid :
       {kEntitySchema, kLocaleSchema, "type DeprecatedType { deprecatedField: String @deprecated newField(deprecatedArg: Int): Boolean }\n"
                                      "enum DeprecatedEnum { ALPHA @deprecated }",
        "type Query { bar: String! }", "type Hello { world: String }", "\"Description\" type Hello { world: String }",
        "\"\"\"\nDescription\n\"\"\"\n# Even with comments between them\ntype Hello { world: String }",
        "type Hello { world(flag: Boolean): String }", "type Hello { world(flag: Boolean = true): String }",
        "type Hello { world(things: [String]): String }", "type Hello { world(argOne: Boolean, argTwo: Int): String }",
        "extend type Hello { world: String }",
        "type Query { x: Int }\ndirective @directive(a: String = \"b\") on SCHEMA\nextend schema @directive",
        "enum Hello { WORLD }", "enum Hello { WO, RLD }", "interface Hello { world: String }", "scalar Hello",
        "input Hello { world: String }", "directive @foo on FIELD",
        "directive @onQuery on QUERY\ndirective @onMutation on MUTATION\ndirective @onSubscription on SUBSCRIPTION\n"
        "directive @onField on FIELD\ndirective @onFragmentDefinition on FRAGMENT_DEFINITION\n"
        "directive @onFragmentSpread on FRAGMENT_SPREAD\ndirective @onInlineFragment on INLINE_FRAGMENT\n"
        "directive @onVariableDefinition on VARIABLE_DEFINITION",
        "directive @foo repeatable on FIELD", kEmployeeSchema, ""})
    EXPECT_TRUE(schema_is_valid(valid)) << valid;
  for (const char* invalid :
       {"type Hello {}", "extend type Hello implements Greeting", "extend type Hello implements Greeting\nextend type Hello implements SecondGreeting",
        "extend type Hello", "\"Description\"\nextend type Hello { world: String }", "extend \"Description\" type Hello { world: String }",
        "extend scalar Foo @deprecated\nextend type Foo @deprecated\nextend interface Foo @deprecated\nextend union Foo @deprecated\n"
        "extend enum Foo @deprecated\nextend input Foo @deprecated",
        "schema { query: Query }", "extend schema { mutation: Mutation }", "extend schema",
        "type Hello implements World { field: String }", "type Hello implements Wo & rld { field: String }",
        "type Hello implements & Wo & rld { field: String }", "enum Hello {}", "interface Hello {}",
        "interface IA { id: ID! }\ninterface IIA implements IA { id: ID! }\ntype A implements IIA { id: ID! }",
        "union Hello = World", "union Hello = Wo | Rld", "union Hello = | Wo | Rld", "union Hello = || Wo | Rld",
        "union Hello = Wo || Rld", "union Hello = | Wo | Rld |", "input Hello { world(foo: Int): String }", "input Hello {}",
        "directive @foo on FIELD | INCORRECT_LOCATION"})
    EXPECT_FALSE(schema_is_valid(invalid)) << invalid;
  // Not a string or object: false, never an error.
  EXPECT_TRUE(call("graphql.schema_is_valid", {Value::integer(1)}).is_false());
  // The AST of a valid schema is valid too.
  EXPECT_TRUE(call("graphql.schema_is_valid", {parse_schema(kEmployeeSchema)}).is_true());
}

TEST_F(GraphQL, SchemaValidationMessages) {
  auto msg = [&](const std::string& schema) {
    return error_of("graphql.parse", {Value::string("{ __typename }"), Value::string(schema)});
  };
  const std::string p = "eval_builtin_error: graphql.parse: Error in gqlparser SchemaDocument to Schema conversion: ";
  EXPECT_EQ(msg("type A { name: String }\ntype A { name: String }"), p + "input:2:6: Cannot redeclare type A.");
  EXPECT_EQ(msg("type A {\n  name: String\n  name: String\n}"), p + "input:3:3: Field A.name can only be defined once.");
  EXPECT_EQ(msg("type __FooBar { id: ID }"),
            p + "input:1:6: Name \"__FooBar\" must not begin with \"__\", which is reserved by GraphQL introspection.");
  EXPECT_EQ(msg("type Thing implements Object { id: ID! }\ntype Object { name: String }"),
            p + "input:1:6: \"Object\" is a non interface type OBJECT.");
  EXPECT_EQ(msg("type Bar implements BarInterface { someField: Int! }\ninterface BarInterface { id: ID! }"),
            p + "input:1:6: For Bar to implement BarInterface it must have a field called id.");
  EXPECT_EQ(msg("type Bar implements BarInterface {\n    id: Int!\n}\ninterface BarInterface { id: ID! }"),
            p + "input:2:5: For Bar to implement BarInterface the field id must have type ID!.");
  EXPECT_EQ(msg("union Foo = Bar | Baz\ntype Bar { id: ID }"), p + "input:1:7: Undefined type \"Baz\".");
  EXPECT_EQ(msg("union Foo = Baz\ninterface Baz { id: ID }"), p + "input:1:7: UNION type \"Baz\" must be OBJECT.");
  EXPECT_EQ(msg("scalar A\nextend type A { name: String }"),
            p + "input:2:13: Cannot extend type A because the base type is a SCALAR, not OBJECT.");
  EXPECT_EQ(msg("directive @A on FIELD_DEFINITION\ndirective @A on FIELD_DEFINITION"), p + "input:2:12: Cannot redeclare directive A.");
  EXPECT_EQ(msg("type User {\n  name: String @foo\n}"), p + "input:2:17: Undefined directive foo.");
  EXPECT_EQ(msg("directive @A(foo: Int! @A) on FIELD_DEFINITION"), p + "input:1:25: Directive A cannot refer to itself.");
  EXPECT_EQ(msg("directive @test on FIELD_DEFINITION\ninput I1 @test { f: String }"),
            p + "input:2:11: Directive test is not applicable on INPUT_OBJECT.");
  EXPECT_EQ(msg("schema {\n  query: Query\n}"), p + "input:2:3: Schema root query refers to a type Query that does not exist.");
  EXPECT_EQ(msg("type User {\n  posts: Post\n}"), p + "input:2:10: Undefined type Post.");
  EXPECT_EQ(msg("type Object { id: ID }\ntype Query { f(a: Object): Boolean! }"),
            p + "input:2:16: cannot use Object as argument a because OBJECT is not a valid input type");
  EXPECT_EQ(msg("input Input { id: ID }\ntype Query {\n  input: Input!\n}"),
            p + "input:3:3: OBJECT field must be one of SCALAR, OBJECT, INTERFACE, UNION, ENUM.");
  EXPECT_EQ(msg("interface IA { id: ID! }\ninterface IIA implements IA { id: ID! }\ntype A implements IIA { id: ID! }"),
            p + "input:3:6: Type A must implement IA because it is implemented by IIA.");
  // Covariant field types and optional extra arguments are fine.
  EXPECT_TRUE(schema_is_valid("union U = A|B\ntype A { name: String }\ntype B { name: String }\n"
                              "type Bar implements BarInterface { f: A! }\ninterface BarInterface { f: U! }"));
  EXPECT_TRUE(schema_is_valid("type Bar implements BarInterface { id(opt: Int! = 1): ID! }\ninterface BarInterface { id: ID! }"));
  EXPECT_FALSE(schema_is_valid("type Bar implements BarInterface { id(opt: Int!): ID! }\ninterface BarInterface { id: ID! }"));
}

// ==================================================================== is_valid

TEST_F(GraphQL, ConformanceIsValid) {
  EXPECT_TRUE(is_valid("{ entity { ... on User { id } } }", kEntitySchema));
  EXPECT_FALSE(is_valid("query SomeOperation {\n  # Note: Not providing mandatory parameter: (myEnum: Locale!)\n  myAction { id }\n}",
                        kLocaleSchema));
  EXPECT_TRUE(is_valid("query SomeOperation ($locale: Locale! = DE) { myAction(myEnum: $locale) { id } }", kLocaleSchema));
  EXPECT_TRUE(is_valid("", "type DeprecatedType { deprecatedField: String @deprecated newField(deprecatedArg: Int): Boolean }\n"
                           "enum DeprecatedEnum { ALPHA @deprecated }"));
  EXPECT_TRUE(is_valid("query Foo($flag: Boolean!) { ...Bar }\nfragment Bar on Query { bar @include(if: $flag) }",
                       "type Query { bar: String! }"));
  EXPECT_TRUE(call("graphql.is_valid", {parse_query("query { employeeByID(id: \"alice\") { salary }}"), parse_schema(kEmployeeSchema)})
                  .is_true());
  EXPECT_FALSE(is_valid("mutation{x(a:b)}", "type Query { bar: String! }\ntype Mutation { x: String! }"));
  // The same as AST objects.
  Value schema_ast = J(R"({"Definitions": [{"BuiltIn": false, "Description": "", "Fields": [{"Description": "", "Name": "bar",
      "Type": {"NamedType": "String", "NonNull": true}}], "Kind": "OBJECT", "Name": "Query"}, {"BuiltIn": false, "Description": "",
      "Fields": [{"Description": "", "Name": "x", "Type": {"NamedType": "String", "NonNull": true}}], "Kind": "OBJECT", "Name": "Mutation"}]})");
  Value query_ast = J(R"({"Operations": [{"Name": "", "Operation": "mutation", "SelectionSet": [{"Alias": "x", "Arguments":
      [{"Name": "a", "Value": {"Kind": 7, "Raw": "b"}}], "Name": "x"}]}]})");
  EXPECT_TRUE(call("graphql.is_valid", {query_ast, schema_ast}).is_false());
  // Wrong operand types: false.
  EXPECT_TRUE(call("graphql.is_valid", {Value::integer(1), Value::string("type Query { a: Int }")}).is_false());
  EXPECT_TRUE(call("graphql.is_valid", {Value::string("{ a }"), Value::array({})}).is_false());
  // OPA's own unit tests: an empty schema validates nothing but itself.
  EXPECT_FALSE(is_valid("{ employeeByID(id: \"charlie\") { id salary } }", ""));
  EXPECT_FALSE(is_valid("{ employeeByID(id: \"bob\") }", kEmployeeSchema));
}

// ======================================================= parse, parse_and_verify

TEST_F(GraphQL, ConformanceParse) {
  Value r = call("graphql.parse", {Value::string("{ entity { ... on User { id } } }"), Value::string(kEntitySchema)});
  EXPECT_EQ(r.array_items()[0],
            J(R"({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "entity", "Name": "entity",
                 "SelectionSet": [{"SelectionSet": [{"Alias": "id", "Name": "id"}], "TypeCondition": "User"}]}]}]})"));
  EXPECT_EQ(validation_error("query SomeOperation {\n    # Note: Not providing mandatory parameter: (myEnum: Locale!)\n"
                             "    myAction {\n      id\n    }\n  }",
                             kLocaleSchema),
            "Field \"myAction\" argument \"myEnum\" of type \"Locale!\" is required, but it was not provided in GraphQL string "
            "at location 3:5");
  r = call("graphql.parse", {Value::string("query SomeOperation ($locale: Locale! = DE) { myAction(myEnum: $locale) { id } }"),
                             Value::string(std::string("type Query { x: Int }\n") + kLocaleSchema)});
  EXPECT_EQ(r.array_items()[0],
            J(R"({"Operations": [{"Name": "SomeOperation", "Operation": "query", "SelectionSet": [{"Alias": "myAction",
                 "Arguments": [{"Name": "myEnum", "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "locale"}}],
                 "Name": "myAction", "SelectionSet": [{"Alias": "id", "Name": "id"}]}], "VariableDefinitions": [{"DefaultValue":
                 {"ExpectedTypeHasDefault": false, "Kind": 7, "Raw": "DE"}, "Type": {"NamedType": "Locale", "NonNull": true},
                 "Used": false, "Variable": "locale"}]}]})"));
  r = call("graphql.parse", {Value::string("query Foo($flag: Boolean!) { ...Bar }\nfragment Bar on Query { bar @include(if: $flag) }"),
                             Value::string("type Query { bar: String! }")});
  EXPECT_EQ(r.array_items()[0],
            J(R"({"Fragments": [{"Name": "Bar", "SelectionSet": [{"Alias": "bar", "Directives": [{"Arguments": [{"Name": "if",
                 "Value": {"ExpectedTypeHasDefault": false, "Kind": 0, "Raw": "flag"}}], "Location": "", "Name": "include"}],
                 "Name": "bar"}], "TypeCondition": "Query"}], "Operations": [{"Name": "Foo", "Operation": "query", "SelectionSet":
                 [{"Name": "Bar"}], "VariableDefinitions": [{"Type": {"NamedType": "Boolean", "NonNull": true}, "Used": false,
                 "Variable": "flag"}]}]})"));
  // AST objects in, the same AST objects out.
  Value schema_ast = parse_schema(kEmployeeSchema);
  Value query_ast = parse_query("query { employeeByID(id: \"alice\") { salary }}");
  EXPECT_EQ(call("graphql.parse", {query_ast, schema_ast}), Value::array({query_ast, schema_ast}));
  // OPA's unit-test fixture for the employee schema's AST.
  EXPECT_EQ(call("graphql.parse", {Value::string("{ employeeByID(id: \"alice\") { salary } }"), Value::string(kEmployeeSchema)}),
            J(R"([{"Operations":[{"Name":"","Operation":"query","SelectionSet":[{"Alias":"employeeByID","Arguments":[{"Name":"id",
                 "Value":{"ExpectedTypeHasDefault": false, "Kind":3,"Raw":"alice"}}],"Name":"employeeByID","SelectionSet":[{"Alias":
                 "salary","Name":"salary"}]}]}]}, {"Definitions":[{"BuiltIn":false,"Description":"","Fields":[{"Description":"",
                 "Name":"id","Type":{"NamedType":"String","NonNull":true}},{"Description":"","Name":"salary","Type":{"NamedType":
                 "Int","NonNull":true}}],"Kind":"OBJECT","Name":"Employee"},{"BuiltIn":false,"Description":"","Fields":[{"Arguments":
                 [{"Description":"","Name":"id","Type":{"NamedType":"String","NonNull":false}}],"Description":"","Name":
                 "employeeByID","Type":{"NamedType":"Employee","NonNull":false}}],"Kind":"OBJECT","Name":"Query"}],"Schema":
                 [{"Description":"","OperationTypes":[{"Operation":"query","Type":"Query"}]}]}])"));
  // Errors: wrong types say "operand 0"/"operand 1" as OPA does.
  EXPECT_EQ(error_of("graphql.parse", {Value::integer(1), Value::string("")}),
            "eval_type_error: graphql.parse: operand 0 must be one of {string, object} but got number");
  EXPECT_EQ(error_of("graphql.parse", {Value::string("{a}"), Value::boolean(true)}),
            "eval_type_error: graphql.parse: operand 1 must be one of {string, object} but got boolean");
  EXPECT_EQ(error_of("graphql.parse", {Value::string("{"), Value::string("")}),
            "eval_builtin_error: graphql.parse: Expected Name, found <EOF> in GraphQL string at location 1:2");
}

TEST_F(GraphQL, ConformanceParseAndVerify) {
  auto pv = [&](Value q, Value s) { return call("graphql.parse_and_verify", {std::move(q), std::move(s)}); };
  const Value failed = J("[false, {}, {}]");
  Value r = pv(Value::string("{ entity { ... on User { id } } }"), Value::string(kEntitySchema));
  EXPECT_TRUE(r.array_items()[0].is_true());
  EXPECT_EQ(pv(Value::string("query SomeOperation { myAction { id } }"), Value::string(kLocaleSchema)), failed);
  r = pv(Value::string(""), Value::string("type DeprecatedType { deprecatedField: String @deprecated }"));
  EXPECT_TRUE(r.array_items()[0].is_true());
  EXPECT_EQ(r.array_items()[1], Value::empty_object());
  Value schema_ast = parse_schema(kEmployeeSchema);
  Value query_ast = parse_query("query { employeeByID(id: \"alice\") { salary }}");
  EXPECT_EQ(pv(query_ast, schema_ast), Value::array({Value::true_value(), query_ast, schema_ast}));
  EXPECT_EQ(pv(Value::string("{employeeByID(\"alice\""), Value::string(kEmployeeSchema)), failed);
  EXPECT_EQ(pv(Value::string("{ employeeByID(id: \"alice\") { salary } }"), Value::string("type Broken {\n fixme\n\ntype Q")), failed);
  EXPECT_EQ(pv(Value::string("{ employeeByID(id:\"bob\") }"), Value::string(kEmployeeSchema)), failed);
  EXPECT_EQ(pv(Value::string("{ employeeByID(id: \"charlie\") { id salary } }"), Value::string("")), failed);
  EXPECT_EQ(pv(Value::integer(3), Value::string(kEmployeeSchema)), failed);
}

// ============================================================ through the engine

TEST(GraphQLEngine, ConformanceCasesAsPolicies) {
  // graphql_parse_query/success-basic-ast simple query, as the YAML writes it.
  EXPECT_EQ(result(eval(R"(package test
ast := {"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{"Alias": "hero", "Name": "hero",
        "SelectionSet": [{"Alias": "name", "Name": "name"}]}]}]}
p if { graphql.parse_query("{hero {name}}") == ast })",
                        "data.test.p")),
            "true");
  // graphql_is_valid/success validation rules are independent case 1: false, not undefined.
  EXPECT_EQ(result(eval(std::string(R"(package test
schema := `)") + kLocaleSchema + R"(`
query := `query SomeOperation { myAction { id } }`
p := x if { x = graphql.is_valid(query, schema) })",
                        "data.test.p")),
            "false");
  // graphql_parse/failure: undefined normally, an error in strict mode.
  const std::string failing = std::string(R"(package test
schema := `)") + kLocaleSchema + R"(`
query := `query SomeOperation {
  myAction { id }
}`
p if { graphql.parse(query, schema) })";
  EXPECT_EQ(result(eval(failing, "data.test.p")), "undefined");
  EXPECT_EQ(result(eval(failing, "data.test.p", /*strict=*/true)),
            "eval_builtin_error: graphql.parse: Field \"myAction\" argument \"myEnum\" of type \"Locale!\" is required, but it "
            "was not provided in GraphQL string at location 2:3");
  // graphql_parse_and_verify/success - AST objects - Employee example.
  EXPECT_EQ(result(eval(std::string(R"(package test
schema_ast := graphql.parse_schema(`)") + kEmployeeSchema + R"(`)
query_ast := graphql.parse_query(`query { employeeByID(id: "alice") { salary }}`)
p if {
  [valid, query_ast, schema_ast] = graphql.parse_and_verify(query_ast, schema_ast)
  valid
})",
                        "data.test.p")),
            "true");
  // graphql_schema_is_valid on a schema AST and on failure.
  EXPECT_EQ(result(eval(R"(package test
p := x if { x := graphql.schema_is_valid(`type Hello {}`) })",
                        "data.test.p")),
            "false");
  EXPECT_EQ(result(eval(R"(package test
p if { graphql.parse_query(`{`) })",
                        "data.test.p", true)),
            "eval_builtin_error: graphql.parse_query: Expected Name, found <EOF> in GraphQL string at location 1:2");
}

// ============================================================ validation rules

TEST_F(GraphQL, ValidationRules) {
  struct Case {
    const char* query;
    const char* error;  // "" = valid
  };
  // A message gqlparser ends with "." loses it (OPA trims ".\n"); one
  // without keeps the newline that ends gqlparser's error list.
  const Case cases[] = {
      {"{ hero { name } }", ""},
      {"{ hero { nme } }",
       "Cannot query field \"nme\" on type \"Character\". Did you mean \"name\"?\n in GraphQL string at location 1:10"},
      {"{ hero { primaryFunction } }",
       "Cannot query field \"primaryFunction\" on type \"Character\". Did you mean to use an inline fragment on \"Droid\"?\n"
       " in GraphQL string at location 1:10"},
      {"{ hero(episde: JEDI) { name } }",
       "Unknown argument \"episde\" on field \"Query.hero\". Did you mean \"episode\"?\n in GraphQL string at location 1:3"},
      {"{ hero { name @unknown } }", "Unknown directive \"@unknown\" in GraphQL string at location 1:16"},
      {"query @include(if: true) { hero { name } }", "Directive \"@include\" may not be used on QUERY in GraphQL string at location 1:8"},
      {"{ hero { ...Missing } }", "Unknown fragment \"Missing\" in GraphQL string at location 1:13"},
      {"{ hero { ... on Unknown { name } } }", "Unknown type \"Unknown\" in GraphQL string at location 1:14"},
      {"query A { hero { name } } { hero { name } }",
       "This anonymous operation must be the only defined operation in GraphQL string at location 1:27"},
      {"{ hero { ...F } } fragment F on Character { ...G } fragment G on Character { ...F }",
       "Cannot spread fragment \"F\" within itself via \"G\" in GraphQL string at location 1:81"},
      {"query Q { human(id: $id) { name } }", "Variable \"$id\" is not defined by operation \"Q\" in GraphQL string at location 1:21"},
      {"{ hero { name } } fragment Unused on Character { name }", "Fragment \"Unused\" is never used in GraphQL string at location 1:19"},
      {"query Q($x: ID) { hero { name } }", "Variable \"$x\" is never used in operation \"Q\" in GraphQL string at location 1:9"},
      {"{ hero { name: id name } }",
       "Fields \"name\" conflict because id and name are different fields. Use different aliases on the fields to fetch both if "
       "this was intentional in GraphQL string at location 1:19"},
      {"{ hero { ... on Starship { name } } }",
       "Fragment cannot be spread here as objects of type \"Character\" can never be of type \"Starship\" in GraphQL string at "
       "location 1:14"},
      {"{ human { name } }", "Field \"human\" argument \"id\" of type \"ID!\" is required, but it was not provided in GraphQL string at location 1:3"},
      {"{ hero }",
       "Field \"hero\" of type \"Character\" must have a selection of subfields. Did you mean \"hero { ... }\"?\n in GraphQL string at "
       "location 1:3"},
      // The leaf's own field is reported first: gqlparser's walk is post-order.
      {"{ hero { name { x } } }",
       "Cannot query field \"x\" on type \"String\".\ninput:1:10: Field \"name\" must not have a selection since type \"String\" has "
       "no subfields in GraphQL string at location 1:17"},
      {"subscription S { reviewAdded { stars } heroChanged { name } }",
       "Subscription \"S\" must select only one top level field in GraphQL string at location 1:40"},
      {"subscription { __typename }",
       "Anonymous Subscription must not select an introspection top level field in GraphQL string at location 1:16"},
      {"{ hero(episode: JEDI, episode: EMPIRE) { name } }",
       "There can be only one argument named \"episode\" in GraphQL string at location 1:23"},
      {"{ hero { name @skip(if: true) @skip(if: false) } }",
       "The directive \"@skip\" can only be used once at this location in GraphQL string at location 1:32"},
      {"{ hero { ...F } } fragment F on Character { name } fragment F on Character { name }",
       "There can be only one fragment named \"F\" in GraphQL string at location 1:52"},
      {"mutation { createReview(review: {stars: 1, stars: 2}) { stars } }",
       "There can be only one input field named \"stars\" in GraphQL string at location 1:44"},
      {"query A { hero { name } } query A { hero { id } }", "There can be only one operation named \"A\" in GraphQL string at location 1:27"},
      // Errors in gqlparser's walk order: the value, then the operation's rules.
      {"query Q($a: ID, $a: ID) { human(id: $a) { name } }",
       "Variable \"$a\" of type \"ID\" used in position expecting type \"ID!\".\ninput:1:17: Variable \"$a\" is never used in "
       "operation \"Q\".\ninput:1:17: There can be only one variable named \"$a\" in GraphQL string at location 1:37"},
      {"{ hero(episode: WRONG) { name } }", "Value \"WRONG\" does not exist in \"Episode\" enum in GraphQL string at location 1:17"},
      {"{ hero(episode: \"JEDI\") { name } }",
       "Enum \"Episode\" cannot represent non-enum value: \"JEDI\". Did you mean the enum value \"JEDI\"?\n in GraphQL string at "
       "location 1:18"},
      {"{ human(id: 1.5) { name } }", "ID cannot represent a non-string and non-integer value: 1.5\n in GraphQL string at location 1:13"},
      {"{ reviews(episode: JEDI, first: 3000000000) { stars } }", ""},
      {"{ reviews(episode: JEDI, first: \"x\") { stars } }", "Int cannot represent non-integer value: \"x\"\n in GraphQL string at location 1:34"},
      {"{ reviews(episode: JEDI, first: 99999999999999999999) { stars } }",
       "Int cannot represent non 32-bit signed integer value: 99999999999999999999\n in GraphQL string at location 1:33"},
      {"mutation { createReview(review: {commentary: \"x\"}) { stars } }",
       "Field \"ReviewInput.stars\" of required type \"Int!\" was not provided in GraphQL string at location 1:33"},
      {"mutation { createReview(review: {stars: 1, nope: 2}) { stars } }",
       "Field \"nope\" is not defined by type \"ReviewInput\" in GraphQL string at location 1:44"},
      {"{ find(filter: {byId: \"1\", byName: \"x\"}) { name } }",
       "OneOf Input Object \"Filter\" must specify exactly one key in GraphQL string at location 1:16"},
      {"query Q($h: Human) { hero { name } }",
       "Variable \"$h\" is never used in operation \"Q\".\ninput:1:9: Variable \"$h\" cannot be non-input type \"Human\" in GraphQL "
       "string at location 1:9"},
      {"query Q($e: Episode) { reviews(episode: $e) { stars } }",
       "Variable \"$e\" of type \"Episode\" used in position expecting type \"Episode!\" in GraphQL string at location 1:41"},
      {"query Q($e: Episode = JEDI) { reviews(episode: $e) { stars } }", ""},
      {"{ flags(values: [true, null]) }", "Expected value of type \"Boolean!\", found null in GraphQL string at location 1:24"},
      {"{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
       "Maximum introspection depth exceeded\n in GraphQL string at location 1:3"},
      {"{ __type(name: \"Human\") { name fields { name } } }", ""},
      {"{ hero { __typename ... on Human { height(unit: FOOT) } } }", ""},
      {"mutation { createReview(episode: JEDI, review: {stars: 5}) { stars commentary } }", ""},
      {"{ hero { ...H } } fragment H on Human { height }", ""},
      {"{ search(text: \"x\") { ... on Human { name } ... on Starship { length } } }", ""},
  };
  for (const Case& c : cases) EXPECT_EQ(validation_error(c.query, kStarWars), c.error) << c.query;
}

TEST_F(GraphQL, SeveralErrorsFollowOpaFormatting) {
  // OPA keeps the first location and the rest of gqlparser's error list.
  EXPECT_EQ(validation_error("{ a b }", "type Query { x: Int }"),
            "Cannot query field \"a\" on type \"Query\". Did you mean \"x\"?\ninput:1:5: Cannot query field \"b\" on type "
            "\"Query\". Did you mean \"x\"?\n in GraphQL string at location 1:3");
  EXPECT_EQ(validation_error("mutation { x }", "type Query { x: Int }"),
            "Schema does not support operation type \"mutation\"\n in GraphQL string at location 1:1");
}

// ============================================================ AST objects

TEST_F(GraphQL, AstObjectsDecodeLikeGo) {
  const std::string schema = "type Query { a: Int b(x: Int): Int }";
  // Every decoded selection is a Field (gqlparser's decoder tries Field
  // first), so an inline fragment in an AST object fails validation.
  Value q = parse_query("{ ... on Query { a } }");
  EXPECT_TRUE(call("graphql.is_valid", {Value::string("{ ... on Query { a } }"), Value::string(schema)}).is_true());
  EXPECT_TRUE(call("graphql.is_valid", {q, Value::string(schema)}).is_false());
  // Keys match case-insensitively in Go's default decoding, exactly in
  // gqlparser's own decoders (Field, OperationDefinition, ...).
  EXPECT_TRUE(call("graphql.is_valid", {J(R"({"operations": [{"Operation": "query", "SelectionSet": [{"Name": "a"}]}]})"),
                                        Value::string(schema)})
                  .is_true());
  EXPECT_TRUE(call("graphql.is_valid", {J(R"({"Operations": [{"operation": "query", "selectionSet": [{"Name": "a"}]}]})"),
                                        Value::string(schema)})
                  .is_true());  // keys ignored: an anonymous operation with no selections
  // Type mismatches are decoding errors: graphql.parse reports them.
  EXPECT_EQ(error_of("graphql.parse", {J(R"({"Operations": 5})"), Value::string(schema)}),
            "eval_builtin_error: graphql.parse: json: cannot unmarshal number into Go struct field "
            "QueryDocument.Operations of type ast.OperationList");
  EXPECT_TRUE(call("graphql.is_valid", {J(R"({"Operations": [{"Operation": "query", "SelectionSet": [{"Name": "b",
      "Arguments": [{"Name": "x", "Value": {"Kind": 1, "Raw": "1"}}]}]}]})"), Value::string(schema)}).is_true());
  // An argument value whose kind gqlparser does not know is refused, not a crash.
  EXPECT_TRUE(call("graphql.is_valid", {J(R"({"Operations": [{"Operation": "query", "SelectionSet": [{"Name": "b",
      "Arguments": [{"Name": "x", "Value": {"Kind": 42, "Raw": "1"}}]}]}]})"), Value::string(schema)}).is_false());
  EXPECT_TRUE(call("graphql.is_valid", {J(R"({"Operations": [{"Operation": "query", "SelectionSet": [{"Name": "b",
      "Arguments": [{"Name": "x"}]}]}]})"), Value::string(schema)}).is_false());
  // Validation errors on position-less ASTs have no location.
  EXPECT_EQ(error_of("graphql.parse", {J(R"({"Operations": [{"Operation": "query", "SelectionSet": [{"Name": "zz"}]}]})"),
                                       Value::string(schema)}),
            "eval_builtin_error: graphql.parse: GraphQL parse error: input: Cannot query field \"zz\" on type \"Query\".\n");
  // Schema ASTs round-trip.
  Value s = parse_schema("\"doc\" type Query { a(x: [Int!] = [1]): Int @deprecated(reason: \"no\") }\nenum E { A B }");
  EXPECT_EQ(call("graphql.parse", {Value::string("{ a }"), s}).array_items()[1], s);
}

// ============================================================ lexer details

TEST_F(GraphQL, LexerDetails) {
  auto raw = [&](const std::string& q) {
    return parse_query(q).get("Operations")->array_items()[0].get("SelectionSet")->array_items()[0].get("Arguments")
        ->array_items()[0].get("Value")->get("Raw")->str();
  };
  EXPECT_EQ(raw(R"({ f(a: "esc \" \\ \/ \b \f \n \r \t \u00e9 done") })"), "esc \" \\ / \b \f \n \r \t \xc3\xa9 done");
  EXPECT_EQ(raw("{ f(a: \"\"\"\n    indented\n      more\n    \"\"\") }"), "indented\n  more");
  EXPECT_EQ(raw("{ f(a: -12.5e3) }"), "-12.5e3");
  auto err = [&](const std::string& q) { return error_of("graphql.parse_query", {Value::string(q)}); };
  const std::string p = "eval_builtin_error: graphql.parse_query: ";
  // Lexer errors surface as gqlparser reports them: an unexpected Invalid token.
  EXPECT_EQ(err("{ f(a: \"unterminated) }"), p + "Unexpected <Invalid> in GraphQL string at location 1:24");
  EXPECT_EQ(err("{ f(a: 01) }"), p + "Unexpected <Invalid> in GraphQL string at location 1:9");
  EXPECT_EQ(err("{ a ? }"), p + "Expected Name, found <Invalid> in GraphQL string at location 1:5");
  EXPECT_EQ(err("\xef\xbb\xbf{ a"), p + "Expected Name, found <EOF> in GraphQL string at location 1:5");  // BOM is one rune
  EXPECT_EQ(err("{ a(x: \"\xe2\x82\xac\xe2\x82\xac) }"), p + "Unexpected <Invalid> in GraphQL string at location 1:14");
}

// ============================================================ hostile input

TEST_F(GraphQL, HostileInputFailsCleanly) {
  const std::string p = "eval_builtin_error: graphql.parse_query: ";
  // Deeply nested selections: a parse error, not a stack overflow.
  EXPECT_EQ(error_of("graphql.parse_query", {Value::string(std::string("{ a") + std::string(100000, '{'))}).rfind(p, 0), 0u);
  std::string nested = "{ ";
  for (int i = 0; i < 5000; ++i) nested += "a { ";
  EXPECT_NE(error_of("graphql.parse_query", {Value::string(nested)}).find("Exceeded maximum nesting depth"), std::string::npos);
  // Deep values and list types.
  EXPECT_NE(error_of("graphql.parse_query", {Value::string("{ f(a: " + std::string(10000, '[') + ") }")}).find("nesting"),
            std::string::npos);
  EXPECT_NE(error_of("graphql.parse_schema", {Value::string("type A { f: " + std::string(10000, '[') + "Int }")}).find("nesting"),
            std::string::npos);
  // Nesting just inside the limit works end to end.
  std::string ok = "{ ";
  for (int i = 0; i < 200; ++i) ok += "a { ";
  ok += "b";
  for (int i = 0; i < 200; ++i) ok += " }";
  ok += " }";
  EXPECT_TRUE(parse_query(ok).is_object());
  EXPECT_TRUE(is_valid(ok, "type Query { a: Query b: Int }"));
  // Unterminated strings and garbage bytes.
  EXPECT_EQ(error_of("graphql.parse_query", {Value::string("{ f(a: \"" + std::string(100000, 'x'))}).rfind(p, 0), 0u);
  EXPECT_EQ(error_of("graphql.parse_query", {Value::string("{ f(a: \"\"\"" + std::string(1000, 'x'))}).rfind(p, 0), 0u);
  EXPECT_EQ(error_of("graphql.parse_query", {Value::string(std::string("\x01\xff\xfe", 3))}).rfind(p, 0), 0u);
  EXPECT_EQ(error_of("graphql.parse_query", {Value::string(std::string("{ a\0b }", 7))}).rfind(p, 0), 0u);
  // A huge flat document parses and validates.
  std::string wide = "{ ";
  for (int i = 0; i < 20000; ++i) wide += "b" + std::to_string(i) + ": b ";
  wide += "}";
  EXPECT_TRUE(is_valid(wide, "type Query { b: Int }"));
  // Thousands of fields under one response name make the overlap check
  // quadratic: the work budget stops it with an error instead of spinning.
  std::string same = "{ ";
  for (int i = 0; i < 20000; ++i) same += "b ";
  same += "}";
  EXPECT_EQ(validation_error(same, "type Query { b: Int }"), "GraphQL parse error: input: GraphQL document too complex to validate\n");
  // Pathological fragment spreading: bounded work, a clean answer.
  std::string frags = "{ ...F0 }\n";
  for (int i = 0; i < 400; ++i)
    frags += "fragment F" + std::to_string(i) + " on Query { a: b ...F" + std::to_string(i + 1) + " }\n";
  frags += "fragment F400 on Query { a: b }\n";
  EXPECT_TRUE(is_valid(frags, "type Query { b: Int }"));
  // Deeply nested AST objects are refused.
  Value v = J(R"({"Name": "a"})");
  for (int i = 0; i < 1000; ++i) v = Value::object({{Value::string("Name"), Value::string("a")},
                                                    {Value::string("SelectionSet"), Value::array({v})}});
  Value doc = Value::object({{Value::string("Operations"),
                              Value::array({Value::object({{Value::string("Operation"), Value::string("query")},
                                                           {Value::string("SelectionSet"), Value::array({v})}})})}});
  EXPECT_TRUE(call("graphql.is_valid", {doc, Value::string("type Query { a: Query }")}).is_false());
  EXPECT_EQ(call("graphql.parse_and_verify", {doc, Value::string("type Query { a: Query }")}), J("[false, {}, {}]"));
}
