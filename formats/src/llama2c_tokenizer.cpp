// llama2.c tokenizer.bin reader.
//
// Layout (little-endian): int32 max_token_length, then for each of the
// vocab_size tokens: float32 score, int32 length, `length` piece bytes (any
// bytes; the file spells a space as ' ', not U+2581). The count is not stored,
// so the model's vocab size is passed in, and bytes left over after the last
// token mean the two disagree.
#include <cmath>
#include <cstring>

#include "agm/vocab.h"

namespace agm {
namespace {

uint32_t rd_u32(const uint8_t* p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// Exactly "<0xNN>" with NN two upper-case hex digits, the spelling of
// SentencePiece's byte pieces (and of the ids the reference's "+3" assumes).
bool is_byte_piece(const std::string& s) {
    if (s.size() != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return false;
    for (int i = 3; i < 5; i++) {
        const char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
    }
    return true;
}

}  // namespace

bool read_llama2c_tokenizer(const uint8_t* data, size_t size, uint32_t vocab_size,
                            Vocab* out, Error* err) {
    if (vocab_size == 0) return fail(err, "tokenizer.bin: vocab size 0");
    if (size < 4) return fail(err, "tokenizer.bin: %zu bytes, too short for its header", size);
    const int32_t max_len = (int32_t)rd_u32(data);
    if (max_len <= 0)
        return fail(err, "tokenizer.bin: max_token_length %d is not positive", (int)max_len);

    // Every entry takes at least 8 bytes (score, length): refuse a count the
    // file cannot hold before allocating for it.
    if ((uint64_t)vocab_size > (size - 4) / 8)
        return fail(err, "tokenizer.bin: %zu bytes cannot hold %u tokens", size, vocab_size);
    Vocab v;
    v.pieces.resize(vocab_size);
    v.scores.resize(vocab_size);
    v.types.resize(vocab_size);
    size_t pos = 4;
    for (uint32_t i = 0; i < vocab_size; i++) {
        if (size - pos < 8)
            return fail(err, "tokenizer.bin: truncated at token %u (offset %zu of %zu)", i, pos, size);
        uint32_t bits = rd_u32(data + pos);
        float score;
        std::memcpy(&score, &bits, 4);
        const int32_t len = (int32_t)rd_u32(data + pos + 4);
        pos += 8;
        if (!std::isfinite(score))
            return fail(err, "tokenizer.bin: token %u has a non-finite score", i);
        if (len < 0 || len > max_len)
            return fail(err, "tokenizer.bin: token %u has length %d, max_token_length is %d", i,
                        (int)len, (int)max_len);
        if ((size_t)len > size - pos)
            return fail(err, "tokenizer.bin: token %u (%d bytes at offset %zu) runs past the end (%zu)",
                        i, (int)len, pos, size);
        v.pieces[i].assign((const char*)data + pos, (size_t)len);
        v.scores[i] = score;
        pos += (size_t)len;
        // The reference hard-codes 0 = unknown, 1 = BOS, 2 = EOS (whatever they
        // are spelled; llama2.c's export writes "\n<s>\n").
        if (i == 0) v.types[i] = AGM_TOKEN_UNKNOWN;
        else if (i <= 2) v.types[i] = AGM_TOKEN_CONTROL;
        else if (is_byte_piece(v.pieces[i])) v.types[i] = AGM_TOKEN_BYTE;
        else v.types[i] = AGM_TOKEN_NORMAL;
    }
    if (pos != size)
        return fail(err, "tokenizer.bin: %zu bytes left after %u tokens: wrong vocab size?", size - pos,
                    vocab_size);
    v.flags = AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_BYTE_FALLBACK;
    v.unk_id = 0;
    v.bos_id = vocab_size > 1 ? 1 : -1;
    v.eos_id = vocab_size > 2 ? 2 : -1;
    v.pad_id = -1;
    *out = std::move(v);
    return true;
}

}  // namespace agm
