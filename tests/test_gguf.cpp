// GGUF reader tests: the ggml type table, a round trip of every value and
// array type through tests/gguf_writer.h, the two real vocabulary-only files
// in shared/tokenizers, and the Llama 2 vocabulary through the GGUF path
// (vocab_from_gguf -> TOKENIZER section -> engine tokenizer: llama.cpp's
// vectors, and equality with the Vocab read from tokenizer.model). Hostile
// files are in test_gguf_hostile.cpp.
#include "doctest.h"

#include <cmath>
#include <ios>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/vocab.h"
#include "gguf_writer.h"
#include "test_util.h"
#include "tok_util.h"

using agm_test::Bytes;
using agm_test::GgufWriter;

namespace {

bool parse(const Bytes& b, agm::GgufFile* f, agm::Error* err) { return agm::parse_gguf(b.data(), b.size(), f, err); }

template <typename T>
T raw(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The type table as ggml (and bitnet.cpp, for I2_S) define it: id, name,
// elements per block, bytes per block (I2_S: 0, 0 — its size is n / 4 + 32).
struct TypeRow {
    uint32_t id;
    const char* name;
    uint32_t block, bytes;
};
const TypeRow kTypes[] = {
    {0, "F32", 1, 4},        {1, "F16", 1, 2},        {2, "Q4_0", 32, 18},     {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},     {8, "Q8_0", 32, 34},     {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},  {12, "Q4_K", 256, 144},  {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},  {16, "IQ2_XXS", 256, 66}, {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50}, {20, "IQ4_NL", 32, 18},  {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},  {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},       {27, "I64", 1, 8},       {28, "F64", 1, 8},       {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},      {34, "TQ1_0", 256, 54},  {35, "TQ2_0", 256, 66},  {36, "I2_S", 0, 0},
    {39, "MXFP4", 32, 17},
};

}  // namespace

TEST_CASE("gguf: the ggml type table") {
    size_t checked = 0;
    for (const TypeRow& r : kTypes) {
        CAPTURE(r.name);
        const agm::GgmlTypeInfo* t = agm::ggml_type_info(r.id);
        REQUIRE(t != nullptr);
        CHECK(std::string(t->name) == r.name);
        CHECK(std::string(agm::ggml_type_name(r.id)) == r.name);
        CHECK(t->block == r.block);
        CHECK(t->block_bytes == r.bytes);
        uint64_t bytes = 0;
        agm::Error err;
        if (r.id == agm::GGML_I2_S) {
            const uint64_t ne[2] = {256, 3};
            REQUIRE(agm::ggml_tensor_bytes(r.id, ne, 2, &bytes, &err));
            CHECK(bytes == 256 * 3 / 4 + 32);
            const uint64_t odd[1] = {192};
            CHECK_FALSE(agm::ggml_tensor_bytes(r.id, odd, 1, &bytes, &err));
            CHECK(std::string(err.msg).find("multiple of 128") != std::string::npos);
            continue;
        }
        const uint64_t ne[3] = {r.block * 3, 5, 2};
        REQUIRE_MESSAGE(agm::ggml_tensor_bytes(r.id, ne, 3, &bytes, &err), err.msg);
        CHECK(bytes == (uint64_t)r.bytes * 3 * 5 * 2);
        if (r.block > 1) {
            const uint64_t bad[2] = {r.block + 1, 2};
            CHECK_FALSE(agm::ggml_tensor_bytes(r.id, bad, 2, &bytes, &err));
            CHECK(std::string(err.msg).find(r.name) != std::string::npos);
            CHECK(std::string(err.msg).find("not a multiple of the block size") != std::string::npos);
        }
        checked++;
    }
    for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 37u, 38u, 40u, 1000u, 0xFFFFFFFFu}) {
        CHECK(agm::ggml_type_info(id) == nullptr);
        CHECK(agm::ggml_type_name(id) == nullptr);
        uint64_t bytes = 0;
        const uint64_t ne[1] = {256};
        agm::Error err;
        CHECK_FALSE(agm::ggml_tensor_bytes(id, ne, 1, &bytes, &err));
        CHECK(std::string(err.msg).find("unknown ggml tensor type") != std::string::npos);
    }
    // Overflow and degenerate shapes.
    uint64_t bytes = 0;
    agm::Error err;
    const uint64_t huge[2] = {1ull << 32, 1ull << 32};
    CHECK_FALSE(agm::ggml_tensor_bytes(agm::GGML_F32, huge, 2, &bytes, &err));
    const uint64_t big[1] = {1ull << 62};  // fits int64, but 2^62 * 8 bytes does not fit 64 bits
    CHECK_FALSE(agm::ggml_tensor_bytes(agm::GGML_F64, big, 1, &bytes, &err));
    const uint64_t zero[2] = {32, 0};
    CHECK_FALSE(agm::ggml_tensor_bytes(agm::GGML_F32, zero, 2, &bytes, &err));
    CHECK_FALSE(agm::ggml_tensor_bytes(agm::GGML_F32, zero, 0, &bytes, &err));
    CHECK_FALSE(agm::ggml_tensor_bytes(agm::GGML_F32, zero, 5, &bytes, &err));
    MESSAGE("type table: " << checked + 1 << " types checked against ggml's block sizes");
}

