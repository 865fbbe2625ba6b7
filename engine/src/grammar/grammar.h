// Grammars for constrained decoding: the compiled form, the parse stacks and
// the vocabulary index, all in caller arenas (no heap, no exceptions).
//
// A GBNF text (gbnf_parse.cpp) compiles into one array of 32-bit elements.
// Rules and groups are stored inline as trees in prefix form, so the
// compiled size follows from the text alone and a size query needs no
// memory (docs/structured-output.md):
//
//   GROUP n        n elements follow: the alternatives
//   ALT m          one alternative: m elements follow, the last is RET
//   RET            end of an alternative (or of a repetition's item)
//   BYTE b         the byte b
//   RANGE lo,hi    a byte in lo..hi
//   CLASS i        a byte in classes[i] (a 256-bit set)
//   REF r          rule r (during parsing: the text offset of its name)
//   REPEAT n       then one data word (min | max << 16; max kMaxInf: no
//                  bound), then the item: n elements, the last is RET
//
// Character classes and literals are lowered to UTF-8 byte sequences, so the
// matcher works on bytes and a token that splits a character is handled
// like any other. A rule r's body is the GROUP at rules[r].start.
//
// The matcher (stacks.cpp) keeps a set of parse stacks, llama.cpp-style:
// a stack is the list of frames (element positions, plus a count for a
// REPEAT frame) still to run, bottom first; after every byte each stack's top
// is a terminal (BYTE, RANGE, CLASS), or the stack is empty (the output is a
// whole sentence). Stacks live in one frame pool: a set is a run of items
// [header][frames...], compacted after each step.
#ifndef AGM_ENGINE_GRAMMAR_H
#define AGM_ENGINE_GRAMMAR_H

#include <cstddef>
#include <cstdint>

#include "agm/error.h"
#include "agmodel.h"

