// Rows of the quantised embedding types as floats (docs/format.md): what the
// engine reads from a file and what the converters' round-trip tests check,
// one definition for both. In agm_formats (the run-time library); the
// quantisers are in agm/quant.h (agm_convert).
#ifndef AGM_QUANT_ROWS_H
#define AGM_QUANT_ROWS_H

#include <cstdint>

namespace agm {

// Row r of an AGM_TYPE_Q4_B32 tensor of `cols` columns: out[cols], each
// value d * (float)(s * (u - 8)).
void dequantize_q4_b32_row(const uint8_t* data, uint32_t cols, uint32_t r, float* out);

// Row r of an AGM_TYPE_TL5_R4S tensor of rows x cols with `words` words a
// quad (tl5_entry_quad_words): out[cols], each value w * scale[r].
void dequantize_tl5_r4s_row(const uint8_t* data, uint32_t rows, uint32_t cols, uint32_t words, uint32_t r,
                            float* out);

}  // namespace agm

#endif
