// The vocabulary of a GGUF file (its tokenizer.ggml.* metadata) as the
// Vocab the converter serialises into a TOKENIZER section (agm/vocab.h).
// Converter-side only.
#ifndef AGM_GGUF_VOCAB_H
#define AGM_GGUF_VOCAB_H

#include <string>

#include "agm/error.h"
#include "agm/gguf.h"
#include "agm/vocab.h"

namespace agm {

// Reads the vocabulary of a parsed GGUF. *kind receives the value of
// tokenizer.ggml.model (also when the model is refused), *out is written only
// on success.
//
// Supported: "llama" (SentencePiece BPE, as llama.cpp runs it):
//   tokenizer.ggml.tokens          string array    pieces (spaces spelt U+2581)
//   tokenizer.ggml.scores          f32 array       optional, default 0
//   tokenizer.ggml.token_type      int array       optional, default NORMAL (1);
//                                                  same numbers as agm_token_type
//   tokenizer.ggml.bos_token_id    u32             default 1 (if in range, else none)
//   tokenizer.ggml.eos_token_id    u32             default 2 (if in range, else none)
//   tokenizer.ggml.unknown_token_id u32            default 0
//   tokenizer.ggml.padding_token_id u32            default none
//   tokenizer.ggml.add_space_prefix bool           default true -> AGM_TOK_ADD_DUMMY_PREFIX
// Flags: AGM_TOK_ESCAPE_WS always (llama.cpp escapes spaces for this model),
// AGM_TOK_BYTE_FALLBACK when any token has type BYTE, never
// AGM_TOK_REMOVE_EXTRA_WS (llama.cpp's SentencePiece path does not collapse
// spaces, and GGUF has no key for it in this model).
//
// "gpt2" (byte-level BPE: GPT-2, LLaMA-3, Falcon, as llama.cpp runs them),
// a BPE_BYTES vocabulary (bpe_vocab_from_strings in agm/vocab.h):
//   tokenizer.ggml.tokens          string array    NORMAL tokens in GPT-2's byte alphabet
//   tokenizer.ggml.merges          string array    "a b", rank order (required)
//   tokenizer.ggml.token_type      int array       optional, default NORMAL
//   tokenizer.ggml.pre             string          "gpt-2", "default" (also when absent):
//                                                  GPT2; "llama-bpe", "llama3", "llama-v3":
//                                                  LLAMA3 + AGM_TOK_IGNORE_MERGES; "falcon":
//                                                  FALCON; anything else is refused
//   tokenizer.ggml.{bos,eos,unknown,padding}_token_id  u32   default none
//   tokenizer.ggml.add_space_prefix bool           must be false if present
// Any other model ("bert", "t5", ...) fails with ErrorKind::Unsupported
// naming the key and the value.
bool vocab_from_gguf(const GgufFile& f, Vocab* out, std::string* kind, Error* err);

}  // namespace agm

#endif
