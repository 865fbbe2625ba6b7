// "pattern": the ECMA-262 regular-expression subset the converter takes, as
// a GBNF expression over the JSON-encoded content of the string.
//
// Taken: literals (UTF-8), '.', classes [...] with ranges, negation and the
// escapes below, groups (...) (?:...) (?<name>...), alternation, the
// quantifiers * + ? {n} {n,} {n,m} (lazy forms match the same strings),
// the escapes \d \D \w \W \s \S \t \n \r \f \v \0 \xHH \uHHHH \u{H...} and
// escaped punctuation, '^' at the start and '$' at the end of a top-level
// alternative. Refused, with the reason: backreferences, lookaround, word
// boundaries, \p{...}, \cX, '^' or '$' anywhere else, quantifiers on nothing,
// bounds above 65534.
//
// A pattern matches anywhere in the string (ECMA-262 search semantics): an
// alternative without '^' may be preceded by any characters, one without
// '$' followed by any. Each character the pattern names is written in the
// one form json_quote() gives it; the free characters around an unanchored
// match take every JSON form (the any_char rule).
#include "json_schema_internal.h"

namespace agm {
namespace schema {
namespace {

const CodeSet kDigit = {{'0', '9'}};
const CodeSet kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const CodeSet kSpace = {{0x09, 0x0D}, {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680},
                        {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                        {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const CodeSet kNotLineEnd = code_set_complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}});

class RegexParser {
public:
    RegexParser(const std::string& p, const std::string& any) : any_(any) { decode(p); }

    bool run(std::string* out, std::string* why) {
        if (!error_.empty()) return fail(why);
        std::vector<std::string> alts;
        for (;;) {
            bool anchored_start = false, anchored_end = false;
            if (peek() == '^') {
                ++pos_;
                anchored_start = true;
            }
            std::string seq;
            if (!sequence(0, &seq)) return fail(why);
            if (peek() == '$') {
                ++pos_;
                anchored_end = true;
                if (pos_ < cps_.size() && cps_[pos_] != '|') {
                    error_ = "'$' is taken only at the end of the pattern or of a top-level alternative";
                    return fail(why);
                }
            }
            std::string alt;
            if (!anchored_start) alt += any_ + "*";
            if (!seq.empty()) alt += (alt.empty() ? "" : " ") + seq;
            if (!anchored_end) alt += (alt.empty() ? "" : " ") + any_ + "*";
            alts.push_back(alt.empty() ? "\"\"" : alt);
            if (pos_ >= cps_.size()) break;
            if (cps_[pos_] != '|') {
                error_ = "unbalanced ')'";
                return fail(why);
            }
            ++pos_;
        }
        *out = join(alts);
        return true;
    }

private:
    static constexpr uint32_t kEnd = 0xFFFFFFFF;

    void decode(const std::string& s) {
        for (size_t i = 0; i < s.size();) {
            const unsigned char c = (unsigned char)s[i];
            uint32_t cp;
            size_t n;
            if (c < 0x80) { cp = c; n = 1; }
            else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 2; }
            else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 3; }
            else { cp = c & 0x07; n = 4; }
            for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
            cps_.push_back(cp);
            i += n;
        }
    }

    uint32_t peek() const { return pos_ < cps_.size() ? cps_[pos_] : kEnd; }

    bool fail(std::string* why) {
        *why = error_;
        return false;
    }

    bool err(const std::string& m) {
        if (error_.empty()) error_ = m;
        return false;
    }

    static std::string join(const std::vector<std::string>& alts) {
        if (alts.size() == 1) return alts[0];
        std::string o = "(";
        for (size_t i = 0; i < alts.size(); ++i) o += (i ? " | " : "") + alts[i];
        return o + ")";
    }

    // Items up to '|', ')' or the end (or '$' at depth 0, left for run()).
    bool sequence(int depth, std::string* out) {
        std::vector<std::string> items;
        for (;;) {
            const uint32_t c = peek();
            if (c == kEnd || c == '|' || c == ')') break;
            if (c == '$') {
                if (depth == 0) break;
                return err("'$' is taken only at the end of the pattern or of a top-level alternative");
            }
            if (c == '^') return err("'^' is taken only at the start of the pattern or of a top-level alternative");
            std::string atom;
            if (!this->atom(depth, &atom)) return false;
            if (!quantifier(&atom)) return false;
            if (!atom.empty()) items.push_back(atom);
        }
        std::string s;
        for (size_t i = 0; i < items.size(); ++i) s += (i ? " " : "") + items[i];
        *out = s;
        return true;
    }

