/* Positive fixture for tools/armv6-purity-check.sh: ordinary C the way the
 * engine writes it (ACLE ARMv6 SIMD intrinsics, float and double math, 64-bit
 * integers, a variable division, a struct copy), compiled at test time with
 * the ARMv6 flags. It must pass the checker. */
#include <stdint.h>
#include <string.h>
#if defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#endif

int32_t agm_purity_dot(const int8_t* a, const int8_t* b, int n) {
  int32_t acc = 0;
#if defined(__ARM_FEATURE_SIMD32)
  for (int i = 0; i + 4 <= n; i += 4) {
    int32_t x, y;
    memcpy(&x, a + i, 4);  /* unaligned-safe reads */
    memcpy(&y, b + i, 4);
    __builtin_prefetch(a + i + 64);  /* PLD */
    int16x2_t xl = __sxtb16(x), yl = __sxtb16(y);
    uint32_t xr = ((uint32_t)x >> 8) | ((uint32_t)x << 24);  /* ror 8 */
    uint32_t yr = ((uint32_t)y >> 8) | ((uint32_t)y << 24);
    int16x2_t xh = __sxtb16((int8x4_t)xr), yh = __sxtb16((int8x4_t)yr);
    acc = __smlad(xl, yl, acc);
    acc = __smlad(xh, yh, acc);
    acc += (int32_t)__usada8((uint32_t)x, (uint32_t)y, 0);
    acc += (int32_t)__sel(__sadd16(xl, yl), xh);
  }
#else
  for (int i = 0; i < n; ++i) acc += a[i] * b[i];
#endif
  return acc;
}

float agm_purity_rms(const float* x, int n) {
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s / (float)n + 1e-5f;
}

double agm_purity_mix(double a, int64_t b, int32_t c, int32_t d) {
  return a * 0.5 + (double)b + (double)(c / d) + (double)((uint32_t)c % (uint32_t)d);
}

typedef struct { int64_t v[6]; } agm_purity_blob;
void agm_purity_copy(agm_purity_blob* dst, const agm_purity_blob* src) { *dst = *src; }
