// The grammar and matcher calls of agmodel.h: compiling into an arena,
// binding the vocabulary, token masks, forced bytes.
//
// Arena of a grammar, in order (each 8-aligned; sizes from the text and the
// vocabulary alone, so agm_grammar_memory_size() needs no memory):
//   agm_grammar | elems[n_elems] | rules[n_rules] | classes[n][32] |
//   names | region: first the checks' scratch, then (the same bytes) the
//   vocabulary: piece_off[vocab + 1], pieces, sorted[n_sorted], lcp[n_sorted]
//
// Masks walk the vocabulary sorted by bytes: consecutive tokens share a
// prefix (lcp), so the stacks after that prefix are kept per depth and
// reused; a prefix that fails rejects every token that starts with it.
// What a stack top allows is cached per key (CacheEntry in grammar.h), and
// the matcher's init can compute the entries before the first mask
// (precompute below).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "api_util.h"
#include "grammar.h"
#include "model.h"

using agm::Error;
using agm::ErrorKind;
using namespace agm::gr;

namespace {

constexpr uint32_t kDefaultStacks = 64;
constexpr uint32_t kDefaultDepth = 128;
constexpr uint32_t kDefaultCache = 64;  // a report with a 48-character string needs ~60 (bench/bench_grammar.cpp)
constexpr uint32_t kCacheMinTokens = 64;  // stacks that start fewer tokens are walked, not cached
constexpr uint32_t kPoolFactor = 4;  // frames of pool per stack-and-depth slot (mask levels, closures)

struct VocabCounts {
    uint32_t vocab = 0, n_sorted = 0, max_piece = 0;
    uint64_t piece_bytes = 0;
    uint8_t present[32] = {0};  // bytes some token's piece contains
};

bool count_vocab(const agm_model* m, VocabCounts* vc, Error* err) {
    agm_model_info info;
    agm_model_get_info(m, &info);
    if (!m->has_tokenizer) return agm::fail_as(err, ErrorKind::Argument, "grammar: the model has no tokenizer");
    vc->vocab = info.vocab_size;
    char buf[1024];
    for (uint32_t t = 0; t < vc->vocab; ++t) {
        if ((int32_t)t == info.eos_id) continue;
        const size_t n = m->tokenizer.decode(-1, (int32_t)t, buf, sizeof buf);
        if (n == 0) continue;
        if (n > sizeof buf) return agm::fail(err, "grammar: token %u's piece is longer than 1024 bytes", t);
        for (size_t i = 0; i < n; ++i) vc->present[(uint8_t)buf[i] >> 3] |= (uint8_t)(1u << ((uint8_t)buf[i] & 7));
        vc->piece_bytes += n;
        vc->n_sorted++;
        if (n > vc->max_piece) vc->max_piece = (uint32_t)n;
    }
    return true;
}

uint64_t vocab_bytes(const VocabCounts& vc) {
    auto up = [](uint64_t v) { return (v + 7) / 8 * 8; };
    return up((uint64_t)(vc.vocab + 1) * 4) + up(vc.piece_bytes) + up((uint64_t)vc.n_sorted * 4) +
           up((uint64_t)vc.n_sorted * 2);
}

struct Layout {
    Parsed counts;
    VocabCounts vc;
    bool has_vocab = false;
    uint64_t total = 0;
};

// Everything the size query needs: parse (measuring), count the vocabulary.
bool measure(const agm_model* m, const char* text, size_t len, Layout* lay, Error* err) {
    lay->counts = Parsed{};
    if (!parse_gbnf(text, len, true, &lay->counts, err)) return false;
    if (m != nullptr) {
        if (!count_vocab(m, &lay->vc, err)) return false;
        lay->has_vocab = true;
    }
    Bump b;
    b.take(sizeof(agm_grammar));
    b.take((size_t)lay->counts.n_elems * 4);
    b.take((size_t)lay->counts.n_rules * sizeof(Rule));
    b.take((size_t)lay->counts.n_classes * 32);
    b.take(lay->counts.names_bytes);
    const uint64_t scratch = check_scratch_bytes(lay->counts.n_elems, lay->counts.n_rules);
    const uint64_t vb = lay->has_vocab ? vocab_bytes(lay->vc) : 0;
    b.take((size_t)(scratch > vb ? scratch : vb));
    lay->total = b.used + 7;  // any alignment of the arena
    return true;
}

void fill_options(const agm_grammar_options* o, const char** root, Limits* lim, uint32_t* cache, bool* precompute) {
    agm_grammar_options d;
    agm_grammar_options_default(&d);
    if (o == nullptr) o = &d;
    *root = o->root != nullptr ? o->root : "root";
    lim->max_stacks = o->max_stacks != 0 ? o->max_stacks : kDefaultStacks;
    lim->max_depth = o->max_depth != 0 ? o->max_depth : kDefaultDepth;
    *cache = o->mask_cache;
    *precompute = o->precompute != 0;
}

// The tokens' pieces, sorted by bytes, into the region.
void build_vocab(agm_grammar* g, const VocabCounts& vc, uint8_t* region) {
    const agm_model* m = g->model;
    agm_model_info info;
    agm_model_get_info(m, &info);
    auto up = [](uint64_t v) { return (size_t)((v + 7) / 8 * 8); };
    uint32_t* off = reinterpret_cast<uint32_t*>(region);
    uint8_t* pieces = region + up((uint64_t)(vc.vocab + 1) * 4);
    uint32_t* sorted = reinterpret_cast<uint32_t*>(pieces + up(vc.piece_bytes));
    uint16_t* lcp = reinterpret_cast<uint16_t*>(reinterpret_cast<uint8_t*>(sorted) + up((uint64_t)vc.n_sorted * 4));
    uint32_t at = 0, ns = 0;
    for (uint32_t t = 0; t < vc.vocab; ++t) {
        off[t] = at;
        if ((int32_t)t == info.eos_id) continue;
        const size_t n = m->tokenizer.decode(-1, (int32_t)t, reinterpret_cast<char*>(pieces + at), vc.piece_bytes - at);
        if (n == 0) continue;
        at += (uint32_t)n;
        sorted[ns++] = t;
    }
    off[vc.vocab] = at;
    std::sort(sorted, sorted + ns, [&](uint32_t a, uint32_t b) {
        const uint32_t la = off[a + 1] - off[a], lb = off[b + 1] - off[b];
        const int c = std::memcmp(pieces + off[a], pieces + off[b], la < lb ? la : lb);
        return c != 0 ? c < 0 : (la != lb ? la < lb : a < b);
    });
    for (uint32_t i = 0; i < ns; ++i) {
        uint32_t c = 0;
        if (i > 0) {
            const uint8_t* a = pieces + off[sorted[i - 1]];
            const uint8_t* b = pieces + off[sorted[i]];
            const uint32_t la = off[sorted[i - 1] + 1] - off[sorted[i - 1]], lb = off[sorted[i] + 1] - off[sorted[i]];
            const uint32_t mx = la < lb ? la : lb;
            while (c < mx && a[c] == b[c]) ++c;
        }
        lcp[i] = (uint16_t)c;
    }
    for (uint32_t b = 0, i = 0; b <= 256; ++b) {
        while (i < ns && pieces[off[sorted[i]]] < b) ++i;
        g->first[b] = i;
    }
    g->first[256] = ns;
    g->piece_off = off;
    g->pieces = pieces;
    g->sorted = sorted;
    g->lcp = lcp;
    g->n_sorted = ns;
    g->vocab = vc.vocab;
    g->max_piece = vc.max_piece;
    g->eos = info.eos_id;
    g->bos = info.bos_id;
    g->bos_drops_space = m->tokenizer.kind() == AGM_TOKENIZER_SPM_BPE;
}

// A bump allocator over arena[arena_bytes] from its first 8-aligned byte;
// false (the error says what needs how much) when it is smaller than need.
bool arena_bump(void* arena, size_t arena_bytes, uint64_t need, const char* what, Bump* b, agm_error* error) {
    if (arena_bytes < need) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "%s: needs an arena of %llu bytes, got %zu", what,
                     (unsigned long long)need, arena_bytes);
        agm::report(err, error);
        return false;
    }
    const uintptr_t base = (reinterpret_cast<uintptr_t>(arena) + 7) / 8 * 8;
    b->base = reinterpret_cast<uint8_t*>(base);
    b->cap = arena_bytes - (base - reinterpret_cast<uintptr_t>(arena));
    return true;
}

