// Quantised row types for embeddings and classifiers (docs/format.md):
// from float rows into AGM_TYPE_Q4_B32, and back. Shared by the converters,
// agmodel-synth and the tests; the engine reads the type in place.
#ifndef AGM_QUANT_H
#define AGM_QUANT_H

#include <cstdint>
#include <vector>

#include "agm/error.h"
#include "agm/quant_rows.h"  // and back: the row readers

namespace agm {

// Quantises x[rows][cols] into AGM_TYPE_Q4_B32 (tensor_bytes() bytes),
// per block of 32: the block scale is max|x| / 7, stored as d * s with one
// f32 d per row (the largest block scale / 255) and s in 0..255; each value
// rounds to the nearest level in -8..7. Refuses non-finite values, naming
// the row and column.
bool quantize_q4_b32(const float* x, uint32_t rows, uint32_t cols, std::vector<uint8_t>* out,
                     Error* err);

// Quantises x[rows][cols] into AGM_TYPE_TL5_R4S the BitNet b1.58 way, per
// row: scale = mean |x| of the row, w = round(x / scale) clipped to -1..1
// (a zero row: scale 0, weights 0). Refuses non-finite values.
bool quantize_tl5_r4s(const float* x, uint32_t rows, uint32_t cols, std::vector<uint8_t>* out,
                      Error* err);

}  // namespace agm

#endif
