// METADATA blocks -> Annotations, and the metadata chain of a rule (see annotations.h).
//
// OPA decodes a block with go-yaml v3 into a struct (unknown keys ignored,
// scalars accepted as strings, YAML 1.2 core schema). The YAML is read here with
// libyaml's event parser into a small tree (bounded depth and size, so hostile
// blocks cannot exhaust the stack or memory) and decoded by the same rules, with
// go-yaml's error texts ("yaml: unmarshal errors:\n  line 2: cannot unmarshal ...").
#include "rego/annotations.h"

#include <yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>

#include "rego/compiler.h"
#include "rego/parser.h"

namespace confidant::rego {
namespace {

// ------------------------------------------------------------ YAML tree

struct YNode {
  enum Kind : uint8_t { Scalar, Seq, Map } kind = Scalar;
  std::string tag;           // explicit tag, if any
  std::string value;         // scalar text
  bool plain = true;         // unquoted scalar
  int line = 0;              // 1-based
  std::vector<YNode> items;  // Seq; Map as key, value, key, value...
};

struct YamlError {
  std::string msg;
};

// go-yaml's parser.fail(): the line of the context (else problem) mark, one more
// for scanner errors.
std::string yaml_syntax_error(const yaml_parser_t& p) {
  size_t line = 0;
  if (p.context_mark.line != 0) {
    line = p.context_mark.line;
    if (p.error == YAML_SCANNER_ERROR) ++line;
  } else if (p.problem_mark.line != 0) {
    line = p.problem_mark.line;
    if (p.error == YAML_SCANNER_ERROR) ++line;
  }
  std::string msg = "yaml: ";
  if (line) msg += "line " + std::to_string(line) + ": ";
  msg += p.problem ? p.problem : "unknown problem parsing YAML content";
  return msg;
}

class YamlReader {
 public:
  explicit YamlReader(std::string_view text) {
    yaml_parser_initialize(&p_);
    yaml_parser_set_input_string(&p_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  }
  ~YamlReader() {
    if (have_) yaml_event_delete(&ev_);
    yaml_parser_delete(&p_);
  }
  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  // The first document; false when the stream has none (e.g. only comments).
  bool read(YNode& out) {
    next();  // STREAM-START
    next();
    if (ev_.type != YAML_DOCUMENT_START_EVENT) return false;
    next();
    out = node(0);
    return true;
  }

 private:
  void next() {
    if (have_) yaml_event_delete(&ev_);
    have_ = yaml_parser_parse(&p_, &ev_) != 0;
    if (!have_) throw YamlError{yaml_syntax_error(p_)};
  }
  static std::string str(const yaml_char_t* s) { return s ? reinterpret_cast<const char*>(s) : ""; }
  void count(size_t n) {
    // Aliases copy their target: cap the total so `a: &a [*a, *a, ...]` chains stay small.
    if ((nodes_ += n) > 100000) throw YamlError{"yaml: document contains excessive aliasing"};
  }
  static size_t size_of(const YNode& n) {
    size_t s = 1;
    for (const auto& c : n.items) s += size_of(c);
    return s;
  }

  YNode node(int depth) {
    if (depth > 200) throw YamlError{"yaml: exceeded max depth of 200"};
    YNode n;
    n.line = static_cast<int>(ev_.start_mark.line) + 1;
    std::string anchor;
    switch (ev_.type) {
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(str(ev_.data.alias.anchor));
        if (it == anchors_.end())
          throw YamlError{"yaml: unknown anchor '" + str(ev_.data.alias.anchor) + "' referenced"};
        count(size_of(it->second));
        n = it->second;
        next();
        return n;
      }
      case YAML_SCALAR_EVENT:
        anchor = str(ev_.data.scalar.anchor);
        n.tag = str(ev_.data.scalar.tag);
        n.value.assign(reinterpret_cast<const char*>(ev_.data.scalar.value), ev_.data.scalar.length);
        n.plain = ev_.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        count(1);
        next();
        break;
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        bool seq = ev_.type == YAML_SEQUENCE_START_EVENT;
        anchor = str(seq ? ev_.data.sequence_start.anchor : ev_.data.mapping_start.anchor);
        n.tag = str(seq ? ev_.data.sequence_start.tag : ev_.data.mapping_start.tag);
        n.kind = seq ? YNode::Seq : YNode::Map;
        count(1);
        next();
        auto end = seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT;
        while (ev_.type != end) n.items.push_back(node(depth + 1));
        next();
        break;
      }
      default: throw YamlError{"yaml: unexpected event"};
    }
    if (!anchor.empty()) anchors_[anchor] = n;
    return n;
  }

