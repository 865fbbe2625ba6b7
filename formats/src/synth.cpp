#include "agm/synth.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "agm/model_file.h"
#include "agm/model_writer.h"
#include "agm/quant.h"
#include "agm/ternary.h"

namespace agm {
namespace {

// splitmix64: a full-period 64-bit generator whose every output is a
// bijective mix of a counter, so streams from different starting points do
// not overlap in practice. Integer-only: the same bytes on every target.
struct SplitMix {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1) with 24 bits: exact in a float.
    float uniform() { return (float)(next() >> 40) * (1.0f / 16777216.0f); }
    // Approximately N(0, sigma): the Irwin-Hall sum of four 32-bit uniforms,
    // centred and scaled to unit variance (tails cut at 3.46 sigma). The sum
    // is exact in integers and there is one conversion and one multiply, so
    // no libm function (whose last bit may differ between C libraries)
    // touches the result.
    float normal(double sigma) {
        const uint64_t a = next(), b = next();
        const uint64_t sum = (a & 0xFFFFFFFFu) + (a >> 32) + (b & 0xFFFFFFFFu) + (b >> 32);
        const int64_t centred = (int64_t)sum - (int64_t)0x1FFFFFFFEull;  // the mean, 4 * (2^32 - 1) / 2
        // Each 32-bit uniform has variance ~2^64/12, the sum 2^64/3: divide by 2^32/sqrt(3).
        return (float)((double)centred * (sigma * 1.7320508075688772 / 4294967296.0));
    }
};

// One independent stream per tensor, keyed by the seed and the tensor's
// name and shape (FNV-1a), so a tensor's values do not depend on which other tensors
// the configuration has or on the order they are made in.
SplitMix stream_for(uint64_t seed, const std::string& name, uint32_t rows, uint32_t cols) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char ch : name) h = (h ^ ch) * 0x100000001B3ull;
    // The shape too: blk.0.attn_q of two configurations shares no values.
    h = (h ^ rows) * 0x100000001B3ull;
    h = (h ^ cols) * 0x100000001B3ull;
    SplitMix m{seed ^ h};
    m.next();  // one step mixes seed and name before the first value
    return m;
}

uint32_t head_dim_of(const SynthConfig& c) { return c.head_dim ? c.head_dim : c.dim / c.n_heads; }

bool range(uint32_t v, uint32_t lo, uint32_t hi, const char* name, Error* err) {
    if (v < lo || v > hi) return fail_as(err, ErrorKind::Argument, "%s is %u, must be %u..%u", name, v, lo, hi);
    return true;
}

uint64_t file_estimate(const SynthConfig& c) {
    // Parameters at 4 bytes are an upper bound for every packing (plus the
    // tokenizer, which load_tokenizer_file already bounds).
    return synth_param_count(c) * 4 + (uint64_t)c.n_layers * 11 * 4096 + (1u << 20);
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

// An embedding or classifier: normal values, stored as c.embedding_type.
bool add_rows(ModelWriter* w, const SynthConfig& c, const std::string& name, uint32_t rows,
              uint32_t cols, Error* err) {
    SplitMix rng = stream_for(c.seed, name, rows, cols);
    std::vector<float> v((size_t)rows * cols);
    for (float& x : v) x = rng.normal(c.embedding_sigma);
    std::vector<uint32_t> shape{rows, cols};
    if (c.embedding_type == AGM_TYPE_Q4_B32 || c.embedding_type == AGM_TYPE_TL5_R4S) {
        std::vector<uint8_t> q;
        const bool ok = c.embedding_type == AGM_TYPE_Q4_B32 ? quantize_q4_b32(v.data(), rows, cols, &q, err)
                                                            : quantize_tl5_r4s(v.data(), rows, cols, &q, err);
        if (!ok) return fail_context(err, name.c_str());
        return w->add_tensor(name, c.embedding_type, shape, 1.0f, std::move(q), err);
    }
    return w->add_tensor(name, AGM_TYPE_F32, shape, 1.0f, f32_bytes(v), err);
}

// A learned RMS norm weight: near 1, as at initialisation.
bool add_norm(ModelWriter* w, const SynthConfig& c, const std::string& name, uint32_t n, Error* err) {
    SplitMix rng = stream_for(c.seed, name, 1, n);
    std::vector<float> v(n);
    for (float& x : v) x = 1.0f + rng.normal(0.02);
    return w->add_tensor(name, AGM_TYPE_F32, {n}, 1.0f, f32_bytes(v), err);
}

// A ternary matrix [rows, cols]: each weight 0 with P = zero_fraction, else
// +1 or -1 with equal odds; packed as c.ternary_type. The scale is uniform
// in [scale_lo, scale_hi] (see synth_model for the ranges' origin).
bool add_ternary(ModelWriter* w, const SynthConfig& c, const std::string& name, uint32_t rows,
                 uint32_t cols, float scale_lo, float scale_hi, Error* err) {
    SplitMix rng = stream_for(c.seed, name, rows, cols);
    const float scale = scale_lo + (scale_hi - scale_lo) * rng.uniform();
    // u32 below the threshold: zero. zero_fraction 1 gives 2^32, above every u32.
    const uint64_t zero_below = (uint64_t)(c.zero_fraction * 4294967296.0);
    std::vector<int8_t> m((size_t)rows * cols);  // [rows][cols], row-major
    const size_t n = m.size();
    for (size_t i = 0; i < n; i += 2) {
        const uint64_t r = rng.next();
        for (size_t k = 0; k < 2 && i + k < n; ++k) {
            const uint32_t u = (uint32_t)(r >> (32 * k));
            // Above the threshold u is uniform on [zero_below, 2^32): its
            // lowest bit is a fair coin (off by at most 2^-31).
            m[i + k] = (int8_t)(u < zero_below ? 0 : (u & 1u) ? 1 : -1);
        }
    }
    std::vector<uint8_t> packed;
    if (!pack_ternary(c.ternary_type, m.data(), rows, cols, &packed, err)) return fail_context(err, name.c_str());
    return w->add_tensor(name, c.ternary_type, {rows, cols}, scale, std::move(packed), err);
}

}  // namespace

