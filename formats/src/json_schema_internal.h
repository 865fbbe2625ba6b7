// The JSON Schema converter's pieces below the schema walk (json_schema.cpp):
// GBNF text for literals, character sets, integer and number ranges, the
// string formats and the regular-expression subset of "pattern".
#ifndef AGM_JSON_SCHEMA_INTERNAL_H
#define AGM_JSON_SCHEMA_INTERNAL_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace agm {
namespace schema {

// Repetition bounds the GBNF dialect takes ({m,n} with n <= 65534).
constexpr uint64_t kMaxRepeat = 65534;

// `bytes` as a GBNF string literal, quotes included.
std::string gbnf_literal(const std::string& bytes);

// A set of code points as sorted, disjoint, non-adjacent [first, last] ranges.
using CodeSet = std::vector<std::pair<uint32_t, uint32_t>>;
CodeSet code_set_normalize(CodeSet s);
CodeSet code_set_complement(const CodeSet& s);  // within U+0000..U+10FFFF, surrogates excluded

// The GBNF expression for one character of `set` inside a JSON string, each
// written in the one form json_quote() writes it ('"' as \", control bytes
// as \n or \u001F, others as they are). Empty string: the set is empty.
std::string json_char_of(const CodeSet& set);

// Decimal integers in [lo, hi] as written in JSON (no leading zeros, no
// "-0"); hi_inf: no upper bound. Requires lo <= hi unless hi_inf.
std::string integer_range(bool has_lo, int64_t lo, bool has_hi, int64_t hi);

// Numbers (with an optional fraction, no exponent) in the range whose
// bounds are integers; an absent bound is open. Empty string when the
// range holds no number.
std::string number_range(bool has_lo, int64_t lo, bool lo_excl, bool has_hi, int64_t hi,
                         bool hi_excl);

// "date", "time", "date-time", "uuid", "email": the rule bodies to add
// (name, body) and the expression of the string's content, or false.
bool format_rules(const std::string& format, std::vector<std::pair<std::string, std::string>>* rules,
                  std::string* content);

// An ECMA-262 regular expression (the subset in docs/structured-output.md)
// as a GBNF expression over the JSON string content it matches anywhere
// (unanchored unless ^ / $). any_char: the rule name for any JSON string
// character. On failure *why says what is not implemented or malformed.
bool regex_to_gbnf(const std::string& pattern, const std::string& any_char, std::string* expr,
                   std::string* why);

}  // namespace schema
}  // namespace agm

#endif
