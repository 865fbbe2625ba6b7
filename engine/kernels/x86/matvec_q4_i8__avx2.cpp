// AGM_TYPE_Q4_B32 rows times an int8 vector with AVX2 (x86-64, chosen at run
// time when the CPU has it): must equal matvec_q4_i8__ref bit for bit.
//
// Byte i of a block's 16 code bytes holds columns 2i (low nibble) and 2i+1
// (high nibble) (format.h), so two blocks' 32 code bytes split into low and
// high nibbles and interleaved (unpacklo/unpackhi per 128-bit lane) are
// columns 0-15 and 16-31 of the two blocks, in order. PMADDUBSW multiplies
// the codes u (0..15, unsigned) by the activations (signed) and adds
// neighbours (|sum| <= 2 * 15 * 127), PMADDWD applies each block's integer
// scale and adds into int32. The codes' offset of 8 comes back once per row
// and block: sum_b s[b] * 8 * (sum of block b's activations), from the same
// scale bytes. All in exact integer arithmetic, like the reference.
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include <cstring>

#include "agm/format.h"

namespace agm {
namespace {

constexpr uint32_t kTileBlocks = 64;  // activations arranged per tile: 2 KB, plus the block sums

// ctrl[t]: from a register holding 16 scale bytes in both lanes, block 2t's
// scale as eight int16 in the low lane and block 2t+1's in the high.
struct ScaleControl {
    alignas(32) int8_t ctrl[8][32];
};

constexpr ScaleControl make_scale_control() {
    ScaleControl c{};
    for (int t = 0; t < 8; ++t)
        for (int i = 0; i < 16; ++i) {
            c.ctrl[t][i] = (int8_t)(i % 2 == 0 ? 2 * t : 0x80);
            c.ctrl[t][16 + i] = (int8_t)(i % 2 == 0 ? 2 * t + 1 : 0x80);
        }
    return c;
}

constexpr ScaleControl kScaleControl = make_scale_control();  // built at compile time, not per call

}  // namespace

__attribute__((target("avx2"))) void matvec_q4_i8__avx2(const uint8_t* w, size_t row_stride, uint32_t rows,
                                                        uint32_t n_blocks, const int8_t* q,
                                                        const uint32_t* /*pairs*/, int32_t* acc) {
    const size_t scales_bytes = (n_blocks + 3) / 4 * 4;
    // qa[t]: for blocks 2t and 2t+1 of the tile, columns 0-15 of each (one
    // per 128-bit lane), then columns 16-31 of each. Blocks past the tile's
    // end are zero, so are their block sums.
    alignas(32) int8_t qa[kTileBlocks / 2][2][32];
    alignas(32) int16_t sum8[kTileBlocks];  // -8 * the sum of each block's activations
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (uint32_t b0 = 0; b0 < n_blocks; b0 += kTileBlocks) {
        const uint32_t nb = n_blocks - b0 < kTileBlocks ? n_blocks - b0 : kTileBlocks;
        std::memset(qa, 0, sizeof qa);
        std::memset(sum8, 0, sizeof sum8);
        for (uint32_t b = 0; b < nb; ++b) {
            const int8_t* x = q + (size_t)(b0 + b) * AGM_Q4_BLOCK;
            std::memcpy(&qa[b / 2][0][(b % 2) * 16], x, 16);
            std::memcpy(&qa[b / 2][1][(b % 2) * 16], x + 16, 16);
            int32_t s = 0;
            for (uint32_t i = 0; i < AGM_Q4_BLOCK; ++i) s += x[i];
            sum8[b] = (int16_t)(-8 * s);  // |8 * s| <= 32,512
        }
        for (uint32_t r = 0; r < rows; ++r) {
            const uint8_t* row = w + (size_t)r * row_stride;
            const uint8_t* scales = row + 4 + b0;
            const uint8_t* codes = row + 4 + scales_bytes + (size_t)b0 * AGM_Q4_BLOCK_BYTES;
            __m256i total = _mm256_setzero_si256();
            for (uint32_t w0 = 0; w0 < nb; w0 += 16) {
                // 16 scale bytes from here stay inside the row (its codes follow them).
                const __m128i s128 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(scales + w0));
                const __m256i s2 = _mm256_broadcastsi128_si256(s128);
                total = _mm256_add_epi32(total, _mm256_madd_epi16(_mm256_cvtepu8_epi16(s128),
                                                                  _mm256_load_si256(reinterpret_cast<const __m256i*>(
                                                                      sum8 + w0))));
                const uint32_t wn = nb - w0 < 16 ? nb - w0 : 16;
                for (uint32_t t = 0; 2 * t < wn; ++t) {
                    const uint32_t b = w0 + 2 * t;
                    const uint8_t* c = codes + (size_t)b * AGM_Q4_BLOCK_BYTES;
                    const __m256i v = b + 1 < nb ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c))
                                                 : _mm256_zextsi128_si256(
                                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(c)));
                    const __m256i lo = _mm256_and_si256(v, low4);
                    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
                    const __m256i* a = reinterpret_cast<const __m256i*>(qa[b / 2]);
                    const __m256i p = _mm256_add_epi16(
                        _mm256_maddubs_epi16(_mm256_unpacklo_epi8(lo, hi), _mm256_load_si256(a)),
                        _mm256_maddubs_epi16(_mm256_unpackhi_epi8(lo, hi), _mm256_load_si256(a + 1)));
                    const __m256i sc =
                        _mm256_shuffle_epi8(s2, _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleControl.ctrl[t])));
                    total = _mm256_add_epi32(total, _mm256_madd_epi16(p, sc));
                }
            }
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
            const int32_t sum = _mm_cvtsi128_si32(h);
            acc[r] = b0 == 0 ? sum : acc[r] + sum;
        }
    }
}

}  // namespace agm

#endif
