// The pre-tokenizer scanners. How each regex alternative reduces to a scan:
//
//   ' ?X+' (X a class): if the character after an optional ' ' is X, the
//     alternative takes the space and the run of X; otherwise it fails even
//     without the space (a space is not X), so at most one of the three
//     ' ?' alternatives applies and the class of that character picks it.
//   '\s+(?!\S)': \s+ takes the whole run of white space; at the end of the
//     text the lookahead holds; before a non-space it backtracks one
//     character, and the lookahead then sees a space: the run minus its last
//     character, or no match if the run is one character long.
//   '\s+': the whole run (reached only for a one-character run before a
//     non-space).
//   '\s*[\r\n]+' (LLaMA-3): \s* takes the run and backtracks until [\r\n]+
//     can start: the match ends after the last \r or \n of the run; no \r
//     or \n in it, no match.
//   '[^\r\n\p{L}\p{N}]?\p{L}+' (LLaMA-3): a letter run, with one character
//     before it if that character is neither \r, \n, a letter nor a number.
//   '(?i:'s|'t|'re|'ve|'m|'ll|'d)': Perl's case folding, under which the
//     only non-ASCII character equal to one of these letters is U+017F (long
//     s, folds to s).
// The alternatives are tried in the regex's order and the first that matches
// wins (no alternative can match empty). A position where nothing matches
// (possible in Falcon's first and third regexes, and before a single white
// space other than ' ' at the end of Falcon's second) joins the gap that
// becomes a piece of its own, as llama.cpp's regex splitting keeps it.
#include "pretokenize.h"

#include "agm/format.h"
#include "unicode_tables.h"

namespace agm {

const char* unicode_version() { return AGM_UNICODE_VERSION; }

uint8_t unicode_class(uint32_t cp) {
    if (cp < 128) return kAsciiClass[cp];
    if (cp > 0x10FFFF) return UC_OTHER;
    // The last run starting at or before cp: kUnicodeRuns[0] starts at 0.
    size_t lo = 0, hi = sizeof kUnicodeRuns / sizeof kUnicodeRuns[0];
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if ((kUnicodeRuns[mid] >> 3) <= cp) lo = mid;
        else hi = mid;
    }
    return (uint8_t)(kUnicodeRuns[lo] & 7);
}

size_t utf8_char(const uint8_t* s, size_t i, size_t n, uint32_t* cp) {
    const uint8_t b = s[i];
    const size_t left = n - i;
    auto cont = [&](size_t k, uint8_t lo, uint8_t hi) { return s[i + k] >= lo && s[i + k] <= hi; };
    *cp = kNotUtf8;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    // Unicode's Table 3-7, the well-formed UTF-8 byte sequences.
    if (b >= 0xC2 && b <= 0xDF) {
        if (left >= 2 && cont(1, 0x80, 0xBF)) {
            *cp = ((uint32_t)(b & 0x1F) << 6) | (s[i + 1] & 0x3F);
            return 2;
        }
    } else if (b >= 0xE0 && b <= 0xEF) {
        const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        if (left >= 3 && cont(1, lo, hi) && cont(2, 0x80, 0xBF)) {
            *cp = ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
            return 3;
        }
    } else if (b >= 0xF0 && b <= 0xF4) {
        const uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        if (left >= 4 && cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF)) {
            *cp = ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                  ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
            return 4;
        }
    }
    return 1;
}

