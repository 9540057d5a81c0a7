// libFuzzer target: arbitrary bytes as a Rego module (v1 and v0), then compile.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rego/rego.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool v0 : {false, true}) {
    confidant::rego::Engine eng(confidant::rego::EngineOptions{v0});
    confidant::rego::Errors errs;
    if (eng.add_module("fuzz.rego", text, errs)) (void)eng.compile(errs);
  }
  return 0;
}
