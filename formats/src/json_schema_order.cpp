// The converter's entry points, and instances written the way a schema's
// grammar writes them (agm/json_schema.h).
#include <set>

#include "json_schema_walk.h"

namespace agm {
namespace {

// The target of a local reference, or nullptr.
const JsonValue* local_target(const JsonValue& root, const std::string& p) {
    if (p.empty() || p[0] != '#') return nullptr;
    const JsonValue* v = &root;
    size_t i = 1;
    while (v != nullptr && i < p.size()) {
        size_t j = p.find('/', i + 1);
        if (j == std::string::npos) j = p.size();
        std::string tok;
        for (size_t k = i + 1; k < j; ++k) {
            if (p[k] == '~' && k + 1 < j) tok += p[k + 1] == '1' ? '/' : '~', ++k;
            else tok += p[k];
        }
        if (v->is_object()) v = v->find(tok);
        else if (v->is_array() && !tok.empty() && tok.size() < 10 &&
                 tok.find_first_not_of("0123456789") == std::string::npos && std::stoul(tok) < v->size())
            v = &v->at(std::stoul(tok));
        else v = nullptr;
        i = j;
    }
    return v;
}

// The schemas that apply to a value, in the order the converter's view
// holds them: breadth first over allOf and $ref, the branches of anyOf and
// oneOf after all of those (all branches: only the order matters here).
void gather(const JsonValue& root, const std::vector<const JsonValue*>& in, std::vector<const JsonValue*>* out) {
    std::vector<const JsonValue*> later = in;
    while (!later.empty() && out->size() < 512) {
        const size_t from = out->size();
        out->insert(out->end(), later.begin(), later.end());
        later.clear();
        for (size_t i = from; i < out->size() && out->size() < 512; ++i) {
            const JsonValue* s = (*out)[i];
            if (!s->is_object()) continue;
            if (const JsonValue* a = s->find("allOf"))
                if (a->is_array())
                    for (size_t k = 0; k < a->size(); ++k) out->push_back(&a->at(k));
            if (const JsonValue* r = s->find("$ref"))
                if (r->is_string())
                    if (const JsonValue* t = local_target(root, r->text())) out->push_back(t);
            for (const char* k : {"anyOf", "oneOf"})
                if (const JsonValue* a = s->find(k))
                    if (a->is_array())
                        for (size_t j = 0; j < a->size(); ++j) later.push_back(&a->at(j));
        }
    }
}

void write_ordered(const JsonValue& x, const JsonValue& root, const std::vector<const JsonValue*>& in,
                   std::string* out) {
    std::vector<const JsonValue*> all;
    gather(root, in, &all);
    if (x.is_object()) {
        std::vector<std::string> order;
        std::set<std::string> seen;
        for (const JsonValue* s : all) {
            if (!s->is_object()) continue;
            if (const JsonValue* p = s->find("properties"))
                if (p->is_object())
                    for (size_t i = 0; i < p->size(); ++i)
                        if (seen.insert(p->key(i)).second) order.push_back(p->key(i));
        }
        for (const JsonValue* s : all)
            if (const JsonValue* r = s->is_object() ? s->find("required") : nullptr)
                if (r->is_array())
                    for (size_t i = 0; i < r->size(); ++i)
                        if (r->at(i).is_string() && seen.insert(r->at(i).text()).second)
                            order.push_back(r->at(i).text());
        std::vector<size_t> members;
        for (const std::string& k : order)
            for (size_t i = 0; i < x.size(); ++i)
                if (x.key(i) == k) members.push_back(i);
        for (size_t i = 0; i < x.size(); ++i)
            if (!seen.count(x.key(i))) members.push_back(i);
        *out += '{';
        for (size_t n = 0; n < members.size(); ++n) {
            const size_t i = members[n];
            if (n) *out += ',';
            *out += json_quote(x.key(i));
            *out += ':';
            std::vector<const JsonValue*> sub;
            for (const JsonValue* s : all) {
                if (!s->is_object()) continue;
                const JsonValue* p = s->find("properties");
                const JsonValue* t = p && p->is_object() ? p->find(x.key(i)) : nullptr;
                if (t == nullptr) t = s->find("additionalProperties");
                if (t != nullptr) sub.push_back(t);
            }
            write_ordered(x.at(i), root, sub, out);
        }
        *out += '}';
        return;
    }
    if (x.is_array()) {
        *out += '[';
        for (size_t i = 0; i < x.size(); ++i) {
            if (i) *out += ',';
            std::vector<const JsonValue*> sub;
            for (const JsonValue* s : all) {
                if (!s->is_object()) continue;
                const JsonValue* p = s->find("prefixItems");
                const JsonValue* t = p && p->is_array() && i < p->size() ? &p->at(i) : s->find("items");
                if (t != nullptr) sub.push_back(t);
            }
            write_ordered(x.at(i), root, sub, out);
        }
        *out += ']';
        return;
    }
    if (x.is_number()) schema::write_number(x, out);
    else json_serialize(x, out);
}

}  // namespace

bool json_schema_to_gbnf(const JsonValue& schema, const SchemaOptions& options, std::string* gbnf,
                         Error* err) {
    schema::Converter c(schema, options, err);
    return c.run(gbnf);
}

bool json_schema_to_gbnf(const uint8_t* text, size_t size, const SchemaOptions& options,
                         std::string* gbnf, Error* err) {
    JsonValue v;
    if (!parse_json(text, size, &v, err)) return fail_context(err, "schema");
    return json_schema_to_gbnf(v, options, gbnf, err);
}

std::string json_any_value_gbnf(const SchemaOptions& options) {
    JsonValue any;
    const uint8_t t[] = {'t', 'r', 'u', 'e'};
    parse_json(t, sizeof t, &any, nullptr);
    std::string g;
    Error e;
    json_schema_to_gbnf(any, options, &g, &e);
    return g;
}

void serialize_in_schema_order(const JsonValue& instance, const JsonValue& schema, std::string* out) {
    write_ordered(instance, schema, {&schema}, out);
}

}  // namespace agm
