// The two-vector tl5_r4 product (prompt processing) in hand-scheduled ARMv6
// assembly: must equal tmatvec_tl5_i8__ref on each vector, bit for bit
// (docs/kernels.md). The two tokens' tables are interleaved into 32-bit
// entries (token A's sum in the low halfword, B's in the high one): one
// table load and one SADD16 serve both tokens, so a weight word costs 14
// instructions for 40 products. Tiles are 8 groups (7.8 KB of paired table
// in the 16 KB L1); the int16 lanes are exact for 8 groups (|sum| <= 8 *
// 635). The product builds each tile's table itself, from the activations,
// into a buffer that stays in L1 (KernelSet::tl5x2_reads_tables is false):
// a whole vector's paired table (100 KB and more) went to DRAM and back.
// Each word is ordered as in the one-vector kernel's first version: an AND
// result is used as an address four instructions later, each loaded entry
// added five later, the next weight word loaded nine cycles before its first
// AND. The word after a quad's slice is loaded before it is known to be
// needed: the matrix's last slice is copied out first.
#include <cstddef>
#include <cstring>

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
static_assert(kGroupBytes2 == 976, "the assembly advances the table by #976");
constexpr uint32_t kTilePad2 = 16;                           // words past the tile's table (damaged bytes)

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

}  // namespace agm

