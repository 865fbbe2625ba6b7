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
#include "agm/vocab.h"
#include "fuzz_util.h"

using agm_fuzz::check;
using agm_fuzz::one_line;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    agm::Vocab v;
    std::string kind;
    agm::Error err;
    if (!agm::vocab_from_tokenizer_json(data, size, &v, &kind, &err)) {
        check(one_line(err));
        return 0;
    }
    check(!v.pieces.empty() && !kind.empty());
    agm_fuzz::check_vocab_section(v);
    return 0;
}