TEST_CASE("gguf: round trip of every value type and array type, v2 and v3") {
    for (uint32_t version : {2u, 3u}) {
        CAPTURE(version);
        GgufWriter w;
        w.version = version;
        w.add_u8("t.u8", 200);
        w.add_i8("t.i8", -100);
        w.add_u16("t.u16", 60000);
        w.add_i16("t.i16", -30000);
        w.add_u32("t.u32", 4000000000u);
        w.add_i32("t.i32", -2000000000);
        w.add_f32("t.f32", 1.5f);
        w.add_bool("t.bool", true);
        w.add_string("t.string", std::string("h\xc3\xa9llo\0x", 8));
        w.add_u64("t.u64", 0xFFFFFFFFFFFFFFFFull);
        w.add_i64("t.i64", INT64_MIN);
        w.add_f64("t.f64", -2.25);
        w.add_string("t.empty", "");
        w.add_array<int>("a.u8", agm::GGUF_U8, {1, 2, 255});
        w.add_array<int>("a.i8", agm::GGUF_I8, {-1, 2, -128});
        w.add_array<int>("a.u16", agm::GGUF_U16, {1, 65535});
        w.add_array<int>("a.i16", agm::GGUF_I16, {-32768, 7});
        w.add_array<uint32_t>("a.u32", agm::GGUF_U32, {0, 4000000000u});
        w.add_array<int32_t>("a.i32", agm::GGUF_I32, {-5, 6, INT32_MIN});
        w.add_array<float>("a.f32", agm::GGUF_F32, {0.5f, -1.0f});
        w.add_array<int>("a.bool", agm::GGUF_BOOL, {1, 0, 1});
        w.add_string_array("a.string", {"x", "", "yz"});
        w.add_array<uint64_t>("a.u64", agm::GGUF_U64, {1ull << 40});
        w.add_array<int64_t>("a.i64", agm::GGUF_I64, {-3, 1ll << 40});
        w.add_array<double>("a.f64", agm::GGUF_F64, {0.25, 1e300});
        w.add_array<int>("a.empty_u32", agm::GGUF_U32, {});
        w.add_string_array("a.empty_string", {});
        const Bytes b = w.build();
        agm::GgufFile f;
        agm::Error err;
        REQUIRE_MESSAGE(parse(b, &f, &err), err.msg);
        CHECK(f.version == version);
        CHECK(f.kv.size() == 27);
        CHECK(f.tensors.empty());
        CHECK(f.alignment == 32);

        // Raw values.
        auto v = [&](const char* k) -> const agm::GgufValue& {
            const agm::GgufKv* kv = f.find(k);
            REQUIRE_MESSAGE(kv != nullptr, k);
            return kv->value;
        };
        CHECK(v("t.u8").type == agm::GGUF_U8);
        CHECK(v("t.u8").data[0] == 200);
        CHECK((int8_t)v("t.i8").data[0] == -100);
        CHECK(raw<uint16_t>(v("t.u16").data) == 60000);
        CHECK(raw<int16_t>(v("t.i16").data) == -30000);
        CHECK(raw<uint64_t>(v("t.u64").data) == 0xFFFFFFFFFFFFFFFFull);
        CHECK(raw<int64_t>(v("t.i64").data) == INT64_MIN);
        CHECK(raw<double>(v("t.f64").data) == -2.25);
        CHECK(v("t.string").count == 8);
        CHECK(std::string((const char*)v("t.string").data, 8) == std::string("h\xc3\xa9llo\0x", 8));
        CHECK(v("a.i16").elem_type == agm::GGUF_I16);
        CHECK(v("a.i16").count == 2);
        CHECK(raw<int16_t>(v("a.i16").data) == -32768);
        CHECK(raw<double>(v("a.f64").data + 8) == 1e300);
        CHECK(v("a.bool").data[1] == 0);
        CHECK(v("a.empty_u32").count == 0);
        CHECK(v("a.string").strings == std::vector<std::string>{"x", "", "yz"});
        CHECK(v("a.empty_string").strings.empty());

        // Getters.
        uint32_t u32 = 0;
        uint64_t u64 = 0;
        int32_t i32 = 0;
        float f32 = 0;
        bool bl = false;
        std::string s;
        std::vector<std::string> sa;
        std::vector<float> fa;
        std::vector<int32_t> ia;
        CHECK(f.get_u32("t.u8", &u32, false, &err));
        CHECK(u32 == 200);
        CHECK(f.get_u32("t.u16", &u32, false, &err));
        CHECK(u32 == 60000);
        CHECK(f.get_u32("t.u32", &u32, false, &err));
        CHECK(u32 == 4000000000u);
        CHECK_FALSE(f.get_u32("t.i8", &u32, false, &err));
        CHECK(std::string(err.msg) == "gguf: key 't.i8' at byte " + std::to_string(f.find("t.i8")->at) +
                                          ": -100 does not fit u32");
        CHECK_FALSE(f.get_u32("t.u64", &u32, false, &err));
        CHECK(f.get_u64("t.u64", &u64, false, &err));
        CHECK(u64 == 0xFFFFFFFFFFFFFFFFull);
        CHECK(f.get_i32("t.i32", &i32, false, &err));
        CHECK(i32 == -2000000000);
        CHECK(f.get_i32("t.i16", &i32, false, &err));
        CHECK(i32 == -30000);
        CHECK_FALSE(f.get_i32("t.i64", &i32, false, &err));
        CHECK_FALSE(f.get_i32("t.u32", &i32, false, &err));
        CHECK(f.get_f32("t.f32", &f32, false, &err));
        CHECK(f32 == 1.5f);
        CHECK(f.get_f32("t.f64", &f32, false, &err));
        CHECK(f32 == -2.25f);
        CHECK_FALSE(f.get_f32("t.u32", &f32, false, &err));
        CHECK(std::string(err.msg).find("has type u32, expected f32") != std::string::npos);
        CHECK(f.get_bool("t.bool", &bl, false, &err));
        CHECK(bl);
        CHECK(f.get_string("t.empty", &s, false, &err));
        CHECK(s.empty());
        CHECK(f.get_string_array("a.string", &sa, false, &err));
        CHECK(sa.size() == 3);
        CHECK(f.get_f32_array("a.f32", &fa, false, &err));
        CHECK(fa == std::vector<float>{0.5f, -1.0f});
        CHECK_FALSE(f.get_f32_array("a.f64", &fa, false, &err));  // 1e300 does not fit
        CHECK(std::string(err.msg).find("element 1") != std::string::npos);
        CHECK(f.get_i32_array("a.i8", &ia, false, &err));
        CHECK(ia == std::vector<int32_t>{-1, 2, -128});
        CHECK_FALSE(f.get_i32_array("a.i64", &ia, false, &err));  // 2^40 does not fit
        CHECK(std::string(err.msg).find("element 1 (1099511627776) does not fit i32") != std::string::npos);
        CHECK(f.get_i32_array("a.empty_u32", &ia, false, &err));
        CHECK(ia.empty());
        CHECK_FALSE(f.get_i32_array("a.u32", &ia, false, &err));
        CHECK_FALSE(f.get_i32_array("a.f32", &ia, false, &err));
        CHECK(std::string(err.msg).find("is an array of f32, expected an array of i32") != std::string::npos);
        CHECK_FALSE(f.get_string_array("t.string", &sa, false, &err));
        // Missing keys: an error unless optional (then *out is untouched).
        u32 = 77;
        CHECK_FALSE(f.get_u32("no.such", &u32, false, &err));
        CHECK(std::string(err.msg) == "gguf: key 'no.such' is missing");
        CHECK(f.get_u32("no.such", &u32, true, &err));
        CHECK(u32 == 77);
    }
}

