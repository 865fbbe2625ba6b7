// Hugging Face checkpoint input: a loaded HfCheckpoint (agm/hf_checkpoint.h)
// into an ImportModel (agm/import.h). Architectures, tensor names and dtypes
// are listed at the top of formats/src/convert_hf.cpp and in
// docs/formats.md; anything else is refused with the key and value or the
// tensor, dtype and shape.
#ifndef AGM_CONVERT_HF_H
#define AGM_CONVERT_HF_H

#include "agm/error.h"
#include "agm/hf_checkpoint.h"
#include "agm/import.h"

namespace agm {

struct HfImportOptions {
    // A LlamaForCausalLM checkpoint whose float matrices are latent BitNet
    // weights (quantised at conversion, absmean); without it such matrices
    // are refused, since quantising an ordinary model to ternary ruins it.
    bool bitnet_latent = false;
};

bool import_hf(const HfCheckpoint& ck, const HfImportOptions& options, ImportModel* out, Error* err);

}  // namespace agm

#endif
