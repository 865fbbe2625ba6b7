// The engine's model and session objects (behind the opaque handles of
// agmodel.h). Three plain structs, as in llama2.c: the config (FileView's
// ModelConfig), the weights (pointers into the mapped file, shapes in the
// comments) and the session's run state (one arena).
#ifndef AGM_ENGINE_MODEL_H
#define AGM_ENGINE_MODEL_H

#include <cstddef>
#include <cstdint>

#include "agm/model_file.h"
#include "agmodel.h"
#include "kernels/kernels.h"
#include "tokenizer.h"

namespace agm {

// A ternary (or later, other) matrix used in place from the file.
struct Matrix {
    const uint8_t* data = nullptr;  // t2_b128: [rows][row_stride]; tl5_r4: [quads][groups][4]
    uint32_t type = 0;              // agm_tensor_type
    uint32_t rows = 0, cols = 0;
    size_t row_stride = 0;          // t2_b128: bytes per row
    uint32_t n_blocks = 0;          // t2_b128: 128-weight blocks per row
    uint32_t n_quads = 0;           // tl5_r4: row quads
    uint32_t n_groups = 0;          // tl5_r4: 5-column groups
    float scale = 1.0f;             // per-tensor scale
};

// An embedding or classifier: rows used in place from the file.
struct RowMatrix {
    const uint8_t* data = nullptr;  // f32: [rows][cols] floats; q4_b32: [rows][row_stride];
                                    // tl5_r4s: [quads][groups][4], then the scales
    uint32_t type = 0;              // AGM_TYPE_F32, AGM_TYPE_Q4_B32 or AGM_TYPE_TL5_R4S
    uint32_t rows = 0, cols = 0;
    size_t row_stride = 0;          // f32, q4_b32: bytes per row
    uint32_t n_blocks = 0;          // q4_b32: 32-value blocks per row
    uint32_t n_quads = 0;           // tl5_r4s: row quads
    uint32_t n_groups = 0;          // tl5_r4s: 5-column groups
    const float* row_scale = nullptr;  // tl5_r4s: [n_quads * 4]
};

struct LayerWeights {
    const float* attn_norm = nullptr;      // [dim] (AGM_NORM_RMS only)
    const float* attn_sub_norm = nullptr;  // [q_dim] (AGM_NORM_RMS only)
    const float* ffn_norm = nullptr;       // [dim]
    const float* ffn_sub_norm = nullptr;   // [hidden_dim]
    Matrix wq;  // [q_dim, dim]
    Matrix wk;  // [kv_dim, dim]
    Matrix wv;  // [kv_dim, dim]
    Matrix wo;  // [dim, q_dim]
    Matrix w1;  // [hidden_dim, dim]  gate
    Matrix w2;  // [dim, hidden_dim]  down
    Matrix w3;  // [hidden_dim, dim]  up
};

}  // namespace agm

struct agm_model {
    agm::FileView file;
    const agm::ModelConfig* config = nullptr;  // = &file.config
    void* mapping = nullptr;                   // munmap on close (file models)
    size_t mapping_bytes = 0;
    agm::Tokenizer tokenizer;
    bool has_tokenizer = false;
    agm::RowMatrix embedding;                  // [vocab, dim] f32 or q4_b32
    const float* output_norm = nullptr;        // [dim] (AGM_NORM_RMS)
    agm::RowMatrix classifier;                 // [vocab, dim] f32 or q4_b32 (the embedding if tied)
    agm::LayerWeights* layers = nullptr;       // [n_layers] (in the model's arena)
    uint32_t max_text_bytes = 0;               // the tokenizer scratch's text length
    size_t arena_bytes = 0;                    // the arena's size as agm_model_memory_size gives it
    void* owned_block = nullptr;               // free on close (agm_model_open_*: the arena)
};

namespace agm {

// Binds every tensor the config needs, checking names, types and shapes,
// into model->layers (n_layers entries, provided by the caller).
bool bind_weights(agm_model* model, Error* err);

}  // namespace agm

#endif