  yaml_parser_t p_;
  yaml_event_t ev_{};
  bool have_ = false;
  size_t nodes_ = 0;
  std::map<std::string, YNode> anchors_;
};

// ------------------------------------------------------------ go-yaml v3 decoding

// The resolved tag of a node (YAML 1.2 core schema, as go-yaml v3 resolves plain scalars).
std::string resolve(const YNode& n) {
  if (n.kind == YNode::Seq) return "!!seq";
  if (n.kind == YNode::Map) return "!!map";
  if (!n.tag.empty() && n.tag != "!") {
    const std::string prefix = "tag:yaml.org,2002:";
    return n.tag.compare(0, prefix.size(), prefix) == 0 ? "!!" + n.tag.substr(prefix.size()) : n.tag;
  }
  if (!n.plain || !n.tag.empty()) return "!!str";
  const std::string& v = n.value;
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") return "!!null";
  if (v == "true" || v == "True" || v == "TRUE" || v == "false" || v == "False" || v == "FALSE") return "!!bool";
  std::string plain;
  for (char c : v)
    if (c != '_') plain.push_back(c);
  if (!plain.empty()) {
    const char* s = plain.c_str();
    if (*s == '+' || *s == '-') ++s;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
      base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
      base = 8, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
      base = 2, s += 2;
    if (*s) {
      char* end = nullptr;
      errno = 0;
      (void)std::strtoull(s, &end, base);
      if (*end == '\0' && errno == 0 && std::isalnum(static_cast<unsigned char>(*s))) return "!!int";
    }
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    size_t i = plain[0] == '+' || plain[0] == '-' ? 1 : 0, digits = 0;
    while (i < plain.size() && std::isdigit(static_cast<unsigned char>(plain[i]))) ++i, ++digits;
    if (i < plain.size() && plain[i] == '.') {
      ++i;
      while (i < plain.size() && std::isdigit(static_cast<unsigned char>(plain[i]))) ++i, ++digits;
    }
    if (digits && i < plain.size() && (plain[i] == 'e' || plain[i] == 'E')) {
      size_t j = i + 1;
      if (j < plain.size() && (plain[j] == '+' || plain[j] == '-')) ++j;
      size_t k = j;
      while (k < plain.size() && std::isdigit(static_cast<unsigned char>(plain[k]))) ++k;
      if (k > j) i = k;
    }
    if (digits && i == plain.size()) return "!!float";
  }
  return "!!str";
}

class Decoder {
 public:
  std::vector<std::string> errors;  // go-yaml's accumulated type errors

