// JSON Schema to GBNF: the schema walk (agm/json_schema.h).
//
// A schema is compiled as a *view*: the list of schemas a value must satisfy
// at once. allOf adds its subschemas to the view, a $ref adds its target,
// and each keyword is read across the whole view (properties of every
// member, the largest minLength, the smallest maxItems, ...), so allOf
// needs no merging rules of its own. anyOf and oneOf split the view into one
// alternative per branch. A view that is a lone $ref becomes a rule of its
// own, which is how recursive schemas stay finite.
//
// The value forms the grammar writes are described in the header; the
// scalar pieces are in json_schema_values.cpp and json_schema_regex.cpp.
#include "agm/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "json_schema_walk.h"

namespace agm {
namespace schema {

bool Converter::compile(View v, uint32_t depth, Expr* out) {
    if (depth > opt_.max_depth)
        return fail("schema: %s: subschemas nested deeper than %s", shown_ptr(v[0].ptr),
                    std::to_string(opt_.max_depth));
    if (++compiled_ > 200000) return fail("schema: too large to convert (more than 200000 subschemas visited)");
    uint32_t expansions = 0;
    for (bool changed = true; changed;) {
        changed = false;
        View kept;
        for (const Member& m : v) {
            if (!m.s->is_bool() && !m.s->is_object())
                return fail("schema: %s: a schema must be an object or a boolean", shown_ptr(m.ptr));
            if (m.s->is_bool() && !m.s->boolean()) {
                out->empty = true;
                return true;
            }
            if (restricts(m)) kept.push_back(m);
        }
        v.swap(kept);
        if (v.empty()) {
            out->text = use("value");
            return true;
        }
        if (v.size() == 1 && only_ref(v[0])) return compile_ref(v[0], depth, out);
        for (size_t i = 0; i < v.size(); ++i) {
            const JsonValue* all = nullptr;
            if (!(v[i].done & kDoneAllOf) && !schema_array(v[i], "allOf", &all)) return false;
            if (all != nullptr && !(v[i].done & kDoneAllOf)) {
                v[i].done |= kDoneAllOf;
                const std::string p = v[i].ptr;
                for (size_t k = 0; k < all->size(); ++k)
                    v.push_back(Member{&all->at(k), p + "/allOf/" + std::to_string(k), 0});
                changed = true;
            }
            const JsonValue* ref = v[i].s->is_object() ? v[i].s->find("$ref") : nullptr;
            if (ref != nullptr && !(v[i].done & kDoneRef)) {
                if (!ref->is_string()) return fail("schema: %s: $ref must be a string", shown_ptr(v[i].ptr + "/$ref"));
                if (++expansions > opt_.max_depth)
                    return fail("schema: %s: a recursive $ref beside other keywords (or in allOf) is not "
                                "implemented",
                                shown_ptr(v[i].ptr + "/$ref"));
                const JsonValue* t;
                std::string tp;
                if (!resolve(v[i], ref->text(), &t, &tp)) return false;
                v[i].done |= kDoneRef;
                v.push_back(Member{t, tp, 0});
                changed = true;
            }
        }
    }
    for (const Member& m : v)
        if (!check_keywords(m)) return false;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].s->is_bool()) continue;
        if (!(v[i].done & kDoneAnyOf) && v[i].s->find("anyOf")) return compile_split(v, i, "anyOf", depth, out);
        if (!(v[i].done & kDoneOneOf) && v[i].s->find("oneOf")) return compile_split(v, i, "oneOf", depth, out);
    }
    // Values given one by one.
    for (const Member& m : v)
        if (m.s->find("enum") || m.s->find("const")) return compile_values(v, out);
    uint8_t kinds = kAllKinds;
    for (const Member& m : v) {
        const JsonValue* t = m.s->find("type");
        if (t == nullptr) continue;
        uint8_t k = 0;
        const size_t n = t->is_array() ? t->size() : 1;
        for (size_t i = 0; i < n; ++i) {
            const JsonValue& x = t->is_array() ? t->at(i) : *t;
            const std::string& name = x.text();
            if (!x.is_string()) return fail("schema: %s: type must be a string or an array of strings", shown_ptr(m.ptr + "/type"));
            if (name == "null") k |= kNull;
            else if (name == "boolean") k |= kBool;
            else if (name == "object") k |= kObject;
            else if (name == "array") k |= kArray;
            else if (name == "string") k |= kString;
            else if (name == "number") k |= kNum | kInt;
            else if (name == "integer") k |= kInt;
            else return fail("schema: %s: unknown type \"%s\"", shown_ptr(m.ptr + "/type"), json_printable(name));
        }
        kinds &= k;
    }
    std::vector<std::string> alts;
    Expr e;
    const auto take = [&](bool ok) {
        if (!ok) return false;
        if (!e.empty) alts.push_back(e.text);
        e = Expr();
        return true;
    };
    if ((kinds & kNull) && !take((e.text = "\"null\"", true))) return false;
    if ((kinds & kBool) && !take((e.text = "(\"true\" | \"false\")", true))) return false;
    if ((kinds & kObject) && !take(compile_object(v, depth, &e))) return false;
    if ((kinds & kArray) && !take(compile_array(v, depth, &e))) return false;
    if ((kinds & kString) && !take(compile_string(v, &e))) return false;
    if ((kinds & (kNum | kInt)) && !take(compile_number(v, !(kinds & kNum), &e))) return false;
    if (alts.empty()) {
        out->empty = true;
        return true;
    }
    out->text = alternation(alts);
    return true;
}

