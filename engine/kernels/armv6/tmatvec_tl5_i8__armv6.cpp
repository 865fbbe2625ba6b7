// ARMv6 lookup-table kernels over AGM_TYPE_TL5_R4, hand-scheduled for the
// ARM1176 (design 1 of docs/kernels.md): the table builder must equal
// tl5_table__ref and the product tmatvec_tl5_i8__ref, bit for bit.
//
// Both are ARM assembly functions defined by file-scope asm (every register,
// the stack frame and the instruction order are ours; the compiler sees only
// an extern "C" declaration, so it assumes nothing about them beyond the
// AAPCS); the C++ around them only splits the columns into tiles and fills
// an argument block. The cycle counts below are
// those of the ARM1176 model (qemu/plugin/README.md: TRM chapter 16, every
// access an L1 hit).
//
// ---- The product --------------------------------------------------------
// Per weight word (4 rows x 5 columns, one group), as in the portable
// kernel: 4 x {AND idx, mask, word, LSR #s; LDRSH v, [tab, idx]; ADD acc, v}
// and ADD tab, tab, #488: 13 instructions for 20 weights. What the compiler
// does not do, and this code does:
//   - software pipelining over words: an index is computed 2 instructions
//     before its LDRSH (the address is an Early register: an AND result is
//     usable as an address 2 cycles after it issues), a loaded entry is
//     added 3 or more instructions after its LDRSH (load latency 3), and
//     the table pointer is advanced 2 instructions before the next LDRSH:
//     no interlock in the loop, 13 cycles per word;
//   - the 16 words of a tile fully unrolled (no loop control inside a
//     tile), weights loaded two words per LDM (0.5 instructions per word);
//   - the three index temporaries rotate (the word after next reuses them),
//     so that 4 accumulators, 3 temporaries, 3 weight-word registers, the
//     table pointer, the weight pointer, the mask and the accumulator pointer
//     fill r0-r12 and lr exactly;
//   - per quad and tile: LDM/STM of the 4 accumulators, one PLD per 32-byte
//     line of the quad two ahead (its 64-byte slice touches at most 3 lines),
//     226 cycles per 320 weights when nothing stalls: 0.706 cycles/weight.
// A tile is 16 groups (7.8 KB of table, kept in the 16 KB L1 while every
// quad's slice streams past). The last, partial tile (n_groups % 16 groups)
// runs first, with a one-word loop (16 cycles per word), and starts the
// accumulators from zero; the full tiles then accumulate into acc[].
//
// ---- The table builder ----------------------------------------------------
// Two int16 entries per 32-bit word, built with SADD16 and stored nine words
// per STM. With E[e] = (d0-1)x + (d1-1)y over the low two digits (e < 9),
// the 243 entries are 27 runs of 9: run r (= j + 3m over the digits j of
// column 2 and m of columns 3-4) is E + off(r), off(r) = (j-1)z + S[m]. Two
// consecutive runs are 18 entries = 9 words: 4 words of E pairs, 1 word
// straddling the runs, 4 words of E pairs at the odd phase. So the table is
// 13 such 9-word chunks plus 5 words, and chunk c+1 = chunk c + the run
// offsets' differences, which take only three values (2z, u-z, v-2u-z for
// columns x, y, z, u, v):
//   chunk 0: ~45 instructions from the five activations;
//   chunks 1-12 and the tail: 9 SADD16 (+1 PKHBT when the two runs' deltas
//   differ) and one STM each.
// About 185 instructions per group (243 entries), against ~1280 for the
// portable builder.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "agm/format.h"
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32)
#if !defined(__thumb__)

// The argument block of the product's assembly (read with one LDM: keep the
// order). Offsets are pinned by the static_asserts below.
struct AgmTl5Tiles {
    uint32_t pf;           // bytes from a quad's slice to the slice of the quad two ahead
                           // (the PLD target): 2 * 4 * n_groups
    const int16_t* table;  // the tile's first group table
    uint32_t skip;         // bytes from the end of a quad's slice to the next quad's
    int32_t* acc_end;      // acc + 4 * n_quads
    const uint8_t* w;      // the first quad's slice of this tile
    int32_t* acc;          // [n_quads * 4]
    uint32_t n_words;      // partial tile only: groups in the tile (1..15)
};
static_assert(offsetof(AgmTl5Tiles, pf) == 0 && offsetof(AgmTl5Tiles, table) == 4 &&
                  offsetof(AgmTl5Tiles, skip) == 8 && offsetof(AgmTl5Tiles, acc_end) == 12 &&
                  offsetof(AgmTl5Tiles, w) == 16 && offsetof(AgmTl5Tiles, acc) == 20 &&
                  offsetof(AgmTl5Tiles, n_words) == 24,
              "the assembly reads AgmTl5Tiles by offset");
