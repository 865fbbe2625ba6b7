// The firmware contract of agmodel.h, counted: with the model and the session
// in caller arenas, init and every call after it make zero heap calls.
//
// The test program is linked with -Wl,--wrap=malloc,... (tests/CMakeLists.txt):
// every reference to malloc/calloc/realloc/free/posix_memalign from the
// objects and archives linked (the engine's included) goes to the __wrap_
// functions below, which count while `g_counting` is set and forward to the
// C library. Nothing between start() and stop() may use the heap itself:
// results are kept in fixed arrays and checked after stop().
#include "doctest.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agm/gguf.h"
#include "agm/gguf_vocab.h"
#include "agm/synth.h"
#include "agmodel.h"
#include "gpt2_model.h"
#include "sampler.h"
#include "test_util.h"

extern "C" {
void* __real_malloc(size_t n);
void* __real_calloc(size_t n, size_t size);
void* __real_realloc(void* p, size_t n);
void __real_free(void* p);
int __real_posix_memalign(void** p, size_t align, size_t n);

static volatile int g_counting = 0;
static volatile long g_calls = 0;

void* __wrap_malloc(size_t n) {
    if (g_counting) g_calls = g_calls + 1;
    return __real_malloc(n);
}
void* __wrap_calloc(size_t n, size_t size) {
    if (g_counting) g_calls = g_calls + 1;
    return __real_calloc(n, size);
}
void* __wrap_realloc(void* p, size_t n) {
    if (g_counting) g_calls = g_calls + 1;
    return __real_realloc(p, n);
}
void __wrap_free(void* p) {
    if (g_counting && p != nullptr) g_calls = g_calls + 1;
    __real_free(p);
}
int __wrap_posix_memalign(void** p, size_t align, size_t n) {
    if (g_counting) g_calls = g_calls + 1;
    return __real_posix_memalign(p, align, n);
}
}  // extern "C"

