// Hugging Face tokenizer.json -> Vocab (agm/hf_tokenizer.h).
//
// Two model families, told apart by the pipeline around the BPE model:
//   byte-level BPE   pre_tokenizer ByteLevel (GPT-2: its own regex), or a
//                    Sequence of Split(regex) + ByteLevel(use_regex false):
//                    the regex must be one of the pre-tokenizers we implement
//                    (LLaMA-3's, GPT-2's), matched as text; or Falcon's
//                    Sequence of Punctuation, ByteLevel, Digits and
//                    Split("[0-9][0-9][0-9]").
//                    -> AGM_TOKENIZER_BPE_BYTES, merges by rank.
//   SentencePiece    byte_fallback BPE over pieces spelling spaces as U+2581
//   style BPE        (normalizer Prepend/Replace, or pre_tokenizer Metaspace)
//                    -> AGM_TOKENIZER_SPM_BPE. Our SentencePiece encoder merges
//                    by piece score; Hugging Face's converter orders the
//                    merges by the merged piece's score, so a piece's score
//                    is minus the rank of the first merge that makes it
//                    (pieces no merge makes rank after all merges).
// Anything else (WordPiece, Unigram, other normalizers or regexes) is refused
// naming the field and its value.
#include <cstdio>
#include <map>
#include <string>

#include "agm/file_io.h"
#include "agm/hf_tokenizer.h"
#include "agm/json.h"

