// GGUF (versions 2 and 3) reader, written from the public specification
// (ggml's docs/gguf.md). Converter-side: it allocates (std::vector, std::string)
// and is never linked into the engine.
//
// parse_gguf() validates the whole container before returning: every string
// and array lies inside the buffer, every count is bounded by the bytes that
// remain (so a hostile count cannot make it allocate), keys and tensor names
// are unique, every tensor's type is known to the type table and its data
// (offset + size for its type and shape) lies inside the data section at the
// file's alignment. It does not interpret what the metadata means: that is
// the converter's job (convert_gguf.cpp), which refuses what it does not support
// with the exact key and value.
#ifndef AGM_GGUF_H
#define AGM_GGUF_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"

namespace agm {

// GGUF metadata value types (gguf.md, "gguf_metadata_value_type").
enum GgufValueType : uint32_t {
    GGUF_U8 = 0,
    GGUF_I8 = 1,
    GGUF_U16 = 2,
    GGUF_I16 = 3,
    GGUF_U32 = 4,
    GGUF_I32 = 5,
    GGUF_F32 = 6,
    GGUF_BOOL = 7,
    GGUF_STRING = 8,
    GGUF_ARRAY = 9,
    GGUF_U64 = 10,
    GGUF_I64 = 11,
    GGUF_F64 = 12
};

// ggml tensor types this project names (ids as ggml and bitnet.cpp number them).
enum GgmlType : uint32_t {
    GGML_F32 = 0,
    GGML_F16 = 1,
    GGML_Q4_0 = 2,
    GGML_Q8_0 = 8,
    GGML_BF16 = 30,
    GGML_TQ1_0 = 34,
    GGML_TQ2_0 = 35,
    GGML_I2_S = 36  // bitnet.cpp's id (ggml's own 36 was a since-removed repacked type)
};

// One metadata value, pointing into the file. Scalars: `data` is the value's
// bytes (little-endian). Strings: `data`/`count` are the bytes/length.
// Arrays: `elem_type` and `count` are the element type and count; `data` is
// the first element; string arrays are decoded into `strings` at parse time
// (their elements have varying lengths). Nested arrays are refused.
struct GgufValue {
    uint32_t type = 0;       // GgufValueType
    uint32_t elem_type = 0;  // arrays: GgufValueType of the elements
    uint64_t count = 0;      // strings: bytes; arrays: elements
    const uint8_t* data = nullptr;
    std::vector<std::string> strings;  // arrays of strings only
};

struct GgufKv {
    std::string key;
    GgufValue value;
};

struct GgufTensorInfo {
    std::string name;
    uint32_t n_dims = 0;     // 1..4
    uint64_t ne[4] = {1, 1, 1, 1};  // ggml order: ne[0] is the innermost (columns)
    uint32_t type = 0;       // GgmlType
    uint64_t offset = 0;     // from the start of the file (data section start + relative offset)
    uint64_t bytes = 0;      // what type and shape need
    const uint8_t* data = nullptr;
};

struct GgufFile {
    uint32_t version = 0;
    uint64_t alignment = 32;    // general.alignment, or 32
    uint64_t data_offset = 0;   // start of the data section
    std::vector<GgufKv> kv;     // in file order
    std::vector<GgufTensorInfo> tensors;  // in file order

    const GgufKv* find(const char* key) const;
    const GgufTensorInfo* find_tensor(const char* name) const;

    // Typed getters. Each fails with a message naming the key when the key is
    // absent (unless `optional`, which then leaves *out untouched and returns
    // true), when the type differs (integers of any width are accepted when
    // the value fits), or when the value does not fit.
    bool get_u32(const char* key, uint32_t* out, bool optional, Error* err) const;
    bool get_f32(const char* key, float* out, bool optional, Error* err) const;
    bool get_bool(const char* key, bool* out, bool optional, Error* err) const;
    bool get_string(const char* key, std::string* out, bool optional, Error* err) const;
    bool get_string_array(const char* key, std::vector<std::string>* out, bool optional,
                          Error* err) const;
    bool get_f32_array(const char* key, std::vector<float>* out, bool optional, Error* err) const;
    bool get_i32_array(const char* key, std::vector<int32_t>* out, bool optional, Error* err) const;
};

// Name of a ggml type ("TQ2_0"), or nullptr if the table does not know it.
const char* ggml_type_name(uint32_t type);

// Bytes of a tensor of `type` with the given shape (ggml order); fails for an
// unknown type, a row length that is not a multiple of the type's block, or
// overflow, with a message naming the type.
bool ggml_tensor_bytes(uint32_t type, const uint64_t* ne, uint32_t n_dims, uint64_t* bytes,
                       Error* err);

// Parses and validates a whole GGUF image (see the top of this file).
bool parse_gguf(const uint8_t* data, uint64_t size, GgufFile* out, Error* err);

}  // namespace agm

#endif
