// A GGUF image builder for tests (never linked into the engine or the tools).
// It writes what ggml's docs/gguf.md describes, little-endian, version 3 (or
// 2, whose layout is the same), in memory:
//
//   GgufWriter w;
//   w.add_string("general.architecture", "llama");
//   w.add_u32("llama.block_count", 2);
//   w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>"});
//   w.add_array<float>("tokenizer.ggml.scores", agm::GGUF_F32, {0, 0, 0});
//   w.set_alignment(64);                       // also writes general.alignment
//   w.add_tensor("token_embd.weight", agm::GGML_F16, {64, 3}, f16_bytes);
//   w.add_tensor_zeros("blk.0.attn_q.weight", agm::GGML_TQ2_0, {256, 64});
//   std::vector<uint8_t> file = w.build();
//
// Tensor data is laid out in the order the tensors were added, each at the
// next multiple of the alignment from the start of the data section (which
// starts at the first multiple of the alignment after the tensor infos), and
// the file is padded to a multiple of the alignment after the last tensor
// (as ggml's writer does; `pad_end = false` leaves it unpadded). A file
// without tensors ends right after its metadata, as ggml's vocabulary-only
// files do.
//
// Breaking things (hostile tests): every field can be overridden.
//   - version, magic, n_kv_override / n_tensors_override (header counts that
//     disagree with the lists), swap_header (version and counts written
//     byte-swapped, as a big-endian writer would);
//   - add_raw(key, type, bytes): any value type with any encoded bytes
//     (unknown types, nested arrays, lying lengths);
//   - per tensor: offset_override (the relative offset written in the info,
//     the data is still laid out where it would be), n_dims_override (written
//     n_dims; the dims actually written stay those given), type written as
//     given (unknown types are fine), data of any size;
//   - layout_alignment: the alignment used to lay out data, independently of
//     any general.alignment pair (set_alignment sets both).
// build() can also report where every field landed (Layout), so a test can
// poke single bytes: kv[i].value_at, tensors[i].offset_at, ...
#ifndef AGM_TEST_GGUF_WRITER_H
#define AGM_TEST_GGUF_WRITER_H

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agm/gguf.h"

namespace agm_test {

using Bytes = std::vector<uint8_t>;

// Little-endian encoders (appending to a byte vector).
void put_u8(Bytes* b, uint8_t v);
void put_u16(Bytes* b, uint16_t v);
void put_u32(Bytes* b, uint32_t v);
void put_u64(Bytes* b, uint64_t v);
void put_f32(Bytes* b, float v);
void put_f64(Bytes* b, double v);
void put_str(Bytes* b, const std::string& s);  // u64 length + bytes

// Little-endian overwrite of a field at `at` (for poking built images).
void poke_u32(Bytes* b, uint64_t at, uint32_t v);
void poke_u64(Bytes* b, uint64_t at, uint64_t v);

// The encoded element of an array of `type` (scalars only), from a value.
template <typename T>
void put_elem(Bytes* b, uint32_t type, T v) {
    switch (type) {
    case agm::GGUF_U8: case agm::GGUF_I8: case agm::GGUF_BOOL: put_u8(b, (uint8_t)v); break;
    case agm::GGUF_U16: case agm::GGUF_I16: put_u16(b, (uint16_t)v); break;
    case agm::GGUF_U32: case agm::GGUF_I32: put_u32(b, (uint32_t)v); break;
    case agm::GGUF_U64: case agm::GGUF_I64: put_u64(b, (uint64_t)v); break;
    case agm::GGUF_F32: put_f32(b, (float)v); break;
    case agm::GGUF_F64: put_f64(b, (double)v); break;
    default: break;  // strings and arrays have their own helpers
    }
}

struct GgufWriter {
    struct Kv {
        std::string key;
        uint32_t type = 0;  // GgufValueType as written
        Bytes value;        // the encoded value that follows the type
    };
    struct Tensor {
        std::string name;
        std::vector<uint64_t> ne;  // ggml order, written as given
        uint32_t type = 0;
        Bytes data;
        bool has_offset_override = false;
        uint64_t offset_override = 0;  // relative offset to write instead of the laid-out one
        int64_t n_dims_override = -1;  // >= 0: n_dims to write instead of ne.size()
    };
    // Where build() put things (file offsets).
    struct Layout {
        struct KvAt {
            uint64_t at, type_at, value_at;  // key length field, type field, value
        };
        struct TensorAt {
            uint64_t at, n_dims_at, dims_at, type_at, offset_at;  // info fields
            uint64_t rel_offset;                                   // laid-out offset in the data section
        };
        std::vector<KvAt> kv;
        std::vector<TensorAt> tensors;
        uint64_t infos_end = 0;    // end of the tensor infos
        uint64_t data_offset = 0;  // start of the data section
    };

