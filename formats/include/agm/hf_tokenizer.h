// Hugging Face tokenizer.json -> Vocab: byte-level BPE (GPT-2 and LLaMA-3
// pre-tokenization) and SentencePiece-style BPE with byte fallback. What is
// accepted and refused is listed at the top of formats/src/hf_tokenizer.cpp.
#ifndef AGM_HF_TOKENIZER_H
#define AGM_HF_TOKENIZER_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "agm/error.h"
#include "agm/vocab.h"

namespace agm {

// Parses tokenizer.json's text; *kind says what was found (for metadata).
bool vocab_from_tokenizer_json(const uint8_t* data, size_t size, Vocab* out, std::string* kind, Error* err);

// Reads and parses a tokenizer.json file (messages name the path).
bool load_tokenizer_json(const std::string& path, Vocab* out, std::string* kind, Error* err);

}  // namespace agm

#endif