agm_status compile(const agm_model* m, const char* text, size_t len, const agm_grammar_options* o, void* arena,
                   size_t arena_bytes, agm_grammar** out, agm_error* error) {
    Error err;
    Layout lay;
    if (!measure(m, text, len, &lay, &err)) return agm::report(err, error);
    Bump b;
    if (!arena_bump(arena, arena_bytes, lay.total, "grammar", &b, error)) return AGM_ERR_BUFFER;
    agm_grammar* g = new (b.take(sizeof(agm_grammar))) agm_grammar();
    g->model = m;
    Parsed& p = g->g;
    p = lay.counts;  // the capacities for the building pass
    p.elems = static_cast<uint32_t*>(b.take((size_t)p.n_elems * 4));
    p.rules = static_cast<Rule*>(b.take((size_t)p.n_rules * sizeof(Rule)));
    p.classes = static_cast<uint8_t(*)[32]>(b.take((size_t)p.n_classes * 32));
    p.names = static_cast<char*>(b.take(p.names_bytes));
    const uint64_t scratch = check_scratch_bytes(p.n_elems, p.n_rules);
    const uint64_t vb = lay.has_vocab ? vocab_bytes(lay.vc) : 0;
    uint8_t* region = static_cast<uint8_t*>(b.take((size_t)(scratch > vb ? scratch : vb)));
    const char* root;
    uint32_t cache = 0;
    bool precompute = false;
    fill_options(o, &root, &g->limits, &cache, &precompute);
    if (!parse_gbnf(text, len, false, &p, &err) || !resolve_and_check(text, len, root, lay.has_vocab ? lay.vc.present : nullptr, &p, region, &g->root, &err)) {
        g->~agm_grammar();
        return agm::report(err, error);
    }
    if (lay.has_vocab) {
        build_vocab(g, lay.vc, region);
        g->cache_entries = cache;
        g->precompute = precompute;
    }
    g->arena_bytes = (size_t)lay.total;
    *out = g;
    return AGM_OK;
}

size_t pool_frames(const Limits& l) { return (size_t)l.max_stacks * (l.max_depth + 1) * kPoolFactor; }

size_t mask_words(const agm_grammar* g) { return (g->vocab + 31) / 32; }

// The matcher's arena: agm_matcher | pool | levels | bottom | cache entries | their masks |
// their need bytes.
void matcher_layout(const agm_grammar* g, Bump* b, agm_matcher* m) {
    void* pool = b->take(pool_frames(g->limits) * sizeof(Frame));
    void* levels = b->take((size_t)(g->max_piece + 1) * sizeof(Set));
    void* bottom = b->take(g->max_piece + 1);
    void* cache = b->take((size_t)g->cache_entries * sizeof(CacheEntry));
    uint32_t* masks = static_cast<uint32_t*>(b->take((size_t)g->cache_entries * 2 * mask_words(g) * 4));
    uint8_t* need = static_cast<uint8_t*>(b->take((size_t)g->cache_entries * g->vocab));
    if (m == nullptr) return;
    m->pool.cap = (uint32_t)pool_frames(g->limits);
    m->pool.f = static_cast<Frame*>(pool);
    m->levels = static_cast<Set*>(levels);
    m->bottom = static_cast<uint8_t*>(bottom);
    m->cache = static_cast<CacheEntry*>(cache);
    for (uint32_t i = 0; i < g->cache_entries; ++i) {
        CacheEntry* c = new (m->cache + i) CacheEntry();
        c->accepted = masks + (size_t)i * 2 * mask_words(g);
        c->uncertain = c->accepted + mask_words(g);
        c->need = need + (size_t)i * g->vocab;
    }
}

