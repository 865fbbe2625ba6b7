// The JSON Schema converter's walk over views (agm/json_schema.h). The
// class is split over json_schema.cpp (views, references, anyOf/oneOf,
// enum/const) and json_schema_kinds.cpp (strings, numbers, arrays,
// objects). Internal to agm_schema.
#ifndef AGM_JSON_SCHEMA_WALK_H
#define AGM_JSON_SCHEMA_WALK_H

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agm/json_schema.h"
#include "agmodel.h"
#include "json_schema_internal.h"

namespace agm {
namespace schema {

enum : uint8_t {  // value kinds; "number" is Num|Int
    kNull = 1, kBool = 2, kObject = 4, kArray = 8, kString = 16, kNum = 32, kInt = 64, kAllKinds = 127
};
enum : uint8_t { kDoneAllOf = 1, kDoneAnyOf = 2, kDoneOneOf = 4, kDoneRef = 8 };

struct Member {
    const JsonValue* s;
    std::string ptr;  // JSON pointer of s in the document ("" is the root)
    uint8_t done;     // combinators of s already taken apart
};
using View = std::vector<Member>;

struct Expr {
    std::string text;
    bool empty = false;  // no value satisfies the view
};

inline const char* const kAnnotations[] = {
    "$schema", "$id", "$comment", "title", "description", "default", "examples", "deprecated",
    "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "contentSchema", "$vocabulary",
    "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$defs", "definitions"};
inline const char* const kImplemented[] = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems",
    "minItems", "maxItems", "anyOf", "oneOf", "allOf", "$ref", "minLength", "maxLength", "pattern",
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
inline const char* const kRefused[] = {
    "multipleOf", "uniqueItems", "not", "if", "contains", "minContains", "maxContains",
    "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependentRequired",
    "dependentSchemas", "dependencies", "unevaluatedItems", "unevaluatedProperties", "$dynamicRef",
    "$recursiveRef"};
inline const char* const kFormats[] = {"date", "time", "date-time", "uuid", "email"};

template <size_t N>
inline bool listed(const char* const (&list)[N], const std::string& k) {
    for (const char* x : list)
        if (k == x) return true;
    return false;
}

inline std::string pointer_token(const std::string& key) {
    std::string o;
    for (const char c : key) {
        if (c == '~') o += "~0";
        else if (c == '/') o += "~1";
        else o += c;
    }
    return o;
}

inline std::string shown_ptr(const std::string& p) { return p.empty() ? "/" : json_printable(p, 120); }

inline bool json_equal(const JsonValue& a, const JsonValue& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
    case JsonType::Null: return true;
    case JsonType::Bool: return a.boolean() == b.boolean();
    case JsonType::Number:
        if (a.fits_int64() && b.fits_int64()) return a.int64() == b.int64();
        return a.number() == b.number();
    case JsonType::String: return a.text() == b.text();
    case JsonType::Array:
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!json_equal(a.at(i), b.at(i))) return false;
        return true;
    case JsonType::Object:
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i) {
            const JsonValue* o = b.find(a.key(i));
            if (o == nullptr || !json_equal(a.at(i), *o)) return false;
        }
        return true;
    }
    return false;
}

inline uint8_t kind_of(const JsonValue& v) {
    switch (v.type()) {
    case JsonType::Null: return kNull;
    case JsonType::Bool: return kBool;
    case JsonType::Object: return kObject;
    case JsonType::Array: return kArray;
    case JsonType::String: return kString;
    case JsonType::Number: {
        const double d = v.number();
        return (v.is_integer() || (std::isfinite(d) && d == std::floor(d))) ? kInt : kNum;
    }
    }
    return 0;
}

// The kinds a "type" keyword admits (an unknown name: all; compile() refuses it).
inline uint8_t type_kinds(const JsonValue& t) {
    uint8_t k = 0;
    const size_t n = t.is_array() ? t.size() : 1;
    for (size_t i = 0; i < n; ++i) {
        const std::string& name = (t.is_array() ? t.at(i) : t).text();
        k |= name == "null" ? kNull : name == "boolean" ? kBool : name == "object" ? kObject
           : name == "array" ? kArray : name == "string" ? kString : name == "number" ? (kNum | kInt)
           : name == "integer" ? kInt : kAllKinds;
    }
    return k;
}

// A number as the grammar writes it: an integral value up to 2^53 as a
// decimal integer (1.0, 1e2 and -0 are 1, 100 and 0), others as written.
inline void write_number(const JsonValue& v, std::string* out) {
    const double d = v.number();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
        *out += std::to_string(d == 0 ? (int64_t)0 : (int64_t)d);
        return;
    }
    *out += v.text();
}

