// Tokenizer helpers shared by the tests that run the engine's tokenizer over
// a Vocab (test_tokenizer.cpp: tokenizer.model / tokenizer.bin; test_gguf.cpp:
// GGUF metadata): the Vocab -> TOKENIZER section -> Tokenizer chain, and the
// llama.cpp conformance vectors of the Llama 2 32k vocabulary.
#ifndef AGM_TEST_TOK_UTIL_H
#define AGM_TEST_TOK_UTIL_H

#include <cstring>
#include <string>
#include <vector>

#include "agm/tokenizer_section.h"
#include "agm/vocab.h"
#include "doctest.h"
#include "test_util.h"
#include "tokenizer.h"

namespace agm_test {

inline std::vector<std::string> split(const std::string& s, const std::string& sep) {
    std::vector<std::string> out;
    size_t pos = 0;
    for (;;) {
        const size_t k = s.find(sep, pos);
        if (k == std::string::npos) {
            out.push_back(s.substr(pos));
            return out;
        }
        out.push_back(s.substr(pos, k - pos));
        pos = k + sep.size();
    }
}

// A vocabulary serialised into a section (uint32 storage: 4-byte aligned),
// parsed and indexed.
struct Tok {
    agm::Vocab vocab;
    std::vector<uint32_t> section;
    agm::TokenizerView view;
    agm::Tokenizer tok;

    std::vector<int32_t> encode(const std::string& s, bool bos = false) {
        std::vector<int32_t> ids(s.size() * 4 + 8);
        size_t n = 0;
        agm::Error err;
        const bool ok = tok.encode(s.data(), s.size(), bos, ids.data(), ids.size(), &n, &err);
        REQUIRE_MESSAGE(ok, err.msg);
        ids.resize(n);
        return ids;
    }
};

// t->vocab -> section -> view -> tokenizer.
inline bool build(Tok* t, agm::Error* err) {
    std::vector<uint8_t> bytes;
    if (!agm::serialize_tokenizer(t->vocab, &bytes, err)) return false;
    t->section.assign((bytes.size() + 3) / 4, 0);
    std::memcpy(t->section.data(), bytes.data(), bytes.size());
    return agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(t->section.data()), bytes.size(),
                                        &t->view, err) &&
           t->tok.init(t->view, err);
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
    std::string s;
    for (int32_t id : ids) s += " " + std::to_string(id);
    return s;
}

// llama.cpp's vectors for the Llama 2 32k vocabulary (shared/tokenizers/
// llama2-32k/vectors.inp/.out); prints "<what>: N/46 llama.cpp vectors agree".
inline void check_vectors(Tok* t, const char* what) {
    const std::string dir = shared_path("tokenizers/llama2-32k/");
    std::vector<std::string> inp = split(read_text(dir + "vectors.inp"), "\n__ggml_vocab_test__\n");
    std::vector<std::string> out = split(read_text(dir + "vectors.out"), "\n");
    // Both files end with their separator: drop the empty tail.
    REQUIRE(inp.back().empty());
    inp.pop_back();
    REQUIRE(out.back().empty());
    out.pop_back();
    REQUIRE(inp.size() == out.size());
    size_t pass = 0;
    for (size_t i = 0; i < inp.size(); i++) {
        const std::string got = ids_str(t->encode(inp[i]));
        if (got == out[i]) pass++;
        else
            FAIL_CHECK(std::string(what) << " vector " << i << ": got [" << got << "] want [" << out[i] << "]");
    }
    MESSAGE(std::string(what) << ": " << pass << "/" << inp.size() << " llama.cpp vectors agree");
    CHECK(pass == inp.size());
}

}  // namespace agm_test

#endif
