// SentencePiece-style BPE encoder and decoder over a TOKENIZER section (the
// SPM_BPE kind; tokenizer_bpe.cpp has byte-level BPE).
//
// Two exactness targets, chosen by AGM_TOK_ESCAPE_WS:
//  - with it (a vocabulary from tokenizer.model): SentencePiece's own encoder
//    (normalizer with the identity rule, then bpe_model's merge loop, then
//    re-splitting of UNUSED pieces and byte fallback of unknown symbols);
//  - without it (a vocabulary from llama2.c's tokenizer.bin): llama2.c's
//    encode(): symbols are cut by its UTF-8 rule, unknown symbols become byte
//    tokens BEFORE merging, and merges look up the concatenated piece strings
//    among all pieces (whatever their type), taking only scores > -1e10.
// Both merge "the highest score, leftmost on ties" until nothing merges. We do
// it with a binary heap of candidate adjacent pairs over a linked list of
// symbols (O(n log n)) instead of rescanning the sequence per merge (O(n^2)):
// the heap's top is the same pair the rescan would pick, because every live
// adjacent pair that forms a piece is in the heap and symbol indices keep the
// text order, so "smaller left index" is "leftmost".
#include "tokenizer.h"

#include <cstdlib>
#include <cstring>

namespace agm {
namespace {

constexpr uint32_t kFree = 0xFFFFFFFFu;
constexpr size_t kNone = (size_t)-1;

// The index: one block (the model arena, or malloc for init()), this header then uint32 slot[mask + 1]
// (open addressing, linear probing, load <= 1/2; a slot holds a token id).
struct Index {
    int32_t byte_id[256];   // id of the piece "<0xNN>", -1 if absent
    uint32_t mask;          // slots - 1
    uint32_t max_len;       // longest piece, bytes
    uint32_t max_user_len;  // longest USER_DEFINED piece (0: none)
    uint32_t pad;
    uint32_t* slots() { return reinterpret_cast<uint32_t*>(this + 1); }
    const uint32_t* slots() const { return reinterpret_cast<const uint32_t*>(this + 1); }
};

// FNV-1a over the concatenation a|b, then a final avalanche so that the low
// bits (the slot) depend on every byte.
uint32_t hash2(const char* a, size_t alen, const char* b, size_t blen) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < alen; i++) h = (h ^ (uint8_t)a[i]) * 16777619u;
    for (size_t i = 0; i < blen; i++) h = (h ^ (uint8_t)b[i]) * 16777619u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h;
}

// Id of the piece spelled a|b (any type), -1 if none. Duplicated spellings
// resolve to the lowest id.
int32_t lookup2(const TokenizerView& v, const Index* ix, const char* a, size_t alen, const char* b,
                size_t blen) {
    if (alen > ix->max_len || blen > ix->max_len - alen) return -1;
    const size_t len = alen + blen;
    const uint32_t* slot = ix->slots();
    for (uint32_t i = hash2(a, alen, b, blen) & ix->mask;; i = (i + 1) & ix->mask) {
        const uint32_t id = slot[i];
        if (id == kFree) return -1;
        uint32_t plen;
        const char* p = v.piece(id, &plen);
        if (plen == len && std::memcmp(p, a, alen) == 0 && std::memcmp(p + alen, b, blen) == 0)
            return (int32_t)id;
    }
}

int32_t lookup(const TokenizerView& v, const Index* ix, const char* s, size_t len) {
    return lookup2(v, ix, s, len, s, 0);
}

// An array of trivially copyable T of fixed capacity, carved out of the
// encoder's scratch: a push beyond the capacity is a false return (the
// capacities are upper bounds proved where they are set, so it never is).
template <class T>
struct Vec {
    T* p = nullptr;
    size_t n = 0, cap = 0;
    bool push(const T& x) {
        if (n == cap) return false;
        p[n++] = x;
        return true;
    }
};

// Lays arrays out one after the other, 8-aligned, from base (nullptr: only
// counts the bytes).
struct Carver {
    uint8_t* base;
    size_t at = 0;
    template <class T>
    void take(Vec<T>* v, size_t count) {
        v->p = base ? reinterpret_cast<T*>(base + at) : nullptr;
        v->n = 0;
        v->cap = count;
        at += (count * sizeof(T) + 7) / 8 * 8;
    }
};

