// JSON Schema to GBNF: strings, numbers, arrays and objects of a view
// (json_schema_walk.h). Each reads its keywords across every member of the
// view: the tightest bound wins, properties and items of all members apply
// at once.
#include <algorithm>
#include <cmath>
#include <set>

#include "json_schema_walk.h"

namespace agm {
namespace schema {
namespace {

const std::string kQuote = "\"\\\"\"";  // GBNF for the byte '"'

// expr repeated lo..hi times (hi_inf: no bound), as GBNF.
std::string repeat(const std::string& expr, uint64_t lo, uint64_t hi, bool hi_inf) {
    if (!hi_inf && hi == 0) return "";
    const std::string g = "(" + expr + ")";
    if (hi_inf) {
        if (lo == 0) return g + "*";
        if (lo == 1) return g + "+";
        return g + "{" + std::to_string(lo) + ",}";
    }
    if (lo == 0 && hi == 1) return g + "?";
    if (lo == hi) return lo == 1 ? g : g + "{" + std::to_string(lo) + "}";
    return g + "{" + std::to_string(lo) + "," + std::to_string(hi) + "}";
}

std::string seq(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return a + " " + b;
}

}  // namespace

bool Converter::compile_string(const View& v, Expr* out) {
    bool has_min = false, has_max = false;
    uint64_t min_len = 0, max_len = 0;
    std::set<std::string> patterns, formats;
    for (const Member& m : v) {
        bool h = false;
        uint64_t x = 0;
        if (!nonneg_int(m, "minLength", &h, &x)) return false;
        if (h) min_len = has_min ? std::max(min_len, x) : x, has_min = true;
        h = false;
        if (!nonneg_int(m, "maxLength", &h, &x)) return false;
        if (h) max_len = has_max ? std::min(max_len, x) : x, has_max = true;
        if (const JsonValue* p = m.s->find("pattern")) {
            if (!p->is_string()) return fail("schema: %s: pattern must be a string", shown_ptr(m.ptr + "/pattern"));
            patterns.insert(p->text());
        }
        if (const JsonValue* f = m.s->find("format"))
            if (listed(kFormats, f->text())) formats.insert(f->text());  // others: refused or ignored
    }
    const std::string where = shown_ptr(v[0].ptr);
    if (has_min && min_len == 0) has_min = false;
    if (has_max && has_min && max_len < min_len) {
        out->empty = true;
        return true;
    }
    if (formats.size() > 1) return fail("schema: %s: two formats for one string are not implemented", where);
    if (patterns.size() > 1) return fail("schema: %s: two patterns for one string are not implemented", where);
    const bool lengths = has_min || has_max;
    if (!formats.empty() && (lengths || !patterns.empty()))
        return fail("schema: %s: format together with minLength, maxLength or pattern is not implemented", where);
    if (!patterns.empty() && lengths)
        return fail("schema: %s: pattern together with minLength or maxLength is not implemented", where);
    if (!formats.empty()) {
        std::vector<std::pair<std::string, std::string>> add;
        std::string content;
        format_rules(*formats.begin(), &add, &content);
        for (const auto& r : add)
            if (!rule_index_.count(r.first) && !add_rule(r.first, r.second)) return false;
        out->text = kQuote + " " + content + " " + kQuote;
        return true;
    }
    if (!patterns.empty()) {
        std::string expr, why;
        if (!regex_to_gbnf(*patterns.begin(), use("char"), &expr, &why))
            return fail("schema: %s: pattern \"%s\": %s", shown_ptr(v[0].ptr + "/pattern"),
                        json_printable(*patterns.begin()), why);
        out->text = kQuote + " " + expr + " " + kQuote;
        return true;
    }
    if (!lengths) {
        out->text = use("string");
        return true;
    }
    if (min_len > kMaxRepeat) return fail("schema: %s: minLength above 65534 is not implemented", where);
    // A longer limit than the dialect's bound is cut to it: fewer strings, still valid ones.
    if (has_max && max_len > kMaxRepeat) max_len = kMaxRepeat;
    out->text = kQuote + " " + seq(repeat(use("char"), min_len, max_len, !has_max), kQuote);
    return true;
}

bool Converter::compile_number(const View& v, bool integer, Expr* out) {
    bool has_lo = false, lo_excl = false, has_hi = false, hi_excl = false;
    double lo = 0, hi = 0;
    const char* const keys[] = {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"};
    for (const Member& m : v) {
        for (int k = 0; k < 4; ++k) {
            const JsonValue* x = m.s->find(keys[k]);
            if (x == nullptr) continue;
            const double d = x->number();
            if (!x->is_number() || !std::isfinite(d))
                return fail("schema: %s: %s must be a finite number", shown_ptr(m.ptr + "/" + keys[k]), keys[k]);
            if (!integer && d != std::floor(d))
                return fail("schema: %s: %s %s on a number: only integral bounds are implemented for numbers "
                            "(use an integer type, or integral bounds)",
                            shown_ptr(m.ptr + "/" + keys[k]), keys[k], x->text());
            const bool excl = k == 1 || k == 3;
            if (k < 2) {
                if (!has_lo || d > lo || (d == lo && excl)) lo = d, lo_excl = excl, has_lo = true;
            } else {
                if (!has_hi || d < hi || (d == hi && excl)) hi = d, hi_excl = excl, has_hi = true;
            }
        }
    }
    if (!has_lo && !has_hi) {
        out->text = use(integer ? "integer" : "number");
        return true;
    }
    // Bounds beyond +-10^15 are brought in to it: fewer values, all valid, and exact digits.
    const double kLimit = 1e15;
    if (has_lo && lo < -kLimit) lo = -kLimit, lo_excl = false;
    if (has_hi && hi > kLimit) hi = kLimit, hi_excl = false;
    if (has_lo && lo > kLimit) { out->empty = true; return true; }
    if (has_hi && hi < -kLimit) { out->empty = true; return true; }
    if (integer) {
        const int64_t a = has_lo ? (int64_t)(lo_excl ? std::floor(lo) + 1 : std::ceil(lo)) : 0;
        const int64_t b = has_hi ? (int64_t)(hi_excl ? std::ceil(hi) - 1 : std::floor(hi)) : 0;
        if (has_lo && has_hi && b < a) {
            out->empty = true;
            return true;
        }
        out->text = integer_range(has_lo, a, has_hi, b);
        return true;
    }
    out->text = number_range(has_lo, (int64_t)lo, lo_excl, has_hi, (int64_t)hi, hi_excl);
    if (out->text.empty()) out->empty = true;
    return true;
}

bool Converter::compile_array(const View& v, uint32_t depth, Expr* out) {
    bool has_min = false, has_max = false;
    uint64_t min_n = 0, max_n = 0;
    size_t prefix = 0;
    for (const Member& m : v) {
        bool h = false;
        uint64_t x = 0;
        if (!nonneg_int(m, "minItems", &h, &x)) return false;
        if (h) min_n = has_min ? std::max(min_n, x) : x, has_min = true;
        h = false;
        if (!nonneg_int(m, "maxItems", &h, &x)) return false;
        if (h) max_n = has_max ? std::min(max_n, x) : x, has_max = true;
        if (const JsonValue* p = m.s->find("prefixItems")) {
            if (!p->is_array()) return fail("schema: %s: prefixItems must be an array", shown_ptr(m.ptr + "/prefixItems"));
            prefix = std::max(prefix, p->size());
        }
    }
    if (has_max && max_n < prefix) prefix = (size_t)max_n;
    // The schemas of element i (i >= prefix: of every element after the prefixes).
    const auto element_view = [&](size_t i) {
        View w;
        for (const Member& m : v) {
            const JsonValue* p = m.s->find("prefixItems");
            if (p != nullptr && i < p->size()) {
                w.push_back(Member{&p->at(i), m.ptr + "/prefixItems/" + std::to_string(i), 0});
            } else if (const JsonValue* it = m.s->find("items")) {
                w.push_back(Member{it, m.ptr + "/items", 0});
            }
        }
        return w;
    };
    std::vector<std::string> elems;
    size_t cap = prefix;  // elements with a grammar before the first impossible one
    bool capped = false;
    for (size_t i = 0; i < prefix; ++i) {
        Expr e;
        const View w = element_view(i);
        if (!(w.empty() ? (e.text = use("value"), true) : compile(w, depth + 1, &e))) return false;
        if (e.empty) {
            cap = i;
            capped = true;
            break;
        }
        elems.push_back(e.text);
    }
    Expr rest;
    if (!capped) {
        const View w = element_view(prefix);
        if (!(w.empty() ? (rest.text = use("value"), true) : compile(w, depth + 1, &rest))) return false;
    }
    // Longest array: the first impossible element, or maxItems.
    bool max_inf = !has_max;
    uint64_t max_len = has_max ? max_n : 0;
    if (capped || rest.empty) {
        const uint64_t c = capped ? cap : prefix;
        if (max_inf || c < max_len) max_len = c;
        max_inf = false;
    }
    if (has_min && !max_inf && min_n > max_len) {
        out->empty = true;
        return true;
    }
    if (min_n > kMaxRepeat) return fail("schema: %s: minItems above 65534 is not implemented", shown_ptr(v[0].ptr));
    if (!max_inf && max_len > kMaxRepeat) max_len = kMaxRepeat;
    const std::string comma = gbnf_literal(comma_);
    // From the last element back: body(i) = the elements from i on, given i
    // elements were written before (so a comma comes first when i > 0).
    const size_t n_prefix = elems.size();
    std::string body;
    {
        // After the prefix elements: the rest, each with its comma.
        const uint64_t rest_min = min_n > n_prefix ? min_n - n_prefix : 0;
        const bool rest_open = max_inf;
        const uint64_t rest_max = max_inf ? 0 : (max_len > n_prefix ? max_len - n_prefix : 0);
        if (!rest.empty && (rest_open || rest_max > 0)) {
            if (n_prefix > 0) {
                body = repeat(comma + " " + rest.text, rest_min, rest_max, rest_open);
            } else if (rest_min >= 1) {
                body = seq(rest.text, repeat(comma + " " + rest.text, rest_min - 1, rest_open ? 0 : rest_max - 1, rest_open));
            } else {
                body = "(" + seq(rest.text, repeat(comma + " " + rest.text, 0, rest_open ? 0 : rest_max - 1, rest_open)) + ")?";
            }
        }
    }
    for (size_t i = n_prefix; i-- > 0;) {
        const std::string item = (i > 0 ? comma + " " : std::string()) + elems[i];
        if (i < min_n) body = seq(item, body);
        else body = "(" + seq(item, body) + ")?";
    }
    out->text = seq("\"[\"", seq(body, "\"]\""));
    return true;
}

// Object keys other than `names`, written without escapes: a trie of the
// names walked code point by code point.
std::string Converter::key_not_in(const std::vector<std::string>& names) {
    struct Node {
        std::map<uint32_t, size_t> kids;
        bool end = false;
    };
    std::vector<Node> t(1);
    for (const std::string& n : names) {
        size_t at = 0;
        for (size_t i = 0; i < n.size();) {
            const unsigned char c = (unsigned char)n[i];
            const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
            uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
            for (size_t k = 1; k < len && i + k < n.size(); ++k) cp = (cp << 6) | ((unsigned char)n[i + k] & 0x3F);
            i += len;
            auto it = t[at].kids.find(cp);
            if (it == t[at].kids.end()) {
                t.push_back(Node());
                it = t[at].kids.emplace(cp, t.size() - 1).first;
            }
            at = it->second;
        }
        t[at].end = true;
    }
    const std::string any = use("keychar");
    // Bottom-up over the nodes (children are created after their parent).
    std::vector<std::string> expr(t.size());
    for (size_t i = t.size(); i-- > 0;) {
        CodeSet other = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
        std::vector<std::string> alts;
        for (const auto& kid : t[i].kids) {
            other.push_back({kid.first, kid.first});
            if (kid.first < 0x20 || kid.first == '"' || kid.first == '\\') continue;  // never in such a key
            std::string lit;
            const uint32_t c = kid.first;
            if (c < 0x80) lit += (char)c;
            else if (c < 0x800) lit += (char)(0xC0 | (c >> 6)), lit += (char)(0x80 | (c & 0x3F));
            else if (c < 0x10000)
                lit += (char)(0xE0 | (c >> 12)), lit += (char)(0x80 | ((c >> 6) & 0x3F)), lit += (char)(0x80 | (c & 0x3F));
            else
                lit += (char)(0xF0 | (c >> 18)), lit += (char)(0x80 | ((c >> 12) & 0x3F)),
                    lit += (char)(0x80 | ((c >> 6) & 0x3F)), lit += (char)(0x80 | (c & 0x3F));
            alts.push_back(seq(gbnf_literal(lit), expr[kid.second]));
        }
        const std::string first = json_char_of(code_set_complement(other));
        if (!first.empty()) alts.push_back(first + " " + any + "*");
        std::string e = alternation(alts);
        if (alts.size() == 1 && alts[0].find(' ') != std::string::npos) e = "(" + e + ")";
        expr[i] = t[i].end ? e : "(" + e + ")?";
        if (alts.empty()) expr[i] = "";
    }
    // The name must differ from every one listed: the empty key only if "" is not listed.
    return seq(kQuote, seq(expr[0], kQuote));
}

bool Converter::compile_object(const View& v, uint32_t depth, Expr* out) {
    // No member says anything about objects: any object, in the value forms.
    bool about_objects = false;
    for (const Member& m : v)
        for (const char* k : {"properties", "required", "additionalProperties"}) about_objects |= m.s->find(k) != nullptr;
    if (!about_objects) {
        out->text = use("object");
        return true;
    }
    std::vector<std::string> names;
    std::set<std::string> declared, required;
    std::vector<std::string> required_order;
    bool extras = false;
    for (const Member& m : v) {
        if (const JsonValue* p = m.s->find("properties")) {
            if (!p->is_object()) return fail("schema: %s: properties must be an object", shown_ptr(m.ptr + "/properties"));
            for (size_t i = 0; i < p->size(); ++i)
                if (declared.insert(p->key(i)).second) names.push_back(p->key(i));
        }
        if (const JsonValue* r = m.s->find("required")) {
            if (!r->is_array()) return fail("schema: %s: required must be an array of strings", shown_ptr(m.ptr + "/required"));
            for (size_t i = 0; i < r->size(); ++i) {
                if (!r->at(i).is_string())
                    return fail("schema: %s: required must be an array of strings", shown_ptr(m.ptr + "/required"));
                if (required.insert(r->at(i).text()).second) required_order.push_back(r->at(i).text());
            }
        }
        if (m.s->find("additionalProperties")) extras = true;
    }
    for (const std::string& r : required_order)
        if (declared.insert(r).second) names.push_back(r);
    // The schemas of member k (nullptr: of a member no properties name).
    const auto member_view = [&](const std::string* k) {
        View w;
        for (const Member& m : v) {
            const JsonValue* p = m.s->find("properties");
            const JsonValue* s = (k != nullptr && p != nullptr) ? p->find(*k) : nullptr;
            if (s != nullptr) w.push_back(Member{s, m.ptr + "/properties/" + pointer_token(*k), 0});
            else if (const JsonValue* a = m.s->find("additionalProperties"))
                w.push_back(Member{a, m.ptr + "/additionalProperties", 0});
        }
        return w;
    };
    struct Item {
        std::string expr;  // key, colon, value
        bool required;
    };
    std::vector<Item> items;
    const std::string colon = gbnf_literal(colon_), comma = gbnf_literal(comma_);
    for (const std::string& k : names) {
        const View w = member_view(&k);
        Expr e;
        if (!(w.empty() ? (e.text = use("value"), true) : compile(w, depth + 1, &e))) return false;
        const bool req = required.count(k) > 0;
        if (e.empty) {
            if (req) {
                out->empty = true;
                return true;
            }
            continue;
        }
        items.push_back(Item{gbnf_literal(json_quote(k) + colon_) + " " + e.text, req});
    }
    (void)colon;
    std::string extra;  // one additional member, key to value
    if (extras) {
        const View w = member_view(nullptr);
        Expr e;
        if (!(w.empty() ? (e.text = use("value"), true) : compile(w, depth + 1, &e))) return false;
        size_t longest = 0;
        for (const std::string& k : names) longest = std::max(longest, k.size());
        // A name past 1024 bytes keeps the key trie from growing unbounded: no extras then (still sound).
        if (!e.empty && longest <= 1024)
            extra = key_not_in(names) + " " + gbnf_literal(colon_) + " " + e.text;
    }
    // rest(j): members j.. after at least one was written: each with its comma.
    std::vector<std::string> rest(items.size() + 1);
    rest[items.size()] = extra.empty() ? "" : "(" + comma + " " + extra + ")*";
    for (size_t j = items.size(); j-- > 0;) {
        const std::string one = comma + " " + items[j].expr;
        rest[j] = seq(items[j].required ? one : "(" + one + ")?", rest[j + 1]);
    }
    // The first member written is f: every member before it is optional.
    size_t first_req = items.size();
    for (size_t j = 0; j < items.size(); ++j)
        if (items[j].required) { first_req = j; break; }
    std::vector<std::string> alts;
    const bool use_rules = first_req > 2;  // rest(j) used twice over: name it
    std::vector<std::string> rest_name(items.size() + 1);
    if (use_rules) {
        const std::string base = unique_name("obj " + v[0].ptr);
        for (size_t j = items.size() + 1; j-- > 1;) {
            rest_name[j] = base + "-" + std::to_string(j);
            const std::string one = comma + " " + (j < items.size() ? items[j].expr : "");
            std::string body = j == items.size() ? rest[j]
                                                 : seq(items[j].required ? one : "(" + one + ")?", rest_name[j + 1]);
            if (body.empty()) body = "\"\"";
            if (!add_rule(rest_name[j], body)) return false;
        }
    }
    for (size_t f = 0; f <= first_req && f < items.size(); ++f)
        alts.push_back(seq(items[f].expr, use_rules ? rest_name[f + 1] : rest[f + 1]));
    std::string body;
    if (first_req == items.size()) {  // nothing required: also the members the schema does not name, or none
        if (!extra.empty()) alts.push_back(seq(extra, rest[items.size()]));
        body = alts.empty() ? "" : "(" + alternation(alts) + ")?";
        if (alts.size() == 1 && body.empty()) body = "";
    } else {
        body = alternation(alts);
    }
    out->text = seq("\"{\"", seq(body, "\"}\""));
    return true;
}

}  // namespace schema
}  // namespace agm
