#include "rego/eval.h"

#include <algorithm>
#include <deque>
#include <chrono>
#include <map>
#include <unordered_map>

namespace confidant::rego {

namespace {

// A non-owning reference to a callable (no allocation per continuation).
template <class Sig>
class FnRef;
template <class R, class... A>
class FnRef<R(A...)> {
 public:
  template <class F>
  FnRef(F&& f) noexcept  // NOLINT(google-explicit-constructor)
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        cb_([](void* o, A... a) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...); }) {}
  R operator()(A... a) const { return cb_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*cb_)(void*, A...);
};

using Cont = FnRef<bool()>;                  // returns true to stop the search
using ValCont = FnRef<bool(const Value&)>;  // receives each value of a term

// Small-size-optimised buffers for call arguments (most calls have <= 6). Only the
// elements in use are constructed: a call builds one per evaluation step.
template <class T, size_t N>
class SmallVec {
 public:
  SmallVec() = default;
  explicit SmallVec(size_t n) {
    if (n > N) reserve(n);
    for (; size_ < n; ++size_) new (ptr_ + size_) T();
  }
  ~SmallVec() { release(); }
  SmallVec(const SmallVec&) = delete;
  SmallVec& operator=(const SmallVec&) = delete;

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return ptr_[i]; }
  const T& operator[](size_t i) const { return ptr_[i]; }
  void push_back(const T& v) {
    if (size_ == cap_) reserve(cap_ * 2);
    new (ptr_ + size_) T(v);
    ++size_;
  }

 private:
  T* inline_ptr() { return reinterpret_cast<T*>(buf_); }
  void reserve(size_t cap) {
    T* p = static_cast<T*>(::operator new(cap * sizeof(T)));
    for (size_t i = 0; i < size_; ++i) {
      new (p + i) T(std::move(ptr_[i]));
      ptr_[i].~T();
    }
    if (ptr_ != inline_ptr()) ::operator delete(ptr_);
    ptr_ = p;
    cap_ = cap;
  }
  void release() {
    for (size_t i = 0; i < size_; ++i) ptr_[i].~T();
    if (ptr_ != inline_ptr()) ::operator delete(ptr_);
  }

  alignas(T) unsigned char buf_[N * sizeof(T)];
  T* ptr_ = inline_ptr();
  size_t size_ = 0;
  size_t cap_ = N;
};
using ArgBuf = SmallVec<Value, 6>;
using IndexBuf = SmallVec<size_t, 6>;

struct EvalError {
  RegoError err;
};

Location no_loc;

class Evaluator {
 public:
  Evaluator(const Policy& p, const EvalOptions& o)
      : policy_(p), opts_(o), data_root_(p.data) {
    input_ = o.input;
    bctx_.strict = o.strict_builtin_errors;
    bctx_.runtime = o.runtime;
    if (o.now_ns) {
      bctx_.now_ns = *o.now_ns;
    } else {
      bctx_.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    }
    bctx_.seed = static_cast<uint64_t>(bctx_.now_ns);
    bctx_.policy = &policy_;
    if (o.trace.notes) bctx_.note = [this](std::string_view note) { record_note(note); };
    // With print output gathered or a trace on, every definition is evaluated (the
    // reference engines' print output depends on it); otherwise nothing can tell.
    early_exit_ = !o.print && !o.trace.profile && !o.trace.fails && !o.trace.notes;
    // Failed expressions and notes are traced per expression, by the general path.
    direct_exprs_ = !o.trace.fails && !o.trace.notes;
    start_ = std::chrono::steady_clock::now();
    char probe;
    stack_base_ = &probe;
    frames_ = &thread_frames();
    if (frames_->busy) {  // a nested evaluation on this thread
      own_frames_ = std::make_unique<FrameStack>();
      frames_ = own_frames_.get();
    }
    frames_->busy = true;
    if (frames_->in_progress.size() < policy_.node_count) frames_->in_progress.resize(policy_.node_count);
    push_memo();
  }
  ~Evaluator() {
    while (frames_->memo_top > 0) pop_memo();
    frames_->busy = false;
  }
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // `first`: only the first expression of the first solution is wanted (eval_value): no
  // rows are built, the solutions are still all enumerated (same errors).
  bool run(const CompiledQuery& q, QueryResult& out, Errors& errors, Value* first = nullptr) {
    if (!add_base_documents(errors)) return false;
    std::vector<Value> frame(static_cast<size_t>(q.frame_size));
    fp_ = frame.data();
    std::vector<Value> expr_values(q.body.size());
    query_values_ = &expr_values;
    query_source_ = q.source.get();
    trace_out_ = &out.trace;
    struct ProfileOut {  // also on errors: a profile of a failing query is still useful
      Evaluator* e;
      QueryResult& out;
      ~ProfileOut() {
        e->emit_profile(out);
        out.bodies_skipped = e->bodies_skipped_;
      }
    } profile_out{this, out};
    try {
      eval_body(q.body, 0, [&]() -> bool {
        if (first) {
          if (first->is_undefined() && !expr_values.empty()) *first = expr_values[0];
          return false;
        }
        QueryResult::Row row;
        row.expressions = expr_values;
        for (const auto& [name, slot] : q.user_vars) {
          const Value& v = fp_[slot];
          if (v.is_defined()) row.bindings.emplace_back(name, v);
        }
        out.rows.push_back(std::move(row));
        return false;
      });
    } catch (const EvalError& e) {
      errors.push_back(e.err);
      return false;
    } catch (const std::bad_alloc&) {
      RegoError e;
      e.code = codes::kCancel;
      e.message = "evaluation ran out of memory";
      errors.push_back(e);
      return false;
    }
    return true;
  }

 private:
  // Rule values of one `with` scope, by RuleNode::id; `touched` lists the ids set.
  struct Memo {
    std::vector<Value> values;
    std::vector<uint8_t> done;
    std::vector<uint32_t> touched;
  };

  // EvalOptions::base_documents join the policy's base documents under data, at names the
  // policy leaves free (no rules, no base data there).
  bool add_base_documents(Errors& errors) {
    const Value& docs = opts_.base_documents;
    if (docs.is_undefined()) return true;
    auto refuse = [&](std::string msg) {
      RegoError e;
      e.code = codes::kInternal;
      e.message = std::move(msg);
      errors.push_back(e);
      return false;
    };
    if (!docs.is_object()) return refuse("base documents must be an object");
    for (const auto& [key, doc] : docs.object_items()) {
      if (!key.is_string()) return refuse("base document names must be strings, not " + to_json(key));
      if (policy_.root->children.count(key.str()) || policy_.data.get(key))
        return refuse("data." + key.str() + " is defined by the policy: it cannot be given as a base document");
    }
    if (policy_.data.is_object() && policy_.data.object_items().empty()) {
      data_root_ = docs;  // the common case (a Kata policy has no base data): no copy
      return true;
    }
    for (const auto& [key, doc] : docs.object_items()) data_root_ = upsert(data_root_, {key}, 0, doc);
    return true;
  }

  // ---- errors and limits -------------------------------------------------
  [[noreturn]] void fail(const char* code, const Location& loc, std::string msg) {
    RegoError e;
    e.code = code;
    e.message = std::move(msg);
    if (loc.file) e.file = *loc.file;
    e.row = loc.row;
    e.col = loc.col;
    throw EvalError{std::move(e)};
  }

