#include "policy/metadata.h"

#include <algorithm>

namespace confidant::policy {

using rego::Value;

namespace {

bool key_less(const std::pair<Value, Value>& item, const Value& key) { return rego::compare(item.first, key) < 0; }

}  // namespace

Value with_member(const Value& object, const Value& key, const Value& value) {
  static const rego::ObjectItems kNone;
  const rego::ObjectItems& items = object.is_object() ? object.object_items() : kNone;
  auto pos = std::lower_bound(items.begin(), items.end(), key, key_less);
  bool present = pos != items.end() && pos->first == key;
  rego::ObjectItems out;
  out.reserve(items.size() + 1);
  out.insert(out.end(), items.begin(), pos);
  if (value.is_defined()) out.emplace_back(key, value);
  out.insert(out.end(), present ? pos + 1 : pos, items.end());
  return Value::object_sorted(std::move(out));
}

namespace {

const Value* field(const Value& op, const char* name) { return op.get(name); }

bool string_field(const Value& op, const char* name, std::string& out) {
  const Value* v = field(op, name);
  if (!v || !v->is_string()) return false;
  out = v->str();
  return true;
}

bool apply_map_op(const std::string& name, const std::string& action, const Value& op, Value& collection,
                  std::string& error) {
  const Value* key = field(op, "key");
  if (!key || !key->is_string()) {
    error = "metadata operation on map " + name + " has no string key";
    return false;
  }
  if (!collection.is_object()) {
    error = "metadata " + name + " is not a map";
    return false;
  }
  if (action == "remove") {
    if (collection.get(*key)) collection = with_member(collection, *key, Value());
    return true;
  }
  const Value* value = field(op, "value");
  if (!value || value->is_undefined()) {
    error = "metadata operation on " + name + "[" + key->str() + "] has no value";
    return false;
  }
  if (action == "add") {
    if (collection.get(*key)) {
      error = "cannot add metadata value, key " + name + "[" + key->str() + "] already exists";
      return false;
    }
  } else if (action != "update") {
    error = "unrecognized metadata action: " + action;
    return false;
  }
  collection = with_member(collection, *key, *value);
  return true;
}

bool apply_set_op(const std::string& name, const std::string& action, const Value& op, Value& collection,
                  std::string& error) {
  const Value* value = field(op, "value");
  if (!value || value->is_undefined()) {
    error = "metadata operation on set " + name + " has no value";
    return false;
  }
  if (!collection.is_array()) {
    error = "metadata " + name + " is not a set";
    return false;
  }
  const rego::ValueVec& items = collection.array_items();
  bool present = std::find(items.begin(), items.end(), *value) != items.end();
  if (action == "add") {
    if (present) return true;
    rego::ValueVec out = items;
    out.push_back(*value);
    collection = Value::array(std::move(out));
    return true;
  }
  if (action == "remove") {
    if (!present) return true;
    rego::ValueVec out;
    for (const auto& v : items)
      if (v != *value) out.push_back(v);
    collection = Value::array(std::move(out));
    return true;
  }
  error = "unrecognized metadata action for set " + name + ": " + action;
  return false;
}

}  // namespace

Value initial_metadata() {
  return Value::object(
      {{Value::string("operatingsystem"), Value::object({{Value::string("ostype"), Value::string("linux")}})}});
}

bool apply_metadata_ops(const Value& ops, Value& metadata, std::string& error) {
  if (!ops.is_array()) {
    error = "metadata must be an array of operations";
    return false;
  }
  Value doc = metadata.is_object() ? metadata : Value::empty_object();
  for (const Value& op : ops.array_items()) {
    std::string name, action, type = "map";
    if (!op.is_object() || !string_field(op, "name", name) || !string_field(op, "action", action)) {
      error = "metadata operation needs string fields name and action: " + rego::to_json(op);
      return false;
    }
    if (const Value* t = field(op, "type")) {
      if (!t->is_string() || (t->str() != "map" && t->str() != "set")) {
        error = "metadata " + name + ": unknown collection type " + rego::to_json(*t);
        return false;
      }
      type = t->str();
    }
    Value key = Value::string(name);
    const Value* existing = doc.get(key);
    Value collection = existing ? *existing : (type == "set" ? Value::empty_array() : Value::empty_object());
    bool ok = type == "set" ? apply_set_op(name, action, op, collection, error)
                            : apply_map_op(name, action, op, collection, error);
    if (!ok) return false;
    doc = with_member(doc, key, collection);
  }
  metadata = doc;
  return true;
}

}  // namespace confidant::policy
