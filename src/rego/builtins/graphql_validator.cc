// GraphQL schema building and query validation: gqlparser's
// validator.ValidateSchemaDocument, its walker and its default rule set, in
// the order gqlparser registers them (so multi-error messages list errors as
// OPA does). Messages are gqlparser's, word for word.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "rego/builtins/graphql_parser.h"

namespace confidant::rego::graphql {

namespace {

// ================================================================= prelude
// validator/prelude.graphql: the built-in scalars, directives and
// introspection types every schema is merged with.
constexpr std::string_view kPrelude = R"GQL(# This file defines all the implicitly declared types that are required by the graphql spec. It is implicitly included by calls to LoadSchema

"The `Int` scalar type represents non-fractional signed whole numeric values. Int can represent values between -(2^31) and 2^31 - 1."
scalar Int

"The `Float` scalar type represents signed double-precision fractional values as specified by [IEEE 754](http://en.wikipedia.org/wiki/IEEE_floating_point)."
scalar Float

"The `String`scalar type represents textual data, represented as UTF-8 character sequences. The String type is most often used by GraphQL to represent free-form human-readable text."
scalar String

"The `Boolean` scalar type represents `true` or `false`."
scalar Boolean

"""The `ID` scalar type represents a unique identifier, often used to refetch an object or as key for a cache. The ID type appears in a JSON response as a String; however, it is not intended to be human-readable. When expected as an input type, any string (such as "4") or integer (such as 4) input value will be accepted as an ID."""
scalar ID

"Directs the executor to defer this fragment when the `if` argument is true or undefined."
directive @defer(
  "Deferred when true or undefined."
  if: Boolean = true,
  "Unique name"
  label: String
) on FRAGMENT_SPREAD | INLINE_FRAGMENT

"The @deprecated built-in directive is used within the type system definition language to indicate deprecated portions of a GraphQL service's schema, such as deprecated fields on a type, arguments on a field, input fields on an input type, or values of an enum type."
directive @deprecated(reason: String = "No longer supported") on FIELD_DEFINITION | ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE

"The @include directive may be provided for fields, fragment spreads, and inline fragments, and allows for conditional inclusion during execution as described by the if argument."
directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"The @skip directive may be provided for fields, fragment spreads, and inline fragments, and allows for conditional exclusion during execution as described by the if argument."
directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT

"The @specifiedBy built-in directive is used within the type system definition language to provide a scalar specification URL for specifying the behavior of custom scalar types."
directive @specifiedBy(url: String!) on SCALAR

"The @oneOf built-in directive is used within the type system definition language to indicate an Input Object is a OneOf Input Object."
directive @oneOf on INPUT_OBJECT

type __Schema {
  description: String
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}

type __Type {
  kind: __TypeKind!
  name: String
  description: String
  # must be non-null for OBJECT and INTERFACE, otherwise null.
  fields(includeDeprecated: Boolean = false): [__Field!]
  # must be non-null for OBJECT and INTERFACE, otherwise null.
  interfaces: [__Type!]
  # must be non-null for INTERFACE and UNION, otherwise null.
  possibleTypes: [__Type!]
  # must be non-null for ENUM, otherwise null.
  enumValues(includeDeprecated: Boolean = false): [__EnumValue!]
  # must be non-null for INPUT_OBJECT, otherwise null.
  inputFields(includeDeprecated: Boolean = false): [__InputValue!]
  # must be non-null for NON_NULL and LIST, otherwise null.
  ofType: __Type
  # may be non-null for custom SCALAR, otherwise null.
  specifiedByURL: String
  isOneOf: Boolean
}

type __Field {
  name: String!
  description: String
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  type: __Type!
  isDeprecated: Boolean!
  deprecationReason: String
}

type __InputValue {
  name: String!
  description: String
  type: __Type!
  defaultValue: String
  isDeprecated: Boolean!
  deprecationReason: String
}

type __EnumValue {
  name: String!
  description: String
  isDeprecated: Boolean!
  deprecationReason: String
}

enum __TypeKind {
  SCALAR
  OBJECT
  INTERFACE
  UNION
  ENUM
  INPUT_OBJECT
  LIST
  NON_NULL
}

type __Directive {
  name: String!
  description: String
  locations: [__DirectiveLocation!]!
  args(includeDeprecated: Boolean = false): [__InputValue!]!
  isRepeatable: Boolean!
}

enum __DirectiveLocation {
  QUERY
  MUTATION
  SUBSCRIPTION
  FIELD
  FRAGMENT_DEFINITION
  FRAGMENT_SPREAD
  INLINE_FRAGMENT
  VARIABLE_DEFINITION
  SCHEMA
  SCALAR
  OBJECT
  FIELD_DEFINITION
  ARGUMENT_DEFINITION
  INTERFACE
  UNION
  ENUM
  ENUM_VALUE
  INPUT_OBJECT
  INPUT_FIELD_DEFINITION
}
)GQL";

TypePtr named_type(const std::string& name, bool non_null) {
  auto t = std::make_shared<Type>();
  t->named_type = name;
  t->non_null = non_null;
  return t;
}

// ============================================================ schema build

struct SchemaError {
  Error error;
};

[[noreturn]] void fail(const Position& pos, std::string message) { throw SchemaError{error_at(pos, std::move(message))}; }

bool valid_kind(const std::string& kind, std::initializer_list<const char*> kinds) {
  for (const char* k : kinds)
    if (kind == k) return true;
  return false;
}

std::string kind_list(std::initializer_list<const char*> kinds) {
  std::string out;
  for (const char* k : kinds) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

void validate_name(const Position& pos, const std::string& name) {
  if (name.rfind("__", 0) == 0)
    fail(pos, "Name \"" + name + "\" must not begin with \"__\", which is reserved by GraphQL introspection.");
}

void validate_directives(const Schema& schema, std::vector<Directive>& dirs, const std::string& location,
                         const DirectiveDefinition* current) {
  for (Directive& dir : dirs) {
    validate_name(dir.pos, dir.name);
    if (current && dir.name == current->name) fail(dir.pos, "Directive " + current->name + " cannot refer to itself.");
    auto it = schema.directives.find(dir.name);
    if (it == schema.directives.end()) fail(dir.pos, "Undefined directive " + dir.name + ".");
    const auto& locs = it->second->locations;
    if (std::find(locs.begin(), locs.end(), location) == locs.end())
      fail(dir.pos, "Directive " + dir.name + " is not applicable on " + location + ".");
    dir.definition = it->second;
  }
}

void validate_type_ref(const Schema& schema, const Type& t) {
  if (!schema.type(t.name())) fail(t.pos, "Undefined type " + t.name() + ".");
}

void validate_args(const Schema& schema, std::vector<ArgumentDefinitionPtr>& args, const DirectiveDefinition* current) {
  for (auto& arg : args) {
    validate_name(arg->pos, arg->name);
    validate_type_ref(schema, *arg->type);
    const Definition* def = schema.type(arg->type->name());
    if (!def->is_input())
      fail(arg->pos, "cannot use " + arg->type->str() + " as argument " + arg->name + " because " + def->kind +
                         " is not a valid input type");
    validate_directives(schema, arg->directives, "ARGUMENT_DEFINITION", current);
  }
}

// isCovariant: may a field of type `actual` stand in for `required`?
bool is_covariant(const Schema& schema, const Type* required, const Type* actual, int depth = 0) {
  if (!required || !actual || depth > kMaxNesting) return false;
  if (required->non_null && !actual->non_null) return false;
  if (!required->named_type.empty()) {
    if (required->named_type == actual->named_type) return true;
    auto it = schema.possible_types.find(required->named_type);
    if (it != schema.possible_types.end())
      for (const Definition* pt : it->second)
        if (pt && pt->name == actual->named_type) return true;
    return false;
  }
  if (required->elem && !actual->elem) return false;
  return is_covariant(schema, required->elem.get(), actual->elem.get(), depth + 1);
}

void validate_implements(const Schema& schema, const Definition& def, const std::string& intf_name) {
  const Definition* intf = schema.type(intf_name);
  if (!intf) fail(def.pos, "Undefined type " + go_quote(intf_name) + ".");
  if (intf->kind != "INTERFACE") fail(def.pos, go_quote(intf_name) + " is a non interface type " + intf->kind + ".");
  for (const auto& required : intf->fields) {
    const FieldDefinition* found = def.field(required->name);
    if (!found)
      fail(def.pos, "For " + def.name + " to implement " + intf->name + " it must have a field called " + required->name + ".");
    if (!is_covariant(schema, required->type.get(), found->type.get()))
      fail(found->pos, "For " + def.name + " to implement " + intf->name + " the field " + required->name +
                           " must have type " + required->type->str() + ".");
    for (const auto& required_arg : required->arguments) {
      const ArgumentDefinition* found_arg = found->argument(required_arg->name);
      if (!found_arg)
        fail(found->pos, "For " + def.name + " to implement " + intf->name + " the field " + required->name +
                             " must have the same arguments but it is missing " + required_arg->name + ".");
      if (!required_arg->type->is_compatible(*found_arg->type))
        fail(found_arg->pos, "For " + def.name + " to implement " + intf->name + " the field " + required->name +
                                 " must have the same arguments but " + required_arg->name + " has the wrong type.");
    }
    for (const auto& found_arg : found->arguments) {
      if (!required->argument(found_arg->name) && found_arg->type->non_null && !found_arg->default_value)
        fail(found_arg->pos, "For " + def.name + " to implement " + intf->name + " any additional arguments on " +
                                 found->name + " must be optional or have a default value but " + found_arg->name +
                                 " is required.");
    }
  }
  // The spec (and OPA, through gqlparser) requires a type to name every
  // interface its interfaces implement.
  for (const std::string& transitive : intf->interfaces) {
    if (transitive == def.name) continue;
    if (std::find(def.interfaces.begin(), def.interfaces.end(), transitive) == def.interfaces.end())
      fail(def.pos, "Type " + def.name + " must implement " + transitive + " because it is implemented by " + intf->name + ".");
  }
}

const char* directive_location_for(const std::string& kind) {
  if (kind == "SCALAR") return "SCALAR";
  if (kind == "OBJECT") return "OBJECT";
  if (kind == "INTERFACE") return "INTERFACE";
  if (kind == "UNION") return "UNION";
  if (kind == "ENUM") return "ENUM";
  if (kind == "INPUT_OBJECT") return "INPUT_OBJECT";
  return "";
}

void validate_definition(const Schema& schema, Definition& def) {
  const bool input = def.kind == "INPUT_OBJECT";
  for (auto& field : def.fields) {
    validate_name(field->pos, field->name);
    validate_type_ref(schema, *field->type);
    validate_args(schema, field->arguments, nullptr);
    validate_directives(schema, field->directives, input ? "INPUT_FIELD_DEFINITION" : "FIELD_DEFINITION", nullptr);
  }
  for (const std::string& t : def.types) {
    const Definition* td = schema.type(t);
    if (!td) fail(def.pos, "Undefined type " + go_quote(t) + ".");
    if (!valid_kind(td->kind, {"OBJECT"})) fail(def.pos, def.kind + " type " + go_quote(t) + " must be OBJECT.");
  }
  for (const std::string& intf : def.interfaces) {
    if (intf == def.name) fail(def.pos, "Type " + def.name + " cannot implement itself because it would create a circular reference.");
    validate_implements(schema, def, intf);
  }
  if (def.kind == "OBJECT" || def.kind == "INTERFACE") {
    if (def.fields.empty()) fail(def.pos, def.kind + " must define one or more fields.");
    for (const auto& field : def.fields)
      if (const Definition* t = schema.type(field->type->name()))
        if (!valid_kind(t->kind, {"SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM"}))
          fail(field->pos, def.kind + " field must be one of " + kind_list({"SCALAR", "OBJECT", "INTERFACE", "UNION", "ENUM"}) + ".");
  } else if (def.kind == "ENUM") {
    if (def.enum_values.empty()) fail(def.pos, def.kind + " must define one or more unique enum values.");
  } else if (input) {
    if (def.fields.empty()) fail(def.pos, def.kind + " must define one or more input fields.");
    for (const auto& field : def.fields)
      if (const Definition* t = schema.type(field->type->name()))
        if (!valid_kind(t->kind, {"SCALAR", "ENUM", "INPUT_OBJECT"}))
          fail(field->pos, def.kind + " field must be one of " + kind_list({"SCALAR", "ENUM", "INPUT_OBJECT"}) + ".");
  }
  for (size_t i = 0; i < def.fields.size(); ++i)
    for (size_t j = i + 1; j < def.fields.size(); ++j)
      if (def.fields[i]->name == def.fields[j]->name)
        fail(def.fields[j]->pos, "Field " + def.name + "." + def.fields[j]->name + " can only be defined once.");
  if (!def.builtin) validate_name(def.pos, def.name);
  for (auto& ev : def.enum_values) validate_directives(schema, ev->directives, "ENUM_VALUE", nullptr);
  validate_directives(schema, def.directives, directive_location_for(def.kind), nullptr);
}

void set_root(Schema& schema, const OperationTypeDefinition& entry) {
  const Definition* def = schema.type(entry.type);
  if (!def)
    fail(entry.pos, "Schema root " + entry.operation + " refers to a type " + entry.type + " that does not exist.");
  if (entry.operation == "query") schema.query = def;
  if (entry.operation == "mutation") schema.mutation = def;
  if (entry.operation == "subscription") schema.subscription = def;
}

}  // namespace

std::unique_ptr<Schema> build_schema(const std::shared_ptr<SchemaDocument>& user, Error& err) {
  Error perr;
  std::shared_ptr<SchemaDocument> prelude = parse_schema(kPrelude, perr, /*builtin=*/true, "prelude.graphql");
  if (!prelude) {  // cannot happen: the prelude is a constant
    err = perr;
    return nullptr;
  }
  auto schema = std::make_unique<Schema>();
  schema->keep_alive = {prelude, user};
  // SchemaDocument.Merge(prelude) then Merge(user).
  SchemaDocument merged;
  for (const SchemaDocument* d : {prelude.get(), user.get()}) {
    merged.schema.insert(merged.schema.end(), d->schema.begin(), d->schema.end());
    merged.schema_extension.insert(merged.schema_extension.end(), d->schema_extension.begin(), d->schema_extension.end());
    merged.directives.insert(merged.directives.end(), d->directives.begin(), d->directives.end());
    merged.definitions.insert(merged.definitions.end(), d->definitions.begin(), d->definitions.end());
    merged.extensions.insert(merged.extensions.end(), d->extensions.begin(), d->extensions.end());
  }
  Schema& s = *schema;
  try {
    for (const auto& def : merged.definitions) {
      if (s.types.count(def->name)) fail(def->pos, "Cannot redeclare type " + def->name + ".");
      s.types[def->name] = def.get();
      s.type_order.push_back(def->name);
    }
    std::vector<Definition*> defs;
    for (const auto& def : merged.definitions) defs.push_back(def.get());
    for (const auto& ext : merged.extensions) {
      Definition* def = s.types.count(ext->name) ? s.types[ext->name] : nullptr;
      if (!def) {
        // Extending an undeclared type declares it (federation schemas rely on this).
        auto created = std::make_shared<Definition>();
        created->kind = ext->kind;
        created->name = ext->name;
        created->pos = ext->pos;
        s.owned.push_back(created);
        def = created.get();
        s.types[ext->name] = def;
        s.type_order.push_back(ext->name);
        defs.push_back(def);
      }
      if (def->kind != ext->kind)
        fail(ext->pos, "Cannot extend type " + ext->name + " because the base type is a " + def->kind + ", not " + ext->kind + ".");
      def->directives.insert(def->directives.end(), ext->directives.begin(), ext->directives.end());
      def->interfaces.insert(def->interfaces.end(), ext->interfaces.begin(), ext->interfaces.end());
      def->fields.insert(def->fields.end(), ext->fields.begin(), ext->fields.end());
      def->types.insert(def->types.end(), ext->types.begin(), ext->types.end());
      def->enum_values.insert(def->enum_values.end(), ext->enum_values.begin(), ext->enum_values.end());
    }
    for (Definition* def : defs) {
      if (def->kind == "UNION") {
        for (const std::string& t : def->types) {
          s.possible_types[def->name].push_back(s.type(t));
          s.implements[t].push_back(def);
        }
      } else if (def->kind == "INPUT_OBJECT" || def->kind == "OBJECT") {
        for (const std::string& intf : def->interfaces) {
          s.possible_types[intf].push_back(def);
          s.implements[def->name].push_back(s.type(intf));
        }
        s.possible_types[def->name].push_back(def);
      }
    }
    for (const auto& dir : merged.directives) {
      if (s.directives.count(dir->name)) fail(dir->pos, "Cannot redeclare directive " + dir->name + ".");
      s.directives[dir->name] = dir.get();
      s.directive_order.push_back(dir->name);
    }
    if (merged.schema.size() > 1)
      fail(merged.schema[1]->pos, "Cannot have multiple schema entry points, consider schema extensions instead.");
    if (merged.schema.size() == 1)
      for (const auto& entry : merged.schema[0]->operation_types) set_root(s, entry);
    for (const auto& ext : merged.schema_extension)
      for (const auto& entry : ext->operation_types) set_root(s, entry);
    // gqlparser walks its type map (in Go's random order); declaration order
    // makes the first reported error deterministic.
    for (const std::string& name : s.type_order) validate_definition(s, *s.types[name]);
    for (const std::string& name : s.directive_order) {
      auto* dir = const_cast<DirectiveDefinition*>(s.directives[name]);
      validate_name(dir->pos, dir->name);
      validate_args(s, dir->arguments, dir);
    }
    for (const auto& sd : merged.schema) validate_directives(s, sd->directives, "SCHEMA", nullptr);
    for (const auto& sd : merged.schema_extension) validate_directives(s, sd->directives, "SCHEMA", nullptr);
  } catch (const SchemaError& e) {
    err = e.error;
    return nullptr;
  }
  if (!s.query && s.types.count("Query")) s.query = s.types["Query"];
  if (!s.mutation && s.types.count("Mutation")) s.mutation = s.types["Mutation"];
  if (!s.subscription && s.types.count("Subscription")) s.subscription = s.types["Subscription"];
  if (s.query) {
    // The introspection entry points live on the query type.
    auto* q = const_cast<Definition*>(s.query);
    auto schema_field = std::make_shared<FieldDefinition>();
    schema_field->name = "__schema";
    schema_field->type = named_type("__Schema", true);
    auto type_field = std::make_shared<FieldDefinition>();
    type_field->name = "__type";
    type_field->type = named_type("__Type", false);
    auto name_arg = std::make_shared<ArgumentDefinition>();
    name_arg->name = "name";
    name_arg->type = named_type("String", true);
    type_field->arguments.push_back(name_arg);
    q->fields.push_back(schema_field);
    q->fields.push_back(type_field);
  }
  return schema;
}

// ========================================================== query validation

namespace {

// Raised when a document would need more work (or nesting) than we allow; it
// turns into one validation error.
struct Abort {
  std::string message;
};

constexpr int64_t kMaxSteps = 2'000'000;
constexpr int kMaxDepth = 500;

// agnivade/levenshtein over code points.
int levenshtein(const std::u32string& a, const std::u32string& b) {
  if (a.empty()) return static_cast<int>(b.size());
  if (b.empty()) return static_cast<int>(a.size());
  std::vector<int> row(a.size() + 1);
  for (size_t i = 0; i <= a.size(); ++i) row[i] = static_cast<int>(i);
  for (size_t j = 1; j <= b.size(); ++j) {
    int prev = static_cast<int>(j);
    for (size_t i = 1; i <= a.size(); ++i) {
      int cur = row[i - 1];
      if (b[j - 1] != a[i - 1]) cur = std::min({row[i - 1] + 1, prev + 1, row[i] + 1});
      row[i - 1] = prev;
      prev = cur;
    }
    row[a.size()] = prev;
  }
  return row[a.size()];
}

std::u32string lower_runes(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t w = 1;
    if (c >= 0xC0 && c < 0xE0 && i + 1 < s.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3Fu);
      w = 2;
    } else if (c >= 0xE0 && c < 0xF0 && i + 2 < s.size()) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 2]) & 0x3Fu);
      w = 3;
    } else if (c >= 0xF0 && i + 3 < s.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(s[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3Fu);
      w = 4;
    }
    if (cp >= 'A' && cp <= 'Z') cp = cp - 'A' + 'a';
    out.push_back(cp);
    i += w;
  }
  return out;
}

