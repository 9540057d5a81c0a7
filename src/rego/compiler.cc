#include "rego/compiler.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace confidant::rego {


const RuleNode* Policy::find(const std::vector<std::string>& path) const {
  const RuleNode* n = root.get();
  for (const auto& p : path) {
    auto it = n->children.find(p);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

namespace {

std::string join(const std::vector<std::string>& parts, size_t n = SIZE_MAX) {
  std::string out;
  for (size_t i = 0; i < parts.size() && i < n; ++i) {
    if (i) out += '.';
    out += parts[i];
  }
  return out;
}

TermPtr make_string_term(const std::string& s, const Location& loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::Scalar;
  t->value = Value::string(s);
  t->loc = loc;
  t->ground = true;
  t->constant = t->value;
  return t;
}

TermPtr make_root_var(int32_t slot, const Location& loc) {
  auto t = std::make_shared<Term>();
  t->kind = TermKind::Var;
  t->name = slot == kInputSlot ? "input" : "data";
  t->slot = slot;
  t->loc = loc;
  return t;
}

// A variable scope: one per body (rule body, comprehension, every).
struct Scope {
  Scope* parent = nullptr;
  std::unordered_map<std::string, int32_t> vars;
  std::unordered_set<std::string> assigned;  // declared with := in this scope
  std::unordered_set<std::string> pending;   // declared by some/:= later in the body
  std::vector<int32_t> own;                  // slots declared here
  int32_t lookup(const std::string& n) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->vars.find(n);
      if (it != s->vars.end()) return it->second;
    }
    return -1;
  }
};

// Globals visible in a module body: rule names of the package and imports.
struct ModuleEnv {
  const Module* module = nullptr;
  std::vector<std::string> pkg;  // package path
  const RuleNode* pkg_node = nullptr;
  std::unordered_map<std::string, std::vector<std::string>> aliases;  // name -> path incl. root ("data"/"input")
};

class Compiler {
 public:
  Compiler(Policy& p, Errors& e, const BuiltinRegistry& b, std::vector<std::unique_ptr<CallTarget>>& targets)
      : policy_(p), errors_(e), builtins_(b), targets_(targets) {}

  void error(const char* code, const Location& loc, std::string msg) {
    RegoError err;
    err.code = code;
    err.message = std::move(msg);
    if (loc.file) err.file = *loc.file;
    err.row = loc.row;
    err.col = loc.col;
    errors_.push_back(std::move(err));
  }

  // ---- rule tree ---------------------------------------------------------
  RuleNode* node_for(const std::vector<std::string>& path) {
    RuleNode* n = policy_.root.get();
    for (const auto& p : path) {
      auto& child = n->children[p];
      if (!child) {
        child = std::make_unique<RuleNode>();
        child->name = p;
        child->path = n->path;
        child->path.push_back(p);
        child->display = "data." + join(child->path);
      }
      n = child.get();
    }
    return n;
  }

  void build_tree() {
    policy_.root = std::make_unique<RuleNode>();
    policy_.root->display = "data";
    for (auto& m : policy_.modules) {
      for (auto& r : m->rules) {
        r->module = m.get();
        std::vector<std::string> path = m->package;
        uint32_t static_len = 0;
        for (size_t i = 0; i < r->ref.size(); ++i) {
          const Term& t = *r->ref[i];
          if (i == 0 && t.kind == TermKind::Var) {
            path.push_back(t.name);
          } else if (t.kind == TermKind::Scalar && t.value.is_string()) {
            path.push_back(t.value.str());
          } else {
            break;
          }
          ++static_len;
        }
        r->static_len = static_len;
        RuleNode* n = node_for(path);
        for (RuleNode* p = policy_.root.get(); p; ) {
          p->has_rules_below = true;
          if (p == n) break;
          // walk down again along path
          size_t depth = p->path.size();
          p = p->children[path[depth]].get();
        }
        if (r->kind == RuleKind::Function) n->is_function = true;
        if (r->kind == RuleKind::MultiValue) n->multi_value = true;
        if (r->kind != RuleKind::Function && static_len < r->ref.size()) n->dynamic = true;
        if (r->is_default) {
          if (n->default_rule) {
            error(codes::kType, r->loc, "multiple default rules " + n->display + " found");
            continue;
          }
          n->default_rule = r;
        } else {
          n->rules.push_back(r);
        }
      }
    }
    check_tree(policy_.root.get());
  }

  void check_tree(RuleNode* n) {
    bool has_complete = false, has_func = false;
    for (auto& r : n->rules) {
      if (r->kind == RuleKind::Function) has_func = true;
      else if (r->kind == RuleKind::Complete) has_complete = true;
    }
    if (has_func && (has_complete || n->multi_value))
      error(codes::kType, n->rules[0]->loc, "conflicting rules " + n->display + " found");
    else if (n->multi_value && has_complete && !n->dynamic)
      error(codes::kType, n->rules[0]->loc, "conflicting rules " + n->display + " found");
    // single_value is decided after constant folding (check_single).
    for (auto& [k, c] : n->children) check_tree(c.get());
  }

  // ---- name resolution -----------------------------------------------------

  struct Frame {
    int32_t next = 0;
    std::vector<std::string> names;  // slot -> name (for messages)
    int32_t alloc(const std::string& n) {
      names.push_back(n);
      return next++;
    }
  };

  ModuleEnv env_for(const Module& m) {
    ModuleEnv env;
    env.module = &m;
    env.pkg = m.package;
    env.pkg_node = policy_.find(m.package);
    for (const auto& imp : m.imports) {
      std::vector<std::string> path;
      const Term& t = *imp.path;
      if (t.kind == TermKind::Var) {
        path.push_back(t.name);
      } else if (t.kind == TermKind::Ref) {
        bool ok = true;
        for (size_t i = 0; i < t.items.size(); ++i) {
          const Term& p = *t.items[i];
          if (i == 0 && p.kind == TermKind::Var) path.push_back(p.name);
          else if (p.kind == TermKind::Scalar && p.value.is_string()) path.push_back(p.value.str());
          else ok = false;
        }
        if (!ok) {
          error(codes::kCompile, imp.loc, "invalid import path");
          continue;
        }
      }
      if (path.empty()) continue;
      if (path[0] == "future" || path[0] == "rego") continue;
      if (path[0] != "data" && path[0] != "input") {
        error(codes::kCompile, imp.loc, "invalid import " + join(path) + ": must begin with input or data");
        continue;
      }
      std::string alias = imp.alias.empty() ? path.back() : imp.alias;
      if (path.size() == 1 && imp.alias.empty()) continue;  // `import input` / `import data`
      env.aliases[alias] = path;
    }
    return env;
  }

  // Is `name` a rule (or rule prefix) of the module's package?
  bool is_rule_name(const ModuleEnv& env, const std::string& name) const {
    if (!env.pkg_node) return false;
    auto it = env.pkg_node->children.find(name);
    return it != env.pkg_node->children.end() && it->second->has_rules_below;
  }

  // Expands a global name into a root ref path; empty when not global.
  std::vector<std::string> global_path(const ModuleEnv& env, const std::string& name) const {
    if (name == "input" || name == "data") return {name};
    auto it = env.aliases.find(name);
    if (it != env.aliases.end()) return it->second;
    if (is_rule_name(env, name)) {
      std::vector<std::string> p{"data"};
      p.insert(p.end(), env.pkg.begin(), env.pkg.end());
      p.push_back(name);
      return p;
    }
    return {};
  }

  // Collect the names that are local to a body: declared (some, :=) or used
  // directly in it and not global/outer. Nested bodies are scanned later.
  void declare_body_vars(const ModuleEnv& env, Body& body, Scope& scope, Frame& frame, const Term* head_key,
                         const Term* head_value) {
    // `some` and `:=` declare variables from that expression on (the
    // resolver declares them in order); here they are only noted, so that
    // a comprehension before the declaration keeps its own variable.
    for (auto& e : body) {
      if (e.kind == ExprKind::SomeDecl) {
        for (auto& v : e.vars)
          if (v->kind == TermKind::Var) note_pattern(*v, scope);
      } else if (e.kind == ExprKind::SomeIn) {
        if (e.some_key) note_pattern(*e.some_key, scope);
        note_pattern(*e.some_value, scope);
      } else if (e.kind == ExprKind::Call && is_op(*e.term, "assign") && e.term->items.size() == 3) {
        note_pattern(*e.term->items[1], scope);
      }
    }
    // Remaining plain variables used directly in this body.
    std::function<void(const Term&)> scan = [&](const Term& t) {
      switch (t.kind) {
        case TermKind::Var:
          if (t.name != "_" && !scope.pending.count(t.name) && scope.lookup(t.name) < 0 &&
              global_path(env, t.name).empty())
            declare(scope, frame, t.name);
          break;
        case TermKind::Ref:
        case TermKind::Array:
        case TermKind::Set:
          for (auto& i : t.items) scan(*i);
          break;
        case TermKind::Call:
          for (size_t i = 1; i < t.items.size(); ++i) scan(*t.items[i]);
          break;
        case TermKind::Object:
          for (auto& [k, v] : t.pairs) {
            scan(*k);
            scan(*v);
          }
          break;
        default: break;  // comprehensions: their own scope
      }
    };
    for (auto& e : body) {
      if (e.term) scan(*e.term);
      if (e.kind == ExprKind::SomeIn && e.some_domain) scan(*e.some_domain);
      if (e.kind == ExprKind::Every && e.some_domain) scan(*e.some_domain);
      for (auto& w : e.withs)
        if (!names_function(env, *w.value, scope)) scan(*w.value);
    }
    if (head_key) scan(*head_key);
    if (head_value) scan(*head_value);
  }

  // A `with` replacement that names a builtin or function (`with count as my_count`).
  bool names_function(const ModuleEnv& env, const Term& t, const Scope& scope) const {
    std::vector<std::string> parts;
    if (t.kind == TermKind::Var) {
      parts.push_back(t.name);
    } else if (t.kind == TermKind::Ref) {
      for (size_t i = 0; i < t.items.size(); ++i) {
        const Term& p = *t.items[i];
        if (i == 0 && p.kind == TermKind::Var) parts.push_back(p.name);
        else if (p.kind == TermKind::Scalar && p.value.is_string()) parts.push_back(p.value.str());
        else return false;
      }
    } else {
      return false;
    }
    if (scope.lookup(parts[0]) >= 0) return false;
    if (builtins_.find(join(parts))) return true;
    std::vector<std::string> path = global_path(env, parts[0]);
    if (path.empty() || path[0] != "data") return false;
    path.insert(path.end(), parts.begin() + 1, parts.end());
    const RuleNode* n = policy_.find(std::vector<std::string>(path.begin() + 1, path.end()));
    return n && n->is_function;
  }

  static void note_pattern(const Term& t, Scope& scope) {
    if (t.kind == TermKind::Var) {
      if (t.name != "_") scope.pending.insert(t.name);
    } else if (t.kind == TermKind::Array) {
      for (auto& i : t.items) note_pattern(*i, scope);
    } else if (t.kind == TermKind::Object) {
      for (auto& [k, v] : t.pairs) note_pattern(*v, scope);
    }
  }

  // Declares the variables of a `some`/`:=` pattern in this scope.
  void declare_pattern(const Term& t, Scope& scope, Frame& frame, bool assign) {
    if (t.kind == TermKind::Var) {
      if (t.name == "_") return;
      if (assign) {
        if (scope.assigned.count(t.name)) {
          error(codes::kCompile, t.loc, "var " + t.name + " assigned above");
          return;
        }
        if (t.name == "input" || t.name == "data") {
          error(codes::kCompile, t.loc, "cannot assign to " + t.name);
          return;
        }
        scope.assigned.insert(t.name);
      }
      declare(scope, frame, t.name);
    } else if (t.kind == TermKind::Array) {
      for (auto& i : t.items) declare_pattern(*i, scope, frame, assign);
    } else if (t.kind == TermKind::Object) {
      for (auto& [k, v] : t.pairs) declare_pattern(*v, scope, frame, assign);
    }
  }

  void declare(Scope& scope, Frame& frame, const std::string& name) {
    auto it = scope.vars.find(name);
    if (it != scope.vars.end()) return;
    int32_t s = frame.alloc(name);
    scope.vars[name] = s;
    scope.own.push_back(s);
  }

  static bool is_op(const Term& call, const char* name) {
    if (call.kind != TermKind::Call || call.items.empty()) return false;
    const Term& op = *call.items[0];
    if (op.kind == TermKind::Ref && op.items.size() == 1 && op.items[0]->kind == TermKind::Var)
      return op.items[0]->name == name;
    if (op.kind == TermKind::Var) return op.name == name;
    return false;
  }

  static std::string op_name(const Term& op) {
    if (op.kind == TermKind::Var) return op.name;
    std::string n;
    for (size_t i = 0; i < op.items.size(); ++i) {
      const Term& p = *op.items[i];
      if (i) n += '.';
      if (p.kind == TermKind::Var) n += p.name;
      else if (p.kind == TermKind::Scalar && p.value.is_string()) n += p.value.str();
      else n += "?";
    }
    return n;
  }

  // Resolves a term in place: locals get slots, globals become refs.
  void resolve_term(const ModuleEnv& env, TermPtr& tp, Scope& scope, Frame& frame) {
    Term& t = *tp;
    switch (t.kind) {
      case TermKind::Scalar: t.ground = true; t.constant = t.value; return;
      case TermKind::Var: {
        if (t.name == "_") {
          t.slot = frame.alloc("_");
          scope.own.push_back(t.slot);
          return;
        }
        int32_t s = scope.lookup(t.name);
        if (s >= 0) {
          t.slot = s;
          return;
        }
        auto path = global_path(env, t.name);
        if (path.empty()) {
          // Should not happen: declare_body_vars declared every local.
          t.slot = frame.alloc(t.name);
          scope.vars[t.name] = t.slot;
          scope.own.push_back(t.slot);
          return;
        }
        tp = make_global_ref(path, t.loc);
        return;
      }
      case TermKind::Ref: {
        // Resolve the head; flatten when it becomes a ref itself.
        TermPtr head = t.items[0];
        if (head->kind == TermKind::Var) {
          resolve_term(env, head, scope, frame);
          if (head->kind == TermKind::Ref) {
            std::vector<TermPtr> items = head->items;
            items.insert(items.end(), t.items.begin() + 1, t.items.end());
            t.items = std::move(items);
          } else {
            t.items[0] = head;
          }
        } else {
          resolve_term(env, t.items[0], scope, frame);
        }
        for (size_t i = 1; i < t.items.size(); ++i) resolve_term(env, t.items[i], scope, frame);
        return;
      }
      case TermKind::Array:
      case TermKind::Set: {
        bool ground = true;
        for (auto& i : t.items) {
          resolve_term(env, i, scope, frame);
          ground = ground && i->ground;
        }
        if (ground) {
          ValueVec vals;
          vals.reserve(t.items.size());
          for (auto& i : t.items) vals.push_back(i->constant);
          t.constant = t.kind == TermKind::Array ? Value::array(std::move(vals)) : Value::set(std::move(vals));
          t.ground = true;
        }
        return;
      }
      case TermKind::Object: {
        bool ground = true;
        for (auto& [k, v] : t.pairs) {
          resolve_term(env, k, scope, frame);
          resolve_term(env, v, scope, frame);
          ground = ground && k->ground && v->ground;
        }
        if (ground) {
          ObjectItems items;
          for (auto& [k, v] : t.pairs) items.emplace_back(k->constant, v->constant);
          t.constant = Value::object(std::move(items));
          t.ground = true;
        }
        return;
      }
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: {
        auto inner = std::make_unique<Scope>();
        inner->parent = &scope;
        declare_body_vars(env, *t.body, *inner, frame, t.key.get(), t.head.get());
        resolve_body(env, *t.body, *inner, frame);
        if (t.key) resolve_term(env, t.key, *inner, frame);
        resolve_term(env, t.head, *inner, frame);
        own_slots_[t.body.get()] = inner->own;
        scopes_.push_back(std::move(inner));
        return;
      }
      case TermKind::Call: {
        for (size_t i = 1; i < t.items.size(); ++i) resolve_term(env, t.items[i], scope, frame);
        resolve_call(env, t, scope);
        return;
      }
    }
  }

  TermPtr make_global_ref(const std::vector<std::string>& path, const Location& loc) {
    if (path.size() == 1) return make_root_var(path[0] == "input" ? kInputSlot : kDataSlot, loc);
    auto r = std::make_shared<Term>();
    r->kind = TermKind::Ref;
    r->loc = loc;
    r->items.push_back(make_root_var(path[0] == "input" ? kInputSlot : kDataSlot, loc));
    for (size_t i = 1; i < path.size(); ++i) r->items.push_back(make_string_term(path[i], loc));
    return r;
  }

  // Resolves the operator of a call to a function rule, print/walk, or a builtin.
  void resolve_call(const ModuleEnv& env, Term& call, Scope& scope) {
    const Term& op = *call.items[0];
    std::vector<std::string> parts;
    if (op.kind == TermKind::Var) {
      parts.push_back(op.name);
    } else if (op.kind == TermKind::Ref) {
      for (size_t i = 0; i < op.items.size(); ++i) {
        const Term& p = *op.items[i];
        if (i == 0 && p.kind == TermKind::Var) parts.push_back(p.name);
        else if (p.kind == TermKind::Scalar && p.value.is_string()) parts.push_back(p.value.str());
        else {
          error(codes::kType, call.loc, "invalid function reference");
          return;
        }
      }
    }
    if (parts.empty()) {
      error(codes::kType, call.loc, "invalid function reference");
      return;
    }
    int nargs = static_cast<int>(call.items.size()) - 1;
    auto target = std::make_unique<CallTarget>();
    std::string name = join(parts);
    target->name = name;
    // User functions: data.x.f, package-local f, imported alias.
    std::vector<std::string> fpath;
    if (parts[0] == "data") {
      fpath.assign(parts.begin() + 1, parts.end());
    } else if (scope.lookup(parts[0]) < 0) {
      auto it = env.aliases.find(parts[0]);
      if (it != env.aliases.end() && it->second[0] == "data") {
        fpath.assign(it->second.begin() + 1, it->second.end());
        fpath.insert(fpath.end(), parts.begin() + 1, parts.end());
      } else if (is_rule_name(env, parts[0])) {
        fpath = env.pkg;
        fpath.insert(fpath.end(), parts.begin(), parts.end());
      }
    }
    if (!fpath.empty()) {
      const RuleNode* n = policy_.find(fpath);
      if (n && n->is_function) {
        target->kind = CallTarget::Function;
        target->function = n;
        target->name = n->display;
        int arity = function_arity(n);
        target->arity = arity;
        if (nargs != arity && nargs != arity + 1)
          error(codes::kType, call.loc, target->name + ": arity mismatch");
        call.target = target.get();
        targets_.push_back(std::move(target));
        return;
      }
      if (parts[0] == "data" || n) {
        error(codes::kType, call.loc, "undefined function " + name);
        return;
      }
    }
    static const std::map<std::string, std::pair<CallTarget::Kind, int>> kSpecial = {
        {"eq", {CallTarget::Eq, 2}},
        {"assign", {CallTarget::Assign, 2}},
        {"internal.member_2", {CallTarget::Member2, 2}},
        {"internal.member_3", {CallTarget::Member3, 3}},
    };
    if (auto it = kSpecial.find(name); it != kSpecial.end()) {
      target->kind = it->second.first;
      target->arity = it->second.second;
    } else if (name == "print") {
      target->kind = CallTarget::Print;
      target->print_prefix = (call.loc.file ? *call.loc.file : std::string()) + ":" + std::to_string(call.loc.row) + ": ";
    } else if (name == "walk") {
      target->kind = CallTarget::Walk;
      target->arity = 1;
      if (nargs != 1 && nargs != 2) error(codes::kType, call.loc, "walk: arity mismatch");
    } else if (const BuiltinInfo* b = builtins_.find(name); b && !(b->deprecated && env.module->rego_v1)) {
      target->kind = CallTarget::Builtin;
      target->builtin = b;
      target->arity = b->arity;
      if (nargs != b->arity && nargs != b->arity + 1) {
        error(codes::kType, call.loc,
              name + ": arity mismatch\n\thave: " + std::to_string(nargs) + " arguments\n\twant: " +
                  std::to_string(b->arity) + " arguments");
        return;
      }
    } else {
      error(codes::kType, call.loc, "undefined function " + name);
      return;
    }
    call.target = target.get();
    targets_.push_back(std::move(target));
  }

  static int function_arity(const RuleNode* n) {
    for (auto& r : n->rules) return static_cast<int>(r->args.size());
    if (n->default_rule) return static_cast<int>(n->default_rule->args.size());
    return 0;
  }

  void resolve_body(const ModuleEnv& env, Body& body, Scope& scope, Frame& frame) {
    for (auto& e : body) resolve_expr(env, e, scope, frame);
  }

  void resolve_expr(const ModuleEnv& env, Expr& e, Scope& scope, Frame& frame) {
    switch (e.kind) {
      case ExprKind::Term:
      case ExprKind::Call:
        if (e.term->kind == TermKind::Call && is_op(*e.term, "assign") && e.term->items.size() == 3) {
          // The right side sees the scope before the declaration.
          Term& c = *e.term;
          resolve_term(env, c.items[2], scope, frame);
          declare_pattern(*c.items[1], scope, frame, true);
          resolve_term(env, c.items[1], scope, frame);
          resolve_call(env, c, scope);
        } else {
          resolve_term(env, e.term, scope, frame);
        }
        if (e.kind == ExprKind::Term && e.term->kind == TermKind::Call) e.kind = ExprKind::Call;
        break;
      case ExprKind::SomeDecl:
        for (auto& v : e.vars)
          if (v->kind == TermKind::Var) {
            declare_pattern(*v, scope, frame, false);
            resolve_term(env, v, scope, frame);
          }
        break;
      case ExprKind::SomeIn:
        resolve_term(env, e.some_domain, scope, frame);
        if (e.some_key) declare_pattern(*e.some_key, scope, frame, false);
        declare_pattern(*e.some_value, scope, frame, false);
        if (e.some_key) resolve_term(env, e.some_key, scope, frame);
        resolve_term(env, e.some_value, scope, frame);
        break;
      case ExprKind::Every: {
        resolve_term(env, e.some_domain, scope, frame);
        auto inner = std::make_unique<Scope>();
        inner->parent = &scope;
        // every's key/value are always fresh locals of its body.
        if (e.some_key && e.some_key->kind == TermKind::Var && e.some_key->name != "_")
          declare(*inner, frame, e.some_key->name);
        if (e.some_value->kind == TermKind::Var && e.some_value->name != "_")
          declare(*inner, frame, e.some_value->name);
        declare_body_vars(env, *e.body, *inner, frame, nullptr, nullptr);
        if (e.some_key) resolve_term(env, e.some_key, *inner, frame);
        resolve_term(env, e.some_value, *inner, frame);
        resolve_body(env, *e.body, *inner, frame);
        own_slots_[e.body.get()] = inner->own;
        scopes_.push_back(std::move(inner));
        break;
      }
    }
    for (auto& w : e.withs) {
      if (names_function(env, *w.value, scope)) {
        // Keep it symbolic, expanded to a full data path when it is a rule.
        resolve_function_value(env, w.value);
      } else {
        resolve_term(env, w.value, scope, frame);
      }
      resolve_with_target(env, w);
    }
  }

  void resolve_function_value(const ModuleEnv& env, TermPtr& t) {
    Term& head = t->kind == TermKind::Var ? *t : *t->items[0];
    if (builtins_.find(t->kind == TermKind::Var ? t->name : "")) return;
    std::vector<std::string> path = global_path(env, head.name);
    if (path.empty() || path[0] != "data") return;
    auto r = std::make_shared<Term>();
    r->kind = TermKind::Ref;
    r->loc = t->loc;
    auto root = std::make_shared<Term>();
    root->kind = TermKind::Var;
    root->name = "data";
    root->loc = t->loc;
    r->items.push_back(root);
    for (size_t i = 1; i < path.size(); ++i) r->items.push_back(make_string_term(path[i], t->loc));
    if (t->kind == TermKind::Ref)
      for (size_t i = 1; i < t->items.size(); ++i) r->items.push_back(t->items[i]);
    t = r;
  }

  void resolve_with_target(const ModuleEnv& env, With& w) {
    // Targets stay symbolic (input.x / data.x / a function name); the
    // evaluator matches them. Expand package-local rule names and aliases.
    Term& t = *w.target;
    std::vector<std::string> parts;
    auto push = [&](const Term& p, bool first) {
      if (first && p.kind == TermKind::Var) parts.push_back(p.name);
      else if (p.kind == TermKind::Scalar && p.value.is_string()) parts.push_back(p.value.str());
      else return false;
      return true;
    };
    bool ok = true;
    if (t.kind == TermKind::Var) ok = push(t, true);
    else if (t.kind == TermKind::Ref)
      for (size_t i = 0; i < t.items.size() && ok; ++i) ok = push(*t.items[i], i == 0);
    else ok = false;
    if (!ok || parts.empty()) {
      error(codes::kType, w.loc, "with keyword target must reference existing input, data, or a function");
      return;
    }
    if (parts[0] != "input" && parts[0] != "data") {
      auto it = env.aliases.find(parts[0]);
      if (it != env.aliases.end()) {
        std::vector<std::string> p = it->second;
        p.insert(p.end(), parts.begin() + 1, parts.end());
        parts = p;
      } else if (is_rule_name(env, parts[0])) {
        std::vector<std::string> p{"data"};
        p.insert(p.end(), env.pkg.begin(), env.pkg.end());
        p.insert(p.end(), parts.begin(), parts.end());
        parts = p;
      } else if (!builtins_.find(join(parts)) && join(parts) != "print") {
        error(codes::kCompile, w.loc,
              "with keyword target must reference existing input, data, or a function");
        return;
      }
    }
    // Rewrite the target as a flat ref of strings (first item a Var).
    auto r = std::make_shared<Term>();
    r->kind = TermKind::Ref;
    r->loc = t.loc;
    auto head = std::make_shared<Term>();
    head->kind = TermKind::Var;
    head->name = parts[0];
    head->loc = t.loc;
    r->items.push_back(head);
    for (size_t i = 1; i < parts.size(); ++i) r->items.push_back(make_string_term(parts[i], t.loc));
    // Mark function targets.
    if (parts[0] == "data") {
      const RuleNode* n = policy_.find(std::vector<std::string>(parts.begin() + 1, parts.end()));
      if (n && n->is_function) r->target = n;
    } else if (parts[0] != "input") {
      r->target = builtins_.find(join(parts));
    }
    w.target = r;
  }

  // ---- safety ----------------------------------------------------------------

  using SlotSet = std::set<int32_t>;

  // Variables a term needs bound (inputs) and may bind (outputs).
  void term_vars(const Term& t, bool pattern, SlotSet& in, SlotSet& out) {
    switch (t.kind) {
      case TermKind::Scalar: return;
      case TermKind::Var:
        if (t.slot < 0) return;
        (pattern ? out : in).insert(t.slot);
        return;
      case TermKind::Ref:
        if (t.items[0]->kind == TermKind::Var) {
          if (t.items[0]->slot >= 0) in.insert(t.items[0]->slot);
        } else {
          term_vars(*t.items[0], false, in, out);
        }
        for (size_t i = 1; i < t.items.size(); ++i) {
          const Term& p = *t.items[i];
          if (p.kind == TermKind::Var) {
            if (p.slot >= 0) out.insert(p.slot);
          } else {
            term_vars(p, p.kind == TermKind::Array || p.kind == TermKind::Object, in, out);
          }
        }
        return;
      case TermKind::Array:
        for (auto& i : t.items) term_vars(*i, pattern, in, out);
        return;
      case TermKind::Set:
        for (auto& i : t.items) term_vars(*i, false, in, out);
        return;
      case TermKind::Object:
        for (auto& [k, v] : t.pairs) {
          term_vars(*k, false, in, out);
          term_vars(*v, pattern, in, out);
        }
        return;
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: {
        SlotSet all;
        body_free_vars(*t.body, all);
        if (t.key) all_vars(*t.key, all);
        all_vars(*t.head, all);
        remove_own(t.body.get(), all);
        in.insert(all.begin(), all.end());
        return;
      }
      case TermKind::Call: {
        const auto* target = static_cast<const CallTarget*>(t.target);
        size_t n = t.items.size() - 1;
        for (size_t i = 1; i < t.items.size(); ++i) {
          bool output = target && target->kind != CallTarget::Print && n == static_cast<size_t>(target->arity) + 1 &&
                        i == n;
          term_vars(*t.items[i], output, in, out);
        }
        return;
      }
    }
  }

  void all_vars(const Term& t, SlotSet& s) {
    SlotSet in, out;
    term_vars(t, false, in, out);
    s.insert(in.begin(), in.end());
    s.insert(out.begin(), out.end());
  }

  void body_free_vars(const Body& b, SlotSet& s) {
    for (const auto& e : b) {
      SlotSet in, out;
      expr_vars(e, in, out);
      s.insert(in.begin(), in.end());
      s.insert(out.begin(), out.end());
    }
  }

  void remove_own(const Body* b, SlotSet& s) {
    auto it = own_slots_.find(b);
    if (it == own_slots_.end()) return;
    for (int32_t x : it->second) s.erase(x);
  }

  void expr_vars(const Expr& e, SlotSet& in, SlotSet& out) {
    SlotSet tin, tout;
    switch (e.kind) {
      case ExprKind::Term: term_vars(*e.term, false, tin, tout); break;
      case ExprKind::Call: {
        const Term& c = *e.term;
        if (is_op(c, "eq") && c.items.size() == 3) {
          term_vars(*c.items[1], true, tin, tout);
          term_vars(*c.items[2], true, tin, tout);
        } else if (is_op(c, "assign") && c.items.size() == 3) {
          term_vars(*c.items[1], true, tin, tout);
          term_vars(*c.items[2], false, tin, tout);
        } else {
          term_vars(c, false, tin, tout);
        }
        break;
      }
      case ExprKind::SomeDecl: break;
      case ExprKind::SomeIn:
        if (e.some_key) term_vars(*e.some_key, true, tin, tout);
        term_vars(*e.some_value, true, tin, tout);
        term_vars(*e.some_domain, false, tin, tout);
        break;
      case ExprKind::Every: {
        term_vars(*e.some_domain, false, tin, tout);
        SlotSet all;
        body_free_vars(*e.body, all);
        remove_own(e.body.get(), all);
        tin.insert(all.begin(), all.end());
        break;
      }
    }
    for (const auto& w : e.withs) term_vars(*w.value, false, tin, tout);
    if (e.negated) {
      // Negation binds nothing; its iteration variables must be wildcards or bound.
      for (int32_t s : tout)
        if (!is_wildcard(s)) tin.insert(s);
      tout.clear();
    }
    // A variable bound by a ref in the same expression (`x == xs[x]`) is not
    // needed from outside: the evaluator reads it after the ref binds it.
    for (int32_t s : tin)
      if (!tout.count(s)) in.insert(s);
    out.insert(tout.begin(), tout.end());
  }

  bool is_wildcard(int32_t s) const {
    return cur_frame_ && s < static_cast<int32_t>(cur_frame_->names.size()) && cur_frame_->names[s] == "_";
  }

  // Reorders a body so every expression's inputs are bound first (OPA's
  // reorderBodyForSafety). Returns false and reports unsafe variables.
  bool reorder(Body& body, SlotSet& safe, const Location& loc) {
    std::vector<bool> done(body.size(), false);
    Body out;
    out.reserve(body.size());
    size_t remaining = body.size();
    while (remaining) {
      bool progress = false;
      for (size_t i = 0; i < body.size(); ++i) {
        if (done[i]) continue;
        SlotSet in, outv;
        expr_vars(body[i], in, outv);
        bool ok = std::all_of(in.begin(), in.end(), [&](int32_t s) { return safe.count(s); });
        if (ok && body[i].kind == ExprKind::Call && is_op(*body[i].term, "eq") && body[i].term->items.size() == 3) {
          // x = y with both sides unbound variables cannot be evaluated yet.
          const Term& a = *body[i].term->items[1];
          const Term& b = *body[i].term->items[2];
          if (a.kind == TermKind::Var && b.kind == TermKind::Var && a.slot >= 0 && b.slot >= 0 && !safe.count(a.slot) &&
              !safe.count(b.slot))
            ok = false;
        }
        if (!ok) continue;
        done[i] = true;
        --remaining;
        progress = true;
        safe.insert(outv.begin(), outv.end());
        out.push_back(std::move(body[i]));
        // Nested bodies: reorder with the variables safe at this point.
        reorder_nested(out.back(), safe);
        break;  // restart from the first pending expression (keeps source order when possible)
      }
      if (!progress) {
        for (size_t i = 0; i < body.size(); ++i) {
          if (done[i]) continue;
          SlotSet in, outv;
          expr_vars(body[i], in, outv);
          for (int32_t s : in)
            if (!safe.count(s)) report_unsafe(s, body[i]);
        }
        (void)loc;
        return false;
      }
    }
    body = std::move(out);
    return true;
  }

  void reorder_nested(Expr& e, const SlotSet& safe) {
    std::function<void(Term&)> visit = [&](Term& t) {
      switch (t.kind) {
        case TermKind::ArrayCompr:
        case TermKind::SetCompr:
        case TermKind::ObjectCompr: {
          SlotSet s = safe;
          if (reorder(*t.body, s, t.loc)) {
            SlotSet in, out;
            if (t.key) term_vars(*t.key, false, in, out);
            term_vars(*t.head, false, in, out);
            for (int32_t x : in)
              if (!s.count(x)) report_unsafe_term(x, t);
          }
          return;
        }
        default:
          for (auto& i : t.items) visit(*i);
          for (auto& [k, v] : t.pairs) {
            visit(*k);
            visit(*v);
          }
      }
    };
    if (e.term) visit(*e.term);
    if (e.some_domain) visit(*e.some_domain);
    for (auto& w : e.withs) visit(*w.value);
    if (e.kind == ExprKind::Every) {
      SlotSet s = safe;
      if (e.some_key && e.some_key->slot >= 0) s.insert(e.some_key->slot);
      if (e.some_value->slot >= 0) s.insert(e.some_value->slot);
      // Patterns in every's value position.
      SlotSet in, out;
      term_vars(*e.some_value, true, in, out);
      s.insert(out.begin(), out.end());
      if (e.some_key) {
        term_vars(*e.some_key, true, in, out);
        s.insert(out.begin(), out.end());
      }
      reorder(*e.body, s, e.loc);
    }
  }

  const Location* find_var_loc(const Term& t, int32_t slot) {
    if (t.kind == TermKind::Var && t.slot == slot) return &t.loc;
    for (auto& i : t.items)
      if (auto* l = find_var_loc(*i, slot)) return l;
    for (auto& [k, v] : t.pairs) {
      if (auto* l = find_var_loc(*k, slot)) return l;
      if (auto* l = find_var_loc(*v, slot)) return l;
    }
    if (t.key)
      if (auto* l = find_var_loc(*t.key, slot)) return l;
    if (t.head)
      if (auto* l = find_var_loc(*t.head, slot)) return l;
    if (t.body)
      for (auto& e : *t.body)
        if (auto* l = find_var_loc_expr(e, slot)) return l;
    return nullptr;
  }
  const Location* find_var_loc_expr(const Expr& e, int32_t slot) {
    for (const TermPtr* p : {&e.term, &e.some_key, &e.some_value, &e.some_domain})
      if (*p)
        if (auto* l = find_var_loc(**p, slot)) return l;
    if (e.body)
      for (auto& x : *e.body)
        if (auto* l = find_var_loc_expr(x, slot)) return l;
    for (auto& w : e.withs)
      if (auto* l = find_var_loc(*w.value, slot)) return l;
    return nullptr;
  }

  void report_unsafe(int32_t slot, const Expr& e) {
    if (reported_.count(slot)) return;
    reported_.insert(slot);
    const Location* l = find_var_loc_expr(e, slot);
    std::string name = cur_frame_ && slot < static_cast<int32_t>(cur_frame_->names.size()) ? cur_frame_->names[slot] : "?";
    error(codes::kUnsafeVar, l ? *l : e.loc, "var " + name + " is unsafe");
  }
  void report_unsafe_term(int32_t slot, const Term& t) {
    if (reported_.count(slot)) return;
    reported_.insert(slot);
    const Location* l = find_var_loc(t, slot);
    std::string name = cur_frame_ && slot < static_cast<int32_t>(cur_frame_->names.size()) ? cur_frame_->names[slot] : "?";
    error(codes::kUnsafeVar, l ? *l : t.loc, "var " + name + " is unsafe");
  }

  // ---- rules -------------------------------------------------------------------

  void compile_rule(const ModuleEnv& env, Rule& rule) {
    Frame frame;
    cur_frame_ = &frame;
    reported_.clear();
    Scope args_scope;
    // Function arguments are patterns bound on call.
    std::function<void(const Term&)> decl_args = [&](const Term& t) {
      if (t.kind == TermKind::Var) {
        if (t.name != "_") declare(args_scope, frame, t.name);
      } else {
        for (auto& i : t.items) decl_args(*i);
        for (auto& [k, v] : t.pairs) decl_args(*v);
      }
    };
    for (auto& a : rule.args) decl_args(*a);
    for (auto& a : rule.args) resolve_term(env, a, args_scope, frame);
    SlotSet arg_slots(args_scope.own.begin(), args_scope.own.end());
    for (auto& a : rule.args) {
      SlotSet in, out;
      term_vars(*a, true, in, out);
      arg_slots.insert(out.begin(), out.end());
    }

    for (Rule* r = &rule; r; r = r->else_rule.get()) {
      Scope scope;
      scope.parent = &args_scope;
      // Head ref key terms (after the static part) are evaluated in the body scope.
      for (size_t i = r->static_len; i < r->ref.size(); ++i) scan_head(env, *r->ref[i], scope, frame);
      declare_body_vars(env, r->body, scope, frame, r->key.get(), r->value.get());
      resolve_body(env, r->body, scope, frame);
      for (size_t i = (r == &rule ? rule.static_len : 0); i < r->ref.size(); ++i)
        if (r == &rule) resolve_term(env, r->ref[i], scope, frame);
      if (r->key) resolve_term(env, r->key, scope, frame);
      if (r->value) resolve_term(env, r->value, scope, frame);
      SlotSet safe = arg_slots;
      if (reorder(r->body, safe, r->loc)) {
        SlotSet in, out;
        if (r->key) term_vars(*r->key, false, in, out);
        if (r->value) term_vars(*r->value, false, in, out);
        if (r == &rule)
          for (size_t i = rule.static_len; i < rule.ref.size(); ++i) term_vars(*rule.ref[i], false, in, out);
        // Iteration variables of refs in the head (`f(x) := o[_] == x`) are
        // bound by evaluating the head itself; only its inputs must be safe.
        for (int32_t s : in) {
          if (safe.count(s) || reported_.count(s)) continue;
          reported_.insert(s);
          const Location* l = nullptr;
          if (r->key) l = find_var_loc(*r->key, s);
          if (!l && r->value) l = find_var_loc(*r->value, s);
          if (!l)
            for (auto& k : rule.ref)
              if ((l = find_var_loc(*k, s))) break;
          error(codes::kUnsafeVar, l ? *l : r->loc, "var " + frame.names[s] + " is unsafe");
        }
      }
    }
    rule.frame_size = frame.next;
    for (Rule* r = rule.else_rule.get(); r; r = r->else_rule.get()) r->frame_size = frame.next;
    cur_frame_ = nullptr;
  }

  void scan_head(const ModuleEnv& env, const Term& t, Scope& scope, Frame& frame) {
    if (t.kind == TermKind::Var) {
      if (t.name != "_" && scope.lookup(t.name) < 0 && global_path(env, t.name).empty()) declare(scope, frame, t.name);
    }
    for (auto& i : t.items) scan_head(env, *i, scope, frame);
  }

  bool compile_all() {
    for (auto& m : policy_.modules) {
      ModuleEnv env = env_for(*m);
      for (auto& r : m->rules) compile_rule(env, *r);
    }
    if (!errors_.empty()) return false;
    // Recompute single-value now that head values are folded.
    recheck(policy_.root.get());
    check_recursion();
    return errors_.empty();
  }

  void recheck(RuleNode* n) {
    check_single(n);
    for (auto& [k, c] : n->children) recheck(c.get());
  }
  void check_single(RuleNode* n) {
    n->single_value = false;
    if (n->rules.empty() || n->multi_value || n->dynamic) return;
    Value v;
    for (auto& r : n->rules) {
      for (const Rule* x = r.get(); x; x = x->else_rule.get()) {
        Value cur = Value::boolean(true);
        if (x->value) {
          if (!x->value->ground) return;
          cur = x->value->constant;
        }
        if (v.is_undefined()) v = cur;
        else if (v != cur) return;
      }
    }
    n->single_value = true;
  }

  // ---- recursion ----------------------------------------------------------------

  void deps_term(const Term& t, std::set<const RuleNode*>& deps) {
    if (t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var && t.items[0]->slot == kDataSlot) {
      const RuleNode* n = policy_.root.get();
      size_t i = 1;
      bool dynamic = false;
      for (; i < t.items.size(); ++i) {
        const Term& p = *t.items[i];
        std::string key;
        if (p.kind == TermKind::Scalar && p.value.is_string()) key = p.value.str();
        else if (p.kind == TermKind::Scalar && p.value.is_number()) key = p.value.number_text();
        else {
          dynamic = true;
          break;
        }
        auto it = n->children.find(key);
        if (it == n->children.end()) {
          n = nullptr;
          break;
        }
        n = it->second.get();
        if (!n->rules.empty() || n->default_rule) break;
      }
      // A dynamic key (`data[x].p`) is checked at run time (the evaluator
      // detects a rule that needs itself); statically it would flag every
      // rule below the prefix, as OPA does not.
      if (n && dynamic) {
        if (!n->rules.empty() || n->default_rule) deps.insert(n);
      } else if (n) {
        add_subtree(n, deps);
      }
      annotate_data_node(t, n, i);
    } else if (t.kind == TermKind::Var && t.slot == kDataSlot) {
      add_subtree(policy_.root.get(), deps);
    }
    if (t.kind == TermKind::Call && t.target) {
      const auto* ct = static_cast<const CallTarget*>(t.target);
      if (ct->kind == CallTarget::Function) deps.insert(ct->function);
    }
    for (size_t i = 0; i < t.items.size(); ++i) {
      // The root var of a data ref was handled above.
      if (i == 0 && t.kind == TermKind::Ref && t.items[0]->kind == TermKind::Var) continue;
      deps_term(*t.items[i], deps);
    }
    for (auto& [k, v] : t.pairs) {
      deps_term(*k, deps);
      deps_term(*v, deps);
    }
    if (t.key) deps_term(*t.key, deps);
    if (t.head) deps_term(*t.head, deps);
    if (t.body) deps_body(*t.body, deps);
  }
  // Term::data_node for a data ref whose string keys items[1..last] reach rule node `n`.
  void annotate_data_node(const Term& t, const RuleNode* n, size_t last) {
    t.data_node = nullptr;
    if (!n || last >= t.items.size() || n->is_function || !n->children.empty()) return;
    if (n->rules.empty() && !n->default_rule) return;
    const Value* base = &policy_.data;  // a base document along the way would win
    for (size_t j = 1; j <= last; ++j) {
      const Term& p = *t.items[j];
      if (p.kind != TermKind::Scalar || !p.value.is_string()) return;
      if (base && !(base = base->is_object() ? base->get(p.value) : nullptr)) break;
    }
    if (base) return;
    t.data_node = n;
    t.data_next = static_cast<uint32_t>(last + 1);
  }

  void add_subtree(const RuleNode* n, std::set<const RuleNode*>& deps) {
    if (!n->rules.empty() || n->default_rule) deps.insert(n);
    for (auto& [k, c] : n->children)
      if (c->has_rules_below) add_subtree(c.get(), deps);
  }
  void deps_body(const Body& b, std::set<const RuleNode*>& deps) {
    for (auto& e : b) {
      for (const TermPtr* p : {&e.term, &e.some_key, &e.some_value, &e.some_domain})
        if (*p) deps_term(**p, deps);
      if (e.body) deps_body(*e.body, deps);
      for (auto& w : e.withs) deps_term(*w.value, deps);
    }
  }

  void check_recursion() {
    std::map<const RuleNode*, std::set<const RuleNode*>> graph;
    std::function<void(const RuleNode*)> build = [&](const RuleNode* n) {
      auto& d = graph[n];
      auto add_rule = [&](const Rule& r) {
        for (const Rule* x = &r; x; x = x->else_rule.get()) {
          deps_body(x->body, d);
          if (x->value) deps_term(*x->value, d);
          if (x->key) deps_term(*x->key, d);
          for (auto& k : x->ref) deps_term(*k, d);
          for (auto& a : x->args) deps_term(*a, d);
        }
      };
      for (auto& r : n->rules) add_rule(*r);
      if (n->default_rule) add_rule(*n->default_rule);
      for (auto& [k, c] : n->children) build(c.get());
    };
    build(policy_.root.get());
    std::map<const RuleNode*, int> state;
    std::vector<const RuleNode*> stack;
    std::function<bool(const RuleNode*)> dfs = [&](const RuleNode* n) -> bool {
      state[n] = 1;
      stack.push_back(n);
      for (const RuleNode* d : graph[n]) {
        if (state[d] == 1) {
          std::string chain;
          auto it = std::find(stack.begin(), stack.end(), d);
          for (; it != stack.end(); ++it) chain += (*it)->display + " -> ";
          chain += d->display;
          const Rule* r = !d->rules.empty() ? d->rules[0].get() : d->default_rule.get();
          error(codes::kRecursion, r ? r->loc : Location{}, "rule " + d->display + " is recursive: " + chain);
          return true;
        }
        if (state[d] == 0 && dfs(d)) return true;
      }
      stack.pop_back();
      state[n] = 2;
      return false;
    };
    for (auto& [n, d] : graph)
      if (state[n] == 0 && dfs(n)) return;
  }

  // ---- queries -------------------------------------------------------------------

  bool compile_query_body(Body& body, CompiledQuery& out, bool v0) {
    Frame frame;
    cur_frame_ = &frame;
    reported_.clear();
    Module dummy;
    dummy.rego_v1 = !v0;
    ModuleEnv env;
    env.module = &dummy;
    Scope scope;
    declare_body_vars(env, body, scope, frame, nullptr, nullptr);
    resolve_body(env, body, scope, frame);
    if (!errors_.empty()) return false;
    SlotSet safe;
    if (!reorder(body, safe, Location{})) return false;
    std::set<const RuleNode*> unused;  // the walk also resolves static data refs to rule nodes
    deps_body(body, unused);
    out.frame_size = frame.next;
    for (auto& [name, slot] : scope.vars)
      if (name.rfind("__", 0) != 0) out.user_vars.emplace_back(name, slot);
    std::sort(out.user_vars.begin(), out.user_vars.end());
    cur_frame_ = nullptr;
    return errors_.empty();
  }

 private:
  Policy& policy_;
  Errors& errors_;
  const BuiltinRegistry& builtins_;
  std::vector<std::unique_ptr<CallTarget>>& targets_;
  std::unordered_map<const Body*, std::vector<int32_t>> own_slots_;
  std::vector<std::unique_ptr<Scope>> scopes_;
  Frame* cur_frame_ = nullptr;
  std::set<int32_t> reported_;
};

}  // namespace

