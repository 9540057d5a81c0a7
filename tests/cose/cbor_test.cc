// The strict CBOR decoder and the encoder.
#include "cose/cbor.h"

#include <gtest/gtest.h>

#include "cose/crypto.h"

namespace confidant::cose {
namespace {

std::string unhex(std::string_view h) {
  std::string out;
  EXPECT_TRUE(from_hex(h, out)) << h;
  return out;
}

CborValue decode_ok(std::string_view hex, const CborLimits& limits = {}) {
  CborValue v;
  std::string error;
  EXPECT_TRUE(cbor_decode(unhex(hex), v, error, limits)) << hex << ": " << error;
  return v;
}

std::string decode_error(std::string_view hex, const CborLimits& limits = {}) {
  CborValue v;
  std::string error;
  EXPECT_FALSE(cbor_decode(unhex(hex), v, error, limits)) << hex << " decoded";
  return error;
}

TEST(Cbor, Integers) {
  EXPECT_EQ(decode_ok("00").as_int64(), 0);
  EXPECT_EQ(decode_ok("17").as_int64(), 23);
  EXPECT_EQ(decode_ok("1818").as_int64(), 24);
  EXPECT_EQ(decode_ok("1903e8").as_int64(), 1000);
  EXPECT_EQ(decode_ok("3863").as_int64(), -100);
  EXPECT_EQ(decode_ok("3bffffffffffffffff").type(), CborType::kNegative);
  EXPECT_FALSE(decode_ok("3bffffffffffffffff").as_int64());  // -2^64 does not fit
  EXPECT_EQ(decode_ok("1bffffffffffffffff").arg(), UINT64_MAX);
  EXPECT_EQ(decode_ok("3b7fffffffffffffff").as_int64(), INT64_MIN);
}

TEST(Cbor, StringsArraysMapsTags) {
  EXPECT_EQ(decode_ok("4401020304").str(), unhex("01020304"));
  EXPECT_EQ(decode_ok("6449455446").str(), "IETF");
  CborValue a = decode_ok("83010203");
  ASSERT_TRUE(a.is_array());
  EXPECT_EQ(a.items().size(), 3u);
  CborValue m = decode_ok("a201020304");
  ASSERT_TRUE(m.is_map());
  EXPECT_EQ(m.find(1)->as_int64(), 2);
  EXPECT_EQ(m.find(3)->as_int64(), 4);
  EXPECT_EQ(m.find(5), nullptr);
  CborValue t = decode_ok("c11a514b67b0");
  ASSERT_TRUE(t.is_tag());
  EXPECT_EQ(t.arg(), 1u);
  EXPECT_EQ(t.content().as_int64(), 1363896240);
  EXPECT_TRUE(decode_ok("f6").is_null());
  EXPECT_TRUE(decode_ok("f5").as_bool());
  EXPECT_EQ(decode_ok("f93c00").as_double(), 1.0);
  EXPECT_EQ(decode_ok("fa47c35000").as_double(), 100000.0);
  EXPECT_EQ(decode_ok("fb3ff199999999999a").as_double(), 1.1);
}

TEST(Cbor, RejectsTruncationAndTrailingBytes) {
  EXPECT_EQ(decode_error(""), "CBOR: offset 0: unexpected end of input");
  EXPECT_EQ(decode_error("1903"), "CBOR: offset 0: unexpected end of input in item head");
  EXPECT_EQ(decode_error("45010203"), "CBOR: offset 0: string length 5 exceeds input");
  EXPECT_EQ(decode_error("830102"), "CBOR: offset 0: array length 3 exceeds input");
  EXPECT_EQ(decode_error("811903"), "CBOR: offset 1: unexpected end of input in item head");
  EXPECT_EQ(decode_error("0000"), "CBOR: offset 1: 1 trailing bytes after the item");
  EXPECT_EQ(decode_error("9bffffffffffffffff"), "CBOR: offset 0: array length 18446744073709551615 exceeds input");
  EXPECT_EQ(decode_error("bbffffffffffffffff"), "CBOR: offset 0: map length 18446744073709551615 exceeds input");
  EXPECT_EQ(decode_error("1c"), "CBOR: offset 0: reserved additional information value 28");
  EXPECT_EQ(decode_error("ff"), "CBOR: offset 0: unexpected break");
}

TEST(Cbor, RejectsNonShortestForms) {
  EXPECT_EQ(decode_error("1817"), "CBOR: offset 0: integer or length not in shortest form");
  EXPECT_EQ(decode_error("190017"), "CBOR: offset 0: integer or length not in shortest form");
  EXPECT_EQ(decode_error("1a0000ffff"), "CBOR: offset 0: integer or length not in shortest form");
  EXPECT_EQ(decode_error("1b00000000ffffffff"), "CBOR: offset 0: integer or length not in shortest form");
  EXPECT_EQ(decode_error("820058020102"), "CBOR: offset 2: integer or length not in shortest form");
  EXPECT_EQ(decode_error("f800"), "CBOR: offset 0: simple value 0 in two-byte form");
  CborLimits lax;
  lax.require_shortest = false;
  EXPECT_EQ(decode_ok("1b0000000000000017", lax).as_int64(), 23);
}

TEST(Cbor, RejectsIndefiniteUnlessAllowed) {
  EXPECT_EQ(decode_error("9f0102ff"), "CBOR: offset 0: indefinite length not allowed");
  EXPECT_EQ(decode_error("5f42010243030405ff"), "CBOR: offset 0: indefinite length not allowed");
  CborLimits lax;
  lax.allow_indefinite = true;
  EXPECT_EQ(decode_ok("9f0102ff", lax).items().size(), 2u);
  EXPECT_EQ(decode_ok("5f42010243030405ff", lax).str(), unhex("0102030405"));
  EXPECT_EQ(decode_ok("bf6346756ef563416d7421ff", lax).entries().size(), 2u);
  // Chunks must be definite strings of the same major type.
  EXPECT_EQ(decode_error("5f6161ff", lax), "CBOR: offset 1: indefinite string chunk of the wrong type");
  EXPECT_EQ(decode_error("9f01", lax), "CBOR: offset 2: unexpected end of input in indefinite array");
  EXPECT_EQ(decode_error("1f", lax), "CBOR: offset 0: indefinite length not allowed for this type");
  EXPECT_EQ(decode_error("bf01010102ff", lax), "CBOR: offset 3: duplicate map key");
}

TEST(Cbor, RejectsDuplicateKeysAndBadUtf8) {
  EXPECT_EQ(decode_error("a201020103"), "CBOR: offset 3: duplicate map key");
  EXPECT_EQ(decode_error("a2616101616102"), "CBOR: offset 4: duplicate map key");
  // The same integer and text are different keys.
  EXPECT_EQ(decode_ok("a2016161616101").entries().size(), 2u);
  EXPECT_EQ(decode_error("62c328"), "CBOR: offset 0: text string is not valid UTF-8");
  EXPECT_EQ(decode_error("62c0af"), "CBOR: offset 0: text string is not valid UTF-8");    // overlong
  EXPECT_EQ(decode_error("63eda080"), "CBOR: offset 0: text string is not valid UTF-8");  // surrogate
  EXPECT_EQ(decode_ok("63e282ac").str(), "\xe2\x82\xac");
}

TEST(Cbor, Limits) {
  std::string deep(30, '\x81');
  deep.push_back('\x00');
  CborValue v;
  std::string error;
  EXPECT_FALSE(cbor_decode(deep, v, error));
  EXPECT_EQ(error, "CBOR: offset 25: nesting deeper than 24");
  CborLimits small;
  small.max_items = 3;
  EXPECT_EQ(decode_error("8401020304", small), "CBOR: offset 0: more than 3 items");
  EXPECT_EQ(decode_error("82820102820304", small), "CBOR: offset 1: more than 3 items");
  small.max_input = 2;
  EXPECT_EQ(decode_error("83010203", small), "CBOR: input of 4 bytes exceeds the limit of 2");
}

TEST(Cbor, EncodeRoundTrip) {
  for (const char* hex : {"00", "17", "1818", "1903e8", "3863", "1bffffffffffffffff", "3bffffffffffffffff",
                          "4401020304", "6449455446", "83010203", "a201020304", "c11a514b67b0", "f6", "f5",
                          "a3016161820203c102a1616100f5", "f820", "fb3ff199999999999a"}) {
    CborValue v = decode_ok(hex);
    EXPECT_EQ(to_hex(cbor_encode(v)), std::string(hex)) << hex;
  }
  EXPECT_EQ(to_hex(cbor_encode(CborValue::integer(-1))), "20");
  EXPECT_EQ(to_hex(cbor_encode(CborValue::integer(INT64_MIN))), "3b7fffffffffffffff");
  EXPECT_EQ(cbor_diagnostic(decode_ok("a201820203634b6579c11a514b67b0")), "{1: [2, 3], \"Key\": 1(1363896240)}");
}

}  // namespace
}  // namespace confidant::cose