bool Converter::compile_ref(const Member& m, uint32_t depth, Expr* out) {
    const JsonValue* t;
    std::string tp;
    if (!resolve(m, m.s->find("$ref")->text(), &t, &tp)) return false;
    auto it = refs_.find(tp);
    if (it != refs_.end()) {
        if (it->second.in_progress) it->second.used_in_progress = true;
        if (it->second.empty) {
            out->empty = true;
            return true;
        }
        out->text = it->second.name;
        return true;
    }
    RefRule r;
    r.name = unique_name("ref " + tp);
    if (!add_rule(r.name, "")) return false;
    const std::string name = r.name;
    refs_[tp] = r;
    Expr e;
    if (!compile(View{Member{t, tp, 0}}, depth + 1, &e)) return false;
    RefRule& done = refs_[tp];
    done.in_progress = false;
    if (e.empty) {
        if (done.used_in_progress)
            return fail("schema: %s: no finite value is valid for this recursive schema", shown_ptr(tp));
        done.empty = true;
        set_rule(name, "\"\"");  // never referenced
        out->empty = true;
        return true;
    }
    set_rule(name, e.text);
    out->text = name;
    return true;
}

// anyOf / oneOf of member `at`: one alternative per branch.
bool Converter::compile_split(View v, size_t at, const char* key, uint32_t depth, Expr* out) {
    const JsonValue* branches;
    if (!schema_array(v[at], key, &branches)) return false;
    const bool one = std::strcmp(key, "oneOf") == 0;
    v[at].done |= one ? kDoneOneOf : kDoneAnyOf;
    if (one) {
        for (size_t i = 0; i < branches->size(); ++i)
            for (size_t j = i + 1; j < branches->size(); ++j)
                if (may_overlap(branches->at(i), branches->at(j), 0))
                    return fail("schema: %s: oneOf branches %s may both match a value (oneOf is taken as anyOf "
                                "only when its branches cannot overlap)",
                                shown_ptr(v[at].ptr + "/oneOf"), std::to_string(i) + " and " + std::to_string(j));
    }
    if (branches->size() > opt_.max_alternatives)
        return fail("schema: %s: more than %s branches", shown_ptr(v[at].ptr + "/" + key),
                    std::to_string(opt_.max_alternatives));
    std::vector<std::string> alts;
    for (size_t i = 0; i < branches->size(); ++i) {
        View w = v;
        w.push_back(Member{&branches->at(i), v[at].ptr + "/" + key + "/" + std::to_string(i), 0});
        Expr e;
        if (!compile(w, depth + 1, &e)) return false;
        if (!e.empty) alts.push_back(e.text);
    }
    if (alts.empty()) {
        out->empty = true;
        return true;
    }
    out->text = alternation(alts);
    return true;
}

// The kinds of value a schema admits and, when it lists them, the values.
bool Converter::kinds_and_values(const JsonValue& s, uint32_t depth, uint8_t* kinds,
                                 std::vector<const JsonValue*>* values, bool* have_values) {
    *kinds = kAllKinds;
    *have_values = false;
    if (s.is_bool()) {
        *kinds = s.boolean() ? kAllKinds : 0;
        return true;
    }
    if (!s.is_object() || depth > 8) return true;
    if (const JsonValue* t = s.find("type")) *kinds &= type_kinds(*t);
    const JsonValue* c = s.find("const");
    const JsonValue* e = s.find("enum");
    if (c != nullptr || (e != nullptr && e->is_array())) {
        *have_values = true;
        uint8_t k = 0;
        if (c != nullptr) values->push_back(c), k |= kind_of(*c);
        else
            for (size_t i = 0; i < e->size(); ++i) values->push_back(&e->at(i)), k |= kind_of(e->at(i));
        *kinds &= k;
    }
    if (const JsonValue* r = s.find("$ref")) {
        const JsonValue* t;
        std::string tp;
        Error saved = *err_;
        if (r->is_string() && resolve(Member{&s, "", 0}, r->text(), &t, &tp)) {
            uint8_t k;
            std::vector<const JsonValue*> vals;
            bool hv;
            if (!kinds_and_values(*t, depth + 1, &k, &vals, &hv)) return false;
            *kinds &= k;
            if (hv && !*have_values) *values = vals, *have_values = true;
        }
        *err_ = saved;
    }
    if (const JsonValue* all = s.find("allOf")) {
        if (all->is_array())
            for (size_t i = 0; i < all->size(); ++i) {
                uint8_t k;
                std::vector<const JsonValue*> vals;
                bool hv;
                if (!kinds_and_values(all->at(i), depth + 1, &k, &vals, &hv)) return false;
                *kinds &= k;
                if (hv && !*have_values) *values = vals, *have_values = true;
            }
    }
    return true;
}

