// Module -> OPA's AST JSON (see ast_json.h). Walks are recursive; their depth is
// bounded by the parser's max_depth like every other walk of the AST.
#include "rego/ast_json.h"

#include <algorithm>

namespace confidant::rego {
namespace {

Value S(std::string_view s) { return Value::string(s); }

// ---------------------------------------------------------------- wildcards

// OPA's parser names each `_` `$<n>` as it reads it; else branches and extra
// bodies copy the head, with fresh names only for top-level wildcard arguments.
class Wildcards {
 public:
  void rules(std::vector<std::shared_ptr<Rule>>& rules) {
    Rule* first = nullptr;
    for (auto& r : rules) {
      // Extra bodies (`p if { a } { b }`) are clones sharing the first rule's head position.
      bool clone =
          first && !r->ref.empty() && !first->ref.empty() && r->ref[0]->loc.offset == first->ref[0]->loc.offset;
      if (clone) {
        copy_head(*first, *r);
        if (r->kind == RuleKind::MultiValue) r->key = first->key;
        r->value = first->value;
      } else {
        first = r.get();
        head(*r);
      }
      body(r->body);
      for (Rule* e = r->else_rule.get(); e; e = e->else_rule.get()) {
        copy_head(*r, *e);
        if (e->value) term(e->value);
        body(e->body);
      }
    }
  }

 private:
  void head(Rule& r) {
    for (auto& t : r.ref) term(t);
    if (r.kind == RuleKind::MultiValue && r.key) term(r.key);
    for (auto& t : r.args) term(t);
    if (r.value) term(r.value);
  }
  // Head.Copy() of `from`, then fresh names for the wildcard arguments.
  void copy_head(const Rule& from, Rule& to) {
    to.ref = from.ref;
    for (size_t i = 0; i < to.args.size() && i < from.args.size(); ++i) {
      if (to.args[i]->kind == TermKind::Var && to.args[i]->name == "_")
        term(to.args[i]);
      else
        to.args[i] = from.args[i];
    }
  }
  void body(Body& b) {
    for (auto& e : b) expr(e);
  }
  void expr(Expr& e) {
    if (e.term) term(e.term);
    for (auto& v : e.vars) term(v);
    if (e.some_key) term(e.some_key);
    if (e.some_value) term(e.some_value);
    if (e.some_domain) term(e.some_domain);
    if (e.body) body(*e.body);
    for (auto& w : e.withs) {
      term(w.target);
      term(w.value);
    }
  }
  void term(const TermPtr& t) {
    if (!t) return;
    switch (t->kind) {
      case TermKind::Var:
        if (t->name == "_") t->name = "$" + std::to_string(next_++);
        return;
      case TermKind::Object:
        for (auto& [k, v] : t->pairs) {
          term(k);
          term(v);
        }
        return;
      case TermKind::ObjectCompr: term(t->key); [[fallthrough]];
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
        term(t->head);
        if (t->body) body(*t->body);
        return;
      default:
        for (auto& x : t->items) term(x);
    }
  }
  int next_ = 0;
};

// ---------------------------------------------------------------- AST order

// OPA's ast.Compare order of term kinds: null < boolean < number < string < var < ref <
// array < object < set < array/object/set comprehension < call.
int rank(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar:
      switch (t.value.kind()) {
        case Kind::Null: return 0;
        case Kind::Bool: return 1;
        case Kind::Number: return 2;
        default: return 3;
      }
    case TermKind::Var: return 5;
    case TermKind::Ref: return 6;
    case TermKind::Array: return 7;
    case TermKind::Object: return 8;
    case TermKind::Set: return 9;
    case TermKind::ArrayCompr: return 10;
    case TermKind::ObjectCompr: return 11;
    case TermKind::SetCompr: return 12;
    case TermKind::Call: return 13;
  }
  return 14;
}

int ast_compare(const Term& a, const Term& b);

int slice_compare(const std::vector<const Term*>& a, const std::vector<const Term*>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (int c = ast_compare(*a[i], *b[i])) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}
std::vector<const Term*> ptrs(const std::vector<TermPtr>& v) {
  std::vector<const Term*> out;
  for (const auto& t : v) out.push_back(t.get());
  return out;
}
std::vector<const Term*> sorted(std::vector<const Term*> v) {
  std::stable_sort(v.begin(), v.end(), [](const Term* x, const Term* y) { return ast_compare(*x, *y) < 0; });
  return v;
}
std::vector<std::pair<const Term*, const Term*>> sorted_pairs(const Term& o) {
  std::vector<std::pair<const Term*, const Term*>> v;
  for (const auto& [k, x] : o.pairs) v.emplace_back(k.get(), x.get());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& x, const auto& y) { return ast_compare(*x.first, *y.first) < 0; });
  return v;
}

