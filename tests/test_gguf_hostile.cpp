// Hostile GGUF files: each must be refused with a one-line message, from an
// exactly sized heap copy (so ASan sees any read past the end), and never
// crash or allocate by a lying count. Also the vocabulary reader's refusals
// and random byte flips. (tools/fuzz.sh's first 15 minutes, 88.6 million
// inputs, found nothing; a finding's input goes here as a regression case.)
#include "doctest.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/vocab.h"
#include "gguf_writer.h"
#include "hostile_util.h"
#include "test_util.h"

using agm_test::Bytes;
using agm_test::GgufWriter;
using agm_test::poke_u32;
using agm_test::poke_u64;
using agm_test::put_u32;
using agm_test::put_u64;

namespace {

// Parses an exact copy; on success also reads the vocabulary and serialises
// it (what the fuzz target does).
bool parse_exact(const Bytes& b, agm::Error* err) {
    agm_hostile::ExactBuf e(b);
    agm::GgufFile f;
    if (!agm::parse_gguf(e.p, e.n, &f, err)) return false;
    agm::Vocab v;
    std::string kind;
    agm::Error verr;
    if (agm::vocab_from_gguf(f, &v, &kind, &verr)) {
        std::vector<uint8_t> sec;
        agm::serialize_tokenizer(v, &sec, &verr);
    } else {
        CHECK(agm_hostile::one_line(verr.msg));
    }
    return true;
}

struct Checker {
    size_t refused = 0;
    // Expects a refusal whose message contains `expect` (if given).
    std::string refuse(const Bytes& b, const std::string& what, const char* expect = nullptr) {
        agm::Error err;
        const bool ok = parse_exact(b, &err);
        CHECK_MESSAGE(!ok, what << ": accepted");
        if (ok) return std::string();
        CHECK_MESSAGE(agm_hostile::one_line(err.msg), what << ": message '" << err.msg << "'");
        if (expect) CHECK_MESSAGE(agm_hostile::contains(err.msg, expect), what << ": message '" << err.msg << "'");
        refused++;
        if (std::getenv("AGM_GGUF_SHOW")) std::printf("%-28s %s\n", what.c_str(), err.msg);  // to review the messages
        return err.msg;
    }
};

// A small file: three pairs (a string, a u32 array, a string array) and two
// F32 tensors of 64 bytes, unpadded at the end.
GgufWriter small_writer() {
    GgufWriter w;
    w.add_string("general.name", "small");
    w.add_array<uint32_t>("a.u32", agm::GGUF_U32, {1, 2, 3});
    w.add_string_array("a.str", {"x", "yy"});
    w.add_tensor_zeros("a", agm::GGML_F32, {16});
    w.add_tensor_zeros("b", agm::GGML_F32, {16});
    w.pad_end = false;
    return w;
}

}  // namespace

TEST_CASE("gguf hostile: truncation at every byte") {
    GgufWriter w = agm_test::tiny_llama_writer(2, true);
    w.pad_end = false;  // the last tensor ends at the end of the file
    const Bytes file = w.build();
    agm::Error err;
    REQUIRE_MESSAGE(parse_exact(file, &err), err.msg);
    Checker c;
    for (size_t cut = 0; cut < file.size(); cut++)
        c.refuse(Bytes(file.begin(), file.begin() + (long)cut), "cut at " + std::to_string(cut));
    MESSAGE("truncation: " << c.refused << "/" << file.size() << " cut files refused");
    CHECK(c.refused == file.size());
}

