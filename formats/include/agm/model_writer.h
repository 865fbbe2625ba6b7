// Builds a native model file in memory and writes it atomically. Used by the
// converters and by tests that need hand-made (or deliberately broken) files.
#ifndef AGM_MODEL_WRITER_H
#define AGM_MODEL_WRITER_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"
#include "agm/format.h"
#include "agm/model_file.h"

namespace agm {

class ModelWriter {
public:
    void set_u32(uint16_t key, uint32_t value);
    void set_f32(uint16_t key, float value);
    // Every CONFIG key of c, in key order (what the converters and the
    // synthetic models write; head_dim explicit).
    void set_config(const ModelConfig& c);
    void set_tokenizer(std::vector<uint8_t> section);  // from serialize_tokenizer
    void add_metadata(const std::string& key, const std::string& value);
    void set_chat_template(const std::string& text);  // the CHAT_TEMPLATE section ("" : none)
    // Takes `data` as the tensor's bytes; its size must match type and shape.
    bool add_tensor(const std::string& name, uint32_t type, std::vector<uint32_t> shape,
                    float scale, std::vector<uint8_t> data, Error* err);
    // Lays out header, sections and aligned tensors, computes the checksum.
    bool finish(std::vector<uint8_t>* out, Error* err) const;

private:
    struct Tensor {
        std::string name;
        uint32_t type;
        std::vector<uint32_t> shape;
        float scale;
        std::vector<uint8_t> data;
    };
    std::vector<agm_config_entry> config_;
    std::vector<uint8_t> tokenizer_;
    std::string metadata_;
    std::string chat_template_;
    std::vector<Tensor> tensors_;
};

// Writes `size` bytes to `path` so that the file either appears complete or
// not at all: a temporary file in the same directory, fsync, then rename.
// On failure the temporary is removed and an existing `path` is untouched.
bool write_file_atomic(const std::string& path, const uint8_t* data, size_t size, Error* err);

}  // namespace agm

#endif