// Owned call targets live beside the policy for its lifetime.
class OwnedPolicy : public Policy {
 public:
  std::vector<std::unique_ptr<CallTarget>> targets;
};

std::shared_ptr<Policy> compile_policy(std::vector<std::unique_ptr<Module>> modules, Value data, Errors& errors,
                                       const CompileOptions& opts) {
  auto policy = std::make_shared<OwnedPolicy>();
  policy->modules = std::move(modules);
  policy->data = data.is_object() ? data : Value::empty_object();
  const BuiltinRegistry& reg = opts.builtins ? *opts.builtins : BuiltinRegistry::global();
  Compiler c(*policy, errors, reg, policy->targets);
  c.build_tree();
  if (!errors.empty()) return nullptr;
  if (!c.compile_all()) return nullptr;
  build_rule_index(policy->root.get());
  std::function<void(RuleNode*)> number = [&](RuleNode* n) {
    n->id = policy->node_count++;
    for (auto& [name, child] : n->children) number(child.get());
  };
  number(policy->root.get());
  return policy;
}

bool compile_query(const Policy& policy, Body body, CompiledQuery& out, Errors& errors, const CompileOptions& opts) {
  const BuiltinRegistry& reg = opts.builtins ? *opts.builtins : BuiltinRegistry::global();
  out.body = std::move(body);
  Compiler c(const_cast<Policy&>(policy), errors, reg, out.targets);
  return c.compile_query_body(out.body, out, opts.v0);
}

}  // namespace confidant::rego
