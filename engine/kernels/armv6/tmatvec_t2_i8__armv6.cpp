// ARMv6 SIMD ternary product over AGM_TYPE_T2_B128 (design 2 of
// docs/kernels.md: sign/magnitude bit planes with 32-bit SIMD). Must equal
// tmatvec_t2_i8__ref bit for bit.
//
// A word of a block holds, for bit pair k, four consecutive weights' (nz,
// neg) bits. Per word and pair (4 weights):
//   nz  = (w >> 2k) & 0x01010101            AND with shifted operand
//   sg  = (w >> 2k+1) & 0x01010101          AND with shifted operand
//   m   = USUB8(0, nz)                      0xFF where nonzero
//   GE  = USUB8(sg, 0x01010101)             GE[i] set where negative
//   t   = SEL(-q, q) & m                    SEL, AND   (-q precomputed per input)
//   sum += USADA8(t ^ 0x80808080, 0)        EOR, USADA8: sum of the 4 bytes + 512
// = 8 instructions per 4 weights (2 per weight): the lookup-table kernel over
// tl5_r4 needs 0.75, which is why tl5 is the ARM11 packing; this variant
// stays for t2_b128 files (it beats the reference's scalar loop 3x).
#include <cstring>

#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>

namespace agm {
namespace {

inline uint32_t load_word(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);  // 4-byte aligned here: a single LDR
    return v;
}

// Bit pair K of a word against 4 activations; K is a constant so that the
// shifts are immediate operands (a register-specified shift costs 2 cycles).
template <int K>
inline uint32_t pair_step(uint32_t word, uint32_t qv, uint32_t biased) {
    constexpr uint32_t kOnes = 0x01010101u;
    const uint32_t nz = (word >> (2 * K)) & kOnes;
    const uint32_t sg = (word >> (2 * K + 1)) & kOnes;
    const uint32_t neg = (uint32_t)__ssub8(0, (int8x4_t)qv);   // -q, q in -127..127
    const uint32_t m = (uint32_t)__usub8(0, nz);                // 0xFF where nonzero
    (void)__usub8(sg, kOnes);                                   // GE: the negative lanes
    const uint32_t t = (uint32_t)__sel((uint8x4_t)neg, (uint8x4_t)qv) & m;
    return __usada8(t ^ 0x80808080u, 0, biased);
}

}  // namespace

void tmatvec_t2_i8__armv6(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                          const int8_t* q, int32_t* acc) {
    for (uint32_t r = 0; r < rows; ++r) {
        const uint8_t* row = w + (size_t)r * row_stride;
        uint32_t biased = 0;  // sum of (t + 128) over every byte: 128 per weight
        for (uint32_t b = 0; b < n_blocks; ++b) {
            const uint8_t* blk = row + (size_t)b * 32;
            const int8_t* qb = q + (size_t)b * 128;
            __builtin_prefetch(blk + 64);  // PLD: a block is one 32-byte line; two ahead
            for (uint32_t j = 0; j < 32; j += 4) {
                const uint32_t word = load_word(blk + j);
                biased = pair_step<0>(word, load_word(qb + j), biased);
                biased = pair_step<1>(word, load_word(qb + 32 + j), biased);
                biased = pair_step<2>(word, load_word(qb + 64 + j), biased);
                biased = pair_step<3>(word, load_word(qb + 96 + j), biased);
            }
        }
        acc[r] = (int32_t)(biased - 128u * 128u * n_blocks);
    }
}

}  // namespace agm
#endif