    bool alternation(int depth, std::string* out) {
        std::vector<std::string> alts;
        for (;;) {
            std::string seq;
            if (!sequence(depth, &seq)) return false;
            alts.push_back(seq.empty() ? "\"\"" : seq);
            if (peek() != '|') break;
            ++pos_;
        }
        *out = join(alts);
        return true;
    }

    bool atom(int depth, std::string* out) {
        const uint32_t c = cps_[pos_++];
        if (c == '(') {
            if (depth >= 64) return err("groups nested deeper than 64");
            if (peek() == '?') {
                ++pos_;
                const uint32_t k = peek();
                if (k == ':') {
                    ++pos_;
                } else if (k == '<' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] != '=' && cps_[pos_ + 1] != '!') {
                    while (pos_ < cps_.size() && cps_[pos_] != '>') ++pos_;
                    if (pos_ >= cps_.size()) return err("unterminated group name");
                    ++pos_;
                } else {
                    return err("lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not implemented");
                }
            }
            std::string inner;
            if (!alternation(depth + 1, &inner)) return false;
            if (peek() != ')') return err("missing ')'");
            ++pos_;
            *out = "(" + (inner.empty() ? std::string("\"\"") : inner) + ")";
            return true;
        }
        if (c == '[') return char_class(out);
        if (c == '.') return set(kNotLineEnd, out);
        if (c == '*' || c == '+' || c == '?') return err("a quantifier follows nothing");
        if (c == '{' && counted_ahead()) return err("a quantifier follows nothing");
        if (c == '\\') {
            CodeSet s;
            if (!escape(false, &s)) return false;
            return set(s, out);
        }
        return set({{c, c}}, out);
    }

    bool set(const CodeSet& s, std::string* out) {
        *out = json_char_of(s);
        if (out->empty()) return err("a character class that matches nothing");
        return true;
    }

    // After '{' (at p): does a valid {n}, {n,} or {n,m} follow?
    bool counted_ahead() const { return counted_at(pos_); }
    bool counted_at(size_t p) const {
        bool digits = false;
        while (p < cps_.size() && cps_[p] >= '0' && cps_[p] <= '9') { ++p; digits = true; }
        if (!digits) return false;
        if (p < cps_.size() && cps_[p] == '}') return true;
        if (p >= cps_.size() || cps_[p] != ',') return false;
        ++p;
        while (p < cps_.size() && cps_[p] >= '0' && cps_[p] <= '9') ++p;
        return p < cps_.size() && cps_[p] == '}';
    }

    bool number(uint64_t* v) {
        uint64_t n = 0;
        while (peek() >= '0' && peek() <= '9') {
            n = n * 10 + (peek() - '0');
            if (n > kMaxRepeat) return err("a repetition bound above 65534");
            ++pos_;
        }
        *v = n;
        return true;
    }

    bool quantifier(std::string* atom) {
        const uint32_t c = peek();
        std::string q;
        if (c == '*' || c == '+' || c == '?') {
            ++pos_;
            q = std::string(1, (char)c);
        } else if (c == '{' && counted_at(pos_ + 1)) {
            ++pos_;
            uint64_t lo = 0, hi = 0;
            if (!number(&lo)) return false;
            bool open = false;
            if (peek() == ',') {
                ++pos_;
                if (peek() == '}') open = true;
                else if (!number(&hi)) return false;
            } else {
                hi = lo;
            }
            ++pos_;  // '}'
            if (!open && hi < lo) return err("a repetition {n,m} with m < n");
            q = "{" + std::to_string(lo) + (open ? "," : hi == lo ? "" : "," + std::to_string(hi)) + "}";
        } else {
            return true;  // no quantifier (a '{' that starts none is a literal)
        }
        if (peek() == '?') ++pos_;  // lazy: the same strings
        if (peek() == '*' || peek() == '+' || peek() == '?' || (peek() == '{' && counted_at(pos_ + 1)))
            return err("a quantifier follows a quantifier");
        *atom = "(" + *atom + ")" + q;
        return true;
    }

    static uint32_t hex_digit(uint32_t c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return 16;
    }

    bool hex(size_t n, uint32_t* v) {
        uint32_t x = 0;
        for (size_t i = 0; i < n; ++i) {
            const uint32_t d = hex_digit(peek());
            if (d > 15) return err("a malformed \\x or \\u escape");
            x = x * 16 + d;
            ++pos_;
        }
        *v = x;
        return true;
    }

