// The compact KV cache types (agm_session_options.kv_type): the conversions
// between the float K/V rows the forward pass computes and what the cache
// stores. Header-only: the converters sit in the attention loops.
//
// Storage per layer, n_ctx positions, kv_dim = n_kv_heads * head_dim:
//   AGM_KV_F32  float    [n_ctx][kv_dim]                 4 bytes per value (exact)
//   AGM_KV_F16  uint16_t [n_ctx][kv_dim]                 2 bytes per value
//   AGM_KV_Q8   int8_t   [n_ctx][kv_dim]                 1 byte per value
//               + float  [n_ctx][n_kv_heads] scales      4 bytes per head_dim block
// K and V each have their own such region; the q8 scales of all layers sit in
// a separate array so that both the int8 rows and the floats stay aligned
// (no unaligned multi-word loads on ARMv6).
//
// Error bounds (value x stored, x' read back):
//   f16: IEEE binary16, round to nearest even. |x'-x| <= 2^-11 |x| for
//        2^-14 <= |x| <= 65504; <= 2^-25 below 2^-14 (subnormals). Finite values
//        beyond +-65504 are stored as +-65504 (saturated, not inf: a K/V that
//        large is a broken model, but a NaN-free one should stay NaN-free).
//   q8:  per (position, KV head) block of head_dim values: d = max|x| / 127,
//        q = round-half-away(x * (127 / max|x|)) in -127..127, x' = q * d.
//        |x'-x| <= d/2 = max|x| / 254 (plus float rounding, ~2^-23 max|x|).
//        A block with a NaN or an infinity reads back as all NaN; one with
//        max|x| < 1e-30 as zeros (and 127 / max|x| cannot overflow).
#ifndef AGM_ENGINE_KV_CACHE_H
#define AGM_ENGINE_KV_CACHE_H

#include <cstdint>
#include <cstring>

#include "agm/half.h"

namespace agm {

// ---- Rows of one (position, KV head) block -------------------------------

// out[n] = x as f16, finite values saturated to +-65504.
inline void kv_store_f16(const float* x, uint32_t n, uint16_t* out) {
    for (uint32_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_f16(x[i]);
        if ((h & 0x7fffu) == 0x7c00u && (float_bits(x[i]) & 0x7fffffffu) != 0x7f800000u)
            h = (uint16_t)((h & 0x8000u) | 0x7bffu);  // finite overflow: +-65504
        out[i] = h;
    }
}

// Cached K/V values are normal halves nearly always: the first loop converts
// every value as a normal one, without a branch (the host compiler
// vectorises it), and notes whether any was not (zero, subnormal, inf, NaN);
// only then is the row converted again value by value.
inline void kv_load_f16(const uint16_t* h, uint32_t n, float* out) {
    uint32_t special = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t em = h[i] & 0x7fffu;
        special |= (uint32_t)(em - 0x0400u >= 0x7c00u - 0x0400u);  // em < 0x400 or >= 0x7c00
        out[i] = bits_float(((uint32_t)(h[i] & 0x8000u) << 16) | ((em << 13) + ((uint32_t)(127 - 15) << 23)));
    }
    if (special != 0)
        for (uint32_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
}

// q[n] = round-half-away(x * 127 / max|x|); returns d = max|x| / 127
// (0 for a block of zeros or max|x| < 1e-30, NaN for a block with a NaN or
// an infinity).
inline float kv_store_q8(const float* x, uint32_t n, int8_t* q) {
    float max = 0.0f;
    bool nan = false;
    for (uint32_t i = 0; i < n; ++i) {
        const float a = x[i] < 0.0f ? -x[i] : x[i];
        if (a > max) max = a;
        else if (a != a) nan = true;
    }
    if (nan || max > 3.4028234663852886e38f) {
        std::memset(q, 0, n);
        return bits_float(0x7fc00000u);  // 0 * NaN reads back as NaN
    }
    if (max < 1e-30f) {
        std::memset(q, 0, n);
        return 0.0f;
    }
    const float inv = 127.0f / max;
    for (uint32_t i = 0; i < n; ++i) {
        // |v| <= 127 (plus an ulp): truncation is defined, v - t is exact,
        // and rounding half away needs no libm call.
        const float v = x[i] * inv;
        int32_t t = (int32_t)v;
        const float frac = v - (float)t;
        if (frac >= 0.5f) ++t;
        else if (frac <= -0.5f) --t;
        q[i] = (int8_t)(t > 127 ? 127 : t < -127 ? -127 : t);
    }
    return max / 127.0f;
}

inline void kv_load_q8(const int8_t* q, float d, uint32_t n, float* out) {
    for (uint32_t i = 0; i < n; ++i) out[i] = (float)q[i] * d;
}

}  // namespace agm

#endif
