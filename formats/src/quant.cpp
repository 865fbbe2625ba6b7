#include "agm/quant.h"

#include <cmath>
#include <cstring>

#include "agm/format.h"
#include "agm/model_file.h"
#include "agm/ternary.h"

namespace agm {

namespace {

uint64_t q4_row_bytes(uint32_t cols) {
    uint64_t bytes = 0;
    tensor_row_bytes(AGM_TYPE_Q4_B32, cols, &bytes);
    return bytes;
}

// Squared error of x[n] on the levels step * (-8..7).
double q4_error(const float* x, uint32_t n, float step) {
    double e = 0;
    for (uint32_t i = 0; i < n; ++i) {
        long q = std::lround(x[i] / step);
        q = q < -8 ? -8 : q > 7 ? 7 : q;
        const double d = (double)x[i] - (double)step * (double)q;
        e += d * d;
    }
    return e;
}

// The block's step: max|x| / 7 (every value representable) or, when it
// gives a smaller squared error, a step a little finer or coarser: one of
// max|x| / (7 + k/8) for k = -4..8 (the largest values then clamp at -8 or
// 7 by a fraction of a step while the rest sit on a finer grid).
float best_step(const float* x, uint32_t n, float m) {
    if (m == 0.0f) return 0.0f;
    float best = m / 7.0f;
    double best_error = q4_error(x, n, best);
    for (int k = -4; k <= 8; ++k) {
        const float step = m / (7.0f + (float)k / 8.0f);
        const double e = q4_error(x, n, step);
        if (e < best_error) {
            best = step;
            best_error = e;
        }
    }
    return best;
}

}  // namespace

bool quantize_q4_b32(const float* x, uint32_t rows, uint32_t cols, std::vector<uint8_t>* out,
                     Error* err) {
    const uint32_t nb = (cols + AGM_Q4_BLOCK - 1) / AGM_Q4_BLOCK;
    const uint64_t stride = q4_row_bytes(cols);
    const uint32_t scales_bytes = (nb + 3) / 4 * 4;
    out->assign((size_t)(stride * rows), 0);
    std::vector<float> block_scale(nb);
    for (uint32_t r = 0; r < rows; ++r) {
        const float* xr = x + (size_t)r * cols;
        uint8_t* row = out->data() + (size_t)(stride * r);
        float top = 0.0f;
        for (uint32_t b = 0; b < nb; ++b) {
            float m = 0.0f;
            for (uint32_t i = b * AGM_Q4_BLOCK; i < cols && i < (b + 1) * AGM_Q4_BLOCK; ++i) {
                if (!std::isfinite(xr[i]))
                    return fail(err, "row %u, column %u: value %g is not a finite number", r, i,
                                (double)xr[i]);
                m = std::fmax(m, std::fabs(xr[i]));
            }
            block_scale[b] = best_step(xr + b * AGM_Q4_BLOCK,
                                       cols - b * AGM_Q4_BLOCK < AGM_Q4_BLOCK ? cols - b * AGM_Q4_BLOCK
                                                                            : AGM_Q4_BLOCK,
                                       m);
            top = std::fmax(top, block_scale[b]);
        }
        const float d = top / 255.0f;
        std::memcpy(row, &d, 4);
        uint8_t* s = row + 4;
        uint8_t* codes = row + 4 + scales_bytes;
        std::memset(codes, 0x88, (size_t)nb * AGM_Q4_BLOCK_BYTES);  // u = 8: zero
        for (uint32_t b = 0; b < nb; ++b) {
            long sb = d > 0.0f ? std::lround(block_scale[b] / d) : 0;
            sb = sb < 0 ? 0 : sb > 255 ? 255 : sb;
            if (sb == 0 && block_scale[b] > 0.0f) sb = 1;
            s[b] = (uint8_t)sb;
            const float step = d * (float)sb;
            for (uint32_t i = b * AGM_Q4_BLOCK; i < cols && i < (b + 1) * AGM_Q4_BLOCK; ++i) {
                long q = step > 0.0f ? std::lround(xr[i] / step) : 0;
                q = q < -8 ? -8 : q > 7 ? 7 : q;
                const uint32_t in = i - b * AGM_Q4_BLOCK, j = in / 8, p = in % 8;
                uint8_t* word = codes + (size_t)b * AGM_Q4_BLOCK_BYTES + 4 * j;
                // nibble p of the little-endian word j: byte p / 2, high half if p is odd
                uint8_t& byte = word[p / 2];
                const uint8_t u = (uint8_t)(q + 8);
                byte = (uint8_t)(p % 2 ? (byte & 0x0F) | (u << 4) : (byte & 0xF0) | u);
            }
        }
    }
    return true;
}

bool quantize_tl5_r4s(const float* x, uint32_t rows, uint32_t cols, std::vector<uint8_t>* out,
                      Error* err) {
    std::vector<int8_t> w((size_t)rows * cols);
    const uint32_t padded = (rows + AGM_TL5_ROWS - 1) / AGM_TL5_ROWS * AGM_TL5_ROWS;
    std::vector<float> scale(padded, 0.0f);
    for (uint32_t r = 0; r < rows; ++r) {
        const float* xr = x + (size_t)r * cols;
        double sum = 0;
        for (uint32_t c = 0; c < cols; ++c) {
            if (!std::isfinite(xr[c]))
                return fail(err, "row %u, column %u: value %g is not a finite number", r, c, (double)xr[c]);
            sum += std::fabs((double)xr[c]);
        }
        const float s = cols ? (float)(sum / cols) : 0.0f;
        scale[r] = s;
        for (uint32_t c = 0; c < cols; ++c) {
            long q = s > 0.0f ? std::lround(xr[c] / s) : 0;
            w[(size_t)r * cols + c] = (int8_t)(q < -1 ? -1 : q > 1 ? 1 : q);
        }
    }
    if (!pack_ternary(AGM_TYPE_TL5_R4, w.data(), rows, cols, out, err)) return false;
    const size_t at = out->size();
    out->resize(at + (size_t)padded * 4);
    std::memcpy(out->data() + at, scale.data(), (size_t)padded * 4);
    return true;
}

}  // namespace agm
