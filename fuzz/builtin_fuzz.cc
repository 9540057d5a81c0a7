// libFuzzer target: every builtin with arbitrary arguments.
//
// Input: one byte picks the builtin (by index in the sorted list of names); the rest is a
// JSON array of arguments, or, when it is not one, NUL-separated strings used as string
// arguments (missing arguments are filled from them or with small values of every kind).
// A builtin may return a value, be undefined, or throw BuiltinError; anything else (a crash,
// another exception, a sanitizer report, a runaway allocation) is a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rego/builtins/builtins.h"
#include "rego/value.h"

using namespace confidant::rego;

namespace {

const std::vector<const BuiltinInfo*>& builtins() {
  static const std::vector<const BuiltinInfo*> list = [] {
    std::vector<const BuiltinInfo*> out;
    for (const auto& [name, info] : BuiltinRegistry::global().all()) {
      // Network lookups would make runs slow and non-reproducible.
      if (name == "net.lookup_ip_addr" || name == "http.send") continue;
      out.push_back(&info);
    }
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return out;
  }();
  return list;
}

// Values of every kind for arguments the input did not give.
Value filler(size_t i) {
  switch (i % 7) {
    case 0: return Value::string("a");
    case 1: return Value::integer(3);
    case 2: return Value::array({Value::integer(1), Value::string("x")});
    case 3: return Value::empty_object();
    case 4: return Value::set({Value::string("s")});
    case 5: return Value::null();
    default: return Value::boolean(true);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const auto& list = builtins();
  const BuiltinInfo* b = list[data[0] % list.size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<Value> args;
  Value parsed;
  std::string err;
  if (parse_json(rest, parsed, err) && parsed.is_array()) {
    args = parsed.array_items();
  } else {
    size_t start = 0;
    while (start <= rest.size() && args.size() < 8) {
      size_t end = rest.find('\0', start);
      if (end == std::string_view::npos) end = rest.size();
      args.push_back(Value::string(rest.substr(start, end - start)));
      start = end + 1;
    }
  }
  args.resize(static_cast<size_t>(b->arity) <= args.size() ? static_cast<size_t>(b->arity) : args.size());
  for (size_t i = args.size(); i < static_cast<size_t>(b->arity); ++i) args.push_back(filler(i + data[0]));
  BuiltinContext ctx;
  ctx.now_ns = 1700000000000000000;
  try {
    Value out = b->fn(ctx, args);
    if (out.is_defined()) (void)to_json(out);
  } catch (const BuiltinError&) {
    // an argument error: the expected outcome for most inputs
  }
  return 0;
}
