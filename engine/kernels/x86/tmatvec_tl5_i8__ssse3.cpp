// Ternary products over AGM_TYPE_TL5_R4 with SSSE3 (x86, chosen at run time
// when the CPU has it and not AVX2): must equal tmatvec_tl5_i8__ref bit for
// bit. The algorithm of tmatvec_tl5_i8__avx2.cpp in 128-bit registers: the
// five base-3 digits of each weight byte by PMULHUW (floor(c / 3^k)), PMADDWD
// against the activations arranged as int16 planes b_k = a_k - 3 a_(k-1), the
// +1 of the digits returned as the sum of the activations.
//
// Layout: 16 bytes of a quad are 4 groups of its 4 rows ([group][row]); one
// PSHUFB makes them row-major (4 rows x 4 groups), so that PMADDWD's
// neighbours belong to one row: after widening, lo holds rows 0 and 1, hi
// rows 2 and 3, four groups each.
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#include "agm/format.h"

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 512;  // a multiple of 4: planes of 20 KB at most
constexpr uint32_t kChunks = kTileGroups / 4;
constexpr uint8_t kZeroCode = 121;     // digits 1, 1, 1, 1, 1: five zero weights
constexpr int kPrefetch = 1024;        // bytes ahead of the weights being decoded (a hint only)

struct Planes {
    alignas(16) int16_t p[kChunks][AGM_TL5_GROUP][8];
    int32_t sum;  // the sum of the tile's activations
};

// p[c][k]: for the 4 groups of chunk c, b_k (groups 0-3, then the same again:
// the two rows of a register).
void make_planes(const int8_t* q, uint32_t g0, uint32_t ng, Planes* t) {
    std::memset(t->p, 0, sizeof t->p);
    int32_t sum = 0;
    for (uint32_t j = 0; j < ng; ++j)
        for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
            const int32_t a = q[5 * (g0 + j) + k], prev = k > 0 ? q[5 * (g0 + j) + k - 1] : 0;
            sum += a;
            int16_t* dst = t->p[j / 4][k] + (j % 4);
            dst[0] = dst[4] = (int16_t)(a - 3 * prev);
        }
    t->sum = sum;
}

struct Digits {
    __m128i lo[AGM_TL5_GROUP], hi[AGM_TL5_GROUP];
};

__attribute__((target("ssse3"))) inline void decode(const uint8_t* p, uint32_t groups, Digits* out) {
    __m128i x;
    if (groups == 4) {
        x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    } else {  // the tile's last, partial chunk: zero weights after it
        alignas(16) uint8_t tmp[16];
        std::memset(tmp, kZeroCode, sizeof tmp);
        std::memcpy(tmp, p, (size_t)groups * 4);
        x = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
    }
    x = _mm_shuffle_epi8(x, _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m128i zero = _mm_setzero_si128();
    out->lo[0] = _mm_unpacklo_epi8(x, zero);
    out->hi[0] = _mm_unpackhi_epi8(x, zero);
    static const short kMagic[AGM_TL5_GROUP] = {0, 21846, 7282, 2428, 810};  // ceil(65536 / 3^k)
    for (uint32_t k = 1; k < AGM_TL5_GROUP; ++k) {
        const __m128i m = _mm_set1_epi16(kMagic[k]);
        out->lo[k] = _mm_mulhi_epu16(out->lo[0], m);
        out->hi[k] = _mm_mulhi_epu16(out->hi[0], m);
    }
}

// int32 words 0-1: row 0 (lo) / row 2 (hi); 2-3: row 1 / row 3.
__attribute__((target("ssse3"))) inline void dot(const Digits& d, const Planes& t, uint32_t c, __m128i* lo,
                                                 __m128i* hi) {
    for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
        const __m128i b = _mm_load_si128(reinterpret_cast<const __m128i*>(t.p[c][k]));
        *lo = _mm_add_epi32(*lo, _mm_madd_epi16(d.lo[k], b));
        *hi = _mm_add_epi32(*hi, _mm_madd_epi16(d.hi[k], b));
    }
}

inline void store_rows(__m128i lo, __m128i hi, int32_t minus, bool first, int32_t* acc) {
    alignas(16) int32_t a[4], b[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(a), lo);
    _mm_store_si128(reinterpret_cast<__m128i*>(b), hi);
    const int32_t r[AGM_TL5_ROWS] = {a[0] + a[1], a[2] + a[3], b[0] + b[1], b[2] + b[3]};
    for (uint32_t i = 0; i < AGM_TL5_ROWS; ++i) acc[i] = first ? r[i] - minus : acc[i] + r[i] - minus;
}

}  // namespace

__attribute__((target("ssse3"))) void tmatvec_tl5_i8__ssse3(const uint8_t* w, uint32_t n_quads, uint32_t n_groups,
                                                            const int8_t* q, const int16_t* /*table*/,
                                                            int32_t* acc) {
    Planes t;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t ng = n_groups - g0 < kTileGroups ? n_groups - g0 : kTileGroups;
        make_planes(q, g0, ng, &t);
        for (uint32_t quad = 0; quad < n_quads; ++quad) {
            const uint8_t* p = w + ((size_t)quad * n_groups + g0) * 4;
            __m128i lo = _mm_setzero_si128(), hi = lo;
            for (uint32_t c = 0; 4 * c < ng; ++c) {
                if (c % 4 == 0) _mm_prefetch(reinterpret_cast<const char*>(p + 16 * c) + kPrefetch, _MM_HINT_T0);
                Digits d;
                decode(p + 16 * c, ng - 4 * c < 4 ? ng - 4 * c : 4, &d);
                dot(d, t, c, &lo, &hi);
            }
            store_rows(lo, hi, t.sum, g0 == 0, acc + 4 * quad);
        }
    }
}

__attribute__((target("ssse3"))) void tmatvec_tl5_i8x2__ssse3(const uint8_t* w, uint32_t n_quads,
                                                              uint32_t n_groups, const int8_t* qa,
                                                              const int8_t* qb, const uint32_t* /*table2*/,
                                                              int32_t* acc_a, int32_t* acc_b) {
    Planes ta, tb;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t ng = n_groups - g0 < kTileGroups ? n_groups - g0 : kTileGroups;
        make_planes(qa, g0, ng, &ta);
        make_planes(qb, g0, ng, &tb);
        for (uint32_t quad = 0; quad < n_quads; ++quad) {
            const uint8_t* p = w + ((size_t)quad * n_groups + g0) * 4;
            __m128i la = _mm_setzero_si128(), ha = la, lb = la, hb = la;
            for (uint32_t c = 0; 4 * c < ng; ++c) {
                if (c % 4 == 0) _mm_prefetch(reinterpret_cast<const char*>(p + 16 * c) + kPrefetch, _MM_HINT_T0);
                Digits d;  // decoded once for both vectors
                decode(p + 16 * c, ng - 4 * c < 4 ? ng - 4 * c : 4, &d);
                dot(d, ta, c, &la, &ha);
                dot(d, tb, c, &lb, &hb);
            }
            store_rows(la, ha, ta.sum, g0 == 0, acc_a + 4 * quad);
            store_rows(lb, hb, tb.sum, g0 == 0, acc_b + 4 * quad);
        }
    }
}

}  // namespace agm

#endif
