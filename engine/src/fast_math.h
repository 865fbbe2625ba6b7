// expf for the forward pass, several times cheaper than the C library's on
// the ARM1176 and equal to it, bit for bit.
//
// Why: on the armel target libm's expf runs in software floating point
// (about 600 instructions); the FFN's SiLU calls it hidden_dim times per
// layer and token (67,584 times a token for M300). Here it costs about 20
// VFP double operations.
//
// Equal to the library: y, a double approximation of e^x with relative error
// below 2^-46, is rounded to float only when every value within a relative
// distance of 2^-31 of y rounds to the same float. The exact e^x lies within
// 2^-46 of y, and any expf whose error is at most 0.502 ulp (glibc's
// documented bound; tests/test_ops.cpp checks it against the library on
// every float of the fast range on the host and on a strided sample under
// QEMU) returns the correctly rounded value whenever e^x is more than 0.002
// ulp (under 2^-32 relative) from a rounding midpoint. So both give the
// correctly rounded result; in the other cases (about 1 in 90) and outside
// the range (-86, 88) the library's expf is called.
//
// Method: x = (32m + j) ln2/32 + r with |r| <= ln2/64, e^x = 2^m 2^(j/32) e^r,
// e^r by its Taylor polynomial to r^5 (truncation below 2^-49).
#ifndef AGM_FAST_MATH_H
#define AGM_FAST_MATH_H

#include <cmath>
#include <cstdint>
#include <cstring>

namespace agm {

namespace fast_math_detail {

// 2^(j/32), j = 0..31, correctly rounded doubles.
constexpr double kExp2Table[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};
constexpr double kInvLn2x32 = 0x1.71547652b82fep+5;  // 32 / ln 2
constexpr double kLn2d32Hi = 0x1.62e42fee00000p-6;   // ln 2 / 32, 32 significant bits: k * hi is exact
constexpr double kLn2d32Lo = 0x1.a39ef35793c76p-38;  // the rest of ln 2 / 32
constexpr double kRoundShift = 0x1.8p52;             // adding it rounds to an integer (nearest even)
constexpr double kBand = 0x1p-31;                    // the relative distance checked around y

}  // namespace fast_math_detail

// The double approximation y of e^x for x in the fast range (-86, 88):
// straight-line code, so that several calls interleave in the VFP pipeline.
inline double expf_approx(float x) {
    using namespace fast_math_detail;
    const double xd = x;
    const double kd_shifted = xd * kInvLn2x32 + kRoundShift;
    uint64_t bits;
    std::memcpy(&bits, &kd_shifted, 8);
    const int32_t k = (int32_t)(uint32_t)bits;  // |k| < 2^12: the low word, two's complement
    const double kd = kd_shifted - kRoundShift;
    const double r = (xd - kd * kLn2d32Hi) - kd * kLn2d32Lo;
    // e^r - 1 = r + r^2/2 + r^3/6 + r^4/24 + r^5/120 (Horner)
    const double p = r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))));
    const int32_t m = k >> 5;  // floor(k / 32): arithmetic shift
    const double t = kExp2Table[k & 31];
    const uint64_t scale_bits = (uint64_t)(uint32_t)(1023 + m) << 52;
    double scale;
    std::memcpy(&scale, &scale_bits, 8);
    return (t + t * p) * scale;
}

inline bool expf_fast_range(float x) { return x > -86.0f && x < 88.0f; }

// y rounded to float if every value within 2^-31 of it rounds alike, else
// the library's expf(x).
inline float expf_round(double y, float x) {
    using namespace fast_math_detail;
    const float lo = (float)(y * (1.0 - kBand));
    const float hi = (float)(y * (1.0 + kBand));
    if (lo != hi) return expf(x);  // near a midpoint: the library decides
    return lo;
}

inline float expf_exact(float x) {
    if (!expf_fast_range(x)) return expf(x);  // NaN, overflow, subnormal results
    return expf_round(expf_approx(x), x);
}

// out[j] = expf_exact(x[j]) for j < 4, the four approximations computed
// side by side (the VFP11's 8-9 cycle latencies overlap).
inline void expf_exact4(const float* x, float* out) {
    if (!(expf_fast_range(x[0]) && expf_fast_range(x[1]) && expf_fast_range(x[2]) && expf_fast_range(x[3]))) {
        for (int j = 0; j < 4; ++j) out[j] = expf_exact(x[j]);
        return;
    }
    const double y0 = expf_approx(x[0]), y1 = expf_approx(x[1]), y2 = expf_approx(x[2]),
                 y3 = expf_approx(x[3]);
    out[0] = expf_round(y0, x[0]);
    out[1] = expf_round(y1, x[1]);
    out[2] = expf_round(y2, x[2]);
    out[3] = expf_round(y3, x[3]);
}

}  // namespace agm

#endif
