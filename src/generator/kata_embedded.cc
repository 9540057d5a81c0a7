// Embeds kata_rules.rego and kata_settings.json byte for byte with the assembler's .incbin, so
// the files stay the only copies of the Kata rules and default settings (as framework_rego.cc
// does for the ACI framework). The assembler finds the files through the compiler's include path
// (src/). Build dependency: src/generator/CMakeLists.txt makes this file depend on both (CMake
// OBJECT_DEPENDS); the Kata generator tests check the embedded text equals the files.
#include "generator/generator.h"

#define CONFIDANT_KATA_EMBED(sym, file) \
  __asm__(                              \
      ".pushsection .rodata\n"          \
      ".global " #sym                   \
      "_begin\n"                        \
      ".global " #sym "_end\n" #sym     \
      "_begin:\n"                       \
      ".incbin \"" file "\"\n" #sym     \
      "_end:\n"                         \
      ".byte 0\n"                       \
      ".popsection\n");                 \
  extern "C" const char sym##_begin[];  \
  extern "C" const char sym##_end[];

CONFIDANT_KATA_EMBED(confidant_kata_rules, "generator/kata_rules.rego")
CONFIDANT_KATA_EMBED(confidant_kata_settings, "generator/kata_settings.json")

namespace confidant::generator {

std::string_view kata_rules() {
  return std::string_view(confidant_kata_rules_begin,
                          static_cast<size_t>(confidant_kata_rules_end - confidant_kata_rules_begin));
}

std::string_view kata_default_settings() {
  return std::string_view(confidant_kata_settings_begin,
                          static_cast<size_t>(confidant_kata_settings_end - confidant_kata_settings_begin));
}

}  // namespace confidant::generator
