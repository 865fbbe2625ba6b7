// A Hugging Face checkpoint directory, as the converter reads it:
//   config.json                      the model's configuration (required)
//   model.safetensors                one file holding every tensor, or
//   model.safetensors.index.json     {"metadata": {"total_size": N},
//                                     "weight_map": {tensor name: shard file}}
//   model-00001-of-00002.safetensors ... the shards the index names
//   tokenizer.json                   (not read here; see tokenizer_json_path())
// When both model.safetensors and the index exist, model.safetensors is used
// (as transformers does).
//
// load_hf_checkpoint() validates before returning: config.json is strict
// JSON with an object at the top; each safetensors file passes
// parse_safetensors(); for a sharded checkpoint, the index's weight_map is a
// non-empty object of strings, each shard name is a plain file name (not
// empty, no '/', '\', ".." or NUL), every shard it names exists and holds
// exactly the tensors mapped to it, and no tensor is in two shards. The
// files are mapped read-only and stay mapped for the lifetime of the
// HfCheckpoint; every tensor pointer stays valid until then (the files must
// not be truncated meanwhile: a mapped page past the end would fault).
#ifndef AGM_HF_CHECKPOINT_H
#define AGM_HF_CHECKPOINT_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agm/error.h"
#include "agm/json.h"
#include "agm/safetensors.h"

namespace agm {

// model.safetensors.index.json, parsed and checked on its own.
struct HfIndex {
    std::vector<std::pair<std::string, std::string>> weight_map;  // tensor -> shard, file order
    std::vector<std::string> shards;  // distinct shard names, in order of first mention
    bool has_total_size = false;      // metadata.total_size present (not checked against the
    uint64_t total_size = 0;          // tensors: writers do not agree on what it counts)
};

// Parses an index file's contents. Messages start with "index: " (the caller
// adds the path).
bool parse_hf_index(const uint8_t* data, size_t size, HfIndex* out, Error* err);

// True if `name` is acceptable as a shard file name (see the top of this file).
bool hf_shard_name_ok(const std::string& name);

// One safetensors file of a checkpoint, mapped read-only.
struct HfShard {
    std::string file_name;  // "model.safetensors" or the name in the index
    std::string path;       // dir + "/" + file_name
    const uint8_t* bytes = nullptr;  // the whole file
    uint64_t size = 0;
    SafetensorsFile st;  // points into bytes

    HfShard() = default;
    ~HfShard();
    HfShard(const HfShard&) = delete;
    HfShard& operator=(const HfShard&) = delete;

    // Maps `path` (sets bytes/size); fails with the path and errno text.
    bool map(Error* err);

private:
    void* map_ = nullptr;
    size_t map_size_ = 0;
};

struct HfTensorRef {
    const SafetensorsTensor* tensor = nullptr;
    uint32_t shard = 0;  // index into HfCheckpoint::shards
};

// Move-only (the config DOM and the shard mappings are owned).
struct HfCheckpoint {
    std::string dir;
    JsonValue config;   // config.json; an object
    bool sharded = false;
    HfIndex index;      // sharded only
    std::vector<std::unique_ptr<HfShard>> shards;  // one when not sharded
    std::vector<HfTensorRef> tensors;  // every tensor of every shard, ordered by name

    // dir + "/tokenizer.json" (its existence is not checked).
    std::string tokenizer_json_path() const;
    // A tensor by exact name, over all shards; nullptr if absent.
    const SafetensorsTensor* find(const std::string& name) const;
    // The file a tensor (found through find()) lives in; nullptr if it is
    // not one of this checkpoint's.
    const HfShard* shard_of(const SafetensorsTensor* t) const;
};

// Loads and validates a checkpoint directory (see the top of this file).
// Messages name the file: "<dir>/model-00002-of-00002.safetensors:
// safetensors: tensor \"x\": ...".
bool load_hf_checkpoint(const std::string& dir, HfCheckpoint* out, Error* err);

}  // namespace agm

#endif