TEST_CASE("gguf: tensors of every type, alignments, v2") {
    for (uint32_t align : {0u, 1u, 8u, 64u, 4096u}) {
        CAPTURE(align);
        GgufWriter w;
        w.version = align == 8 ? 2 : 3;
        if (align) w.set_alignment(align);
        size_t i = 0;
        for (const TypeRow& r : kTypes) {
            const uint64_t cols = r.id == agm::GGML_I2_S ? 128 : r.block * 2;
            const size_t k = w.add_tensor_zeros("t." + std::string(r.name), r.id, {cols, 3});
            REQUIRE(!w.tensors[k].data.empty());
            w.tensors[k].data[0] = (uint8_t)(i + 1);
            w.tensors[k].data.back() = (uint8_t)(i + 101);
            i++;
        }
        w.add_tensor_zeros("t.4d", agm::GGML_F32, {2, 3, 4, 5});
        GgufWriter::Layout lay;
        const Bytes b = w.build(&lay);
        agm::GgufFile f;
        agm::Error err;
        REQUIRE_MESSAGE(parse(b, &f, &err), err.msg);
        const uint64_t a = align ? align : 32;
        CHECK(f.alignment == a);
        CHECK(f.data_offset == lay.data_offset);
        CHECK(f.data_offset % a == 0);
        REQUIRE(f.tensors.size() == w.tensors.size());
        for (size_t t = 0; t < f.tensors.size(); t++) {
            const agm::GgufTensorInfo& ti = f.tensors[t];
            CHECK(ti.name == w.tensors[t].name);
            CHECK(ti.type == w.tensors[t].type);
            CHECK(ti.bytes == w.tensors[t].data.size());
            CHECK(ti.offset == lay.data_offset + lay.tensors[t].rel_offset);
            CHECK(ti.at == lay.tensors[t].at);
            CHECK(ti.data == b.data() + ti.offset);
            CHECK(std::memcmp(ti.data, w.tensors[t].data.data(), (size_t)ti.bytes) == 0);
            CHECK(f.find_tensor(ti.name.c_str()) == &ti);
        }
        const agm::GgufTensorInfo* t4 = f.find_tensor("t.4d");
        REQUIRE(t4 != nullptr);
        CHECK(t4->n_dims == 4);
        CHECK(t4->ne[3] == 5);
        CHECK(t4->bytes == 2 * 3 * 4 * 5 * 4);
        const agm::GgufTensorInfo* i2 = f.find_tensor("t.I2_S");
        REQUIRE(i2 != nullptr);
        CHECK(i2->bytes == 128 * 3 / 4 + 32);
        CHECK(f.find_tensor("nope") == nullptr);
    }
}

