// Parse stacks: expansion (closure) and one byte's step, in the frame pool.
//
// A closure takes stacks whose top may be any element and expands them
// until every top is a terminal or the stack is empty, llama.cpp's
// advance_stack with three differences: REPEAT frames count iterations (so
// {m,n} needs no copies of its item), a call whose continuation is the end
// of its alternative pops the caller first (a tail call: x* and right
// recursion keep a constant depth), and every stack generated is kept as
// "visited" until the closure ends, so a cycle that comes back to the same
// stack (a nullable item repeated) stops instead of expanding forever;
// identical stacks from different paths are kept once. Only the stacks
// with a terminal top (or none) survive the final compaction.
//
// In Counting mode (grammar.h; while a counting mask-cache entry is
// computed) frame 0's count is the iterations its REPEAT has begun, carried
// by whatever frame takes frame 0's place, and a stack that would leave
// the key is dropped with `escaped` set.
#include <cstring>

#include "grammar.h"

namespace agm {
namespace gr {
namespace {

constexpr uint32_t kKeep = 0x80000000u;  // header.pos flag: the item survives compaction

uint32_t hash_frames(const Frame* f, uint32_t n) {
    uint32_t h = 2166136261u ^ n;
    for (uint32_t i = 0; i < n; ++i) h = (h ^ f[i].pos ^ (f[i].count << 20)) * 16777619u;
    return h;
}

void record(Probe& p, uint32_t x, uint32_t min, uint32_t max) {
    auto at_most = [&](int64_t v) { if (v < p.hi) p.hi = v; };
    auto at_least = [&](int64_t v) { if (v > p.lo) p.lo = v; };
    if (max == kMaxInf) {  // saturating counts: only this one behaves alike
        at_most(0);
        at_least(0);
        return;
    }
    if (x < max) at_most((int64_t)max - x - 1);
    else at_least((int64_t)max - x);
    if (x >= min) at_least((int64_t)min - x);
    else at_most((int64_t)min - x - 1);
}

struct Closure {
    const uint32_t* el;
    const Rule* rules;
    Limits lim;
    Pool* pool;
    uint32_t begin;
    Error* err;
    bool ok = true;

    // Adds the stack base[0..n_base) + more[0..n_more) unless it is already
    // in the closure.
    void add(const Frame* base, uint32_t n_base, const Frame* more, uint32_t n_more) {
        if (!ok) return;
        const uint32_t d = n_base + n_more;
        if (d > lim.max_depth) {
            ok = fail(err, "grammar: a parse stack is deeper than %u frames (nesting too deep, or raise max_depth)",
                      lim.max_depth);
            return;
        }
        if (pool->top + 1 + d > pool->cap) {
            ok = fail(err, "grammar: the parse state needs more than %u frames (too ambiguous; raise max_stacks)",
                      pool->cap);
            return;
        }
        Frame* item = pool->f + pool->top;
        if (n_base > 0) std::memmove(item + 1, base, n_base * sizeof(Frame));  // base may be in the pool, below the top
        if (n_more > 0) std::memcpy(item + 1 + n_base, more, n_more * sizeof(Frame));
        const uint32_t h = hash_frames(item + 1, d);
        for (uint32_t o = begin; o < pool->top;) {
            const Frame& hd = pool->f[o];
            const uint32_t od = hd.pos & ~kKeep;
            if (od == d && hd.count == h && std::memcmp(pool->f + o + 1, item + 1, d * sizeof(Frame)) == 0) return;
            o += 1 + od;
        }
        item->pos = d;
        item->count = h;
        pool->top += 1 + d;
    }

