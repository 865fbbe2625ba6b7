// Reference kernels of AGM_TYPE_TL5_R4: the oracle. The product decodes each
// byte's five base-3 digits (through a digit table: no division, no multiply)
// and adds or subtracts the activations; it ignores the lookup table.
#include "agm/format.h"
#include "kernels/kernels.h"

namespace agm {
namespace {

struct Digits {
    int8_t d[256][5];  // d[code][k] = digit k of code, minus 1 (-1, 0, 1)
};

constexpr Digits make_digits() {
    Digits t{};
    for (int c = 0; c < 256; ++c) {
        int v = c;
        for (int k = 0; k < 5; ++k) {
            t.d[c][k] = (int8_t)(v % 3 - 1);
            v /= 3;
        }
    }
    return t;
}

constexpr Digits kDigits = make_digits();

}  // namespace

void tl5_table__ref(const int8_t* q, uint32_t n_groups, int16_t* table) {
    for (uint32_t g = 0; g < n_groups; ++g)
        for (uint32_t code = 0; code < AGM_TL5_CODES; ++code) {
            int sum = 0;
            for (int k = 0; k < 5; ++k) {
                const int d = kDigits.d[code][k];
                sum += d > 0 ? q[5 * g + k] : d < 0 ? -q[5 * g + k] : 0;
            }
            table[(size_t)g * AGM_TL5_TABLE_STRIDE + code] = (int16_t)sum;
        }
    for (uint32_t g = 0; g < n_groups; ++g) table[(size_t)g * AGM_TL5_TABLE_STRIDE + AGM_TL5_CODES] = 0;
}

void tmatvec_tl5_i8__ref(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* q,
                         const int16_t* /*table*/, int32_t* acc) {
    for (uint32_t quad = 0; quad < n_quads; ++quad)
        for (uint32_t i = 0; i < 4; ++i) {
            int32_t sum = 0;
            for (uint32_t g = 0; g < n_groups; ++g) {
                const uint8_t code = w[((size_t)quad * n_groups + g) * 4 + i];
                for (int k = 0; k < 5; ++k) {
                    const int d = kDigits.d[code][k];
                    sum += d > 0 ? q[5 * g + k] : d < 0 ? -q[5 * g + k] : 0;
                }
            }
            acc[quad * 4 + i] = sum;
        }
}

}  // namespace agm

namespace agm {

void tl5_table_x2__ref(const int8_t* qa, const int8_t* qb, uint32_t n_groups, uint32_t* table2) {
    // each vector's reference sums, one in each halfword
    for (uint32_t g = 0; g < n_groups; ++g)
        for (uint32_t code = 0; code < AGM_TL5_TABLE_STRIDE; ++code) {
            int32_t sa = 0, sb = 0;
            uint32_t digits = code;
            for (uint32_t k = 0; k < AGM_TL5_GROUP && code < AGM_TL5_CODES; ++k, digits /= 3) {
                const int32_t d = (int32_t)(digits % 3) - 1;
                sa += d * qa[5 * g + k];
                sb += d * qb[5 * g + k];
            }
            table2[(size_t)g * AGM_TL5_TABLE_STRIDE + code] = ((uint32_t)sa & 0xFFFFu) | ((uint32_t)sb << 16);
        }
}

void tmatvec_tl5_i8x2__ref(const uint8_t* w, uint32_t n_quads, uint32_t n_groups, const int8_t* qa,
                           const int8_t* qb, const uint32_t* /*table2*/, int32_t* acc_a, int32_t* acc_b) {
    tmatvec_tl5_i8__ref(w, n_quads, n_groups, qa, nullptr, acc_a);
    tmatvec_tl5_i8__ref(w, n_quads, n_groups, qb, nullptr, acc_b);
}

}  // namespace agm
