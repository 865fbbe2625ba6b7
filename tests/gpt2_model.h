// A random-weight model over the GPT-2 byte-level BPE vocabulary
// (../shared/tokenizers/gpt2-50k, llama.cpp's GGUF), for the tests of the
// byte-level paths: the shape is the caller's, the vocabulary the file's.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/synth.h"
#include "test_util.h"

namespace agm_test {

inline bool gpt2_test_model(agm::SynthConfig shape, std::vector<uint8_t>* file, std::string* why) {
    std::vector<uint8_t> g;
    if (!read_file(shared_path("tokenizers/gpt2-50k/ggml-vocab-gpt-2.gguf"), &g)) {
        *why = "cannot read the GPT-2 vocabulary (../shared/tokenizers/gpt2-50k)";
        return false;
    }
    agm::GgufFile f;
    agm::Error err;
    agm::Vocab v;
    std::string kind;
    if (!agm::parse_gguf(g.data(), g.size(), &f, &err) || !agm::vocab_from_gguf(f, &v, &kind, &err)) {
        *why = std::string("GPT-2 vocabulary: ") + err.msg;
        return false;
    }
    shape.vocab_size = (uint32_t)v.pieces.size();
    if (!agm::synth_model(shape, &v, file, &err)) {
        *why = std::string("synth: ") + err.msg;
        return false;
    }
    return true;
}

}  // namespace agm_test
