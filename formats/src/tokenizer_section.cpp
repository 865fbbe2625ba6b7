// Validation of a TOKENIZER section read in place (layout in agm/format.h).
// Every size is checked in 64-bit arithmetic before any pointer is formed, so
// a hostile header cannot make an array reach past `size`.
#include <cstring>

#include "agm/tokenizer_section.h"

namespace agm {
namespace {

bool id_ok(int32_t id, uint32_t n) { return id == -1 || (id >= 0 && (uint32_t)id < n); }

// The parts both kinds share: special ids, types (and their padding), offsets.
bool check_common(const agm_tokenizer_header& h, const uint32_t* offsets, const uint8_t* types, Error* err) {
    const int32_t ids[4] = {h.bos_id, h.eos_id, h.unk_id, h.pad_id};
    const char* names[4] = {"BOS", "EOS", "unknown", "pad"};
    for (int i = 0; i < 4; i++)
        if (!id_ok(ids[i], h.n_tokens))
            return fail(err, "tokenizer section: %s id %d out of range (%u tokens)", names[i], (int)ids[i],
                        h.n_tokens);
    const uint64_t n = h.n_tokens;
    for (uint32_t i = 0; i < h.n_tokens; i++)
        if (types[i] < AGM_TOKEN_NORMAL || types[i] > AGM_TOKEN_BYTE)
            return fail(err, "tokenizer section: token %u has type %u", i, (unsigned)types[i]);
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
    return true;
}

void fill_common(const agm_tokenizer_header& h, TokenizerView* v) {
    v->kind = h.kind;
    v->n_tokens = h.n_tokens;
    v->flags = h.flags;
    v->bos_id = h.bos_id;
    v->eos_id = h.eos_id;
    v->unk_id = h.unk_id;
    v->pad_id = h.pad_id;
}

bool parse_spm(const uint8_t* data, size_t size, const agm_tokenizer_header& h, TokenizerView* out, Error* err) {
    const uint32_t known = AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_REMOVE_EXTRA_WS | AGM_TOK_ESCAPE_WS |
                           AGM_TOK_BYTE_FALLBACK | AGM_TOK_NO_BOS;
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
    const float* scores = (const float*)(data + scores_at);
    const uint32_t* offsets = (const uint32_t*)(data + offsets_at);
    const uint8_t* types = data + types_at;
    for (uint32_t i = 0; i < h.n_tokens; i++) {
        uint32_t bits;
        std::memcpy(&bits, &scores[i], 4);
        if ((bits & 0x7F800000u) == 0x7F800000u)  // exponent all ones: inf or NaN
            return fail(err, "tokenizer section: token %u has a non-finite score", i);
    }
    if (!check_common(h, offsets, types, err)) return false;
    TokenizerView v;
    fill_common(h, &v);
    v.scores = scores;
    v.offsets = offsets;
    v.types = types;
    v.text = (const char*)(data + text_at);
    *out = v;
    return true;
}

bool parse_bpe(const uint8_t* data, size_t size, const agm_tokenizer_header& h, TokenizerView* out, Error* err) {
    if (h.flags & ~(uint32_t)(AGM_TOK_IGNORE_MERGES | AGM_TOK_NO_BOS))
        return fail_as(err, ErrorKind::Unsupported, "tokenizer section: unknown flags 0x%x for byte-level BPE",
                       h.flags);
    const uint64_t bpe_at = sizeof(agm_tokenizer_header);
    if (size < bpe_at + sizeof(agm_bpe_header))
        return fail(err, "tokenizer section: %zu bytes, the byte-level BPE headers alone are %zu", size,
                    sizeof(agm_tokenizer_header) + sizeof(agm_bpe_header));
    agm_bpe_header b;
    std::memcpy(&b, data + bpe_at, sizeof b);
    if (b.pre_tokenizer < AGM_PRE_GPT2 || b.pre_tokenizer > AGM_PRE_FALCON)
        return fail_as(err, ErrorKind::Unsupported, "tokenizer section: unknown pre-tokenizer %u", b.pre_tokenizer);
    if (b.reserved[0] != 0 || b.reserved[1] != 0)
        return fail(err, "tokenizer section: nonzero reserved fields in the byte-level BPE header");
    const uint64_t n = h.n_tokens, m = b.n_merges;
    const uint64_t offsets_at = bpe_at + sizeof(agm_bpe_header);
    const uint64_t types_at = offsets_at + 4 * (n + 1);
    const uint64_t merges_at = types_at + ((n + 3) & ~(uint64_t)3);
    const uint64_t by_pair_at = merges_at + sizeof(agm_bpe_merge) * m;
    const uint64_t text_at = by_pair_at + 4 * m;
    const uint64_t end = text_at + h.text_bytes;  // < 2^38: no overflow
    if (end > (uint64_t)size)
        return fail(err, "tokenizer section: %u tokens, %u merges and %u text bytes need %llu bytes, section has %zu",
                    h.n_tokens, b.n_merges, h.text_bytes, (unsigned long long)end, size);
    const uint32_t* offsets = (const uint32_t*)(data + offsets_at);
    const uint8_t* types = data + types_at;
    const agm_bpe_merge* merges = (const agm_bpe_merge*)(data + merges_at);
    const uint32_t* by_pair = (const uint32_t*)(data + by_pair_at);
    const char* text = (const char*)(data + text_at);
    if (!check_common(h, offsets, types, err)) return false;
    // Each merge: ids in range, parts not empty, result = left + right. The
    // byte comparison costs at most AGM_BPE_MAX_MERGED_BYTES per merge.
    for (uint32_t r = 0; r < b.n_merges; r++) {
        const agm_bpe_merge& g = merges[r];
        if (g.left >= h.n_tokens || g.right >= h.n_tokens || g.result >= h.n_tokens)
            return fail(err, "tokenizer section: merge %u (%u + %u -> %u) names a token beyond %u", r, g.left,
                        g.right, g.result, h.n_tokens);
        const uint32_t ll = offsets[g.left + 1] - offsets[g.left];
        const uint32_t rl = offsets[g.right + 1] - offsets[g.right];
        const uint32_t xl = offsets[g.result + 1] - offsets[g.result];
        if (ll == 0 || rl == 0 || (uint64_t)ll + rl != xl || xl > AGM_BPE_MAX_MERGED_BYTES)
            return fail(err, "tokenizer section: merge %u: tokens of %u + %u bytes cannot make one of %u "
                        "(at most %u)", r, ll, rl, xl, AGM_BPE_MAX_MERGED_BYTES);
        const char* x = text + offsets[g.result];
        if (std::memcmp(x, text + offsets[g.left], ll) != 0 || std::memcmp(x + ll, text + offsets[g.right], rl) != 0)
            return fail(err, "tokenizer section: merge %u: token %u is not token %u followed by token %u", r,
                        g.result, g.left, g.right);
    }
    for (uint32_t i = 0; i < b.n_merges; i++) {
        if (by_pair[i] >= b.n_merges)
            return fail(err, "tokenizer section: pair index %u names merge %u of %u", i, by_pair[i], b.n_merges);
        if (i > 0) {
            const agm_bpe_merge& p = merges[by_pair[i - 1]];
            const agm_bpe_merge& q = merges[by_pair[i]];
            if (p.left > q.left || (p.left == q.left && p.right >= q.right))
                return fail(err, "tokenizer section: pair index not strictly increasing at %u "
                            "((%u, %u) then (%u, %u))", i, p.left, p.right, q.left, q.right);
        }
    }
    TokenizerView v;
    fill_common(h, &v);
    v.offsets = offsets;
    v.types = types;
    v.text = text;
    v.pre_tokenizer = b.pre_tokenizer;
    v.n_merges = b.n_merges;
    v.merges = merges;
    v.merges_by_pair = by_pair;
    *out = v;
    return true;
}

}  // namespace

bool parse_tokenizer_section(const uint8_t* data, size_t size, TokenizerView* out, Error* err) {
    if (data == nullptr) return fail(err, "tokenizer section: no data");
    if ((uintptr_t)data % 4 != 0) return fail(err, "tokenizer section: not 4-byte aligned");
    if (size < sizeof(agm_tokenizer_header))
        return fail(err, "tokenizer section: %zu bytes, the header alone is %zu", size,
                    sizeof(agm_tokenizer_header));
    agm_tokenizer_header h;
    std::memcpy(&h, data, sizeof h);
    if (h.kind != AGM_TOKENIZER_SPM_BPE && h.kind != AGM_TOKENIZER_BPE_BYTES)
        return fail_as(err, ErrorKind::Unsupported, "tokenizer section: unknown kind %u", h.kind);
    if (h.n_tokens == 0) return fail(err, "tokenizer section: 0 tokens");
    return h.kind == AGM_TOKENIZER_SPM_BPE ? parse_spm(data, size, h, out, err) : parse_bpe(data, size, h, out, err);
}

}  // namespace agm
