// The strict JSON reader (agm/json.h): a conformance table in the spirit of
// JSONTestSuite (y_ must parse, n_ must be refused), exact values, integer
// edges, depth and size limits, the checked accessors' messages.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/json.h"
#include "doctest.h"

namespace {

bool one_line(const char* m) { return m[0] != '\0' && std::strchr(m, '\n') == nullptr; }

bool parse(const std::string& doc, agm::JsonValue* v, agm::Error* err,
           const agm::JsonOptions& opt = agm::JsonOptions()) {
    // An exactly sized heap copy, so that ASan sees any read past the end.
    std::vector<uint8_t> copy(doc.begin(), doc.end());
    return agm::parse_json(copy.empty() ? nullptr : copy.data(), copy.size(), v, err, opt);
}

struct Case {
    const char* name;
    std::string doc;
    bool ok;
    const char* msg;  // refusals: a part of the message ("" = any)
};

#define S(lit) std::string(lit, sizeof(lit) - 1)  // keeps embedded NUL bytes

const Case kCases[] = {
    // --- y_: structure, whitespace, literals
    {"y_array_empty", "[]", true, ""},
    {"y_object_empty", "{}", true, ""},
    {"y_array_one", "[1]", true, ""},
    {"y_ws_all_four", "\t\n\r [1] \t\n\r", true, ""},
    {"y_ws_inside", "[ 1 , 2 ]", true, ""},
    {"y_ws_around_colon", "{ \"a\" : 1 }", true, ""},
    {"y_literals", "[true,false,null]", true, ""},
    {"y_top_true", "true", true, ""},
    {"y_top_false", "false", true, ""},
    {"y_top_null", "null", true, ""},
    {"y_nested", "{\"a\":1,\"b\":[2,{\"c\":null}]}", true, ""},
    {"y_nested_arrays", "[[[[]]]]", true, ""},
    {"y_same_key_other_levels", "{\"a\":{\"a\":{\"a\":1}}}", true, ""},
    {"y_keys_differ_by_case", "{\"a\":1,\"A\":1}", true, ""},
    {"y_empty_key", "{\"\":0}", true, ""},
    // --- y_: numbers
    {"y_zero", "0", true, ""},
    {"y_minus_zero", "-0", true, ""},
    {"y_int", "123", true, ""},
    {"y_negative_int", "-123", true, ""},
    {"y_fraction", "1.5", true, ""},
    {"y_minus_zero_fraction", "-0.0", true, ""},
    {"y_exp", "1e5", true, ""},
    {"y_exp_capital", "1E5", true, ""},
    {"y_exp_plus", "1e+5", true, ""},
    {"y_exp_minus", "1e-5", true, ""},
    {"y_zero_exp", "0e0", true, ""},
    {"y_fraction_exp", "1.25E-2", true, ""},
    {"y_huge_exp", "1e400", true, ""},
    {"y_tiny_exp", "1e-400", true, ""},
    {"y_big_int", "123456789012345678901234567890", true, ""},
    // --- y_: strings
    {"y_string", "\"str\"", true, ""},
    {"y_string_empty", "\"\"", true, ""},
    {"y_escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", true, ""},
    {"y_u_ascii", "\"\\u0041\"", true, ""},
    {"y_u_lower_hex", "\"\\u00e9\"", true, ""},
    {"y_u_upper_hex", "\"\\u00E9\"", true, ""},
    {"y_u_pair", "\"\\uD83D\\uDE00\"", true, ""},
    {"y_u_pair_max", "\"\\uDBFF\\uDFFF\"", true, ""},
    {"y_u_nul", "\"\\u0000\"", true, ""},
    {"y_utf8_2", "\"\xC3\xA9\"", true, ""},
    {"y_utf8_3", "\"\xE2\x82\xAC\"", true, ""},
    {"y_utf8_4", "\"\xF0\x9F\x98\x80\"", true, ""},
    {"y_utf8_max", "\"\xF4\x8F\xBF\xBF\"", true, ""},
    {"y_utf8_noncharacter", "\"\xEF\xBF\xBF\"", true, ""},
    {"y_utf8_last_before_surrogates", "\"\xED\x9F\xBF\"", true, ""},
    {"y_raw_del", "\"\x7F\"", true, ""},
    {"y_escaped_key", "{\"\\u0061\":1,\"b\":2}", true, ""},

    // --- n_: structure
    {"n_empty", "", false, "empty document"},
    {"n_only_ws", "  \t\n", false, "empty document"},
    {"n_array_open", "[", false, "end of input"},
    {"n_array_close", "]", false, "unexpected ']'"},
    {"n_array_trailing_comma", "[1,]", false, "trailing comma"},
    {"n_object_trailing_comma", "{\"a\":1,}", false, "trailing comma"},
    {"n_array_leading_comma", "[,1]", false, "unexpected ','"},
    {"n_array_double_comma", "[1,,2]", false, "unexpected ','"},
    {"n_array_missing_comma", "[1 2]", false, "expected ',' or ']'"},
    {"n_object_missing_colon", "{\"a\" 1}", false, "expected ':'"},
    {"n_object_missing_value", "{\"a\":}", false, "expected a value"},
    {"n_object_key_only", "{\"a\"}", false, "expected ':'"},
    {"n_object_comma_only", "{,}", false, "expected a string key"},
    {"n_object_missing_comma", "{\"a\":1 \"b\":2}", false, "expected ',' or '}'"},
    {"n_object_unquoted_key", "{a:1}", false, "expected a string key"},
    {"n_object_number_key", "{1:1}", false, "expected a string key"},
    {"n_single_quotes_key", "{'a':1}", false, "expected a string key"},
    {"n_single_quotes_value", "['a']", false, "unexpected '''"},
    {"n_mismatched_array", "[1}", false, "expected ',' or ']'"},
    {"n_mismatched_object", "{\"a\":1]", false, "expected ',' or '}'"},
    {"n_trailing_garbage", "[1]x", false, "data after the value"},
    {"n_two_values", "[1][2]", false, "data after the value"},
    {"n_two_strings", "\"a\" \"b\"", false, "data after the value"},
    {"n_two_numbers", "1 2", false, "data after the value"},
    {"n_extra_close", "{\"a\":1}}", false, "data after the value"},
    {"n_trailing_nul", S("[1]\0"), false, "data after the value"},
    {"n_top_nul", S("\0"), false, "byte 0x00"},
    {"n_bom", "\xEF\xBB\xBF[]", false, "byte order mark"},
    {"n_comment_block", "/* c */ []", false, "unexpected '/'"},
    {"n_comment_line", "[1] // c", false, "data after the value"},
    {"n_form_feed_ws", "\x0C[]", false, "byte 0x0C"},
    {"n_nbsp_ws", "\xC2\xA0[]", false, "byte 0xC2"},
    // --- n_: literals
    {"n_literal_short", "tru", false, "invalid literal"},
    {"n_literal_capital", "True", false, "unexpected 'T'"},
    {"n_literal_nul", "nul", false, "invalid literal"},
    {"n_literal_long", "nulll", false, "data after the value"},
    {"n_literal_wrong", "[fals]", false, "invalid literal"},
    // --- n_: numbers
    {"n_leading_zero", "01", false, "leading zero"},
    {"n_leading_zero_neg", "-01", false, "leading zero"},
    {"n_double_zero", "00", false, "leading zero"},
    {"n_plus", "+1", false, "unexpected '+'"},
    {"n_dot_first", ".5", false, "unexpected '.'"},
    {"n_dot_last", "1.", false, "a digit after '.'"},
    {"n_dot_exp", "1.e5", false, "a digit after '.'"},
    {"n_exp_empty", "1e", false, "a digit in the exponent"},
    {"n_exp_sign_only", "1e+", false, "a digit in the exponent"},
    {"n_exp_in_array", "[1.5e]", false, "a digit in the exponent"},
    {"n_minus_only", "-", false, "expected a digit"},
    {"n_minus_in_array", "[-]", false, "expected a digit"},
    {"n_double_minus", "[--1]", false, "expected a digit"},
    {"n_nan", "NaN", false, "unexpected 'N'"},
    {"n_infinity", "Infinity", false, "unexpected 'I'"},
    {"n_minus_infinity", "-Infinity", false, "expected a digit"},
    {"n_hex", "0x10", false, "data after the value"},
    {"n_underscore", "1_000", false, "data after the value"},
    {"n_two_dots", "-1.0.0", false, "data after the value"},
    {"n_two_exps", "1e5e5", false, "data after the value"},
    // --- n_: strings and escapes
    {"n_unterminated", "\"abc", false, "unterminated string"},
    {"n_backslash_at_end", "[\"abc\\", false, "end of input in an escape"},
    {"n_raw_control", "\"\x01\"", false, "raw control byte 0x01"},
    {"n_raw_tab", "\"a\tb\"", false, "raw control byte 0x09"},
    {"n_raw_newline", "\"a\nb\"", false, "raw control byte 0x0A"},
    {"n_raw_nul", S("\"a\0b\""), false, "raw control byte 0x00"},
    {"n_escape_a", "\"\\a\"", false, "invalid escape \\a"},
    {"n_escape_x", "\"\\x41\"", false, "invalid escape \\x"},
    {"n_escape_U", "\"\\U0041\"", false, "invalid escape \\U"},
    {"n_escape_short", "[\"\\u12\"]", false, "bad hex digit"},
    {"n_escape_cut", "\"\\u12", false, "end of input in a \\u escape"},
    {"n_escape_bad_hex", "\"\\u12G4\"", false, "bad hex digit"},
    {"n_unquoted_u", "[\\u0041]", false, "unexpected '\\'"},
    {"n_lone_high", "\"\\uD800\"", false, "high surrogate \\uD800 not followed"},
    {"n_lone_low", "\"\\uDC00\"", false, "lone low surrogate \\uDC00"},
    {"n_high_then_ascii_escape", "\"\\uD800\\u0041\"", false, "not a low surrogate"},
    {"n_high_then_text", "\"\\uD800abc\"", false, "not followed by a \\u escape"},
    {"n_high_then_high", "\"\\uDBFF\\uDBFF\"", false, "not a low surrogate"},
    {"n_pair_then_lone_low", "\"\\uD83D\\uDE00\\uDE00\"", false, "lone low surrogate"},
    // --- n_: UTF-8
    {"n_utf8_overlong_nul", "\"\xC0\x80\"", false, "overlong"},
    {"n_utf8_overlong_c1", "\"\xC1\xBF\"", false, "overlong"},
    {"n_utf8_overlong_3", "\"\xE0\x80\xAF\"", false, "overlong"},
    {"n_utf8_overlong_4", "\"\xF0\x80\x80\xAF\"", false, "overlong"},
    {"n_utf8_surrogate_high", "\"\xED\xA0\x80\"", false, "encoded surrogate"},
    {"n_utf8_surrogate_low", "\"\xED\xBF\xBF\"", false, "encoded surrogate"},
    {"n_utf8_above_max", "\"\xF4\x90\x80\x80\"", false, "above U+10FFFF"},
    {"n_utf8_f5", "\"\xF5\x80\x80\x80\"", false, "never valid"},
    {"n_utf8_ff", "\"\xFF\"", false, "never valid"},
    {"n_utf8_stray_continuation", "\"\x80\"", false, "stray continuation"},
    {"n_utf8_cut_before_quote", "\"\xC3\"", false, "bad continuation"},
    {"n_utf8_cut_3", "\"\xE2\x82\"", false, "bad continuation"},
    {"n_utf8_cut_at_end", "\"\xE2\x82", false, "cut by the end of input"},
    {"n_utf8_bad_second", "\"\xC3\x28\"", false, "bad continuation"},
    {"n_utf8_bad_third", "\"\xE2\x82\x28\"", false, "bad continuation byte 0x28"},
    {"n_utf8_in_key", "{\"\xC0\xAF\":1}", false, "overlong"},
    // --- n_: duplicate keys (compared after unescaping)
    {"n_dup_key", "{\"a\":1,\"a\":2}", false, "duplicate key \"a\" at byte 7"},
    {"n_dup_key_nested", "{\"a\":1,\"b\":{\"c\":1,\"c\":2}}", false, "duplicate key \"c\" at byte 18"},
    {"n_dup_key_escaped", "{\"\\u0061\":1,\"a\":2}", false, "duplicate key \"a\" at byte 12"},
    {"n_dup_key_first_of_two", "{\"b\":1,\"a\":1,\"b\":2,\"a\":2}", false, "duplicate key \"b\" at byte 13"},
    {"n_dup_key_quote", "{\"a\\\"b\":1,\"a\\\"b\":2}", false, "duplicate key \"a\\\"b\""},
};

#undef S

}  // namespace