TEST_CASE("gguf hostile: lying lengths and counts") {
    GgufWriter::Layout lay;
    const GgufWriter w = small_writer();
    const Bytes file = w.build(&lay);
    agm::Error err;
    REQUIRE_MESSAGE(parse_exact(file, &err), err.msg);
    Checker c;
    const uint64_t size = file.size();
    auto with_u64 = [&](uint64_t at, uint64_t v) {
        Bytes b = file;
        poke_u64(&b, at, v);
        return b;
    };
    // Strings: a key, a string value, a string array element, a tensor name;
    // 2^64-1 and one more than what remains after the length field.
    const struct {
        const char* what;
        uint64_t at;
    } strings[] = {{"key name", lay.kv[1].at},
                   {"string value", lay.kv[0].value_at},
                   {"string array element", lay.kv[2].value_at + 12},
                   {"tensor name", lay.tensors[1].at}};
    for (const auto& s : strings) {
        c.refuse(with_u64(s.at, UINT64_MAX), std::string(s.what) + " 2^64-1", "18446744073709551615 bytes");
        const uint64_t remain = size - s.at - 8;
        c.refuse(with_u64(s.at, remain + 1), std::string(s.what) + " remain+1",
                 (std::to_string(remain + 1) + " bytes, " + std::to_string(remain) + " remain").c_str());
    }
    const std::string m = c.refuse(with_u64(lay.kv[0].value_at, UINT64_MAX), "brief example");
    CHECK(m == "gguf: key 'general.name' at byte " + std::to_string(lay.kv[0].value_at) +
                   ": string of 18446744073709551615 bytes, " + std::to_string(size - lay.kv[0].value_at - 8) +
                   " remain");
    // Array counts.
    for (size_t k : {1, 2}) {
        const uint64_t at = lay.kv[k].value_at + 4;
        const uint64_t remain = size - at - 8;
        c.refuse(with_u64(at, UINT64_MAX), "array count 2^64-1", "array of 18446744073709551615");
        c.refuse(with_u64(at, remain / (k == 1 ? 4 : 8) + 1), "array count remain+1", "bytes remain");
        c.refuse(with_u64(at, k == 1 ? 4 : 3), "array count +1");
    }
    // The header's counts.
    c.refuse(with_u64(16, UINT64_MAX), "kv count 2^64-1", "18446744073709551615 metadata pairs");
    c.refuse(with_u64(16, (size - 24) / 13 + 1), "kv count remain+1", "metadata pairs, but");
    c.refuse(with_u64(16, 4), "kv count +1");
    c.refuse(with_u64(8, UINT64_MAX), "tensor count 2^64-1", "18446744073709551615 tensors");
    c.refuse(with_u64(8, (size - 24) / 32 + 1), "tensor count remain+1", "tensors, but");
    c.refuse(with_u64(8, 3), "tensor count +1");
    // The data section starting past the end.
    c.refuse(Bytes(file.begin(), file.begin() + (long)lay.infos_end), "no data section", "past the end");
    MESSAGE("lengths and counts: " << c.refused << " files refused");
}

