// Vocabulary from GGUF metadata (agm/gguf_vocab.h). One function per
// tokenizer model; vocab_from_gguf() dispatches on tokenizer.ggml.model.
#include <cinttypes>
#include <cmath>

#include "agm/gguf_vocab.h"
#include "agm/printable.h"

namespace agm {
namespace {

// An id key: absent -> `def` if it is a valid id, else -1; present -> must be
// a valid id.
bool read_id(const GgufFile& f, const char* key, int64_t def, size_t n, int32_t* out, Error* err) {
    uint32_t id = 0;
    if (f.find(key) == nullptr) {
        *out = (def >= 0 && (uint64_t)def < n) ? (int32_t)def : -1;
        return true;
    }
    if (!f.get_u32(key, &id, false, err)) return false;
    if (id >= n) return fail(err, "gguf: %s = %" PRIu32 " is out of range (%zu tokens)", key, id, n);
    *out = (int32_t)id;
    return true;
}

// tokenizer.ggml.model = "llama": SentencePiece BPE.
bool vocab_llama(const GgufFile& f, Vocab* out, Error* err) {
    Vocab v;
    if (!f.get_string_array("tokenizer.ggml.tokens", &v.pieces, false, err)) return false;
    const size_t n = v.pieces.size();
    if (n == 0) return fail(err, "gguf: tokenizer.ggml.tokens is empty");
    if (n > (size_t)INT32_MAX) return fail(err, "gguf: tokenizer.ggml.tokens has %zu tokens, too many", n);

    if (f.find("tokenizer.ggml.scores") != nullptr) {
        if (!f.get_f32_array("tokenizer.ggml.scores", &v.scores, false, err)) return false;
        if (v.scores.size() != n)
            return fail(err, "gguf: tokenizer.ggml.scores has %zu entries, tokenizer.ggml.tokens %zu",
                        v.scores.size(), n);
        for (size_t i = 0; i < n; i++)
            if (!std::isfinite(v.scores[i]))
                return fail(err, "gguf: tokenizer.ggml.scores[%zu] is not finite", i);
    } else {
        v.scores.assign(n, 0.0f);
    }

    std::vector<int32_t> types;
    if (f.find("tokenizer.ggml.token_type") != nullptr) {
        if (!f.get_i32_array("tokenizer.ggml.token_type", &types, false, err)) return false;
        if (types.size() != n)
            return fail(err, "gguf: tokenizer.ggml.token_type has %zu entries, tokenizer.ggml.tokens %zu",
                        types.size(), n);
    } else {
        types.assign(n, AGM_TOKEN_NORMAL);
    }
    v.types.resize(n);
    bool byte_tokens = false;
    for (size_t i = 0; i < n; i++) {
        if (types[i] < AGM_TOKEN_NORMAL || types[i] > AGM_TOKEN_BYTE)
            return fail(err, "gguf: tokenizer.ggml.token_type[%zu] is %" PRId32 " (must be 1..6)", i, types[i]);
        v.types[i] = (uint8_t)types[i];
        byte_tokens |= types[i] == AGM_TOKEN_BYTE;
    }

    // llama.cpp's defaults for a SentencePiece vocabulary: unk 0, BOS 1, EOS 2.
    if (!read_id(f, "tokenizer.ggml.bos_token_id", 1, n, &v.bos_id, err) ||
        !read_id(f, "tokenizer.ggml.eos_token_id", 2, n, &v.eos_id, err) ||
        !read_id(f, "tokenizer.ggml.unknown_token_id", 0, n, &v.unk_id, err) ||
        !read_id(f, "tokenizer.ggml.padding_token_id", -1, n, &v.pad_id, err))
        return false;

    bool space_prefix = true;
    if (!f.get_bool("tokenizer.ggml.add_space_prefix", &space_prefix, true, err)) return false;
    v.flags = AGM_TOK_ESCAPE_WS;
    if (space_prefix) v.flags |= AGM_TOK_ADD_DUMMY_PREFIX;
    if (byte_tokens) v.flags |= AGM_TOK_BYTE_FALLBACK;
    bool add_bos = true;  // llama.cpp's default for SentencePiece vocabularies
    if (!f.get_bool("tokenizer.ggml.add_bos_token", &add_bos, true, err)) return false;
    if (!add_bos) v.flags |= AGM_TOK_NO_BOS;
    *out = std::move(v);
    return true;
}

// A string from the file, safe for a one-line message.
std::string shown(const std::string& s) { return printable_text(s, 40); }

// tokenizer.ggml.model = "gpt2": byte-level BPE (GPT-2, LLaMA-3, Falcon...).
bool vocab_gpt2(const GgufFile& f, Vocab* out, Error* err) {
    std::vector<std::string> tokens, merges;
    if (!f.get_string_array("tokenizer.ggml.tokens", &tokens, false, err)) return false;
    const size_t n = tokens.size();
    if (n == 0) return fail(err, "gguf: tokenizer.ggml.tokens is empty");
    if (n > (size_t)INT32_MAX) return fail(err, "gguf: tokenizer.ggml.tokens has %zu tokens, too many", n);
    if (!f.get_string_array("tokenizer.ggml.merges", &merges, false, err)) return false;
    std::vector<uint8_t> types(n, AGM_TOKEN_NORMAL);
    if (f.find("tokenizer.ggml.token_type") != nullptr) {
        std::vector<int32_t> t;
        if (!f.get_i32_array("tokenizer.ggml.token_type", &t, false, err)) return false;
        if (t.size() != n)
            return fail(err, "gguf: tokenizer.ggml.token_type has %zu entries, tokenizer.ggml.tokens %zu", t.size(), n);
        for (size_t i = 0; i < n; i++) {
            if (t[i] < AGM_TOKEN_NORMAL || t[i] > AGM_TOKEN_BYTE)
                return fail(err, "gguf: tokenizer.ggml.token_type[%zu] is %" PRId32 " (must be 1..6)", i, t[i]);
            types[i] = (uint8_t)t[i];
        }
    }
    // llama.cpp reads a missing tokenizer.ggml.pre as "default".
    std::string pre_name = "default";
    if (!f.get_string("tokenizer.ggml.pre", &pre_name, true, err)) return false;
    Vocab v;
    v.kind = AGM_TOKENIZER_BPE_BYTES;
    if (!bpe_pre_tokenizer_from_name(pre_name, &v.pre_tokenizer, &v.flags, err)) {
        return fail_as(err, ErrorKind::Unsupported,
                       "gguf: tokenizer.ggml.pre = \"%s\": this pre-tokenizer is not supported (gpt-2, "
                       "llama-bpe, llama3, llama-v3, falcon; \"default\", also meant by a missing key, is "
                       "llama.cpp's own four-regex sequence)",
                       shown(pre_name).c_str());
    }
    bool space_prefix = false;
    if (!f.get_bool("tokenizer.ggml.add_space_prefix", &space_prefix, true, err)) return false;
    if (space_prefix)
        return fail_as(err, ErrorKind::Unsupported,
                       "gguf: tokenizer.ggml.add_space_prefix = true is not supported for a \"gpt2\" tokenizer");
    if (!bpe_vocab_from_strings(tokens, types, merges, &v, err)) return false;
    // Absent ids are none (llama.cpp would default BOS and EOS to 11, Falcon's
    // <|endoftext|>, which in another vocabulary is an ordinary token).
    if (!read_id(f, "tokenizer.ggml.bos_token_id", -1, n, &v.bos_id, err) ||
        !read_id(f, "tokenizer.ggml.eos_token_id", -1, n, &v.eos_id, err) ||
        !read_id(f, "tokenizer.ggml.unknown_token_id", -1, n, &v.unk_id, err) ||
        !read_id(f, "tokenizer.ggml.padding_token_id", -1, n, &v.pad_id, err))
        return false;
    // BOS only when the file asks for it (GPT-2 takes none; LLaMA-3 GGUFs say true).
    bool add_bos = false;
    if (!f.get_bool("tokenizer.ggml.add_bos_token", &add_bos, true, err)) return false;
    if (!add_bos || v.bos_id < 0) v.flags |= AGM_TOK_NO_BOS;
    *out = std::move(v);
    return true;
}

}  // namespace

bool vocab_from_gguf(const GgufFile& f, Vocab* out, std::string* kind, Error* err) {
    std::string model;
    if (!f.get_string("tokenizer.ggml.model", &model, false, err)) return false;
    if (kind) *kind = model;
    if (model == "llama") return vocab_llama(f, out, err);
    if (model == "gpt2") return vocab_gpt2(f, out, err);
    return fail_as(err, ErrorKind::Unsupported,
                   "gguf: tokenizer.ggml.model = \"%s\": this tokenizer model is not supported yet (only "
                   "\"llama\", SentencePiece BPE, and \"gpt2\", byte-level BPE)",
                   shown(model).c_str());
}

}  // namespace agm
