// Strict RFC 8259 reader (see agm/json.h for what is accepted). A recursive
// descent whose depth is bounded by JsonOptions::max_depth; every read is
// preceded by a bounds check against the document's size.
#include "agm/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <system_error>

namespace agm {

struct JsonContainer {
    std::vector<JsonValue> items;   // array elements or object member values
    std::vector<std::string> keys;  // objects: keys[i] belongs to items[i]
    std::vector<uint32_t> sorted;   // objects: member indices ordered by key
};

const char* json_type_name(JsonType t) {
    switch (t) {
    case JsonType::Null: return "null";
    case JsonType::Bool: return "a boolean";
    case JsonType::Number: return "a number";
    case JsonType::String: return "a string";
    case JsonType::Array: return "an array";
    case JsonType::Object: return "an object";
    }
    return "an unknown value";
}

JsonValue::JsonValue() = default;
JsonValue::~JsonValue() = default;
JsonValue::JsonValue(JsonValue&&) noexcept = default;
JsonValue& JsonValue::operator=(JsonValue&&) noexcept = default;

size_t JsonValue::size() const { return kids_ ? kids_->items.size() : 0; }

const JsonValue& JsonValue::at(size_t i) const { return kids_->items[i]; }

const std::string& JsonValue::key(size_t i) const { return kids_->keys[i]; }

const JsonValue* JsonValue::find(const std::string& key) const {
    if (type_ != JsonType::Object || !kids_) return nullptr;
    const JsonContainer& c = *kids_;
    auto it = std::lower_bound(c.sorted.begin(), c.sorted.end(), key,
                               [&c](uint32_t i, const std::string& k) { return c.keys[i] < k; });
    if (it == c.sorted.end() || c.keys[*it] != key) return nullptr;
    return &c.items[*it];
}

std::string json_value_text(const JsonValue& v, size_t max_bytes) {
    std::string s;
    json_serialize(v, &s);
    const bool cut = s.size() > max_bytes;
    if (cut) s.resize(max_bytes);
    for (char& c : s)
        if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7E) c = '?';
    return cut ? s + "..." : s;
}

std::string json_printable(const std::string& s, size_t max_bytes) {
    std::string out;
    const size_t n = std::min(s.size(), max_bytes);
    for (size_t i = 0; i < n; ++i) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            out += (char)c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    if (s.size() > max_bytes) out += "...";
    return out;
}

// ---------------------------------------------------------------------------
// Parser

struct JsonParser {
    const uint8_t* p;
    size_t n;
    size_t pos = 0;
    JsonOptions opt;
    uint64_t values = 0;
    Error* err;

    // "json: <what> at byte <at>"
    bool fail_at(size_t at, const char* fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 3, 4)))