TEST_SUITE("json") {

TEST_CASE("conformance table: y_ documents parse, n_ documents are refused") {
    size_t n_ok = 0, n_bad = 0;
    for (const Case& c : kCases) {
        const std::string name = c.name;
        CAPTURE(name);
        agm::JsonValue v;
        agm::Error err;
        const bool ok = parse(c.doc, &v, &err);
        CHECK(ok == c.ok);
        if (c.ok) {
            ++n_ok;
            // Serialising and parsing again gives the same serialisation.
            std::string s1, s2;
            agm::json_serialize(v, &s1);
            agm::JsonValue w;
            REQUIRE(parse(s1, &w, &err));
            agm::json_serialize(w, &s2);
            CHECK(s1 == s2);
        } else {
            ++n_bad;
            CAPTURE(err.msg);
            CHECK(one_line(err.msg));
            CHECK(std::strncmp(err.msg, "json: ", 6) == 0);
            CHECK(std::strstr(err.msg, " at byte ") != nullptr);
            CHECK(std::strstr(err.msg, c.msg) != nullptr);
            CHECK(v.is_null());
        }
    }
    CHECK(n_ok >= 40);
    CHECK(n_bad >= 80);
    MESSAGE(n_ok << " valid and " << n_bad << " invalid documents");
}

TEST_CASE("values are exact") {
    agm::JsonValue v;
    agm::Error err;
    const std::string doc =
        "{\"s\":\"a\\u00e9\\uD83D\\uDE00\\u0000z\",\"n\":1.25E-2,\"t\":true,"
        "\"f\":false,\"z\":null,\"a\":[1,\"x\"],\"o\":{}}";
    REQUIRE(parse(doc, &v, &err));
    REQUIRE(v.is_object());
    REQUIRE(v.size() == 7);
    const char* order[] = {"s", "n", "t", "f", "z", "a", "o"};
    for (size_t i = 0; i < 7; ++i) CHECK(v.key(i) == order[i]);  // insertion order
    CHECK(v.find("s")->text() == std::string("a\xC3\xA9\xF0\x9F\x98\x80\0z", 9));
    const agm::JsonValue* n = v.find("n");
    CHECK(n->text() == "1.25E-2");
    CHECK(n->number() == 0.0125);
    CHECK_FALSE(n->is_integer());
    CHECK(v.find("t")->boolean());
    CHECK(v.find("f")->is_bool());
    CHECK_FALSE(v.find("f")->boolean());
    CHECK(v.find("z")->is_null());
    CHECK(v.find("a")->size() == 2);
    CHECK(v.find("a")->at(1).text() == "x");
    CHECK(v.find("o")->is_object());
    CHECK(v.find("o")->size() == 0);
    CHECK(v.find("missing") == nullptr);
    CHECK(v.find("a")->find("x") == nullptr);  // not an object
    CHECK(v.find("n")->offset() == doc.find("1.25E-2"));
    CHECK(v.find("a")->at(1).offset() == doc.find("\"x\""));

    // Escapes decode to exactly these bytes.
    REQUIRE(parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u007f\\u0080\\u07FF\\u0800\\uFFFF\\uDBFF\\uDFFF\"", &v, &err));
    CHECK(v.text() == "\"\\/\b\f\n\r\t\x7f\xC2\x80\xDF\xBF\xE0\xA0\x80\xEF\xBF\xBF\xF4\x8F\xBF\xBF");

    // Numbers: the text as written and the correctly rounded double.
    const char* nums[] = {"0", "-0", "0.1", "-2.5e-3", "1.7976931348623157e308", "4.9e-324",
                          "2.2250738585072014E-308", "123456789012345678901234567890",
                          "0.30000000000000004", "1E+2"};
    for (const char* t : nums) {
        CAPTURE(t);
        REQUIRE(parse(t, &v, &err));
        CHECK(v.text() == t);
        CHECK(v.number() == std::strtod(t, nullptr));
    }
    REQUIRE(parse("-0.0", &v, &err));
    CHECK(std::signbit(v.number()));

    // The serialisation re-escapes what must be and keeps the rest.
    REQUIRE(parse("{\"k\\n\":[\"\\u0001\\\"\xC3\xA9\",-1.50e3,true,null]}", &v, &err));
    std::string s;
    agm::json_serialize(v, &s);
    CHECK(s == "{\"k\\n\":[\"\\u0001\\\"\xC3\xA9\",-1.50e3,true,null]}");
}

