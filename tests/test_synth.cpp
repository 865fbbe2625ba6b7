// agmodel-synth's generator (formats/src/synth.cpp): deterministic, the
// requested weight statistics, files the engine opens and runs. Models are
// tiny so the suite stays fast under qemu-arm.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/convert.h"
#include "agm/crc32.h"
#include "agm/model_file.h"
#include "agm/synth.h"
#include "agm/ternary.h"
#include "agmodel.h"
#include "doctest.h"
#include "test_util.h"

namespace {

// A small configuration with the 3M model's vocabulary (512 tokens):
// head_dim 16, GQA 4/2, an FFN width that is not a multiple of 128.
agm::SynthConfig small_config(uint64_t seed) {
    agm::SynthConfig c;
    c.dim = 64;
    c.hidden_dim = 160;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.vocab_size = 512;
    c.max_seq_len = 64;
    c.seed = seed;
    return c;
}

const agm::Vocab& vocab_512() {
    static agm::Vocab v;
    static bool loaded = false;
    if (!loaded) {
        std::string kind;
        agm::Error err;
        INFO(err.msg);
        REQUIRE(agm::load_tokenizer_file(agm_test::model_3m_dir() + "/tokenizer.bin", 512, &v, &kind, &err));
        loaded = true;
    }
    return v;
}

std::vector<uint8_t> build(const agm::SynthConfig& c, const agm::Vocab* vocab = &vocab_512()) {
    std::vector<uint8_t> out;
    agm::Error err;
    INFO(err.msg);
    REQUIRE(agm::synth_model(c, vocab, &out, &err));
    return out;
}

using Aligned = agm_test::AlignedCopy;  // the image 64-byte aligned, as the reader wants

// A parsed copy of a file image (the reader wants it 64-byte aligned).
struct Parsed {
    Aligned buf;
    agm::FileView v;
    explicit Parsed(const std::vector<uint8_t>& file) : buf(file) {
        agm::Error err;
        INFO(err.msg);
        REQUIRE(agm::parse_model_file(buf.data(), file.size(), true, &v, &err));
    }
    const agm_tensor_entry& tensor(const char* name) const {
        const agm_tensor_entry* t = agm::find_tensor(v, name);
        INFO(name);
        REQUIRE(t != nullptr);
        return *t;
    }
    const uint8_t* data(const agm_tensor_entry& t) const { return v.base + t.offset; }
};

std::string failure(const agm::SynthConfig& c, const agm::Vocab* vocab = nullptr) {
    std::vector<uint8_t> out;
    agm::Error err;
    CHECK_FALSE(agm::synth_model(c, vocab, &out, &err));
    return err.msg;
}

}  // namespace

TEST_CASE("synth: the same seed gives the same bytes, another seed other bytes") {
    const std::vector<uint8_t> a = build(small_config(7)), b = build(small_config(7)), d = build(small_config(8));
    CHECK(a == b);
    REQUIRE(a.size() == d.size());
    CHECK(a != d);
}

TEST_CASE("synth: the values are the same on every target") {
    // Pinned CRC-32s of tensor bytes (not of the file, whose metadata names
    // the version): a change here means every recorded figure of the
    // reference models was made with other weights. The host and the ARMv6
    // builds must both give these.
    const Parsed f(build(small_config(7)));
    const agm_tensor_entry& emb = f.tensor("token_embd");
    const agm_tensor_entry& norm = f.tensor("output_norm");
    const agm_tensor_entry& up = f.tensor("blk.1.ffn_up");
    CHECK(agm::crc32_update(0, f.data(emb), emb.bytes) == 0x223CC4F7u);
    CHECK(agm::crc32_update(0, f.data(norm), norm.bytes) == 0x034A8228u);
    CHECK(agm::crc32_update(0, f.data(up), up.bytes) == 0x4CDD79B4u);
    uint32_t scale_bits;
    std::memcpy(&scale_bits, &up.scale, 4);
    CHECK(scale_bits == 0x3DE55F12u);
}

