// Test-side encoders of the ggml tensor types the GGUF converter reads,
// written from the layouts' descriptions (the quantisers of llama.cpp and
// bitnet.cpp), independently of formats/src/ggml_decode.cpp, which the tests
// check against them. Ternary inputs are -1/0/+1 values with one scale.
#ifndef AGM_TESTS_GGML_ENCODE_H
#define AGM_TESTS_GGML_ENCODE_H

#include <cstdint>
#include <vector>

namespace agm_test {

// TQ2_0 / TQ1_0: w[rows * cols] (cols a multiple of 256), every block's f16
// scale `d_bits` (blocks holding only zeros get `zero_block_d_bits`, as a
// quantiser that stores max|x| would write 0).
std::vector<uint8_t> encode_tq2_0(const int8_t* w, uint64_t n, uint16_t d_bits, uint16_t zero_block_d_bits = 0);
std::vector<uint8_t> encode_tq1_0(const int8_t* w, uint64_t n, uint16_t d_bits, uint16_t zero_block_d_bits = 0);
// I2_S: the whole tensor (n a multiple of 128), then the f32 scale and 28
// zero bytes (n/4 + 32 bytes).
std::vector<uint8_t> encode_i2_s(const int8_t* w, uint64_t n, float scale);
// Q8_0 the way llama.cpp quantises: per block of 32, d = max|x| / 127 (as
// f16), q = round(x / d). *decoded (if non-null) gets d * q, what a reader
// must get back.
std::vector<uint8_t> encode_q8_0(const float* x, uint64_t n, std::vector<float>* decoded);
// Q4_K and Q6_K (n a multiple of 256), with simple scale choices (not
// llama.cpp's search): *decoded gets what ggml's dequantisation gives,
// computed here with its f32 operations.
std::vector<uint8_t> encode_q4_k(const float* x, uint64_t n, std::vector<float>* decoded);
std::vector<uint8_t> encode_q6_k(const float* x, uint64_t n, std::vector<float>* decoded);
std::vector<uint8_t> encode_f16(const float* x, uint64_t n);   // x must be f16-exact
std::vector<uint8_t> encode_bf16(const float* x, uint64_t n);  // x must be bf16-exact
std::vector<uint8_t> encode_f32(const float* x, uint64_t n);

// Rounding to a storage precision (round to nearest even), for RefModel.
float round_to_f16(float x);
float round_to_bf16(float x);

}  // namespace agm_test

#endif
