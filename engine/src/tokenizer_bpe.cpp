// Byte-level BPE encoder and decoder over a BPE_BYTES TOKENIZER section,
// exact with llama.cpp's llm_tokenizer_bpe for GPT-2, LLaMA-3 and Falcon
// vocabularies (tests: its conformance vectors, a Perl oracle on the corpus):
//
// 1. Special tokens: every CONTROL and USER_DEFINED token with a non-empty
//    text is cut out of the input where it occurs, before anything else, in
//    llama.cpp's order (tokenizer_st_partition): the longest text first (ties:
//    the lower id), all its leftmost non-overlapping occurrences in each piece
//    of text still raw, then the next token in what remains. (llama.cpp does
//    this for USER_DEFINED always and for CONTROL with parse_special; we
//    always do both: agm_tokenize has no such switch.)
// 2. Each remaining piece is pre-tokenized (PreTokenizer) and
// 3. each pre-token is encoded alone: with AGM_TOK_IGNORE_MERGES a pre-token
//    that is a NORMAL token is that token; otherwise one symbol per byte (the
//    NORMAL token of that single byte: every byte has one in a byte-level
//    vocabulary, else unk, else an error), then repeatedly the adjacent pair
//    with the lowest merge rank (leftmost on ties) becomes the merge's
//    result, until no adjacent pair has a merge.
//
// Step 1 is a depth-first walk over (piece, first priority) frames, step 3 a
// binary heap of candidate pairs over a linked list of symbols (O(n log n));
// candidates go stale when a symbol changes, which the heap entry detects by
// the ids it recorded (a merged symbol is longer, so its id differs).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "pretokenize.h"
#include "tokenizer.h"