uint64_t matcher_bytes(const agm_grammar* g) {
    Bump b;
    b.take(sizeof(agm_matcher));
    matcher_layout(g, &b, nullptr);
    return b.used + 7;
}

// The bytes of token t after m->prev (a SentencePiece piece after BOS
// loses its leading space). n 0: the token has none.
const uint8_t* token_bytes(const agm_matcher* m, int32_t t, uint32_t* n) {
    const agm_grammar* g = m->grammar;
    const uint8_t* p = g->pieces + g->piece_off[t];
    *n = g->piece_off[t + 1] - g->piece_off[t];
    if (*n > 0 && g->bos_drops_space && m->prev >= 0 && m->prev == g->bos && p[0] == ' ') {
        ++p;
        --*n;
    }
    return p;
}

// Advances a copy of the current set over bytes[n] into the pool after it.
// The result (out) is at the current set's end; the current set is intact.
bool walk(agm_matcher* m, const uint8_t* bytes, size_t n, Set* out, size_t* failed_at, Error* err) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    Set s = m->cur;
    pool.top = m->cur.end;
    *failed_at = SIZE_MAX;
    for (size_t i = 0; i < n; ++i) {
        Set next;
        if (!advance_set(g->g.elems, g->g.rules, g->g.classes, g->limits, s, bytes[i], &pool, &next, err))
            return false;
        if (next.n == 0) {
            *failed_at = i;
            return true;
        }
        if (s.begin != m->cur.begin) {  // keep the work right after the current set
            std::memmove(pool.f + m->cur.end, pool.f + next.begin, (next.end - next.begin) * sizeof(Frame));
            next.end = m->cur.end + (next.end - next.begin);
            next.begin = m->cur.end;
            pool.top = next.end;
        }
        s = next;
    }
    *out = s;
    return true;
}

// The byte set a terminal element accepts.
void terminal_bytes(const agm_grammar* g, uint32_t e, uint8_t bits[32]) {
    std::memset(bits, 0, 32);
    for (uint32_t c = 0; c < 256; ++c)
        if (terminal_accepts(g->g.classes, e, (uint8_t)c)) bits[c >> 3] |= (uint8_t)(1u << (c & 7));
}

// Walks the tokens sorted[lo..hi) from the stacks of start, their bytes
// from the skip-th on (all of them share their first skip + 1 bytes),
// sharing the stacks after each common prefix. lv[0] must be start, the
// pool's top where the first level's successors go. on(t, accepted,
// below, end): below is whether a stack emptied (reached below what start
// holds) or escaped (Counting mode) on the way; end, for an accepted
// token, the stacks after its last byte.
template <class F>
bool walk_range(agm_matcher* m, uint32_t lo, uint32_t hi, uint32_t skip, uint32_t base, F&& on, Error* err) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    Set* lv = m->levels;
    uint8_t* below = m->bottom;  // below[k]: one of lv[1..k] held an empty stack
    uint32_t k = 0, failed = 0;  // levels valid on the current path; depth of the last failure
    for (uint32_t i = lo; i < hi; ++i) {
        const uint32_t t = g->sorted[i];
        const uint8_t* p = g->pieces + g->piece_off[t] + skip;
        const uint32_t n = g->piece_off[t + 1] - g->piece_off[t] - skip;
        const uint32_t common = i == lo ? 0 : g->lcp[i] - skip;
        if (failed != 0 && common >= failed) {  // starts with the prefix that failed
            on(t, false, below[failed] != 0, nullptr);
            continue;
        }
        failed = 0;
        if (k > common) k = common;
        pool.top = k == 0 ? base : lv[k].end;
        while (k < n) {
            if (pool.counting != nullptr) pool.counting->escaped = false;
            if (!advance_set(g->g.elems, g->g.rules, g->g.classes, g->limits, lv[k], p[k], &pool, &lv[k + 1], err))
                return false;
            const bool escaped = pool.counting != nullptr && pool.counting->escaped;
            below[k + 1] = (uint8_t)(below[k] | (lv[k + 1].complete || escaped ? 1 : 0));
            if (lv[k + 1].n == 0) {
                failed = k + 1;
                break;
            }
            ++k;
        }
        if (failed != 0) on(t, false, below[failed] != 0, nullptr);
        else on(t, true, below[n] != 0, &lv[n]);
    }
    pool.top = base;
    return true;
}

// Walks the tokens whose first byte is in first[] from the stacks of
// start (whose end must be the pool's top): walk_range over each byte's
// tokens.
template <class F>
bool walk_tokens(agm_matcher* m, const Set& start, const uint8_t first[32], F&& on, Error* err) {
    const agm_grammar* g = m->grammar;
    const uint32_t base = m->pool.top;  // start may lie below
    m->levels[0] = start;
    m->bottom[0] = 0;
    for (uint32_t b = 0; b < 256; ++b) {
        if (g->first[b] == g->first[b + 1] || !((first[b >> 3] >> (b & 7)) & 1)) continue;
        if (!walk_range(m, g->first[b], g->first[b + 1], 0, base, on, err)) return false;
    }
    return true;
}

// After BOS a SentencePiece piece loses its leading space: the tokens that
// start with one, walked on their bytes after it (those whose second byte
// is in first[]), from the stack at o alone.
template <class F>
bool walk_after_bos(agm_matcher* m, uint32_t o, const uint8_t first[32], F&& on, Error* err) {
    const agm_grammar* g = m->grammar;
    const uint32_t base = m->pool.top;
    m->levels[0] = Set{o, o + 1 + m->pool.f[o].pos, 1, false};
    m->bottom[0] = 0;
    auto second = [&](uint32_t i) {  // the token's byte after the space (-1: it has none)
        const uint32_t t = g->sorted[i];
        return g->piece_off[t + 1] - g->piece_off[t] < 2 ? -1 : (int)g->pieces[g->piece_off[t] + 1];
    };
    for (uint32_t b = 0; b < 256; ++b) {
        if (!((first[b >> 3] >> (b & 7)) & 1)) continue;
        // The space tokens are sorted by their second byte: its range by binary search.
        uint32_t lo = g->first[' '], hi = g->first[' ' + 1];
        while (lo < hi) {
            const uint32_t mid = lo + (hi - lo) / 2;
            if (second(mid) < (int)b) lo = mid + 1;
            else hi = mid;
        }
        uint32_t end = lo;
        hi = g->first[' ' + 1];
        while (end < hi) {
            const uint32_t mid = end + (hi - end) / 2;
            if (second(mid) <= (int)b) end = mid + 1;
            else hi = mid;
        }
        if (lo < end && !walk_range(m, lo, end, 1, base, on, err)) return false;
    }
    return true;
}