namespace {

// A decoded character: its code point (kNotUtf8 for a stray byte), length, class.
struct Char {
    uint32_t cp;
    size_t len;
    uint8_t cls;
};

inline Char char_at(const uint8_t* s, size_t i, size_t end) {
    Char c;
    if (s[i] < 0x80) {
        c.cp = s[i];
        c.len = 1;
        c.cls = kAsciiClass[s[i]];
        return c;
    }
    c.len = utf8_char(s, i, end, &c.cp);
    c.cls = c.cp == kNotUtf8 ? (uint8_t)UC_OTHER : unicode_class(c.cp);
    return c;
}

// "[^\s\p{L}\p{N}]": punctuation and everything else that is not a space.
inline bool is_other(uint8_t cls) { return cls == UC_OTHER || cls == UC_PUNCT; }
inline bool is_crlf(uint32_t cp) { return cp == '\r' || cp == '\n'; }

// The end of the run of characters from i that satisfy pred(Char).
template <class Pred>
size_t run_end(const uint8_t* s, size_t i, size_t end, Pred pred) {
    while (i < end) {
        const Char c = char_at(s, i, end);
        if (!pred(c)) break;
        i += c.len;
    }
    return i;
}

// '\s+(?!\S)' then (tail) '\s+' at i, where a space starts.
size_t match_space_run(const uint8_t* s, size_t i, size_t end, bool tail) {
    size_t j = i, last = i;  // last: where the run's last character starts
    while (j < end) {
        const Char c = char_at(s, j, end);
        if (c.cls != UC_SPACE) break;
        last = j;
        j += c.len;
    }
    if (j == end) return j;  // the lookahead holds at the end of the piece
    if (last > i) return last;
    return tail ? j : i;
}

// 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, ASCII).
size_t match_contraction(const uint8_t* s, size_t i, size_t end) {
    if (s[i] != '\'' || i + 1 >= end) return i;
    const uint8_t a = s[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 < end) {
        const uint8_t b = s[i + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    return i;
}

// The same under Perl's (?i:): ASCII letters either case, U+017F as s.
uint32_t fold(uint32_t cp) {
    if (cp >= 'A' && cp <= 'Z') return cp + 32;
    return cp == 0x17F ? (uint32_t)'s' : cp;
}

size_t match_contraction_i(const uint8_t* s, size_t i, size_t end) {
    if (s[i] != '\'' || i + 1 >= end) return i;
    const Char a = char_at(s, i + 1, end);
    const uint32_t fa = fold(a.cp);
    if (fa == 's' || fa == 't' || fa == 'm' || fa == 'd') return i + 1 + a.len;
    if ((fa == 'r' || fa == 'v' || fa == 'l') && i + 1 + a.len < end) {
        const Char b = char_at(s, i + 1 + a.len, end);
        const uint32_t fb = fold(b.cp);
        if ((fa != 'l' && fb == 'e') || (fa == 'l' && fb == 'l')) return i + 1 + a.len + b.len;
    }
    return i;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(const uint8_t* s, size_t i, size_t end, bool tail) {
    const size_t k = match_contraction(s, i, end);
    if (k > i) return k;
    const size_t j = (s[i] == ' ' && i + 1 < end) ? i + 1 : i;
    const Char c = char_at(s, j, end);
    if (c.cls == UC_LETTER)
        return run_end(s, j + c.len, end, [](const Char& x) { return x.cls == UC_LETTER; });
    if (c.cls == UC_NUMBER)
        return run_end(s, j + c.len, end, [](const Char& x) { return x.cls == UC_NUMBER; });
    if (is_other(c.cls)) return run_end(s, j + c.len, end, [](const Char& x) { return is_other(x.cls); });
    // c is a space (after an optional ' ', or the ' ' itself): the ' ?'
    // alternatives fail at i too, since i holds a space.
    return match_space_run(s, i, end, tail);
}

// LLaMA-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
size_t match_llama3(const uint8_t* s, size_t i, size_t end) {
    const size_t k = match_contraction_i(s, i, end);
    if (k > i) return k;
    const Char c = char_at(s, i, end);
    auto letter = [](const Char& x) { return x.cls == UC_LETTER; };
    if (c.cls == UC_LETTER) return run_end(s, i + c.len, end, letter);
    if (c.cls != UC_NUMBER && !is_crlf(c.cp) && i + c.len < end) {
        const Char d = char_at(s, i + c.len, end);
        if (d.cls == UC_LETTER) return run_end(s, i + c.len + d.len, end, letter);
    }
    if (c.cls == UC_NUMBER) {
        size_t j = i + c.len;
        for (int n = 1; n < 3 && j < end; n++) {
            const Char d = char_at(s, j, end);
            if (d.cls != UC_NUMBER) break;
            j += d.len;
        }
        return j;
    }
    const size_t j = (s[i] == ' ' && i + 1 < end) ? i + 1 : i;
    const Char o = j == i ? c : char_at(s, j, end);
    if (is_other(o.cls)) {
        const size_t r = run_end(s, j + o.len, end, [](const Char& x) { return is_other(x.cls); });
        return run_end(s, r, end, [](const Char& x) { return is_crlf(x.cp); });
    }
    // c is a space: \s*[\r\n]+ ends after the run's last \r or \n.
    size_t after_nl = i;
    for (size_t p = i; p < end;) {
        const Char d = char_at(s, p, end);
        if (d.cls != UC_SPACE) break;
        p += d.len;
        if (is_crlf(d.cp)) after_nl = p;
    }
    if (after_nl > i) return after_nl;
    return match_space_run(s, i, end, true);
}

// [\p{P}\$\+<=>\^~\|`]+
size_t match_falcon_punct(const uint8_t* s, size_t i, size_t end) {
    return run_end(s, i, end, [](const Char& x) {
        return x.cls == UC_PUNCT || x.cp == '$' || x.cp == '+' || x.cp == '<' || x.cp == '=' || x.cp == '>' ||
               x.cp == '^' || x.cp == '~' || x.cp == '|' || x.cp == '`';
    });
}

size_t match_digits3(const uint8_t* s, size_t i, size_t end) {
    auto digit = [](uint8_t b) { return b >= '0' && b <= '9'; };
    return end - i >= 3 && digit(s[i]) && digit(s[i + 1]) && digit(s[i + 2]) ? i + 3 : i;
}

}  // namespace

size_t PreTokenizer::match(Regex rx, const uint8_t* s, size_t pos, size_t end) {
    switch (rx) {
        case RX_GPT2: return match_gpt2(s, pos, end, true);
        case RX_GPT2_NO_TAIL: return match_gpt2(s, pos, end, false);
        case RX_LLAMA3: return match_llama3(s, pos, end);
        case RX_FALCON_PUNCT: return match_falcon_punct(s, pos, end);
        case RX_DIGITS3: return match_digits3(s, pos, end);
    }
    return pos;
}

void PreTokenizer::Level::reset(Regex r, size_t b, size_t e) {
    rx = r;
    pos = b;
    end = e;
    pend_b = pend_e = 0;
    pending = false;
}

bool PreTokenizer::Level::next(const uint8_t* s, size_t* b, size_t* e) {
    if (pending) {
        pending = false;
        *b = pend_b;
        *e = pend_e;
        return true;
    }
    const size_t gap = pos;
    while (pos < end) {
        const size_t m = match(rx, s, pos, end);
        if (m > pos) {
            if (gap < pos) {  // the unmatched text before this match first
                *b = gap;
                *e = pos;
                pend_b = pos;
                pend_e = m;
                pending = true;
            } else {
                *b = pos;
                *e = m;
            }
            pos = m;
            return true;
        }
        uint32_t cp;
        pos += utf8_char(s, pos, end, &cp);  // retry one character on, as a regex search does
    }
    if (gap < end) {
        *b = gap;
        *e = end;
        return true;
    }
    return false;
}

PreTokenizer::PreTokenizer(uint32_t style, const uint8_t* text, size_t len) : s_(text) {
    switch (style) {
        case AGM_PRE_GPT2:
            rx_[0] = RX_GPT2;
            n_levels_ = 1;
            break;
        case AGM_PRE_LLAMA3:
            rx_[0] = RX_LLAMA3;
            n_levels_ = 1;
            break;
        case AGM_PRE_FALCON:
            rx_[0] = RX_FALCON_PUNCT;
            rx_[1] = RX_GPT2_NO_TAIL;
            rx_[2] = RX_DIGITS3;
            n_levels_ = 3;
            break;
        default:
            n_levels_ = 0;
            break;
    }
    if (n_levels_ == 0) {  // the whole text as one piece
        level_[0].reset(RX_GPT2, 0, len);
        level_[0].pend_b = 0;
        level_[0].pend_e = len;
        level_[0].pending = len > 0;
        level_[0].pos = len;
        n_levels_ = 1;
    } else {
        level_[0].reset(rx_[0], 0, len);
    }
    depth_ = 1;
}

bool PreTokenizer::next(size_t* b, size_t* e) {
    // Depth-first: a piece of level d is split by level d + 1; the pieces of
    // the last level are the pre-tokens.
    while (depth_ > 0) {
        Level& l = level_[depth_ - 1];
        size_t pb, pe;
        if (!l.next(s_, &pb, &pe)) {
            depth_--;
            continue;
        }
        if (depth_ == n_levels_) {
            *b = pb;
            *e = pe;
            return true;
        }
        level_[depth_].reset(rx_[depth_], pb, pe);
        depth_++;
    }
    return false;
}

}  // namespace agm
