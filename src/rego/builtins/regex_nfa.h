// A linear-time matcher for the regular expressions Kata policies pass to regex.match.
//
// Policies build patterns per request (bundle ids, service-name and IPv4 fragments substituted
// into templates), so most calls bring a pattern no cache has seen, and constructing an RE2 for
// it costs far more than matching. This matcher compiles a subset of RE2/Go syntax to a small
// Thompson NFA in a few thousand instructions and simulates it without backtracking, giving
// exactly Go's boolean answer for every pattern it accepts. Anything outside the subset (flags,
// Unicode classes, doubtful repetitions, syntax errors...) is refused so that the caller asks RE2,
// which also produces the error message for an invalid pattern.
#pragma once

#include <optional>
#include <string_view>

namespace confidant::rego {

// Whether `pattern` (RE2/Go syntax) matches somewhere in `text`, or nullopt when the pattern (or,
// for some patterns, the text) is outside what this matcher handles. Texts are read as Go reads
// them: UTF-8, each invalid byte being one U+FFFD. Never throws.
std::optional<bool> nfa_regex_match(std::string_view pattern, std::string_view text);

// Tests only, this thread: how many matches of a pattern run before its DFA is built (default 32:
// building states only pays off for a pattern in steady use). 1 builds it on the second match.
void nfa_regex_set_dfa_after_runs_for_testing(unsigned runs);

}  // namespace confidant::rego
