#include "ops.h"

#include <cmath>
#include <cstring>

#include "fast_math.h"

namespace agm {

void norm_rms_div_n(float* out, const float* x, uint32_t n) {
    float s = 0.0f;
    for (uint32_t i = 0; i < n; ++i) s += x[i] * x[i];
    s /= (float)n;
    s = 1.0f / sqrtf(s);
    s /= (float)n;
    for (uint32_t i = 0; i < n; ++i) out[i] = x[i] * s;
}

void norm_rms(float* out, const float* x, const float* w, uint32_t n, float eps) {
    float z = 0.0f;
    for (uint32_t i = 0; i < n; ++i) z += x[i] * x[i];
    z /= (float)n;
    z += eps;
    z = 1.0f / sqrtf(z);
    for (uint32_t i = 0; i < n; ++i) out[i] = w[i] * (z * x[i]);
}

float quantize_absmax_i8(const float* x, uint32_t n, int8_t* q, uint32_t n_padded) {
    // max |x| over the non-NaN values (the reference's `if (|x| > max)`
    // skips NaN), on the float bits: for non-NaN floats the order of
    // |x| is the order of (bits & 0x7FFFFFFF) as unsigned integers, and
    // integer compares do not wait for the VFP's flags.
    uint32_t max_bits = 0;
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t b;
        std::memcpy(&b, &x[i], 4);
        b &= 0x7FFFFFFFu;
        if (b <= 0x7F800000u && b > max_bits) max_bits = b;
    }
    float max;
    std::memcpy(&max, &max_bits, 4);
    const float s = (float)((double)max / 127.0);
    if (!(s > 0.0f) || !std::isfinite(s)) {
        // All zeros (or non-finite input): the reference would divide by zero;
        // we define the result as zero.
        for (uint32_t i = 0; i < n_padded; ++i) q[i] = 0;
        return 0.0f;
    }
    const float r = (float)(1.0 / (double)s);
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {  // four at a time: the VFP latencies overlap (same operations)
        const double v0 = (double)(x[i] * r), v1 = (double)(x[i + 1] * r);
        const double v2 = (double)(x[i + 2] * r), v3 = (double)(x[i + 3] * r);
        const double a0 = std::fabs(v0) + 0.5, a1 = std::fabs(v1) + 0.5;
        const double a2 = std::fabs(v2) + 0.5, a3 = std::fabs(v3) + 0.5;
        const int32_t t0 = !(v0 == v0) ? 0 : a0 < 127.0 ? (int32_t)a0 : 127;
        const int32_t t1 = !(v1 == v1) ? 0 : a1 < 127.0 ? (int32_t)a1 : 127;
        const int32_t t2 = !(v2 == v2) ? 0 : a2 < 127.0 ? (int32_t)a2 : 127;
        const int32_t t3 = !(v3 == v3) ? 0 : a3 < 127.0 ? (int32_t)a3 : 127;
        q[i] = (int8_t)(v0 < 0.0 ? -t0 : t0);
        q[i + 1] = (int8_t)(v1 < 0.0 ? -t1 : t1);
        q[i + 2] = (int8_t)(v2 < 0.0 ? -t2 : t2);
        q[i + 3] = (int8_t)(v3 < 0.0 ? -t3 : t3);
    }
    for (; i < n; ++i) {
        // The reference's round((double)(x * r)), half away from zero, then
        // clamped to -127..127 (NaN: 0). Without the library call: |v| + 0.5
        // is exact in double for |v| < 127.5 (v has 24 significant bits) and
        // truncating it rounds half away from zero. With a finite max,
        // |x * r| <= max * r stays within a few ulp of 127; the clamp and the
        // NaN test come before the float-to-int conversion, which would be
        // undefined out of range.
        const double v = (double)(x[i] * r);
        const double a = std::fabs(v) + 0.5;
        const int32_t t = !(v == v) ? 0 : a < 127.0 ? (int32_t)a : 127;
        q[i] = (int8_t)(v < 0.0 ? -t : t);
    }
    for (i = n; i < n_padded; ++i) q[i] = 0;
    return s;
}

void rope_table(float* cos_sin, uint32_t pos, uint32_t head_dim, float theta) {
    for (uint32_t i = 0; i < head_dim; i += 2) {
        const float freq = 1.0f / powf(theta, (float)i / (float)head_dim);
        const float val = (float)pos * freq;
        cos_sin[i] = cosf(val);
        cos_sin[i + 1] = sinf(val);
    }
}

void rope_apply(float* v, uint32_t n_heads, uint32_t head_dim, const float* cos_sin,
                bool interleaved) {
    const uint32_t half = head_dim / 2;
    for (uint32_t h = 0; h < n_heads; ++h) {
        float* x = v + (size_t)h * head_dim;
        for (uint32_t i = 0; i < head_dim; i += 2) {
            const float c = cos_sin[i], s = cos_sin[i + 1];
            const uint32_t a = interleaved ? i : i / 2;
            const uint32_t b = interleaved ? i + 1 : i / 2 + half;
            const float v0 = x[a], v1 = x[b];
            x[a] = v0 * c - v1 * s;
            x[b] = v0 * s + v1 * c;
        }
    }
}

void softmax(float* x, uint32_t n) {
    float max = x[0];
    for (uint32_t i = 1; i < n; ++i)
        if (x[i] > max) max = x[i];
    float sum = 0.0f;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {  // the four expf side by side; the sum still in order
        const float d[4] = {x[i] - max, x[i + 1] - max, x[i + 2] - max, x[i + 3] - max};
        expf_exact4(d, x + i);
        sum += x[i];
        sum += x[i + 1];
        sum += x[i + 2];
        sum += x[i + 3];
    }
    for (; i < n; ++i) {
        x[i] = expf_exact(x[i] - max);
        sum += x[i];
    }
    for (i = 0; i < n; ++i) x[i] /= sum;
}

void gated_act(float* h, const float* g, const float* u, uint32_t n, bool silu) {
    uint32_t i = 0;
    if (silu) {
        // Four at a time: the same operations per element, the four expf
        // approximations interleaved.
        for (; i + 4 <= n; i += 4) {
            const float neg[4] = {-g[i], -g[i + 1], -g[i + 2], -g[i + 3]};
            float e[4];
            expf_exact4(neg, e);
            for (int j = 0; j < 4; ++j) {
                float val = g[i + j];
                val *= (1.0f / (1.0f + e[j]));
                val *= u[i + j];
                h[i + j] = val;
            }
        }
    }
    for (; i < n; ++i) {
        float val = g[i];
        if (silu) {
            val *= (1.0f / (1.0f + expf_exact(-val)));
        } else {
            val = val > 0.0f ? val * val : 0.0f;
        }
        val *= u[i];
        h[i] = val;
    }
}

}  // namespace agm
