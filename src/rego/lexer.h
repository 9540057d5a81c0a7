// Rego tokenizer (internal to the parser).
//
// The whole source is tokenized up front into a flat vector, which makes
// lookahead and the parser's few backtracking points (save/restore an index)
// trivial. Tokens refer to the source by offset; nothing is copied.
//
// Whitespace and comments are not tokens, but each token records whether
// whitespace or a newline preceded it: refs (`a.b`, `a[0]`, `f(x)`) must be
// written without blanks, and body expressions may be separated by newlines.
//
// The future keywords `in`, `every`, `contains` and `if` are lexed as
// identifiers tagged with the keyword they could be; whether they are keywords
// depends on the Rego version and imports, which only the parser knows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace confidant::rego {

enum class Tok : uint8_t {
  Eof,
  Illegal,  // malformed input; Token::aux holds a LexError
  Ident,
  Number,
  String,     // "..." (escapes not yet decoded)
  RawString,  // `...`
  LBrack,
  RBrack,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Comma,
  Colon,
  Semicolon,
  Dot,
  Add,
  Sub,
  Mul,
  Quo,
  Rem,
  And,
  Or,
  Unify,   // =
  Equal,   // ==
  Assign,  // :=
  Neq,
  Gt,
  Lt,
  Gte,
  Lte,
  // Keywords in every Rego version.
  Package,
  Import,
  As,
  Default,
  Else,
  Not,
  Some,
  With,
  Null,
  True,
  False,
  // Future keywords: never produced by the lexer (see Token::aux); the parser
  // maps an Ident to one of these when the keyword is enabled.
  In,
  Every,
  Contains,
  If,
};

enum class LexError : uint8_t {
  None,
  IllegalToken,
  NonTerminatedString,
  IllegalEscape,
  ExpectedFraction,
  ExpectedExponent,
  IllegalNumber,
  IllegalBang,
  IllegalNull,
  TooLarge,
};

struct Token {
  uint32_t offset = 0;
  uint32_t len = 0;
  uint32_t row = 1;  // 1-based
  uint32_t col = 1;  // 1-based, bytes
  Tok kind = Tok::Eof;
  // Ident: the future keyword it spells (Tok::In/Every/Contains/If) or 0.
  // Illegal: a LexError. String: 1 when the literal contains a backslash.
  uint8_t aux = 0;
  bool space_before = false;  // whitespace or a comment directly precedes
  bool nl_before = false;     // a newline lies between the previous token and this one
  uint32_t end() const { return offset + len; }
};

// A `# METADATA` comment block: the YAML text with comment markers stripped.
// As in OPA, the block starts with a comment at column 1 whose text begins with
// METADATA and continues with the comments at column 1 of the following lines.
struct MetadataBlock {
  uint32_t end_offset = 0;  // end of the block's last comment
  uint32_t row = 0;         // the `# METADATA` line
  uint32_t col = 1;
  uint32_t lines = 0;  // YAML lines (rows row+1 .. row+lines)
  std::string yaml;
};

struct Comment;  // ast.h

// Tokenizes `src` (at most 4 GiB). Never fails: malformed input yields
// Illegal tokens. The last token is always Eof. `comments`, if given, receives every comment.
void lex(std::string_view src, std::vector<Token>& out, std::vector<MetadataBlock>* metadata,
         std::vector<Comment>* comments = nullptr);

// "number", "identifier", "}", "plus", "if", ... as OPA names tokens in errors.
const char* token_name(Tok t);
bool is_keyword(Tok t);  // named "keyword" rather than "token" in errors
const char* lex_error_message(LexError e);

// Decodes the escapes of a quoted string literal body (without the quotes).
// \uXXXX surrogate pairs are combined; a lone surrogate becomes U+FFFD (as
// Go's JSON decoder does). Other bytes, including invalid UTF-8, are copied.
bool unescape_string(std::string_view body, std::string& out);

}  // namespace confidant::rego