TEST_CASE("gguf: the writer's float encoders") {
    CHECK(agm_test::f32_bytes({1.0f}) == Bytes{0x00, 0x00, 0x80, 0x3F});
    CHECK(agm_test::f16_bytes({1.0f, -2.0f}) == Bytes{0x00, 0x3C, 0x00, 0xC0});
    // bf16: 1 + 2^-8 is a tie between 1 and 1 + 2^-7: to the even one (1.0).
    CHECK(agm_test::bf16_bytes({1.0f, 1.00390625f, 1.01171875f, -0.0f}) ==
          Bytes{0x80, 0x3F, 0x80, 0x3F, 0x82, 0x3F, 0x00, 0x80});
    GgufWriter w;
    w.add_tensor("e", agm::GGML_BF16, {4}, agm_test::bf16_bytes({1, 2, 3, 4}));
    w.add_tensor("h", agm::GGML_F16, {2, 2}, agm_test::f16_bytes({1, 2, 3, 4}));
    const Bytes b = w.build();
    agm::GgufFile f;
    agm::Error err;
    REQUIRE_MESSAGE(parse(b, &f, &err), err.msg);
    CHECK(f.tensors[1].bytes == 8);
    CHECK(raw<uint16_t>(f.tensors[0].data + 2) == 0x4000);  // bf16 2.0
}

