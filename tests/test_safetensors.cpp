// The safetensors reader (agm/safetensors.h): round trips of every dtype,
// exact F16/BF16 conversion over all bit patterns, scalars and empty
// tensors, and hostile files (truncation, bad sizes, offsets, types).
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "agm/safetensors.h"
#include "doctest.h"
#include "safetensors_writer.h"

using agm_test::StOptions;
using agm_test::StTensor;
using agm_test::build_safetensors;
using agm_test::st_floats;
using agm_test::st_raw;

namespace {

using Bytes = std::vector<uint8_t>;

bool one_line(const char* m) { return m[0] != '\0' && std::strchr(m, '\n') == nullptr; }

// Parses an exactly sized heap copy (ASan sees any read past the end).
// Holds the copy, since the tensors point into it.
struct Parsed {
    Bytes copy;
    agm::SafetensorsFile f;
    agm::Error err;
    bool ok = false;
    explicit Parsed(const Bytes& img) : copy(img) {
        ok = agm::parse_safetensors(copy.empty() ? nullptr : copy.data(), copy.size(), &f, &err);
    }
};

// The file must be refused with a one-line message containing `part`.
void refused(const Bytes& img, const char* part) {
    Parsed p(img);
    CAPTURE(p.err.msg);
    CHECK_FALSE(p.ok);
    CHECK(one_line(p.err.msg));
    CHECK(std::strncmp(p.err.msg, "safetensors: ", 13) == 0);
    CHECK(std::strstr(p.err.msg, part) != nullptr);
    CHECK(p.f.tensors.empty());
}

const char* const kAllDtypes[] = {"BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3", "I16", "U16", "F16",
                                  "BF16", "I32", "U32", "F32", "F64",     "I64",     "U64"};
const uint32_t kAllSizes[] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 8, 8, 8};

Bytes pattern(size_t n, uint32_t seed) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = (uint8_t)(i * 37 + seed * 11 + 5);
    return b;
}

uint32_t bits_of(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// A small well-formed file used by the hostile cases.
std::vector<StTensor> small_tensors() {
    return {st_floats("a", "F32", {2, 2}, {1, 2, 3, 4}),
            st_raw("b", "U8", {3}, {7, 8, 9}),
            st_floats("c", "BF16", {}, {0.5f})};
}

}  // namespace

