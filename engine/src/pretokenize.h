// Byte-level BPE pre-tokenizers (GPT-2, LLaMA-3, Falcon: the regexes are in
// agm/format.h, agm_pre_tokenizer) as hand-written scanners over UTF-8 text:
// no regex engine, no allocation, O(1) state. Each scanner is the regex's
// alternation tried in order at a position with Perl's backtracking worked
// out by hand (see pretokenize.cpp); tests/pretok_oracle.pl checks every
// split against Perl itself.
//
// Characters: UTF-8 is decoded by Unicode's table of well-formed sequences
// (no overlongs, no surrogates, nothing above U+10FFFF). A byte that does not
// start a well-formed sequence is one character on its own, of class OTHER
// (none of \s \p{L} \p{N} \p{P}); the pieces are byte ranges of the input,
// so such bytes stay what they were.
#ifndef AGM_ENGINE_PRETOKENIZE_H
#define AGM_ENGINE_PRETOKENIZE_H

#include <cstddef>
#include <cstdint>

namespace agm {

// The class (UnicodeClass of unicode_tables.h: 0 other, 1 letter, 2 number,
// 3 punctuation, 4 White_Space) of a code point; OTHER above U+10FFFF.
uint8_t unicode_class(uint32_t cp);

// The Unicode version the class table was generated from ("14.0.0").
const char* unicode_version();

// The character at s[i] (i < n): returns its length in bytes (1..4) and sets
// *cp, or returns 1 and sets *cp = kNotUtf8 for a byte that does not start a
// well-formed sequence.
constexpr uint32_t kNotUtf8 = 0xFFFFFFFFu;
size_t utf8_char(const uint8_t* s, size_t i, size_t n, uint32_t* cp);

// Splits text into pre-tokens, in order, covering it exactly.
//   PreTokenizer p(AGM_PRE_GPT2, text, len);
//   size_t b, e;
//   while (p.next(&b, &e)) ... [b, e) ...
class PreTokenizer {
public:
    // style: agm_pre_tokenizer (an unknown style yields the whole text as
    // one piece). text must outlive the iterator.
    PreTokenizer(uint32_t style, const uint8_t* text, size_t len);

    // The next piece, [*b, *e) with *b < *e; false after the last.
    bool next(size_t* b, size_t* e);

    // One regex's scanner on its own: the end of its match at pos within
    // [pos, end), or pos if it does not match there (exposed for tests).
    enum Regex : uint8_t {
        RX_GPT2,         // GPT-2's regex
        RX_GPT2_NO_TAIL, // the same without the final |\s+ (Falcon's second)
        RX_LLAMA3,       // LLaMA-3's regex
        RX_FALCON_PUNCT, // [\p{P}\$\+<=>\^~\|`]+
        RX_DIGITS3       // [0-9][0-9][0-9]
    };
    static size_t match(Regex rx, const uint8_t* s, size_t pos, size_t end);

private:
    // One regex splitting [pos, end): matches and the gaps between them.
    struct Level {
        Regex rx;
        size_t pos, end;
        size_t pend_b, pend_e;  // a match found after a gap, returned next
        bool pending;
        void reset(Regex r, size_t b, size_t e);
        bool next(const uint8_t* s, size_t* b, size_t* e);
    };
    const uint8_t* s_;
    Regex rx_[3];
    Level level_[3];
    int n_levels_ = 0;
    int depth_ = 0;  // levels in use
};

}  // namespace agm

#endif
