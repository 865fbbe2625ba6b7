// Decoders of ggml tensor types (layouts in agm/ggml_decode.h).
#include <cmath>
#include <cstring>

#include "agm/ggml_decode.h"
#include "agm/gguf.h"
#include "agm/half.h"

namespace agm {
namespace {

uint16_t load_u16(const uint8_t* p) { return (uint16_t)(p[0] | (p[1] << 8)); }

constexpr uint32_t kQK = 256;  // TQ1_0 / TQ2_0 block
constexpr uint32_t kTQ1Bytes = 54, kTQ2Bytes = 66;
constexpr uint32_t kI2Block = 128;
constexpr uint32_t kQ8Block = 32, kQ8Bytes = 34;
// k-quants (ggml ids 12 and 14): llama-quantize's default for the embedding
// and the classifier of TQ1_0 / TQ2_0 files.
constexpr uint32_t kTypeQ4K = GGML_Q4_K, kTypeQ6K = GGML_Q6_K;
constexpr uint32_t kQ4KBytes = 144, kQ6KBytes = 210;

// Q4_K: 256 values in 144 bytes: f16 d, f16 dmin, scales[12] (eight 6-bit
// scales and eight 6-bit mins), qs[128] (4-bit codes). Sub-block j (32
// values) has scale sc_j and min m_j: value = d*sc_j * q - dmin*m_j, with
// the products in f32 in that order (ggml's dequantisation).
void q4k_scale_min(uint32_t j, const uint8_t* s, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
        *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

void q4k_block(const uint8_t* b, float* y) {
    const float d = f16_to_f32(load_u16(b)), dmin = f16_to_f32(load_u16(b + 2));
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    for (uint32_t j = 0; j < 4; ++j) {  // 64 values: low nibbles, then high nibbles of 32 bytes
        uint8_t sc, m;
        q4k_scale_min(2 * j, scales, &sc, &m);
        const float d1 = d * sc, m1 = dmin * m;
        q4k_scale_min(2 * j + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = dmin * m;
        for (uint32_t l = 0; l < 32; ++l) y[64 * j + l] = d1 * (float)(q[32 * j + l] & 0xF) - m1;
        for (uint32_t l = 0; l < 32; ++l) y[64 * j + 32 + l] = d2 * (float)(q[32 * j + l] >> 4) - m2;
    }
}

// Q6_K: 256 values in 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits),
// int8 scales[16], f16 d; value = d * scale * (q - 32), left to right in f32.
void q6k_block(const uint8_t* b, float* y) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = f16_to_f32(load_u16(b + 208));
    for (uint32_t half = 0; half < 2; ++half) {
        for (uint32_t l = 0; l < 32; ++l) {
            const uint32_t is = l / 16;
            const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * (float)sc[is] * (float)q1;
            y[l + 32] = d * (float)sc[is + 2] * (float)q2;
            y[l + 64] = d * (float)sc[is + 4] * (float)q3;
            y[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

// One TQ1_0 digit: byte q, digit n (0 most significant).
int tq1_digit(uint8_t q, uint32_t n) {
    static const uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    const uint8_t shifted = (uint8_t)(q * kPow3[n]);
    return ((uint16_t)shifted * 3) >> 8;
}

// Codes 0..2 of one 256-value block into c[256]; false if a code is 3.
bool tq2_block(const uint8_t* blk, uint8_t* c) {
    for (uint32_t h = 0; h < 2; ++h)
        for (uint32_t k = 0; k < 4; ++k)
            for (uint32_t j = 0; j < 32; ++j) {
                const uint8_t code = (blk[32 * h + j] >> (2 * k)) & 3;
                if (code == 3) return false;
                c[128 * h + 32 * k + j] = code;
            }
    return true;
}

void tq1_block(const uint8_t* blk, uint8_t* c) {
    for (uint32_t n = 0; n < 5; ++n)
        for (uint32_t m = 0; m < 32; ++m) c[32 * n + m] = (uint8_t)tq1_digit(blk[m], n);
    for (uint32_t n = 0; n < 5; ++n)
        for (uint32_t m = 0; m < 16; ++m) c[160 + 16 * n + m] = (uint8_t)tq1_digit(blk[32 + m], n);
    for (uint32_t n = 0; n < 4; ++n)
        for (uint32_t m = 0; m < 4; ++m) c[240 + 4 * n + m] = (uint8_t)tq1_digit(blk[48 + m], n);
}

// TQ1_0 / TQ2_0: per-block scales that must agree (see the header).
bool decode_tq(uint32_t type, const uint8_t* data, uint32_t rows, uint32_t cols, const char* name,
               ImportTernary* out, Error* err) {
    const char* tname = type == GGML_TQ1_0 ? "TQ1_0" : "TQ2_0";
    if (cols % kQK != 0)
        return fail(err, "tensor %s: %s rows of %u values, not a multiple of %u", name, tname, cols, kQK);
    const uint32_t block_bytes = type == GGML_TQ1_0 ? kTQ1Bytes : kTQ2Bytes;
    const uint32_t nb = cols / kQK;
    bool have_scale = false;
    float scale = 0.0f;
    uint32_t first_row = 0, first_block = 0;
    uint8_t codes[kQK];
    for (uint32_t r = 0; r < rows; ++r) {
        for (uint32_t b = 0; b < nb; ++b) {
            const uint8_t* blk = data + ((uint64_t)r * nb + b) * block_bytes;
            if (type == GGML_TQ1_0) {
                tq1_block(blk, codes);
            } else if (!tq2_block(blk, codes)) {
                return fail(err, "tensor %s: row %u block %u holds code 3 (the value +2): not ternary",
                            name, r, b);
            }
            const float d = f16_to_f32(load_u16(blk + block_bytes - 2));
            int8_t* w = out->w.data() + (size_t)r * cols + (size_t)b * kQK;
            bool nonzero = false;
            for (uint32_t i = 0; i < kQK; ++i) {
                w[i] = (int8_t)(codes[i] - 1);
                nonzero |= w[i] != 0;
            }
            if (!nonzero) continue;
            if (!std::isfinite(d))
                return fail(err, "tensor %s: row %u block %u has scale %s", name, r, b,
                            std::isnan(d) ? "NaN" : "inf");
            float ad = d;
            if (d < 0.0f) {  // a negative scale flips the signs: the values stay the same
                for (uint32_t i = 0; i < kQK; ++i) w[i] = (int8_t)-w[i];
                ad = -d;
            }
            if (ad == 0.0f) {  // every value is 0 whatever the codes say
                std::memset(w, 0, kQK);
                continue;
            }
            if (!have_scale) {
                have_scale = true;
                scale = ad;
                first_row = r;
                first_block = b;
            } else if (ad != scale) {
                return fail_as(err, ErrorKind::Unsupported,
                               "tensor %s: %s block scales differ (row %u block %u: %.9g, row %u block %u: "
                               "%.9g); agmodel keeps one scale per ternary matrix, as BitNet b1.58 "
                               "checkpoints have",
                               name, tname, first_row, first_block, (double)scale, r, b, (double)ad);
            }
        }
    }
    out->scale = have_scale ? scale : 0.0f;
    return true;
}

bool decode_i2s(const uint8_t* data, uint64_t bytes, uint32_t rows, uint32_t cols, const char* name,
                ImportTernary* out, Error* err) {
    const uint64_t n = (uint64_t)rows * cols;
    if (n % kI2Block != 0)
        return fail(err, "tensor %s: I2_S of %llu values, not a multiple of %u", name, (unsigned long long)n,
                    kI2Block);
    if (bytes < n / 4 + 4)
        return fail(err, "tensor %s: I2_S of %llu values needs %llu bytes, has %llu", name,
                    (unsigned long long)n, (unsigned long long)(n / 4 + 4), (unsigned long long)bytes);
    float scale;
    std::memcpy(&scale, data + n / 4, 4);
    if (!std::isfinite(scale) || scale < 0.0f)
        return fail(err, "tensor %s: I2_S scale %g is not a finite non-negative number", name, (double)scale);
    for (uint64_t blk = 0; blk < n / kI2Block; ++blk) {
        const uint8_t* p = data + blk * 32;
        int8_t* w = out->w.data() + blk * kI2Block;
        for (uint32_t k = 0; k < 4; ++k)
            for (uint32_t j = 0; j < 32; ++j) {
                const uint8_t code = (p[j] >> (6 - 2 * k)) & 3;
                if (code == 3) {
                    const uint64_t e = blk * kI2Block + 32 * k + j;
                    return fail(err, "tensor %s: value [%llu, %llu] has code 3 (the value +2): not ternary",
                                name, (unsigned long long)(e / cols), (unsigned long long)(e % cols));
                }
                w[32 * k + j] = (int8_t)(code - 1);
            }
    }
    out->scale = scale;
    return true;
}

}  // namespace

bool ggml_is_ternary(uint32_t type) {
    return type == GGML_TQ1_0 || type == GGML_TQ2_0 || type == GGML_I2_S;
}

bool ggml_is_float(uint32_t type) {
    return type == GGML_F32 || type == GGML_F16 || type == GGML_BF16 || type == GGML_Q8_0 ||
           type == kTypeQ4K || type == kTypeQ6K;
}

bool decode_ggml_ternary(uint32_t type, const uint8_t* data, uint64_t bytes, uint32_t rows,
                         uint32_t cols, const char* name, ImportTernary* out, Error* err) {
    if (!ggml_is_ternary(type))
        return fail(err, "tensor %s: type %u is not a ternary type", name, type);
    const uint64_t n = (uint64_t)rows * cols;
    uint64_t need = 0;
    if (type == GGML_I2_S) {
        need = n / 4 + 4;
    } else {
        need = n / kQK * (type == GGML_TQ1_0 ? kTQ1Bytes : kTQ2Bytes);
    }
    if (bytes < need)
        return fail(err, "tensor %s: %llu bytes, its type and shape need %llu", name,
                    (unsigned long long)bytes, (unsigned long long)need);
    out->rows = rows;
    out->cols = cols;
    out->w.assign(n, 0);
    out->source_type = type == GGML_I2_S ? "I2_S" : type == GGML_TQ1_0 ? "TQ1_0" : "TQ2_0";
    out->source_bytes = bytes;
    if (type == GGML_I2_S) return decode_i2s(data, bytes, rows, cols, name, out, err);
    return decode_tq(type, data, rows, cols, name, out, err);
}

bool decode_ggml_float(uint32_t type, const uint8_t* data, uint64_t bytes, uint64_t n,
                       std::vector<float>* out, Error* err) {
    uint64_t need = 0;
    switch (type) {
        case GGML_F32: need = n * 4; break;
        case GGML_F16:
        case GGML_BF16: need = n * 2; break;
        case GGML_Q8_0:
            if (n % kQ8Block != 0)
                return fail(err, "Q8_0 of %llu values, not a multiple of %u", (unsigned long long)n, kQ8Block);
            need = n / kQ8Block * kQ8Bytes;
            break;
        case kTypeQ4K:
        case kTypeQ6K:
            if (n % kQK != 0)
                return fail(err, "%s of %llu values, not a multiple of %u", type == kTypeQ4K ? "Q4_K" : "Q6_K",
                            (unsigned long long)n, kQK);
            need = n / kQK * (type == kTypeQ4K ? kQ4KBytes : kQ6KBytes);
            break;
        default: return fail(err, "type %u is not a float type", type);
    }
    if (bytes < need)
        return fail(err, "%llu bytes, %llu values need %llu", (unsigned long long)bytes,
                    (unsigned long long)n, (unsigned long long)need);
    out->resize(n);
    float* o = out->data();
    switch (type) {
        case GGML_F32: std::memcpy(o, data, n * 4); break;
        case GGML_F16:
            for (uint64_t i = 0; i < n; ++i) o[i] = f16_to_f32(load_u16(data + 2 * i));
            break;
        case GGML_BF16:
            for (uint64_t i = 0; i < n; ++i) o[i] = bf16_to_f32(load_u16(data + 2 * i));
            break;
        case kTypeQ4K:
            for (uint64_t b = 0; b < n / kQK; ++b) q4k_block(data + b * kQ4KBytes, o + b * kQK);
            break;
        case kTypeQ6K:
            for (uint64_t b = 0; b < n / kQK; ++b) q6k_block(data + b * kQ6KBytes, o + b * kQK);
            break;
        default:  // Q8_0
            for (uint64_t b = 0; b < n / kQ8Block; ++b) {
                const uint8_t* blk = data + b * kQ8Bytes;
                const float d = f16_to_f32(load_u16(blk));
                for (uint32_t i = 0; i < kQ8Block; ++i) o[b * kQ8Block + i] = d * (float)(int8_t)blk[2 + i];
            }
            break;
    }
    return true;
}

}  // namespace agm
