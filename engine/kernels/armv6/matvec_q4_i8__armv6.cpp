// ARMv6 SIMD product over AGM_TYPE_Q4_B32 rows (embeddings and classifiers):
// must equal matvec_q4_i8__ref bit for bit.
//
// The codes are laid out (format.h) so that, with M = 0x000F000F,
// (word >> 4k) & M holds two codes u in its two halfwords: one AND with a
// shifted operand, then one SMLAD against the matching pair of int16
// activations (q4_pairs() arranges them once per vector). Two rows per pass,
// so that every pair of activations, loaded by LDM, serves both; the loop
// over a row's blocks is assembly, hand-scheduled for the ARM1176 (TRM
// chapter 16): per code word and row 4 AND and 4 SMLAD, the two rows'
// SMLADs alternating (each accumulator's chain gets the cycle it needs);
// per word the next words and pairs loaded ahead of their use but never
// past the block. A block's sums go to a small buffer; the block scales are
// applied after, in C. The last block is marked in its pairs (q4_pairs):
// no end pointer is needed, which keeps the loop within 13 registers.
#include "agm/format.h"
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32)

namespace agm {
namespace {

constexpr uint32_t kQ4MaxBlocks = 256;  // rows of at most 8192 columns (model.cpp)

#define AGM_Q4_WORD2_HEAD                              \
    "and   %[ta], %[m], %[wa]\n\t"                     \
    "and   %[tb], %[m], %[wb]\n\t"                     \
    "smlad %[aa], %[ta], %[p0], %[aa]\n\t"             \
    "smlad %[ab], %[tb], %[p0], %[ab]\n\t"             \
    "and   %[ta], %[m], %[wa], lsr #4\n\t"             \
    "and   %[tb], %[m], %[wb], lsr #4\n\t"             \
    "smlad %[aa], %[ta], %[p1], %[aa]\n\t"             \
    "smlad %[ab], %[tb], %[p1], %[ab]\n\t"             \
    "ldmia %[pp]!, {%[p0], %[p1]}\n\t"                 \
    "and   %[ta], %[m], %[wa], lsr #8\n\t"             \
    "and   %[tb], %[m], %[wb], lsr #8\n\t"             \
    "and   %[wa], %[m], %[wa], lsr #12\n\t"            \
    "and   %[wb], %[m], %[wb], lsr #12\n\t"            \
    "smlad %[aa], %[ta], %[p0], %[aa]\n\t"             \
    "smlad %[ab], %[tb], %[p0], %[ab]\n\t"

// A word followed by another in the block: its loads.
#define AGM_Q4_WORD2                                   \
    AGM_Q4_WORD2_HEAD                                  \
    "smlad %[aa], %[wa], %[p1], %[aa]\n\t"             \
    "smlad %[ab], %[wb], %[p1], %[ab]\n\t"             \
    "ldr   %[wa], [%[ca]], #4\n\t"                     \
    "ldr   %[wb], [%[cb]], #4\n\t"                     \
    "ldmia %[pp]!, {%[p0], %[p1]}\n\t"

// The block's last word: then its 8 * sum(q) word (bit 16: the last block).
#define AGM_Q4_WORD2_LAST                              \
    AGM_Q4_WORD2_HEAD                                  \
    "ldr   %[ta], [%[pp]], #4\n\t"                     \
    "smlad %[aa], %[wa], %[p1], %[aa]\n\t"             \
    "smlad %[ab], %[wb], %[p1], %[ab]\n\t"

// out[2b], out[2b + 1] = the block-b sums of (u - 8) * q of the rows whose
// codes start at ca and cb.
inline void q4_rows2(const uint8_t* ca, const uint8_t* cb, const uint32_t* pp, int32_t* out) {
    const uint32_t m = 0x000F000Fu;
    int32_t aa, ab;
    uint32_t ta, tb, wa, wb, p0, p1;
    __asm__ __volatile__(
        "1:\n\t"
        "ldr   %[wa], [%[ca]], #4\n\t"
        "ldr   %[wb], [%[cb]], #4\n\t"
        "ldmia %[pp]!, {%[p0], %[p1]}\n\t"
        "pld   [%[ca], #60]\n\t"
        "pld   [%[cb], #60]\n\t"
        "mov   %[aa], #0\n\t"
        "mov   %[ab], #0\n\t"
        AGM_Q4_WORD2 AGM_Q4_WORD2 AGM_Q4_WORD2 AGM_Q4_WORD2_LAST
        "sxth  %[tb], %[ta]\n\t"
        "sub   %[aa], %[aa], %[tb]\n\t"
        "sub   %[ab], %[ab], %[tb]\n\t"
        "str   %[aa], [%[out]], #4\n\t"
        "str   %[ab], [%[out]], #4\n\t"
        "tst   %[ta], #0x10000\n\t"
        "beq   1b\n\t"
        : [ca] "+r"(ca), [cb] "+r"(cb), [pp] "+r"(pp), [out] "+r"(out), [aa] "=&r"(aa), [ab] "=&r"(ab),
          [ta] "=&r"(ta), [tb] "=&r"(tb), [wa] "=&r"(wa), [wb] "=&r"(wb), [p0] "=&r"(p0), [p1] "=&r"(p1)
        : [m] "r"(m)
        : "cc", "memory");
}

}  // namespace

void matvec_q4_i8__armv6(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                         const int8_t* q, const uint32_t* pairs, int32_t* acc) {
    if (rows == 0) return;
    if (n_blocks == 0 || n_blocks > kQ4MaxBlocks) {
        matvec_q4_i8__ref(w, row_stride, rows, n_blocks, q, pairs, acc);
        return;
    }
    const size_t codes_at = 4 + (n_blocks + 3) / 4 * 4;
    int32_t sums[2 * kQ4MaxBlocks];
    uint32_t r = 0;
    for (; r + 2 <= rows; r += 2) {
        const uint8_t* ra = w + (size_t)r * row_stride;
        const uint8_t* rb = ra + row_stride;
        q4_rows2(ra + codes_at, rb + codes_at, pairs, sums);
        int32_t ta = 0, tb = 0;
        for (uint32_t b = 0; b < n_blocks; ++b) {
            ta += (int32_t)ra[4 + b] * sums[2 * b];
            tb += (int32_t)rb[4 + b] * sums[2 * b + 1];
        }
        acc[r] = ta;
        acc[r + 1] = tb;
    }
    if (r < rows) matvec_q4_i8__ref(w + (size_t)r * row_stride, row_stride, 1, n_blocks, q, pairs, acc + r);
}

}  // namespace agm

#endif
