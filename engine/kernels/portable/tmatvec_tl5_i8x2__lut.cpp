// Lookup-table ternary product over AGM_TYPE_TL5_R4 for two input vectors at
// once (prompt processing): must equal tmatvec_tl5_i8__ref on each.
//
// The two vectors' group tables are interleaved into one table of 32-bit
// entries, vector A's sum in the low halfword and B's in the high one
// (tl5_table_x2__fast). A weight byte then indexes one word that carries both
// vectors' sums, and one SADD16 adds both into a packed accumulator: per
// weight word (four rows, five columns, two vectors: 40 products) one LDR
// of weights, four AND, four LDR of entries, four SADD16 and the table step,
// about 0.35 instructions per weight and vector where one vector at a time
// costs 0.7. The int16 lanes hold a tile of 8 groups (|sum| <= 8 * 635),
// then are widened into the int32 results; 8 groups of 976-byte entries
// (7.8 KB) stay in the 16 KB L1 while the weights stream.
#include <cstring>

#include "agm/format.h"
#include "kernels/kernels.h"

#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#endif

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 8;
constexpr uint32_t kGroupBytes = AGM_TL5_TABLE_STRIDE * 4;  // 976: an ARM immediate

inline uint32_t load_word(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);  // 4-byte aligned: a single LDR
    return v;
}

// Two int16 lanes added independently (wrapping; the tile bound keeps them exact).
inline uint32_t add16x2(uint32_t a, uint32_t b) {
#if defined(__ARM_FEATURE_SIMD32)
    return (uint32_t)__sadd16((int16x2_t)a, (int16x2_t)b);
#else
    return ((a + b) & 0xFFFFu) | ((((a >> 16) + (b >> 16)) & 0xFFFFu) << 16);
#endif
}

inline uint32_t sub16x2(uint32_t a, uint32_t b) {
#if defined(__ARM_FEATURE_SIMD32)
    return (uint32_t)__ssub16((int16x2_t)a, (int16x2_t)b);
#else
    return ((a - b) & 0xFFFFu) | ((((a >> 16) - (b >> 16)) & 0xFFFFu) << 16);
#endif
}

inline uint32_t pack16x2(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16); }

}  // namespace

void tl5_table_x2__fast(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2) {
    // tl5_table__fast's recurrence on both vectors at once: the pairs of
    // sums stay within int16 (|sum| <= 635), so the lanes never interact.
    for (uint32_t g = 0; g < n_groups; ++g) {
        uint32_t* t = table2 + (size_t)g * AGM_TL5_TABLE_STRIDE;
        const int8_t* a = qa + 5 * g;
        const int8_t* b = qb + 5 * g;
        t[0] = pack16x2(-a[0], -b[0]);
        t[1] = 0;
        t[2] = pack16x2(a[0], b[0]);
        uint32_t n = 3;
        for (int k = 1; k < 5; ++k, n *= 3) {
            const uint32_t xk = pack16x2(a[k], b[k]);
            for (uint32_t j = 0; j < n; ++j) {
                const uint32_t v = t[j];
                t[j] = sub16x2(v, xk);
                t[n + j] = v;
                t[2 * n + j] = add16x2(v, xk);
            }
        }
        t[AGM_TL5_CODES] = 0;
    }
}

void tmatvec_tl5_i8x2__lut(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* /*qa*/,
                           const int8_t* /*qb*/, const uint32_t* table2, int32_t* acc_a, int32_t* acc_b) {
    const uint8_t* tab0 = reinterpret_cast<const uint8_t*>(table2);
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t g1 = n_groups - g0 < kTileGroups ? n_groups : g0 + kTileGroups;
        for (uint32_t quad = 0; quad < n_quads; ++quad) {
            uint32_t p0 = 0, p1 = 0, p2 = 0, p3 = 0;  // two int16 lanes each: A low, B high
            const uint8_t* p = w + ((size_t)quad * n_groups + g0) * 4;
            const uint8_t* tab = tab0 + (size_t)g0 * kGroupBytes;
            for (const uint8_t* end = p + (size_t)(g1 - g0) * 4; p != end; p += 4, tab += kGroupBytes) {
                const uint32_t word = load_word(p);
                p0 = add16x2(p0, load_word(tab + ((word << 2) & 0x3FCu)));
                p1 = add16x2(p1, load_word(tab + ((word >> 6) & 0x3FCu)));
                p2 = add16x2(p2, load_word(tab + ((word >> 14) & 0x3FCu)));
                p3 = add16x2(p3, load_word(tab + ((word >> 22) & 0x3FCu)));
            }
            int32_t* a = acc_a + 4 * quad;
            int32_t* b = acc_b + 4 * quad;
            const uint32_t packed[4] = {p0, p1, p2, p3};
            for (int i = 0; i < 4; ++i) {
                const int32_t lo = (int16_t)(packed[i] & 0xFFFFu), hi = (int16_t)(packed[i] >> 16);
                a[i] = g0 == 0 ? lo : a[i] + lo;
                b[i] = g0 == 0 ? hi : b[i] + hi;
            }
        }
    }
}

}  // namespace agm