// Conservative: false only when no value can satisfy both a and b.
bool Converter::may_overlap(const JsonValue& a, const JsonValue& b, uint32_t depth) {
    uint8_t ka, kb;
    std::vector<const JsonValue*> va, vb;
    bool ha, hb;
    kinds_and_values(a, 0, &ka, &va, &ha);
    kinds_and_values(b, 0, &kb, &vb, &hb);
    if ((ka & kb) == 0) return false;
    if (ha && hb) {
        for (const JsonValue* x : va)
            for (const JsonValue* y : vb)
                if (json_equal(*x, *y)) return true;
        return false;
    }
    // Objects told apart by a property both require, with disjoint values.
    if ((ka & kb) == kObject && a.is_object() && b.is_object() && depth < 4) {
        const JsonValue* ra = a.find("required");
        const JsonValue* rb = b.find("required");
        const JsonValue* pa = a.find("properties");
        const JsonValue* pb = b.find("properties");
        if (ra && rb && pa && pb && ra->is_array() && rb->is_array() && pa->is_object() && pb->is_object()) {
            for (size_t i = 0; i < ra->size(); ++i) {
                const std::string& k = ra->at(i).text();
                bool in_b = false;
                for (size_t j = 0; j < rb->size(); ++j) in_b |= rb->at(j).text() == k;
                const JsonValue* sa = pa->find(k);
                const JsonValue* sb = pb->find(k);
                if (in_b && sa && sb && !may_overlap(*sa, *sb, depth + 1)) return false;
            }
        }
    }
    return true;
}

bool Converter::compile_values(const View& v, Expr* out) {
    bool have = false;
    std::vector<const JsonValue*> vals;
    uint8_t kinds = kAllKinds;
    for (const Member& m : v) {
        for (size_t i = 0; i < m.s->size(); ++i) {
            const std::string& k = m.s->key(i);
            if (k == "enum" || k == "const" || k == "$ref" || k == "allOf" || k == "anyOf" || k == "oneOf") continue;
            if (k == "type") {
                kinds &= type_kinds(m.s->at(i));
                continue;
            }
            if (listed(kImplemented, k))
                return fail("schema: %s: enum or const together with \"%s\" is not implemented (list only the "
                            "values that are valid)",
                            shown_ptr(m.ptr), json_printable(k));
        }
        std::vector<const JsonValue*> list;
        if (const JsonValue* c = m.s->find("const")) list.push_back(c);
        if (const JsonValue* e = m.s->find("enum")) {
            if (!e->is_array()) return fail("schema: %s: enum must be an array", shown_ptr(m.ptr + "/enum"));
            std::vector<const JsonValue*> en;
            for (size_t i = 0; i < e->size(); ++i) en.push_back(&e->at(i));
            if (m.s->find("const")) {  // both: the const, if listed
                bool in = false;
                for (const JsonValue* x : en) in |= json_equal(*x, *list[0]);
                if (!in) list.clear();
            } else {
                list = en;
            }
        }
        if (m.s->find("const") == nullptr && m.s->find("enum") == nullptr) continue;
        if (!have) {
            vals = list;
            have = true;
        } else {
            std::vector<const JsonValue*> keep;
            for (const JsonValue* x : vals)
                for (const JsonValue* y : list)
                    if (json_equal(*x, *y)) {
                        keep.push_back(x);
                        break;
                    }
            vals = keep;
        }
    }
    std::vector<std::string> alts;
    std::set<std::string> seen;
    for (const JsonValue* x : vals) {
        uint8_t k = kind_of(*x);
        if (k == kInt && (kinds & (kInt | kNum)) == 0) continue;
        if (k != kInt && (kinds & k) == 0) continue;
        std::string text;
        write_value(*x, comma_.c_str(), colon_.c_str(), &text);
        if (seen.insert(text).second) alts.push_back(gbnf_literal(text));
    }
    if (alts.empty()) {
        out->empty = true;
        return true;
    }
    out->text = alternation(alts);
    return true;
}

}  // namespace schema
}  // namespace agm