TEST_SUITE("safetensors") {

TEST_CASE("every dtype round-trips, by name, with metadata") {
    std::vector<StTensor> ts;
    for (size_t k = 0; k < 15; ++k)
        ts.push_back(st_raw(std::string("t.") + kAllDtypes[k], kAllDtypes[k], {2, 3},
                            pattern(6 * kAllSizes[k], (uint32_t)k)));
    StOptions opt;
    opt.metadata = {{"format", "pt"}, {"note", "\xC3\xA9\n\"q\""}};
    Parsed p(build_safetensors(ts, opt));
    REQUIRE_MESSAGE(p.ok, p.err.msg);
    REQUIRE(p.f.tensors.size() == 15);
    CHECK(p.f.data_start == 8 + p.f.header_size);
    CHECK(p.f.header_size % 8 == 0);
    CHECK(p.f.metadata.size() == 2);
    REQUIRE(p.f.find_metadata("note") != nullptr);
    CHECK(*p.f.find_metadata("note") == "\xC3\xA9\n\"q\"");
    CHECK(*p.f.find_metadata("format") == "pt");
    CHECK(p.f.find_metadata("absent") == nullptr);
    for (size_t k = 0; k < 15; ++k) {
        CAPTURE(kAllDtypes[k]);
        agm::StDtype dt;
        REQUIRE(agm::st_dtype_from_name(kAllDtypes[k], &dt));
        CHECK(std::string(agm::st_dtype_name(dt)) == kAllDtypes[k]);
        CHECK(agm::st_dtype_size(dt) == kAllSizes[k]);
        const agm::SafetensorsTensor* t = p.f.find(std::string("t.") + kAllDtypes[k]);
        REQUIRE(t != nullptr);
        CHECK(t == &p.f.tensors[k]);  // header order kept
        CHECK(t->dtype == dt);
        CHECK(t->shape == std::vector<uint64_t>{2, 3});
        CHECK(t->n_elements == 6);
        CHECK(t->nbytes == 6 * kAllSizes[k]);
        CHECK(t->data == p.copy.data() + p.f.data_start + t->begin);
        CHECK(std::memcmp(t->data, ts[k].bytes.data(), t->nbytes) == 0);
        const uint8_t* raw = nullptr;
        uint64_t n = 0;
        CHECK(agm::tensor_raw(*t, dt, &raw, &n, &p.err));
        CHECK((raw == t->data && n == t->nbytes));
    }
    CHECK(p.f.find("t.F4") == nullptr);
    CHECK(p.f.find("") == nullptr);
    agm::StDtype dt;
    for (const char* bad : {"F4", "f32", "", "F32 ", "FLOAT", "C64"})
        CHECK_FALSE(agm::st_dtype_from_name(bad, &dt));
}

TEST_CASE("raw access and float conversion check the dtype") {
    Parsed p(build_safetensors(small_tensors()));
    REQUIRE_MESSAGE(p.ok, p.err.msg);
    const uint8_t* raw = nullptr;
    uint64_t n = 0;
    REQUIRE(agm::tensor_raw(*p.f.find("b"), agm::StDtype::U8, &raw, &n, &p.err));
    CHECK((n == 3 && raw[0] == 7 && raw[2] == 9));
    CHECK_FALSE(agm::tensor_raw(*p.f.find("b"), agm::StDtype::I8, &raw, &n, &p.err));
    CHECK(std::string(p.err.msg) == "tensor \"b\": expected dtype I8, got U8");
    std::vector<float> v;
    CHECK_FALSE(agm::tensor_to_f32(*p.f.find("b"), &v, &p.err));
    CHECK(std::string(p.err.msg) == "tensor \"b\": dtype U8 cannot be read as floats");
    CHECK(p.err.kind == agm::ErrorKind::Unsupported);
    REQUIRE(agm::tensor_to_f32(*p.f.find("a"), &v, &p.err));
    CHECK(v == std::vector<float>{1, 2, 3, 4});
    REQUIRE(agm::tensor_to_f32(*p.f.find("c"), &v, &p.err));
    CHECK(v == std::vector<float>{0.5f});
}

TEST_CASE("F32, F16 and BF16 values convert exactly, unaligned too") {
    const std::vector<float> vals = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f,
                                     5.960464477539063e-08f, -3.0517578125e-05f, 0.333251953125f};
    for (uint32_t align : {1u, 8u}) {
        for (const char* dt : {"F32", "F16", "BF16"}) {
            CAPTURE(dt);
            StOptions opt;
            opt.header_align = align;
            // A one-byte tensor first, so that the float data is misaligned.
            Parsed p(build_safetensors({st_raw("pad", "U8", {1}, {0}),
                                        st_floats("x", dt, {vals.size()}, vals)},
                                       opt));
            REQUIRE_MESSAGE(p.ok, p.err.msg);
            std::vector<float> got;
            REQUIRE(agm::tensor_to_f32(*p.f.find("x"), &got, &p.err));
            REQUIRE(got.size() == vals.size());
            for (size_t i = 0; i < vals.size(); ++i) {
                CAPTURE(i);
                float want = vals[i];
                if (std::string(dt) == "BF16") want = agm::st_bf16_to_f32(agm_test::f32_to_bf16_rne(want));
                CHECK(bits_of(got[i]) == bits_of(want));
                if (std::string(dt) != "BF16") CHECK(bits_of(got[i]) == bits_of(vals[i]));
            }
        }
    }
}

