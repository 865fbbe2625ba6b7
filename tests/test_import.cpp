// The converters' common middle (agm/import.h) and the ggml decoders
// (agm/ggml_decode.h): decoders against the test-side encoders, and every
// architecture variant through build_native_file -> engine against the test
// reference forward pass (ref_model.h), 64 greedy steps, token for token.
#include <cmath>
#include <cstring>

#include "agm/ggml_decode.h"
#include "agm/gguf.h"
#include "agm/half.h"
#include "agm/import.h"
#include "doctest.h"
#include "engine_compare.h"
#include "ggml_encode.h"
#include "import_util.h"
#include "ref_model.h"
#include "test_util.h"

using namespace agm_test;

namespace {

std::vector<int8_t> random_trits(uint64_t n, uint64_t seed, double zero_blocks = 0.0) {
    std::vector<int8_t> w(n);
    uint64_t s = seed;
    auto next = [&] {
        s += 0x9E3779B97F4A7C15ull;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    for (uint64_t b = 0; b < n; b += 256) {
        const bool zero = (double)(next() % 1000) < zero_blocks * 1000.0;
        for (uint64_t i = b; i < b + 256 && i < n; ++i) w[i] = zero ? 0 : (int8_t)((int)(next() % 3) - 1);
    }
    return w;
}

}  // namespace

TEST_CASE("ggml decode: TQ1_0, TQ2_0 and I2_S give back the encoded values and scale") {
    const uint32_t rows = 12, cols = 768;
    const uint64_t n = (uint64_t)rows * cols;
    const std::vector<int8_t> w = random_trits(n, test_seed(), 0.2);
    const float scale = round_to_f16(0.0421f);
    const uint16_t d = agm::f32_to_f16(scale);
    struct Case {
        uint32_t type;
        std::vector<uint8_t> bytes;
    } cases[] = {
        {agm::GGML_TQ2_0, encode_tq2_0(w.data(), n, d, 0)},
        {agm::GGML_TQ1_0, encode_tq1_0(w.data(), n, d, 0)},
        // all-zero blocks may carry any scale: it must not matter
        {agm::GGML_TQ2_0, encode_tq2_0(w.data(), n, d, agm::f32_to_f16(7.0f))},
        {agm::GGML_TQ1_0, encode_tq1_0(w.data(), n, d, 0x7E00 /* NaN */)},
        {agm::GGML_I2_S, encode_i2_s(w.data(), n, scale)},
    };
    for (const Case& c : cases) {
        agm::ImportTernary t;
        agm::Error err;
        INFO("type " << c.type);
        REQUIRE(agm::decode_ggml_ternary(c.type, c.bytes.data(), c.bytes.size(), rows, cols, "t", &t, &err));
        CHECK(t.w == w);
        CHECK(t.scale == scale);
        CHECK(t.source_bytes == c.bytes.size());
    }
}

TEST_CASE("ggml decode: TQ1_0 decodes every byte to digits 0..2, and every 5-digit group round-trips") {
    // 3^5 groups in the first 32-byte chunk, spread over positions.
    std::vector<int8_t> w(256, 0);
    for (uint32_t v = 0; v < 243; ++v) {
        uint32_t x = v;
        for (int k = 4; k >= 0; --k) {  // digit k of v (k = 0 most significant)
            w[32 * k + (v % 32)] = (int8_t)((int)(x % 3) - 1);
            x /= 3;
        }
        const std::vector<uint8_t> b = encode_tq1_0(w.data(), 256, agm::f32_to_f16(1.0f));
        agm::ImportTernary t;
        agm::Error err;
        REQUIRE(agm::decode_ggml_ternary(agm::GGML_TQ1_0, b.data(), b.size(), 1, 256, "t", &t, &err));
        REQUIRE(t.w == w);
    }
    // Arbitrary bytes: always ternary (the format has no invalid codes).
    std::vector<uint8_t> b(54);
    for (uint32_t byte = 0; byte < 256; ++byte) {
        for (uint32_t i = 0; i < 52; ++i) b[i] = (uint8_t)(byte + i);
        b[52] = 0x00;
        b[53] = 0x3C;  // d = 1
        agm::ImportTernary t;
        agm::Error err;
        REQUIRE(agm::decode_ggml_ternary(agm::GGML_TQ1_0, b.data(), b.size(), 1, 256, "t", &t, &err));
        for (int8_t v : t.w) REQUIRE((v >= -1 && v <= 1));
    }
}

TEST_CASE("ggml decode: what is not one ternary matrix with one scale is refused, naming the tensor") {
    const uint32_t rows = 4, cols = 512;
    const uint64_t n = (uint64_t)rows * cols;
    std::vector<int8_t> w = random_trits(n, test_seed() + 1);
    agm::ImportTernary t;
    agm::Error err;
    SUBCASE("TQ2_0 code 3 (+2)") {
        std::vector<uint8_t> b = encode_tq2_0(w.data(), n, agm::f32_to_f16(0.5f));
        b[66 + 5] |= 0x03;
        CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_TQ2_0, b.data(), b.size(), rows, cols, "blk.0.attn_q", &t, &err));
        CHECK(std::string(err.msg).find("blk.0.attn_q") != std::string::npos);
        CHECK(std::string(err.msg).find("not ternary") != std::string::npos);
    }
    SUBCASE("I2_S code 3") {
        std::vector<uint8_t> b = encode_i2_s(w.data(), n, 0.5f);
        b[100] |= 0xC0;
        CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_I2_S, b.data(), b.size(), rows, cols, "w", &t, &err));
        CHECK(std::string(err.msg).find("not ternary") != std::string::npos);
    }
    SUBCASE("block scales that differ") {
        std::vector<uint8_t> b = encode_tq2_0(w.data(), n, agm::f32_to_f16(0.5f));
        const uint16_t other = agm::f32_to_f16(0.25f);
        std::memcpy(&b[3 * 66 + 64], &other, 2);
        CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_TQ2_0, b.data(), b.size(), rows, cols, "w", &t, &err));
        CHECK(std::string(err.msg).find("block scales differ") != std::string::npos);
        MESSAGE(err.msg);
    }
    SUBCASE("NaN and infinite scales") {
        for (uint16_t bad : {(uint16_t)0x7E00, (uint16_t)0x7C00, (uint16_t)0xFC00}) {
            std::vector<uint8_t> b = encode_tq1_0(w.data(), n, bad);
            CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_TQ1_0, b.data(), b.size(), rows, cols, "w", &t, &err));
        }
        for (float bad : {NAN, INFINITY, -1.0f}) {
            std::vector<uint8_t> b = encode_i2_s(w.data(), n, bad);
            CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_I2_S, b.data(), b.size(), rows, cols, "w", &t, &err));
        }
    }
    SUBCASE("a negative scale flips the signs: the same values") {
        std::vector<uint8_t> b = encode_tq2_0(w.data(), n, agm::f32_to_f16(-0.5f));
        REQUIRE(agm::decode_ggml_ternary(agm::GGML_TQ2_0, b.data(), b.size(), rows, cols, "w", &t, &err));
        CHECK(t.scale == 0.5f);
        for (uint64_t i = 0; i < n; ++i) REQUIRE(t.w[i] == -w[i]);
    }
    SUBCASE("rows that are not whole blocks") {
        std::vector<uint8_t> b(66 * 4);
        CHECK_FALSE(agm::decode_ggml_ternary(agm::GGML_TQ2_0, b.data(), b.size(), 4, 200, "w", &t, &err));
    }
}