int lexical_distance(const std::string& a, const std::string& b) {
  if (a == b) return 0;
  std::u32string la = lower_runes(a), lb = lower_runes(b);
  if (la == lb) return 1;  // a change of case counts as one edit
  return levenshtein(la, lb);
}

// core.SuggestionList: options within floor(len*0.4)+1 edits, nearest first.
std::vector<std::string> suggestion_list(const std::string& input, const std::vector<std::string>& options) {
  std::vector<std::pair<int, std::string>> hits;
  const int threshold = std::max(1, static_cast<int>(std::floor(static_cast<double>(input.size()) * 0.4)) + 1);
  for (const std::string& o : options) {
    int d = lexical_distance(input, o);
    if (d <= threshold) hits.emplace_back(d, o);
  }
  std::stable_sort(hits.begin(), hits.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> out;
  for (auto& h : hits) out.push_back(std::move(h.second));
  return out;
}

// core.OrList / QuotedOrList: at most five, "A, B, or C" ("A or B" for two).
std::string or_list(std::vector<std::string> items) {
  if (items.size() > 5) items.resize(5);
  if (items.size() == 2) return items[0] + " or " + items[1];
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += i == items.size() - 1 ? ", or " : ", ";
    out += items[i];
  }
  return out;
}
std::string quoted_or_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const auto& i : items) q.push_back("\"" + i + "\"");
  return or_list(std::move(q));
}
std::string suggest_quoted(const std::string& prefix, const std::string& typed, const std::vector<std::string>& options) {
  auto s = suggestion_list(typed, options);
  return s.empty() ? "" : " " + prefix + " " + quoted_or_list(s) + "?";
}
std::string suggest_unquoted(const std::string& prefix, const std::string& typed, const std::vector<std::string>& options) {
  auto s = suggestion_list(typed, options);
  return s.empty() ? "" : " " + prefix + " " + or_list(s) + "?";
}

