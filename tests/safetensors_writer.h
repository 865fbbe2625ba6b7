// Test-side builders of safetensors images and Hugging Face checkpoint
// directories, with knobs for breaking them. Independent of the readers in
// formats/ (they share nothing but the spec), so a reader bug cannot hide
// behind a matching writer bug.
//
// A well-formed file: an 8-byte little-endian header size N, N bytes of JSON
// padded with spaces to a multiple of StOptions::header_align, then every
// tensor's bytes back to back in the order given. Every knob defaults to
// "well-formed"; set one to break exactly one thing.
//
// Example: a tiny BitNet-style checkpoint with packed ternary weights, for an
// end-to-end conversion test (what the packing and the names must be is the
// converter's business; this only writes what it is given):
//
//   agm_test::TempDir tmp;
//   agm_test::HfDirSpec spec;
//   spec.config_json = R"({"architectures": ["BitNetForCausalLM"],
//       "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
//       "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 4,
//       "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "tie_word_embeddings": true})";
//   spec.tensors.push_back(agm_test::st_floats("model.embed_tokens.weight", "BF16",
//                                              {4, 8}, embedding_values));  // 32 floats
//   spec.tensors.push_back(agm_test::st_raw("model.layers.0.self_attn.q_proj.weight", "U8",
//                                           {2, 8}, packed_bytes));  // 8x8 ternary, 4 per byte
//   spec.tensors.push_back(agm_test::st_floats("model.layers.0.self_attn.q_proj.weight_scale",
//                                              "BF16", {1}, {0.5f}));
//   spec.n_shards = 2;  // index + model-00001-of-00002.safetensors, model-00002-of-00002...
//   std::string why;
//   REQUIRE(agm_test::write_hf_dir(tmp.path + "/ckpt", spec, &why));
//   // ... agm::load_hf_checkpoint(tmp.path + "/ckpt", ...) or run the converter on it.
#ifndef AGM_TEST_SAFETENSORS_WRITER_H
#define AGM_TEST_SAFETENSORS_WRITER_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace agm_test {

// One tensor to write.
struct StTensor {
    std::string name;
    std::string dtype;             // written as is ("F32", "U8", ... or anything, to break)
    std::vector<uint64_t> shape;   // outermost first; empty = scalar
    std::vector<uint8_t> bytes;    // the element data, little-endian, row-major

    // Knobs; the empty/zero default writes the computed, well-formed value.
    std::string shape_json;    // replaces the shape array's text, e.g. "[2,-1]"
    std::string offsets_json;  // replaces "[begin,end]", e.g. "[0,99999]"
    std::string extra_json;    // extra members at the end of the entry, e.g. "\"x\":1"
    std::string entry_json;    // replaces the entry's whole value, e.g. "42"
    uint64_t gap_before = 0;   // zero bytes no tensor references, inserted before this data
};

// A float tensor stored as dtype "F32", "F16" or "BF16" (rounded to nearest
// even; NaN stays NaN). values.size() should equal the shape's product; it
// is not checked, so a mismatch is another way to break a file.
StTensor st_floats(const std::string& name, const std::string& dtype, std::vector<uint64_t> shape,
                   const std::vector<float>& values);

// A tensor from raw bytes with any dtype name (U8 packed ternary, I8, ...).
StTensor st_raw(const std::string& name, const std::string& dtype, std::vector<uint64_t> shape,
                std::vector<uint8_t> bytes);

// IEEE binary32 -> binary16 / bfloat16, round to nearest even.
uint16_t f32_to_f16_rne(float f);
uint16_t f32_to_bf16_rne(float f);

// Options for a whole file.
struct StOptions {
    // "__metadata__" members (string to string), written first when non-empty.
    std::vector<std::pair<std::string, std::string>> metadata;
    std::string metadata_json;   // replaces the "__metadata__" value verbatim, e.g. "{\"a\":1}"
    uint32_t header_align = 8;   // pad the JSON with spaces to a multiple of this (1: none)
    std::string extra_members;   // extra top-level members, verbatim, e.g. "\"x\":{}"
    std::string header_json;     // replaces the whole header text (then no padding)
    bool set_header_size = false;
    uint64_t header_size = 0;    // with set_header_size: written as N instead of the real size
    bool data_reversed = false;  // lay the data out in reverse order of the header entries
    std::vector<uint8_t> trailing;  // bytes after the last tensor (an unreferenced range)
};

// The header text build_safetensors() would write (before padding).
std::string safetensors_header_json(const std::vector<StTensor>& tensors, const StOptions& opt);

// A whole safetensors image.
std::vector<uint8_t> build_safetensors(const std::vector<StTensor>& tensors,
                                       const StOptions& opt = StOptions());

// "model-00001-of-00003.safetensors" for i = 1, n = 3 (1-based, as transformers names them).
std::string shard_file_name(uint32_t i, uint32_t n);

// A checkpoint directory.
struct HfDirSpec {
    bool write_config = true;
    std::string config_json = "{}";  // config.json, verbatim
    std::vector<StTensor> tensors;
    uint32_t n_shards = 0;           // 0: one model.safetensors; n >= 1: index + n shard files
    std::vector<uint32_t> shard_of;  // 0-based shard of each tensor; empty: contiguous split
    StOptions file_options;          // applied to every safetensors file written
    bool write_index = true;         // sharded: write model.safetensors.index.json
    std::string index_json;          // replaces the index text verbatim
    bool total_size = true;          // sharded: write metadata.total_size (sum of tensor bytes)
    // Extra weight_map entries (tensor, shard file), after the real ones.
    std::vector<std::pair<std::string, std::string>> extra_weight_map;
    // Tensors left out of the weight_map (by name).
    std::vector<std::string> unlisted;
    std::vector<uint32_t> omit_shards;  // 0-based shards whose file is not written
    std::string tokenizer_json;         // tokenizer.json, written when non-empty
};

// Creates `dir` (one level; it may exist) and writes the files. Returns false
// with *why set if a file cannot be written.
bool write_hf_dir(const std::string& dir, const HfDirSpec& spec, std::string* why);

// Writes bytes to a file; false on any failure.
bool write_file(const std::string& path, const void* data, size_t size);
inline bool write_file(const std::string& path, const std::string& text) {
    return write_file(path, text.data(), text.size());
}

// A fresh directory under $TMPDIR (default /tmp), removed with everything in
// it when the object dies.
struct TempDir {
    std::string path;
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace agm_test

#endif