  void type_error(const YNode& n, const char* into) {
    std::string tag = resolve(n);
    std::string shown;
    if (tag != "!!seq" && tag != "!!map")
      shown = n.value.size() > 10 ? " `" + n.value.substr(0, 7) + "...`" : " `" + n.value + "`";
    errors.push_back("line " + std::to_string(n.line) + ": cannot unmarshal " + tag + shown + " into " + into);
  }
  // Scalars decode into strings by their text; null leaves the zero value.
  std::string str(const YNode& n) {
    if (n.kind != YNode::Scalar) {
      type_error(n, "string");
      return {};
    }
    return resolve(n) == "!!null" ? std::string() : n.value;
  }
  bool boolean(const YNode& n) {
    std::string t = resolve(n);
    if (t == "!!null") return false;
    if (t != "!!bool") {
      type_error(n, "bool");
      return false;
    }
    return n.value[0] == 't' || n.value[0] == 'T';
  }
  // A sequence (null: none). `into` names the Go type in errors.
  const std::vector<YNode>* seq(const YNode& n, const char* into) {
    if (n.kind == YNode::Seq) return &n.items;
    if (resolve(n) != "!!null") type_error(n, into);
    return nullptr;
  }
  // Mapping keys must be unique (go-yaml v3).
  bool map(const YNode& n, const char* into) {
    if (n.kind != YNode::Map) {
      if (resolve(n) != "!!null") type_error(n, into);
      return false;
    }
    std::map<std::pair<std::string, std::string>, int> seen;
    for (size_t i = 0; i < n.items.size(); i += 2) {
      const YNode& k = n.items[i];
      if (k.kind != YNode::Scalar) continue;
      auto [it, fresh] = seen.emplace(std::make_pair(resolve(k), k.value), k.line);
      if (!fresh) {
        errors.push_back("line " + std::to_string(k.line) + ": mapping key \"" + k.value +
                         "\" already defined at line " + std::to_string(it->second));
        return false;
      }
    }
    return true;
  }
};

struct FieldError {
  std::string msg;
};

// A decoded `any` value as a Rego value (OPA's InterfaceToValue); maps need string keys.
Value to_value(Decoder& d, const YNode& n, std::vector<std::string>& path) {
  switch (n.kind) {
    case YNode::Seq: {
      ValueVec items;
      for (size_t i = 0; i < n.items.size(); ++i) {
        path.push_back(std::to_string(i));
        items.push_back(to_value(d, n.items[i], path));
        path.pop_back();
      }
      return Value::array(std::move(items));
    }
    case YNode::Map: {
      d.map(n, "map[string]interface {}");
      ObjectItems items;
      for (size_t i = 0; i + 1 < n.items.size(); i += 2) {
        const YNode& k = n.items[i];
        if (k.kind != YNode::Scalar || resolve(k) != "!!str") {
          std::string p;
          for (const auto& s : path) p += (p.empty() ? "" : "/") + s;
          throw FieldError{"invalid map key type(s): " + p};
        }
        path.push_back(k.value);
        items.emplace_back(Value::string(k.value), to_value(d, n.items[i + 1], path));
        path.pop_back();
      }
      return Value::object(std::move(items));
    }
    case YNode::Scalar: break;
  }
  std::string t = resolve(n);
  if (t == "!!null") return Value::null();
  if (t == "!!bool") return Value::boolean(n.value[0] == 't' || n.value[0] == 'T');
  if (t == "!!int" || t == "!!float") {
    std::string plain;
    for (char c : n.value)
      if (c != '_') plain.push_back(c);
    if (plain[0] == '+') plain.erase(0, 1);
    size_t digits_at = plain[0] == '-' ? 1 : 0;
    if (plain[digits_at] == '.') plain.insert(digits_at, "0");  // Go accepts ".5" and "1."
    if (size_t dot = plain.find('.');
        dot != std::string::npos &&
        (dot + 1 == plain.size() || !std::isdigit(static_cast<unsigned char>(plain[dot + 1]))))
      plain.insert(dot + 1, "0");
    Value v = Value::number_from_text(plain);
    if (v.is_defined()) return v;
    if (t == "!!int") {  // 0x/0o/0b
      bool neg = plain[0] == '-';
      size_t at = plain[0] == '-' || plain[0] == '+' ? 1 : 0;
      int base = plain[at + 1] == 'x' || plain[at + 1] == 'X'   ? 16
                 : plain[at + 1] == 'b' || plain[at + 1] == 'B' ? 2
                                                                : 8;
      uint64_t u = std::strtoull(plain.c_str() + at + 2, nullptr, base);
      if (u <= static_cast<uint64_t>(INT64_MAX))
        return Value::integer(neg ? -static_cast<int64_t>(u) : static_cast<int64_t>(u));
    }
  }
  return Value::string(n.value);
}

// Go's %s of a decoded YAML value (used in OPA's "invalid ... definition %s" messages).
std::string go_s(const YNode& n) {
  if (n.kind == YNode::Seq) {
    std::string s = "[";
    for (size_t i = 0; i < n.items.size(); ++i) s += (i ? " " : "") + go_s(n.items[i]);
    return s + "]";
  }
  if (n.kind == YNode::Map) {
    std::vector<std::pair<std::string, std::string>> kv;
    for (size_t i = 0; i + 1 < n.items.size(); i += 2) kv.emplace_back(go_s(n.items[i]), go_s(n.items[i + 1]));
    std::sort(kv.begin(), kv.end());
    std::string s = "map[";
    for (size_t i = 0; i < kv.size(); ++i) s += (i ? " " : "") + kv[i].first + ":" + kv[i].second;
    return s + "]";
  }
  std::string t = resolve(n);
  if (t == "!!null") return "%!s(<nil>)";
  if (t == "!!bool")
    return std::string("%!s(bool=") + (n.value[0] == 't' || n.value[0] == 'T' ? "true" : "false") + ")";
  if (t == "!!int") return "%!s(int=" + n.value + ")";
  if (t == "!!float") return "%!s(float64=" + n.value + ")";
  return n.value;
}

const YNode* map_get(const YNode& m, std::string_view key) {
  if (m.kind != YNode::Map) return nullptr;
  for (size_t i = 0; i + 1 < m.items.size(); i += 2)
    if (m.items[i].kind == YNode::Scalar && m.items[i].value == key) return &m.items[i + 1];
  return nullptr;
}
// getSafeString: the value when it is a string.
std::string safe_string(const YNode& m, std::string_view key) {
  const YNode* v = map_get(m, key);
  return v && v->kind == YNode::Scalar && resolve(*v) == "!!str" ? v->value : std::string();
}
std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// ParseRef / ParseSchemaRef: a ref written as Rego, as its path strings.
bool parse_ref_path(const std::string& text, bool schema, Value& out) {
  ParsedQuery q;
  Errors errs;
  if (!parse_query(text, ParseOptions{}, q, errs) || q.body.size() != 1) return false;
  const Expr& e = q.body[0];
  if (e.kind != ExprKind::Term || e.negated || !e.withs.empty()) return false;
  const Term& t = *e.term;
  ValueVec items;
  if (t.kind == TermKind::Var) {
    if (schema && t.name != "schema") return false;
    items.push_back(Value::string(t.name));
  } else if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var) {
    if (schema && t.items[0]->name != "schema") return false;
    for (const auto& x : t.items) {
      if (x->kind == TermKind::Var)
        items.push_back(Value::string(x->name));
      else if (x->kind == TermKind::Scalar)
        items.push_back(x->value.is_string() ? x->value : Value::string(to_rego(x->value)));
      else
        return false;
    }
  } else {
    return false;
  }
  out = Value::array(std::move(items));
  return true;
}