TEST_CASE("ggml decode: F32, F16, BF16 and Q8_0 exactly") {
    const uint64_t n = 96;
    std::vector<float> x(n);
    for (uint64_t i = 0; i < n; ++i) x[i] = std::sin((float)i * 0.37f) * (float)(i + 1) * 0.01f;
    std::vector<float> h(n), bf(n), q8;
    for (uint64_t i = 0; i < n; ++i) {
        h[i] = round_to_f16(x[i]);
        bf[i] = round_to_bf16(x[i]);
    }
    const std::vector<uint8_t> q8b = encode_q8_0(x.data(), n, &q8);
    struct Case {
        uint32_t type;
        std::vector<uint8_t> bytes;
        const std::vector<float>* want;
    } cases[] = {
        {agm::GGML_F32, encode_f32(x.data(), n), &x},
        {agm::GGML_F16, encode_f16(h.data(), n), &h},
        {agm::GGML_BF16, encode_bf16(bf.data(), n), &bf},
        {agm::GGML_Q8_0, q8b, &q8},
    };
    for (const Case& c : cases) {
        std::vector<float> got;
        agm::Error err;
        REQUIRE(agm::decode_ggml_float(c.type, c.bytes.data(), c.bytes.size(), n, &got, &err));
        CHECK(std::memcmp(got.data(), c.want->data(), n * 4) == 0);
    }
}

