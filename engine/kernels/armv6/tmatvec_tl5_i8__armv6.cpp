// The tl5_r4 lookup-table product in hand-scheduled ARMv6 assembly: must
// equal tmatvec_tl5_i8__ref bit for bit. Same design as the portable
// tmatvec_tl5_i8__lut (docs/kernels.md): columns in tiles of 16 groups whose
// tables (7.8 KB) stay in the 16 KB L1 while every row quad's slice of the
// tile streams past; per weight word (four rows, five columns)
//   AND x4 (the four bytes, doubled: int16 offsets), LDRSH x4, ADD x4,
//   the table step, and the LDR of the next word,
// 14 instructions for 20 weights, ordered so that nothing waits on the
// ARM1176's interlocks (TRM chapter 16): an AND result feeds an address
// (needed a cycle early) four instructions later, each LDRSH result is added
// five later, and the next word is loaded nine cycles before its first AND
// reads it as a shifted operand (also needed a cycle early). The loop runs
// four words per trip.
//
// The word after a quad's slice is loaded before it is known to be needed:
// it is always inside the matrix except after the last quad's last tile,
// which a plain loop does instead. PLD: the two cache lines of the
// slice two quads ahead.
#include <cstring>

#include "agm/format.h"
#include "kernels/kernels.h"
#include "kernels/portable/tl5_table_build.h"

#if defined(__ARM_FEATURE_SIMD32)

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 16;                        // 7.8 KB of table per tile
constexpr uint32_t kGroupBytes = AGM_TL5_TABLE_STRIDE * 2;  // 488: an ARM immediate

#define AGM_TL5_WORD                                 \
    "and   %[i0], %[m], %[w], lsl #1\n\t"            \
    "and   %[i1], %[m], %[w], lsr #7\n\t"            \
    "and   %[i2], %[m], %[w], lsr #15\n\t"           \
    "and   %[i3], %[m], %[w], lsr #23\n\t"           \
    "ldr   %[w], [%[p]], #4\n\t"                     \
    "ldrsh %[i0], [%[tab], %[i0]]\n\t"               \
    "ldrsh %[i1], [%[tab], %[i1]]\n\t"               \
    "ldrsh %[i2], [%[tab], %[i2]]\n\t"               \
    "ldrsh %[i3], [%[tab], %[i3]]\n\t"               \
    "add   %[tab], %[tab], #488\n\t"                 \
    "add   %[a0], %[a0], %[i0]\n\t"                  \
    "add   %[a1], %[a1], %[i1]\n\t"                  \
    "add   %[a2], %[a2], %[i2]\n\t"                  \
    "add   %[a3], %[a3], %[i3]\n\t"

// The loop over a slice's words, four per trip, then the rest one by one;
// WORD processes one word and loads the next (the first is loaded here).
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

// Adds the slice of `words` words at p (group tables from tab) to a[0..3];
// reads one word past the slice.
inline void slice(const uint8_t* p, const uint8_t* tab, uint32_t words, int32_t* a) {
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    uint32_t w, i0, i1, i2, i3;
    const uint32_t m = 0x1FEu;
    __asm__ __volatile__(AGM_TL5_SLICE_LOOP(AGM_TL5_WORD) AGM_TL5_SLICE_OPERANDS);
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

inline int32_t entry(const uint8_t* tab, uint32_t offset) {
    int16_t v;
    std::memcpy(&v, tab + offset, 2);  // an aligned halfword: LDRSH
    return v;
}

}  // namespace

void tmatvec_tl5_i8__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* /*q*/,
                           const int16_t* table, int32_t* acc) {
    if (n_quads == 0 || n_groups == 0) {
        for (uint32_t i = 0; i < n_quads * 4; ++i) acc[i] = 0;
        return;
    }
    for (uint32_t i = 0; i < n_quads * 4; ++i) acc[i] = 0;
    const uint8_t* tab0 = reinterpret_cast<const uint8_t*>(table);
    const size_t quad_bytes = (size_t)n_groups * 4;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t g1 = n_groups - g0 < kTileGroups ? n_groups : g0 + kTileGroups;
        const uint32_t words = g1 - g0;
        const uint8_t* tab = tab0 + (size_t)g0 * kGroupBytes;
        // every quad but, in the last tile, the last one (its slice ends the matrix)
        const uint32_t fast_quads = g1 == n_groups ? n_quads - 1 : n_quads;
        const uint8_t* p = w + (size_t)g0 * 4;
        int32_t* a = acc;
        for (uint32_t quad = 0; quad < fast_quads; ++quad, p += quad_bytes, a += 4) {
            __builtin_prefetch(p + 2 * quad_bytes);  // PLD: this slice two quads ahead
            __builtin_prefetch(p + 2 * quad_bytes + 32);
            slice(p, tab, words, a);
        }
        if (fast_quads == n_quads) continue;
        // The matrix's last slice, without reading past its end (the loop
        // of tmatvec_tl5_i8__lut, for one slice: cheaper than a second pass
        // over the whole quad).
        const uint8_t* t = tab;
        for (uint32_t i = 0; i < words; ++i, p += 4, t += kGroupBytes) {
            uint32_t word;
            std::memcpy(&word, p, 4);
            a[0] += entry(t, (word << 1) & 0x1FEu);
            a[1] += entry(t, (word >> 7) & 0x1FEu);
            a[2] += entry(t, (word >> 15) & 0x1FEu);
            a[3] += entry(t, (word >> 23) & 0x1FEu);
        }
    }
}

namespace {

// The first n entries of t (sums over the digits so far) tripled by the
// next digit's -1/0/+1: t[j] - x, t[j], t[j] + x at j, n + j, 2n + j. Two
// entries per trip, loads two instructions ahead of their use; n odd: the
// last entry alone.
inline void triple(int16_t* t, uint32_t n, int32_t x) {
    int16_t* p0 = t;
    int16_t* p1 = t + n;
    int16_t* p2 = t + 2 * n;
    uint32_t pairs = n / 2;
    int32_t v0, v1, a0, a1, b0, b1;
    __asm__ __volatile__(
        "1:\n\t"
        "ldrsh %[v0], [%[p0]]\n\t"
        "ldrsh %[v1], [%[p0], #2]\n\t"
        "subs  %[n], %[n], #1\n\t"
        "sub   %[a0], %[v0], %[x]\n\t"
        "add   %[b0], %[v0], %[x]\n\t"
        "sub   %[a1], %[v1], %[x]\n\t"
        "add   %[b1], %[v1], %[x]\n\t"
        "strh  %[a0], [%[p0]], #2\n\t"
        "strh  %[v0], [%[p1]], #2\n\t"
        "strh  %[b0], [%[p2]], #2\n\t"
        "strh  %[a1], [%[p0]], #2\n\t"
        "strh  %[v1], [%[p1]], #2\n\t"
        "strh  %[b1], [%[p2]], #2\n\t"
        "bne   1b\n\t"
        : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [n] "+r"(pairs), [v0] "=&r"(v0), [v1] "=&r"(v1),
          [a0] "=&r"(a0), [a1] "=&r"(a1), [b0] "=&r"(b0), [b1] "=&r"(b1)
        : [x] "r"(x)
        : "cc", "memory");
    const int16_t v = *p0;  // n odd: the last one
    *p0 = (int16_t)(v - x);
    *p1 = v;
    *p2 = (int16_t)(v + x);
}

}  // namespace

void tl5_table__armv6(const int8_t* q, uint32_t n_groups, int16_t* table) {
    tl5_table_build(q, n_groups, table, triple);
}

namespace {

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