TEST_CASE("integers are exact to 64 bits, never through a double") {
    struct Int {
        const char* text;
        bool fits_i64, fits_u64;
        int64_t i;
        uint64_t u;
    } ints[] = {
        {"0", true, true, 0, 0},
        {"-0", true, true, 0, 0},
        {"9223372036854775807", true, true, INT64_MAX, 9223372036854775807ull},
        {"-9223372036854775808", true, false, INT64_MIN, 0},
        {"9223372036854775808", false, true, 0, 9223372036854775808ull},
        {"18446744073709551615", false, true, 0, UINT64_MAX},
        {"18446744073709551616", false, false, 0, 0},
        {"-9223372036854775809", false, false, 0, 0},
        {"9007199254740993", true, true, 9007199254740993ll, 9007199254740993ull},  // 2^53 + 1
        {"-1", true, false, -1, 0},
        {"99999999999999999999999", false, false, 0, 0},
    };
    for (const Int& c : ints) {
        CAPTURE(c.text);
        agm::JsonValue v;
        agm::Error err;
        REQUIRE(parse(c.text, &v, &err));
        CHECK(v.is_integer());
        CHECK(v.fits_int64() == c.fits_i64);
        CHECK(v.fits_uint64() == c.fits_u64);
        int64_t i = 42;
        uint64_t u = 42;
        CHECK(v.to_int64("x", &i, &err) == c.fits_i64);
        if (c.fits_i64) CHECK(i == c.i);
        else CHECK(one_line(err.msg));
        CHECK(v.to_uint64("x", &u, &err) == c.fits_u64);
        if (c.fits_u64) CHECK(u == c.u);
        else CHECK(one_line(err.msg));
    }
    agm::JsonValue v;
    agm::Error err;
    int64_t i = 0;
    uint64_t u = 0;
    REQUIRE(parse("18446744073709551616", &v, &err));
    CHECK_FALSE(v.to_uint64("offset", &u, &err));
    CHECK(std::string(err.msg) == "offset: integer 18446744073709551616 does not fit in 64 bits");
    CHECK(v.number() == 18446744073709551616.0);
    REQUIRE(parse("-3", &v, &err));
    CHECK_FALSE(v.to_uint64("dim", &u, &err));
    CHECK(std::string(err.msg) == "dim: expected a non-negative integer, got -3");
    // Integral values written with a fraction or exponent are not integers.
    for (const char* t : {"1.0", "1e2", "-0.0", "1E0"}) {
        CAPTURE(t);
        REQUIRE(parse(t, &v, &err));
        CHECK_FALSE(v.is_integer());
        CHECK_FALSE(v.fits_int64());
        CHECK_FALSE(v.to_int64("n", &i, &err));
        CHECK(std::string(err.msg) == std::string("n: expected an integer, got the number ") + t);
    }
}