// Whether the whole single stack at pool offset o accepts token t's bytes.
bool stack_accepts(agm_matcher* m, uint32_t o, uint32_t t, bool* ok, Error* err) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    const uint32_t saved = pool.top;
    Set s{o, o + 1 + pool.f[o].pos, 1, pool.f[o].pos == 0};
    const uint8_t* p = g->pieces + g->piece_off[t];
    const uint32_t n = g->piece_off[t + 1] - g->piece_off[t];
    *ok = true;
    for (uint32_t i = 0; i < n && *ok; ++i) {
        Set next;
        if (!advance_set(g->g.elems, g->g.rules, g->g.classes, g->limits, s, p[i], &pool, &next, err)) return false;
        if (next.n == 0) *ok = false;
        s = next;
    }
    pool.top = saved;
    return true;
}

// The key of the stack at pool offset o: its frames from the nearest
// REPEAT frame (at most kKeyFrames from the top) up; false when it has none.
bool stack_key(const agm_matcher* m, uint32_t o, const Frame** key, uint32_t* len) {
    const uint32_t d = m->pool.f[o].pos;
    const Frame* f = m->pool.f + o + 1;
    for (uint32_t i = d; i-- > 0 && d - i <= kKeyFrames;)
        if (op_of(m->grammar->g.elems[f[i].pos]) == OP_REPEAT) {
            *key = f + i;
            *len = d - i;
            return true;
        }
    return false;
}

// The entry that holds for key[0..kl), or nullptr.
CacheEntry* find_entry(agm_matcher* m, const Frame* key, uint32_t kl) {
    const agm_grammar* g = m->grammar;
    for (uint32_t e = 0; e < g->cache_entries; ++e) {
        CacheEntry& c = m->cache[e];
        if (!c.used || c.key_len != kl || c.key[0].pos != key[0].pos || (int64_t)key[0].count < c.lo ||
            (int64_t)key[0].count > c.hi)
            continue;
        if (std::memcmp(c.key + 1, key + 1, (kl - 1) * sizeof(Frame)) != 0) continue;
        return &c;
    }
    return nullptr;
}

// An entry to overwrite: an unused one, else the least recently used.
CacheEntry* victim_entry(agm_matcher* m) {
    CacheEntry* v = nullptr;
    for (uint32_t e = 0; e < m->grammar->cache_entries; ++e) {
        CacheEntry& c = m->cache[e];
        if (!c.used) return &c;
        if (v == nullptr || c.stamp < v->stamp) v = &c;
    }
    return v;
}

// Computes the entry of key[0..kl) (tokens starting with a byte of
// first[]) into a victim; nullptr with *failed false when no entry can
// take it (only_unused: when every entry it could take is in use).
CacheEntry* compute_entry(agm_matcher* m, const Frame* key, uint32_t kl, const uint8_t first[32], Error* err,
                          bool* failed, bool only_unused = false) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    *failed = false;
    const uint32_t r = key[0].pos;
    const uint32_t min = g->g.elems[r + 1] & 0xFFFF, max = g->g.elems[r + 1] >> 16;
    const bool counting = max != kMaxInf && key[0].count >= min && max - min <= 255;
    CacheEntry* victim = victim_entry(m);
    if (victim == nullptr || (only_unused && victim->used)) return nullptr;
    ++m->cache_misses;
    CacheEntry& c = *victim;
    c.used = false;
    const uint32_t at = pool.top;
    if (at + 1 + kl > pool.cap) {
        *failed = !agm::fail(err, "grammar: the parse state needs more than %u frames", pool.cap);
        return nullptr;
    }
    pool.f[at] = Frame{kl, 0};
    std::memcpy(pool.f + at + 1, key, kl * sizeof(Frame));
    if (counting) pool.f[at + 1].count = 0;  // iterations begun since the key
    pool.top = at + 1 + kl;
    const Set start{at, pool.top, 1, false};
    const size_t words = mask_words(g);
    std::memset(c.accepted, 0, words * 4);
    std::memset(c.uncertain, 0, words * 4);
    Probe probe;
    Counting k;
    k.repeat = r;
    k.span = max - min;
    c.max_need = 0;
    if (counting) pool.counting = &k;
    else pool.probe = &probe;
    const bool ok = walk_tokens(m, start, first, [&](uint32_t t, bool accepted, bool below, const Set* end) {
        if (accepted) {
            c.accepted[t >> 5] |= 1u << (t & 31);
            if (!counting) return;
            uint32_t need = 255;  // the fewest iterations any of its stacks began
            for (uint32_t o = end->begin; o < end->end; o += 1 + pool.f[o].pos)
                if (pool.f[o + 1].count < need) need = pool.f[o + 1].count;
            c.need[t] = (uint8_t)need;
            if (need > c.max_need) c.max_need = need;
            if (below) c.uncertain[t >> 5] |= 1u << (t & 31);  // another way of writing it may leave the key
        } else if (below) {
            c.uncertain[t >> 5] |= 1u << (t & 31);
        }
    }, err);
    pool.probe = nullptr;
    pool.counting = nullptr;
    pool.top = at;
    if (!ok) {
        *failed = true;
        return nullptr;
    }
    c.used = true;
    c.counting = counting;
    c.key_len = kl;
    std::memcpy(c.key, key, kl * sizeof(Frame));
    c.lo = counting ? (int64_t)min : (int64_t)key[0].count + probe.lo;
    c.hi = counting ? (int64_t)max : (int64_t)key[0].count + probe.hi;
    c.stamp = ++m->stamp;
    return &c;
}