    uint32_t version = 3;
    char magic[4] = {'G', 'G', 'U', 'F'};
    bool swap_header = false;
    bool pad_end = true;
    uint64_t layout_alignment = 32;
    bool has_n_kv_override = false, has_n_tensors_override = false;
    uint64_t n_kv_override = 0, n_tensors_override = 0;
    std::vector<Kv> kvs;
    std::vector<Tensor> tensors;

    // Scalars.
    void add_u8(const std::string& k, uint8_t v) { add_scalar(k, agm::GGUF_U8, v); }
    void add_i8(const std::string& k, int8_t v) { add_scalar(k, agm::GGUF_I8, v); }
    void add_u16(const std::string& k, uint16_t v) { add_scalar(k, agm::GGUF_U16, v); }
    void add_i16(const std::string& k, int16_t v) { add_scalar(k, agm::GGUF_I16, v); }
    void add_u32(const std::string& k, uint32_t v) { add_scalar(k, agm::GGUF_U32, v); }
    void add_i32(const std::string& k, int32_t v) { add_scalar(k, agm::GGUF_I32, v); }
    void add_u64(const std::string& k, uint64_t v) { add_scalar(k, agm::GGUF_U64, v); }
    void add_i64(const std::string& k, int64_t v) { add_scalar(k, agm::GGUF_I64, v); }
    void add_f32(const std::string& k, float v) { add_scalar(k, agm::GGUF_F32, v); }
    void add_f64(const std::string& k, double v) { add_scalar(k, agm::GGUF_F64, v); }
    void add_bool(const std::string& k, bool v) { add_scalar(k, agm::GGUF_BOOL, v ? 1 : 0); }
    void add_string(const std::string& k, const std::string& v);

    // Arrays: of scalars of `elem_type` (values converted as put_elem does),
    // and of strings.
    template <typename T>
    void add_array(const std::string& k, uint32_t elem_type, const std::vector<T>& vals) {
        Bytes b;
        put_u32(&b, elem_type);
        put_u64(&b, vals.size());
        for (const T& v : vals) put_elem(&b, elem_type, v);
        add_raw(k, agm::GGUF_ARRAY, b);
    }
    void add_string_array(const std::string& k, const std::vector<std::string>& vals);

    // Any type, any bytes after the type field.
    void add_raw(const std::string& k, uint32_t type, const Bytes& value) { kvs.push_back(Kv{k, type, value}); }

    // general.alignment (u32) and the layout alignment.
    void set_alignment(uint32_t a);

    // A tensor with the given bytes (of any size: nothing is checked).
    // Returns its index in `tensors`, for setting the knobs.
    size_t add_tensor(const std::string& name, uint32_t type, const std::vector<uint64_t>& ne, const Bytes& data);
    // A tensor of zero bytes of exactly the size the reader's type table gives
    // (agm::ggml_tensor_bytes); the shape must be valid for the type.
    size_t add_tensor_zeros(const std::string& name, uint32_t type, const std::vector<uint64_t>& ne);

    Bytes build(Layout* layout = nullptr) const;

  private:
    template <typename T>
    void add_scalar(const std::string& k, uint32_t type, T v) {
        Bytes b;
        put_elem(&b, type, v);
        add_raw(k, type, b);
    }
};

// A small valid model for tests and fuzz seeds: a "llama" vocabulary
// (<unk>, <s>, </s>, then `n_byte_tokens` byte tokens <0x00>.., then a few
// pieces spelt with U+2581) with scores and types, and with `with_tensors`
// one small tensor of each of F32, F16, Q8_0, TQ1_0, TQ2_0, I2_S and BF16
// (zero bytes except a recognisable first byte).
GgufWriter tiny_llama_writer(unsigned n_byte_tokens, bool with_tensors);

}  // namespace agm_test

#endif