TEST_CASE("the BitNet absmean quantiser and exact-ternary floats") {
    std::vector<float> x = {0.3f, -0.1f, 0.05f, -0.6f, 0.0f, 0.2f, -0.2f, 0.9f};
    agm::ImportTernary t;
    agm::Error err;
    REQUIRE(agm::quantize_bitnet_absmean(x.data(), 2, 4, &t, &err));
    // mean |x| = 2.35 / 8 = 0.29375; x / mean rounds to these:
    const std::vector<int8_t> want = {1, 0, 0, -1, 0, 1, -1, 1};
    CHECK(t.w == want);
    CHECK(t.scale == doctest::Approx(0.29375f).epsilon(1e-6));
    std::vector<float> exact = {0.25f, 0.0f, -0.25f, 0.25f};
    REQUIRE(agm::ternary_from_exact_floats(exact.data(), 1, 4, &t));
    CHECK(t.scale == 0.25f);
    CHECK(t.w == std::vector<int8_t>({1, 0, -1, 1}));
    exact[1] = 0.125f;
    CHECK_FALSE(agm::ternary_from_exact_floats(exact.data(), 1, 4, &t));
    x[3] = NAN;
    CHECK_FALSE(agm::quantize_bitnet_absmean(x.data(), 2, 4, &t, &err));
}

TEST_CASE("every architecture variant: the engine equals the reference over 64 greedy steps") {
    struct Variant {
        const char* name;
        RefConfig c;
    };
    std::vector<Variant> variants;
    RefConfig llama;  // LLaMA-style: pre-norms, SiLU, interleaved RoPE, untied
    variants.push_back({"llama (TriLM, llama.cpp 'llama')", llama});
    RefConfig gqa = llama;
    gqa.n_kv_heads = 2;
    gqa.rope_theta = 500000.0f;
    variants.push_back({"llama with grouped-query attention, theta 5e5", gqa});
    RefConfig bitnet = llama;  // 1bitLLM / llama.cpp 'bitnet': sub-norms, SiLU, halves
    bitnet.sub_norms = true;
    bitnet.rope_layout = AGM_ROPE_HALVES;
    variants.push_back({"bitnet (sub-norms, SiLU)", bitnet});
    RefConfig b2b = bitnet;  // BitNet b1.58 2B4T: sub-norms, ReLU^2, GQA, tied
    b2b.ffn_act = AGM_FFN_RELU2_GATED;
    b2b.n_kv_heads = 1;
    b2b.tied = true;
    b2b.embd_range = 0.05f;  // a tied classifier favours the current token: keep it small
    b2b.rope_theta = 500000.0f;
    variants.push_back({"bitnet-b1.58 2B4T (sub-norms, ReLU^2, GQA, tied)", b2b});
    for (uint32_t packing : {(uint32_t)AGM_TYPE_TL5_R4, (uint32_t)AGM_TYPE_T2_B128}) {
        for (const Variant& v : variants) {
            const RefModel ref = make_ref_model(v.c, test_seed());
            agm::ImportModel im = import_from_ref(ref);
            agm::BuildOptions o;
            o.ternary_type = packing;
            std::vector<uint8_t> file;
            agm::SizeReport rep;
            agm::Error err;
            REQUIRE_MESSAGE(agm::build_native_file(im, o, &file, &rep, &err), err.msg);
            const CompareResult r = compare_greedy(file, ref, {1, 7, 42}, 64);
            INFO(std::string(v.name) << ", packing " << packing << ": " << r.error);
            REQUIRE(r.opened);
            CHECK(r.first_mismatch == 64);
            CHECK(r.max_logit_diff <= 1e-4f * std::fmax(1.0f, r.max_logit_abs));
            MESSAGE(std::string(v.name) << " (" << std::string(packing == AGM_TYPE_TL5_R4 ? "tl5_r4" : "t2_b128")
                           << "): 64/64 tokens agree (" << r.distinct
                           << " distinct), max |logit diff| " << r.max_logit_diff);
            CHECK(r.distinct >= 8);  // not a degenerate repetition
        }
    }
}

