#include "rego/rego_c.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "rego/rego.h"

using namespace confidant::rego;

struct confidant_policy {
  std::shared_ptr<const Policy> policy;
};

namespace {
char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}
int fail(char** error, const std::string& msg) {
  if (error) *error = dup(msg);
  return 1;
}
}  // namespace

extern "C" int confidant_policy_compile(const char* const* files, const char* const* texts, int count,
                                        const char* data_json, int v0, confidant_policy** out, char** error) {
  try {
    if (!out) return fail(error, "out is NULL");
    *out = nullptr;
    EngineOptions eo;
    eo.v0 = v0 != 0;
    Engine eng(eo);
    Errors errs;
    for (int i = 0; i < count; ++i) {
      if (!files || !texts || !files[i] || !texts[i]) return fail(error, "module " + std::to_string(i) + " is NULL");
      if (!eng.add_module(files[i], texts[i], errs)) return fail(error, to_string(errs));
    }
    if (data_json) {
      Value data;
      std::string err;
      if (!parse_json(data_json, data, err)) return fail(error, "data: " + err);
      if (!eng.add_data(data, errs)) return fail(error, to_string(errs));
    }
    auto p = eng.compile(errs);
    if (!p) return fail(error, to_string(errs));
    *out = new confidant_policy{p};
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(error, "internal error");
  }
}

extern "C" int confidant_policy_eval(const confidant_policy* policy, const char* query, const char* input_json,
                                     char** result, char** prints, char** error) {
  try {
    if (!policy || !query || !result) return fail(error, "policy, query and result must not be NULL");
    *result = nullptr;
    Errors errs;
    auto q = Query::prepare(policy->policy, query, errs);
    if (!q) return fail(error, to_string(errs));
    EvalOptions opts;
    if (input_json) {
      std::string err;
      if (!parse_json(input_json, opts.input, err)) return fail(error, "input: " + err);
    }
    std::string printed;
    if (prints) opts.print = [&](const std::string& line) { printed += line + "\n"; };
    Value v;
    if (!q->eval_value(opts, v, errs)) return fail(error, to_string(errs));
    *result = dup(v.is_defined() ? to_json(v) : "");
    if (prints) *prints = dup(printed);
    return 0;
  } catch (const std::exception& e) {
    return fail(error, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(error, "internal error");
  }
}

extern "C" void confidant_policy_free(confidant_policy* policy) { delete policy; }
extern "C" void confidant_free(char* s) { std::free(s); }
