// libFuzzer target: Hugging Face tokenizer.json -> Vocab (agm/hf_tokenizer.h).
// A refusal must be one non-empty line; an accepted vocabulary must
// serialise into a TOKENIZER section that the section reader (the engine's
// validation) accepts.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/hf_tokenizer.h"
#include "agm/tokenizer_section.h"
#include "agm/vocab.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool one_line(const agm::Error& e) { return e.msg[0] != 0 && std::strchr(e.msg, '\n') == nullptr; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    agm::Vocab v;
    std::string kind;
    agm::Error err;
    if (!agm::vocab_from_tokenizer_json(data, size, &v, &kind, &err)) {
        check(one_line(err));
        return 0;
    }
    check(!v.pieces.empty() && !kind.empty());
    std::vector<uint8_t> sec;
    if (!agm::serialize_tokenizer(v, &sec, &err)) {
        check(one_line(err));
        return 0;
    }
    std::vector<uint32_t> aligned((sec.size() + 3) / 4);
    std::memcpy(aligned.data(), sec.data(), sec.size());
    agm::TokenizerView view;
    check(agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(aligned.data()), sec.size(), &view, &err));
    check(view.n_tokens == v.pieces.size());
    return 0;
}
