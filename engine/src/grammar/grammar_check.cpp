// What a grammar must satisfy before a matcher runs it: every reference
// names a rule defined once, the root exists, every rule the root reaches
// can complete (so every state the matcher keeps can still become a whole
// sentence: "allowed" then means "a prefix of a sentence"), and no
// expansion can grow a stack without consuming input (left recursion,
// which would otherwise expand forever).
//
// The left-recursion check follows the matcher's expansion (stacks.cpp)
// symbolically: from each rule's alternatives it walks the positions
// reachable without consuming a byte, remembering whether the path pushed a
// frame (a call in non-tail position, a REPEAT's item). Reaching a call of
// the same rule after a push is a cycle that grows the stack. A cycle that
// pushes nothing (a tail call back to the rule; a REPEAT of a nullable item,
// as in ("a"*)*) revisits an identical stack and is cut by the matcher's
// visited set, so it is allowed. Every growing cycle passes through a call
// (REPEAT loops return through their item's RET, which pops what they
// pushed), so checking each rule covers all of them.
#include <cstdio>
#include <cstring>

#include "grammar.h"

namespace agm {
namespace gr {
namespace {

enum : uint8_t { kNullable = 1, kProductive = 2 };
enum : uint8_t { kRuleNullable = 1, kRuleProductive = 2, kRuleReachable = 4 };

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

uint32_t hash_name(const char* s, uint32_t n) {
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; ++i) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

uint32_t table_size(uint32_t n_rules) {
    uint32_t t = 16;
    while (t < 2 * n_rules) t *= 2;
    return t;
}

struct Scratch {
    uint32_t* table;   // [table_size] rule id + 1, 0: empty
    uint32_t tsize;
    uint8_t* rflags;   // [n_rules]
    uint8_t* eflags;   // [n_elems]
    uint32_t* seen;    // [n_elems * 2] DFS generation per (position, pushed)
    uint32_t* stack;   // [n_elems * 2 + n_rules] DFS work
};

Scratch carve(void* mem, uint32_t n_elems, uint32_t n_rules) {
    Scratch s;
    uint8_t* p = static_cast<uint8_t*>(mem);
    s.tsize = table_size(n_rules);
    s.table = reinterpret_cast<uint32_t*>(p);
    p += (size_t)s.tsize * 4;
    s.seen = reinterpret_cast<uint32_t*>(p);
    p += (size_t)n_elems * 8;
    s.stack = reinterpret_cast<uint32_t*>(p);
    p += ((size_t)n_elems * 2 + n_rules) * 4;
    s.rflags = p;
    p += n_rules;
    s.eflags = p;
    return s;
}

int32_t find_rule(const Parsed& g, const Scratch& s, const char* name, uint32_t n) {
    for (uint32_t h = hash_name(name, n) & (s.tsize - 1);; h = (h + 1) & (s.tsize - 1)) {
        const uint32_t v = s.table[h];
        if (v == 0) return -1;
        const Rule& r = g.rules[v - 1];
        if (r.name_len == n && std::memcmp(g.names + r.name_off, name, n) == 0) return (int32_t)(v - 1);
    }
}

// One pass over the elements, children before parents (the positions of
// order[n_elems_real], prefix order, read backwards), computing nullable and
// productive from the rules' flags. Returns whether any rule's flags changed.
bool flags_pass(const Parsed& g, Scratch& s, const uint32_t* order, uint32_t n_order, const uint8_t* present) {
    const uint32_t* el = g.elems;
    for (uint32_t i = n_order; i-- > 0;) {
        const uint32_t p = order[i];
        const uint32_t e = el[p];
        uint8_t f = 0;
        switch (op_of(e)) {
            case OP_BYTE: case OP_RANGE: case OP_CLASS:
                if (present == nullptr) {
                    f = kProductive;
                } else {
                    for (uint32_t c = 0; c < 256 && f == 0; ++c)
                        if (((present[c >> 3] >> (c & 7)) & 1) && terminal_accepts(g.classes, e, (uint8_t)c))
                            f = kProductive;
                }
                break;
            case OP_RET: f = kNullable | kProductive; break;
            case OP_REF: {
                const uint8_t r = s.rflags[arg_of(e)];
                f = (uint8_t)(((r & kRuleNullable) ? kNullable : 0) | ((r & kRuleProductive) ? kProductive : 0));
                break;
            }
            case OP_ALT: {  // all of its sequence (the last is its RET)
                f = kNullable | kProductive;
                for (uint32_t q = p + 1; q <= p + arg_of(e); q = next_pos(el, q)) f &= s.eflags[q];
                break;
            }
            case OP_GROUP:
                for (uint32_t q = p + 1; q < next_pos(el, p); q = next_pos(el, q)) f |= s.eflags[q];
                break;
            case OP_REPEAT: {
                uint8_t item = kNullable | kProductive;
                for (uint32_t q = p + 2; q < next_pos(el, p); q = next_pos(el, q)) item &= s.eflags[q];
                const bool min0 = (el[p + 1] & 0xFFFF) == 0;
                f = min0 ? (kNullable | kProductive) : item;
                break;
            }
            default: break;
        }
        s.eflags[p] = f;
    }
    bool changed = false;
    for (uint32_t r = 0; r < g.n_rules; ++r) {
        const uint8_t e = s.eflags[g.rules[r].start];
        const uint8_t want = (uint8_t)((s.rflags[r] & kRuleReachable) | ((e & kNullable) ? kRuleNullable : 0) |
                                       ((e & kProductive) ? kRuleProductive : 0));
        if (want != s.rflags[r]) changed = true;
        s.rflags[r] = want;
    }
    return changed;
}

bool rule_error(const char* text, size_t len, const Parsed& g, uint32_t r, const char* what, Error* err) {
    uint32_t line, col;
    text_position(text, len, g.rules[r].text_off, &line, &col);
    return fail(err, "grammar: line %u, column %u: rule %.*s %s", line, col, (int)g.rules[r].name_len,
                g.names + g.rules[r].name_off, what);
}

}  // namespace

size_t check_scratch_bytes(uint32_t n_elems, uint32_t n_rules) {
    return (size_t)table_size(n_rules) * 4 + (size_t)n_elems * 8 + ((size_t)n_elems * 2 + n_rules) * 4 + n_rules +
           n_elems + 8;
}

bool resolve_and_check(const char* text, size_t len, const char* root_name, const uint8_t* present, Parsed* g,
                       void* mem, uint32_t* root, Error* err) {
    Scratch s = carve(mem, g->n_elems, g->n_rules);
    std::memset(s.table, 0, (size_t)s.tsize * 4);
    for (uint32_t r = 0; r < g->n_rules; ++r) {
        const Rule& rule = g->rules[r];
        const int32_t before = find_rule(*g, s, g->names + rule.name_off, rule.name_len);
        if (before >= 0) {
            uint32_t line, col;
            text_position(text, len, g->rules[before].text_off, &line, &col);
            char where[48];
            std::snprintf(where, sizeof where, "is defined twice (first at line %u)", line);
            return rule_error(text, len, *g, r, where, err);
        }
        uint32_t h = hash_name(g->names + rule.name_off, rule.name_len) & (s.tsize - 1);
        while (s.table[h] != 0) h = (h + 1) & (s.tsize - 1);
        s.table[h] = r + 1;
    }
    // References: the operand is the name's offset in the text.
    uint32_t* el = g->elems;
    for (uint32_t p = 0; p < g->n_elems; p = op_of(el[p]) == OP_REPEAT ? p + 2 : p + 1) {
        if (op_of(el[p]) != OP_REF) continue;
        const uint32_t off = arg_of(el[p]);
        uint32_t n = 0;
        while (off + n < len && is_name_char(text[off + n])) ++n;
        const int32_t r = find_rule(*g, s, text + off, n);
        if (r < 0) {
            uint32_t line, col;
            text_position(text, len, off, &line, &col);
            return fail(err, "grammar: line %u, column %u: rule %.*s is not defined", line, col, (int)n, text + off);
        }
        el[p] = make(OP_REF, (uint32_t)r);
    }
    const char* rn = root_name != nullptr ? root_name : "root";
    const int32_t rr = find_rule(*g, s, rn, (uint32_t)std::strlen(rn));
    if (rr < 0) return fail(err, "grammar: no rule named %.48s (the start rule)", rn);
    *root = (uint32_t)rr;

    // Reachable rules, from the root over every reference.
    std::memset(s.rflags, 0, g->n_rules);
    uint32_t sp = 0;
    s.stack[sp++] = *root;
    s.rflags[*root] = kRuleReachable;
    while (sp > 0) {
        const Rule& rule = g->rules[s.stack[--sp]];
        for (uint32_t p = rule.start; p < next_pos(el, rule.start); p = op_of(el[p]) == OP_REPEAT ? p + 2 : p + 1)
            if (op_of(el[p]) == OP_REF && !(s.rflags[arg_of(el[p])] & kRuleReachable)) {
                s.rflags[arg_of(el[p])] = kRuleReachable;
                s.stack[sp++] = arg_of(el[p]);
            }
    }
    // Nullable and productive: a fixed point over the rules. The element
    // positions (REPEAT data words left out) are listed in the DFS stack,
    // which is not in use yet.
    uint32_t n_order = 0;
    for (uint32_t p = 0; p < g->n_elems; p = op_of(el[p]) == OP_REPEAT ? p + 2 : p + 1) s.stack[n_order++] = p;
    for (uint32_t i = 0; i <= g->n_rules + 1 && flags_pass(*g, s, s.stack, n_order, present); ++i) {
    }
    for (uint32_t r = 0; r < g->n_rules; ++r)
        if ((s.rflags[r] & kRuleReachable) && !(s.rflags[r] & kRuleProductive))
            return rule_error(text, len, *g, r, present != nullptr ? "can never complete with this model's vocabulary (no alternative can end, or its bytes are in no token)"
                                                 : "can never complete (every alternative needs itself or an empty class)",
                              err);

    // Left recursion (see the top of this file). State: position * 2 + pushed.
    std::memset(s.seen, 0, (size_t)g->n_elems * 8);
    uint32_t gen = 0;
    for (uint32_t r = 0; r < g->n_rules; ++r) {
        if (!(s.rflags[r] & kRuleReachable)) continue;
        ++gen;
        sp = 0;
        auto visit = [&](uint32_t pos, bool pushed) {
            uint32_t& v = s.seen[(size_t)pos * 2 + (pushed ? 1 : 0)];
            if (v == gen) return;
            v = gen;
            s.stack[sp++] = pos * 2 + (pushed ? 1 : 0);
        };
        auto alts = [&](uint32_t group, bool pushed) {
            for (uint32_t q = group + 1; q < next_pos(el, group); q = next_pos(el, q)) visit(q + 1, pushed);
        };
        alts(g->rules[r].start, false);
        while (sp > 0) {
            const uint32_t st = s.stack[--sp];
            const uint32_t p = st / 2;
            const bool pushed = (st & 1) != 0;
            const uint32_t e = el[p];
            switch (op_of(e)) {
                case OP_REF: {
                    const uint32_t callee = arg_of(e);
                    const bool tail = op_of(el[p + 1]) == OP_RET;
                    if (callee == r) {
                        if (pushed || !tail) return rule_error(text, len, *g, r, "is left-recursive", err);
                    } else {
                        alts(g->rules[callee].start, pushed || !tail);
                    }
                    if (s.rflags[callee] & kRuleNullable) visit(p + 1, pushed);
                    break;
                }
                case OP_GROUP: {
                    const uint32_t after = next_pos(el, p);
                    alts(p, pushed || op_of(el[after]) != OP_RET);
                    if (s.eflags[p] & kNullable) visit(after, pushed);
                    break;
                }
                case OP_REPEAT: {
                    visit(p + 2, true);
                    if (s.eflags[p] & kNullable) visit(next_pos(el, p), pushed);
                    break;
                }
                default: break;  // terminals consume; RET returns
            }
        }
    }
    return true;
}

}  // namespace gr
}  // namespace agm
