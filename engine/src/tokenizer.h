// The engine's tokenizer over a TOKENIZER section used in place, one class
// for both kinds (agm/format.h):
//
// SPM_BPE (tokenizer.cpp): the SentencePiece BPE algorithm as llama2.c's
// encoder and SentencePiece's bpe_model implement it: optional whitespace
// normalisation (AGM_TOK_REMOVE_EXTRA_WS), a dummy-prefix space
// (AGM_TOK_ADD_DUMMY_PREFIX), spaces spelled U+2581 when AGM_TOK_ESCAPE_WS,
// one symbol per UTF-8 character (user-defined pieces matched whole), then
// repeatedly the highest-scoring adjacent merge (leftmost on ties), then
// unknown symbols as <0xNN> byte tokens (AGM_TOK_BYTE_FALLBACK) or unk.
//
// BPE_BYTES (tokenizer_bpe.cpp): byte-level BPE as llama.cpp runs GPT-2,
// LLaMA-3 and Falcon vocabularies: CONTROL and USER_DEFINED tokens cut out of
// the text whole (longest first), the rest pre-tokenized (pretokenize.h),
// each pre-token's bytes merged by rank (lowest first, leftmost on ties).
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

    // Builds the lookup index (one allocation). The view must outlive the
    // tokenizer.
    bool init(const TokenizerView& view, Error* err);

    // Encodes len bytes of text (any bytes). Writes at most cap ids to out and
    // the full count to *n_out. Fails (with a message) if cap is too small or
    // memory for the scratch cannot be had. Scratch: SPM_BPE allocates
    // O(len) per call; BPE_BYTES allocates nothing unless a pre-token is
    // longer than 128 bytes (then 44 bytes per byte of the longest such one)
    // or more than 32 special tokens nest (24 bytes each beyond), freed
    // before it returns.
    bool encode(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap,
                size_t* n_out, Error* err) const;

    // Bytes of `token` when it follows `prev`. SPM_BPE: the leading space of
    // a piece after BOS is dropped, <0xNN> byte pieces become that byte,
    // U+2581 becomes a space when AGM_TOK_ESCAPE_WS. BPE_BYTES: the token's
    // bytes (<0xNN> BYTE pieces their byte). Writes at most cap bytes, returns
    // the full length; 0 for an id out of range or a control/unknown piece.
    size_t decode(int32_t prev, int32_t token, char* buf, size_t cap) const;

    uint32_t kind() const { return view_.kind; }

    // Heap bytes held (the lookup index).
    size_t memory_bytes() const;

    const TokenizerView& view() const { return view_; }

private:
    bool init_bpe(const TokenizerView& view, Error* err);
    bool encode_bpe(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                    Error* err) const;

    TokenizerView view_;
    // implementation-defined index storage
    void* index_ = nullptr;
    size_t index_bytes_ = 0;
};

}  // namespace agm

#endif
