// libFuzzer target for the strict JSON reader (agm/json.h) and the
// Hugging Face index parser built on it (agm/hf_checkpoint.h).
//
// Beyond "no crash, no leak, no undefined behaviour" it checks:
//   - a refusal has a one-line, non-empty message that names a byte offset;
//   - an accepted document serialises to text that parses again and
//     serialises identically (the DOM loses nothing it keeps);
//   - every object key finds its own member; integers that claim to fit
//     print back as their text.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "agm/hf_checkpoint.h"
#include "agm/json.h"

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_message(const agm::Error& err) {
    check(err.msg[0] != '\0' && std::strchr(err.msg, '\n') == nullptr);
}

void walk(const agm::JsonValue& v) {
    switch (v.type()) {
    case agm::JsonType::Object:
        for (size_t i = 0; i < v.size(); ++i) {
            check(v.find(v.key(i)) == &v.at(i));
            walk(v.at(i));
        }
        break;
    case agm::JsonType::Array:
        for (size_t i = 0; i < v.size(); ++i) walk(v.at(i));
        break;
    case agm::JsonType::Number:
        if (v.fits_uint64() && v.text()[0] != '-') check(std::to_string(v.uint64()) == v.text());
        if (v.fits_int64() && v.text() != "-0") check(std::to_string(v.int64()) == v.text());
        if (v.fits_int64() || v.fits_uint64()) check(v.is_integer());
        break;
    default:
        break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    agm::JsonValue v;
    agm::Error err;
    if (!agm::parse_json(data, size, &v, &err)) {
        check_message(err);
        check(std::strstr(err.msg, " at byte ") != nullptr);
        check(v.is_null());
    } else {
        walk(v);
        std::string s1, s2;
        agm::json_serialize(v, &s1);
        agm::JsonValue w;
        check(agm::parse_json((const uint8_t*)s1.data(), s1.size(), &w, &err));
        agm::json_serialize(w, &s2);
        check(s1 == s2);
    }
    agm::HfIndex idx;
    if (!agm::parse_hf_index(data, size, &idx, &err)) {
        check_message(err);
    } else {
        check(!idx.weight_map.empty() && !idx.shards.empty());
        for (const auto& e : idx.weight_map) check(agm::hf_shard_name_ok(e.second));
    }
    return 0;
}