  void step(const Location& loc) {
    if (++steps_ > opts_.limits.max_steps) fail(codes::kCancel, loc, "evaluation exceeded the step limit");
    char probe;
    if (static_cast<uint64_t>(stack_base_ - &probe) > opts_.limits.max_stack_bytes)
      fail(codes::kCancel, loc, "evaluation exceeded the stack limit (nesting too deep)");
    if ((steps_ & 1023) == 0) {
      auto el = std::chrono::steady_clock::now() - start_;
      if (static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(el).count()) >
          opts_.limits.max_time_ns)
        fail(codes::kCancel, loc, "evaluation exceeded the time limit");
    }
  }

  // Approximate bytes of values built by this evaluation (comprehensions,
  // rule sets, builtin results); bounded by EvalLimits::max_memory so a
  // hostile policy or input cannot exhaust the guest's memory.
  void charge(const Value& v, const Location& loc) {
    size_t n = 16;
    if (v.is_string()) n += v.str().size();
    else if (v.is_collection()) n += v.size() * 32;
    memory_ += n;
    if (memory_ > opts_.limits.max_memory) fail(codes::kCancel, loc, "evaluation exceeded the memory limit");
  }

  // ---- the active rule and instrumentation (EvalTrace) ----------------------
  // Evaluates one definition of `node` (`fn` returns whether it produced a value) with
  // `r` as the active rule (rego.metadata.*, trace lines); profiles it when asked.
  template <class F>
  void in_rule(const RuleNode* node, const Rule* r, F&& fn) {
    struct Restore {
      Evaluator* e;
      const Rule* rule;
      const RuleNode* node;
      ~Restore() {
        e->bctx_.active_rule = rule;
        e->active_node_ = node;
      }
    } restore{this, bctx_.active_rule, active_node_};
    bctx_.active_rule = r;
    active_node_ = node;
    if (!opts_.trace.profile) [[likely]] {
      fn();
      return;
    }
    auto t0 = std::chrono::steady_clock::now();
    child_ns_.push_back(0);
    struct Account {
      Evaluator* e;
      const RuleNode* node;
      const Rule* r;
      std::chrono::steady_clock::time_point t0;
      bool produced = false;
      ~Account() {
        auto dt = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
        uint64_t child = e->child_ns_.back();
        e->child_ns_.pop_back();
        auto& p = e->profile_[r];
        p.node = node;
        p.rule = r;
        ++p.num_eval;
        if (produced) ++p.num_success;
        p.total_ns += dt;
        p.self_ns += dt > child ? dt - child : 0;
        if (!e->child_ns_.empty()) e->child_ns_.back() += dt;
      }
    } account{this, node, r, t0};
    account.produced = fn();
  }

  // Rule indexing: whether rules[i] of `node` cannot produce anything for this input (a
  // leading `input.<path> == <constant>` test fails), so its body need not be entered.
  bool index_skips(const RuleNode* node, size_t i) {
    // A mocked `equal` (with equal as f) could disagree with the index's comparison. A
    // profile or an explanation accounts for every definition and failed test, so both
    // evaluate without the index.
    if (node->rule_index.empty() || !mocks_.empty() || opts_.trace.profile || opts_.trace.fails) return false;
    for (const auto& test : node->rule_index[i]) {
      const Value* v = &input_;
      for (const Value& key : node->index_paths[test.path]) {
        if (v->is_undefined() || !(v = lookup(*v, key))) return skipped();
      }
      if (v->is_undefined() || compare(*v, test.value) != 0) return skipped();
    }
    return false;
  }

  bool skipped() {
    ++bodies_skipped_;
    return true;
  }

  // The source text an expression was parsed from (its module, or the query).
  std::string source_text(const Location& loc) const {
    const std::string* src = query_source_;
    if (bctx_.active_rule && bctx_.active_rule->module && bctx_.active_rule->module->source)
      src = bctx_.active_rule->module->source.get();
    if (!src || loc.length == 0 || static_cast<size_t>(loc.offset) + loc.length > src->size()) return {};
    return src->substr(loc.offset, loc.length);
  }

  void add_trace_line(TraceLine::Kind kind, const Location& loc, std::string text) {
    if (!trace_out_) return;
    TraceLine l;
    l.kind = kind;
    if (active_node_) l.rule = active_node_->display;
    if (loc.file) l.file = *loc.file;
    l.row = loc.row;
    l.col = loc.col;
    l.depth = static_cast<uint32_t>(depth_);
    l.text = std::move(text);
    trace_out_->push_back(std::move(l));
  }

  void record_fail(const Expr& e) {
    std::string text = source_text(e.loc);
    if (e.negated && text.rfind("not ", 0) != 0) text = "not " + text;
    add_trace_line(TraceLine::Kind::kFail, e.loc, std::move(text));
  }

  void record_note(std::string_view note) {
    add_trace_line(TraceLine::Kind::kNote, current_call_ ? current_call_->loc : no_loc, std::string(note));
  }

  void emit_profile(QueryResult& out) {
    if (profile_.empty()) return;
    for (const auto& [r, p] : profile_) {
      RuleProfile rp;
      rp.rule = p.node->display;
      if (r->loc.file) rp.file = *r->loc.file;
      rp.row = r->loc.row;
      rp.col = r->loc.col;
      rp.num_eval = p.num_eval;
      rp.num_success = p.num_success;
      rp.total_ns = p.total_ns;
      rp.self_ns = p.self_ns;
      out.profile.push_back(std::move(rp));
    }
    std::sort(out.profile.begin(), out.profile.end(), [](const RuleProfile& a, const RuleProfile& b) {
      if (a.self_ns != b.self_ns) return a.self_ns > b.self_ns;
      if (a.file != b.file) return a.file < b.file;
      return a.row < b.row;
    });
  }

  // ---- bindings -------------------------------------------------------------
  void bind(Value* slot, const Value& v) {
    *slot = v;
    trail_.push_back(slot);
  }
  size_t mark() const { return trail_.size(); }
  void undo(size_t m) {
    while (trail_.size() > m) {
      *trail_.back() = Value();
      trail_.pop_back();
    }
  }
  Value* slot_of(const Term& var) { return &fp_[var.slot]; }

  // ---- bodies and expressions -------------------------------------------------
  bool eval_body(const Body& b, size_t i, Cont k) {
    if (i == b.size()) return k();
    if (direct_exprs_) {
      // A run of expressions with exactly one outcome each (tests and assignments over
      // constants, bound variables and builtin calls of those) is evaluated in a loop; the
      // first expression that may enumerate continues in continuation-passing style.
      size_t m = mark();
      size_t j = i;
      for (; j < b.size(); ++j) {
        int r = eval_direct(b[j], j);
        if (r < 0) break;
        step(b[j].loc);
        if (r == 0) {
          undo(m);
          return false;
        }
      }
      if (j > i) {
        bool stop = j == b.size() ? k() : eval_expr(b[j], [&]() -> bool { return eval_body(b, j + 1, k); }, j);
        undo(m);
        return stop;
      }
    }
    return eval_expr(b[i], [&]() -> bool { return eval_body(b, i + 1, k); }, i);
  }

  // ---- direct evaluation of single-outcome expressions ------------------------------
  enum class Direct { kValue, kUndefined, kNo };

  // The value of `t` when it has at most one and needs no enumeration: constants, bound
  // local variables, refs with constant operands from those, input or resolved data, and
  // builtin calls over such terms. kNo: anything else (nothing observable was done, bar rule
  // values memoised and builtins of nested arguments computed).
  Direct direct_value(const Term& t, const Value*& out, Value& storage, int depth) {
    if (t.ground) {
      out = &t.constant;
      return Direct::kValue;
    }
    switch (t.kind) {
      case TermKind::Var:
        if (t.slot < 0 || fp_[t.slot].is_undefined()) return Direct::kNo;
        out = &fp_[t.slot];
        return Direct::kValue;
      case TermKind::Ref: return direct_ref(t, out, storage);
      case TermKind::Call: return depth < 4 ? direct_call(t, out, storage, depth) : Direct::kNo;
      default: return Direct::kNo;
    }
  }

  Direct direct_ref(const Term& ref, const Value*& out, Value& storage) {
    const Term& head = *ref.items[0];
    if (head.kind != TermKind::Var) return Direct::kNo;
    size_t start = 1;
    if (head.slot == kDataSlot) {
      if (!ref.data_node || !data_overrides_.empty()) return Direct::kNo;
      start = ref.data_next;
    } else if (head.slot != kInputSlot && (head.slot < 0 || fp_[head.slot].is_undefined())) {
      return Direct::kNo;
    }
    for (size_t i = start; i < ref.items.size(); ++i)
      if (!ref.items[i]->ground) return Direct::kNo;
    const Value* cur;
    if (head.slot == kDataSlot) {
      storage = node_value(static_cast<const RuleNode*>(ref.data_node), ref.loc);
      cur = &storage;
    } else if (head.slot == kInputSlot) {
      cur = &input_;
    } else {
      cur = &fp_[head.slot];
    }
    if (cur->is_undefined()) return Direct::kUndefined;
    for (size_t i = start; i < ref.items.size(); ++i) {
      cur = lookup(*cur, ref.items[i]->constant);
      if (!cur) return Direct::kUndefined;
    }
    out = cur;
    return Direct::kValue;
  }

  // A builtin or function call in value form (`f(a, b)`, not `f(a, b, out)`), as dispatch()
  // runs it: a function has at most one value for given arguments.
  Direct direct_call(const Term& call, const Value*& out, Value& storage, int depth) {
    const auto* target = static_cast<const CallTarget*>(call.target);
    if (!target || !mocks_.empty()) return Direct::kNo;
    if (target->kind != CallTarget::Builtin && target->kind != CallTarget::Function) return Direct::kNo;
    size_t n = call.items.size() - 1;
    if (n != static_cast<size_t>(target->arity)) return Direct::kNo;
    ArgBuf args(n);
    for (size_t i = 0; i < n; ++i) {
      const Value* v;
      Value tmp;
      Direct r = direct_value(*call.items[i + 1], v, tmp, depth + 1);
      if (r != Direct::kValue) return r;
      args[i] = *v;
    }
    if (target->kind == CallTarget::Function) {
      bool have = false;
      call_function(call, target->function, args, [&](const Value& v) -> bool {
        storage = v;
        have = true;
        return true;
      });
      if (!have) return Direct::kUndefined;
      out = &storage;
      return Direct::kValue;
    }
    if (!call_builtin(call, target, args, storage)) return Direct::kUndefined;
    out = &storage;
    return Direct::kValue;
  }

  // 1: the expression held (bindings made), 0: it failed, -1: not evaluated here.
  int eval_direct(const Expr& e, size_t index) {
    if (!e.withs.empty()) return -1;
    Value storage;
    const Value* v;
    if (e.negated) {  // `not <term or call>`: binds nothing, records nothing
      Direct r = Direct::kNo;
      if (e.kind == ExprKind::Term) {
        r = direct_value(*e.term, v, storage, 0);
      } else if (e.kind == ExprKind::Call) {
        r = direct_call(*e.term, v, storage, 0);  // builtins and functions only
      }
      if (r == Direct::kNo) return -1;
      return r == Direct::kUndefined || v->is_false() ? 1 : 0;
    }
    if (e.kind == ExprKind::Term) {
      Direct r = direct_value(*e.term, v, storage, 0);
      if (r == Direct::kNo) return -1;
      if (r == Direct::kUndefined) return 0;
      if (v->is_false() && !(index != SIZE_MAX && current_body_is_query())) return 0;
      record(index, *v);
      return 1;
    }
    if (e.kind != ExprKind::Call) return -1;
    const Term& call = *e.term;
    const auto* target = static_cast<const CallTarget*>(call.target);
    if (!target) return -1;
    if (target->kind == CallTarget::Eq || target->kind == CallTarget::Assign) {
      const Term& lhs = *call.items[1];
      if (lhs.kind == TermKind::Var && lhs.slot >= 0 && fp_[lhs.slot].is_undefined()) {
        Direct r = direct_value(*call.items[2], v, storage, 0);
        if (r == Direct::kNo) return -1;
        if (r == Direct::kUndefined) return 0;
        bind(slot_of(lhs), *v);
      } else {
        Value storage2;
        const Value* w;
        Direct r = direct_value(lhs, w, storage2, 0);
        if (r == Direct::kNo) return -1;
        Direct r2 = direct_value(*call.items[2], v, storage, 0);
        if (r2 == Direct::kNo) return -1;
        if (r == Direct::kUndefined || r2 == Direct::kUndefined || *w != *v) return 0;
      }
      record(index, Value::true_value());
      return 1;
    }
    if (target->kind == CallTarget::Print && !opts_.print) {  // nothing to print to
      record(index, Value::true_value());
      return 1;
    }
    if (target->kind != CallTarget::Builtin && target->kind != CallTarget::Function) return -1;
    Direct r = direct_call(call, v, storage, 0);
    if (r == Direct::kNo) return -1;
    if (r == Direct::kUndefined || v->is_false()) return 0;
    record(index, *v);
    return 1;
  }

  bool eval_expr(const Expr& e, Cont k, size_t index = SIZE_MAX) {
    step(e.loc);
    if (opts_.trace.fails) [[unlikely]] {
      bool succeeded = false;
      bool stop = eval_expr_untraced(e, [&]() -> bool {
        succeeded = true;
        return k();
      }, index);
      if (!succeeded) record_fail(e);
      return stop;
    }
    return eval_expr_untraced(e, k, index);
  }

  bool eval_expr_untraced(const Expr& e, Cont k, size_t index) {
    if (!e.withs.empty()) return eval_with(e, k, index);
    if (e.negated) {
      bool found = false;
      size_t m = mark();
      eval_expr_inner(e, [&]() -> bool {
        found = true;
        return true;
      }, SIZE_MAX);
      undo(m);
      if (found) return false;
      return k();
    }
    return eval_expr_inner(e, k, index);
  }

  void record(size_t index, const Value& v) {
    if (query_values_ && index < query_values_->size() && current_body_is_query()) (*query_values_)[index] = v;
  }
  bool current_body_is_query() const { return depth_ == 0; }

  bool eval_expr_inner(const Expr& e, Cont k, size_t index) {
    switch (e.kind) {
      case ExprKind::Term:
        return eval_term(*e.term, [&](const Value& v) -> bool {
          // Query expressions capture their value (OPA rewrites them to
          // `__localqN__ = term`), so a false value is still a result there.
          if (v.is_false() && !(index != SIZE_MAX && current_body_is_query())) return false;
          record(index, v);
          return k();
        });
      case ExprKind::Call: return eval_call_expr(*e.term, k, index);
      case ExprKind::SomeDecl:
        record(index, Value::true_value());
        return k();
      case ExprKind::SomeIn: return eval_some_in(e, k, index);
      case ExprKind::Every: return eval_every(e, k, index);
    }
    return false;
  }

  bool eval_call_expr(const Term& call, Cont k, size_t index) {
    const auto* target = static_cast<const CallTarget*>(call.target);
    if (!target) fail(codes::kInternal, call.loc, "unresolved call");
    size_t nargs = call.items.size() - 1;
    switch (target->kind) {
      case CallTarget::Eq:
      case CallTarget::Assign:
        return unify_terms(*call.items[1], *call.items[2], [&]() -> bool {
          record(index, Value::true_value());
          return k();
        });
      default: break;
    }
    if (target->kind != CallTarget::Print && nargs == static_cast<size_t>(target->arity) + 1 &&
        target->kind != CallTarget::Member2 && target->kind != CallTarget::Member3) {
      // Output form: the last argument is unified with the result.
      return eval_call(call, nargs - 1, [&](const Value& v) -> bool {
        return unify(*call.items[nargs], v, [&]() -> bool {
          record(index, Value::true_value());
          return k();
        });
      });
    }
    return eval_call(call, nargs, [&](const Value& v) -> bool {
      if (v.is_false()) return false;
      record(index, v);
      return k();
    });
  }

  bool eval_some_in(const Expr& e, Cont k, size_t index) {
    return eval_term(*e.some_domain, [&](const Value& dom) -> bool {
      return each_member(dom, [&](const Value& key, const Value& val) -> bool {
        size_t m = mark();
        bool stop;
        auto rest = [&]() -> bool {
          record(index, Value::true_value());
          return k();
        };
        if (e.some_key) {
          stop = unify(*e.some_key, key, [&]() -> bool { return unify(*e.some_value, val, rest); });
        } else {
          stop = unify(*e.some_value, val, rest);
        }
        undo(m);
        return stop;
      });
    });
  }

  // Calls f(key, value) for each member: arrays (index, elem), objects (key,
  // value), sets (elem, elem). Returns true if f stopped.
  template <class F>
  bool each_member(const Value& dom, F&& f) {
    switch (dom.kind()) {
      case Kind::Array: {
        const auto& items = dom.array_items();
        for (size_t i = 0; i < items.size(); ++i)
          if (f(Value::integer(static_cast<int64_t>(i)), items[i])) return true;
        return false;
      }
      case Kind::Object:
        for (const auto& [kk, v] : dom.object_items())
          if (f(kk, v)) return true;
        return false;
      case Kind::Set:
        for (const auto& v : dom.set_items())
          if (f(v, v)) return true;
        return false;
      default: return false;
    }
  }

  bool eval_every(const Expr& e, Cont k, size_t index) {
    bool all = true;
    bool any_domain = false;
    eval_term(*e.some_domain, [&](const Value& dom) -> bool {
      any_domain = true;
      each_member(dom, [&](const Value& key, const Value& val) -> bool {
        size_t m = mark();
        bool ok = false;
        auto body = [&]() -> bool {
          eval_body(*e.body, 0, [&]() -> bool {
            ok = true;
            return true;
          });
          return true;
        };
        if (e.some_key) unify(*e.some_key, key, [&]() -> bool { return unify(*e.some_value, val, body); });
        else unify(*e.some_value, val, body);
        undo(m);
        if (!ok) all = false;
        return !ok;
      });
      return !all;
    });
    if (!any_domain) return false;  // undefined domain: every is undefined
    if (!all) return false;
    record(index, Value::true_value());
    return k();
  }

  // ---- with -------------------------------------------------------------------
  struct Mock {
    const void* target;
    Value value;                       // replacement value (when not a function)
    const CallTarget* fn = nullptr;    // replacement function/builtin
  };

  bool eval_with(const Expr& e, Cont k, size_t index) {
    // Evaluate the replacement values first (in the current context).
    struct Mod {
      const With* w;
      Value value;
      const CallTarget* fn = nullptr;
    };
    std::vector<Mod> mods;
    for (const auto& w : e.withs) {
      Mod m{&w, Value(), nullptr};
      const Term& vt = *w.value;
      if (vt.kind == TermKind::Ref || vt.kind == TermKind::Var) {
        // A function (or builtin) name used as a replacement.
        if (const CallTarget* fn = function_value_target(vt)) {
          m.fn = fn;
          mods.push_back(m);
          continue;
        }
      }
      bool got = false;
      eval_term(vt, [&](const Value& v) -> bool {
        m.value = v;
        got = true;
        return true;
      });
      if (!got) return false;
      mods.push_back(m);
    }
    // Apply.
    Value saved_input = input_;
    auto saved_overrides = data_overrides_;
    auto saved_mocks = mocks_;
    auto apply = [&]() {
      for (const auto& m : mods) {
        const Term& t = *m.w->target;
        std::vector<Value> path;
        for (size_t i = 1; i < t.items.size(); ++i) path.push_back(t.items[i]->constant.is_defined() ? t.items[i]->constant : t.items[i]->value);
        const std::string& root = t.items[0]->name;
        if (root == "input") {
          input_ = path.empty() ? m.value : upsert(input_, path, 0, m.value);
        } else if (t.target) {
          mocks_.push_back(Mock{t.target, m.value, m.fn});
        } else if (root == "data") {
          data_overrides_.emplace_back(path, m.value);
        }
      }
      push_memo();
    };
    auto restore = [&](Value in, auto ov, auto mk) {
      input_ = std::move(in);
      data_overrides_ = std::move(ov);
      mocks_ = std::move(mk);
      pop_memo();
    };
    apply();
    auto mod_input = input_;
    auto mod_overrides = data_overrides_;
    auto mod_mocks = mocks_;
    bool stop;
    try {
      auto inner = [&]() -> bool {
        // Continue the enclosing body without the modifiers.
        Value ci = input_;
        auto co = data_overrides_;
        auto cm = mocks_;
        restore(saved_input, saved_overrides, saved_mocks);
        bool s = k();
        input_ = ci;
        data_overrides_ = co;
        mocks_ = cm;
        push_memo();
        return s;
      };
      if (e.negated) {
        bool found = false;
        size_t m = mark();
        eval_expr_inner(e, [&]() -> bool {
          found = true;
          return true;
        }, SIZE_MAX);
        undo(m);
        restore(saved_input, saved_overrides, saved_mocks);
        if (found) return false;
        return k();
      }
      stop = eval_expr_inner(e, inner, index);
    } catch (...) {
      restore(saved_input, saved_overrides, saved_mocks);
      throw;
    }
    restore(saved_input, saved_overrides, saved_mocks);
    return stop;
  }

  const CallTarget* function_value_target(const Term& t) {
    // `with f as g`: g may name a function (data ref to a function node) or a builtin.
    std::vector<std::string> parts;
    if (t.kind == TermKind::Var) {
      if (t.slot >= 0) return nullptr;
      parts.push_back(t.name);
    } else {
      for (size_t i = 0; i < t.items.size(); ++i) {
        const Term& p = *t.items[i];
        if (i == 0 && p.kind == TermKind::Var) {
          if (p.slot >= 0) return nullptr;
          parts.push_back(p.name);
        } else if (p.kind == TermKind::Scalar && p.value.is_string()) {
          parts.push_back(p.value.str());
        } else {
          return nullptr;
        }
      }
    }
    std::string key;
    for (auto& s : parts) key += s + ".";
    auto it = fn_targets_.find(key);
    if (it != fn_targets_.end()) return it->second.get();
    auto ct = std::make_unique<CallTarget>();
    if (parts[0] == "data") {
      const RuleNode* n = policy_.find(std::vector<std::string>(parts.begin() + 1, parts.end()));
      if (!n || !n->is_function) return nullptr;
      ct->kind = CallTarget::Function;
      ct->function = n;
      ct->name = n->display;
    } else {
      std::string name;
      for (size_t i = 0; i < parts.size(); ++i) name += (i ? "." : "") + parts[i];
      const BuiltinInfo* b = BuiltinRegistry::global().find(name);
      if (!b) return nullptr;
      ct->kind = CallTarget::Builtin;
      ct->builtin = b;
      ct->name = name;
      ct->arity = b->arity;
    }
    const CallTarget* raw = ct.get();
    fn_targets_[key] = std::move(ct);
    return raw;
  }

  static Value upsert(const Value& base, const std::vector<Value>& path, size_t i, const Value& v) {
    if (i == path.size()) return v;
    ObjectItems items;
    if (base.is_object()) items = base.object_items();
    Value child;
    for (auto& kv : items)
      if (kv.first == path[i]) child = kv.second;
    Value nv = upsert(child, path, i + 1, v);
    bool replaced = false;
    for (auto& kv : items)
      if (kv.first == path[i]) {
        kv.second = nv;
        replaced = true;
      }
    if (!replaced) items.emplace_back(path[i], nv);
    return Value::object(std::move(items));
  }

  // ---- terms --------------------------------------------------------------------
  bool eval_term(const Term& t, ValCont k) {
    if (t.ground) return k(t.constant);
    switch (t.kind) {
      case TermKind::Scalar: return k(t.value);
      case TermKind::Var: {
        if (t.slot == kInputSlot) {
          if (input_.is_undefined()) return false;
          return k(input_);
        }
        if (t.slot == kDataSlot) return k(materialize_data({}, policy_.root.get(), data_root_));
        const Value& v = fp_[t.slot];
        if (v.is_undefined()) fail(codes::kInternal, t.loc, "var " + t.name + " is unbound");
        return k(v);
      }
      case TermKind::Ref: return eval_ref(t, k);
      case TermKind::Array: {
        ValueVec acc;
        acc.reserve(t.items.size());
        return eval_array(t, 0, acc, k);
      }
      case TermKind::Set: {
        ValueVec acc;
        acc.reserve(t.items.size());
        return eval_set(t, 0, acc, k);
      }
      case TermKind::Object: {
        ObjectItems acc;
        acc.reserve(t.pairs.size());
        return eval_object(t, 0, acc, k);
      }
      case TermKind::ArrayCompr:
      case TermKind::SetCompr:
      case TermKind::ObjectCompr: return k(eval_comprehension(t));
      case TermKind::Call: return eval_call(t, t.items.size() - 1, k);
    }
    return false;
  }

  // Composite terms with non-ground members: each member may have several
  // values, so members are pushed and popped on one accumulator.
  bool eval_array(const Term& t, size_t i, ValueVec& acc, ValCont k) {
    if (i == t.items.size()) return k(Value::array(acc));
    return eval_term(*t.items[i], [&](const Value& v) -> bool {
      acc.push_back(v);
      bool stop = eval_array(t, i + 1, acc, k);
      acc.pop_back();
      return stop;
    });
  }
  bool eval_set(const Term& t, size_t i, ValueVec& acc, ValCont k) {
    if (i == t.items.size()) return k(Value::set(acc));
    return eval_term(*t.items[i], [&](const Value& v) -> bool {
      acc.push_back(v);
      bool stop = eval_set(t, i + 1, acc, k);
      acc.pop_back();
      return stop;
    });
  }
  bool eval_object(const Term& t, size_t i, ObjectItems& acc, ValCont k) {
    if (i == t.pairs.size()) return k(Value::object(acc));
    return eval_term(*t.pairs[i].first, [&](const Value& key) -> bool {
      return eval_term(*t.pairs[i].second, [&](const Value& v) -> bool {
        for (const auto& kv : acc)
          if (kv.first == key && kv.second != v) fail(codes::kConflict, t.loc, "object keys must be unique");
        acc.emplace_back(key, v);
        bool stop = eval_object(t, i + 1, acc, k);
        acc.pop_back();
        return stop;
      });
    });
  }

  Value eval_comprehension(const Term& t) {
    size_t m = mark();
    ValueVec items;
    ObjectItems pairs;
    ++depth_;
    eval_body(*t.body, 0, [&]() -> bool {
      if (t.kind == TermKind::ObjectCompr) {
        eval_term(*t.key, [&](const Value& key) -> bool {
          return eval_term(*t.head, [&](const Value& v) -> bool {
            for (const auto& kv : pairs)
              if (kv.first == key && kv.second != v) fail(codes::kConflict, t.loc, "object keys must be unique");
            charge(v, t.loc);
            pairs.emplace_back(key, v);
            return false;
          });
        });
      } else {
        eval_term(*t.head, [&](const Value& v) -> bool {
          charge(v, t.loc);
          items.push_back(v);
          return false;
        });
      }
      return false;
    });
    --depth_;
    undo(m);
    switch (t.kind) {
      case TermKind::ArrayCompr: return Value::array(std::move(items));
      case TermKind::SetCompr: return Value::set(std::move(items));
      default: return Value::object(std::move(pairs));
    }
  }

  // ---- refs ---------------------------------------------------------------------
  bool eval_ref(const Term& ref, ValCont k) {
    const Term& head = *ref.items[0];
    if (head.kind == TermKind::Var) {
      if (head.slot == kDataSlot) {
        if (ref.data_node && data_overrides_.empty()) {  // resolved by the compiler
          const auto* node = static_cast<const RuleNode*>(ref.data_node);
          Value v = node_value(node, ref.loc);
          if (v.is_undefined()) return false;
          return walk(ref, ref.data_next, v, k);
        }
        return eval_data_ref(ref, 1, policy_.root.get(), data_root_, k);
      }
      if (head.slot == kInputSlot) {
        if (input_.is_undefined()) return false;
        return walk(ref, 1, input_, k);
      }
      // No copy: a bound slot keeps its value until the continuation returns (bindings are
      // undone only after it, and frames never move).
      const Value& v = fp_[head.slot];
      if (v.is_undefined()) fail(codes::kInternal, head.loc, "var " + head.name + " is unbound");
      return walk(ref, 1, v, k);
    }
    return eval_term(head, [&](const Value& v) -> bool { return walk(ref, 1, v, k); });
  }

  // Walks ref operands [i..] over a plain value.
  // `json_keys`: v is a base document, where `x[2]` also finds the key "2".
  bool walk(const Term& ref, size_t i, const Value& v, ValCont k, bool json_keys = false) {
    if (i == ref.items.size()) return k(v);
    const Term& op = *ref.items[i];
    if (op.ground) {
      const Value* child = lookup(v, op.constant);
      if (!child && json_keys && v.is_object() && op.constant.is_number() && op.constant.is_integer())
        child = v.get(op.constant.number_text());
      if (!child) return false;
      // No copy: `v` (and so its members) outlives the walk of its children.
      return walk(ref, i + 1, *child, k, json_keys);
    }
    if (op.kind == TermKind::Var && op.slot >= 0 && fp_[op.slot].is_undefined()) {
      // Iterate.
      Value* s = slot_of(op);
      return each_member(v, [&](const Value& key, const Value& child) -> bool {
        size_t m = mark();
        bind(s, key);
        bool stop = walk(ref, i + 1, child, k);
        undo(m);
        return stop;
      });
    }
    if (op.kind == TermKind::Array || op.kind == TermKind::Object) {
      if (has_unbound(op)) {
        return each_member(v, [&](const Value& key, const Value& child) -> bool {
          size_t m = mark();
          bool stop = unify(op, key, [&]() -> bool { return walk(ref, i + 1, child, k); });
          undo(m);
          return stop;
        });
      }
    }
    return eval_term(op, [&](const Value& key) -> bool {
      const Value* child = lookup(v, key);
      if (!child) return false;
      return walk(ref, i + 1, *child, k);
    });
  }

  static const Value* lookup(const Value& v, const Value& key) {
    switch (v.kind()) {
      case Kind::Object: return v.get(key);
      case Kind::Array: {
        int64_t idx;
        if (!key.to_int64(idx)) return nullptr;
        const auto& items = v.array_items();
        if (idx < 0 || static_cast<uint64_t>(idx) >= items.size()) return nullptr;
        return &items[static_cast<size_t>(idx)];
      }
      case Kind::Set: {
        const auto& items = v.set_items();
        auto it = std::lower_bound(items.begin(), items.end(), key,
                                   [](const Value& a, const Value& b) { return compare(a, b) < 0; });
        if (it != items.end() && *it == key) return &*it;
        return nullptr;
      }
      default: return nullptr;
    }
  }

  bool has_unbound(const Term& t) {
    switch (t.kind) {
      case TermKind::Var: return t.slot >= 0 && fp_[t.slot].is_undefined();
      case TermKind::Array:
        for (auto& i : t.items)
          if (has_unbound(*i)) return true;
        return false;
      case TermKind::Object:
        for (auto& [kk, v] : t.pairs)
          if (has_unbound(*v)) return true;
        return false;
      default: return false;
    }
  }

  // Path of overrides (`with data.x as ...`) that apply at `path`.
  const Value* data_override(const std::vector<Value>& path) const {
    for (auto it = data_overrides_.rbegin(); it != data_overrides_.rend(); ++it)
      if (it->first == path) return &it->second;
    return nullptr;
  }
  bool override_below(const std::vector<Value>& path) const {
    for (const auto& [p, v] : data_overrides_)
      if (p.size() > path.size() && std::equal(path.begin(), path.end(), p.begin())) return true;
    return false;
  }

  // Walks a data ref through the rule tree and the base documents together.
  bool eval_data_ref(const Term& ref, size_t i, const RuleNode* node, const Value& base, ValCont k) {
    std::vector<Value> path;
    return data_step(ref, i, node, base, path, k);
  }

  bool data_step(const Term& ref, size_t i, const RuleNode* node, const Value& base, std::vector<Value>& path,
                 ValCont k) {
    if (!data_overrides_.empty()) {
      if (const Value* ov = data_override(path)) {
        Value v = *ov;
        return walk(ref, i, v, k);
      }
    }
    // Where a base document and a rule define the same path, OPA reads the
    // base document.
    if (node && (!node->rules.empty() || node->default_rule) && base.is_undefined()) {
      if (node->is_function) return false;
      Value v = node_value(node, ref.loc);
      if (v.is_undefined()) return false;
      if (!node->children.empty() && v.is_object()) v = merge_children(node, v, path);
      return walk(ref, i, v, k);
    }
    if (!node || !node->has_rules_below) {
      if (data_overrides_.empty() || !override_below(path)) {
        if (base.is_undefined()) return false;
        return walk(ref, i, base, k, /*json_keys=*/true);
      }
    }
    if (i == ref.items.size()) {
      Value v = materialize_data(path, node, base);
      if (v.is_undefined()) return false;
      return k(v);
    }
    const Term& op = *ref.items[i];
    auto descend = [&](const Value& key0) -> bool {
      // Base documents are JSON: `data.x[2]` finds the key "2".
      Value key = key0.is_number() && key0.is_integer() && base.is_object() && !base.get(key0)
                      ? Value::string(key0.number_text())
                      : key0;
      const RuleNode* child = nullptr;
      if (node && key.is_string()) {
        auto it = node->children.find(key.str());
        if (it != node->children.end()) child = it->second.get();
      }
      const Value* b = base.is_object() ? base.get(key) : nullptr;
      Value bv = b ? *b : Value();
      // The path is only needed to match `with data...` overrides.
      if (data_overrides_.empty()) return data_step(ref, i + 1, child, bv, path, k);
      path.push_back(key);
      bool stop = data_step(ref, i + 1, child, bv, path, k);
      path.pop_back();
      return stop;
    };
    if (op.ground) return descend(op.constant);
    if (op.kind == TermKind::Var && op.slot >= 0 && fp_[op.slot].is_undefined()) {
      Value all = materialize_data(path, node, base);
      return walk(ref, i, all, k);
    }
    return eval_term(op, [&](const Value& key) -> bool { return descend(key); });
  }

  Value merge_children(const RuleNode* node, Value v, std::vector<Value>& path) {
    ObjectItems items = v.object_items();
    for (const auto& [name, child] : node->children) {
      if (!child->has_rules_below || child->is_function) continue;
      path.push_back(Value::string(name));
      Value cv = materialize_data(path, child.get(), Value());
      path.pop_back();
      if (cv.is_defined()) items.emplace_back(Value::string(name), cv);
    }
    return Value::object(std::move(items));
  }

  // The whole document at a data path: base data merged with every rule below.
  Value materialize_data(std::vector<Value> path, const RuleNode* node, const Value& base) {
    if (!data_overrides_.empty())
      if (const Value* ov = data_override(path)) return *ov;
    Value result;
    if (node && (!node->rules.empty() || node->default_rule) && base.is_defined()) {
      result = base;  // the base document wins (see data_step)
    } else if (node && (!node->rules.empty() || node->default_rule)) {
      if (node->is_function) return Value();
      result = node_value(node, no_loc);
      if (result.is_object() && !node->children.empty()) result = merge_children(node, result, path);
    } else if (!node || !node->has_rules_below) {
      result = base;
    } else {
      ObjectItems items;
      if (base.is_object()) items = base.object_items();
      for (const auto& [name, child] : node->children) {
        if (!child->has_rules_below || child->is_function) continue;
        Value key = Value::string(name);
        const Value* b = base.is_object() ? base.get(key) : nullptr;
        path.push_back(key);
        if (b && (!child->rules.empty() || child->default_rule)) {
          path.pop_back();
          continue;  // the base document wins (see data_step)
        }
        Value cv = materialize_data(path, child.get(), b ? *b : Value());
        path.pop_back();
        if (cv.is_undefined()) continue;
        bool replaced = false;
        for (auto& kv : items)
          if (kv.first == key) {
            kv.second = cv;
            replaced = true;
          }
        if (!replaced) items.emplace_back(key, cv);
      }
      result = Value::object(std::move(items));
    }
    // Overrides strictly below this path.
    if (!data_overrides_.empty()) {
      for (const auto& [p, v] : data_overrides_) {
        if (p.size() > path.size() && std::equal(path.begin(), path.end(), p.begin())) {
          std::vector<Value> rest(p.begin() + static_cast<std::ptrdiff_t>(path.size()), p.end());
          result = upsert(result.is_object() ? result : Value::empty_object(), rest, 0, v);
        }
      }
    }
    return result;
  }

  // ---- rules ----------------------------------------------------------------------
  Value node_value(const RuleNode* node, const Location& loc) {
    {
      Memo& memo = current_memo();
      if (memo.done[node->id]) return memo.values[node->id];
    }
    auto& in_progress = frames_->in_progress;
    if (in_progress[node->id]) fail(codes::kRecursion, loc, "rule " + node->display + " is recursive");
    in_progress[node->id] = 1;
    Value v;
    try {
      v = compute_node(node);
    } catch (...) {
      in_progress[node->id] = 0;
      throw;
    }
    in_progress[node->id] = 0;
    Memo& memo = current_memo();  // computing may have pushed scopes (and moved this one)
    memo.values[node->id] = v;
    memo.done[node->id] = 1;
    memo.touched.push_back(node->id);
    return v;
  }

  // Memo scopes live in the thread's FrameStack and are reused, cleared entry by entry:
  // no allocation per evaluation (a large one would also make glibc consolidate the
  // previous request's freed chunks inside this one).
  void push_memo() {
    auto& memos = frames_->memos;
    if (frames_->memo_top == memos.size()) memos.emplace_back();
    Memo& m = memos[frames_->memo_top++];
    if (m.values.size() < policy_.node_count) {
      m.values.resize(policy_.node_count);
      m.done.resize(policy_.node_count);
    }
  }
  void pop_memo() {
    Memo& m = frames_->memos[--frames_->memo_top];
    for (uint32_t id : m.touched) {
      m.values[id] = Value();
      m.done[id] = 0;
    }
    m.touched.clear();
  }
  Memo& current_memo() { return frames_->memos[frames_->memo_top - 1]; }

  // Runs `fn` with a fresh frame of `size` slots.
  template <class F>
  auto with_frame(int32_t size, F&& fn) {
    if (++depth_ > static_cast<int64_t>(opts_.limits.max_depth)) {
      --depth_;
      fail(codes::kCancel, no_loc, "evaluation exceeded the call depth limit");
    }
    // Frames are LIFO: carve them from one preallocated stack (a frame that
    // does not fit gets its own heap block, so pointers never move).
    auto n = static_cast<size_t>(size);
    std::unique_ptr<Value[]> overflow;
    Value* frame;
    if (frame_top_ + n <= frames_->slots.size()) {
      frame = frames_->slots.data() + frame_top_;
    } else {
      overflow.reset(new Value[n]);
      frame = overflow.get();
    }
    size_t saved_top = frame_top_;
    if (!overflow) frame_top_ += n;
    Value* saved = fp_;
    fp_ = frame;
    size_t m = mark();
    struct Restore {
      Evaluator* e;
      Value* saved;
      size_t m;
      size_t top;
      ~Restore() {
        e->undo(m);
        e->fp_ = saved;
        e->frame_top_ = top;
        --e->depth_;
      }
    } r{this, saved, m, saved_top};
    return fn();
  }

  Value compute_node(const RuleNode* node) {
    if (node->multi_value && !node->dynamic) {
      ValueVec items;
      for (size_t ri = 0; ri < node->rules.size(); ++ri) {
        const auto& r = node->rules[ri];
        if (index_skips(node, ri)) continue;
        in_rule(node, r.get(), [&] {
          size_t before = items.size();
          with_frame(r->frame_size, [&] {
            eval_body(r->body, 0, [&]() -> bool {
              eval_term(*r->key, [&](const Value& v) -> bool {
                charge(v, r->loc);
                items.push_back(v);
                return false;
              });
              return false;
            });
            return 0;
          });
          return items.size() > before;
        });
      }
      return Value::set(std::move(items));
    }
    if (node->dynamic || node->multi_value) return compute_dynamic(node);
    // Complete rules.
    Value result;
    for (size_t ri = 0; ri < node->rules.size(); ++ri) {
      const auto& r = node->rules[ri];
      if (index_skips(node, ri)) continue;
      for (const Rule* clause = r.get(); clause; clause = clause->else_rule.get()) {
        bool produced = false;
        in_rule(node, r.get(), [&] {
          bctx_.active_rule = clause;  // an else branch has annotations of its own (none)
          with_frame(r->frame_size, [&] {
            eval_body(clause->body, 0, [&]() -> bool {
              auto take = [&](const Value& v) -> bool {
                produced = true;
                if (result.is_undefined()) {
                  result = v;
                } else if (result != v) {
                  fail(codes::kConflict, clause->loc, conflict_message(node));
                }
                // Keep enumerating head values (`q := xs[_]`) to find conflicts.
                return node->single_value;
              };
              if (clause->value) eval_term(*clause->value, take);
              else take(Value::true_value());
              // An else chain takes its first answer; single-value sets stop early.
              return r->else_rule != nullptr || node->single_value;
            });
            return 0;
          });
          return produced;
        });
        if (produced) break;
      }
      // Print output must match the reference engines, which do not stop early across
      // rules: only when nothing is printed or traced does the first value end it.
      if (early_exit_ && node->single_value && result.is_defined()) break;
    }
    if (result.is_undefined() && node->default_rule) {
      const Rule* d = node->default_rule.get();
      if (d->value) {
        in_rule(node, d, [&] {
          with_frame(d->frame_size, [&] {
            eval_term(*d->value, [&](const Value& v) -> bool {
              result = v;
              return true;
            });
            return 0;
          });
          return result.is_defined();
        });
      } else {
        result = Value::true_value();
      }
    }
    return result;
  }

  // OPA's message changed between versions (the conformance suite pins
  // both); ours carries the current one and the older one.
  static std::string conflict_message(const RuleNode* node) {
    return "rule " + node->display +
           " produced conflicting values (complete rules must not produce multiple outputs)";
  }

  // Rules with key terms after their static name (partial objects, ref heads,
  // partial sets under a dynamic prefix).
  Value compute_dynamic(const RuleNode* node) {
    struct Entry {
      std::vector<Value> keys;
      Value value;
      const Rule* rule;
      bool set_member;
    };
    std::vector<Entry> entries;
    for (size_t ri = 0; ri < node->rules.size(); ++ri) {
      const auto& r = node->rules[ri];
      if (index_skips(node, ri)) continue;
      size_t before = entries.size();
      in_rule(node, r.get(), [&] {
        with_frame(r->frame_size, [&] {
          eval_body(r->body, 0, [&]() -> bool {
            collect_keys(*r, r->static_len, {}, [&](std::vector<Value> keys) {
              if (r->kind == RuleKind::MultiValue) {
                eval_term(*r->key, [&](const Value& v) -> bool {
                  entries.push_back({keys, v, r.get(), true});
                  return false;
                });
              } else if (r->value) {
                eval_term(*r->value, [&](const Value& v) -> bool {
                  entries.push_back({keys, v, r.get(), false});
                  return false;
                });
              } else {
                entries.push_back({keys, Value::true_value(), r.get(), false});
              }
            });
            return false;
          });
          return 0;
        });
        return entries.size() > before;
      });
    }
    // Build the nested object.
    return build_nested(entries.begin(), entries.end(), 0, node);
  }

  template <class F>
  void collect_keys(const Rule& r, size_t i, std::vector<Value> acc, F&& f) {
    if (i == r.ref.size()) {
      f(std::move(acc));
      return;
    }
    eval_term(*r.ref[i], [&](const Value& v) -> bool {
      std::vector<Value> next = acc;
      next.push_back(v);
      collect_keys(r, i + 1, std::move(next), f);
      return false;
    });
  }

  template <class It>
  Value build_nested(It begin, It end, size_t depth, const RuleNode* node) {
    // Leaves at this depth.
    std::map<Value, std::vector<It>, bool (*)(const Value&, const Value&)> groups(
        [](const Value& a, const Value& b) { return compare(a, b) < 0; });
    ValueVec set_items;
    bool is_set = false;
    for (It it = begin; it != end; ++it) {
      if (it->keys.size() == depth) {
        if (it->set_member) {
          set_items.push_back(it->value);
          is_set = true;
        }
        continue;
      }
      groups[it->keys[depth]].push_back(it);
    }
    if (is_set && groups.empty()) return Value::set(std::move(set_items));
    ObjectItems items;
    for (auto& [key, list] : groups) {
      // Direct values at the next depth.
      Value leaf;
      std::vector<typename std::iterator_traits<It>::value_type> deeper;
      for (It it : list) {
        if (it->keys.size() == depth + 1 && !it->set_member) {
          if (leaf.is_defined() && leaf != it->value)
            fail(codes::kConflict, it->rule->loc,
                 "rule " + node->display + " produced conflicting values (object keys must be unique)");
          leaf = it->value;
        } else {
          deeper.push_back(*it);
        }
      }
      if (!deeper.empty()) {
        Value sub = build_nested(deeper.begin(), deeper.end(), depth + 1, node);
        if (leaf.is_defined()) {
          if (leaf.is_object() && sub.is_object()) {
            ObjectItems merged = leaf.object_items();
            for (auto& kv : sub.object_items()) merged.push_back(kv);
            leaf = Value::object(std::move(merged));
          } else {
            fail(codes::kConflict, list.front()->rule->loc, conflict_message(node));
          }
        } else {
          leaf = sub;
        }
      }
      items.emplace_back(key, leaf);
    }
    return Value::object(std::move(items));
  }

  // ---- calls ------------------------------------------------------------------------
  // Fills args from call.items[i..n] while they are constants or bound local variables (one
  // value each, no continuation needed); returns the index of the first other argument.
  size_t simple_args(const Term& call, size_t i, size_t n, ArgBuf& args) {
    for (; i <= n; ++i) {
      const Term& a = *call.items[i];
      if (a.ground) {
        args[i - 1] = a.constant;
      } else if (a.kind == TermKind::Var && a.slot >= 0 && fp_[a.slot].is_defined()) {
        args[i - 1] = fp_[a.slot];
      } else {
        break;
      }
    }
    return i;
  }

  // Runs a builtin as OPA does: an error is undefined (or fails the evaluation in strict
  // mode); false when undefined.
  bool call_builtin(const Term& call, const CallTarget* target, const ArgBuf& args, Value& out) {
    if (opts_.trace.notes) current_call_ = &call;
    try {
      out = target->builtin->fn(bctx_, std::span<const Value>(args.data(), args.size()));
    } catch (const BuiltinError& e) {
      if (bctx_.strict) fail(e.code.c_str(), call.loc, e.what());
      return false;
    }
    if (out.is_undefined()) return false;
    if (out.is_string() || out.is_collection()) charge(out, call.loc);
    return true;
  }
  bool eval_args_seq(const Term& call, size_t i, size_t n, ArgBuf& args, FnRef<bool()> k) {
    i = simple_args(call, i, n, args);
    if (i > n) return k();
    const Term& a = *call.items[i];
    return eval_term(a, [&](const Value& v) -> bool {
      args[i - 1] = v;
      return eval_args_seq(call, i + 1, n, args, k);
    });
  }

  // Evaluates arguments in `order` (argument indexes, 1-based).
  bool eval_args(const Term& call, const IndexBuf& order, size_t i, ArgBuf& args, FnRef<bool()> k) {
    if (i == order.size()) return k();
    size_t a = order[i];
    return eval_term(*call.items[a], [&](const Value& v) -> bool {
      args[a - 1] = v;
      return eval_args(call, order, i + 1, args, k);
    });
  }

  // Evaluates a call with its first n arguments and passes the result on.
  bool eval_call(const Term& call, size_t n, ValCont k) {
    const auto* target = static_cast<const CallTarget*>(call.target);
    if (!target) fail(codes::kInternal, call.loc, "unresolved call");
    if (target->kind == CallTarget::Print) return eval_print(call, k);
    ArgBuf args(n);
    // When every argument is a constant or a bound variable (most calls), the call is
    // dispatched directly, without continuations.
    size_t first = simple_args(call, 1, n, args);
    if (first > n) return dispatch(call, target, args, k);
    // A plain variable bound by a ref in another argument (`x == xs[x]`) is
    // read after that argument has been evaluated.
    for (size_t i = first; i <= n; ++i) {
      const Term& a = *call.items[i];
      if (a.kind == TermKind::Var && a.slot >= 0 && fp_[a.slot].is_undefined())
        return eval_call_reordered(call, target, n, args, k);
    }
    return eval_args_seq(call, first, n, args, [&]() -> bool { return dispatch(call, target, args, k); });
  }

  // Rare: arguments that are variables bound by another argument go last.
  [[gnu::noinline]] bool eval_call_reordered(const Term& call, const CallTarget* target, size_t n, ArgBuf& args,
                                             ValCont k) {
    auto unbound_var = [&](size_t i) {
      const Term& a = *call.items[i];
      return a.kind == TermKind::Var && a.slot >= 0 && fp_[a.slot].is_undefined();
    };
    IndexBuf order;
    for (size_t i = 1; i <= n; ++i)
      if (!unbound_var(i)) order.push_back(i);
    for (size_t i = 1; i <= n; ++i)
      if (unbound_var(i)) order.push_back(i);
    return eval_args(call, order, 0, args, [&]() -> bool { return dispatch(call, target, args, k); });
  }

  bool dispatch(const Term& call, const CallTarget* target, ArgBuf& args, ValCont k) {
    if (!mocks_.empty()) {
      const void* key = target->kind == CallTarget::Function ? static_cast<const void*>(target->function)
                                                             : static_cast<const void*>(target->builtin);
      for (auto it = mocks_.rbegin(); it != mocks_.rend(); ++it) {
        if (it->target != key) continue;
        if (it->fn) {
          if (it->fn->function == target->function && it->fn->builtin == target->builtin) break;
          // The replacement runs with no mocks in effect (a mock never calls
          // another mock, nor itself); the caller continues with them.
          auto saved = std::move(mocks_);
          mocks_.clear();
          Value result;
          try {
            const CallTarget* fn = it->fn;
            dispatch(call, fn, args, [&](const Value& v) -> bool {
              result = v;
              return true;
            });
          } catch (...) {
            mocks_ = std::move(saved);
            throw;
          }
          mocks_ = std::move(saved);
          if (result.is_undefined()) return false;
          return k(result);
        }
        return k(it->value);
      }
    }
    switch (target->kind) {
      case CallTarget::Builtin: {
        Value out;
        return call_builtin(call, target, args, out) && k(out);
      }
      case CallTarget::Function: return call_function(call, target->function, args, k);
      case CallTarget::Member2: {
        if (args.size() != 2) return false;
        bool found = false;
        each_member(args[1], [&](const Value&, const Value& v) -> bool {
          if (v == args[0]) found = true;
          return found;
        });
        return k(Value::boolean(found));
      }
      case CallTarget::Member3: {
        if (args.size() != 3) return false;
        bool found = false;
        if (args[2].is_array() || args[2].is_object()) {
          const Value* v = lookup(args[2], args[0]);
          found = v && *v == args[1];
        } else if (args[2].is_set()) {
          found = args[0] == args[1] && args[2].has(args[0]);
        }
        return k(Value::boolean(found));
      }
      case CallTarget::Walk: return eval_walk(args[0], k);
      case CallTarget::Eq:
      case CallTarget::Assign: {
        if (args.size() == 2) return k(Value::boolean(args[0] == args[1]));
        return false;
      }
      case CallTarget::Print: return false;
    }
    return false;
  }

  bool call_function(const Term& call, const RuleNode* fn, const ArgBuf& args, ValCont k) {
    Value result;
    bool have = false;
    for (size_t ri = 0; ri < fn->rules.size(); ++ri) {
      const auto& r = fn->rules[ri];
      if (r->args.size() != args.size() || index_skips(fn, ri)) continue;
      for (const Rule* clause = r.get(); clause; clause = clause->else_rule.get()) {
        bool produced = false;
        in_rule(fn, r.get(), [&] {
          bctx_.active_rule = clause;
          function_clause(*r, *clause, fn, args, result, have, produced);
          return produced;
        });
        if (produced) break;
      }
      if (have && early_exit_ && fn->single_value) break;  // as for complete rules
    }
    if (!have && fn->default_rule) {
      const Rule* d = fn->default_rule.get();
      in_rule(fn, d, [&] {
        function_default(*d, args, result, have);
        return have;
      });
    }
    if (!have) return false;
    return k(result);
  }

  // One definition (or else clause) of a function, with its own frame.
  void function_clause(const Rule& r, const Rule& clause, const RuleNode* fn, const ArgBuf& args, Value& result,
                       bool& have, bool& produced) {
    with_frame(r.frame_size, [&] {
      unify_args(r, 0, args, [&]() -> bool {
        return eval_body(clause.body, 0, [&]() -> bool {
          auto take = [&](const Value& v) -> bool {
            produced = true;
            if (!have) {
              result = v;
              have = true;
            } else if (result != v) {
              fail(codes::kConflict, clause.loc,
                   "function " + fn->display +
                       " produced conflicting values for the same inputs (functions must not produce multiple "
                       "outputs for same inputs)");
            }
            return r.else_rule != nullptr || (early_exit_ && fn->single_value);
          };
          if (clause.value) eval_term(*clause.value, take);
          else take(Value::true_value());
          return r.else_rule != nullptr || (early_exit_ && fn->single_value);
        });
      });
      return 0;
    });
  }

  void function_default(const Rule& d, const ArgBuf& args, Value& result, bool& have) {
    with_frame(d.frame_size, [&] {
      unify_args(d, 0, args, [&]() -> bool {
        if (d.value) {
          eval_term(*d.value, [&](const Value& v) -> bool {
            result = v;
            have = true;
            return true;
          });
        } else {
          result = Value::true_value();
          have = true;
        }
        return true;
      });
      return 0;
    });
  }

  bool unify_args(const Rule& r, size_t i, const ArgBuf& args, Cont k) {
    if (i == r.args.size()) return k();
    return unify(*r.args[i], args[i], [&]() -> bool { return unify_args(r, i + 1, args, k); });
  }

  bool eval_walk(const Value& root, ValCont k) {
    ValueVec path;
    return walk_rec(root, path, k);
  }
  bool walk_rec(const Value& v, ValueVec& path, ValCont k) {
    if (k(Value::array({Value::array(path), v}))) return true;
    return each_member(v, [&](const Value& key, const Value& child) -> bool {
      path.push_back(key);
      bool stop = walk_rec(child, path, k);
      path.pop_back();
      return stop;
    });
  }

  // Rego text of a non-string print argument. genpolicy rules print the same large
  // documents (policy containers, OCI specs) many times per request: the text of a large
  // collection is kept for the rest of the evaluation, keyed by its node (the cache holds
  // the Value, so the node cannot be freed and reused meanwhile).
  void append_print_value(std::string& line, const Value& v) {
    if (!v.is_collection() || v.size() < 4) {
      append_rego(line, v);
      return;
    }
    auto it = print_text_.find(v.node());
    if (it != print_text_.end()) {
      line += it->second.second;
      return;
    }
    size_t start = line.size();
    append_rego(line, v);
    if (line.size() - start >= 128 && print_text_bytes_ < (8u << 20)) {
      print_text_bytes_ += line.size() - start;
      print_text_.emplace(v.node(), std::make_pair(v, line.substr(start)));
    }
  }

  // print(a, b, ...): each argument's values (or <undefined>), one line per
  // combination, strings unquoted; always true. Each argument is evaluated once.
  bool eval_print(const Term& call, ValCont k) {
    if (opts_.print) {
      const auto* target = static_cast<const CallTarget*>(call.target);
      // A line buffer per nesting level: an argument may call a function that prints.
      if (print_depth_ == print_lines_.size()) print_lines_.emplace_back();
      std::string& line = print_lines_[print_depth_];
      struct Nest {
        size_t& depth;
        explicit Nest(size_t& d) : depth(d) { ++depth; }
        ~Nest() { --depth; }
      } nest(print_depth_);
      line = target->print_prefix;  // "<file>:<row>: ", computed by the compiler
      // All the values of argument `index` (none when it is undefined or fails).
      auto values_of = [&](size_t index, std::vector<Value>& out) {
        out.clear();
        size_t m = mark();
        try {
          eval_term(*call.items[index], [&](const Value& v) -> bool {
            out.push_back(v);
            return false;
          });
        } catch (const EvalError&) {
          out.clear();
        }
        undo(m);
      };
      // Common case: every argument has at most one value, formatted as it comes. From the
      // first argument with several values on, one line per combination of the remaining
      // arguments' values follows the text already formatted (each argument is evaluated once).
      std::vector<Value> vals;  // all the values of the argument that has several
      size_t arg = 1, head = 0;
      for (; arg < call.items.size(); ++arg) {
        if (arg > 1) line += ' ';
        head = line.size();
        size_t count = 0;
        Value first;
        size_t m = mark();
        try {
          eval_term(*call.items[arg], [&](const Value& v) -> bool {
            if (count == 0) {
              first = v;
              if (v.is_string())
                line += v.str();
              else
                append_print_value(line, v);
            } else {
              if (count == 1) vals.push_back(first);
              vals.push_back(v);
            }
            ++count;
            return false;
          });
        } catch (const EvalError&) {  // as undefined, without any partial text
          count = 0;
          vals.clear();
          line.resize(head);
        }
        undo(m);
        if (count > 1) break;
        if (count == 0) line += "<undefined>";
      }
      if (arg == call.items.size()) {
        opts_.print(line);
        return k(Value::true_value());
      }
      std::vector<std::vector<Value>> parts;
      parts.push_back(std::move(vals));
      for (++arg; arg < call.items.size(); ++arg) {
        std::vector<Value> more;
        values_of(arg, more);
        parts.push_back(std::move(more));
      }
      std::vector<size_t> idx(parts.size(), 0);
      for (;;) {
        line.resize(head);
        for (size_t i = 0; i < parts.size(); ++i) {
          if (i) line += ' ';
          if (parts[i].empty()) {
            line += "<undefined>";
            continue;
          }
          const Value& v = parts[i][idx[i]];
          if (v.is_string())
            line += v.str();
          else
            append_print_value(line, v);
        }
        opts_.print(line);
        size_t j = parts.size();
        while (j > 0 && ++idx[j - 1] >= parts[j - 1].size()) idx[--j] = 0;
        if (j == 0) break;
      }
    }
    return k(Value::true_value());
  }

  // ---- unification ------------------------------------------------------------------
  bool unify(const Term& t, const Value& v, Cont k) {
    switch (t.kind) {
      case TermKind::Var: {
        if (t.slot < 0) {
          return eval_term(t, [&](const Value& x) -> bool { return x == v ? k() : false; });
        }
        Value* s = slot_of(t);
        if (s->is_undefined()) {
          size_t m = mark();
          bind(s, v);
          bool stop = k();
          undo(m);
          return stop;
        }
        return *s == v ? k() : false;
      }
      case TermKind::Array:
        if (!t.ground && has_unbound(t)) {
          if (!v.is_array() || v.array_items().size() != t.items.size()) return false;
          return unify_items(t, 0, v, k);
        }
        break;
      case TermKind::Object:
        if (!t.ground && has_unbound(t)) {
          if (!v.is_object() || v.object_items().size() != t.pairs.size()) return false;
          return unify_pairs(t, 0, v, k);
        }
        break;
      default: break;
    }
    return eval_term(t, [&](const Value& x) -> bool { return x == v ? k() : false; });
  }

  bool unify_items(const Term& t, size_t i, const Value& v, Cont k) {
    if (i == t.items.size()) return k();
    return unify(*t.items[i], v.array_items()[i], [&]() -> bool { return unify_items(t, i + 1, v, k); });
  }

  bool unify_pairs(const Term& t, size_t i, const Value& v, Cont k) {
    if (i == t.pairs.size()) return k();
    return eval_term(*t.pairs[i].first, [&](const Value& key) -> bool {
      const Value* child = v.get(key);
      if (!child) return false;
      return unify(*t.pairs[i].second, *child, [&]() -> bool { return unify_pairs(t, i + 1, v, k); });
    });
  }

  bool unify_terms(const Term& a, const Term& b, Cont k) {
    bool a_open = has_unbound(a);
    bool b_open = has_unbound(b);
    if (!b_open) return eval_term(b, [&](const Value& v) -> bool { return unify(a, v, k); });
    if (!a_open) return eval_term(a, [&](const Value& v) -> bool { return unify(b, v, k); });
    if (a.kind == TermKind::Array && b.kind == TermKind::Array) {
      if (a.items.size() != b.items.size()) return false;
      return unify_term_items(a, b, 0, k);
    }
    if (a.kind == TermKind::Object && b.kind == TermKind::Object) {
      if (a.pairs.size() != b.pairs.size()) return false;
      return unify_term_pairs(a, b, 0, k);
    }
    fail(codes::kUnsafeVar, a.loc, "unification of two unbound terms");
  }
  bool unify_term_items(const Term& a, const Term& b, size_t i, Cont k) {
    if (i == a.items.size()) return k();
    return unify_terms(*a.items[i], *b.items[i], [&]() -> bool { return unify_term_items(a, b, i + 1, k); });
  }
  bool unify_term_pairs(const Term& a, const Term& b, size_t i, Cont k) {
    if (i == a.pairs.size()) return k();
    return eval_term(*a.pairs[i].first, [&](const Value& key) -> bool {
      for (const auto& [bk, bv] : b.pairs) {
        bool match = false;
        eval_term(*bk, [&](const Value& k2) -> bool {
          match = k2 == key;
          return true;
        });
        if (match)
          return unify_terms(*a.pairs[i].second, *bv, [&]() -> bool { return unify_term_pairs(a, b, i + 1, k); });
      }
      return false;
    });
  }

  const Policy& policy_;
  const EvalOptions& opts_;
  BuiltinContext bctx_;
  std::deque<std::string> print_lines_;  // eval_print's line buffers, by nesting level (stable refs)
  size_t print_depth_ = 0;
  std::unordered_map<const void*, std::pair<Value, std::string>> print_text_;  // append_print_value
  size_t print_text_bytes_ = 0;
  Value input_;
  Value* fp_ = nullptr;
  std::vector<Value*> trail_;

  std::vector<std::pair<std::vector<Value>, Value>> data_overrides_;
  std::vector<Mock> mocks_;
  Value data_root_;  // the policy's base documents and EvalOptions::base_documents
  uint64_t bodies_skipped_ = 0;  // rule bodies rule indexing did not enter
  bool early_exit_ = false;       // stop at a single-valued rule's first value (see constructor)
  bool direct_exprs_ = false;     // eval_body may run single-outcome expressions in a loop
  std::unordered_map<std::string, std::unique_ptr<CallTarget>> fn_targets_;
  std::vector<Value>* query_values_ = nullptr;
  // Instrumentation (EvalTrace).
  struct ProfileCounters {
    const RuleNode* node = nullptr;
    const Rule* rule = nullptr;
    uint64_t num_eval = 0, num_success = 0, total_ns = 0, self_ns = 0;
  };
  const RuleNode* active_node_ = nullptr;
  const std::string* query_source_ = nullptr;
  std::vector<TraceLine>* trace_out_ = nullptr;
  const Term* current_call_ = nullptr;
  std::unordered_map<const Rule*, ProfileCounters> profile_;
  std::vector<uint64_t> child_ns_;  // time of the rules called by each profiled rule on the stack
  int64_t depth_ = 0;
  uint64_t steps_ = 0;
  uint64_t memory_ = 0;
  std::chrono::steady_clock::time_point start_;
  const char* stack_base_ = nullptr;
  // Frame slots: a per-thread stack reused across evaluations (every slot is
  // reset to undefined by the trail before a frame is popped).
  struct FrameStack {
    std::vector<Value> slots = std::vector<Value>(4096);
    std::vector<Memo> memos;          // memo scopes, [0, memo_top) in use
    size_t memo_top = 0;
    std::vector<uint8_t> in_progress;  // by RuleNode::id; all zero between evaluations
    bool busy = false;
  };
  static FrameStack& thread_frames() {
    thread_local FrameStack fs;
    return fs;
  }
  std::unique_ptr<FrameStack> own_frames_;
  FrameStack* frames_ = nullptr;
  size_t frame_top_ = 0;
};

}  // namespace

bool evaluate_query(const Policy& policy, const CompiledQuery& q, const EvalOptions& opts, QueryResult& out,
                    Errors& errors, Value* first) {
  Evaluator ev(policy, opts);
  return ev.run(q, out, errors, first);
}

}  // namespace confidant::rego
