// The ggml tensor type table (ggml's type traits: elements per block, bytes
// per block) and the size of a tensor of a given type and shape. Block bytes
// are the sizes of ggml's block structs (ggml-common.h), restated here from
// their fields so that each row can be checked by eye:
//   Q4_0  f16 d + 16 nibble bytes                      = 18 per 32
//   Q4_1  f16 d, m + 16                                = 20 per 32
//   Q5_0  f16 d + 4 high bits + 16                     = 22 per 32
//   Q5_1  f16 d, m + 4 + 16                            = 24 per 32
//   Q8_0  f16 d + 32                                   = 34 per 32
//   Q8_1  f16 d, s + 32                                = 36 per 32
//   Q2_K  16 scales + 64 + f16 d, dmin                 = 84 per 256
//   Q3_K  32 hmask + 64 + 12 scales + f16 d            = 110 per 256
//   Q4_K  f16 d, dmin + 12 scales + 128                = 144 per 256
//   Q5_K  f16 d, dmin + 12 + 32 qh + 128               = 176 per 256
//   Q6_K  128 ql + 64 qh + 16 scales + f16 d           = 210 per 256
//   Q8_K  f32 d + 256 + 16 int16 bsums                 = 292 per 256
//   IQ2_XXS f16 d + 32 uint16                          = 66 per 256
//   IQ2_XS  f16 d + 32 uint16 + 8 scales               = 74 per 256
//   IQ3_XXS f16 d + 96                                 = 98 per 256
//   IQ1_S   f16 d + 32 + 8 uint16 qh                   = 50 per 256
//   IQ4_NL  f16 d + 16                                 = 18 per 32
//   IQ3_S   f16 d + 64 + 8 qh + 32 signs + 4 scales    = 110 per 256
//   IQ2_S   f16 d + 64 + 8 qh + 8 scales               = 82 per 256
//   IQ4_XS  f16 d + u16 scales_h + 4 scales_l + 128    = 136 per 256
//   IQ1_M   32 + 16 qh + 8 scales                      = 56 per 256
//   TQ1_0   48 base-3 bytes + 4 qh + f16 d             = 54 per 256
//   TQ2_0   64 2-bit bytes + f16 d                     = 66 per 256
//   MXFP4   u8 e8m0 exponent + 16 nibble bytes         = 17 per 32
// I2_S (bitnet.cpp) is not blockwise: see tensor_bytes_i2s below.
#include <cinttypes>

#include "agm/gguf.h"

namespace agm {
namespace {

struct Row {
    uint32_t id;
    GgmlTypeInfo info;
};

const Row kTable[] = {
    {GGML_F32, {"F32", 1, 4}},          {GGML_F16, {"F16", 1, 2}},
    {GGML_Q4_0, {"Q4_0", 32, 18}},      {GGML_Q4_1, {"Q4_1", 32, 20}},
    {GGML_Q5_0, {"Q5_0", 32, 22}},      {GGML_Q5_1, {"Q5_1", 32, 24}},
    {GGML_Q8_0, {"Q8_0", 32, 34}},      {GGML_Q8_1, {"Q8_1", 32, 36}},
    {GGML_Q2_K, {"Q2_K", 256, 84}},     {GGML_Q3_K, {"Q3_K", 256, 110}},
    {GGML_Q4_K, {"Q4_K", 256, 144}},    {GGML_Q5_K, {"Q5_K", 256, 176}},
    {GGML_Q6_K, {"Q6_K", 256, 210}},    {GGML_Q8_K, {"Q8_K", 256, 292}},
    {GGML_IQ2_XXS, {"IQ2_XXS", 256, 66}}, {GGML_IQ2_XS, {"IQ2_XS", 256, 74}},
    {GGML_IQ3_XXS, {"IQ3_XXS", 256, 98}}, {GGML_IQ1_S, {"IQ1_S", 256, 50}},
    {GGML_IQ4_NL, {"IQ4_NL", 32, 18}},  {GGML_IQ3_S, {"IQ3_S", 256, 110}},
    {GGML_IQ2_S, {"IQ2_S", 256, 82}},   {GGML_IQ4_XS, {"IQ4_XS", 256, 136}},
    {GGML_I8, {"I8", 1, 1}},            {GGML_I16, {"I16", 1, 2}},
    {GGML_I32, {"I32", 1, 4}},          {GGML_I64, {"I64", 1, 8}},
    {GGML_F64, {"F64", 1, 8}},          {GGML_IQ1_M, {"IQ1_M", 256, 56}},
    {GGML_BF16, {"BF16", 1, 2}},        {GGML_TQ1_0, {"TQ1_0", 256, 54}},
    {GGML_TQ2_0, {"TQ2_0", 256, 66}},   {GGML_I2_S, {"I2_S", 0, 0}},
    {GGML_MXFP4, {"MXFP4", 32, 17}},
};

// bitnet.cpp's I2_S: ggml_nbytes gives n / 4 + 32 for n elements (its type
// traits say 1 byte per element; ggml_nbytes then divides by 4 and adds 32).
// The layout (quantize_i2_s): n/4 bytes of 2-bit codes over the whole tensor,
// a float32 scale at byte n/4, zero padding to n/4 + 32. The codes are packed
// in blocks of 128 elements in 32 bytes, so n must be a multiple of 128.
constexpr uint64_t kI2sBlock = 128;

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
    for (const Row& r : kTable)
        if (r.id == type) return &r.info;
    return nullptr;
}

const char* ggml_type_name(uint32_t type) {
    const GgmlTypeInfo* t = ggml_type_info(type);
    return t ? t->name : nullptr;
}

bool ggml_tensor_bytes(uint32_t type, const uint64_t* ne, uint32_t n_dims, uint64_t* bytes, Error* err) {
    const GgmlTypeInfo* t = ggml_type_info(type);
    if (t == nullptr) return fail(err, "unknown ggml tensor type %" PRIu32, type);
    if (n_dims < 1 || n_dims > 4) return fail(err, "%s tensor with %" PRIu32 " dimensions (must be 1..4)", t->name, n_dims);
    uint64_t n = 1;
    for (uint32_t i = 0; i < n_dims; i++) {
        if (ne[i] == 0) return fail(err, "%s tensor: dimension %" PRIu32 " is 0", t->name, i);
        if (n > (uint64_t)INT64_MAX / ne[i])
            return fail(err, "%s tensor: element count overflows (dimension %" PRIu32 " is %" PRIu64 ")", t->name, i,
                        ne[i]);
        n *= ne[i];
    }
    if (type == GGML_I2_S) {
        if (n % kI2sBlock != 0)
            return fail(err, "I2_S tensor: %" PRIu64 " elements, not a multiple of %" PRIu64, n, kI2sBlock);
        *bytes = n / 4 + 32;
        return true;
    }
    if (ne[0] % t->block != 0)
        return fail(err, "%s tensor: row length %" PRIu64 " is not a multiple of the block size %" PRIu32, t->name,
                    ne[0], t->block);
    const uint64_t blocks = n / t->block;
    if (blocks > UINT64_MAX / t->block_bytes)
        return fail(err, "%s tensor: %" PRIu64 " blocks of %" PRIu32 " bytes overflow", t->name, blocks,
                    t->block_bytes);
    *bytes = blocks * t->block_bytes;
    return true;
}

}  // namespace agm
