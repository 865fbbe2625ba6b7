#include "gguf_model.h"

#include <cstdio>
#include <cstring>

#include "agm/half.h"
#include "ggml_encode.h"
#include "gguf_writer.h"

namespace agm_test {
namespace {

bool is_tq(uint32_t t) { return t == agm::GGML_TQ1_0 || t == agm::GGML_TQ2_0; }

float identity(float x) { return x; }

Bytes encode_floats(uint32_t type, std::vector<float>* v) {
    switch (type) {
        case agm::GGML_F16: return encode_f16(v->data(), v->size());
        case agm::GGML_BF16: return encode_bf16(v->data(), v->size());
        case agm::GGML_Q8_0:
        case agm::GGML_Q4_K:
        case agm::GGML_Q6_K: {
            std::vector<float> decoded;
            Bytes b = type == agm::GGML_Q8_0   ? encode_q8_0(v->data(), v->size(), &decoded)
                      : type == agm::GGML_Q4_K ? encode_q4_k(v->data(), v->size(), &decoded)
                                               : encode_q6_k(v->data(), v->size(), &decoded);
            *v = decoded;  // the model is what the file holds
            return b;
        }
        default: return encode_f32(v->data(), v->size());
    }
}

// A ternary matrix in the spec's type; float types hold the values w * scale
// (for Q8_0 the scale becomes what the blocks decode to: f16(scale/127) * 127).
Bytes encode_ternary(uint32_t type, RefTernary* t, bool latent, uint64_t* rng) {
    const uint64_t n = t->w.size();
    if (latent) {  // random latent weights; the model is what absmean makes of the stored values
        std::vector<float> v(n);
        for (float& x : v) {
            *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
            x = ((float)(*rng >> 40) / 16777216.0f - 0.5f) * 0.1f;
        }
        Bytes b = encode_floats(type, &v);
        if (type == agm::GGML_F16) for (float& x : v) x = round_to_f16(x);
        if (type == agm::GGML_BF16) for (float& x : v) x = round_to_bf16(x);
        *t = ref_absmean(v, t->rows, t->cols);
        return b;
    }
    if (type == agm::GGML_TQ2_0) return encode_tq2_0(t->w.data(), n, agm::f32_to_f16(t->scale));
    if (type == agm::GGML_TQ1_0) return encode_tq1_0(t->w.data(), n, agm::f32_to_f16(t->scale));
    if (type == agm::GGML_I2_S) return encode_i2_s(t->w.data(), n, t->scale);
    std::vector<float> v(n);
    for (uint64_t i = 0; i < n; ++i) v[i] = (float)t->w[i] * t->scale;
    Bytes b = encode_floats(type, &v);
    for (float x : v)
        if (x != 0.0f) {
            t->scale = x < 0.0f ? -x : x;
            break;
        }
    return b;
}

}  // namespace

RoundFn gguf_float_rounding(const GgufModelSpec& s) {
    if (s.embd_type == agm::GGML_BF16 || s.norm_type == agm::GGML_BF16) return round_to_bf16;
    if (s.embd_type == agm::GGML_F16 || s.norm_type == agm::GGML_F16) return round_to_f16;
    return identity;
}

RoundFn gguf_scale_rounding(const GgufModelSpec& s) {
    if (is_tq(s.ternary_type) || s.ternary_type == agm::GGML_F16) return round_to_f16;
    if (s.ternary_type == agm::GGML_BF16) return round_to_bf16;
    return identity;
}

std::vector<std::string> test_vocab_pieces(uint32_t n) {
    std::vector<std::string> p = {"<unk>", "<s>", "</s>"};
    char buf[32];
    for (int b = 0; b < 256 && p.size() < n; ++b) {
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        p.push_back(buf);
    }
    static const char* const kWords[] = {"\xE2\x96\x81", "e", "t", "a", "o", "\xE2\x96\x81t", "he",
                                         "\xE2\x96\x81the", "in", "an", "\xE2\x96\x81" "a", "er", "on"};
    for (size_t i = 0; p.size() < n; ++i) {
        if (i < sizeof kWords / sizeof kWords[0]) {
            p.push_back(kWords[i]);
        } else {
            std::snprintf(buf, sizeof buf, "w%zu", i);
            p.push_back(buf);
        }
    }
    return p;
}

std::vector<uint8_t> write_gguf_model(RefModel* m, const GgufModelSpec& s) {
    const RefConfig& c = m->c;
    GgufWriter w;
    w.version = s.version;
    const std::string a = s.arch + ".";
    w.add_string("general.architecture", s.arch);
    w.add_string("general.name", "agmodel test model");
    if (!s.chat_template.empty()) w.add_string("tokenizer.chat_template", s.chat_template);
    w.add_u32(a + "context_length", c.max_seq_len);
    w.add_u32(a + "embedding_length", c.dim);
    w.add_u32(a + "block_count", c.n_layers);
    w.add_u32(a + "feed_forward_length", c.hidden_dim);
    w.add_u32(a + "attention.head_count", c.n_heads);
    w.add_u32(a + "attention.head_count_kv", c.n_kv_heads);
    w.add_u32(a + "rope.dimension_count", c.head_dim);
    w.add_f32(a + "rope.freq_base", c.rope_theta);
    w.add_f32(a + "attention.layer_norm_rms_epsilon", c.norm_eps);
    w.add_u32("general.file_type", 1);
    if (s.vocab) {
        const std::vector<std::string> pieces = test_vocab_pieces(c.vocab_size);
        std::vector<float> scores(pieces.size());
        std::vector<int32_t> types(pieces.size(), 1);
        for (size_t i = 0; i < pieces.size(); ++i) {
            scores[i] = -(float)i;
            if (i == 0) types[i] = 2;
            else if (i < 3) types[i] = 3;
            else if (pieces[i].size() == 6 && pieces[i][0] == '<') types[i] = 6;
        }
        w.add_string("tokenizer.ggml.model", "llama");
        w.add_string_array("tokenizer.ggml.tokens", pieces);
        w.add_array<float>("tokenizer.ggml.scores", agm::GGUF_F32, scores);
        w.add_array<int32_t>("tokenizer.ggml.token_type", agm::GGUF_I32, types);
        w.add_u32("tokenizer.ggml.bos_token_id", 1);
        w.add_u32("tokenizer.ggml.eos_token_id", 2);
        w.add_u32("tokenizer.ggml.unknown_token_id", 0);
    }
    const uint64_t dim = c.dim;
    auto vec = [&](const std::string& name, std::vector<float>* v) {
        w.add_tensor(name, s.norm_type, {v->size()}, encode_floats(s.norm_type, v));
    };
    auto mat = [&](const std::string& name, std::vector<float>* v, uint64_t rows, uint32_t type) {
        w.add_tensor(name, type, {dim, rows}, encode_floats(type, v));
    };
    uint64_t rng = 99;
    auto tern = [&](const std::string& name, RefTernary& t) {
        w.add_tensor(name, s.ternary_type, {t.cols, t.rows}, encode_ternary(s.ternary_type, &t, s.latent, &rng));
    };
    mat("token_embd.weight", &m->embd, c.vocab_size, s.embd_type);
    vec("output_norm.weight", &m->output_norm);
    if (!c.tied) mat("output.weight", &m->output, c.vocab_size, s.output_type ? s.output_type : s.embd_type);
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        RefLayer& L = m->layers[l];
        const std::string b = "blk." + std::to_string(l) + ".";
        vec(b + "attn_norm.weight", &L.attn_norm);
        tern(b + "attn_q.weight", L.wq);
        tern(b + "attn_k.weight", L.wk);
        tern(b + "attn_v.weight", L.wv);
        tern(b + "attn_output.weight", L.wo);
        if (c.sub_norms) vec(b + "attn_sub_norm.weight", &L.attn_sub_norm);
        vec(b + "ffn_norm.weight", &L.ffn_norm);
        tern(b + "ffn_gate.weight", L.w1);
        tern(b + "ffn_up.weight", L.w3);
        tern(b + "ffn_down.weight", L.w2);
        if (c.sub_norms) vec(b + "ffn_sub_norm.weight", &L.ffn_sub_norm);
    }
    return w.build();
}

}  // namespace agm_test