// One symbol of the text being merged: a doubly linked list in text order.
struct Sym {
    const char* s;  // [len] bytes (spm: inside the normalised text; llama2.c: a piece)
    size_t prev, next;  // kNone at the ends
    uint32_t len;
    uint32_t gen;   // bumped on every change, so stale heap entries are recognised
    int32_t id;     // llama2.c: the token; spm: the user-defined piece if frozen
    uint8_t frozen; // spm user-defined symbol: never merged
    uint8_t dead;   // absorbed into its left neighbour
};

// A candidate merge of symbols left and left's next.
struct Pair {
    float score;
    int32_t id;  // the merged piece
    uint32_t gen_l, gen_r;
    size_t left, right;
};

// How an UNUSED piece was last formed (spm), for re-splitting it.
struct Rev {
    int32_t id;
    uint32_t left_len;
};

// A piece of the normalised text still to be emitted.
struct Seg {
    const char* s;
    size_t len;
};

// The SPM encoder's scratch for a text of len bytes. Bounds: every input
// byte yields at most one symbol (a space escaped to 3 bytes, a malformed
// byte replaced by U+FFFD and a multi-byte character are one symbol each;
// llama2.c's byte fallback is one symbol per normalised byte) plus the dummy
// prefix: syms <= len + 1. The heap gets sym - 1 pairs, then at most 2 per
// merge (merges <= syms - 1): < 3 * syms pushes, and rev as many. A piece
// re-split depth-first holds at most its length + 1 segments on the stack.
struct SpmScratch {
    Vec<char> norm;  // [3 * len + 3] the normalised text
    Vec<Sym> sym;    // [len + 2]
    Vec<Pair> heap;  // [3 * (len + 2)]
    Vec<Rev> rev;    // [3 * (len + 2)]
    Vec<Seg> stack;  // [3 * len + 5]
};

size_t spm_carve(uint8_t* base, size_t len, SpmScratch* x) {
    Carver c{base};
    const size_t syms = len + 2;
    c.take(&x->norm, 3 * len + 3);
    c.take(&x->sym, syms);
    c.take(&x->heap, 3 * syms);
    c.take(&x->rev, 3 * syms);
    c.take(&x->stack, 3 * len + 5);
    return c.at;
}

// Heap order: higher score first, then the leftmost.
bool before(const Pair& a, const Pair& b) {
    return a.score > b.score || (a.score == b.score && a.left < b.left);
}

bool heap_push(Vec<Pair>* h, const Pair& x) {
    if (!h->push(x)) return false;
    size_t i = h->n - 1;
    while (i > 0) {
        const size_t up = (i - 1) / 2;
        if (!before(h->p[i], h->p[up])) break;
        const Pair t = h->p[i];
        h->p[i] = h->p[up];
        h->p[up] = t;
        i = up;
    }
    return true;
}

Pair heap_pop(Vec<Pair>* h) {
    const Pair top = h->p[0];
    h->p[0] = h->p[--h->n];
    size_t i = 0;
    for (;;) {
        const size_t l = 2 * i + 1, r = l + 1;
        size_t best = i;
        if (l < h->n && before(h->p[l], h->p[best])) best = l;
        if (r < h->n && before(h->p[r], h->p[best])) best = r;
        if (best == i) break;
        const Pair t = h->p[i];
        h->p[i] = h->p[best];
        h->p[best] = t;
        i = best;
    }
    return top;
}

// Length of the well-formed UTF-8 character at s (n > 0 bytes left) by
// SentencePiece's rule (no overlongs, no surrogates, <= U+10FFFF), 0 if the
// byte at s does not start one.
size_t utf8_len(const uint8_t* s, size_t n) {
    const uint8_t b = s[0];
    if (b < 0x80) return 1;
    auto trail = [](uint8_t c) { return (c & 0xC0) == 0x80; };
    if ((b & 0xE0) == 0xC0) {
        if (n < 2 || !trail(s[1])) return 0;
        return (((uint32_t)(b & 0x1F) << 6) | (s[1] & 0x3F)) >= 0x80 ? 2 : 0;
    }
    if ((b & 0xF0) == 0xE0) {
        if (n < 3 || !trail(s[1]) || !trail(s[2])) return 0;
        const uint32_t cp = ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return cp >= 0x800 && (cp < 0xD800 || cp >= 0xE000) ? 3 : 0;
    }
    if ((b & 0xF8) == 0xF0) {
        if (n < 4 || !trail(s[1]) || !trail(s[2]) || !trail(s[3])) return 0;
        const uint32_t cp = ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                            ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0;
    }
    return 0;
}

const char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's spelling of ' '

