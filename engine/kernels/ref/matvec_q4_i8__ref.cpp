// Reference AGM_TYPE_Q4_B32 product: decodes every 4-bit code from its
// place in the row (format.h) and multiplies; the oracle of the SMLAD
// variants. Also the activation arrangement they read (q4_pairs).
#include <cstring>

#include "agm/format.h"
#include "kernels/kernels.h"

namespace agm {

void matvec_q4_i8__ref(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                       const int8_t* q, const uint32_t* /*pairs*/, int32_t* acc) {
    const size_t scales_bytes = (n_blocks + 3) / 4 * 4;
    for (uint32_t r = 0; r < rows; ++r) {
        const uint8_t* row = w + (size_t)r * row_stride;
        const uint8_t* s = row + 4;
        const uint8_t* codes = row + 4 + scales_bytes;
        int32_t total = 0;
        for (uint32_t b = 0; b < n_blocks; ++b) {
            int32_t block = 0;
            for (uint32_t in = 0; in < AGM_Q4_BLOCK; ++in) {
                const uint32_t j = in / 8, p = in % 8;
                const uint8_t byte = codes[(size_t)b * AGM_Q4_BLOCK_BYTES + 4 * j + p / 2];
                const int32_t u = p % 2 ? byte >> 4 : byte & 0x0F;
                block += (u - 8) * q[(size_t)b * AGM_Q4_BLOCK + in];
            }
            total += (int32_t)s[b] * block;
        }
        acc[r] = total;
    }
}

void q4_pairs(const int8_t* q, uint32_t n_blocks, uint32_t* pairs) {
    for (uint32_t b = 0; b < n_blocks; ++b) {
        const int8_t* x = q + (size_t)b * AGM_Q4_BLOCK;
        uint32_t* out = pairs + (size_t)b * kQ4PairWords;
        int32_t sum = 0;
        for (uint32_t j = 0; j < 4; ++j)
            for (uint32_t k = 0; k < 4; ++k) {
                const int32_t lo = x[8 * j + k], hi = x[8 * j + k + 4];
                out[4 * j + k] = ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
                sum += lo + hi;
            }
        // 8 * sum in the low halfword (|8 * sum| <= 32,512), bit 16 marks the last block
        out[16] = ((uint32_t)(8 * sum) & 0xFFFFu) | (b + 1 == n_blocks ? 0x10000u : 0u);
    }
}

}  // namespace agm
