// A validated, zero-copy view of a TOKENIZER section inside a model file.
#ifndef AGM_TOKENIZER_SECTION_H
#define AGM_TOKENIZER_SECTION_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"
#include "agm/format.h"

namespace agm {

struct TokenizerView {
    uint32_t kind = 0;                  // agm_tokenizer_kind
    uint32_t n_tokens = 0;
    uint32_t flags = 0;                 // agm_tokenizer_flag
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    const float* scores = nullptr;      // [n_tokens] SPM_BPE only (null for BPE_BYTES)
    const uint32_t* offsets = nullptr;  // [n_tokens + 1] into text
    const uint8_t* types = nullptr;     // [n_tokens] agm_token_type
    const char* text = nullptr;         // [offsets[n_tokens]] piece bytes
    // BPE_BYTES only:
    uint32_t pre_tokenizer = 0;               // agm_pre_tokenizer
    uint32_t n_merges = 0;
    const agm_bpe_merge* merges = nullptr;    // [n_merges] rank order
    const uint32_t* merges_by_pair = nullptr; // [n_merges] merge indices by (left, right)

    const char* piece(uint32_t id, uint32_t* len) const {
        *len = offsets[id + 1] - offsets[id];
        return text + offsets[id];
    }
};

// Validates every size, offset, id and type of the section at `data` (which
// must be 4-byte aligned) and fills *out with pointers into it. BPE_BYTES
// also: the pre-tokenizer is known, every merge's ids are in range and its
// result is spelled left + right (at most AGM_BPE_MAX_MERGED_BYTES), by_pair
// is strictly increasing in (left, right) (so it is a permutation).
bool parse_tokenizer_section(const uint8_t* data, size_t size, TokenizerView* out, Error* err);

}  // namespace agm

#endif