namespace agm {
namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr size_t kInlineWord = 128;   // pre-tokens up to this many bytes use stack scratch
constexpr size_t kInlineFrames = 32;  // special-token nesting on the stack

// The index: one block (the model arena, or malloc for init()), this header, then uint32 special[n_special]
// (the CONTROL/USER_DEFINED ids in matching order), then uint32
// slot[mask + 1] when AGM_TOK_IGNORE_MERGES (open addressing over the NORMAL
// tokens' bytes, linear probing, load <= 1/2; kNone is empty).
struct BpeIndex {
    int32_t byte_id[256];       // the NORMAL token of each single byte, -1 if none
    uint32_t n_special;
    uint32_t mask;              // slots - 1; 0 without the whole-token table
    uint8_t special_first[32];  // bitset: bytes that start a special token's text
    uint32_t* special() { return reinterpret_cast<uint32_t*>(this + 1); }
    const uint32_t* special() const { return reinterpret_cast<const uint32_t*>(this + 1); }
    uint32_t* slots() { return special() + n_special; }
    const uint32_t* slots() const { return special() + n_special; }
};

uint32_t hash_bytes(const uint8_t* p, size_t n) {
    uint32_t h = 2166136261u;  // FNV-1a, then an avalanche so the low bits mix
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

int32_t whole_token(const TokenizerView& v, const BpeIndex* ix, const uint8_t* p, size_t n) {
    const uint32_t* slot = ix->slots();
    for (uint32_t i = hash_bytes(p, n) & ix->mask;; i = (i + 1) & ix->mask) {
        const uint32_t id = slot[i];
        if (id == kNone) return -1;
        uint32_t len;
        const char* t = v.piece(id, &len);
        if (len == n && std::memcmp(t, p, n) == 0) return (int32_t)id;
    }
}

// The merge of (left, right): its rank (index into v.merges), kNone if none.
uint32_t find_merge(const TokenizerView& v, uint32_t left, uint32_t right) {
    size_t lo = 0, hi = v.n_merges;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const uint32_t r = v.merges_by_pair[mid];
        const agm_bpe_merge& g = v.merges[r];
        if (g.left == left && g.right == right) return r;
        if (g.left < left || (g.left == left && g.right < right)) lo = mid + 1;
        else hi = mid;
    }
    return kNone;
}

// A candidate merge of the symbol starting at byte `pos` (then holding token
// `lid`) with its right neighbour (then `rid`).
struct Cand {
    uint32_t rank, pos;
    int32_t lid, rid;
};

inline bool before(const Cand& a, const Cand& b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

struct Heap {
    Cand* p;
    size_t n;
    void push(const Cand& c) {  // capacity is sized by the caller (2 per byte)
        size_t i = n++;
        while (i > 0) {
            const size_t up = (i - 1) / 2;
            if (!before(c, p[up])) break;
            p[i] = p[up];
            i = up;
        }
        p[i] = c;
    }
    Cand pop() {
        const Cand top = p[0];
        const Cand last = p[--n];
        size_t i = 0;
        for (;;) {
            const size_t l = 2 * i + 1, r = l + 1;
            size_t best = kNone;
            if (l < n && before(p[l], last)) best = l;
            if (r < n && before(p[r], best == kNone ? last : p[l])) best = r;
            if (best == kNone) break;
            p[i] = p[best];
            i = best;
        }
        if (n > 0) p[i] = last;
        return top;
    }
};

// Writes ids up to cap, counts all of them.
struct Out {
    int32_t* p;
    size_t cap, n;
    void put(int32_t id) {
        if (n < cap) p[n] = id;
        n++;
    }
};

// Step 3 for one pre-token of n > 0 bytes. Scratch: int32 id[n], uint32
// next[n], uint32 prev[n], Cand heap[2n] (a merge pops one candidate and
// pushes at most two, so at most n - 1 + merges <= 2n are ever queued).
bool encode_word(const TokenizerView& v, const BpeIndex* ix, const uint8_t* w, size_t n, void* big, Out* o,
                 Error* err) {
    if (ix->mask != 0) {
        const int32_t id = whole_token(v, ix, w, n);
        if (id >= 0) {
            o->put(id);
            return true;
        }
    }
    int32_t id_inline[kInlineWord];
    uint32_t next_inline[kInlineWord], prev_inline[kInlineWord];
    Cand heap_inline[2 * kInlineWord];
    int32_t* id = id_inline;
    uint32_t *next = next_inline, *prev = prev_inline;
    Heap heap{heap_inline, 0};
    if (n > kInlineWord) {
        // big: [text bytes * kWordScratch] (scratch_bytes_bpe), n <= text bytes
        if (big == nullptr || n >= kNone)
            return fail_as(err, ErrorKind::NoMemory, "tokenizer: no scratch for a %zu-byte pre-token", n);
        heap.p = static_cast<Cand*>(big);  // Cand first: the scratch is 8-aligned
        id = reinterpret_cast<int32_t*>(heap.p + 2 * n);
        next = reinterpret_cast<uint32_t*>(id + n);
        prev = next + n;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t t = ix->byte_id[w[i]];
        if (t < 0) t = v.unk_id;
        if (t < 0) return fail(err, "tokenizer: byte 0x%02X has no token and the vocabulary no unknown token", w[i]);
        id[i] = t;
        next[i] = i + 1 < n ? (uint32_t)(i + 1) : kNone;
        prev[i] = i > 0 ? (uint32_t)(i - 1) : kNone;
    }
    auto consider = [&](uint32_t l) {
        if (l == kNone || next[l] == kNone) return;
        const uint32_t r = find_merge(v, (uint32_t)id[l], (uint32_t)id[next[l]]);
        if (r != kNone) heap.push(Cand{r, l, id[l], id[next[l]]});
    };
    for (size_t i = 0; i + 1 < n; i++) consider((uint32_t)i);
    while (heap.n > 0) {
        const Cand c = heap.pop();
        const uint32_t r = next[c.pos];
        if (id[c.pos] != c.lid || r == kNone || id[r] != c.rid) continue;  // stale
        id[c.pos] = (int32_t)v.merges[c.rank].result;
        id[r] = -1;  // absorbed (a dead symbol is never reached again: no list points at it)
        next[c.pos] = next[r];
        if (next[r] != kNone) prev[next[r]] = c.pos;
        consider(prev[c.pos]);
        consider(c.pos);
    }
    for (uint32_t i = 0; i != kNone; i = next[i]) o->put(id[i]);  // symbol 0 is never absorbed
    return true;
}

// Finds the first special token (in priority order, from k) that occurs in
// [b, e) of t: *k_out, its leftmost position *at. False if none does.
bool find_special(const TokenizerView& v, const BpeIndex* ix, const uint8_t* t, size_t b, size_t e, uint32_t k,
                  uint32_t* k_out, size_t* at) {
    bool any = false;  // a byte that starts some special token: most text has none
    for (size_t i = b; i < e && !any; i++) any = (ix->special_first[t[i] >> 3] >> (t[i] & 7)) & 1;
    if (!any) return false;
    for (; k < ix->n_special; k++) {
        uint32_t len;
        const uint8_t* s = reinterpret_cast<const uint8_t*>(v.piece(ix->special()[k], &len));
        if (len > e - b) continue;
        for (size_t i = b; i + len <= e; i++) {
            const void* hit = std::memchr(t + i, s[0], e - len + 1 - i);
            if (hit == nullptr) break;
            i = (size_t)(static_cast<const uint8_t*>(hit) - t);
            if (std::memcmp(t + i, s, len) == 0) {
                *k_out = k;
                *at = i;
                return true;
            }
        }
    }
    return false;
}

bool encode_raw(const TokenizerView& v, const BpeIndex* ix, const uint8_t* t, size_t len, void* big, Out* o,
                Error* err) {
    PreTokenizer pre(v.pre_tokenizer, t, len);
    size_t b, e;
    while (pre.next(&b, &e))
        if (!encode_word(v, ix, t + b, e - b, big, o, err)) return false;
    return true;
}

// Step 1's frame: "emit token `id`, then encode [b, e) looking for
// specials from priority k".
struct Frame {
    size_t b, e;
    uint32_t k;
    int32_t id;
};

// Scratch per byte of text for a pre-token longer than kInlineWord: int32
// id, uint32 next, uint32 prev and two Cand (encode_word).
constexpr size_t kWordScratch = 12 + 2 * sizeof(Cand);

}  // namespace

bool Tokenizer::index_bytes_bpe(const TokenizerView& view, size_t* bytes, Error* err) {
    if (view.n_tokens == 0 || view.offsets == nullptr || view.types == nullptr || view.text == nullptr ||
        (view.n_merges > 0 && (view.merges == nullptr || view.merges_by_pair == nullptr)))
        return fail_as(err, ErrorKind::Argument, "tokenizer: empty or unparsed vocabulary");
    if (view.n_tokens > (1u << 30)) return fail(err, "tokenizer: %u tokens is too many", view.n_tokens);
    uint32_t n_special = 0, n_normal = 0;
    for (uint32_t id = 0; id < view.n_tokens; id++) {
        uint32_t len;
        view.piece(id, &len);
        const uint8_t type = view.types[id];
        if ((type == AGM_TOKEN_CONTROL || type == AGM_TOKEN_USER_DEFINED) && len > 0) n_special++;
        if (type == AGM_TOKEN_NORMAL) n_normal++;
    }
    size_t slots = 0;
    if (view.flags & AGM_TOK_IGNORE_MERGES) {
        slots = 2;
        while (slots < 2 * (size_t)n_normal) slots *= 2;
    }
    *bytes = sizeof(BpeIndex) + 4 * ((size_t)n_special + slots);
    return true;
}

// Frames: each one is a special token found in the text (>= 1 byte), so at
// most len of them.
size_t Tokenizer::scratch_bytes_bpe(size_t len) {
    if (len > ((size_t)-1 - 64) / (kWordScratch + sizeof(Frame))) return (size_t)-1;
    const size_t word = len > kInlineWord ? (len * kWordScratch + 7) / 8 * 8 : 0;
    const size_t frames = len > kInlineFrames ? len * sizeof(Frame) : 0;
    return word + frames;
}

bool Tokenizer::init_bpe(const TokenizerView& view, void* mem, size_t bytes, Error* err) {
    (void)err;
    uint32_t n_special = 0;
    for (uint32_t id = 0; id < view.n_tokens; id++) {
        uint32_t len;
        view.piece(id, &len);
        const uint8_t type = view.types[id];
        if ((type == AGM_TOKEN_CONTROL || type == AGM_TOKEN_USER_DEFINED) && len > 0) n_special++;
    }
    const size_t slots = (bytes - sizeof(BpeIndex)) / 4 - n_special;
    BpeIndex* ix = static_cast<BpeIndex*>(mem);
    std::memset(ix, 0, sizeof *ix);
    for (int32_t& b : ix->byte_id) b = -1;
    ix->n_special = n_special;
    ix->mask = slots ? (uint32_t)(slots - 1) : 0;
    uint32_t* special = ix->special();
    uint32_t k = 0;
    for (uint32_t id = 0; id < view.n_tokens; id++) {
        uint32_t len;
        const uint8_t* p = reinterpret_cast<const uint8_t*>(view.piece(id, &len));
        const uint8_t type = view.types[id];
        if ((type == AGM_TOKEN_CONTROL || type == AGM_TOKEN_USER_DEFINED) && len > 0) {
            special[k++] = id;
            ix->special_first[p[0] >> 3] |= (uint8_t)(1u << (p[0] & 7));
        }
        if (type == AGM_TOKEN_NORMAL && len == 1 && ix->byte_id[p[0]] < 0) ix->byte_id[p[0]] = (int32_t)id;
    }
    // llama.cpp's order: longer texts first (its sort leaves ties unspecified; lower id here).
    std::sort(special, special + n_special, [&view](uint32_t a, uint32_t b) {
        const uint32_t la = view.offsets[a + 1] - view.offsets[a], lb = view.offsets[b + 1] - view.offsets[b];
        return la != lb ? la > lb : a < b;
    });
    if (slots) {
        uint32_t* slot = ix->slots();
        std::memset(slot, 0xFF, slots * 4);
        for (uint32_t id = 0; id < view.n_tokens; id++) {
            if (view.types[id] != AGM_TOKEN_NORMAL) continue;
            uint32_t len;
            const uint8_t* p = reinterpret_cast<const uint8_t*>(view.piece(id, &len));
            if (whole_token(view, ix, p, len) >= 0) continue;  // a duplicate: the lower id keeps it
            uint32_t i = hash_bytes(p, len) & ix->mask;
            while (slot[i] != kNone) i = (i + 1) & ix->mask;
            slot[i] = id;
        }
    }
    return true;
}

bool Tokenizer::encode_bpe(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                           void* scratch, Error* err) const {
    *n_out = 0;
    const BpeIndex* ix = static_cast<const BpeIndex*>(index_);
    const TokenizerView& v = view_;
    if (text == nullptr && len != 0) return fail_as(err, ErrorKind::Argument, "tokenizer: no text");
    if (out == nullptr && cap != 0) return fail_as(err, ErrorKind::Argument, "tokenizer: no output buffer");
    if (add_bos && v.bos_id < 0) return fail_as(err, ErrorKind::Argument, "tokenizer: the vocabulary has no BOS");
    const uint8_t* t = reinterpret_cast<const uint8_t*>(text);
    Out o{out, cap, 0};
    if (add_bos) o.put(v.bos_id);
    // scratch: [len * kWordScratch] long pre-tokens, then [len] frames
    // (scratch_bytes_bpe; each part only when the inline arrays are too small).
    uint8_t* sp = static_cast<uint8_t*>(scratch);
    void* big = len > kInlineWord ? sp : nullptr;
    if (len > kInlineWord) sp += (len * kWordScratch + 7) / 8 * 8;

    // Step 1, depth first: a frame is "emit token `id`, then encode [b, e)
    // looking for specials from priority k". The stack's k strictly
    // increase upwards, so it never holds more than n_special frames (nor
    // more than len: each is a special token's occurrence).
    Frame inline_frames[kInlineFrames];
    Frame* frames = len > kInlineFrames ? reinterpret_cast<Frame*>(sp) : inline_frames;
    size_t n_frames = 0;
    const size_t cap_frames = len > kInlineFrames ? len : kInlineFrames;
    size_t b = 0, e = len;
    uint32_t k = 0;
    for (;;) {
        uint32_t found;
        size_t at;
        if (find_special(v, ix, t, b, e, k, &found, &at)) {
            uint32_t slen;
            v.piece(ix->special()[found], &slen);
            if (n_frames == cap_frames)
                return fail_as(err, ErrorKind::NoMemory, "tokenizer: scratch bound exceeded (frames)");
            frames[n_frames++] = Frame{at + slen, e, found, (int32_t)ix->special()[found]};
            e = at;
            k = found + 1;
            continue;
        }
        if (!encode_raw(v, ix, t + b, e - b, big, &o, err)) return false;
        if (n_frames == 0) break;
        const Frame f = frames[--n_frames];
        o.put(f.id);
        b = f.b;
        e = f.e;
        k = f.k;
    }
    *n_out = o.n;
    if (o.n > cap)
        return fail_as(err, ErrorKind::Argument, "tokenizer: %zu tokens, the buffer holds %zu", o.n, cap);
    return true;
}

}  // namespace agm