TEST_CASE("gguf hostile: crafted values, tensors and headers") {
    Checker c;
    auto built = [](const GgufWriter& w) { return w.build(); };
    GgufWriter::Layout lay;
    const Bytes file = small_writer().build(&lay);

    // Tensor shapes and types.
    for (uint32_t nd : {0u, 5u}) {
        Bytes b = file;
        poke_u32(&b, lay.tensors[0].n_dims_at, nd);
        c.refuse(b, "n_dims " + std::to_string(nd), ("n_dims " + std::to_string(nd) + " (must be 1..4)").c_str());
    }
    {
        GgufWriter w;
        w.add_tensor("huge", agm::GGML_F32, {1ull << 32, 1ull << 32}, {});
        c.refuse(built(w), "dims overflow", "element count overflows");
        GgufWriter w2;
        w2.add_tensor("huge", agm::GGML_F64, {1ull << 62}, {});
        c.refuse(built(w2), "bytes overflow", "overflow");
        GgufWriter w3;
        w3.add_tensor("zero", agm::GGML_F32, {4, 0}, {});
        c.refuse(built(w3), "dimension 0", "dimension 1 is 0");
        GgufWriter w4;
        w4.add_tensor("q", agm::GGML_Q8_0, {33}, Bytes(64, 0));
        c.refuse(built(w4), "row not a multiple of the block",
                 "tensor 0 'q' at byte 33: Q8_0 tensor: row length 33 is not a multiple of the block size 32");
        GgufWriter w5;
        w5.add_tensor("i2", agm::GGML_I2_S, {64}, Bytes(64, 0));
        c.refuse(built(w5), "I2_S not a multiple of 128", "not a multiple of 128");
    }
    for (uint32_t t : {4u, 31u, 37u, 40u, 1000u}) {
        Bytes b = file;
        poke_u32(&b, lay.tensors[1].type_at, t);
        const std::string m = c.refuse(b, "tensor type " + std::to_string(t), "unknown tensor type");
    }
    // Offsets.
    auto with_offset = [&](size_t i, uint64_t off) {
        GgufWriter w = small_writer();
        w.tensors[i].has_offset_override = true;
        w.tensors[i].offset_override = off;
        return w.build();
    };
    CHECK(c.refuse(with_offset(1, 65), "misaligned") ==
          "gguf: tensor 1 'b': offset 65 is not a multiple of the alignment 32");
    c.refuse(with_offset(1, 1ull << 40), "offset past end", "run past the end of the data section");
    c.refuse(with_offset(1, UINT64_MAX - 31), "offset near 2^64", "run past the end of the data section");
    c.refuse(with_offset(1, 0), "overlap (same offset)", "overlaps tensor 0 'a'");
    c.refuse(with_offset(0, 32), "overlap (partial)", "overlaps");
    c.refuse(with_offset(0, 64), "overlap (second first)", "overlaps");
    {
        GgufWriter w = small_writer();  // tensor b laid out where it is, but only 63 bytes exist
        Bytes b = w.build();
        b.pop_back();
        c.refuse(b, "last tensor cut", "run past the end of the data section");
    }
    // Values.
    {
        GgufWriter w;
        w.add_raw("x.type13", 13, {});
        c.refuse(built(w), "unknown value type", "key 'x.type13' at byte 40: unknown value type 13");
        GgufWriter w2;
        Bytes v;
        put_u32(&v, agm::GGUF_ARRAY);
        put_u64(&v, 0);
        w2.add_raw("x.nested", agm::GGUF_ARRAY, v);
        c.refuse(built(w2), "nested array", "arrays of arrays are not supported");
        GgufWriter w3;
        Bytes v3;
        put_u32(&v3, 13);
        put_u64(&v3, 0);
        w3.add_raw("x.arr13", agm::GGUF_ARRAY, v3);
        c.refuse(built(w3), "array of unknown type", "array of unknown value type 13");
        GgufWriter w4;
        w4.add_raw("x.bool", agm::GGUF_BOOL, {2});
        c.refuse(built(w4), "bool 2", "bool is 2");
        GgufWriter w5;
        w5.add_array<int>("x.bools", agm::GGUF_BOOL, {1, 0, 7});
        c.refuse(built(w5), "bool element 7", "bool element 2");
        GgufWriter w6;
        w6.add_u32(std::string("x\0y", 3), 1);
        c.refuse(built(w6), "NUL in a key", "NUL");
        GgufWriter w7;
        w7.add_tensor_zeros(std::string("t\0", 2), agm::GGML_F32, {4});
        c.refuse(built(w7), "NUL in a tensor name", "NUL");
    }
    // Duplicates.
    {
        GgufWriter w = small_writer();
        w.add_u32("a.u32", 7);
        c.refuse(built(w), "duplicate key", "repeats the key at byte");
        GgufWriter w2 = small_writer();
        w2.add_tensor_zeros("a", agm::GGML_F32, {4});
        c.refuse(built(w2), "duplicate tensor name", "tensor 2 'a' at byte");
    }
    // Alignment.
    for (uint32_t a : {0u, 3u, 48u}) {
        GgufWriter w = small_writer();
        w.add_u32("general.alignment", a);
        c.refuse(built(w), "alignment " + std::to_string(a), "not a power of two");
    }
    {
        GgufWriter w = small_writer();
        w.add_u64("general.alignment", 32);
        c.refuse(built(w), "alignment u64", "key 'general.alignment' at byte");
        GgufWriter w2 = small_writer();
        w2.add_string("general.alignment", "32");
        c.refuse(built(w2), "alignment string", "has type string, must be u32");
    }
    // Headers.
    for (uint32_t v : {0u, 1u, 4u, 0x7FFFFFFFu}) {
        GgufWriter w = small_writer();
        w.version = v;
        c.refuse(built(w), "version " + std::to_string(v), "is not supported (only 2 and 3)");
    }
    for (uint32_t v : {2u, 3u}) {
        GgufWriter w = small_writer();
        w.version = v;
        w.swap_header = true;
        const std::string m = c.refuse(built(w), "byte-swapped", "big-endian GGUF is not supported");
    }
    {
        GgufWriter w = small_writer();
        w.magic[0] = 'F';
        c.refuse(built(w), "magic", "bad magic 'FGUF'");
        c.refuse(Bytes(), "empty", "too short");
        c.refuse(Bytes(file.begin(), file.begin() + 23), "23 bytes", "too short");
    }
    MESSAGE("crafted files: " << c.refused << " refused");

    // Accepted edge cases: an alignment of 2^31 without tensors, empty names.
    GgufWriter ok;
    ok.set_alignment(1u << 31);
    ok.add_u32("", 1);
    agm::Error err;
    CHECK_MESSAGE(parse_exact(ok.build(), &err), err.msg);
}

