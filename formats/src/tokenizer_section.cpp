// Validation of a TOKENIZER section read in place (layout in agm/format.h).
// Every size is checked in 64-bit arithmetic before any pointer is formed, so
// a hostile header cannot make an array reach past `size`.
#include <cstring>

#include "agm/tokenizer_section.h"

namespace agm {
namespace {

bool id_ok(int32_t id, uint32_t n) { return id == -1 || (id >= 0 && (uint32_t)id < n); }

}  // namespace

bool parse_tokenizer_section(const uint8_t* data, size_t size, TokenizerView* out, Error* err) {
    if (data == nullptr) return fail(err, "tokenizer section: no data");
    if ((uintptr_t)data % 4 != 0) return fail(err, "tokenizer section: not 4-byte aligned");
    if (size < sizeof(agm_tokenizer_header))
        return fail(err, "tokenizer section: %zu bytes, the header alone is %zu", size,
                    sizeof(agm_tokenizer_header));
    agm_tokenizer_header h;
    std::memcpy(&h, data, sizeof h);
    if (h.kind != AGM_TOKENIZER_SPM_BPE)
        return fail_as(err, ErrorKind::Unsupported, "tokenizer section: unknown kind %u", h.kind);
    if (h.n_tokens == 0) return fail(err, "tokenizer section: 0 tokens");
    const uint32_t known = AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_REMOVE_EXTRA_WS | AGM_TOK_ESCAPE_WS |
                           AGM_TOK_BYTE_FALLBACK;
    if (h.flags & ~known)
        return fail_as(err, ErrorKind::Unsupported, "tokenizer section: unknown flags 0x%x", h.flags);
    const uint64_t n = h.n_tokens;
    const uint64_t scores_at = sizeof(agm_tokenizer_header);
    const uint64_t offsets_at = scores_at + 4 * n;
    const uint64_t types_at = offsets_at + 4 * (n + 1);
    const uint64_t text_at = types_at + ((n + 3) & ~(uint64_t)3);
    const uint64_t end = text_at + h.text_bytes;  // < 2^36: no overflow
    if (end > (uint64_t)size)
        return fail(err, "tokenizer section: %u tokens and %u text bytes need %llu bytes, section has %zu",
                    h.n_tokens, h.text_bytes, (unsigned long long)end, size);
    const int32_t ids[4] = {h.bos_id, h.eos_id, h.unk_id, h.pad_id};
    const char* names[4] = {"BOS", "EOS", "unknown", "pad"};
    for (int i = 0; i < 4; i++)
        if (!id_ok(ids[i], h.n_tokens))
            return fail(err, "tokenizer section: %s id %d out of range (%u tokens)", names[i], (int)ids[i],
                        h.n_tokens);

    const float* scores = (const float*)(data + scores_at);
    const uint32_t* offsets = (const uint32_t*)(data + offsets_at);
    const uint8_t* types = data + types_at;
    for (uint32_t i = 0; i < h.n_tokens; i++) {
        uint32_t bits;
        std::memcpy(&bits, &scores[i], 4);
        if ((bits & 0x7F800000u) == 0x7F800000u)  // exponent all ones: inf or NaN
            return fail(err, "tokenizer section: token %u has a non-finite score", i);
        if (types[i] < AGM_TOKEN_NORMAL || types[i] > AGM_TOKEN_BYTE)
            return fail(err, "tokenizer section: token %u has type %u", i, (unsigned)types[i]);
    }
    for (uint64_t i = n; i < ((n + 3) & ~(uint64_t)3); i++)
        if (types[i] != 0) return fail(err, "tokenizer section: nonzero padding after the types");
    if (offsets[0] != 0) return fail(err, "tokenizer section: first offset is %u, not 0", offsets[0]);
    for (uint32_t i = 0; i < h.n_tokens; i++)
        if (offsets[i + 1] < offsets[i] || offsets[i + 1] > h.text_bytes)
            return fail(err, "tokenizer section: token %u spans [%u, %u), text has %u bytes", i,
                        offsets[i], offsets[i + 1], h.text_bytes);
    if (offsets[h.n_tokens] != h.text_bytes)
        return fail(err, "tokenizer section: pieces end at %u, text has %u bytes", offsets[h.n_tokens],
                    h.text_bytes);

    TokenizerView v;
    v.n_tokens = h.n_tokens;
    v.flags = h.flags;
    v.bos_id = h.bos_id;
    v.eos_id = h.eos_id;
    v.unk_id = h.unk_id;
    v.pad_id = h.pad_id;
    v.scores = scores;
    v.offsets = offsets;
    v.types = types;
    v.text = (const char*)(data + text_at);
    *out = v;
    return true;
}

}  // namespace agm