TEST_CASE("synth: the file is what the configuration says") {
    agm::SynthConfig c = small_config(3);
    const Parsed f(build(c));
    const agm::FileView& v = f.v;
    CHECK(v.config.dim == 64);
    CHECK(v.config.hidden_dim == 160);
    CHECK(v.config.n_layers == 2);
    CHECK(v.config.n_heads == 4);
    CHECK(v.config.n_kv_heads == 2);
    CHECK(v.config.head_dim == 16);
    CHECK(v.config.norm_input == AGM_NORM_RMS_DIV_N);
    CHECK(v.config.norm_sub == AGM_NORM_RMS_DIV_N);
    CHECK(v.config.norm_output == AGM_NORM_RMS);
    CHECK(v.config.tied_classifier == 1);
    // token_embd, output_norm and 7 matrices per layer.
    CHECK(v.n_tensors == 2 + 7 * 2);
    const agm_tensor_entry& k = f.tensor("blk.1.attn_k");
    CHECK(k.type == AGM_TYPE_T2_B128);
    CHECK(k.shape[0] == 32);
    CHECK(k.shape[1] == 64);
    CHECK(k.scale >= 0.75f);
    CHECK(k.scale <= 3.0f);
    const agm_tensor_entry& down = f.tensor("blk.0.ffn_down");
    CHECK(down.shape[0] == 64);
    CHECK(down.shape[1] == 160);
    CHECK(down.scale >= 0.07f);
    CHECK(down.scale <= 0.35f);

    // Parameters: 2 x (64*64*2 + 32*64*2 + 3*160*64) + 512*64 + 64.
    CHECK(agm::synth_param_count(c) == 2ull * (8192 + 4096 + 30720) + 32768 + 64);
    agm::SynthConfig m;
    REQUIRE(agm::synth_preset("m300", &m));
    CHECK(agm::synth_param_count(m) == 303301632ull);
    REQUIRE(agm::synth_preset("lite", &m));
    CHECK(agm::synth_param_count(m) == 57278976ull);
}

TEST_CASE("synth: a third of the weights are zero, the rest split evenly") {
    // One 384 x 512 matrix (196,608 weights): the binomial standard deviation
    // of the zero share is 0.001, so +-0.02 is 20 sigmas.
    agm::SynthConfig c = small_config(agm_test::test_seed());
    c.dim = 512;
    c.hidden_dim = 384;
    c.n_layers = 1;
    c.n_heads = 8;
    c.n_kv_heads = 8;
    c.vocab_size = 8;
    INFO("seed " << c.seed);
    for (uint32_t type : {AGM_TYPE_T2_B128, AGM_TYPE_TL5_R4}) {
        c.ternary_type = type;
        const Parsed f(build(c, nullptr));
        const agm_tensor_entry& t = f.tensor("blk.0.ffn_gate");
        REQUIRE(t.type == type);
        std::vector<int8_t> w((size_t)384 * 512);
        REQUIRE(agm::unpack_ternary(type, f.data(t), 384, 512, w.data()));
        size_t zeros = 0, plus = 0;
        for (int8_t x : w) {
            zeros += x == 0;
            plus += x == 1;
        }
        const double z = (double)zeros / w.size(), p = (double)plus / (w.size() - zeros);
        CHECK(std::fabs(z - 1.0 / 3.0) < 0.02);
        CHECK(std::fabs(p - 0.5) < 0.02);
    }
}

TEST_CASE("synth: the zero fraction is a parameter") {
    agm::SynthConfig c = small_config(5);
    c.zero_fraction = 1.0;
    const Parsed f(build(c));
    const agm_tensor_entry& t = f.tensor("blk.0.attn_q");
    for (uint64_t i = 0; i < t.bytes; ++i) REQUIRE(f.data(t)[i] == 0);
}

