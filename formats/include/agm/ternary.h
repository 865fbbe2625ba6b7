// Ternary weight packings: from a plain matrix of -1/0/+1 values into each
// ternary tensor type of the format (docs/format.md), and back. Shared by the
// converters, agmodel-synth and the tests; the kernels read the packings.
#ifndef AGM_TERNARY_H
#define AGM_TERNARY_H

#include <cstdint>
#include <vector>

#include "agm/error.h"

namespace agm {

// True for the tensor types that hold ternary matrices.
bool is_ternary_type(uint32_t type);

// Packs w[rows][cols] (each -1, 0 or +1) as `type`. Refuses other values,
// naming row and column, and unknown types.
bool pack_ternary(uint32_t type, const int8_t* w, uint32_t rows, uint32_t cols,
                  std::vector<uint8_t>* out, Error* err);

// Unpacks a packed matrix into w[rows][cols]; data holds tensor_bytes() bytes.
// Code 10 of t2_b128 reads as 0; a tl5 byte above 242 reads its base-3 digits.
bool unpack_ternary(uint32_t type, const uint8_t* data, uint32_t rows, uint32_t cols, int8_t* w);

}  // namespace agm

#endif
