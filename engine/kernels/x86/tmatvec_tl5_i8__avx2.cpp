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

constexpr uint32_t kTileGroups = 64;  // a multiple of 8
constexpr uint32_t kChunks = kTileGroups / 8;
constexpr uint8_t kZeroCode = 121;    // digits 1, 1, 1, 1, 1: five zero weights

struct Planes {
    alignas(32) int8_t p[kChunks][AGM_TL5_GROUP][32];
    int32_t sum;  // the sum of the tile's activations: what digits 0..2 add over weights -1..1
};

void make_planes(const int8_t* q, uint32_t g0, uint32_t ng, Planes* t) {
    std::memset(t->p, 0, sizeof t->p);
    int32_t sum = 0;
    for (uint32_t j = 0; j < ng; ++j)
        for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
            const int8_t a = q[5 * (g0 + j) + k];
            sum += a;
            int8_t* dst = t->p[j / 8][k] + ((j % 8) / 4) * 16 + (j % 4);
            for (uint32_t i = 0; i < AGM_TL5_ROWS; ++i) dst[4 * i] = a;
        }
    t->sum = sum;
}

// The five digit vectors of 32 weight bytes, row-major per lane.
struct Digits {
    __m256i d[AGM_TL5_GROUP];
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
    const __m256i lo = _mm256_unpacklo_epi8(x, zero), hi = _mm256_unpackhi_epi8(x, zero);
    // f[k] = floor(c / 3^k)
    __m256i fl[AGM_TL5_GROUP + 1], fh[AGM_TL5_GROUP + 1];
    fl[0] = lo;
    fh[0] = hi;
    static const short kMagic[AGM_TL5_GROUP] = {0, 21846, 7282, 2428, 810};
    for (uint32_t k = 1; k < AGM_TL5_GROUP; ++k) {
        const __m256i m = _mm256_set1_epi16(kMagic[k]);
        fl[k] = _mm256_mulhi_epu16(lo, m);
        fh[k] = _mm256_mulhi_epu16(hi, m);
    }
    fl[AGM_TL5_GROUP] = fh[AGM_TL5_GROUP] = zero;
    const __m256i three = _mm256_set1_epi16(3);
    for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k) {
        const __m256i dl = _mm256_sub_epi16(fl[k], _mm256_mullo_epi16(fl[k + 1], three));
        const __m256i dh = _mm256_sub_epi16(fh[k], _mm256_mullo_epi16(fh[k + 1], three));
        out->d[k] = _mm256_packus_epi16(dl, dh);  // per lane: undoes the unpacks' order
    }
}

__attribute__((target("avx2"))) inline __m256i dot(const Digits& d, const Planes& t, uint32_t c) {
    __m256i s = _mm256_maddubs_epi16(d.d[0], _mm256_load_si256(reinterpret_cast<const __m256i*>(t.p[c][0])));
    for (uint32_t k = 1; k < AGM_TL5_GROUP; ++k)  // |s| <= 5 * 2 * 2 * 127
        s = _mm256_add_epi16(
            s, _mm256_maddubs_epi16(d.d[k], _mm256_load_si256(reinterpret_cast<const __m256i*>(t.p[c][k]))));
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));  // word i of each lane: row i
}

__attribute__((target("avx2"))) inline void store_rows(__m256i sum, int32_t minus, bool first, int32_t* acc) {
    alignas(32) int32_t v[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(v), sum);
    for (uint32_t i = 0; i < AGM_TL5_ROWS; ++i) {
        const int32_t r = v[i] + v[4 + i] - minus;
        acc[i] = first ? r : acc[i] + r;
    }
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
            __m256i sum = _mm256_setzero_si256();
            for (uint32_t c = 0; 8 * c < ng; ++c) {
                Digits d;
                decode(p + 32 * c, ng - 8 * c < 8 ? ng - 8 * c : 8, &d);
                sum = _mm256_add_epi32(sum, dot(d, t, c));
            }
            store_rows(sum, t.sum, g0 == 0, acc + 4 * quad);
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
            __m256i sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
            for (uint32_t c = 0; 8 * c < ng; ++c) {
                Digits d;  // decoded once for both vectors
                decode(p + 32 * c, ng - 8 * c < 8 ? ng - 8 * c : 8, &d);
                sa = _mm256_add_epi32(sa, dot(d, ta, c));
                sb = _mm256_add_epi32(sb, dot(d, tb, c));
            }
            store_rows(sa, ta.sum, g0 == 0, acc_a + 4 * quad);
            store_rows(sb, tb.sum, g0 == 0, acc_b + 4 * quad);
        }
    }
}

}  // namespace agm

#endif