TEST_CASE("numbers beyond the double range: accepted, infinite, refused by to_double") {
    struct Big {
        const char* text;
        double value;
    } bigs[] = {
        {"1e400", HUGE_VAL},
        {"-1e400", -HUGE_VAL},
        {"1.7976931348623159e308", HUGE_VAL},  // rounds past the largest double
        {"123456789e99999999999999999999", HUGE_VAL},
        {"0.0000001e316", HUGE_VAL},
        {"1e-400", 0.0},
        {"-1e-400", -0.0},
        {"2.4e-324", 0.0},
        {"0.00000000000000000000000000000000000000000000000001e-300", 0.0},
        {"0e99999999999", 0.0},
    };
    for (const Big& b : bigs) {
        CAPTURE(b.text);
        agm::JsonValue v;
        agm::Error err;
        REQUIRE(parse(b.text, &v, &err));
        CHECK(v.number() == b.value);
        CHECK(std::signbit(v.number()) == std::signbit(b.value));
        double d = 7;
        const bool finite = std::isfinite(b.value);
        CHECK(v.to_double("rope_theta", &d, &err) == finite);
        if (!finite) {
            CHECK(std::strstr(err.msg, "rope_theta: number ") == err.msg);
            CHECK(std::strstr(err.msg, "beyond the range of a double") != nullptr);
            CHECK(d == 7);
        }
    }
}