// The cache entry for the stack at pool offset o, computed if missing;
// nullptr when the stack has no key (no REPEAT frame near its top).
CacheEntry* cache_entry(agm_matcher* m, uint32_t o, const uint8_t first[32], Error* err, bool* failed,
                        bool only_unused = false) {
    *failed = false;
    const Frame* key;
    uint32_t kl;
    if (!stack_key(m, o, &key, &kl)) return nullptr;
    if (CacheEntry* c = find_entry(m, key, kl)) {
        c->stamp = ++m->stamp;
        ++m->cache_hits;
        return c;
    }
    return compute_entry(m, key, kl, first, err, failed, only_unused);
}

// Tokens a walk from the stack at pool offset o starts (those whose first
// byte its top accepts), and that byte set.
uint32_t walked_tokens(const agm_matcher* m, uint32_t o, uint8_t first[32]) {
    const agm_grammar* g = m->grammar;
    const uint32_t d = m->pool.f[o].pos;
    terminal_bytes(g, g->g.elems[m->pool.f[o + d].pos], first);
    uint32_t walked = 0;
    for (uint32_t b = 0; b < 256; ++b)
        if ((first[b >> 3] >> (b & 7)) & 1) walked += g->first[b + 1] - g->first[b];
    return walked;
}

// Precomputing (agm_matcher_init): from every REPEAT alone, the stacks
// the first kPrecomputeBytes bytes of an iteration lead through, each
// stack's entry computed as a mask would need it. A set already visited
// (bounded counts at or above their min taken as equal: one counting
// entry serves them all) is not followed again.
constexpr uint32_t kPrecomputeBytes = 8;    // bytes into an iteration followed
constexpr uint32_t kPrecomputeSets = 4096;  // sets visited at most: bounds init time
constexpr uint32_t kSeenSlots = 4096;       // the visited sets' hashes, at the pool's end

struct Precompute {
    agm_matcher* m;
    uint32_t* seen;  // [kSeenSlots], 0: free
    uint32_t sets = 0;
    bool full = false;  // no unused entry left
    Error* err;
};

// Inserts the set's hash; false if it was there.
bool first_visit(Precompute& p, const Set& s) {
    const agm_grammar* g = p.m->grammar;
    const Frame* f = p.m->pool.f;
    uint32_t h = 2166136261u;
    for (uint32_t o = s.begin; o < s.end; o += 1 + f[o].pos) {
        h = (h ^ f[o].pos) * 16777619u;
        for (uint32_t i = 1; i <= f[o].pos; ++i) {
            uint32_t count = f[o + i].count;
            const uint32_t e = g->g.elems[f[o + i].pos];
            if (op_of(e) == OP_REPEAT && (g->g.elems[f[o + i].pos + 1] >> 16) != kMaxInf &&
                count >= (g->g.elems[f[o + i].pos + 1] & 0xFFFF))
                count = 0xFFFFFFFFu;
            h = (h ^ f[o + i].pos ^ (count << 20) ^ (count >> 12)) * 16777619u;
        }
    }
    if (h == 0) h = 1;
    for (uint32_t i = 0; i < kSeenSlots; ++i) {
        uint32_t& slot = p.seen[(h + i) & (kSeenSlots - 1)];
        if (slot == h) return false;
        if (slot == 0) {
            slot = h;
            return true;
        }
    }
    return false;  // full: treat as visited
}

bool explore(Precompute& p, const Set& s, uint32_t depth) {
    agm_matcher* m = p.m;
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    pool.top = s.end;
    for (uint32_t o = s.begin; o < s.end && !p.full; o += 1 + pool.f[o].pos) {
        if (pool.f[o].pos == 0) continue;
        uint8_t first[32];
        if (walked_tokens(m, o, first) < kCacheMinTokens) continue;
        const uint32_t misses = (uint32_t)m->cache_misses;
        bool failed;
        const Frame* key;
        uint32_t kl;
        if (!stack_key(m, o, &key, &kl) || find_entry(m, key, kl) != nullptr) continue;
        if (compute_entry(m, key, kl, first, p.err, &failed, true) == nullptr) {
            if (failed) return false;
            p.full = true;
        }
        m->precomputed += (uint32_t)m->cache_misses - misses;
    }
    if (depth == kPrecomputeBytes || p.full) return true;
    // Bytes that every stack top treats alike lead to the same set: one of each.
    uint64_t sig[256];
    for (uint32_t b = 0; b < 256; ++b) {
        sig[b] = 0;
        uint32_t i = 0;
        for (uint32_t o = s.begin; o < s.end; o += 1 + pool.f[o].pos, ++i) {
            const uint32_t d = pool.f[o].pos;
            if (d > 0 && terminal_accepts(g->g.classes, g->g.elems[pool.f[o + d].pos], (uint8_t)b))
                sig[b] |= 1ull << (i & 63);
        }
    }
    for (uint32_t b = 0; b < 256 && p.sets < kPrecomputeSets && !p.full; ++b) {
        if (sig[b] == 0) continue;
        bool again = false;
        for (uint32_t a = 0; a < b && !again; ++a) again = sig[a] == sig[b];
        if (again) continue;
        Set next;
        pool.top = s.end;
        if (!advance_set(g->g.elems, g->g.rules, g->g.classes, g->limits, s, (uint8_t)b, &pool, &next, p.err))
            return false;
        if (next.n > 0 && first_visit(p, next)) {
            ++p.sets;
            if (!explore(p, next, depth + 1)) return false;
        }
    }
    pool.top = s.end;
    return true;
}