TEST_CASE("gguf hostile: vocabulary refusals") {
    auto vocab = [](const GgufWriter& w, agm::Error* err) {
        agm::GgufFile f;
        const Bytes b = w.build();
        REQUIRE_MESSAGE(agm::parse_gguf(b.data(), b.size(), &f, err), err->msg);
        agm::Vocab v;
        std::string kind;
        return agm::vocab_from_gguf(f, &v, &kind, err);
    };
    auto base = [](const std::vector<std::string>& skip) {
        GgufWriter w;
        auto want = [&](const char* k) {
            for (const std::string& s : skip)
                if (s == k) return false;
            return true;
        };
        if (want("model")) w.add_string("tokenizer.ggml.model", "llama");
        if (want("tokens")) w.add_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
        if (want("scores")) w.add_array<float>("tokenizer.ggml.scores", agm::GGUF_F32, {0, 0, 0, -1});
        if (want("types")) w.add_array<int>("tokenizer.ggml.token_type", agm::GGUF_I32, {2, 3, 3, 1});
        return w;
    };
    agm::Error err;
    REQUIRE_MESSAGE(vocab(base({}), &err), err.msg);
    size_t refused = 0;
    auto refuse = [&](const GgufWriter& w, const char* expect) {
        agm::Error e;
        CHECK_FALSE(vocab(w, &e));
        CHECK_MESSAGE(agm_hostile::contains(e.msg, expect), e.msg);
        CHECK(agm_hostile::one_line(e.msg));
        refused++;
    };
    refuse(base({"model"}), "key 'tokenizer.ggml.model' is missing");
    refuse(base({"tokens"}), "key 'tokenizer.ggml.tokens' is missing");
    GgufWriter w = base({"model"});
    w.add_u32("tokenizer.ggml.model", 1);
    refuse(w, "has type u32, expected string");
    w = base({"model"});
    w.add_string("tokenizer.ggml.model", "bert");
    refuse(w, "tokenizer.ggml.model = \"bert\": this tokenizer model is not supported yet");
    w = base({"scores"});
    w.add_array<float>("tokenizer.ggml.scores", agm::GGUF_F32, {0, 0, 0});
    refuse(w, "tokenizer.ggml.scores has 3 entries, tokenizer.ggml.tokens 4");
    w = base({"scores"});
    w.add_array<float>("tokenizer.ggml.scores", agm::GGUF_F32, {0, 0, 0, NAN});
    refuse(w, "scores[3] is not finite");
    w = base({"types"});
    w.add_array<int>("tokenizer.ggml.token_type", agm::GGUF_I32, {2, 3, 3, 0});
    refuse(w, "token_type[3] is 0 (must be 1..6)");
    w = base({"types"});
    w.add_array<int>("tokenizer.ggml.token_type", agm::GGUF_I32, {2, 3});
    refuse(w, "token_type has 2 entries");
    w = base({});
    w.add_u32("tokenizer.ggml.bos_token_id", 4);
    refuse(w, "tokenizer.ggml.bos_token_id = 4 is out of range (4 tokens)");
    w = base({});
    w.add_i32("tokenizer.ggml.padding_token_id", -1);
    refuse(w, "does not fit u32");
    w = base({"tokens", "scores", "types"});
    w.add_string_array("tokenizer.ggml.tokens", {});
    refuse(w, "tokenizer.ggml.tokens is empty");
    w = base({});
    w.add_u8("tokenizer.ggml.add_space_prefix", 1);
    refuse(w, "expected bool");
    // "gpt2": byte-level BPE.
    auto gpt2 = [](const char* pre, const std::vector<std::string>& toks, const std::vector<std::string>& merges) {
        GgufWriter g;
        g.add_string("tokenizer.ggml.model", "gpt2");
        g.add_string_array("tokenizer.ggml.tokens", toks);
        if (!merges.empty()) g.add_string_array("tokenizer.ggml.merges", merges);
        if (pre) g.add_string("tokenizer.ggml.pre", pre);
        return g;
    };
    REQUIRE_MESSAGE(vocab(gpt2("llama-bpe", {"a", "b", "ab"}, {"a b"}), &err), err.msg);
    // Absent means llama.cpp's "default" sequence, which is not GPT-2's regex: refused.
    refuse(gpt2(nullptr, {"a", "b", "ab"}, {"a b"}), "tokenizer.ggml.pre = \"default\"");
    refuse(gpt2("default", {"a", "b", "ab"}, {"a b"}), "four-regex sequence");
    refuse(gpt2("qwen2", {"a", "b", "ab"}, {"a b"}), "tokenizer.ggml.pre = \"qwen2\": this pre-tokenizer is not supported");
    refuse(gpt2("gpt-2", {"a", "b", "ab"}, {}), "key 'tokenizer.ggml.merges' is missing");
    refuse(gpt2("gpt-2", {"a", "b c", "ab"}, {"a b"}), "outside GPT-2's byte alphabet");
    refuse(gpt2("gpt-2", {"a", "b", "ab"}, {"a c"}), "'c' is not a token");
    refuse(gpt2("gpt-2", {"a", "b", "ab"}, {"ab"}), "not two tokens separated by a space");
    w = gpt2("gpt-2", {"a", "b", "ab"}, {"a b"});
    w.add_bool("tokenizer.ggml.add_space_prefix", true);
    refuse(w, "add_space_prefix = true is not supported");
    w = gpt2("gpt-2", {"a", "b", "ab"}, {"a b"});
    w.add_u32("tokenizer.ggml.eos_token_id", 3);
    refuse(w, "tokenizer.ggml.eos_token_id = 3 is out of range (3 tokens)");
    MESSAGE("vocabulary: " << refused << " refusals checked");
}

TEST_CASE("gguf hostile: random byte flips") {
    GgufWriter w = agm_test::tiny_llama_writer(2, true);
    w.pad_end = false;
    const Bytes file = w.build();
    const uint64_t seed = agm_test::test_seed();
    agm_hostile::Rng rng(seed);
    size_t accepted = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        Bytes b = file;
        const int flips = 1 + (int)rng.below(4);
        for (int k = 0; k < flips; k++) {
            // Half the flips in the header and metadata lengths, where they matter most.
            const size_t at = rng.below(2) ? (size_t)rng.below(std::min<size_t>(b.size(), 256)) : (size_t)rng.below(b.size());
            b[at] ^= rng.nonzero_byte();
        }
        agm::Error err;
        if (parse_exact(b, &err)) accepted++;
        else CHECK_MESSAGE(agm_hostile::one_line(err.msg), err.msg);
    }
    MESSAGE("random flips (seed " << seed << ", AGM_TEST_SEED overrides): " << accepted << "/" << n
                                   << " still valid and read through");
}
