// Reference ternary matrix-vector product over AGM_TYPE_T2_B128 rows.
//
// A block is 32 bytes: byte j holds weights j, j+32, j+64, j+96 in its bit
// pairs (bit 0: nonzero, bit 1: negative). For bit pair k the 32 lanes j
// read 32 consecutive activations q[32k + j], so the loop over j is
// lane-parallel and compilers vectorise it (SSE2/AVX2 on the host).
//
// The contribution of one weight is computed without a multiply or a branch:
//   neg = -(bit 1), nz = -(bit 0)   (all-ones or zero masks)
//   ((q ^ neg) - neg) & nz           ( = -q, q or 0 )
// Per-lane sums stay in int16: a block adds at most 4 * 127 = 508 to a lane,
// so 64 blocks (32,512) fit before the lanes are flushed into int32.
#include <cstring>

#include "kernels/kernels.h"

namespace agm {

void tmatvec_t2_i8__ref(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                        const int8_t* q, int32_t* acc) {
    constexpr uint32_t kFlushBlocks = 64;
    for (uint32_t r = 0; r < rows; ++r) {
        const uint8_t* row = w + (size_t)r * row_stride;
        int32_t total = 0;
        for (uint32_t b0 = 0; b0 < n_blocks; b0 += kFlushBlocks) {
            const uint32_t b1 = n_blocks - b0 < kFlushBlocks ? n_blocks : b0 + kFlushBlocks;
            int16_t lane[32];
            std::memset(lane, 0, sizeof lane);
            for (uint32_t b = b0; b < b1; ++b) {
                const uint8_t* blk = row + (size_t)b * 32;
                const int8_t* qb = q + (size_t)b * 128;
                for (int k = 0; k < 4; ++k) {
                    for (int j = 0; j < 32; ++j) {
                        const int16_t code = (int16_t)(blk[j] >> (2 * k));
                        const int16_t nz = (int16_t)-(code & 1);
                        const int16_t neg = (int16_t)-((code >> 1) & 1);
                        const int16_t v = qb[32 * k + j];
                        lane[j] = (int16_t)(lane[j] + (((v ^ neg) - neg) & nz));
                    }
                }
            }
            for (int j = 0; j < 32; ++j) total += lane[j];
        }
        acc[r] = total;
    }
}

void matvec_f32__ref(const float* w, uint32_t rows, uint32_t cols, const float* x, float* y) {
    for (uint32_t r = 0; r < rows; ++r) {
        const float* wr = w + (size_t)r * cols;
        float sum = 0.0f;
        for (uint32_t i = 0; i < cols; ++i) sum += wr[i] * x[i];
        y[r] = sum;
    }
}

}  // namespace agm