#endif
    {
        char what[200];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return fail(err, "json: %s at byte %zu", what, at);
    }

    // Names the byte at `at` (or the end of input) for "unexpected" messages.
    bool unexpected(size_t at, const char* expected) {
        if (at >= n) return fail_at(at, "unexpected end of input, expected %s", expected);
        const uint8_t c = p[at];
        if (c >= 0x21 && c < 0x7f)
            return fail_at(at, "unexpected '%c', expected %s", (char)c, expected);
        return fail_at(at, "unexpected byte 0x%02X, expected %s", c, expected);
    }

    void skip_ws() {
        while (pos < n && (p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\n' || p[pos] == '\r'))
            ++pos;
    }

    bool count_value() {
        if (++values > opt.max_values)
            return fail_at(pos, "more than %llu values", (unsigned long long)opt.max_values);
        return true;
    }

    bool parse_value(JsonValue* out, uint32_t depth);
    bool parse_literal(JsonValue* out);
    bool parse_number(JsonValue* out);
    bool parse_string(std::string* out);
    bool parse_array(JsonValue* out, uint32_t depth);
    bool parse_object(JsonValue* out, uint32_t depth);
    bool utf8_sequence(size_t* len);
    bool hex4(size_t at, uint32_t* v);
};

bool JsonParser::parse_value(JsonValue* out, uint32_t depth) {
    if (pos >= n) return unexpected(pos, "a value");
    if (!count_value()) return false;
    out->offset_ = pos;
    switch (p[pos]) {
    case '{': return parse_object(out, depth);
    case '[': return parse_array(out, depth);
    case '"':
        out->type_ = JsonType::String;
        return parse_string(&out->text_);
    case 't':
    case 'f':
    case 'n': return parse_literal(out);
    default:
        if (p[pos] == '-' || (p[pos] >= '0' && p[pos] <= '9')) return parse_number(out);
        return unexpected(pos, "a value");
    }
}

bool JsonParser::parse_literal(JsonValue* out) {
    static const struct {
        const char* word;
        JsonType type;
        uint8_t flags;
    } kLiterals[] = {{"true", JsonType::Bool, JsonValue::kTrue},
                     {"false", JsonType::Bool, 0},
                     {"null", JsonType::Null, 0}};
    for (const auto& lit : kLiterals) {
        const size_t len = std::strlen(lit.word);
        if (p[pos] != (uint8_t)lit.word[0]) continue;
        if (n - pos < len || std::memcmp(p + pos, lit.word, len) != 0)
            return fail_at(pos, "invalid literal (expected %s)", lit.word);
        out->type_ = lit.type;
        out->flags_ = lit.flags;
        pos += len;
        return true;
    }
    return unexpected(pos, "a value");
}

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

bool JsonParser::parse_number(JsonValue* out) {
    const size_t start = pos;
    const bool negative = p[pos] == '-';
    if (negative) ++pos;
    // Integer part: "0" or [1-9][0-9]*.
    const size_t int_start = pos;
    if (pos >= n || !is_digit(p[pos])) return unexpected(pos, "a digit");
    if (p[pos] == '0') {
        ++pos;
        if (pos < n && is_digit(p[pos])) return fail_at(start, "number with a leading zero");
    } else {
        while (pos < n && is_digit(p[pos])) ++pos;
    }
    const size_t int_end = pos;
    size_t frac_start = pos, frac_end = pos;
    bool integer = true;
    if (pos < n && p[pos] == '.') {
        integer = false;
        frac_start = ++pos;
        if (pos >= n || !is_digit(p[pos])) return unexpected(pos, "a digit after '.'");
        while (pos < n && is_digit(p[pos])) ++pos;
        frac_end = pos;
    }
    // Exponent, saturated at +-10^9: enough to tell overflow from underflow
    // below, whatever the number of mantissa digits (up to the size_t range).
    int64_t exp10 = 0;
    if (pos < n && (p[pos] == 'e' || p[pos] == 'E')) {
        integer = false;
        ++pos;
        bool exp_negative = false;
        if (pos < n && (p[pos] == '+' || p[pos] == '-')) exp_negative = p[pos++] == '-';
        if (pos >= n || !is_digit(p[pos])) return unexpected(pos, "a digit in the exponent");
        while (pos < n && is_digit(p[pos])) {
            if (exp10 < 1000000000) exp10 = exp10 * 10 + (p[pos] - '0');
            ++pos;
        }
        if (exp_negative) exp10 = -exp10;
    }
    out->type_ = JsonType::Number;
    out->text_.assign((const char*)p + start, pos - start);

    if (integer) {
        // Exact magnitude from the digits; no double on the way.
        uint64_t mag = 0;
        bool fits = true;
        for (size_t i = int_start; i < int_end; ++i) {
            const uint64_t d = (uint64_t)(p[i] - '0');
            if (mag > (UINT64_MAX - d) / 10) {
                fits = false;
                break;
            }
            mag = mag * 10 + d;
        }
        out->flags_ |= JsonValue::kInteger;
        if (fits && !negative) {
            out->int_bits_ = mag;
            out->flags_ |= JsonValue::kFitsU64;
            if (mag <= (uint64_t)INT64_MAX) out->flags_ |= JsonValue::kFitsI64;
        } else if (fits && negative && mag <= (uint64_t)INT64_MAX + 1) {
            out->int_bits_ = (uint64_t)0 - mag;  // two's complement of -mag
            out->flags_ |= JsonValue::kFitsI64;
            if (mag == 0) out->flags_ |= JsonValue::kFitsU64;  // "-0"
        }
    }

    // The nearest double; from_chars is correctly rounded and ignores the
    // locale. Out of range it leaves the value alone, so tell overflow from
    // underflow by the decimal exponent of the first significant digit.
    double v = 0.0;
    const char* first = (const char*)p + start;
    const char* last = (const char*)p + pos;
    const std::from_chars_result r = std::from_chars(first, last, v);
    if (r.ec == std::errc::result_out_of_range) {
        int64_t lead = -1;  // index of the first non-zero digit, int then fraction digits
        for (size_t i = int_start; i < int_end && lead < 0; ++i)
            if (p[i] != '0') lead = (int64_t)(i - int_start);
        for (size_t i = frac_start; i < frac_end && lead < 0; ++i)
            if (p[i] != '0') lead = (int64_t)(int_end - int_start + (i - frac_start));
        // value = d.ddd * 10^sci
        const int64_t sci = (int64_t)(int_end - int_start) - 1 - lead + exp10;
        v = (lead >= 0 && sci > 0) ? HUGE_VAL : 0.0;
        if (negative) v = -v;
    } else if (r.ec != std::errc() || r.ptr != last) {
        return fail_at(start, "number not understood by the conversion");  // not expected
    }
    out->num_ = v;
    return true;
}

bool JsonParser::hex4(size_t at, uint32_t* v) {
    if (n - at < 4) return fail_at(at, "unexpected end of input in a \\u escape");
    uint32_t x = 0;
    for (size_t i = 0; i < 4; ++i) {
        const uint8_t c = p[at + i];
        uint32_t d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return fail_at(at + i, "bad hex digit in a \\u escape");
        x = x * 16 + d;
    }
    *v = x;
    return true;
}

static void append_utf8(std::string* s, uint32_t cp) {
    if (cp < 0x80) {
        *s += (char)cp;
    } else if (cp < 0x800) {
        *s += (char)(0xC0 | (cp >> 6));
        *s += (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *s += (char)(0xE0 | (cp >> 12));
        *s += (char)(0x80 | ((cp >> 6) & 0x3F));
        *s += (char)(0x80 | (cp & 0x3F));
    } else {
        *s += (char)(0xF0 | (cp >> 18));
        *s += (char)(0x80 | ((cp >> 12) & 0x3F));
        *s += (char)(0x80 | ((cp >> 6) & 0x3F));
        *s += (char)(0x80 | (cp & 0x3F));
    }
}

// Validates the multi-byte UTF-8 sequence at pos (its lead byte is >= 0x80),
// per the Unicode well-formed byte sequences table: the second byte's range
// depends on the lead byte, which excludes overlong forms (C0, C1, E0 80..9F,
// F0 80..8F), surrogates (ED A0..BF) and values above U+10FFFF (F4 90.., F5..).
bool JsonParser::utf8_sequence(size_t* len) {
    const uint8_t c = p[pos];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) need = 2, lo = 0xA0;
    else if (c == 0xED) need = 2, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) need = 2;
    else if (c == 0xF0) need = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) need = 3, hi = 0x8F;
    else if (c == 0xC0 || c == 0xC1) return fail_at(pos, "invalid UTF-8: overlong lead byte 0x%02X", c);
    else if (c >= 0x80 && c <= 0xBF) return fail_at(pos, "invalid UTF-8: stray continuation byte 0x%02X", c);
    else return fail_at(pos, "invalid UTF-8: byte 0x%02X is never valid", c);
    if (n - pos - 1 < need) return fail_at(pos, "invalid UTF-8: sequence cut by the end of input");
    const uint8_t c1 = p[pos + 1];
    if (c1 < lo || c1 > hi) {
        const char* why = "bad continuation byte";
        if (c1 >= 0x80 && c1 <= 0xBF) {
            if (c == 0xE0 || c == 0xF0) why = "overlong encoding";
            else if (c == 0xED) why = "encoded surrogate";
            else if (c == 0xF4) why = "code point above U+10FFFF";
        }
        return fail_at(pos, "invalid UTF-8: %s (0x%02X 0x%02X)", why, c, c1);
    }
    for (size_t i = 2; i <= need; ++i)
        if ((p[pos + i] & 0xC0) != 0x80)
            return fail_at(pos + i, "invalid UTF-8: bad continuation byte 0x%02X", p[pos + i]);
    *len = need + 1;
    return true;
}