TEST_CASE("F16 and BF16: all 65536 bit patterns against an independent formula") {
    for (uint32_t h = 0; h < 65536; ++h) {
        const double sign = (h & 0x8000) ? -1.0 : 1.0;
        // binary16: 5-bit exponent (bias 15), 10-bit mantissa.
        {
            const uint32_t e = (h >> 10) & 31, m = h & 1023;
            const float got = agm::st_f16_to_f32((uint16_t)h);
            if (e == 31) {
                CHECK(std::signbit(got) == (sign < 0));
                if (m == 0) CHECK(std::isinf(got));
                else CHECK((std::isnan(got) && (bits_of(got) & 0x7fffffu) == m << 13));
            } else {
                const double want = e == 0 ? sign * std::ldexp((double)m, -24)
                                           : sign * std::ldexp((double)(1024 + m), (int)e - 25);
                if (bits_of(got) != bits_of((float)want)) {
                    CAPTURE(h);
                    CHECK(got == (float)want);
                }
                CHECK(std::signbit(got) == (sign < 0));
            }
        }
        // bfloat16: 8-bit exponent (bias 127), 7-bit mantissa.
        {
            const uint32_t e = (h >> 7) & 255, m = h & 127;
            const float got = agm::st_bf16_to_f32((uint16_t)h);
            if (e == 255) {
                CHECK(std::signbit(got) == (sign < 0));
                if (m == 0) CHECK(std::isinf(got));
                else CHECK((std::isnan(got) && (bits_of(got) & 0x7fffffu) == m << 16));
            } else {
                const double want = e == 0 ? sign * std::ldexp((double)m, -133)
                                           : sign * std::ldexp((double)(128 + m), (int)e - 134);
                if (bits_of(got) != bits_of((float)want)) {
                    CAPTURE(h);
                    CHECK(got == (float)want);
                }
            }
        }
    }
    // The same through whole tensors (every pattern, little-endian).
    Bytes all(2 * 65536);
    for (uint32_t h = 0; h < 65536; ++h) {
        all[2 * h] = (uint8_t)h;
        all[2 * h + 1] = (uint8_t)(h >> 8);
    }
    for (const char* dt : {"F16", "BF16"}) {
        CAPTURE(dt);
        Parsed p(build_safetensors({st_raw("all", dt, {256, 256}, all)}));
        REQUIRE_MESSAGE(p.ok, p.err.msg);
        std::vector<float> v;
        REQUIRE(agm::tensor_to_f32(p.f.tensors[0], &v, &p.err, true));
        REQUIRE(v.size() == 65536);
        bool same = true;
        for (uint32_t h = 0; h < 65536; ++h) {
            const float want = dt[0] == 'F' ? agm::st_f16_to_f32((uint16_t)h)
                                            : agm::st_bf16_to_f32((uint16_t)h);
            same = same && bits_of(v[h]) == bits_of(want);
        }
        CHECK(same);
        // Refusing non-finite values names the first: +inf, at 0x7C00 / 0x7F80.
        CHECK_FALSE(agm::tensor_to_f32(p.f.tensors[0], &v, &p.err));
        CHECK(std::string(p.err.msg) ==
              (dt[0] == 'F' ? "tensor \"all\": element 31744 is +inf"
                            : "tensor \"all\": element 32640 is +inf"));
    }
}

TEST_CASE("non-finite values: refused by default with the first index, allowed on request") {
    const float nan = std::nanf(""), inf = HUGE_VALF;
    for (const char* dt : {"F32", "F16", "BF16"}) {
        CAPTURE(dt);
        Parsed p(build_safetensors({st_floats("w", dt, {5}, {1, 2, 3, nan, -inf}),
                                    st_floats("m", dt, {2}, {-inf, 0})}));
        REQUIRE_MESSAGE(p.ok, p.err.msg);  // the container does not judge values
        std::vector<float> v;
        CHECK_FALSE(agm::tensor_to_f32(*p.f.find("w"), &v, &p.err));
        CHECK(std::string(p.err.msg) == "tensor \"w\": element 3 is NaN");
        CHECK_FALSE(agm::tensor_to_f32(*p.f.find("m"), &v, &p.err));
        CHECK(std::string(p.err.msg) == "tensor \"m\": element 0 is -inf");
        REQUIRE(agm::tensor_to_f32(*p.f.find("w"), &v, &p.err, true));
        CHECK(std::isnan(v[3]));
        CHECK(agm::first_non_finite(v.data(), v.size()) == 3);
        CHECK(agm::first_non_finite(v.data(), 3) == -1);
    }
}