// SentencePiece's Normalizer with the identity rule (spm mode), or just the
// whitespace handling (llama2.c mode): leading spaces dropped and runs
// collapsed (REMOVE_EXTRA_WS), one space prepended to non-empty text
// (ADD_DUMMY_PREFIX), spaces spelled U+2581 (ESCAPE_WS), malformed UTF-8 bytes
// replaced one by one with U+FFFD (spm mode), trailing spaces dropped.
// out must hold 3 * len + 3 bytes; returns the length written.
size_t normalize(const uint8_t* in, size_t len, uint32_t flags, bool spm, char* out) {
    const bool remove_ws = (flags & AGM_TOK_REMOVE_EXTRA_WS) != 0;
    const bool escape = (flags & AGM_TOK_ESCAPE_WS) != 0;
    const char* sp = escape ? kSpace : " ";
    const size_t sp_len = escape ? 3 : 1;
    size_t pos = 0, n = 0;
    if (remove_ws)
        while (pos < len && in[pos] == ' ') pos++;
    if (pos == len) return 0;
    if (flags & AGM_TOK_ADD_DUMMY_PREFIX) {
        std::memcpy(out + n, sp, sp_len);
        n += sp_len;
    }
    bool prev_space = remove_ws;
    while (pos < len) {
        if (in[pos] == ' ') {
            pos++;
            if (prev_space) continue;
            std::memcpy(out + n, sp, sp_len);
            n += sp_len;
            prev_space = remove_ws;
            continue;
        }
        size_t k = spm ? utf8_len(in + pos, len - pos) : 1;
        if (k == 0) {
            std::memcpy(out + n, "\xEF\xBF\xBD", 3);  // U+FFFD for one bad byte
            n += 3;
            pos += 1;
        } else {
            std::memcpy(out + n, in + pos, k);
            n += k;
            pos += k;
        }
        prev_space = false;
    }
    if (remove_ws)
        while (n >= sp_len && std::memcmp(out + n - sp_len, sp, sp_len) == 0) n -= sp_len;
    return n;
}

// Writes ids up to cap, counts all of them.
struct Out {
    int32_t* p;
    size_t cap, n;
    bool prev_unk;
    void put(int32_t id) {
        if (n < cap) p[n] = id;
        n++;
    }
};

}  // namespace

Tokenizer::~Tokenizer() {
    if (owns_) std::free(index_);
}

bool Tokenizer::index_bytes(const TokenizerView& view, size_t* bytes, Error* err) {
    if (view.kind == AGM_TOKENIZER_BPE_BYTES) return index_bytes_bpe(view, bytes, err);
    if (view.n_tokens == 0 || view.scores == nullptr || view.offsets == nullptr || view.types == nullptr ||
        view.text == nullptr)
        return fail_as(err, ErrorKind::Argument, "tokenizer: empty or unparsed vocabulary");
    if (view.n_tokens > (1u << 30)) return fail(err, "tokenizer: %u tokens is too many", view.n_tokens);
    size_t slots = 2;
    while (slots < 2 * (size_t)view.n_tokens) slots *= 2;
    if (slots > ((size_t)-1 - sizeof(Index)) / 4)
        return fail_as(err, ErrorKind::NoMemory, "tokenizer: index for %u tokens too large", view.n_tokens);
    *bytes = sizeof(Index) + slots * 4;
    return true;
}

size_t Tokenizer::scratch_bytes(const TokenizerView& view, size_t len) {
    if (view.kind == AGM_TOKENIZER_BPE_BYTES) return scratch_bytes_bpe(len);
    if (len > ((size_t)-1 - 64) / 256) return (size_t)-1;  // never fits
    SpmScratch x;
    return spm_carve(nullptr, len, &x);
}

bool Tokenizer::init(const TokenizerView& view, Error* err) {
    size_t bytes;
    if (!index_bytes(view, &bytes, err)) return false;
    void* mem = std::malloc(bytes);
    if (mem == nullptr) return fail_as(err, ErrorKind::NoMemory, "tokenizer: no memory for a %zu-byte index", bytes);
    if (owns_) std::free(index_);
    index_ = nullptr;
    owns_ = false;
    if (!init_in(view, mem, nullptr, 0, err)) {
        std::free(mem);
        return false;
    }
    owns_ = true;
    return true;
}