// A value in the form the grammar writes it (compact or spaced separators).
inline void write_value(const JsonValue& v, const char* comma, const char* colon, std::string* out) {
    switch (v.type()) {
    case JsonType::Array:
        *out += '[';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) *out += comma;
            write_value(v.at(i), comma, colon, out);
        }
        *out += ']';
        return;
    case JsonType::Object:
        *out += '{';
        for (size_t i = 0; i < v.size(); ++i) {
            if (i) *out += comma;
            *out += json_quote(v.key(i));
            *out += colon;
            write_value(v.at(i), comma, colon, out);
        }
        *out += '}';
        return;
    case JsonType::Number: write_number(v, out); return;
    default: json_serialize(v, out);
    }
}

inline std::string alternation(const std::vector<std::string>& alts) {
    if (alts.size() == 1) return alts[0];
    std::string o = "(";
    for (size_t i = 0; i < alts.size(); ++i) o += (i ? " | " : "") + alts[i];
    return o + ")";
}

class Converter {
public:
    Converter(const JsonValue& root, const SchemaOptions& o, Error* err)
        : root_(root), opt_(o), err_(err) {
        comma_ = o.whitespace == SchemaOptions::Whitespace::Spaced ? ", " : ",";
        colon_ = o.whitespace == SchemaOptions::Whitespace::Spaced ? ": " : ":";
    }

    bool run(std::string* gbnf) {
        if (!check_ids(root_, "", false)) return false;
        Expr e;
        if (!compile(View{Member{&root_, "", 0}}, 0, &e)) return false;
        if (too_many_rules_) return false;
        if (e.empty) return fail("schema: no value is valid for this schema");
        std::string out = "root ::= " + e.text + "\n";
        for (const auto& r : rules_) out += r.first + " ::= " + r.second + "\n";
        // The grammar engine's checks (left recursion through a $ref that
        // writes nothing first, sizes) are the converter's too.
        agm_grammar* g = nullptr;
        agm_error ge;
        const agm_status st = agm_grammar_create(nullptr, out.data(), out.size(), nullptr, &g, &ge);
        agm_grammar_free(g);
        if (st != AGM_OK) return fail("schema: its grammar is refused: %s", ge.message);
        *gbnf = out;
        return true;
    }

    // The rule for any value of a primitive kind, added with what it uses.
    std::string use(const std::string& name) {
        if (rule_index_.count(name)) return name;
        add_rule(name, "");  // the name first: the rules below may refer back to it
        const std::string q = "\"\\\"\"";
        const std::string c = gbnf_literal(comma_), k = gbnf_literal(colon_);
        std::string body;
        if (name == "value") {
            body = use("object") + " | " + use("array") + " | " + use("string") + " | " + use("number") + " | " +
                   use("boolean") + " | " + use("null");
        } else if (name == "object") {
            const std::string kv = use("string") + " " + k + " " + use("value");
            set_rule(name, "\"{\" (" + kv + " (" + c + " " + kv + ")*)? \"}\"");
            return name;
        } else if (name == "array") {
            set_rule(name, "\"[\" (" + use("value") + " (" + c + " " + use("value") + ")*)? \"]\"");
            return name;
        } else if (name == "string") {
            body = q + " " + use("char") + "* " + q;
        } else if (name == "char") {
            body = "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" " + use("hex4") + ")";
        } else if (name == "hex4") {  // four hex digits, not a surrogate
            body = "[0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}";
        } else if (name == "keychar") {
            body = "[^\"\\\\\\x00-\\x1F]";
        } else if (name == "integer") {
            body = "\"-\"? (\"0\" | [1-9] [0-9]{0,15})";  // at most 16 digits: see the header
        } else if (name == "number") {
            body = "\"-\"? (\"0\" | [1-9] [0-9]{0,15}) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?";
        } else if (name == "boolean") {
            body = "\"true\" | \"false\"";
        } else if (name == "null") {
            body = "\"null\"";
        }
        set_rule(name, body);
        return name;
    }