namespace agm {
namespace gr {

enum Op : uint32_t { OP_GROUP = 1, OP_ALT, OP_RET, OP_BYTE, OP_RANGE, OP_CLASS, OP_REF, OP_REPEAT };

constexpr uint32_t kArgBits = 28;
constexpr uint32_t kArgMask = (1u << kArgBits) - 1;
constexpr uint32_t kMaxInf = 0xFFFF;        // REPEAT max: unbounded
constexpr uint32_t kMaxBound = 0xFFFE;      // largest finite repetition bound
constexpr uint32_t kMaxElems = 1u << 20;    // elements of one grammar
constexpr uint32_t kMaxNesting = 64;        // ( ... ) depth in the text
constexpr uint32_t kMaxClassRanges = 256;   // ranges of one [...] class

// Bits set in a word, without a libgcc helper (__popcountsi2 is outside the
// symbols a firmware link may need; see tools/check-undefined-symbols.sh).
inline uint32_t bits_set(uint32_t v) {
    v = v - ((v >> 1) & 0x55555555u);
    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
    return (v * 0x01010101u) >> 24;
}

inline uint32_t op_of(uint32_t e) { return e >> kArgBits; }
inline uint32_t arg_of(uint32_t e) { return e & kArgMask; }
inline uint32_t make(uint32_t op, uint32_t arg) { return (op << kArgBits) | arg; }
inline bool is_terminal(uint32_t e) {
    const uint32_t o = op_of(e);
    return o == OP_BYTE || o == OP_RANGE || o == OP_CLASS;
}

struct Rule {
    uint32_t start;     // its GROUP element
    uint32_t name_off;  // into names
    uint32_t name_len;
    uint32_t text_off;  // where it was defined (for messages)
};

// A bump allocator over an arena; with base == nullptr it only counts.
struct Bump {
    uint8_t* base = nullptr;
    size_t cap = 0, used = 0;
    void* take(size_t bytes, size_t align = 8) {
        used = (used + align - 1) / align * align;
        void* p = base != nullptr && used + bytes <= cap ? base + used : nullptr;
        used += bytes;
        return p;
    }
    bool counting() const { return base == nullptr; }
};

// What parsing produces (the counts alone in measuring mode).
struct Parsed {
    uint32_t* elems = nullptr;
    uint32_t n_elems = 0;
    Rule* rules = nullptr;
    uint32_t n_rules = 0;
    uint8_t (*classes)[32] = nullptr;
    uint32_t n_classes = 0;
    char* names = nullptr;
    uint32_t names_bytes = 0;
};

// Parses text[len]. Measuring (out->elems == nullptr on entry and
// measuring true): fills the counts only. Building: writes into the arrays
// of *out, which the caller sized from a measuring pass. Syntax errors in
// both modes; rule references are resolved later (resolve_and_check).
bool parse_gbnf(const char* text, size_t len, bool measuring, Parsed* out, Error* err);

// "line L, column C" of a byte offset, for messages.
void text_position(const char* text, size_t len, size_t off, uint32_t* line, uint32_t* col);

// Resolves REF operands (name offsets in text) to rule ids, finds the root,
// and refuses undefined or twice-defined rules, rules reachable from the
// root that can never complete, and left recursion that would grow a stack
// without consuming input. scratch: check_scratch_bytes() bytes.
size_t check_scratch_bytes(uint32_t n_elems, uint32_t n_rules);
// present (NULL: every byte): the bytes the model's tokens contain; a
// terminal that needs none of them cannot be produced.
bool resolve_and_check(const char* text, size_t len, const char* root_name, const uint8_t* present, Parsed* g,
                       void* scratch, uint32_t* root, Error* err);

// Position just after the element at p (GROUP, ALT, REPEAT: after what they hold).
inline uint32_t next_pos(const uint32_t* el, uint32_t p) {
    const uint32_t e = el[p];
    switch (op_of(e)) {
        case OP_GROUP: case OP_ALT: return p + 1 + arg_of(e);
        case OP_REPEAT: return p + 2 + arg_of(e);
        default: return p + 1;
    }
}

struct Frame {
    uint32_t pos;    // element to run next
    uint32_t count;  // REPEAT frames: iterations begun (saturated at min when max is unbounded)
};

// The frame pool of a matcher. A set is a run of items; an item is a
// header frame {depth, hash} followed by depth frames, bottom first.
// Records, while a mask-cache entry is computed, which counts of the
// entry's bottom frame (a REPEAT) give the same expansions: every test of
// its count x against min and max must come out the same for x + delta.
struct Probe {
    int64_t lo = INT64_MIN / 4, hi = INT64_MAX / 4;  // the deltas that keep every test's outcome
};

// Counting mode, while a mask-cache entry for a bounded REPEAT is computed
// (one entry then serves every count from min to max): the stacks hold
// only the key, frame 0 is the REPEAT or, once it has exited, what follows
// it in its alternative, and frame 0's count is the iterations begun since
// the key (no test against max; at most `span` = max - min of them). A
// stack that would leave the key (frame 0 returns, or reaches another
// REPEAT) is dropped and `escaped` set: what it does depends on the stack
// below the key.
struct Counting {
    uint32_t repeat = 0;
    uint32_t span = 0;
    bool escaped = false;
};

struct Pool {
    Frame* f = nullptr;
    uint32_t cap = 0;
    uint32_t top = 0;
    Probe* probe = nullptr;        // set while a cache entry is computed
    Counting* counting = nullptr;  // set while a counting entry is computed
};

struct Set {
    uint32_t begin = 0, end = 0;  // frames [begin, end) of the pool
    uint32_t n = 0;               // stacks
    bool complete = false;        // one of them is empty
};

struct Limits {
    uint32_t max_stacks, max_depth;
};

// The stacks the start rule begins with (after expansion), at pool->top.
bool initial_set(const uint32_t* el, const Rule* rules, uint32_t root, const Limits& lim, Pool* pool, Set* out,
                 Error* err);
// The stacks one stack f[0..n) expands to (its top may be any element), at pool->top.
bool expand_stack(const uint32_t* el, const Rule* rules, const Limits& lim, const Frame* f, uint32_t n, Pool* pool,
                  Set* out, Error* err);
// The stacks after byte b from `in`, at pool->top (in must end at or before it).
// out->n == 0: b is not allowed.
bool advance_set(const uint32_t* el, const Rule* rules, const uint8_t (*classes)[32], const Limits& lim,
                 const Set& in, uint8_t b, Pool* pool, Set* out, Error* err);
// Whether the terminal element e accepts byte b.
inline bool terminal_accepts(const uint8_t (*classes)[32], uint32_t e, uint8_t b) {
    const uint32_t a = arg_of(e);
    switch (op_of(e)) {
        case OP_BYTE: return b == a;
        case OP_RANGE: return b >= (a & 0xFF) && b <= (a >> 8);
        case OP_CLASS: return (classes[a][b >> 3] >> (b & 7)) & 1;
        default: return false;
    }
}

}  // namespace gr
}  // namespace agm