int ast_compare(const Term& a, const Term& b) {
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (a.kind) {
    case TermKind::Scalar: return compare(a.value, b.value);
    case TermKind::Var: return a.name.compare(b.name) < 0 ? -1 : a.name == b.name ? 0 : 1;
    case TermKind::Set: return slice_compare(sorted(ptrs(a.items)), sorted(ptrs(b.items)));
    case TermKind::Object: {
      auto x = sorted_pairs(a), y = sorted_pairs(b);
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        if (int c = ast_compare(*x[i].first, *y[i].first)) return c;
        if (int c = ast_compare(*x[i].second, *y[i].second)) return c;
      }
      return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    case TermKind::ObjectCompr:
      if (int c = ast_compare(*a.key, *b.key)) return c;
      [[fallthrough]];
    case TermKind::ArrayCompr:
    case TermKind::SetCompr: {
      // Heads, then the bodies' sizes (comprehensions as set members or keys are rare).
      if (int c = ast_compare(*a.head, *b.head)) return c;
      size_t x = a.body ? a.body->size() : 0, y = b.body ? b.body->size() : 0;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    default: return slice_compare(ptrs(a.items), ptrs(b.items));
  }
}

// ---------------------------------------------------------------- JSON

Value term_json(const Term& t);
Value body_json(const Body& b, bool generated_if_empty);

Value typed(const char* type, Value v) { return Value::object({{S("type"), S(type)}, {S("value"), std::move(v)}}); }

Value list_json(const std::vector<const Term*>& items) {
  ValueVec out;
  out.reserve(items.size());
  for (const Term* t : items) out.push_back(term_json(*t));
  return Value::array(std::move(out));
}
Value list_json(const std::vector<TermPtr>& items) { return list_json(ptrs(items)); }

Value term_json(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: {
      static const char* names[] = {"null", "boolean", "number", "string"};
      int r = rank(t);
      return typed(names[r], t.value);
    }
    case TermKind::Var: return typed("var", S(t.name));
    case TermKind::Ref: return typed("ref", list_json(t.items));
    case TermKind::Array: return typed("array", list_json(t.items));
    case TermKind::Call: return typed("call", list_json(t.items));
    case TermKind::Set: {
      std::vector<const Term*> items;
      for (const Term* x : sorted(ptrs(t.items)))
        if (items.empty() || ast_compare(*items.back(), *x) != 0) items.push_back(x);
      return typed("set", list_json(items));
    }
    case TermKind::Object: {
      // Sorted by key; a repeated key keeps its last value (OPA's object insert).
      std::vector<std::pair<const Term*, const Term*>> pairs;
      for (const auto& kv : sorted_pairs(t)) {
        if (!pairs.empty() && ast_compare(*pairs.back().first, *kv.first) == 0)
          pairs.back().second = kv.second;
        else
          pairs.push_back(kv);
      }
      ValueVec out;
      for (const auto& [k, v] : pairs) out.push_back(Value::array({term_json(*k), term_json(*v)}));
      return typed("object", Value::array(std::move(out)));
    }
    case TermKind::ArrayCompr:
    case TermKind::SetCompr:
      return typed(t.kind == TermKind::ArrayCompr ? "arraycomprehension" : "setcomprehension",
                   Value::object({{S("term"), term_json(*t.head)}, {S("body"), body_json(*t.body, false)}}));
    case TermKind::ObjectCompr:
      return typed("objectcomprehension", Value::object({{S("key"), term_json(*t.key)},
                                                         {S("value"), term_json(*t.head)},
                                                         {S("body"), body_json(*t.body, false)}}));
  }
  return Value::null();
}

Value member_call(const Expr& e) {
  ValueVec items{typed(
      "ref", Value::array({typed("var", S("internal")), typed("string", S(e.some_key ? "member_3" : "member_2"))}))};
  if (e.some_key) items.push_back(term_json(*e.some_key));
  items.push_back(term_json(*e.some_value));
  items.push_back(term_json(*e.some_domain));
  return typed("call", Value::array(std::move(items)));
}

Value expr_json(const Expr& e, size_t index) {
  Value terms;
  switch (e.kind) {
    case ExprKind::Term: terms = term_json(*e.term); break;
    case ExprKind::Call: terms = list_json(e.term->items); break;
    case ExprKind::SomeDecl: terms = Value::object({{S("symbols"), list_json(e.vars)}}); break;
    case ExprKind::SomeIn: terms = Value::object({{S("symbols"), Value::array({member_call(e)})}}); break;
    case ExprKind::Every:
      terms = Value::object({{S("key"), e.some_key ? term_json(*e.some_key) : Value::null()},
                             {S("value"), term_json(*e.some_value)},
                             {S("domain"), term_json(*e.some_domain)},
                             {S("body"), body_json(*e.body, false)}});
      break;
  }
  ObjectItems o{{S("index"), Value::integer(static_cast<int64_t>(index))}, {S("terms"), terms}};
  if (e.negated) o.emplace_back(S("negated"), Value::true_value());
  if (!e.withs.empty()) {
    ValueVec ws;
    for (const With& w : e.withs) {
      // The parser wraps a bare target (`with input as x`) in a ref; OPA keeps the var.
      const Term& target =
          w.target->kind == TermKind::Ref && w.target->items.size() == 1 && w.target->items[0]->kind == TermKind::Var
              ? *w.target->items[0]
              : *w.target;
      ws.push_back(Value::object({{S("target"), term_json(target)}, {S("value"), term_json(*w.value)}}));
    }
    o.emplace_back(S("with"), Value::array(std::move(ws)));
  }
  return Value::object(std::move(o));
}

