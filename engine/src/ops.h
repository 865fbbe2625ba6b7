// The float parts of the forward pass, each in the reference's exact order of
// operations (docs/architecture.md, "exactness"): sequential sums from index
// 0, plain IEEE single precision, C's sqrtf/expf/powf/cosf/sinf, no FMA.
#ifndef AGM_ENGINE_OPS_H
#define AGM_ENGINE_OPS_H

#include <cstdint>

namespace agm {

// out[i] = x[i] * s with s = (1 / sqrtf(sum(x^2) / n)) / n (AGM_NORM_RMS_DIV_N).
// out may equal x.
void norm_rms_div_n(float* out, const float* x, uint32_t n);

// out[i] = w[i] * (z * x[i]), z = 1 / sqrtf(sum(x^2) / n + eps) (AGM_NORM_RMS).
void norm_rms(float* out, const float* x, const float* w, uint32_t n, float eps);

// Per-vector absmax quantisation (AGM_ACT_ABSMAX_I8):
//   s = (float)(max|x| / 127.0)  (in double, as the reference does)
//   q[i] = round-half-away((x[i] * (float)(1.0 / s)))  clamped to -127..127
// q has room for n_padded >= n entries; the tail is zeroed. Returns s
// (0 for an all-zero vector, whose q is all zero).
float quantize_absmax_i8(const float* x, uint32_t n, int8_t* q, uint32_t n_padded);

// cos_sin[2*i], cos_sin[2*i+1] = cosf, sinf of pos * (1 / powf(theta, 2i / head_dim))
// for i in 0..head_dim/2-1.
void rope_table(float* cos_sin, uint32_t pos, uint32_t head_dim, float theta);

// Rotates each head of v (n_heads * head_dim floats) by the table.
// interleaved: pairs (2i, 2i+1); otherwise halves: pairs (i, i + head_dim/2).
void rope_apply(float* v, uint32_t n_heads, uint32_t head_dim, const float* cos_sin,
                bool interleaved);

// x[0..n) = softmax(x): max, expf(x - max), sequential sum, divide.
void softmax(float* x, uint32_t n);

// h[i] = act(g[i]) * u[i]; silu: (g * (1 / (1 + expf(-g)))) * u; relu2: (max(g,0)^2) * u.
void gated_act(float* h, const float* g, const float* u, uint32_t n, bool silu);

}  // namespace agm

#endif