TEST_CASE("nesting is bounded and deep input is refused cleanly") {
    agm::JsonValue v;
    agm::Error err;
    for (const char* open : {"[", "{\"a\":"}) {
        const char* close = open[0] == '[' ? "]" : "}";
        auto nest = [&](size_t depth) {
            std::string s;
            for (size_t i = 0; i < depth; ++i) s += open;
            s += "0";
            for (size_t i = 0; i < depth; ++i) s += close;
            return s;
        };
        CHECK(parse(nest(128), &v, &err));
        CHECK_FALSE(parse(nest(129), &v, &err));
        CHECK(std::strstr(err.msg, "nesting deeper than 128") != nullptr);
        // Far deeper than any stack could take with one frame per level.
        std::string deep;
        for (int i = 0; i < 200000; ++i) deep += open;
        CHECK_FALSE(parse(deep, &v, &err));
        CHECK(std::strstr(err.msg, "nesting deeper than 128") != nullptr);
        agm::JsonOptions shallow;
        shallow.max_depth = 3;
        CHECK(parse(nest(3), &v, &err, shallow));
        CHECK_FALSE(parse(nest(4), &v, &err, shallow));
    }
}

TEST_CASE("the number of values is bounded") {
    agm::JsonOptions opt;
    opt.max_values = 4;
    agm::JsonValue v;
    agm::Error err;
    CHECK(parse("[1,2,3]", &v, &err, opt));
    CHECK_FALSE(parse("[1,2,3,4]", &v, &err, opt));
    CHECK(std::string(err.msg) == "json: more than 4 values at byte 7");
}