static_assert(AGM_TL5_TABLE_STRIDE * 2 == 488, "the assembly advances the table by #488");

extern "C" {

// One full tile (16 groups) of every quad: acc[4 * quad + i] += the tile's
// part of row 4 * quad + i. n_quads >= 1.
//
// Register map:
//   r0-r3  acc0-acc3    the quad's four row sums
//   r4     x            weight words 0, 2, 4, ... (even)
//   r5, r6 y, z         odd weight words, alternating by LDM pair (y: words
//                       1, 5, 9, 13; z: 3, 7, 11, 15); z also holds the
//                       prefetch offset/address at the quad boundary
//   r7-r9  t0-t2        index -> entry temporaries, rotating by word
//   r10    tab          the current group's table
//   r11    wp           the weight pointer (LDM write-back)
//   r12    mask         0x1FE: a byte, shifted into place, already doubled
//   lr     accp         acc + 4 * quad
// Stack: [sp] pf, [sp+4] tile table, [sp+8] skip, [sp+12] acc_end.
//
// Window of word g (the macro tl5_word; ta, tb, tc = t[g%3], t[g%3+1],
// t[g%3+2]): each line is one cycle when nothing stalls. The word's four
// entries are e0..e3; e2/e3 of word g-1 are in tb/tc when it starts, and
// e0 of word g+1 is in tb when it ends (so the next window's ta).
//     add   tab, tab, #488          next group
//     add   acc2, acc2, tb          e2 of word g-1  (loaded 6 cycles ago)
//     ldrsh ta, [tab, ta]           e0              (index: 3 cycles ago)
//     and   tb, mask, w, lsr #7     index e1
//    [ldmia wp!, {x, y|z}]          odd windows: the next pair of words
//     add   acc3, acc3, tc          e3 of word g-1
//     ldrsh tb, [tab, tb]           e1
//     and   tc, mask, w, lsr #15    index e2
//     add   acc0, acc0, ta          e0 (loaded 5 cycles ago)
//     ldrsh tc, [tab, tc]           e2
//     and   ta, mask, w, lsr #23    index e3
//     add   acc1, acc1, tb          e1
//     ldrsh ta, [tab, ta]           e3
//     and   tb, mask, wn, lsl #1    index e0 of word g+1
__attribute__((visibility("hidden"))) void agm_tl5_tile16__armv6(const AgmTl5Tiles*);
asm(R"(
    .pushsection .text.agm_tl5_tile16__armv6, "ax", %progbits
    .align  2
    .arm
    .global agm_tl5_tile16__armv6
    .hidden agm_tl5_tile16__armv6
    .type   agm_tl5_tile16__armv6, %function
agm_tl5_tile16__armv6:
    .macro tl5_word w, wn, ta, tb, tc, ld
    add     r10, r10, #488
    add     r2, r2, \tb
    ldrsh   \ta, [r10, \ta]
    and     \tb, r12, \w, lsr #7
    .ifnb \ld
    ldmia   r11!, {r4, \ld}
    .endif
    add     r3, r3, \tc
    ldrsh   \tb, [r10, \tb]
    and     \tc, r12, \w, lsr #15
    add     r0, r0, \ta
    ldrsh   \tc, [r10, \tc]
    and     \ta, r12, \w, lsr #23
    add     r1, r1, \tb
    ldrsh   \ta, [r10, \ta]
    and     \tb, r12, \wn, lsl #1
    .endm

    push    {r4-r11, lr}
    sub     sp, sp, #20
    ldmia   r0, {r2, r3, r4, r5, r11, lr}   @ pf, table, skip, acc_end, w, acc
    stmia   sp, {r2-r5}
    mov     r6, r2
    mov     r10, r3
    mov     r12, #0xFF
    mov     r12, r12, lsl #1
1:  @ ---- a quad: prefetch; words 0, 1; accumulators; word 0
    add     r6, r11, r6                     @ the slice of the quad two ahead
    ldmia   r11!, {r4, r5}
    pld     [r6]
    pld     [r6, #32]
    pld     [r6, #60]                       @ a 64-byte slice touches up to 3 lines
    and     r7, r12, r4, lsl #1
    ldmia   lr, {r0-r3}
    and     r8, r12, r4, lsr #7
    ldrsh   r7, [r10, r7]
    and     r9, r12, r4, lsr #15
    ldrsh   r8, [r10, r8]
    add     r0, r0, r7
    ldrsh   r9, [r10, r9]
    and     r7, r12, r4, lsr #23
    add     r1, r1, r8
    ldrsh   r7, [r10, r7]
    and     r8, r12, r5, lsl #1
    @ ---- words 1-14
    tl5_word r5, r4, r8, r9, r7, r6
    tl5_word r4, r6, r9, r7, r8
    tl5_word r6, r4, r7, r8, r9, r5
    tl5_word r4, r5, r8, r9, r7
    tl5_word r5, r4, r9, r7, r8, r6
    tl5_word r4, r6, r7, r8, r9
    tl5_word r6, r4, r8, r9, r7, r5
    tl5_word r4, r5, r9, r7, r8
    tl5_word r5, r4, r7, r8, r9, r6
    tl5_word r4, r6, r8, r9, r7
    tl5_word r6, r4, r9, r7, r8, r5
    tl5_word r4, r5, r7, r8, r9
    tl5_word r5, r4, r8, r9, r7, r6
    tl5_word r4, r6, r9, r7, r8
    @ ---- word 15 and the quad's end
    add     r10, r10, #488
    add     r2, r2, r8
    ldrsh   r7, [r10, r7]
    and     r8, r12, r6, lsr #7
    ldrd    r4, r5, [sp, #8]                @ skip, acc_end
    add     r3, r3, r9
    ldrsh   r8, [r10, r8]
    and     r9, r12, r6, lsr #15
    add     r0, r0, r7
    ldrsh   r9, [r10, r9]
    and     r7, r12, r6, lsr #23
    add     r1, r1, r8
    ldrsh   r7, [r10, r7]
    ldmia   sp, {r6, r10}                   @ pf, table: for the next quad
    add     r11, r11, r4
    add     r2, r2, r9
    add     r3, r3, r7
    stmia   lr!, {r0-r3}
    cmp     lr, r5
    bne     1b
    add     sp, sp, #20
    pop     {r4-r11, pc}
    .purgem tl5_word
    .size   agm_tl5_tile16__armv6, . - agm_tl5_tile16__armv6
    .popsection
)");

// The partial tile (n_words = 1..15 groups) of every quad, from zero:
// acc[4 * quad + i] = the tile's part of row 4 * quad + i. n_quads >= 1.
//
// Register map: r0-r3 acc0-acc3; r4 the weight word (loaded one word ahead,
// LDRNE: never past the slice); r5-r8 the four index -> entry temporaries;
// r9 words left; r10 tab; r11 wp; r12 mask 0x1FE; lr accp.
// Stack: [sp] pf, [sp+4] tile table, [sp+8] skip, [sp+12] acc_end,
// [sp+16] n_words. One word is 16 cycles (13 + the next word's load and
// the loop control); no interlock.
__attribute__((visibility("hidden"))) void agm_tl5_tile_rest__armv6(const AgmTl5Tiles*);
asm(R"(
    .pushsection .text.agm_tl5_tile_rest__armv6, "ax", %progbits
    .align  2
    .arm
    .global agm_tl5_tile_rest__armv6
    .hidden agm_tl5_tile_rest__armv6
    .type   agm_tl5_tile_rest__armv6, %function
agm_tl5_tile_rest__armv6:
    push    {r4-r11, lr}
    sub     sp, sp, #20
    ldmia   r0, {r2, r3, r4, r5, r11, lr}   @ pf, table, skip, acc_end, w, acc
    ldr     r6, [r0, #24]                   @ n_words
    stmia   sp, {r2-r6}
    mov     r12, #0xFF
    mov     r12, r12, lsl #1
    mov     r6, r2
    mov     r10, r3
    mov     r0, #0
    mov     r1, #0
    mov     r2, #0
    mov     r3, #0
1:  add     r6, r11, r6                     @ the slice of the quad two ahead
    ldr     r4, [r11], #4
    pld     [r6]
    ldr     r9, [sp, #16]
    pld     [r6, #32]
    pld     [r6, #60]
2:  and     r5, r12, r4, lsl #1
    and     r6, r12, r4, lsr #7
    ldrsh   r5, [r10, r5]
    and     r7, r12, r4, lsr #15
    ldrsh   r6, [r10, r6]
    and     r8, r12, r4, lsr #23
    ldrsh   r7, [r10, r7]
    subs    r9, r9, #1
    ldrsh   r8, [r10, r8]
    ldrne   r4, [r11], #4
    add     r0, r0, r5
    add     r1, r1, r6
    add     r10, r10, #488
    add     r2, r2, r7
    add     r3, r3, r8
    bne     2b
    ldrd    r4, r5, [sp, #8]                @ skip, acc_end
    stmia   lr!, {r0-r3}
    mov     r0, #0                          @ the next quad's sums
    ldmia   sp, {r6, r10}                   @ pf, table
    add     r11, r11, r4
    cmp     lr, r5
    mov     r1, #0
    mov     r2, #0
    mov     r3, #0
    bne     1b
    add     sp, sp, #20
    pop     {r4-r11, pc}
    .size   agm_tl5_tile_rest__armv6, . - agm_tl5_tile_rest__armv6
    .popsection
)");

// Tables of n_groups >= 1 groups; table 4-byte aligned.
//
// Register map while chunks are stepped:
//   r0-r8  k0-k8   the current 9-word chunk: k0-k3 run 2c at the even phase,
//                  k4 the straddling word, k5-k8 run 2c+1 at the odd phase
//   r9     out     the table, written by STM with write-back (a group is
//                  exactly 13 x 36 + 20 = 488 bytes: the next group follows)
//   r10    A       2z     (packed twice: both int16 lanes)
//   r11    B       u - z
//   r12    C       v - 2u - z
//   lr     the straddling word's delta (lo lane: run 2c's, hi lane: run 2c+1's)
// Stack: [sp] q of the next group, [sp+4] q + 5 * n_groups.
//
// Run r = j + 3m steps to run r+2 by off(r+2) - off(r): 2z when j = 0;
// u - z when j > 0, except v - 2u - z where m crosses from 2 to 3 or 5 to 6
// (runs 7, 8, 16, 17). So chunk c's deltas (runs 2c, 2c+1) are, for
// c = 0..12: AB BA BB AC CA BB AB BA CC AB BA BB A.
__attribute__((visibility("hidden"))) void agm_tl5_table__armv6(const int8_t*, uint32_t, int16_t*);
asm(R"(
    .pushsection .text.agm_tl5_table__armv6, "ax", %progbits
    .align  2
    .arm
    .global agm_tl5_table__armv6
    .hidden agm_tl5_table__armv6
    .type   agm_tl5_table__armv6, %function
agm_tl5_table__armv6:
    .macro tl5_step de, do
    sadd16  r0, r0, \de
    sadd16  r1, r1, \de
    sadd16  r2, r2, \de
    sadd16  r3, r3, \de
    .ifc \de, \do
    sadd16  r4, r4, \de
    .else
    pkhbt   lr, \de, \do, lsl #16
    sadd16  r4, r4, lr
    .endif
    sadd16  r5, r5, \do
    sadd16  r6, r6, \do
    sadd16  r7, r7, \do
    sadd16  r8, r8, \do
    stmia   r9!, {r0-r8}
    .endm

    push    {r4-r11, lr}
    sub     sp, sp, #12
    add     r1, r1, r1, lsl #2
    add     r1, r0, r1
    str     r1, [sp, #4]
    mov     r9, r2
    mov     lr, r0
1:  @ ---- chunk 0 of a group: x, y, z, u, v = q[0..4]
    ldrsb   r2, [lr, #2]                    @ z
    ldrsb   r3, [lr, #3]                    @ u
    ldrsb   r4, [lr, #4]                    @ v
    ldrsb   r0, [lr, #0]                    @ x
    ldrsb   r1, [lr, #1]                    @ y
    add     lr, lr, #5
    add     r5, r2, r2                      @ 2z
    sub     r6, r3, r2                      @ u - z
    sub     r7, r4, r2                      @ v - z
    str     lr, [sp]
    sub     r7, r7, r3, lsl #1              @ v - 2u - z
    pkhbt   r10, r5, r5, lsl #16            @ A
    pkhbt   r11, r6, r6, lsl #16            @ B
    pkhbt   r12, r7, r7, lsl #16            @ C
    add     r5, r3, r4
    rsb     r5, r5, #0                      @ o1 = off(1) = -u - v
    sub     r6, r5, r2                      @ o0 = off(0) = -u - v - z
    add     r7, r0, r1                      @ x + y
    add     r8, r6, r7                      @ E8 + o0
    sub     r7, r5, r7                      @ E0 + o1
    pkhbt   r6, r6, r6, lsl #16             @ O0 = (o0, o0)
    pkhbt   r4, r8, r7, lsl #16             @ k4
    pkhbt   r5, r5, r5, lsl #16             @ O1 = (o1, o1)
    mov     r2, r0, lsl #16                 @ Xh = (0, x)
    uxth    r3, r0                          @ Xl = (x, 0)
    ssub16  r7, r3, r2                      @ M = (x, -x)
    pkhbt   r8, r1, r1, lsl #16             @ Y = (y, y)
    mov     lr, r1, lsl #16                 @ Yh = (0, y)
    uxth    r1, r1                          @ Yl = (y, 0)
    ssub16  r0, r6, r8
    ssub16  r0, r0, r3                      @ k0 = O0 - Y - Xl     = (E0, E1) + o0
    ssub16  r1, r6, r1
    sadd16  r1, r1, r7                      @ k1 = O0 - Yl + M     = (E2, E3) + o0
    sadd16  r7, r7, lr
    sadd16  r7, r7, r5                      @ k7 = O1 + M + Yh     = (E5, E6) + o1
    ssub16  lr, r5, r8
    sadd16  lr, lr, r2                      @ k5 = O1 - Y + Xh     = (E1, E2) + o1
    sadd16  r2, r2, r6                      @ k2 = O0 + Xh         = (E4, E5) + o0
    ssub16  r6, r5, r3                      @ k6 = O1 - Xl         = (E3, E4) + o1
    sadd16  r8, r8, r8                      @ 2Y
    sadd16  r3, r0, r8                      @ k3 = k0 + 2Y         = (E6, E7) + o0
    sadd16  r8, lr, r8                      @ k8 = k5 + 2Y         = (E7, E8) + o1
    mov     r5, lr
    stmia   r9!, {r0-r8}                    @ words 0-8
    @ ---- chunks 1-12 (words 9-116)
    tl5_step r10, r11
    tl5_step r11, r10
    tl5_step r11, r11
    tl5_step r10, r12
    tl5_step r12, r10
    tl5_step r11, r11
    tl5_step r10, r11
    tl5_step r11, r10
    tl5_step r12, r12
    tl5_step r10, r11
    tl5_step r11, r10
    tl5_step r11, r11
    @ ---- run 26 (words 117-121): entry 243 is 0
    sadd16  r0, r0, r10
    sadd16  r1, r1, r10
    sadd16  r2, r2, r10
    sadd16  r3, r3, r10
    sadd16  r4, r4, r10
    ldr     lr, [sp]                        @ (the STM before keeps the LSU 5 cycles)
    ldr     r5, [sp, #4]
    uxth    r4, r4
    stmia   r9!, {r0-r4}
    cmp     lr, r5
    bne     1b
    add     sp, sp, #12
    pop     {r4-r11, pc}
    .purgem tl5_step
    .size   agm_tl5_table__armv6, . - agm_tl5_table__armv6
    .popsection
)");

}  // extern "C"

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 16;  // 16 x 488 bytes = 7.8 KB of table per tile
constexpr uint32_t kTilePad = 16;     // entries past the tile's table (damaged bytes)

// Quads ahead to prefetch in a partial tile of r groups: max(2, ceil(25 / (r + 1))) (r = 0 unused).
constexpr uint8_t kRestPrefetchQuads[kTileGroups] = {2, 13, 9, 7, 5, 5, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2};

}  // namespace

void tl5_table__armv6(const int8_t* q, uint32_t n_groups, int16_t* table) {
    if (n_groups == 0) return;
    if (reinterpret_cast<uintptr_t>(table) & 3u) {  // STM needs words: a 2-byte-aligned table
        tl5_table__fast(q, n_groups, table);
        return;
    }
    agm_tl5_table__armv6(q, n_groups, table);
}

void tmatvec_tl5_i8_shared__armv6(uint32_t n_mats, const uint8_t* const* w, const uint32_t* n_quads,
                                  uint32_t n_groups, const int8_t* q, int32_t* const* acc) {
    const uint32_t stride = n_groups * 4;  // bytes of one quad's words
    const uint32_t n_tiles = n_groups / kTileGroups, rest = n_groups % kTileGroups;
    // Each tile's table is built here, from q, into a buffer that stays in
    // L1 from one tile to the next (KernelSet::tl5_reads_tables is false),
    // once for all the matrices that read q: a whole vector's table (50 KB
    // and more) left L1 as it was built, and its lines came back from L2 or
    // DRAM while the weights streamed. A damaged weight byte above 242 reads
    // up to 12 entries past a group's table: the pad keeps the last group's
    // inside the buffer.
    alignas(32) int16_t tab[kTileGroups * AGM_TL5_TABLE_STRIDE + kTilePad];
    for (uint32_t i = kTileGroups * AGM_TL5_TABLE_STRIDE; i < sizeof tab / 2; ++i) tab[i] = 0;
    AgmTl5Tiles a{};
    a.table = tab;
    // One tile (its first group g0) of every matrix, with the table in tab.
    const auto each_matrix = [&](uint32_t g0, void (*tile)(const AgmTl5Tiles*)) {
        for (uint32_t m = 0; m < n_mats; ++m) {
            if (n_quads[m] == 0) continue;
            a.acc = acc[m];
            a.acc_end = acc[m] + (size_t)n_quads[m] * 4;
            a.w = w[m] + (size_t)g0 * 4;
            tile(&a);
        }
    };
    if (rest != 0) {
        // The partial tile first: it starts the sums from zero. A quad takes
        // 16 * rest + 16 cycles here: prefetch at least 400 cycles ahead
        // (DRAM latency is ~300 ns on a Pi Zero).
        agm_tl5_table__armv6(q + (size_t)n_tiles * kTileGroups * AGM_TL5_GROUP, rest, tab);
        a.pf = kRestPrefetchQuads[rest] * stride;
        a.skip = stride - 4 * rest;
        a.n_words = rest;
        each_matrix(n_tiles * kTileGroups, agm_tl5_tile_rest__armv6);
    } else {
        for (uint32_t m = 0; m < n_mats; ++m) std::memset(acc[m], 0, (size_t)n_quads[m] * 16);
    }
    a.pf = 2 * stride;
    a.skip = stride - kTileGroups * 4;
    for (uint32_t t = 0; t < n_tiles; ++t) {
        agm_tl5_table__armv6(q + (size_t)t * kTileGroups * AGM_TL5_GROUP, kTileGroups, tab);
        each_matrix(t * kTileGroups, agm_tl5_tile16__armv6);
    }
}

void tmatvec_tl5_i8__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                           const int16_t* /*table*/, int32_t* acc) {
    tmatvec_tl5_i8_shared__armv6(1, &w, &n_quads, n_groups, q, &acc);
}

}  // namespace agm

#else  // Thumb: the assembly above is ARM code; keep the portable kernels.

namespace agm {

void tl5_table__armv6(const int8_t* q, uint32_t n_groups, int16_t* table) {
    tl5_table__fast(q, n_groups, table);
}

void tmatvec_tl5_i8__armv6(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                           const int16_t* table, int32_t* acc) {
    tmatvec_tl5_i8__lut(w, n_quads, n_groups, q, table, acc);
}

}  // namespace agm

#endif  // __thumb__
#endif  // __ARM_FEATURE_SIMD32