bool synth_preset(const char* name, SynthConfig* c) {
    SynthConfig d;  // defaults: bitllama2.c's norms, SiLU, RoPE 10000 interleaved, tied
    const std::string n = name ? name : "";
    if (n == "tiny") {  // the shapes of the 3M TinyStories model
        d.dim = 256; d.hidden_dim = 256; d.n_layers = 8; d.n_heads = 8; d.n_kv_heads = 4;
        d.vocab_size = 512; d.max_seq_len = 512;
    } else if (n == "lite") {  // "Transformer-Lite": 12 x 512, FFN 1536
        d.dim = 512; d.hidden_dim = 1536; d.n_layers = 12; d.n_heads = 8; d.n_kv_heads = 8;
        d.vocab_size = 32000; d.max_seq_len = 2048;
    } else if (n == "m300") {  // ~300M parameters, grouped-query attention 16/4
        d.dim = 1024; d.hidden_dim = 2816; d.n_layers = 24; d.n_heads = 16; d.n_kv_heads = 4;
        d.vocab_size = 32000; d.max_seq_len = 2048;
    } else {
        return false;
    }
    *c = d;
    return true;
}

// The reader's ranges (model_file.h), checked here too so that a bad
// option is refused before minutes of generation, not after.
bool synth_check(const SynthConfig& c, Error* err) {
    if (!range(c.dim, 1, kMaxWidth, "dim", err) || !range(c.hidden_dim, 1, kMaxWidth, "hidden_dim", err) ||
        !range(c.n_layers, 1, kMaxLayers, "n_layers", err) || !range(c.n_heads, 1, 4096, "n_heads", err) ||
        !range(c.n_kv_heads, 1, c.n_heads, "n_kv_heads", err) ||
        !range(c.vocab_size, 1, kMaxWidth, "vocab_size", err) ||
        !range(c.max_seq_len, 1, kMaxSeqLen, "max_seq_len", err))
        return false;
    if (c.n_heads % c.n_kv_heads != 0)
        return fail_as(err, ErrorKind::Argument, "n_heads %u is not a multiple of n_kv_heads %u",
                       c.n_heads, c.n_kv_heads);
    if (c.head_dim == 0 && c.dim % c.n_heads != 0)
        return fail_as(err, ErrorKind::Argument,
                       "dim %u is not a multiple of n_heads %u (or give head_dim)", c.dim, c.n_heads);
    const uint32_t hd = head_dim_of(c);
    if (hd < 2 || hd > 4096 || hd % 2 != 0)
        return fail_as(err, ErrorKind::Argument, "head_dim %u must be even and 2..4096", hd);
    if ((uint64_t)c.n_heads * hd > kMaxWidth)
        return fail_as(err, ErrorKind::Argument, "n_heads * head_dim = %llu is above %u",
                       (unsigned long long)c.n_heads * hd, kMaxWidth);
    for (uint32_t kind : {c.norm_input, c.norm_sub, c.norm_output})
        if (kind > AGM_NORM_RMS_DIV_N)
            return fail_as(err, ErrorKind::Argument, "norm kind %u is unknown (0 none, 1 rms, 2 rms/n)", kind);
    if (!(c.norm_eps >= 0.0f && c.norm_eps < 1.0f))
        return fail_as(err, ErrorKind::Argument, "norm_eps must be in [0, 1)");
    if (c.ffn_act != AGM_FFN_SILU_GATED && c.ffn_act != AGM_FFN_RELU2_GATED)
        return fail_as(err, ErrorKind::Argument, "FFN activation %u is unknown (1 silu, 2 relu2)", c.ffn_act);
    if (!(c.rope_theta > 0.0f && std::isfinite(c.rope_theta)))
        return fail_as(err, ErrorKind::Argument, "rope_theta must be a positive finite number");
    if (c.rope_layout != AGM_ROPE_INTERLEAVED && c.rope_layout != AGM_ROPE_HALVES)
        return fail_as(err, ErrorKind::Argument, "RoPE layout %u is unknown (1 interleaved, 2 halves)",
                       c.rope_layout);
    if (c.tied_classifier > 1) return fail_as(err, ErrorKind::Argument, "tied_classifier must be 0 or 1");
    if (c.embedding_type != AGM_TYPE_F32 && c.embedding_type != AGM_TYPE_Q4_B32 &&
        c.embedding_type != AGM_TYPE_TL5_R4S)
        return fail_as(err, ErrorKind::Unsupported,
                       "embedding type %u is not f32 (%u), q4_b32 (%u) or tl5_r4s (%u)", c.embedding_type,
                       (unsigned)AGM_TYPE_F32, (unsigned)AGM_TYPE_Q4_B32, (unsigned)AGM_TYPE_TL5_R4S);
    if (c.embedding_type == AGM_TYPE_Q4_B32 && c.dim > 8192)
        return fail_as(err, ErrorKind::Unsupported, "a q4_b32 embedding needs dim <= 8192");
    if (!is_ternary_type(c.ternary_type))
        return fail_as(err, ErrorKind::Unsupported,
                       "tensor type %u is not a ternary packing (supported: %u t2_b128, %u tl5_r4)",
                       c.ternary_type, (unsigned)AGM_TYPE_T2_B128, (unsigned)AGM_TYPE_TL5_R4);
    if (!(c.zero_fraction >= 0.0 && c.zero_fraction <= 1.0))
        return fail_as(err, ErrorKind::Argument, "zero fraction must be in [0, 1]");
    if (!(c.embedding_sigma > 0.0 && c.embedding_sigma < 1e6))
        return fail_as(err, ErrorKind::Argument, "embedding sigma must be positive");
    // Every image is built in memory (twice at the peak): refuse what cannot
    // be addressed instead of failing an allocation, which without
    // exceptions would end the process.
    if (file_estimate(c) > (uint64_t)(SIZE_MAX / 3))
        return fail_as(err, ErrorKind::NoMemory,
                       "%llu parameters are too many to build in this address space",
                       (unsigned long long)synth_param_count(c));
    return true;
}

