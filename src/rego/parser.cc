// Recursive-descent Rego parser following OPA's v1/ast/parser.go closely
// enough to accept the same programs and report the same error messages.
//
// Differences in approach: the source is tokenized up front (lexer.h), and
// OPA's speculative parses are replaced by deterministic ones where possible:
// a collection's first element is parsed as a plain term and, if no `|`
// follows, extended into an infix expression (OPA re-parses it). A few places
// still backtrack (restore a token index), each at most once per construct so
// parsing stays linear: `k, v in xs`, `some x in xs` versus `some x, y`, and
// `p if <literal>` / `not <literal>` versus a braced body.
//
// Errors: syntax errors stop the parse (the first one is reported, as OPA's
// statement loop does). Errors that OPA raises after parsing (a statement that
// is not a rule, v1 rules such as a missing `if`) are collected for the whole
// module and reported only when there is no syntax error.
//
// Trees are bounded by ParseOptions::max_depth (brackets, bodies and operator
// chains all nest), so that recursive walks of the AST cannot overflow the stack.
#include "rego/parser.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <functional>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "rego/annotations.h"
#include "rego/lexer.h"

namespace confidant::rego {

namespace {

constexpr const char* kDepthError = "max parsing recursion depth exceeded";
constexpr int kDefaultMaxDepth = 500;

uint8_t kw_bit(Tok t) { return static_cast<uint8_t>(1u << (static_cast<int>(t) - static_cast<int>(Tok::In))); }
constexpr uint8_t kAllKeywords = 0xF;

// Binding strength of infix operators inside terms (0: not an infix operator).
// `=`/`:=` (expression level) and `in` (handled separately) bind loosest.
int binop_level(Tok k) {
  switch (k) {
    case Tok::Equal:
    case Tok::Neq:
    case Tok::Lt:
    case Tok::Lte:
    case Tok::Gt:
    case Tok::Gte: return 1;
    case Tok::Or: return 2;
    case Tok::And: return 3;
    case Tok::Add:
    case Tok::Sub: return 4;
    case Tok::Mul:
    case Tok::Quo:
    case Tok::Rem: return 5;
    default: return 0;
  }
}

bool is_word(Tok k) { return k == Tok::Ident || is_keyword(k); }

// OPA's ValueName: how errors name the kind of a term.
std::string value_name(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: return kind_name(t.value.kind());
    case TermKind::Var: return "var";
    case TermKind::Ref: return "ref";
    case TermKind::Array: return "array";
    case TermKind::Set: return "set";
    case TermKind::Object: return "object";
    case TermKind::ArrayCompr: return "arraycomprehension";
    case TermKind::SetCompr: return "setcomprehension";
    case TermKind::ObjectCompr: return "objectcomprehension";
    case TermKind::Call: return "call";
  }
  return "term";
}

bool is_string(const TermPtr& t) { return t->kind == TermKind::Scalar && t->value.is_string(); }

// 2 for internal.member_2 (x in xs), 3 for internal.member_3 (k, v in xs), else 0.
int member_arity(const Term& t) {
  if (t.kind != TermKind::Call || t.items.empty()) return 0;
  const Term& op = *t.items[0];
  if (op.items.size() != 2 || op.items[0]->kind != TermKind::Var || op.items[0]->name != "internal" ||
      !is_string(op.items[1]))
    return 0;
  const std::string& n = op.items[1]->value.str();
  if (n == "member_2" && t.items.size() == 3) return 2;
  if (n == "member_3" && t.items.size() == 4) return 3;
  return 0;
}

// OPA's IsGround as used for `else` on ref heads: a nested ref only counts its operands.
bool is_ground(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar: return true;
    case TermKind::Var:
    case TermKind::ArrayCompr:
    case TermKind::SetCompr:
    case TermKind::ObjectCompr: return false;
    case TermKind::Ref:
      return std::all_of(t.items.begin() + (t.items.empty() ? 0 : 1), t.items.end(),
                         [](const TermPtr& x) { return is_ground(*x); });
    case TermKind::Object:
      return std::all_of(t.pairs.begin(), t.pairs.end(),
                         [](const auto& kv) { return is_ground(*kv.first) && is_ground(*kv.second); });
    default: return std::all_of(t.items.begin(), t.items.end(), [](const TermPtr& x) { return is_ground(*x); });
  }
}

// The first var, ref or call outside comprehensions, which a default value must not contain.
const char* default_value_violation(const Term& t) {
  switch (t.kind) {
    case TermKind::Var: return "var";
    case TermKind::Ref: return "ref";
    case TermKind::Call: return "call";
    case TermKind::Array:
    case TermKind::Set:
      for (const auto& x : t.items)
        if (const char* v = default_value_violation(*x)) return v;
      return nullptr;
    case TermKind::Object:
      for (const auto& [k, v] : t.pairs) {
        if (const char* e = default_value_violation(*k)) return e;
        if (const char* e = default_value_violation(*v)) return e;
      }
      return nullptr;
    default: return nullptr;
  }
}

bool is_v1_keyword(std::string_view s) {
  static constexpr std::string_view kWords[] = {"package", "import", "as",    "default",  "else",
                                                "not",     "some",   "with",  "null",     "true",
                                                "false",   "in",     "every", "contains", "if"};
  return std::find(std::begin(kWords), std::end(kWords), s) != std::end(kWords);
}

// Rejects magnitudes beyond OPA's limit (about 2^±100000); this also bounds
// the cost of exact arithmetic on hostile literals. `lit` is the unsigned
// literal; `fraction_only` when it followed a leading `.`.
bool number_in_range(std::string_view lit, bool fraction_only) {
  size_t i = 0, n = lit.size();
  int64_t mag = 0;  // decimal exponent of the leading significant digit, roughly
  bool nonzero = false;
  if (!fraction_only) {
    while (i < n && lit[i] == '0') ++i;
    size_t b = i;
    while (i < n && lit[i] >= '0' && lit[i] <= '9') ++i;
    mag = static_cast<int64_t>(i - b);
    nonzero = i > b;
    if (i < n && lit[i] == '.') ++i;
  }
  if (!nonzero) {
    size_t b = i;
    while (i < n && lit[i] == '0') ++i;
    mag = -static_cast<int64_t>(i - b);
    nonzero = i < n && lit[i] >= '1' && lit[i] <= '9';
  }
  while (i < n && lit[i] >= '0' && lit[i] <= '9') ++i;
  if (!nonzero) return true;
  if (i < n && (lit[i] == 'e' || lit[i] == 'E')) {
    ++i;
    bool neg = i < n && lit[i] == '-';
    if (i < n && (lit[i] == '+' || lit[i] == '-')) ++i;
    int64_t e = 0;
    for (; i < n && lit[i] >= '0' && lit[i] <= '9'; ++i)
      if (e < 1000000000) e = e * 10 + (lit[i] - '0');
    mag += neg ? -e : e;
  }
  return mag <= 30103 && mag >= -30103;
}

// Terms are carved from 32 KiB blocks shared by the terms of one parse: a
// malloc/free per term dominated parsing time. The block header counts live
// terms; the last term released frees the block (from any thread). While the
// parser allocates from a block the count carries a large bias so that terms
// dropped during the parse cannot free it early.
class TermPool {
 public:
  TermPool() = default;
  TermPool(const TermPool&) = delete;
  TermPool& operator=(const TermPool&) = delete;
  ~TermPool() { retire(); }

  void* allocate(size_t size) {
    size = (size + 15) & ~size_t{15};
    if (!block_ || used_ + size > kBlockSize) {
      if (size > kBlockSize - kHeader) throw std::bad_alloc();
      retire();
      void* mem = std::aligned_alloc(kBlockSize, kBlockSize);
      if (!mem) throw std::bad_alloc();
      block_ = new (mem) Header{};
      block_->live.store(kBias, std::memory_order_relaxed);
      used_ = kHeader;
      count_ = 0;
    }
    void* p = reinterpret_cast<char*>(block_) + used_;
    used_ += size;
    ++count_;
    return p;
  }

  static void release(void* p) {
    auto* h = reinterpret_cast<Header*>(reinterpret_cast<uintptr_t>(p) & ~(uintptr_t{kBlockSize} - 1));
    if (h->live.fetch_sub(1, std::memory_order_acq_rel) == 1) free_block(h);
  }