// go-yaml v3 Unmarshal into OPA's rawAnnotation plus the checks of metadataParser.Parse.
void decode(const YNode& doc, Annotations& a) {
  Decoder d;
  if (doc.kind != YNode::Map) {
    if (resolve(doc) != "!!null") d.type_error(doc, "ast.rawAnnotation");
  } else if (d.map(doc, "ast.rawAnnotation")) {
    for (size_t i = 0; i + 1 < doc.items.size(); i += 2) {
      const YNode& k = doc.items[i];
      const YNode& v = doc.items[i + 1];
      if (k.kind != YNode::Scalar) continue;
      const std::string& key = k.value;
      if (key == "scope")
        a.scope = d.str(v);
      else if (key == "title")
        a.title = d.str(v);
      else if (key == "description")
        a.description = d.str(v);
      else if (key == "entrypoint")
        a.entrypoint = d.boolean(v);
      else if (key == "organizations") {
        if (auto* xs = d.seq(v, "[]string"))
          for (const auto& x : *xs) a.organizations.push_back(d.str(x));
      } else if (key == "related_resources") {
        if (auto* xs = d.seq(v, "[]interface {}")) {
          for (const auto& x : *xs) {
            auto fail = [&](const char* why) {
              throw FieldError{"invalid related-resource definition " + go_s(x) + ": " + why};
            };
            if (x.kind == YNode::Scalar && resolve(x) == "!!str") {
              if (x.value.empty()) fail("ref URL may not be empty string");
              a.related_resources.emplace_back(x.value, "");
            } else if (x.kind == YNode::Map) {
              std::string ref = trim(safe_string(x, "ref"));
              if (ref.empty()) fail("'ref' value required in object");
              a.related_resources.emplace_back(ref, trim(safe_string(x, "description")));
            } else {
              fail("invalid value type, must be string or map");
            }
          }
        }
      } else if (key == "authors") {
        if (auto* xs = d.seq(v, "[]interface {}")) {
          for (const auto& x : *xs) {
            auto fail = [&](const char* why) { throw FieldError{"invalid author definition " + go_s(x) + ": " + why}; };
            if (x.kind == YNode::Scalar && resolve(x) == "!!str") {
              // "Jane Doe <jane@example.com>": a last word in <> is the email.
              std::vector<std::string> words;
              std::string w;
              for (char c : x.value + " ") {
                if (std::isspace(static_cast<unsigned char>(c))) {
                  if (!w.empty()) words.push_back(std::move(w));
                  w.clear();
                } else {
                  w.push_back(c);
                }
              }
              if (words.empty()) fail("author is an empty string");
              std::string email;
              if (words.back().size() >= 2 && words.back().front() == '<' && words.back().back() == '>') {
                email = words.back().substr(1, words.back().size() - 2);
                words.pop_back();
              }
              std::string name;
              for (const auto& s : words) name += (name.empty() ? "" : " ") + s;
              a.authors.emplace_back(name, email);
            } else if (x.kind == YNode::Map) {
              std::string name = trim(safe_string(x, "name")), email = trim(safe_string(x, "email"));
              if (name.empty() && email.empty()) fail("'name' and/or 'email' values required in object");
              a.authors.emplace_back(name, email);
            } else {
              fail("invalid value type, must be string or map");
            }
          }
        }
      } else if (key == "schemas") {
        if (auto* xs = d.seq(v, "[]map[string]interface {}")) {
          ValueVec schemas;
          for (const auto& x : *xs) {
            if (!d.map(x, "map[string]interface {}")) continue;
            if (x.items.size() < 2) throw FieldError{"invalid document reference"};
            std::string path = x.items[0].value;
            const YNode& val = x.items[1];
            Value p, s;
            if (!parse_ref_path(path, false, p)) throw FieldError{"invalid document reference"};
            ObjectItems obj{{Value::string("path"), p}};
            if (val.kind == YNode::Scalar && resolve(val) == "!!str") {
              if (!parse_ref_path(val.value, true, s)) throw FieldError{"invalid schema reference"};
              obj.emplace_back(Value::string("schema"), s);
            } else if (val.kind == YNode::Map) {
              std::vector<std::string> at;
              obj.emplace_back(Value::string("definition"), to_value(d, val, at));
            } else {
              throw FieldError{"invalid schema declaration for path \"" + path + "\""};
            }
            schemas.push_back(Value::object(std::move(obj)));
          }
          if (!schemas.empty()) a.schemas = Value::array(std::move(schemas));
        }
      } else if (key == "custom") {
        if (d.map(v, "map[string]interface {}")) {
          ObjectItems items;
          for (size_t j = 0; j + 1 < v.items.size(); j += 2) {
            std::vector<std::string> at;
            items.emplace_back(Value::string(v.items[j].value), to_value(d, v.items[j + 1], at));
          }
          if (!items.empty()) a.custom = Value::object(std::move(items));
        }
      }
    }
  }
  if (!d.errors.empty()) {
    std::string msg = "yaml: unmarshal errors:";
    for (const auto& e : d.errors) msg += "\n  " + e;
    throw YamlError{msg};
  }
}