bool one_of(const Definition* d, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (d->name == n) return true;
  return false;
}

// strconv.ParseInt(s, 10, bits): false on a syntax or range error; `range`
// says which.
bool parse_int(const std::string& s, int bits, bool* range_error) {
  if (range_error) *range_error = false;
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == s.size()) return false;
  unsigned __int128 v = 0;
  const unsigned __int128 limit = neg ? (static_cast<unsigned __int128>(1) << (bits - 1))
                                      : (static_cast<unsigned __int128>(1) << (bits - 1)) - 1;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (!overflow) {
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
      if (v > limit) overflow = true;
    }
  }
  if (overflow) {
    if (range_error) *range_error = true;
    return false;
  }
  return true;
}

// strconv.ParseFloat(s, 64) for the literals the lexer produces: an error only
// when the value overflows (or the text is malformed).
bool parse_float(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) return false;
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  if (errno == ERANGE && std::isinf(d)) return false;
  return true;
}

bool parse_bool(const std::string& s) {
  static const char* ok[] = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"};
  for (const char* o : ok)
    if (s == o) return true;
  return false;
}

class Validator {
 public:
  Validator(const Schema& schema, QueryDocument& doc) : schema_(schema), doc_(doc) {
    typename_def_.name = "__typename";
    typename_def_.type = named_type("String", false);
  }

  std::vector<Error> run() {
    try {
      for (auto& op : doc_.operations) {
        validated_spreads_.clear();
        walk_operation(*op);
      }
      for (auto& f : doc_.fragments) {
        validated_spreads_.clear();
        walk_fragment(*f);
      }
    } catch (const Abort& a) {
      Error e;
      e.message = a.message;
      errors_.push_back(e);
    }
    return std::move(errors_);
  }

