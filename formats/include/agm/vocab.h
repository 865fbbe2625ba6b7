// The in-memory vocabulary that the tokenizer readers (llama2.c tokenizer.bin,
// SentencePiece tokenizer.model) produce and the file writer serialises into a
// TOKENIZER section. Converter-side only: the engine reads the section in
// place through agm::TokenizerView (tokenizer_section.h).
#ifndef AGM_VOCAB_H
#define AGM_VOCAB_H

#include <cstdint>
#include <string>
#include <vector>

#include "agm/error.h"
#include "agm/format.h"

namespace agm {

struct Vocab {
    uint32_t kind = AGM_TOKENIZER_SPM_BPE;  // agm_tokenizer_kind
    // SPM_BPE: piece bytes as the source spells them (U+2581 for a space when
    // ESCAPE_WS). BPE_BYTES: raw bytes (bpe_vocab_from_strings undoes GPT-2's
    // byte-to-unicode spelling of NORMAL tokens).
    std::vector<std::string> pieces;  // [n]
    std::vector<float> scores;        // [n] SPM_BPE: merge priority (higher merges first); BPE_BYTES: empty
    std::vector<uint8_t> types;       // [n] agm_token_type
    uint32_t flags = 0;               // agm_tokenizer_flag
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    // BPE_BYTES only:
    uint32_t pre_tokenizer = 0;          // agm_pre_tokenizer
    std::vector<agm_bpe_merge> merges;   // rank order; result = left's bytes + right's
};

// llama2.c tokenizer.bin: int32 max_token_length, then per token float score,
// int32 length, bytes. The file does not store the count: the model's vocab
// size is passed in. Types are inferred (0 <unk>, 1 <s>, 2 </s>, <0xNN> bytes),
// flags are ADD_DUMMY_PREFIX | BYTE_FALLBACK (the reference encoder's behaviour).
bool read_llama2c_tokenizer(const uint8_t* data, size_t size, uint32_t vocab_size,
                            Vocab* out, Error* err);

// SentencePiece ModelProto (tokenizer.model), parsed by our own protobuf reader.
// Only BPE models with the identity normalization rule are accepted.
bool read_spm_model(const uint8_t* data, size_t size, Vocab* out, Error* err);

// Checks a vocabulary (ids in range, sizes fit in 32 bits; BPE_BYTES: the
// merges as parse_tokenizer_section checks them, no pair twice) and
// serialises it as a TOKENIZER section body (agm_tokenizer_header ...).
bool serialize_tokenizer(const Vocab& vocab, std::vector<uint8_t>* out, Error* err);

// ---- Byte-level BPE (formats/src/bpe_vocab.cpp) ----

// GPT-2's byte-to-unicode alphabet: the code point that spells byte b (b
// itself for the printable bytes ! .. ~, U+00A1 .. U+00AC, U+00AE .. U+00FF;
// U+0100 + k for the k-th of the other 68 in byte order).
uint32_t gpt2_byte_to_unicode(uint8_t b);

// Undoes that spelling: the raw bytes of a string written in the alphabet.
// False if a character is outside it (or the UTF-8 is malformed).
bool gpt2_unicode_to_bytes(const std::string& spelled, std::string* raw);

// Fills pieces, types and merges of a BPE_BYTES vocabulary from the strings
// a GGUF (tokenizer.ggml.tokens / token_type / merges) or a tokenizer.json
// stores: NORMAL tokens are spelled in GPT-2's alphabet and are stored raw;
// every other type is kept as written (CONTROL and USER_DEFINED texts are
// raw already). A merge is "a b" (split at the first space after its first
// byte), its parts and their concatenation resolved among the spellings
// (lowest id on duplicates); a later merge of a pair already seen is
// dropped (the first rank wins). Fails naming the token or merge that does
// not fit. Does not touch kind, flags, special ids or the pre-tokenizer.
bool bpe_vocab_from_strings(const std::vector<std::string>& tokens, const std::vector<uint8_t>& types,
                            const std::vector<std::string>& merges, Vocab* out, Error* err);

// GGUF's tokenizer.ggml.pre name to agm_pre_tokenizer and the flags it
// implies ("gpt-2", "default": GPT2; "llama-bpe", "llama3", "llama-v3":
// LLAMA3 with IGNORE_MERGES; "falcon": FALCON). Unsupported naming the value
// otherwise.
bool bpe_pre_tokenizer_from_name(const std::string& name, uint32_t* pre, uint32_t* flags, Error* err);

}  // namespace agm

#endif
