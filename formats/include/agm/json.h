// A strict JSON (RFC 8259) reader into a small DOM, for the converter's
// inputs: Hugging Face config.json, model.safetensors.index.json and the
// safetensors header. Converter-side: it allocates and is never linked into
// the engine. Written from RFC 8259 alone.
//
// parse_json() accepts exactly the grammar of RFC 8259 section 2-7:
//   - one value at the top level (any type), surrounded only by the four
//     whitespace bytes (space, tab, LF, CR); a byte order mark, an empty
//     document and anything after the value are refused;
//   - strings must be valid UTF-8 (no overlong forms, no UTF-8-encoded
//     surrogates, nothing above U+10FFFF), with no raw control byte below
//     0x20; the escapes are \" \\ \/ \b \f \n \r \t and \uXXXX, where a high
//     surrogate must be followed by an escaped low surrogate and a lone
//     surrogate of either kind is refused; \u0000 is allowed (a string may
//     hold NUL bytes);
//   - numbers follow the grammar: optional '-', no leading zeros, at least one
//     digit after '.', and after 'e'/'E' with an optional sign. No '+', no
//     NaN or Infinity, no hex;
//   - object keys must be unique (compared after unescaping); members keep
//     their order; lookup is by binary search;
//   - nesting is bounded (JsonOptions::max_depth, 128 by default), and so is
//     the number of values (max_values), so hostile input can neither
//     overflow the stack nor make the DOM unboundedly large.
// Every refusal names the byte offset: `json: duplicate key "x" at byte 123`.
//
// Numbers keep the text they were written as, their nearest double, and,
// when written as an integer (no fraction, no exponent) that fits, the exact
// int64/uint64 value, computed from the digits and never through a double.
// A number whose magnitude is beyond the double range (1e400) is valid JSON
// and is accepted: its double is +-infinity (and one that underflows, like
// 1e-400, is +-0), but the checked accessor to_double() refuses it.
#ifndef AGM_JSON_H
#define AGM_JSON_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agm/error.h"

namespace agm {

enum class JsonType : uint8_t { Null, Bool, Number, String, Array, Object };

// "null", "a boolean", "a number", "a string", "an array", "an object".
const char* json_type_name(JsonType t);

struct JsonOptions {
    // Arrays/objects nested deeper are refused. The parser (and the DOM's
    // destructor) recurse once per level: keep this in the hundreds.
    uint32_t max_depth = 128;
    uint64_t max_values = (uint64_t)1 << 24;  // values in the document (about 80 bytes each)
};

struct JsonContainer;  // elements (and keys) of an array or object; json.cpp

// One value. Move-only; a tree of them is built only by parse_json(), so its
// depth is bounded by the options it was parsed with.
class JsonValue {
public:
    JsonValue();
    ~JsonValue();
    JsonValue(JsonValue&&) noexcept;
    JsonValue& operator=(JsonValue&&) noexcept;
    JsonValue(const JsonValue&) = delete;
    JsonValue& operator=(const JsonValue&) = delete;

    JsonType type() const { return type_; }
    bool is_null() const { return type_ == JsonType::Null; }
    bool is_bool() const { return type_ == JsonType::Bool; }
    bool is_number() const { return type_ == JsonType::Number; }
    bool is_string() const { return type_ == JsonType::String; }
    bool is_array() const { return type_ == JsonType::Array; }
    bool is_object() const { return type_ == JsonType::Object; }

    // Byte offset in the parsed document where this value starts.
    uint64_t offset() const { return offset_; }

    // Unchecked views; each returns a neutral value (false, 0, "") when the
    // type does not match.
    bool boolean() const { return type_ == JsonType::Bool && (flags_ & kTrue) != 0; }
    // Strings: the decoded UTF-8 content. Numbers: the text as written.
    const std::string& text() const { return text_; }
    // Numbers: the nearest double (+-inf beyond the range, +-0 on underflow).
    double number() const { return type_ == JsonType::Number ? num_ : 0.0; }
    // Numbers written as an integer (digits only, optional '-').
    bool is_integer() const { return (flags_ & kInteger) != 0; }
    bool fits_int64() const { return (flags_ & kFitsI64) != 0; }
    bool fits_uint64() const { return (flags_ & kFitsU64) != 0; }
    int64_t int64() const { return fits_int64() ? (int64_t)int_bits_ : 0; }
    uint64_t uint64() const { return fits_uint64() ? int_bits_ : 0; }

    // Arrays: elements; objects: members (in document order). 0 for scalars.
    size_t size() const;
    // Array element or object member value i (i < size()).
    const JsonValue& at(size_t i) const;
    // Object member i's key (i < size()).
    const std::string& key(size_t i) const;
    // Object member by key, or nullptr (also when this is not an object).
    const JsonValue* find(const std::string& key) const;

    // Checked conversions. `where` names the value for the message, e.g.
    // "config.json: hidden_size", giving
    // "config.json: hidden_size: expected an integer, got a string".
    bool expect(JsonType t, const char* where, Error* err) const;
    bool to_bool(const char* where, bool* out, Error* err) const;
    bool to_int64(const char* where, int64_t* out, Error* err) const;
    bool to_uint64(const char* where, uint64_t* out, Error* err) const;
    bool to_double(const char* where, double* out, Error* err) const;  // refuses +-inf
    bool to_string(const char* where, std::string* out, Error* err) const;

    // Object member lookups with the same messages, "<where>: <key>: ...".
    // A missing key fails ("<where>: <key>: missing") unless `optional`, in
    // which case *out is left untouched and the call succeeds. A JSON null is
    // a present value of the wrong type.
    bool get_bool(const char* where, const char* key, bool* out, bool optional, Error* err) const;
    bool get_int64(const char* where, const char* key, int64_t* out, bool optional,
                   Error* err) const;
    bool get_uint64(const char* where, const char* key, uint64_t* out, bool optional,
                    Error* err) const;
    bool get_double(const char* where, const char* key, double* out, bool optional,
                    Error* err) const;
    bool get_string(const char* where, const char* key, std::string* out, bool optional,
                    Error* err) const;

private:
    friend struct JsonParser;
    enum : uint8_t { kTrue = 1, kInteger = 2, kFitsI64 = 4, kFitsU64 = 8 };
    JsonType type_ = JsonType::Null;
    uint8_t flags_ = 0;
    uint64_t offset_ = 0;
    double num_ = 0.0;
    uint64_t int_bits_ = 0;  // the exact integer, as two's complement when negative
    std::string text_;
    std::unique_ptr<JsonContainer> kids_;  // arrays and objects only
};

// Parses a whole document into *out (see the top of this file). On failure
// *out is left null and err says what is wrong and at which byte, prefixed
// "json: ".
bool parse_json(const uint8_t* data, size_t size, JsonValue* out, Error* err,
                const JsonOptions& options = JsonOptions());

// Compact serialisation: no whitespace, members in document order, numbers
// as their original text, strings re-escaped (", \ and control bytes; other
// bytes as they are). parse_json(json_serialize(v)) gives v back.
void json_serialize(const JsonValue& v, std::string* out);

// `s` as a JSON string literal, quotes included.
std::string json_quote(const std::string& s);

// `s` made safe for a one-line message: printable ASCII kept, '"' and '\'
// as \" and \\, every other byte as \xHH; cut after max_bytes of input,
// with "..." to say so.
std::string json_printable(const std::string& s, size_t max_bytes = 48);

// A value as compact JSON (json_serialize) for a one-line message: bytes
// outside printable ASCII as '?', cut after max_bytes with "...".
std::string json_value_text(const JsonValue& v, size_t max_bytes = 80);

}  // namespace agm

#endif