 private:
  // ------------------------------------------------------------ bookkeeping
  void step(int64_t n = 1) {
    steps_ += n;
    if (steps_ > kMaxSteps) throw Abort{"GraphQL document too complex to validate"};
  }
  struct Deeper {
    Validator& v;
    explicit Deeper(Validator& val) : v(val) {
      if (++v.depth_ > kMaxDepth) {
        --v.depth_;
        throw Abort{"GraphQL document nested too deeply to validate"};
      }
    }
    ~Deeper() { --v.depth_; }
  };
  void add(const Position& pos, std::string message) { errors_.push_back(error_at(pos, std::move(message))); }

  const Definition* type(const std::string& name) const { return schema_.type(name); }
  const FragmentDefinition* fragment(const std::string& name) const {
    for (const auto& f : doc_.fragments)
      if (f->name == name) return f.get();
    return nullptr;
  }
  VariableDefinition* variable(const std::string& name) const {
    if (!current_op_) return nullptr;
    for (const auto& v : current_op_->variable_definitions)
      if (v->variable == name) return v.get();
    return nullptr;
  }
  const std::vector<const Definition*>& possible_types(const Definition* d) const {
    static const std::vector<const Definition*> none;
    auto it = schema_.possible_types.find(d->name);
    return it == schema_.possible_types.end() ? none : it->second;
  }

  // ------------------------------------------------------------------ walker
  void walk_operation(OperationDefinition& op) {
    step();
    current_op_ = &op;
    for (auto& vd : op.variable_definitions) {
      vd->definition = type(vd->type->name());
      on_variable(*vd);
      if (vd->default_value) {
        vd->default_value->expected_type = vd->type.get();
        vd->default_value->definition = type(vd->type->name());
      }
    }
    const Definition* def = nullptr;
    std::string loc;
    if (op.operation == "query" || op.operation.empty()) {
      def = schema_.query;
      loc = "QUERY";
    } else if (op.operation == "mutation") {
      def = schema_.mutation;
      loc = "MUTATION";
    } else if (op.operation == "subscription") {
      def = schema_.subscription;
      loc = "SUBSCRIPTION";
    }
    for (auto& vd : op.variable_definitions) {
      if (vd->default_value) walk_value(*vd->default_value);
      walk_directives(vd->definition, vd->directives, "VARIABLE_DEFINITION");
    }
    walk_directives(def, op.directives, loc);
    walk_selection_set(def, op.selection_set);
    on_operation(op);
    current_op_ = nullptr;
  }

  void walk_fragment(FragmentDefinition& f) {
    step();
    const Definition* def = type(f.type_condition);
    f.definition = def;
    walk_directives(def, f.directives, "FRAGMENT_DEFINITION");
    walk_selection_set(def, f.selection_set);
    on_fragment(f);
  }

  void walk_directives(const Definition* parent, std::vector<Directive>& dirs, const std::string& location) {
    for (Directive& dir : dirs) {
      step();
      auto it = schema_.directives.find(dir.name);
      const DirectiveDefinition* def = it == schema_.directives.end() ? nullptr : it->second;
      dir.definition = def;
      dir.parent_definition = parent;
      dir.location = location;
      for (Argument& arg : dir.arguments) walk_argument(def ? def->argument(arg.name) : nullptr, arg);
      on_directive(dir);
    }
    on_directive_list(dirs);
  }

  void walk_argument(const ArgumentDefinition* arg_def, Argument& arg) {
    if (arg_def) {
      arg.value->expected_type = arg_def->type.get();
      arg.value->expected_type_has_default = arg_def->default_value && arg_def->default_value->kind != ValueKind::Null;
      arg.value->definition = type(arg_def->type->name());
    }
    walk_value(*arg.value);
  }

  void walk_value(GqlValue& value) {
    Deeper deeper(*this);
    step();
    if (value.kind == ValueKind::Variable && current_op_) {
      value.variable_definition = variable(value.raw);
      if (value.variable_definition) value.variable_definition->used = true;
    }
    if (value.kind == ValueKind::Object) {
      for (ChildValue& child : value.children) {
        if (value.definition) {
          if (const FieldDefinition* fd = value.definition->field(child.name)) {
            child.value->expected_type = fd->type.get();
            child.value->expected_type_has_default = fd->default_value && fd->default_value->kind != ValueKind::Null;
            child.value->definition = type(fd->type->name());
          }
        }
        walk_value(*child.value);
      }
    }
    if (value.kind == ValueKind::List) {
      for (ChildValue& child : value.children) {
        if (value.expected_type && value.expected_type->elem) {
          child.value->expected_type = value.expected_type->elem.get();
          child.value->definition = value.definition;
        }
        walk_value(*child.value);
      }
    }
    on_value(value);
  }

  void walk_selection_set(const Definition* parent, SelectionSet& set) {
    Deeper deeper(*this);
    for (auto& s : set) walk_selection(parent, *s);
  }

  void walk_selection(const Definition* parent, Selection& s) {
    step();
    switch (s.kind) {
      case SelectionKind::Field: {
        const FieldDefinition* def = nullptr;
        if (s.name == "__typename")
          def = &typename_def_;
        else if (parent)
          def = parent->field(s.name);
        s.definition = def;
        s.object_definition = parent;
        const Definition* next = def ? type(def->type->name()) : nullptr;
        for (Argument& arg : s.arguments) walk_argument(def ? def->argument(arg.name) : nullptr, arg);
        walk_directives(next, s.directives, "FIELD");
        walk_selection_set(next, s.selection_set);
        on_field(s);
        break;
      }
      case SelectionKind::InlineFragment: {
        s.object_definition = parent;
        const Definition* next = parent;
        if (!s.type_condition.empty()) next = type(s.type_condition);
        walk_directives(next, s.directives, "INLINE_FRAGMENT");
        walk_selection_set(next, s.selection_set);
        on_inline_fragment(s);
        break;
      }
      case SelectionKind::FragmentSpread: {
        const FragmentDefinition* def = fragment(s.name);
        s.fragment = def;
        s.object_definition = parent;
        const Definition* next = def ? type(def->type_condition) : nullptr;
        walk_directives(next, s.directives, "FRAGMENT_SPREAD");
        if (def && !validated_spreads_.count(def->name)) {
          validated_spreads_.insert(def->name);  // each fragment once per operation: no infinite recursion
          walk_selection_set(next, const_cast<FragmentDefinition*>(def)->selection_set);
        }
        on_fragment_spread(s);
        break;
      }
    }
  }

