/* Negative fixture: plain C compiled at test time for ARMv7 (-march=armv7ve
 * -mfpu=vfpv3-d16, ARM state). GCC then emits MOVW/MOVT for the constant,
 * UBFX for the bit-field read, SDIV for the division and a VFPv3 VMOV
 * immediate: the checker must reject the object. */
#include <stdint.h>
uint32_t agm_bad_const(void) { return 0x12345678u; }
uint32_t agm_bad_field(uint32_t x) { return (x >> 7) & 0x1fu; }
int32_t agm_bad_div(int32_t a, int32_t b) { return a / b; }
float agm_bad_float(float x) { return x * 1.5f; }