TEST_CASE("scalars, empty tensors, empty files, any data order") {
    // A scalar holds one element; a zero dimension makes an empty tensor that
    // takes no bytes, wherever it sits; huge dimensions times zero are fine.
    Parsed p(build_safetensors({st_floats("scalar", "F32", {}, {3.5f}),
                                st_raw("empty0", "F32", {0}, {}),
                                st_raw("empty_mid", "I64", {3, 0, 5}, {}),
                                st_raw("huge_times_zero", "F64", {1ull << 40, 1ull << 40, 0}, {}),
                                st_raw("u8", "U8", {2}, {1, 2}),
                                st_raw("empty_end", "BF16", {0, 7}, {})}));
    REQUIRE_MESSAGE(p.ok, p.err.msg);
    const agm::SafetensorsTensor* s = p.f.find("scalar");
    REQUIRE(s != nullptr);
    CHECK(s->shape.empty());
    CHECK(s->n_elements == 1);
    std::vector<float> v;
    REQUIRE(agm::tensor_to_f32(*s, &v, &p.err));
    CHECK(v == std::vector<float>{3.5f});
    for (const char* name : {"empty0", "empty_mid", "huge_times_zero", "empty_end"}) {
        CAPTURE(name);
        const agm::SafetensorsTensor* t = p.f.find(name);
        REQUIRE(t != nullptr);
        CHECK(t->n_elements == 0);
        CHECK(t->nbytes == 0);
    }
    REQUIRE(agm::tensor_to_f32(*p.f.find("empty0"), &v, &p.err));
    CHECK(v.empty());

    Parsed none(build_safetensors({}));  // "{}" and nothing else
    REQUIRE_MESSAGE(none.ok, none.err.msg);
    CHECK(none.f.tensors.empty());
    CHECK(none.f.data_size == 0);
    Parsed only_meta(build_safetensors({}, [] {
        StOptions o;
        o.metadata = {{"k", "v"}};
        return o;
    }()));
    CHECK(only_meta.ok);

    // The data may be laid out in any order; the header order is kept.
    StOptions rev;
    rev.data_reversed = true;
    Parsed r(build_safetensors(small_tensors(), rev));
    REQUIRE_MESSAGE(r.ok, r.err.msg);
    CHECK(r.f.tensors[0].name == "a");
    CHECK(r.f.tensors[0].begin > r.f.tensors[1].begin);
    REQUIRE(agm::tensor_to_f32(*r.f.find("a"), &v, &p.err));
    CHECK(v == std::vector<float>{1, 2, 3, 4});

    // JSON whitespace around the header object is allowed, spaces or not.
    StOptions ws;
    ws.header_json = "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}\n\t \r";
    Bytes img = build_safetensors({}, ws);
    img.push_back(42);
    Parsed w(img);
    CHECK_MESSAGE(w.ok, w.err.msg);
}

TEST_CASE("hostile: truncation at every offset, and byte corruption, never crash") {
    StOptions opt;
    opt.metadata = {{"format", "pt"}};
    const Bytes img = build_safetensors(small_tensors(), opt);
    REQUIRE(Parsed(img).ok);
    for (size_t n = 0; n < img.size(); ++n) {
        CAPTURE(n);
        Parsed p(Bytes(img.begin(), img.begin() + n));
        CHECK_FALSE(p.ok);
        CHECK(one_line(p.err.msg));
    }
    // Every byte replaced by a few values: accepted or refused, with a
    // message, and nothing read out of bounds.
    size_t refusals = 0;
    for (size_t i = 0; i < img.size(); ++i)
        for (uint8_t b : {0x00, 0xFF, 0x22, 0x7D, 0x39, 0x5B}) {
            Bytes bad = img;
            bad[i] = b;
            Parsed p(bad);
            if (!p.ok) {
                ++refusals;
                CHECK(one_line(p.err.msg));
            }
        }
    CHECK(refusals > img.size());
}

TEST_CASE("hostile: the header size") {
    const Bytes good = build_safetensors(small_tensors());
    auto with_size = [&](uint64_t n) {
        Bytes b = good;
        for (int i = 0; i < 8; ++i) b[i] = (uint8_t)(n >> (8 * i));
        return b;
    };
    refused(Bytes(), "file is 0 bytes, too short");
    refused(Bytes(7, 0), "file is 7 bytes, too short");
    refused(with_size(UINT64_MAX), "header size 18446744073709551615 is over the 100000000-byte limit");
    refused(with_size(100000001), "over the 100000000-byte limit");
    refused(with_size(100000000), "is beyond the end of the file");
    refused(with_size(good.size() - 7), "is beyond the end of the file");
    refused(with_size(0), "header does not start with '{'");
    refused(with_size(1), "safetensors: header: json: unexpected end of input");
}

TEST_CASE("hostile: header text") {
    auto header = [](const std::string& h) {
        StOptions o;
        o.header_json = h;
        return build_safetensors({}, o);
    };
    refused(header("[]"), "does not start with '{'");
    refused(header(" {}"), "does not start with '{'");
    refused(header("{"), "json: unexpected end of input");
    refused(header("{} x"), "json: data after the value at byte 3");
    refused(header(std::string("{}\0\0\0\0\0\0", 8)), "data after the value");
    refused(header("{\"a\":1,\"a\":2}"), "duplicate key \"a\" at byte 7");
    refused(header("{\"\xC0\x80\":1}"), "invalid UTF-8");
    refused(header("{\"x\":" + std::string(40, '[') + std::string(40, ']') + "}"), "nesting deeper");
    refused(header("{\"x\":42}"), "tensor \"x\": expected an object, got a number");
    // Duplicate tensor names are duplicate JSON keys.
    std::vector<StTensor> dup = {st_raw("w", "U8", {1}, {1}), st_raw("w", "U8", {1}, {2})};
    refused(build_safetensors(dup), "safetensors: header: json: duplicate key \"w\" at byte ");
}