  // ------------------------------------------------------------- dispatch
  // Each event runs the rules' handlers in gqlparser's rule order.
  void on_operation(OperationDefinition& op) {
    known_root_type(op);
    lone_anonymous_operation(op);
    no_unused_variables(op);
    overlapping_within(op.selection_set);
    single_field_subscriptions(op);
    unique_operation_names(op);
    unique_variable_names(op);
    variables_are_input_types(op);
  }
  void on_field(Selection& f) {
    fields_on_correct_type(f);
    known_argument_names(f);
    max_introspection_depth(f);
    if (current_op_) overlapping_within(f.selection_set);  // fragments are checked on their own
    provided_required_arguments(f);
    scalar_leafs(f);
    unique_argument_names(f.arguments);
  }
  void on_fragment(FragmentDefinition& f) {
    fragments_on_composite_types(f);
    known_type_names(f);
    no_fragment_cycles(f);
    in_fragment_definition_ = true;  // NoUnusedFragments
    if (!fragment_used_.count(f.name)) add(f.pos, "Fragment \"" + f.name + "\" is never used.");
    overlapping_within(f.selection_set);
    if (seen_fragments_.count(f.name)) add(f.pos, "There can be only one fragment named \"" + f.name + "\".");
    seen_fragments_.insert(f.name);
  }
  void on_inline_fragment(Selection& s) {
    const Definition* t = type(s.type_condition);
    if (t && !t->is_composite()) add(s.pos, "Fragment cannot condition on non composite type \"" + s.type_condition + "\".");
    if (!s.type_condition.empty() && !t) add(s.pos, "Unknown type \"" + s.type_condition + "\".");
    overlapping_within(s.selection_set);
    possible_spread(s.object_definition, s.type_condition, [&] {
      add(s.pos, "Fragment cannot be spread here as objects of type \"" + s.object_definition->name +
                     "\" can never be of type \"" + s.type_condition + "\".");
    });
  }
  void on_fragment_spread(Selection& s) {
    if (!s.fragment) add(s.pos, "Unknown fragment \"" + s.name + "\".");
    if (!in_fragment_definition_) fragment_used_.insert(s.name);
    if (s.fragment)
      possible_spread(s.object_definition, s.fragment->type_condition, [&] {
        add(s.pos, "Fragment \"" + s.name + "\" cannot be spread here as objects of type \"" + s.object_definition->name +
                       "\" can never be of type \"" + s.fragment->type_condition + "\".");
      });
  }
  void on_directive(Directive& d) {
    // KnownArgumentNames
    if (d.definition) {
      for (const Argument& arg : d.arguments) {
        if (d.definition->argument(arg.name)) continue;
        std::vector<std::string> names;
        for (const auto& a : d.definition->arguments) names.push_back(a->name);
        add(d.pos, "Unknown argument \"" + arg.name + "\" on directive \"@" + d.name + "\"." +
                       suggest_quoted("Did you mean", arg.name, names));
      }
    }
    // KnownDirectives (a misplaced directive reported once per position: fragments are walked repeatedly)
    if (!d.definition) {
      add(d.pos, "Unknown directive \"@" + d.name + "\".");
    } else if (std::find(d.definition->locations.begin(), d.definition->locations.end(), d.location) ==
               d.definition->locations.end()) {
      auto key = std::make_tuple(d.name, d.pos.line, d.pos.column);
      if (!misplaced_directives_.count(key)) {
        add(d.pos, "Directive \"@" + d.name + "\" may not be used on " + d.location + ".");
        misplaced_directives_.insert(key);
      }
    }
    // ProvidedRequiredArguments
    if (d.definition) {
      for (const auto& arg_def : d.definition->arguments) {
        if (!arg_def->type->non_null || arg_def->default_value) continue;
        bool given = false;
        for (const Argument& arg : d.arguments) given = given || arg.name == arg_def->name;
        if (!given)
          add(d.pos, "Directive \"@" + d.definition->name + "\" argument \"" + arg_def->name + "\" of type \"" +
                         arg_def->type->str() + "\" is required, but it was not provided.");
      }
    }
    unique_argument_names(d.arguments);
  }
  void on_directive_list(const std::vector<Directive>& dirs) {
    std::unordered_set<std::string> seen;
    for (const Directive& d : dirs) {
      if (seen.count(d.name) && !(d.definition && d.definition->is_repeatable))
        add(d.pos, "The directive \"@" + d.name + "\" can only be used once at this location.");
      seen.insert(d.name);
    }
  }
  void on_value(GqlValue& v) {
    // NoUndefinedVariables
    if (current_op_ && v.kind == ValueKind::Variable && !v.variable_definition) {
      if (!current_op_->name.empty())
        add(v.pos, "Variable \"" + v.str() + "\" is not defined by operation \"" + current_op_->name + "\".");
      else
        add(v.pos, "Variable \"" + v.str() + "\" is not defined.");
    }
    // UniqueInputFieldNames
    if (v.kind == ValueKind::Object) {
      std::unordered_set<std::string> seen;
      for (const ChildValue& c : v.children) {
        if (seen.count(c.name)) add(c.pos, "There can be only one input field named \"" + c.name + "\".");
        seen.insert(c.name);
      }
    }
    values_of_correct_type(v);
    variables_in_allowed_position(v);
  }
  void on_variable(VariableDefinition& vd) {
    // KnownTypeNames
    const std::string& name = vd.type->name();
    if (!type(name)) add(vd.pos, "Unknown type \"" + name + "\".");
  }

  // ------------------------------------------------------------------ rules
  void fields_on_correct_type(const Selection& f) {
    if (!f.object_definition || f.definition) return;
    std::string message = "Cannot query field \"" + f.name + "\" on type \"" + f.object_definition->name + "\".";
    std::vector<std::string> types = suggested_type_names(f.object_definition, f.name);
    if (!types.empty()) {
      message += " Did you mean to use an inline fragment on " + quoted_or_list(types) + "?";
    } else if (f.object_definition->kind == "OBJECT" || f.object_definition->kind == "INTERFACE") {
      std::vector<std::string> names;
      for (const auto& fd : f.object_definition->fields) names.push_back(fd->name);
      auto s = suggestion_list(f.name, names);
      if (!s.empty()) message += " Did you mean " + quoted_or_list(s) + "?";
    }
    add(f.pos, message);
  }

  // Implementations of an abstract type (and their interfaces) that have the
  // field, interfaces first, by how often they are implemented, then by name.
  std::vector<std::string> suggested_type_names(const Definition* parent, const std::string& name) {
    if (!parent->is_abstract()) return {};
    std::vector<std::string> objects, interfaces;
    std::map<std::string, int> usage;
    for (const Definition* pt : possible_types(parent)) {
      if (!pt || !pt->field(name)) continue;
      objects.push_back(pt->name);
      for (const std::string& intf : pt->interfaces) {
        const Definition* id = type(intf);
        if (id && id->field(name)) {
          if (usage[intf] == 0) interfaces.push_back(intf);
          usage[intf]++;
        }
      }
    }
    std::vector<std::string> all = interfaces;
    all.insert(all.end(), objects.begin(), objects.end());
    std::stable_sort(all.begin(), all.end(), [&](const std::string& a, const std::string& b) {
      const int ua = usage.count(a) ? usage.at(a) : 0, ub = usage.count(b) ? usage.at(b) : 0;
      if (ua != ub) return ua > ub;
      return a < b;
    });
    return all;
  }

  void fragments_on_composite_types(const FragmentDefinition& f) {
    if (!f.definition || f.type_condition.empty() || f.definition->is_composite()) return;
    add(f.pos, "Fragment \"" + f.name + "\" cannot condition on non composite type \"" + f.type_condition + "\".");
  }

  void known_argument_names(const Selection& f) {
    if (!f.definition || !f.object_definition) return;
    for (const Argument& arg : f.arguments) {
      if (f.definition->argument(arg.name)) continue;
      std::vector<std::string> names;
      for (const auto& a : f.definition->arguments) names.push_back(a->name);
      add(f.pos, "Unknown argument \"" + arg.name + "\" on field \"" + f.object_definition->name + "." + f.name + "\"." +
                     suggest_quoted("Did you mean", arg.name, names));
    }
  }

  void known_root_type(const OperationDefinition& op) {
    const Definition* def = nullptr;
    if (op.operation == "query" || op.operation.empty())
      def = schema_.query;
    else if (op.operation == "mutation")
      def = schema_.mutation;
    else if (op.operation == "subscription")
      def = schema_.subscription;
    else
      throw Abort{"got unknown operation type \"" + op.operation + "\""};  // gqlparser panics here
    if (!def) add(op.pos, "Schema does not support operation type \"" + op.operation + "\"");
  }

  void known_type_names(const FragmentDefinition& f) {
    if (type(f.type_condition)) return;
    add(f.pos, "Unknown type \"" + f.type_condition + "\"." + suggest_quoted("Did you mean", f.type_condition, schema_.type_order));
  }

  void lone_anonymous_operation(const OperationDefinition& op) {
    if (op.name.empty() && doc_.operations.size() > 1)
      add(op.pos, "This anonymous operation must be the only defined operation.");
  }

  void max_introspection_depth(const Selection& f) {
    if (f.name != "__schema" && f.name != "__type") return;
    std::unordered_set<std::string> visited;
    if (check_depth_field(f, visited, 0)) add(f.pos, "Maximum introspection depth exceeded");
  }
  bool check_depth_field(const Selection& f, std::unordered_set<std::string>& visited, int depth) {
    Deeper deeper(*this);
    step();
    if (f.name == "fields" || f.name == "interfaces" || f.name == "possibleTypes" || f.name == "inputFields") {
      if (++depth >= 3) return true;
    }
    return check_depth_set(f.selection_set, visited, depth);
  }
  bool check_depth_set(const SelectionSet& set, std::unordered_set<std::string>& visited, int depth) {
    for (const auto& s : set) {
      if (s->kind == SelectionKind::Field && check_depth_field(*s, visited, depth)) return true;
      if (s->kind == SelectionKind::FragmentSpread) {
        if (visited.count(s->name) || !s->fragment) continue;
        Deeper deeper(*this);
        visited.insert(s->name);
        const bool hit = check_depth_set(s->fragment->selection_set, visited, depth);
        visited.erase(s->name);
        if (hit) return true;
      }
      if (s->kind == SelectionKind::InlineFragment && check_depth_set(s->selection_set, visited, depth)) return true;
    }
    return false;
  }