uint64_t synth_param_count(const SynthConfig& c) {
    const uint64_t dim = c.dim, hidden = c.hidden_dim, hd = c.n_heads ? head_dim_of(c) : 0;
    const uint64_t q = (uint64_t)c.n_heads * hd, kv = (uint64_t)c.n_kv_heads * hd;
    uint64_t layer = q * dim + 2 * kv * dim + dim * q + 3 * hidden * dim;
    if (c.norm_input == AGM_NORM_RMS) layer += 2 * dim;
    if (c.norm_sub == AGM_NORM_RMS) layer += q + hidden;
    uint64_t total = layer * c.n_layers + (uint64_t)c.vocab_size * dim;
    if (!c.tied_classifier) total += (uint64_t)c.vocab_size * dim;
    if (c.norm_output == AGM_NORM_RMS) total += dim;
    return total;
}

bool synth_model(const SynthConfig& c, const Vocab* vocab, std::vector<uint8_t>* out, Error* err) {
    if (!synth_check(c, err)) return false;
    if (vocab != nullptr && vocab->pieces.size() != c.vocab_size)
        return fail_as(err, ErrorKind::Argument, "tokenizer has %zu tokens, the vocabulary size is %u",
                       vocab->pieces.size(), c.vocab_size);
    const uint32_t dim = c.dim, hidden = c.hidden_dim, hd = head_dim_of(c);
    const uint32_t q_dim = c.n_heads * hd, kv_dim = c.n_kv_heads * hd;

    ModelWriter w;
    ModelConfig mc;
    mc.arch = AGM_ARCH_BITNET_LLAMA;
    mc.dim = dim;
    mc.hidden_dim = hidden;
    mc.n_layers = c.n_layers;
    mc.n_heads = c.n_heads;
    mc.n_kv_heads = c.n_kv_heads;
    mc.vocab_size = c.vocab_size;
    mc.max_seq_len = c.max_seq_len;
    mc.head_dim = hd;
    mc.norm_input = c.norm_input;
    mc.norm_sub = c.norm_sub;
    mc.norm_output = c.norm_output;
    mc.norm_eps = c.norm_eps;
    mc.ffn_act = c.ffn_act;
    mc.rope_theta = c.rope_theta;
    mc.rope_layout = c.rope_layout;
    mc.tied_classifier = c.tied_classifier;
    mc.act_quant = AGM_ACT_ABSMAX_I8;
    w.set_config(mc);

    if (!add_rows(&w, c, "token_embd", c.vocab_size, dim, err)) return false;
    if (c.norm_output == AGM_NORM_RMS && !add_norm(&w, c, "output_norm", dim, err)) return false;
    if (!c.tied_classifier && !add_rows(&w, c, "output", c.vocab_size, dim, err)) return false;

    // Per-tensor scales in the ranges of the trained 3M BitNet model (its
    // absmean scales): q and k 0.76..3.2, every other matrix 0.066..0.35.
    // The values matter little for speed; they keep activations in the range
    // a trained model has, so the logits look like a model's (finite, spread).
    const float qk_lo = 0.75f, qk_hi = 3.0f, lo = 0.07f, hi = 0.35f;
    for (uint32_t l = 0; l < c.n_layers; ++l) {
        char p[32];
        std::snprintf(p, sizeof p, "blk.%u.", l);
        const std::string b = p;
        const bool ok =
            (c.norm_input != AGM_NORM_RMS || add_norm(&w, c, b + "attn_norm", dim, err)) &&
            add_ternary(&w, c, b + "attn_q", q_dim, dim, qk_lo, qk_hi, err) &&
            add_ternary(&w, c, b + "attn_k", kv_dim, dim, qk_lo, qk_hi, err) &&
            add_ternary(&w, c, b + "attn_v", kv_dim, dim, lo, hi, err) &&
            (c.norm_sub != AGM_NORM_RMS || add_norm(&w, c, b + "attn_sub_norm", q_dim, err)) &&
            add_ternary(&w, c, b + "attn_output", dim, q_dim, lo, hi, err) &&
            (c.norm_input != AGM_NORM_RMS || add_norm(&w, c, b + "ffn_norm", dim, err)) &&
            add_ternary(&w, c, b + "ffn_gate", hidden, dim, lo, hi, err) &&
            add_ternary(&w, c, b + "ffn_up", hidden, dim, lo, hi, err) &&
            (c.norm_sub != AGM_NORM_RMS || add_norm(&w, c, b + "ffn_sub_norm", hidden, err)) &&
            add_ternary(&w, c, b + "ffn_down", dim, hidden, lo, hi, err);
        if (!ok) return false;
    }
    if (vocab != nullptr) {
        std::vector<uint8_t> section;
        if (!serialize_tokenizer(*vocab, &section, err)) return false;
        w.set_tokenizer(std::move(section));
    }
    char line[160];
    std::snprintf(line, sizeof line, "agmodel-synth, seed %llu: random ternary weights, not a trained model",
                  (unsigned long long)c.seed);
    w.add_metadata("source", line);
    std::snprintf(line, sizeof line, "%.6f zeros, scales q/k %.2f..%.2f, others %.2f..%.2f, embedding sigma %.4f",
                  c.zero_fraction, qk_lo, qk_hi, lo, hi, c.embedding_sigma);
    w.add_metadata("synth.weights", line);
    std::snprintf(line, sizeof line, "%llu", (unsigned long long)synth_param_count(c));
    w.add_metadata("synth.parameters", line);
    if (vocab != nullptr && !c.tokenizer_source.empty()) w.add_metadata("tokenizer.source", c.tokenizer_source);
    w.add_metadata("converter", "agmodel " AGM_VERSION);
    return w.finish(out, err);
}

}  // namespace agm
