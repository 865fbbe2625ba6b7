// GGUF input: a parsed GgufFile (agm/gguf.h) into an ImportModel
// (agm/import.h). Architectures, keys and tensor types are listed at the top
// of formats/src/convert_gguf.cpp and in docs/formats.md; anything else is
// refused with the key and value or the tensor and type.
#ifndef AGM_CONVERT_GGUF_H
#define AGM_CONVERT_GGUF_H

#include <cstdint>

#include "agm/error.h"
#include "agm/gguf.h"
#include "agm/import.h"

namespace agm {

struct GgufImportOptions {
    // 0: the architecture's RoPE layout (llama: interleaved pairs; bitnet*:
    // halves); AGM_ROPE_INTERLEAVED or AGM_ROPE_HALVES overrides it, for
    // files whose converter permuted Q and K differently.
    uint32_t rope_layout = 0;
};

bool import_gguf(const GgufFile& f, const GgufImportOptions& options, ImportModel* out, Error* err);

}  // namespace agm

#endif
