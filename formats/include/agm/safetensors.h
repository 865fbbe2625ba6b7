// safetensors reader (Hugging Face's tensor container), written from the
// format's public description. Converter-side: it allocates and is never
// linked into the engine.
//
// Layout: an 8-byte little-endian header size N; N bytes of JSON (an object,
// which must start with '{' and may be padded at the end with spaces); then
// the byte buffer, which runs to the end of the file. The JSON maps each
// tensor name to {"dtype": "F16", "shape": [2, 3], "data_offsets": [begin,
// end]}, offsets relative to the start of the byte buffer, plus an optional
// "__metadata__" object of string values.
//
// parse_safetensors() validates the whole file before returning:
//   - N <= 100,000,000 (the reference implementation's limit) and N <= file
//     size - 8; the header is strict JSON (agm/json.h: valid UTF-8, no
//     duplicate keys, so no duplicate tensor names) whose top level is an
//     object;
//   - "__metadata__", if present, is an object whose values are all strings;
//   - every tensor entry is an object with exactly the keys dtype, shape and
//     data_offsets; dtype is one of the names below (anything else is refused
//     with ErrorKind::Unsupported, naming it); shape is an array of
//     non-negative integers (empty: a scalar, one element); data_offsets is
//     [begin, end] with begin <= end <= buffer size and end - begin ==
//     product(shape) * element size, computed without overflow;
//   - the tensors tile the byte buffer exactly: no two overlap, and no byte
//     of the buffer is left unreferenced (the format forbids holes, so that a
//     file cannot carry a second payload).
// Values are not inspected (NaN and Inf are valid content); tensor_to_f32()
// checks them at the caller's choice.
#ifndef AGM_SAFETENSORS_H
#define AGM_SAFETENSORS_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agm/error.h"

namespace agm {

// Every element type the safetensors format names (all little-endian).
enum class StDtype : uint8_t {
    BOOL,     // 1 byte, 0 or 1 (values are not checked)
    U8,
    I8,
    F8_E5M2,  // 1 byte float8 variants
    F8_E4M3,
    I16,
    U16,
    F16,      // IEEE binary16
    BF16,     // the top half of an IEEE binary32
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
};

// "F16"; nullptr for a value outside the enum.
const char* st_dtype_name(StDtype t);
// Bytes per element (1, 2, 4 or 8).
uint32_t st_dtype_size(StDtype t);
// Looks a header dtype name up (exact, case-sensitive); false if unknown.
bool st_dtype_from_name(const std::string& name, StDtype* out);

struct SafetensorsTensor {
    std::string name;
    StDtype dtype = StDtype::U8;
    std::vector<uint64_t> shape;  // outermost first (row-major); empty = scalar
    uint64_t n_elements = 0;      // product of shape (1 for a scalar)
    uint64_t begin = 0, end = 0;  // data_offsets, relative to the byte buffer
    const uint8_t* data = nullptr;  // file start + data_start + begin; not aligned
    uint64_t nbytes = 0;            // end - begin
};

struct SafetensorsFile {
    uint64_t header_size = 0;  // N
    uint64_t data_start = 0;   // 8 + N: where the byte buffer starts in the file
    uint64_t data_size = 0;    // bytes of the byte buffer
    std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__", in file order
    std::vector<SafetensorsTensor> tensors;                     // in header order

    // By exact name (binary search); nullptr if absent.
    const SafetensorsTensor* find(const std::string& name) const;
    // A "__metadata__" value; nullptr if absent.
    const std::string* find_metadata(const std::string& key) const;

    std::vector<uint32_t> by_name;  // indices into tensors, ordered by name (built by the parser)
};

// Parses and validates a whole safetensors image (see the top of this file).
// The tensors point into `data`, which must outlive *out. Messages start
// with "safetensors: " and name the tensor ("tensor \"x\": ...").
bool parse_safetensors(const uint8_t* data, uint64_t size, SafetensorsFile* out, Error* err);

// Exact conversions of one element (every bit pattern, subnormals, signed
// zeros, infinities; NaNs keep sign and payload).
float st_f16_to_f32(uint16_t bits);
float st_bf16_to_f32(uint16_t bits);

// Index of the first NaN or +-Inf in x[0..n), or -1 if all are finite.
int64_t first_non_finite(const float* x, size_t n);

// A tensor's elements as floats (row-major, n_elements of them), for dtype
// F32, F16 or BF16 (others fail with ErrorKind::Unsupported, naming the
// dtype). Conversions are exact. Unless allow_non_finite, a NaN or Inf fails
// with the first one's index: `tensor "x": element 17 is NaN`.
bool tensor_to_f32(const SafetensorsTensor& t, std::vector<float>* out, Error* err,
                   bool allow_non_finite = false);

// The raw bytes of a tensor that must have dtype `want` (e.g. U8 for packed
// ternary weights, I8): fails naming both dtypes otherwise.
bool tensor_raw(const SafetensorsTensor& t, StDtype want, const uint8_t** data, uint64_t* nbytes,
                Error* err);

// "[2, 3]" (for messages).
std::string st_shape_string(const std::vector<uint64_t>& shape);

}  // namespace agm

#endif
