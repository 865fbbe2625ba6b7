// Ternary products over AGM_TYPE_TL5_R4 with AVX2 (x86-64, chosen at run time
// when the CPU has it): must equal tmatvec_tl5_i8__ref bit for bit. They read
// the activations, not the lookup tables.
//
// Decoding instead of looking up: a weight byte c (0..242) is five base-3
// digits, d_k = floor(c / 3^k) - 3 floor(c / 3^(k+1)), and floor(c / 3^k) is
// one PMULHUW by ceil(65536 / 3^k) (exact for c < 256). With the digits
// (0, 1, 2 = weight + 1) as unsigned bytes, PMADDUBSW against the
// activations adds neighbouring products into int16 and PMADDWD finishes
// each row's sum in int32; the +1 comes back as the sum of the activations.
//
// Layout: 32 bytes of a quad are 8 groups of its 4 rows ([group][row]); a
// PSHUFB makes each 128-bit lane row-major (4 rows x 4 groups), so that
// neighbours belong to one row. The activations are arranged to match once
// per tile of groups ("planes": digit k of byte (row i, group j) meets
// q[5j + k]); a tile's planes (1.3 KB) stay in L1 while the rows stream.
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#include "agm/format.h"

namespace agm {
namespace {

constexpr uint32_t kTileGroups = 512;  // a multiple of 8: planes of 10 KB, one pass over rows up to 2560 columns
constexpr uint32_t kChunks = kTileGroups / 8;
constexpr uint8_t kZeroCode = 121;
constexpr int kPrefetch = 1024;       // bytes ahead of the weights being decoded (a hint only)    // digits 1, 1, 1, 1, 1: five zero weights

struct Planes {
    alignas(32) int16_t p[kChunks][AGM_TL5_GROUP][16];
    int32_t sum;  // the sum of the tile's activations: what digits 0..2 add over weights -1..1
};

// p[c][k] for group j of chunk c (lane j % 8 / 4, both rows of a half):
// b_0 = a_0, b_k = a_k - 3 a_(k-1), so that sum_k f_k b_k = sum_k d_k a_k
// with f_k = floor(code / 3^k) (|b_k| <= 508).
void make_planes(const int8_t* q, uint32_t g0, uint32_t ng, Planes* t) {
    std::memset(t->p, 0, sizeof t->p);
    int32_t sum = 0;
    for (uint32_t j = 0; j < ng; ++j)
        for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
            const int32_t a = q[5 * (g0 + j) + k], prev = k > 0 ? q[5 * (g0 + j) + k - 1] : 0;
            sum += a;
            int16_t* dst = t->p[j / 8][k] + ((j % 8) / 4) * 8 + (j % 4);
            dst[0] = dst[4] = (int16_t)(a - 3 * prev);
        }
    t->sum = sum;
}

// f_k = floor(code / 3^k), k = 0..4, of 32 weight bytes made row-major per
// lane and widened: lo holds rows 0 and 1 of each lane, hi rows 2 and 3.
struct Digits {
    __m256i lo[AGM_TL5_GROUP], hi[AGM_TL5_GROUP];
};

__attribute__((target("avx2"))) inline void decode(const uint8_t* p, uint32_t groups, Digits* out) {
    __m256i x;
    if (groups == 8) {
        x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    } else {  // the tile's last, partial chunk: zero weights after it
        alignas(32) uint8_t tmp[32];
        std::memset(tmp, kZeroCode, sizeof tmp);
        std::memcpy(tmp, p, (size_t)groups * 4);
        x = _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp));
    }
    const __m256i rows = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,  //
                                          0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    x = _mm256_shuffle_epi8(x, rows);
    const __m256i zero = _mm256_setzero_si256();
    out->lo[0] = _mm256_unpacklo_epi8(x, zero);
    out->hi[0] = _mm256_unpackhi_epi8(x, zero);
    static const short kMagic[AGM_TL5_GROUP] = {0, 21846, 7282, 2428, 810};  // ceil(65536 / 3^k)
    for (uint32_t k = 1; k < AGM_TL5_GROUP; ++k) {
        const __m256i m = _mm256_set1_epi16(kMagic[k]);
        out->lo[k] = _mm256_mulhi_epu16(out->lo[0], m);
        out->hi[k] = _mm256_mulhi_epu16(out->hi[0], m);
    }
}

// Per lane: int32 words 0-1 row 0, 2-3 row 1 (lo); the same for rows 2, 3 (hi).
__attribute__((target("avx2"))) inline void dot(const Digits& d, const Planes& t, uint32_t c, __m256i* lo,
                                                __m256i* hi) {
    for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
        const __m256i b = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.p[c][k]));
        *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(d.lo[k], b));
        *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(d.hi[k], b));
    }
}

__attribute__((target("avx2"))) inline void store_rows(__m256i lo, __m256i hi, int32_t minus, bool first,
                                                       int32_t* acc) {
    alignas(32) int32_t a[8], b[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(a), lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(b), hi);
    const int32_t r[AGM_TL5_ROWS] = {a[0] + a[1] + a[4] + a[5], a[2] + a[3] + a[6] + a[7],
                                     b[0] + b[1] + b[4] + b[5], b[2] + b[3] + b[6] + b[7]};
    for (uint32_t i = 0; i < AGM_TL5_ROWS; ++i) acc[i] = first ? r[i] - minus : acc[i] + r[i] - minus;
}

}  // namespace

__attribute__((target("avx2"))) void tmatvec_tl5_i8__avx2(const uint8_t* w, uint32_t n_quads, uint32_t n_groups,
                                                          const int8_t* q, const int16_t* /*table*/,
                                                          int32_t* acc) {
    Planes t;
    for (uint32_t g0 = 0; g0 < n_groups; g0 += kTileGroups) {
        const uint32_t ng = n_groups - g0 < kTileGroups ? n_groups - g0 : kTileGroups;
        make_planes(q, g0, ng, &t);
        for (uint32_t quad = 0; quad < n_quads; ++quad) {
            const uint8_t* p = w + ((size_t)quad * n_groups + g0) * 4;
            __m256i lo = _mm256_setzero_si256(), hi = lo;
            for (uint32_t c = 0; 8 * c < ng; ++c) {
                _mm_prefetch(reinterpret_cast<const char*>(p + 32 * c) + kPrefetch, _MM_HINT_T0);
                Digits d;
                decode(p + 32 * c, ng - 8 * c < 8 ? ng - 8 * c : 8, &d);
                dot(d, t, c, &lo, &hi);
            }
            store_rows(lo, hi, t.sum, g0 == 0, acc + 4 * quad);
        }
    }
}

__attribute__((target("avx2"))) void tmatvec_tl5_i8x2__avx2(const uint8_t* w, uint32_t n_quads,
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
            __m256i la = _mm256_setzero_si256(), ha = la, lb = la, hb = la;
            for (uint32_t c = 0; 8 * c < ng; ++c) {
                _mm_prefetch(reinterpret_cast<const char*>(p + 32 * c) + kPrefetch, _MM_HINT_T0);
                Digits d;  // decoded once for both vectors
                decode(p + 32 * c, ng - 8 * c < 8 ? ng - 8 * c : 8, &d);
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
