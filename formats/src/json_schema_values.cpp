// GBNF for the JSON Schema converter's scalar values: literals, character
// sets inside JSON strings, integer and number ranges written digit by
// digit, and the string formats. The regular-expression subset is in
// json_schema_regex.cpp.
#include <algorithm>
#include <cstdio>

#include "json_schema_internal.h"

namespace agm {
namespace schema {
namespace {

std::string hex_escape(uint32_t cp) {
    char b[16];
    if (cp <= 0xFFFF)
        std::snprintf(b, sizeof b, "\\u%04X", (unsigned)cp);
    else
        std::snprintf(b, sizeof b, "\\U%08X", (unsigned)cp);
    return b;
}

// The same-length decimal strings from a to b (a <= b, equal lengths).
std::string digits_between(const std::string& a, const std::string& b) {
    if (a.empty()) return "";
    if (a == b) return gbnf_literal(a);
    const size_t rest = a.size() - 1;
    const std::string ra = a.substr(1), rb = b.substr(1);
    if (a[0] == b[0]) return gbnf_literal(a.substr(0, 1)) + " " + digits_between(ra, rb);
    const bool low_full = ra.find_first_not_of('0') == std::string::npos;
    const bool high_full = rb.find_first_not_of('9') == std::string::npos;
    const auto tail = [&](size_t n) { return n == 0 ? std::string() : " [0-9]{" + std::to_string(n) + "}"; };
    const auto cls = [](char lo, char hi) {
        return lo == hi ? gbnf_literal(std::string(1, lo)) : std::string("[") + lo + "-" + hi + "]";
    };
    std::vector<std::string> alts;
    char mid_lo = (char)(a[0] + 1), mid_hi = (char)(b[0] - 1);
    if (low_full) mid_lo = a[0];
    else alts.push_back(gbnf_literal(a.substr(0, 1)) + " " + digits_between(ra, std::string(rest, '9')));
    if (high_full) mid_hi = b[0];
    if (mid_lo <= mid_hi) alts.push_back(cls(mid_lo, mid_hi) + tail(rest));
    if (!high_full) alts.push_back(gbnf_literal(b.substr(0, 1)) + " " + digits_between(std::string(rest, '0'), rb));
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// The most digits an unbounded integer part or a fraction is written with:
// 16 (past what a double holds exactly), so that a model cannot write digits
// forever. The free "integer" and "number" rules use the same bound.
constexpr size_t kMaxDigits = 16;

uint64_t pow10(size_t n) {
    uint64_t p = 1;
    while (n-- > 0) p *= 10;
    return p;
}

// Non-negative integers in [lo, hi] (hi_inf: no bound), no leading zeros.
std::string unsigned_range(uint64_t lo, uint64_t hi, bool hi_inf) {
    const size_t dl = std::to_string(lo).size();
    const size_t dh = hi_inf ? dl : std::to_string(hi).size();
    std::vector<std::string> alts;
    for (size_t d = dl; d <= dh; ++d) {
        const uint64_t first = d == 1 ? 0 : pow10(d - 1);
        const uint64_t last = pow10(d) - 1;
        const uint64_t a = std::max(lo, first), b = hi_inf ? last : std::min(hi, last);
        if (a <= b) alts.push_back(digits_between(std::to_string(a), std::to_string(b)));
    }
    // No upper bound: up to kMaxDigits digits (a value past 10^16 is not written).
    if (hi_inf && dl < kMaxDigits) alts.push_back("[1-9] [0-9]{" + std::to_string(dl) + "," + std::to_string(kMaxDigits - 1) + "}");
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

std::string join_alts(const std::vector<std::string>& alts) {
    if (alts.empty()) return "";
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// Non-negative numbers I(.F)? with lo <(=) x <(=) hi (integers; hi_inf: none).
std::string magnitude_range(uint64_t lo, bool lo_excl, uint64_t hi, bool hi_inf, bool hi_excl) {
    // At most kMaxDigits fraction digits (the zeros before the first other digit, and those after).
    const std::string n = std::to_string(kMaxDigits), n1 = std::to_string(kMaxDigits - 1);
    const std::string any_frac = "(\".\" [0-9]{1," + n + "})?";
    const std::string zero_frac = "(\".\" \"0\"{1," + n + "})?";
    const std::string nonzero_frac = "\".\" \"0\"{0," + n1 + "} [1-9] [0-9]{0," + n1 + "}";
    std::vector<std::string> alts;
    // Integer parts whose every fraction is inside: [A, B].
    const uint64_t a = lo_excl ? lo + 1 : lo;
    if (hi_inf) {
        alts.push_back(unsigned_range(a, 0, true) + " " + any_frac);
    } else if (hi >= 1 && a <= hi - 1) {
        alts.push_back(unsigned_range(a, hi - 1, false) + " " + any_frac);
    }
    if (lo_excl && (hi_inf || hi > lo)) alts.push_back(gbnf_literal(std::to_string(lo)) + " " + nonzero_frac);
    if (!hi_inf && !hi_excl && (hi > lo || (hi == lo && !lo_excl)))
        alts.push_back(gbnf_literal(std::to_string(hi)) + " " + zero_frac);
    return join_alts(alts);
}

uint64_t magnitude(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

}  // namespace

std::string gbnf_literal(const std::string& bytes) {
    std::string out = "\"";
    for (const char ch : bytes) {
        const unsigned char c = (unsigned char)ch;
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            out += b;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

CodeSet code_set_normalize(CodeSet s) {
    std::sort(s.begin(), s.end());
    CodeSet out;
    for (const auto& r : s) {
        if (r.first > r.second) continue;
        if (!out.empty() && r.first <= out.back().second + 1) {
            out.back().second = std::max(out.back().second, r.second);
        } else {
            out.push_back(r);
        }
    }
    return out;
}

CodeSet code_set_complement(const CodeSet& s) {
    const CodeSet in = code_set_normalize(s);
    CodeSet out;
    uint32_t next = 0;
    for (const auto& r : in) {
        if (r.first > next) out.push_back({next, r.first - 1});
        next = r.second + 1;
    }
    if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
    // Surrogates are not characters.
    CodeSet cut;
    for (const auto& r : out) {
        if (r.second < 0xD800 || r.first > 0xDFFF) { cut.push_back(r); continue; }
        if (r.first < 0xD800) cut.push_back({r.first, 0xD7FF});
        if (r.second > 0xDFFF) cut.push_back({0xE000, r.second});
    }
    return cut;
}

std::string json_char_of(const CodeSet& set_in) {
    const CodeSet set = code_set_normalize(set_in);
    // The characters written as themselves: U+0020 and above but '"' and '\\'.
    const CodeSet direct_all = {{0x20, 0x21}, {0x23, 0x5B}, {0x5D, 0xD7FF}, {0xE000, 0x10FFFF}};
    std::string cls;
    for (const auto& r : set) {
        for (const auto& d : direct_all) {
            const uint32_t a = std::max(r.first, d.first), b = std::min(r.second, d.second);
            if (a > b) continue;
            cls += a == b ? hex_escape(a) : hex_escape(a) + "-" + hex_escape(b);
        }
    }
    std::vector<std::string> alts;
    if (!cls.empty()) alts.push_back("[" + cls + "]");
    const auto has = [&](uint32_t c) {
        for (const auto& r : set)
            if (r.first <= c && c <= r.second) return true;
        return false;
    };
    for (uint32_t c = 0; c < 0x20; ++c) {
        if (!has(c)) continue;
        switch (c) {
        case '\b': alts.push_back("\"\\\\b\""); break;
        case '\f': alts.push_back("\"\\\\f\""); break;
        case '\n': alts.push_back("\"\\\\n\""); break;
        case '\r': alts.push_back("\"\\\\r\""); break;
        case '\t': alts.push_back("\"\\\\t\""); break;
        default: {
            char b[16];
            std::snprintf(b, sizeof b, "\"\\\\u%04X\"", (unsigned)c);
            alts.push_back(b);
        }
        }
    }
    if (has(0x22)) alts.push_back("\"\\\\\\\"\"");
    if (has(0x5C)) alts.push_back("\"\\\\\\\\\"");
    return join_alts(alts);
}

std::string integer_range(bool has_lo, int64_t lo, bool has_hi, int64_t hi) {
    std::vector<std::string> alts;
    // x >= 0 part.
    if (!has_hi || hi >= 0) {
        const uint64_t a = has_lo && lo > 0 ? (uint64_t)lo : 0;
        alts.push_back(unsigned_range(a, has_hi ? (uint64_t)hi : 0, !has_hi));
    }
    // x < 0 part: "-" and a magnitude of at least 1.
    if (!has_lo || lo < 0) {
        const uint64_t m_lo = has_hi && hi < 0 ? magnitude(hi) : 1;
        alts.push_back("\"-\" " + unsigned_range(m_lo, has_lo ? magnitude(lo) : 0, !has_lo));
    }
    return join_alts(alts);
}

std::string number_range(bool has_lo, int64_t lo, bool lo_excl, bool has_hi, int64_t hi,
                         bool hi_excl) {
    std::vector<std::string> alts;
    // x >= 0 (zero written without a sign).
    const bool pos = !has_hi || hi > 0 || (hi == 0 && !hi_excl);
    if (pos) {
        const bool from_lo = has_lo && lo >= 0;
        const std::string r = magnitude_range(from_lo ? (uint64_t)lo : 0, from_lo && lo_excl,
                                              has_hi ? (uint64_t)hi : 0, !has_hi, hi_excl);
        if (!r.empty()) alts.push_back(r);
    }
    // x < 0: "-" and a magnitude m > 0 with -m inside.
    if (!has_lo || lo < 0) {
        const bool to_hi = has_hi && hi < 0;
        const uint64_t m_lo = to_hi ? magnitude(hi) : 0;
        const bool m_lo_excl = to_hi ? hi_excl : true;
        const std::string r = magnitude_range(m_lo, m_lo_excl, has_lo ? magnitude(lo) : 0, !has_lo,
                                              has_lo && lo_excl);
        if (!r.empty()) alts.push_back("\"-\" " + r);
    }
    return join_alts(alts);
}

bool format_rules(const std::string& format, std::vector<std::pair<std::string, std::string>>* rules,
                  std::string* content) {
    const auto add_date = [&] {
        // 0001-9999; February 29 in leap years only.
        rules->push_back({"fmt-year", "[1-9] [0-9]{3} | \"0\" ([1-9] [0-9]{2} | \"0\" ([1-9] [0-9] | \"0\" [1-9]))"});
        rules->push_back({"fmt-leap", "[0-9]{2} (\"0\" [48] | [2468] [048] | [13579] [26]) | "
                                      "(\"0\" [48] | [2468] [048] | [13579] [26]) \"00\""});
        rules->push_back({"fmt-d28", "\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-8]"});
        rules->push_back({"fmt-date",
                          "fmt-year \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (fmt-d28 | \"29\" | \"3\" [01]) | "
                          "(\"0\" [469] | \"11\") \"-\" (fmt-d28 | \"29\" | \"30\") | \"02-\" fmt-d28) | "
                          "fmt-leap \"-02-29\""});
    };
    const auto add_time = [&] {
        rules->push_back({"fmt-time",
                          "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,9})? "
                          "(\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])"});
    };
    if (format == "date") {
        add_date();
        *content = "fmt-date";
    } else if (format == "time") {
        add_time();
        *content = "fmt-time";
    } else if (format == "date-time") {
        add_date();
        add_time();
        *content = "fmt-date \"T\" fmt-time";
    } else if (format == "uuid") {
        rules->push_back({"fmt-uuid", "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" "
                                      "[0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}"});
        *content = "fmt-uuid";
    } else if (format == "email") {
        // A dot-atom local part (no dot first, last or twice running) of at most 64 octets, dots
        // included (RFC 5321 4.5.3.1.1): up to 64 characters without a dot, or up to 32 dotted
        // (an exact count of both would take a rule per length); a host name of two or three
        // labels of at most 62 bytes each, so that the whole address stays within RFC 5321's 254
        // octets (64 + 1 + 3 * 62 + 2 = 253; 63-byte labels would allow 256).
        rules->push_back({"fmt-atext", "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"});
        rules->push_back({"fmt-label", "[A-Za-z0-9] ([A-Za-z0-9-]{0,60} [A-Za-z0-9])?"});
        rules->push_back({"fmt-local", "fmt-atext{1,64} | fmt-atext (\".\"? fmt-atext){0,31}"});
        rules->push_back({"fmt-email", "fmt-local \"@\" fmt-label (\".\" fmt-label){1,2}"});
        *content = "fmt-email";
    } else {
        return false;
    }
    return true;
}

}  // namespace schema
}  // namespace agm