// OPA's augmentYamlError: hints for `key:value` written without a blank after the colon.
std::string augment(std::string msg, const MetadataBlock& b) {
  size_t row = b.row + 1, start = 0;
  for (; start < b.yaml.size(); ++row) {
    size_t nl = b.yaml.find('\n', start);
    std::string_view line(b.yaml.data() + start, (nl == std::string::npos ? b.yaml.size() : nl) - start);
    start = nl == std::string::npos ? b.yaml.size() : nl + 1;
    std::vector<std::string> bad;
    size_t c = line.find(':');
    while (c != std::string_view::npos) {
      size_t e = line.find(':', c + 1);
      std::string_view part = line.substr(c + 1, (e == std::string_view::npos ? line.size() : e) - c - 1);
      if (part.empty() && e == std::string_view::npos) break;
      if (!part.empty() && (part[0] == ' ' || part[0] == '\t')) break;
      bad.push_back(part.empty() ? "':'" : std::string("'") + part[0] + "'");  // %+q of the next rune (ASCII)
      c = e;
    }
    if (!bad.empty()) {
      std::string list;
      for (const auto& x : bad) list += (list.empty() ? "" : " ") + x;
      msg += "\n  Hint: on line " + std::to_string(row) + ", symbol(s) [" + list +
             "] immediately following a key/value separator ':' is not a legal yaml space character";
    }
  }
  return msg;
}

