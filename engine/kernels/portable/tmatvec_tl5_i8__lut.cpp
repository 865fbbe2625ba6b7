// Lookup-table ternary product over AGM_TYPE_TL5_R4 (the T-MAC / bitnet.cpp
// TL idea fitted to the ARM1176): must equal tmatvec_tl5_i8__ref bit for bit.
//
// A weight byte is a base-3 index over five weights, so its contribution is
// one entry of the group's 243-entry table of signed activation sums. The
// four bytes of a word are the same group in four rows, so they share one
// table: per word (20 weights) the inner loop is
//   LDR word; 4 x { AND idx, mask, word, LSR #s ; LDRSH v, [tab, idx] ; ADD acc, v }
//   ADD tab, tab, #486
// = 14 instructions, 0.7 per weight (GCC 12 -O2 compiles the loop below to
// exactly that, plus 2 of loop control per 4 words). The AND with mask 0x1FE
// and a shift yields the byte already doubled (an int16 offset): LDRSH takes
// no shifted register offset, so the doubling costs nothing this way. Group
// tables are 488 bytes apart (one padding entry) because 486 is not an ARM
// immediate and would cost a second ADD per word.
//
// Tiling: the table of a whole 1024-wide input is 100 KB; the columns are cut
// into tiles of kTileGroups groups (7.8 KB of table) that stay in the 16 KB
// L1 while every row's slice of the tile streams past. The accumulators
// live in acc[] between tiles.
#include <cstring>

#include "agm/format.h"
#include "kernels/kernels.h"

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 16;                        // 7.8 KB of table per tile
constexpr uint32_t kGroupBytes = AGM_TL5_TABLE_STRIDE * 2;  // one group's table, bytes

inline uint32_t load_word(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);  // 4-byte aligned by the format: a single LDR
    return v;
}

inline int32_t entry(const uint8_t* tab, uint32_t offset) {
    int16_t v;
    std::memcpy(&v, tab + offset, 2);  // an aligned halfword: LDRSH
    return v;
}

}  // namespace

namespace {

// One digit of the table build: the first N entries hold the sums over the
// digits so far; digit k's -1/0/+1 triples them. N is a constant so that
// the compiler unrolls and schedules the loop (no counter per entry).
template <uint32_t N>
inline void triple(int16_t* t, int16_t xk) {
    for (uint32_t j = 0; j < N; ++j) {
        const int16_t v = t[j];
        t[j] = (int16_t)(v - xk);
        t[N + j] = v;
        t[2 * N + j] = (int16_t)(v + xk);
    }
}

}  // namespace

void tl5_table__fast(const int8_t* q, uint32_t n_groups, int16_t* table) {
    // Builds the 243 sums digit by digit: after digit k the first 3^(k+1)
    // entries hold the sums over digits 0..k. Each step triples the filled
    // prefix with one subtraction and one addition per entry.
    for (uint32_t g = 0; g < n_groups; ++g) {
        int16_t* t = table + (size_t)g * AGM_TL5_TABLE_STRIDE;
        const int8_t* x = q + 5 * g;
        t[0] = (int16_t)-x[0];
        t[1] = 0;
        t[2] = x[0];
        triple<3>(t, x[1]);
        triple<9>(t, x[2]);
        triple<27>(t, x[3]);
        triple<81>(t, x[4]);
        t[AGM_TL5_CODES] = 0;
    }
}

void tmatvec_tl5_i8__lut(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* /*q*/,
                         const int16_t* table, int32_t* acc) {
    const uint8_t* tab0 = reinterpret_cast<const uint8_t*>(table);
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t g1 = n_groups - g0 < kTileGroups ? n_groups : g0 + kTileGroups;
        for (uint32_t quad = 0; quad < n_quads; ++quad) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            if (g0 > 0) {
                a0 = acc[4 * quad];
                a1 = acc[4 * quad + 1];
                a2 = acc[4 * quad + 2];
                a3 = acc[4 * quad + 3];
            }
            const uint8_t* p = w + ((size_t)quad * n_groups + g0) * 4;
            const uint8_t* tab = tab0 + (size_t)g0 * kGroupBytes;
            // One word: four rows' indices into the same group table.
            auto word_step = [&](uint32_t word) {
                a0 += entry(tab, (word << 1) & 0x1FEu);
                a1 += entry(tab, (word >> 7) & 0x1FEu);
                a2 += entry(tab, (word >> 15) & 0x1FEu);
                a3 += entry(tab, (word >> 23) & 0x1FEu);
                tab += kGroupBytes;
            };
            const uint8_t* end4 = p + (size_t)((g1 - g0) & ~3u) * 4;
            for (; p != end4; p += 16) {  // four words per trip: less loop control
                word_step(load_word(p));
                word_step(load_word(p + 4));
                word_step(load_word(p + 8));
                word_step(load_word(p + 12));
            }
            for (const uint8_t* end = p + (size_t)((g1 - g0) & 3u) * 4; p != end; p += 4)
                word_step(load_word(p));
            acc[4 * quad] = a0;
            acc[4 * quad + 1] = a1;
            acc[4 * quad + 2] = a2;
            acc[4 * quad + 3] = a3;
        }
    }
}

}  // namespace agm
