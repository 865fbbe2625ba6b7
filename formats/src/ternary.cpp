#include "agm/ternary.h"

#include "agm/format.h"
#include "agm/model_file.h"

namespace agm {

bool is_ternary_type(uint32_t type) { return type == AGM_TYPE_T2_B128 || type == AGM_TYPE_TL5_R4; }

bool pack_ternary(uint32_t type, const int8_t* w, uint32_t rows, uint32_t cols,
                  std::vector<uint8_t>* out, Error* err) {
    const uint32_t shape[2] = {rows, cols};
    uint64_t bytes;
    if (!is_ternary_type(type) || !tensor_bytes(type, shape, 2, &bytes))
        return fail_as(err, ErrorKind::Unsupported, "type %u is not a ternary packing", type);
    for (uint64_t i = 0; i < (uint64_t)rows * cols; ++i)
        if (w[i] < -1 || w[i] > 1)
            return fail(err, "weight at row %llu, column %llu is %d, not -1, 0 or 1",
                        (unsigned long long)(i / cols), (unsigned long long)(i % cols), w[i]);
    out->assign(bytes, 0);
    if (type == AGM_TYPE_T2_B128) {
        const size_t stride = (size_t)(bytes / rows);
        for (uint32_t r = 0; r < rows; ++r) {
            uint8_t* dst = out->data() + (size_t)r * stride;
            for (uint32_t c = 0; c < cols; ++c) {
                const int8_t v = w[(size_t)r * cols + c];
                const uint8_t code = v == 0 ? 0 : v > 0 ? 1 : 3;
                // block c / 128, byte c % 32, bit pair (c % 128) / 32
                const uint32_t in = c % AGM_T2_BLOCK_WEIGHTS;
                dst[(c / AGM_T2_BLOCK_WEIGHTS) * AGM_T2_BLOCK_BYTES + in % 32] |= (uint8_t)(code << (2 * (in / 32)));
            }
        }
        return true;
    }
    // AGM_TYPE_TL5_R4: [quad][group][row in quad], base-3 digits of w + 1
    // (the groups past the columns: 121, all zero).
    const uint32_t groups = tl5_quad_words(type, cols);
    for (uint32_t r = 0; r < ((rows + 3) & ~3u); ++r) {
        for (uint32_t g = 0; g < groups; ++g) {
            uint32_t code = 0, pow3 = 1;
            for (uint32_t k = 0; k < AGM_TL5_GROUP; ++k, pow3 *= 3) {
                const uint32_t c = g * AGM_TL5_GROUP + k;
                const int v = (r < rows && c < cols) ? w[(size_t)r * cols + c] : 0;
                code += (uint32_t)(v + 1) * pow3;
            }
            (*out)[((size_t)(r / 4) * groups + g) * 4 + r % 4] = (uint8_t)code;
        }
    }
    return true;
}

bool unpack_ternary(uint32_t type, const uint8_t* data, uint32_t rows, uint32_t cols, int8_t* w) {
    const uint32_t shape[2] = {rows, cols};
    uint64_t bytes;
    if (!is_ternary_type(type) || !tensor_bytes(type, shape, 2, &bytes)) return false;
    if (type == AGM_TYPE_T2_B128) {
        const size_t stride = (size_t)(bytes / rows);
        for (uint32_t r = 0; r < rows; ++r)
            for (uint32_t c = 0; c < cols; ++c) {
                const uint32_t in = c % AGM_T2_BLOCK_WEIGHTS;
                const uint8_t code = (data[(size_t)r * stride + (c / AGM_T2_BLOCK_WEIGHTS) * AGM_T2_BLOCK_BYTES + in % 32] >>
                                      (2 * (in / 32))) & 3u;
                w[(size_t)r * cols + c] = (int8_t)(code == 1 ? 1 : code == 3 ? -1 : 0);
            }
        return true;
    }
    const uint32_t groups = tl5_quad_words(type, cols);
    for (uint32_t r = 0; r < rows; ++r)
        for (uint32_t c = 0; c < cols; ++c) {
            uint32_t code = data[((size_t)(r / 4) * groups + c / AGM_TL5_GROUP) * 4 + r % 4];
            for (uint32_t k = 0; k < c % AGM_TL5_GROUP; ++k) code /= 3;
            w[(size_t)r * cols + c] = (int8_t)((int)(code % 3) - 1);
        }
    return true;
}

}  // namespace agm
