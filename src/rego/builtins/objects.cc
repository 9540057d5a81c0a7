// Object builtins: object.get, object.keys, object.remove, object.filter,
// object.union, object.union_n, object.subset.
//
// Objects keep their items sorted by key and sets their members sorted, both
// in OPA's order, so key filtering and merging are linear merges that produce
// sorted results directly. Results that equal an operand return that operand.
#include <algorithm>
#include <string>

#include "rego/builtins/builtins.h"

namespace confidant::rego {
namespace {

// object.get(obj, key, default); an array key is a path into nested objects,
// arrays (integer indices) and sets (members), as OPA's Value.Find walks it.
Value builtin_object_get(BuiltinContext&, std::span<const Value> args) {
  const Value& obj = arg_object("object.get", args, 0);
  const Value& key = args[1];
  if (!key.is_array()) {
    const Value* v = obj.get(key);
    return v ? *v : args[2];
  }
  const Value* cur = &obj;
  for (const Value& k : key.array_items()) {
    switch (cur->kind()) {
      case Kind::Object: cur = cur->get(k); break;
      case Kind::Array: {
        int64_t i;
        cur = k.to_int64(i) && i >= 0 && static_cast<size_t>(i) < cur->size()
                  ? &cur->array_items()[static_cast<size_t>(i)]
                  : nullptr;
        break;
      }
      case Kind::Set: cur = cur->has(k) ? &k : nullptr; break;
      default: cur = nullptr;
    }
    if (!cur) return args[2];
  }
  return *cur;
}

Value builtin_object_keys(BuiltinContext&, std::span<const Value> args) {
  const Value& obj = arg_object("object.keys", args, 0);
  ValueVec keys;
  keys.reserve(obj.size());
  for (const auto& kv : obj.object_items()) keys.push_back(kv.first);
  return Value::set_sorted(std::move(keys));  // object keys are already in set order
}

// The keys named by object.remove/object.filter's second operand (an array, set
// or object), sorted and unique; borrowed from a set operand.
class KeyList {
 public:
  KeyList(std::string_view name, const Value& v) {
    switch (v.kind()) {
      case Kind::Set: items_ = &v.set_items(); return;
      case Kind::Object:
        for (const auto& kv : v.object_items()) owned_.push_back(kv.first);
        return;
      case Kind::Array:
        owned_ = v.array_items();
        std::sort(owned_.begin(), owned_.end(), [](const Value& a, const Value& b) { return compare(a, b) < 0; });
        owned_.erase(std::unique(owned_.begin(), owned_.end()), owned_.end());
        return;
      default: type_error(name, 2, "one of {object, set, array}", v);
    }
  }
  const ValueVec& items() const { return items_ ? *items_ : owned_; }