    // After '\': the set it names. in_class: \b is a backspace.
    bool escape(bool in_class, CodeSet* s) {
        const uint32_t c = peek();
        if (c == kEnd) return err("the pattern ends with '\\'");
        ++pos_;
        uint32_t v = 0;
        switch (c) {
        case 'd': *s = kDigit; return true;
        case 'D': *s = code_set_complement(kDigit); return true;
        case 'w': *s = kWord; return true;
        case 'W': *s = code_set_complement(kWord); return true;
        case 's': *s = kSpace; return true;
        case 'S': *s = code_set_complement(kSpace); return true;
        case 't': v = '\t'; break;
        case 'n': v = '\n'; break;
        case 'r': v = '\r'; break;
        case 'f': v = '\f'; break;
        case 'v': v = '\v'; break;
        case '0':
            if (peek() >= '0' && peek() <= '9') return err("octal escapes are not implemented");
            v = 0;
            break;
        case 'x':
            if (!hex(2, &v)) return false;
            break;
        case 'u':
            if (peek() == '{') {
                ++pos_;
                v = 0;
                size_t n = 0;
                while (hex_digit(peek()) <= 15) {
                    v = v * 16 + hex_digit(peek());
                    if (v > 0x10FFFF) return err("a \\u{...} escape above U+10FFFF");
                    ++pos_;
                    ++n;
                }
                if (n == 0 || peek() != '}') return err("a malformed \\u{...} escape");
                ++pos_;
            } else if (!hex(4, &v)) {
                return false;
            }
            if (v >= 0xD800 && v <= 0xDFFF) return err("surrogate escapes (\\uD800-\\uDFFF) are not implemented");
            break;
        case 'b':
            if (in_class) { v = '\b'; break; }
            return err("word boundaries (\\b) are not implemented");
        case 'B': return err("word boundaries (\\B) are not implemented");
        case 'p': case 'P': return err("Unicode property escapes (\\p{...}) are not implemented");
        case 'c': return err("control escapes (\\cX) are not implemented");
        case 'k': return err("named backreferences (\\k<...>) are not implemented");
        default:
            if (c >= '1' && c <= '9') return err("backreferences are not implemented");
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                return err(std::string("the escape \\") + (char)c + " is not ECMA-262");
            }
            v = c;  // escaped punctuation (and any other character) stands for itself
        }
        *s = {{v, v}};
        return true;
    }

    bool char_class(std::string* out) {
        bool negated = false;
        if (peek() == '^') {
            negated = true;
            ++pos_;
        }
        CodeSet s;
        bool first = true;
        for (;;) {
            uint32_t c = peek();
            if (c == kEnd) return err("missing ']'");
            if (c == ']' && !first) {
                ++pos_;
                break;
            }
            if (c == ']') {  // "[]" matches nothing, "[^]" anything: ECMA-262
                ++pos_;
                if (negated) return set(code_set_complement({}), out);
                return err("a character class that matches nothing");
            }
            first = false;
            CodeSet lo_set;
            if (!class_atom(&lo_set)) return false;
            if (peek() == '-' && pos_ + 1 < cps_.size() && cps_[pos_ + 1] != ']') {
                ++pos_;
                CodeSet hi_set;
                if (!class_atom(&hi_set)) return false;
                if (lo_set.size() != 1 || hi_set.size() != 1 || lo_set[0].first != lo_set[0].second ||
                    hi_set[0].first != hi_set[0].second)
                    return err("a class range with a class escape (\\d, \\w, \\s) at an end");
                if (hi_set[0].first < lo_set[0].first) return err("a class range out of order");
                s.push_back({lo_set[0].first, hi_set[0].first});
            } else {
                s.insert(s.end(), lo_set.begin(), lo_set.end());
            }
        }
        if (negated) s = code_set_complement(s);
        else {
            // Surrogates are not characters.
            s = code_set_complement(code_set_complement(s));
        }
        return set(s, out);
    }

    bool class_atom(CodeSet* s) {
        const uint32_t c = cps_[pos_++];
        if (c == '\\') return escape(true, s);
        *s = {{c, c}};
        return true;
    }

    std::vector<uint32_t> cps_;
    size_t pos_ = 0;
    std::string any_;
    std::string error_;
};

}  // namespace

bool regex_to_gbnf(const std::string& pattern, const std::string& any_char, std::string* expr,
                   std::string* why) {
    RegexParser p(pattern, any_char);
    return p.run(expr, why);
}

}  // namespace schema
}  // namespace agm
