// Validating, zero-copy reader of the native model file (format.h). After
// parse_model_file() succeeds, every pointer in the FileView lies inside the
// buffer, every tensor's size matches its type and shape, and the config's
// values are in range: the engine never re-checks them.
#ifndef AGM_MODEL_FILE_H
#define AGM_MODEL_FILE_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"
#include "agm/format.h"
#include "agm/tokenizer_section.h"

namespace agm {

// Architecture hyperparameters, with the defaults of absent optional keys.
struct ModelConfig {
    uint32_t arch = 0;
    uint32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
    uint32_t vocab_size = 0, max_seq_len = 0, head_dim = 0;
    uint32_t norm_input = AGM_NORM_RMS, norm_sub = AGM_NORM_NONE, norm_output = AGM_NORM_RMS;
    float norm_eps = 1e-5f;
    uint32_t ffn_act = AGM_FFN_SILU_GATED;
    float rope_theta = 10000.0f;
    uint32_t rope_layout = AGM_ROPE_INTERLEAVED;
    uint32_t tied_classifier = 0;
    uint32_t act_quant = AGM_ACT_ABSMAX_I8;

    uint32_t q_dim() const { return n_heads * head_dim; }
    uint32_t kv_dim() const { return n_kv_heads * head_dim; }
};

// Limits that keep every size computation of the engine far from overflow.
constexpr uint32_t kMaxWidth = 1u << 18;     // dim, hidden_dim, vocab
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kMaxSeqLen = 1u << 20;

struct FileView {
    const uint8_t* base = nullptr;
    uint64_t size = 0;
    uint32_t version = 0;
    uint32_t checksum = 0;         // as stored
    bool checksum_verified = false;
    ModelConfig config;
    TokenizerView tokenizer;
    const agm_tensor_entry* tensors = nullptr;  // [n_tensors]
    uint32_t n_tensors = 0;
    const char* metadata = nullptr;  // [metadata_bytes] "key: value\n" lines
    size_t metadata_bytes = 0;
    const char* chat_template = nullptr;  // [chat_template_bytes], not NUL-terminated; nullptr: none
    size_t chat_template_bytes = 0;
};

// Tensor type traits: one row per type this build understands.
struct TensorTypeInfo {
    uint32_t type;
    const char* name;
    bool per_tensor_scale;
};
const TensorTypeInfo* tensor_type_info(uint32_t type);  // nullptr: unknown

// Bytes one row of `cols` elements of `type` takes; false if unknown/overflow.
bool tensor_row_bytes(uint32_t type, uint64_t cols, uint64_t* bytes);

// Bytes of a whole tensor (rows = product of all dims but the last), as
// writers lay it out.
bool tensor_bytes(uint32_t type, const uint32_t* shape, uint32_t n_dims, uint64_t* bytes);

// Words per quad of a tl5_r4 or tl5_r4s matrix of `cols` columns as writers
// lay it out: ceil(cols / 5), rounded up to a multiple of AGM_TL5_QUAD_ALIGN
// from AGM_TL5_QUAD_ALIGN_FROM words on (other types: ceil(cols / 5)).
uint32_t tl5_quad_words(uint32_t type, uint32_t cols);

// The words per quad of a tl5_r4 or tl5_r4s tensor entry as its file has it:
// tl5_quad_words(), or for a tensor written before the rounding,
// ceil(cols / 5) (its size tells; parse_model_file accepts only these).
uint32_t tl5_entry_quad_words(const agm_tensor_entry& e);

// Validates the whole file. data must be AGM_FILE_ALIGN-aligned. With
// verify_checksum the CRC-32 of all bytes is computed and compared.
bool parse_model_file(const uint8_t* data, uint64_t size, bool verify_checksum, FileView* out,
                      Error* err);

// CRC-32 of a file image with its header's checksum field read as zero.
uint32_t model_file_checksum(const uint8_t* data, uint64_t size);

// The tensor called `name`, or nullptr.
const agm_tensor_entry* find_tensor(const FileView& file, const char* name);

const char* config_key_name(uint32_t key);

}  // namespace agm

#endif