  static void fragment_spreads(const SelectionSet& root, std::vector<const Selection*>& out) {
    std::vector<const SelectionSet*> stack{&root};
    while (!stack.empty()) {
      const SelectionSet* set = stack.back();
      stack.pop_back();
      for (const auto& s : *set) {
        if (s->kind == SelectionKind::FragmentSpread)
          out.push_back(s.get());
        else
          stack.push_back(&s->selection_set);
      }
    }
  }

  void no_fragment_cycles(const FragmentDefinition& f) {
    std::vector<const Selection*> path;
    std::unordered_map<std::string, size_t> index;
    std::function<void(const FragmentDefinition&)> recurse = [&](const FragmentDefinition& frag) {
      Deeper deeper(*this);
      if (visited_frags_.count(frag.name)) return;
      visited_frags_.insert(frag.name);
      std::vector<const Selection*> spreads;
      fragment_spreads(frag.selection_set, spreads);
      step(static_cast<int64_t>(spreads.size()) + 1);
      if (spreads.empty()) return;
      index[frag.name] = path.size();
      for (const Selection* spread : spreads) {
        auto it = index.find(spread->name);
        path.push_back(spread);
        if (it == index.end()) {
          if (const FragmentDefinition* next = fragment(spread->name)) recurse(*next);
        } else {
          std::string via;
          for (size_t i = it->second; i + 1 < path.size(); ++i) via += (via.empty() ? "" : ", ") + ("\"" + path[i]->name + "\"");
          if (!via.empty()) via = " via " + via;
          add(spread->pos, "Cannot spread fragment \"" + spread->name + "\" within itself" + via + ".");
        }
        path.pop_back();
      }
      index.erase(frag.name);
    };
    recurse(f);
  }

  void no_unused_variables(const OperationDefinition& op) {
    for (const auto& vd : op.variable_definitions) {
      if (vd->used) continue;
      if (!op.name.empty())
        add(vd->pos, "Variable \"$" + vd->variable + "\" is never used in operation \"" + op.name + "\".");
      else
        add(vd->pos, "Variable \"$" + vd->variable + "\" is never used.");
    }
  }

  template <class F>
  void possible_spread(const Definition* parent, const std::string& fragment_type, F emit) {
    if (!parent) return;
    std::vector<const Definition*> parents;
    if (parent->kind == "OBJECT")
      parents = {parent};
    else if (parent->kind == "INTERFACE" || parent->kind == "UNION")
      parents = possible_types(parent);
    else
      return;
    const Definition* frag = type(fragment_type);
    if (!frag || !frag->is_composite()) return;
    for (const Definition* fd : possible_types(frag))
      for (const Definition* pd : parents)
        if (fd && pd && pd->name == fd->name) return;
    emit();
  }

  void provided_required_arguments(const Selection& f) {
    if (!f.definition) return;
    for (const auto& arg_def : f.definition->arguments) {
      if (!arg_def->type->non_null || arg_def->default_value) continue;
      bool given = false;
      for (const Argument& arg : f.arguments) given = given || arg.name == arg_def->name;
      if (!given)
        add(f.pos, "Field \"" + f.name + "\" argument \"" + arg_def->name + "\" of type \"" + arg_def->type->str() +
                       "\" is required, but it was not provided.");
    }
  }

  void scalar_leafs(const Selection& f) {
    if (!f.definition) return;
    const Definition* t = type(f.definition->type->name());
    if (!t) return;
    if (t->is_leaf() && !f.selection_set.empty())
      add(f.pos, "Field \"" + f.name + "\" must not have a selection since type \"" + t->name + "\" has no subfields.");
    if (!t->is_leaf() && f.selection_set.empty())
      add(f.pos, "Field \"" + f.name + "\" of type \"" + f.definition->type->str() +
                     "\" must have a selection of subfields. Did you mean \"" + f.name + " { ... }\"?");
  }

  void single_field_subscriptions(const OperationDefinition& op) {
    if (!schema_.subscription || op.operation != "subscription") return;
    struct Top {
      std::string name;
      Position pos;
    };
    std::vector<Top> fields;
    std::unordered_set<std::string> in_fragment;
    std::function<void(const SelectionSet&)> walk = [&](const SelectionSet& set) {
      Deeper deeper(*this);
      for (const auto& s : set) {
        step();
        if (s->kind == SelectionKind::Field) {
          fields.push_back({s->name, s->pos});
        } else if (s->kind == SelectionKind::InlineFragment) {
          walk(s->selection_set);
        } else {
          if (!s->fragment) return;  // gqlparser stops at an unknown fragment
          if (!in_fragment.count(s->fragment->name)) {
            in_fragment.insert(s->fragment->name);
            walk(s->fragment->selection_set);
          }
        }
      }
    };
    walk(op.selection_set);
    std::vector<Top> unique;
    std::unordered_set<std::string> seen;
    for (auto& t : fields) {
      if (!seen.count(t.name)) unique.push_back(t);
      seen.insert(t.name);
    }
    const std::string name = op.name.empty() ? "Anonymous Subscription" : "Subscription " + go_quote(op.name);
    if (unique.size() > 1) add(unique[1].pos, name + " must select only one top level field.");
    for (const auto& t : unique)
      if (t.name.rfind("__", 0) == 0) add(t.pos, name + " must not select an introspection top level field.");
  }

  void unique_argument_names(const std::vector<Argument>& args) {
    std::unordered_map<std::string, int> known;
    for (const Argument& a : args) {
      if (known[a.name] == 1) add(a.pos, "There can be only one argument named \"" + a.name + "\".");
      known[a.name]++;
    }
  }

  void unique_operation_names(const OperationDefinition& op) {
    if (seen_operations_.count(op.name)) add(op.pos, "There can be only one operation named \"" + op.name + "\".");
    seen_operations_.insert(op.name);
  }

  void unique_variable_names(const OperationDefinition& op) {
    std::unordered_map<std::string, int> seen;
    for (const auto& vd : op.variable_definitions) {
      if (seen[vd->variable] == 1) add(vd->pos, "There can be only one variable named \"$" + vd->variable + "\".");
      seen[vd->variable]++;
    }
  }

  void variables_are_input_types(const OperationDefinition& op) {
    for (const auto& vd : op.variable_definitions) {
      if (!vd->definition || vd->definition->is_input()) continue;
      add(vd->pos, "Variable \"$" + vd->variable + "\" cannot be non-input type \"" + vd->type->str() + "\".");
    }
  }

  void variables_in_allowed_position(const GqlValue& v) {
    if (v.kind != ValueKind::Variable || !v.expected_type || !v.variable_definition || !current_op_) return;
    Type tmp = *v.expected_type;
    if (v.variable_definition->default_value && v.variable_definition->default_value->kind != ValueKind::Null &&
        v.expected_type->non_null)
      tmp.non_null = false;
    if (v.expected_type_has_default) tmp.non_null = false;
    if (!v.variable_definition->type->is_compatible(tmp))
      add(v.pos, "Variable \"" + v.str() + "\" of type \"" + v.variable_definition->type->str() +
                     "\" used in position expecting type \"" + v.expected_type->str() + "\".");
  }