const char* target_name(Annotations::Target t) {
  switch (t) {
    case Annotations::Target::Package: return "package";
    case Annotations::Target::Import: return "import";
    case Annotations::Target::Rule: return "rule";
    default: return nullptr;
  }
}

}  // namespace

void parse_annotations(const std::vector<MetadataBlock>& blocks, const std::vector<AnnotatedStatement>& statements,
                       const std::string* file, std::vector<std::shared_ptr<const Annotations>>& out,
                       Errors& content_errors, Errors& attach_errors) {
  for (const MetadataBlock& b : blocks) {
    auto a = std::make_shared<Annotations>();
    a->loc.file = file;
    a->loc.row = b.row;
    a->loc.col = b.col;
    auto error = [&](uint32_t row, std::string msg) {
      content_errors.push_back(RegoError{codes::kParse, std::move(msg), file ? *file : std::string(), row, 1});
    };
    if (trim(b.yaml).empty()) {
      error(b.row, "expected METADATA block, found whitespace");
      continue;
    }
    try {
      YNode doc;
      bool have_doc;
      try {
        YamlReader reader(b.yaml);
        have_doc = reader.read(doc);
      } catch (const YamlError& e) {
        // OPA points at comment N (0-based) for "line N", i.e. the line below.
        uint32_t row = b.row + 1;
        if (size_t at = e.msg.find("line "); e.msg.compare(0, 5, "yaml:") == 0 && at != std::string::npos && at < 30) {
          uint32_t n = static_cast<uint32_t>(std::strtoul(e.msg.c_str() + at + 5, nullptr, 10));
          row = b.row + 1 + std::min(n, b.lines - 1);
        }
        error(row, augment(e.msg, b));
        continue;
      }
      if (have_doc) decode(doc, *a);
    } catch (const YamlError& e) {
      size_t at = e.msg.find("line ");
      uint32_t n =
          at == std::string::npos ? 0 : static_cast<uint32_t>(std::strtoul(e.msg.c_str() + at + 5, nullptr, 10));
      error(b.row + 1 + std::min(n, b.lines - 1), augment(e.msg, b));
      continue;
    } catch (const FieldError& e) {
      error(b.row, e.msg);
      continue;
    }

    // attachAnnotationsNodes: the first statement below the block's first line.
    for (const auto& s : statements) {
      if (s.row > b.row) {
        a->target = s.kind;
        a->rule = s.rule;
        break;
      }
    }
    if (a->scope.empty()) {
      if (a->target == Annotations::Target::Rule)
        a->scope = a->entrypoint ? "document" : "rule";
      else if (a->target == Annotations::Target::Package)
        a->scope = "package";
      else if (a->target == Annotations::Target::Import)
        a->scope = "import";  // reported as invalid below
    }
    auto attach_error = [&](std::string msg) {
      attach_errors.push_back(RegoError{codes::kParse, std::move(msg), file ? *file : std::string(), b.row, b.col});
    };
    const std::string& sc = a->scope;
    const char* have = target_name(a->target);
    if (sc == "rule" || sc == "document" || sc == "package" || sc == "subpackages") {
      bool on_rule = sc == "rule" || sc == "document";
      auto want = on_rule ? Annotations::Target::Rule : Annotations::Target::Package;
      if (a->target != want)
        attach_error("annotation scope '" + sc + "' must be applied to " + (on_rule ? "rule" : "package") +
                     (have ? std::string(" (have ") + have + ")" : std::string()));
    } else {
      attach_error("invalid annotation scope '" + sc + "'. Use one of 'rule', 'document', 'package', or 'subpackages'");
    }
    if (a->entrypoint && sc != "document" && sc != "package")
      attach_error("annotation entrypoint applied to non-document or package scope '" + sc + "'");
    out.push_back(std::move(a));
  }
}

