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

// One code word against its 4 pairs; p0, p1 hold the first two pairs on
// entry. NEXT: also load the next word and the next word's first two pairs.
#define AGM_Q4_WORD_NEXT                               \
    "and   %[t0], %[m], %[w]\n\t"                      \
    "and   %[t1], %[m], %[w], lsr #4\n\t"              \
    "smlad %[a0], %[t0], %[p0], %[a0]\n\t"             \
    "smlad %[a1], %[t1], %[p1], %[a1]\n\t"             \
    "ldr   %[p0], [%[p]], #4\n\t"                      \
    "and   %[t0], %[m], %[w], lsr #8\n\t"              \
    "ldr   %[p1], [%[p]], #4\n\t"                      \
    "and   %[t1], %[m], %[w], lsr #12\n\t"             \
    "ldr   %[w], [%[c]], #4\n\t"                       \
    "smlad %[a0], %[t0], %[p0], %[a0]\n\t"             \
    "smlad %[a1], %[t1], %[p1], %[a1]\n\t"             \
    "ldr   %[p0], [%[p]], #4\n\t"                      \
    "ldr   %[p1], [%[p]], #4\n\t"

#define AGM_Q4_WORD_LAST                               \
    "and   %[t0], %[m], %[w]\n\t"                      \
    "and   %[t1], %[m], %[w], lsr #4\n\t"              \
    "smlad %[a0], %[t0], %[p0], %[a0]\n\t"             \
    "smlad %[a1], %[t1], %[p1], %[a1]\n\t"             \
    "ldr   %[p0], [%[p]], #4\n\t"                      \
    "and   %[t0], %[m], %[w], lsr #8\n\t"              \
    "ldr   %[p1], [%[p]], #4\n\t"                      \
    "and   %[t1], %[m], %[w], lsr #12\n\t"             \
    "ldrb  %[w], [%[s]], #1\n\t"       /* the block scale */          \
    "smlad %[a0], %[t0], %[p0], %[a0]\n\t"             \
    "smlad %[a1], %[t1], %[p1], %[a1]\n\t"             \
    "ldr   %[p0], [%[p]], #4\n\t"      /* 8 * sum(q) of the block */

// sum over the blocks of row `codes` (scales s) against pairs.
inline int32_t q4_row(const uint8_t* codes, const uint8_t* s, const uint32_t* pairs, uint32_t n_blocks) {
    const uint8_t* end = codes + (size_t)n_blocks * AGM_Q4_BLOCK_BYTES;
    int32_t total = 0;
    uint32_t a0, a1, t0, t1, w, p0, p1;
    const uint32_t m = 0x000F000Fu;
    __asm__ __volatile__(
        "1:\n\t"
        "ldr   %[w], [%[c]], #4\n\t"
        "ldr   %[p0], [%[p]], #4\n\t"
        "ldr   %[p1], [%[p]], #4\n\t"
        "pld   [%[c], #60]\n\t"            /* the line after this block's */
        "mov   %[a0], #0\n\t"
        "mov   %[a1], #0\n\t"
        AGM_Q4_WORD_NEXT
        AGM_Q4_WORD_NEXT
        AGM_Q4_WORD_NEXT
        AGM_Q4_WORD_LAST
        "add   %[a0], %[a0], %[a1]\n\t"
        "sub   %[a0], %[a0], %[p0]\n\t"
        "cmp   %[c], %[end]\n\t"
        "mla   %[total], %[a0], %[w], %[total]\n\t"
        "bne   1b\n\t"
        : [c] "+r"(codes), [s] "+r"(s), [p] "+r"(pairs), [total] "+r"(total), [a0] "=&r"(a0),
          [a1] "=&r"(a1), [t0] "=&r"(t0), [t1] "=&r"(t1), [w] "=&r"(w), [p0] "=&r"(p0), [p1] "=&r"(p1)
        : [m] "r"(m), [end] "r"(end)
        : "cc", "memory");
    return total;
}

}  // namespace

void matvec_q4_i8__armv6(const uint8_t* w, size_t row_stride, uint32_t rows, uint32_t n_blocks,
                         const int8_t* /*q*/, const uint32_t* pairs, int32_t* acc) {
    if (n_blocks == 0) {
        for (uint32_t r = 0; r < rows; ++r) acc[r] = 0;
        return;
    }
    const size_t codes_at = 4 + (n_blocks + 3) / 4 * 4;
    for (uint32_t r = 0; r < rows; ++r) {
        const uint8_t* row = w + (size_t)r * row_stride;
        acc[r] = q4_row(row + codes_at, row + 4, pairs, n_blocks);
    }
}

}  // namespace agm

#endif