 private:
  struct Header {
    std::atomic<int64_t> live{0};
  };
  static constexpr size_t kBlockSize = 32 * 1024;  // with its alignment, still below mmap sizes
  static constexpr size_t kHeader = 64;
  static constexpr int64_t kBias = int64_t{1} << 48;

  static void free_block(Header* h) {
    h->~Header();
    std::free(h);
  }
  // Drops the bias: the block now lives exactly as long as its terms.
  void retire() {
    if (!block_) return;
    int64_t drop = kBias - count_;
    if (block_->live.fetch_sub(drop, std::memory_order_acq_rel) == drop) free_block(block_);
    block_ = nullptr;
  }

  Header* block_ = nullptr;
  size_t used_ = 0;
  int64_t count_ = 0;
};

template <class T>
struct PoolAllocator {
  using value_type = T;
  TermPool* pool;  // only used to allocate, i.e. during the parse
  explicit PoolAllocator(TermPool* p) : pool(p) {}
  template <class U>
  PoolAllocator(const PoolAllocator<U>& o) : pool(o.pool) {}  // NOLINT: rebinding
  T* allocate(size_t n) { return static_cast<T*>(pool->allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t) { TermPool::release(p); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

enum NoteFlags : uint8_t { kUsedContains = 1, kNoValueNoBody = 2 };

class Parser {
 public:
  Parser(std::string_view src, const std::string* file, const ParseOptions& opts, bool want_metadata,
         std::vector<Comment>* comments = nullptr)
      : src_(src),
        file_(file),
        v1_(!opts.v0),
        max_depth_(opts.max_depth > 0 ? opts.max_depth : kDefaultMaxDepth),
        annotations_(want_metadata && opts.annotations) {
    lex(src, toks_, want_metadata ? &meta_ : nullptr, comments);
    kw_ = v1_ ? kAllKeywords : 0;
  }

  bool module(Module& m, Errors& errors);
  bool query(Body& body, Errors& errors);
  bool value(Value& out, Errors& errors);

 private:
  struct Mark {
    size_t p;
    uint32_t last_end;
    size_t nerr;
  };
  struct Depth {
    Parser& p;
    bool ok;
    explicit Depth(Parser& parser) : p(parser), ok(++parser.depth_ <= parser.max_depth_) {
      if (!ok) p.fail(p.toks_[p.p_], kDepthError);
    }
    ~Depth() { --p.depth_; }
  };
  // Each operator applied in a chain nests the tree one level deeper
  // (`1 + 1 + ...` is left-deep), so chains count against max_depth too:
  // whoever walks the tree recursively (including destructors) stays bounded.
  struct Chain {
    Parser& p;
    int n = 0;
    explicit Chain(Parser& parser) : p(parser) {}
    ~Chain() { p.depth_ -= n; }
    bool grow() {
      ++n;
      return ++p.depth_ <= p.max_depth_ || p.fail(p.tok(), kDepthError);
    }
  };
  struct Head {
    std::vector<TermPtr> ref;
    std::vector<TermPtr> args;
    bool is_func = false;
    bool contains = false;
    bool assign = false;
    TermPtr key, value;
    std::string name;  // source text of the ref, for messages
  };

  // --- tokens -----------------------------------------------------------
  const Token& tok() const { return toks_[p_]; }
  Tok kind_at(size_t i) const {
    const Token& t = toks_[i];
    if (t.kind == Tok::Ident && t.aux && (kw_ & kw_bit(static_cast<Tok>(t.aux)))) return static_cast<Tok>(t.aux);
    return t.kind;
  }
  Tok cur() const { return kind_at(p_); }
  void next() {
    if (toks_[p_].kind != Tok::Eof) {
      last_end_ = toks_[p_].end();
      ++p_;
    }
  }
  std::string_view text(const Token& t) const { return src_.substr(t.offset, t.len); }
  // A `.`/`[` directly (no blank) after token i.
  bool ref_follows(size_t i) const {
    if (toks_[i].kind == Tok::Eof) return false;
    const Token& n = toks_[i + 1];
    return !n.space_before && (n.kind == Tok::Dot || n.kind == Tok::LBrack);
  }
  bool ref_or_call_follows() const {
    const Token& n = tok();
    return !n.space_before && (n.kind == Tok::Dot || n.kind == Tok::LBrack || n.kind == Tok::LParen);
  }
  // OPA lets a keyword start a ref when directly followed by `.` or `[`
  // (`not.x`, `in[0]`): the token is then just a name.
  void keyword_as_ref_head() {
    if (ref_follows(p_)) force_ident();
  }
  // Reads the current token, if it is a word, as a plain name.
  void force_ident() {
    if (is_word(cur())) {
      toks_[p_].kind = Tok::Ident;
      toks_[p_].aux = 0;
    }
  }
  Mark save() const { return {p_, last_end_, errs_.size()}; }
  void restore(const Mark& m) {
    p_ = m.p;
    last_end_ = m.last_end;
    errs_.resize(m.nerr);
  }

  // --- locations and errors ----------------------------------------------
  Location loc_at(const Token& t) const { return Location{file_, t.row, t.col, t.offset, t.len}; }
  void close(Location& l) const { l.length = last_end_ > l.offset ? last_end_ - l.offset : 0; }
  RegoError make_error(uint32_t row, uint32_t col, std::string msg) const {
    return RegoError{codes::kParse, std::move(msg), *file_, row, col};
  }
  bool fail(const Token& t, std::string msg) {
    errs_.push_back(make_error(t.row, t.col, std::move(msg)));
    return false;
  }
  bool fail(const Location& l, std::string msg) {
    errs_.push_back(make_error(l.row, l.col, std::move(msg)));
    return false;
  }
  void module_error(const Location& l, std::string msg) {
    module_errs_.push_back(make_error(l.row, l.col, std::move(msg)));
  }
  // OPA sees the blank after `.` as a token of its own.
  bool whitespace_after_dot() {
    const Token& dot = toks_[p_ - 1];
    errs_.push_back(make_error(dot.row, dot.col + 1, "unexpected whitespace token: expected identifier"));
    return false;
  }
  // "unexpected <token> token[: note]" at the current token.
  bool illegal(std::string_view note = {}) {
    const Token& t = tok();
    if (t.kind == Tok::Illegal) return fail(t, lex_error_message(static_cast<LexError>(t.aux)));
    Tok k = cur();
    std::string msg = "unexpected ";
    msg += token_name(k);
    msg += is_keyword(k) ? " keyword" : " token";
    if (!note.empty()) {
      msg += ": ";
      msg += note;
    }
    return fail(t, std::move(msg));
  }

  // --- term construction ---------------------------------------------------
  TermPtr new_term() {
#ifdef __SANITIZE_ADDRESS__
    return std::make_shared<Term>();  // one allocation per term, so ASan sees overflows
#else
    return std::allocate_shared<Term>(PoolAllocator<Term>(&pool_));
#endif
  }
  TermPtr make(TermKind k, const Token& t) {
    auto x = new_term();
    x->kind = k;
    x->loc = loc_at(t);
    return x;
  }
  TermPtr clone(const TermPtr& t);
  Body clone_body(const Body& b);
  std::vector<TermPtr> clone_all(const std::vector<TermPtr>& v) {
    std::vector<TermPtr> out;
    out.reserve(v.size());
    for (const auto& t : v) out.push_back(clone(t));
    return out;
  }
  TermPtr scalar(Value v, const Token& t) {
    auto x = make(TermKind::Scalar, t);
    x->value = std::move(v);
    return x;
  }
  TermPtr var(std::string_view name, const Token& t) {
    auto x = make(TermKind::Var, t);
    x->name = name;
    return x;
  }
  // Call of an operator (`plus`, `internal.member_2`, ...) spanning from the first argument.
  TermPtr op_call(const Token& op, std::string_view name, std::initializer_list<TermPtr> args) {
    auto ref = make(TermKind::Ref, op);
    if (name.substr(0, 9) == "internal.") {
      ref->items = {var("internal", op), scalar(intern(name.substr(9)), op)};
    } else {
      ref->items = {var(name, op)};
    }
    auto c = new_term();
    c->kind = TermKind::Call;
    c->loc = (*args.begin())->loc;
    close(c->loc);
    c->items.reserve(args.size() + 1);
    c->items.push_back(std::move(ref));
    for (const auto& a : args) c->items.push_back(a);
    return c;
  }

  // Equal strings (literals without escapes, `.name` parts) share one Value:
  // names repeat a lot (`input.OCI.Linux...`). Open addressing, no per-entry allocation.
  Value intern(std::string_view s) {
    if (strings_used_ * 2 >= strings_.size()) grow_strings();
    auto& slot = string_slot(s);
    if (slot.second.is_undefined()) {
      slot = {s, Value::string(s)};
      ++strings_used_;
    }
    return slot.second;
  }
  std::pair<std::string_view, Value>& string_slot(std::string_view s) {
    size_t h = std::hash<std::string_view>()(s);
    size_t mask = strings_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask)
      if (strings_[i].second.is_undefined() || strings_[i].first == s) return strings_[i];
  }
  void grow_strings() {
    std::vector<std::pair<std::string_view, Value>> old = std::move(strings_);
    strings_.assign(std::max<size_t>(64, old.size() * 2), {});
    for (auto& e : old)
      if (e.second.is_defined()) string_slot(e.first) = std::move(e);
  }

  // A stack of terms under construction (list elements, ref parts), so that
  // the final vectors are allocated once; Scratch restores its height on exit.
  struct Scratch {
    Parser& p;
    size_t mark;
    explicit Scratch(Parser& parser) : p(parser), mark(parser.scratch_.size()) {}
    ~Scratch() { p.scratch_.resize(mark); }
  };
  std::vector<TermPtr> take_scratch(size_t mark) {
    std::vector<TermPtr> out(std::make_move_iterator(scratch_.begin() + static_cast<ptrdiff_t>(mark)),
                             std::make_move_iterator(scratch_.end()));
    scratch_.resize(mark);
    return out;
  }

  // --- grammar ---------------------------------------------------------
  TermPtr parse_term();
  TermPtr parse_number(const Token* minus);
  TermPtr parse_string();
  TermPtr parse_paren();
  TermPtr parse_array();
  TermPtr parse_brace();
  TermPtr parse_object(const Token& open, TermPtr key, bool may_be_compr);
  TermPtr parse_ref(TermPtr head);
  TermPtr parse_call(size_t mark, const Location& start);
  bool parse_elements(Tok end);
  bool parse_term_list(Tok end, std::vector<TermPtr>& items, TermPtr first = nullptr);
  bool parse_pair_list(std::vector<std::pair<TermPtr, TermPtr>>& pairs);
  TermPtr parse_binary(int min_level, TermPtr lhs);
  TermPtr parse_infix(bool key_val, TermPtr first = nullptr);
  bool parse_body(Tok end, Body& out);
  bool parse_literal(Expr& e);
  bool parse_expr(Expr& e);
  bool parse_withs(Expr& e);
  bool parse_some(Expr& e);
  bool parse_every(Expr& e);
  bool parse_not_body(Expr& e);
  void negate_whole(Expr& e);
  TermPtr first_solution(std::shared_ptr<Body> body, const Location& loc);

  bool parse_package(Module& m, bool first);
  bool parse_import(Module& m);
  bool parse_head(Head& h);
  bool parse_rule(Module& m, std::string metadata);
  bool parse_if_body(Rule& r);
  bool parse_else_chain(Rule& parent);
  bool parse_stray_statement();
  void add_rule(Module& m, std::shared_ptr<Rule> r, uint8_t flags) {
    notes_.emplace_back(r.get(), flags);
    m.rules.push_back(std::move(r));
  }
  void check_v1_rules();
  std::string take_metadata(uint32_t offset) {
    std::string out;
    while (meta_next_ < meta_.size() && meta_[meta_next_].end_offset <= offset)
      out = meta_[meta_next_++].yaml;  // copied: attach_annotations reads the blocks again
    return out;
  }
  bool to_value(const Term& t, Value& out);
  void attach_annotations(Module& m);

  TermPool pool_;
  std::string_view src_;
  const std::string* file_;
  std::vector<Token> toks_;
  std::vector<MetadataBlock> meta_;
  size_t meta_next_ = 0;
  size_t p_ = 0;
  uint32_t last_end_ = 0;      // end of the last consumed token (spans never include trailing blanks)
  uint8_t kw_ = 0;             // future keywords in force (kw_bit)
  bool v1_;                    // v1 rules in force (v1, or v0 with `import rego.v1`)
  bool improved_not_ = false;  // `import future.keywords.not` or `import rego.v2`
  int depth_ = 0;
  int max_depth_;
  bool annotations_;    // parse the METADATA blocks into Module::annotations
  Errors errs_;         // syntax errors
  Errors module_errs_;  // errors OPA reports after a successful parse
  std::vector<std::pair<Rule*, uint8_t>> notes_;
  std::vector<TermPtr> scratch_;
  std::vector<Expr> expr_scratch_;
  std::vector<std::pair<std::string_view, Value>> strings_;
  size_t strings_used_ = 0;
};

// Exact copies, so that rules sharing a head (extra bodies, else branches)
// never share mutable Term nodes (the compiler annotates them).
TermPtr Parser::clone(const TermPtr& t) {
  if (!t) return nullptr;
  auto c = new_term();
  *c = *t;
  for (auto& x : c->items) x = clone(x);
  for (auto& [k, v] : c->pairs) {
    k = clone(k);
    v = clone(v);
  }
  c->key = clone(t->key);
  c->head = clone(t->head);
  if (t->body) c->body = std::make_shared<Body>(clone_body(*t->body));
  return c;
}

Body Parser::clone_body(const Body& b) {
  Body out;
  out.reserve(b.size());
  for (const Expr& e : b) {
    Expr c = e;
    c.term = clone(e.term);
    for (auto& v : c.vars) v = clone(v);
    c.some_key = clone(e.some_key);
    c.some_value = clone(e.some_value);
    c.some_domain = clone(e.some_domain);
    if (e.body) c.body = std::make_shared<Body>(clone_body(*e.body));
    for (auto& w : c.withs) {
      w.target = clone(w.target);
      w.value = clone(w.value);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// --- terms -------------------------------------------------------------------

TermPtr Parser::parse_term() {
  Depth d(*this);
  if (!d.ok) return nullptr;
  const Token t = tok();
  TermPtr x;
  switch (cur()) {
    case Tok::Null:
      x = scalar(Value::null(), t);
      next();
      break;
    case Tok::True:
      x = scalar(Value::boolean(true), t);
      next();
      break;
    case Tok::False:
      x = scalar(Value::boolean(false), t);
      next();
      break;
    case Tok::Number:
    case Tok::Dot: x = parse_number(nullptr); break;
    case Tok::Sub: {
      next();
      if (cur() == Tok::Number || cur() == Tok::Dot) {
        x = parse_number(&t);
        break;
      }
      // Unary minus on a non-literal: 0 - x.
      TermPtr operand = parse_term();
      if (!operand) return nullptr;
      return op_call(t, "minus", {scalar(Value::integer(0), t), operand});
    }
    case Tok::String:
    case Tok::RawString: x = parse_string(); break;
    // `contains` is a keyword only in rule heads; elsewhere it names the builtin.
    case Tok::Ident:
    case Tok::Contains:
      x = var(text(t), t);
      next();
      break;
    case Tok::LBrack: x = parse_array(); break;
    case Tok::LBrace: x = parse_brace(); break;
    case Tok::LParen: x = parse_paren(); break;
    default: illegal(); return nullptr;
  }
  if (x && ref_or_call_follows()) return parse_ref(std::move(x));
  return x;
}

TermPtr Parser::parse_number(const Token* minus) {
  const Token start = minus ? *minus : tok();
  bool dot = cur() == Tok::Dot;
  if (dot) {
    next();
    if (cur() != Tok::Number) return illegal("expected number"), nullptr;
  }
  std::string_view lit = text(tok());
  if (!dot && lit.size() > 1 && lit[0] == '0' && lit[1] != '.' && !((lit[1] == 'e' || lit[1] == 'E') && lit.size() > 2))
    return illegal("expected number without leading zero"), nullptr;
  if (!number_in_range(lit, dot)) return fail(tok(), "number too big"), nullptr;
  Value v;
  if (!minus && !dot) {
    v = Value::number_from_text(lit);
  } else {
    std::string s = minus ? "-" : "";
    if (dot) s += '.';
    s += lit;
    v = Value::number_from_text(s);
  }
  if (v.is_undefined()) return fail(tok(), "number too big"), nullptr;
  next();
  auto x = scalar(std::move(v), start);
  close(x->loc);
  return x;
}

TermPtr Parser::parse_string() {
  const Token& t = tok();
  std::string_view lit = text(t);
  std::string_view inner = lit.substr(1, lit.size() - 2);
  Value v;
  if (t.kind == Tok::String && t.aux) {
    std::string s;
    if (!unescape_string(inner, s)) return fail(t, "illegal string literal: " + std::string(lit)), nullptr;
    v = Value::string(std::move(s));
  } else {
    v = intern(inner);
  }
  auto x = scalar(std::move(v), t);
  next();
  return x;
}

TermPtr Parser::parse_paren() {
  const Token open = tok();
  next();
  TermPtr x = parse_infix(true);
  if (!x) return nullptr;
  if (cur() != Tok::RParen) return fail(tok(), "non-terminated expression"), nullptr;
  next();
  x->loc = loc_at(open);  // the span includes the parentheses
  close(x->loc);
  return x;
}

// [a, b], [x | body]
TermPtr Parser::parse_array() {
  const Token open = tok();
  next();
  auto arr = make(TermKind::Array, open);
  if (cur() == Tok::RBrack) {
    next();
    close(arr->loc);
    return arr;
  }
  bool may_be_compr = true;
  if (cur() == Tok::Comma) {  // `[, x]` is accepted for backwards compatibility (as OPA does)
    may_be_compr = false;
    next();
  }
  // The head is first parsed as a plain term: `[a | b]` is a comprehension, not `or`.
  TermPtr head = parse_term();
  if (!head) return nullptr;
  if (may_be_compr && cur() == Tok::Or) {
    next();
    auto c = make(TermKind::ArrayCompr, open);
    c->head = std::move(head);
    c->body = std::make_shared<Body>();
    if (!parse_body(Tok::RBrack, *c->body)) return nullptr;
    close(c->loc);
    return c;
  }
  if (cur() != Tok::Comma && cur() != Tok::RBrack && !(head = parse_infix(false, head))) return nullptr;
  if (!parse_term_list(Tok::RBrack, arr->items, std::move(head))) return nullptr;
  close(arr->loc);
  return arr;
}

// {} (empty object), {a, b}, {k: v}, {x | body}, {k: v | body}
TermPtr Parser::parse_brace() {
  const Token open = tok();
  next();
  if (cur() == Tok::RBrace) {
    auto obj = make(TermKind::Object, open);
    next();
    close(obj->loc);
    return obj;
  }
  bool may_be_compr = true;
  if (cur() == Tok::Comma) {
    may_be_compr = false;
    next();
  }
  TermPtr head = parse_term();
  if (!head) return nullptr;
  if (may_be_compr && cur() == Tok::Or) {
    next();
    auto c = make(TermKind::SetCompr, open);
    c->head = std::move(head);
    c->body = std::make_shared<Body>();
    if (!parse_body(Tok::RBrace, *c->body)) return nullptr;
    close(c->loc);
    return c;
  }
  if (cur() != Tok::Colon && cur() != Tok::Comma && cur() != Tok::RBrace && !(head = parse_infix(false, head)))
    return nullptr;
  if (cur() == Tok::Colon) return parse_object(open, std::move(head), may_be_compr);
  if (cur() != Tok::Comma && cur() != Tok::RBrace) return illegal("non-terminated set"), nullptr;
  auto set = make(TermKind::Set, open);
  if (!parse_term_list(Tok::RBrace, set->items, std::move(head))) return nullptr;
  close(set->loc);
  return set;
}

// After `{key`: expects `: value` then `}`, `, pairs...}` or `| body}`.
TermPtr Parser::parse_object(const Token& open, TermPtr key, bool may_be_compr) {
  next();  // ':'
  TermPtr val = parse_term();
  if (!val) return nullptr;
  if (may_be_compr && cur() == Tok::Or) {
    next();
    auto c = make(TermKind::ObjectCompr, open);
    c->key = std::move(key);
    c->head = std::move(val);
    c->body = std::make_shared<Body>();
    if (!parse_body(Tok::RBrace, *c->body)) return nullptr;
    close(c->loc);
    return c;
  }
  if (cur() != Tok::Comma && cur() != Tok::RBrace && !(val = parse_infix(false, val))) return nullptr;
  if (cur() != Tok::Comma && cur() != Tok::RBrace) return illegal("non-terminated object"), nullptr;
  auto obj = make(TermKind::Object, open);
  obj->pairs.emplace_back(std::move(key), std::move(val));
  if (cur() == Tok::Comma) next();
  if (!parse_pair_list(obj->pairs)) return nullptr;
  close(obj->loc);
  return obj;
}

// Continues `head` with `.name`, `[term]` and `(args)` written without blanks.
TermPtr Parser::parse_ref(TermPtr head) {
  switch (head->kind) {
    case TermKind::Scalar:
    case TermKind::Ref: return fail(head->loc, "illegal ref (head cannot be " + value_name(*head) + ")"), nullptr;
    default: break;
  }
  Location start = head->loc;
  Scratch parts(*this);
  scratch_.push_back(std::move(head));
  for (;;) {
    switch (cur()) {
      case Tok::Dot: {
        next();
        const Token& t = tok();
        if (t.space_before) return whitespace_after_dot(), nullptr;
        if (!is_word(cur())) return illegal("expected identifier"), nullptr;
        scratch_.push_back(scalar(intern(text(t)), t));
        next();
        break;
      }
      case Tok::LBrack: {
        next();
        TermPtr x = parse_infix(true);
        if (!x) return nullptr;
        if (cur() != Tok::RBrack) return illegal("expected ]"), nullptr;
        next();
        scratch_.push_back(std::move(x));
        break;
      }
      default: {  // LParen
        TermPtr c = parse_call(parts.mark, start);
        if (!c || !ref_or_call_follows() || tok().kind == Tok::LParen) return c;
        start = c->loc;
        scratch_.push_back(std::move(c));  // `f(x).y`: the call heads a new ref
        continue;
      }
    }
    if (!ref_or_call_follows()) break;
  }
  auto ref = new_term();
  ref->kind = TermKind::Ref;
  ref->loc = start;
  close(ref->loc);
  ref->items = take_scratch(parts.mark);
  return ref;
}

// At `(` after the operator parts (a name and `.name`s) on the scratch stack from `mark`.
TermPtr Parser::parse_call(size_t mark, const Location& start) {
  bool named = scratch_[mark]->kind == TermKind::Var &&
               std::all_of(scratch_.begin() + static_cast<ptrdiff_t>(mark) + 1, scratch_.end(),
                           [](const TermPtr& p) { return is_string(p); });
  if (!named) return illegal("expected a function name before ("), nullptr;
  auto op = new_term();
  op->kind = TermKind::Ref;
  op->loc = start;
  close(op->loc);
  op->items = take_scratch(mark);
  next();  // '('
  auto call = new_term();
  call->kind = TermKind::Call;
  call->loc = start;
  Scratch args(*this);
  scratch_.push_back(op);
  if (!parse_elements(Tok::RParen)) return nullptr;
  call->items = take_scratch(args.mark);
  close(call->loc);
  if (call->items.size() == 1 && op->items.size() == 1 && op->items[0]->name == "set") {
    call->kind = TermKind::Set;  // set() is the empty set
    call->items.clear();
  }
  return call;
}

// Elements up to and including `end` (a trailing comma is allowed), pushed
// on the scratch stack.
bool Parser::parse_elements(Tok end) {
  for (;;) {
    if (cur() == end) {
      next();
      return true;
    }
    TermPtr x = parse_infix(false);
    if (!x) return false;
    scratch_.push_back(std::move(x));
    if (cur() == Tok::Comma) {
      next();
    } else if (cur() != end) {
      return illegal(std::string("expected \",\" or \"") + token_name(end) + "\"");
    }
  }
}

// Like parse_elements, into `items` (allocated once at its final size);
// `first` is an element already parsed.
bool Parser::parse_term_list(Tok end, std::vector<TermPtr>& items, TermPtr first) {
  Scratch list(*this);
  if (first) {
    scratch_.push_back(std::move(first));
    if (cur() == Tok::Comma) {
      next();
    } else if (cur() != end) {
      return illegal(std::string("expected \",\" or \"") + token_name(end) + "\"");
    }
  }
  if (!parse_elements(end)) return false;
  items = take_scratch(list.mark);
  return true;
}

bool Parser::parse_pair_list(std::vector<std::pair<TermPtr, TermPtr>>& pairs) {
  for (;;) {
    if (cur() == Tok::RBrace) {
      next();
      return true;
    }
    TermPtr k = parse_infix(false);
    if (!k) return false;
    if (cur() != Tok::Colon) return illegal("expected \":\"");
    next();
    TermPtr v = parse_infix(false);
    if (!v) return false;
    pairs.emplace_back(std::move(k), std::move(v));
    if (cur() == Tok::Comma) {
      next();
    } else if (cur() != Tok::RBrace) {
      return illegal("expected \",\" or \"}\"");
    }
  }
}

// Left-associative binary operators binding at least as tightly as min_level.
TermPtr Parser::parse_binary(int min_level, TermPtr lhs) {
  if (!lhs && !(lhs = parse_term())) return nullptr;
  Chain chain(*this);
  for (;;) {
    Tok k = cur();
    int level = binop_level(k);
    if (level == 0 || level < min_level) return lhs;
    if (!chain.grow()) return nullptr;
    const Token op = tok();
    next();
    TermPtr rhs = parse_binary(level + 1, nullptr);
    if (!rhs) return nullptr;
    lhs = op_call(op, token_name(k), {std::move(lhs), std::move(rhs)});
  }
}

// A term with infix operators, including `x in xs` and, when key_val, `k, v in xs`.
// `first`: an already parsed leading term to continue from.
TermPtr Parser::parse_infix(bool key_val, TermPtr first) {
  TermPtr lhs = parse_binary(1, std::move(first));
  if (!lhs) return nullptr;
  Chain chain(*this);
  if (key_val && cur() == Tok::Comma) {
    Mark m = save();
    next();
    TermPtr mhs = parse_binary(1, nullptr);
    if (mhs && cur() == Tok::In) {
      if (!chain.grow()) return nullptr;
      const Token op = tok();
      next();
      TermPtr rhs = parse_binary(1, nullptr);
      if (!rhs) return nullptr;
      lhs = op_call(op, "internal.member_3", {std::move(lhs), std::move(mhs), std::move(rhs)});
    } else {
      restore(m);  // not `k, v in xs`; the caller deals with the comma
    }
  }
  while (cur() == Tok::In) {
    if (!chain.grow()) return nullptr;
    const Token op = tok();
    next();
    TermPtr rhs = parse_binary(1, nullptr);
    if (!rhs) return nullptr;
    lhs = op_call(op, "internal.member_2", {std::move(lhs), std::move(rhs)});
  }
  return lhs;
}

// --- bodies and expressions ---------------------------------------------------

// Literals separated by `;` or newlines, through `end` (consumed).
bool Parser::parse_body(Tok end, Body& out) {
  Depth d(*this);
  if (!d.ok) return false;
  if (cur() == end) return fail(tok(), "found empty body");
  // Literals are collected on a stack so that `out` is allocated once.
  const size_t mark = expr_scratch_.size();
  struct Restore {
    std::vector<Expr>& v;
    size_t mark;
    ~Restore() { v.resize(mark); }
  } restore{expr_scratch_, mark};
  for (;;) {
    Expr e;
    if (!parse_literal(e)) return false;
    expr_scratch_.push_back(std::move(e));
    if (cur() == Tok::Semicolon) {
      next();
      continue;
    }
    if (cur() == end) {
      next();
      break;
    }
    if (!tok().nl_before) return illegal(std::string("expected \\n or ; or ") + token_name(end));
  }
  out.reserve(out.size() + expr_scratch_.size() - mark);
  for (size_t i = mark; i < expr_scratch_.size(); ++i) out.push_back(std::move(expr_scratch_[i]));
  return true;
}

bool Parser::parse_literal(Expr& e) {
  keyword_as_ref_head();
  const Token start = tok();
  bool negated = false;
  if (cur() == Tok::Not) {
    next();
    negated = true;
  }
  bool ok;
  switch (cur()) {
    case Tok::Some:
      if (negated) return illegal("illegal negation of 'some'");
      ok = parse_some(e);
      break;
    case Tok::Every:
      if (negated) return illegal("illegal negation of 'every'");
      ok = parse_every(e);
      break;
    default:
      if (negated && improved_not_ && cur() == Tok::LBrace) {
        ok = parse_not_body(e);
      } else {
        ok = parse_expr(e);
        if (ok && negated && improved_not_) negate_whole(e);
      }
      e.negated = negated;
      if (ok && cur() == Tok::With) ok = parse_withs(e);
  }
  e.loc = loc_at(start);
  close(e.loc);
  return ok;
}

// `import future.keywords.not` (OPA 1.17) negates everything the compiler
// would hoist out of a composite expression, and allows `not { body }`. The
// AST has no negated body, so `not B` is written as `not [true | B][0]`, which
// has exactly that meaning: the comprehension is empty iff B has no solution.
TermPtr Parser::first_solution(std::shared_ptr<Body> body, const Location& loc) {
  auto c = new_term();
  c->kind = TermKind::ArrayCompr;
  c->loc = loc;
  c->head = new_term();
  c->head->value = Value::boolean(true);
  c->head->loc = loc;
  c->body = std::move(body);
  auto zero = new_term();
  zero->value = Value::integer(0);
  zero->loc = loc;
  auto ref = new_term();
  ref->kind = TermKind::Ref;
  ref->loc = loc;
  ref->items = {std::move(c), std::move(zero)};
  return ref;
}

bool is_composite(const Term& t) {
  switch (t.kind) {
    case TermKind::Scalar:
    case TermKind::Var: return false;
    case TermKind::Call:
    case TermKind::ArrayCompr:
    case TermKind::SetCompr:
    case TermKind::ObjectCompr: return true;
    case TermKind::Object:
      return std::any_of(t.pairs.begin(), t.pairs.end(),
                         [](const auto& kv) { return is_composite(*kv.first) || is_composite(*kv.second); });
    default: return std::any_of(t.items.begin(), t.items.end(), [](const TermPtr& x) { return is_composite(*x); });
  }
}

void Parser::negate_whole(Expr& e) {
  if (!is_composite(*e.term)) return;  // nothing would be hoisted: keep `not x` as is
  Expr inner;
  inner.kind = e.kind;
  inner.loc = e.term->loc;
  inner.term = std::move(e.term);
  Location loc = inner.loc;
  auto body = std::make_shared<Body>();
  body->push_back(std::move(inner));
  e.kind = ExprKind::Term;
  e.term = first_solution(std::move(body), loc);
}

// After `not` at `{`: a literal starting with a brace (`not {1} == x`), else a body.
bool Parser::parse_not_body(Expr& e) {
  const Token open = tok();
  Mark m = save();
  if (parse_expr(e) && !(e.kind == ExprKind::Term && e.term->kind == TermKind::Set)) {
    negate_whole(e);
    return true;
  }
  restore(m);
  e = Expr{};
  next();
  auto body = std::make_shared<Body>();
  if (!parse_body(Tok::RBrace, *body)) return false;
  Location loc = loc_at(open);
  close(loc);
  e.kind = ExprKind::Term;
  e.term = first_solution(std::move(body), loc);
  return true;
}

bool Parser::parse_expr(Expr& e) {
  TermPtr lhs = parse_infix(true);
  if (!lhs) return false;
  Tok k = cur();
  if (k == Tok::Assign || k == Tok::Unify) {
    const Token op = tok();
    next();
    TermPtr rhs = parse_infix(true);
    if (!rhs) return false;
    e.kind = ExprKind::Call;
    e.term = op_call(op, token_name(k), {std::move(lhs), std::move(rhs)});
    return true;
  }
  e.kind = lhs->kind == TermKind::Call ? ExprKind::Call : ExprKind::Term;
  e.term = std::move(lhs);
  return true;
}

bool Parser::parse_withs(Expr& e) {
  while (cur() == Tok::With) {
    With w;
    w.loc = loc_at(tok());
    next();
    if (cur() != Tok::Ident) return illegal("expected ident");
    w.target = parse_term();
    if (!w.target) return false;
    if (w.target->kind == TermKind::Var) {  // targets are always refs: `input` -> input
      auto ref = new_term();
      ref->kind = TermKind::Ref;
      ref->loc = w.target->loc;
      ref->items.push_back(std::move(w.target));
      w.target = std::move(ref);
    } else if (w.target->kind != TermKind::Ref) {
      return illegal("expected with target path");
    }
    if (cur() != Tok::As) return illegal("expected as keyword");
    next();
    w.value = parse_infix(true);
    if (!w.value) return false;
    close(w.loc);
    e.withs.push_back(std::move(w));
  }
  return true;
}

bool Parser::parse_some(Expr& e) {
  next();  // some
  // `some x in xs` / `some k, v in xs` parse as membership calls; otherwise
  // this is a declaration `some x, y` and we start over.
  Mark m = save();
  if (TermPtr t = parse_infix(true); t && member_arity(*t)) {
    e.kind = ExprKind::SomeIn;
    if (member_arity(*t) == 3) e.some_key = t->items[1];
    e.some_value = t->items[t->items.size() - 2];
    e.some_domain = t->items.back();
    return cur() != Tok::With || parse_withs(e);
  }
  restore(m);
  e.kind = ExprKind::SomeDecl;
  for (;;) {
    if (cur() != Tok::Ident) return illegal("expected var");
    e.vars.push_back(var(text(tok()), tok()));
    next();
    if (cur() != Tok::Comma) return true;
    next();
  }
}

bool Parser::parse_every(Expr& e) {
  next();  // every
  TermPtr t = parse_infix(true);
  if (!t) return false;
  int arity = member_arity(*t);
  if (!arity) return illegal("expected `x[, y] in xs { ... }` expression");
  if (arity == 3) {
    e.some_key = t->items[1];
    if (e.some_key->kind != TermKind::Var) return illegal("expected key to be a variable");
  }
  e.some_value = t->items[t->items.size() - 2];
  e.some_domain = t->items.back();
  if (e.some_value->kind != TermKind::Var) return illegal("expected value to be a variable");
  if (cur() != Tok::LBrace) return illegal("missing body");
  next();
  e.kind = ExprKind::Every;
  e.body = std::make_shared<Body>();
  if (!parse_body(Tok::RBrace, *e.body)) return false;
  return cur() != Tok::With || parse_withs(e);
}

// --- modules ---------------------------------------------------------------------

bool Parser::parse_package(Module& m, bool first) {
  const Token kw = tok();
  next();
  force_ident();  // `package every.x` is fine
  if (cur() != Tok::Ident) return illegal();
  TermPtr path = parse_term();
  if (!path) return false;
  std::vector<std::string> segs;
  if (path->kind == TermKind::Var) {
    segs.push_back(path->name);
  } else if (path->kind == TermKind::Ref && path->items[0]->kind == TermKind::Var) {
    segs.push_back(path->items[0]->name);
    for (size_t i = 1; i < path->items.size(); ++i) {
      const TermPtr& s = path->items[i];
      if (!is_string(s)) return fail(s->loc, "unexpected " + value_name(*s) + " token: expecting string");
      segs.push_back(s->value.str());
    }
  } else {
    return fail(path->loc, "unexpected " + value_name(*path) + " token: expecting var");
  }
  Location loc = loc_at(kw);
  close(loc);
  if (first) {
    m.package = std::move(segs);
    m.package_loc = loc;
  } else {
    module_error(loc, "unexpected package");
  }
  return true;
}

bool Parser::parse_import(Module& m) {
  Import imp;
  imp.loc = loc_at(tok());
  next();
  force_ident();
  if (cur() != Tok::Ident) return illegal();
  TermPtr path = parse_term();
  if (!path) return false;
  if (path->kind == TermKind::Var) {
    auto ref = new_term();
    ref->kind = TermKind::Ref;
    ref->loc = path->loc;
    ref->items.push_back(std::move(path));
    path = std::move(ref);
  } else if (path->kind != TermKind::Ref || path->items[0]->kind != TermKind::Var) {
    return fail(path->loc, "expected path");
  }
  for (size_t i = 1; i < path->items.size(); ++i)
    if (!is_string(path->items[i]))
      return fail(path->items[i]->loc, "unexpected " + value_name(*path->items[i]) + " token: expecting string");
  const std::string& root = path->items[0]->name;
  if (root != "data" && root != "input" && root != "future" && root != "rego")
    return fail(path->loc, "unexpected import path, must begin with one of: {data, future, input, rego}, got: " + root);
  if (cur() == Tok::As) {
    next();
    if (cur() != Tok::Ident) return illegal("expected var");
    imp.alias = text(tok());
    next();
  }
  const auto& items = path->items;
  auto seg = [&](size_t i) -> std::string_view {
    return i < items.size() ? std::string_view(items[i]->value.str()) : "";
  };
  if (root == "future") {
    if (items.size() == 1 || seg(1) != "keywords") return fail(path->loc, "invalid import, must be `future.keywords`");
    if (!imp.alias.empty()) return fail(path->loc, "`future` imports cannot be aliased");
    if (items.size() == 2) {
      kw_ = kAllKeywords;
    } else if (items.size() == 3) {
      std::string_view k = seg(2);
      if (k == "in")
        kw_ |= kw_bit(Tok::In);
      else if (k == "every")
        kw_ |= kw_bit(Tok::Every) | kw_bit(Tok::In);  // every needs in
      else if (k == "contains")
        kw_ |= kw_bit(Tok::Contains);
      else if (k == "if")
        kw_ |= kw_bit(Tok::If);
      else if (k == "not")
        improved_not_ = true;
      else
        return fail(path->loc, "unexpected keyword, must be one of [contains every if in not]");
    }
  } else if (root == "rego") {
    if (items.size() != 2 || (seg(1) != "v1" && seg(1) != "v2")) {
      return fail(path->loc, "invalid import `" + std::string(src_.substr(path->loc.offset, path->loc.length)) +
                                 "`, must be `rego.v1`");
    }
    if (seg(1) == "v2") improved_not_ = true;  // rego.v2 = v1 plus the improved `not`
    if (!v1_) {
      if (!imp.alias.empty()) return fail(path->loc, "`rego` imports cannot be aliased");
      kw_ = kAllKeywords;
      v1_ = true;
      m.rego_v1 = true;
    }
  } else if (imp.alias.empty() && items.size() > 1) {
    std::string_view last = seg(items.size() - 1);
    bool kw = v1_ ? is_v1_keyword(last)
                  : (is_v1_keyword(last) && last != "in" && last != "every" && last != "contains" && last != "if");
    if (kw)
      return fail(items.back()->loc, "unexpected import path, must not end with a keyword, got: " + std::string(last));
  }
  imp.path = std::move(path);
  close(imp.loc);
  m.imports.push_back(std::move(imp));
  return true;
}

// Rule head: name, then `.name`/`[term]` parts and optionally `(args)`, then
// `contains key`, `= value` or `:= value`.
bool Parser::parse_head(Head& h) {
  const Token name = tok();
  next();
  h.ref.push_back(var(text(name), name));
  if (binop_level(cur())) return illegal();  // `x == 1` at module level
  // Only the name may be followed by blanks before the first part (OPA's parseHeadFinish).
  for (bool first = true;; first = false) {
    if (!first && tok().space_before) break;
    Tok k = cur();
    if (k == Tok::Dot) {
      next();
      if (tok().space_before) return whitespace_after_dot();
      if (!is_word(cur())) return illegal("expected identifier");
      h.ref.push_back(scalar(intern(text(tok())), tok()));
      next();
    } else if (k == Tok::LBrack) {
      next();
      TermPtr x = parse_infix(true);
      if (!x) return false;
      if (cur() != Tok::RBrack) return illegal("expected ]");
      next();
      h.ref.push_back(std::move(x));
    } else if (k == Tok::LParen) {
      const Token open = tok();
      next();
      h.is_func = true;
      if (!parse_term_list(Tok::RParen, h.args)) return false;
      if (h.args.empty()) return fail(open, "rule argument list must take at least one argument");
      break;
    } else {
      break;
    }
  }
  h.name = src_.substr(name.offset, last_end_ - name.offset);
  if (h.is_func) h.name = h.name.substr(0, h.name.find('('));
  Tok k = cur();
  if (k == Tok::Contains) {
    if (h.is_func)
      return illegal("the contains keyword can only be used with multi-value rule definitions (e.g., " + h.name +
                     " contains <VALUE> { ... })");
    next();
    h.contains = true;
    if (!(h.key = parse_infix(true)))
      return illegal("expected rule key term (e.g., " + h.name + " contains <VALUE> { ... })");
  } else if (k == Tok::Unify || k == Tok::Assign) {
    next();
    h.assign = k == Tok::Assign;
    if (!(h.value = parse_infix(true))) {
      // OPA adds this second error to the one describing the bad token.
      if (h.is_func) return illegal("expected function value term (e.g., " + h.name + "(...) := <VALUE> { ... })");
      return illegal("expected rule value term (e.g., " + h.name + (h.assign ? " :=" : " =") + " <VALUE> { ... })");
    }
  }
  return true;
}

bool Parser::parse_rule(Module& m, std::string metadata) {
  const Token start = tok();
  auto rule = std::make_shared<Rule>();
  rule->loc = loc_at(start);
  rule->metadata_yaml = std::move(metadata);
  if (cur() == Tok::Default) {
    next();
    rule->is_default = true;
    keyword_as_ref_head();
    if (cur() != Tok::Ident) return fail(start, "unexpected default keyword");
  }
  Head h;
  if (!parse_head(h)) return false;
  const size_t ref_len = h.ref.size();
  rule->ref = std::move(h.ref);
  rule->args = std::move(h.args);
  rule->value = std::move(h.value);
  rule->assign = h.assign;
  rule->kind = h.is_func ? RuleKind::Function : RuleKind::Complete;
  uint8_t flags = h.contains ? kUsedContains : 0;

  if (rule->is_default) {
    // A bare `default p` means `default p = true`, except where OPA treats the head as a set element.
    if (h.contains || (!rule->value && ref_len == 2 && !h.is_func))
      return fail(rule->loc, "illegal default rule (must have a value)");
    if (rule->value)
      if (const char* bad = default_value_violation(*rule->value))
        return fail(rule->loc, std::string("illegal default rule (value cannot contain ") + bad + ")");
    for (size_t i = 0; i < rule->args.size(); ++i) {
      const Term& a = *rule->args[i];
      if (a.kind != TermKind::Var)
        return fail(rule->loc, "illegal default rule (arguments cannot contain " + value_name(a) + ")");
      for (size_t j = 0; j < i; ++j)
        if (a.name != "_" && rule->args[j]->name == a.name)
          return fail(rule->loc, "illegal default rule (arguments cannot be repeated " + a.name + ")");
    }
    close(rule->loc);
    add_rule(m, std::move(rule), flags);
    return true;
  }

  const bool has_if = cur() == Tok::If;
  if (h.contains) {
    rule->kind = RuleKind::MultiValue;
    rule->key = std::move(h.key);
  } else if (!has_if && !h.is_func && ref_len == 2 && !rule->value) {
    // v0 partial set: `p[x] { ... }` (and `p.x { ... }`) holds x in set p.
    rule->kind = RuleKind::MultiValue;
    rule->key = std::move(rule->ref.back());
    rule->ref.pop_back();
  }

  if (has_if) {
    if (!parse_if_body(*rule)) return false;
  } else if (cur() == Tok::LBrace) {
    next();
    if (!parse_body(Tok::RBrace, rule->body)) return false;
  } else if (!h.contains) {
    // No body: OPA parses the statement as an expression and reinterprets it
    // as a rule (`p := 1`, `p[x] = y`, `f(x) = y`, `a.b.c`, `p[x]`).
    Tok k = cur();
    if (k == Tok::With) return fail(start, "expressions using with keyword cannot be used for rule head");
    if (binop_level(k) || k == Tok::In) return fail(start, "rule name conflicts with built-in function");
    if (ref_len == 1 && !rule->value && !h.is_func) {
      module_error(rule->loc, "var cannot be used for rule name");
      return true;
    }
    if (ref_len > 2 && !rule->value && !h.is_func) flags |= kNoValueNoBody;
    close(rule->loc);
    add_rule(m, std::move(rule), flags);
    return true;
  } else {
    close(rule->loc);  // `p contains x` needs no body
    add_rule(m, std::move(rule), flags);
    return true;
  }

  if (cur() == Tok::Else && !ref_follows(p_)) {
    if (rule->ref.size() > 1 &&
        !std::all_of(rule->ref.begin() + 1, rule->ref.end(), [](const TermPtr& t) { return is_ground(*t); }))
      return fail(tok(), "else keyword cannot be used on rules with variables in head");
    if (rule->key) return fail(tok(), "else keyword cannot be used on multi-value rules");
    if (!parse_else_chain(*rule)) return false;
  }
  close(rule->loc);
  Rule& first = *rule;
  add_rule(m, rule, flags);
  // v0 `p { a } { b }`: each extra body is another rule with the same head.
  while (cur() == Tok::LBrace) {
    if (first.else_rule) return fail(tok(), "expected else keyword");
    auto r = std::make_shared<Rule>();
    r->loc = loc_at(tok());
    r->kind = first.kind;
    r->ref = clone_all(first.ref);
    r->args = clone_all(first.args);
    r->key = clone(first.key);
    r->value = clone(first.value);
    r->assign = first.assign;
    r->has_if = first.has_if;
    next();
    if (!parse_body(Tok::RBrace, r->body)) return false;
    close(r->loc);
    add_rule(m, std::move(r), flags);
  }
  return true;
}

// After `if`: a single literal (`p if x > 1`) or a braced body. As in OPA the
// literal is tried first; a set literal (`{ x }`) means it was a body.
bool Parser::parse_if_body(Rule& r) {
  r.has_if = true;
  next();
  Mark m = save();
  Expr e;
  bool ok = parse_literal(e);
  if (ok && !(e.kind == ExprKind::Term && e.term->kind == TermKind::Set)) {
    r.body.push_back(std::move(e));
    return true;
  }
  if (toks_[m.p].kind != Tok::LBrace) {
    if (!ok) return false;  // keep the literal's error
    restore(m);
    return illegal();
  }
  restore(m);
  next();
  return parse_body(Tok::RBrace, r.body);
}

// else [= v | := v] [if] [{ body } | literal]; a branch without a body ends the chain.
bool Parser::parse_else_chain(Rule& parent) {
  Rule* prev = &parent;
  for (int n = 1; cur() == Tok::Else; ++n) {
    if (n > max_depth_) return fail(tok(), kDepthError);  // also bounds the recursive destructor
    auto r = std::make_shared<Rule>();
    r->loc = loc_at(tok());
    r->kind = parent.kind;
    r->ref = clone_all(parent.ref);
    r->args = clone_all(parent.args);
    next();
    Tok k = cur();
    if (k == Tok::Assign || k == Tok::Unify) {
      r->assign = k == Tok::Assign;
      next();
      if (!(r->value = parse_infix(true))) return false;
    } else if (k != Tok::LBrace && k != Tok::If) {
      return illegal("expected else value term or rule body");
    }
    bool has_body = true;
    if (cur() == Tok::If) {
      r->has_if = true;
      next();
      if (cur() == Tok::LBrace) {
        next();
        if (!parse_body(Tok::RBrace, r->body)) return false;
      } else if (cur() == Tok::Eof) {
        return illegal("rule body expected");
      } else {
        r->body.emplace_back();
        if (!parse_literal(r->body.back())) return false;
      }
    } else if (cur() == Tok::LBrace) {
      next();
      if (!parse_body(Tok::RBrace, r->body)) return false;
    } else {
      has_body = false;
    }
    close(r->loc);
    prev->else_rule = r;
    prev = r.get();
    if (!has_body) break;
  }
  return true;
}

// A statement that does not start like a rule: parse it to report OPA's reason
// for not accepting it as a rule.
bool Parser::parse_stray_statement() {
  const Token start = tok();
  Expr e;
  if (!parse_literal(e)) return false;
  bool multiple = false;
  while (cur() == Tok::Semicolon) {
    next();
    Expr more;
    if (!parse_literal(more)) return false;
    multiple = true;
  }
  std::string msg;
  if (multiple) {
    msg = "multiple expressions cannot be used for rule head";
  } else if (!e.withs.empty()) {
    msg = "expressions using with keyword cannot be used for rule head";
  } else if (e.negated) {
    msg = "negated expressions cannot be used for rule head";
  } else if (e.kind == ExprKind::SomeDecl || e.kind == ExprKind::SomeIn) {
    msg = "'some' declarations cannot be used for rule head";
  } else if (e.kind == ExprKind::Every) {
    msg = "expression cannot be used for rule head";
  } else {
    const Term* t = e.term.get();
    if (t->kind == TermKind::Call && t->items[0]->items.size() == 1 &&
        (t->items[0]->items[0]->name == "eq" || t->items[0]->items[0]->name == "assign"))
      t = t->items[1].get();
    else if (t->kind == TermKind::Call)
      t = nullptr;
    if (!t)
      msg = "rule name conflicts with built-in function";
    else if (t->kind == TermKind::Ref)
      msg = "invalid rule head: " + std::string(src_.substr(t->loc.offset, t->loc.length));
    else
      msg = value_name(*t) + " cannot be used for rule name";
  }
  module_error(loc_at(start), std::move(msg));
  return true;
}

// OPA's checks of v1 rules (CheckRegoV1), run after a successful parse.
void Parser::check_v1_rules() {
  for (auto [rule, flags] : notes_) {
    for (Rule* r = rule; r; r = r->else_rule.get()) {
      const char* what = r->kind == RuleKind::Function ? "function" : "rule";
      if (r->ref.size() == 1 && is_v1_keyword(r->ref[0]->name))
        module_error(r->loc, r->ref[0]->name + " keyword cannot be used for rule name");
      if (r == rule && (flags & kNoValueNoBody))
        module_error(r->loc, std::string(what) + " must have value assignment and/or body declaration");
      if (!r->is_default && !r->has_if && !r->body.empty())
        module_error(r->loc, std::string("`if` keyword is required before ") + what + " body");
      if (r == rule && r->kind == RuleKind::MultiValue && !(flags & kUsedContains))
        module_error(r->loc, "`contains` keyword is required for partial set rules");
    }
  }
}

bool Parser::module(Module& m, Errors& errors) {
  bool first = true;
  while (cur() != Tok::Eof) {
    std::string metadata = take_metadata(tok().offset);
    const Token start = tok();
    keyword_as_ref_head();
    bool ok;
    bool is_package = cur() == Tok::Package;
    switch (cur()) {
      case Tok::Package: ok = parse_package(m, first); break;
      case Tok::Import: ok = parse_import(m); break;
      case Tok::Default:
      case Tok::Ident: ok = parse_rule(m, std::move(metadata)); break;
      default: ok = parse_stray_statement(); break;
    }
    if (!ok) break;
    if (first && !is_package) module_error(loc_at(start), "package expected");
    first = false;
  }
  if (errs_.empty() && first) module_errs_.push_back(RegoError{codes::kParse, "empty module", *file_, 0, 0});
  if (errs_.empty() && v1_) check_v1_rules();
  if (errs_.empty() && annotations_ && !meta_.empty()) attach_annotations(m);
  Errors& out = errs_.empty() ? module_errs_ : errs_;
  errors.insert(errors.end(), out.begin(), out.end());
  return out.empty();
}

// OPA parses the METADATA blocks after the statements (their errors count as
// syntax errors) and attaches them after its module checks.
void Parser::attach_annotations(Module& m) {
  std::vector<AnnotatedStatement> stmts;
  stmts.reserve(m.imports.size() + m.rules.size() + 1);
  if (!m.package.empty()) stmts.push_back({m.package_loc.row, Annotations::Target::Package, nullptr});
  for (const auto& imp : m.imports) stmts.push_back({imp.loc.row, Annotations::Target::Import, nullptr});
  for (const auto& r : m.rules) stmts.push_back({r->loc.row, Annotations::Target::Rule, r.get()});
  std::stable_sort(stmts.begin(), stmts.end(), [](const auto& a, const auto& b) { return a.row < b.row; });
  Errors attach;
  parse_annotations(meta_, stmts, file_, m.annotations, errs_, attach);
  if (module_errs_.empty()) module_errs_ = std::move(attach);
}

bool Parser::query(Body& body, Errors& errors) {
  while (cur() != Tok::Eof) {
    body.emplace_back();
    if (!parse_literal(body.back())) break;
    if (cur() == Tok::Semicolon) {
      next();
      if (cur() == Tok::Eof) illegal();  // OPA expects another expression after `;`
    }
  }
  errors.insert(errors.end(), errs_.begin(), errs_.end());
  return errs_.empty();
}

bool Parser::to_value(const Term& t, Value& out) {
  switch (t.kind) {
    case TermKind::Scalar: out = t.value; return true;
    case TermKind::Array:
    case TermKind::Set: {
      ValueVec items(t.items.size());
      for (size_t i = 0; i < items.size(); ++i)
        if (!to_value(*t.items[i], items[i])) return false;
      out = t.kind == TermKind::Array ? Value::array(std::move(items)) : Value::set(std::move(items));
      return true;
    }
    case TermKind::Object: {
      ObjectItems items(t.pairs.size());
      for (size_t i = 0; i < items.size(); ++i)
        if (!to_value(*t.pairs[i].first, items[i].first) || !to_value(*t.pairs[i].second, items[i].second))
          return false;
      out = Value::object(std::move(items));
      return true;
    }
    default: return fail(t.loc, "expected ground term, found " + value_name(t));
  }
}

bool Parser::value(Value& out, Errors& errors) {
  Expr e;
  bool ok = parse_literal(e) && (cur() == Tok::Eof || illegal());
  if (ok && (e.kind != ExprKind::Term || e.negated || !e.withs.empty()))
    ok = fail(e.loc, "expected ground term, found expression");
  if (ok) ok = to_value(*e.term, out);
  errors.insert(errors.end(), errs_.begin(), errs_.end());
  return ok;
}

RegoError internal_error(const std::string& file, const char* what) {
  return RegoError{codes::kParse, std::string("parser failure: ") + what, file, 0, 0};
}

}  // namespace

bool parse_module(std::string file, std::string text, const ParseOptions& opts, Module& out, Errors& errors) {
  try {
    out = Module{};
    out.file = std::make_shared<const std::string>(std::move(file));
    out.source = std::make_shared<const std::string>(std::move(text));
    out.rego_v1 = !opts.v0;
    return Parser(*out.source, out.file.get(), opts, true, opts.comments ? &out.comments : nullptr).module(out, errors);
  } catch (const std::exception& e) {  // allocation failure on huge input
    errors.push_back(internal_error(out.file ? *out.file : std::string(), e.what()));
    return false;
  }
}

bool parse_query(std::string_view text, const ParseOptions& opts, ParsedQuery& out, Errors& errors, std::string file) {
  try {
    out.file = std::make_shared<const std::string>(std::move(file));
    out.source = std::make_shared<const std::string>(text);
    out.body.clear();
    return Parser(*out.source, out.file.get(), opts, false).query(out.body, errors);
  } catch (const std::exception& e) {
    errors.push_back(internal_error(out.file ? *out.file : std::string(), e.what()));
    return false;
  }
}

bool parse_value(std::string_view text, const ParseOptions& opts, Value& out, Errors& errors) {
  static const std::string kNoFile;
  try {
    return Parser(text, &kNoFile, opts, false).value(out, errors);
  } catch (const std::exception& e) {
    errors.push_back(internal_error(kNoFile, e.what()));
    return false;
  }
}

}  // namespace confidant::rego
