// JSON Schema (draft 2020-12) to a GBNF grammar (docs/structured-output.md)
// whose sentences are JSON texts valid for the schema. Host-side: it
// allocates and is used by the tools (agmodel-grammar, agmodel-run) and the
// server, never linked into firmware.
//
// Sound by construction: every text the grammar accepts is valid for the
// schema. It is not complete: a valid value can be refused by the grammar,
// because the output is written one way (see below). A keyword that
// restricts values and is not implemented is refused with its JSON pointer
// ("schema: /properties/a: multipleOf is not implemented ..."), unless the
// caller asks to ignore such keywords (the grammar is then looser than the
// schema; the tools say so).
//
// How values are written (the grammar accepts these forms only):
//   - objects: the properties in the schema's order ("properties", then
//     "required" names it does not declare), then any additional
//     properties the schema allows; additional properties are allowed only
//     when "additionalProperties" is given and is not false (when it is
//     absent the output has the declared properties only: a model should
//     not invent keys), their names written without escapes; a schema that
//     says nothing about objects (no properties, required or
//     additionalProperties) takes any object;
//   - whitespace: none (compact, fewest tokens), or one space after ':' and
//     ',' (Whitespace::Spaced);
//   - strings: UTF-8 as is; escapes \" \\ \/ \b \f \n \r \t and \uXXXX other
//     than surrogates (so a length counts code points one to one); inside
//     a "pattern", each character in the one form json_serialize() writes;
//   - numbers: integers without exponent or fraction; bounded numbers
//     without exponent; enum and const numbers with an integral value up to
//     2^53 as integers (1.0 is written 1). Every number is finite in length
//     so that a model cannot write digits forever: at most 16 integer
//     digits, 16 fraction digits and a 2-digit exponent; range bounds past
//     10^15 are brought in to it;
//   - formats: time with at most 9 fraction-of-second digits; email as a
//     dot-atom local part within RFC 5321's 64 octets (64 characters without
//     a dot, or at most 32 with dots), '@', and a host of two or three labels
//     of at most 62 bytes, so that an address never passes 254 octets.
#ifndef AGM_JSON_SCHEMA_H
#define AGM_JSON_SCHEMA_H

#include <cstdint>
#include <string>

#include "agm/error.h"
#include "agm/json.h"

namespace agm {

struct SchemaOptions {
    enum class Whitespace { Compact, Spaced };
    Whitespace whitespace = Whitespace::Compact;
    // Drops the restricting keywords that are not implemented instead of
    // refusing the schema (multipleOf, uniqueItems, not, if/then/else, ...).
    // The grammar then accepts values the schema does not.
    bool ignore_unsupported = false;
    // Bounds on what the converter builds, so a hostile schema cannot make
    // it run away (refused with a message when exceeded).
    uint32_t max_rules = 4096;
    uint32_t max_alternatives = 256;  // branches of anyOf/oneOf/type lists combined
    uint32_t max_depth = 64;          // nested subschemas and $ref expansions
};

// Schema text (JSON) to GBNF. On failure *err says why (one line, with the
// JSON pointer of the offending keyword) and *gbnf is untouched.
bool json_schema_to_gbnf(const uint8_t* schema, size_t size, const SchemaOptions& options,
                         std::string* gbnf, Error* err);
bool json_schema_to_gbnf(const JsonValue& schema, const SchemaOptions& options,
                         std::string* gbnf, Error* err);

// A grammar for any JSON value (what `--json` constrains to), written as the
// converter writes values.
std::string json_any_value_gbnf(const SchemaOptions& options);

// `instance` as the grammar of `schema` writes it: compact, the members of
// each object in the schema's property order (members the schema does not
// name follow in their own order), other values as json_serialize() writes
// them. The conformance test feeds instances through this.
void serialize_in_schema_order(const JsonValue& instance, const JsonValue& schema,
                               std::string* out);

}  // namespace agm

#endif
