// Hugging Face tokenizer.json -> Vocab (agm/hf_tokenizer.h). No downloads:
// the tokenizer.json files are written here from the shared vocabularies the
// way Hugging Face's converters lay them out, and the result is checked
// against the paths already proven on llama.cpp's vectors:
//   byte-level  GPT-2's GGUF (tokens spelled in GPT-2's alphabet, "a b"
//               merges) as tokenizer.json with the ByteLevel pre-tokenizer
//               must give the same TOKENIZER section as the GGUF path; with
//               LLaMA-3's Split regex + ignore_merges, the LLaMA-3 kind.
//   SentencePiece-style  Llama 2's tokenizer.model as tokenizer.json (merges
//               ordered by the merged piece's score, as the converter
//               orders them; Prepend/Replace normalizers; byte_fallback)
//               must encode every corpus line as tokenizer.model does.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/hf_tokenizer.h"
#include "agm/json.h"
#include "agm/vocab.h"
#include "doctest.h"
#include "test_util.h"
#include "tok_util.h"

using namespace agm_test;

namespace {

const char kLlama3Regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct GgufVocabFile {
    std::vector<uint8_t> bytes;
    agm::GgufFile f;
};

void load_gpt2(GgufVocabFile* g) {
    REQUIRE(read_file(shared_path("tokenizers/gpt2-50k/ggml-vocab-gpt-2.gguf"), &g->bytes));
    agm::Error err;
    REQUIRE_MESSAGE(agm::parse_gguf(g->bytes.data(), g->bytes.size(), &g->f, &err), err.msg);
}

// tokenizer.json text for a byte-level vocabulary: `pre` is the pre_tokenizer object.
std::string byte_level_json(const agm::GgufFile& f, const std::string& pre, bool ignore_merges, bool pair_merges) {
    std::vector<std::string> tokens, merges;
    std::vector<int32_t> types;
    agm::Error err;
    REQUIRE(f.get_string_array("tokenizer.ggml.tokens", &tokens, false, &err));
    REQUIRE(f.get_string_array("tokenizer.ggml.merges", &merges, false, &err));
    REQUIRE(f.get_i32_array("tokenizer.ggml.token_type", &types, false, &err));
    std::string j = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [";
    bool first = true;
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (types[i] != AGM_TOKEN_CONTROL) continue;
        j += std::string(first ? "" : ", ") + "{\"id\": " + std::to_string(i) + ", \"content\": " +
             agm::json_quote(tokens[i]) + ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
             "\"normalized\": false, \"special\": true}";
        first = false;
    }
    j += "], \"normalizer\": null, \"pre_tokenizer\": " + pre +
         ", \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", "
         "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": \"\", \"end_of_word_suffix\": \"\", "
         "\"fuse_unk\": false, \"byte_fallback\": false, \"ignore_merges\": " +
         std::string(ignore_merges ? "true" : "false") + ", \"vocab\": {";
    for (size_t i = 0; i < tokens.size(); ++i)
        j += (i ? ", " : "") + agm::json_quote(tokens[i]) + ": " + std::to_string(i);
    j += "}, \"merges\": [";
    for (size_t i = 0; i < merges.size(); ++i) {
        j += i ? ", " : "";
        if (pair_merges) {
            const size_t sp = merges[i].find(' ', 1);
            j += "[" + agm::json_quote(merges[i].substr(0, sp)) + ", " + agm::json_quote(merges[i].substr(sp + 1)) + "]";
        } else {
            j += agm::json_quote(merges[i]);
        }
    }
    return j + "]}}";
}

std::vector<uint8_t> section_of(const agm::Vocab& v) {
    std::vector<uint8_t> s;
    agm::Error err;
    REQUIRE_MESSAGE(agm::serialize_tokenizer(v, &s, &err), err.msg);
    return s;
}

bool from_json(const std::string& text, agm::Vocab* v, std::string* kind, agm::Error* err) {
    return agm::vocab_from_tokenizer_json(reinterpret_cast<const uint8_t*>(text.data()), text.size(), v, kind, err);
}

}  // namespace

TEST_CASE("tokenizer.json byte-level BPE (GPT-2's) gives the GGUF path's section, both merge spellings") {
    GgufVocabFile g;
    load_gpt2(&g);
    agm::Vocab from_gguf;
    std::string kind;
    agm::Error err;
    REQUIRE_MESSAGE(agm::vocab_from_gguf(g.f, &from_gguf, &kind, &err), err.msg);
    const std::string pre =
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}";
    for (bool pairs : {false, true}) {
        agm::Vocab v;
        REQUIRE_MESSAGE(from_json(byte_level_json(g.f, pre, false, pairs), &v, &kind, &err), err.msg);
        // The GGUF names BOS/EOS <|endoftext|>; tokenizer.json has no such field: set them alike.
        v.bos_id = from_gguf.bos_id;
        v.eos_id = from_gguf.eos_id;
        CHECK(v.pre_tokenizer == AGM_PRE_GPT2);
        CHECK(section_of(v) == section_of(from_gguf));
        MESSAGE(kind << std::string(pairs ? " ([a, b] merges)" : " (\"a b\" merges)") << ": " << v.pieces.size()
                     << " tokens, " << v.merges.size() << " merges, section equal to the GGUF path's");
    }
}

