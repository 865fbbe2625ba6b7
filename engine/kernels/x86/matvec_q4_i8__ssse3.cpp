// AGM_TYPE_Q4_B32 rows times an int8 vector with SSSE3 (x86, chosen at run
// time when the CPU has it and not AVX2): must equal matvec_q4_i8__ref bit
// for bit.
//
// One block per step: its 16 code bytes split into low and high nibbles and
// interleaved (unpacklo/unpackhi) are columns 0-15 and 16-31 in order, so
// the activations need no rearranging. PMADDUBSW multiplies the codes u
// (0..15, unsigned) by the activations (signed) and adds neighbours
// (|sum| <= 2 * 15 * 128), PMADDWD applies the block's integer scale (one
// PSHUFB from the row's scale bytes) and adds into int32. The codes' offset
// of 8 comes back once per row and block, from the block sums of the
// activations: sum_b s[b] * (-8 * sum of block b). Exact integer arithmetic,
// like the reference.
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#include "agm/format.h"

namespace agm {
namespace {

constexpr uint32_t kTileBlocks = 64;  // block sums per tile

// ctrl[t]: from a register of 16 scale bytes, scale t as eight int16.
struct ScaleControl {
    alignas(16) int8_t ctrl[16][16];
};

constexpr ScaleControl make_scale_control() {
    ScaleControl c{};
    for (int t = 0; t < 16; ++t)
        for (int i = 0; i < 16; ++i) c.ctrl[t][i] = (int8_t)(i % 2 == 0 ? t : 0x80);
    return c;
}

constexpr ScaleControl kScaleControl = make_scale_control();

}  // namespace

__attribute__((target("ssse3"))) void matvec_q4_i8__ssse3(const uint8_t* w, size_t row_stride, uint32_t rows,
                                                          uint32_t n_blocks, const int8_t* q,
                                                          const uint32_t* /*pairs*/, int32_t* acc) {
    const size_t scales_bytes = (n_blocks + 3) / 4 * 4;
    alignas(16) int16_t sum8[kTileBlocks];  // -8 * the sum of each block's activations (0 past the end)
    const __m128i low4 = _mm_set1_epi8(0x0F), zero = _mm_setzero_si128();
    for (uint32_t b0 = 0; b0 < n_blocks; b0 += kTileBlocks) {
        const uint32_t nb = n_blocks - b0 < kTileBlocks ? n_blocks - b0 : kTileBlocks;
        std::memset(sum8, 0, sizeof sum8);
        for (uint32_t b = 0; b < nb; ++b) {
            const int8_t* x = q + (size_t)(b0 + b) * AGM_Q4_BLOCK;
            int32_t s = 0;
            for (uint32_t i = 0; i < AGM_Q4_BLOCK; ++i) s += x[i];
            sum8[b] = (int16_t)(-8 * s);  // |8 * s| <= 32,512 (activations in -127..127)
        }
        for (uint32_t r = 0; r < rows; ++r) {
            const uint8_t* row = w + (size_t)r * row_stride;
            const uint8_t* scales = row + 4 + b0;
            const uint8_t* codes = row + 4 + scales_bytes + (size_t)b0 * AGM_Q4_BLOCK_BYTES;
            __m128i total = _mm_setzero_si128();
            for (uint32_t w0 = 0; w0 < nb; w0 += 16) {
                const uint32_t wn = nb - w0 < 16 ? nb - w0 : 16;
                __m128i s16;
                if (wn == 16) {
                    s16 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + w0));
                } else {  // the row's last scales: no reading past them
                    alignas(16) uint8_t tmp[16] = {};
                    std::memcpy(tmp, scales + w0, wn);
                    s16 = _mm_load_si128(reinterpret_cast<const __m128i*>(tmp));
                }
                // the offset term of these (up to) 16 blocks
                const __m128i* o = reinterpret_cast<const __m128i*>(sum8 + w0);
                total = _mm_add_epi32(total, _mm_madd_epi16(_mm_unpacklo_epi8(s16, zero), _mm_load_si128(o)));
                total = _mm_add_epi32(total, _mm_madd_epi16(_mm_unpackhi_epi8(s16, zero), _mm_load_si128(o + 1)));
                for (uint32_t t = 0; t < wn; ++t) {
                    const uint32_t b = w0 + t;
                    const __m128i v =
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + (size_t)b * AGM_Q4_BLOCK_BYTES));
                    const __m128i lo = _mm_and_si128(v, low4);
                    const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), low4);
                    const int8_t* x = q + (size_t)(b0 + b) * AGM_Q4_BLOCK;
                    const __m128i p = _mm_add_epi16(
                        _mm_maddubs_epi16(_mm_unpacklo_epi8(lo, hi),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(x))),
                        _mm_maddubs_epi16(_mm_unpackhi_epi8(lo, hi),
                                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 16))));
                    const __m128i sc = _mm_shuffle_epi8(
                        s16, _mm_load_si128(reinterpret_cast<const __m128i*>(kScaleControl.ctrl[t])));
                    total = _mm_add_epi32(total, _mm_madd_epi16(p, sc));
                }
            }
            total = _mm_add_epi32(total, _mm_shuffle_epi32(total, 0x4E));
            total = _mm_add_epi32(total, _mm_shuffle_epi32(total, 0xB1));
            const int32_t sum = _mm_cvtsi128_si32(total);
            acc[r] = b0 == 0 ? sum : acc[r] + sum;
        }
    }
}

}  // namespace agm

#endif