  // ast.Value.Value(nil) failing: a literal Go cannot convert (an Int beyond
  // int64, a Float beyond float64, ...), looking through lists, objects and
  // variable defaults.
  bool value_fails(const GqlValue& v, int depth = 0) {
    if (depth > kMaxNesting) return true;
    step();
    switch (v.kind) {
      case ValueKind::Variable:
        if (v.variable_definition && v.variable_definition->default_value)
          return value_fails(*v.variable_definition->default_value, depth + 1);
        return false;
      case ValueKind::Int: return !parse_int(v.raw, 64, nullptr);
      case ValueKind::Float: return !parse_float(v.raw);
      case ValueKind::Boolean: return !parse_bool(v.raw);
      case ValueKind::List:
        for (const ChildValue& c : v.children)
          if (value_fails(*c.value, depth + 1)) return true;
        return false;
      case ValueKind::Object:
        for (const ChildValue& c : v.children) {
          const GqlValue& cv = *c.value;
          // isUnsetVariable: a variable without a default is skipped.
          if (cv.kind == ValueKind::Variable && (!cv.variable_definition || !cv.variable_definition->default_value)) continue;
          if (value_fails(cv, depth + 1)) return true;
        }
        return false;
      default: return false;
    }
  }

  std::string unexpected_type_message(const GqlValue& v) {
    const std::string t = v.expected_type->str();
    if (t == "Int" || t == "Int!") {
      bool range = false;
      parse_int(v.raw, 32, &range);
      if (range) return "Int cannot represent non 32-bit signed integer value: " + v.str();
      return "Int cannot represent non-integer value: " + v.str();
    }
    if (t == "String" || t == "String!" || t == "[String]") return "String cannot represent a non string value: " + v.str();
    if (t == "Boolean" || t == "Boolean!") return "Boolean cannot represent a non boolean value: " + v.str();
    if (t == "Float" || t == "Float!") return "Float cannot represent non numeric value: " + v.str();
    if (t == "ID" || t == "ID!") return "ID cannot represent a non-string and non-integer value: " + v.str();
    if (v.definition->kind == "ENUM") return "Enum \"" + t + "\" cannot represent non-enum value: " + v.str() + ".";
    return "Expected value of type \"" + t + "\", found " + v.str() + ".";
  }

  void values_of_correct_type(const GqlValue& v) {
    if (!v.definition || !v.expected_type) return;
    const Definition* def = v.definition;
    if (v.kind == ValueKind::Null && v.expected_type->non_null)
      add(v.pos, "Expected value of type \"" + v.expected_type->str() + "\", found " + v.str() + ".");
    if (def->kind == "SCALAR" && !one_of(def, {"Int", "Float", "String", "Boolean", "ID"})) return;  // custom scalars
    std::vector<std::string> enums;
    if (def->kind == "ENUM")
      for (const auto& e : def->enum_values) enums.push_back(e->name);
    if (value_fails(v)) add(v.pos, unexpected_type_message(v));
    switch (v.kind) {
      case ValueKind::Null: return;
      case ValueKind::List:
        if (!v.expected_type->elem) add(v.pos, unexpected_type_message(v));
        return;
      case ValueKind::Int:
        if (!one_of(def, {"Int", "Float", "ID"})) add(v.pos, unexpected_type_message(v));
        return;
      case ValueKind::Float:
        if (!one_of(def, {"Float"})) add(v.pos, unexpected_type_message(v));
        return;
      case ValueKind::String:
      case ValueKind::Block:
        if (def->kind == "ENUM")
          add(v.pos, "Enum \"" + v.expected_type->str() + "\" cannot represent non-enum value: " + v.str() + "." +
                         suggest_quoted("Did you mean the enum value", v.raw, enums));
        else if (!one_of(def, {"String", "ID"}))
          add(v.pos, unexpected_type_message(v));
        return;
      case ValueKind::Enum:
        if (def->kind != "ENUM") {
          add(v.pos, unexpected_type_message(v) + suggest_unquoted("Did you mean the enum value", v.raw, enums));
        } else {
          bool known = false;
          for (const auto& e : def->enum_values) known = known || e->name == v.raw;
          if (!known)
            add(v.pos, "Value \"" + v.str() + "\" does not exist in \"" + v.expected_type->str() + "\" enum." +
                           suggest_quoted("Did you mean the enum value", v.raw, enums));
        }
        return;
      case ValueKind::Boolean:
        if (!one_of(def, {"Boolean"})) add(v.pos, unexpected_type_message(v));
        return;
      case ValueKind::Object: {
        for (const auto& field : def->fields) {
          if (!field->type->non_null) continue;
          bool present = false;
          for (const ChildValue& c : v.children) present = present || c.name == field->name;
          if (!present && !field->default_value)
            add(v.pos, "Field \"" + def->name + "." + field->name + "\" of required type \"" + field->type->str() +
                           "\" was not provided.");
        }
        for (const Directive& d : def->directives) {
          if (d.name != "oneOf") continue;
          if (v.children.size() != 1) {
            add(v.pos, "OneOf Input Object \"" + def->name + "\" must specify exactly one key.");
            continue;
          }
          const GqlValue& fv = *v.children[0].value;
          if (fv.kind == ValueKind::Null) {
            add(fv.pos, "Field \"" + def->name + "." + (def->fields.empty() ? std::string() : def->fields[0]->name) +
                            "\" must be non-null.");
            continue;
          }
          if (fv.kind == ValueKind::Variable && fv.variable_definition && !fv.variable_definition->type->non_null)
            add(fv.pos, "Variable \"" + fv.variable_definition->variable +
                            "\" must be non-nullable to be used for OneOf Input Object \"" + def->name + "\".");
        }
        for (const ChildValue& c : v.children) {
          if (def->field(c.name)) continue;
          std::vector<std::string> names;
          for (const auto& f : def->fields) names.push_back(f->name);
          add(c.pos, "Field \"" + c.name + "\" is not defined by type \"" + def->name + "\"." +
                         suggest_quoted("Did you mean", c.name, names));
        }
        return;
      }
      case ValueKind::Variable: return;
    }
  }

  // --------------------------------------------- OverlappingFieldsCanBeMerged
  // graphql-js's algorithm as gqlparser implements it: fields with one
  // response name must be the same field with the same arguments (unless
  // their parents are distinct object types) and return compatible types.
  struct FieldsMap {
    std::vector<std::string> seq;
    std::unordered_map<std::string, std::vector<const Selection*>> data;
    void push(const std::string& name, const Selection* f) {
      auto it = data.find(name);
      if (it == data.end()) {
        seq.push_back(name);
        data[name].push_back(f);
      } else {
        it->second.push_back(f);
      }
    }
  };
  struct Conflict {
    std::string message;
    std::string response_name;
    std::vector<Conflict> sub;
    Position pos;
    void render(std::string& out) const {
      if (sub.empty()) {
        out += message;
        return;
      }
      for (size_t i = 0; i < sub.size(); ++i) {
        out += "subfields \"" + sub[i].response_name + "\" conflict because ";
        sub[i].render(out);
        if (i + 1 != sub.size()) out += " and ";
      }
    }
  };

  void fields_and_spreads(const SelectionSet& set, FieldsMap& fields, std::vector<const Selection*>& spreads, int depth = 0) {
    if (depth > kMaxNesting) throw Abort{"GraphQL document nested too deeply to validate"};
    for (const auto& s : set) {
      step();
      if (s->kind == SelectionKind::Field)
        fields.push(s->alias.empty() ? s->name : s->alias, s.get());
      else if (s->kind == SelectionKind::InlineFragment)
        fields_and_spreads(s->selection_set, fields, spreads, depth + 1);
      else
        spreads.push_back(s.get());
    }
  }

  void overlapping_within(const SelectionSet& set) {
    if (set.empty()) return;
    FieldsMap fields;
    std::vector<const Selection*> spreads;
    fields_and_spreads(set, fields, spreads);
    std::vector<Conflict> conflicts;
    for (const std::string& name : fields.seq) {
      const auto& fs = fields.data[name];
      for (size_t i = 0; i < fs.size(); ++i)
        for (size_t j = i + 1; j < fs.size(); ++j)
          if (auto c = find_conflict(false, *fs[i], *fs[j])) conflicts.push_back(std::move(*c));
    }
    compared_fragments_.clear();
    for (size_t i = 0; i < spreads.size(); ++i) {
      conflicts_fields_and_fragment(conflicts, false, fields, *spreads[i]);
      for (size_t j = i + 1; j < spreads.size(); ++j) conflicts_between_fragments(conflicts, false, *spreads[i], *spreads[j]);
    }
    for (const Conflict& c : conflicts) {
      std::string reason;
      c.render(reason);
      add(c.pos, "Fields \"" + c.response_name + "\" conflict because " + reason +
                     ". Use different aliases on the fields to fetch both if this was intentional.");
    }
  }

