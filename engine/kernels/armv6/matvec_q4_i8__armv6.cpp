// ARMv6 SIMD product over AGM_TYPE_Q4_B32 rows (embeddings and classifiers):
// must equal matvec_q4_i8__ref bit for bit.
//
// The codes are laid out (format.h) so that, with M = 0x000F000F,
// (word >> 4k) & M holds two codes u in its two halfwords: one AND with a
// shifted operand, then one SMLAD against the matching pair of int16
// activations (q4_pairs() arranges them once per vector). One row at a time,
// one block (32 weights, 4 code words) per trip, in hand-scheduled assembly
// for the ARM1176 (TRM chapter 16):
//   per word: 4 AND, 4 SMLAD into two accumulators (an SMLAD chain on one
//   accumulator would cost 2 cycles each), 2 LDR of activation pairs and the
//   LDR of the next word, placed so that no load result or AND result is
//   used before it is ready (loads 3 cycles; SMLAD reads its operands one
//   cycle early);
//   per block: the scale byte, the block's 8 * sum(q) (the codes' offset of
//   8), one MLA, one PLD (the next 32-byte line of codes).
// About 12 cycles per 8 weights plus 8 per block: ~1.75 cycles per weight.
#include "agm/format.h"
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32)

namespace agm {
namespace {

// One code word (8 weights) against its 4 pairs p0..p3 (loaded by the
// previous LDM); then the next word and, by LDM, the next 4 pairs. One
// accumulator: its SMLAD chain is spread between the ANDs (an SMLAD reads
// the accumulator of the one two instructions before it without a stall).
#define AGM_Q4_WORD                                    \
    "and   %[t0], %[m], %[w]\n\t"                      \
    "and   %[t1], %[m], %[w], lsr #4\n\t"              \
    "smlad %[a], %[t0], %[p0], %[a]\n\t"               \
    "and   %[t0], %[m], %[w], lsr #8\n\t"              \
    "smlad %[a], %[t1], %[p1], %[a]\n\t"               \
    "and   %[t1], %[m], %[w], lsr #12\n\t"             \
    "ldr   %[w], [%[c]], #4\n\t"                       \
    "smlad %[a], %[t0], %[p2], %[a]\n\t"               \
    "ldmia %[pp]!, {%[p0], %[p1]}\n\t"                 \
    "smlad %[a], %[t1], %[p3], %[a]\n\t"               \
    "ldmia %[pp]!, {%[p2], %[p3]}\n\t"

constexpr uint32_t kQ4MaxBlocks = 256;  // rows of at most 8192 columns (model.cpp)

// out[b] = sum over block b of (u - 8) * q, for the n_blocks blocks of one
// row's codes. Reads one code word past the row (the next row's first) and
// kQ4PairPad words past the pairs (kernels.h: the caller pads them).
inline void q4_row_blocks(const uint8_t* codes, const uint32_t* pairs, uint32_t n_blocks, int32_t* out) {
    const uint8_t* end = codes + (size_t)n_blocks * AGM_Q4_BLOCK_BYTES;
    const uint32_t m = 0x000F000Fu;
    int32_t a;
    uint32_t t0, t1, w, p0, p1, p2, p3;
    __asm__ __volatile__(
        "ldr   %[w], [%[c]], #4\n\t"
        "ldmia %[pp]!, {%[p0], %[p1]}\n\t"
        "ldmia %[pp]!, {%[p2], %[p3]}\n\t"
        "1:\n\t"
        "mov   %[a], #0\n\t"
        "pld   [%[c], #60]\n\t"
        AGM_Q4_WORD AGM_Q4_WORD AGM_Q4_WORD
        /* the last word: the block's 8 * sum(q) comes in p0 */
        "and   %[t0], %[m], %[w]\n\t"
        "and   %[t1], %[m], %[w], lsr #4\n\t"
        "smlad %[a], %[t0], %[p0], %[a]\n\t"
        "and   %[t0], %[m], %[w], lsr #8\n\t"
        "smlad %[a], %[t1], %[p1], %[a]\n\t"
        "and   %[t1], %[m], %[w], lsr #12\n\t"
        "ldr   %[p0], [%[pp]], #4\n\t"
        "smlad %[a], %[t0], %[p2], %[a]\n\t"
        "ldr   %[w], [%[c]], #4\n\t"
        "smlad %[a], %[t1], %[p3], %[a]\n\t"
        "ldmia %[pp]!, {%[p2], %[p3]}\n\t"  /* the next block's first pairs, in p2, p3 */
        "sub   %[a], %[a], %[p0]\n\t"
        "mov   %[p0], %[p2]\n\t"
        "mov   %[p1], %[p3]\n\t"
        "ldmia %[pp]!, {%[p2], %[p3]}\n\t"
        "str   %[a], [%[out]], #4\n\t"
        "cmp   %[c], %[end]\n\t"
        "bls   1b\n\t"
        : [c] "+r"(codes), [pp] "+r"(pairs), [out] "+r"(out), [a] "=&r"(a), [t0] "=&r"(t0), [t1] "=&r"(t1),
          [w] "=&r"(w), [p0] "=&r"(p0), [p1] "=&r"(p1), [p2] "=&r"(p2), [p3] "=&r"(p3)
        : [m] "r"(m), [end] "r"(end)
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
    int32_t sums[kQ4MaxBlocks];
    // every row but the last: its word past the row is the next row's
    for (uint32_t r = 0; r + 1 < rows; ++r) {
        const uint8_t* row = w + (size_t)r * row_stride;
        q4_row_blocks(row + codes_at, pairs, n_blocks, sums);
        const uint8_t* s = row + 4;
        int32_t total = 0;
        for (uint32_t b = 0; b < n_blocks; ++b) total += (int32_t)s[b] * sums[b];
        acc[r] = total;
    }
    const uint32_t last = rows - 1;  // (rows >= 1: n_blocks > 0 was checked, rows 0 returns below)
    if (rows > 0)
        matvec_q4_i8__ref(w + (size_t)last * row_stride, row_stride, 1, n_blocks, q, pairs, acc + last);
}

}  // namespace agm

#endif
