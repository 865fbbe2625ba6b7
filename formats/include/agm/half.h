// IEEE binary16 and bfloat16 conversions, in integer code only (the
// ARM1176's VFPv2 has no half-precision instructions). Shared by the engine's
// compact KV cache and the converters' input readers (GGUF F16/BF16/Q8_0,
// safetensors F16/BF16).
#ifndef AGM_HALF_H
#define AGM_HALF_H

#include <cstdint>
#include <cstring>

namespace agm {

inline uint32_t float_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

inline float bits_float(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// IEEE binary32 -> binary16, round to nearest, ties to even, in integer code
// only (the ARM1176's VFPv2 has no half-precision conversions). NaNs keep
// their sign and the top 10 payload bits (a payload that would vanish becomes
// 0x200, so a NaN stays a NaN); +-inf and overflow give +-inf.
inline uint16_t f32_to_f16(float f) {
    const uint32_t x = float_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a >= 0x7f800000u) {  // inf or NaN
        if (a == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        const uint32_t payload = (a >> 13) & 0x3ffu;
        return (uint16_t)(sign | 0x7c00u | (payload != 0 ? payload : 0x200u));
    }
    // 65520 = 65504 + half an ulp: a tie that rounds to the even neighbour,
    // 65536, which is out of range.
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) {  // |f| >= 2^-14: a normal half
        // Adding 0xfff plus the lowest kept bit rounds the 13 dropped bits to
        // nearest even; a carry out of the mantissa bumps the exponent, which
        // is the right result too.
        a += 0xfffu + ((a >> 13) & 1u);
        a -= (uint32_t)(127 - 15) << 23;  // rebias the exponent
        return (uint16_t)(sign | (a >> 13));
    }
    if (a < 0x33000000u) return sign;  // below 2^-25: rounds to zero
    // Subnormal half: the result is |f| * 2^24 rounded, i.e. the 24-bit
    // significand m shifted right by s = 126 - exponent (14..24).
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const uint32_t s = 126u - e;
    uint32_t q = m >> s;
    const uint32_t rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (q & 1u))) ++q;  // q may reach 0x400: the smallest normal
    return (uint16_t)(sign | q);
}

// IEEE binary16 -> binary32, exact, integer code only. Branches: inf/NaN,
// normal (the common case), zero, subnormal (normalised with CLZ, an ARMv5
// instruction).
inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t em = h & 0x7fffu;
    uint32_t bits;
    if (em >= 0x7c00u) {
        bits = sign | 0x7f800000u | ((em & 0x3ffu) << 13);
    } else if (em >= 0x0400u) {
        bits = sign | ((em << 13) + ((uint32_t)(127 - 15) << 23));
    } else if (em == 0) {
        bits = sign;
    } else {
        // value = em * 2^-24 with em's top bit at p = 31 - clz(em) (0..9):
        // 1.f * 2^(p-24), biased exponent p + 103.
        const uint32_t p = 31u - (uint32_t)__builtin_clz(em);
        bits = sign | ((p + 103u) << 23) | ((em << (23u - p)) & 0x7fffffu);
    }
    return bits_float(bits);
}

// bfloat16 -> binary32: the top half of the float's bits, exact.
inline float bf16_to_f32(uint16_t h) { return bits_float((uint32_t)h << 16); }

}  // namespace agm

#endif
