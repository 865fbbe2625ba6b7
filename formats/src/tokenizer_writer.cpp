// Serialises a Vocab as a TOKENIZER section body (layout in agm/format.h),
// either kind.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "agm/vocab.h"

namespace agm {
namespace {

void put_u32(std::vector<uint8_t>* o, size_t at, uint32_t v) {
    uint8_t* p = o->data() + at;
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

// uint32 offset[n + 1] into the text, then uint8 type[n] padded to
// types_bytes, from `at`; returns where the next part starts. Both kinds.
size_t put_offsets_and_types(std::vector<uint8_t>* out, size_t at, const Vocab& v, size_t types_bytes) {
    const size_t n = v.pieces.size();
    uint32_t off = 0;
    for (size_t i = 0; i < n; i++, at += 4) {
        put_u32(out, at, off);
        off += (uint32_t)v.pieces[i].size();
    }
    put_u32(out, at, off);
    at += 4;
    for (size_t i = 0; i < n; i++) (*out)[at + i] = v.types[i];
    return at + types_bytes;
}

// The pieces' bytes back to back from `at` (the text blob ends the section).
void put_text(std::vector<uint8_t>* out, size_t at, const Vocab& v) {
    for (const std::string& p : v.pieces) {
        if (!p.empty()) std::memcpy(out->data() + at, p.data(), p.size());
        at += p.size();
    }
}

// The agm_tokenizer_header both kinds start with.
void put_header(std::vector<uint8_t>* out, uint32_t kind, const Vocab& v, uint32_t text_bytes) {
    put_u32(out, 0, kind);
    put_u32(out, 4, (uint32_t)v.pieces.size());
    put_u32(out, 8, v.flags);
    put_u32(out, 12, (uint32_t)v.bos_id);
    put_u32(out, 16, (uint32_t)v.eos_id);
    put_u32(out, 20, (uint32_t)v.unk_id);
    put_u32(out, 24, (uint32_t)v.pad_id);
    put_u32(out, 28, text_bytes);
}

bool check_id(int32_t id, size_t n, const char* what, Error* err) {
    if (id < -1 || (id >= 0 && (size_t)id >= n))
        return fail(err, "tokenizer: %s id %d out of range (vocab %zu)", what, (int)id, n);
    return true;
}

bool serialize_bpe(const Vocab& v, std::vector<uint8_t>* out, Error* err);

}  // namespace

bool serialize_tokenizer(const Vocab& v, std::vector<uint8_t>* out, Error* err) {
    if (v.kind == AGM_TOKENIZER_BPE_BYTES) return serialize_bpe(v, out, err);
    if (v.kind != AGM_TOKENIZER_SPM_BPE) return fail(err, "tokenizer: unknown kind %u", (unsigned)v.kind);
    const size_t n = v.pieces.size();
    if (n == 0) return fail(err, "tokenizer: empty vocabulary");
    if (v.scores.size() != n || v.types.size() != n)
        return fail(err, "tokenizer: %zu pieces but %zu scores and %zu types", n, v.scores.size(),
                    v.types.size());
    // Every array must be addressable with 32-bit offsets: n + 1 offsets.
    if (n > (size_t)UINT32_MAX / 8) return fail(err, "tokenizer: %zu tokens is too many", n);
    if (v.flags & ~(uint32_t)(AGM_TOK_ADD_DUMMY_PREFIX | AGM_TOK_REMOVE_EXTRA_WS | AGM_TOK_ESCAPE_WS |
                              AGM_TOK_BYTE_FALLBACK))
        return fail(err, "tokenizer: unknown flags 0x%x", (unsigned)v.flags);
    if (!check_id(v.bos_id, n, "BOS", err) || !check_id(v.eos_id, n, "EOS", err) ||
        !check_id(v.unk_id, n, "unknown", err) || !check_id(v.pad_id, n, "pad", err))
        return false;
    uint64_t text = 0;
    for (size_t i = 0; i < n; i++) {
        if (v.types[i] < AGM_TOKEN_NORMAL || v.types[i] > AGM_TOKEN_BYTE)
            return fail(err, "tokenizer: token %zu has type %u", i, (unsigned)v.types[i]);
        if (!std::isfinite(v.scores[i]))
            return fail(err, "tokenizer: token %zu has a non-finite score", i);
        text += v.pieces[i].size();
        if (text > UINT32_MAX) return fail(err, "tokenizer: piece text exceeds 4 GiB");
    }
    const size_t types_bytes = (n + 3) & ~(size_t)3;
    const uint64_t total = sizeof(agm_tokenizer_header) + 4 * (uint64_t)n + 4 * ((uint64_t)n + 1) +
                           types_bytes + text;
    if (total > UINT32_MAX) return fail(err, "tokenizer: section of %llu bytes is too large",
                                        (unsigned long long)total);
    out->assign((size_t)total, 0);

    put_header(out, AGM_TOKENIZER_SPM_BPE, v, (uint32_t)text);
    size_t at = sizeof(agm_tokenizer_header);
    for (size_t i = 0; i < n; i++, at += 4) {
        uint32_t bits;
        std::memcpy(&bits, &v.scores[i], 4);
        put_u32(out, at, bits);
    }
    at = put_offsets_and_types(out, at, v, types_bytes);
    put_text(out, at, v);
    return true;
}

namespace {

// BPE_BYTES: header, agm_bpe_header, offsets, types, merges, by_pair, text.
bool serialize_bpe(const Vocab& v, std::vector<uint8_t>* out, Error* err) {
    const size_t n = v.pieces.size(), m = v.merges.size();
    if (n == 0) return fail(err, "tokenizer: empty vocabulary");
    if (v.types.size() != n || !v.scores.empty())
        return fail(err, "tokenizer: byte-level BPE with %zu pieces needs %zu types (has %zu) and no scores (has %zu)",
                    n, n, v.types.size(), v.scores.size());
    if (n > (size_t)UINT32_MAX / 8 || m > (size_t)UINT32_MAX / 16)
        return fail(err, "tokenizer: %zu tokens and %zu merges is too many", n, m);
    if (v.flags & ~(uint32_t)(AGM_TOK_IGNORE_MERGES | AGM_TOK_NO_BOS))
        return fail(err, "tokenizer: flags 0x%x are not for byte-level BPE", (unsigned)v.flags);
    if (v.pre_tokenizer < AGM_PRE_GPT2 || v.pre_tokenizer > AGM_PRE_FALCON)
        return fail(err, "tokenizer: unknown pre-tokenizer %u", (unsigned)v.pre_tokenizer);
    if (!check_id(v.bos_id, n, "BOS", err) || !check_id(v.eos_id, n, "EOS", err) ||
        !check_id(v.unk_id, n, "unknown", err) || !check_id(v.pad_id, n, "pad", err))
        return false;
    uint64_t text = 0;
    for (size_t i = 0; i < n; i++) {
        if (v.types[i] < AGM_TOKEN_NORMAL || v.types[i] > AGM_TOKEN_BYTE)
            return fail(err, "tokenizer: token %zu has type %u", i, (unsigned)v.types[i]);
        text += v.pieces[i].size();
        if (text > UINT32_MAX) return fail(err, "tokenizer: piece text exceeds 4 GiB");
    }
    for (size_t r = 0; r < m; r++) {
        const agm_bpe_merge& g = v.merges[r];
        if (g.left >= n || g.right >= n || g.result >= n)
            return fail(err, "tokenizer: merge %zu names a token beyond %zu", r, n);
        const std::string &a = v.pieces[g.left], &b = v.pieces[g.right], &x = v.pieces[g.result];
        if (a.empty() || b.empty() || x.size() > AGM_BPE_MAX_MERGED_BYTES || x != a + b)
            return fail(err, "tokenizer: merge %zu: token %u is not token %u followed by token %u (or longer "
                        "than %u bytes)", r, g.result, g.left, g.right, AGM_BPE_MAX_MERGED_BYTES);
    }
    std::vector<uint32_t> by_pair(m);
    for (size_t r = 0; r < m; r++) by_pair[r] = (uint32_t)r;
    std::sort(by_pair.begin(), by_pair.end(), [&v](uint32_t p, uint32_t q) {
        const agm_bpe_merge &a = v.merges[p], &b = v.merges[q];
        return a.left != b.left ? a.left < b.left : a.right != b.right ? a.right < b.right : p < q;
    });
    for (size_t i = 1; i < m; i++) {
        const agm_bpe_merge &a = v.merges[by_pair[i - 1]], &b = v.merges[by_pair[i]];
        if (a.left == b.left && a.right == b.right)
            return fail(err, "tokenizer: merges %u and %u join the same pair (%u, %u)", by_pair[i - 1],
                        by_pair[i], a.left, a.right);
    }
    const size_t types_bytes = (n + 3) & ~(size_t)3;
    const uint64_t total = sizeof(agm_tokenizer_header) + sizeof(agm_bpe_header) + 4 * ((uint64_t)n + 1) +
                           types_bytes + (sizeof(agm_bpe_merge) + 4) * (uint64_t)m + text;
    if (total > UINT32_MAX)
        return fail(err, "tokenizer: section of %llu bytes is too large", (unsigned long long)total);
    out->assign((size_t)total, 0);
    put_header(out, AGM_TOKENIZER_BPE_BYTES, v, (uint32_t)text);
    put_u32(out, 32, v.pre_tokenizer);
    put_u32(out, 36, (uint32_t)m);  // 40, 44: reserved, zero
    size_t at = sizeof(agm_tokenizer_header) + sizeof(agm_bpe_header);
    at = put_offsets_and_types(out, at, v, types_bytes);
    for (size_t r = 0; r < m; r++, at += 12) {
        put_u32(out, at, v.merges[r].left);
        put_u32(out, at + 4, v.merges[r].right);
        put_u32(out, at + 8, v.merges[r].result);
    }
    for (size_t i = 0; i < m; i++, at += 4) put_u32(out, at, by_pair[i]);
    put_text(out, at, v);
    return true;
}

}  // namespace

}  // namespace agm