TEST_CASE("ggml decode: Q4_K and Q6_K (llama-quantize's embedding types for TQ files) as ggml computes them") {
    // One Q4_K block: scale/min pairs (sc_j, m_j) for the 8 sub-blocks packed
    // as the format's 12 bytes, codes q = (i * 7) % 16.
    const uint8_t sc[8] = {1, 5, 63, 17, 33, 48, 2, 60}, mn[8] = {0, 3, 62, 40, 7, 16, 63, 1};
    uint8_t blk[144] = {0};
    const float d = round_to_f16(0.0123f), dmin = round_to_f16(0.0071f);
    const uint16_t dh = agm::f32_to_f16(d), mh = agm::f32_to_f16(dmin);
    std::memcpy(blk, &dh, 2);
    std::memcpy(blk + 2, &mh, 2);
    uint8_t* s = blk + 4;
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            s[j] |= sc[j] & 63;
            s[j + 4] |= mn[j] & 63;
        } else {
            s[j + 4] = (uint8_t)((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
            s[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
            s[j] |= (uint8_t)((mn[j] >> 4) << 6);
        }
    }
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i) {
        const int code = (i * 7) % 16;
        const int j = i / 32;  // sub-block: 64-value groups, low nibbles first
        const int byte = (i / 64) * 32 + i % 32;
        blk[16 + byte] |= (uint8_t)((i % 64) < 32 ? code : code << 4);
        want[i] = (d * (float)sc[j]) * (float)code - dmin * (float)mn[j];
    }
    std::vector<float> got;
    agm::Error err;
    REQUIRE(agm::decode_ggml_float(12, blk, sizeof blk, 256, &got, &err));
    CHECK(std::memcmp(got.data(), want.data(), 256 * 4) == 0);

    // One Q6_K block: 6-bit codes q = (i * 11) % 64, int8 scales per 16 values.
    uint8_t b6[210] = {0};
    int8_t scl[16];
    for (int k = 0; k < 16; ++k) scl[k] = (int8_t)(k * 9 - 70);
    std::memcpy(b6 + 192, scl, 16);
    const float d6 = round_to_f16(0.0031f);
    const uint16_t d6h = agm::f32_to_f16(d6);
    std::memcpy(b6 + 208, &d6h, 2);
    for (int i = 0; i < 256; ++i) {
        const int code = (i * 11) % 64;
        const int half = i / 128, r = i % 128, quarter = r / 32, l = r % 32;
        // quarter 0: ql[l] low, 1: ql[l+32] low, 2: ql[l] high, 3: ql[l+32] high; qh bits 2*quarter
        uint8_t* ql = b6 + 64 * half;
        uint8_t* qh = b6 + 128 + 32 * half;
        const int at = l + (quarter & 1) * 32;
        ql[at] |= (uint8_t)(quarter < 2 ? (code & 0xF) : (code & 0xF) << 4);
        qh[l] |= (uint8_t)((code >> 4) << (2 * quarter));
        want[i] = (d6 * (float)scl[8 * half + l / 16 + 2 * quarter]) * (float)(code - 32);
    }
    REQUIRE(agm::decode_ggml_float(14, b6, sizeof b6, 256, &got, &err));
    CHECK(std::memcmp(got.data(), want.data(), 256 * 4) == 0);
}