bool JsonParser::parse_string(std::string* out) {
    const size_t open = pos;
    ++pos;  // the opening quote
    out->clear();
    for (;;) {
        // A run of plain bytes is appended in one go.
        const size_t run = pos;
        while (pos < n && p[pos] >= 0x20 && p[pos] < 0x80 && p[pos] != '"' && p[pos] != '\\') ++pos;
        out->append((const char*)p + run, pos - run);
        if (pos >= n) return fail_at(open, "unterminated string");
        const uint8_t c = p[pos];
        if (c == '"') {
            ++pos;
            return true;
        }
        if (c < 0x20) return fail_at(pos, "raw control byte 0x%02X in a string (must be escaped)", c);
        if (c >= 0x80) {
            size_t len = 0;
            if (!utf8_sequence(&len)) return false;
            out->append((const char*)p + pos, len);
            pos += len;
            continue;
        }
        // An escape.
        if (n - pos < 2) return fail_at(pos, "unexpected end of input in an escape");
        const uint8_t e = p[pos + 1];
        const char* simple = std::strchr("\"\\/bfnrt", e);
        if (e != 0 && simple != nullptr) {
            static const char kDecoded[] = "\"\\/\b\f\n\r\t";
            *out += kDecoded[simple - "\"\\/bfnrt"];
            pos += 2;
            continue;
        }
        if (e != 'u') {
            if (e >= 0x21 && e < 0x7f) return fail_at(pos, "invalid escape \\%c", (char)e);
            return fail_at(pos, "invalid escape (backslash then byte 0x%02X)", e);
        }
        const size_t esc = pos;
        uint32_t cp;
        if (!hex4(pos + 2, &cp)) return false;
        pos += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail_at(esc, "lone low surrogate \\u%04X", (unsigned)cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (n - pos < 2 || p[pos] != '\\' || p[pos + 1] != 'u')
                return fail_at(esc, "high surrogate \\u%04X not followed by a \\u escape",
                               (unsigned)cp);
            uint32_t low;
            if (!hex4(pos + 2, &low)) return false;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail_at(esc, "high surrogate \\u%04X followed by \\u%04X, not a low surrogate",
                               (unsigned)cp, (unsigned)low);
            pos += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
    }
}

bool JsonParser::parse_array(JsonValue* out, uint32_t depth) {
    if (depth >= opt.max_depth) return fail_at(pos, "nesting deeper than %u", opt.max_depth);
    out->type_ = JsonType::Array;
    out->kids_.reset(new JsonContainer);
    std::vector<JsonValue>& items = out->kids_->items;
    ++pos;  // '['
    skip_ws();
    if (pos < n && p[pos] == ']') {
        ++pos;
        return true;
    }
    for (;;) {
        items.emplace_back();
        if (!parse_value(&items.back(), depth + 1)) return false;
        skip_ws();
        if (pos < n && p[pos] == ']') {
            ++pos;
            return true;
        }
        if (pos >= n || p[pos] != ',') return unexpected(pos, "',' or ']'");
        ++pos;
        skip_ws();
        if (pos < n && p[pos] == ']') return fail_at(pos, "trailing comma before ']'");
    }
}

bool JsonParser::parse_object(JsonValue* out, uint32_t depth) {
    if (depth >= opt.max_depth) return fail_at(pos, "nesting deeper than %u", opt.max_depth);
    out->type_ = JsonType::Object;
    out->kids_.reset(new JsonContainer);
    JsonContainer& c = *out->kids_;
    std::vector<size_t> key_at;  // byte offset of each key, for the duplicate message
    ++pos;  // '{'
    skip_ws();
    if (pos < n && p[pos] == '}') {
        ++pos;
        return true;
    }
    for (;;) {
        if (pos >= n || p[pos] != '"') return unexpected(pos, "a string key");
        if (c.keys.size() >= UINT32_MAX) return fail_at(pos, "too many members");
        key_at.push_back(pos);
        c.keys.emplace_back();
        if (!parse_string(&c.keys.back())) return false;
        skip_ws();
        if (pos >= n || p[pos] != ':') return unexpected(pos, "':'");
        ++pos;
        skip_ws();
        c.items.emplace_back();
        if (!parse_value(&c.items.back(), depth + 1)) return false;
        skip_ws();
        if (pos < n && p[pos] == '}') {
            ++pos;
            break;
        }
        if (pos >= n || p[pos] != ',') return unexpected(pos, "',' or '}'");
        ++pos;
        skip_ws();
        if (pos < n && p[pos] == '}') return fail_at(pos, "trailing comma before '}'");
    }
    // Sorted index; equal keys end up adjacent, the earlier one first. The
    // message names the duplicate that comes first in the document.
    c.sorted.resize(c.keys.size());
    for (uint32_t i = 0; i < (uint32_t)c.sorted.size(); ++i) c.sorted[i] = i;
    std::sort(c.sorted.begin(), c.sorted.end(), [&c](uint32_t a, uint32_t b) {
        const int k = c.keys[a].compare(c.keys[b]);
        return k != 0 ? k < 0 : a < b;
    });
    size_t dup = SIZE_MAX;
    for (size_t i = 1; i < c.sorted.size(); ++i)
        if (c.keys[c.sorted[i]] == c.keys[c.sorted[i - 1]] && (dup == SIZE_MAX || c.sorted[i] < dup))
            dup = c.sorted[i];
    if (dup != SIZE_MAX)
        return fail_at(key_at[dup], "duplicate key \"%s\"", json_printable(c.keys[dup]).c_str());
    return true;
}

bool parse_json(const uint8_t* data, size_t size, JsonValue* out, Error* err,
                const JsonOptions& options) {
    *out = JsonValue();
    if (data == nullptr && size != 0) return fail(err, "json: no data");
    JsonParser ps{data, size, 0, options, 0, err};
    if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
        return ps.fail_at(0, "byte order mark (not allowed in JSON text)");
    ps.skip_ws();
    if (ps.pos >= size) return ps.fail_at(ps.pos, "empty document");
    JsonValue v;
    if (!ps.parse_value(&v, 0)) return false;
    ps.skip_ws();
    if (ps.pos != size) return ps.fail_at(ps.pos, "data after the value");
    *out = std::move(v);
    return true;
}

// ---------------------------------------------------------------------------
// Checked accessors

static std::string number_for_message(const JsonValue& v) { return json_printable(v.text(), 32); }

bool JsonValue::expect(JsonType t, const char* where, Error* err) const {
    if (type_ == t) return true;
    return fail(err, "%s: expected %s, got %s", where, json_type_name(t), json_type_name(type_));
}

bool JsonValue::to_bool(const char* where, bool* out, Error* err) const {
    if (!expect(JsonType::Bool, where, err)) return false;
    *out = boolean();
    return true;
}

bool JsonValue::to_int64(const char* where, int64_t* out, Error* err) const {
    if (type_ != JsonType::Number)
        return fail(err, "%s: expected an integer, got %s", where, json_type_name(type_));
    if (!is_integer())
        return fail(err, "%s: expected an integer, got the number %s", where,
                    number_for_message(*this).c_str());
    if (!fits_int64())
        return fail(err, "%s: integer %s does not fit in 64 bits", where,
                    number_for_message(*this).c_str());
    *out = int64();
    return true;
}

bool JsonValue::to_uint64(const char* where, uint64_t* out, Error* err) const {
    if (type_ != JsonType::Number)
        return fail(err, "%s: expected a non-negative integer, got %s", where,
                    json_type_name(type_));
    if (!is_integer())
        return fail(err, "%s: expected a non-negative integer, got the number %s", where,
                    number_for_message(*this).c_str());
    if (!fits_uint64()) {
        if (!text_.empty() && text_[0] == '-')
            return fail(err, "%s: expected a non-negative integer, got %s", where,
                        number_for_message(*this).c_str());
        return fail(err, "%s: integer %s does not fit in 64 bits", where,
                    number_for_message(*this).c_str());
    }
    *out = uint64();
    return true;
}

bool JsonValue::to_double(const char* where, double* out, Error* err) const {
    if (!expect(JsonType::Number, where, err)) return false;
    if (!std::isfinite(num_))
        return fail(err, "%s: number %s is beyond the range of a double", where,
                    number_for_message(*this).c_str());
    *out = num_;
    return true;
}

bool JsonValue::to_string(const char* where, std::string* out, Error* err) const {
    if (!expect(JsonType::String, where, err)) return false;
    *out = text_;
    return true;
}

namespace {

// The body of every get_*(): finds `key` in `obj` and converts it with
// `conv`, naming "<where>: <key>" in the messages.
template <typename T>
bool get_member(const JsonValue& obj, const char* where, const char* key, T* out,
                bool optional, Error* err,
                bool (JsonValue::*conv)(const char*, T*, Error*) const) {
    if (!obj.expect(JsonType::Object, where, err)) return false;
    const std::string path = std::string(where) + ": " + json_printable(key, 64);
    const JsonValue* v = obj.find(key);
    if (v == nullptr) return optional ? true : fail(err, "%s: missing", path.c_str());
    return (v->*conv)(path.c_str(), out, err);
}

}  // namespace

bool JsonValue::get_bool(const char* where, const char* key, bool* out, bool optional,
                         Error* err) const {
    return get_member(*this, where, key, out, optional, err, &JsonValue::to_bool);
}
bool JsonValue::get_int64(const char* where, const char* key, int64_t* out, bool optional,
                          Error* err) const {
    return get_member(*this, where, key, out, optional, err, &JsonValue::to_int64);
}
bool JsonValue::get_uint64(const char* where, const char* key, uint64_t* out, bool optional,
                           Error* err) const {
    return get_member(*this, where, key, out, optional, err, &JsonValue::to_uint64);
}
bool JsonValue::get_double(const char* where, const char* key, double* out, bool optional,
                           Error* err) const {
    return get_member(*this, where, key, out, optional, err, &JsonValue::to_double);
}
bool JsonValue::get_string(const char* where, const char* key, std::string* out, bool optional,
                           Error* err) const {
    return get_member(*this, where, key, out, optional, err, &JsonValue::to_string);
}

// ---------------------------------------------------------------------------
// Serialisation

std::string json_quote(const std::string& s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (const char ch : s) {
        const unsigned char c = (unsigned char)ch;
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char u[8];
                std::snprintf(u, sizeof u, "\\u%04X", c);
                out += u;
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

void json_serialize(const JsonValue& v, std::string* out) {
    switch (v.type()) {
    case JsonType::Null: *out += "null"; return;
    case JsonType::Bool: *out += v.boolean() ? "true" : "false"; return;
    case JsonType::Number: *out += v.text(); return;
    case JsonType::String: *out += json_quote(v.text()); return;
    case JsonType::Array:
        *out += '[';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) *out += ',';
            json_serialize(v.at(i), out);
        }
        *out += ']';
        return;
    case JsonType::Object:
        *out += '{';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) *out += ',';
            *out += json_quote(v.key(i));
            *out += ':';
            json_serialize(v.at(i), out);
        }
        *out += '}';
        return;
    }
}

}  // namespace agm