namespace {

void start() {
    g_calls = 0;
    g_counting = 1;
}

long stop() {
    g_counting = 0;
    return g_calls;
}

// The model file at a 64-byte boundary.
struct Aligned {
    std::vector<uint64_t> words;
    uint8_t* p = nullptr;
    explicit Aligned(const std::vector<uint8_t>& b) : words(b.size() / 8 + 16) {
        p = reinterpret_cast<uint8_t*>(words.data());
        p += (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
        std::memcpy(p, b.data(), b.size());
    }
};

constexpr int kSteps = 64;

// What one run records (no heap between start() and stop()).
struct Run {
    agm_status first_bad = AGM_OK;
    int line = 0;  // where first_bad happened
    size_t n_prompt = 0;
    int32_t greedy[2][kSteps];   // two passes, greedy
    int32_t sampled[2][kSteps];  // two passes, sampled
    int32_t budget[kSteps];      // greedy under a work budget of 1
    int32_t cancelled[kSteps];   // greedy with a cancel at every step
    long budget_stops = 0, cancel_stops = 0;
    size_t piece_bytes = 0;
    agm_status long_text = AGM_OK;  // tokenize of a text beyond max_text_bytes
};

#define RUN_OK(expr)                                                       \
    do {                                                                   \
        const agm_status st_ = (expr);                                     \
        if (st_ != AGM_OK && r->first_bad == AGM_OK) {                     \
            r->first_bad = st_;                                            \
            r->line = __LINE__;                                            \
        }                                                                  \
    } while (0)

// Generates kSteps tokens after the prompt with `sampler`, detokenizing each.
void generate(agm_model* m, agm_session* s, const int32_t* ids, size_t n, agm_sampler* smp, int32_t* out, Run* r) {
    agm_error e;
    char piece[64];
    RUN_OK(agm_session_reset(s));
    RUN_OK(agm_session_feed(s, ids, n, &e));
    int32_t tok;
    RUN_OK(agm_session_sample(s, smp, &tok, &e));
    int32_t prev = ids[n - 1];
    for (int i = 0; i < kSteps; ++i) {
        out[i] = tok;
        size_t k = 0;
        RUN_OK(agm_detokenize(m, prev, tok, AGM_PIECE_PRINTABLE, piece, sizeof piece, &k, &e));
        r->piece_bytes += k;
        prev = tok;
        RUN_OK(agm_session_step(s, smp, tok, &tok, &e));
    }
}

// The whole post-init workload, twice.
void workload(agm_model* m, agm_session* s, const char* prompt, const char* long_text, size_t long_len, Run* r) {
    agm_error e;
    agm_model_info info;
    agm_model_get_info(m, &info);
    int32_t ids[512];
    RUN_OK(agm_tokenize(m, prompt, std::strlen(prompt), info.add_bos, ids, 512, &r->n_prompt, &e));
    size_t n_long = 0;
    r->long_text = agm_tokenize(m, long_text, long_len, 0, ids + 256, 256, &n_long, &e);
    for (int pass = 0; pass < 2; ++pass) {
        agm_sampler greedy;
        agm_sampler_init(&greedy, nullptr);
        generate(m, s, ids, r->n_prompt, &greedy, r->greedy[pass], r);
        agm_sampler_params sp;
        agm_sampler_params_default(&sp);
        sp.temperature = 0.9f;
        sp.top_k = 40;
        sp.top_p = 0.95f;
        sp.seed = 7;
        agm_sampler sampled;
        agm_sampler_init(&sampled, &sp);
        generate(m, s, ids, r->n_prompt, &sampled, r->sampled[pass], r);
    }
    RUN_OK(agm_session_logits(s) != nullptr ? AGM_OK : AGM_ERR_ARGUMENT);

    // Greedy again under a work budget of one unit per call: every call stops
    // with AGM_ERR_BUDGET until the step is done; the tokens are the same.
    agm_control c;
    agm_control_default(&c);
    c.work_budget = 1;
    RUN_OK(agm_session_set_control(s, &c, &e));
    RUN_OK(agm_session_reset(s));
    agm_sampler greedy;
    agm_sampler_init(&greedy, nullptr);
    agm_status st;
    while ((st = agm_session_feed(s, ids, r->n_prompt, &e)) == AGM_ERR_BUDGET) r->budget_stops++;
    RUN_OK(st);
    int32_t tok;
    RUN_OK(agm_session_sample(s, &greedy, &tok, &e));
    for (int i = 0; i < kSteps; ++i) {
        r->budget[i] = tok;
        const int32_t in = tok;
        while ((st = agm_session_step(s, &greedy, in, &tok, &e)) == AGM_ERR_BUDGET) r->budget_stops++;
        RUN_OK(st);
    }

    // And with a cancel flag raised before every step, then cleared.
    volatile int cancel = 0;
    c.work_budget = 0;
    c.cancel = &cancel;
    RUN_OK(agm_session_set_control(s, &c, &e));
    RUN_OK(agm_session_reset(s));
    RUN_OK(agm_session_feed(s, ids, r->n_prompt, &e));
    RUN_OK(agm_session_sample(s, &greedy, &tok, &e));
    for (int i = 0; i < kSteps; ++i) {
        r->cancelled[i] = tok;
        const int32_t in = tok;
        cancel = 1;
        if (agm_session_step(s, &greedy, in, &tok, &e) == AGM_ERR_CANCELLED) r->cancel_stops++;
        cancel = 0;
        RUN_OK(agm_session_step(s, &greedy, in, &tok, &e));
    }
    RUN_OK(agm_session_set_control(s, nullptr, &e));
}

// Opens the model in data and a session, both in arenas (given unaligned on
// purpose), counting heap calls; then runs the workload, counting again.
void check_model(const uint8_t* data, size_t size, const char* prompt, uint32_t max_text) {
    const std::string long_text(max_text + 1, 'y');  // one byte too long
    agm_open_options oo;
    agm_open_options_default(&oo);
    oo.max_text_bytes = max_text;
    agm_error e;
    size_t model_bytes = 0;
    REQUIRE_MESSAGE(agm_model_memory_size(data, size, &oo, &model_bytes, &e) == AGM_OK, e.message);
    std::vector<uint8_t> model_arena(model_bytes + 3);
    std::vector<uint8_t> session_arena;

    // The arena too small: a status, not a crash.
    agm_model* m = nullptr;
    CHECK(agm_model_init(data, size, &oo, model_arena.data() + 3, model_bytes - 64, &m, &e) == AGM_ERR_BUFFER);
    CHECK(m == nullptr);

    start();
    agm_status st = agm_model_init(data, size, &oo, model_arena.data() + 3, model_bytes, &m, &e);
    size_t session_bytes = 0;
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = 256;
    if (st == AGM_OK) st = agm_session_memory_size(m, &so, &session_bytes, &e);
    long init_calls = stop();
    REQUIRE_MESSAGE(st == AGM_OK, e.message);
    session_arena.resize(session_bytes + 5);
    agm_session* s = nullptr;
    start();
    st = agm_session_init(m, &so, session_arena.data() + 5, session_bytes, &s, &e);
    init_calls += stop();
    REQUIRE_MESSAGE(st == AGM_OK, e.message);
    CHECK(init_calls == 0);
    MESSAGE("heap calls during init (model + session in arenas): " << init_calls);

    Run* r = new Run();
    start();
    workload(m, s, prompt, long_text.data(), long_text.size(), r);
    const long calls = stop();
    MESSAGE("heap calls after init (tokenize, feed, 4 x 64 steps greedy/sampled, detokenize, reset, "
            "budget and cancel runs): " << calls);
    CHECK(calls == 0);
    CHECK_MESSAGE(r->first_bad == AGM_OK, "status " << agm_status_name(r->first_bad) << " at line " << r->line);
    CHECK(r->n_prompt > 0);
    CHECK(r->long_text == AGM_ERR_BUFFER);
    CHECK(r->piece_bytes > 0);
    CHECK(std::memcmp(r->greedy[0], r->greedy[1], sizeof r->greedy[0]) == 0);
    CHECK(std::memcmp(r->sampled[0], r->sampled[1], sizeof r->sampled[0]) == 0);
    CHECK(std::memcmp(r->greedy[0], r->budget, sizeof r->budget) == 0);
    CHECK(std::memcmp(r->greedy[0], r->cancelled, sizeof r->cancelled) == 0);
    CHECK(r->budget_stops > kSteps);
    CHECK(r->cancel_stops == kSteps);
    MESSAGE("work-budget stops: " << r->budget_stops << ", cancels: " << r->cancel_stops);
    delete r;
    agm_session_free(s);
    agm_model_close(m);
}

}  // namespace

TEST_CASE("heap calls: the counting works (the wrapped functions see the engine's calls)") {
    start();
    void* p = std::malloc(16);
    std::free(p);
    CHECK(stop() == 2);
    // The allocating convenience goes through the same wrappers.
    std::vector<uint8_t> bytes;
    REQUIRE(agm_test::read_file(agm_test::bundled_model(), &bytes));
    Aligned buf(bytes);
    agm_model* m = nullptr;
    agm_error e;
    start();
    const agm_status st = agm_model_open_memory(buf.p, bytes.size(), nullptr, &m, &e);
    agm_model_close(m);
    const long calls = stop();
    CHECK(st == AGM_OK);
    CHECK(calls == 2);  // the model's arena: malloc, free
}

TEST_CASE("heap calls: the bundled SentencePiece model in arenas makes none after init") {
    std::vector<uint8_t> bytes;
    REQUIRE(agm_test::read_file(agm_test::bundled_model(), &bytes));
    Aligned buf(bytes);
    check_model(buf.p, bytes.size(), "Once upon a time, there was a little girl named Lily. She", 256);
}

TEST_CASE("heap calls: a byte-level BPE model (GPT-2 vocabulary) in arenas makes none after init") {
    agm::SynthConfig c;
    REQUIRE(agm::synth_preset("tiny", &c));
    c.n_layers = 2;
    std::vector<uint8_t> file;
    std::string why;
    REQUIRE_MESSAGE(agm_test::gpt2_test_model(c, &file, &why), why);
    Aligned buf(file);
    // A 150-byte pre-token (beyond the encoder's 128 on the stack) and 40
    // special tokens (beyond its 32 inline frames): both from the scratch.
    // (Text last: this random model repeats the last token, and EOT has no piece.)
    std::string prompt = "Hello world, " + std::string(150, 'q') + " ok";
    for (int i = 0; i < 40; ++i) prompt += "<|endoftext|>";
    prompt += " and then";
    check_model(buf.p, file.size(), prompt.c_str(), 1024);
}

TEST_CASE("heap calls: a grammar and its matcher in arenas make none, at init or after") {
    std::vector<uint8_t> bytes;
    REQUIRE(agm_test::read_file(agm_test::bundled_model(), &bytes));
    Aligned buf(bytes);
    agm_error e;
    size_t mb = 0;
    REQUIRE(agm_model_memory_size(buf.p, bytes.size(), nullptr, &mb, &e) == AGM_OK);
    std::vector<uint64_t> marena(mb / 8 + 1);
    agm_model* model = nullptr;
    REQUIRE(agm_model_init(buf.p, bytes.size(), nullptr, marena.data(), mb, &model, &e) == AGM_OK);
    const char* gbnf =
        "root ::= \"{\\\"zone\\\":\" [1-9] \",\\\"level\\\":\" (\"low\" | \"ok\" | \"high\") "
        "\",\\\"note\\\":\\\"\" [a-z ]{0,16} \"\\\"}\"";
    size_t gb = 0;
    REQUIRE(agm_grammar_memory_size(model, gbnf, std::strlen(gbnf), nullptr, &gb, &e) == AGM_OK);
    std::vector<uint64_t> garena(gb / 8 + 1), tarena(1 << 17);
    std::vector<uint32_t> mask(16);
    int32_t forced[32];
    size_t n_forced = 0, tb = 0;
    uint32_t allowed[64] = {0};
    agm_status st[8] = {AGM_OK};
    int steps = 0;
    start();
    agm_grammar* g = nullptr;
    agm_matcher* m = nullptr;
    st[0] = agm_grammar_init(model, gbnf, std::strlen(gbnf), nullptr, garena.data(), gb, &g, &e);
    if (st[0] == AGM_OK) st[1] = agm_matcher_memory_size(g, &tb, &e);
    if (st[1] == AGM_OK && tb <= tarena.size() * 8) st[2] = agm_matcher_init(g, tarena.data(), tb, &m, &e);
    const long init_calls = stop();
    REQUIRE(st[0] == AGM_OK);
    REQUIRE(st[1] == AGM_OK);
    REQUIRE(tb <= tarena.size() * 8);
    REQUIRE(st[2] == AGM_OK);
    start();
    for (int run = 0; run < 3; ++run) {
        agm_matcher_reset(m, 300);
        while (steps < 60 && !agm_matcher_is_done(m)) {
            agm_matcher_forced_tokens(m, forced, 32, &n_forced, &e);
            for (size_t i = 0; i < n_forced; ++i) agm_matcher_accept_token(m, forced[i], &e);
            if (agm_matcher_is_done(m)) break;
            agm_matcher_fill_mask(m, mask.data(), mask.size(), &allowed[steps], &e);
            int32_t pick = -1;  // the first allowed token
            for (uint32_t t = 0; t < 512 && pick < 0; ++t)
                if ((mask[t >> 5] >> (t & 31)) & 1) pick = (int32_t)t;
            if (pick < 0 || agm_matcher_accept_token(m, pick, &e) != AGM_OK) break;
            ++steps;
        }
    }
    const long after_calls = stop();
    MESSAGE("heap calls during grammar and matcher init in arenas: " << init_calls);
    MESSAGE("heap calls after init (3 runs: forced tokens, masks, accepts; " << steps << " sampled steps): "
                                                                          << after_calls);
    CHECK(init_calls == 0);
    CHECK(after_calls == 0);
    CHECK(steps > 3);
    agm_model_close(model);
}

TEST_CASE("heap calls: the sampling controls and stop strings make none") {
    const uint32_t n = 512;
    std::vector<float> logits(n);
    for (uint32_t i = 0; i < n; ++i) logits[i] = (float)((i * 7919u) % 113u) / 16.0f;
    std::vector<uint8_t> scratch(agm::sampler_scratch_bytes(n));
    std::vector<uint32_t> mask(n / 32, 0x55555555u);
    agm_sampler_params p;
    agm_sampler_params_default(&p);
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.9f;
    p.min_p = 0.05f;
    p.repeat_penalty = 1.2f;
    p.presence_penalty = 0.3f;
    p.frequency_penalty = 0.2f;
    p.repeat_last_n = AGM_SAMPLER_MAX_LAST_N;
    p.n_logit_bias = 2;
    p.logit_bias[0] = {3, -INFINITY};
    p.logit_bias[1] = {10, 2.0f};
    const char* stops[2] = {"zz", "stop here"};
    const char text[] = "a token stream that says stop here at the end";
    char out[sizeof text + AGM_STOP_MAX_BYTES];
    int32_t picked[600];
    int bad = 0;
    size_t shown = 0;
    start();
    agm_error e;
    agm_sampler smp;
    if (agm_sampler_params_check(&p, &e) != AGM_OK) ++bad;
    agm_sampler_init(&smp, &p);
    for (int i = 0; i < 300; ++i) {
        picked[2 * i] = agm::sample(&smp, logits.data(), n, scratch.data());
        picked[2 * i + 1] = agm::sample_masked(&smp, logits.data(), n, mask.data(), scratch.data());
        agm_sampler_accept(&smp, i);
    }
    agm_stop st;
    if (agm_stop_init(&st, stops, nullptr, 2, &e) != AGM_OK) ++bad;
    for (size_t i = 0; i + 4 <= sizeof text - 1; i += 4) {
        size_t k = 0;
        if (agm_stop_feed(&st, text + i, 4, out, sizeof out, &k, &e) != AGM_OK) ++bad;
        shown += k;
    }
    shown += agm_stop_flush(&st, out, sizeof out);
    const long calls = stop();
    MESSAGE("heap calls in 600 samples with every control and a stop-string scan: " << calls);
    CHECK(calls == 0);
    CHECK(bad == 0);
    CHECK(agm_stop_matched(&st) == 1);
    CHECK(shown == std::strlen("a token stream that says "));
    for (int i = 0; i < 600; ++i) {
        CHECK(picked[i] >= 0);
        CHECK(picked[i] != 3);
    }
}

TEST_CASE("heap calls: snapshots (save, load, their tokens, truncate, a refused load) make none") {
    std::vector<uint8_t> bytes;
    REQUIRE(agm_test::read_file(agm_test::bundled_model(), &bytes));
    Aligned buf(bytes);
    agm_model* m = nullptr;
    agm_error e;
    REQUIRE(agm_model_open_memory(buf.p, bytes.size(), nullptr, &m, &e) == AGM_OK);
    agm_session_options so;
    agm_session_options_default(&so);
    so.n_ctx = 128;
    so.kv_type = AGM_KV_Q8;
    agm_session *a = nullptr, *b = nullptr;
    REQUIRE(agm_session_create(m, &so, &a, &e) == AGM_OK);
    REQUIRE(agm_session_create(m, &so, &b, &e) == AGM_OK);
    std::vector<uint8_t> snap(1 << 20);
    std::vector<int32_t> toks(128);
    int32_t ids[64];
    size_t n_ids = 0, written = 0, n_toks = 0;
    const char* prompt = "Once upon a time, there was a little girl";
    start();
    agm_status st = agm_tokenize(m, prompt, std::strlen(prompt), 1, ids, 64, &n_ids, &e);
    if (st == AGM_OK) st = agm_session_feed(a, ids, n_ids, &e);
    if (st == AGM_OK) st = agm_session_save(a, snap.data(), snap.size(), &written, &e);
    if (st == AGM_OK) st = agm_session_load(b, snap.data(), written, &e);
    if (st == AGM_OK) st = agm_snapshot_tokens(m, snap.data(), written, toks.data(), toks.size(), &n_toks, &e);
    if (st == AGM_OK) st = agm_session_truncate(b, 3, &e);
    if (st == AGM_OK) st = agm_session_feed(b, ids + 3, n_ids - 3, &e);
    snap[100] ^= 1;
    const agm_status refused = agm_session_load(b, snap.data(), written, &e);
    const long calls = stop();
    REQUIRE_MESSAGE(st == AGM_OK, e.message);
    CHECK(refused != AGM_OK);
    CHECK(n_toks == n_ids);
    agm_model_info info;
    agm_model_get_info(m, &info);
    CHECK(std::memcmp(agm_session_logits(a), agm_session_logits(b), info.vocab_size * sizeof(float)) == 0);
    MESSAGE("heap calls with snapshots (feed, save, load, tokens, truncate, refeed, a refused load): " << calls);
    CHECK(calls == 0);
    agm_session_free(a);
    agm_session_free(b);
    agm_model_close(m);
}
