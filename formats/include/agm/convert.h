// Conversion of input formats into the native file, shared by agmodel-convert
// and the tests. Each input format has one function that validates the whole
// input and builds the complete file image in memory; writing it (atomically)
// is the caller's job.
#ifndef AGM_CONVERT_H
#define AGM_CONVERT_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/ak42.h"
#include "agm/error.h"
#include "agm/vocab.h"

namespace agm {

// Reads a tokenizer file, recognised from its content: a llama2.c
// tokenizer.bin (which must hold exactly `vocab_size` entries) or a
// SentencePiece tokenizer.model. *kind names what was found.
bool load_tokenizer_file(const std::string& path, uint32_t vocab_size, Vocab* vocab,
                         std::string* kind, Error* err);

// Builds a native file from an ak42 checkpoint image, its ternary matrices
// packed as `ternary_type` (AGM_TYPE_T2_B128 or AGM_TYPE_TL5_R4), its
// embedding and classifier as `embedding_type` (AGM_TYPE_F32, exact,
// AGM_TYPE_Q4_B32 or AGM_TYPE_TL5_R4S). vocab may be null (a file without tokenizer); tok_kind
// and source_name go into the metadata.
bool convert_ak42(const uint8_t* data, size_t size, BitOrder order, uint32_t ternary_type,
                  uint32_t embedding_type, const Vocab* vocab,
                  const std::string& tok_kind, const std::string& source_name,
                  std::vector<uint8_t>* out, Error* err);

}  // namespace agm

#endif