Value Annotations::to_value() const {
  ObjectItems o;
  auto s = [](std::string_view x) { return Value::string(x); };
  if (!scope.empty()) o.emplace_back(s("scope"), s(scope));
  if (!title.empty()) o.emplace_back(s("title"), s(title));
  if (entrypoint) o.emplace_back(s("entrypoint"), Value::true_value());
  if (!description.empty()) o.emplace_back(s("description"), s(description));
  if (!organizations.empty()) {
    ValueVec v;
    for (const auto& x : organizations) v.push_back(s(x));
    o.emplace_back(s("organizations"), Value::array(std::move(v)));
  }
  if (!related_resources.empty()) {
    ValueVec v;
    for (const auto& [ref, desc] : related_resources) {
      ObjectItems r{{s("ref"), s(ref)}};
      if (!desc.empty()) r.emplace_back(s("description"), s(desc));
      v.push_back(Value::object(std::move(r)));
    }
    o.emplace_back(s("related_resources"), Value::array(std::move(v)));
  }
  if (!authors.empty()) {
    ValueVec v;
    for (const auto& [name, email] : authors) {
      ObjectItems r;
      if (!name.empty()) r.emplace_back(s("name"), s(name));
      if (!email.empty()) r.emplace_back(s("email"), s(email));
      v.push_back(Value::object(std::move(r)));
    }
    o.emplace_back(s("authors"), Value::array(std::move(v)));
  }
  if (schemas.is_defined()) o.emplace_back(s("schemas"), schemas);
  if (custom.is_defined()) o.emplace_back(s("custom"), custom);
  return Value::object(std::move(o));
}

// ------------------------------------------------------------ annotation set

namespace {

bool ground(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: return true;
    case TermKind::Array:
    case TermKind::Set: return std::all_of(t.items.begin(), t.items.end(), [](const TermPtr& x) { return ground(*x); });
    case TermKind::Object:
      return std::all_of(t.pairs.begin(), t.pairs.end(),
                         [](const auto& kv) { return ground(*kv.first) && ground(*kv.second); });
    default: return false;
  }
}

Value ground_value(const Term& t) {
  if (t.kind == TermKind::Scalar) return t.value;
  if (t.kind == TermKind::Object) {
    ObjectItems items;
    for (const auto& [k, v] : t.pairs) items.emplace_back(ground_value(*k), ground_value(*v));
    return Value::object(std::move(items));
  }
  ValueVec items;
  for (const auto& x : t.items) items.push_back(ground_value(*x));
  return t.kind == TermKind::Array ? Value::array(std::move(items)) : Value::set(std::move(items));
}

// A path as OPA's Ref.toArray() shows it: strings stay, anything else is its Rego text.
// Element 0 is "data" (the root var).
using Path = ValueVec;

Path package_path(const Module& m) {
  Path p{Value::string("data")};
  for (const auto& s : m.package) p.push_back(Value::string(s));
  return p;
}

// rule.Ref().GroundPrefix(): the package, the rule's name, then its head ref up to the first variable.
Path rule_path(const Module& m, const Rule& r) {
  Path p = package_path(m);
  p.push_back(Value::string(r.ref[0]->name));
  for (size_t i = 1; i < r.ref.size() && ground(*r.ref[i]); ++i) {
    Value v = ground_value(*r.ref[i]);
    p.push_back(v.is_string() ? v : Value::string(to_rego(v)));
  }
  return p;
}

Value path_value(const Path& p) { return Value::array(ValueVec(p.begin() + 1, p.end())); }

bool loc_less(const Location& a, const Location& b) { return a.row != b.row ? a.row < b.row : a.col < b.col; }

std::vector<const Module*> sorted_modules(const std::vector<const Module*>& in) {
  std::vector<const Module*> mods = in;
  std::stable_sort(mods.begin(), mods.end(), [](const Module* a, const Module* b) {
    return (a->file ? *a->file : std::string()) < (b->file ? *b->file : std::string());
  });
  return mods;
}

std::string loc_string(const Location& l) {
  if (l.file && !l.file->empty()) return *l.file + ":" + std::to_string(l.row);
  return std::to_string(l.row) + ":" + std::to_string(l.col);
}