extern "C" {

// The paired table of n_groups >= 1 groups (tl5_table_x2__ref's values):
// per group, X_k = (qa[5g + k], qb[5g + k]) as int16 pairs; the 243 entries
// are 27 runs of 9, run r = d2 + 3 d3 + 9 d4 holding off(r) + E[e] for the
// low two digits e = d0 + 3 d1, where off(r) = (d2-1) X2 + (d3-1) X3 +
// (d4-1) X4 and E[e] = (d0-1) X0 + (d1-1) X1. E is antisymmetric
// (E[8 - e] = -E[e], E[4] = 0), so four registers hold it and a run is 4
// SADD16, 4 SSUB16 and two STM (5 + 4 words); off moves to the next run by
// one SADD16 of X2, X3 - 2 X2 or X4 - 2 X3 - 2 X2 (a carry in the digits).
// About 27 * 11 + 35 = 332 instructions per group (tl5_table_x2__fast: ~1200
// cycles).
//
// Register map (runs):
//   r0      the table pointer (STM write-back)
//   r1-r4   E0 = -X0-X1, E1 = -X1, E2 = X0-X1, E3 = -X0
//   r5-r8   the run's entries
//   r9      off
//   r10     X2           (the step within a digit d2)
//   r11     X3 - 2 X2    (d2 wraps, d3 steps)
//   r12     X4 - 2 X3 - 2 X2 (d2 and d3 wrap, d4 steps)
// Stack: [sp] qa, [sp+4] qb (this group's), [sp+8] groups left.
__attribute__((visibility("hidden"))) void agm_tl5_table_x2__armv6(const int8_t* qa, const int8_t* qb,
                                                                   uint32_t n_groups, uint32_t* table2);
asm(R"(
    .pushsection .text.agm_tl5_table_x2__armv6, "ax", %progbits
    .align  2
    .arm
    .global agm_tl5_table_x2__armv6
    .hidden agm_tl5_table_x2__armv6
    .type   agm_tl5_table_x2__armv6, %function
agm_tl5_table_x2__armv6:
    .macro tl5x2_run step
    sadd16  r5, r9, r1
    sadd16  r6, r9, r2
    sadd16  r7, r9, r3
    sadd16  r8, r9, r4
    stmia   r0!, {r5-r9}
    ssub16  r5, r9, r4
    ssub16  r6, r9, r3
    ssub16  r7, r9, r2
    ssub16  r8, r9, r1
    stmia   r0!, {r5-r8}
    .ifnb \step
    sadd16  r9, r9, \step
    .endif
    .endm
    .macro tl5x2_runs3 carry
    tl5x2_run r10
    tl5x2_run r10
    tl5x2_run \carry
    .endm

    push    {r4-r11, lr}
    sub     sp, sp, #12
    stmia   sp, {r0-r2}
    mov     r0, r3
1:  @ ---- a group: the five pairs, E, off and the steps
    ldmia   sp, {r5, r6}
    ldrsb   r7, [r5, #0]
    ldrsb   r8, [r6, #0]
    ldrsb   r9, [r5, #1]
    ldrsb   r10, [r6, #1]
    ldrsb   r11, [r5, #2]
    ldrsb   r12, [r6, #2]
    pkhbt   r1, r7, r8, lsl #16             @ X0
    ldrsb   r7, [r5, #3]
    pkhbt   r2, r9, r10, lsl #16            @ X1
    ldrsb   r8, [r6, #3]
    pkhbt   r10, r11, r12, lsl #16          @ X2
    ldrsb   r9, [r5, #4]
    ldrsb   r11, [r6, #4]
    add     r5, r5, #5
    add     r6, r6, #5
    stmia   sp, {r5, r6}
    pkhbt   r7, r7, r8, lsl #16             @ X3
    pkhbt   r8, r9, r11, lsl #16            @ X4
    mov     r12, #0
    ssub16  r4, r12, r1                     @ E3 = -X0
    ssub16  r3, r1, r2                      @ E2 = X0 - X1
    ssub16  r1, r4, r2                      @ E0 = -X0 - X1
    ssub16  r2, r12, r2                     @ E1 = -X1
    ssub16  r9, r12, r10
    ssub16  r9, r9, r7
    ssub16  r9, r9, r8                      @ off(0) = -X2 - X3 - X4
    ssub16  r11, r7, r10
    ssub16  r11, r11, r10                   @ X3 - 2 X2
    ssub16  r12, r8, r10
    ssub16  r12, r12, r10
    ssub16  r12, r12, r7
    ssub16  r12, r12, r7                    @ X4 - 2 X3 - 2 X2
    @ ---- the 27 runs (d4 = 0, 1, 2; in each, d3 = 0, 1, 2)
    tl5x2_runs3 r11
    tl5x2_runs3 r11
    tl5x2_runs3 r12
    tl5x2_runs3 r11
    tl5x2_runs3 r11
    tl5x2_runs3 r12
    tl5x2_runs3 r11
    tl5x2_runs3 r11
    tl5x2_runs3
    mov     r5, #0
    ldr     r6, [sp, #8]
    str     r5, [r0], #4                    @ entry 243
    subs    r6, r6, #1
    str     r6, [sp, #8]
    bne     1b
    add     sp, sp, #12
    pop     {r4-r11, pc}
    .purgem tl5x2_run
    .purgem tl5x2_runs3
    .size   agm_tl5_table_x2__armv6, . - agm_tl5_table_x2__armv6
    .popsection
)");

// The argument block of the full-tile loop (read with one LDM: keep the
// order).
struct AgmTl5x2Tile {
    const uint32_t* table;  // the tile's paired table
    uint32_t skip;          // bytes from the end of a quad's slice to the next quad's
    int32_t* acc_end;       // acc_a + 4 * the quads to run
    int32_t diff;           // bytes from acc_a to acc_b
    uint32_t pf;            // bytes from a quad's slice to the slice two quads ahead
    const uint8_t* w;       // the first quad's slice of this tile
    int32_t* acc;           // acc_a + 4 * the first quad
};
static_assert(offsetof(AgmTl5x2Tile, table) == 0 && offsetof(AgmTl5x2Tile, skip) == 4 &&
                  offsetof(AgmTl5x2Tile, acc_end) == 8 && offsetof(AgmTl5x2Tile, diff) == 12 &&
                  offsetof(AgmTl5x2Tile, pf) == 16 && offsetof(AgmTl5x2Tile, w) == 20 &&
                  offsetof(AgmTl5x2Tile, acc) == 24,
              "the assembly reads AgmTl5x2Tile by offset");

// One full tile (8 groups) of quads [acc, acc_end): per quad two PLDs (the
// slice two quads ahead: its 32 bytes may straddle two lines), the 8 words
// (14 instructions each: 4 AND, 4 LDR of entries, 4 SADD16, the table
// step, the next word's LDR), then the packed sums widened into acc_a (one
// SXTAH each) and acc_b (one ADD with ASR #16 each) by LDM/STM: about 140
// instructions per quad and tile where the C loop around slice2 took ~180.
//
// Register map: r0-r3 the four rows' packed sums, r4 the weight word, r5-r8
// index -> entry, r9 the group's table, r10 the weight pointer, r11 the
// mask 0x3FC, r12 acc_a + 4 * quad, lr scratch.
// Stack: [sp] table, [sp+4] skip, [sp+8] acc_end, [sp+12] diff, [sp+16] pf.
__attribute__((visibility("hidden"))) void agm_tl5x2_tile8__armv6(const AgmTl5x2Tile*);
asm(R"(
    .pushsection .text.agm_tl5x2_tile8__armv6, "ax", %progbits
    .align  2
    .arm
    .global agm_tl5x2_tile8__armv6
    .hidden agm_tl5x2_tile8__armv6
    .type   agm_tl5x2_tile8__armv6, %function
agm_tl5x2_tile8__armv6:
    .macro tl5x2_word ld
    and     r5, r11, r4, lsl #2
    and     r6, r11, r4, lsr #6
    and     r7, r11, r4, lsr #14
    and     r8, r11, r4, lsr #22
    .ifnb \ld
    ldr     r4, [r10], #4
    .endif
    ldr     r5, [r9, r5]
    ldr     r6, [r9, r6]
    ldr     r7, [r9, r7]
    ldr     r8, [r9, r8]
    add     r9, r9, #976
    sadd16  r0, r0, r5
    sadd16  r1, r1, r6
    sadd16  r2, r2, r7
    sadd16  r3, r3, r8
    .endm

    push    {r4-r11, lr}
    sub     sp, sp, #20
    ldmia   r0, {r1-r5, r10, r12}           @ table, skip, acc_end, diff, pf, w, acc
    stmia   sp, {r1-r5}
    mov     r11, #0x3FC
1:  @ ---- a quad: word 0, the prefetch, the sums from zero
    ldr     r4, [r10], #4
    ldr     lr, [sp, #16]
    ldr     r9, [sp]
    add     lr, r10, lr
    pld     [lr, #-4]
    pld     [lr, #24]
    mov     r0, #0
    mov     r1, #0
    mov     r2, #0
    mov     r3, #0
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word 1
    tl5x2_word
    @ ---- widen into acc_a, acc_b; the next quad
    ldmia   r12, {r4-r7}
    ldr     lr, [sp, #12]
    add     lr, r12, lr
    sxtah   r4, r4, r0
    sxtah   r5, r5, r1
    sxtah   r6, r6, r2
    sxtah   r7, r7, r3
    stmia   r12!, {r4-r7}
    ldmia   lr, {r4-r7}
    ldr     r8, [sp, #4]
    add     r10, r10, r8
    add     r4, r4, r0, asr #16
    add     r5, r5, r1, asr #16
    add     r6, r6, r2, asr #16
    add     r7, r7, r3, asr #16
    stmia   lr, {r4-r7}
    ldr     r8, [sp, #8]
    cmp     r12, r8
    blo     1b
    add     sp, sp, #20
    pop     {r4-r11, pc}
    .purgem tl5x2_word
    .size   agm_tl5x2_tile8__armv6, . - agm_tl5x2_tile8__armv6
    .popsection
)");

}  // extern "C"

namespace agm {

void tl5_table_x2__armv6(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2) {
    if (n_groups != 0) agm_tl5_table_x2__armv6(qa, qb, n_groups, table2);
}

void tmatvec_tl5_i8x2__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                             const int8_t* qb, const uint32_t* /*table2*/, int32_t* acc_a, int32_t* acc_b) {
    for (uint32_t i = 0; i < n_quads * 4; ++i) acc_a[i] = acc_b[i] = 0;
    if (n_quads == 0 || n_groups == 0) return;
    // The tile's paired table, built here from qa and qb: 7.8 KB that stay
    // in L1 from one tile to the next (a whole vector's table is 100 KB or
    // more: its stores and its reads would go to DRAM). A damaged weight
    // byte above 242 reads up to 12 entries past a group's table: the pad
    // keeps the last group's inside the buffer.
    alignas(32) uint32_t tab[kTileGroups2 * AGM_TL5_TABLE_STRIDE + kTilePad2];
    for (uint32_t i = kTileGroups2 * AGM_TL5_TABLE_STRIDE; i < sizeof tab / 4; ++i) tab[i] = 0;
    const uint8_t* tabp = reinterpret_cast<const uint8_t*>(tab);
    const size_t quad_bytes = (size_t)n_groups * 4;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups2) {
        const uint32_t g1 = n_groups - g0 < kTileGroups2 ? n_groups : g0 + kTileGroups2;
        const uint32_t words = g1 - g0;
        agm_tl5_table_x2__armv6(qa + (size_t)g0 * AGM_TL5_GROUP, qb + (size_t)g0 * AGM_TL5_GROUP, words, tab);
        uint32_t quad = 0;
        if (words == kTileGroups2) {
            // the assembly loop reads each slice's words only: it stops
            // before the matrix's last slice (the loop below copies it out)
            const uint32_t fast = g1 == n_groups ? n_quads - 1 : n_quads;
            if (fast != 0) {
                AgmTl5x2Tile a;
                a.table = tab;
                a.skip = (uint32_t)quad_bytes - 4 * kTileGroups2;
                a.acc_end = acc_a + 4 * (size_t)fast;
                a.diff = (int32_t)(reinterpret_cast<uintptr_t>(acc_b) - reinterpret_cast<uintptr_t>(acc_a));
                a.pf = 2 * (uint32_t)quad_bytes;
                a.w = w + (size_t)g0 * 4;
                a.acc = acc_a;
                agm_tl5x2_tile8__armv6(&a);
                quad = fast;
            }
        }
        const uint8_t* p = w + (size_t)quad * quad_bytes + (size_t)g0 * 4;
        for (; quad < n_quads; ++quad, p += quad_bytes) {
            const uint8_t* ahead = p + 2 * quad_bytes;  // this slice two quads ahead: up to 2 lines
            __builtin_prefetch(ahead);
            __builtin_prefetch(ahead + 4 * words - 4);
            uint32_t packed[4];
            if (g1 == n_groups && quad + 1 == n_quads) {
                // slice2 reads one word past the slice, past the matrix here
                uint32_t last[kTileGroups2 + 1] = {};
                std::memcpy(last, p, 4 * words);
                slice2(reinterpret_cast<const uint8_t*>(last), tabp, words, packed);
            } else {
                slice2(p, tabp, words, packed);
            }
            int32_t* a = acc_a + 4 * quad;
            int32_t* b = acc_b + 4 * quad;
            for (int i = 0; i < 4; ++i) {
                a[i] += (int16_t)(packed[i] & 0xFFFFu);
                b[i] += (int32_t)packed[i] >> 16;
            }
        }
    }
}

}  // namespace agm

#elif defined(__ARM_FEATURE_SIMD32)  // Thumb-2 (ARMv7): the assembly above is ARM code; keep the portable kernels

namespace agm {

void tl5_table_x2__armv6(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2) {
    tl5_table_x2__fast(qa, qb, n_groups, table2);
}

void tmatvec_tl5_i8x2__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                             const int8_t* qb, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b) {
    tmatvec_tl5_i8x2__lut(w, n_quads, n_groups, qa, qb, table2, acc_a, acc_b);
}

}  // namespace agm

#endif
