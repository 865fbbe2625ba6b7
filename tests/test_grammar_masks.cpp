// Token masks against a brute-force check of every token: for each step of
// seeded random walks through a grammar, fill_mask() must allow exactly the
// tokens whose bytes (agm_token_piece after the previous token, the public
// API's own bytes) the matcher accepts, EOS exactly where the output is
// complete. Both tokenizer kinds: the bundled SentencePiece model (512
// tokens, byte fallback) and a GPT-2 byte-level BPE model (50257 tokens).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/synth.h"
#include "agmodel.h"
#include "doctest.h"
#include "grammar/grammar.h"
#include "gpt2_model.h"
#include "test_util.h"

namespace {

uint64_t test_seed() {
    const char* s = std::getenv("AGM_TEST_SEED");
    return s != nullptr ? std::strtoull(s, nullptr, 10) : 20261205u;
}

uint32_t rnd(uint64_t* s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

const char* kJson =
    "root   ::= object\n"
    "value  ::= object | array | string | number | (\"true\" | \"false\" | \"null\") ws\n"
    "object ::= \"{\" ws ( string \":\" ws value (\",\" ws string \":\" ws value)* )? \"}\" ws\n"
    "array  ::= \"[\" ws ( value (\",\" ws value)* )? \"]\" ws\n"
    "string ::= \"\\\"\" ( [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4}) )* \"\\\"\" ws\n"
    "number ::= \"-\"? ([0-9] | [1-9] [0-9]{0,15}) (\".\" [0-9]+)? ([eE] [-+]? [0-9]{1,3})? ws\n"
    "ws     ::= | \" \" | \"\\n\" [ \\t]{0,8}\n";

const char* kReport =
    "root ::= \"{\\\"zone\\\":\" [1-9] \",\\\"moisture\\\":\" (\"low\" | \"ok\" | \"high\") "
    "\",\\\"note\\\":\\\"\" [a-z ]{0,24} \"\\\"}\"\n";

// Bounded repetitions at every count: a string with a minimum and a
// maximum length, then repetitions whose exits overlap (the counting
// entries, each serving every count of its repetition, must still give the
// exact mask near and at the bounds).
const char* kBounded =
    "root ::= \"\\\"\" ch{2,20} \"\\\"\" ( \",\" (\"ab\" | \"a\"){0,5} \"b\"{0,2} [a-z]{0,3} [a-z]* )? \".\"\n"
    "ch   ::= [^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})\n";

const char* kUtf8 = "root ::= (\"caf\xc3\xa9 \" | [\xce\xb1-\xcf\x89]+ \" \" | \"\xe2\x82\xac\" [0-9]{1,3} \" \")+ \".\"\n";

struct Model {
    agm_model* m = nullptr;
    std::vector<uint8_t> image;
    std::unique_ptr<agm_test::AlignedCopy> copy;
    ~Model() { agm_model_close(m); }
};

void open_bundled(Model* md) {
    agm_error e;
    REQUIRE_MESSAGE(agm_model_open_file(agm_test::bundled_model().c_str(), nullptr, &md->m, &e) == AGM_OK, e.message);
}

void open_gpt2(Model* md) {
    agm::SynthConfig c;
    REQUIRE(agm::synth_preset("tiny", &c));
    c.n_layers = 1;
    std::string why;
    REQUIRE_MESSAGE(agm_test::gpt2_test_model(c, &md->image, &why), why);
    md->copy.reset(new agm_test::AlignedCopy(md->image));
    agm_error e;
    REQUIRE_MESSAGE(agm_model_open_memory(md->copy->data(), md->image.size(), nullptr, &md->m, &e) == AGM_OK,
                    e.message);
}

// The brute-force mask of the matcher's state: every token checked alone.
std::vector<uint32_t> brute_mask(agm_matcher* mt, const agm_model* model, int32_t prev) {
    agm_model_info info;
    agm_model_get_info(model, &info);
    std::vector<uint32_t> mask((info.vocab_size + 31) / 32, 0);
    std::vector<char> buf(4096);
    for (uint32_t t = 0; t < info.vocab_size; ++t) {
        bool ok;
        if ((int32_t)t == info.eos_id) {
            ok = agm_matcher_is_complete(mt) != 0;
        } else {
            const size_t n = agm_token_piece(model, prev, (int32_t)t, 0, buf.data(), buf.size());
            agm::Error err;
            ok = false;
            if (n > 0 && !agm::gr::matcher_try_bytes(mt, reinterpret_cast<const uint8_t*>(buf.data()), n, &ok, &err))
                FAIL(err.msg);
        }
        if (ok) mask[t >> 5] |= 1u << (t & 31);
    }
    return mask;
}

struct WalkStats {
    uint64_t steps = 0, allowed = 0, walks = 0, hits = 0, misses = 0, counting = 0, precomputed = 0;
    double mask_s = 0, worst_s = 0;
};

// Random walks: at each step the mask must equal the brute-force one; then
// a random allowed token (EOS only after min_len steps) is accepted.
void walks(const agm_model* model, const char* grammar, int n_walks, int max_steps, int32_t first_prev,
           WalkStats* st, uint32_t mask_cache = 8, bool precompute = true) {
    agm_grammar* g = nullptr;
    agm_matcher* mt = nullptr;
    agm_error e;
    agm_grammar_options o;
    agm_grammar_options_default(&o);
    o.mask_cache = mask_cache;
    o.precompute = precompute ? 1 : 0;
    REQUIRE_MESSAGE(agm_grammar_create(model, grammar, std::strlen(grammar), &o, &g, &e) == AGM_OK, e.message);
    REQUIRE_MESSAGE(agm_matcher_create(g, &mt, &e) == AGM_OK, e.message);
    agm_model_info info;
    agm_model_get_info(model, &info);
    const size_t words = (info.vocab_size + 31) / 32;
    std::vector<uint32_t> mask(words);
    uint64_t seed = test_seed();
    INFO("seed " << seed << " (AGM_TEST_SEED replays it)");
    for (int w = 0; w < n_walks; ++w) {
        REQUIRE(agm_matcher_reset(mt, first_prev) == AGM_OK);
        int32_t prev = first_prev;
        for (int step = 0; step < max_steps; ++step) {
            uint32_t n_allowed = 0;
            const auto t0 = std::chrono::steady_clock::now();
            REQUIRE_MESSAGE(agm_matcher_fill_mask(mt, mask.data(), words, &n_allowed, &e) == AGM_OK, e.message);
            const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            st->mask_s += dt;
            if (dt > st->worst_s) st->worst_s = dt;
            const std::vector<uint32_t> want = brute_mask(mt, model, prev);
            INFO("walk " << w << " step " << step);
            REQUIRE(mask == want);
            ++st->steps;
            st->allowed += n_allowed;
            if (n_allowed == 0) break;
            // pick the k-th allowed token; EOS only late, so walks get long
            std::vector<int32_t> ids;
            for (uint32_t t = 0; t < info.vocab_size; ++t)
                if ((mask[t >> 5] >> (t & 31)) & 1)
                    if ((int32_t)t != info.eos_id || step > max_steps / 2 || n_allowed == 1) ids.push_back((int32_t)t);
            if (ids.empty()) ids.push_back(info.eos_id);
            const int32_t tok = ids[rnd(&seed) % ids.size()];
            REQUIRE_MESSAGE(agm_matcher_accept_token(mt, tok, &e) == AGM_OK, e.message);
            prev = tok;
            if (tok == info.eos_id) break;
        }
        ++st->walks;
    }
    st->hits += mt->cache_hits;
    st->misses += mt->cache_misses;
    st->counting += mt->counting_hits;
    st->precomputed += mt->precomputed;
    agm_matcher_free(mt);
    agm_grammar_free(g);
}

bool under_emulation() {
#if defined(__arm__)
    return true;
#else
    return false;
#endif
}

}  // namespace

void report(const char* what, const char* name, uint32_t cache, const WalkStats& st) {
    const std::string cached = cache ? " (mask cache " + std::to_string(cache) + ")" : " (no mask cache)";
    MESSAGE(std::string(what) << " " << std::string(name) << cached
                 << ": " << st.walks << " walks, " << st.steps << " steps equal the brute force, "
                 << (st.steps ? st.allowed / st.steps : 0) << " tokens allowed per step on average, "
                 << (st.steps ? st.mask_s * 1e3 / st.steps : 0) << " ms per mask (worst " << st.worst_s * 1e3 << "), cache hits " << st.hits
                 << " misses " << st.misses << " (" << st.precomputed << " at init), counting-entry masks " << st.counting);
}

// The grammars of the brute-force tests, each with a mask cache of 8
// entries precomputed at init, of 8 computed on first use, and none.
const char* kGrammars[] = {kJson, kReport, kUtf8, kBounded};
const char* kNames[] = {"json", "report", "utf8", "bounded"};
struct CacheMode {
    uint32_t entries;
    bool precompute;
};
const CacheMode kModes[] = {{8, true}, {8, false}, {0, false}};

TEST_CASE("grammar masks: the bundled SentencePiece model, every step equals the brute-force check") {
    Model md;
    open_bundled(&md);
    agm_model_info info;
    agm_model_get_info(md.m, &info);
    for (const CacheMode& cm : kModes)
        for (int i = 0; i < 4; ++i) {
            WalkStats st;
            walks(md.m, kGrammars[i], 6, 40, 300 /* after a prompt token */, &st, cm.entries, cm.precompute);
            walks(md.m, kGrammars[i], 2, 10, info.bos_id /* an empty prompt: pieces lose their leading space */, &st,
                  cm.entries, cm.precompute);
            report("spm 512", kNames[i], cm.entries, st);
            if (cm.entries > 0 && i == 3) CHECK(st.counting > 0);  // the bounded string's masks came from one
            if (cm.precompute) CHECK(st.precomputed > 0);
        }
}

TEST_CASE("grammar masks: right after BOS, pieces without their leading space") {
    // Free text from the first byte: most tokens after BOS are spaced pieces
    // that lose the space (walked apart from the others).
    Model md;
    open_bundled(&md);
    agm_model_info info;
    agm_model_get_info(md.m, &info);
    const char* text = "root ::= [a-zA-Z,.]{1,6} [a-zA-Z ,.]{0,40}\n";
    for (const CacheMode& cm : kModes) {
        WalkStats st;
        walks(md.m, text, 8, 4, info.bos_id, &st, cm.entries, cm.precompute);
        report("spm 512 after BOS", "text", cm.entries, st);
        CHECK(st.allowed / st.steps > 50);  // wide masks, spaced pieces among them
    }
}

TEST_CASE("grammar masks: a GPT-2 byte-level BPE model, every step equals the brute-force check") {
    Model md;
    open_gpt2(&md);
    const int n_walks = under_emulation() ? 1 : 3;
    for (const CacheMode& cm : kModes)
        for (int i = 0; i < 4; ++i) {
            if (under_emulation() && cm.entries > 0 && !cm.precompute) continue;  // the host covers it
            WalkStats st;
            walks(md.m, kGrammars[i], n_walks, under_emulation() ? 12 : 30, 0, &st, cm.entries, cm.precompute);
            report("bpe 50257", kNames[i], cm.entries, st);
            if (cm.entries > 0 && i == 3) CHECK(st.counting > 0);
        }
}

TEST_CASE("grammar masks: the vocabulary check refuses what no token can write") {
    Model md;
    open_bundled(&md);
    // The bundled vocabulary has byte tokens for every byte, so any text
    // can be written; an empty class can never be.
    agm_grammar* g = nullptr;
    agm_error e;
    const std::string bad = "root ::= \"a\" [^\\x00-\\U0010FFFF]";
    CHECK(agm_grammar_create(md.m, bad.data(), bad.size(), nullptr, &g, &e) == AGM_ERR_FORMAT);
    CHECK(std::string(e.message).find("can never complete") != std::string::npos);
    // EOS only when complete; accepting a disallowed token changes nothing.
    const std::string t = "root ::= \"ab\"";
    REQUIRE(agm_grammar_create(md.m, t.data(), t.size(), nullptr, &g, &e) == AGM_OK);
    agm_matcher* m = nullptr;
    REQUIRE(agm_matcher_create(g, &m, &e) == AGM_OK);
    agm_model_info info;
    agm_model_get_info(md.m, &info);
    CHECK(agm_matcher_accept_token(m, info.eos_id, &e) == AGM_ERR_ARGUMENT);
    CHECK(std::string(e.message) == "grammar: EOS is not allowed: the output is not complete");
    int32_t ids[8];
    size_t n = 0;
    REQUIRE(agm_tokenize(md.m, "ab", 2, 0, ids, 8, &n, &e) == AGM_OK);
    // " ab" (with SentencePiece's dummy space) is not allowed: its space is not in the grammar
    CHECK(agm_matcher_accept_token(m, ids[0], &e) == AGM_ERR_ARGUMENT);
    REQUIRE(agm_matcher_accept_bytes(m, "ab", 2, &e) == AGM_OK);
    CHECK(agm_matcher_accept_token(m, info.eos_id, &e) == AGM_OK);
    CHECK(agm_matcher_is_done(m) == 1);
    agm_matcher_free(m);
    agm_grammar_free(g);
}

TEST_CASE("grammar masks: jump-forward tokens write exactly the forced bytes") {
    for (int which = 0; which < 2; ++which) {
        Model md;
        if (which == 0) open_bundled(&md);
        else open_gpt2(&md);
        agm_grammar* g = nullptr;
        agm_matcher* m = nullptr;
        agm_error e;
        REQUIRE(agm_grammar_create(md.m, kReport, std::strlen(kReport), nullptr, &g, &e) == AGM_OK);
        REQUIRE(agm_matcher_create(g, &m, &e) == AGM_OK);
        REQUIRE(agm_matcher_reset(m, 300) == AGM_OK);
        int32_t ids[64];
        size_t n = 0;
        REQUIRE(agm_matcher_forced_tokens(m, ids, 64, &n, &e) == AGM_OK);
        REQUIRE(n > 0);
        std::string text;
        int32_t prev = 300;
        for (size_t i = 0; i < n; ++i) {
            char buf[64];
            const size_t k = agm_token_piece(md.m, prev, ids[i], 0, buf, sizeof buf);
            text.append(buf, k);
            REQUIRE(agm_matcher_accept_token(m, ids[i], &e) == AGM_OK);
            prev = ids[i];
        }
        CHECK(text == "{\"zone\":");
        MESSAGE((which == 0 ? "spm" : "bpe") << ": " << n << " tokens write the forced " << text);
        REQUIRE(agm_matcher_accept_bytes(m, "3", 1, &e) == AGM_OK);
        REQUIRE(agm_matcher_forced_tokens(m, ids, 64, &n, &e) == AGM_OK);
        CHECK(n > 0);  // ,"moisture":"
        agm_matcher_free(m);
        agm_grammar_free(g);
    }
}
