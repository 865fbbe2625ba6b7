// libFuzzer target for the GBNF parser, the rule checks and the matcher
// (engine/src/grammar). The input is a grammar, optionally followed by a NUL
// byte and a text to match against it.
//
// Beyond "no crash, no hang, no undefined behaviour" it checks:
//   - a refusal is one non-empty line, and the size query agrees with init
//     about syntax errors;
//   - the size query is exact: one byte less gets AGM_ERR_BUFFER;
//   - the matcher either accepts a byte or leaves its state as it was (the
//     next byte is judged as if the refused one never came), and bytes it
//     reports as forced are accepted.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "agmodel.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool one_line(const agm_error& e) { return e.message[0] != 0 && std::strchr(e.message, '\n') == nullptr; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
    const size_t glen = nul != nullptr ? (size_t)(nul - data) : size;
    const char* text = reinterpret_cast<const char*>(data);
    const char* input = nul != nullptr ? reinterpret_cast<const char*>(nul + 1) : "";
    const size_t ilen = nul != nullptr ? size - glen - 1 : 0;

    agm_error e;
    size_t bytes = 0;
    const agm_status sq = agm_grammar_memory_size(nullptr, text, glen, nullptr, &bytes, &e);
    if (sq != AGM_OK) {
        check(one_line(e));
        return 0;
    }
    std::vector<uint64_t> arena(bytes / 8 + 2);
    agm_grammar* g = nullptr;
    check(agm_grammar_init(nullptr, text, glen, nullptr, arena.data(), bytes - 1, &g, &e) == AGM_ERR_BUFFER);
    const agm_status st = agm_grammar_init(nullptr, text, glen, nullptr, arena.data(), bytes, &g, &e);
    if (st != AGM_OK) {
        check(one_line(e));
        return 0;
    }
    size_t mb = 0;
    check(agm_matcher_memory_size(g, &mb, &e) == AGM_OK);
    std::vector<uint64_t> marena(mb / 8 + 2);
    agm_matcher* m = nullptr;
    if (agm_matcher_init(g, marena.data(), mb, &m, &e) != AGM_OK) {
        check(one_line(e));
        agm_grammar_free(g);
        return 0;
    }
    for (size_t i = 0; i < ilen; ++i) {
        const int complete = agm_matcher_is_complete(m);
        const agm_status a = agm_matcher_accept_bytes(m, input + i, 1, &e);
        if (a != AGM_OK) {
            check(one_line(e));
            check(agm_matcher_is_complete(m) == complete);  // unchanged
        }
    }
    char forced[64];
    size_t nf = 0;
    check(agm_matcher_forced_bytes(m, forced, sizeof forced, &nf, &e) == AGM_OK);
    if (nf > 0) check(agm_matcher_accept_bytes(m, forced, nf, &e) == AGM_OK || one_line(e));
    agm_matcher_free(m);
    agm_grammar_free(g);
    return 0;
}