TEST_CASE("tokenizer.json with LLaMA-3's Split regex: the LLaMA-3 pre-tokenizer, ignore_merges, same encodings as GGUF llama-bpe") {
    GgufVocabFile g;
    load_gpt2(&g);
    const std::string pre = std::string("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
                                        "\"pattern\": {\"Regex\": ") +
                            agm::json_quote(kLlama3Regex) +
                            "}, \"behavior\": \"Isolated\", \"invert\": false}, {\"type\": \"ByteLevel\", "
                            "\"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": false}]}";
    Tok t;
    std::string kind;
    agm::Error err;
    REQUIRE_MESSAGE(from_json(byte_level_json(g.f, pre, true, false), &t.vocab, &kind, &err), err.msg);
    CHECK(t.vocab.pre_tokenizer == AGM_PRE_LLAMA3);
    CHECK((t.vocab.flags & AGM_TOK_IGNORE_MERGES) != 0);
    REQUIRE_MESSAGE(build(&t, &err), err.msg);
    // The same vocabulary through the GGUF path with tokenizer.ggml.pre = llama-bpe.
    Tok ref;
    REQUIRE(agm::vocab_from_gguf(g.f, &ref.vocab, &kind, &err));
    REQUIRE(agm::bpe_pre_tokenizer_from_name("llama-bpe", &ref.vocab.pre_tokenizer, &ref.vocab.flags, &err));
    REQUIRE_MESSAGE(build(&ref, &err), err.msg);
    const std::vector<std::string> lines = split(read_text(source_path("tests/data/corpus.txt")), "\n");
    size_t agree = 0;
    for (const std::string& line : lines) agree += t.encode(line) == ref.encode(line);
    CHECK(agree == lines.size());
    MESSAGE("LLaMA-3-style tokenizer.json: " << agree << "/" << lines.size() << " corpus lines encode as GGUF llama-bpe");
    // "Hello world" splits as LLaMA-3's regex says: "Hello", " world", then digits by threes.
    CHECK(t.encode("12345") == std::vector<int32_t>{t.encode("123")[0], t.encode("45")[0]});
}

TEST_CASE("tokenizer.json with Falcon's pre-tokenizer sequence: the Falcon pre-tokenizer, same encodings as GGUF falcon") {
    GgufVocabFile g;
    load_gpt2(&g);
    const std::string pre =
        "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Punctuation\", \"behavior\": \"Contiguous\"}, "
        "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}, "
        "{\"type\": \"Digits\", \"individual_digits\": false}, {\"type\": \"Split\", \"pattern\": {\"Regex\": "
        "\"[0-9][0-9][0-9]\"}, \"behavior\": \"Isolated\", \"invert\": false}]}";
    Tok t;
    std::string kind;
    agm::Error err;
    REQUIRE_MESSAGE(from_json(byte_level_json(g.f, pre, false, false), &t.vocab, &kind, &err), err.msg);
    CHECK(t.vocab.pre_tokenizer == AGM_PRE_FALCON);
    REQUIRE_MESSAGE(build(&t, &err), err.msg);
    Tok ref;
    REQUIRE(agm::vocab_from_gguf(g.f, &ref.vocab, &kind, &err));
    REQUIRE(agm::bpe_pre_tokenizer_from_name("falcon", &ref.vocab.pre_tokenizer, &ref.vocab.flags, &err));
    ref.vocab.flags |= AGM_TOK_NO_BOS;
    REQUIRE_MESSAGE(build(&ref, &err), err.msg);
    const std::vector<std::string> lines = split(read_text(source_path("tests/data/corpus.txt")), "\n");
    size_t agree = 0;
    for (const std::string& line : lines) agree += t.encode(line) == ref.encode(line);
    CHECK(agree == lines.size());
    MESSAGE("Falcon-style tokenizer.json: " << agree << "/" << lines.size() << " corpus lines encode as GGUF falcon");
}

