// Checks shared by the fuzz targets: a broken promise aborts (that is the
// finding libFuzzer reports; replay_main reports it too).
#ifndef AGM_FUZZ_UTIL_H
#define AGM_FUZZ_UTIL_H

#include <cstdlib>
#include <cstring>
#include <vector>

#include "agm/error.h"
#include "agm/tokenizer_section.h"
#include "agm/vocab.h"

namespace agm_fuzz {

inline void check(bool ok) {
    if (!ok) std::abort();
}

// A refusal says why in one non-empty line.
inline bool one_line(const agm::Error& e) { return e.msg[0] != 0 && std::strchr(e.msg, '\n') == nullptr; }

// What a vocabulary reader accepted serialises into a TOKENIZER section that
// the engine's section reader accepts (or the writer refuses it in one line).
inline void check_vocab_section(const agm::Vocab& v) {
    std::vector<uint8_t> sec;
    agm::Error err;
    if (!agm::serialize_tokenizer(v, &sec, &err)) {
        check(one_line(err));
        return;
    }
    std::vector<uint32_t> aligned((sec.size() + 3) / 4);
    std::memcpy(aligned.data(), sec.data(), sec.size());
    agm::TokenizerView view;
    check(agm::parse_tokenizer_section(reinterpret_cast<const uint8_t*>(aligned.data()), sec.size(), &view, &err));
    check(view.n_tokens == v.pieces.size());
}

}  // namespace agm_fuzz

#endif