bool precompute(agm_matcher* m, Error* err) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    const uint32_t seen_frames = kSeenSlots * 4 / sizeof(Frame);
    if (pool.cap < 4 * seen_frames) return true;  // a pool this small: compute entries as masks need them
    pool.cap -= seen_frames;
    Precompute p{m, reinterpret_cast<uint32_t*>(pool.f + pool.cap), 0, false, err};
    std::memset(p.seen, 0, kSeenSlots * 4);
    bool ok = true;
    for (uint32_t r = 0; r < g->g.n_elems && ok && !p.full && p.sets < kPrecomputeSets; ++r) {
        if (op_of(g->g.elems[r]) != OP_REPEAT) continue;
        ++r;  // its bounds word is data, not an element
        pool.top = 0;
        const Frame f{r - 1, 0};
        Set s;
        ok = expand_stack(g->g.elems, g->g.rules, g->limits, &f, 1, &pool, &s, err) && explore(p, s, 0);
    }
    pool.cap += seen_frames;
    pool.top = 0;
    return ok;
}

// The mask of the current set: per stack, from its cache entry (plus the
// entry's uncertain tokens checked against the whole stack), or by walking
// the vocabulary from it; EOS where a stack is empty.
bool fill(agm_matcher* m, uint32_t* mask, Error* err) {
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    const size_t words = mask_words(g);
    auto allow = [&](uint32_t t) { mask[t >> 5] |= 1u << (t & 31); };
    if (m->cur.complete && g->eos >= 0) allow((uint32_t)g->eos);
    pool.top = m->cur.end;
    // After BOS a SentencePiece piece loses its leading space: the tokens
    // with one are walked apart (walk_after_bos), the others as usual.
    const bool after_bos = g->bos_drops_space && m->prev >= 0 && m->prev == g->bos;
    auto spaced = [&](uint32_t t) { return g->piece_off[t + 1] > g->piece_off[t] && g->pieces[g->piece_off[t]] == ' '; };
    for (uint32_t o = m->cur.begin; o < m->cur.end; o += 1 + pool.f[o].pos) {
        const uint32_t d = pool.f[o].pos;
        if (d == 0) continue;
        uint8_t first[32];
        const uint32_t walked = walked_tokens(m, o, first);
        if (after_bos) {
            pool.top = m->cur.end;
            if (!walk_after_bos(m, o, first, [&](uint32_t t, bool accepted, bool, const Set*) { if (accepted) allow(t); },
                                err))
                return false;
        }
        CacheEntry* c = nullptr;
        if (g->cache_entries > 0 && walked >= kCacheMinTokens) {  // a walk of a few tokens is cheaper than an entry
            bool failed;
            c = cache_entry(m, o, first, err, &failed);
            if (failed) return false;
        }
        if (c != nullptr) {
            // A counting entry: room is the iterations the key's REPEAT may still begin.
            uint32_t room = UINT32_MAX;
            if (c->counting) {
                ++m->counting_hits;
                const uint32_t r = c->key[0].pos;
                room = (g->g.elems[r + 1] >> 16) - pool.f[o + 1 + d - c->key_len].count;
            }
            for (size_t w = 0; w < words; ++w) {
                if (room >= c->max_need && !after_bos) {
                    mask[w] |= c->accepted[w];
                } else {
                    for (uint32_t bits = c->accepted[w]; bits != 0; bits &= bits - 1) {
                        const uint32_t t = (uint32_t)(w * 32 + (uint32_t)__builtin_ctz(bits));
                        if (c->need[t] <= room && !(after_bos && spaced(t))) allow(t);
                    }
                }
                for (uint32_t bits = c->uncertain[w] & ~mask[w]; bits != 0; bits &= bits - 1) {
                    const uint32_t t = (uint32_t)(w * 32 + (uint32_t)__builtin_ctz(bits));
                    if (after_bos && spaced(t)) continue;
                    bool ok;
                    if (!stack_accepts(m, o, t, &ok, err)) return false;
                    if (ok) allow(t);
                }
            }
            continue;
        }
        const Set one{o, o + 1 + d, 1, false};
        pool.top = m->cur.end;
        if (after_bos) first[' ' >> 3] &= (uint8_t)~(1u << (' ' & 7));  // walked above
        if (!walk_tokens(m, one, first, [&](uint32_t t, bool accepted, bool, const Set*) { if (accepted) allow(t); }, err))
            return false;
    }
    return true;
}

// The *_create conveniences: init in an arena from malloc, which the object
// then owns; *_free destroys it and frees the arena.
template <class T, class Init>
agm_status create_owned(size_t bytes, const char* no_memory, T** out, agm_error* error, Init&& init) {
    void* block = std::malloc(bytes);
    if (block == nullptr) return agm::report_arg(error, no_memory, AGM_ERR_NO_MEMORY);
    const agm_status st = init(block);
    if (st != AGM_OK) {
        std::free(block);
        return st;
    }
    (*out)->owned_block = block;
    return AGM_OK;
}

template <class T>
void free_owned(T* x) {
    if (x == nullptr) return;
    void* block = x->owned_block;
    x->~T();
    std::free(block);
}

}  // namespace

bool agm::gr::matcher_try_bytes(agm_matcher* m, const uint8_t* bytes, size_t n, bool* allowed, Error* err) {
    Set s;
    size_t bad;
    const bool ok = walk(m, bytes, n, &s, &bad, err);
    m->pool.top = m->cur.end;
    *allowed = ok && bad == SIZE_MAX;
    return ok;
}

