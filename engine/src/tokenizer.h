// SentencePiece-style BPE tokenizer over a TOKENIZER section used in place.
//
// encode(): the SentencePiece BPE algorithm as llama2.c's encoder and
// SentencePiece's bpe_model implement it: optional whitespace normalisation
// (AGM_TOK_REMOVE_EXTRA_WS), a dummy-prefix space (AGM_TOK_ADD_DUMMY_PREFIX),
// spaces spelled U+2581 when AGM_TOK_ESCAPE_WS, one symbol per UTF-8
// character (user-defined pieces matched whole), then repeatedly the
// highest-scoring adjacent merge (leftmost on ties), then unknown symbols as
// <0xNN> byte tokens (AGM_TOK_BYTE_FALLBACK) or unk.
#ifndef AGM_ENGINE_TOKENIZER_H
#define AGM_ENGINE_TOKENIZER_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"
#include "agm/tokenizer_section.h"

namespace agm {

class Tokenizer {
public:
    Tokenizer() = default;
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Builds the piece lookup index (one allocation). The view must outlive
    // the tokenizer.
    bool init(const TokenizerView& view, Error* err);

    // Encodes len bytes of text. Writes at most cap ids to out and the full
    // count to *n_out. Fails (with a message) if cap is too small or memory
    // for the merge scratch cannot be had.
    bool encode(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap,
                size_t* n_out, Error* err) const;

    // Bytes of `token` when it follows `prev`: the leading space of a piece
    // after BOS is dropped, <0xNN> byte pieces become that byte, U+2581 becomes
    // a space when AGM_TOK_ESCAPE_WS. Writes at most cap bytes, returns the
    // full length; 0 for an id out of range or a control/unknown piece.
    size_t decode(int32_t prev, int32_t token, char* buf, size_t cap) const;

    // Heap bytes held (the lookup index).
    size_t memory_bytes() const;

    const TokenizerView& view() const { return view_; }

private:
    TokenizerView view_;
    // implementation-defined index storage
    void* index_ = nullptr;
    size_t index_bytes_ = 0;
};

}  // namespace agm

#endif
