#include "agm/quant_rows.h"

#include <cstddef>
#include <cstring>

#include "agm/format.h"
#include "agm/model_file.h"

namespace agm {

void dequantize_q4_b32_row(const uint8_t* data, uint32_t cols, uint32_t r, float* out) {
    const uint32_t nb = (cols + AGM_Q4_BLOCK - 1) / AGM_Q4_BLOCK;
    uint64_t row_bytes = 0;
    tensor_row_bytes(AGM_TYPE_Q4_B32, cols, &row_bytes);
    const uint8_t* row = data + (size_t)(row_bytes * r);
    float d;
    std::memcpy(&d, row, 4);
    const uint8_t* s = row + 4;
    const uint8_t* codes = row + 4 + (nb + 3) / 4 * 4;
    for (uint32_t i = 0; i < cols; ++i) {
        const uint32_t b = i / AGM_Q4_BLOCK, in = i % AGM_Q4_BLOCK, j = in / 8, p = in % 8;
        const uint8_t byte = codes[(size_t)b * AGM_Q4_BLOCK_BYTES + 4 * j + p / 2];
        const int32_t u = p % 2 ? byte >> 4 : byte & 0x0F;
        out[i] = d * (float)((int32_t)s[b] * (u - 8));
    }
}

void dequantize_tl5_r4s_row(const uint8_t* data, uint32_t rows, uint32_t cols, uint32_t words, uint32_t r,
                            float* out) {
    const uint32_t groups = words;
    const uint32_t quads = (rows + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS;
    float s;
    std::memcpy(&s, data + (size_t)quads * groups * AGM_TL5_ROWS + (size_t)r * 4, 4);
    // byte r % 4 of each word of row r's quad: the group's base-3 digits
    const uint8_t* p = data + (size_t)(r / AGM_TL5_ROWS) * groups * AGM_TL5_ROWS + r % AGM_TL5_ROWS;
    for (uint32_t g = 0, c = 0; g < groups; ++g, p += AGM_TL5_ROWS) {
        uint32_t code = *p;
        for (uint32_t k = 0; k < AGM_TL5_GROUP && c < cols; ++k, ++c, code /= 3)
            out[c] = (float)((int32_t)(code % 3) - 1) * s;
    }
}

}  // namespace agm
