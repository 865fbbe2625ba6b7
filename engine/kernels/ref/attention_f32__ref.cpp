// Reference attention kernels over an f32 KV cache: the loops of the
// reference forward pass, in its order (kernels.h).
#include "kernels/kernels.h"

namespace agm {

void attn_scores_f32__ref(const float* q, const float* k, size_t stride, uint32_t n_pos, uint32_t n,
                          float root, float* att) {
    for (uint32_t t = 0; t < n_pos; ++t) {
        const float* kt = k + (size_t)t * stride;
        float score = 0.0f;
        for (uint32_t i = 0; i < n; ++i) score += q[i] * kt[i];
        att[t] = score / root;
    }
}

void attn_values_f32__ref(const float* att, const float* v, size_t stride, uint32_t n_pos, uint32_t n,
                          float* __restrict out) {
    for (uint32_t i = 0; i < n; ++i) out[i] = 0.0f;
    for (uint32_t t = 0; t < n_pos; ++t) {
        // The lanes i are independent (each sums over t in order), so the
        // compiler may vectorise over i: restrict says out and v never alias.
        const float* __restrict vt = v + (size_t)t * stride;
        const float a = att[t];
        for (uint32_t i = 0; i < n; ++i) out[i] += a * vt[i];
    }
}

}  // namespace agm
