// GraphQL for the graphql.* builtins: a port of the parts of
// github.com/vektah/gqlparser/v2 that OPA uses (lexer, query and schema
// parser, schema builder, query validator), plus the conversions between its
// AST and Rego values that OPA performs.
//
// OPA hands gqlparser's Go structs to ast.InterfaceToValue (a JSON round
// trip), so the Rego shape of an AST is the Go field names of those structs;
// it then prunes "Position" keys, nulls and empty arrays/objects. AST objects
// passed back in are decoded the way Go's encoding/json would decode them into
// the same structs (including gqlparser's custom decoders, which read every
// selection as a Field). Everything here mirrors that behaviour, error
// messages included, because policies compare these values and messages.
//
// Hostile input: nesting (selection sets, values, type references) is bounded
// by kMaxNesting and validation work by a step budget, so a document cannot
// exhaust the native stack or run unbounded; both surface as ordinary errors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rego/value.h"

namespace confidant::rego::graphql {

// Deepest nesting of selection sets, values or list types the parser (and the
// AST decoder) accepts. Real documents stay far below it.
inline constexpr int kMaxNesting = 256;

// gqlparser's ast.Position, reduced to what errors need. line == 0: none
// (nodes decoded from Rego values carry no position unless given one).
struct Position {
  int line = 0;
  int column = 0;
  std::string file;  // Source.Name: "" for policy input, "prelude.graphql" for the built-in schema
  bool valid() const { return line != 0 || column != 0; }
};

// gqlerror.Error: Error() renders "FILE[:LINE:COL]: MESSAGE", FILE being
// "input" when the source has no name.
struct Error {
  std::string message;
  bool has_location = false;
  int line = 0;
  int column = 0;
  std::string file;
  std::string str() const;
};
Error error_at(const Position& pos, std::string message);
// gqlerror.List.Error(): every error followed by a newline.
std::string list_str(const std::vector<Error>& errors);

struct Comment {
  std::string value;  // the comment token, '#' included
};
struct CommentGroup {
  std::vector<Comment> list;
};
using Comments = std::shared_ptr<CommentGroup>;

struct Type {
  std::string named_type;
  std::shared_ptr<Type> elem;
  bool non_null = false;
  Position pos;
  const std::string& name() const { return named_type.empty() && elem ? elem->name() : named_type; }
  std::string str() const;
  bool is_compatible(const Type& other) const;
};
using TypePtr = std::shared_ptr<Type>;

enum class ValueKind : int { Variable = 0, Int, Float, String, Block, Boolean, Null, Enum, List, Object };

struct Definition;
struct FieldDefinition;
struct ArgumentDefinition;
struct DirectiveDefinition;
struct VariableDefinition;
struct FragmentDefinition;
struct GqlValue;
using GqlValuePtr = std::shared_ptr<GqlValue>;

struct ChildValue {
  std::string name;
  GqlValuePtr value;
  Position pos;
  Comments comment;
};

struct GqlValue {
  std::string raw;
  std::vector<ChildValue> children;
  ValueKind kind = ValueKind::Variable;
  Position pos;
  Comments comment;
  bool expected_type_has_default = false;
  // Set by validation.
  const Definition* definition = nullptr;
  VariableDefinition* variable_definition = nullptr;
  const Type* expected_type = nullptr;
  std::string str() const;  // ast.Value.String(), used in messages
};

struct Argument {
  std::string name;
  GqlValuePtr value;
  Position pos;
  Comments comment;
};

struct Directive {
  std::string name;
  std::vector<Argument> arguments;
  Position pos;
  std::string location;  // set by validation, serialised (as "" before it)
  // Set by validation.
  const Definition* parent_definition = nullptr;
  const DirectiveDefinition* definition = nullptr;
};

enum class SelectionKind { Field, FragmentSpread, InlineFragment };

// One struct for gqlparser's three selection types; `kind` says which fields
// apply (Field: alias, name, arguments; FragmentSpread: name; InlineFragment:
// type_condition; all: directives; Field and InlineFragment: selection_set).
struct Selection;
using SelectionPtr = std::shared_ptr<Selection>;
using SelectionSet = std::vector<SelectionPtr>;
struct Selection {
  SelectionKind kind = SelectionKind::Field;
  std::string alias;
  std::string name;
  std::vector<Argument> arguments;
  std::vector<Directive> directives;
  SelectionSet selection_set;
  std::string type_condition;
  Position pos;
  Comments comment;
  // Set by validation.
  const FieldDefinition* definition = nullptr;       // Field
  const Definition* object_definition = nullptr;     // all three
  const FragmentDefinition* fragment = nullptr;      // FragmentSpread
};

struct VariableDefinition {
  std::string variable;
  TypePtr type;
  GqlValuePtr default_value;
  std::vector<Directive> directives;
  Position pos;
  Comments comment;
  bool used = false;  // serialised; set by validation
  const Definition* definition = nullptr;
};
using VariableDefinitionPtr = std::shared_ptr<VariableDefinition>;

struct OperationDefinition {
  std::string operation;  // "query", "mutation", "subscription"
  std::string name;
  std::vector<VariableDefinitionPtr> variable_definitions;
  std::vector<Directive> directives;
  SelectionSet selection_set;
  Position pos;
  Comments comment;
};

struct FragmentDefinition {
  std::string name;
  std::vector<VariableDefinitionPtr> variable_definition;  // sic: gqlparser's field name
  std::string type_condition;
  std::vector<Directive> directives;
  SelectionSet selection_set;
  Position pos;
  Comments comment;
  const Definition* definition = nullptr;
};

struct QueryDocument {
  std::vector<std::shared_ptr<OperationDefinition>> operations;
  std::vector<std::shared_ptr<FragmentDefinition>> fragments;
  Comments comment;
};

struct ArgumentDefinition {
  std::string description;
  std::string name;
  GqlValuePtr default_value;
  TypePtr type;
  std::vector<Directive> directives;
  Position pos;
  Comments before_description, after_description;
};
using ArgumentDefinitionPtr = std::shared_ptr<ArgumentDefinition>;

struct FieldDefinition {
  std::string description;
  std::string name;
  std::vector<ArgumentDefinitionPtr> arguments;
  GqlValuePtr default_value;  // input objects only
  TypePtr type;
  std::vector<Directive> directives;
  Position pos;
  Comments before_description, after_description;
  const ArgumentDefinition* argument(std::string_view n) const;
};
using FieldDefinitionPtr = std::shared_ptr<FieldDefinition>;

struct EnumValueDefinition {
  std::string description;
  std::string name;
  std::vector<Directive> directives;
  Position pos;
  Comments before_description, after_description;
};

// Kinds are gqlparser's DefinitionKind strings ("OBJECT", "INPUT_OBJECT", ...).
struct Definition {
  std::string kind;
  std::string description;
  std::string name;
  std::vector<Directive> directives;
  std::vector<std::string> interfaces;
  std::vector<FieldDefinitionPtr> fields;
  std::vector<std::string> types;
  std::vector<std::shared_ptr<EnumValueDefinition>> enum_values;
  Position pos;
  bool builtin = false;
  Comments before_description, after_description, end_of_definition;
  const FieldDefinition* field(std::string_view n) const;
  bool is_leaf() const { return kind == "ENUM" || kind == "SCALAR"; }
  bool is_abstract() const { return kind == "INTERFACE" || kind == "UNION"; }
  bool is_composite() const { return kind == "OBJECT" || kind == "INTERFACE" || kind == "UNION"; }
  bool is_input() const { return kind == "SCALAR" || kind == "ENUM" || kind == "INPUT_OBJECT"; }
};
using DefinitionPtr = std::shared_ptr<Definition>;

struct DirectiveDefinition {
  std::string description;
  std::string name;
  std::vector<ArgumentDefinitionPtr> arguments;
  std::vector<std::string> locations;
  bool is_repeatable = false;
  Position pos;
  Comments before_description, after_description;
  const ArgumentDefinition* argument(std::string_view n) const;
};
using DirectiveDefinitionPtr = std::shared_ptr<DirectiveDefinition>;

struct OperationTypeDefinition {
  std::string operation;
  std::string type;
  Position pos;
  Comments comment;
};

struct SchemaDefinition {
  std::string description;
  std::vector<Directive> directives;
  std::vector<OperationTypeDefinition> operation_types;
  Position pos;
  Comments before_description, after_description, end_of_definition;
};
using SchemaDefinitionPtr = std::shared_ptr<SchemaDefinition>;

struct SchemaDocument {
  std::vector<SchemaDefinitionPtr> schema;
  std::vector<SchemaDefinitionPtr> schema_extension;
  std::vector<DirectiveDefinitionPtr> directives;
  std::vector<DefinitionPtr> definitions;
  std::vector<DefinitionPtr> extensions;
  Comments comment;
};

// ast.Schema: the validated, merged type system a query is checked against.
// It keeps the documents it was built from alive.
struct Schema {
  const Definition* query = nullptr;
  const Definition* mutation = nullptr;
  const Definition* subscription = nullptr;
  std::unordered_map<std::string, Definition*> types;
  std::vector<std::string> type_order;  // types in declaration order (deterministic iteration)
  std::unordered_map<std::string, const DirectiveDefinition*> directives;
  std::vector<std::string> directive_order;
  std::unordered_map<std::string, std::vector<const Definition*>> possible_types;
  std::unordered_map<std::string, std::vector<const Definition*>> implements;
  std::vector<std::shared_ptr<const SchemaDocument>> keep_alive;
  std::vector<std::shared_ptr<void>> owned;  // synthesised definitions (extensions of undeclared types, ...)
  const Definition* type(std::string_view name) const;
};

// --- parsing (parser.ParseQuery / parser.ParseSchema) -----------------------
std::shared_ptr<QueryDocument> parse_query(std::string_view source, Error& err);
// `builtin` marks the definitions as the prelude's (Source.BuiltIn).
std::shared_ptr<SchemaDocument> parse_schema(std::string_view source, Error& err, bool builtin = false,
                                             std::string_view file = "");

// --- AST <-> Rego values ------------------------------------------------------
// ast.InterfaceToValue followed by OPA's pruneIrrelevantGraphQLASTNodes.
Value query_to_value(const QueryDocument& doc);
Value schema_to_value(const SchemaDocument& doc);
// json.Unmarshal of the value's JSON into gqlparser's QueryDocument /
// SchemaDocument. nullptr with a Go-style message on a decoding error.
std::shared_ptr<QueryDocument> query_from_value(const Value& v, std::string& err);
std::shared_ptr<SchemaDocument> schema_from_value(const Value& v, std::string& err);

// --- validation ---------------------------------------------------------------
// OPA's convertSchema: the prelude merged with `doc`, then
// validator.ValidateSchemaDocument. Mutates `doc`'s definitions (extensions are
// folded in), so convert `doc` to a value first.
std::unique_ptr<Schema> build_schema(const std::shared_ptr<SchemaDocument>& doc, Error& err);
// validator.Validate with gqlparser's default rules, errors in its order.
// Annotates `doc` (Used flags, definitions).
std::vector<Error> validate_query(const Schema& schema, QueryDocument& doc);

// --- helpers shared with the validator ----------------------------------------
std::string go_quote(std::string_view s);  // strconv.Quote

}  // namespace confidant::rego::graphql
