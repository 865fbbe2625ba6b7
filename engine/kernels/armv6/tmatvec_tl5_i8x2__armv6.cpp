// The two-vector tl5_r4 product (prompt processing) in hand-scheduled ARMv6
// assembly: must equal tmatvec_tl5_i8__ref on each vector, bit for bit
// (docs/kernels.md). The two tokens' tables are interleaved into 32-bit
// entries (token A's sum in the low halfword, B's in the high one: built by
// tl5_table_x2__fast): one table load and one SADD16 serve both tokens, so a
// weight word costs 14 instructions for 40 products. Tiles are 8 groups
// (7.8 KB of paired table in the 16 KB L1); the int16 lanes are exact for 8
// groups (|sum| <= 8 * 635). Each word is ordered as in the one-vector
// kernel's first version: an AND result is used as an address four
// instructions later, each loaded entry added five later, the next weight
// word loaded nine cycles before its first AND. The word after a quad's
// slice is loaded before it is known to be needed: it is inside the matrix
// except after the last quad's last tile, which the portable kernel redoes.
#include "agm/format.h"
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32) && !defined(__thumb__)

namespace agm {
namespace {

#define AGM_TL5_SLICE_LOOP(WORD)                       \
    "ldr   %[w], [%[p]], #4\n\t"                       \
    "subs  %[n], %[n], #4\n\t"                         \
    "blo   2f\n\t"                                     \
    "1:\n\t" WORD WORD WORD WORD                       \
    "subs  %[n], %[n], #4\n\t"                         \
    "bhs   1b\n\t"                                     \
    "2:\n\t"                                           \
    "adds  %[n], %[n], #4\n\t"                         \
    "beq   3f\n\t"                                     \
    "4:\n\t" WORD                                      \
    "subs  %[n], %[n], #1\n\t"                         \
    "bne   4b\n\t"                                     \
    "3:\n\t"

#define AGM_TL5_SLICE_OPERANDS                                                                     \
    : [p] "+r"(p), [tab] "+r"(tab), [n] "+r"(words), [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), \
      [a3] "+r"(a3), [w] "=&r"(w), [i0] "=&r"(i0), [i1] "=&r"(i1), [i2] "=&r"(i2), [i3] "=&r"(i3)  \
    : [m] "r"(m)                                                                                 \
    : "cc", "memory"

constexpr uint32_t kTileGroups2 = 8;                         // 7.8 KB of paired table per tile
constexpr uint32_t kGroupBytes2 = AGM_TL5_TABLE_STRIDE * 4;  // 976: an ARM immediate

// The two-vector word: entries are int16 pairs (vector A low, B high), one
// SADD16 adds both; the byte offsets are the code times 4.
#define AGM_TL5_WORD2                                \
    "and   %[i0], %[m], %[w], lsl #2\n\t"            \
    "and   %[i1], %[m], %[w], lsr #6\n\t"            \
    "and   %[i2], %[m], %[w], lsr #14\n\t"           \
    "and   %[i3], %[m], %[w], lsr #22\n\t"           \
    "ldr   %[w], [%[p]], #4\n\t"                     \
    "ldr   %[i0], [%[tab], %[i0]]\n\t"               \
    "ldr   %[i1], [%[tab], %[i1]]\n\t"               \
    "ldr   %[i2], [%[tab], %[i2]]\n\t"               \
    "ldr   %[i3], [%[tab], %[i3]]\n\t"               \
    "add   %[tab], %[tab], #976\n\t"                 \
    "sadd16 %[a0], %[a0], %[i0]\n\t"                 \
    "sadd16 %[a1], %[a1], %[i1]\n\t"                 \
    "sadd16 %[a2], %[a2], %[i2]\n\t"                 \
    "sadd16 %[a3], %[a3], %[i3]\n\t"

// A quad's slice of `words` words against the paired tables: the four rows'
// packed sums (exact in int16: at most 8 groups of |sum| <= 635). Reads one
// word past the slice.
inline void slice2(const uint8_t* p, const uint8_t* tab, uint32_t words, uint32_t* out) {
    uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, w, i0, i1, i2, i3;
    const uint32_t m = 0x3FCu;
    __asm__ __volatile__(AGM_TL5_SLICE_LOOP(AGM_TL5_WORD2) AGM_TL5_SLICE_OPERANDS);
    out[0] = a0;
    out[1] = a1;
    out[2] = a2;
    out[3] = a3;
}

}  // namespace

void tmatvec_tl5_i8x2__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                             const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b) {
    for (uint32_t i = 0; i < n_quads * 4; ++i) acc_a[i] = acc_b[i] = 0;
    if (n_quads == 0 || n_groups == 0) return;
    const uint8_t* tab0 = reinterpret_cast<const uint8_t*>(table2);
    const size_t quad_bytes = (size_t)n_groups * 4;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups2) {
        const uint32_t g1 = n_groups - g0 < kTileGroups2 ? n_groups : g0 + kTileGroups2;
        const uint32_t words = g1 - g0;
        const uint8_t* tab = tab0 + (size_t)g0 * kGroupBytes2;
        const uint32_t fast_quads = g1 == n_groups ? n_quads - 1 : n_quads;
        const uint8_t* p = w + (size_t)g0 * 4;
        for (uint32_t quad = 0; quad < fast_quads; ++quad, p += quad_bytes) {
            __builtin_prefetch(p + 2 * quad_bytes);  // PLD: this slice two quads ahead (32 bytes)
            uint32_t packed[4];
            slice2(p, tab, words, packed);
            int32_t* a = acc_a + 4 * quad;
            int32_t* b = acc_b + 4 * quad;
            for (int i = 0; i < 4; ++i) {
                a[i] += (int16_t)(packed[i] & 0xFFFFu);
                b[i] += (int32_t)packed[i] >> 16;
            }
        }
    }
    // The last quad's last slice ends the matrix (skipped above, so that
    // nothing reads past it): that quad again, whole, by the portable loop.
    int32_t la[4], lb[4];
    tmatvec_tl5_i8x2__lut(w + (size_t)(n_quads - 1) * quad_bytes, 1, n_groups, qa, qb, table2, la, lb);
    for (int i = 0; i < 4; ++i) {
        acc_a[4 * (n_quads - 1) + i] = la[i];
        acc_b[4 * (n_quads - 1) + i] = lb[i];
    }
}

}  // namespace agm

#endif