  static bool same_value(const GqlValue* a, const GqlValue* b) {
    if (!a || !b) return a == b;
    return a->kind == b->kind && a->raw == b->raw;
  }
  static bool same_arguments(const std::vector<Argument>& a, const std::vector<Argument>& b) {
    if (a.size() != b.size()) return false;
    for (const Argument& x : a) {
      bool matched = false;
      for (const Argument& y : b)
        if (x.name == y.name && same_value(x.value.get(), y.value.get())) {
          matched = true;
          break;
        }
      if (!matched) return false;
    }
    return true;
  }
  bool types_conflict(const Type* a, const Type* b) {
    if (a->elem) return b->elem ? types_conflict(a->elem.get(), b->elem.get()) : true;
    if (b->elem) return true;
    if (a->non_null != b->non_null) return true;
    const Definition* t1 = type(a->named_type);
    const Definition* t2 = type(b->named_type);
    if (t1 && t2 && t1->is_leaf() && t2->is_leaf()) return t1->name != t2->name;
    return false;
  }

  std::optional<Conflict> find_conflict(bool parents_exclusive, const Selection& a, const Selection& b) {
    Deeper deeper(*this);
    step();
    if (!a.definition || !a.object_definition || !b.definition || !b.object_definition) return std::nullopt;
    bool exclusive = parents_exclusive;
    if (!exclusive)
      exclusive = a.object_definition->name != b.object_definition->name && a.object_definition->kind == "OBJECT" &&
                  b.object_definition->kind == "OBJECT";
    const std::string& response = a.alias.empty() ? a.name : a.alias;
    if (!exclusive) {
      if (a.name != b.name) return Conflict{a.name + " and " + b.name + " are different fields", response, {}, b.pos};
      if (!same_arguments(a.arguments, b.arguments)) return Conflict{"they have differing arguments", response, {}, b.pos};
    }
    if (types_conflict(a.definition->type.get(), b.definition->type.get()))
      return Conflict{"they return conflicting types " + a.definition->type->str() + " and " + b.definition->type->str(),
                      response, {}, b.pos};
    std::vector<Conflict> sub = conflicts_between_sub_selections(exclusive, a.selection_set, b.selection_set);
    if (sub.empty()) return std::nullopt;
    return Conflict{"", response, std::move(sub), b.pos};
  }

  void conflicts_between(std::vector<Conflict>& out, bool exclusive, const FieldsMap& a, const FieldsMap& b) {
    for (const std::string& name : a.seq) {
      auto it = b.data.find(name);
      if (it == b.data.end()) continue;
      for (const Selection* fa : a.data.at(name))
        for (const Selection* fb : it->second)
          if (auto c = find_conflict(exclusive, *fa, *fb)) out.push_back(std::move(*c));
    }
  }

  // reflect.DeepEqual of two collected field maps, as gqlparser uses to avoid
  // comparing a fragment with itself.
  static bool same_selection(const Selection* a, const Selection* b, int depth = 0) {
    if (a == b) return true;
    if (!a || !b || depth > kMaxNesting) return false;
    if (a->kind != b->kind || a->alias != b->alias || a->name != b->name || a->type_condition != b->type_condition ||
        a->pos.line != b->pos.line || a->pos.column != b->pos.column || a->pos.file != b->pos.file ||
        a->definition != b->definition || a->object_definition != b->object_definition || a->fragment != b->fragment ||
        a->arguments.size() != b->arguments.size() || a->directives.size() != b->directives.size() ||
        a->selection_set.size() != b->selection_set.size())
      return false;
    for (size_t i = 0; i < a->arguments.size(); ++i)
      if (a->arguments[i].name != b->arguments[i].name || !same_value(a->arguments[i].value.get(), b->arguments[i].value.get()))
        return false;
    for (size_t i = 0; i < a->directives.size(); ++i)
      if (a->directives[i].name != b->directives[i].name) return false;
    for (size_t i = 0; i < a->selection_set.size(); ++i)
      if (!same_selection(a->selection_set[i].get(), b->selection_set[i].get(), depth + 1)) return false;
    return true;
  }
  static bool same_fields(const FieldsMap& a, const FieldsMap& b) {
    if (a.seq != b.seq) return false;
    for (const std::string& name : a.seq) {
      const auto& x = a.data.at(name);
      const auto& y = b.data.at(name);
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!same_selection(x[i], y[i])) return false;
    }
    return true;
  }

  void conflicts_fields_and_fragment(std::vector<Conflict>& out, bool exclusive, const FieldsMap& fields,
                                     const Selection& spread) {
    Deeper deeper(*this);
    if (compared_fragments_.count(spread.name)) return;
    compared_fragments_.insert(spread.name);
    if (!spread.fragment) return;
    FieldsMap b;
    std::vector<const Selection*> spreads;
    fields_and_spreads(spread.fragment->selection_set, b, spreads);
    if (same_fields(fields, b)) return;
    conflicts_between(out, exclusive, fields, b);
    for (const Selection* s : spreads) {
      if (s->name == spread.name) continue;
      conflicts_fields_and_fragment(out, exclusive, fields, *s);
    }
  }

  void conflicts_between_fragments(std::vector<Conflict>& out, bool exclusive, const Selection& a, const Selection& b) {
    Deeper deeper(*this);
    step();
    if (a.name == b.name) return;
    // comparedFragmentPairs: false ("not exclusive") is the stronger record.
    auto has = [&](const std::string& x, const std::string& y) {
      auto it = compared_pairs_.find({x, y});
      if (it == compared_pairs_.end()) return false;
      return exclusive ? true : !it->second;
    };
    if (has(a.name, b.name)) return;
    compared_pairs_[{a.name, b.name}] = exclusive;
    compared_pairs_[{b.name, a.name}] = exclusive;
    if (!a.fragment || !b.fragment) return;
    FieldsMap fa, fb;
    std::vector<const Selection*> sa, sb;
    fields_and_spreads(a.fragment->selection_set, fa, sa);
    fields_and_spreads(b.fragment->selection_set, fb, sb);
    conflicts_between(out, exclusive, fa, fb);
    for (const Selection* s : sb) conflicts_between_fragments(out, exclusive, a, *s);
    for (const Selection* s : sa) conflicts_between_fragments(out, exclusive, *s, b);
  }

  std::vector<Conflict> conflicts_between_sub_selections(bool exclusive, const SelectionSet& a, const SelectionSet& b) {
    std::vector<Conflict> out;
    FieldsMap fa, fb;
    std::vector<const Selection*> sa, sb;
    fields_and_spreads(a, fa, sa);
    fields_and_spreads(b, fb, sb);
    conflicts_between(out, exclusive, fa, fb);
    for (const Selection* s : sb) {
      compared_fragments_.clear();
      conflicts_fields_and_fragment(out, exclusive, fa, *s);
    }
    for (const Selection* s : sa) {
      compared_fragments_.clear();
      conflicts_fields_and_fragment(out, exclusive, fb, *s);
    }
    for (const Selection* x : sa)
      for (const Selection* y : sb) conflicts_between_fragments(out, exclusive, *x, *y);
    return out;
  }

  // ------------------------------------------------------------------ state
  const Schema& schema_;
  QueryDocument& doc_;
  FieldDefinition typename_def_;
  std::vector<Error> errors_;
  OperationDefinition* current_op_ = nullptr;
  std::unordered_set<std::string> validated_spreads_;
  int64_t steps_ = 0;
  int depth_ = 0;
  // rule state
  std::set<std::tuple<std::string, int, int>> misplaced_directives_;
  std::unordered_set<std::string> visited_frags_;
  bool in_fragment_definition_ = false;
  std::unordered_set<std::string> fragment_used_;
  std::unordered_set<std::string> seen_fragments_;
  std::unordered_set<std::string> seen_operations_;
  std::unordered_set<std::string> compared_fragments_;
  std::map<std::pair<std::string, std::string>, bool> compared_pairs_;
};

}  // namespace

std::vector<Error> validate_query(const Schema& schema, QueryDocument& doc) { return Validator(schema, doc).run(); }

}  // namespace confidant::rego::graphql
