// Reader of the "ak42" BitNet checkpoint (bitllama2.c's export, see
// docs/format.md#ak42): a 256-byte header, the final norm, the embedding,
// then per kind (wq wk wv wo w1 w2 w3) and layer a float scale and 2-bit codes.
#ifndef AGM_AK42_H
#define AGM_AK42_H

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agm/error.h"

namespace agm {

constexpr uint32_t kAk42Magic = 0x616b3432u;  // "ak42"
constexpr size_t kAk42HeaderBytes = 256;

enum class BitOrder { Msb, Lsb };  // where the first weight of a byte sits

struct Ak42Matrix {
    float scale = 0.0f;
    const uint8_t* codes = nullptr;  // rows*cols/4 bytes, row-major, 4 weights per byte
    uint32_t rows = 0, cols = 0;
};

struct Ak42Model {
    int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
    int32_t vocab_size = 0, seq_len = 0;
    bool shared_classifier = true;
    const float* final_norm = nullptr;   // [dim] (read with memcpy: may be unaligned)
    const uint8_t* embedding = nullptr;  // [vocab_size * dim] float32
    const uint8_t* classifier = nullptr; // [vocab_size * dim] float32 when not shared
    // matrices[kind * n_layers + layer], kind 0..6 = wq wk wv wo w1 w2 w3
    std::vector<Ak42Matrix> matrices;
};

// True if the buffer starts with the ak42 magic.
bool is_ak42(const uint8_t* data, size_t size);

// Validates the header's sizes against the buffer and slices the tensors.
bool read_ak42(const uint8_t* data, size_t size, Ak42Model* out, Error* err);

// Repacks a ternary matrix from ak42 codes (4 per byte, row-major, `order`)
// into the ternary tensor type `type` (agm/ternary.h). Refuses code 10,
// naming the tensor, row and column.
bool repack_ak42(const Ak42Matrix& m, BitOrder order, uint32_t type, const char* name,
                 std::vector<uint8_t>* out, Error* err);

}  // namespace agm

#endif