    // Expands the item at offset o (whose frames may move: none are
    // written below the top).
    void expand(uint32_t o) {
        Frame* hd = pool->f + o;
        const uint32_t d = hd->pos & ~kKeep;
        if (d == 0) {
            hd->pos |= kKeep;
            return;
        }
        const Frame top = pool->f[o + d];
        const Frame* f = pool->f + o + 1;
        const uint32_t e = el[top.pos];
        switch (op_of(e)) {
            case OP_BYTE: case OP_RANGE: case OP_CLASS:
                hd->pos |= kKeep;
                return;
            case OP_RET:
                if (d == 1 && pool->counting != nullptr) {  // frame 0 returns: below the key
                    pool->counting->escaped = true;
                    return;
                }
                add(f, d - 1, nullptr, 0);
                return;
            case OP_REF: case OP_GROUP: {
                const uint32_t group = op_of(e) == OP_REF ? rules[arg_of(e)].start : top.pos;
                const uint32_t next = op_of(e) == OP_REF ? top.pos + 1 : next_pos(el, top.pos);
                const bool tail = op_of(el[next]) == OP_RET;
                // Counting mode: the frame that takes frame 0's place keeps its count.
                const uint32_t carried = d == 1 && pool->counting != nullptr ? top.count : 0;
                Frame more[2] = {{next, carried}, {0, 0}};
                for (uint32_t q = group + 1; q < next_pos(el, group) && ok; q = next_pos(el, q)) {
                    more[1] = Frame{q + 1, tail ? carried : 0};
                    // f points into the pool: re-read it after add() (no realloc, but keep it simple)
                    f = pool->f + o + 1;
                    if (tail) add(f, d - 1, more + 1, 1);
                    else add(f, d - 1, more, 2);
                }
                return;
            }
            case OP_REPEAT: {
                const uint32_t min = el[top.pos + 1] & 0xFFFF, max = el[top.pos + 1] >> 16;
                if (d == 1 && pool->counting != nullptr) {
                    Counting& k = *pool->counting;
                    if (top.pos != k.repeat) {  // another REPEAT as frame 0: its count would mean something else
                        k.escaped = true;
                        return;
                    }
                    if (top.count < k.span) {
                        const Frame more[2] = {{top.pos, top.count + 1}, {top.pos + 2, 0}};
                        add(f, 0, more, 2);
                    }
                    const Frame after{next_pos(el, top.pos), top.count};  // the count is >= min: it may exit
                    add(pool->f + o + 1, 0, &after, 1);
                    return;
                }
                if (d == 1 && pool->probe != nullptr) record(*pool->probe, top.count, min, max);
                if (top.count < max) {
                    uint32_t c = top.count + 1;
                    if (max == kMaxInf && c > min) c = min;  // beyond min, unbounded counts are all alike
                    const Frame more[2] = {{top.pos, c}, {top.pos + 2, 0}};
                    add(f, d - 1, more, 2);
                }
                if (top.count >= min) {
                    const Frame after{next_pos(el, top.pos), 0};
                    add(pool->f + o + 1, d - 1, &after, 1);
                }
                return;
            }
            default:
                ok = fail(err, "grammar: internal: element %u is not runnable", top.pos);
                return;
        }
    }

    // Expands every item from begin on, then keeps the kept ones.
    bool finish(Set* out) {
        for (uint32_t o = begin; o < pool->top && ok; o += 1 + (pool->f[o].pos & ~kKeep)) expand(o);
        if (!ok) {
            pool->top = begin;
            return false;
        }
        uint32_t w = begin, n = 0;
        bool complete = false;
        for (uint32_t o = begin; o < pool->top;) {
            const uint32_t d = pool->f[o].pos & ~kKeep;
            const bool keep = (pool->f[o].pos & kKeep) != 0;
            if (keep) {
                std::memmove(pool->f + w, pool->f + o, (1 + d) * sizeof(Frame));
                pool->f[w].pos = d;
                w += 1 + d;
                ++n;
                if (d == 0) complete = true;
            }
            o += 1 + d;
        }
        pool->top = w;
        if (n > lim.max_stacks) {
            pool->top = begin;
            return fail(err, "grammar: more than %u parse stacks at once (the grammar is too ambiguous here; raise "
                        "max_stacks)", lim.max_stacks);
        }
        *out = Set{begin, w, n, complete};
        return true;
    }
};

}  // namespace

bool initial_set(const uint32_t* el, const Rule* rules, uint32_t root, const Limits& lim, Pool* pool, Set* out,
                 Error* err) {
    Closure c{el, rules, lim, pool, pool->top, err};
    const uint32_t g = rules[root].start;
    for (uint32_t q = g + 1; q < next_pos(el, g); q = next_pos(el, q)) {
        const Frame f{q + 1, 0};
        c.add(nullptr, 0, &f, 1);
    }
    return c.ok && c.finish(out);
}

bool expand_stack(const uint32_t* el, const Rule* rules, const Limits& lim, const Frame* f, uint32_t n, Pool* pool,
                  Set* out, Error* err) {
    Closure c{el, rules, lim, pool, pool->top, err};
    c.add(f, n, nullptr, 0);
    return c.ok && c.finish(out);
}

bool advance_set(const uint32_t* el, const Rule* rules, const uint8_t (*classes)[32], const Limits& lim,
                 const Set& in, uint8_t b, Pool* pool, Set* out, Error* err) {
    Closure c{el, rules, lim, pool, pool->top, err};
    for (uint32_t o = in.begin; o < in.end && c.ok;) {
        const uint32_t d = pool->f[o].pos;
        if (d > 0) {
            const Frame top = pool->f[o + d];
            if (terminal_accepts(classes, el[top.pos], b)) {
                const Frame next{top.pos + 1, d == 1 && pool->counting != nullptr ? top.count : 0};
                c.add(pool->f + o + 1, d - 1, &next, 1);
            }
        }
        o += 1 + d;
    }
    return c.ok && c.finish(out);
}

}  // namespace gr
}  // namespace agm