// An empty rule body is OPA's generated `true`.
Value body_json(const Body& b, bool generated_if_empty) {
  ValueVec out;
  if (b.empty() && generated_if_empty)
    out.push_back(
        Value::object({{S("index"), Value::integer(0)}, {S("terms"), typed("boolean", Value::true_value())}}));
  for (size_t i = 0; i < b.size(); ++i) out.push_back(expr_json(b[i], i));
  return Value::array(std::move(out));
}

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

// The head as OPA's parser builds it (parseHead/parseRules, or ParseRuleFromExpr for
// rules without a body): `name` for a plain name (and p[k] forms), `key` for the
// element of a multi-value rule or a p[var] single-value rule, `value` true when none is written.
ObjectItems head_items(const Rule& r) {
  ObjectItems h{{S("ref"), list_json(r.ref)}};
  const size_t n = r.ref.size();
  const Term* key = nullptr;
  bool name = n == 1;
  if (r.kind == RuleKind::MultiValue) {
    key = r.key.get();
  } else if (r.kind == RuleKind::Complete && n == 2 && !r.is_default) {
    const Term& k = *r.ref[1];
    if (!r.has_if) {
      name = true;  // p.q := 1, p[x] = y (ParsePartialObjectDocRuleFromEqExpr)
      key = &k;
    } else {
      name = r.value != nullptr;
      if (!ground(k) || k.kind == TermKind::Ref) key = &k;
    }
  }
  if (name) h.emplace_back(S("name"), S(r.ref[0]->name));
  if (!r.args.empty()) h.emplace_back(S("args"), list_json(r.args));
  if (key) h.emplace_back(S("key"), term_json(*key));
  if (r.kind != RuleKind::MultiValue)
    h.emplace_back(S("value"), r.value ? term_json(*r.value) : typed("boolean", Value::true_value()));
  if (r.assign) h.emplace_back(S("assign"), Value::true_value());
  return h;
}

Value rule_json(const Rule& r, const Rule* top, const ObjectItems* top_head) {
  ObjectItems head;
  if (!top) {
    head = head_items(r);
  } else {
    // parseElse: a copy of the first head with this branch's arguments, value and `:=`.
    for (const auto& kv : *top_head)
      if (kv.first.str() != "args" && kv.first.str() != "value" && kv.first.str() != "assign") head.push_back(kv);
    if (!r.args.empty()) head.emplace_back(S("args"), list_json(r.args));
    head.emplace_back(S("value"), r.value ? term_json(*r.value) : typed("boolean", Value::true_value()));
    if (r.value ? r.assign : top->assign) head.emplace_back(S("assign"), Value::true_value());
  }
  ObjectItems o{{S("body"), body_json(r.body, true)}};
  if (r.is_default) o.emplace_back(S("default"), Value::true_value());
  if (r.else_rule) {
    const Rule* first = top ? top : &r;
    ObjectItems first_head = top ? *top_head : head;
    o.emplace_back(S("else"), rule_json(*r.else_rule, first, &first_head));
  }
  o.emplace_back(S("head"), Value::object(std::move(head)));
  return Value::object(std::move(o));
}

std::string base64(std::string_view in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out.push_back(tbl[(v >> 18) & 63]);
    out.push_back(tbl[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? tbl[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? tbl[v & 63] : '=');
  }
  return out;
}

}  // namespace

Value module_to_json(Module& m) {
  Wildcards().rules(m.rules);
  ObjectItems o;
  ValueVec path{typed("var", S("data"))};
  for (const auto& p : m.package) path.push_back(typed("string", S(p)));
  o.emplace_back(S("package"), Value::object({{S("path"), Value::array(std::move(path))}}));
  if (!m.imports.empty()) {
    ValueVec imports;
    for (const Import& imp : m.imports) {
      ObjectItems i{{S("path"), term_json(*imp.path)}};
      if (!imp.alias.empty()) i.emplace_back(S("alias"), S(imp.alias));
      imports.push_back(Value::object(std::move(i)));
    }
    o.emplace_back(S("imports"), Value::array(std::move(imports)));
  }
  if (!m.rules.empty()) {
    ValueVec rules;
    for (const auto& r : m.rules) rules.push_back(rule_json(*r, nullptr, nullptr));
    o.emplace_back(S("rules"), Value::array(std::move(rules)));
  }
  if (!m.comments.empty()) {
    // Comment has no JSON tags in OPA (hence "Text"/"Location"), and its location is always included.
    ValueVec comments;
    for (const Comment& c : m.comments) {
      Value loc = Value::object({{S("file"), S(m.file ? *m.file : std::string())},
                                 {S("row"), Value::integer(c.row)},
                                 {S("col"), Value::integer(c.col)}});
      comments.push_back(Value::object({{S("Text"), S(base64(c.text))}, {S("Location"), loc}}));
    }
    o.emplace_back(S("comments"), Value::array(std::move(comments)));
  }
  return Value::object(std::move(o));
}

}  // namespace confidant::rego
