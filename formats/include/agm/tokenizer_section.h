// A validated, zero-copy view of a TOKENIZER section inside a model file.
#ifndef AGM_TOKENIZER_SECTION_H
#define AGM_TOKENIZER_SECTION_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"
#include "agm/format.h"

namespace agm {

struct TokenizerView {
    uint32_t n_tokens = 0;
    uint32_t flags = 0;                 // agm_tokenizer_flag
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    const float* scores = nullptr;      // [n_tokens]
    const uint32_t* offsets = nullptr;  // [n_tokens + 1] into text
    const uint8_t* types = nullptr;     // [n_tokens] agm_token_type
    const char* text = nullptr;         // [offsets[n_tokens]] piece bytes

    const char* piece(uint32_t id, uint32_t* len) const {
        *len = offsets[id + 1] - offsets[id];
        return text + offsets[id];
    }
};

// Validates every size, offset, id and type of the section at `data` (which
// must be 4-byte aligned) and fills *out with pointers into it.
bool parse_tokenizer_section(const uint8_t* data, size_t size, TokenizerView* out, Error* err);

}  // namespace agm

#endif