TEST_CASE("hostile: metadata") {
    auto meta = [](const std::string& m) {
        StOptions o;
        o.metadata_json = m;
        return build_safetensors(small_tensors(), o);
    };
    CHECK(Parsed(meta("{}")).ok);
    refused(meta("{\"a\":1}"), "__metadata__: \"a\": expected a string, got a number");
    refused(meta("{\"a\":\"x\",\"b\":null}"), "__metadata__: \"b\": expected a string, got null");
    refused(meta("{\"a\":{\"b\":\"c\"}}"), "expected a string, got an object");
    refused(meta("[\"a\"]"), "__metadata__: expected an object, got an array");
    refused(meta("\"text\""), "__metadata__: expected an object, got a string");
}

TEST_CASE("hostile: tensor entries of the wrong shape or type") {
    struct Bad {
        const char* what;  // field to break
        const char* json;
        const char* msg;
    } bads[] = {
        {"entry", "42", "tensor \"w\": expected an object, got a number"},
        {"entry", "null", "expected an object, got null"},
        {"entry", "{}", "tensor \"w\": dtype: missing"},
        {"entry", "{\"dtype\":\"U8\",\"shape\":[4]}", "tensor \"w\": data_offsets: missing"},
        {"entry", "{\"dtype\":\"U8\",\"data_offsets\":[0,4]}", "tensor \"w\": shape: missing"},
        {"entry", "{\"dtype\":7,\"shape\":[4],\"data_offsets\":[0,4]}", "dtype: expected a string, got a number"},
        {"entry", "{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,4]}", "unknown dtype \"F4\""},
        {"entry", "{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}", "unknown dtype \"f32\""},
        {"entry", "{\"dtype\":\"\",\"shape\":[4],\"data_offsets\":[0,4]}", "unknown dtype \"\""},
        {"extra", "\"offsets\":[0,4]", "tensor \"w\": unknown key \"offsets\""},
        {"extra", "\"dtype \":1", "unknown key \"dtype \""},
        {"shape", "\"4\"", "tensor \"w\": shape: expected an array, got a string"},
        {"shape", "4", "shape: expected an array, got a number"},
        {"shape", "[-4]", "shape[0]: expected a non-negative integer, got -4"},
        {"shape", "[2,2.0]", "shape[1]: expected a non-negative integer, got the number 2.0"},
        {"shape", "[4e0]", "got the number 4e0"},
        {"shape", "[\"4\"]", "shape[0]: expected a non-negative integer, got a string"},
        {"shape", "[null]", "got null"},
        {"shape", "[[4]]", "got an array"},
        {"shape", "[18446744073709551616]", "shape[0]: integer 18446744073709551616 does not fit"},
        {"shape", "[4294967296,4294967296]", "shape [4294967296, 4294967296] holds more than 2^64 bytes of U8"},
        {"shape", "[4611686018427387904,4]", "more than 2^64"},
        {"shape", "[4611686018427387904]", "shape [4611686018427387904] of U8 needs 4611686018427387904"},
        {"shape", "[5]", "span 4 bytes, shape [5] of U8 needs 5"},
        {"shape", "[]", "span 4 bytes, shape [] of U8 needs 1"},
        {"shape", "[2,0]", "needs 0"},
        {"offsets", "\"0,4\"", "data_offsets: expected an array, got a string"},
        {"offsets", "[0]", "data_offsets: expected [begin, end], got 1 numbers"},
        {"offsets", "[0,4,8]", "got 3 numbers"},
        {"offsets", "[]", "got 0 numbers"},
        {"offsets", "[0,-4]", "data_offsets[1]: expected a non-negative integer, got -4"},
        {"offsets", "[\"0\",4]", "data_offsets[0]: expected a non-negative integer, got a string"},
        {"offsets", "[0,4.0]", "got the number 4.0"},
        {"offsets", "[4,0]", "data_offsets [4, 0] end before begin"},
        {"offsets", "[0,5]", "span 5 bytes, shape [4] of U8 needs 4"},
        {"offsets", "[1,5]", "beyond the 4-byte data buffer"},
        {"offsets", "[18446744073709551611,18446744073709551615]", "beyond the 4-byte data buffer"},
        {"offsets", "[0,18446744073709551616]", "does not fit in 64 bits"},
    };
    for (const Bad& b : bads) {
        CAPTURE(b.json);
        StTensor t = st_raw("w", "U8", {4}, {1, 2, 3, 4});
        const std::string what = b.what;
        if (what == "entry") t.entry_json = b.json;
        else if (what == "extra") t.extra_json = b.json;
        else if (what == "shape") t.shape_json = b.json;
        else t.offsets_json = b.json;
        refused(build_safetensors({t}), b.msg);
    }
    // Elements that fit in 64 bits, bytes that do not.
    StTensor big = st_raw("w", "F32", {1ull << 62}, {});
    refused(build_safetensors({big}), "shape [4611686018427387904] holds more than 2^64 bytes of F32");
    // Unknown dtypes are reported as unsupported rather than malformed.
    StTensor t = st_raw("w", "F6_E2M3", {4}, {1, 2, 3, 4});
    Parsed p(build_safetensors({t}));
    CHECK_FALSE(p.ok);
    CHECK(p.err.kind == agm::ErrorKind::Unsupported);
    CHECK(std::strstr(p.err.msg, "unknown dtype \"F6_E2M3\"") != nullptr);
}