 private:
  ValueVec owned_;
  const ValueVec* items_ = nullptr;
};

// Items of obj whose key is (keep == true) or is not (keep == false) listed.
Value select_keys(const Value& obj, const KeyList& keys, bool keep) {
  const ObjectItems& items = obj.object_items();
  const ValueVec& ks = keys.items();
  ObjectItems out;
  size_t j = 0;
  for (const auto& kv : items) {
    int c = 1;
    while (j < ks.size() && (c = compare(ks[j], kv.first)) < 0) ++j;
    if ((j < ks.size() && c == 0) == keep) out.push_back(kv);
  }
  if (out.size() == items.size()) return obj;
  return Value::object_sorted(std::move(out));
}

Value builtin_object_remove(BuiltinContext&, std::span<const Value> args) {
  const Value& obj = arg_object("object.remove", args, 0);
  return select_keys(obj, KeyList("object.remove", args[1]), false);
}

Value builtin_object_filter(BuiltinContext&, std::span<const Value> args) {
  const Value& obj = arg_object("object.filter", args, 0);
  return select_keys(obj, KeyList("object.filter", args[1]), true);
}

// b's items win, except that two objects under the same key merge recursively.
Value merge_objects(const Value& a, const Value& b) {
  const ObjectItems& xs = a.object_items();
  const ObjectItems& ys = b.object_items();
  if (ys.empty() || a.node() == b.node()) return a;
  if (xs.empty()) return b;
  ObjectItems out;
  out.reserve(xs.size() + ys.size());
  size_t i = 0, j = 0;
  while (i < xs.size() || j < ys.size()) {
    const int c = i == xs.size() ? 1 : j == ys.size() ? -1 : compare(xs[i].first, ys[j].first);
    if (c < 0) {
      out.push_back(xs[i++]);
    } else if (c > 0) {
      out.push_back(ys[j++]);
    } else {
      const Value& x = xs[i++].second;
      const auto& [key, y] = ys[j++];
      out.emplace_back(key, x.is_object() && y.is_object() ? merge_objects(x, y) : y);
    }
  }
  return Value::object_sorted(std::move(out));
}

Value builtin_object_union(BuiltinContext&, std::span<const Value> args) {
  const Value& a = arg_object("object.union", args, 0);
  const Value& b = arg_object("object.union", args, 1);
  if (compare(a, b) == 0) return a;
  return merge_objects(a, b);
}

// Left to right, later objects win with recursive merging: the same result as
// OPA's back-to-front merge with "frozen" keys.
Value builtin_object_union_n(BuiltinContext&, std::span<const Value> args) {
  const Value& arr = arg_array("object.union_n", args, 0);
  const ValueVec& items = arr.array_items();
  for (size_t i = items.size(); i-- > 0;) {  // OPA walks back to front: it reports the last bad element
    if (!items[i].is_object()) {
      throw BuiltinError("eval_type_error", std::string("object.union_n: operand 1 must be array of objects but got "
                                                        "array containing ") +
                                                kind_name(items[i].kind()));
    }
  }
  Value out = Value::empty_object();
  for (const Value& o : items) out = merge_objects(out, o);
  return out;
}

// --- object.subset ----------------------------------------------------------

bool set_subset(const Value& super, const Value& sub) {
  const ValueVec& xs = super.set_items();
  size_t i = 0;
  for (const Value& y : sub.set_items()) {
    int c = -1;
    while (i < xs.size() && (c = compare(xs[i], y)) < 0) ++i;
    if (c != 0) return false;
  }
  return true;
}

// The whole sub array appears contiguously in super.
bool array_subset(const Value& super, const Value& sub) {
  const ValueVec& xs = super.array_items();
  const ValueVec& ys = sub.array_items();
  if (ys.empty()) return true;
  if (ys.size() > xs.size()) return false;
  return std::search(xs.begin(), xs.end(), ys.begin(), ys.end(),
                     [](const Value& a, const Value& b) { return compare(a, b) == 0; }) != xs.end();
}

// OPA counts every array element found in the set, duplicates included, and
// only checks the count after visiting an element: so [1, 1] covers {1, 2},
// and an empty array covers nothing (not even the empty set). Reproduced as is.
bool array_set_subset(const Value& super, const Value& sub) {
  int64_t unmatched = static_cast<int64_t>(sub.size());
  for (const Value& x : super.array_items()) {
    if (sub.has(x)) --unmatched;
    if (unmatched == 0) return true;
  }
  return false;
}

bool object_subset(const Value& super, const Value& sub) {
  for (const auto& [key, y] : sub.object_items()) {
    const Value* x = super.get(key);
    if (!x) return false;
    if (compare(*x, y) == 0) continue;
    if (x->is_object() && y.is_object()) {
      if (!object_subset(*x, y)) return false;
    } else if (x->is_set() && y.is_set()) {
      if (!set_subset(*x, y)) return false;
    } else if (x->is_array() && y.is_array()) {
      if (!array_subset(*x, y)) return false;
    } else {
      return false;
    }
  }
  return true;
}

Value builtin_object_subset(BuiltinContext&, std::span<const Value> args) {
  const Value &super = args[0], &sub = args[1];
  if (super.is_object() && sub.is_object()) return Value::boolean(object_subset(super, sub));
  if (super.is_set() && sub.is_set()) return Value::boolean(set_subset(super, sub));
  if (super.is_array() && sub.is_array()) return Value::boolean(array_subset(super, sub));
  if (super.is_array() && sub.is_set()) return Value::boolean(array_set_subset(super, sub));
  throw BuiltinError("eval_type_error",
                     "object.subset: both arguments object.subset must be of the same type or array and set");
}

}  // namespace

void register_objects(BuiltinRegistry& r) {
  r.add("object.get", 3, builtin_object_get);
  r.add("object.keys", 1, builtin_object_keys);
  r.add("object.remove", 2, builtin_object_remove);
  r.add("object.filter", 2, builtin_object_filter);
  r.add("object.union", 2, builtin_object_union);
  r.add("object.union_n", 1, builtin_object_union_n);
  r.add("object.subset", 2, builtin_object_subset);
}

}  // namespace confidant::rego