namespace agm {
namespace {

const char kLlama3Regex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char kGpt2Regex[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

bool refuse(const char* field, const JsonValue& v, const char* why, Error* err) {
    return fail_as(err, ErrorKind::Unsupported, "tokenizer.json: %s = %s: %s", field, json_value_text(v).c_str(), why);
}

// The pre-tokenizer of a byte-level pipeline; *pre = 0 if the pipeline is not byte-level.
bool byte_level_pre(const JsonValue& root, uint32_t* pre, Error* err) {
    *pre = 0;
    const JsonValue* p = root.find("pre_tokenizer");
    if (p == nullptr || p->is_null()) return true;
    std::string type;
    if (!p->get_string("tokenizer.json: pre_tokenizer", "type", &type, false, err)) return false;
    if (type == "ByteLevel") {
        bool prefix = false, use_regex = true;
        if (!p->get_bool("tokenizer.json: pre_tokenizer", "add_prefix_space", &prefix, true, err) ||
            !p->get_bool("tokenizer.json: pre_tokenizer", "use_regex", &use_regex, true, err))
            return false;
        if (prefix) return refuse("pre_tokenizer.add_prefix_space", *p->find("add_prefix_space"), "not implemented", err);
        if (!use_regex) return refuse("pre_tokenizer.use_regex", *p->find("use_regex"), "not implemented", err);
        *pre = AGM_PRE_GPT2;
        return true;
    }
    if (type != "Sequence") return true;  // Metaspace etc.: not byte-level
    const JsonValue* list = p->find("pretokenizers");
    if (list == nullptr || !list->is_array())
        return fail(err, "tokenizer.json: pre_tokenizer.pretokenizers must be a list");
    // Two shapes: [Split(regex), ByteLevel(use_regex false)] (LLaMA-3, or
    // GPT-2's regex spelt out), and Falcon's [Punctuation(contiguous),
    // ByteLevel(use_regex true), Digits(individual_digits false),
    // Split("[0-9][0-9][0-9]")], which is llama.cpp's "falcon" sequence.
    bool byte_level = false, byte_level_regex = false, punctuation = false, digits = false;
    std::string regex;
    for (size_t i = 0; i < list->size(); ++i) {
        const JsonValue& e = list->at(i);
        std::string t;
        if (!e.get_string("tokenizer.json: pre_tokenizer.pretokenizers[]", "type", &t, false, err)) return false;
        if (t == "ByteLevel") {
            bool prefix = false, use_regex = true;
            if (!e.get_bool("tokenizer.json: ByteLevel", "add_prefix_space", &prefix, true, err) ||
                !e.get_bool("tokenizer.json: ByteLevel", "use_regex", &use_regex, true, err))
                return false;
            if (prefix) return refuse("pre_tokenizer ByteLevel.add_prefix_space", *e.find("add_prefix_space"), "not implemented", err);
            byte_level = true;
            byte_level_regex = use_regex;
        } else if (t == "Split") {
            const JsonValue* pat = e.find("pattern");
            const JsonValue* rx = pat ? pat->find("Regex") : nullptr;
            std::string behavior;
            if (rx == nullptr || !rx->is_string())
                return refuse("pre_tokenizer Split.pattern", pat ? *pat : e, "only a Regex pattern is implemented", err);
            if (!e.get_string("tokenizer.json: Split", "behavior", &behavior, false, err)) return false;
            if (behavior != "Isolated")
                return refuse("pre_tokenizer Split.behavior", *e.find("behavior"), "only Isolated is implemented", err);
            if (!regex.empty())
                return refuse("pre_tokenizer", *p, "more than one Split is not implemented", err);
            regex = rx->text();
        } else if (t == "Punctuation") {
            std::string behavior;
            if (!e.get_string("tokenizer.json: Punctuation", "behavior", &behavior, false, err)) return false;
            if (behavior != "Contiguous" && behavior != "contiguous")
                return refuse("pre_tokenizer Punctuation.behavior", *e.find("behavior"), "only Contiguous is implemented", err);
            punctuation = true;
        } else if (t == "Digits") {
            bool individual = false;
            if (!e.get_bool("tokenizer.json: Digits", "individual_digits", &individual, true, err)) return false;
            if (individual) return refuse("pre_tokenizer Digits.individual_digits", *e.find("individual_digits"), "not implemented", err);
            digits = true;
        } else {
            return refuse("pre_tokenizer.pretokenizers[].type", *e.find("type"), "not implemented", err);
        }
    }
    if (!byte_level) return refuse("pre_tokenizer", *p, "a Sequence without ByteLevel is not implemented", err);
    if (punctuation || digits || byte_level_regex) {
        if (!(punctuation && digits && byte_level_regex && regex == "[0-9][0-9][0-9]"))
            return refuse("pre_tokenizer", *p, "not a sequence we implement (LLaMA-3's, GPT-2's, Falcon's)", err);
        *pre = AGM_PRE_FALCON;
    } else if (regex.empty() || regex == kGpt2Regex) {
        *pre = AGM_PRE_GPT2;
    } else if (regex == kLlama3Regex) {
        *pre = AGM_PRE_LLAMA3;
    } else {
        return fail_as(err, ErrorKind::Unsupported,
                       "tokenizer.json: pre_tokenizer Split regex %s: not one we implement (GPT-2's, LLaMA-3's)",
                       json_printable(regex, 120).c_str());
    }
    return true;
}

// The merges, as "a b" strings (either spelling tokenizer.json uses).
bool read_merges(const JsonValue& model, std::vector<std::string>* out, Error* err) {
    const JsonValue* m = model.find("merges");
    if (m == nullptr || !m->is_array()) return fail(err, "tokenizer.json: model.merges must be a list");
    out->reserve(m->size());
    for (size_t i = 0; i < m->size(); ++i) {
        const JsonValue& e = m->at(i);
        if (e.is_string()) {
            out->push_back(e.text());
        } else if (e.is_array() && e.size() == 2 && e.at(0).is_string() && e.at(1).is_string()) {
            out->push_back(e.at(0).text() + " " + e.at(1).text());
        } else {
            return fail(err, "tokenizer.json: model.merges[%zu]: expected \"a b\" or [\"a\", \"b\"]", i);
        }
    }
    return true;
}

// id -> token text from model.vocab and added_tokens; types from added_tokens.
bool read_tokens(const JsonValue& root, const JsonValue& model, std::vector<std::string>* tokens,
                 std::vector<uint8_t>* types, Error* err) {
    const JsonValue* v = model.find("vocab");
    if (v == nullptr || !v->is_object()) return fail(err, "tokenizer.json: model.vocab must be an object");
    std::map<uint64_t, std::string> by_id;
    std::map<uint64_t, uint8_t> type_of;
    for (size_t i = 0; i < v->size(); ++i) {
        uint64_t id = 0;
        if (!v->at(i).to_uint64("tokenizer.json: model.vocab value", &id, err)) return false;
        if (id >= (1u << 24)) return fail(err, "tokenizer.json: model.vocab: id %llu is too large", (unsigned long long)id);
        if (!by_id.emplace(id, v->key(i)).second)
            return fail(err, "tokenizer.json: model.vocab: id %llu is given twice", (unsigned long long)id);
    }
    if (const JsonValue* added = root.find("added_tokens")) {
        if (!added->is_array()) return fail(err, "tokenizer.json: added_tokens must be a list");
        for (size_t i = 0; i < added->size(); ++i) {
            const JsonValue& a = added->at(i);
            uint64_t id = 0;
            std::string content;
            bool special = false;
            if (!a.get_uint64("tokenizer.json: added_tokens[]", "id", &id, false, err) ||
                !a.get_string("tokenizer.json: added_tokens[]", "content", &content, false, err) ||
                !a.get_bool("tokenizer.json: added_tokens[]", "special", &special, true, err))
                return false;
            if (id >= (1u << 24)) return fail(err, "tokenizer.json: added_tokens: id %llu is too large", (unsigned long long)id);
            auto it = by_id.find(id);
            if (it != by_id.end() && it->second != content)
                return fail(err, "tokenizer.json: added token %llu \"%s\" differs from the vocabulary's \"%s\"",
                            (unsigned long long)id, json_printable(content).c_str(), json_printable(it->second).c_str());
            by_id[id] = content;
            type_of[id] = special ? AGM_TOKEN_CONTROL : AGM_TOKEN_USER_DEFINED;
        }
    }
    if (by_id.empty()) return fail(err, "tokenizer.json: the vocabulary is empty");
    const uint64_t n = by_id.rbegin()->first + 1;
    if (n != by_id.size())
        return fail(err, "tokenizer.json: ids are not 0..%llu without gaps", (unsigned long long)(n - 1));
    tokens->clear();
    types->clear();
    for (const auto& kv : by_id) {
        tokens->push_back(kv.second);
        auto t = type_of.find(kv.first);
        types->push_back(t != type_of.end() ? t->second : (uint8_t)AGM_TOKEN_NORMAL);
    }
    return true;
}

int32_t id_of(const std::vector<std::string>& tokens, const std::string& s) {
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] == s) return (int32_t)i;
    return -1;
}

// BOS: the special token the post-processor puts first ("single" template).
int32_t template_bos(const JsonValue& root, const std::vector<std::string>& tokens) {
    const JsonValue* pp = root.find("post_processor");
    if (pp == nullptr || !pp->is_object()) return -1;
    const JsonValue* procs = pp->find("processors");  // a Sequence of processors
    const JsonValue* tp = pp;
    if (procs != nullptr && procs->is_array())
        for (size_t i = 0; i < procs->size(); ++i)
            if (procs->at(i).find("single") != nullptr) tp = &procs->at(i);
    const JsonValue* single = tp->find("single");
    if (single == nullptr || !single->is_array() || single->size() == 0) return -1;
    const JsonValue* st = single->at(0).find("SpecialToken");
    const JsonValue* id = st ? st->find("id") : nullptr;
    return id && id->is_string() ? id_of(tokens, id->text()) : -1;
}

bool spm_style(const JsonValue& root, const JsonValue& model, Vocab* out, Error* err) {
    *out = Vocab();
    bool byte_fallback = false;
    if (!model.get_bool("tokenizer.json: model", "byte_fallback", &byte_fallback, true, err)) return false;
    std::vector<std::string> tokens, merges;
    std::vector<uint8_t> types;
    if (!read_tokens(root, model, &tokens, &types, err) || !read_merges(model, &merges, err)) return false;
    // The whitespace handling: Prepend("▁") + Replace(" ", "▁") normalizers, or Metaspace.
    bool prefix = false, escape = false;
    if (const JsonValue* n = root.find("normalizer"); n != nullptr && !n->is_null()) {
        std::string t;
        if (!n->get_string("tokenizer.json: normalizer", "type", &t, false, err)) return false;
        const JsonValue* list = nullptr;
        if (t == "Sequence") {
            list = n->find("normalizers");
            if (list == nullptr || !list->is_array())
                return fail(err, "tokenizer.json: normalizer.normalizers must be a list");
        }
        const size_t count = list ? list->size() : 1;
        for (size_t i = 0; i < count; ++i) {
            const JsonValue& e = list ? list->at(i) : *n;
            std::string et;
            if (!e.get_string("tokenizer.json: normalizer", "type", &et, false, err)) return false;
            if (et == "Prepend") {
                std::string s;
                if (!e.get_string("tokenizer.json: Prepend", "prepend", &s, false, err)) return false;
                if (s != "\xE2\x96\x81") return refuse("normalizer Prepend.prepend", *e.find("prepend"), "not implemented", err);
                prefix = true;
            } else if (et == "Replace") {
                const JsonValue* pat = e.find("pattern");
                const JsonValue* str = pat ? pat->find("String") : nullptr;
                std::string content;
                if (!e.get_string("tokenizer.json: Replace", "content", &content, false, err)) return false;
                if (!str || !str->is_string() || str->text() != " " || content != "\xE2\x96\x81")
                    return refuse("normalizer Replace", e, "only \" \" -> \"\\u2581\" is implemented", err);
                escape = true;
            } else {
                return refuse("normalizer.type", *e.find("type"), "not implemented", err);
            }
        }
    }
    if (const JsonValue* p = root.find("pre_tokenizer"); p != nullptr && !p->is_null()) {
        std::string t, scheme = "always";
        if (!p->get_string("tokenizer.json: pre_tokenizer", "type", &t, false, err)) return false;
        if (t != "Metaspace") return refuse("pre_tokenizer.type", *p->find("type"), "not implemented", err);
        if (!p->get_string("tokenizer.json: pre_tokenizer", "prepend_scheme", &scheme, true, err)) return false;
        escape = true;
        prefix = scheme != "never";
    }
    out->kind = AGM_TOKENIZER_SPM_BPE;
    out->pieces = tokens;
    out->types = types;
    out->scores.assign(tokens.size(), 0.0f);
    std::vector<bool> scored(tokens.size(), false);
    std::map<std::string, uint32_t> ids;
    for (size_t i = 0; i < tokens.size(); ++i) ids.emplace(tokens[i], (uint32_t)i);
    for (size_t r = 0; r < merges.size(); ++r) {
        const size_t sp = merges[r].find(' ', 1);
        if (sp == std::string::npos) return fail(err, "tokenizer.json: merge %zu has no space", r);
        const auto it = ids.find(merges[r].substr(0, sp) + merges[r].substr(sp + 1));
        if (it == ids.end()) return fail(err, "tokenizer.json: merge %zu makes a token not in the vocabulary", r);
        if (!scored[it->second]) {
            scored[it->second] = true;
            out->scores[it->second] = -(float)r;
        }
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        if (!scored[i]) out->scores[i] = -(float)(merges.size() + i);
        const std::string& t = tokens[i];
        if (out->types[i] == AGM_TOKEN_NORMAL && t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>')
            out->types[i] = AGM_TOKEN_BYTE;
    }
    std::string unk;
    if (!model.get_string("tokenizer.json: model", "unk_token", &unk, true, err)) return false;
    out->unk_id = unk.empty() ? -1 : id_of(tokens, unk);
    if (out->unk_id >= 0) out->types[out->unk_id] = AGM_TOKEN_UNKNOWN;
    out->bos_id = template_bos(root, tokens);
    const bool add_bos = out->bos_id >= 0;  // the post-processor puts it first
    if (out->bos_id < 0) out->bos_id = id_of(tokens, "<s>");
    out->eos_id = id_of(tokens, "</s>");
    out->flags = (prefix ? (uint32_t)AGM_TOK_ADD_DUMMY_PREFIX : 0u) | (escape ? (uint32_t)AGM_TOK_ESCAPE_WS : 0u) |
                 (byte_fallback ? (uint32_t)AGM_TOK_BYTE_FALLBACK : 0u) | (add_bos ? 0u : (uint32_t)AGM_TOK_NO_BOS);
    return true;
}

}  // namespace

bool vocab_from_tokenizer_json(const uint8_t* data, size_t size, Vocab* out, std::string* kind, Error* err) {
    JsonValue root;
    if (!parse_json(data, size, &root, err)) return fail_context(err, "tokenizer.json");
    if (!root.is_object()) return fail(err, "tokenizer.json: the top level is not an object");
    const JsonValue* model = root.find("model");
    if (model == nullptr || !model->is_object()) return fail(err, "tokenizer.json: no model object");
    std::string type;
    if (!model->get_string("tokenizer.json: model", "type", &type, true, err)) return false;
    if (type != "BPE" && !(type.empty() && model->find("merges") != nullptr))
        return fail_as(err, ErrorKind::Unsupported, "tokenizer.json: model.type = \"%s\": not supported (BPE)",
                       json_printable(type).c_str());
    if (const JsonValue* d = model->find("dropout"); d != nullptr && !d->is_null())
        return refuse("model.dropout", *d, "BPE dropout is not implemented", err);
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (const JsonValue* v = model->find(k); v != nullptr && !v->is_null() && !(v->is_string() && v->text().empty()))
            return refuse(k, *v, "not implemented", err);
    uint32_t pre = 0;
    if (!byte_level_pre(root, &pre, err)) return false;
    if (pre == 0) {
        if (!spm_style(root, *model, out, err)) return false;
        *kind = "Hugging Face tokenizer.json (SentencePiece-style BPE)";
        return true;
    }
    std::vector<std::string> tokens, merges;
    std::vector<uint8_t> types;
    if (!read_tokens(root, *model, &tokens, &types, err) || !read_merges(*model, &merges, err)) return false;
    *out = Vocab();
    out->kind = AGM_TOKENIZER_BPE_BYTES;
    out->pre_tokenizer = pre;
    if (!bpe_vocab_from_strings(tokens, types, merges, out, err)) return fail_context(err, "tokenizer.json");
    bool ignore_merges = false;
    if (!model->get_bool("tokenizer.json: model", "ignore_merges", &ignore_merges, true, err)) return false;
    out->bos_id = template_bos(root, tokens);  // the post-processor's first special token
    out->flags = (ignore_merges ? (uint32_t)AGM_TOK_IGNORE_MERGES : 0u) | (out->bos_id < 0 ? (uint32_t)AGM_TOK_NO_BOS : 0u);
    for (const char* eos : {"<|end_of_text|>", "<|endoftext|>", "</s>"})
        if (out->eos_id < 0) out->eos_id = id_of(tokens, eos);
    *kind = pre == AGM_PRE_LLAMA3   ? "Hugging Face tokenizer.json (byte-level BPE, LLaMA-3 pre-tokenizer)"
            : pre == AGM_PRE_FALCON ? "Hugging Face tokenizer.json (byte-level BPE, Falcon pre-tokenizer)"
                                    : "Hugging Face tokenizer.json (byte-level BPE, GPT-2 pre-tokenizer)";
    return true;
}

bool load_tokenizer_json(const std::string& path, Vocab* out, std::string* kind, Error* err) {
    std::vector<uint8_t> bytes;
    if (!read_whole_file(path, &bytes, err, (uint64_t)512 << 20)) return false;
    if (!vocab_from_tokenizer_json(bytes.data(), bytes.size(), out, kind, err)) return fail_context(err, path.c_str());
    return true;
}

}  // namespace agm
