// The common middle of every input-format converter (GGUF, Hugging Face
// safetensors): a reader turns its input into an ImportModel (the
// architecture as our config keys, every ternary matrix as -1/0/+1 values with
// its scale, every other tensor as f32 values, the vocabulary), and
// build_native_file() packs that into our file. So the packing, the
// embedding precision and the size report are written once.
#ifndef AGM_IMPORT_H
#define AGM_IMPORT_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agm/error.h"
#include "agm/format.h"
#include "agm/vocab.h"

namespace agm {

// A ternary matrix [rows][cols]: value = w * scale, w in {-1, 0, +1}.
struct ImportTernary {
    uint32_t rows = 0, cols = 0;
    std::vector<int8_t> w;  // [rows * cols]
    float scale = 1.0f;
    std::string source_type;    // the input's type ("TQ2_0", "F16 latent", ...)
    uint64_t source_bytes = 0;  // the input's bytes for this matrix (the size report)
};

// A non-ternary tensor as f32 values: [rows][cols] (a vector: rows = 1).
struct ImportFloat {
    uint32_t rows = 0, cols = 0;
    std::vector<float> v;  // [rows * cols]
    std::string source_type;
    uint64_t source_bytes = 0;
};

struct ImportLayer {
    ImportFloat attn_norm, ffn_norm;          // [dim]            (norm_input == AGM_NORM_RMS)
    ImportFloat attn_sub_norm, ffn_sub_norm;  // [q_dim], [hidden] (norm_sub == AGM_NORM_RMS)
    ImportTernary wq;  // [q_dim, dim]
    ImportTernary wk;  // [kv_dim, dim]
    ImportTernary wv;  // [kv_dim, dim]
    ImportTernary wo;  // [dim, q_dim]
    ImportTernary w1;  // [hidden, dim]  gate
    ImportTernary w2;  // [dim, hidden]  down
    ImportTernary w3;  // [hidden, dim]  up
};

struct ImportModel {
    // Architecture, as the CONFIG keys of format.h.
    uint32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
    uint32_t vocab_size = 0, max_seq_len = 0;
    uint32_t norm_input = AGM_NORM_RMS, norm_sub = AGM_NORM_NONE, norm_output = AGM_NORM_RMS;
    float norm_eps = 1e-5f;
    uint32_t ffn_act = AGM_FFN_SILU_GATED;
    float rope_theta = 10000.0f;
    uint32_t rope_layout = AGM_ROPE_INTERLEAVED;
    bool tied_classifier = false;

    ImportFloat token_embd;   // [vocab, dim]
    ImportFloat output_norm;  // [dim]
    ImportFloat output;       // [vocab, dim] unless tied
    std::vector<ImportLayer> layers;

    bool has_vocab = false;
    Vocab vocab;
    std::vector<std::pair<std::string, std::string>> metadata;  // recorded in the file
    std::string chat_template;  // the source's (GGUF tokenizer.chat_template, tokenizer_config.json), "" if none
};

struct BuildOptions {
    uint32_t ternary_type = AGM_TYPE_TL5_R4;   // or AGM_TYPE_T2_B128
    uint32_t embedding_type = AGM_TYPE_F32;    // or AGM_TYPE_Q4_B32, AGM_TYPE_TL5_R4S
};

// What the file is made of, against what the input held (bytes).
struct SizeReport {
    uint64_t input_ternary = 0;     // the input's ternary matrices as stored there
    uint64_t output_ternary = 0;    // ours, packed
    uint64_t input_other = 0;       // the input's other tensors as stored there
    uint64_t output_other = 0;      // ours, at the chosen precision
    uint64_t output_file = 0;       // the whole file
    uint64_t output_overhead = 0;   // file - tensors: headers, config, tokenizer, metadata, alignment
    uint32_t n_ternary = 0, n_other = 0;
};

// Checks every shape against the architecture, every float for finiteness,
// packs, and lays out the file. Messages name the tensor.
bool build_native_file(const ImportModel& m, const BuildOptions& options, std::vector<uint8_t>* out,
                       SizeReport* report, Error* err);

// How an input names the hyperparameters, for messages: a prefix
// ("gguf: llama.", "config.json: ") and each key; vocab_size may be null
// (the importer takes it from a tensor).
struct ImportKeyNames {
    const char* prefix;
    const char* n_layers;
    const char* dim;
    const char* hidden_dim;
    const char* n_heads;
    const char* max_seq_len;
    const char* vocab_size;
};

// The ranges our reader accepts (model_file.h) for m's layer count, widths,
// heads and context, checked by an importer before anything is sized by
// them: "gguf: llama.block_count = 2147483648 (1..1024)".
bool check_import_ranges(const ImportModel& m, const ImportKeyNames& names, Error* err);

// The BitNet b1.58 weight quantisation of a latent float matrix: scale =
// mean |x| (at least 1e-5, as the training code clamps it), w = round(x /
// scale) clipped to -1..1. `how` is recorded as the source type.
bool quantize_bitnet_absmean(const float* x, uint32_t rows, uint32_t cols, ImportTernary* out,
                             Error* err);

// A float matrix whose values are already ternary times one scale (a
// llama.cpp "bitnet" GGUF stores them so): true and *out filled when every
// nonzero value has the same magnitude; false (no error) otherwise.
bool ternary_from_exact_floats(const float* x, uint32_t rows, uint32_t cols, ImportTernary* out);

}  // namespace agm

#endif
