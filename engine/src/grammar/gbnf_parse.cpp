// The GBNF parser: llama.cpp's grammar dialect (grammars/README.md there),
// written from its description, into the inline element form of grammar.h.
//
//   rule    ::= name ws "::=" ws alternatives (newline | end)
//   alts    ::= sequence ("|" ws sequence)*
//   item    ::= "literal" | [class] | [^class] | . | name | "(" alts ")"
//               followed by any of * + ? {m} {m,} {m,n}
//
// Whitespace is spaces, tabs and # comments; newlines end a rule except
// inside parentheses and after "|". Characters are code points (escapes \xHH
// \uHHHH \UHHHHHHHH \t \r \n \\ \" \[ \] \-), lowered here to UTF-8 byte
// sequences. Every pass over the text is linear; measuring mode writes
// nothing and gives the exact counts the building pass then fills.
#include <cstring>

#include "grammar.h"

namespace agm {
namespace gr {
namespace {

struct CpRange {
    uint32_t lo, hi;
};

struct Parser {
    const char* t;
    size_t len;
    size_t pos = 0;
    bool measuring;
    Parsed* out;
    Parsed cap;  // building: the measured counts, never exceeded
    uint32_t depth = 0;
    Error* err;

    bool at_end() const { return pos >= len; }
    char peek(size_t k = 0) const { return pos + k < len ? t[pos + k] : '\0'; }

    bool error_at(size_t off, const char* what) {
        uint32_t line, col;
        text_position(t, len, off, &line, &col);
        return fail(err, "grammar: line %u, column %u: %s", line, col, what);
    }

    // ---- output -------------------------------------------------------
    bool put(uint32_t e) {
        if (out->n_elems >= kMaxElems) return error_at(pos, "the grammar has more than 2^20 elements");
        if (!measuring) {
            if (out->n_elems >= cap.n_elems) return error_at(pos, "internal: element count changed");
            out->elems[out->n_elems] = e;
        }
        out->n_elems++;
        return true;
    }
    void patch(uint32_t at, uint32_t e) {
        if (!measuring) out->elems[at] = e;
    }
    // Inserts k words at `at` (the item being repeated is at the end).
    bool insert(uint32_t at, uint32_t k) {
        for (uint32_t i = 0; i < k; ++i)
            if (!put(0)) return false;
        if (!measuring) std::memmove(out->elems + at + k, out->elems + at, (out->n_elems - k - at) * sizeof(uint32_t));
        return true;
    }
    bool put_class(const uint8_t bits[32]) {
        if (!measuring) {
            if (out->n_classes >= cap.n_classes) return error_at(pos, "internal: class count changed");
            std::memcpy(out->classes[out->n_classes], bits, 32);
        }
        return put(make(OP_CLASS, out->n_classes++));
    }

