// The digit-by-digit build of tl5_r4 group tables (kernels.h: tl5_table_fn),
// shared by the variants that differ only in how they triple a prefix:
// after digit k the first 3^(k+1) entries of a group's table hold the sums
// over digits 0..k; triple(t, n, x) extends the first n entries by the next
// digit's -1 / 0 / +1 (t[j] - x, t[j], t[j] + x at j, n + j, 2n + j).
#ifndef AGM_KERNELS_TL5_TABLE_BUILD_H
#define AGM_KERNELS_TL5_TABLE_BUILD_H

#include <cstddef>
#include <cstdint>

#include "agm/format.h"

namespace agm {

template <class Triple>
inline void tl5_table_build(const int8_t* q, uint32_t n_groups, int16_t* table, Triple triple) {
    for (uint32_t g = 0; g < n_groups; ++g) {
        int16_t* t = table + (size_t)g * AGM_TL5_TABLE_STRIDE;
        const int8_t* x = q + 5 * g;
        t[0] = (int16_t)-x[0];
        t[1] = 0;
        t[2] = x[0];
        triple(t, 3, x[1]);
        triple(t, 9, x[2]);
        triple(t, 27, x[3]);
        triple(t, 81, x[4]);
        t[AGM_TL5_CODES] = 0;
    }
}

}  // namespace agm

#endif
