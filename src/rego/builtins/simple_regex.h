// A fast path for the regular expressions policies build per request.
//
// Kata policies substitute request values (bundle ids, sandbox names) into patterns such as
// `^/run/kata-containers/shared/containers/<64 hex>-[a-z0-9]{16}-hosts$`, so each request
// brings patterns no cache has seen; compiling one with RE2 costs ~100k instructions, more
// than the rest of its regex.match. Patterns made only of ASCII literals, escaped
// punctuation and ASCII character classes with an optional exact count `{n}`, optionally
// anchored with a leading `^` and a trailing `$`, match fixed-width text: they are matched
// here directly, with exactly Go's (and RE2's) result. Anything else is left to RE2.
#pragma once

#include <optional>
#include <string_view>

namespace confidant::rego {

// The result of matching `pattern` against `text` anywhere (as regex.match does), or
// nullopt when the pattern is outside the simple subset.
std::optional<bool> simple_regex_match(std::string_view pattern, std::string_view text);

}  // namespace confidant::rego
