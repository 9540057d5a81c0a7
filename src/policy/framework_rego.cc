// Embeds framework.rego byte for byte with the assembler's .incbin, so the
// .rego file stays the only copy of the framework. The assembler finds the
// file through the compiler's include path (src/, which gcc and clang pass on
// to it). Build dependency: the build must recompile this file when
// framework.rego changes (CMake: OBJECT_DEPENDS on the .rego file);
// policy_tests checks that the embedded text equals the file.
#include "policy/framework_rego.h"

extern "C" const char confidant_framework_rego_begin[];
extern "C" const char confidant_framework_rego_end[];

__asm__(
    ".pushsection .rodata\n"
    ".global confidant_framework_rego_begin\n"
    ".global confidant_framework_rego_end\n"
    "confidant_framework_rego_begin:\n"
    ".incbin \"policy/framework.rego\"\n"
    "confidant_framework_rego_end:\n"
    ".byte 0\n"
    ".popsection\n");

namespace confidant::policy {

std::string_view framework_rego() {
  return std::string_view(confidant_framework_rego_begin,
                          static_cast<size_t>(confidant_framework_rego_end - confidant_framework_rego_begin));
}

}  // namespace confidant::policy