TEST_CASE("synth: the engine opens the file and runs 5 tokens to finite logits") {
    for (uint32_t type : {AGM_TYPE_T2_B128, AGM_TYPE_TL5_R4}) {
        agm::SynthConfig c = small_config(11);
        c.ternary_type = type;
        if (type == AGM_TYPE_TL5_R4) {  // every optional tensor too
            c.norm_input = AGM_NORM_RMS;
            c.norm_sub = AGM_NORM_RMS;
            c.tied_classifier = 0;
            c.ffn_act = AGM_FFN_RELU2_GATED;
            c.rope_layout = AGM_ROPE_HALVES;
        }
        const std::vector<uint8_t> file = build(c);
        Aligned buf(file);
        agm_model* m = nullptr;
        agm_error e;
        INFO(e.message);
        REQUIRE(agm_model_open_memory(buf.p, file.size(), nullptr, &m, &e) == AGM_OK);
        agm_session* s = nullptr;
        REQUIRE(agm_session_create(m, nullptr, &s, &e) == AGM_OK);
        int32_t ids[8];
        size_t n = 0;
        REQUIRE(agm_tokenize(m, "Once upon", 9, 1, ids, 8, &n, &e) == AGM_OK);
        REQUIRE(n >= 2);
        for (int32_t tok : {ids[0], ids[1], (int32_t)100, (int32_t)511, (int32_t)3}) {
            REQUIRE(agm_session_feed(s, &tok, 1, &e) == AGM_OK);
            const float* logits = agm_session_logits(s);
            REQUIRE(logits != nullptr);
            float lo = logits[0], hi = logits[0];
            for (uint32_t i = 0; i < c.vocab_size; ++i) {
                REQUIRE(std::isfinite(logits[i]));
                lo = std::fmin(lo, logits[i]);
                hi = std::fmax(hi, logits[i]);
            }
            CHECK(hi > lo);  // not a constant: the weights reach the output
        }
        CHECK(agm_session_position(s) == 5);
        agm_session_free(s);
        agm_model_close(m);
    }
}

TEST_CASE("synth: the tokenizer in the file is the given one") {
    const agm::Vocab& want = vocab_512();
    const Parsed f(build(small_config(2)));
    const agm::TokenizerView& tv = f.v.tokenizer;
    REQUIRE(tv.n_tokens == want.pieces.size());
    CHECK(tv.bos_id == want.bos_id);
    CHECK(tv.eos_id == want.eos_id);
    CHECK(tv.flags == want.flags);
    for (uint32_t i = 0; i < tv.n_tokens; ++i) {
        const uint32_t a = tv.offsets[i], b = tv.offsets[i + 1];
        REQUIRE(std::string(tv.text + a, b - a) == want.pieces[i]);
        REQUIRE(tv.scores[i] == want.scores[i]);
        REQUIRE(tv.types[i] == want.types[i]);
    }
    // And without one, none.
    const Parsed bare(build(small_config(2), nullptr));
    CHECK(bare.v.tokenizer.n_tokens == 0);
}

TEST_CASE("synth: bad configurations are refused with what is wrong") {
    agm::SynthConfig c = small_config(1);
    c.n_kv_heads = 3;
    CHECK(failure(c).find("n_heads 4 is not a multiple of n_kv_heads 3") != std::string::npos);
    c = small_config(1);
    c.dim = 66;
    CHECK(failure(c).find("dim 66 is not a multiple of n_heads 4") != std::string::npos);
    c = small_config(1);
    c.head_dim = 15;
    CHECK(failure(c).find("head_dim 15") != std::string::npos);
    c = small_config(1);
    c.n_layers = 0;
    CHECK(failure(c).find("n_layers is 0") != std::string::npos);
    c = small_config(1);
    c.ternary_type = AGM_TYPE_F32;
    CHECK(failure(c).find("not a ternary packing") != std::string::npos);
    c = small_config(1);
    c.zero_fraction = 1.5;
    CHECK(failure(c).find("zero fraction") != std::string::npos);
    c = small_config(1);
    c.norm_input = 7;
    CHECK(failure(c).find("norm kind 7") != std::string::npos);
    c = small_config(1);
    c.vocab_size = 1000;
    CHECK(failure(c, &vocab_512()).find("tokenizer has 512 tokens, the vocabulary size is 1000") !=
          std::string::npos);
    agm::SynthConfig p;
    CHECK_FALSE(agm::synth_preset("m301", &p));
}
