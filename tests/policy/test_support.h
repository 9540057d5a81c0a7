// Helpers shared by the policy tests: fixture paths, file reading, JSON
// literals, and an enforcer bound to the policy it is given.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "policy/digest.h"
#include "policy/policy.h"
#include "rego/value.h"

namespace confidant::policy::testing {

inline std::filesystem::path shared_dir() { return CONFIDANT_SHARED_DIR; }

// src/policy next to this test file.
inline std::filesystem::path source_dir() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "src" / "policy";
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f.good()) throw std::runtime_error("cannot read fixture " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline rego::Value json(std::string_view text) {
  rego::Value v;
  std::string error;
  EXPECT_TRUE(rego::parse_json(text, v, error)) << error << " in " << text;
  return v;
}

// The JSON lines of a trace file.
inline std::vector<rego::Value> read_jsonl(const std::filesystem::path& p) {
  std::vector<rego::Value> out;
  std::ifstream f(p);
  std::string line;
  while (std::getline(f, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(json(line));
  return out;
}

// An enforcer whose HOST_DATA is the digest of `policy`, with it loaded.
inline std::unique_ptr<Enforcer> bound_enforcer(const std::string& policy, EnforcerOptions options = {},
                                                LoadOptions load = {}) {
  auto e = std::make_unique<Enforcer>(std::make_shared<FixedTee>(sha256(policy)), std::move(options));
  std::string error;
  EXPECT_TRUE(e->load(policy, error, load)) << error;
  return e;
}

// `text` with every occurrence of `from` replaced by `to`.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

inline std::vector<std::string> strings_of(const rego::Value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& x : v.array_items()) out.push_back(x.is_string() ? x.str() : rego::to_json(x));
  return out;
}

// Expects a decision with exactly these reasons (any order).
#define EXPECT_DENIED(decision, ...)                                                        \
  do {                                                                                      \
    const ::confidant::policy::Decision& d_ = (decision);                                   \
    EXPECT_FALSE(d_.allowed);                                                               \
    EXPECT_EQ(::confidant::policy::testing::sorted(d_.reasons),                             \
              ::confidant::policy::testing::sorted(std::vector<std::string>{__VA_ARGS__})); \
  } while (0)

#define EXPECT_ALLOWED(decision)                                     \
  do {                                                               \
    const ::confidant::policy::Decision& d_ = (decision);            \
    EXPECT_TRUE(d_.allowed) << ::testing::PrintToString(d_.reasons); \
  } while (0)

}  // namespace confidant::policy::testing
