// graphql.parse, graphql.parse_and_verify, graphql.parse_query,
// graphql.parse_schema, graphql.is_valid and graphql.schema_is_valid, as OPA's
// topdown/graphql.go defines them on top of gqlparser (graphql_parser.h).
//
// Which failures are errors and which are values follows OPA:
//  - parse_query / parse_schema / parse: parse, decode and validation
//    failures are builtin errors (undefined, or an error in strict mode);
//  - parse_and_verify: any failure gives [false, {}, {}];
//  - is_valid / schema_is_valid: any failure, a wrong operand type included,
//    gives false.
// Schema and query ASTs may be given as strings or as the objects these
// builtins return.
#include <memory>
#include <string>

#include "rego/builtins/builtins.h"
#include "rego/builtins/graphql_parser.h"

namespace confidant::rego {
namespace {

namespace gql = graphql;

// OPA's formatGqlParserError: "MSG in GraphQL string at location L:C" when the
// gqlparser error text starts "FILE:LINE:COL:", else the whole text behind
// "GraphQL parse error: ". For an error list only the first location is kept
// and the remaining text (the other errors included) becomes the message,
// less one trailing ".\n" — exactly what OPA's string splitting does.
std::string format_gql_error(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 3) {
    const size_t colon = text.find(':', start);
    if (colon == std::string::npos) break;
    parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(text.substr(start));
  auto parse_uint = [](const std::string& s, uint64_t& out) {
    if (s.empty() || s.size() > 19) return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  uint64_t row = 0, col = 0;
  if (parts.size() >= 4 && parse_uint(parts[1], row) && parse_uint(parts[2], col)) {
    std::string msg = parts[3];
    msg.erase(0, msg.find_first_not_of(' ') == std::string::npos ? msg.size() : msg.find_first_not_of(' '));
    if (msg.size() >= 2 && msg.compare(msg.size() - 2, 2, ".\n") == 0) msg.resize(msg.size() - 2);
    return msg + " in GraphQL string at location " + std::to_string(row) + ":" + std::to_string(col);
  }
  return "GraphQL parse error: " + text;
}

// NewOperandTypeErr(pos, x, "string", "object"): OPA passes the 0-based
// position here, so the message says "operand 0" for the first argument.
[[noreturn]] void string_or_object_error(std::string_view name, int pos, const Value& got) {
  throw BuiltinError("eval_type_error", std::string(name) + ": operand " + std::to_string(pos) +
                                           " must be one of {string, object} but got " + kind_name(got.kind()));
}

// A query or schema operand: parsed from a string, decoded from an object.
// `failure` receives the message OPA would report; nullptr means "not a
// string or object" when `failure` stays empty.
std::shared_ptr<gql::QueryDocument> query_operand(const Value& v, std::string& failure) {
  if (v.is_string()) {
    gql::Error err;
    auto doc = gql::parse_query(v.str(), err);
    if (!doc) failure = format_gql_error(err.str());
    return doc;
  }
  if (v.is_object()) {
    auto doc = gql::query_from_value(v, failure);
    return doc;
  }
  return nullptr;
}

std::shared_ptr<gql::SchemaDocument> schema_operand(const Value& v, std::string& failure) {
  if (v.is_string()) {
    gql::Error err;
    auto doc = gql::parse_schema(v.str(), err);
    if (!doc) failure = format_gql_error(err.str());
    return doc;
  }
  if (v.is_object()) return gql::schema_from_value(v, failure);
  return nullptr;
}

Value graphql_parse_query(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "graphql.parse_query";
  const std::string& src = arg_string(kName, args, 0);
  gql::Error err;
  auto doc = gql::parse_query(src, err);
  if (!doc) builtin_error(kName, format_gql_error(err.str()));
  return gql::query_to_value(*doc);
}

Value graphql_parse_schema(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "graphql.parse_schema";
  const std::string& src = arg_string(kName, args, 0);
  gql::Error err;
  auto doc = gql::parse_schema(src, err);
  if (!doc) builtin_error(kName, format_gql_error(err.str()));
  return gql::schema_to_value(*doc);
}

Value graphql_parse(BuiltinContext&, std::span<const Value> args) {
  static constexpr std::string_view kName = "graphql.parse";
  std::string failure;
  auto query = query_operand(args[0], failure);
  if (!query) {
    if (failure.empty()) string_or_object_error(kName, 0, args[0]);
    builtin_error(kName, failure);
  }
  auto schema_doc = schema_operand(args[1], failure);
  if (!schema_doc) {
    if (failure.empty()) string_or_object_error(kName, 1, args[1]);
    builtin_error(kName, failure);
  }
  // The ASTs are converted before validation annotates and extends them.
  Value schema_value = gql::schema_to_value(*schema_doc);
  gql::Error err;
  auto schema = gql::build_schema(schema_doc, err);
  if (!schema) builtin_error(kName, "Error in gqlparser SchemaDocument to Schema conversion: " + err.str());
  Value query_value = gql::query_to_value(*query);
  auto errors = gql::validate_query(*schema, *query);
  if (!errors.empty()) builtin_error(kName, format_gql_error(gql::list_str(errors)));
  return Value::array({query_value, schema_value});
}

Value graphql_parse_and_verify(BuiltinContext&, std::span<const Value> args) {
  static const Value unverified = Value::array({Value::false_value(), Value::empty_object(), Value::empty_object()});
  std::string failure;
  auto query = query_operand(args[0], failure);
  if (!query) return unverified;
  Value query_value = gql::query_to_value(*query);
  auto schema_doc = schema_operand(args[1], failure);
  if (!schema_doc) return unverified;
  Value schema_value = gql::schema_to_value(*schema_doc);
  gql::Error err;
  auto schema = gql::build_schema(schema_doc, err);
  if (!schema) return unverified;
  if (!gql::validate_query(*schema, *query).empty()) return unverified;
  return Value::array({Value::true_value(), query_value, schema_value});
}

Value graphql_is_valid(BuiltinContext&, std::span<const Value> args) {
  std::string failure;
  auto query = query_operand(args[0], failure);
  if (!query) return Value::false_value();
  auto schema_doc = schema_operand(args[1], failure);
  if (!schema_doc) return Value::false_value();
  gql::Error err;
  auto schema = gql::build_schema(schema_doc, err);
  if (!schema) return Value::false_value();
  return Value::boolean(gql::validate_query(*schema, *query).empty());
}

Value graphql_schema_is_valid(BuiltinContext&, std::span<const Value> args) {
  std::string failure;
  auto schema_doc = schema_operand(args[0], failure);
  if (!schema_doc) return Value::false_value();
  gql::Error err;
  return Value::boolean(gql::build_schema(schema_doc, err) != nullptr);
}

}  // namespace

void register_graphql(BuiltinRegistry& r) {
  r.add("graphql.parse", 2, graphql_parse);
  r.add("graphql.parse_and_verify", 2, graphql_parse_and_verify);
  r.add("graphql.parse_query", 1, graphql_parse_query);
  r.add("graphql.parse_schema", 1, graphql_parse_schema);
  r.add("graphql.is_valid", 2, graphql_is_valid);
  r.add("graphql.schema_is_valid", 1, graphql_schema_is_valid);
}

}  // namespace confidant::rego
