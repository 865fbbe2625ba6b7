// Synthetic models: native files of any configuration with random ternary
// weights, for measuring speed and memory at shapes we have no trained model
// for (the LITE and M300 reference configurations of docs/performance.md).
// Used by agmodel-synth and by tests and benchmarks that build models in
// memory.
//
// The output depends only on the configuration, the seed and the vocabulary:
// the random numbers come from our own generator (splitmix64) and integer
// arithmetic, never from <random> distributions or libm, so the same seed
// gives the same bytes with any compiler, C library and CPU.
#ifndef AGM_SYNTH_H
#define AGM_SYNTH_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"
#include "agm/format.h"
#include "agm/vocab.h"

namespace agm {

struct SynthConfig {
    // Architecture (docs/format.md, CONFIG keys). head_dim 0: dim / n_heads.
    uint32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
    uint32_t head_dim = 0, vocab_size = 0, max_seq_len = 0;
    // bitllama2.c's layout (the 3M model's): weightless RMS/n before every
    // ternary product, a learned RMS norm before the tied classifier.
    uint32_t norm_input = AGM_NORM_RMS_DIV_N;
    uint32_t norm_sub = AGM_NORM_RMS_DIV_N;
    uint32_t norm_output = AGM_NORM_RMS;
    float norm_eps = 1e-5f;
    uint32_t ffn_act = AGM_FFN_SILU_GATED;
    float rope_theta = 10000.0f;
    uint32_t rope_layout = AGM_ROPE_INTERLEAVED;
    uint32_t tied_classifier = 1;
    // The packing of every ternary matrix (a type for which is_ternary_type()
    // holds: t2_b128 or tl5_r4 today).
    uint32_t ternary_type = AGM_TYPE_T2_B128;
    // The embedding's (and an untied classifier's) type: AGM_TYPE_F32,
    // AGM_TYPE_Q4_B32 or AGM_TYPE_TL5_R4S.
    uint32_t embedding_type = AGM_TYPE_F32;

    // Random content.
    uint64_t seed = 1;
    // P(w = 0) of each ternary weight; +1 and -1 share the rest equally.
    // A trained BitNet b1.58 matrix quantised with absmean has about 1/3.
    double zero_fraction = 1.0 / 3.0;
    // Standard deviation of the f32 embedding (and untied classifier) values;
    // the trained 3M model's embedding has 0.053.
    double embedding_sigma = 0.05;
    // Recorded in the metadata as tokenizer.source when a vocabulary is given.
    std::string tokenizer_source;
};

// Fills *c with a named reference configuration: "tiny" (the 3M model's
// shapes, vocab 512), "lite" (12 layers, dim 512) or "m300" (24 layers, dim
// 1024, 4 KV heads). Returns false for an unknown name.
bool synth_preset(const char* name, SynthConfig* c);

// Checks the configuration: sizes in the format's ranges, head and KV-head
// counts that divide, an even head_dim, a ternary packing, a zero fraction
// in [0, 1], a positive embedding sigma.
bool synth_check(const SynthConfig& c, Error* err);

// Parameters the configuration holds: every matrix element, the embedding,
// an untied classifier, and the norm weights the norm kinds store.
uint64_t synth_param_count(const SynthConfig& c);

// Builds the whole file image in *out. vocab may be null (a file without a
// tokenizer, which cannot encode text); otherwise it must have exactly
// c.vocab_size tokens. Peak memory is about two file images (the writer's
// tensors and the laid-out file) plus one unpacked matrix.
bool synth_model(const SynthConfig& c, const Vocab* vocab, std::vector<uint8_t>* out, Error* err);

}  // namespace agm

#endif