TEST_CASE("hostile: offsets that overlap or leave holes") {
    // A gap before a tensor, bytes after the last one, overlapping ranges.
    std::vector<StTensor> ts = small_tensors();  // a: [0,16) b: [16,19) c: [19,21)
    ts[1].gap_before = 3;
    refused(build_safetensors(ts), "bytes [16, 19) of the data buffer belong to no tensor");
    StOptions trailing;
    trailing.trailing = {0, 0, 0, 0, 0};
    refused(build_safetensors(small_tensors(), trailing),
            "bytes [21, 26) of the data buffer belong to no tensor");
    ts = small_tensors();
    ts[1].offsets_json = "[14,17]";
    refused(build_safetensors(ts), "tensor \"b\" [14, 17) overlaps tensor \"a\" [0, 16)");
    ts = small_tensors();
    ts[2].offsets_json = "[0,2]";  // c inside a
    refused(build_safetensors(ts), "overlaps");
    ts = small_tensors();
    ts[1].offsets_json = "[0,3]";
    ts[0].offsets_json = "[0,16]";  // a and b start together
    refused(build_safetensors(ts), "overlaps");
    // Two tensors on the same bytes (a polyglot layout).
    std::vector<StTensor> same = {st_raw("x", "U8", {2}, {1, 2}), st_raw("y", "U8", {2}, {})};
    same[1].offsets_json = "[0,2]";
    refused(build_safetensors(same), "tensor \"y\" [0, 2) overlaps tensor \"x\" [0, 2)");
    // An empty tensor inside another tensor's bytes.
    std::vector<StTensor> inside = {st_raw("x", "U8", {4}, {1, 2, 3, 4}), st_raw("e", "U8", {0}, {})};
    inside[1].offsets_json = "[2,2]";
    refused(build_safetensors(inside), "tensor \"e\" [2, 2) overlaps tensor \"x\" [0, 4)");
    // ... but at a boundary it is fine.
    inside[1].offsets_json = "[4,4]";
    CHECK(Parsed(build_safetensors(inside)).ok);
    inside[1].offsets_json = "[0,0]";
    CHECK(Parsed(build_safetensors(inside)).ok);
    // Only empty tensors, and data: all of it unreferenced.
    std::vector<StTensor> empties = {st_raw("e", "U8", {0}, {})};
    refused(build_safetensors(empties, trailing), "bytes [0, 5) of the data buffer belong to no tensor");
}

TEST_CASE("hostile names are printed safely") {
    std::vector<StTensor> ts = {st_raw(std::string("a\nb\"\0c", 6) + std::string(300, 'z'), "Q9", {1}, {1})};
    Parsed p(build_safetensors(ts));
    CHECK_FALSE(p.ok);
    CHECK(one_line(p.err.msg));
    CHECK(std::strstr(p.err.msg, "tensor \"a\\x0Ab\\\"\\x00czzz") != nullptr);
    CHECK(std::strlen(p.err.msg) < sizeof p.err.msg);
}

}  // TEST_SUITE("safetensors")