// OPA's AnnotationSet, built from the modules in name order: package scope by package
// path (first wins), document and subpackages scope in one tree by path (last wins).
struct AnnotationSet {
  std::map<Path, const Annotations*> by_package;
  std::map<Path, const Annotations*> by_path;

  explicit AnnotationSet(const std::vector<const Module*>& modules, Errors* errors = nullptr) {
    for (const Module* m : sorted_modules(modules)) {
      for (const auto& a : m->annotations) {
        auto redeclared = [&](const Annotations* prev) {
          if (errors)
            errors->push_back(RegoError{codes::kType, a->scope + " annotation redeclared: " + loc_string(prev->loc),
                                        a->loc.file ? *a->loc.file : std::string(), a->loc.row, a->loc.col});
        };
        if (a->scope == "package" && a->target == Annotations::Target::Package) {
          auto [it, fresh] = by_package.emplace(package_path(*m), a.get());
          if (!fresh) redeclared(it->second);
        } else if ((a->scope == "document" && a->target == Annotations::Target::Rule && a->rule) ||
                   (a->scope == "subpackages" && a->target == Annotations::Target::Package)) {
          Path p = a->scope == "document" ? rule_path(*m, *a->rule) : package_path(*m);
          auto& slot = by_path[p];
          if (slot) redeclared(slot);
          slot = a.get();
        }
      }
    }
  }
};

std::vector<const Module*> policy_modules(const Policy& policy) {
  std::vector<const Module*> mods;
  for (const auto& m : policy.modules) mods.push_back(m.get());
  return mods;
}

const Module* module_of(const Policy& policy, const Rule& rule) {
  if (rule.module) return rule.module;
  for (const auto& m : policy.modules)
    for (const auto& r : m->rules)
      for (const Rule* x = r.get(); x; x = x->else_rule.get())
        if (x == &rule) return m.get();
  return nullptr;
}

// The rule's own blocks, closest (lowest in the file) first.
std::vector<const Annotations*> rule_scope(const Module& m, const Rule& rule) {
  std::vector<const Annotations*> out;
  for (const auto& a : m.annotations)
    if (a->scope == "rule" && a->target == Annotations::Target::Rule && a->rule == &rule) out.push_back(a.get());
  std::stable_sort(out.begin(), out.end(),
                   [](const Annotations* a, const Annotations* b) { return loc_less(b->loc, a->loc); });
  return out;
}

Value entry(const Path& p, const Annotations* a) {
  ObjectItems o{{Value::string("path"), path_value(p)}};
  if (a) o.emplace_back(Value::string("annotations"), a->to_value());
  return Value::object(std::move(o));
}

}  // namespace

void check_annotation_redeclarations(const std::vector<const Module*>& modules, Errors& errors) {
  AnnotationSet set(modules, &errors);
  (void)set;
}

Value metadata_chain(const Policy& policy, const Rule& rule) {
  const Module* m = module_of(policy, rule);
  if (!m) return Value::empty_array();
  AnnotationSet set(policy_modules(policy));
  ValueVec chain;
  Path path = rule_path(*m, rule);
  auto own = rule_scope(*m, rule);
  if (own.empty()) chain.push_back(entry(path, nullptr));
  for (const Annotations* a : own) chain.push_back(entry(path, a));
  if (auto it = set.by_path.find(path); it != set.by_path.end()) chain.push_back(entry(path, it->second));
  Path pkg = package_path(*m);
  if (auto it = set.by_package.find(pkg); it != set.by_package.end()) chain.push_back(entry(pkg, it->second));
  // Subpackages (and anything else filed on the way), closest package first.
  for (size_t n = pkg.size(); n >= 1; --n) {
    Path prefix(pkg.begin(), pkg.begin() + static_cast<ptrdiff_t>(n));
    if (auto it = set.by_path.find(prefix); it != set.by_path.end()) chain.push_back(entry(prefix, it->second));
  }
  return Value::array(std::move(chain));
}

Value metadata_rule(const Policy& policy, const Rule& rule) {
  const Module* m = module_of(policy, rule);
  if (!m) return Value::empty_object();
  auto own = rule_scope(*m, rule);
  return own.empty() ? Value::empty_object() : own.front()->to_value();
}

}  // namespace confidant::rego