TEST_CASE("gguf: the tiny llama writer's vocabulary") {
    const Bytes b = agm_test::tiny_llama_writer(256, true).build();
    agm::GgufFile f;
    agm::Error err;
    REQUIRE_MESSAGE(parse(b, &f, &err), err.msg);
    agm::Vocab v;
    std::string kind;
    REQUIRE_MESSAGE(agm::vocab_from_gguf(f, &v, &kind, &err), err.msg);
    CHECK(kind == "llama");
    CHECK(v.pieces.size() == 3 + 256 + 7);
    CHECK(v.flags == (AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_ESCAPE_WS | AGM_TOK_BYTE_FALLBACK));
    agm_test::Tok t;
    t.vocab = v;
    REQUIRE_MESSAGE(agm_test::build(&t, &err), err.msg);
    // " ab" -> "▁ab" is one piece (id 3 + 256 + 5); "c" is not in the
    // vocabulary: its byte token <0x63>.
    CHECK(t.encode("ab") == std::vector<int32_t>{3 + 256 + 5});
    CHECK(t.encode("c") == std::vector<int32_t>{3 + 256, 3 + 0x63});

    // Without add_space_prefix, scores, types or ids: defaults.
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", {"a", "b"});
    w.add_bool("tokenizer.ggml.add_space_prefix", false);
    agm::GgufFile f2;
    const Bytes b2 = w.build();  // f2 points into it
    REQUIRE_MESSAGE(parse(b2, &f2, &err), err.msg);
    REQUIRE_MESSAGE(agm::vocab_from_gguf(f2, &v, &kind, &err), err.msg);
    CHECK(v.flags == AGM_TOK_ESCAPE_WS);
    CHECK(v.scores == std::vector<float>{0, 0});
    CHECK(v.types == std::vector<uint8_t>{1, 1});
    CHECK(v.unk_id == 0);
    CHECK(v.bos_id == 1);
    CHECK(v.eos_id == -1);  // the default 2 is out of range
    CHECK(v.pad_id == -1);
}

TEST_CASE("gguf: the real vocabulary-only files") {
    struct Case {
        const char* path;
        const char* model;
        const char* name;
        size_t tokens;
    };
    const Case cases[] = {{"tokenizers/llama2-32k/ggml-vocab-llama-spm.gguf", "llama", "llama-spm", 32000},
                          {"tokenizers/gpt2-50k/ggml-vocab-gpt-2.gguf", "gpt2", "gpt-2", 50257}};
    for (const Case& c : cases) {
        const std::string path = c.path;
        CAPTURE(path);
        Bytes b;
        REQUIRE(agm_test::read_file(agm_test::shared_path(c.path), &b));
        agm::GgufFile f;
        agm::Error err;
        REQUIRE_MESSAGE(parse(b, &f, &err), err.msg);
        CHECK(f.version == 3);
        CHECK(f.tensors.empty());
        std::string s;
        CHECK(f.get_string("tokenizer.ggml.model", &s, false, &err));
        CHECK(s == c.model);
        CHECK(f.get_string("general.name", &s, false, &err));
        CHECK(s == c.name);
        std::vector<std::string> toks;
        REQUIRE(f.get_string_array("tokenizer.ggml.tokens", &toks, false, &err));
        CHECK(toks.size() == c.tokens);
        std::vector<int32_t> types;
        REQUIRE(f.get_i32_array("tokenizer.ggml.token_type", &types, false, &err));
        CHECK(types.size() == c.tokens);
        agm::Vocab v;
        std::string kind;
        if (std::string(c.model) == "gpt2") {
            std::vector<std::string> merges;
            REQUIRE(f.get_string_array("tokenizer.ggml.merges", &merges, false, &err));
            CHECK(merges.size() == 50000);
            CHECK(merges[0] == "\xc4\xa0 t");
            // Byte-level BPE (test_bpe.cpp runs llama.cpp's vectors through this path).
            REQUIRE_MESSAGE(agm::vocab_from_gguf(f, &v, &kind, &err), err.msg);
            CHECK(kind == "gpt2");
            CHECK(v.kind == AGM_TOKENIZER_BPE_BYTES);
            CHECK(v.pieces.size() == 50257);
            CHECK(v.merges.size() == 50000);
            MESSAGE(path << ": " << toks.size() << " tokens, " << merges.size() << " merges");
        } else {
            REQUIRE_MESSAGE(agm::vocab_from_gguf(f, &v, &kind, &err), err.msg);
            CHECK(v.pieces.size() == 32000);
            MESSAGE(path << ": " << toks.size() << " tokens, " << f.kv.size() << " keys");
        }
    }
}

