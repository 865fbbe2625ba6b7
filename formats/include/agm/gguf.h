// GGUF (versions 2 and 3) reader, written from the public specification
// (ggml's docs/gguf.md). Converter-side: it allocates (std::vector, std::string)
// and is never linked into the engine. docs/formats.md ("GGUF") describes
// what it accepts and refuses.
//
// parse_gguf() validates the whole container before returning: every string
// and array lies inside the buffer, every count is bounded by the bytes that
// remain (so a hostile count cannot make it allocate), keys and tensor names
// are unique, every tensor's type is known to the type table and its data
// (offset + size for its type and shape) lies inside the data section at the
// file's alignment, and no two tensors overlap. It does not interpret what the
// metadata means: that is the converter's job (convert_gguf.cpp), which
// refuses what it does not support with the exact key and value.
//
// Messages say what and where: "gguf: tensor 3 'blk.0.attn_q.weight': offset
// 1234 is not a multiple of the alignment 32", "gguf: key 'general.name' at
// byte 88: string of 18446744073709551615 bytes, 60 remain" ("at byte N" is
// the file offset of the offending field; keys and names are shown with
// non-printable bytes as '?' and cut after 64 characters).
//
// Changes to the first committed interface (all additions):
//  - GgmlType names every type of ggml's table (not only the ones this
//    project converts), so tests and messages can use them;
//  - GgufKv::at and GgufTensorInfo::at: where the pair / the tensor info
//    starts in the file, for the converter's messages;
//  - GgufFile::get_u64 and get_i32 (ids and sizes that may be stored as u64
//    or as signed integers);
//  - GgmlTypeInfo / ggml_type_info(): the table row (block elements, block
//    bytes), for writers and converters;
//  - ggml_tensor_bytes() also refuses dimensions of 0 and element counts
//    above INT64_MAX (ggml's int64_t ne).
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

// ggml tensor types (ids as ggml mainline and bitnet.cpp number them). Gaps
// are ids ggml retired (4, 5: Q4_2/Q4_3; 31..33: Q4_0_4_4/4_8/8_8; 37, 38:
// IQ4_NL_4_4/4_8): the table refuses them. The converter supports only some.
enum GgmlType : uint32_t {
    GGML_F32 = 0,
    GGML_F16 = 1,
    GGML_Q4_0 = 2,
    GGML_Q4_1 = 3,
    GGML_Q5_0 = 6,
    GGML_Q5_1 = 7,
    GGML_Q8_0 = 8,
    GGML_Q8_1 = 9,
    GGML_Q2_K = 10,
    GGML_Q3_K = 11,
    GGML_Q4_K = 12,
    GGML_Q5_K = 13,
    GGML_Q6_K = 14,
    GGML_Q8_K = 15,
    GGML_IQ2_XXS = 16,
    GGML_IQ2_XS = 17,
    GGML_IQ3_XXS = 18,
    GGML_IQ1_S = 19,
    GGML_IQ4_NL = 20,
    GGML_IQ3_S = 21,
    GGML_IQ2_S = 22,
    GGML_IQ4_XS = 23,
    GGML_I8 = 24,
    GGML_I16 = 25,
    GGML_I32 = 26,
    GGML_I64 = 27,
    GGML_F64 = 28,
    GGML_IQ1_M = 29,
    GGML_BF16 = 30,
    GGML_TQ1_0 = 34,
    GGML_TQ2_0 = 35,
    GGML_I2_S = 36,  // bitnet.cpp's id (ggml's own 36 was a since-removed repacked type)
    GGML_MXFP4 = 39
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
    uint64_t at = 0;  // file offset of the pair (its key's length field)
};

struct GgufTensorInfo {
    std::string name;
    uint32_t n_dims = 0;     // 1..4
    uint64_t ne[4] = {1, 1, 1, 1};  // ggml order: ne[0] is the innermost (columns)
    uint32_t type = 0;       // GgmlType
    uint64_t offset = 0;     // from the start of the file (data section start + relative offset)
    uint64_t bytes = 0;      // what type and shape need
    const uint8_t* data = nullptr;
    uint64_t at = 0;         // file offset of the tensor info (its name's length field)
};

struct GgufFile {
    uint32_t version = 0;
    uint64_t alignment = 32;    // general.alignment, or 32
    uint64_t data_offset = 0;   // start of the data section (past the end of a file without tensors,
                                // such as a vocabulary-only file, when its writer did not pad it)
    std::vector<GgufKv> kv;     // in file order
    std::vector<GgufTensorInfo> tensors;  // in file order

    const GgufKv* find(const char* key) const;
    const GgufTensorInfo* find_tensor(const char* name) const;

    // Typed getters. Each fails with a message naming the key when the key is
    // absent (unless `optional`, which then leaves *out untouched and returns
    // true), when the type differs (integers of any width are accepted when
    // the value fits; get_f32 also takes an F64 value that fits a float), or
    // when the value does not fit.
    bool get_u32(const char* key, uint32_t* out, bool optional, Error* err) const;
    bool get_u64(const char* key, uint64_t* out, bool optional, Error* err) const;
    bool get_i32(const char* key, int32_t* out, bool optional, Error* err) const;
    bool get_f32(const char* key, float* out, bool optional, Error* err) const;
    bool get_bool(const char* key, bool* out, bool optional, Error* err) const;
    bool get_string(const char* key, std::string* out, bool optional, Error* err) const;
    bool get_string_array(const char* key, std::vector<std::string>* out, bool optional,
                          Error* err) const;
    // F32 arrays (or F64 arrays whose values fit a float).
    bool get_f32_array(const char* key, std::vector<float>* out, bool optional, Error* err) const;
    // Arrays of any integer type whose values fit an int32.
    bool get_i32_array(const char* key, std::vector<int32_t>* out, bool optional, Error* err) const;
};

// A row of the ggml type table: `block` elements take `block_bytes` bytes.
// I2_S is the exception the table flags with block = 0: see ggml_tensor_bytes.
struct GgmlTypeInfo {
    const char* name;
    uint32_t block;        // elements per block (1 for plain types)
    uint32_t block_bytes;  // bytes per block
};

// The table row of a ggml type, or nullptr if the table does not know it.
const GgmlTypeInfo* ggml_type_info(uint32_t type);

// Name of a ggml type ("TQ2_0"), or nullptr if the table does not know it.
const char* ggml_type_name(uint32_t type);

// Bytes of a tensor of `type` with the given shape (ggml order); fails for an
// unknown type, n_dims outside 1..4, a dimension of 0, a row length (ne[0])
// that is not a multiple of the type's block, more than INT64_MAX elements,
// or overflow, with a message naming the type. I2_S (bitnet.cpp): n / 4 + 32
// bytes for n elements, n a multiple of 128 (docs/formats.md).
bool ggml_tensor_bytes(uint32_t type, const uint64_t* ne, uint32_t n_dims, uint64_t* bytes,
                       Error* err);

// Parses and validates a whole GGUF image (see the top of this file). *out
// is written only on success.
bool parse_gguf(const uint8_t* data, uint64_t size, GgufFile* out, Error* err);

}  // namespace agm

#endif