    // ---- lexical ------------------------------------------------------
    void space(bool newline_ok) {
        while (!at_end()) {
            const char c = t[pos];
            if (c == ' ' || c == '\t') {
                ++pos;
            } else if (c == '#') {
                while (!at_end() && t[pos] != '\n' && t[pos] != '\r') ++pos;
            } else if (newline_ok && (c == '\n' || c == '\r')) {
                ++pos;
            } else {
                break;
            }
        }
    }
    static bool word_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    }
    // One UTF-8 code point of the text at pos.
    bool utf8(uint32_t* cp) {
        const unsigned char c = (unsigned char)t[pos];
        uint32_t n = c < 0x80 ? 0 : c >= 0xC2 && c < 0xE0 ? 1 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xF0 && c < 0xF5 ? 3 : 9;
        if (n == 9) return error_at(pos, "invalid UTF-8 in the grammar");
        uint32_t v = n == 0 ? c : n == 1 ? (c & 0x1F) : n == 2 ? (c & 0x0F) : (c & 0x07);
        for (uint32_t i = 1; i <= n; ++i) {
            const unsigned char d = (unsigned char)peek(i);
            if ((d & 0xC0) != 0x80) return error_at(pos, "invalid UTF-8 in the grammar");
            v = (v << 6) | (d & 0x3F);
        }
        if ((n == 2 && v < 0x800) || (n == 3 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
            return error_at(pos, "invalid UTF-8 in the grammar");
        pos += n + 1;
        *cp = v;
        return true;
    }
    bool hex(size_t digits, uint32_t* v) {
        uint32_t x = 0;
        for (size_t i = 0; i < digits; ++i) {
            const char c = peek();
            const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return error_at(pos, "expected a hexadecimal digit");
            x = x * 16 + (uint32_t)d;
            ++pos;
        }
        *v = x;
        return true;
    }
    // A character of a literal or class: an escape or one code point.
    bool character(uint32_t* cp) {
        if (at_end()) return error_at(pos, "unexpected end of the grammar");
        if (t[pos] != '\\') return utf8(cp);
        const size_t at = pos;
        ++pos;
        const char c = peek();
        ++pos;
        switch (c) {
            case 'x': if (!hex(2, cp)) return false; break;
            case 'u': if (!hex(4, cp)) return false; break;
            case 'U': if (!hex(8, cp)) return false; break;
            case 't': *cp = '\t'; break;
            case 'r': *cp = '\r'; break;
            case 'n': *cp = '\n'; break;
            case '\\': case '"': case '[': case ']': case '-': case '/': case '^': *cp = (uint32_t)c; break;
            default: return error_at(at, "unknown escape (\\x \\u \\U \\t \\r \\n \\\\ \\\" \\[ \\] \\- are known)");
        }
        if (*cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
            return error_at(at, "the escape is not a Unicode scalar value");
        return true;
    }

    // ---- code points to UTF-8 byte sequences ---------------------------
    static uint32_t enc(uint32_t cp, uint8_t* b) {
        if (cp < 0x80) { b[0] = (uint8_t)cp; return 1; }
        if (cp < 0x800) { b[0] = (uint8_t)(0xC0 | (cp >> 6)); b[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
        if (cp < 0x10000) {
            b[0] = (uint8_t)(0xE0 | (cp >> 12)); b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (cp & 0x3F)); return 3;
        }
        b[0] = (uint8_t)(0xF0 | (cp >> 18)); b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (uint8_t)(0x80 | (cp & 0x3F)); return 4;
    }
    bool put_codepoint(uint32_t cp) {
        uint8_t b[4];
        const uint32_t n = enc(cp, b);
        for (uint32_t i = 0; i < n; ++i)
            if (!put(make(OP_BYTE, b[i]))) return false;
        return true;
    }
    // Visits the byte-range sequences of lo..hi (same encoded length),
    // split so that each byte position is one range (as RE2 does).
    template <class F>
    static void sequences(uint32_t lo, uint32_t hi, F& f) {
        static const uint32_t kMaxOf[4] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
        for (uint32_t i = 0; i < 3; ++i)
            if (lo <= kMaxOf[i] && hi > kMaxOf[i]) {
                sequences(lo, kMaxOf[i], f);
                sequences(kMaxOf[i] + 1, hi, f);
                return;
            }
        uint8_t a[4], b[4];
        const uint32_t n = enc(lo, a);
        enc(hi, b);
        for (uint32_t i = 1; i < n; ++i) {
            const uint32_t m = (1u << (6 * i)) - 1;
            if ((lo & ~m) != (hi & ~m)) {
                if ((lo & m) != 0) { sequences(lo, lo | m, f); sequences((lo | m) + 1, hi, f); return; }
                if ((hi & m) != m) { sequences(lo, (hi & ~m) - 1, f); sequences(hi & ~m, hi, f); return; }
            }
        }
        f(a, b, n);
    }
    // Emits the code point set r[n] (sorted, disjoint, no surrogates): one
    // element or sequence when it is one alternative, else a GROUP.
    bool put_set(const CpRange* r, uint32_t n) {
        uint8_t ascii[32] = {0};
        uint32_t n_ascii = 0, multi = 0;
        for (uint32_t i = 0; i < n; ++i)
            for (uint32_t c = r[i].lo; c <= r[i].hi && c < 0x80; ++c) ascii[c >> 3] |= (uint8_t)(1u << (c & 7)), ++n_ascii;
        struct Counter {
            uint32_t* k;
            void operator()(const uint8_t*, const uint8_t*, uint32_t n) { if (n > 1) ++*k; }
        } counter{&multi};
        for (uint32_t i = 0; i < n; ++i)
            if (r[i].hi >= 0x80) sequences(r[i].lo < 0x80 ? 0x80 : r[i].lo, r[i].hi, counter);
        const uint32_t alts = (n_ascii > 0 ? 1 : 0) + multi;
        const bool grouped = alts != 1;
        const uint32_t g = out->n_elems;
        if (grouped && !put(make(OP_GROUP, 0))) return false;
        if (n_ascii > 0) {
            const uint32_t a = out->n_elems;
            if (grouped && !put(make(OP_ALT, 0))) return false;
            if (!put_ascii(ascii, n_ascii)) return false;
            if (grouped) {
                if (!put(make(OP_RET, 0))) return false;
                patch(a, make(OP_ALT, out->n_elems - a - 1));
            }
        }
        struct Emitter {
            Parser* p;
            bool grouped, ok;
            void operator()(const uint8_t* a, const uint8_t* b, uint32_t n) {
                if (n == 1 || !ok) return;
                const uint32_t at = p->out->n_elems;
                ok = !grouped || p->put(make(OP_ALT, 0));
                for (uint32_t i = 0; i < n && ok; ++i)
                    ok = p->put(a[i] == b[i] ? make(OP_BYTE, a[i]) : make(OP_RANGE, a[i] | ((uint32_t)b[i] << 8)));
                if (ok && grouped) {
                    ok = p->put(make(OP_RET, 0));
                    p->patch(at, make(OP_ALT, p->out->n_elems - at - 1));
                }
            }
        } emit{this, grouped, true};
        for (uint32_t i = 0; i < n; ++i)
            if (r[i].hi >= 0x80) sequences(r[i].lo < 0x80 ? 0x80 : r[i].lo, r[i].hi, emit);
        if (!emit.ok) return false;
        if (grouped) patch(g, make(OP_GROUP, out->n_elems - g - 1));
        return true;
    }
    bool put_ascii(const uint8_t bits[32], uint32_t count) {
        int lo = -1, hi = -1;
        bool contiguous = true;
        for (int c = 0; c < 128; ++c)
            if ((bits[c >> 3] >> (c & 7)) & 1) {
                if (lo < 0) lo = c;
                else if (c != hi + 1) contiguous = false;
                hi = c;
            }
        if (count == 1) return put(make(OP_BYTE, (uint32_t)lo));
        if (contiguous) return put(make(OP_RANGE, (uint32_t)lo | ((uint32_t)hi << 8)));
        return put_class(bits);
    }

    // ---- grammar ------------------------------------------------------
    bool class_item() {
        const size_t at = pos;
        ++pos;  // [
        bool negated = false;
        if (peek() == '^') negated = true, ++pos;
        CpRange r[kMaxClassRanges];
        uint32_t n = 0;
        while (true) {
            if (at_end()) return error_at(at, "unterminated character class");
            if (t[pos] == ']') break;
            uint32_t lo, hi;
            if (!character(&lo)) return false;
            hi = lo;
            if (peek() == '-' && peek(1) != ']' && pos + 1 < len) {
                ++pos;
                if (!character(&hi)) return false;
                if (hi < lo) return error_at(at, "a character class range is backwards");
            }
            if (n == kMaxClassRanges) return error_at(at, "a character class has more than 256 ranges");
            r[n++] = CpRange{lo, hi};
        }
        ++pos;  // ]
        // sort (insertion: n <= 256), merge, complement, drop surrogates
        for (uint32_t i = 1; i < n; ++i)
            for (uint32_t j = i; j > 0 && r[j].lo < r[j - 1].lo; --j) {
                const CpRange x = r[j]; r[j] = r[j - 1]; r[j - 1] = x;
            }
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; ++i) {
            if (m > 0 && r[i].lo <= r[m - 1].hi + 1) {
                if (r[i].hi > r[m - 1].hi) r[m - 1].hi = r[i].hi;
            } else {
                r[m++] = r[i];
            }
        }
        CpRange s[kMaxClassRanges + 2];
        uint32_t k = 0;
        if (negated) {
            uint32_t next = 0;
            for (uint32_t i = 0; i < m; ++i) {
                if (r[i].lo > next) s[k++] = CpRange{next, r[i].lo - 1};
                next = r[i].hi + 1;
            }
            if (next <= 0x10FFFF) s[k++] = CpRange{next, 0x10FFFF};
        } else {
            for (uint32_t i = 0; i < m; ++i) s[k++] = r[i];
        }
        return put_set_without_surrogates(s, k);
    }
    bool put_set_without_surrogates(const CpRange* s, uint32_t k) {
        CpRange u[kMaxClassRanges + 4];
        uint32_t n = 0;
        for (uint32_t i = 0; i < k; ++i) {
            if (s[i].hi < 0xD800 || s[i].lo > 0xDFFF) { u[n++] = s[i]; continue; }
            if (s[i].lo < 0xD800) u[n++] = CpRange{s[i].lo, 0xD7FF};
            if (s[i].hi > 0xDFFF) u[n++] = CpRange{0xE000, s[i].hi};
        }
        return put_set(u, n);
    }

    bool literal_item() {
        const size_t at = pos;
        ++pos;  // "
        while (true) {
            if (at_end()) return error_at(at, "unterminated literal");
            if (t[pos] == '"') break;
            uint32_t cp;
            if (!character(&cp) || !put_codepoint(cp)) return false;
        }
        ++pos;
        return true;
    }

    bool number(uint32_t* v) {
        if (!(peek() >= '0' && peek() <= '9')) return error_at(pos, "expected a number");
        uint64_t x = 0;
        const size_t at = pos;
        while (peek() >= '0' && peek() <= '9') {
            x = x * 10 + (uint64_t)(t[pos] - '0');
            if (x > kMaxBound) return error_at(at, "a repetition bound above 65534");
            ++pos;
        }
        *v = (uint32_t)x;
        return true;
    }

    // Wraps the item at [item, n_elems) in REPEAT min..max.
    uint32_t wraps = 0;  // operators on the current item (its nesting is bounded)
    bool repeat(uint32_t item, uint32_t min, uint32_t max) {
        if (++wraps > 4) return error_at(pos - 1, "more than 4 repetition operators on one item");
        const uint32_t item_len = out->n_elems - item;
        if (!insert(item, 2) || !put(make(OP_RET, 0))) return false;
        patch(item, make(OP_REPEAT, item_len + 1));
        patch(item + 1, min | (max << 16));
        return true;
    }

    bool sequence(bool nested) {
        uint32_t last = UINT32_MAX;  // where the last item starts
        while (!at_end()) {
            const char c = t[pos];
            const uint32_t start = out->n_elems;
            if (c != '*' && c != '+' && c != '?' && c != '{') wraps = 0;
            if (c == '"') {
                if (!literal_item()) return false;
                last = start;
            } else if (c == '[') {
                if (!class_item()) return false;
                last = start;
            } else if (c == '.') {
                ++pos;
                const CpRange any{0, 0x10FFFF};
                if (!put_set_without_surrogates(&any, 1)) return false;
                last = start;
            } else if (word_char(c)) {
                const size_t name = pos;
                while (!at_end() && word_char(t[pos])) ++pos;
                if (name > kArgMask) return error_at(name, "the grammar text is longer than 256 MB");
                if (!put(make(OP_REF, (uint32_t)name))) return false;
                last = start;
            } else if (c == '(') {
                const size_t at = pos;
                if (++depth > kMaxNesting) return error_at(at, "parentheses nested more than 64 deep");
                ++pos;
                space(true);
                if (!alternatives(true)) return false;
                if (peek() != ')') return error_at(at, "expected ')' to close this '('");
                ++pos;
                --depth;
                wraps = 0;  // the group's own items are behind it
                last = start;
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                if (last == UINT32_MAX) return error_at(pos, "a repetition operator with nothing before it");
                uint32_t min = 0, max = kMaxInf;
                if (c == '+') min = 1;
                if (c == '?') max = 1;
                ++pos;
                if (c == '{') {
                    space(nested);
                    if (!number(&min)) return false;
                    space(nested);
                    max = min;
                    if (peek() == ',') {
                        ++pos;
                        space(nested);
                        max = kMaxInf;
                        if (peek() != '}' && !number(&max)) return false;
                        space(nested);
                    }
                    if (peek() != '}') return error_at(pos, "expected '}' after a repetition bound");
                    ++pos;
                    if (max < min) return error_at(pos - 1, "a repetition's maximum is below its minimum");
                }
                if (!repeat(last, min, max)) return false;
            } else {
                break;  // | ) newline: the sequence ends
            }
            space(nested);
        }
        return true;
    }

    bool alternatives(bool nested) {
        const uint32_t g = out->n_elems;
        if (!put(make(OP_GROUP, 0))) return false;
        while (true) {
            const uint32_t a = out->n_elems;
            if (!put(make(OP_ALT, 0)) || !sequence(nested) || !put(make(OP_RET, 0))) return false;
            patch(a, make(OP_ALT, out->n_elems - a - 1));
            if (peek() != '|') break;
            ++pos;
            space(true);
        }
        patch(g, make(OP_GROUP, out->n_elems - g - 1));
        return true;
    }

    bool rule() {
        const size_t name = pos;
        if (!word_char(peek())) return error_at(pos, "expected a rule name");
        while (!at_end() && word_char(t[pos])) ++pos;
        const uint32_t name_len = (uint32_t)(pos - name);
        space(false);
        if (!(peek() == ':' && peek(1) == ':' && peek(2) == '=')) return error_at(pos, "expected ::= after the rule name");
        pos += 3;
        space(true);
        if (!measuring) {
            if (out->n_rules >= cap.n_rules || out->names_bytes + name_len > cap.names_bytes)
                return error_at(name, "internal: rule count changed");
            Rule& r = out->rules[out->n_rules];
            r.start = out->n_elems;
            r.name_off = out->names_bytes;
            r.name_len = name_len;
            r.text_off = (uint32_t)name;
            std::memcpy(out->names + out->names_bytes, t + name, name_len);
        }
        out->n_rules++;
        out->names_bytes += name_len;
        if (!alternatives(false)) return false;
        if (peek() == ')') return error_at(pos, "a ')' without its '('");
        if (peek() == '\r') {
            pos += peek(1) == '\n' ? 2 : 1;
        } else if (peek() == '\n') {
            ++pos;
        } else if (!at_end()) {
            return error_at(pos, "expected a newline or the end after the rule");
        }
        space(true);
        return true;
    }
};

}  // namespace

void text_position(const char* text, size_t len, size_t off, uint32_t* line, uint32_t* col) {
    uint32_t l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; ++i) {
        if (text[i] == '\n') {
            ++l;
            c = 1;
        } else if ((text[i] & 0xC0) != 0x80) {
            ++c;
        }
    }
    *line = l;
    *col = c;
}

bool parse_gbnf(const char* text, size_t len, bool measuring, Parsed* out, Error* err) {
    Parser p{text, len, 0, measuring, out, *out, 0, err};
    if (text == nullptr && len > 0) return fail(err, "grammar: text is NULL");
    if (len > kArgMask) return fail(err, "grammar: the text is longer than 256 MB");
    out->n_elems = out->n_rules = out->n_classes = out->names_bytes = 0;
    p.space(true);
    if (p.at_end()) return fail(err, "grammar: no rules (the text is empty)");
    while (!p.at_end())
        if (!p.rule()) return false;
    return true;
}

}  // namespace gr
}  // namespace agm