bool Tokenizer::init_in(const TokenizerView& view, void* mem, void* scratch, size_t scratch_size, Error* err) {
    size_t bytes;
    if (!index_bytes(view, &bytes, err)) return false;
    if (view.kind == AGM_TOKENIZER_BPE_BYTES) {
        if (!init_bpe(view, mem, bytes, err)) return false;
    } else {
        Index* ix = static_cast<Index*>(mem);
        const size_t slots = (bytes - sizeof(Index)) / 4;
        std::memset(ix->slots(), 0xFF, slots * 4);
        ix->mask = (uint32_t)(slots - 1);
        ix->max_len = 0;
        ix->max_user_len = 0;
        ix->pad = 0;
        for (uint32_t id = 0; id < view.n_tokens; id++) {
            uint32_t len;
            view.piece(id, &len);
            if (len > ix->max_len) ix->max_len = len;
        }
        for (uint32_t id = 0; id < view.n_tokens; id++) {
            uint32_t len;
            const char* p = view.piece(id, &len);
            if (view.types[id] == AGM_TOKEN_USER_DEFINED && len > ix->max_user_len) ix->max_user_len = len;
            if (lookup(view, ix, p, len) >= 0) continue;  // a duplicate: the lower id keeps it
            uint32_t i = hash2(p, len, p, 0) & ix->mask;
            while (ix->slots()[i] != kFree) i = (i + 1) & ix->mask;
            ix->slots()[i] = id;
        }
        for (int b = 0; b < 256; b++) {
            static const char hex[] = "0123456789ABCDEF";
            const char name[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
            ix->byte_id[b] = lookup(view, ix, name, 6);
        }
    }
    index_ = mem;
    index_bytes_ = bytes;
    scratch_ = scratch;
    scratch_size_ = scratch_size;
    view_ = view;
    return true;
}

size_t Tokenizer::memory_bytes() const { return index_bytes_ + scratch_size_; }

bool Tokenizer::encode(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                       Error* err) const {
    *n_out = 0;
    if (index_ == nullptr) return fail_as(err, ErrorKind::Argument, "tokenizer: not initialised");
    const size_t need = scratch_bytes(view_, len);
    if (need <= scratch_size_) {
        return view_.kind == AGM_TOKENIZER_BPE_BYTES
                   ? encode_bpe(text, len, add_bos, out, cap, n_out, scratch_, err)
                   : encode_spm(text, len, add_bos, out, cap, n_out, scratch_, err);
    }
    if (!owns_ || need == (size_t)-1)
        return fail_as(err, ErrorKind::NoMemory,
                       "tokenizer: a %zu-byte text needs %zu bytes of scratch, the model has %zu "
                       "(agm_open_options.max_text_bytes)", len, need, scratch_size_);
    void* tmp = std::malloc(need);  // init() only: tools and tests
    if (tmp == nullptr) return fail_as(err, ErrorKind::NoMemory, "tokenizer: no memory for %zu bytes", need);
    const bool ok = view_.kind == AGM_TOKENIZER_BPE_BYTES
                        ? encode_bpe(text, len, add_bos, out, cap, n_out, tmp, err)
                        : encode_spm(text, len, add_bos, out, cap, n_out, tmp, err);
    std::free(tmp);
    return ok;
}

bool Tokenizer::encode_spm(const char* text, size_t len, bool add_bos, int32_t* out, size_t cap, size_t* n_out,
                           void* scratch, Error* err) const {
    *n_out = 0;
    const Index* ix = static_cast<const Index*>(index_);
    const TokenizerView& v = view_;
    if (text == nullptr && len != 0) return fail_as(err, ErrorKind::Argument, "tokenizer: no text");
    if (out == nullptr && cap != 0) return fail_as(err, ErrorKind::Argument, "tokenizer: no output buffer");
    if (add_bos && v.bos_id < 0) return fail_as(err, ErrorKind::Argument, "tokenizer: the vocabulary has no BOS");
    SpmScratch sc;
    spm_carve(static_cast<uint8_t*>(scratch), len, &sc);
    const bool spm = (v.flags & AGM_TOK_ESCAPE_WS) != 0;
    const bool byte_fallback = (v.flags & AGM_TOK_BYTE_FALLBACK) != 0;
    Out o{out, cap, 0, false};
    if (add_bos) o.put(v.bos_id);

    // norm: [3 * len + 3] the normalised text (every byte can become 3 bytes:
    // a space escaped, a malformed byte replaced; plus the dummy prefix).
    Vec<char>& norm = sc.norm;
    norm.n = normalize(reinterpret_cast<const uint8_t*>(text), len, v.flags, spm, norm.p);

    // sym: [<= norm.n] the initial symbols.
    Vec<Sym>& sym = sc.sym;
    auto add_sym = [&sym](const char* s, uint32_t n, int32_t id, bool frozen) {
        Sym x{s, sym.n == 0 ? kNone : sym.n - 1, kNone, n, 0, id, (uint8_t)frozen, 0};
        if (!sym.push(x)) return false;
        if (sym.n > 1) sym.p[sym.n - 2].next = sym.n - 1;
        return true;
    };
    const uint8_t* t = reinterpret_cast<const uint8_t*>(norm.p);
    for (size_t i = 0; i < norm.n;) {
        bool ok = true;
        if (spm) {
            // A user-defined piece matched whole (longest first), else one character.
            size_t k = 0;
            int32_t uid = -1;
            for (size_t m = ix->max_user_len < norm.n - i ? ix->max_user_len : norm.n - i; m > 0 && uid < 0; m--) {
                const int32_t id = lookup(v, ix, norm.p + i, m);
                if (id >= 0 && v.types[id] == AGM_TOKEN_USER_DEFINED) uid = id, k = m;
            }
            if (uid < 0) {
                const uint8_t b = t[i];
                k = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;  // text is well-formed here
                if (k > norm.n - i) k = norm.n - i;
            }
            ok = add_sym(norm.p + i, (uint32_t)k, uid, uid >= 0);
            i += k;
        } else {
            // llama2.c: a byte, then up to 3 following continuation bytes. Its
            // dummy prefix is a token of its own, never joined to a following
            // stray continuation byte.
            size_t j = i + 1;
            if (i > 0 || !(v.flags & AGM_TOK_ADD_DUMMY_PREFIX))
                while (j < norm.n && (t[j] & 0xC0) == 0x80 && j - i < 4) j++;
            int32_t id = lookup(v, ix, norm.p + i, j - i);
            if (id >= 0) {
                uint32_t pl;
                const char* p = v.piece((uint32_t)id, &pl);
                ok = add_sym(p, pl, id, false);
            } else {
                for (size_t b = i; b < j && ok; b++) {
                    id = byte_fallback ? ix->byte_id[t[b]] : -1;
                    if (id < 0) id = v.unk_id;
                    if (id < 0) return fail(err, "tokenizer: no byte piece nor unknown piece for byte 0x%02X", t[b]);
                    uint32_t pl;
                    const char* p = v.piece((uint32_t)id, &pl);
                    ok = add_sym(p, pl, id, false);
                    if (!byte_fallback) break;  // one unknown per symbol
                }
            }
            i = j;
        }
        if (!ok) return fail_as(err, ErrorKind::NoMemory, "tokenizer: scratch bound exceeded (symbols)");
    }

    // The merge loop.
    Vec<Pair>& heap = sc.heap;
    Vec<Rev>& rev = sc.rev;  // spm: how each UNUSED piece was last formed, for re-splitting
    bool oom = false;
    auto maybe_add = [&](size_t l, size_t r) {
        if (l == kNone || r == kNone) return;
        const Sym& a = sym.p[l];
        const Sym& b = sym.p[r];
        if (a.frozen || b.frozen) return;
        const int32_t id = lookup2(v, ix, a.s, a.len, b.s, b.len);
        if (id < 0) return;
        const uint8_t type = v.types[id];
        if (spm) {
            if (type != AGM_TOKEN_NORMAL && type != AGM_TOKEN_USER_DEFINED && type != AGM_TOKEN_UNUSED) return;
            if (type == AGM_TOKEN_UNUSED && !rev.push(Rev{id, a.len})) oom = true;
        } else if (!(v.scores[id] > -1e10f)) {
            return;  // the reference's best_score starts at -1e10 with a strict >
        }
        if (!heap_push(&heap, Pair{v.scores[id], id, a.gen, b.gen, l, r})) oom = true;
    };
    for (size_t i = 0; i + 1 < sym.n; i++) maybe_add(i, i + 1);
    while (heap.n > 0 && !oom) {
        const Pair top = heap_pop(&heap);
        Sym& a = sym.p[top.left];
        Sym& b = sym.p[top.right];
        if (a.dead || b.dead || a.gen != top.gen_l || b.gen != top.gen_r) continue;  // stale
        if (spm) {
            a.len += b.len;  // contiguous in the normalised text
        } else {
            a.s = v.piece((uint32_t)top.id, &a.len);
            a.id = top.id;
        }
        a.gen++;
        a.next = b.next;
        if (b.next != kNone) sym.p[b.next].prev = top.left;
        b.dead = 1;
        maybe_add(a.prev, top.left);
        maybe_add(top.left, a.next);
    }
    if (oom) return fail_as(err, ErrorKind::NoMemory, "tokenizer: scratch bound exceeded (merge queue)");

    // Emit. Symbol 0 is never absorbed, so the list starts there.
    Vec<Seg>& stack = sc.stack;
    for (size_t i = sym.n ? 0 : kNone; i != kNone; i = sym.p[i].next) {
        const Sym& s = sym.p[i];
        if (!spm || s.frozen) {
            o.put(s.id);
            o.prev_unk = false;
            continue;
        }
        stack.n = 0;
        if (!stack.push(Seg{s.s, s.len})) return fail_as(err, ErrorKind::NoMemory, "tokenizer: scratch bound exceeded (segments)");
        while (stack.n > 0) {
            const Seg g = stack.p[--stack.n];
            const int32_t id = lookup(v, ix, g.s, g.len);
            if (id >= 0 && v.types[id] == AGM_TOKEN_UNUSED) {
                // Re-split an UNUSED piece the way it was (last) formed.
                size_t k = rev.n;
                while (k > 0 && rev.p[k - 1].id != id) k--;
                if (k > 0) {
                    const uint32_t ll = rev.p[k - 1].left_len;
                    if (!stack.push(Seg{g.s + ll, g.len - ll}) || !stack.push(Seg{g.s, ll}))
                        return fail_as(err, ErrorKind::NoMemory, "tokenizer: scratch bound exceeded (segments)");
                    continue;
                }
            }
            const bool unknown = id < 0 || v.types[id] == AGM_TOKEN_UNKNOWN;
            if (!unknown) {
                o.put(id);
            } else if (byte_fallback) {
                for (size_t b = 0; b < g.len; b++) {
                    int32_t bid = ix->byte_id[(uint8_t)g.s[b]];
                    if (bid < 0) bid = v.unk_id;
                    if (bid < 0) return fail(err, "tokenizer: no byte piece nor unknown piece for byte 0x%02X", (uint8_t)g.s[b]);
                    o.put(bid);
                }
            } else if (!o.prev_unk) {  // SentencePiece merges a run of unknowns into one
                if (v.unk_id < 0) return fail(err, "tokenizer: unknown text and no unknown piece");
                o.put(v.unk_id);
            }
            o.prev_unk = unknown;
        }
    }
    *n_out = o.n;
    if (o.n > cap)
        return fail_as(err, ErrorKind::Argument, "tokenizer: %zu tokens, the buffer holds %zu", o.n, cap);
    return true;
}

size_t Tokenizer::decode(int32_t prev, int32_t token, char* buf, size_t cap) const {
    const TokenizerView& v = view_;
    if (index_ == nullptr || token < 0 || (uint32_t)token >= v.n_tokens) return 0;
    const uint8_t type = v.types[token];
    if (type == AGM_TOKEN_CONTROL || type == AGM_TOKEN_UNKNOWN) return 0;
    uint32_t len;
    const char* p = v.piece((uint32_t)token, &len);
    auto hexval = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
    if (type == AGM_TOKEN_BYTE && len == 6 && p[0] == '<' && p[1] == '0' && p[2] == 'x' && p[5] == '>' &&
        hexval(p[3]) >= 0 && hexval(p[4]) >= 0) {
        if (cap > 0) buf[0] = (char)(hexval(p[3]) * 16 + hexval(p[4]));
        return 1;
    }
    if (v.kind == AGM_TOKENIZER_BPE_BYTES) {  // raw bytes, no space rules
        if (len > 0 && cap > 0) std::memcpy(buf, p, len < cap ? len : cap);
        return len;
    }
    const bool escape = (v.flags & AGM_TOK_ESCAPE_WS) != 0;
    bool first = prev >= 0 && prev == v.bos_id;  // drop a leading space after BOS
    size_t n = 0;
    for (uint32_t i = 0; i < len;) {
        char c = p[i];
        uint32_t k = 1;
        if (escape && len - i >= 3 && std::memcmp(p + i, kSpace, 3) == 0) c = ' ', k = 3;
        i += k;
        if (first && c == ' ') {
            first = false;
            continue;
        }
        first = false;
        if (n < cap) buf[n] = c;
        n++;
    }
    return n;
}

}  // namespace agm