TEST_CASE("tokenizer.json SentencePiece-style BPE (Llama 2's, as Hugging Face converts it) encodes as tokenizer.model") {
    Tok spm;
    std::vector<uint8_t> model;
    REQUIRE(read_file(shared_path("tokenizers/llama2-32k/tokenizer.model"), &model));
    agm::Error err;
    REQUIRE_MESSAGE(agm::read_spm_model(model.data(), model.size(), &spm.vocab, &err), err.msg);
    REQUIRE_MESSAGE(build(&spm, &err), err.msg);
    // The converter's merges: for each piece, every split into two pieces of
    // the vocabulary, ordered by the piece's score (descending), then by the
    // parts' ids.
    const agm::Vocab& v = spm.vocab;
    std::map<std::string, int32_t> id;
    for (size_t i = 0; i < v.pieces.size(); ++i) id.emplace(v.pieces[i], (int32_t)i);
    struct M { float score; int32_t l, r; };
    std::vector<M> merges;
    for (size_t i = 0; i < v.pieces.size(); ++i) {
        if (v.types[i] != AGM_TOKEN_NORMAL) continue;
        const std::string& p = v.pieces[i];
        for (size_t k = 1; k < p.size(); ++k) {
            auto a = id.find(p.substr(0, k)), b = id.find(p.substr(k));
            if (a != id.end() && b != id.end()) merges.push_back({v.scores[i], a->second, b->second});
        }
    }
    std::stable_sort(merges.begin(), merges.end(), [](const M& x, const M& y) {
        if (x.score != y.score) return x.score > y.score;
        return x.l != y.l ? x.l < y.l : x.r < y.r;
    });
    std::string j = "{\"version\": \"1.0\", \"added_tokens\": [";
    for (int i = 0; i < 3; ++i)
        j += std::string(i ? ", " : "") + "{\"id\": " + std::to_string(i) + ", \"content\": " +
             agm::json_quote(v.pieces[i]) + ", \"special\": true}";
    j += "], \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", \"prepend\": "
         "\"\\u2581\"}, {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\\u2581\"}]}, "
         "\"pre_tokenizer\": null, \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": "
         "[{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}]}, "
         "\"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": \"<unk>\", \"fuse_unk\": true, "
         "\"byte_fallback\": true, \"vocab\": {";
    for (size_t i = 0; i < v.pieces.size(); ++i) j += (i ? ", " : "") + agm::json_quote(v.pieces[i]) + ": " + std::to_string(i);
    j += "}, \"merges\": [";
    for (size_t i = 0; i < merges.size(); ++i)
        j += (i ? ", " : "") + agm::json_quote(v.pieces[merges[i].l] + " " + v.pieces[merges[i].r]);
    j += "]}}";
    Tok hf;
    std::string kind;
    REQUIRE_MESSAGE(from_json(j, &hf.vocab, &kind, &err), err.msg);
    CHECK(hf.vocab.kind == AGM_TOKENIZER_SPM_BPE);
    CHECK(hf.vocab.bos_id == 1);
    CHECK(hf.vocab.unk_id == 0);
    CHECK(hf.vocab.flags == v.flags);
    REQUIRE_MESSAGE(build(&hf, &err), err.msg);
    const std::vector<std::string> lines = split(read_text(source_path("tests/data/corpus.txt")), "\n");
    size_t agree = 0;
    for (const std::string& line : lines) agree += hf.encode(line) == spm.encode(line);
    CHECK(agree == lines.size());
    MESSAGE(kind << ": " << merges.size() << " merges; " << agree << "/" << lines.size()
                 << " corpus lines encode as tokenizer.model");
    check_vectors(&hf, "Llama 2 tokenizer.json");
}

TEST_CASE("tokenizer.json: what is not implemented is refused naming the field") {
    struct Case { const char* json; const char* expect; } cases[] = {
        {"{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", "model.type = \"WordPiece\""},
        {"{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "model.type = \"Unigram\""},
        {"{\"model\": {\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {}, \"merges\": []}}", "model.dropout = 0.1"},
        {"{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
         "{\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}, "
         "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "not one we implement"},
        {"{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, "
         "\"merges\": []}}", "pre_tokenizer.type = \"Whitespace\""},
        {"{\"normalizer\": {\"type\": \"NFKC\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
         "normalizer.type = \"NFKC\""},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2}, \"merges\": []}}", "without gaps"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}", "not in the vocabulary"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [7]}}", "merges[0]"},
        // Found by fuzzing: a Split without "behavior" (it was read through a null pointer).
        {"{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
         "{\"Regex\": \"x\"}}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0}, \"merges\": []}}", "behavior: missing"},
        // Found by fuzzing: normalizers that are not a list (read as one).
        {"{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": 3}, \"model\": {\"type\": \"BPE\", "
         "\"vocab\": {\"a\": 0}, \"merges\": []}}", "normalizers must be a list"},
        // Found by fuzzing: a merge with a newline made a two-line message.
        {"{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, "
         "\"b\": 1}, \"merges\": [\"a \\nb\"]}}", "merge 0 'a \\x0Ab': '\\x0Ab' is not a token"},
        {"[1, 2]", "not an object"},
        {"{\"model\": ", "json:"},
    };
    for (const Case& c : cases) {
        agm::Vocab v;
        std::string kind;
        agm::Error err;
        INFO(std::string(c.json));
        CHECK_FALSE(from_json(c.json, &v, &kind, &err));
        INFO(err.msg);
        CHECK(std::string(err.msg).find(c.expect) != std::string::npos);
        CHECK(std::string(err.msg).find('\n') == std::string::npos);
    }
}