// The compiled grammar (read-only after init).
struct agm_grammar {
    const agm_model* model = nullptr;
    agm::gr::Parsed g;
    uint32_t root = 0;
    agm::gr::Limits limits{64, 128};
    // The vocabulary, when bound to a model: every token's bytes as it
    // follows a token other than BOS, and the tokens with bytes sorted by
    // them, each with its common prefix length with the one before.
    uint32_t vocab = 0;
    int32_t eos = -1, bos = -1;
    bool bos_drops_space = false;      // SentencePiece: a piece after BOS loses its leading space
    const uint32_t* piece_off = nullptr;  // [vocab + 1] into pieces
    const uint8_t* pieces = nullptr;
    const uint32_t* sorted = nullptr;     // [n_sorted] token ids
    const uint16_t* lcp = nullptr;        // [n_sorted]
    uint32_t n_sorted = 0;
    uint32_t first[257] = {0};            // sorted[first[b] .. first[b+1]) start with byte b
    uint32_t max_piece = 0;
    uint32_t cache_entries = 0;           // matcher mask-cache entries (0: off)
    bool precompute = false;              // agm_matcher_init computes the entries of every REPEAT
    size_t arena_bytes = 0;
    void* owned_block = nullptr;
};

namespace agm {
namespace gr {

constexpr uint32_t kKeyFrames = 16;  // frames of a mask-cache key at most

// A mask-cache entry: what the top of a stack allows whatever lies below
// it. The key is the stack's top frames down to the nearest REPEAT frame;
// the REPEAT's count may differ within [lo, hi] (a Probe found the
// expansions alike there). accepted: tokens written entirely within the
// key; uncertain: tokens that reach below the key, checked against the
// whole stack each time.
//
// A counting entry (a bounded REPEAT at a count >= its min, computed in
// Counting mode) holds for every count from min to max: an accepted token
// t is allowed at count c when need[t] (the iterations it begins) is at
// most max - c; otherwise, or if it is also marked uncertain (some way of
// writing it leaves the key), it is checked against the whole stack.
struct CacheEntry {
    bool used = false;
    bool counting = false;
    uint32_t key_len = 0;
    Frame key[kKeyFrames];
    int64_t lo = 0, hi = 0;
    uint32_t stamp = 0;
    uint32_t max_need = 0;          // counting: the largest need[] of an accepted token
    uint32_t* accepted = nullptr;   // [words]
    uint32_t* uncertain = nullptr;  // [words]
    uint8_t* need = nullptr;        // [vocab]
};

}  // namespace gr
}  // namespace agm

// A matcher: the current set of stacks at the start of its pool.
struct agm_matcher {
    const agm_grammar* grammar = nullptr;
    agm::gr::Pool pool;
    agm::gr::Set cur;
    int32_t prev = -1;        // the last token (decides the SentencePiece space after BOS)
    bool done = false;        // EOS accepted
    agm::gr::Set* levels = nullptr;  // [max_piece + 1] fill_mask's trie levels
    uint8_t* bottom = nullptr;       // [max_piece + 1] whether levels 1..k reached below a cache key
    agm::gr::CacheEntry* cache = nullptr;  // [grammar->cache_entries]
    uint32_t stamp = 0;
    uint64_t cache_hits = 0, cache_misses = 0;
    uint64_t counting_hits = 0;  // masks from a counting entry
    uint32_t precomputed = 0;    // entries agm_matcher_init computed
    size_t arena_bytes = 0;
    void* owned_block = nullptr;
};

#endif

namespace agm {
namespace gr {
// Whether bytes[n] may follow the matcher's output (the state is left as
// it was): the per-token check that masks must equal (tests use it as the
// brute-force oracle, fill_mask after BOS as its slow path).
bool matcher_try_bytes(agm_matcher* m, const uint8_t* bytes, size_t n, bool* allowed, Error* err);
}  // namespace gr
}  // namespace agm