TEST_CASE("large objects: lookup and duplicate detection stay fast") {
    std::string doc = "{";
    for (int i = 0; i < 200000; ++i) doc += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    agm::JsonValue v;
    agm::Error err;
    REQUIRE(parse(doc + "}", &v, &err));
    REQUIRE(v.size() == 200000);
    for (int i = 0; i < 200000; i += 997) {
        const agm::JsonValue* x = v.find("k" + std::to_string(i));
        REQUIRE(x != nullptr);
        CHECK(x->int64() == i);
    }
    CHECK_FALSE(parse(doc + ",\"k123456\":0}", &v, &err));
    CHECK(std::strstr(err.msg, "duplicate key \"k123456\" at byte ") != nullptr);
}

TEST_CASE("checked accessors name the path") {
    agm::JsonValue cfg;
    agm::Error err;
    REQUIRE(parse("{\"hidden_size\":\"2560\",\"eps\":1e-05,\"n\":null,\"tie\":true,\"name\":\"bitnet\","
                  "\"layers\":30,\"bad\\nkey\":1}",
                  &cfg, &err));
    int64_t i = 5;
    uint64_t u = 5;
    double d = 5;
    bool b = false;
    std::string s;
    CHECK_FALSE(cfg.get_int64("config.json", "hidden_size", &i, false, &err));
    CHECK(std::string(err.msg) == "config.json: hidden_size: expected an integer, got a string");
    CHECK_FALSE(cfg.get_uint64("config.json", "vocab_size", &u, false, &err));
    CHECK(std::string(err.msg) == "config.json: vocab_size: missing");
    CHECK(cfg.get_uint64("config.json", "vocab_size", &u, true, &err));
    CHECK(u == 5);  // optional and absent: untouched
    CHECK_FALSE(cfg.get_int64("config.json", "n", &i, true, &err));
    CHECK(std::string(err.msg) == "config.json: n: expected an integer, got null");
    CHECK_FALSE(cfg.get_int64("config.json", "eps", &i, false, &err));
    CHECK(std::string(err.msg) == "config.json: eps: expected an integer, got the number 1e-05");
    CHECK(cfg.get_double("config.json", "eps", &d, false, &err));
    CHECK(d == 1e-05);
    CHECK_FALSE(cfg.get_double("config.json", "name", &d, false, &err));
    CHECK(std::string(err.msg) == "config.json: name: expected a number, got a string");
    CHECK(cfg.get_bool("config.json", "tie", &b, false, &err));
    CHECK(b);
    CHECK_FALSE(cfg.get_bool("config.json", "layers", &b, false, &err));
    CHECK(std::string(err.msg) == "config.json: layers: expected a boolean, got a number");
    CHECK(cfg.get_string("config.json", "name", &s, false, &err));
    CHECK(s == "bitnet");
    CHECK(cfg.get_uint64("config.json", "layers", &u, false, &err));
    CHECK(u == 30);
    CHECK_FALSE(cfg.find("layers")->get_int64("config.json: layers", "x", &i, false, &err));
    CHECK(std::string(err.msg) == "config.json: layers: expected an object, got a number");
    // Keys with control bytes are printed escaped, on one line.
    CHECK_FALSE(cfg.get_string("config.json", "bad\nkey", &s, false, &err));
    CHECK(std::string(err.msg) == "config.json: bad\\x0Akey: expected a string, got a number");
    CHECK(agm::json_printable(std::string(100, 'x'), 10) == "xxxxxxxxxx...");
    CHECK(agm::json_printable("a\"\\\x01\xff") == "a\\\"\\\\\\x01\\xFF");
}

TEST_CASE("json_quote and the parser agree on every byte") {
    std::string all;
    for (int c = 1; c < 0x80; ++c) all += (char)c;
    all += std::string("\0", 1);
    all += "\xC3\xA9\xF0\x9F\x98\x80";
    agm::JsonValue v;
    agm::Error err;
    REQUIRE(parse(agm::json_quote(all), &v, &err));
    CHECK(v.text() == all);
}

}  // TEST_SUITE("json")