extern "C" {

void agm_grammar_options_default(agm_grammar_options* o) {
    o->root = nullptr;
    o->max_stacks = kDefaultStacks;
    o->max_depth = kDefaultDepth;
    o->mask_cache = kDefaultCache;
    o->precompute = 1;
}

agm_status agm_grammar_memory_size(const agm_model* m, const char* text, size_t len, const agm_grammar_options* o,
                                   size_t* bytes, agm_error* error) {
    if (bytes == nullptr) return agm::report_arg(error, "agm_grammar_memory_size: bytes is NULL");
    Error err;
    Layout lay;
    if (!measure(m, text, len, &lay, &err)) return agm::report(err, error);
    if (lay.total > SIZE_MAX / 2) return agm::report_arg(error, "grammar: too large for this system", AGM_ERR_NO_MEMORY);
    (void)o;
    *bytes = (size_t)lay.total;
    return AGM_OK;
}

agm_status agm_grammar_init(const agm_model* m, const char* text, size_t len, const agm_grammar_options* o,
                            void* arena, size_t arena_bytes, agm_grammar** out, agm_error* error) {
    if (out == nullptr || arena == nullptr) return agm::report_arg(error, "agm_grammar_init: NULL argument");
    *out = nullptr;
    return compile(m, text, len, o, arena, arena_bytes, out, error);
}

agm_status agm_grammar_create(const agm_model* m, const char* text, size_t len, const agm_grammar_options* o,
                              agm_grammar** out, agm_error* error) {
    if (out == nullptr) return agm::report_arg(error, "agm_grammar_create: out is NULL");
    *out = nullptr;
    size_t bytes;
    agm_status st = agm_grammar_memory_size(m, text, len, o, &bytes, error);
    if (st != AGM_OK) return st;
    return create_owned(bytes, "grammar: cannot allocate its arena", out, error, [&](void* block) {
        return agm_grammar_init(m, text, len, o, block, bytes, out, error);
    });
}

void agm_grammar_free(agm_grammar* g) { free_owned(g); }

agm_status agm_matcher_memory_size(const agm_grammar* g, size_t* bytes, agm_error* error) {
    if (g == nullptr || bytes == nullptr) return agm::report_arg(error, "agm_matcher_memory_size: NULL argument");
    *bytes = (size_t)matcher_bytes(g);
    return AGM_OK;
}

agm_status agm_matcher_init(const agm_grammar* g, void* arena, size_t arena_bytes, agm_matcher** out,
                            agm_error* error) {
    if (g == nullptr || arena == nullptr || out == nullptr)
        return agm::report_arg(error, "agm_matcher_init: NULL argument");
    *out = nullptr;
    const uint64_t need = matcher_bytes(g);
    Bump b;
    if (!arena_bump(arena, arena_bytes, need, "matcher", &b, error)) return AGM_ERR_BUFFER;
    agm_matcher* m = new (b.take(sizeof(agm_matcher))) agm_matcher();
    m->grammar = g;
    matcher_layout(g, &b, m);
    m->arena_bytes = (size_t)need;
    Error err;
    if (g->precompute && g->cache_entries > 0 && !precompute(m, &err)) {
        m->~agm_matcher();
        return agm::report_arg(error, err.msg, AGM_ERR_BUFFER);
    }
    if (!initial_set(g->g.elems, g->g.rules, g->root, g->limits, &m->pool, &m->cur, &err)) {
        m->~agm_matcher();
        return agm::report_arg(error, err.msg, AGM_ERR_BUFFER);
    }
    *out = m;
    return AGM_OK;
}

agm_status agm_matcher_create(const agm_grammar* g, agm_matcher** out, agm_error* error) {
    if (g == nullptr || out == nullptr) return agm::report_arg(error, "agm_matcher_create: NULL argument");
    *out = nullptr;
    const size_t bytes = (size_t)matcher_bytes(g);
    return create_owned(bytes, "matcher: cannot allocate its arena", out, error,
                        [&](void* block) { return agm_matcher_init(g, block, bytes, out, error); });
}

void agm_matcher_free(agm_matcher* m) { free_owned(m); }

agm_status agm_matcher_reset(agm_matcher* m, int32_t prev) {
    if (m == nullptr) return AGM_ERR_ARGUMENT;
    const agm_grammar* g = m->grammar;
    m->pool.top = 0;
    m->done = false;
    m->prev = prev;
    Error err;
    if (!initial_set(g->g.elems, g->g.rules, g->root, g->limits, &m->pool, &m->cur, &err)) {
        m->cur = Set{};
        return AGM_ERR_BUFFER;
    }
    return AGM_OK;
}

agm_status agm_matcher_accept_bytes(agm_matcher* m, const char* bytes, size_t n, agm_error* error) {
    if (m == nullptr || (bytes == nullptr && n > 0)) return agm::report_arg(error, "agm_matcher_accept_bytes: NULL argument");
    if (m->done && n > 0) return agm::report_arg(error, "grammar: the output has ended (EOS was accepted)");
    Error err;
    Set s;
    size_t bad;
    if (!walk(m, reinterpret_cast<const uint8_t*>(bytes), n, &s, &bad, &err)) {
        m->pool.top = m->cur.end;
        return agm::report_arg(error, err.msg, AGM_ERR_BUFFER);
    }
    if (bad != SIZE_MAX) {
        m->pool.top = m->cur.end;
        agm::fail_as(&err, ErrorKind::Argument, "grammar: byte 0x%02X at offset %zu is not allowed here",
                     (unsigned)(uint8_t)bytes[bad], bad);
        return agm::report(err, error);
    }
    if (n > 0) {
        std::memmove(m->pool.f, m->pool.f + s.begin, (s.end - s.begin) * sizeof(Frame));
        m->cur = Set{0, s.end - s.begin, s.n, s.complete};
    }
    m->pool.top = m->cur.end;
    return AGM_OK;
}

agm_status agm_matcher_accept_token(agm_matcher* m, int32_t token, agm_error* error) {
    if (m == nullptr) return agm::report_arg(error, "agm_matcher_accept_token: NULL argument");
    const agm_grammar* g = m->grammar;
    if (g->model == nullptr) return agm::report_arg(error, "grammar: compiled without a model: no tokens");
    if (token < 0 || (uint32_t)token >= g->vocab) return agm::report_arg(error, "grammar: token outside the vocabulary");
    if (m->done) return agm::report_arg(error, "grammar: the output has ended (EOS was accepted)");
    if (token == g->eos) {
        if (!m->cur.complete) return agm::report_arg(error, "grammar: EOS is not allowed: the output is not complete");
        m->done = true;
        m->prev = token;
        return AGM_OK;
    }
    uint32_t n;
    const uint8_t* p = token_bytes(m, token, &n);
    if (n == 0) {
        Error err;
        agm::fail_as(&err, ErrorKind::Argument, "grammar: token %d has no bytes (a control token)", token);
        return agm::report(err, error);
    }
    const agm_status st = agm_matcher_accept_bytes(m, reinterpret_cast<const char*>(p), n, error);
    if (st == AGM_OK) m->prev = token;
    return st;
}

int agm_matcher_is_complete(const agm_matcher* m) { return m != nullptr && !m->done && m->cur.complete ? 1 : 0; }

int agm_matcher_is_done(const agm_matcher* m) {
    return m == nullptr || m->done || (m->cur.n == 1 && m->cur.complete) || m->cur.n == 0 ? 1 : 0;
}

agm_status agm_matcher_fill_mask(agm_matcher* m, uint32_t* mask, size_t words, uint32_t* n_allowed,
                                 agm_error* error) {
    if (m == nullptr || mask == nullptr) return agm::report_arg(error, "agm_matcher_fill_mask: NULL argument");
    const agm_grammar* g = m->grammar;
    if (g->model == nullptr) return agm::report_arg(error, "grammar: compiled without a model: no token masks");
    if (words < (g->vocab + 31) / 32) return agm::report_arg(error, "agm_matcher_fill_mask: the mask is too short", AGM_ERR_BUFFER);
    std::memset(mask, 0, words * 4);
    if (n_allowed != nullptr) *n_allowed = 0;
    if (m->done) return AGM_OK;
    Error err;
    if (!fill(m, mask, &err)) {
        m->pool.top = m->cur.end;
        m->pool.probe = nullptr;
        std::memset(mask, 0, words * 4);
        return agm::report_arg(error, err.msg, AGM_ERR_BUFFER);
    }
    m->pool.top = m->cur.end;
    if (n_allowed != nullptr) {
        uint32_t count = 0;
        for (size_t i = 0; i < (g->vocab + 31) / 32; ++i) count += bits_set(mask[i]);
        *n_allowed = count;
    }
    return AGM_OK;
}

agm_status agm_matcher_forced_bytes(agm_matcher* m, char* buf, size_t cap, size_t* n_out, agm_error* error) {
    if (m == nullptr || n_out == nullptr || (buf == nullptr && cap > 0))
        return agm::report_arg(error, "agm_matcher_forced_bytes: NULL argument");
    *n_out = 0;
    const agm_grammar* g = m->grammar;
    Pool& pool = m->pool;
    Set s = m->cur;
    pool.top = m->cur.end;
    size_t n = 0;
    Error err;
    while (n < cap && !m->done && !s.complete && s.n > 0) {
        uint8_t bits[32] = {0};
        for (uint32_t o = s.begin; o < s.end; o += 1 + pool.f[o].pos) {
            const uint32_t d = pool.f[o].pos;
            const uint32_t e = g->g.elems[pool.f[o + d].pos];
            for (uint32_t c = 0; c < 256; ++c)
                if (terminal_accepts(g->g.classes, e, (uint8_t)c)) bits[c >> 3] |= (uint8_t)(1u << (c & 7));
        }
        int only = -1;
        uint32_t count = 0;
        for (uint32_t c = 0; c < 256; ++c)
            if ((bits[c >> 3] >> (c & 7)) & 1) only = (int)c, ++count;
        if (count != 1) break;
        Set next;
        if (!advance_set(g->g.elems, g->g.rules, g->g.classes, g->limits, s, (uint8_t)only, &pool, &next, &err)) break;
        buf[n++] = (char)only;
        s = next;
    }
    pool.top = m->cur.end;
    *n_out = n;
    return AGM_OK;
}

agm_status agm_matcher_forced_tokens(agm_matcher* m, int32_t* tokens, size_t cap, size_t* n_out, agm_error* error) {
    if (m == nullptr || n_out == nullptr || (tokens == nullptr && cap > 0))
        return agm::report_arg(error, "agm_matcher_forced_tokens: NULL argument");
    *n_out = 0;
    const agm_grammar* g = m->grammar;
    if (g->model == nullptr) return agm::report_arg(error, "grammar: compiled without a model: no tokens");
    if (g->bos_drops_space && m->prev >= 0 && m->prev == g->bos) return AGM_OK;
    char forced[256];
    size_t nf = 0;
    const agm_status st = agm_matcher_forced_bytes(m, forced, sizeof forced, &nf, error);
    if (st != AGM_OK) return st;
    const uint8_t* b = reinterpret_cast<const uint8_t*>(forced);
    size_t i = 0, n = 0;
    while (i < nf && n < cap) {
        // The longest token that is a prefix of b[i..]: binary search for each length.
        int32_t best = -1;
        uint32_t best_len = 0;
        const uint32_t left = (uint32_t)(nf - i);
        for (uint32_t len = left < g->max_piece ? left : g->max_piece; len > 0 && best < 0; --len) {
            uint32_t lo = g->first[b[i]], hi = g->first[b[i] + 1];
            while (lo < hi) {  // the first sorted token >= b[i..i+len)
                const uint32_t mid = lo + (hi - lo) / 2;
                const uint32_t t = g->sorted[mid];
                const uint32_t tl = g->piece_off[t + 1] - g->piece_off[t];
                const int c = std::memcmp(g->pieces + g->piece_off[t], b + i, tl < len ? tl : len);
                if (c < 0 || (c == 0 && tl < len)) lo = mid + 1;
                else hi = mid;
            }
            if (lo < g->first[b[i] + 1]) {
                const uint32_t t = g->sorted[lo];
                if (g->piece_off[t + 1] - g->piece_off[t] == len &&
                    std::memcmp(g->pieces + g->piece_off[t], b + i, len) == 0) {
                    best = (int32_t)t;
                    best_len = len;
                }
            }
        }
        if (best < 0) break;  // no token writes this byte: the model samples from here
        tokens[n++] = best;
        i += best_len;
    }
    *n_out = n;
    return AGM_OK;
}

void agm_matcher_get_stats(const agm_matcher* m, agm_matcher_stats* st) {
    if (st == nullptr) return;
    *st = agm_matcher_stats{};
    if (m == nullptr) return;
    st->cache_hits = m->cache_hits;
    st->cache_misses = m->cache_misses;
    st->precomputed = m->precomputed;
    for (uint32_t e = 0; e < m->grammar->cache_entries; ++e) st->entries_used += m->cache[e].used ? 1 : 0;
}

}  // extern "C"