TEST_CASE("gguf: Llama 2 vocabulary through the GGUF path equals tokenizer.model and passes the vectors") {
    Bytes g, m;
    REQUIRE(agm_test::read_file(agm_test::shared_path("tokenizers/llama2-32k/ggml-vocab-llama-spm.gguf"), &g));
    REQUIRE(agm_test::read_file(agm_test::shared_path("tokenizers/llama2-32k/tokenizer.model"), &m));
    agm::GgufFile f;
    agm::Error err;
    REQUIRE_MESSAGE(parse(g, &f, &err), err.msg);
    agm_test::Tok t;
    std::string kind;
    REQUIRE_MESSAGE(agm::vocab_from_gguf(f, &t.vocab, &kind, &err), err.msg);
    agm::Vocab spm;
    REQUIRE_MESSAGE(agm::read_spm_model(m.data(), m.size(), &spm, &err), err.msg);

    const agm::Vocab& a = t.vocab;
    CHECK(a.pieces.size() == spm.pieces.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < a.pieces.size() && i < spm.pieces.size(); i++) {
        if (a.pieces[i] == spm.pieces[i] && a.scores[i] == spm.scores[i] && a.types[i] == spm.types[i]) continue;
        if (mismatches++ == 0)
            FAIL_CHECK("first mismatch at id " << i << ": gguf ('" << a.pieces[i] << "', " << a.scores[i] << ", type "
                                               << (int)a.types[i] << ") vs tokenizer.model ('" << spm.pieces[i]
                                               << "', " << spm.scores[i] << ", type " << (int)spm.types[i] << ")");
    }
    CHECK(mismatches == 0);
    CHECK(a.bos_id == spm.bos_id);
    CHECK(a.eos_id == spm.eos_id);
    CHECK(a.unk_id == spm.unk_id);
    CHECK(a.pad_id == spm.pad_id);
    CHECK_MESSAGE(a.flags == spm.flags, "gguf flags 0x" << std::hex << a.flags << ", tokenizer.model 0x" << spm.flags);
    MESSAGE("GGUF vs tokenizer.model: " << a.pieces.size() << " pieces, " << mismatches << " mismatches");

    REQUIRE_MESSAGE(agm_test::build(&t, &err), err.msg);
    agm_test::check_vectors(&t, "ggml-vocab-llama-spm.gguf");
}

// Writes the fuzzing seeds (tests/fuzz/corpus/gguf) when AGM_WRITE_GGUF_SEEDS
// names a directory; otherwise does nothing.
TEST_CASE("gguf: fuzz seeds (only with AGM_WRITE_GGUF_SEEDS)") {
    const char* dir = std::getenv("AGM_WRITE_GGUF_SEEDS");
    if (dir == nullptr) return;
    std::vector<std::pair<std::string, Bytes>> seeds;
    GgufWriter empty;
    seeds.push_back({"empty-v3.gguf", empty.build()});
    GgufWriter all;
    all.version = 2;
    all.add_u8("a", 1);
    all.add_i8("b", -1);
    all.add_u16("c", 2);
    all.add_i16("d", -2);
    all.add_u32("e", 3);
    all.add_i32("f", -3);
    all.add_f32("g", 0.5f);
    all.add_bool("h", true);
    all.add_string("i", "str");
    all.add_u64("j", 4);
    all.add_i64("k", -4);
    all.add_f64("l", 0.25);
    all.add_array<int>("m", agm::GGUF_I16, {1, -1});
    all.add_string_array("n", {"p", "q"});
    seeds.push_back({"all-types-v2.gguf", all.build()});
    seeds.push_back({"llama-vocab.gguf", agm_test::tiny_llama_writer(4, false).build()});
    GgufWriter t = agm_test::tiny_llama_writer(2, true);
    t.pad_end = false;
    seeds.push_back({"llama-tensors.gguf", t.build()});
    GgufWriter a64;
    a64.set_alignment(64);
    a64.add_tensor_zeros("x", agm::GGML_Q8_0, {32, 1});
    a64.add_tensor_zeros("y", agm::GGML_TQ2_0, {256});
    seeds.push_back({"align64-tensors.gguf", a64.build()});
    GgufWriter g;
    g.add_string("tokenizer.ggml.model", "gpt2");
    g.add_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
    g.add_string_array("tokenizer.ggml.merges", {"a b"});
    seeds.push_back({"gpt2-vocab.gguf", g.build()});
    for (const auto& s : seeds) {
        const std::string path = std::string(dir) + "/" + s.first;
        FILE* fp = std::fopen(path.c_str(), "wb");
        REQUIRE_MESSAGE(fp != nullptr, path);
        CHECK(std::fwrite(s.second.data(), 1, s.second.size(), fp) == s.second.size());
        std::fclose(fp);
        agm::GgufFile f;
        agm::Error err;
        CHECK_MESSAGE(parse(s.second, &f, &err), s.first << ": " << err.msg);
    }
    MESSAGE("wrote " << seeds.size() << " seeds to " << std::string(dir));
}
