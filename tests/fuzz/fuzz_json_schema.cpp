// libFuzzer target for the JSON Schema converter (formats/src/json_schema*).
// The input is a schema, optionally followed by a NUL byte and a text.
//
// Beyond "no crash, no hang, no undefined behaviour" it checks:
//   - a refusal is one non-empty line that starts with "schema";
//   - a converted schema's grammar compiles (the converter promises it);
//   - a text the grammar accepts whole is JSON (the grammar writes JSON
//     texts only; RFC 8259 allows a repeated key, which our strict reader
//     refuses, so that one refusal is allowed), and writing it in the
//     schema's order does not crash;
//   - the spaced form converts exactly when the compact one does.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agm/json.h"
#include "agm/json_schema.h"
#include "agmodel.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
    const size_t slen = nul != nullptr ? (size_t)(nul - data) : size;
    const char* text = nul != nullptr ? reinterpret_cast<const char*>(nul + 1) : "";
    const size_t tlen = nul != nullptr ? size - slen - 1 : 0;

    agm::SchemaOptions o;
    o.max_rules = 512;  // keeps each run short; the bounds are part of what is tested
    o.max_depth = 32;
    std::string gbnf;
    agm::Error err;
    const bool ok = agm::json_schema_to_gbnf(data, slen, o, &gbnf, &err);
    agm::SchemaOptions spaced = o;
    spaced.whitespace = agm::SchemaOptions::Whitespace::Spaced;
    std::string g2;
    agm::Error err2;
    check(agm::json_schema_to_gbnf(data, slen, spaced, &g2, &err2) == ok);
    if (!ok) {
        check(err.msg[0] != 0 && std::strchr(err.msg, '\n') == nullptr);
        check(std::strncmp(err.msg, "schema", 6) == 0);
        return 0;
    }
    agm_grammar* g = nullptr;
    agm_matcher* m = nullptr;
    agm_error e;
    check(agm_grammar_create(nullptr, gbnf.data(), gbnf.size(), nullptr, &g, &e) == AGM_OK);
    check(agm_matcher_create(g, &m, &e) == AGM_OK);
    if (agm_matcher_accept_bytes(m, text, tlen, &e) == AGM_OK && agm_matcher_is_complete(m)) {
        agm::JsonValue v, schema;
        agm::Error je;
        if (!agm::parse_json(reinterpret_cast<const uint8_t*>(text), tlen, &v, &je)) {
            check(std::strstr(je.msg, "duplicate key") != nullptr);
        } else {
            check(agm::parse_json(data, slen, &schema, &je));
            std::string out;
            agm::serialize_in_schema_order(v, schema, &out);
            check(!out.empty());
        }
    }
    agm_matcher_free(m);
    agm_grammar_free(g);
    return 0;
}