private:
    bool fail(const char* fmt, const std::string& a = "", const std::string& b = "",
              const std::string& c = "") {
        return agm::fail(err_, fmt, a.c_str(), b.c_str(), c.c_str());
    }

    bool add_rule(const std::string& name, const std::string& body) {
        if (rules_.size() >= opt_.max_rules) {
            too_many_rules_ = true;  // sticky: use() cannot return the failure
            return fail("schema: the grammar would need more than %s rules", std::to_string(opt_.max_rules));
        }
        rule_index_[name] = rules_.size();
        rules_.push_back({name, body});
        return true;
    }
    void set_rule(const std::string& name, const std::string& body) {
        const auto it = rule_index_.find(name);
        if (it != rule_index_.end()) rules_[it->second].second = body;
    }

    std::string unique_name(const std::string& hint) {
        std::string base;
        for (const char ch : hint) {
            const bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
            if (word) base += ch;
            else if (!base.empty() && base.back() != '-') base += '-';
            if (base.size() >= 40) break;
        }
        while (!base.empty() && base.back() == '-') base.pop_back();
        std::string name = "s-" + base;
        for (uint32_t n = 2; rule_index_.count(name); ++n) name = "s-" + base + "-" + std::to_string(n);
        return name;
    }

    // A nested $id changes what "#..." means below it: refused together with $ref.
    bool check_ids(const JsonValue& s, const std::string& ptr, bool nested) {
        if (!s.is_object()) return true;
        if (++walked_ > 100000) return fail("schema: too large (more than 100000 subschemas)");
        if (nested && s.find("$id") != nullptr) nested_id_ = ptr;
        if (const JsonValue* r = s.find("$ref")) has_ref_ = true, (void)r;
        const char* const one[] = {"items", "additionalProperties", "not", "if", "then", "else", "contains",
                                   "propertyNames", "unevaluatedItems", "unevaluatedProperties"};
        const char* const many[] = {"prefixItems", "anyOf", "oneOf", "allOf"};
        const char* const named[] = {"properties", "$defs", "definitions", "patternProperties",
                                     "dependentSchemas"};
        for (const char* k : one)
            if (const JsonValue* v = s.find(k))
                if (!check_ids(*v, ptr + "/" + k, true)) return false;
        for (const char* k : many)
            if (const JsonValue* v = s.find(k))
                if (v->is_array())
                    for (size_t i = 0; i < v->size(); ++i)
                        if (!check_ids(v->at(i), ptr + "/" + k + "/" + std::to_string(i), true)) return false;
        for (const char* k : named)
            if (const JsonValue* v = s.find(k))
                if (v->is_object())
                    for (size_t i = 0; i < v->size(); ++i)
                        if (!check_ids(v->at(i), ptr + "/" + k + "/" + pointer_token(v->key(i)), true))
                            return false;
        if (!nested && has_ref_ && !nested_id_.empty())
            return fail("schema: %s: $id in a subschema is not implemented together with $ref "
                        "(it changes what a reference points to)",
                        shown_ptr(nested_id_));
        return true;
    }

    // The target of a local reference ("#", "#/a/b" with ~0 ~1 and %XX).
    bool resolve(const Member& m, const std::string& ref, const JsonValue** target, std::string* tptr) {
        const std::string where = shown_ptr(m.ptr);
        if (ref.empty() || ref[0] != '#')
            return fail("schema: %s: $ref \"%s\": only references inside the schema (#/...) are implemented",
                        where, json_printable(ref));
        std::string p;
        for (size_t i = 1; i < ref.size(); ++i) {
            if (ref[i] == '%' && i + 2 < ref.size() + 0 && std::isxdigit((unsigned char)ref[i + 1]) &&
                std::isxdigit((unsigned char)ref[i + 2])) {
                p += (char)std::stoi(ref.substr(i + 1, 2), nullptr, 16);
                i += 2;
            } else {
                p += ref[i];
            }
        }
        if (!p.empty() && p[0] != '/')
            return fail("schema: %s: $ref \"%s\": anchors are not implemented (use a JSON pointer, #/$defs/...)",
                        where, json_printable(ref));
        const JsonValue* v = &root_;
        size_t i = 0;
        while (i < p.size()) {
            size_t j = p.find('/', i + 1);
            if (j == std::string::npos) j = p.size();
            std::string tok;
            for (size_t k = i + 1; k < j; ++k) {
                if (p[k] == '~' && k + 1 < j && (p[k + 1] == '0' || p[k + 1] == '1')) {
                    tok += p[k + 1] == '0' ? '~' : '/';
                    ++k;
                } else {
                    tok += p[k];
                }
            }
            const JsonValue* next = nullptr;
            if (v->is_object()) {
                next = v->find(tok);
            } else if (v->is_array() && !tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos &&
                       tok.size() < 10 && std::stoul(tok) < v->size()) {
                next = &v->at(std::stoul(tok));
            }
            if (next == nullptr)
                return fail("schema: %s: $ref \"%s\" points to nothing", where, json_printable(ref));
            v = next;
            i = j;
        }
        *target = v;
        *tptr = p;
        return true;
    }

    // True when s restricts values beyond what is already taken apart.
    bool restricts(const Member& m) const {
        if (m.s->is_bool()) return !m.s->boolean();
        for (size_t i = 0; i < m.s->size(); ++i) {
            const std::string& k = m.s->key(i);
            if (k == "allOf" && (m.done & kDoneAllOf)) continue;
            if (k == "anyOf" && (m.done & kDoneAnyOf)) continue;
            if (k == "oneOf" && (m.done & kDoneOneOf)) continue;
            if (k == "$ref" && (m.done & kDoneRef)) continue;
            if (listed(kImplemented, k) || listed(kRefused, k)) return true;
        }
        return false;
    }

    static bool only_ref(const Member& m) {
        if (!m.s->is_object() || m.s->find("$ref") == nullptr || (m.done & kDoneRef)) return false;
        for (size_t i = 0; i < m.s->size(); ++i) {
            const std::string& k = m.s->key(i);
            if (k != "$ref" && (listed(kImplemented, k) || listed(kRefused, k))) return false;
        }
        return true;
    }

    // Refuses the keywords that restrict values and are not implemented.
    bool check_keywords(const Member& m) {
        if (!m.s->is_object()) return true;
        const JsonValue& s = *m.s;
        for (size_t i = 0; i < s.size(); ++i) {
            const std::string& k = s.key(i);
            const JsonValue& v = s.at(i);
            if (!listed(kRefused, k)) continue;
            // Values that restrict nothing.
            if (k == "uniqueItems" && v.is_bool() && !v.boolean()) continue;
            if ((k == "minContains" || k == "maxContains") && s.find("contains") == nullptr) continue;
            if (k == "minProperties" && v.is_number() && v.number() <= 0) continue;
            if (opt_.ignore_unsupported) continue;
            return fail("schema: %s: \"%s\" is not implemented (it restricts values; the converter refuses "
                        "rather than accept values the schema does not; an option ignores such keywords)",
                        shown_ptr(m.ptr + "/" + pointer_token(k)), json_printable(k));
        }
        if (const JsonValue* f = s.find("format")) {
            if (!f->is_string()) return fail("schema: %s: format must be a string", shown_ptr(m.ptr + "/format"));
            if (!listed(kFormats, f->text()) && !opt_.ignore_unsupported)
                return fail("schema: %s: format \"%s\" is not implemented (implemented: date, time, date-time, "
                            "uuid, email; an option ignores it)",
                            shown_ptr(m.ptr + "/format"), json_printable(f->text()));
        }
        return true;
    }

    bool schema_array(const Member& m, const char* key, const JsonValue** out) {
        const JsonValue* v = m.s->find(key);
        if (v == nullptr) { *out = nullptr; return true; }
        if (!v->is_array() || v->size() == 0)
            return fail("schema: %s: %s must be a non-empty array of schemas", shown_ptr(m.ptr + "/" + key), key);
        *out = v;
        return true;
    }

    bool compile(View v, uint32_t depth, Expr* out);
    bool compile_ref(const Member& m, uint32_t depth, Expr* out);
    bool compile_split(View v, size_t at, const char* key, uint32_t depth, Expr* out);
    bool compile_values(const View& v, Expr* out);
    bool compile_string(const View& v, Expr* out);
    bool compile_number(const View& v, bool integer, Expr* out);
    bool compile_array(const View& v, uint32_t depth, Expr* out);
    bool compile_object(const View& v, uint32_t depth, Expr* out);
    bool may_overlap(const JsonValue& a, const JsonValue& b, uint32_t depth);
    bool kinds_and_values(const JsonValue& s, uint32_t depth, uint8_t* kinds,
                          std::vector<const JsonValue*>* values, bool* have_values);
    std::string key_not_in(const std::vector<std::string>& names);

    bool nonneg_int(const Member& m, const char* key, bool* has, uint64_t* out) {
        const JsonValue* x = m.s->find(key);
        if (x == nullptr) return true;
        const double d = x->number();
        if (!x->is_number() || !(d >= 0) || d != std::floor(d))
            return fail("schema: %s: %s must be a non-negative integer", shown_ptr(m.ptr + "/" + key), key);
        *has = true;
        *out = d > 1e18 ? (uint64_t)1e18 : (uint64_t)d;
        return true;
    }

    const JsonValue& root_;
    SchemaOptions opt_;
    Error* err_;
    std::string comma_, colon_;
    std::vector<std::pair<std::string, std::string>> rules_;
    std::map<std::string, size_t> rule_index_;
    struct RefRule {
        std::string name;
        bool in_progress = true, used_in_progress = false, empty = false;
    };
    std::map<std::string, RefRule> refs_;
    uint64_t walked_ = 0, compiled_ = 0;
    bool has_ref_ = false, too_many_rules_ = false;
    std::string nested_id_;
};

}  // namespace schema
}  // namespace agm

#endif
