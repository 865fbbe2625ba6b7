// The in-memory vocabulary that the tokenizer readers (llama2.c tokenizer.bin,
// SentencePiece tokenizer.model) produce and the file writer serialises into a
// TOKENIZER section. Converter-side only: the engine reads the section in
// place through agm::TokenizerView (tokenizer_section.h).
#ifndef AGM_VOCAB_H
#define AGM_VOCAB_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"
#include "agm/format.h"

namespace agm {

struct Vocab {
    std::vector<std::string> pieces;  // [n] piece bytes, as the source spells them
    std::vector<float> scores;        // [n] merge priority (higher merges first)
    std::vector<uint8_t> types;       // [n] agm_token_type
    uint32_t flags = 0;               // agm_tokenizer_flag
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
};

// llama2.c tokenizer.bin: int32 max_token_length, then per token float score,
// int32 length, bytes. The file does not store the count: the model's vocab
// size is passed in. Types are inferred (0 <unk>, 1 <s>, 2 </s>, <0xNN> bytes),
// flags are ADD_DUMMY_PREFIX | BYTE_FALLBACK (the reference encoder's behaviour).
bool read_llama2c_tokenizer(const uint8_t* data, size_t size, uint32_t vocab_size,
                            Vocab* out, Error* err);

// SentencePiece ModelProto (tokenizer.model), parsed by our own protobuf reader.
// Only BPE models with the identity normalization rule are accepted.
bool read_spm_model(const uint8_t* data, size_t size, Vocab* out, Error* err);

// Checks a vocabulary (ids in range, sizes fit in 32 bits) and serialises it
// as a TOKENIZER section body (agm_tokenizer_header ...).
bool serialize_tokenizer(const Vocab& vocab, std::vector<uint8_t>* out, Error* err);

}  // namespace agm

#endif
