// Decoders of the ggml tensor types the GGUF converter accepts, from the
// bytes of one tensor (its size already checked by parse_gguf):
//   ternary  TQ1_0, TQ2_0 (llama.cpp), I2_S (bitnet.cpp)  -> ImportTernary
//   float    F32, F16, BF16, Q8_0, Q4_K, Q6_K             -> f32 values, exactly
//            (k-quants as ggml dequantises them, same f32 operations)
// Layouts (our own description; docs/formats.md has the table):
//   TQ2_0  blocks of 256 values in 66 bytes: qs[64], f16 d. Byte j of the
//          32-byte half h (j = 0..31) holds values 128h + 32k + j in bits
//          2k..2k+1, code c in {0,1,2} meaning c - 1 (code 3 would be +2:
//          refused as not ternary).
//   TQ1_0  blocks of 256 values in 54 bytes: qs[48], qh[4], f16 d. Values
//          are base-3 digits kept as 8-bit fixed-point fractions: digit n of
//          byte q is ((uint8_t)(q * 3^n) * 3) >> 8. qs[0..31] give values
//          32n + m (n = 0..4 digits, m = byte), qs[32..47] values 160 +
//          16n + m, qh[0..3] values 240 + 4n + m (n = 0..3). Every byte
//          decodes to digits in 0..2: no invalid codes.
//   I2_S   the whole tensor (n values, n a multiple of 128) as blocks of 128
//          values in 32 bytes: byte j of block b holds values 128b + 32k + j
//          in bits 6-2k..7-2k, code c in {0,1,2} meaning c - 1; then one f32
//          scale at byte n/4 (the tensor takes n/4 + 32 bytes). This is
//          bitnet.cpp's x86 layout, the one its published GGUF files use.
//   Q8_0   blocks of 32 values in 34 bytes: f16 d, int8 q[32]; value d * q
//          (exact in f32: an 11-bit significand times an 8-bit integer).
// Scales: a TQ block's d is its values' scale. Our ternary matrices keep one
// scale per matrix, so every block holding a nonzero value must have the
// same d (all-zero blocks, whose d does not matter, are skipped); BitNet
// b1.58 checkpoints quantised by llama.cpp are so. A matrix whose block
// scales differ was quantised from a non-ternary model, and is refused with
// the two scales that differ.
#ifndef AGM_GGML_DECODE_H
#define AGM_GGML_DECODE_H

#include <cstdint>
#include <vector>

#include "agm/error.h"
#include "agm/import.h"

namespace agm {

// True for TQ1_0, TQ2_0 and I2_S.
bool ggml_is_ternary(uint32_t type);

// True for F32, F16, BF16, Q8_0, Q4_K and Q6_K.
bool ggml_is_float(uint32_t type);

// A ternary tensor of `type`, shape [rows][cols] (ggml ne = {cols, rows}),
// `bytes` long, into out (w, scale, rows, cols, source_type, source_bytes).
// `name` goes into messages.
bool decode_ggml_ternary(uint32_t type, const uint8_t* data, uint64_t bytes, uint32_t rows,
                         uint32_t cols, const char* name, ImportTernary* out, Error* err);

// n values of a float-like tensor of `type` into out, exactly.
bool decode_ggml_float(uint32_t type, const uint8_t* data, uint64_t bytes, uint64_t n,
                       std::vector<float>* out, Error* err);

}  // namespace agm

#endif
