// Whole GGUF models from a test reference model (ref_model.h), in any of the
// tensor types and architectures the converter accepts, written with
// tests/gguf_writer.h the way llama.cpp and bitnet.cpp lay them out.
#ifndef AGM_TESTS_GGUF_MODEL_H
#define AGM_TESTS_GGUF_MODEL_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "ref_model.h"

namespace agm_test {

struct GgufModelSpec {
    std::string arch = "llama";              // general.architecture
    uint32_t ternary_type = agm::GGML_TQ2_0; // TQ1_0, TQ2_0, I2_S, or F16/F32/BF16 (ternary values)
    uint32_t embd_type = agm::GGML_F32;      // F32, F16, BF16, Q8_0, Q4_K, Q6_K
    uint32_t output_type = 0;                // the classifier's; 0: embd_type
    uint32_t norm_type = agm::GGML_F32;
    bool latent = false;                     // float matrices hold latent weights (absmean-quantised)
    bool vocab = true;                       // a "llama" (SentencePiece) vocabulary of vocab_size tokens
    uint32_t version = 3;
    std::string chat_template;               // tokenizer.chat_template ("" : not written)
};

// Adjusts *m so that it holds exactly what the file stores (f16 scales for
// TQ types, Q8_0-quantised embeddings, ...) and returns the GGUF image.
std::vector<uint8_t> write_gguf_model(RefModel* m, const GgufModelSpec& spec);

// The rounding make_ref_model needs for the spec's float and scale types.
RoundFn gguf_float_rounding(const GgufModelSpec& spec);
RoundFn gguf_scale_rounding(const GgufModelSpec& spec);

// The SentencePiece-style pieces of the test vocabulary (id order).
std::vector<std::string> test_vocab_pieces(uint32_t n);

}  // namespace agm_test

#endif
