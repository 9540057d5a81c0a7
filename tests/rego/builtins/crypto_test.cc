// crypto.* digests and HMACs, called directly. Ports the conformance cases in
// conformance/opa/v1/cryptohmac*; other expected values come from Python's
// hashlib/hmac.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rego/builtins/builtins.h"

using namespace confidant::rego;

namespace {

struct DigestCase {
  std::string message;
  const char *md5, *sha1, *sha256;
};
struct HmacCase {
  std::string message;
  std::string key;
  const char *md5, *sha1, *sha256, *sha512;
};

// Inputs: empty, ASCII, multi-byte UTF-8 (from the conformance cases), an
// embedded NUL, and a key longer than the hash block.
const std::string kUnicode = "\xc3\xa5\xc3\xa4\xc3\xb6\xc3\xa7\xc3\x9f\xf0\x9f\xa5\xb2\xe2\x99\x99\xce\xa9";
const std::string kSecret = "\xe7\xa7\x98\xe5\xaf\x86\xe3\x81\xae";
const std::string kNul("a\0b", 3);
const std::string kLongKey(200, 'k');

// clang-format off
const DigestCase kDigests[] = {
    {std::string(), "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {std::string("foo"), "acbd18db4cc2f85cedef654fccc4a4d8", "0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33",
     "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},
    {kUnicode, "773728a952c877ed0cc9305d50dece17", "e39f3cab4d4257e23ffc355d8b5b72f4a9a7fd03",
     "5a529e5c7987895c4105059ad6a2a3cf5fe50e5bb5c05bb869d63644a0c382fa"},
    {kNul, "70350f6027bce3713f6b76473084309b", "4a3dec2d1f8245280855c42db0ee4239f917fdb8",
     "59b271ae1bbcb1d31d41929817f4b16fb439eb4f31520b5ad1d5ce98920a7138"},
};
const HmacCase kHmacs[] = {
    {std::string(), std::string(),
     "74e6f7298a9c2d168935f58c001bad88", "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d",
     "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
     "b936cee86c9f87aa5d3c6f2e84cb5a4239a5fe50480a6ec66b70ab5b1f4ac673"
     "0c6c515421b327ec1d69402e53dfb49ad7381eb067b338fd7b0cb22247225d47"},
    {std::string(), std::string("bar"),
     "e14d46e1523d95e93eadcabd2bfbf075", "78f444a9b7282e9e1ae0f520044e8d9b52243ec9",
     "fdd896188b420069e37d276f977db483eef7be1e5eea050a7b3cf4e9708f143d",
     "90dc0e675efbf3e362c922d6074b725346106073971c9e6a1089aec4d79765de"
     "121985a1d8aa27c6129061adedb2583d07555fcb7e28ba7b29732c9f6dd2edd2"},
    {std::string(), kSecret,
     "0973fcb11236d8531106ef0b1a00b4c8", "b521fb545fa08c4bdea920c0730c34b6f3deee63",
     "da67c3656ea33a37e8e68ed411d41ce25695efa6489fb94b416d7e839baee172",
     "e24891d4d8c3630381f3c3f9cd8c4852978f548487c588baf367841298c69f86"
     "1cba4bdebf21b638baa255c6d6706d60182e3689c07c27467588b7356b3bbb9c"},
    {std::string(), kLongKey,
     "93578822342dc32c0d59ce09c36b4dd1", "28b570577d1d66cd83c799979a6f134e5a8811c3",
     "d6b741e89f8f89acfa4cfc9ed966e0770138ea3e3c1c2ce233bc818a7c29dd8a",
     "25817dd748c9446b2b0201af68cec787d1732c0f570ef6803bf33a577080b794"
     "f706754f99214ec4606384f9c72131ea2f62d01d07eb2e0e7d7e4a75ab6e3f1c"},
    {std::string("foo"), std::string(),
     "4acb10ca3965a14a080297db0921950c", "a3cc770fc033e2cb419d42b64e0081a3bd3be30e",
     "0c0d98f7e3d9d45e72e8877bc1b104327efb9c07b18f2ffeced76d81307f1fff",
     "7f3fd3fd7172d3d951a7c71ebe61bf59aeb486a4a9ce635cdc7aec32cf4a25b4"
     "e1324b92c0ee4d79d1248c70ca1f30a36c73ee2a61cba303b5a907d28b38b01f"},
    {std::string("foo"), std::string("bar"),
     "31b6db9e5eb4addb42f1a6ca07367adc", "85d155c55ed286a300bd1cf124de08d87e914f3a",
     "147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851",
     "24257d7210582a65c731ec55159c8184cc24c02489453e58587f71f44c23a2d6"
     "1b4b72154a89d17b2d49448a8452ea066f4fc56a2bcead45c088572ffccdb3d8"},
    {std::string("foo"), kSecret,
     "c6ea1a0b02c77c94f4f6d66b2b92b6eb", "052feb2df1104d284f4fe4c5a465799af960602d",
     "037cebc7eaaedfbecf427ac7b4632b1ef9a121f5bc6b9c5810c8a5b1522f3bc8",
     "50b1aab92ab55373eb0c608102c65bb8f9493853617b9de0efd0f545a1c71b28"
     "7a5dfb8521cc6ccbcae1d6902bb10b5e634d6515233d8ede1c2921b4cca4c8e2"},
    {std::string("foo"), kLongKey,
     "07c92d80eb5fdd03c6cd3645de293f23", "56331037f6427bfd0d561238ab2d08fdeb161b11",
     "97b4335c03b66b1221684426f0363e9eb0e2720efbc1f5bee17a5b68dd91e103",
     "1a45f953211fe2a942d7fea925d6bd5849b6b43d24f0ceea3564e1e5375afe50"
     "f3f43c885bed04ecb1d918f305a2d847844b1adf937c8836fef78a4c61541958"},
    {kUnicode, std::string(),
     "3452cedf4eaeec2fb148e879c3466859", "5dd68ff9c5ba486b75338726238494d5986b886c",
     "c945fd04eddfa54aa78652fdb63b01318fadba679d1fa319dca93c4a3a8ac51b",
     "6277473574a58a4b3a8df42540c4315b36748653668aeefbda7ee2aea9f32b2e"
     "7143a7d1fd213302d013e6fee93a11e86ee35083d6e6b4b04d5562334d6a1048"},
    {kUnicode, std::string("bar"),
     "3797e790dead97b1de4c2f50f6b15b27", "d227ddec3f91352326431f6ef9929099bc88bdaf",
     "37354bd02f891914db8bf4de334008514536c0970ca5b2d736d13d25330dd1a3",
     "0a90241c39923bf1f3a938d89506ad7760434bb1c53d988137f2ecb858496f42"
     "f4068277e5b48008484f97262feaa08a5e8fd7ed0339c1f8ebb2efb1e6525a1e"},
    {kUnicode, kSecret,
     "20a8743c2157ac60b7e8b79c83651b8d", "81759c39013935fcf0de833d44c8018d7c1455dd",
     "eb90daeb76d4b2571fbdaf94bbb240809faa8fed93ec0c260dd38c3fdf8d963a",
     "192f5afded233d6e21427aa26ed267ac118cfa2971013d91cbed530c0b208d78"
     "138b83dfe1d6cc3553d7bd518f22a481402c723028e1279d1ffbe8f11ea6b125"},
    {kUnicode, kLongKey,
     "58a628ec073011c8136f105194a6a77d", "29ba51c2b5e92be2d9183ebbd851e9c6b1275692",
     "ae60b552107b9f9e2ec87a0e161aa4623a714aba83bfeec440836ab6d0aadaaa",
     "8a4c6f14465def82d2838a4c628ac7f201e826bc8daa35c6d2dba227163a8962"
     "69b3cd989f1a2bdc5bbe190ca2ef0880c18e65fa5a66ab29bdf8fd4d27779e86"},
    {kNul, std::string(),
     "cc02158759f8a71dfe02c08cc31ed926", "8d1f548f3c7daf336d3c272033cf8d57bcb2dfb9",
     "5f4c8963bfc503bf0ef713905dd7bfdda9467de404901ca908222c4938d0f385",
     "67cd27dd945734a40b89bd396cf230dc3a7b154bc1886af8eb02e3aa7a5e0864"
     "0f2075aa7d453ac99917e5bbda690e8fb3911ebd5088fa4c6f0bc4c351a9fb6c"},
    {kNul, std::string("bar"),
     "75b0565e58a12aadba9232f79cb6134c", "078c82d45eb8730570b6905c924514941d33ca37",
     "efa36326dceca446452b7173a8fc37778ef361d5599e88d7b0f6d6c03d1935b9",
     "832a486c71ba35c0d44d92b3cad4e72aa9bd0e337e2eaf94489837b9c421ef2e"
     "db8aee0ecdc226a071158d11982acbcfeb399bf7d2caf9c9fdfaa7e7fac84bc1"},
    {kNul, kSecret,
     "3c77a8436bfaed77f54b411dc29f49c0", "4a1ff803ed399453e858c3beab28bcf72138895b",
     "71a544557ce1eca581c76a98fcbdf8b21064a2749acb9763108a4ff2aa417bc0",
     "f2256c4e90c715021004a21317bd9db441ad01389805c1a38bd0b4f949acdcf4"
     "ad864319f3a7fb0374f599cd14b2c7ba1a23f1f5e1a1ac99d078ab4fc83d03eb"},
    {kNul, kLongKey,
     "ed8db4a7030431bee9694a1a1659a34a", "ed554a43d9ee8d566f2eabd6071ec02963ae0418",
     "a7b6fedefc98a797d7d5426a681c5d798fb4a88be2362a562999309a0e592569",
     "799fe5fa029654b80bd10be6b7e99a10b6b5f0c479e2272dc7ce0822be51d2fc"
     "56b07f4cc3536ad65199a470f6860282237419ea57e02d58f77983e75e732efb"},
};
// clang-format on

class CryptoBuiltin : public ::testing::Test {
 protected:
  void SetUp() override { register_crypto(reg_); }
  Value call(const std::string& fn, std::vector<Value> args) {
    const BuiltinInfo* b = reg_.find(fn);
    EXPECT_NE(b, nullptr) << fn;
    EXPECT_EQ(b->arity, static_cast<int>(args.size())) << fn;
    return b->fn(ctx_, args);
  }
  std::string str(const std::string& fn, const std::string& a) { return call(fn, {Value::string(a)}).str(); }
  std::string str(const std::string& fn, const std::string& a, const std::string& b) {
    return call(fn, {Value::string(a), Value::string(b)}).str();
  }
  std::string error_of(const std::string& fn, std::vector<Value> args) {
    try {
      call(fn, std::move(args));
    } catch (const BuiltinError& e) {
      return e.code + ": " + e.what();
    }
    return "";
  }
  bool equal(const char* a, const char* b) {
    return call("crypto.hmac.equal", {Value::string(a), Value::string(b)}).is_true();
  }
  BuiltinRegistry reg_;
  BuiltinContext ctx_;
};

}  // namespace

TEST_F(CryptoBuiltin, ConformanceHmac) {
  EXPECT_EQ(str("crypto.hmac.sha256", "foo", "bar"),
            "147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851");
  EXPECT_EQ(str("crypto.hmac.sha256", "\xc3\xa5\xc3\xa4\xc3\xb6\xc3\xa7\xc3\x9f\xf0\x9f\xa5\xb2\xe2\x99\x99\xce\xa9",
                "\xe7\xa7\x98\xe5\xaf\x86\xe3\x81\xae"),
            "eb90daeb76d4b2571fbdaf94bbb240809faa8fed93ec0c260dd38c3fdf8d963a");
  EXPECT_EQ(
      str("crypto.hmac.sha512", "foo", "bar"),
      "24257d7210582a65c731ec55159c8184cc24c02489453e58587f71f44c23a2d61b4b72154a89d17b2d49448a8452ea066f4fc56a2bc"
      "ead45c088572ffccdb3d8");
  EXPECT_EQ(
      str("crypto.hmac.sha512", "\xc3\xa5\xc3\xa4\xc3\xb6\xc3\xa7\xc3\x9f\xf0\x9f\xa5\xb2\xe2\x99\x99\xce\xa9",
          "\xe7\xa7\x98\xe5\xaf\x86\xe3\x81\xae"),
      "192f5afded233d6e21427aa26ed267ac118cfa2971013d91cbed530c0b208d78138b83dfe1d6cc3553d7bd518f22a481402c723028e"
      "1279d1ffbe8f11ea6b125");
}

TEST_F(CryptoBuiltin, ConformanceHmacEqual) {
  EXPECT_TRUE(equal("31b6db9e5eb4addb42f1a6ca07367adc", "31b6db9e5eb4addb42f1a6ca07367adc"));
  EXPECT_TRUE(equal("85d155c55ed286a300bd1cf124de08d87e914f3a", "85d155c55ed286a300bd1cf124de08d87e914f3a"));
  EXPECT_TRUE(equal("147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851",
                    "147933218aaabc0b8b10a2b3a5c34684c8d94341bcf10a4736dc7270f7741851"));
  EXPECT_FALSE(equal("31b6db9e5eb4addb42f1a6ca07367adc", "31b6db9e5eb4addb"));
  EXPECT_FALSE(equal("31b6db9e5eb4addb42f1a6ca07367adc", "31b6db9e5eb4addb42f1a6ca07367add"));
  EXPECT_TRUE(equal("", ""));
}

TEST_F(CryptoBuiltin, Digests) {
  for (const DigestCase& c : kDigests) {
    EXPECT_EQ(str("crypto.md5", c.message), c.md5);
    EXPECT_EQ(str("crypto.sha1", c.message), c.sha1);
    EXPECT_EQ(str("crypto.sha256", c.message), c.sha256);
  }
}

TEST_F(CryptoBuiltin, Hmacs) {
  for (const HmacCase& c : kHmacs) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(str("crypto.hmac.md5", c.message, c.key), c.md5);
    EXPECT_EQ(str("crypto.hmac.sha1", c.message, c.key), c.sha1);
    EXPECT_EQ(str("crypto.hmac.sha256", c.message, c.key), c.sha256);
    EXPECT_EQ(str("crypto.hmac.sha512", c.message, c.key), c.sha512);
  }
}

TEST_F(CryptoBuiltin, InvalidUtf8IsHashedAsBytes) {
  EXPECT_EQ(str("crypto.md5", "\xff"), "00594fd4f42ba43fc1ca0427a0576295");
}

TEST_F(CryptoBuiltin, TypeErrors) {
  EXPECT_EQ(error_of("crypto.sha256", {Value::integer(1)}),
            "eval_type_error: crypto.sha256: operand 1 must be string but got number");
  EXPECT_EQ(error_of("crypto.hmac.sha1", {Value::string("m"), Value::null()}),
            "eval_type_error: crypto.hmac.sha1: operand 2 must be string but got null");
  EXPECT_EQ(error_of("crypto.hmac.equal", {Value::array({}), Value::string("")}),
            "eval_type_error: crypto.hmac.equal: operand 1 must be string but got array");
  EXPECT_EQ(error_of("crypto.hmac.equal", {Value::string(""), Value::empty_set()}),
            "eval_type_error: crypto.hmac.equal: operand 2 must be string but got set");
}
