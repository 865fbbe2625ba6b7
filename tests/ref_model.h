// A test-side reference transformer: a model held as plain arrays (ternary
// weights as -1/0/+1 with a scale, everything else f32) and a forward pass in
// plain loops, independent of the engine's code (no kernels, no packing, no
// lanes), with the same arithmetic the engine documents: the BitNet b1.58
// per-token absmax int8 activation quantisation (round half away from zero,
// scale max/127), integer dot products, f32 elsewhere, in the same order of
// operations, so that the engine on a converted file is expected to give the
// same greedy tokens and logits within a stated tolerance.
//
// The converter tests write a RefModel into an input format (GGUF with
// tests/gguf_writer.h, safetensors with tests/safetensors_writer.h), convert
// it, and compare the engine with RefSession.
#ifndef AGM_TESTS_REF_MODEL_H
#define AGM_TESTS_REF_MODEL_H

#include <cstdint>
#include <vector>

#include "agm/format.h"

namespace agm_test {

struct RefConfig {
    uint32_t dim = 256, hidden_dim = 512, n_layers = 2, n_heads = 4, n_kv_heads = 4, head_dim = 64;
    uint32_t vocab_size = 300, max_seq_len = 128;
    bool sub_norms = false;                  // RMS norms before wo and w2 (BitNet 2B4T, 1bitLLM)
    uint32_t ffn_act = AGM_FFN_SILU_GATED;   // or AGM_FFN_RELU2_GATED
    uint32_t rope_layout = AGM_ROPE_INTERLEAVED;
    float rope_theta = 10000.0f;
    float norm_eps = 1e-5f;
    bool tied = false;
    float embd_range = 0.25f;  // embedding values uniform in +-embd_range (random models)
};

struct RefTernary {
    uint32_t rows = 0, cols = 0;
    std::vector<int8_t> w;  // [rows * cols]
    float scale = 1.0f;
};

struct RefLayer {
    std::vector<float> attn_norm, ffn_norm;          // [dim]
    std::vector<float> attn_sub_norm, ffn_sub_norm;  // [q_dim], [hidden] (sub_norms)
    RefTernary wq, wk, wv, wo, w1, w2, w3;           // w1 gate, w2 down, w3 up
};

struct RefModel {
    RefConfig c;
    std::vector<float> embd;         // [vocab][dim]
    std::vector<float> output_norm;  // [dim]
    std::vector<float> output;       // [vocab][dim] unless tied
    std::vector<RefLayer> layers;

    uint32_t q_dim() const { return c.n_heads * c.head_dim; }
    uint32_t kv_dim() const { return c.n_kv_heads * c.head_dim; }
};

// Random weights from a seed: ternary values with a third zeros, scales and
// float values in ranges that keep activations of a few layers well scaled.
// Every float is passed through `round_float` (e.g. to f16 and back) and every
// ternary scale through `round_scale`, so that the model is exactly what an
// input format of that precision stores.
using RoundFn = float (*)(float);
RefModel make_ref_model(const RefConfig& c, uint64_t seed, RoundFn round_float = nullptr,
                        RoundFn round_scale = nullptr);

// The BitNet b1.58 absmean quantisation of latent weights, written here
// again (independently of the converter's): scale = mean |x| (the mean in
// double, then f32, at least 1e-5), w = round-half-even(x * (1 / scale))
// clipped to -1..1, and the value scale 1 / (1 / scale).
RefTernary ref_absmean(const std::vector<float>& x, uint32_t rows, uint32_t cols);

// The forward pass, one token at a time, with its own KV cache.
class RefSession {
public:
    explicit RefSession(const RefModel& m);
    // Logits [vocab] after feeding `token` at the next position.
    const std::vector<float>& step(int32_t token);

private:
    const RefModel& m_;
    uint32_t pos_ = 0;
    std::vector<float> kcache_, vcache_;  // [layer][max_seq][kv_dim]
    std::vector<float> logits_;
};

// Greedy generation: feeds the prompt, then `steps` argmax tokens (the lowest
// id on ties). Returns the generated ids; *logits_out (if non-null) gets the
// logits of every generated step, back to back.
std::vector<int32_t> ref_greedy(const RefModel& m, const std::vector<int32_t>& prompt, uint32_t steps,
                                std::vector<float>* logits_out = nullptr);

}  // namespace agm_test

#endif
