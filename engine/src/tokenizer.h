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

    // Bytes of the lookup index init_in() builds for view (8-aligned memory).
    static bool index_bytes(const TokenizerView& view, size_t* bytes, Error* err);

    // Bytes of the scratch encode() needs for a text of len bytes (8-aligned
    // memory). SPM_BPE: O(len), about 150 bytes per input byte on a 32-bit
    // target (symbols, merge queue); BPE_BYTES: 0 up to 32 bytes, then about
    // 44 bytes per byte (the longest pre-token can be the whole text).
    static size_t scratch_bytes(const TokenizerView& view, size_t len);

    // Builds the lookup index in index_mem (index_bytes() bytes) and keeps
    // scratch[scratch_size] for encode(): nothing is allocated, ever. The
    // view and both buffers must outlive the tokenizer.
    bool init_in(const TokenizerView& view, void* index_mem, void* scratch, size_t scratch_size, Error* err);

    // Convenience for tools and tests: the index on the heap (freed by the
    // destructor), and encode() allocates its scratch per call.
    bool init(const TokenizerView& view, Error* err);

    // Whether encode() of len bytes runs in the scratch given to init_in()
    // (always true after init(): it allocates).
    bool fits(size_t len) const { return owns_ || scratch_bytes(view_, len) <= scratch_size_; }

    // Encodes len bytes of text (any bytes). Writes at most cap ids to out and
    // the full count to *n_out. Fails (with a message) if cap is too small or
    // the text does not fit the scratch (fits()).
    bool encode(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap,
                size_t* n_out, Error* err) const;

    // Bytes of `token` when it follows `prev`. SPM_BPE: the leading space of
    // a piece after BOS is dropped, <0xNN> byte pieces become that byte,
    // U+2581 becomes a space when AGM_TOK_ESCAPE_WS. BPE_BYTES: the token's
    // bytes (<0xNN> BYTE pieces their byte). Writes at most cap bytes, returns
    // the full length; 0 for an id out of range or a control/unknown piece.
    size_t decode(int32_t prev, int32_t token, char* buf, size_t cap) const;

    uint32_t kind() const { return view_.kind; }

    // Bytes held: the lookup index and the scratch.
    size_t memory_bytes() const;

    const TokenizerView& view() const { return view_; }

private:
    static bool index_bytes_bpe(const TokenizerView& view, size_t* bytes, Error* err);
    static size_t scratch_bytes_bpe(size_t len);
    bool init_bpe(const TokenizerView& view, void* mem, size_t bytes, Error* err);
    bool encode_spm(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                    void* scratch, Error* err) const;
    bool encode_bpe(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                    void* scratch, Error* err) const;

    TokenizerView view_;
    // implementation-defined index storage
    void* index_ = nullptr;
    size_t index_bytes_ = 0;
    void* scratch_ = nullptr;   // [scratch_size_] encode's working memory (init_in)
    size_t scratch_size_ = 0;
    bool owns_ = false;         // init(): index_ is malloc'd, scratch per call
};

}  // namespace agm

#endif
